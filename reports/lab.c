/*
 * lab.c - a simulated run fed straight into detectors: the simulator hands
 * out each NIC's tuples hour by hour; we gather every NIC's hour, put it in
 * time order (ties keep the simulator's order, so runs are reproducible)
 * and feed it to each context. Tuples keep their truth labels, so alerts
 * name their campaigns. No blob is written or parsed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpt.h"
#include "sim.h"

struct feed {
    scand_ctx **ctx;
    size_t n_ctx;
    struct scand_tuple *t, *tmp;
    size_t n, cap;
    int64_t hour;
    rpt_progress_fn progress;
    void *progress_arg;
    char *err;
    size_t errsize;
};

/* Merge sort by time, stable (ties keep arrival order): O(n log n), no
 * comparator calls through qsort, and runs already sorted merge in one go. */
static void sort_by_time(struct scand_tuple *t, struct scand_tuple *tmp, size_t n)
{
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            if (mid == hi || t[mid - 1].ts_ms <= t[mid].ts_ms) {
                memcpy(tmp + lo, t + lo, (hi - lo) * sizeof *t);
                continue;
            }
            while (i < mid && j < hi)
                tmp[k++] = t[j].ts_ms < t[i].ts_ms ? t[j++] : t[i++];
            while (i < mid)
                tmp[k++] = t[i++];
            while (j < hi)
                tmp[k++] = t[j++];
        }
        struct scand_tuple *x = t;
        memcpy(x, tmp, n * sizeof *t);
    }
}

static int flush_hour(struct feed *f)
{
    if (f->n == 0)
        return 0;
    sort_by_time(f->t, f->tmp, f->n);
    for (size_t i = 0; i < f->n_ctx; i++) {
        if (scand_feed(f->ctx[i], f->t, f->n) != SCAND_OK) {
            snprintf(f->err, f->errsize, "detector: %s", scand_geterr(f->ctx[i]));
            return -1;
        }
    }
    f->n = 0;
    return 0;
}

static int on_blob(void *arg, const struct scand_blob_meta *meta, int64_t hour_ms,
                   const struct scand_tuple *t, size_t n)
{
    (void)meta;
    struct feed *f = arg;
    if (n == 0)
        return 0;
    if (hour_ms != f->hour) {
        if (flush_hour(f) != 0)
            return 1;
        f->hour = hour_ms;
    }
    if (f->n + n > f->cap) {
        size_t cap = (f->n + n) * 2;
        struct scand_tuple *a = realloc(f->t, cap * sizeof *a);
        if (a != NULL)
            f->t = a;
        struct scand_tuple *b = realloc(f->tmp, cap * sizeof *b);
        if (b != NULL)
            f->tmp = b;
        if (a == NULL || b == NULL) {
            snprintf(f->err, f->errsize, "out of memory");
            return 1;
        }
        f->cap = cap;
    }
    memcpy(f->t + f->n, t, n * sizeof *t);
    f->n += n;
    return 0;
}

static void on_progress(void *arg, int64_t hour_ms, uint64_t tuples)
{
    struct feed *f = arg;
    if (f->progress != NULL)
        f->progress(f->progress_arg, hour_ms, tuples);
}

int rpt_lab_run(const sim_scenario *sc, scand_strtab *st, scand_ctx **ctx, size_t n_ctx,
                rpt_progress_fn progress, void *progress_arg, struct sim_result **res, char *err,
                size_t errsize)
{
    struct feed f = {ctx, n_ctx, NULL, NULL, 0, 0, INT64_MIN, progress, progress_arg,
                     err,  errsize};
    struct sim_hooks hooks = {on_blob, &f, NULL, NULL, on_progress, &f, 0};
    char serr[SIM_ERRBUF_SIZE] = "";
    *res = NULL;
    err[0] = '\0';
    int rc = sim_generate(sc, st, &hooks, res, serr, sizeof serr);
    if (rc != 0) {
        if (err[0] == '\0')
            snprintf(err, errsize, "%s", serr);
    } else if (flush_hour(&f) != 0) {
        rc = -1;
    } else {
        for (size_t i = 0; i < n_ctx; i++)
            if (scand_flush(ctx[i]) != SCAND_OK) {
                snprintf(err, errsize, "detector: %s", scand_geterr(ctx[i]));
                rc = -1;
                break;
            }
    }
    if (rc != 0) {
        sim_result_free(*res);
        *res = NULL;
    }
    free(f.t);
    free(f.tmp);
    return rc;
}

char *rpt_lab_truth(const sim_scenario *sc, struct rpt_truth *t, char *err, size_t errsize)
{
    char serr[SIM_ERRBUF_SIZE];
    struct sim_hooks none = {NULL, NULL, NULL, NULL, NULL, NULL, 0};
    struct sim_result *res = NULL;
    scand_strtab *st = scand_strtab_new();
    char *tj = NULL;
    if (st == NULL) {
        snprintf(err, errsize, "out of memory");
    } else if (sim_generate(sc, st, &none, &res, serr, sizeof serr) != 0) {
        snprintf(err, errsize, "simulate: %s", serr);
    } else if ((tj = sim_truth_json(sc, res)) == NULL) {
        snprintf(err, errsize, "out of memory");
    } else if (rpt_truth_parse("truth.json", tj, strlen(tj), t, err, errsize) != 0) {
        free(tj);
        tj = NULL;
    }
    sim_result_free(res);
    scand_strtab_free(st);
    return tj;
}
