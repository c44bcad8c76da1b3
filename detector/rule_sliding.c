/*
 * rule_sliding.c - the distinct-count families over a sliding window: at
 * each flow, count the distinct values of its key among the flows that
 * started within the last W (by flow start, against the newest start seen),
 * and alert when the count passes the rule, however the window sits on the
 * clock. A scan split across a KQL bin boundary (4 hosts before the minute,
 * 3 after) is caught here and missed by the tumbling rule.
 *
 * One alert per key per window length: after an alert at t, the key alerts
 * again only at t + W or later (hold_down can stretch that).
 *
 * State: a table of keys (counts per dimension, samples), a table of
 * members (key, dimension, value) with the start of their latest flow, and
 * a FIFO of member refreshes in arrival order. A refresh older than the
 * window pops from the FIFO; if it is still the member's latest, the member
 * dies: it leaves its table at once and its key's count drops. A key whose
 * last member died leaves too, unless its hold-down after an alert still
 * runs (then its time is the hold-down's end, and a rebuild after that
 * drops it), so a key that comes back after a quiet window starts
 * afresh. Memory follows the flows of one window; the tables hold only
 * live entries, so they stay small and rarely rebuild.
 * Flows arriving out of order (within the reorder tolerance) count with
 * their own start; one already older than the window is late.
 */
#include <string.h>

#include "scand_int.h"

#define MAX_DIMS 3
#define KEY_SIZE 34 /* a[16] b[16] port[2] */
#define MEM_SIZE (KEY_SIZE + 1 + 18)


/* Per key: 128 bytes. An alert's address samples come from the key's
 * refreshes still in the FIFO, linked newest first from last_seq. */
struct keyval {
    uint32_t count[MAX_DIMS];
    uint32_t flows;
    uint32_t live; /* live members, all dimensions */
    uint32_t pad;
    uint64_t last_seq; /* the key's newest refresh: its FIFO sequence + 1; 0 none */
    int64_t first_ms, last_ms;
    int64_t last_alert; /* INT64_MIN: never */
    uint8_t n_ports, n_camps;
    uint16_t ports[8];
    uint32_t camps[SCAND_MAX_CAMPAIGNS];
};

struct refresh {
    uint8_t mem[MEM_SIZE];
    uint32_t mtag, ktag; /* the member's and its key's table tags: no rehash on expiry */
    int64_t ts;
    uint64_t prev; /* the same key's refresh before this one: sequence + 1; 0 none */
};

struct scandint_sliding {
    const struct scandint_rule_cfg *cfg;
    int n_dims;
    int dim_kind[MAX_DIMS];
    struct scandint_ttab keys, mems;
    struct refresh *fifo; /* ring */
    size_t head, n, cap;
    uint64_t popped; /* refreshes popped so far: the head's sequence number */
    int64_t newest;
    uint64_t peak_keys;
};

struct scandint_sliding *scandint_sliding_new(const struct scandint_rule_cfg *cfg, uint64_t seed)
{
    struct scandint_sliding *s = scandint_calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->cfg = cfg;
    s->newest = INT64_MIN;
    switch (cfg->family) {
    case SCAND_FAM_HORIZONTAL:
        s->n_dims = 1;
        s->dim_kind[0] = SCANDINT_V_DST;
        break;
    case SCAND_FAM_VERTICAL:
        s->n_dims = 1;
        s->dim_kind[0] = SCANDINT_V_DPORT;
        break;
    case SCAND_FAM_BLOCK:
        s->n_dims = 3;
        s->dim_kind[0] = SCANDINT_V_PAIR;
        s->dim_kind[1] = SCANDINT_V_DST;
        s->dim_kind[2] = SCANDINT_V_DPORT;
        break;
    default:
        s->n_dims = 2;
        s->dim_kind[0] = SCANDINT_V_SRC;
        s->dim_kind[1] = cfg->key == SCANDINT_KEY_DST ? SCANDINT_V_DPORT : SCANDINT_V_DST;
        break;
    }
    if (scandint_ttab_init(&s->keys, KEY_SIZE, sizeof(struct keyval), seed) != SCAND_OK ||
        scandint_ttab_init(&s->mems, MEM_SIZE, 0, seed ^ 0x51d) != SCAND_OK) {
        scandint_sliding_free(s);
        return NULL;
    }
    return s;
}

void scandint_sliding_free(struct scandint_sliding *s)
{
    if (s == NULL)
        return;
    scandint_ttab_fini(&s->keys);
    scandint_ttab_fini(&s->mems);
    scandint_free(s->fifo);
    scandint_free(s);
}

uint64_t scandint_sliding_peak_keys(const struct scandint_sliding *s)
{
    return s->peak_keys;
}

static void key_bytes(const struct scandint_rule_cfg *c, const struct scand_tuple *t,
                      uint8_t k[KEY_SIZE])
{
    uint16_t port;
    scandint_key_parts(c->key, t, k, k + 16, &port);
    memcpy(k + 32, &port, 2);
}

void scandint_sliding_prefetch(const struct scandint_sliding *s, struct scandint_flow *f)
{
    uint64_t kh = scandint_key_hash(s->cfg->key, f);
    f->tag[0] = scandint_tag32(kh);
    f->tag[1] = scandint_mem_tag(kh, 0, s->dim_kind[0], f);
    scandint_ttab_prefetch(&s->keys, f->tag[0]);
    scandint_ttab_prefetch(&s->mems, f->tag[1]);
}

static int push(struct scandint_sliding *s, struct keyval *kv, const uint8_t mem[MEM_SIZE],
                uint32_t mtag, uint32_t ktag, int64_t ts)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        struct refresh *f = scandint_reallocarray(NULL, cap, sizeof *f);
        if (f == NULL)
            return SCAND_ERR_NOMEM;
        for (size_t i = 0; i < s->n; i++) /* unwrap the ring */
            f[i] = s->fifo[(s->head + i) % s->cap];
        scandint_free(s->fifo);
        s->fifo = f;
        s->head = 0;
        s->cap = cap;
    }
    struct refresh *r = &s->fifo[(s->head + s->n) % s->cap];
    memcpy(r->mem, mem, MEM_SIZE);
    r->mtag = mtag;
    r->ktag = ktag;
    r->ts = ts;
    r->prev = kv->last_seq;
    kv->last_seq = s->popped + s->n + 1;
    s->n++;
    return SCAND_OK;
}

/* Drop members whose latest flow left the window (before horizon), and
 * keys left without members and without a running hold-down. */
static void expire(struct scandint_sliding *s, int64_t horizon)
{
    while (s->n > 0 && s->fifo[s->head].ts < horizon) {
        struct refresh *r = &s->fifo[s->head];
        if (s->n > 8) { /* the member a few pops ahead: its slot is likely cold */
            const struct refresh *ahead = &s->fifo[(s->head + 8) % s->cap];
            scandint_ttab_prefetch(&s->mems, ahead->mtag);
            scandint_ttab_prefetch(&s->keys, ahead->ktag);
        }
        s->head = (s->head + 1) % s->cap;
        s->n--;
        s->popped++;
        /* a member's refreshes enter in the order of their starts, so
         * one not found died at its latest refresh, popped earlier */
        struct scandint_tent *m = scandint_ttab_find(&s->mems, r->mem, r->mtag);
        if (m == NULL || m->t != r->ts)
            continue; /* refreshed since */
        scandint_ttab_del(&s->mems, m);
        struct scandint_tent *k = scandint_ttab_find(&s->keys, r->mem, r->ktag);
        if (k == NULL)
            continue; /* dropped as idle by a rebuild, hold-down and all */
        struct keyval *kv = scandint_ttab_val(&s->keys, k);
        int dim = r->mem[KEY_SIZE];
        if (kv->count[dim] > 0)
            kv->count[dim]--;
        if (kv->live == 0 || --kv->live > 0)
            continue;
        /* its last member: any flow still to come (start >= horizon) is
         * past the hold-down, or the key waits for that in its time, when
         * a rebuild drops it */
        int64_t w = s->cfg->window_ms, la = kv->last_alert;
        if (la == INT64_MIN || (la < horizon && (uint64_t)horizon - (uint64_t)la >= (uint64_t)w))
            scandint_ttab_del(&s->keys, k); /* a flow to come starts it afresh */
        else
            k->t = la > INT64_MAX - w ? INT64_MAX : la + w - 1;
    }
}

static int fires(const struct scandint_sliding *s, const struct keyval *kv)
{
    const struct scandint_rule_cfg *c = s->cfg;
    if (kv->count[0] <= c->threshold)
        return 0;
    if (c->family == SCAND_FAM_BLOCK)
        return kv->count[1] >= c->min_hosts && kv->count[2] >= c->min_ports;
    if (c->family == SCAND_FAM_DISTRIBUTED)
        return kv->count[1] >= (c->key == SCANDINT_KEY_DST ? c->min_ports : c->min_hosts);
    return 1;
}

/* The live members of a key in dimension d, as address samples: the
 * SCAND_SAMPLES earliest by (latest flow start, address), so they do not
 * depend on table order. A live member's latest refresh is still in the
 * FIFO (it dies when that pops), so the walk down the key's chain of
 * unpopped refreshes finds each live member once, at the refresh whose
 * start is the member's. The chain holds the key's flows of about one
 * window, and a key alerts at most once a window: linear overall. */
static unsigned samples(const struct scandint_sliding *s, const struct keyval *kv, int d,
                        uint8_t (*out)[16])
{
    unsigned n = 0;
    int64_t when[SCAND_SAMPLES];
    for (uint64_t q = kv->last_seq; q > s->popped;) {
        const struct refresh *r = &s->fifo[(s->head + (q - 1 - s->popped)) % s->cap];
        if (r->mem[KEY_SIZE] == d) {
            struct scandint_tent *m = scandint_ttab_find(&s->mems, r->mem, r->mtag);
            if (m != NULL && m->t == r->ts)
                scandint_add_sample(out, &n, when, r->mem + KEY_SIZE + 1, r->ts);
        }
        q = r->prev;
    }
    return n;
}

int scandint_sliding_add(struct scandint_sliding *s, const struct scandint_flow *f,
                         scandint_emit_fn emit, void *arg)
{
    const struct scandint_rule_cfg *c = s->cfg;
    const struct scand_tuple *t = f->t;
    if (f->start > s->newest)
        s->newest = f->start;
    int64_t horizon = s->newest == INT64_MIN || s->newest < INT64_MIN + c->window_ms
                          ? INT64_MIN
                          : s->newest - c->window_ms + 1;
    if (f->start < horizon)
        return 2; /* older than the window already */
    expire(s, horizon);
    int rc;
    uint8_t mem[MEM_SIZE];
    key_bytes(c, t, mem);
    int is_new;
    uint32_t ktag = f->tag[0];
    struct scandint_tent *k = scandint_ttab_get_tag(&s->keys, mem, ktag, horizon, &is_new);
    if (k == NULL)
        return SCAND_ERR_NOMEM;
    struct keyval *kv = scandint_ttab_val(&s->keys, k);
    if (!is_new && kv->live == 0 && k->t < horizon) {
        /* kept past its last member for a hold-down that has ended, and
         * not yet dropped by a rebuild: it starts afresh all the same */
        memset(kv, 0, sizeof *kv);
        is_new = 1;
    }
    if (is_new) {
        kv->first_ms = INT64_MAX;
        kv->last_ms = INT64_MIN;
        kv->last_alert = INT64_MIN;
    }
    if (s->keys.n > s->peak_keys)
        s->peak_keys = s->keys.n;
    /* the prefetch phase hashed the first member; the key's full hash is
     * needed again only for the members of further dimensions */
    uint64_t kh = s->n_dims > 1 ? scandint_key_hash(c->key, f) : 0;
    for (int d = 0; d < s->n_dims; d++) {
        mem[KEY_SIZE] = (uint8_t)d;
        scandint_val_bytes(s->dim_kind[d], t, mem + KEY_SIZE + 1);
        uint32_t mtag = d == 0 ? f->tag[1] : scandint_mem_tag(kh, d, s->dim_kind[d], f);
        /* members leave only by expire(): a rebuild must not drop one */
        struct scandint_tent *m = scandint_ttab_get_tag(&s->mems, mem, mtag, INT64_MIN, &is_new);
        if (m == NULL)
            return SCAND_ERR_NOMEM;
        if (is_new) {
            kv->count[d]++;
            kv->live++;
            m->t = f->start;
        } else if (f->start > m->t) {
            m->t = f->start;
        } else {
            continue; /* a late flow for a member already fresher */
        }
        if ((rc = push(s, kv, mem, mtag, ktag, m->t)) != SCAND_OK)
            return rc;
    }
    k->t = INT64_MAX; /* with a live member: no rebuild drops it */
    kv->flows++;
    if (f->start < kv->first_ms)
        kv->first_ms = f->start;
    if (f->start > kv->last_ms)
        kv->last_ms = f->start;
    if (kv->n_ports < 8) {
        unsigned i;
        for (i = 0; i < kv->n_ports; i++)
            if (kv->ports[i] == t->dport)
                break;
        if (i == kv->n_ports)
            kv->ports[kv->n_ports++] = t->dport;
    }
    if (t->campaign != 0 && kv->n_camps < SCAND_MAX_CAMPAIGNS) {
        unsigned i;
        for (i = 0; i < kv->n_camps; i++)
            if (kv->camps[i] == t->campaign)
                break;
        if (i == kv->n_camps)
            kv->camps[kv->n_camps++] = t->campaign;
    }
    if (!fires(s, kv) ||
        (kv->last_alert != INT64_MIN && f->start < scandint_add_sat(kv->last_alert, c->window_ms)))
        return 1;
    kv->last_alert = f->start;
    struct scand_alert a;
    memset(&a, 0, sizeof a);
    memcpy(a.rule, c->name, sizeof a.rule);
    a.family = c->family;
    a.severity = c->severity;
    a.technique = "T1046";
    a.has_src = c->key == SCANDINT_KEY_SRC || c->key == SCANDINT_KEY_SRC_DST ||
                c->key == SCANDINT_KEY_SRC_PORT;
    a.has_dst = c->key == SCANDINT_KEY_SRC_DST || c->key == SCANDINT_KEY_DST;
    a.has_port = c->key == SCANDINT_KEY_SRC_PORT || c->key == SCANDINT_KEY_PORT;
    memcpy(a.src, k->key, 16);
    memcpy(a.dst, k->key + 16, 16);
    memcpy(&a.port, k->key + 32, 2);
    a.window_start_ms = scandint_sub_sat(f->start, c->window_ms - 1);
    a.window_end_ms = scandint_add_sat(f->start, 1);
    a.first_seen_ms = kv->first_ms;
    a.last_seen_ms = kv->last_ms;
    a.reached_ms = f->start;
    a.count = kv->count[0];
    a.threshold = c->threshold;
    if (c->family == SCAND_FAM_BLOCK) {
        a.hosts = kv->count[1];
        a.ports_count = kv->count[2];
    } else if (c->family == SCAND_FAM_DISTRIBUTED) {
        if (c->key == SCANDINT_KEY_DST)
            a.ports_count = kv->count[1];
        else
            a.hosts = kv->count[1];
    }
    a.flows = kv->flows;
    if (a.has_dst) {
        memcpy(a.targets[0], k->key + 16, 16);
        a.n_targets = 1;
    }
    for (int d = 0; d < s->n_dims; d++) {
        if (s->dim_kind[d] == SCANDINT_V_DST && !a.has_dst)
            a.n_targets = samples(s, kv, d, a.targets);
        else if (s->dim_kind[d] == SCANDINT_V_SRC)
            a.n_sources = samples(s, kv, d, a.sources);
    }
    a.n_ports = kv->n_ports;
    memcpy(a.ports, kv->ports, kv->n_ports * sizeof *kv->ports);
    a.n_campaigns = kv->n_camps;
    memcpy(a.campaigns, kv->camps, kv->n_camps * sizeof *kv->camps);
    int e = emit(arg, &a);
    return e == 0 ? 1 : e < 0 ? e : SCAND_ERR_STATE;
}
