/*
 * rule_dcount.c - the distinct-count engine: "dcount(value) by key,
 * bin(start, W) > T" with exact KQL bin() semantics, for four families
 * (research/azure_formats.md 4.1-4.4, 4.10; scan_anchors.md 1.2):
 *   horizontal   distinct destinations per source, or per (source, port)
 *   vertical     distinct ports per (source, destination), or per source
 *   block        distinct (host, port) pairs per source, with at least
 *                min_hosts hosts and min_ports ports among them
 *   distributed  distinct sources per port (at least min_hosts targets
 *                among them) or per destination (min_ports ports)
 * A key counts up to three "dimensions" (the pairs, hosts and ports of a
 * block rule); the first is the one compared with the threshold.
 *
 * State is kept per open bin: a dense array of keys (indices stable, so
 * members can point at them), an open-addressing index over it, and an
 * open-addressing set of (key, dimension, value) members, which makes the
 * counts exact. Most keys of real traffic see one value in a bin (a source
 * talks to one host in a minute), so a one-dimension key holds its first
 * value itself and the set gets the key's values only when a second one
 * comes: a key with a count of 1 has no members. A bin closes when the
 * watermark (newest flow start minus the reorder tolerance) passes its
 * end; its alerts are emitted, and its tables are cleared (when the bin is
 * claimed again) and reused, so memory follows the keys active within
 * one tolerance, not the input size [H1, H4]. No allocation per tuple:
 * tables grow by doubling and are kept.
 */
#include <stdlib.h>
#include <string.h>

#include "scand_int.h"


#define MAX_DIMS 3

_Static_assert(sizeof(struct { uint8_t v[18]; uint8_t d, p; uint32_t a, b, c; }) == 32,
               "a member is 32 bytes");

struct dkey {
    uint8_t a[16], b[16]; /* key addresses (unused ones zero) */
    uint16_t port;        /* key port */
    uint8_t n_ports, n_camps;
    uint32_t tag;   /* the key's hash, low 32 bits: its index slot on growth */
    uint32_t alert; /* at close: index+1 into the alert scratch */
    uint32_t count[MAX_DIMS];
    uint32_t flows;
    int64_t first_ms, last_ms;
    uint8_t v0[18];  /* one dimension, count[0] == 1: the value (no member yet) */
    uint16_t ports[SCAND_SAMPLES]; /* first ports seen, for keys without a port dimension */
    uint32_t v0_tag; /* ... its member tag (first seen at first_ms: all the key's flows have it) */
    /* its n_camps campaigns are the bin's camps[its index]: rare, so kept
     * apart, and the keys array every new key writes to stays smaller */
};

/* A member: 32 bytes, two to a cache line (the table is the hot spot). */
struct dmem {
    uint8_t val[18];    /* address, then port */
    uint8_t dim;
    uint8_t pad;
    uint32_t first_rel; /* first seen, ms after the bin's start (bins are at most a day) */
    uint32_t key;       /* index into keys */
    uint32_t tag;       /* the member's hash, low 32 bits, never 0; 0 = empty */
};

struct bin {
    int64_t start; /* INT64_MIN when free */
    struct dkey *keys;
    size_t n_keys, cap_keys;
    uint64_t *kidx; /* the key's tag << 32 | its index + 1; 0 = empty */
    size_t kmask;
    struct dmem *mem;
    size_t n_mem, mmask;
    uint32_t *cand; /* keys whose first count passed the threshold: the only ones close looks at */
    size_t n_cand, cap_cand;
    int dirty; /* freed: kidx and mem still hold the last window's entries */
    uint32_t (*camps)[SCAND_MAX_CAMPAIGNS]; /* by key index, for keys with campaigns */
    size_t cap_camps;
};

struct scandint_dcount {
    const struct scandint_rule_cfg *cfg;
    int n_dims;
    int dim_kind[MAX_DIMS]; /* SCANDINT_V_* */
    struct bin *bins;
    size_t n_bins;
    int64_t closed_wm; /* every bin ending at or before this has closed */
    struct scand_alert *alerts;
    size_t cap_alerts;
    int64_t *times; /* at close: each alerting key's first-dimension member times */
    size_t cap_times;
    uint64_t peak_keys;
    int64_t cur_lo, cur_hi; /* the last bin a flow went to: [lo, hi) ... */
    size_t cur;             /* ... and its index in bins (no division per flow) */
    int big; /* a bin's key index outgrew BIG_KEYS: prefetch (tables are kept, so it stays) */
};

/* Key index slots past which a bin's tables no longer fit in cache: the
 * index half full holds 8,192 keys, over a megabyte of keys alone. */
#define BIG_KEYS ((size_t)1 << 14)

static int bin_init(struct bin *b)
{
    memset(b, 0, sizeof *b);
    b->start = INT64_MIN;
    b->kmask = 255;
    b->mmask = 1023;
    b->kidx = scandint_calloc(b->kmask + 1, sizeof *b->kidx);
    b->mem = scandint_calloc(b->mmask + 1, sizeof *b->mem);
    return b->kidx && b->mem ? SCAND_OK : SCAND_ERR_NOMEM;
}

static void bin_fini(struct bin *b)
{
    scandint_free(b->cand);
    scandint_free(b->keys);
    scandint_free(b->camps);
    scandint_free(b->kidx);
    scandint_free(b->mem);
}

/* Free bin b. Its index and member tables are cleared when it is claimed
 * again (get_bin): a bin's keys arrive over a whole window, and tables
 * cleared at close would be out of cache by then, one miss per new key. */
static void bin_clear(struct bin *b)
{
    b->dirty = 1;
    b->n_keys = 0;
    b->n_mem = 0;
    b->n_cand = 0;
    b->start = INT64_MIN;
}

struct scandint_dcount *scandint_dcount_new(const struct scandint_rule_cfg *cfg)
{
    struct scandint_dcount *dc = scandint_calloc(1, sizeof *dc);
    if (dc == NULL)
        return NULL;
    dc->cfg = cfg;
    dc->closed_wm = INT64_MIN;
    dc->cur_lo = dc->cur_hi = INT64_MIN;
    switch (cfg->family) {
    case SCAND_FAM_HORIZONTAL:
        dc->n_dims = 1;
        dc->dim_kind[0] = SCANDINT_V_DST;
        break;
    case SCAND_FAM_VERTICAL:
        dc->n_dims = 1;
        dc->dim_kind[0] = SCANDINT_V_DPORT;
        break;
    case SCAND_FAM_BLOCK:
        dc->n_dims = 3;
        dc->dim_kind[0] = SCANDINT_V_PAIR;
        dc->dim_kind[1] = SCANDINT_V_DST;
        dc->dim_kind[2] = SCANDINT_V_DPORT;
        break;
    default: /* distributed */
        dc->n_dims = 2;
        dc->dim_kind[0] = SCANDINT_V_SRC;
        dc->dim_kind[1] = cfg->key == SCANDINT_KEY_DST ? SCANDINT_V_DPORT : SCANDINT_V_DST;
        break;
    }
    return dc;
}

void scandint_dcount_free(struct scandint_dcount *dc)
{
    if (dc == NULL)
        return;
    for (size_t i = 0; i < dc->n_bins; i++)
        bin_fini(&dc->bins[i]);
    scandint_free(dc->bins);
    scandint_free(dc->alerts);
    scandint_free(dc->times);
    scandint_free(dc);
}

uint64_t scandint_dcount_peak_keys(const struct scandint_dcount *dc)
{
    uint64_t peak = dc->peak_keys; /* of the closed bins; then the open ones */
    for (size_t i = 0; i < dc->n_bins; i++)
        if (dc->bins[i].start != INT64_MIN && dc->bins[i].n_keys > peak)
            peak = dc->bins[i].n_keys;
    return peak;
}

/* Return the open bin starting at start, claiming a free one (or a new one)
 * if needed; NULL on NOMEM. */
static SCANDINT_COLD struct bin *get_bin(struct scandint_dcount *dc, int64_t start)
{
    struct bin *free_bin = NULL;
    for (size_t i = 0; i < dc->n_bins; i++) {
        if (dc->bins[i].start == start)
            return &dc->bins[i];
        if (dc->bins[i].start == INT64_MIN && free_bin == NULL)
            free_bin = &dc->bins[i];
    }
    if (free_bin == NULL) {
        struct bin *nb = scandint_reallocarray(dc->bins, dc->n_bins + 1, sizeof *nb);
        if (nb == NULL)
            return NULL;
        dc->bins = nb;
        if (bin_init(&nb[dc->n_bins]) != SCAND_OK) {
            bin_fini(&nb[dc->n_bins]);
            return NULL;
        }
        free_bin = &nb[dc->n_bins++];
    }
    if (free_bin->dirty) {
        memset(free_bin->kidx, 0, (free_bin->kmask + 1) * sizeof *free_bin->kidx);
        memset(free_bin->mem, 0, (free_bin->mmask + 1) * sizeof *free_bin->mem);
        free_bin->dirty = 0;
    }
    free_bin->start = start;
    return free_bin;
}

static SCANDINT_COLD int grow_kidx(struct bin *b)
{
    size_t cap = (b->kmask + 1) * 2;
    uint64_t *k = scandint_calloc(cap, sizeof *k);
    if (k == NULL)
        return SCAND_ERR_NOMEM;
    for (size_t i = 0; i < b->n_keys; i++) {
        size_t j = b->keys[i].tag & (cap - 1);
        while (k[j] != 0)
            j = (j + 1) & (cap - 1);
        k[j] = (uint64_t)b->keys[i].tag << 32 | (i + 1);
    }
    scandint_free(b->kidx);
    b->kidx = k;
    b->kmask = cap - 1;
    return SCAND_OK;
}

static SCANDINT_COLD int grow_mem(struct bin *b)
{
    size_t cap = (b->mmask + 1) * 2;
    struct dmem *m = scandint_calloc(cap, sizeof *m);
    if (m == NULL)
        return SCAND_ERR_NOMEM;
    for (size_t i = 0; i <= b->mmask; i++) {
        struct dmem *e = &b->mem[i];
        if (e->tag == 0)
            continue;
        size_t j = e->tag & (cap - 1);
        while (m[j].tag != 0)
            j = (j + 1) & (cap - 1);
        m[j] = *e;
    }
    scandint_free(b->mem);
    b->mem = m;
    b->mmask = cap - 1;
    return SCAND_OK;
}

/* Find or add the key of kb (a, b, port) with hash tag h in bin b of dc;
 * return its index or -1 on NOMEM. */
static SCANDINT_HOT long find_key(struct scandint_dcount *dc, struct bin *b, const struct dkey *kb,
                                  uint32_t h)
{
    size_t j = h & b->kmask;
    for (;; j = (j + 1) & b->kmask) {
        uint64_t v = b->kidx[j];
        if (v == 0)
            break;
        if ((uint32_t)(v >> 32) != h)
            continue; /* the tag beside the index: no key read for a miss */
        const struct dkey *k = &b->keys[(uint32_t)v - 1];
        if (k->port == kb->port && memcmp(k->a, kb->a, 16) == 0 && memcmp(k->b, kb->b, 16) == 0)
            return (long)(uint32_t)v - 1;
    }
    if ((b->n_keys + 1) * 2 > b->kmask + 1) { /* at most half full: short probes */
        if (grow_kidx(b) != SCAND_OK)
            return -1;
        dc->big |= b->kmask + 1 >= BIG_KEYS;
        j = h & b->kmask;
        while (b->kidx[j] != 0)
            j = (j + 1) & b->kmask;
    }
    if (b->n_keys == b->cap_keys &&
        scandint_grow(&b->keys, &b->cap_keys, 64, sizeof *b->keys) != SCAND_OK)
        return -1;
    struct dkey *k = &b->keys[b->n_keys];
    /* no memset of the whole key: its sample arrays are read only up to
     * their counts */
    memcpy(k->a, kb->a, 16);
    memcpy(k->b, kb->b, 16);
    k->port = kb->port;
    k->n_ports = k->n_camps = 0;
    k->tag = h;
    k->alert = 0;
    memset(k->count, 0, sizeof k->count);
    k->flows = 0;
    k->first_ms = INT64_MAX;
    k->last_ms = INT64_MIN;
    b->kidx[j] = (uint64_t)h << 32 | ++b->n_keys;
    return (long)b->n_keys - 1;
}

/* Add member (key, dim, val) with hash tag h; return 1 if new, 0 if known,
 * -1 on NOMEM. */
static SCANDINT_COLD int add_member(struct bin *b, uint32_t key, int dim, const uint8_t val[18],
                                    uint32_t h, int64_t ts)
{
    uint32_t rel = ts > b->start ? (uint32_t)(ts - b->start) : 0;
    size_t j = h & b->mmask;
    for (;; j = (j + 1) & b->mmask) {
        struct dmem *e = &b->mem[j];
        if (e->tag == 0)
            break;
        if (e->tag == h && e->key == key && e->dim == dim && memcmp(e->val, val, 18) == 0) {
            if (rel < e->first_rel)
                e->first_rel = rel;
            return 0;
        }
    }
    if ((b->n_mem + 1) * 4 > (b->mmask + 1) * 3) {
        if (grow_mem(b) != SCAND_OK)
            return -1;
        j = h & b->mmask;
        while (b->mem[j].tag != 0)
            j = (j + 1) & b->mmask;
    }
    struct dmem *e = &b->mem[j];
    memcpy(e->val, val, 18);
    e->dim = (uint8_t)dim;
    e->key = key;
    e->first_rel = rel;
    e->tag = h;
    b->n_mem++;
    return 1;
}

/* Add the value val (member tag h) of flow f to key ki of a one-dimension
 * rule: held in the key while it is the only one, in the member set from
 * the second on. Returns as add_member(). */
static SCANDINT_HOT int add_value(struct bin *b, struct dkey *k, uint32_t ki, const uint8_t val[18],
                                  uint32_t h, const struct scandint_flow *f)
{
    if (k->count[0] == 0) {
        memcpy(k->v0, val, 18);
        k->v0_tag = h;
        return 1;
    }
    if (k->count[0] == 1) {
        if (memcmp(k->v0, val, 18) == 0)
            return 0;
        /* a second value: the first joins the set, first seen when the key
         * was (the caller folds f in after), and add_member() may move the
         * members, never the keys */
        if (add_member(b, ki, 0, k->v0, k->v0_tag, k->first_ms) < 0)
            return -1;
    }
    return add_member(b, ki, 0, val, h, f->start);
}

void scandint_dcount_prefetch(struct scandint_dcount *dc, struct scandint_flow *f)
{
    uint64_t kh = scandint_key_hash(dc->cfg->key, f);
    f->tag[0] = scandint_tag32(kh);
    f->tag[1] = scandint_mem_tag(kh, 0, dc->dim_kind[0], f);
    if (!dc->big)
        return; /* the tables are cache-sized: a prefetch costs more than it hides */
    const struct bin *b = NULL;
    if (f->start >= dc->cur_lo && f->start < dc->cur_hi) {
        b = &dc->bins[dc->cur];
    } else {
        int64_t start = scandint_bin(f->start, dc->cfg->window_ms);
        for (size_t i = 0; i < dc->n_bins; i++)
            if (dc->bins[i].start == start)
                b = &dc->bins[i];
    }
    if (b == NULL || b->start == INT64_MIN)
        return;
    __builtin_prefetch(&b->kidx[f->tag[0] & b->kmask]);
    __builtin_prefetch(&b->mem[f->tag[1] & b->mmask]);
}

int scandint_dcount_add(struct scandint_dcount *dc, const struct scandint_flow *f)
{
    const struct scandint_rule_cfg *c = dc->cfg;
    const struct scand_tuple *t = f->t;
    struct bin *b;
    if (f->start >= dc->cur_lo && f->start < dc->cur_hi &&
        dc->bins[dc->cur].start == dc->cur_lo) {
        b = &dc->bins[dc->cur]; /* the usual case: the same bin as the last flow */
    } else {
        int64_t start = scandint_bin(f->start, c->window_ms);
        if (scandint_add_sat(start, c->window_ms) <= dc->closed_wm)
            return 2;
        b = get_bin(dc, start);
        if (b == NULL)
            return SCAND_ERR_NOMEM;
        dc->cur = (size_t)(b - dc->bins);
        dc->cur_lo = start;
        dc->cur_hi = scandint_add_sat(start, c->window_ms);
    }
    struct dkey kb;
    uint64_t kh;
    scandint_key_parts(c->key, t, kb.a, kb.b, &kb.port);
    /* the prefetch phase hashed the key and the first member; the key's
     * full hash is needed again only for the members of further dimensions */
    kh = dc->n_dims > 1 ? scandint_key_hash(dc->cfg->key, f) : 0;
    long ki = find_key(dc, b, &kb, f->tag[0]);
    if (ki < 0)
        return SCAND_ERR_NOMEM;
    struct dkey *k = &b->keys[ki]; /* member inserts move members, never keys */
    uint8_t val[18];
    scandint_val_bytes(dc->dim_kind[0], t, val);
    int fresh = dc->n_dims == 1 ? add_value(b, k, (uint32_t)ki, val, f->tag[1], f)
                                : add_member(b, (uint32_t)ki, 0, val, f->tag[1], f->start);
    if (fresh < 0)
        return SCAND_ERR_NOMEM;
    k->count[0] += (uint32_t)fresh;
    if (fresh && k->count[0] == c->threshold + 1) {
        /* it just passed the threshold: close will look at it */
        if (b->n_cand == b->cap_cand &&
            scandint_grow(&b->cand, &b->cap_cand, 64, sizeof *b->cand) != SCAND_OK)
            return SCAND_ERR_NOMEM;
        b->cand[b->n_cand++] = (uint32_t)ki;
    }
    for (int d = 1; d < dc->n_dims; d++) { /* block and distributed rules */
        scandint_val_bytes(dc->dim_kind[d], t, val);
        fresh = add_member(b, (uint32_t)ki, d, val, scandint_mem_tag(kh, d, dc->dim_kind[d], f),
                           f->start);
        if (fresh < 0)
            return SCAND_ERR_NOMEM;
        k->count[d] += (uint32_t)fresh;
    }
    k->flows++;
    if (f->start < k->first_ms)
        k->first_ms = f->start;
    if (f->start > k->last_ms)
        k->last_ms = f->start;
    if (k->n_ports < SCAND_SAMPLES) {
        unsigned i;
        for (i = 0; i < k->n_ports; i++)
            if (k->ports[i] == t->dport)
                break;
        if (i == k->n_ports)
            k->ports[k->n_ports++] = t->dport;
    }
    if (t->campaign != 0 && k->n_camps < SCAND_MAX_CAMPAIGNS) {
        while ((size_t)ki >= b->cap_camps)
            if (scandint_grow(&b->camps, &b->cap_camps, 64, sizeof *b->camps) != SCAND_OK)
                return SCAND_ERR_NOMEM;
        uint32_t *camps = b->camps[ki];
        unsigned i;
        for (i = 0; i < k->n_camps; i++)
            if (camps[i] == t->campaign)
                break;
        if (i == k->n_camps)
            camps[k->n_camps++] = t->campaign;
    }
    return 1;
}

static int cmp_alert(const void *a, const void *b)
{
    const struct scand_alert *x = a, *y = b;
    int c = memcmp(x->src, y->src, 16);
    if (c == 0)
        c = memcmp(x->dst, y->dst, 16);
    return c ? c : (int)x->port - (int)y->port;
}

/* Does key k's bin count pass the rule? */
static int fires(const struct scandint_dcount *dc, const struct dkey *k)
{
    const struct scandint_rule_cfg *c = dc->cfg;
    if (k->count[0] <= c->threshold)
        return 0;
    if (c->family == SCAND_FAM_BLOCK)
        return k->count[1] >= c->min_hosts && k->count[2] >= c->min_ports;
    if (c->family == SCAND_FAM_DISTRIBUTED)
        return k->count[1] >= (c->key == SCANDINT_KEY_DST ? c->min_ports : c->min_hosts);
    return 1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* For the na alerts of bin b: address samples by first seen, and when each
 * count was first reached (the k-th earliest first-dimension member), so
 * reached_ms and the sweep's reach_ms come from the same sorted times. */
static int reach_times(struct scandint_dcount *dc, struct bin *b, size_t na)
{
    int64_t(*tw)[SCAND_SAMPLES] = scandint_calloc(na, sizeof *tw);
    int64_t(*sw)[SCAND_SAMPLES] = scandint_calloc(na, sizeof *sw);
    size_t *off = scandint_calloc(na + 1, sizeof *off);
    size_t *fill = scandint_calloc(na, sizeof *fill);
    int rc = SCAND_ERR_NOMEM;
    if (tw == NULL || sw == NULL || off == NULL || fill == NULL)
        goto out;
    for (size_t i = 0; i < na; i++)
        off[i + 1] = off[i] + dc->alerts[i].count;
    if (off[na] > dc->cap_times) {
        int64_t *t = scandint_reallocarray(dc->times, off[na], sizeof *t);
        if (t == NULL)
            goto out;
        dc->times = t;
        dc->cap_times = off[na];
    }
    for (size_t i = 0; i <= b->mmask; i++) {
        const struct dmem *m = &b->mem[i];
        if (m->tag == 0 || b->keys[m->key].alert == 0)
            continue;
        uint32_t ai = b->keys[m->key].alert - 1;
        struct scand_alert *a = &dc->alerts[ai];
        int kind = dc->dim_kind[m->dim];
        int64_t first = b->start + m->first_rel;
        if (m->dim == 0 && fill[ai] < off[ai + 1] - off[ai])
            dc->times[off[ai] + fill[ai]++] = first;
        if (kind == SCANDINT_V_DST && !a->has_dst)
            scandint_add_sample(a->targets, &a->n_targets, tw[ai], m->val, first);
        else if (kind == SCANDINT_V_SRC)
            scandint_add_sample(a->sources, &a->n_sources, sw[ai], m->val, first);
    }
    /* a one-dimension key with a count of 1 holds its value itself */
    for (size_t i = 0; dc->n_dims == 1 && i < b->n_cand; i++) {
        const struct dkey *k = &b->keys[b->cand[i]];
        if (k->alert == 0 || k->count[0] != 1)
            continue;
        uint32_t ai = k->alert - 1;
        struct scand_alert *a = &dc->alerts[ai];
        int64_t first = k->first_ms; /* every flow of the key has its one value */
        dc->times[off[ai] + fill[ai]++] = first;
        if (dc->dim_kind[0] == SCANDINT_V_DST && !a->has_dst)
            scandint_add_sample(a->targets, &a->n_targets, tw[ai], k->v0, first);
    }
    for (size_t i = 0; i < na; i++) {
        struct scand_alert *a = &dc->alerts[i];
        int64_t *t = dc->times + off[i];
        size_t n = fill[i]; /* == count: one member per distinct value */
        qsort(t, n, sizeof *t, cmp_i64);
        uint64_t th = a->threshold;
        a->reached_ms = th < n ? t[th] : a->last_seen_ms;
        uint64_t rm = dc->cfg->reach_max; /* the sweep's highest threshold + 1 */
        if (rm > th && th < n) {
            size_t upto = n < rm ? n : (size_t)rm; /* counts th+1 .. upto */
            a->reach_ms = t + th;
            a->n_reach = (unsigned)(upto - th);
        }
    }
    rc = SCAND_OK;
out:
    scandint_free(tw);
    scandint_free(sw);
    scandint_free(off);
    scandint_free(fill);
    return rc;
}

static int close_bin(struct scandint_dcount *dc, struct bin *b, scandint_emit_fn emit, void *arg)
{
    const struct scandint_rule_cfg *c = dc->cfg;
    size_t na = 0;
    if (b->n_keys > dc->peak_keys) /* a bin's keys only grow until it closes */
        dc->peak_keys = b->n_keys;
    /* only keys whose first count passed the threshold can fire; the
     * others' alert fields are 0 from find_key() */
    for (size_t i = 0; i < b->n_cand; i++) {
        struct dkey *k = &b->keys[b->cand[i]];
        k->alert = 0;
        if (!fires(dc, k))
            continue;
        if (na == dc->cap_alerts &&
            scandint_grow(&dc->alerts, &dc->cap_alerts, 16, sizeof *dc->alerts) != SCAND_OK)
            return SCAND_ERR_NOMEM;
        struct scand_alert *a = &dc->alerts[na++];
        memset(a, 0, sizeof *a);
        memcpy(a->rule, c->name, sizeof a->rule);
        a->family = c->family;
        a->severity = c->severity;
        a->technique = "T1046";
        a->has_src = c->key == SCANDINT_KEY_SRC || c->key == SCANDINT_KEY_SRC_DST ||
                     c->key == SCANDINT_KEY_SRC_PORT;
        a->has_dst = c->key == SCANDINT_KEY_SRC_DST || c->key == SCANDINT_KEY_DST;
        a->has_port = c->key == SCANDINT_KEY_SRC_PORT || c->key == SCANDINT_KEY_PORT;
        memcpy(a->src, k->a, 16);
        memcpy(a->dst, k->b, 16);
        a->port = k->port;
        a->window_start_ms = b->start;
        a->window_end_ms = scandint_add_sat(b->start, c->window_ms);
        a->first_seen_ms = k->first_ms;
        a->last_seen_ms = k->last_ms;
        a->count = k->count[0];
        a->threshold = c->threshold;
        if (c->family == SCAND_FAM_BLOCK) {
            a->hosts = k->count[1];
            a->ports_count = k->count[2];
        } else if (c->family == SCAND_FAM_DISTRIBUTED) {
            if (c->key == SCANDINT_KEY_DST)
                a->ports_count = k->count[1];
            else
                a->hosts = k->count[1];
        }
        a->flows = k->flows;
        a->n_campaigns = k->n_camps;
        if (k->n_camps > 0)
            memcpy(a->campaigns, b->camps[b->cand[i]], k->n_camps * sizeof *b->camps[0]);
        if (a->has_dst) {
            memcpy(a->targets[0], k->b, 16);
            a->n_targets = 1;
        }
        a->n_ports = k->n_ports;
        memcpy(a->ports, k->ports, k->n_ports * sizeof *k->ports);
        k->alert = (uint32_t)na;
    }
    /* samples of destinations and sources from the members, by first seen;
     * the times each count was reached from the first dimension's members */
    if (na > 0 && reach_times(dc, b, na) != SCAND_OK)
        return SCAND_ERR_NOMEM;
    if (na > 1)
        qsort(dc->alerts, na, sizeof *dc->alerts, cmp_alert);
    for (size_t i = 0; i < na; i++) {
        int e = emit(arg, &dc->alerts[i]);
        if (e != 0)
            return e < 0 ? e : SCAND_ERR_STATE;
    }
    bin_clear(b);
    return SCAND_OK;
}

int scandint_dcount_close(struct scandint_dcount *dc, int64_t wm, scandint_emit_fn emit,
                          void *arg, uint64_t *n_bins)
{
    if (wm > dc->closed_wm)
        dc->closed_wm = wm;
    /* Close due bins earliest first, so alerts come out by window start.
     * Open bins are few (about reorder / window + 1), so a selection is fine. */
    for (;;) {
        struct bin *next = NULL;
        for (size_t i = 0; i < dc->n_bins; i++) {
            struct bin *b = &dc->bins[i];
            if (b->start == INT64_MIN ||
                (wm != INT64_MAX && scandint_add_sat(b->start, dc->cfg->window_ms) > wm))
                continue;
            if (next == NULL || b->start < next->start)
                next = b;
        }
        if (next == NULL)
            return SCAND_OK;
        int rc = close_bin(dc, next, emit, arg);
        if (rc != SCAND_OK)
            return rc;
        (*n_bins)++;
    }
}
