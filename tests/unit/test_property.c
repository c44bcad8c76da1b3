/*
 * test_property.c - seeded property loop [STYLE U4; MS main-dedup.c]: random
 * tuples (a few sources, many destinations and ports, some public, UDP,
 * IPv6 or high-port ones, random times over ten minutes, fed in time order)
 * through the detector with default settings, against a naive O(n^2)
 * reference of both seed rules: "distinct destinations per (source, 1-min
 * bin) > 6" and "distinct ports per (source, destination, bin) > 3", B
 * tuples only. Every alert field must match: key, window, count, flows,
 * first/last seen, target and port samples.
 *
 * The generator is the xorshift64* of unit_util.c; seeds are fixed, so a
 * failure names its seed and reproduces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests.h"

#define MIN 60000LL
#define T0 1786653000000LL /* 2026-08-13T20:30:00Z */

/* Both seed rules with default filters: TCP, dport < 10000, both private. */
static int ref_counts(const struct scand_tuple *t)
{
    return t->proto == 6 && t->dport < 10000 && scand_addr_is_private(t->src) &&
           scand_addr_is_private(t->dst);
}

/* Same key and bin under rule v (0 horizontal, 1 vertical). */
static int ref_same(const struct scand_tuple *a, const struct scand_tuple *b, int v)
{
    return ref_counts(b) && a->ts_ms / MIN == b->ts_ms / MIN && memcmp(a->src, b->src, 16) == 0 &&
           (!v || memcmp(a->dst, b->dst, 16) == 0);
}

static int ref_same_val(const struct scand_tuple *a, const struct scand_tuple *b, int v)
{
    return v ? a->dport == b->dport : memcmp(a->dst, b->dst, 16) == 0;
}

/* The naive reference: dcount per (key, 1-min bin) > threshold, with the
 * alert's flows, first/last seen, targets (horizontal: distinct destinations
 * by first seen, then address, at most SCAND_SAMPLES) and ports (distinct,
 * in input order, at most SCAND_SAMPLES). Alerts go to out[0..cap). */
static size_t reference(const struct scand_tuple *t, size_t n, struct scand_alert *out, size_t cap)
{
    enum { MAXV = 256 };
    size_t na = 0;
    for (int v = 0; v < 2; v++) {
        for (size_t i = 0; i < n; i++) {
            if (!ref_counts(&t[i]))
                continue;
            size_t j;
            for (j = 0; j < i; j++)
                if (ref_same(&t[i], &t[j], v))
                    break;
            if (j < i)
                continue; /* not the first of its (key, bin) */
            struct scand_alert a;
            memset(&a, 0, sizeof a);
            uint8_t val[MAXV][16];
            int64_t first[MAXV];
            size_t nv = 0;
            for (j = i; j < n; j++) {
                if (!ref_same(&t[i], &t[j], v))
                    continue;
                a.flows++;
                a.last_seen_ms = t[j].ts_ms;
                unsigned p;
                for (p = 0; p < a.n_ports; p++)
                    if (a.ports[p] == t[j].dport)
                        break;
                if (p == a.n_ports && a.n_ports < SCAND_SAMPLES)
                    a.ports[a.n_ports++] = t[j].dport;
                size_t k;
                for (k = i; k < j; k++)
                    if (ref_same(&t[i], &t[k], v) && ref_same_val(&t[j], &t[k], v))
                        break;
                if (k < j)
                    continue; /* value seen before */
                a.count++;
                if (!v && nv < MAXV) {
                    memcpy(val[nv], t[j].dst, 16);
                    first[nv++] = t[j].ts_ms;
                }
            }
            if (a.count <= (uint64_t)(v ? 3 : 6))
                continue;
            CU_ASSERT_FATAL(v || nv == a.count);
            /* Insertion sort of the destinations by (first seen, address). */
            for (size_t x = 1; x < nv; x++) {
                for (size_t y = x; y > 0; y--) {
                    int c = first[y - 1] > first[y] ||
                            (first[y - 1] == first[y] && memcmp(val[y - 1], val[y], 16) > 0);
                    if (!c)
                        break;
                    uint8_t tv[16];
                    memcpy(tv, val[y], 16);
                    memcpy(val[y], val[y - 1], 16);
                    memcpy(val[y - 1], tv, 16);
                    int64_t tf = first[y];
                    first[y] = first[y - 1];
                    first[y - 1] = tf;
                }
            }
            if (v) {
                memcpy(a.targets[0], t[i].dst, 16);
                a.n_targets = 1;
            } else {
                a.n_targets = nv < SCAND_SAMPLES ? (unsigned)nv : SCAND_SAMPLES;
                for (unsigned x = 0; x < a.n_targets; x++)
                    memcpy(a.targets[x], val[x], 16);
            }
            snprintf(a.rule, sizeof a.rule, "%s", v ? "vertical" : "horizontal");
            a.family = v ? SCAND_FAM_VERTICAL : SCAND_FAM_HORIZONTAL;
            a.has_dst = v;
            memcpy(a.src, t[i].src, 16);
            if (v)
                memcpy(a.dst, t[i].dst, 16);
            a.window_start_ms = t[i].ts_ms / MIN * MIN;
            a.window_end_ms = a.window_start_ms + MIN;
            a.first_seen_ms = t[i].ts_ms;
            a.threshold = v ? 3 : 6;
            if (na < cap)
                out[na] = a;
            na++;
        }
    }
    return na;
}

static int cmp_ts(const void *x, const void *y)
{
    const struct scand_tuple *a = x, *b = y;
    return a->ts_ms < b->ts_ms ? -1 : a->ts_ms > b->ts_ms;
}

static int cmp_alert(const void *x, const void *y)
{
    const struct scand_alert *a = x, *b = y;
    int c = a->family - b->family;
    if (c == 0)
        c = memcmp(a->src, b->src, 16);
    if (c == 0)
        c = memcmp(a->dst, b->dst, 16);
    if (c == 0)
        c = a->window_start_ms < b->window_start_ms ? -1 : a->window_start_ms > b->window_start_ms;
    return c;
}

/* Random B tuples over 10 minutes: a few sources, many destinations and
 * ports, some public, UDP, IPv6 or high-port ones; sorted by time. */
static void random_scan(uint64_t *s, struct scand_tuple *t, size_t n)
{
    static const uint16_t pool[32] = {22,   80,   443,  445,  3389, 8080, 9999,  10000,
                                      1,    21,   23,   25,   53,   110,  135,   139,
                                      143,  993,  995,  1433, 1521, 3306, 5432,  5900,
                                      6379, 8443, 9200, 9000, 7000, 7001, 65535, 12345};
    size_t n_src = 1 + rng_below(s, 3), n_dst = 1 + rng_below(s, 30);
    size_t n_port = 1 + rng_below(s, 32);
    int64_t res = rng_below(s, 2) ? 1 : 1000; /* whole seconds: many ties */
    for (size_t i = 0; i < n; i++) {
        char src[48], dst[48];
        int v6 = rng_below(s, 10) == 0;
        unsigned a = (unsigned)(1 + rng_below(s, n_src)), b = (unsigned)(1 + rng_below(s, n_dst));
        if (v6) {
            snprintf(src, sizeof src, "fd00::%u", a);
            snprintf(dst, sizeof dst, "%s::1:%u", rng_below(s, 16) ? "fd00" : "2001:db8", b);
        } else {
            snprintf(src, sizeof src, "%s.%u", rng_below(s, 20) ? "10.0.0" : "203.0.113", a);
            snprintf(dst, sizeof dst, "%s.%u", rng_below(s, 16) ? "10.1.0" : "198.51.100", b);
        }
        t[i] = mk_tuple(T0 + (int64_t)rng_below(s, 10 * MIN / res) * res, src, dst,
                        (uint16_t)(1024 + rng_below(s, 60000)), pool[rng_below(s, n_port)],
                        rng_below(s, 16) ? 6 : 17, SCAND_ST_B);
    }
    qsort(t, n, sizeof *t, cmp_ts);
}

static void test_property_detect_matches_naive_reference(void)
{
    enum { MAXN = 600, MAXA = 512 };
    struct scand_tuple *t = calloc(MAXN, sizeof *t);
    struct scand_alert *ref = calloc(MAXA, sizeof *ref);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    size_t total[2] = {0, 0}, quiet = 0, mismatched = 0;
    for (uint64_t seed = 1; seed <= 80; seed++) {
        uint64_t s = seed * 0x9e3779b97f4a7c15ULL;
        size_t n = 20 + (size_t)rng_below(&s, MAXN - 20);
        random_scan(&s, t, n);
        struct alerts al;
        scand_ctx *ctx = detect_new(&al, NULL);
        if (seed & 1) {
            CU_ASSERT_EQUAL(scand_feed(ctx, t, n), SCAND_OK);
        } else {
            for (size_t i = 0; i < n; i++)
                CU_ASSERT_EQUAL(scand_feed(ctx, &t[i], 1), SCAND_OK);
        }
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        struct scand_stats st;
        scand_stats(ctx, &st);
        CU_ASSERT_EQUAL(st.late, 0);
        CU_ASSERT_EQUAL(st.starts, n);
        size_t nr = reference(t, n, ref, MAXA);
        CU_ASSERT_FATAL(nr <= MAXA);
        CU_ASSERT_EQUAL(al.n, nr);
        CU_ASSERT_EQUAL(st.alerts, nr);
        if (al.n == nr && nr > 0) {
            qsort(al.a, al.n, sizeof *al.a, cmp_alert);
            qsort(ref, nr, sizeof *ref, cmp_alert);
            for (size_t i = 0; i < nr; i++) {
                const struct scand_alert *x = &al.a[i], *y = &ref[i];
                int same =
                    strcmp(x->rule, y->rule) == 0 && x->family == y->family &&
                    x->has_dst == y->has_dst && memcmp(x->src, y->src, 16) == 0 &&
                    memcmp(x->dst, y->dst, 16) == 0 && x->window_start_ms == y->window_start_ms &&
                    x->window_end_ms == y->window_end_ms && x->first_seen_ms == y->first_seen_ms &&
                    x->last_seen_ms == y->last_seen_ms && x->count == y->count &&
                    x->threshold == y->threshold && x->flows == y->flows &&
                    x->n_targets == y->n_targets && x->n_ports == y->n_ports &&
                    memcmp(x->targets, y->targets, x->n_targets * 16u) == 0 &&
                    memcmp(x->ports, y->ports, x->n_ports * sizeof x->ports[0]) == 0;
                if (!same && mismatched++ < 3)
                    fprintf(stderr, "\n  seed %llu: alert %zu (%s) differs from the reference\n",
                            (unsigned long long)seed, i, y->rule);
                total[x->has_dst]++;
            }
        }
        quiet += nr == 0;
        detect_free(ctx, &al);
    }
    CU_ASSERT_EQUAL(mismatched, 0);
    /* The loop must exercise both rules, and quiet runs too. */
    CU_ASSERT(total[0] > 20);
    CU_ASSERT(total[1] > 20);
    CU_ASSERT(quiet > 0);
    free(t);
    free(ref);
}

int test_property_register(void)
{
    CU_pSuite s = CU_add_suite("property", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
    if (CU_add_test(s, "test_property_detect_matches_naive_reference",
                    test_property_detect_matches_naive_reference) == NULL)
        return CU_get_error();
    return CUE_SUCCESS;
}
