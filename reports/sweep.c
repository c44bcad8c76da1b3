/*
 * sweep.c - one-pass threshold sweeps (rpt.h). The detector runs each
 * window's rule instance once, at the lowest threshold of the sweep, and
 * every alert it raises carries the times its count first reached each
 * value up to the highest threshold + 1 (scand_set_sweep). An alert at
 * threshold T is then exactly a record with count > T, reached at
 * reach[T - lo], so whole curves come from one pass, not one detector run
 * per threshold; tests/unit/test_sweep.c proves the equality.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpt.h"

#define MAX_THRESHOLDS 4096

struct rec {
    uint64_t key;
    int64_t wstart;
    uint32_t count;
    uint32_t n_reach;
    size_t reach; /* offset into the reach pool */
    uint32_t match, n_match; /* campaign indices in the match pool */
    uint16_t cls;            /* false alerts: hard-negative class */
    uint8_t win;
};

struct acc {
    uint64_t alerts, false_alerts;
    uint64_t false_by_class[RPT_MAX_CLASSES + 1];
    unsigned visible[8], detected[8];
    double *ttd;
    size_t n_ttd, cap_ttd;
};

struct rpt_sweep {
    char rule[32];
    char inst[RPT_MAX_WINDOWS][32];
    int64_t win[RPT_MAX_WINDOWS];
    size_t n_win;
    uint32_t lo, hi, step;
    size_t n_t;
    /* the current seed */
    const struct rpt_truth *truth;
    struct rec *recs;
    size_t n_recs, cap_recs;
    int64_t *reach;
    size_t n_reach, cap_reach;
    uint32_t *match;
    size_t n_match, cap_match;
    /* the curves, over every seed */
    struct acc *acc; /* [n_win][n_t] */
    double days;
    char kinds[8][16];
    size_t n_kinds;
    char classes[RPT_MAX_CLASSES + 1][24];
    size_t n_classes;
};

static void instance_name(char *out, size_t outsize, const char *rule, int64_t w)
{
    char buf[96];
    size_t size = sizeof buf;
    if (w % 3600000 == 0)
        snprintf(buf, size, "%.20s-w%lldh", rule, (long long)(w / 3600000));
    else if (w % 60000 == 0)
        snprintf(buf, size, "%.20s-w%lldm", rule, (long long)(w / 60000));
    else if (w % 1000 == 0)
        snprintf(buf, size, "%.20s-w%llds", rule, (long long)(w / 1000));
    else
        snprintf(buf, size, "%.20s-w%lldms", rule, (long long)w);
    snprintf(out, outsize, "%.31s", buf);
}

rpt_sweep *rpt_sweep_new(const scand_ctx *base, const char *rule, uint32_t lo, uint32_t hi,
                         uint32_t step, const int64_t *windows, size_t n_windows, char *err,
                         size_t errsize)
{
    char key[64], val[64];
    if (strlen(rule) > 20) {
        snprintf(err, errsize, "--rule %.40s: sweeps take rule names of at most 20 characters",
                 rule);
        return NULL;
    }
    snprintf(key, sizeof key, "%s.family", rule);
    if (scand_get_config(base, key, val, sizeof val) != SCAND_OK) {
        snprintf(err, errsize, "--rule %s: no such rule in the configuration", rule);
        return NULL;
    }
    if (strcmp(val, "trw") == 0) {
        snprintf(err, errsize, "--rule %s: a TRW rule has no threshold to sweep", rule);
        return NULL;
    }
    snprintf(key, sizeof key, "%s.window_kind", rule);
    if (scand_get_config(base, key, val, sizeof val) == SCAND_OK && strcmp(val, "tumbling") != 0) {
        snprintf(err, errsize,
                 "--rule %s: sweeps need tumbling windows (%s.window_kind=tumbling)", rule, rule);
        return NULL;
    }
    if (step == 0 || hi < lo || (hi - lo) / step + 1 > MAX_THRESHOLDS) {
        snprintf(err, errsize, "--param: thresholds lo <= hi, step >= 1, at most %d of them",
                 MAX_THRESHOLDS);
        return NULL;
    }
    if (n_windows == 0 || n_windows > RPT_MAX_WINDOWS) {
        snprintf(err, errsize, "--window: 1 to %d windows", RPT_MAX_WINDOWS);
        return NULL;
    }
    rpt_sweep *sw = calloc(1, sizeof *sw);
    if (sw == NULL) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    snprintf(sw->rule, sizeof sw->rule, "%s", rule);
    sw->lo = lo;
    sw->hi = hi;
    sw->step = step;
    sw->n_t = (hi - lo) / step + 1;
    sw->n_win = n_windows;
    for (size_t i = 0; i < n_windows; i++) {
        sw->win[i] = windows[i];
        instance_name(sw->inst[i], sizeof sw->inst[i], rule, windows[i]);
        for (size_t j = 0; j < i; j++)
            if (windows[j] == windows[i]) {
                snprintf(err, errsize, "--window: %s given twice", sw->inst[i]);
                free(sw);
                return NULL;
            }
    }
    sw->acc = calloc(sw->n_win * sw->n_t, sizeof *sw->acc);
    if (sw->acc == NULL) {
        snprintf(err, errsize, "out of memory");
        free(sw);
        return NULL;
    }
    return sw;
}

void rpt_sweep_free(rpt_sweep *sw)
{
    if (sw == NULL)
        return;
    for (size_t i = 0; i < sw->n_win * sw->n_t; i++)
        free(sw->acc[i].ttd);
    free(sw->acc);
    free(sw->recs);
    free(sw->reach);
    free(sw->match);
    free(sw);
}

scand_ctx *rpt_sweep_ctx(const scand_ctx *base, char *err, size_t errsize)
{
    char ebuf[SCAND_ERRBUF_SIZE], key[96], val[1024];
    scand_ctx *ctx = scand_new(ebuf);
    if (ctx == NULL) {
        snprintf(err, errsize, "%s", ebuf);
        return NULL;
    }
    scand_clear_rules(ctx);
    const struct scand_config_info *info;
    for (size_t i = 0; scand_config_key(base, i, key, sizeof key, &info) == SCAND_OK; i++) {
        if (strchr(key, '.') != NULL || scand_get_config(base, key, val, sizeof val) != SCAND_OK)
            continue; /* rule keys: the instances bring their own */
        /* hold-down would be decided at the sweep's lowest threshold: off */
        if (scand_set_config(ctx, key, strcmp(key, "hold_down") == 0 ? "0s" : val) != SCAND_OK) {
            snprintf(err, errsize, "sweep: %s", scand_geterr(ctx));
            scand_free(ctx);
            return NULL;
        }
    }
    return ctx;
}

size_t rpt_sweep_per_ctx(const rpt_sweep *sw)
{
    size_t k = 16 / sw->n_win;
    return k > 0 ? k : 1;
}

int rpt_sweep_setup(const rpt_sweep *sw, const scand_ctx *base, scand_ctx *ctx, char *err,
                    size_t errsize)
{
    char key[96], val[1024], nkey[96];
    size_t plen = strlen(sw->rule);
    for (size_t w = 0; w < sw->n_win; w++) {
        snprintf(nkey, sizeof nkey, "%s.family", sw->inst[w]);
        if (scand_get_config(ctx, nkey, val, sizeof val) == SCAND_OK) {
            snprintf(err, errsize, "sweep of %s: the context already has a rule %s", sw->rule,
                     sw->inst[w]);
            return -1;
        }
    }
    for (size_t w = 0; w < sw->n_win; w++) {
        const char *inst = sw->inst[w];
        snprintf(key, sizeof key, "%s.family", sw->rule);
        scand_get_config(base, key, val, sizeof val);
        snprintf(nkey, sizeof nkey, "%s.family", inst);
        if (scand_set_config(ctx, nkey, val) != SCAND_OK)
            goto fail;
        /* every other key of the rule, as the base has it */
        const struct scand_config_info *info;
        for (size_t i = 0; scand_config_key(base, i, key, sizeof key, &info) == SCAND_OK; i++) {
            if (strncmp(key, sw->rule, plen) != 0 || key[plen] != '.')
                continue;
            const char *k = key + plen + 1;
            if (strcmp(k, "family") == 0 || strcmp(k, "threshold") == 0 ||
                strcmp(k, "window") == 0)
                continue;
            if (scand_get_config(base, key, val, sizeof val) != SCAND_OK)
                continue;
            snprintf(nkey, sizeof nkey, "%s.%s", inst, k);
            if (scand_set_config(ctx, nkey, val) != SCAND_OK)
                goto fail;
        }
        snprintf(nkey, sizeof nkey, "%s.threshold", inst);
        snprintf(val, sizeof val, "%u", sw->lo);
        if (scand_set_config(ctx, nkey, val) != SCAND_OK)
            goto fail;
        snprintf(nkey, sizeof nkey, "%s.window", inst);
        snprintf(val, sizeof val, "%lldms", (long long)sw->win[w]);
        if (scand_set_config(ctx, nkey, val) != SCAND_OK)
            goto fail;
    }
    if (scand_set_sweep(ctx, sw->hi) != SCAND_OK)
        goto fail;
    return 0;
fail:
    snprintf(err, errsize, "sweep of %s: %s", sw->rule, scand_geterr(ctx));
    return -1;
}

void rpt_sweep_begin(rpt_sweep *sw, const struct rpt_truth *t)
{
    sw->truth = t;
    sw->n_recs = sw->n_reach = sw->n_match = 0;
    for (size_t i = 0; i < t->n_camps; i++) {
        size_t k;
        for (k = 0; k < sw->n_kinds; k++)
            if (strcmp(sw->kinds[k], t->camps[i].kind) == 0)
                break;
        if (k == sw->n_kinds && k < 8)
            snprintf(sw->kinds[sw->n_kinds++], sizeof sw->kinds[0], "%s", t->camps[i].kind);
    }
    sw->n_classes = t->n_hn + 1;
    for (size_t i = 0; i < sw->n_classes && i <= RPT_MAX_CLASSES; i++)
        snprintf(sw->classes[i], sizeof sw->classes[i], "%s", rpt_class_name(t, i));
}

uint64_t rpt_key_hash(const struct scand_alert *a)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    uint8_t buf[35];
    memcpy(buf, a->has_src ? a->src : (const uint8_t[16]){0}, 16);
    memcpy(buf + 16, a->has_dst ? a->dst : (const uint8_t[16]){0}, 16);
    uint16_t p = a->has_port ? a->port : 0;
    memcpy(buf + 32, &p, 2);
    buf[34] = (uint8_t)(a->has_src | a->has_dst << 1 | a->has_port << 2);
    for (size_t i = 0; i < sizeof buf; i++)
        h = (h ^ buf[i]) * 1099511628211ULL;
    return h;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

int rpt_sweep_alert(rpt_sweep *sw, const struct scand_alert *a)
{
    size_t w;
    for (w = 0; w < sw->n_win; w++)
        if (strcmp(a->rule, sw->inst[w]) == 0)
            break;
    if (w == sw->n_win)
        return 0;
    if (grow((void **)&sw->recs, &sw->cap_recs, sw->n_recs + 1, sizeof *sw->recs) != 0 ||
        grow((void **)&sw->reach, &sw->cap_reach, sw->n_reach + a->n_reach, sizeof *sw->reach) !=
            0)
        return -1;
    struct rec *r = &sw->recs[sw->n_recs++];
    memset(r, 0, sizeof *r);
    r->key = rpt_key_hash(a);
    r->wstart = a->window_start_ms;
    r->count = a->count > UINT32_MAX ? UINT32_MAX : (uint32_t)a->count;
    r->win = (uint8_t)w;
    r->reach = sw->n_reach;
    r->n_reach = a->n_reach;
    if (a->n_reach > 0)
        memcpy(sw->reach + sw->n_reach, a->reach_ms, a->n_reach * sizeof *a->reach_ms);
    sw->n_reach += a->n_reach;
    struct rpt_alert ra;
    rpt_alert_from(&ra, a);
    size_t idx[64];
    size_t m = rpt_match(sw->truth, &ra, idx, 64);
    if (m == 0) {
        size_t c = rpt_classify(sw->truth, &ra);
        r->cls = (uint16_t)(c < RPT_MAX_CLASSES ? c : RPT_MAX_CLASSES);
        return 1;
    }
    if (grow((void **)&sw->match, &sw->cap_match, sw->n_match + m, sizeof *sw->match) != 0)
        return -1;
    r->match = (uint32_t)sw->n_match;
    r->n_match = (uint32_t)m;
    for (size_t i = 0; i < m; i++)
        sw->match[sw->n_match++] = (uint32_t)idx[i];
    return 1;
}

/* When record r's count first passed threshold T (count > T). */
static int64_t reached(const rpt_sweep *sw, const struct rec *r, uint32_t T)
{
    uint32_t i = T - sw->lo;
    return i < r->n_reach ? sw->reach[r->reach + i] : INT64_MAX;
}

static int add_ttd(struct acc *a, double v)
{
    if (grow((void **)&a->ttd, &a->cap_ttd, a->n_ttd + 1, sizeof *a->ttd) != 0)
        return -1;
    a->ttd[a->n_ttd++] = v;
    return 0;
}

int rpt_sweep_end(rpt_sweep *sw)
{
    const struct rpt_truth *t = sw->truth;
    size_t nt = sw->n_t;
    uint64_t *hist = calloc((nt + 1) * (RPT_MAX_CLASSES + 1), sizeof *hist);
    int64_t *best = malloc((t->n_camps ? t->n_camps : 1) * nt * sizeof *best);
    if (hist == NULL || best == NULL) {
        free(hist);
        free(best);
        return -1;
    }
    sw->days += (double)(t->end_ms - t->start_ms) / 86400000.0;
    for (size_t w = 0; w < sw->n_win; w++) {
        struct acc *row = &sw->acc[w * nt];
        memset(hist, 0, (nt + 1) * (RPT_MAX_CLASSES + 1) * sizeof *hist);
        for (size_t i = 0; i < t->n_camps * nt; i++)
            best[i] = INT64_MAX;
        for (size_t i = 0; i < sw->n_recs; i++) {
            const struct rec *r = &sw->recs[i];
            if (r->win != w)
                continue;
            /* k = the number of swept thresholds below the count */
            size_t k = r->count <= sw->lo ? 0 : (r->count - sw->lo - 1) / sw->step + 1;
            if (k > nt)
                k = nt;
            if (r->n_match == 0) {
                hist[k * (RPT_MAX_CLASSES + 1) + r->cls]++;
                continue;
            }
            for (size_t ti = 0; ti < k; ti++) {
                row[ti].alerts++;
                uint32_t T = sw->lo + (uint32_t)ti * sw->step;
                int64_t at = reached(sw, r, T);
                for (uint32_t j = 0; j < r->n_match; j++) {
                    int64_t *b = &best[sw->match[r->match + j] * nt + ti];
                    if (at < *b)
                        *b = at;
                }
            }
        }
        /* false alerts at ti: records whose k > ti */
        uint64_t run[RPT_MAX_CLASSES + 1] = {0};
        for (size_t ti = nt; ti-- > 0;) {
            for (size_t c = 0; c <= RPT_MAX_CLASSES; c++) {
                run[c] += hist[(ti + 1) * (RPT_MAX_CLASSES + 1) + c];
                row[ti].false_by_class[c] += run[c];
                row[ti].false_alerts += run[c];
                row[ti].alerts += run[c];
            }
        }
        for (size_t ti = 0; ti < nt; ti++) {
            for (size_t c = 0; c < t->n_camps; c++) {
                const struct rpt_campaign *cp = &t->camps[c];
                size_t k;
                for (k = 0; k < sw->n_kinds && strcmp(sw->kinds[k], cp->kind) != 0; k++)
                    ;
                if (k == sw->n_kinds || !cp->visible)
                    continue;
                row[ti].visible[k]++;
                int64_t at = best[c * nt + ti];
                if (at == INT64_MAX)
                    continue;
                row[ti].detected[k]++;
                double ttd = at > cp->start_ms ? (double)(at - cp->start_ms) / 1000.0 : 0.0;
                if (add_ttd(&row[ti], ttd) != 0) {
                    free(hist);
                    free(best);
                    return -1;
                }
            }
        }
    }
    free(hist);
    free(best);
    sw->n_recs = sw->n_reach = sw->n_match = 0;
    return 0;
}

size_t rpt_sweep_n_windows(const rpt_sweep *sw)
{
    return sw->n_win;
}

int64_t rpt_sweep_window(const rpt_sweep *sw, size_t wi)
{
    return sw->win[wi];
}

size_t rpt_sweep_n_thresholds(const rpt_sweep *sw)
{
    return sw->n_t;
}

uint32_t rpt_sweep_threshold(const rpt_sweep *sw, size_t ti)
{
    return sw->lo + (uint32_t)ti * sw->step;
}

const char *rpt_sweep_rule(const rpt_sweep *sw)
{
    return sw->rule;
}

const char *rpt_sweep_instance(const rpt_sweep *sw, size_t wi)
{
    return sw->inst[wi];
}

size_t rpt_sweep_n_classes(const rpt_sweep *sw)
{
    return sw->n_classes;
}

const char *rpt_sweep_class(const rpt_sweep *sw, size_t i)
{
    return i < sw->n_classes ? sw->classes[i] : "other";
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void rpt_sweep_point(const rpt_sweep *sw, size_t wi, size_t ti, struct rpt_sweep_point *p)
{
    struct acc *a = &sw->acc[wi * sw->n_t + ti];
    memset(p, 0, sizeof *p);
    p->alerts = a->alerts;
    p->false_alerts = a->false_alerts;
    memcpy(p->false_by_class, a->false_by_class, sizeof p->false_by_class);
    /* "other" is stored at index n_hn, which is < RPT_MAX_CLASSES */
    p->days = sw->days;
    p->n_kinds = sw->n_kinds;
    for (size_t k = 0; k < sw->n_kinds; k++) {
        struct rpt_kind_score *ks = &p->kinds[k];
        snprintf(ks->kind, sizeof ks->kind, "%s", sw->kinds[k]);
        ks->campaigns = a->visible[k];
        ks->detected = a->detected[k];
        rpt_kind_finish(ks);
        p->visible += a->visible[k];
        p->detected += a->detected[k];
    }
    p->rate = p->visible ? (double)p->detected / p->visible : NAN;
    p->false_per_day = p->days > 0 ? (double)p->false_alerts / p->days : NAN;
    p->precision = p->alerts ? (double)(p->alerts - p->false_alerts) / (double)p->alerts : NAN;
    p->ttd_s_median = NAN;
    if (a->n_ttd > 0) {
        qsort(a->ttd, a->n_ttd, sizeof *a->ttd, cmp_dbl);
        p->ttd_s_median = a->n_ttd % 2 ? a->ttd[a->n_ttd / 2]
                                       : (a->ttd[a->n_ttd / 2 - 1] + a->ttd[a->n_ttd / 2]) / 2;
    }
}

void rpt_sweep_alerts_at(const rpt_sweep *sw, size_t wi, uint32_t T, rpt_sweep_alert_fn fn,
                         void *arg)
{
    for (size_t i = 0; i < sw->n_recs; i++) {
        const struct rec *r = &sw->recs[i];
        if (r->win == wi && r->count > T)
            fn(arg, r->key, r->wstart, r->count, reached(sw, r, T));
    }
}

static void csv_num(struct rpt_buf *b, double v)
{
    if (isnan(v))
        rpt_buf_put(b, ",", 1);
    else
        rpt_buf_printf(b, ",%.6g", v);
}

void rpt_sweep_csv(struct rpt_buf *b, const rpt_sweep *sw, int header)
{
    if (header) {
        rpt_buf_printf(b, "rule,window_s,threshold,alerts,false_alerts,false_per_day,precision,"
                          "visible,detected,rate,ttd_median_s");
        for (size_t k = 0; sw != NULL && k < sw->n_kinds; k++) {
            rpt_buf_put(b, ",", 1);
            char col[40];
            snprintf(col, sizeof col, "rate_%s", sw->kinds[k]);
            rpt_buf_csv(b, col);
        }
        rpt_buf_put(b, "\n", 1);
    }
    if (sw == NULL)
        return;
    for (size_t wi = 0; wi < sw->n_win; wi++)
        for (size_t ti = 0; ti < sw->n_t; ti++) {
            struct rpt_sweep_point p;
            rpt_sweep_point(sw, wi, ti, &p);
            rpt_buf_csv(b, sw->rule);
            rpt_buf_printf(b, ",%lld,%u,%llu,%llu", (long long)(sw->win[wi] / 1000),
                           rpt_sweep_threshold(sw, ti), (unsigned long long)p.alerts,
                           (unsigned long long)p.false_alerts);
            csv_num(b, p.false_per_day);
            csv_num(b, p.precision);
            rpt_buf_printf(b, ",%u,%u", p.visible, p.detected);
            csv_num(b, p.rate);
            csv_num(b, p.ttd_s_median);
            for (size_t k = 0; k < p.n_kinds; k++)
                csv_num(b, p.kinds[k].campaigns ? p.kinds[k].rate : NAN);
            rpt_buf_put(b, "\n", 1);
        }
}

int rpt_sweep_recommend(const rpt_sweep *sw, double budget, size_t *bwi, size_t *bti)
{
    int found = 0;
    struct rpt_sweep_point best;
    for (size_t wi = 0; wi < sw->n_win; wi++)
        for (size_t ti = 0; ti < sw->n_t; ti++) {
            struct rpt_sweep_point p;
            rpt_sweep_point(sw, wi, ti, &p);
            if (isnan(p.false_per_day) || p.false_per_day > budget || !(p.rate > 0))
                continue;
            if (!found || p.rate > best.rate + 1e-12 ||
                (fabs(p.rate - best.rate) <= 1e-12 &&
                 p.false_per_day < best.false_per_day - 1e-12)) {
                found = 1;
                best = p;
                *bwi = wi;
                *bti = ti;
            }
        }
    return found;
}

static void rec_row(struct rpt_buf *b, const rpt_sweep *sw, const char *choice, double budget,
                    int found, size_t wi, size_t ti)
{
    rpt_buf_csv(b, sw->rule);
    rpt_buf_printf(b, ",%s", choice);
    csv_num(b, budget);
    if (!found) {
        rpt_buf_put(b, ",,,,,,,\n", 8);
        return;
    }
    struct rpt_sweep_point p;
    rpt_sweep_point(sw, wi, ti, &p);
    rpt_buf_printf(b, ",%lld,%u,%u,%u", (long long)(sw->win[wi] / 1000),
                   rpt_sweep_threshold(sw, ti), p.detected, p.visible);
    csv_num(b, p.rate);
    csv_num(b, p.false_per_day);
    csv_num(b, p.ttd_s_median);
    rpt_buf_put(b, "\n", 1);
}

void rpt_recommend_csv(struct rpt_buf *b, const rpt_sweep *sw, const scand_ctx *base,
                       double budget, int header)
{
    if (header)
        rpt_buf_printf(b, "rule,choice,budget_per_day,window_s,threshold,detected,visible,rate,"
                          "false_per_day,ttd_median_s\n");
    if (sw == NULL)
        return;
    size_t wi = 0, ti = 0;
    int found = rpt_sweep_recommend(sw, budget, &wi, &ti);
    rec_row(b, sw, "recommended", budget, found, wi, ti);
    if (!found) {
        /* nothing fits: the cheapest point that still detects, so the
         * reader sees what detection costs here */
        double best_fpd = INFINITY, best_rate = 0;
        for (size_t w = 0; w < sw->n_win; w++)
            for (size_t t = 0; t < sw->n_t; t++) {
                struct rpt_sweep_point p;
                rpt_sweep_point(sw, w, t, &p);
                if (!(p.rate > 0) || isnan(p.false_per_day))
                    continue;
                if (p.false_per_day < best_fpd - 1e-12 ||
                    (fabs(p.false_per_day - best_fpd) <= 1e-12 && p.rate > best_rate)) {
                    best_fpd = p.false_per_day;
                    best_rate = p.rate;
                    wi = w;
                    ti = t;
                    found = 1;
                }
            }
        if (found)
            rec_row(b, sw, "cheapest", budget, 1, wi, ti);
    }
    /* the configured threshold and window, when the sweep covers them */
    char key[64], val[64];
    uint64_t wms = 0;
    snprintf(key, sizeof key, "%s.threshold", sw->rule);
    if (scand_get_config(base, key, val, sizeof val) != SCAND_OK)
        val[0] = '\0';
    unsigned long long th = strtoull(val, NULL, 10);
    snprintf(key, sizeof key, "%s.window", sw->rule);
    if (scand_get_config(base, key, val, sizeof val) != SCAND_OK ||
        scand_duration_parse(val, &wms) != SCAND_OK)
        wms = 0;
    found = 0;
    for (size_t w = 0; w < sw->n_win; w++)
        if ((uint64_t)sw->win[w] == wms && th >= sw->lo && th <= sw->hi &&
            (th - sw->lo) % sw->step == 0) {
            found = 1;
            wi = w;
            ti = (size_t)((th - sw->lo) / sw->step);
        }
    rec_row(b, sw, "configured", budget, found, wi, ti);
}
