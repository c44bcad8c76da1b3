/*
 * test_alloc.c - the alloc-failure suite [STYLE U4; ND fuzz_common_code.c]:
 * scand_set_allocator() hooks fail the k-th allocation (malloc or realloc)
 * for k = 1, 2, ... until a run completes without an injected failure.
 * Every run must either succeed with exactly the result of an unhooked run
 * or report SCAND_ERR_NOMEM / NULL; either way everything is freed (the
 * hooks count live blocks, and ASan checks too). The allocator is restored
 * with scand_set_allocator(NULL, NULL, NULL) after every run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests.h"

#define MAX_K 200000L

static long n_allocs; /* allocations (malloc and realloc) so far */
static long fail_at;  /* 1-based index of the one to fail; 0 = none */
static long injected; /* failures injected */
static long live;     /* blocks allocated and not yet freed */

static void *hook_malloc(size_t n)
{
    if (++n_allocs == fail_at) {
        injected++;
        return NULL;
    }
    void *p = malloc(n);
    live += p != NULL;
    return p;
}

static void *hook_realloc(void *p, size_t n)
{
    if (++n_allocs == fail_at) {
        injected++;
        return NULL;
    }
    void *q = realloc(p, n);
    live += q != NULL && p == NULL;
    return q;
}

static void hook_free(void *p)
{
    live -= p != NULL;
    free(p);
}

static void hooks_on(long k)
{
    n_allocs = 0;
    fail_at = k;
    injected = 0;
    live = 0;
    scand_set_allocator(hook_malloc, hook_realloc, hook_free);
}

static void hooks_off(void)
{
    scand_set_allocator(NULL, NULL, NULL);
}

static int suite_cleanup(void)
{
    hooks_off();
    return 0;
}

/* ------------------------------------------------------------ reader */

/* Read a whole sample under hooks failing allocation k. Returns 1 if it
 * completed with no failure injected, 0 otherwise. */
static int read_once(const char *buf, size_t len, long k, size_t want_rec, size_t want_tup)
{
    hooks_on(k);
    int outcome = SCAND_OK;
    size_t n_rec = 0, n_tup = 0;
    struct scand_reader_stats stats;
    memset(&stats, 0, sizeof stats);
    scand_strtab *st = scand_strtab_new();
    scand_reader *r = NULL;
    char errbuf[SCAND_ERRBUF_SIZE] = "";
    struct mem_in in;
    mem_in_init(&in, buf, len, CHUNK_LARGE);
    if (st == NULL) {
        outcome = SCAND_ERR_NOMEM;
    } else if ((r = scand_reader_new("alloc", mem_read, &in, st, errbuf)) == NULL) {
        outcome = SCAND_ERR_NOMEM;
        CU_ASSERT(has_sub(errbuf, "out of memory"));
    } else {
        struct scand_record rec;
        int rc;
        while ((rc = scand_reader_next(r, &rec)) == 1) {
            n_rec++;
            n_tup += rec.n_tuples;
        }
        outcome = rc;
        scand_reader_stats(r, &stats);
        if (rc == SCAND_ERR_NOMEM)
            CU_ASSERT(has_sub(scand_reader_geterr(r), "out of memory"));
    }
    scand_reader_free(r);
    scand_strtab_free(st);
    hooks_off();
    CU_ASSERT_EQUAL(live, 0); /* no leak, whatever happened */
    CU_ASSERT(outcome == SCAND_OK || outcome == SCAND_ERR_NOMEM);
    if (outcome == SCAND_OK) { /* success means the full, exact result */
        CU_ASSERT_EQUAL(n_rec, want_rec);
        CU_ASSERT_EQUAL(n_tup, want_tup);
        CU_ASSERT_EQUAL(stats.records_skipped, 0);
        CU_ASSERT_EQUAL(stats.tuples_skipped, 0);
    }
    if (outcome != SCAND_OK && outcome != SCAND_ERR_NOMEM)
        fprintf(stderr, "\n  k=%ld: reader returned %d (%s)\n", k, outcome,
                scand_strerror(outcome));
    else if (outcome == SCAND_OK && (n_rec != want_rec || stats.records_skipped != 0))
        fprintf(stderr, "\n  k=%ld: OOM turned into %llu skipped record(s)\n", k,
                (unsigned long long)stats.records_skipped);
    return injected == 0;
}

static void reader_loop(const char *name, size_t want_rec, size_t want_tup)
{
    size_t len = 0;
    char *buf = load_sample(name, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    long k;
    for (k = 1; k < MAX_K; k++)
        if (read_once(buf, len, k, want_rec, want_tup))
            break;
    CU_ASSERT(k > 10); /* the run did allocate */
    CU_ASSERT(k < MAX_K);
    free(buf);
}

static void test_alloc_reader_streamed_vnet_blob(void)
{
    reader_loop("vnet_v4_real_PT1H_chshin9.json", 5, 76);
}

static void test_alloc_reader_nsg_v1_blob(void)
{
    reader_loop("nsg_v1_real_msconnector_sampleJsonInput.json", 3, 38);
}

static void test_alloc_reader_bare_record(void)
{
    reader_loop("vnet_v4_msdocs_flowlogsread_record.json", 1, 10);
}

/* ------------------------------------------------------------ strtab */

static void test_alloc_strtab_failed_intern_changes_nothing(void)
{
    for (long k = 1; k < MAX_K; k++) {
        hooks_on(k);
        scand_strtab *st = scand_strtab_new();
        int done = 1;
        if (st != NULL) {
            for (int i = 0; i < 300; i++) {
                char s[32];
                int n = snprintf(s, sizeof s, "string-%d", i);
                uint32_t before = scand_strtab_count(st), idx = 0;
                int rc = scand_strtab_intern(st, s, (size_t)n, &idx);
                if (rc == SCAND_ERR_NOMEM) {
                    CU_ASSERT_EQUAL(scand_strtab_count(st), before);
                    /* Retry (the hook fails only once): the next index. */
                    CU_ASSERT_EQUAL(scand_strtab_intern(st, s, (size_t)n, &idx), SCAND_OK);
                }
                CU_ASSERT_EQUAL(idx, (uint32_t)i + 1);
            }
            CU_ASSERT_EQUAL(scand_strtab_count(st), 301);
            for (uint32_t i = 1; i <= 300; i++) {
                char s[32];
                snprintf(s, sizeof s, "string-%u", i - 1);
                const char *g = scand_strtab_get(st, i, NULL);
                CU_ASSERT(g != NULL && strcmp(g, s) == 0);
            }
        }
        scand_strtab_free(st);
        done = injected == 0;
        hooks_off();
        CU_ASSERT_EQUAL(live, 0);
        if (done)
            break;
    }
}

/* ------------------------------------------------------------ detector */

#define T0 1786653000000LL

/* 1200 flow starts in one minute (grows every table), 20 horizontal scans
 * (more alerts than the first alert array holds), then a later minute that
 * closes the first during the feed. Every tuple carries a campaign id, so
 * the keys' campaign array grows too. */
static struct scand_tuple *detector_input(size_t *n)
{
    size_t cap = 1400, k = 0;
    struct scand_tuple *t = calloc(cap, sizeof *t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    for (int s = 0; s < 200; s++)
        for (int d = 0; d < 6; d++) {
            char src[32], dst[32];
            snprintf(src, sizeof src, "10.0.%d.%d", s / 250, s % 250 + 1);
            snprintf(dst, sizeof dst, "10.1.%d.%d", d, s % 250 + 1);
            int scan = s < 20 ? 2 : 0; /* 20 sources reach 8 destinations */
            t[k] = mk_tuple(T0 + (s * 6 + d) * 40, src, dst, 40000, 80, 6, SCAND_ST_B);
            t[k++].campaign = (uint32_t)(s % 3 + 1);
            if (d == 5)
                for (int x = 0; x < scan; x++) {
                    snprintf(dst, sizeof dst, "10.2.%d.%d", x, s % 250 + 1);
                    t[k] =
                        mk_tuple(T0 + (s * 6 + d) * 40 + 1, src, dst, 40000, 80, 6, SCAND_ST_B);
                    t[k++].campaign = 9;
                }
        }
    for (int p = 0; p < 5; p++) /* a vertical scan six minutes on */
        t[k++] = mk_tuple(T0 + 6 * 60000 + p, "10.9.0.1", "10.9.0.2", 40000, (uint16_t)(20 + p), 6,
                          SCAND_ST_B);
    *n = k;
    return t;
}

/* Run the detector; return the outcome and the alerts (caller frees). */
static int detect_once(const struct scand_tuple *t, size_t n, struct alerts *al)
{
    memset(al, 0, sizeof *al);
    scand_ctx *ctx = scand_new(NULL);
    if (ctx == NULL)
        return SCAND_ERR_NOMEM;
    int rc = scand_set_config(ctx, "hash_seed", "12345");
    scand_set_alert_cb(ctx, alerts_collect, al);
    if (rc == SCAND_OK)
        rc = scand_finalize(ctx);
    if (rc == SCAND_OK)
        rc = scand_feed(ctx, t, n);
    if (rc == SCAND_OK)
        rc = scand_flush(ctx);
    if (rc == SCAND_ERR_NOMEM)
        CU_ASSERT(has_sub(scand_geterr(ctx), "out of memory"));
    scand_free(ctx);
    return rc;
}

static void test_alloc_detector_lifecycle(void)
{
    size_t n;
    struct scand_tuple *t = detector_input(&n);
    struct alerts want;
    CU_ASSERT_EQUAL_FATAL(detect_once(t, n, &want), SCAND_OK);
    CU_ASSERT_EQUAL(alerts_count_rule(&want, "horizontal"), 20);
    CU_ASSERT_EQUAL(alerts_count_rule(&want, "vertical"), 1);
    for (size_t i = 0; i < want.n; i++) /* a scan's own id and its source's */
        CU_ASSERT_EQUAL(want.a[i].n_campaigns, strcmp(want.a[i].rule, "horizontal") == 0 ? 2 : 0);
    long k;
    for (k = 1; k < MAX_K; k++) {
        hooks_on(k);
        struct alerts got;
        int rc = detect_once(t, n, &got);
        hooks_off();
        CU_ASSERT_EQUAL(live, 0);
        CU_ASSERT(rc == SCAND_OK || rc == SCAND_ERR_NOMEM);
        if (rc == SCAND_OK) {
            CU_ASSERT_EQUAL(got.n, want.n);
            CU_ASSERT(got.n == want.n && memcmp(got.a, want.a, got.n * sizeof *got.a) == 0);
        }
        free(got.a);
        if (injected == 0)
            break;
    }
    CU_ASSERT(k > 10);
    CU_ASSERT(k < MAX_K);
    free(want.a);
    free(t);
}

/* ------------------------------------------------------------ writer, dedup */

static void test_alloc_writer_and_dedup(void)
{
    size_t n;
    struct scand_tuple *t = detector_input(&n);
    scand_strtab *st = scand_strtab_new(); /* made with the C allocator */
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    struct scand_blob_meta meta = {"0022486DBA37", "guid", "/R", "/T"};
    struct mem_out want;
    mem_out_init(&want);
    CU_ASSERT_EQUAL_FATAL(scand_blob_write(&meta, t, n, st, mem_write, &want), SCAND_OK);
    long k;
    for (k = 1; k < MAX_K; k++) {
        hooks_on(k);
        struct mem_out got;
        mem_out_init(&got);
        int rc = scand_blob_write(&meta, t, n, st, mem_write, &got);
        /* Dedup over the same tuples: the second copy is all duplicates. */
        scand_dedup *d = scand_dedup_new(3600000, 9); /* remembers all */
        int drc = d == NULL ? SCAND_ERR_NOMEM : SCAND_OK;
        size_t dups = 0;
        for (int pass = 0; pass < 2 && drc == SCAND_OK; pass++)
            for (size_t i = 0; i < n && drc == SCAND_OK; i++) {
                int c = scand_dedup_check(d, &t[i]);
                if (c < 0)
                    drc = c;
                else
                    dups += (size_t)c;
            }
        scand_dedup_free(d);
        int clean = injected == 0;
        hooks_off();
        CU_ASSERT_EQUAL(live, 0);
        CU_ASSERT(rc == SCAND_OK || rc == SCAND_ERR_NOMEM);
        if (rc == SCAND_OK)
            CU_ASSERT(got.len == want.len && memcmp(got.p, want.p, got.len) == 0);
        CU_ASSERT(drc == SCAND_OK || drc == SCAND_ERR_NOMEM);
        if (drc == SCAND_OK)
            CU_ASSERT_EQUAL(dups, n);
        mem_out_fini(&got);
        if (clean)
            break;
    }
    CU_ASSERT(k > 2);
    CU_ASSERT(k < MAX_K);
    mem_out_fini(&want);
    scand_strtab_free(st);
    free(t);
}

int test_alloc_register(void)
{
    CU_pSuite s = CU_add_suite("alloc", NULL, suite_cleanup);
    if (s == NULL)
        return CU_get_error();
#define ADD(f)                                                                                     \
    if (CU_add_test(s, #f, f) == NULL)                                                             \
        return CU_get_error();
    ADD(test_alloc_reader_streamed_vnet_blob)
    ADD(test_alloc_reader_nsg_v1_blob)
    ADD(test_alloc_reader_bare_record)
    ADD(test_alloc_strtab_failed_intern_changes_nothing)
    ADD(test_alloc_detector_lifecycle)
    ADD(test_alloc_writer_and_dedup)
#undef ADD
    return CUE_SUCCESS;
}
