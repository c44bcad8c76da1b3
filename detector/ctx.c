/*
 * ctx.c - the detector context: configuration, the flow table, the rules,
 * the watermark, and the feed/flush lifecycle [K3].
 *
 * Flows. Production rules count flows on FlowStartTime, the time a flow
 * began (research/azure_formats.md 3.1, 4.10), so the flow table turns
 * tuples into flow events:
 *  - START: a B tuple; a C or E tuple whose 5-tuple has no open flow
 *    within flow_idle (a flow seen mid-way, begun before the log did); a D
 *    tuple unless the same 5-tuple was denied within flow_idle (SYN retries
 *    are one attempt);
 *  - END: an E tuple, and every D (a denied attempt ends at once), with the
 *    flow's outcome. A flow FAILED when it was denied (D), when nothing came
 *    back (no packets destination to source over its C and E tuples), or
 *    when it was one packet each way with no payload: a SYN answered by a
 *    RST (Zeek's REJ; scan_anchors.md 1.2, 4.5). "No payload" is at most 80
 *    bytes each way, as Azure counts whole frames: a bare RST is 54 bytes,
 *    a SYN with options at most 74 (a real blob's reset reads "1,54").
 * A flow between two logged NICs is logged twice, O at the source's NIC
 * and I at the destination's, each with its own B, C and E: the table
 * keeps the two views apart (its key is the 5-tuple and the direction), so
 * the end of one never makes the other's next tuple look like a flow seen
 * mid-way, which would count it again at its end's time.
 * A rule counting all flows takes STARTs; one counting failures takes
 * failed ENDs, binned at their flow's start, so both bin like the KQL rule.
 *
 * Time: the watermark is the newest flow start seen minus the reorder
 * tolerance; a window closes when the watermark passes its end, and a flow
 * for a closed window is counted as late, never binned elsewhere.
 */
#include <stddef.h>
#include <string.h>

#include "scand_int.h"

#define FL_OPEN 0x01
#define FL_DENIED 0x02

#define NOPAYLOAD_BYTES 80

/* Flow keys: the 5-tuple and the direction. IPv4 flows go to the lean
 * table of ftab.c (two key words inline: the addresses; ports, protocol
 * and direction); IPv6 flows to a timed table keyed 16+16 | 2+2+1+1 bytes,
 * the last word zero-padded to 8. */
#define FKEY_SIZE 40

/* What the flow table keeps per flow, to tell its outcome at its end: 8
 * bytes (the table is the detector's largest). The start is held relative
 * to the entry's time (its newest tuple). The four counters are 7-bit
 * lanes of one word that saturate at 127, which still tells "nothing
 * back", "one packet each way" and "at most 80 bytes": two lanes below 128
 * add without carrying into the next, so one add does all four. */
struct flowval {
    uint32_t start_rel; /* entry time - flow start, ms */
    uint32_t counts;    /* lanes (bits 0, 8, 16, 24): packets s2d, d2s, bytes s2d, d2s */
};

#define LANE_MAX 127u
#define LANES_HI 0x80808080u
_Static_assert(NOPAYLOAD_BYTES < LANE_MAX, "a lane tells at most 80 bytes from more");

/* The hold-down table: (rule, key) -> end of the last alert's window. */
#define HKEY_SIZE (1 + 16 + 16 + 2)

/* The flow events a rule takes (struct ev's evbits). */
#define EVB_START 0x01  /* a flow started */
#define EVB_END 0x02    /* a flow ended */
#define EVB_FAILED 0x04 /* a flow ended failed */

struct rule {
    struct scandint_rule_cfg *cfg;
    uint8_t want;     /* EVB_*: the event it counts */
    uint8_t filtered; /* it has a filter: rule_takes() must look */
    uint8_t kind;     /* SCANDINT_EV_* of what it is handed */
    uint8_t scope_ok; /* bit p: it takes a flow whose priv (see rule_takes) is p */
    uint8_t proto;    /* 0 any */
    uint8_t dir;      /* 0 any, 1 inbound only, 2 all but inbound */
    uint8_t more;     /* rule_takes_more() must look: port gaps or excludes, allow lists */
    uint16_t plo, pspan; /* its ports lie in [plo, plo + pspan] */
    struct scandint_dcount *dc;   /* tumbling */
    struct scandint_sliding *sl;  /* sliding */
    struct scandint_trw *trw;     /* Threshold Random Walk */
};

struct scand_ctx {
    struct scandint_cfg cfg;
    int finalized;
    int failed;
    char errbuf[SCAND_ERRBUF_SIZE];
    /* "FILE:LINE: KEY: " when a configuration file set the later of
     * reorder and flow_idle (scand_config_check() names it); "" when a
     * scand_set_config() did, or neither was set */
    char pair_where[SCAND_ERRBUF_SIZE / 2];
    scand_alert_fn alert_fn;
    void *alert_arg;
    struct scandint_ftab flows4;  /* IPv4 flows */
    struct scandint_ttab flows6;  /* IPv6 flows */
    struct scandint_ttab held;     /* hold-down */
    struct rule rules[SCANDINT_MAX_RULES];
    size_t n_rules;
    int64_t newest;
    int64_t sec_end;  /* the last watermark of the current second */
    int64_t close_at; /* sec_end + reorder: windows close when newest passes it */
    uint32_t sweep_max; /* scand_set_sweep(): its max_threshold + 1, 0 = off */
    uint8_t want_any;   /* EVB_*: the events any rule takes */
    struct scand_stats stats;
};

/* The greatest v in the same second as wm (seconds as C division
 * truncates them: (-1000, 1000) is second 0); INT64_MAX's second ends it. */
static int64_t second_end(int64_t wm)
{
    int64_t q = wm / 1000;
    if (wm >= 0)
        return q >= INT64_MAX / 1000 ? INT64_MAX : (q + 1) * 1000 - 1;
    return q == 0 ? 999 : q * 1000;
}

scand_ctx *scand_new(char *errbuf)
{
    scand_ctx *ctx = scandint_calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        scandint_seterr(errbuf, "out of memory");
        return NULL;
    }
    scandint_cfg_defaults(&ctx->cfg);
    ctx->newest = INT64_MIN;
    ctx->sec_end = second_end(INT64_MIN);
    ctx->close_at = ctx->sec_end; /* reorder is added at finalize */
    return ctx;
}

static void free_tables(scand_ctx *ctx)
{
    scandint_ftab_fini(&ctx->flows4);
    scandint_ttab_fini(&ctx->flows6);
    scandint_ttab_fini(&ctx->held);
    for (size_t i = 0; i < ctx->n_rules; i++) {
        scandint_dcount_free(ctx->rules[i].dc);
        scandint_sliding_free(ctx->rules[i].sl);
        scandint_trw_free(ctx->rules[i].trw);
        ctx->rules[i].dc = NULL;
        ctx->rules[i].sl = NULL;
        ctx->rules[i].trw = NULL;
    }
    ctx->n_rules = 0;
}

void scand_free(scand_ctx *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->finalized)
        free_tables(ctx);
    scandint_free(ctx);
}

const char *scand_geterr(const scand_ctx *ctx)
{
    return ctx->errbuf;
}

char *scandint_ctx_errbuf(scand_ctx *ctx)
{
    return ctx->errbuf;
}

void scand_free_text(char *text)
{
    scandint_free(text);
}

static int closed(scand_ctx *ctx, const char *what)
{
    scandint_seterr(ctx->errbuf, "%s: configuration is closed after scand_finalize()", what);
    return SCAND_ERR_STATE;
}

char *scandint_ctx_pair_where(scand_ctx *ctx, size_t *size)
{
    *size = sizeof ctx->pair_where;
    return ctx->pair_where;
}

int scand_set_config(scand_ctx *ctx, const char *key, const char *value)
{
    if (ctx->finalized)
        return closed(ctx, key);
    if (strcmp(key, "reorder") == 0 || strcmp(key, "flow_idle") == 0)
        ctx->pair_where[0] = '\0'; /* the pair's last word is this call's (a file's loader
                                       sets its own afterwards) */
    struct scandint_cfg c = ctx->cfg; /* a failed set leaves cfg unchanged */
    int rc = scandint_cfg_set(&c, key, value, ctx->errbuf);
    if (rc == SCAND_OK) {
        if (c.n_rules != ctx->cfg.n_rules)
            c.preset[0] = '\0'; /* a rule of its own: no longer the preset */
        ctx->cfg = c;
    }
    return rc;
}

int scand_config_check(scand_ctx *ctx)
{
    int rc = scandint_cfg_check(&ctx->cfg, ctx->errbuf);
    if (rc != SCAND_OK && ctx->pair_where[0] != '\0') { /* "FILE:LINE: KEY: " + message */
        char m[SCAND_ERRBUF_SIZE];
        memcpy(m, ctx->errbuf, sizeof m);
        size_t w = strnlen(ctx->pair_where, sizeof ctx->pair_where - 1);
        size_t ml = strnlen(m, sizeof ctx->errbuf - 1 - w);
        memmove(ctx->errbuf + w, m, ml);
        memcpy(ctx->errbuf, ctx->pair_where, w);
        ctx->errbuf[w + ml] = '\0';
    }
    return rc;
}

int scand_config_check_in_file(const scand_ctx *ctx)
{
    return ctx->pair_where[0] != '\0';
}

int scand_get_config(const scand_ctx *ctx, const char *key, char *buf, size_t size)
{
    return scandint_cfg_get(&ctx->cfg, key, buf, size);
}

int scand_config_key(const scand_ctx *ctx, size_t i, char *key, size_t size,
                     const struct scand_config_info **info)
{
    return scandint_cfg_key(&ctx->cfg, i, key, size, info);
}

int scand_set_preset(scand_ctx *ctx, const char *name)
{
    if (ctx->finalized)
        return closed(ctx, "preset");
    return scandint_preset_apply(&ctx->cfg, name, ctx->errbuf);
}

const char *scand_get_preset(const scand_ctx *ctx)
{
    return ctx->cfg.preset;
}

void scand_set_alert_cb(scand_ctx *ctx, scand_alert_fn fn, void *arg)
{
    ctx->alert_fn = fn;
    ctx->alert_arg = arg;
}

int scand_clear_rules(scand_ctx *ctx)
{
    if (ctx->finalized)
        return closed(ctx, "rules");
    ctx->cfg.n_rules = 0;
    ctx->cfg.preset[0] = '\0';
    return SCAND_OK;
}

int scand_set_sweep(scand_ctx *ctx, uint32_t max_threshold)
{
    if (ctx->finalized) {
        scandint_seterr(ctx->errbuf, "scand_set_sweep() after scand_finalize()");
        return SCAND_ERR_STATE;
    }
    /* stored + 1, so that a sweep up to threshold 0 is still a sweep */
    ctx->sweep_max = max_threshold == UINT32_MAX ? UINT32_MAX : max_threshold + 1;
    return SCAND_OK;
}

static int in_scope(int scope, int private)
{
    return scope == SCANDINT_SCOPE_ANY || (scope == SCANDINT_SCOPE_PRIVATE) == private;
}

int scand_finalize(scand_ctx *ctx)
{
    if (ctx->finalized) {
        scandint_seterr(ctx->errbuf, "scand_finalize() called twice");
        return SCAND_ERR_STATE;
    }
    if (scandint_cfg_check(&ctx->cfg, ctx->errbuf) != SCAND_OK)
        return SCAND_ERR_INVAL;
    for (size_t i = 0; i < ctx->cfg.n_rules; i++)
        ctx->cfg.rule[i].reach_max = ctx->sweep_max;
    ctx->finalized = 1; /* free_tables() cleans up from here on */
    ctx->close_at = scandint_add_sat(ctx->sec_end, ctx->cfg.reorder_ms);
    uint64_t seed = ctx->cfg.hash_seed;
    _Static_assert(sizeof(struct flowval) == sizeof ctx->flows4.e->v, "flowval fits ftab's value");
    if (scandint_ftab_init(&ctx->flows4, seed) != SCAND_OK ||
        scandint_ttab_init(&ctx->flows6, FKEY_SIZE, sizeof(struct flowval), seed) != SCAND_OK ||
        scandint_ttab_init(&ctx->held, HKEY_SIZE, 0, seed) != SCAND_OK)
        goto nomem;
    for (size_t i = 0; i < ctx->cfg.n_rules; i++) {
        struct scandint_rule_cfg *rc = &ctx->cfg.rule[i];
        if (!rc->enabled)
            continue;
        struct rule *r = &ctx->rules[ctx->n_rules++];
        r->cfg = rc;
        /* TRW observes every ended flow, failed or not */
        r->want = rc->family == SCAND_FAM_TRW           ? EVB_END
                  : rc->count == SCANDINT_COUNT_FAILURES ? EVB_FAILED
                                                        : EVB_START;
        r->kind = r->want == EVB_START ? SCANDINT_EV_START : SCANDINT_EV_END;
        ctx->want_any |= r->want;
        for (int priv = 0; priv < 4; priv++)
            if (in_scope(rc->src_scope, priv & 1) && in_scope(rc->dst_scope, priv >> 1))
                r->scope_ok |= (uint8_t)(1u << priv);
        r->proto = (uint8_t)rc->proto;
        r->dir = rc->direction == SCANDINT_RDIR_IN ? 1 : rc->direction == SCANDINT_RDIR_OUT ? 2 : 0;
        r->plo = 0;
        r->pspan = UINT16_MAX;
        if (!rc->ports.all && rc->ports.n > 0) { /* the ranges' hull */
            uint16_t lo = rc->ports.lo[0], hi = rc->ports.hi[0];
            for (int j = 1; j < rc->ports.n; j++) {
                lo = rc->ports.lo[j] < lo ? rc->ports.lo[j] : lo;
                hi = rc->ports.hi[j] > hi ? rc->ports.hi[j] : hi;
            }
            r->plo = lo;
            r->pspan = (uint16_t)(hi - lo);
        }
        r->more = (!rc->ports.all && rc->ports.n != 1) || rc->exclude_ports.n > 0 ||
                  rc->allow_src.n > 0 || rc->allow_dst.n > 0;
        r->filtered = r->scope_ok != 0xf || r->proto != 0 || r->dir != 0 || r->plo != 0 ||
                      r->pspan != UINT16_MAX || r->more;
        if (rc->family == SCAND_FAM_TRW   ? (r->trw = scandint_trw_new(rc, seed)) == NULL
            : rc->sliding ? (r->sl = scandint_sliding_new(rc, seed, ctx->cfg.reorder_ms)) == NULL
                                         : (r->dc = scandint_dcount_new(rc)) == NULL)
            goto nomem;
    }
    return SCAND_OK;
nomem:
    free_tables(ctx);
    ctx->finalized = 0;
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

/* A tuple's flow key, computed in the batch's first phase. */
struct fkey {
    uint64_t k0, k1; /* IPv4: ftab's key words */
    uint64_t h;      /* IPv4: ftab's hash; IPv6: the ttab tag */
    int v6;
    uint8_t key[FKEY_SIZE]; /* IPv6: the ttab key */
};

/* Write t's flow key and hash it. The key goes out in whole 8-byte words,
 * the size the hash and compare read it in: a word read back over several
 * narrower stores stalls store forwarding. */
static SCANDINT_HOT void flow_key(const scand_ctx *ctx, const struct scand_tuple *t, struct fkey *k)
{
    uint64_t ports;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* sport, dport, proto and dir lie in this order in 6 bytes: one load */
    _Static_assert(offsetof(struct scand_tuple, dport) == offsetof(struct scand_tuple, sport) + 2 &&
                       offsetof(struct scand_tuple, proto) ==
                           offsetof(struct scand_tuple, sport) + 4 &&
                       offsetof(struct scand_tuple, dir) == offsetof(struct scand_tuple, sport) + 5,
                   "the port word's layout");
    memcpy(&ports, &t->sport, 8);
    ports &= 0xffffffffffffULL;
#else
    ports = (uint64_t)t->sport | (uint64_t)t->dport << 16 | (uint64_t)t->proto << 32 |
            (uint64_t)t->dir << 40;
#endif
    if (scandint_is_v4(t->src) && scandint_is_v4(t->dst)) {
        uint32_t s, d;
        memcpy(&s, t->src + 12, 4);
        memcpy(&d, t->dst + 12, 4);
        k->v6 = 0;
        k->k0 = (uint64_t)s | (uint64_t)d << 32;
        k->k1 = ports | SCANDINT_FK1_USED;
        k->h = scandint_ftab_hash(&ctx->flows4, k->k0, k->k1);
        scandint_ftab_prefetch(&ctx->flows4, k->h);
        return;
    }
    k->v6 = 1;
    memcpy(k->key, t->src, 16);
    memcpy(k->key + 16, t->dst, 16);
    memcpy(k->key + 32, &ports, 8);
    k->h = scandint_ttab_tag(&ctx->flows6, k->key);
    scandint_ttab_prefetch(&ctx->flows6, (uint32_t)k->h);
}

static SCANDINT_HOT uint32_t lane(uint64_t x, int i)
{
    return (uint32_t)(x < LANE_MAX ? x : LANE_MAX) << (8 * i);
}

/* counts + t's counters, each lane saturating at LANE_MAX */
static SCANDINT_HOT uint32_t add_counts(uint32_t counts, const struct scand_tuple *t)
{
    uint32_t s = counts + (lane(t->pkts_s2d, 0) | lane(t->pkts_d2s, 1) | lane(t->bytes_s2d, 2) |
                           lane(t->bytes_d2s, 3));
    uint32_t hi = s & LANES_HI; /* the lanes that passed LANE_MAX */
    return (s & ~hi) | (hi >> 7) * LANE_MAX;
}

static SCANDINT_HOT int failed_flow(uint32_t counts)
{
    unsigned ps2d = counts & 0xff, pd2s = counts >> 8 & 0xff;
    unsigned bs2d = counts >> 16 & 0xff, bd2s = counts >> 24;
    if (pd2s == 0)
        return 1; /* nothing came back */
    return ps2d == 1 && pd2s == 1 && bs2d <= NOPAYLOAD_BYTES &&
           bd2s <= NOPAYLOAD_BYTES; /* a bare reset */
}

#define FLOW_FAILED 0x08 /* flow_logic(): the flow failed (reported as EVB_FAILED only at an end) */

/* Turn tuple t into flow events on its flow's entry (time *et, flags *ef,
 * value v; is_new when just made). Returns the events (EVB_START when it
 * starts a flow, EVB_END when it ends one, EVB_FAILED when that end is a
 * failure) and FLOW_FAILED when the flow failed; sets *start_ts. */
static SCANDINT_HOT unsigned flow_logic(const scand_ctx *ctx, const struct scand_tuple *t,
                                        int is_new, int64_t *et, uint8_t *ef, struct flowval *v,
                                        int64_t *start_ts)
{
    int64_t idle = ctx->cfg.flow_idle_ms;
    int live = !is_new && t->ts_ms <= *et + idle;
    /* the entry's time moves to the newest tuple; the start stays put */
    if (is_new) {
        *et = t->ts_ms;
    } else if (t->ts_ms > *et) {
        uint64_t rel = (uint64_t)v->start_rel + (uint64_t)(t->ts_ms - *et);
        v->start_rel = rel > UINT32_MAX ? UINT32_MAX : (uint32_t)rel;
        *et = t->ts_ms;
    }
    unsigned start = 0, end = 0, failed = 0;
    switch (t->state) {
    case SCAND_ST_B:
        start = 1;
        *ef = FL_OPEN;
        break;
    case SCAND_ST_D:
        start = end = !(live && (*ef & FL_DENIED));
        failed = 1;
        *ef = FL_DENIED;
        break;
    default: /* C, E */
        start = !(live && (*ef & FL_OPEN));
        break;
    }
    if (start) {
        v->counts = 0;
        uint64_t rel = (uint64_t)(*et - t->ts_ms); /* *et >= ts */
        v->start_rel = rel > UINT32_MAX ? UINT32_MAX : (uint32_t)rel;
    }
    if (t->state == SCAND_ST_C || t->state == SCAND_ST_E) {
        v->counts = add_counts(v->counts, t);
        if (t->state == SCAND_ST_E) {
            end = 1;
            /* without counters (",,,,") the outcome is unknown: not a failure */
            failed = !(t->flags & SCAND_TF_NOCOUNT) && failed_flow(v->counts);
        } else {
            *ef = FL_OPEN;
        }
    }
    *start_ts = *et - (int64_t)v->start_rel;
    return start * EVB_START | end * EVB_END | (end & failed) * EVB_FAILED | failed * FLOW_FAILED;
}

/* The flow table's step for tuple t (key k): flow_logic() on its entry
 * (IPv4 in the lean table, flags in its key word; IPv6 in the timed
 * table), which goes at an E (a later tuple starts a new flow). Returns
 * flow_logic()'s bits, or SCAND_ERR_NOMEM (negative). */
static SCANDINT_HOT int flow_step(scand_ctx *ctx, const struct scand_tuple *t, const struct fkey *k,
                                  int64_t *start_ts)
{
    int is_new;
    unsigned bits;
    struct scandint_fent *e4 = NULL;
    struct scandint_tent *e6 = NULL;
    if (!k->v6) {
        e4 = scandint_ftab_get(&ctx->flows4, k->k0, k->k1, k->h, ctx->newest,
                               ctx->cfg.flow_idle_ms, &is_new);
        if (e4 == NULL)
            return SCAND_ERR_NOMEM;
        uint8_t flags = (uint8_t)(e4->k1 >> 48);
        bits = flow_logic(ctx, t, is_new, &e4->t, &flags, (struct flowval *)(void *)e4->v,
                          start_ts);
        e4->k1 = (e4->k1 & ~SCANDINT_FK1_FLAGS) | (uint64_t)flags << 48;
    } else {
        e6 = scandint_ttab_get_tag(&ctx->flows6, k->key, (uint32_t)k->h,
                                   sat_sub(ctx->newest, ctx->cfg.flow_idle_ms), &is_new);
        if (e6 == NULL)
            return SCAND_ERR_NOMEM;
        bits = flow_logic(ctx, t, is_new, &e6->t, &e6->flags, scandint_ttab_val(&ctx->flows6, e6),
                          start_ts);
    }
    if (is_new && ctx->flows4.n + ctx->flows6.n > ctx->stats.peak_flows)
        ctx->stats.peak_flows = ctx->flows4.n + ctx->flows6.n;
    if (t->state == SCAND_ST_E) {
        if (e4 != NULL)
            scandint_ftab_del(&ctx->flows4, e4);
        else
            scandint_ttab_del(&ctx->flows6, e6);
    }
    return (int)bits;
}

/* The rarer half of rule_takes(): several port ranges, excluded ports,
 * allowlists. */
static int rule_takes_more(const struct scandint_rule_cfg *c, const struct scand_tuple *t)
{
    if (!scandint_ports_has(&c->ports, t->dport) ||
        (c->exclude_ports.n > 0 && scandint_ports_has(&c->exclude_ports, t->dport)))
        return 0;
    if ((c->allow_src.n > 0 && scandint_cidrs_has(&c->allow_src, t->src)) ||
        (c->allow_dst.n > 0 && scandint_cidrs_has(&c->allow_dst, t->dst)))
        return 0;
    return 1;
}

/* Does rule ru count tuple t at all? priv: bit 0 source private, bit 1
 * destination private. */
static SCANDINT_HOT int rule_takes(const struct rule *ru, const struct scand_tuple *t, int priv)
{
    if (!((ru->scope_ok >> priv) & 1))
        return 0;
    if ((ru->proto != 0 && t->proto != ru->proto) ||
        (ru->dir != 0 && (ru->dir == 1) != (t->dir == SCAND_DIR_IN)))
        return 0;
    if ((unsigned)(uint16_t)(t->dport - ru->plo) > ru->pspan)
        return 0;
    return !ru->more || rule_takes_more(ru->cfg, t);
}

/* Azure platform addresses: 168.63.129.16 (WireServer, load-balancer
 * probes) and 169.254.169.254 (IMDS), IPv4-mapped. */
static SCANDINT_HOT int platform(const uint8_t a[16])
{
    static const uint8_t wire[4] = {168, 63, 129, 16}, imds[4] = {169, 254, 169, 254};
    if ((a[12] & 0xfe) != 168)
        return 0; /* neither 168.x nor 169.x: the usual case, one test */
    uint32_t x, w, m;
    memcpy(&x, a + 12, 4);
    memcpy(&w, wire, 4);
    memcpy(&m, imds, 4);
    return (x == w || x == m) && scandint_is_v4(a);
}

/* An alert from a rule: hold-down, then the caller. */
static int emit(void *arg, struct scand_alert *a)
{
    scand_ctx *ctx = arg;
    if (ctx->cfg.hold_down_ms > 0) {
        uint8_t key[HKEY_SIZE];
        size_t ri = 0;
        for (; ri < ctx->cfg.n_rules; ri++)
            if (strcmp(ctx->cfg.rule[ri].name, a->rule) == 0)
                break;
        key[0] = (uint8_t)ri;
        memcpy(key + 1, a->src, 16);
        memcpy(key + 17, a->dst, 16);
        memcpy(key + 33, &a->port, 2);
        int is_new;
        int64_t horizon = sat_sub(a->window_start_ms, ctx->cfg.hold_down_ms);
        struct scandint_tent *e = scandint_ttab_get(&ctx->held, key, horizon, &is_new);
        if (e == NULL)
            return SCAND_ERR_NOMEM;
        if (!is_new && a->window_start_ms < e->t + ctx->cfg.hold_down_ms)
            return 0; /* held down: the same rule and key alerted recently */
        e->t = a->window_end_ms;
    }
    ctx->stats.alerts++;
    return ctx->alert_fn != NULL && ctx->alert_fn(ctx->alert_arg, a) != 0 ? 1 : 0;
}

static int close_windows(scand_ctx *ctx, int64_t wm)
{
    for (size_t i = 0; i < ctx->n_rules; i++) {
        const struct rule *r = &ctx->rules[i];
        /* tumbling bins close; a sliding rule counts the flows it held (it
         * alerts as flows go in); TRW has no window */
        int rc = r->dc   ? scandint_dcount_close(r->dc, wm, emit, ctx, &ctx->stats.bins_closed)
                 : r->sl ? scandint_sliding_advance(r->sl, wm, emit, ctx)
                         : SCAND_OK;
        if (rc != SCAND_OK)
            return rc;
    }
    return SCAND_OK;
}

/* A tuple's flow events, between the batch's phases. */
struct ev {
    int64_t start_ts;
    int64_t wm; /* when closes: the watermark windows close at */
    uint64_t hsrc, hdst;
    uint8_t evbits; /* EVB_*: the flow events of the tuple */
    uint8_t failed;
    uint8_t closes; /* windows close after this tuple (the watermark passed a second) */
    uint16_t mask; /* bit r: rule r takes this tuple (prefetch phase) */
    uint32_t tag[SCANDINT_MAX_RULES][2]; /* the rules' table tags */
};

/* Phase 2: the flow table. Sets *ev; SCAND_ERR_NOMEM. */
static SCANDINT_HOT int flow_phase(scand_ctx *ctx, const struct scand_tuple *tp,
                                   const struct fkey *k, struct ev *ev)
{
    memset(ev, 0, offsetof(struct ev, tag)); /* tags are written where mask says */
    ctx->stats.tuples++;
    if (tp->ts_ms > ctx->newest)
        ctx->newest = tp->ts_ms;
    /* Windows close only when the watermark passes a second boundary:
     * cheap, and windows are at least a second wide. The watermark never
     * goes back, and the rules never move it, so the tuples after which
     * windows close are known here, before the rules run. */
    if (ctx->newest > ctx->close_at) { /* the watermark passed sec_end */
        ev->wm = sat_sub(ctx->newest, ctx->cfg.reorder_ms);
        ctx->sec_end = second_end(ev->wm);
        ctx->close_at = scandint_add_sat(ctx->sec_end, ctx->cfg.reorder_ms);
        ev->closes = 1;
    }
    if (ctx->cfg.suppress_platform &&
        ((tp->src[12] & 0xfe) == 168 || (tp->dst[12] & 0xfe) == 168) && /* one test, usually */
        (platform(tp->src) || platform(tp->dst))) {
        ctx->stats.suppressed++;
        return SCAND_OK;
    }
    int bits = flow_step(ctx, tp, k, &ev->start_ts);
    if (bits < 0)
        return bits;
    ev->evbits = (uint8_t)(bits & (EVB_START | EVB_END | EVB_FAILED));
    ev->failed = (bits & FLOW_FAILED) != 0;
    ctx->stats.starts += (uint64_t)(bits & EVB_START);
    ctx->stats.ends += (uint64_t)(bits & EVB_END) >> 1;
    ctx->stats.failures += (uint64_t)(bits & EVB_FAILED) >> 2;
    return SCAND_OK;
}

/* Phase 3: decide which rules take the tuple, hash its addresses, and
 * have each of those rules hash its keys and prefetch their slots. */
static SCANDINT_HOT void prefetch_phase(scand_ctx *ctx, const struct scand_tuple *tp, struct ev *ev)
{
    int priv = -1; /* bit 0 source private, bit 1 destination private; -1 not yet known */
    uint16_t mask = 0;
    for (size_t r = 0; r < ctx->n_rules; r++) {
        const struct rule *ru = &ctx->rules[r];
        if (!(ev->evbits & ru->want))
            continue;
        if (ru->filtered) {
            if (priv < 0)
                priv = scandint_is_private(tp->src) | scandint_is_private(tp->dst) << 1;
            if (!rule_takes(ru, tp, priv))
                continue;
        }
        mask |= (uint16_t)(1u << r);
    }
    ev->mask = mask;
    if (mask == 0)
        return;
    ev->hsrc = scandint_hash(tp->src, 16, ctx->cfg.hash_seed);
    ev->hdst = scandint_hash(tp->dst, 16, ctx->cfg.hash_seed);
    struct scandint_flow f = {tp, ev->start_ts, 0, ev->failed, ev->hsrc, ev->hdst, {0, 0}};
    for (size_t r = 0; r < ctx->n_rules; r++) {
        if (!(mask & (1u << r)))
            continue;
        const struct rule *ru = &ctx->rules[r];
        if (ru->dc != NULL)
            scandint_dcount_prefetch(ru->dc, &f);
        else if (ru->sl != NULL)
            scandint_sliding_prefetch(ru->sl, &f);
        else
            scandint_trw_prefetch(ru->trw, &f);
        ev->tag[r][0] = f.tag[0];
        ev->tag[r][1] = f.tag[1];
    }
}

/* Phase 4: the rules, then the watermark. */
static SCANDINT_HOT int rule_phase(scand_ctx *ctx, const struct scand_tuple *tp,
                                   const struct ev *ev)
{
    if (ev->mask != 0) {
        struct scandint_flow f = {tp, ev->start_ts, 0, ev->failed, ev->hsrc, ev->hdst, {0, 0}};
        int used = 0, late = 0;
        for (size_t r = 0; r < ctx->n_rules; r++) {
            if (!(ev->mask & (1u << r)))
                continue;
            f.kind = ctx->rules[r].kind;
            f.tag[0] = ev->tag[r][0];
            f.tag[1] = ev->tag[r][1];
            int rc = ctx->rules[r].dc    ? scandint_dcount_add(ctx->rules[r].dc, &f)
                     : ctx->rules[r].sl ? scandint_sliding_add(ctx->rules[r].sl, &f, emit, ctx)
                                        : scandint_trw_add(ctx->rules[r].trw, &f, emit, ctx);
            if (rc < 0)
                return rc;
            used |= rc == 1;
            late |= rc == 2;
        }
        ctx->stats.used += (uint64_t)used;
        ctx->stats.late += (uint64_t)late;
    }
    if (ev->closes)
        return close_windows(ctx, ev->wm);
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
    /* In batches, in phases, so that memory latency overlaps: (1) hash
     * every flow key and prefetch its slot; (2) step the flow table; (3)
     * hash the addresses and prefetch the rules' slots; (4) count and close
     * windows, tuple by tuple in order. The flow table never depends on the
     * rules, so the phases give exactly what tuple-at-a-time would. */
    struct fkey keys[FEED_BATCH];
    struct ev evs[FEED_BATCH];
    uint8_t idx3[FEED_BATCH], idx4[FEED_BATCH];
    for (size_t b = 0; b < n; b += FEED_BATCH) {
        size_t m = n - b < FEED_BATCH ? n - b : FEED_BATCH;
        for (size_t i = 0; i < m; i++) {
            /* the tuples two batches on, non-temporal: a stream read once
             * should not push the rules' tables out of the cache */
            if (b + i + 2 * FEED_BATCH < n) {
                const char *ahead = (const char *)&t[b + i + 2 * FEED_BATCH];
                __builtin_prefetch(ahead, 0, 0);
                __builtin_prefetch(ahead + sizeof *t - 1, 0, 0);
            }
            flow_key(ctx, &t[b + i], &keys[i]);
        }
        /* the later phases visit only the tuples they have work for,
         * listed without a branch: whether a tuple starts or ends a flow
         * is as random as traffic, and a skip in each phase would be
         * mispredicted in each */
        size_t n3 = 0, n4 = 0;
        for (size_t i = 0; i < m; i++) {
            int rc = flow_phase(ctx, &t[b + i], &keys[i], &evs[i]);
            if (rc != SCAND_OK)
                return fail(ctx, rc);
            idx3[n3] = (uint8_t)i;
            n3 += (evs[i].evbits & ctx->want_any) != 0;
        }
        for (size_t j = 0; j < n3; j++) {
            size_t i = idx3[j];
            prefetch_phase(ctx, &t[b + i], &evs[i]);
        }
        for (size_t i = 0; i < m; i++) { /* the taken and the closing */
            idx4[n4] = (uint8_t)i;
            n4 += (evs[i].mask != 0) | evs[i].closes;
        }
        for (size_t j = 0; j < n4; j++) {
            size_t i = idx4[j];
            int rc = rule_phase(ctx, &t[b + i], &evs[i]);
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
    int rc = close_windows(ctx, INT64_MAX);
    return rc == SCAND_OK ? SCAND_OK : fail(ctx, rc);
}

void scand_stats(const scand_ctx *ctx, struct scand_stats *out)
{
    *out = ctx->stats;
    for (size_t i = 0; i < ctx->n_rules; i++) {
        uint64_t k = ctx->rules[i].dc   ? scandint_dcount_peak_keys(ctx->rules[i].dc)
                     : ctx->rules[i].sl ? scandint_sliding_peak_keys(ctx->rules[i].sl)
                                        : scandint_trw_peak_keys(ctx->rules[i].trw);
        if (k > out->peak_keys)
            out->peak_keys = k;
    }
}
