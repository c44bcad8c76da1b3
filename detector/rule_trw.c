/*
 * rule_trw.c - Threshold Random Walk (Jung, Paxson, Berger, Balakrishnan,
 * "Fast Portscan Detection Using Sequential Hypothesis Testing", IEEE S&P
 * 2004; research/scan_anchors.md 3.1).
 *
 * Per source, each FIRST contact to a destination is an observation: it
 * succeeded or failed (ctx.c's failure definition). Under H0 (benign) a
 * first contact succeeds with probability theta0, under H1 (scanner) with
 * theta1. The walk adds the log-likelihood ratio of each observation,
 *   success: ln(theta1 / theta0)      failure: ln((1 - theta1) / (1 - theta0)),
 * and decides H1 at ln(beta / alpha), H0 at ln((1 - beta) / (1 - alpha)).
 * With the paper's theta0 = 0.8, theta1 = 0.2, alpha = 0.01, beta = 0.99 a
 * step is +-ln 4 and the thresholds +-ln 99: four failures in a row make a
 * scanner, four successes a benign host. There is no window: a slow scan
 * is caught as fast, in observations, as a quick one.
 *
 * A benign verdict restarts the walk (the source may start scanning later);
 * a scanner verdict raises one alert and the source stays a scanner until
 * it has been idle for `idle`, when its state is forgotten. Contacts are
 * remembered per (source, destination) for `idle` too, so a repeated
 * contact is not a first contact. Memory follows the sources and pairs
 * active within `idle`.
 */
#include <math.h>
#include <string.h>

#include "scand_int.h"

/* Per source: 216 bytes. The alert's samples are the walk's first
 * TRW_SAMPLES first contacts, kept here as they come: a search of the
 * contact table at each verdict made many scanners quadratic. */
#define TRW_SAMPLES 8
struct walk {
    double llr;
    int64_t start_ms, last_ms; /* first and last observation of the walk */
    uint32_t contacts, failures;
    uint8_t scanner;
    uint8_t n_ports, n_camps, n_targets;
    uint16_t ports[TRW_SAMPLES];
    uint32_t camps[SCAND_MAX_CAMPAIGNS];
    uint8_t targets[TRW_SAMPLES][16];
};

struct scandint_trw {
    const struct scandint_rule_cfg *cfg;
    struct scandint_ttab src, pairs;
    double up, down, step_ok, step_fail;
    int64_t newest;
    uint64_t peak;
};

struct scandint_trw *scandint_trw_new(const struct scandint_rule_cfg *cfg, uint64_t seed)
{
    struct scandint_trw *w = scandint_calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->cfg = cfg;
    w->newest = INT64_MIN;
    w->up = log(cfg->beta / cfg->alpha);
    w->down = log((1 - cfg->beta) / (1 - cfg->alpha));
    w->step_ok = log(cfg->theta1 / cfg->theta0);
    w->step_fail = log((1 - cfg->theta1) / (1 - cfg->theta0));
    if (scandint_ttab_init(&w->src, 16, sizeof(struct walk), seed) != SCAND_OK ||
        scandint_ttab_init(&w->pairs, 32, 0, seed ^ 0x7e1) != SCAND_OK) {
        scandint_trw_free(w);
        return NULL;
    }
    return w;
}

void scandint_trw_free(struct scandint_trw *w)
{
    if (w == NULL)
        return;
    scandint_ttab_fini(&w->src);
    scandint_ttab_fini(&w->pairs);
    scandint_free(w);
}

uint64_t scandint_trw_peak_keys(const struct scandint_trw *w)
{
    return w->peak;
}

/* The contact table's key: source, then destination. */
static void pair_key(const struct scand_tuple *t, uint8_t pair[32])
{
    memcpy(pair, t->src, 16);
    memcpy(pair + 16, t->dst, 16);
}

void scandint_trw_prefetch(const struct scandint_trw *w, struct scandint_flow *f)
{
    uint8_t pair[32];
    pair_key(f->t, pair);
    f->tag[0] = scandint_ttab_tag(&w->pairs, pair);
    f->tag[1] = scandint_ttab_tag(&w->src, f->t->src);
    scandint_ttab_prefetch(&w->pairs, f->tag[0]);
    scandint_ttab_prefetch(&w->src, f->tag[1]);
}

static void restart(struct walk *s)
{
    s->llr = 0;
    s->contacts = s->failures = 0;
    s->n_ports = s->n_camps = s->n_targets = 0;
    s->start_ms = INT64_MAX;
}

int scandint_trw_add(struct scandint_trw *w, const struct scandint_flow *f, scandint_emit_fn emit,
                     void *arg)
{
    const struct scandint_rule_cfg *c = w->cfg;
    const struct scand_tuple *t = f->t;
    if (f->start > w->newest)
        w->newest = f->start;
    int64_t horizon =
        w->newest < INT64_MIN + c->idle_ms ? INT64_MIN : w->newest - c->idle_ms;
    uint8_t pair[32];
    pair_key(t, pair);
    int is_new;
    struct scandint_tent *p = scandint_ttab_get_tag(&w->pairs, pair, f->tag[0], horizon, &is_new);
    if (p == NULL)
        return SCAND_ERR_NOMEM;
    int first = is_new || p->t < horizon;
    if (f->start > p->t)
        p->t = f->start;
    struct scandint_tent *e = scandint_ttab_get_tag(&w->src, t->src, f->tag[1], horizon, &is_new);
    if (e == NULL)
        return SCAND_ERR_NOMEM;
    struct walk *s = scandint_ttab_val(&w->src, e);
    if (is_new || e->t < horizon) { /* new, or idle long enough to forget */
        memset(s, 0, sizeof *s);
        restart(s);
    }
    if (f->start > e->t)
        e->t = f->start;
    if (w->src.n > w->peak)
        w->peak = w->src.n;
    if (!first || s->scanner)
        return 1; /* a repeated contact, or a decided scanner */
    s->llr += f->failed ? w->step_fail : w->step_ok;
    s->contacts++;
    s->failures += (uint32_t)f->failed;
    if (f->start < s->start_ms)
        s->start_ms = f->start;
    if (f->start > s->last_ms)
        s->last_ms = f->start;
    if (s->n_targets < TRW_SAMPLES) {
        /* distinct: a pair forgotten after idle is a first contact again,
         * while its source's walk may go on */
        unsigned i;
        for (i = 0; i < s->n_targets && memcmp(s->targets[i], t->dst, 16) != 0; i++)
            ;
        if (i == s->n_targets)
            memcpy(s->targets[s->n_targets++], t->dst, 16);
    }
    if (s->n_ports < TRW_SAMPLES) {
        unsigned i;
        for (i = 0; i < s->n_ports && s->ports[i] != t->dport; i++)
            ;
        if (i == s->n_ports)
            s->ports[s->n_ports++] = t->dport;
    }
    if (t->campaign != 0 && s->n_camps < SCAND_MAX_CAMPAIGNS) {
        unsigned i;
        for (i = 0; i < s->n_camps && s->camps[i] != t->campaign; i++)
            ;
        if (i == s->n_camps)
            s->camps[s->n_camps++] = t->campaign;
    }
    if (s->llr <= w->down) {
        restart(s); /* benign: start a new test */
        return 1;
    }
    if (s->llr < w->up)
        return 1;
    s->scanner = 1;
    struct scand_alert a;
    memset(&a, 0, sizeof a);
    memcpy(a.rule, c->name, sizeof a.rule);
    a.family = SCAND_FAM_TRW;
    a.severity = c->severity;
    a.technique = "T1046";
    a.has_src = 1;
    memcpy(a.src, t->src, 16);
    a.window_start_ms = s->start_ms;
    a.window_end_ms = scandint_add_sat(f->start, 1);
    a.first_seen_ms = s->start_ms;
    a.last_seen_ms = s->last_ms;
    a.reached_ms = f->start;
    a.count = s->failures;  /* failed first contacts */
    a.hosts = s->contacts;  /* first contacts in the walk */
    a.flows = s->contacts;
    a.n_targets = s->n_targets;
    memcpy(a.targets, s->targets, sizeof s->targets);
    a.n_ports = s->n_ports;
    memcpy(a.ports, s->ports, s->n_ports * sizeof *s->ports);
    a.n_campaigns = s->n_camps;
    memcpy(a.campaigns, s->camps, s->n_camps * sizeof *s->camps);
    int r = emit(arg, &a);
    return r == 0 ? 1 : r < 0 ? r : SCAND_ERR_STATE;
}

double scandint_trw_llr(struct scandint_trw *w, const uint8_t src[16])
{
    int is_new;
    struct scandint_tent *e = scandint_ttab_get(&w->src, src, INT64_MIN, &is_new);
    if (e == NULL || is_new)
        return 0;
    return ((struct walk *)scandint_ttab_val(&w->src, e))->llr;
}
