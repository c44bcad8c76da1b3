/*
 * test_feeder.c - the detector thread of cli/feeder.c: a run through the
 * feeder gives exactly the alerts of direct scand_feed() calls, whatever the
 * push sizes (one tuple, a record's worth, more than a chunk), and a
 * detector that fails mid-run stops the pushes and reports its error after
 * the join.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "cli.h"
#include "tests.h"

#define T0 1786653000000LL
#define N_TUPLES 120000

/* A stream with scans in it: 200 clients talking to 50 servers, and every
 * 97th source sweeping 40 hosts, B and E tuples, about 25 per second. */
static struct scand_tuple *stream(size_t n)
{
    struct scand_tuple *v = calloc(n, sizeof *v);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    uint64_t s = 0x5eedfeedULL;
    for (size_t i = 0; i < n; i++) {
        char src[32], dst[32];
        uint64_t c = rng_below(&s, 200);
        int scan = c % 97 == 0;
        snprintf(src, sizeof src, "10.1.0.%u", (unsigned)c + 1);
        snprintf(dst, sizeof dst, "10.2.%u.%u", (unsigned)(i / 200 % 200),
                 (unsigned)(scan ? 1 + i % 40 : 1 + rng_below(&s, 50)));
        uint16_t dport = scan ? 22 : (uint16_t)(rng_below(&s, 4) ? 443 : 1433);
        v[i] = mk_tuple(T0 + (int64_t)i * 40, src, dst, (uint16_t)(40000 + i % 20000), dport, 6,
                        (i & 1) ? SCAND_ST_E : SCAND_ST_B);
        if (v[i].state == SCAND_ST_E) {
            v[i].flags &= (uint8_t)~SCAND_TF_NOCOUNT;
            v[i].pkts_s2d = 1;
            v[i].bytes_s2d = 60;
            v[i].pkts_d2s = scan ? 0 : 3;
            v[i].bytes_d2s = scan ? 0 : 900;
        }
    }
    return v;
}

static const char *const kv[] = {
    "slow.family",      "horizontal", "slow.threshold", "10",  "slow.window", "5m",
    "slow.window_kind", "sliding",    "w.family",       "trw", NULL};

static void same_alerts(const struct alerts *a, const struct alerts *b)
{
    CU_ASSERT_EQUAL_FATAL(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct scand_alert *x = &a->a[i], *y = &b->a[i];
        CU_ASSERT_STRING_EQUAL(x->rule, y->rule);
        CU_ASSERT(memcmp(x->src, y->src, 16) == 0 && memcmp(x->dst, y->dst, 16) == 0);
        CU_ASSERT(x->port == y->port && x->count == y->count && x->flows == y->flows);
        CU_ASSERT(x->window_start_ms == y->window_start_ms && x->reached_ms == y->reached_ms);
    }
}

static void test_feeder_same_alerts(void)
{
    struct scand_tuple *v = stream(N_TUPLES);
    struct alerts direct, fed;
    scand_ctx *a = detect_new(&direct, kv);
    CU_ASSERT_EQUAL(scand_feed(a, v, N_TUPLES), SCAND_OK);
    CU_ASSERT_EQUAL(scand_flush(a), SCAND_OK);
    /* the stream's scans trip both rules of kv, so both must agree below */
    CU_ASSERT(alerts_count_rule(&direct, "slow") > 0);
    CU_ASSERT(alerts_count_rule(&direct, "w") > 0);

    static const size_t steps[] = {1, 7, 500, 16384, 40000};
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        scand_ctx *b = detect_new(&fed, kv);
        struct feeder *f = feeder_new(b, 1);
        for (size_t i = 0; i < N_TUPLES; i += steps[k]) {
            size_t m = N_TUPLES - i < steps[k] ? N_TUPLES - i : steps[k];
            CU_ASSERT_EQUAL_FATAL(feeder_push(f, v + i, m), 0);
        }
        CU_ASSERT_EQUAL(feeder_finish(f), 0);
        CU_ASSERT_EQUAL(scand_flush(b), SCAND_OK);
        same_alerts(&direct, &fed);
        struct scand_stats sa, sb;
        scand_stats(a, &sa);
        scand_stats(b, &sb);
        CU_ASSERT(sa.tuples == sb.tuples && sa.starts == sb.starts && sa.used == sb.used);
        detect_free(b, &fed);
    }
    detect_free(a, &direct);
    free(v);
}

static void detector_fails(int thread)
{
    struct scand_tuple *v = stream(N_TUPLES);
    struct alerts al;
    scand_ctx *ctx = detect_new(&al, kv);
    al.stop_at = 1; /* the first alert stops the run: scand_feed fails */
    struct feeder *f = feeder_new(ctx, thread);
    int pushed_rc = 0;
    for (size_t i = 0; i < N_TUPLES && pushed_rc == 0; i += 1000)
        pushed_rc = feeder_push(f, v + i, 1000);
    int rc = feeder_finish(f);
    CU_ASSERT_EQUAL(rc, -1);
    CU_ASSERT(has_sub(scand_geterr(ctx), "stopped"));
    CU_ASSERT_EQUAL(al.n, 1);
    /* the context stays failed: more input is refused, not half-counted */
    CU_ASSERT_EQUAL(scand_feed(ctx, v, 1), SCAND_ERR_STATE);
    detect_free(ctx, &al);
    free(v);
}

static void test_feeder_detector_fails(void)
{
    detector_fails(1);
}

/* One CPU: no thread, and the failure still reaches feeder_finish(). */
static void test_feeder_direct_fails(void)
{
    detector_fails(0);
}

int test_feeder_register(void)
{
    CU_pSuite s = CU_add_suite("feeder", NULL, NULL);
    if (s == NULL || CU_add_test(s, "same_alerts", test_feeder_same_alerts) == NULL ||
        CU_add_test(s, "detector_fails", test_feeder_detector_fails) == NULL ||
        CU_add_test(s, "direct_fails", test_feeder_direct_fails) == NULL)
        return CU_get_error();
    return CUE_SUCCESS;
}
