/*
 * test_trw_int.c - white-box [STYLE U4]: the Threshold Random Walk engine
 * (rule_trw.c) against the closed form of Jung et al. 2004, with the
 * paper's parameters: the walk after each first contact, the verdicts
 * (four failures: scanner; four successes: benign, and the walk restarts),
 * repeated contacts not counted twice, and through the public API a slow
 * scanner caught in observations, not time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "scand_int.h"
#include "tests.h"

#define T0 1786653000000LL

static int collect(void *arg, struct scand_alert *a)
{
    return alerts_collect(arg, a);
}

static void observe(struct scandint_trw *w, struct alerts *al, int64_t ts, const char *src,
                    const char *dst, int failed)
{
    struct scand_tuple t = mk_tuple(ts, src, dst, 40000, 22, 6, SCAND_ST_E);
    struct scandint_flow f = {&t, ts, SCANDINT_EV_END, failed, 0, 0, {0, 0}};
    scandint_trw_prefetch(w, &f); /* the tags, as the context's prefetch phase sets them */
    CU_ASSERT_EQUAL(scandint_trw_add(w, &f, collect, al), 1);
}

/* A TRW rule with the paper's parameters (c must outlive it), and no
 * alerts yet. */
static struct scandint_trw *walk_new(struct scandint_rule_cfg *c, uint64_t seed,
                                     struct alerts *al)
{
    scandint_rule_defaults(c, "trw", SCAND_FAM_TRW);
    struct scandint_trw *w = scandint_trw_new(c, seed);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    memset(al, 0, sizeof *al);
    return w;
}

static void test_trw_int_walk_matches_closed_form(void)
{
    struct scandint_rule_cfg c;
    struct alerts al;
    struct scandint_trw *w = walk_new(&c, 1, &al);
    uint8_t src[16];
    addr("10.0.0.9", src);
    double up = log(0.99 / 0.01), fail = log(0.8 / 0.2);
    char dst[32];
    /* failures: the walk climbs ln 4 a step; the 4th crosses ln 99 */
    for (int i = 1; i <= 4; i++) {
        snprintf(dst, sizeof dst, "10.0.1.%d", i);
        observe(w, &al, T0 + i, "10.0.0.9", dst, 1);
        if (i < 4) {
            CU_ASSERT_DOUBLE_EQUAL(scandint_trw_llr(w, src), i * fail, 1e-12);
            CU_ASSERT(i * fail < up);
            CU_ASSERT_EQUAL(al.n, 0);
        }
    }
    CU_ASSERT(4 * fail >= up);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_EQUAL(al.a[0].family, SCAND_FAM_TRW);
    CU_ASSERT_EQUAL(al.a[0].count, 4);
    CU_ASSERT_EQUAL(al.a[0].n_targets, 4);
    /* a decided scanner raises no second alert */
    observe(w, &al, T0 + 10, "10.0.0.9", "10.0.1.99", 1);
    CU_ASSERT_EQUAL(al.n, 1);
    /* successes: down ln 4 a step; the 4th crosses ln(0.0101): benign, and
     * the walk starts over at 0 */
    addr("10.0.0.8", src);
    for (int i = 1; i <= 4; i++) {
        snprintf(dst, sizeof dst, "10.0.2.%d", i);
        observe(w, &al, T0 + 100 + i, "10.0.0.8", dst, 0);
        if (i < 4)
            CU_ASSERT_DOUBLE_EQUAL(scandint_trw_llr(w, src), -i * fail, 1e-12);
    }
    CU_ASSERT_DOUBLE_EQUAL(scandint_trw_llr(w, src), 0, 1e-12);
    CU_ASSERT_EQUAL(al.n, 1);
    /* mixed: failure, success, failure -> ln 4 - ln 4 + ln 4 */
    addr("10.0.0.7", src);
    observe(w, &al, T0 + 200, "10.0.0.7", "10.0.3.1", 1);
    observe(w, &al, T0 + 201, "10.0.0.7", "10.0.3.2", 0);
    observe(w, &al, T0 + 202, "10.0.0.7", "10.0.3.3", 1);
    CU_ASSERT_DOUBLE_EQUAL(scandint_trw_llr(w, src), fail, 1e-12);
    /* repeated contacts to the same destination count once */
    for (int k = 0; k < 5; k++)
        observe(w, &al, T0 + 300 + k, "10.0.0.7", "10.0.3.3", 1);
    CU_ASSERT_DOUBLE_EQUAL(scandint_trw_llr(w, src), fail, 1e-12);
    free(al.a);
    scandint_trw_free(w);
}

/* Through scand_feed: a T0-paced scan (one probe every 5 minutes, far
 * below any window rule) is caught after four failed first contacts. */
static void test_trw_int_slow_scan_through_the_detector(void)
{
    scand_ctx *ctx = scand_new(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    CU_ASSERT_EQUAL(scand_set_config(ctx, "walk.family", "trw"), SCAND_OK);
    CU_ASSERT_EQUAL(scand_set_config(ctx, "walk.theta1", "0.9"), SCAND_ERR_INVAL);
    struct alerts al;
    memset(&al, 0, sizeof al);
    scand_set_alert_cb(ctx, alerts_collect, &al);
    CU_ASSERT_EQUAL_FATAL(scand_finalize(ctx), SCAND_OK);
    for (int i = 0; i < 6; i++) {
        char dst[32];
        snprintf(dst, sizeof dst, "10.0.1.%d", i + 1);
        struct scand_tuple d = mk_tuple(T0 + i * 300000LL, "10.0.0.1", dst, 50000, 3389, 6,
                                        SCAND_ST_D);
        CU_ASSERT_EQUAL(scand_feed(ctx, &d, 1), SCAND_OK);
    }
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_STRING_EQUAL(al.a[0].rule, "walk");
    CU_ASSERT_EQUAL(al.a[0].window_end_ms, T0 + 3 * 300000LL + 1); /* at the 4th failure */
    detect_free(ctx, &al);
}

/* Alert a's targets are exactly want[0..n), in that order. */
static void targets_are(const struct scand_alert *a, const char *const *want, unsigned n)
{
    CU_ASSERT_EQUAL_FATAL(a->n_targets, n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t x[16];
        addr(want[i], x);
        CU_ASSERT_EQUAL(memcmp(a->targets[i], x, 16), 0);
    }
}

/* A scanner's target samples come in contact order, whatever the seed of
 * the contact table's hash (the table's order). */
static void test_trw_int_targets_in_contact_order(void)
{
    for (uint64_t seed = 1; seed <= 77; seed += 76) {
        struct scandint_rule_cfg c;
        struct alerts al;
        struct scandint_trw *w = walk_new(&c, seed, &al);
        static const char *const dst[4] = {"10.0.1.9", "10.0.1.3", "10.0.1.200", "10.0.1.1"};
        for (int i = 0; i < 4; i++)
            observe(w, &al, T0 + i, "10.0.0.9", dst[i], 1);
        CU_ASSERT_EQUAL_FATAL(al.n, 1);
        targets_are(&al.a[0], dst, 4);
        free(al.a);
        scandint_trw_free(w);
    }
}

/* A long walk: three successes, a repeated contact, seven failures. The
 * verdict comes at the tenth first contact; the targets are the walk's
 * first eight first contacts, in the order observed, the repeat once. */
static void test_trw_int_targets_of_a_long_walk(void)
{
    struct scandint_rule_cfg c;
    struct alerts al;
    struct scandint_trw *w = walk_new(&c, 1, &al);
    char dst[10][16];
    for (int i = 0; i < 10; i++)
        snprintf(dst[i], sizeof dst[i], "10.0.2.%d", 50 - i);
    int64_t ts = T0;
    for (int i = 0; i < 3; i++)
        observe(w, &al, ts++, "10.0.0.7", dst[i], 0);
    observe(w, &al, ts++, "10.0.0.7", dst[0], 1); /* not a first contact */
    for (int i = 3; i < 10; i++) {
        CU_ASSERT_EQUAL(al.n, 0);
        observe(w, &al, ts++, "10.0.0.7", dst[i], 1);
    }
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_EQUAL(al.a[0].hosts, 10);
    CU_ASSERT_EQUAL(al.a[0].count, 7);
    const char *want[8];
    for (int i = 0; i < 8; i++)
        want[i] = dst[i];
    targets_are(&al.a[0], want, 8);
    free(al.a);
    scandint_trw_free(w);
}

/* A pair forgotten after `idle` is a first contact again, while the
 * source's walk goes on: it counts again, but the targets stay distinct. */
static void test_trw_int_targets_distinct_after_idle(void)
{
    struct scandint_rule_cfg c;
    struct alerts al;
    struct scandint_trw *w = walk_new(&c, 1, &al);
    static const int64_t min[4] = {0, 30, 61, 62};
    static const char *const dst[4] = {"10.0.1.1", "10.0.1.2", "10.0.1.1", "10.0.1.3"};
    for (int i = 0; i < 4; i++)
        observe(w, &al, T0 + min[i] * 60000, "10.0.0.9", dst[i], 1);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_EQUAL(al.a[0].hosts, 4);
    const char *const want[3] = {dst[0], dst[1], dst[3]};
    targets_are(&al.a[0], want, 3);
    free(al.a);
    scandint_trw_free(w);
}

int test_trw_int_register(void)
{
    CU_pSuite s = CU_add_suite("trw_int", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
    if (CU_add_test(s, "test_trw_int_walk_matches_closed_form",
                    test_trw_int_walk_matches_closed_form) == NULL ||
        CU_add_test(s, "test_trw_int_targets_in_contact_order",
                    test_trw_int_targets_in_contact_order) == NULL ||
        CU_add_test(s, "test_trw_int_targets_of_a_long_walk",
                    test_trw_int_targets_of_a_long_walk) == NULL ||
        CU_add_test(s, "test_trw_int_targets_distinct_after_idle",
                    test_trw_int_targets_distinct_after_idle) == NULL ||
        CU_add_test(s, "test_trw_int_slow_scan_through_the_detector",
                    test_trw_int_slow_scan_through_the_detector) == NULL)
        return CU_get_error();
    return CUE_SUCCESS;
}
