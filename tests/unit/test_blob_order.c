/*
 * test_blob_order.c - pcap2flow's sort of buffered tuples into blob order
 * (cli/blob_order.c) against qsort with the same comparison, on inputs
 * that break naive quicksorts (sorted, reversed, few distinct prefixes,
 * organ pipe), and with the heapsort fallback forced.
 */
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
        blob_key_introsort(a, n, depth);
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

/* The order itself: hour, then NIC, then time, then arrival (wrapping). */
static void test_blob_order_fields(void)
{
    CU_ASSERT(blob_order(0, 9, 9, 9, 3600000, 0, 0, 0) < 0);
    CU_ASSERT(blob_order(0, 1, 9, 9, 0, 2, 0, 0) < 0);
    CU_ASSERT(blob_order(0, 1, 1, 9, 0, 1, 2, 0) < 0);
    CU_ASSERT(blob_order(0, 1, 1, 1, 0, 1, 1, 2) < 0);
    CU_ASSERT(blob_order(0, 1, 1, 2, 0, 1, 1, 2) == 0);
    CU_ASSERT(blob_order(0, 1, 1, UINT32_MAX, 0, 1, 1, 0) > 0);
}

int test_blob_order_register(void)
{
    CU_pSuite s = CU_add_suite("blob_order", NULL, NULL);
    if (s == NULL || CU_add_test(s, "matches_qsort", test_blob_order_matches_qsort) == NULL ||
        CU_add_test(s, "heapsort_fallback", test_blob_order_heapsort_fallback) == NULL ||
        CU_add_test(s, "fields", test_blob_order_fields) == NULL)
        return CU_get_error();
    return CUE_SUCCESS;
}
