/*
 * test_writer.c - the VNet v4 blob writer: a seeded write-then-read round
 * trip that must give back every tuple field by field, the block layout
 * Azure uses (head, one block per record, each after the first led by a
 * comma, tail), one record per minute timed at the minute's end, byte-exact
 * determinism, the INVAL and IO failures, blob paths (including a hostile
 * resource id) and record-time text both ways.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests.h"

#define MINUTE 60000
#define HOUR 3600000
#define H20 1786651200000LL /* 2026-08-13T20:00:00Z */

static const struct scand_blob_meta meta = {
    "0022486DBA37",
    "1ea85f4d-b35c-4a7b-b925-29bdc9bd40ba",
    "/SUBSCRIPTIONS/71D310BF-1718-4D11-87D1-99A7D4E2053F/RESOURCEGROUPS/NETWORKWATCHERRG/"
    "PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_CANADAEAST/FLOWLOGS/"
    "SHOPSTREAM-VNET-FLOWLOG-2236587",
    "/subscriptions/71d310bf-1718-4d11-87d1-99a7d4e2053f/resourceGroups/Student-RG-2236587/"
    "providers/Microsoft.Network/virtualNetworks/ShopStream-VNet",
};

/* Groups with hostile strings: quotes, backslashes, a control byte, UTF-8. */
static const char *const group_acl[] = {"acl \"one\"", "C:\\acl\\two", "00000000-0000",
                                        "acl \"one\""};
static const char *const group_rule[] = {"rule\\\"x\"", "tab\there", "PlatformRule", "r\xc3\xa9"};
#define N_GROUPS 4

/* Random tuples of one NIC in a 3-hour span, strictly increasing ts. */
static struct scand_tuple *random_tuples(uint64_t seed, size_t n, scand_strtab *st,
                                         uint32_t *groups, uint32_t *mac)
{
    CU_ASSERT_EQUAL_FATAL(scand_strtab_intern(st, meta.mac, strlen(meta.mac), mac), SCAND_OK);
    for (int g = 0; g < N_GROUPS; g++)
        CU_ASSERT_EQUAL_FATAL(scand_group_intern(st, group_acl[g], strlen(group_acl[g]),
                                                 group_rule[g], strlen(group_rule[g]), &groups[g]),
                              SCAND_OK);
    struct scand_tuple *t = calloc(n, sizeof *t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    uint64_t s = seed;
    int64_t ts = H20 - 7 * MINUTE + (int64_t)rng_below(&s, MINUTE);
    for (size_t i = 0; i < n; i++) {
        struct scand_tuple *x = &t[i];
        /* Steps of up to ~50 s, sometimes exactly onto a minute boundary. */
        ts += 1 + (int64_t)rng_below(&s, 50000);
        if (rng_below(&s, 16) == 0)
            ts = (ts / MINUTE + 1) * MINUTE;
        x->ts_ms = ts;
        int v6 = rng_below(&s, 3) == 0;
        for (int k = 0; k < 16; k++) {
            x->src[k] = (uint8_t)rng_next(&s);
            x->dst[k] = (uint8_t)rng_next(&s);
        }
        if (v6) {
            x->src[0] = 0xfd; /* never IPv4-mapped */
            x->dst[0] = 0x20;
            x->flags |= SCAND_TF_V6;
        } else {
            memset(x->src, 0, 10);
            memset(x->dst, 0, 10);
            x->src[10] = x->src[11] = x->dst[10] = x->dst[11] = 0xff;
        }
        x->sport = (uint16_t)rng_next(&s);
        x->dport = (uint16_t)rng_next(&s);
        x->proto = (uint8_t)rng_next(&s);
        x->dir = (uint8_t)(SCAND_DIR_IN + rng_below(&s, 2));
        x->state = (uint8_t)(SCAND_ST_B + rng_below(&s, 4));
        x->enc = (uint8_t)(1 + rng_below(&s, SCAND_ENC_COUNT - 1));
        if (rng_below(&s, 4) == 0) {
            x->flags |= SCAND_TF_NOCOUNT;
        } else {
            int big = rng_below(&s, 8) == 0;
            x->pkts_s2d = big ? rng_next(&s) : rng_below(&s, 1000);
            x->bytes_s2d = big ? rng_next(&s) : rng_below(&s, 1000000);
            x->pkts_d2s = big ? UINT64_MAX : rng_below(&s, 1000);
            x->bytes_d2s = rng_below(&s, 3) == 0 ? 0 : rng_next(&s);
        }
        x->mac = *mac;
        x->group = groups[rng_below(&s, N_GROUPS)];
    }
    return t;
}

static void test_writer_round_trip_random_tuples(void)
{
    for (uint64_t seed = 1; seed <= 8; seed++) {
        size_t n = 50 + (size_t)(seed * 97 % 400);
        scand_strtab *st = scand_strtab_new();
        CU_ASSERT_PTR_NOT_NULL_FATAL(st);
        uint32_t groups[N_GROUPS], mac;
        struct scand_tuple *t = random_tuples(seed * 0x9e3779b97f4a7c15ULL, n, st, groups, &mac);
        struct mem_out out;
        mem_out_init(&out);
        CU_ASSERT_EQUAL_FATAL(scand_blob_write(&meta, t, n, st, mem_write, &out), SCAND_OK);
        /* Read back into a fresh table: strings must survive escaping. */
        scand_strtab *st2 = scand_strtab_new();
        CU_ASSERT_PTR_NOT_NULL_FATAL(st2);
        struct read_result rr;
        CU_ASSERT_EQUAL_FATAL(
            read_all(out.p, out.len, seed & 1 ? CHUNK_SMALL : CHUNK_LARGE, st2, &rr), 0);
        CU_ASSERT_EQUAL(rr.rc, 0);
        CU_ASSERT_EQUAL(rr.diag.n, 0);
        CU_ASSERT_EQUAL(rr.stats.tuples_skipped, 0);
        CU_ASSERT_EQUAL_FATAL(rr.n_tup, n);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) {
            const struct scand_tuple *a = &t[i], *b = &rr.tup[i];
            int same = a->ts_ms == b->ts_ms && memcmp(a->src, b->src, 16) == 0 &&
                       memcmp(a->dst, b->dst, 16) == 0 && a->pkts_s2d == b->pkts_s2d &&
                       a->bytes_s2d == b->bytes_s2d && a->pkts_d2s == b->pkts_d2s &&
                       a->bytes_d2s == b->bytes_d2s && a->sport == b->sport &&
                       a->dport == b->dport && a->proto == b->proto && a->dir == b->dir &&
                       a->state == b->state && a->enc == b->enc && a->flags == b->flags &&
                       b->campaign == 0;
            const char *a1, *r1, *a2, *r2;
            same = same && scand_group_split(st, a->group, &a1, &r1) == SCAND_OK &&
                   scand_group_split(st2, b->group, &a2, &r2) == SCAND_OK && strcmp(a1, a2) == 0 &&
                   strcmp(r1, r2) == 0 &&
                   strcmp(scand_strtab_get(st2, b->mac, NULL), meta.mac) == 0;
            if (!same && bad++ < 3) {
                char x[200], y[200];
                scand_tuple_format(a, x, sizeof x);
                scand_tuple_format(b, y, sizeof y);
                fprintf(stderr, "\n  seed %llu tuple %zu:\n   in  %s\n   out %s\n",
                        (unsigned long long)seed, i, x, y);
            }
        }
        CU_ASSERT_EQUAL(bad, 0);
        /* One record per minute, timed at the end of that minute. */
        size_t minutes = 0;
        for (size_t i = 0; i < n; i++)
            minutes += i == 0 || t[i].ts_ms / MINUTE != t[i - 1].ts_ms / MINUTE;
        CU_ASSERT_EQUAL(rr.n_rec, minutes);
        size_t k = 0;
        for (size_t r = 0; r < rr.n_rec && k < n; r++) {
            CU_ASSERT(rr.rec_ntup[r] > 0);
            for (size_t j = 0; j < rr.rec_ntup[r] && k < n; j++, k++)
                CU_ASSERT_EQUAL(rr.rec_time[r], (t[k].ts_ms / MINUTE + 1) * MINUTE);
            CU_ASSERT_EQUAL(rr.rec_fmt[r], SCAND_FMT_VNET4);
        }
        read_result_fini(&rr);
        scand_strtab_free(st2);
        mem_out_fini(&out);
        free(t);
        scand_strtab_free(st);
    }
}

static void test_writer_block_layout_and_determinism(void)
{
    scand_strtab *st = scand_strtab_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    uint32_t groups[N_GROUPS], mac;
    size_t n = 300;
    struct scand_tuple *t = random_tuples(77, n, st, groups, &mac);
    struct mem_out a, b;
    mem_out_init(&a);
    mem_out_init(&b);
    CU_ASSERT_EQUAL_FATAL(scand_blob_write(&meta, t, n, st, mem_write, &a), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(scand_blob_write(&meta, t, n, st, mem_write, &b), SCAND_OK);
    CU_ASSERT_EQUAL(a.len, b.len);
    CU_ASSERT(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
    CU_ASSERT(strncmp(a.p, "{\"records\":[{\"time\":\"", 21) == 0);
    CU_ASSERT(a.len > 3 && strcmp(a.p + a.len - 3, "}]}") == 0);
    /* Calls: head, one per record (each after the first starts with ','), tail. */
    CU_ASSERT_FATAL(a.n_calls >= 3 && a.n_calls < MEM_OUT_MAX_CALLS);
    CU_ASSERT_EQUAL(a.call_off[1], 12);
    CU_ASSERT_EQUAL(a.p[a.call_off[1]], '{');
    for (size_t c = 2; c + 1 < a.n_calls; c++)
        CU_ASSERT(strncmp(a.p + a.call_off[c], ",{\"time\":\"", 10) == 0);
    CU_ASSERT_EQUAL(a.call_off[a.n_calls - 1], a.len - 2);
    /* No tuples: just the head and the tail. */
    struct mem_out e;
    mem_out_init(&e);
    CU_ASSERT_EQUAL(scand_blob_write(&meta, t, 0, st, mem_write, &e), SCAND_OK);
    CU_ASSERT_STRING_EQUAL(e.p, "{\"records\":[]}");
    mem_out_fini(&e);
    mem_out_fini(&a);
    mem_out_fini(&b);
    free(t);
    scand_strtab_free(st);
}

static void test_writer_exact_record_text(void)
{
    scand_strtab *st = scand_strtab_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    uint32_t g1, g2, g3, mac;
    CU_ASSERT_EQUAL_FATAL(scand_strtab_intern(st, meta.mac, 12, &mac), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(scand_group_intern(st, "a", 1, "r1", 2, &g1), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(scand_group_intern(st, "b\"", 2, "r2", 2, &g2), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(scand_group_intern(st, "a", 1, "r3", 2, &g3), SCAND_OK);
    struct scand_tuple t[3];
    t[0] = mk_tuple(H20 + 1000, "10.0.0.1", "10.0.0.2", 1, 80, 6, SCAND_ST_B);
    t[1] = mk_tuple(H20 + 2000, "10.0.0.1", "10.0.0.3", 2, 81, 6, SCAND_ST_D);
    t[2] = mk_tuple(H20 + 3000, "10.0.0.1", "10.0.0.4", 3, 82, 17, SCAND_ST_E);
    t[0].group = g2;
    t[1].group = g1;
    t[2].group = g3;
    t[2].flags = 0;
    t[2].pkts_s2d = 1;
    t[2].bytes_d2s = 2;
    struct mem_out o;
    mem_out_init(&o);
    struct scand_blob_meta m = meta;
    m.flow_log_guid = "g\\uid";
    m.flow_log_resource = "/R";
    m.target_resource = "/T";
    CU_ASSERT_EQUAL_FATAL(scand_blob_write(&m, t, 3, st, mem_write, &o), SCAND_OK);
    /* Flows by aclID in order of first use (b" first), groups by rule. */
    CU_ASSERT_STRING_EQUAL(
        o.p, "{\"records\":[{\"time\":\"2026-08-13T20:01:00.0000000Z\",\"flowLogVersion\":4,"
             "\"flowLogGUID\":\"g\\\\uid\",\"macAddress\":\"0022486DBA37\",\"category\":"
             "\"FlowLogFlowEvent\",\"flowLogResourceID\":\"/R\",\"targetResourceID\":\"/T\","
             "\"operationName\":\"FlowLogFlowEvent\",\"flowRecords\":{\"flows\":["
             "{\"aclID\":\"b\\\"\",\"flowGroups\":[{\"rule\":\"r2\",\"flowTuples\":["
             "\"1786651201000,10.0.0.1,10.0.0.2,1,80,6,O,B,NX,,,,\"]}]},"
             "{\"aclID\":\"a\",\"flowGroups\":[{\"rule\":\"r1\",\"flowTuples\":["
             "\"1786651202000,10.0.0.1,10.0.0.3,2,81,6,O,D,NX,,,,\"]},{\"rule\":\"r3\","
             "\"flowTuples\":[\"1786651203000,10.0.0.1,10.0.0.4,3,82,17,O,E,NX,1,0,0,2\"]}]}]}}]}");
    mem_out_fini(&o);
    scand_strtab_free(st);
}

/* Every valid tuple can be written: the longest text (IPv6, all counters
 * at UINT64_MAX, the longest encryption name) round trips. */
static void test_writer_longest_tuple_round_trips(void)
{
    const char *longest = "1786651201000,ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe,"
                          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,65535,65535,255,I,E,"
                          "NX_HW_NOT_SUPPORTED,18446744073709551615,18446744073709551615,"
                          "18446744073709551615,18446744073709551615";
    scand_strtab *st = scand_strtab_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    struct scand_tuple t;
    memset(&t, 0, sizeof t);
    char why[96];
    CU_ASSERT_EQUAL_FATAL(
        scand_tuple_parse(longest, strlen(longest), SCAND_FMT_VNET4, &t, why, sizeof why),
        SCAND_OK);
    /* Read back into the same table: mac and group get the same indices. */
    CU_ASSERT_EQUAL_FATAL(scand_strtab_intern(st, meta.mac, 12, &t.mac), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(scand_group_intern(st, "a", 1, "r", 1, &t.group), SCAND_OK);
    struct mem_out o;
    mem_out_init(&o);
    CU_ASSERT_EQUAL(scand_blob_write(&meta, &t, 1, st, mem_write, &o), SCAND_OK);
    CU_ASSERT(has_sub(o.p, longest));
    struct read_result rr;
    CU_ASSERT_EQUAL_FATAL(read_all(o.p, o.len, CHUNK_SMALL, st, &rr), 0);
    CU_ASSERT_EQUAL(rr.n_tup, 1);
    if (rr.n_tup == 1)
        CU_ASSERT(memcmp(&rr.tup[0], &t, sizeof t) == 0);
    read_result_fini(&rr);
    mem_out_fini(&o);
    scand_strtab_free(st);
}

static void test_writer_rejects_unsorted_input(void)
{
    scand_strtab *st = scand_strtab_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    struct scand_tuple t[3];
    t[0] = mk_tuple(H20 + 1000, "10.0.0.1", "10.0.0.2", 1, 80, 6, SCAND_ST_B);
    t[1] = mk_tuple(H20 + 3000, "10.0.0.1", "10.0.0.2", 1, 80, 6, SCAND_ST_B);
    t[2] = mk_tuple(H20 + 2999, "10.0.0.1", "10.0.0.2", 1, 80, 6, SCAND_ST_B);
    struct mem_out o;
    mem_out_init(&o);
    CU_ASSERT_EQUAL(scand_blob_write(&meta, t, 3, st, mem_write, &o), SCAND_ERR_INVAL);
    CU_ASSERT_EQUAL(o.len, 0); /* nothing written */
    /* Equal times are sorted. */
    t[2].ts_ms = t[1].ts_ms;
    CU_ASSERT_EQUAL(scand_blob_write(&meta, t, 3, st, mem_write, &o), SCAND_OK);
    mem_out_fini(&o);
    scand_strtab_free(st);
}

static void test_writer_write_failure_is_io(void)
{
    scand_strtab *st = scand_strtab_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    uint32_t groups[N_GROUPS], mac;
    size_t n = 120;
    struct scand_tuple *t = random_tuples(5, n, st, groups, &mac);
    struct mem_out o;
    mem_out_init(&o);
    CU_ASSERT_EQUAL_FATAL(scand_blob_write(&meta, t, n, st, mem_write, &o), SCAND_OK);
    size_t calls = o.n_calls;
    mem_out_fini(&o);
    CU_ASSERT(calls > 3);
    for (size_t k = 0; k < calls; k++) {
        mem_out_init(&o);
        o.fail_call = (long)k;
        CU_ASSERT_EQUAL(scand_blob_write(&meta, t, n, st, mem_write, &o), SCAND_ERR_IO);
        CU_ASSERT_EQUAL(o.n_calls, k + 1); /* stops at the failure */
        mem_out_fini(&o);
    }
    free(t);
    scand_strtab_free(st);
}

static void test_writer_blob_path_and_hour(void)
{
    char buf[1024];
    size_t n = scand_blob_path(&meta, H20, buf, sizeof buf);
    const char *want =
        "insights-logs-flowlogflowevent/flowLogResourceID=/SUBSCRIPTIONS/"
        "71D310BF-1718-4D11-87D1-99A7D4E2053F/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/"
        "MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_CANADAEAST/FLOWLOGS/"
        "SHOPSTREAM-VNET-FLOWLOG-2236587/y=2026/m=08/d=13/h=20/m=00/macAddress=0022486DBA37/"
        "PT1H.json";
    CU_ASSERT_STRING_EQUAL(buf, want);
    CU_ASSERT_EQUAL(n, strlen(want));
    char small[10];
    CU_ASSERT_EQUAL(scand_blob_path(&meta, H20, small, sizeof small), strlen(want));
    CU_ASSERT_EQUAL(small[9], '\0');
    /* A tuple belongs to the hour of its record time (end of its minute). */
    CU_ASSERT_EQUAL(scand_blob_hour(H20), H20);
    CU_ASSERT_EQUAL(scand_blob_hour(H20 + 58 * MINUTE + 59999), H20);
    CU_ASSERT_EQUAL(scand_blob_hour(H20 + 59 * MINUTE), H20 + HOUR);
    CU_ASSERT_EQUAL(scand_blob_hour(H20 - 1), H20);
    CU_ASSERT_EQUAL(scand_blob_hour(H20 - MINUTE - 1), H20 - HOUR);
}

/* Return 1 if path has a segment ".." (split on '/'). */
static int has_dotdot(const char *p)
{
    for (const char *s = p;;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return 1;
        if (e == NULL)
            return 0;
        s = e + 1;
    }
}

static void test_writer_hostile_resource_cannot_climb(void)
{
    static const char *const res[] = {
        "/x/../../etc", "..",    "../..",     "/a/..../b", "...",
        "/a/.%2e/b",    "a/../", "/..\\../x", "..\n..",    "/./../.",
    };
    static const char *const macs[] = {"../../x", "..", "a/../b", "0022486DBA37"};
    CU_ASSERT_EQUAL(has_dotdot("a/../b"), 1); /* the checker itself */
    CU_ASSERT_EQUAL(has_dotdot("a/.../b"), 0);
    for (size_t i = 0; i < sizeof res / sizeof res[0]; i++) {
        for (size_t j = 0; j < sizeof macs / sizeof macs[0]; j++) {
            struct scand_blob_meta m = meta;
            m.flow_log_resource = res[i];
            m.mac = macs[j];
            char buf[1024];
            scand_blob_path(&m, H20, buf, sizeof buf);
            CU_ASSERT_EQUAL(has_dotdot(buf), 0);
            CU_ASSERT_PTR_NULL(strchr(buf, '\n'));
            CU_ASSERT_PTR_NULL(strchr(buf, '\\'));
            CU_ASSERT(strncmp(buf, "insights-logs-flowlogflowevent/flowLogResourceID=", 49) == 0);
            CU_ASSERT(has_sub(buf, "/y=2026/m=08/d=13/h=20/m=00/macAddress="));
            /* The MAC is one segment: no '/' after "macAddress=". */
            const char *mp = strstr(buf, "macAddress=");
            CU_ASSERT(mp != NULL && strchr(mp, '/') == strrchr(buf, '/'));
        }
    }
}

static void test_writer_time_format_and_parse_exact(void)
{
    static const struct {
        int64_t ms;
        const char *s;
    } cases[] = {
        {0, "1970-01-01T00:00:00.0000000Z"},
        {1786653142041, "2026-08-13T20:32:22.0410000Z"},
        {1709251199999, "2024-02-29T23:59:59.9990000Z"},
        {951782400000, "2000-02-29T00:00:00.0000000Z"},
        {-1, "1969-12-31T23:59:59.9990000Z"},
        {253402300799999, "9999-12-31T23:59:59.9990000Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        size_t n = scand_time_format(cases[i].ms, buf, sizeof buf);
        CU_ASSERT_STRING_EQUAL(buf, cases[i].s);
        CU_ASSERT_EQUAL(n, 28);
        int64_t back = 42; /* scand_time_parse() inverts it */
        CU_ASSERT_EQUAL(scand_time_parse(buf, &back), SCAND_OK);
        CU_ASSERT_EQUAL(back, cases[i].ms);
    }
    static const char *const bad[] = {
        "",
        "2026-08-13T20:32:22",
        "2026-08-13T20:32:22.Z",
        "2026-08-13T20:32:22.0419499",
        "2026-08-13T20:32:22.0419499Zx",
        "2026-08-13T20:32:22.1234567890Z",
        "2023-02-29T00:00:00Z",
        "2026-00-13T20:32:22Z",
        "2026-08-32T20:32:22Z",
        "2026-08-13T24:00:00Z",
        "2026-08-13T20:60:00Z",
        "2026-08-13T20:32:61Z",
        "2026/08/13T20:32:22Z",
        "2026-08-13T20:32:22+00:00",
        "+026-08-13T20:32:22Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 42;
        CU_ASSERT_EQUAL(scand_time_parse(bad[i], &ms), SCAND_ERR_INVAL);
        CU_ASSERT_EQUAL(ms, 42); /* untouched */
    }
}

int test_writer_register(void)
{
    CU_pSuite s = CU_add_suite("writer", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
#define ADD(f)                                                                                     \
    if (CU_add_test(s, #f, f) == NULL)                                                             \
        return CU_get_error();
    ADD(test_writer_round_trip_random_tuples)
    ADD(test_writer_block_layout_and_determinism)
    ADD(test_writer_exact_record_text)
    ADD(test_writer_longest_tuple_round_trips)
    ADD(test_writer_rejects_unsorted_input)
    ADD(test_writer_write_failure_is_io)
    ADD(test_writer_blob_path_and_hour)
    ADD(test_writer_hostile_resource_cannot_climb)
    ADD(test_writer_time_format_and_parse_exact)
#undef ADD
    return CUE_SUCCESS;
}
