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
 * Out of order: a flow that arrives late but within the window of the
 * newest start counts with its own start among the window's members. A
 * window shorter than `reorder` would drop flows the tolerance promises to
 * take (Azure writes a record a minute per NIC, so blobs interleave a
 * minute or more out of order), so such a rule holds flows back until the
 * newest start is reorder - window past theirs and lets them go in start
 * order (a ring for those that came in order, a heap for the rest): every
 * flow within the tolerance then counts, in order. Only one later still
 * and older than the window is late. Alerts come as flows go in: when the
 * rule's own flows or the context's watermark move on (at flush, to the
 * end of time).
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

/* A flow waiting in the reorder heap: what the window needs of it. */
struct pend {
    int64_t start;
    uint64_t seq; /* arrival: ties go out in it */
    uint64_t hsrc, hdst;
    uint32_t tag[2];
    uint32_t campaign;
    uint16_t dport;
    uint8_t kind, failed;
    uint8_t src[16], dst[16];
};

struct scandint_sliding {
    const struct scandint_rule_cfg *cfg;
    int64_t hold_ms; /* how long flows are held: reorder - window, or 0 */
    struct pend *heap; /* min-heap by (start, seq): the flows that came out of order */
    size_t n_heap, cap_heap;
    struct pend *q; /* ring, sorted: the flows that came in order (most), O(1) each */
    size_t qhead, qn, qcap;
    uint64_t seq;
    int64_t pnewest; /* the newest start seen */
    int n_dims;
    int dim_kind[MAX_DIMS];
    struct scandint_ttab keys, mems;
    struct refresh *fifo; /* ring */
    size_t head, n, cap;
    uint64_t popped; /* refreshes popped so far: the head's sequence number */
    int64_t newest;
    uint64_t peak_keys;
};

struct scandint_sliding *scandint_sliding_new(const struct scandint_rule_cfg *cfg, uint64_t seed,
                                              int64_t reorder_ms)
{
    struct scandint_sliding *s = scandint_calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->cfg = cfg;
    s->newest = INT64_MIN;
    s->pnewest = INT64_MIN;
    s->hold_ms = reorder_ms > cfg->window_ms ? reorder_ms - cfg->window_ms : 0;
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
    scandint_free(s->heap);
    scandint_free(s->q);
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

/* Double a full ring of n elements of esize bytes at *mem, unwrapped so
 * that its head is at 0. SCAND_OK or SCAND_ERR_NOMEM. */
static int ring_grow(void **mem, size_t *head, size_t n, size_t *cap, size_t esize)
{
    size_t c = *cap ? *cap * 2 : 1024;
    unsigned char *m = scandint_reallocarray(NULL, c, esize);
    if (m == NULL)
        return SCAND_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        memcpy(m + i * esize, (unsigned char *)*mem + (*head + i) % *cap * esize, esize);
    scandint_free(*mem);
    *mem = m;
    *head = 0;
    *cap = c;
    return SCAND_OK;
}

static int push(struct scandint_sliding *s, struct keyval *kv, const uint8_t mem[MEM_SIZE],
                uint32_t mtag, uint32_t ktag, int64_t ts)
{
    if (s->n == s->cap && ring_grow((void **)&s->fifo, &s->head, s->n, &s->cap,
                                    sizeof *s->fifo) != SCAND_OK)
        return SCAND_ERR_NOMEM;
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

/* Count flow f, in (about) start order: 1 counted, 2 late, or an error. */
static int window_add(struct scandint_sliding *s, const struct scandint_flow *f,
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

/* ---------------------------------------------------------------- reorder */

static int pend_less(const struct pend *a, const struct pend *b)
{
    return a->start < b->start || (a->start == b->start && a->seq < b->seq);
}

static int heap_push(struct scandint_sliding *s, const struct pend *p)
{
    if (s->n_heap == s->cap_heap) {
        size_t cap = s->cap_heap ? s->cap_heap * 2 : 1024;
        struct pend *h = scandint_reallocarray(s->heap, cap, sizeof *h);
        if (h == NULL)
            return SCAND_ERR_NOMEM;
        s->heap = h;
        s->cap_heap = cap;
    }
    size_t i = s->n_heap++;
    while (i > 0 && pend_less(p, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = *p;
    return SCAND_OK;
}

static void heap_pop(struct scandint_sliding *s, struct pend *out)
{
    *out = s->heap[0];
    struct pend last = s->heap[--s->n_heap];
    size_t i = 0, n = s->n_heap;
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= n)
            break;
        if (k + 1 < n && pend_less(&s->heap[k + 1], &s->heap[k]))
            k++;
        if (!pend_less(&s->heap[k], &last))
            break;
        s->heap[i] = s->heap[k];
        i = k;
    }
    if (n > 0)
        s->heap[i] = last;
}

/* Queue a waiting flow: at the ring's tail when it sorts after the tail
 * (in order: the usual case), else in the heap. */
static int wait_push(struct scandint_sliding *s, const struct pend *p)
{
    if (s->qn > 0 && pend_less(p, &s->q[(s->qhead + s->qn - 1) % s->qcap]))
        return heap_push(s, p);
    if (s->qn == s->qcap &&
        ring_grow((void **)&s->q, &s->qhead, s->qn, &s->qcap, sizeof *s->q) != SCAND_OK)
        return SCAND_ERR_NOMEM;
    s->q[(s->qhead + s->qn++) % s->qcap] = *p;
    return SCAND_OK;
}

/* The earliest waiting flow (both sources are sorted), or NULL. */
static const struct pend *wait_first(const struct scandint_sliding *s)
{
    const struct pend *a = s->qn > 0 ? &s->q[s->qhead] : NULL;
    const struct pend *b = s->n_heap > 0 ? &s->heap[0] : NULL;
    return a == NULL ? b : b == NULL || pend_less(a, b) ? a : b;
}

/* Count the waiting flows that started at or before until, in order. The
 * result of the flow numbered mine goes to *rc_mine. */
static int release(struct scandint_sliding *s, int64_t until, uint64_t mine, int *rc_mine,
                   scandint_emit_fn emit, void *arg)
{
    const struct pend *first;
    while ((first = wait_first(s)) != NULL && first->start <= until) {
        struct pend p;
        if (s->n_heap > 0 && first == s->heap) {
            heap_pop(s, &p);
        } else {
            p = s->q[s->qhead];
            s->qhead = (s->qhead + 1) % s->qcap;
            s->qn--;
            if (s->qn > 8) { /* the feed's prefetch was minutes ago: again, ahead */
                const struct pend *ahead = &s->q[(s->qhead + 8) % s->qcap];
                scandint_ttab_prefetch(&s->keys, ahead->tag[0]);
                scandint_ttab_prefetch(&s->mems, ahead->tag[1]);
            }
        }
        struct scand_tuple t;
        memset(&t, 0, sizeof t);
        memcpy(t.src, p.src, 16);
        memcpy(t.dst, p.dst, 16);
        t.dport = p.dport;
        t.campaign = p.campaign;
        struct scandint_flow f = {&t, p.start, p.kind, p.failed, p.hsrc, p.hdst,
                                  {p.tag[0], p.tag[1]}};
        int rc = window_add(s, &f, emit, arg);
        if (rc < 0)
            return rc;
        if (p.seq == mine)
            *rc_mine = rc;
    }
    return SCAND_OK;
}

int scandint_sliding_add(struct scandint_sliding *s, const struct scandint_flow *f,
                         scandint_emit_fn emit, void *arg)
{
    if (f->start > s->pnewest)
        s->pnewest = f->start;
    int64_t until = s->pnewest < INT64_MIN + s->hold_ms ? INT64_MIN : s->pnewest - s->hold_ms;
    if (s->n_heap == 0 && s->qn == 0 && f->start <= until)
        return window_add(s, f, emit, arg); /* nothing to wait for */
    struct pend p;
    memset(&p, 0, sizeof p);
    p.start = f->start;
    p.seq = s->seq++;
    p.hsrc = f->hsrc;
    p.hdst = f->hdst;
    p.tag[0] = f->tag[0];
    p.tag[1] = f->tag[1];
    p.campaign = f->t->campaign;
    p.dport = f->t->dport;
    p.kind = (uint8_t)f->kind;
    p.failed = (uint8_t)f->failed;
    memcpy(p.src, f->t->src, 16);
    memcpy(p.dst, f->t->dst, 16);
    int rc = wait_push(s, &p);
    int mine = 1; /* waits: it will count, in order */
    if (rc == SCAND_OK)
        rc = release(s, until, p.seq, &mine, emit, arg);
    return rc == SCAND_OK ? mine : rc;
}

int scandint_sliding_advance(struct scandint_sliding *s, int64_t wm, scandint_emit_fn emit,
                             void *arg)
{
    if (s->n_heap == 0 && s->qn == 0)
        return SCAND_OK;
    /* the context's newest start is wm + reorder; hold flows reorder -
     * window behind it, as behind this rule's own newest (INT64_MAX, at
     * flush: every one) */
    int64_t until = scandint_add_sat(wm, s->cfg->window_ms);
    int64_t newest = scandint_add_sat(until, s->hold_ms);
    if (newest > s->pnewest)
        s->pnewest = newest;
    int mine;
    return release(s, until, UINT64_MAX, &mine, emit, arg);
}
