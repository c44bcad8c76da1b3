/*
 * rule_dcount.c - the distinct-count rule engine: "dcount(value) by key,
 * bin(start, W) > T" with exact KQL bin() semantics. Both seed rules have
 * this shape (research/azure_formats.md 4.10): horizontal counts distinct
 * destination IPs per source, vertical distinct destination ports per
 * (source, destination).
 *
 * State is kept per open bin: a dense array of keys (indices stable, so
 * members can point at them), an open-addressing index over it, and an
 * open-addressing set of (key, value) members, which makes the count exact.
 * A bin closes when the watermark (newest flow start minus the reorder
 * tolerance) passes its end; its alerts are emitted, and its tables are
 * cleared and reused, so memory follows the keys active within one
 * tolerance, not the input size [H1, H4]. No allocation per tuple: tables
 * grow by doubling and are kept.
 */
#include <stdlib.h>
#include <string.h>

#include "scand_int.h"

struct dkey {
    uint8_t src[16];
    uint8_t dst[16];
    int64_t first_ms, last_ms;
    uint32_t count, flows;
    uint32_t alert; /* at close: index+1 into the alert scratch */
    uint32_t tag;   /* the key's hash, low 32 bits: its index slot on growth */
    uint8_t n_ports;
    uint8_t pad[1];
    uint16_t ports[SCAND_SAMPLES];
};

struct dmem {
    uint8_t val[16];
    int64_t first_ms;
    uint32_t key; /* index into keys */
    uint32_t tag; /* the member's hash, low 32 bits, never 0; 0 = empty */
};

struct bin {
    int64_t start; /* INT64_MIN when free */
    struct dkey *keys;
    size_t n_keys, cap_keys;
    uint32_t *kidx; /* key index + 1, 0 = empty */
    size_t kmask;
    struct dmem *mem;
    size_t n_mem, mmask;
};

struct scandint_dcount {
    const struct scandint_rule_ops *ops;
    const struct scandint_rule_cfg *cfg;
    struct bin *bins;
    size_t n_bins;
    int64_t closed_wm; /* every bin ending at or before this has closed */
    struct scand_alert *alerts;
    size_t cap_alerts;
    uint64_t peak_keys;
};

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
    scandint_free(b->keys);
    scandint_free(b->kidx);
    scandint_free(b->mem);
}

static void bin_clear(struct bin *b)
{
    memset(b->kidx, 0, (b->kmask + 1) * sizeof *b->kidx);
    memset(b->mem, 0, (b->mmask + 1) * sizeof *b->mem);
    b->n_keys = 0;
    b->n_mem = 0;
    b->start = INT64_MIN;
}

struct scandint_dcount *scandint_dcount_new(const struct scandint_rule_ops *ops,
                                            const struct scandint_rule_cfg *cfg)
{
    struct scandint_dcount *dc = scandint_calloc(1, sizeof *dc);
    if (dc == NULL)
        return NULL;
    dc->ops = ops;
    dc->cfg = cfg;
    dc->closed_wm = INT64_MIN;
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
    scandint_free(dc);
}

uint64_t scandint_dcount_peak_keys(const struct scandint_dcount *dc)
{
    return dc->peak_keys;
}

/* Return the open bin starting at start, claiming a free one (or a new one)
 * if needed; NULL on NOMEM. */
static struct bin *get_bin(struct scandint_dcount *dc, int64_t start)
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
    free_bin->start = start;
    return free_bin;
}

static int grow_kidx(struct bin *b)
{
    size_t cap = (b->kmask + 1) * 2;
    uint32_t *k = scandint_calloc(cap, sizeof *k);
    if (k == NULL)
        return SCAND_ERR_NOMEM;
    for (size_t i = 0; i < b->n_keys; i++) {
        size_t j = b->keys[i].tag & (cap - 1);
        while (k[j] != 0)
            j = (j + 1) & (cap - 1);
        k[j] = (uint32_t)i + 1;
    }
    scandint_free(b->kidx);
    b->kidx = k;
    b->kmask = cap - 1;
    return SCAND_OK;
}

static int grow_mem(struct bin *b)
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

/* Find or add the key (src, dst) in b, whose hash tag is h; return its
 * index or -1 on NOMEM. */
static long find_key(struct bin *b, const uint8_t kb[32], uint32_t h)
{
    size_t j = h & b->kmask;
    for (;; j = (j + 1) & b->kmask) {
        uint32_t v = b->kidx[j];
        if (v == 0)
            break;
        const struct dkey *k = &b->keys[v - 1];
        if (k->tag == h && memcmp(k->src, kb, 32) == 0)
            return (long)v - 1;
    }
    if ((b->n_keys + 1) * 4 > (b->kmask + 1) * 3) {
        if (grow_kidx(b) != SCAND_OK)
            return -1;
        j = h & b->kmask;
        while (b->kidx[j] != 0)
            j = (j + 1) & b->kmask;
    }
    if (b->n_keys == b->cap_keys) {
        size_t cap = b->cap_keys ? b->cap_keys * 2 : 64;
        struct dkey *nk = scandint_reallocarray(b->keys, cap, sizeof *nk);
        if (nk == NULL)
            return -1;
        b->keys = nk;
        b->cap_keys = cap;
    }
    struct dkey *k = &b->keys[b->n_keys];
    memset(k, 0, sizeof *k);
    memcpy(k->src, kb, 32);
    k->tag = h;
    k->first_ms = INT64_MAX;
    k->last_ms = INT64_MIN;
    b->kidx[j] = (uint32_t)++b->n_keys;
    return (long)b->n_keys - 1;
}

/* Add member (key, val) with hash tag h; return 1 if new, 0 if known, -1
 * on NOMEM. */
static int add_member(struct bin *b, uint32_t key, const uint8_t val[16], uint32_t h, int64_t ts)
{
    size_t j = h & b->mmask;
    for (;; j = (j + 1) & b->mmask) {
        struct dmem *e = &b->mem[j];
        if (e->tag == 0)
            break;
        if (e->tag == h && e->key == key && memcmp(e->val, val, 16) == 0) {
            if (ts < e->first_ms)
                e->first_ms = ts;
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
    memcpy(e->val, val, 16);
    e->key = key;
    e->first_ms = ts;
    e->tag = h;
    b->n_mem++;
    return 1;
}

static uint32_t tag32(uint64_t h)
{
    uint32_t t = (uint32_t)h;
    return t ? t : 1;
}

int scandint_dcount_add(struct scandint_dcount *dc, const struct scand_tuple *t, uint64_t hsrc,
                        uint64_t hdst)
{
    const struct scandint_rule_cfg *c = dc->cfg;
    if (c->proto != 0 && t->proto != c->proto)
        return 0;
    if (t->dport >= c->dport_max)
        return 0;
    if (c->private_only && !(scand_addr_is_private(t->src) && scand_addr_is_private(t->dst)))
        return 0;
    int64_t start = scandint_bin(t->ts_ms, c->bin_ms);
    if (start + c->bin_ms <= dc->closed_wm)
        return 2;
    struct bin *b = get_bin(dc, start);
    if (b == NULL)
        return SCAND_ERR_NOMEM;
    uint8_t kb[32];
    uint64_t kh;
    memcpy(kb, t->src, 16);
    if (dc->ops->key_kind == DC_KEY_SRC_DST) {
        memcpy(kb + 16, t->dst, 16);
        kh = scandint_hash_pair(hsrc, hdst);
    } else {
        memset(kb + 16, 0, 16);
        kh = hsrc;
    }
    long ki = find_key(b, kb, tag32(kh));
    if (ki < 0)
        return SCAND_ERR_NOMEM;
    uint8_t val[16] = {0};
    uint64_t vh;
    if (dc->ops->val_kind == DC_VAL_DST) {
        memcpy(val, t->dst, 16);
        vh = hdst;
    } else {
        val[0] = (uint8_t)(t->dport >> 8);
        val[1] = (uint8_t)t->dport;
        vh = t->dport;
    }
    int fresh = add_member(b, (uint32_t)ki, val, tag32(scandint_hash_pair(kh, vh)), t->ts_ms);
    if (fresh < 0)
        return SCAND_ERR_NOMEM;
    struct dkey *k = &b->keys[ki];
    k->count += (uint32_t)fresh;
    k->flows++;
    if (t->ts_ms < k->first_ms)
        k->first_ms = t->ts_ms;
    if (t->ts_ms > k->last_ms)
        k->last_ms = t->ts_ms;
    if (k->n_ports < SCAND_SAMPLES) {
        unsigned i;
        for (i = 0; i < k->n_ports; i++)
            if (k->ports[i] == t->dport)
                break;
        if (i == k->n_ports)
            k->ports[k->n_ports++] = t->dport;
    }
    if (b->n_keys > dc->peak_keys)
        dc->peak_keys = b->n_keys;
    return 1;
}

static int cmp_alert(const void *a, const void *b)
{
    const struct scand_alert *x = a, *y = b;
    int c = memcmp(x->src, y->src, 16);
    return c ? c : memcmp(x->dst, y->dst, 16);
}

/* Insert target (first_ms, val) into a's samples, kept as the
 * SCAND_SAMPLES earliest by (first seen, address). */
static void add_target(struct scand_alert *a, int64_t *when, const uint8_t val[16], int64_t ts)
{
    unsigned n = a->n_targets, i = n;
    while (i > 0 && (when[i - 1] > ts || (when[i - 1] == ts && memcmp(a->targets[i - 1], val,
                                                                        16) > 0)))
        i--;
    if (i >= SCAND_SAMPLES)
        return;
    unsigned last = n < SCAND_SAMPLES ? n : SCAND_SAMPLES - 1;
    for (unsigned j = last; j > i; j--) {
        memcpy(a->targets[j], a->targets[j - 1], 16);
        when[j] = when[j - 1];
    }
    memcpy(a->targets[i], val, 16);
    when[i] = ts;
    if (n < SCAND_SAMPLES)
        a->n_targets++;
}

static int close_bin(struct scandint_dcount *dc, struct bin *b, scand_alert_fn fn, void *arg,
                     uint64_t *n_alerts)
{
    const struct scandint_rule_cfg *c = dc->cfg;
    size_t na = 0;
    for (size_t i = 0; i < b->n_keys; i++) {
        struct dkey *k = &b->keys[i];
        k->alert = 0;
        if (k->count <= c->threshold)
            continue;
        if (na == dc->cap_alerts) {
            size_t cap = dc->cap_alerts ? dc->cap_alerts * 2 : 16;
            struct scand_alert *a = scandint_reallocarray(dc->alerts, cap, sizeof *a);
            if (a == NULL)
                return SCAND_ERR_NOMEM;
            dc->alerts = a;
            dc->cap_alerts = cap;
        }
        struct scand_alert *a = &dc->alerts[na++];
        memset(a, 0, sizeof *a);
        a->rule = dc->ops->name;
        a->family = dc->ops->family;
        a->has_dst = dc->ops->key_kind == DC_KEY_SRC_DST;
        memcpy(a->src, k->src, 16);
        memcpy(a->dst, k->dst, 16);
        a->window_start_ms = b->start;
        a->window_end_ms = b->start + c->bin_ms;
        a->first_seen_ms = k->first_ms;
        a->last_seen_ms = k->last_ms;
        a->count = k->count;
        a->threshold = c->threshold;
        a->flows = k->flows;
        a->n_ports = k->n_ports;
        memcpy(a->ports, k->ports, sizeof a->ports);
        if (a->has_dst) {
            memcpy(a->targets[0], k->dst, 16);
            a->n_targets = 1;
        }
        k->alert = (uint32_t)na;
    }
    if (na > 0 && dc->ops->val_kind == DC_VAL_DST) {
        int64_t(*when)[SCAND_SAMPLES] = scandint_calloc(na, sizeof *when);
        if (when == NULL)
            return SCAND_ERR_NOMEM;
        for (size_t i = 0; i <= b->mmask; i++) {
            const struct dmem *m = &b->mem[i];
            if (m->tag != 0 && b->keys[m->key].alert != 0) {
                uint32_t ai = b->keys[m->key].alert - 1;
                add_target(&dc->alerts[ai], when[ai], m->val, m->first_ms);
            }
        }
        scandint_free(when);
    }
    if (na > 1)
        qsort(dc->alerts, na, sizeof *dc->alerts, cmp_alert);
    for (size_t i = 0; i < na; i++) {
        (*n_alerts)++;
        if (fn != NULL && fn(arg, &dc->alerts[i]) != 0)
            return SCAND_ERR_STATE;
    }
    bin_clear(b);
    return SCAND_OK;
}

int scandint_dcount_close(struct scandint_dcount *dc, int64_t wm, scand_alert_fn fn, void *arg,
                          uint64_t *n_alerts, uint64_t *n_bins)
{
    if (wm > dc->closed_wm)
        dc->closed_wm = wm;
    /* Close due bins earliest first, so alerts come out by window start.
     * Open bins are few (about reorder / bin + 1), so a selection is fine. */
    for (;;) {
        struct bin *next = NULL;
        for (size_t i = 0; i < dc->n_bins; i++) {
            struct bin *b = &dc->bins[i];
            if (b->start == INT64_MIN || (wm != INT64_MAX && b->start + dc->cfg->bin_ms > wm))
                continue;
            if (next == NULL || b->start < next->start)
                next = b;
        }
        if (next == NULL)
            return SCAND_OK;
        int rc = close_bin(dc, next, fn, arg, n_alerts);
        if (rc != SCAND_OK)
            return rc;
        (*n_bins)++;
    }
}
