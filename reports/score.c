/*
 * score.c - alerts scored per campaign against ground truth (rpt.h), with
 * time to detect, the production latency of a scheduled KQL rule, false
 * alerts by hard-negative class, and Clopper-Pearson intervals.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "rpt.h"

#define MIN_MS 60000LL
#define HOUR_MS 3600000LL

void rpt_latency_defaults(struct rpt_latency *l)
{
    l->blob_ms = MIN_MS;       /* flow logs reach the blob about once a minute */
    l->ta_ms = HOUR_MS;        /* Traffic Analytics' default processing interval */
    l->ingest_ms = 3 * MIN_MS; /* Log Analytics ingestion: typically 20 s to 3 min */
    l->freq_ms = HOUR_MS;      /* Sentinel PortScan rule: queryFrequency 1h ... */
    l->period_ms = HOUR_MS;    /* ... queryPeriod 1h */
}

static int64_t ceil_to(int64_t t, int64_t step)
{
    if (step <= 0)
        return t;
    int64_t q = t / step;
    if (q * step < t)
        q++;
    return q * step;
}

double rpt_latency_s(const struct rpt_latency *l, int64_t t_ms)
{
    int64_t ready = ceil_to(t_ms + l->blob_ms, l->ta_ms) + l->ingest_ms;
    int64_t run = ceil_to(ready, l->freq_ms);
    return (double)(run - t_ms) / 1000.0;
}

void rpt_clopper_pearson(unsigned x, unsigned n, double alpha, double *lo, double *hi)
{
    if (n == 0) {
        *lo = 0;
        *hi = 1;
        return;
    }
    *lo = x == 0 ? 0.0 : gsl_cdf_beta_Pinv(alpha / 2, x, n - x + 1);
    *hi = x == n ? 1.0 : gsl_cdf_beta_Pinv(1 - alpha / 2, x + 1, n - x);
}

static int cmp_addr(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int in_addrs(uint8_t (*list)[16], size_t n, const uint8_t a[16])
{
    return n > 0 && bsearch(a, list, n, 16, cmp_addr) != NULL;
}

static int in_ports(const uint16_t *list, size_t n, uint16_t p)
{
    return n > 0 && bsearch(&p, list, n, sizeof p, cmp_u16) != NULL;
}

static int hits(const struct rpt_campaign *c, const struct rpt_alert *a)
{
    if (a->window_start_ms > c->end_ms || a->window_end_ms <= c->start_ms)
        return 0;
    if (a->has_src)
        return in_addrs(c->sources, c->n_sources, a->src);
    /* keyed by destination or port: its source samples, or, for a
     * distributed campaign, the targets it names */
    for (unsigned i = 0; i < a->n_sources; i++)
        if (in_addrs(c->sources, c->n_sources, a->sources[i]))
            return 1;
    if (strcmp(c->kind, "distributed") != 0)
        return 0;
    if (a->has_dst)
        return in_addrs(c->targets, c->n_targets, a->dst);
    if (a->has_port && !in_ports(c->ports, c->n_ports, a->port))
        return 0;
    for (unsigned i = 0; i < a->n_targets; i++)
        if (in_addrs(c->targets, c->n_targets, a->targets[i]))
            return 1;
    return 0;
}

static uint64_t addr_hash(const uint8_t a[16])
{
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, a + 8, 8);
    uint64_t h = x * 0x9e3779b97f4a7c15ULL ^ (y + 0x632be59bd9b4e019ULL) * 0xc2b2ae3d27d4eb4fULL;
    return h ^ (h >> 29);
}

/* The slot of address a in the source table: its chain head, or an empty
 * slot where it would go. */
static size_t src_slot(const struct rpt_truth *t, const uint8_t a[16])
{
    size_t i = (size_t)addr_hash(a) & t->src_mask;
    while (t->src_head[i] != 0 && memcmp(t->src_key[i], a, 16) != 0)
        i = (i + 1) & t->src_mask;
    return i;
}

int rpt_truth_index(struct rpt_truth *t)
{
    size_t pairs = 0;
    for (size_t i = 0; i < t->n_camps; i++)
        pairs += t->camps[i].n_sources;
    if (pairs >= UINT32_MAX / 2 || t->n_camps >= UINT32_MAX)
        return -1;
    size_t cap = 16;
    while (cap < 2 * pairs)
        cap *= 2;
    t->src_head = calloc(cap, sizeof *t->src_head);
    t->src_key = malloc(cap * sizeof *t->src_key);
    t->pair_camp = malloc((pairs ? pairs : 1) * sizeof *t->pair_camp);
    t->pair_next = malloc((pairs ? pairs : 1) * sizeof *t->pair_next);
    t->dist = malloc((t->n_camps ? t->n_camps : 1) * sizeof *t->dist);
    if (t->src_head == NULL || t->src_key == NULL || t->pair_camp == NULL ||
        t->pair_next == NULL || t->dist == NULL)
        return -1;
    t->src_mask = cap - 1;
    size_t k = 0;
    /* in reverse, so each chain lists its campaigns in ascending order */
    for (size_t i = t->n_camps; i-- > 0;) {
        const struct rpt_campaign *c = &t->camps[i];
        for (size_t j = 0; j < c->n_sources; j++) {
            if (j > 0 && memcmp(c->sources[j], c->sources[j - 1], 16) == 0)
                continue; /* sorted: a repeat */
            size_t s = src_slot(t, c->sources[j]);
            memcpy(t->src_key[s], c->sources[j], 16);
            t->pair_camp[k] = (uint32_t)i;
            t->pair_next[k] = t->src_head[s];
            t->src_head[s] = (uint32_t)(k + 1);
            k++;
        }
    }
    t->n_dist = 0;
    for (size_t i = 0; i < t->n_camps; i++)
        if (strcmp(t->camps[i].kind, "distributed") == 0)
            t->dist[t->n_dist++] = (uint32_t)i;
    return 0;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Append the campaigns with source a to cand[0..*n) (up to max). */
static void by_source(const struct rpt_truth *t, const uint8_t a[16], size_t *cand, size_t *n,
                      size_t max)
{
    size_t s = src_slot(t, a);
    for (uint32_t p = t->src_head[s]; p != 0 && *n < max; p = t->pair_next[p - 1])
        cand[(*n)++] = t->pair_camp[p - 1];
}

/* The campaigns alert a hits, in campaign order, at most max. Through the
 * index, only the campaigns that share a source with the alert (and, for
 * an alert without a source, the distributed ones) are tried: a sweep
 * scores every alert at every threshold. */
size_t rpt_match(const struct rpt_truth *t, const struct rpt_alert *a, size_t *idx, size_t max)
{
    size_t n = 0;
    enum { CAND = 4096 };
    size_t cand[CAND], nc = 0;
    if (t->src_head != NULL) {
        if (a->has_src) {
            by_source(t, a->src, cand, &nc, CAND);
        } else {
            for (unsigned i = 0; i < a->n_sources; i++)
                by_source(t, a->sources[i], cand, &nc, CAND);
            for (size_t i = 0; i < t->n_dist && nc < CAND; i++)
                cand[nc++] = t->dist[i];
        }
    }
    if (t->src_head == NULL || nc == CAND) { /* no index, or too many: every campaign */
        for (size_t i = 0; i < t->n_camps && n < max; i++)
            if (hits(&t->camps[i], a))
                idx[n++] = i;
        return n;
    }
    qsort(cand, nc, sizeof *cand, cmp_size);
    for (size_t i = 0; i < nc && n < max; i++)
        if ((i == 0 || cand[i] != cand[i - 1]) && hits(&t->camps[cand[i]], a))
            idx[n++] = cand[i];
    return n;
}

size_t rpt_classify(const struct rpt_truth *t, const struct rpt_alert *a)
{
    size_t best = t->n_hn;
    double best_frac = -1;
    for (size_t i = 0; i < t->n_hn; i++) {
        const struct rpt_hard_negative *h = &t->hn[i];
        int src_ok = 0;
        if (a->has_src)
            src_ok = in_addrs(h->sources, h->n_sources, a->src);
        else
            for (unsigned j = 0; j < a->n_sources && !src_ok; j++)
                src_ok = in_addrs(h->sources, h->n_sources, a->sources[j]);
        if (!src_ok)
            continue;
        double frac = 1.0;
        if (h->n_targets > 0) {
            if (a->has_dst) {
                frac = in_addrs(h->targets, h->n_targets, a->dst);
            } else if (a->n_targets > 0) {
                unsigned k = 0;
                for (unsigned j = 0; j < a->n_targets; j++)
                    k += (unsigned)in_addrs(h->targets, h->n_targets, a->targets[j]);
                frac = (double)k / a->n_targets;
            }
        }
        if (frac >= 0.5 && frac > best_frac) {
            best = i;
            best_frac = frac;
        }
    }
    return best;
}

static struct rpt_kind_score *kind_of(struct rpt_score *s, const char *kind)
{
    for (size_t i = 0; i < s->n_kinds; i++)
        if (strcmp(s->kinds[i].kind, kind) == 0)
            return &s->kinds[i];
    if (s->n_kinds == sizeof s->kinds / sizeof s->kinds[0])
        return &s->kinds[s->n_kinds - 1];
    struct rpt_kind_score *k = &s->kinds[s->n_kinds++];
    memset(k, 0, sizeof *k);
    snprintf(k->kind, sizeof k->kind, "%s", kind);
    return k;
}

void rpt_kind_finish(struct rpt_kind_score *k)
{
    unsigned n = k->campaigns - k->unseeable;
    k->rate = n > 0 ? (double)k->detected / n : NAN;
    rpt_clopper_pearson(k->detected, n, 0.05, &k->lo, &k->hi);
}

int rpt_score(const struct rpt_truth *t, const struct rpt_alert *a, size_t n, const char *rule,
              const struct rpt_latency *lat, struct rpt_score *s)
{
    memset(s, 0, sizeof *s);
    s->n_camps = t->n_camps;
    s->n_all = n;
    s->camp = calloc(t->n_camps ? t->n_camps : 1, sizeof *s->camp);
    s->alert_class = calloc(n ? n : 1, sizeof *s->alert_class);
    if (s->camp == NULL || s->alert_class == NULL) {
        rpt_score_free(s);
        return -1;
    }
    size_t idx[64];
    for (size_t i = 0; i < n; i++) {
        s->alert_class[i] = SIZE_MAX - 1; /* another rule's */
        if (rule != NULL && strcmp(a[i].rule, rule) != 0)
            continue;
        s->n_alerts++;
        size_t m = rpt_match(t, &a[i], idx, sizeof idx / sizeof idx[0]);
        if (m == 0) {
            size_t cls = rpt_classify(t, &a[i]);
            s->alert_class[i] = cls;
            s->false_by_class[cls < RPT_MAX_CLASSES ? cls : RPT_MAX_CLASSES]++;
            s->false_alerts++;
            continue;
        }
        s->alert_class[i] = SIZE_MAX;
        s->true_alerts++;
        for (size_t j = 0; j < m; j++) {
            const struct rpt_campaign *c = &t->camps[idx[j]];
            struct rpt_camp_score *cs = &s->camp[idx[j]];
            int64_t at = a[i].reached_ms > c->start_ms ? a[i].reached_ms : c->start_ms;
            if (cs->detected && cs->reached_ms <= at)
                continue;
            cs->detected = 1;
            cs->alert = i;
            cs->reached_ms = at;
            cs->ttd_s = (double)(at - c->start_ms) / 1000.0;
            double frac = c->end_ms > c->start_ms
                              ? (double)(at - c->start_ms) / (double)(c->end_ms - c->start_ms)
                              : 1.0;
            if (frac > 1)
                frac = 1;
            cs->ttd_probes = c->probes > 0 ? 1.0 + (double)(c->probes - 1) * frac : 0;
            cs->latency_s = cs->ttd_s + rpt_latency_s(lat, at);
        }
    }
    for (size_t i = 0; i < t->n_camps; i++) {
        struct rpt_kind_score *k = kind_of(s, t->camps[i].kind);
        k->campaigns++;
        if (!t->camps[i].visible)
            k->unseeable++;
        else if (s->camp[i].detected)
            k->detected++;
    }
    for (size_t i = 0; i < s->n_kinds; i++)
        rpt_kind_finish(&s->kinds[i]);
    s->days = (double)(t->end_ms - t->start_ms) / 86400000.0;
    s->false_per_day = s->days > 0 ? (double)s->false_alerts / s->days : NAN;
    s->precision = s->n_alerts > 0 ? (double)s->true_alerts / (double)s->n_alerts : NAN;
    return 0;
}

void rpt_score_free(struct rpt_score *s)
{
    free(s->camp);
    free(s->alert_class);
    s->camp = NULL;
    s->alert_class = NULL;
}

static void num(struct rpt_buf *b, const char *key, double v)
{
    if (isnan(v))
        rpt_buf_printf(b, "\"%s\":null", key);
    else
        rpt_buf_printf(b, "\"%s\":%.6g", key, v);
}

static void addr_json(struct rpt_buf *b, const uint8_t a[16])
{
    char s[48];
    scand_addr_format(a, s, sizeof s);
    rpt_buf_printf(b, "\"%s\"", s);
}

const char *rpt_class_name(const struct rpt_truth *t, size_t cls)
{
    return cls < t->n_hn ? t->hn[cls].cls : "other";
}

char *rpt_score_json(const struct rpt_truth *t, const struct rpt_alert *a,
                     const struct rpt_score *s)
{
    struct rpt_buf b = {0};
    rpt_buf_put(&b, "{\"scenario\":\"", 13);
    rpt_buf_json(&b, t->scenario);
    rpt_buf_printf(&b, "\",\"seed\":%llu,\"days\":%.6g,\"alerts\":%zu,\"true_alerts\":%zu,"
                       "\"false_alerts\":%zu,",
                   (unsigned long long)t->seed, s->days, s->n_alerts, s->true_alerts,
                   s->false_alerts);
    num(&b, "false_per_day", s->false_per_day);
    rpt_buf_put(&b, ",", 1);
    num(&b, "precision", s->precision);
    rpt_buf_put(&b, ",\"false_by_class\":{", 19);
    for (size_t i = 0; i <= t->n_hn; i++) {
        rpt_buf_put(&b, i ? ",\"" : "\"", i ? 2 : 1);
        rpt_buf_json(&b, rpt_class_name(t, i));
        rpt_buf_printf(&b, "\":%llu",
                       (unsigned long long)s->false_by_class[i < RPT_MAX_CLASSES ? i
                                                                                 : RPT_MAX_CLASSES]);
    }
    rpt_buf_put(&b, "},\"kinds\":[", 11);
    for (size_t i = 0; i < s->n_kinds; i++) {
        const struct rpt_kind_score *k = &s->kinds[i];
        rpt_buf_printf(&b, "%s{\"kind\":\"", i ? "," : "");
        rpt_buf_json(&b, k->kind);
        rpt_buf_printf(&b, "\",\"campaigns\":%u,\"unseeable\":%u,\"detected\":%u,", k->campaigns,
                       k->unseeable, k->detected);
        num(&b, "rate", k->rate);
        rpt_buf_printf(&b, ",\"ci95\":[%.6g,%.6g]}", k->lo, k->hi);
    }
    rpt_buf_put(&b, "],\"campaigns\":[", 15);
    for (size_t i = 0; i < t->n_camps; i++) {
        const struct rpt_campaign *c = &t->camps[i];
        const struct rpt_camp_score *cs = &s->camp[i];
        rpt_buf_printf(&b, "%s{\"id\":\"", i ? "," : "");
        rpt_buf_json(&b, c->id);
        rpt_buf_put(&b, "\",\"kind\":\"", 10);
        rpt_buf_json(&b, c->kind);
        const char *verdict = !c->visible ? "unseeable" : cs->detected ? "detected" : "missed";
        rpt_buf_printf(&b, "\",\"result\":\"%s\"", verdict);
        if (cs->detected) {
            rpt_buf_put(&b, ",\"rule\":\"", 9);
            rpt_buf_json(&b, a[cs->alert].rule);
            rpt_buf_printf(&b, "\",\"reached_ms\":%lld,\"ttd_s\":%.3f,\"ttd_probes\":%.1f,"
                               "\"ttd_production_s\":%.0f",
                           (long long)cs->reached_ms, cs->ttd_s, cs->ttd_probes, cs->latency_s);
        }
        if (!c->visible) {
            rpt_buf_put(&b, ",\"reason\":\"", 11);
            rpt_buf_json(&b, c->reason);
            rpt_buf_put(&b, "\"", 1);
        }
        rpt_buf_put(&b, "}", 1);
    }
    rpt_buf_put(&b, "],\"false\":[", 11);
    int first = 1;
    for (size_t i = 0; i < s->n_all; i++) {
        if (s->alert_class[i] >= SIZE_MAX - 1)
            continue; /* a true alert, or another rule's */
        const struct rpt_alert *x = &a[i];
        rpt_buf_printf(&b, "%s{\"rule\":\"", first ? "" : ",");
        first = 0;
        rpt_buf_json(&b, x->rule);
        rpt_buf_put(&b, "\"", 1);
        if (x->has_src) {
            rpt_buf_put(&b, ",\"src\":", 7);
            addr_json(&b, x->src);
        }
        if (x->has_dst) {
            rpt_buf_put(&b, ",\"dst\":", 7);
            addr_json(&b, x->dst);
        }
        if (x->has_port)
            rpt_buf_printf(&b, ",\"port\":%u", x->port);
        rpt_buf_printf(&b, ",\"window_start_ms\":%lld,\"count\":%llu,\"class\":\"",
                       (long long)x->window_start_ms, (unsigned long long)x->count);
        rpt_buf_json(&b, rpt_class_name(t, s->alert_class[i]));
        rpt_buf_put(&b, "\"}", 2);
    }
    rpt_buf_put(&b, "]}\n", 3);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
