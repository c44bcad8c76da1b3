/*
 * test_blob_order.c - pcap2flow's sort of buffered tuples into blob order
 * (cli/blob_order.c) against qsort with the same comparison, on inputs
 * that break naive quicksorts (sorted, reversed, few distinct prefixes,
 * organ pipe), and with the heapsort fallback forced; pcap2flow's sort
 * of buffered tuples into positions (blob_order_positions) against qsort:
 * the radix sort where it applies (arrival rising with the index, as a
 * buffer fills) and the introsort taking over where it does not.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "cli.h"
#include "tests.h"

static int cmp_ref(const void *a, const void *b)
{
    const struct blob_key *x = a, *y = b;
    return blob_order(x->hour, x->mac, x->ts, x->seq, y->hour, y->mac, y->ts, y->seq);
}

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x >> 12, *x ^= *x << 25, *x ^= *x >> 27;
    return *x * 0x2545f4914f6cdd1dULL;
}

enum { PAT_RANDOM, PAT_SORTED, PAT_REVERSED, PAT_FEW, PAT_PIPE, N_PATTERNS };

/* n keys of a pattern; seq is unique, as pcap2flow's arrival order is. */
static void fill(struct blob_key *k, size_t n, int pat, uint64_t seed)
{
    uint64_t x = seed | 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rnd(&x);
        size_t v = pat == PAT_REVERSED ? n - i : pat == PAT_PIPE ? (i < n / 2 ? i : n - i) : i;
        k[i].hour = pat == PAT_RANDOM ? (int64_t)(r % 3) * 3600000 : 0;
        k[i].mac = pat == PAT_FEW ? (uint32_t)(r % 2) : pat == PAT_RANDOM ? (uint32_t)(r >> 8) % 50
                                                                            : 7;
        k[i].ts = pat == PAT_RANDOM ? (int64_t)(r >> 20) % 1000 : pat == PAT_FEW ? 5 : (int64_t)v;
        k[i].seq = pat == PAT_RANDOM || pat == PAT_FEW ? (uint32_t)(i * 2654435761u) /* unique */
                   : pat == PAT_PIPE                   ? (uint32_t)i
                                                       : (uint32_t)v;
        k[i].pos = (uint32_t)i;
        k[i].pad = 0;
    }
}

static void check(size_t n, int pat, int depth)
{
    struct blob_key *a = malloc((n + 1) * sizeof *a), *b = malloc((n + 1) * sizeof *b);
    CU_ASSERT_FATAL(a != NULL && b != NULL);
    fill(a, n, pat, 0x9e3779b97f4a7c15ULL + n);
    memcpy(b, a, n * sizeof *a);
    if (depth < 0)
        blob_key_sort(a, n);
    else
        blob_key_introsort(a, n, depth, NULL);
    qsort(b, n, sizeof *b, cmp_ref);
    int same = memcmp(a, b, n * sizeof *a) == 0;
    if (!same)
        fprintf(stderr, "blob order differs from qsort: n %zu pattern %d depth %d\n", n, pat,
                depth);
    CU_ASSERT(same);
    free(a);
    free(b);
}

static void test_blob_order_matches_qsort(void)
{
    static const size_t sizes[] = {0, 1, 2, 3, 16, 17, 100, 1000, 65536};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (int pat = 0; pat < N_PATTERNS; pat++)
            check(sizes[s], pat, -1);
}

/* Depth 0 is a pure heapsort, depth 1 one partition then heapsorts: the
 * path an adversarial input would take. */
static void test_blob_order_heapsort_fallback(void)
{
    for (int depth = 0; depth <= 1; depth++)
        for (int pat = 0; pat < N_PATTERNS; pat++) {
            check(1000, pat, depth);
            check(17, pat, depth);
        }
}

/* Keys as a buffer fills: arrival rising with the index; NIC index below
 * 2^mb and time below 2^tb ms from t0 (which may be negative), at random;
 * the hour is the time's blob hour, as pcap2flow's always is. */
static void fill_rising(struct blob_key *k, size_t n, unsigned mb, int64_t t0, unsigned tb,
                        uint64_t seed)
{
    uint64_t x = seed | 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t q = rnd(&x);
        uint64_t tm = tb >= 64 ? ~0ULL : ((uint64_t)1 << tb) - 1;
        k[i].ts = (int64_t)((uint64_t)t0 + (rnd(&x) & tm));
        k[i].hour = scand_blob_hour(k[i].ts);
        k[i].mac = mb >= 32 ? (uint32_t)(q >> 32) : (uint32_t)(q >> 32) & ((1u << mb) - 1);
        k[i].seq = (uint32_t)(1000 + 3 * i); /* rising, not the index itself */
        k[i].pos = (uint32_t)(n - i); /* carried along, whatever it is */
        k[i].pad = 0;
    }
}

/* Order a copy by blob_order_positions (pcap2flow's sort) and by qsort;
 * 1 when the radix sort did it, 0 when the introsort did, -1 when the two
 * differ. */
static int radix_check(const struct blob_key *a, size_t n)
{
    struct blob_key *b = malloc((n + 1) * sizeof *b), *c = malloc((n + 1) * sizeof *c);
    uint32_t *pos = malloc((n + 1) * sizeof *pos);
    CU_ASSERT_FATAL(b != NULL && c != NULL && pos != NULL);
    memcpy(b, a, n * sizeof *a);
    struct blob_sort_stats st = {0, 0, 0, 0};
    blob_order_positions(a, sizeof *a, offsetof(struct blob_key, ts),
                         offsetof(struct blob_key, mac), offsetof(struct blob_key, seq), n, pos,
                         &st);
    for (size_t j = 0; j < n; j++)
        c[j] = a[pos[j]];
    qsort(b, n, sizeof *b, cmp_ref);
    int same = memcmp(b, c, n * sizeof *a) == 0;
    free(b);
    free(c);
    free(pos);
    return same ? (int)st.radix : -1;
}

static void test_blob_order_radix(void)
{
    enum { N = 5000 }; /* 13 bits of index */
    struct blob_key *k = malloc(N * sizeof *k);
    CU_ASSERT_FATAL(k != NULL);
    /* a pcap2flow buffer: two hours, 2,000 NICs */
    fill_rising(k, N, 11, (int64_t)491000 * 3600000, 22, 1);
    CU_ASSERT_EQUAL(radix_check(k, N), 1);
    /* hours counted in hours: 9 hours of times (25 bits) and 20-bit NICs
     * fit (4 + 20 + 25 + 13 bits); in milliseconds they would not */
    fill_rising(k, N, 20, (int64_t)491000 * 3600000, 25, 10);
    CU_ASSERT_EQUAL(radix_check(k, N), 1);
    /* a buffer as it filled: arrival and position count up by one (once
     * with the arrival counter about to wrap, which it may not) */
    for (int wrap = 0; wrap < 2; wrap++) {
        fill_rising(k, N, 11, (int64_t)491000 * 3600000, 22, 11 + (uint64_t)wrap);
        for (size_t i = 0; i < N; i++) {
            k[i].seq = (wrap ? UINT32_MAX - N : 77u) + (uint32_t)i;
            k[i].pos = 5u + (uint32_t)i;
        }
        CU_ASSERT_EQUAL(radix_check(k, N), 1);
    }
    /* few distinct values: many ties, which keep arrival order; one
     * constant field (its passes are skipped) */
    fill_rising(k, N, 2, 5, 3, 2);
    CU_ASSERT_EQUAL(radix_check(k, N), 1);
    /* negative times and hours */
    fill_rising(k, N, 1, -3600000 - 500, 10, 3);
    CU_ASSERT_EQUAL(radix_check(k, N), 1);
    /* all alike: index order is the order, nothing moves */
    fill_rising(k, N, 0, 10800000, 0, 4);
    CU_ASSERT_EQUAL(radix_check(k, N), 1);
    /* exactly 64 bits with the index: 298 hours (9 bits), 12-bit NICs,
     * 30-bit times: still radix */
    fill_rising(k, N, 12, 0, 30, 5);
    CU_ASSERT_EQUAL(radix_check(k, N), 1);
    /* one bit more: the introsort, same order */
    fill_rising(k, N, 13, 0, 30, 6);
    CU_ASSERT_EQUAL(radix_check(k, N), 0);
    /* extremes: times across 2^62 ms */
    fill_rising(k, N, 32, INT64_MIN / 4, 62, 7);
    CU_ASSERT_EQUAL(radix_check(k, N), 0);
    /* arrival not rising with the index (the counter wrapped): introsort */
    fill_rising(k, N, 11, 0, 22, 8);
    k[N / 2].seq = 0;
    CU_ASSERT_EQUAL(radix_check(k, N), 0);
    /* tiny inputs: two keys radix, one needs no sort */
    fill_rising(k, 2, 11, 0, 22, 9);
    CU_ASSERT_EQUAL(radix_check(k, 2), 1);
    CU_ASSERT_EQUAL(radix_check(k, 1), 0);
    CU_ASSERT_EQUAL(radix_check(k, 0), 0);
    free(k);
}

/* The order itself: hour, then NIC, then time, then arrival (unsigned:
 * after 2^32 buffered tuples the arrival order would invert). */
static void test_blob_order_fields(void)
{
    CU_ASSERT(blob_order(0, 9, 9, 9, 3600000, 0, 0, 0) < 0);
    CU_ASSERT(blob_order(0, 1, 9, 9, 0, 2, 0, 0) < 0);
    CU_ASSERT(blob_order(0, 1, 1, 9, 0, 1, 2, 0) < 0);
    CU_ASSERT(blob_order(0, 1, 1, 1, 0, 1, 1, 2) < 0);
    CU_ASSERT(blob_order(0, 1, 1, 2, 0, 1, 1, 2) == 0);
    CU_ASSERT(blob_order(0, 1, 1, UINT32_MAX, 0, 1, 1, 0) > 0);
}

/* The worst case stays n log n: on random keys the quicksort does about
 * n log2 n work and never falls back; on an organ pipe (rising, then
 * falling), which defeats the median of three, it falls back to heapsort
 * before the work grows quadratic. */
static void test_blob_order_no_quadratic_case(void)
{
    enum { N = 20000 };
    struct blob_key *k = malloc(N * sizeof *k);
    CU_ASSERT_FATAL(k != NULL);
    int depth = 0;
    for (size_t m = N; m > 1; m >>= 1)
        depth += 2; /* as blob_key_sort */
    double nlogn = N * 14.3; /* log2(20000) */
    struct blob_sort_stats st = {0, 0, 0, 0};
    fill(k, N, PAT_RANDOM, 42);
    blob_key_introsort(k, N, depth, &st);
    CU_ASSERT(st.fallbacks == 0);
    CU_ASSERT(st.partitioned > 0 && (double)st.partitioned < 2 * nlogn);
    memset(&st, 0, sizeof st);
    fill(k, N, PAT_PIPE, 42);
    blob_key_introsort(k, N, depth, &st);
    CU_ASSERT(st.fallbacks > 0);
    CU_ASSERT((double)st.partitioned < 3 * nlogn);
    for (size_t i = 1; i < N; i++)
        CU_ASSERT_FATAL(blob_order(k[i - 1].hour, k[i - 1].mac, k[i - 1].ts, k[i - 1].seq,
                                   k[i].hour, k[i].mac, k[i].ts, k[i].seq) < 0);
    free(k);
}

int test_blob_order_register(void)
{
    CU_pSuite s = CU_add_suite("blob_order", NULL, NULL);
    if (s == NULL || CU_add_test(s, "matches_qsort", test_blob_order_matches_qsort) == NULL ||
        CU_add_test(s, "heapsort_fallback", test_blob_order_heapsort_fallback) == NULL ||
        CU_add_test(s, "fields", test_blob_order_fields) == NULL ||
        CU_add_test(s, "radix", test_blob_order_radix) == NULL ||
        CU_add_test(s, "no_quadratic_case", test_blob_order_no_quadratic_case) == NULL)
        return CU_get_error();
    return CUE_SUCCESS;
}
