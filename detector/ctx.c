/*
 * ctx.c - the detector context: configuration, the flow-start table, the
 * rule table, the watermark, and the feed/flush lifecycle [K3].
 *
 * KQL semantics we reproduce (research/azure_formats.md 3.1, 4.10): the seed
 * rules bin on FlowStartTime, the time a flow began (its B tuple). So each
 * rule counts a flow once, at its start: a B tuple always starts a flow; a
 * C or E tuple starts one only if its 5-tuple has no open flow within
 * flow_idle (a flow seen mid-way, e.g. begun before the log did); a D tuple
 * starts one unless the same 5-tuple was denied within flow_idle (SYN
 * retries are one attempt). The flow table is a timed table expired by
 * record time.
 * Time: the watermark is the newest flow start seen minus the reorder
 * tolerance; a bin closes when the watermark passes its end, and a tuple
 * for a closed bin is counted as late, never binned elsewhere.
 */
#include <string.h>

#include "scand_int.h"

const struct scandint_rule_ops scandint_rules[N_RULES] = {
    [RULE_HORIZONTAL] = {"horizontal", SCAND_FAM_HORIZONTAL, DC_KEY_SRC, DC_VAL_DST},
    [RULE_VERTICAL] = {"vertical", SCAND_FAM_VERTICAL, DC_KEY_SRC_DST, DC_VAL_DPORT},
};

#define FL_OPEN 0x01
#define FL_DENIED 0x02

/* 5-tuple keys of the flow tables: IPv4 4+4+2+2+1 bytes, IPv6 16+16+2+2+1.
 * Two tables, so the common IPv4 entry is 24 bytes, not 56. */
#define FKEY4_SIZE 13
#define FKEY_SIZE 37

struct scand_ctx {
    struct scandint_cfg cfg;
    int finalized;
    int failed;
    char errbuf[SCAND_ERRBUF_SIZE];
    scand_alert_fn alert_fn;
    void *alert_arg;
    struct scandint_ttab flows[2]; /* [0] IPv4, [1] IPv6 */
    struct scandint_dcount *rules[N_RULES];
    int64_t newest;
    int64_t last_wm;
    struct scand_stats stats;
};

scand_ctx *scand_new(char *errbuf)
{
    scand_ctx *ctx = scandint_calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        scandint_seterr(errbuf, "out of memory");
        return NULL;
    }
    scandint_cfg_defaults(&ctx->cfg);
    ctx->newest = INT64_MIN;
    ctx->last_wm = INT64_MIN;
    return ctx;
}

void scand_free(scand_ctx *ctx)
{
    if (ctx == NULL)
        return;
    for (int i = 0; i < N_RULES; i++)
        scandint_dcount_free(ctx->rules[i]);
    if (ctx->finalized)
        for (int i = 0; i < 2; i++)
            scandint_ttab_fini(&ctx->flows[i]);
    scandint_free(ctx);
}

const char *scand_geterr(const scand_ctx *ctx)
{
    return ctx->errbuf;
}

int scand_set_config(scand_ctx *ctx, const char *key, const char *value)
{
    if (ctx->finalized) {
        scandint_seterr(ctx->errbuf, "%s: configuration is closed after scand_finalize()", key);
        return SCAND_ERR_STATE;
    }
    struct scandint_cfg c = ctx->cfg; /* a failed set leaves cfg unchanged */
    int rc = scandint_cfg_set(&c, key, value, ctx->errbuf);
    if (rc == SCAND_OK)
        ctx->cfg = c;
    return rc;
}

int scand_get_config(const scand_ctx *ctx, const char *key, char *buf, size_t size)
{
    return scandint_cfg_get(&ctx->cfg, key, buf, size);
}

void scand_set_alert_cb(scand_ctx *ctx, scand_alert_fn fn, void *arg)
{
    ctx->alert_fn = fn;
    ctx->alert_arg = arg;
}

int scand_finalize(scand_ctx *ctx)
{
    if (ctx->finalized) {
        scandint_seterr(ctx->errbuf, "scand_finalize() called twice");
        return SCAND_ERR_STATE;
    }
    if (ctx->cfg.flow_idle_ms < ctx->cfg.reorder_ms) {
        scandint_seterr(ctx->errbuf, "flow_idle (%lld ms) must be at least reorder (%lld ms)",
                        (long long)ctx->cfg.flow_idle_ms, (long long)ctx->cfg.reorder_ms);
        return SCAND_ERR_INVAL;
    }
    if (scandint_ttab_init(&ctx->flows[0], FKEY4_SIZE, ctx->cfg.hash_seed) != SCAND_OK ||
        scandint_ttab_init(&ctx->flows[1], FKEY_SIZE, ctx->cfg.hash_seed) != SCAND_OK)
        goto nomem;
    for (int i = 0; i < N_RULES; i++) {
        if (!ctx->cfg.rule[i].enabled)
            continue;
        ctx->rules[i] =
            scandint_dcount_new(&scandint_rules[i], &ctx->cfg.rule[i]);
        if (ctx->rules[i] == NULL)
            goto nomem;
    }
    ctx->finalized = 1;
    return SCAND_OK;
nomem:
    scandint_ttab_fini(&ctx->flows[0]);
    scandint_ttab_fini(&ctx->flows[1]);
    for (int i = 0; i < N_RULES; i++) {
        scandint_dcount_free(ctx->rules[i]);
        ctx->rules[i] = NULL;
    }
    scandint_seterr(ctx->errbuf, "out of memory");
    return SCAND_ERR_NOMEM;
}

/* a - b without overflow (timestamps are caller input). */
static int64_t sat_sub(int64_t a, int64_t b)
{
    return a < INT64_MIN + b ? INT64_MIN : a - b;
}

static int fail(scand_ctx *ctx, int rc)
{
    if (rc == SCAND_ERR_NOMEM)
        scandint_seterr(ctx->errbuf, "out of memory");
    else if (rc == SCAND_ERR_STATE)
        scandint_seterr(ctx->errbuf, "the alert callback stopped the run");
    ctx->failed = 1;
    return rc;
}

/* Write t's flow key; return its table (0 IPv4, 1 IPv6). */
static int flow_key(const struct scand_tuple *t, uint8_t key[FKEY_SIZE])
{
    int v6 = !(scand_addr_is_v4(t->src) && scand_addr_is_v4(t->dst));
    size_t a = v6 ? 16 : 4;
    memcpy(key, t->src + 16 - a, a);
    memcpy(key + a, t->dst + 16 - a, a);
    memcpy(key + 2 * a, &t->sport, 2);
    memcpy(key + 2 * a + 2, &t->dport, 2);
    key[2 * a + 4] = t->proto;
    return v6;
}

/* Return 1 if t starts a flow, 0 if it continues one, or SCAND_ERR_NOMEM.
 * key and tag are t's flow key and its table tag. */
static int flow_start(scand_ctx *ctx, const struct scand_tuple *t, int tab, const uint8_t *key,
                      uint32_t tag)
{
    int64_t idle = ctx->cfg.flow_idle_ms;
    int64_t horizon = sat_sub(ctx->newest, idle);
    int is_new;
    struct scandint_tent *e = scandint_ttab_get_tag(&ctx->flows[tab], key, tag, horizon, &is_new);
    if (e == NULL)
        return SCAND_ERR_NOMEM;
    int live = !is_new && t->ts_ms <= e->t + idle;
    int start;
    switch (t->state) {
    case SCAND_ST_B:
        start = 1;
        e->flags = FL_OPEN;
        break;
    case SCAND_ST_D:
        start = !(live && (e->flags & FL_DENIED));
        e->flags = FL_DENIED;
        break;
    case SCAND_ST_E:
        start = !(live && (e->flags & FL_OPEN));
        e->flags = 0;
        break;
    default: /* C */
        start = !(live && (e->flags & FL_OPEN));
        e->flags = FL_OPEN;
        break;
    }
    if (is_new || t->ts_ms > e->t)
        e->t = t->ts_ms;
    uint64_t n_flows = ctx->flows[0].n + ctx->flows[1].n;
    if (n_flows > ctx->stats.peak_flows)
        ctx->stats.peak_flows = n_flows;
    return start;
}

static int close_bins(scand_ctx *ctx, int64_t wm)
{
    for (int i = 0; i < N_RULES; i++) {
        if (ctx->rules[i] == NULL)
            continue;
        int rc = scandint_dcount_close(ctx->rules[i], wm, ctx->alert_fn, ctx->alert_arg,
                                       &ctx->stats.alerts, &ctx->stats.bins_closed);
        if (rc != SCAND_OK)
            return rc;
    }
    return SCAND_OK;
}

static int feed_one(scand_ctx *ctx, const struct scand_tuple *tp, int tab, const uint8_t *key,
                    uint32_t tag)
{
    ctx->stats.tuples++;
    if (tp->ts_ms > ctx->newest)
        ctx->newest = tp->ts_ms;
    int start = flow_start(ctx, tp, tab, key, tag);
    if (start < 0)
        return start;
    if (!start)
        return SCAND_OK;
    ctx->stats.starts++;
    int used = 0;
    uint64_t hsrc = scandint_hash(tp->src, 16, ctx->cfg.hash_seed);
    uint64_t hdst = scandint_hash(tp->dst, 16, ctx->cfg.hash_seed);
    for (int r = 0; r < N_RULES; r++) {
        if (ctx->rules[r] == NULL)
            continue;
        int rc = scandint_dcount_add(ctx->rules[r], tp, hsrc, hdst);
        if (rc < 0)
            return rc;
        used |= rc == 1;
        ctx->stats.late += rc == 2;
    }
    ctx->stats.used += (uint64_t)used;
    /* Close bins only when the watermark moved past a second boundary:
     * cheap, and bins are at least a second wide. */
    int64_t wm = sat_sub(ctx->newest, ctx->cfg.reorder_ms);
    if (wm / 1000 != ctx->last_wm / 1000) {
        ctx->last_wm = wm;
        return close_bins(ctx, wm);
    }
    return SCAND_OK;
}

#define FEED_BATCH 32

int scand_feed(scand_ctx *ctx, const struct scand_tuple *t, size_t n)
{
    if (!ctx->finalized || ctx->failed) {
        scandint_seterr(ctx->errbuf, ctx->failed ? "the context failed earlier"
                                                 : "scand_feed() before scand_finalize()");
        return SCAND_ERR_STATE;
    }
    /* In batches: hash every flow key and prefetch its slot first, so the
     * lookups find their cache lines on the way (the flow table is larger
     * than L2 on a busy estate). */
    uint8_t keys[FEED_BATCH][FKEY_SIZE];
    uint32_t tags[FEED_BATCH];
    int tabs[FEED_BATCH];
    for (size_t b = 0; b < n; b += FEED_BATCH) {
        size_t m = n - b < FEED_BATCH ? n - b : FEED_BATCH;
        for (size_t i = 0; i < m; i++) {
            tabs[i] = flow_key(&t[b + i], keys[i]);
            tags[i] = scandint_ttab_tag(&ctx->flows[tabs[i]], keys[i]);
            scandint_ttab_prefetch(&ctx->flows[tabs[i]], tags[i]);
        }
        for (size_t i = 0; i < m; i++) {
            int rc = feed_one(ctx, &t[b + i], tabs[i], keys[i], tags[i]);
            if (rc != SCAND_OK)
                return fail(ctx, rc);
        }
    }
    return SCAND_OK;
}

int scand_flush(scand_ctx *ctx)
{
    if (!ctx->finalized || ctx->failed) {
        scandint_seterr(ctx->errbuf, ctx->failed ? "the context failed earlier"
                                                 : "scand_flush() before scand_finalize()");
        return SCAND_ERR_STATE;
    }
    int rc = close_bins(ctx, INT64_MAX);
    return rc == SCAND_OK ? SCAND_OK : fail(ctx, rc);
}

void scand_stats(const scand_ctx *ctx, struct scand_stats *out)
{
    *out = ctx->stats;
    for (int i = 0; i < N_RULES; i++)
        if (ctx->rules[i] != NULL && scandint_dcount_peak_keys(ctx->rules[i]) > out->peak_keys)
            out->peak_keys = scandint_dcount_peak_keys(ctx->rules[i]);
}
