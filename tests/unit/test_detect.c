/*
 * test_detect.c - the detector context and its two seed rules on hand-built
 * tuples: the thresholds (6 destinations / 3 ports pass, 7 / 4 alert), the
 * alert fields, the tumbling-bin blind spot, each filter and its key, flow
 * starts (B, C-only, D retries), lateness, flushing, options, IPv6 ULA and
 * the lifecycle. Configuration keys are in test_config.c, the seeded
 * comparison with a naive reference in test_property.c.
 *
 * Tuples default to 10.x TCP B with destination port 80, times relative to
 * T0, a multiple of five minutes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests.h"

#define SEC 1000LL
#define MIN 60000LL
#define T0 1786653000000LL /* 2026-08-13T20:30:00Z */

static void feed(scand_ctx *ctx, struct scand_tuple t)
{
    CU_ASSERT_EQUAL(scand_feed(ctx, &t, 1), SCAND_OK);
}

/* A B tuple src -> 10.0.1.<host> at ts, TCP, sport 40000 + host. */
static struct scand_tuple to_host(int64_t ts, const char *src, int host, uint16_t dport)
{
    char d[32];
    snprintf(d, sizeof d, "10.0.1.%d", host);
    return mk_tuple(ts, src, d, (uint16_t)(40000 + host), dport, 6, SCAND_ST_B);
}

static int addr_is(const uint8_t a[16], const char *s)
{
    uint8_t b[16];
    addr(s, b);
    return memcmp(a, b, 16) == 0;
}

static void test_detect_horizontal_6_destinations_no_alert(void)
{
    struct alerts al;
    scand_ctx *ctx = detect_new(&al, NULL);
    for (int h = 1; h <= 6; h++)
        feed(ctx, to_host(T0 + h * SEC, "10.0.0.1", h, 80));
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(al.n, 0);
    struct scand_stats s;
    scand_stats(ctx, &s);
    CU_ASSERT_EQUAL(s.tuples, 6);
    CU_ASSERT_EQUAL(s.starts, 6);
    CU_ASSERT_EQUAL(s.used, 6);
    CU_ASSERT_EQUAL(s.alerts, 0);
    detect_free(ctx, &al);
}

static void test_detect_horizontal_7_destinations_one_alert(void)
{
    static const int order[7] = {7, 3, 5, 1, 6, 2, 4}; /* not address order */
    struct alerts al;
    scand_ctx *ctx = detect_new(&al, NULL);
    for (int i = 0; i < 7; i++)
        feed(ctx, to_host(T0 + (i + 1) * SEC, "10.0.0.1", order[i], 80));
    CU_ASSERT_EQUAL(al.n, 0); /* the bin is still open */
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    const struct scand_alert *a = &al.a[0];
    CU_ASSERT_STRING_EQUAL(a->rule, "horizontal");
    CU_ASSERT_EQUAL(a->family, SCAND_FAM_HORIZONTAL);
    CU_ASSERT_EQUAL(a->has_dst, 0);
    CU_ASSERT(addr_is(a->src, "10.0.0.1"));
    CU_ASSERT_EQUAL(a->window_start_ms, T0);
    CU_ASSERT_EQUAL(a->window_end_ms, T0 + MIN);
    CU_ASSERT_EQUAL(a->first_seen_ms, T0 + SEC);
    CU_ASSERT_EQUAL(a->last_seen_ms, T0 + 7 * SEC);
    CU_ASSERT_EQUAL(a->count, 7);
    CU_ASSERT_EQUAL(a->threshold, 6);
    CU_ASSERT_EQUAL(a->flows, 7);
    CU_ASSERT_EQUAL_FATAL(a->n_targets, 7);
    for (int i = 0; i < 7; i++) { /* by first seen */
        char d[32];
        snprintf(d, sizeof d, "10.0.1.%d", order[i]);
        CU_ASSERT(addr_is(a->targets[i], d));
    }
    CU_ASSERT_EQUAL(a->n_ports, 1);
    CU_ASSERT_EQUAL(a->ports[0], 80);
    struct scand_stats s;
    scand_stats(ctx, &s);
    CU_ASSERT_EQUAL(s.alerts, 1);
    CU_ASSERT(s.bins_closed >= 2);   /* one bin per rule */
    CU_ASSERT_EQUAL(s.peak_keys, 7); /* vertical: one key per destination */
    detect_free(ctx, &al);
    /* Destinations first seen at the same time are sampled by address. */
    ctx = detect_new(&al, NULL);
    for (int i = 0; i < 7; i++)
        feed(ctx, to_host(T0 + 5 * SEC, "10.0.0.1", order[i], 80));
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_EQUAL_FATAL(al.a[0].n_targets, 7);
    for (int i = 0; i < 7; i++) {
        char d[32];
        snprintf(d, sizeof d, "10.0.1.%d", i + 1);
        CU_ASSERT(addr_is(al.a[0].targets[i], d));
    }
    detect_free(ctx, &al);
}

static void test_detect_vertical_3_ports_no_alert_4_ports_alert(void)
{
    static const uint16_t ports[4] = {443, 22, 3389, 80};
    for (int n = 3; n <= 4; n++) {
        struct alerts al;
        scand_ctx *ctx = detect_new(&al, NULL);
        for (int i = 0; i < n; i++)
            feed(ctx, to_host(T0 + 10 * SEC + i * SEC, "10.0.0.1", 9, ports[i]));
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        CU_ASSERT_EQUAL(alerts_count_rule(&al, "horizontal"), 0);
        CU_ASSERT_EQUAL(al.n, (size_t)(n - 3));
        const struct scand_alert *a = alerts_find_rule(&al, "vertical");
        if (n == 4 && a != NULL) {
            CU_ASSERT_EQUAL(a->family, SCAND_FAM_VERTICAL);
            CU_ASSERT_EQUAL(a->has_dst, 1);
            CU_ASSERT(addr_is(a->src, "10.0.0.1"));
            CU_ASSERT(addr_is(a->dst, "10.0.1.9"));
            CU_ASSERT_EQUAL(a->n_targets, 1);
            CU_ASSERT(addr_is(a->targets[0], "10.0.1.9"));
            CU_ASSERT_EQUAL(a->count, 4);
            CU_ASSERT_EQUAL(a->threshold, 3);
            CU_ASSERT_EQUAL(a->flows, 4);
            CU_ASSERT_EQUAL(a->window_start_ms, T0);
            CU_ASSERT_EQUAL(a->window_end_ms, T0 + MIN);
            CU_ASSERT_EQUAL_FATAL(a->n_ports, 4);
            for (int i = 0; i < 4; i++)
                CU_ASSERT_EQUAL(a->ports[i], ports[i]);
        }
        detect_free(ctx, &al);
    }
}

/* The known blind spot of tumbling bins (KQL bin()): 4 + 3 destinations
 * either side of a minute boundary never reach 7 in one bin. */
static void test_detect_horizontal_split_over_minute_boundary_is_missed(void)
{
    static const int64_t at[7] = {MIN + 57 * SEC,       MIN + 58 * SEC, MIN + 59 * SEC,
                                  MIN + 59 * SEC + 500, 2 * MIN,        2 * MIN + SEC,
                                  2 * MIN + 2 * SEC};
    struct alerts al;
    scand_ctx *ctx = detect_new(&al, NULL);
    for (int i = 0; i < 7; i++)
        feed(ctx, to_host(T0 + at[i], "10.0.0.1", i + 1, 80));
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(al.n, 0);
    detect_free(ctx, &al);
    /* With 5-minute bins the same scan is one bin and alerts. */
    static const char *const kv[] = {"horizontal.window", "5m", NULL};
    ctx = detect_new(&al, kv);
    for (int i = 0; i < 7; i++)
        feed(ctx, to_host(T0 + at[i], "10.0.0.1", i + 1, 80));
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_EQUAL(al.a[0].window_start_ms, T0);
    CU_ASSERT_EQUAL(al.a[0].window_end_ms, T0 + 5 * MIN);
    CU_ASSERT_EQUAL(al.a[0].count, 7);
    detect_free(ctx, &al);
}

/* Feed 6 ordinary tuples src -> <prefix>1..6, then one to dst7 with
 * proto7/dport7; return the number of horizontal alerts. */
static size_t seven(const char *const *kv, const char *src, const char *prefix, const char *dst7,
                    uint8_t proto7, uint16_t dport7)
{
    struct alerts al;
    scand_ctx *ctx = detect_new(&al, kv);
    for (int h = 1; h <= 6; h++) {
        char d[64];
        snprintf(d, sizeof d, "%s%d", prefix, h);
        feed(ctx, mk_tuple(T0 + h * SEC, src, d, 40000, 80, 6, SCAND_ST_B));
    }
    feed(ctx, mk_tuple(T0 + 7 * SEC, src, dst7, 40000, dport7, proto7, SCAND_ST_B));
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    size_t n = alerts_count_rule(&al, "horizontal");
    detect_free(ctx, &al);
    return n;
}

#define P4 "10.0.1."

static void test_detect_filters_and_their_keys(void)
{
    static const char *const pub[] = {"horizontal.src", "any", "horizontal.dst", "any", NULL};
    static const char *const anyp[] = {"horizontal.proto", "0", NULL};
    static const char *const udp[] = {"horizontal.proto", "17", NULL};
    static const char *const allp[] = {"horizontal.ports", "*", NULL};
    CU_ASSERT_EQUAL(seven(NULL, "10.0.0.1", P4, "10.0.1.7", 6, 80), 1); /* baseline */
    CU_ASSERT_EQUAL(seven(NULL, "192.168.1.1", P4, "172.16.0.1", 6, 80), 1);
    CU_ASSERT_EQUAL(seven(NULL, "172.31.0.1", P4, "172.31.255.255", 6, 80), 1);
    /* src/dst private: a public source or destination is not counted. */
    CU_ASSERT_EQUAL(seven(NULL, "8.8.8.8", P4, "10.0.1.7", 6, 80), 0);
    CU_ASSERT_EQUAL(seven(NULL, "10.0.0.1", P4, "8.8.4.4", 6, 80), 0);
    CU_ASSERT_EQUAL(seven(NULL, "10.0.0.1", P4, "172.32.0.1", 6, 80), 0);
    CU_ASSERT_EQUAL(seven(pub, "8.8.8.8", P4, "10.0.1.7", 6, 80), 1);
    CU_ASSERT_EQUAL(seven(pub, "10.0.0.1", P4, "8.8.4.4", 6, 80), 1);
    /* proto 6: UDP is not counted, unless proto is 0 (any). */
    CU_ASSERT_EQUAL(seven(NULL, "10.0.0.1", P4, "10.0.1.7", 17, 80), 0);
    CU_ASSERT_EQUAL(seven(anyp, "10.0.0.1", P4, "10.0.1.7", 17, 80), 1);
    CU_ASSERT_EQUAL(seven(udp, "10.0.0.1", P4, "10.0.1.7", 17, 80), 0); /* 1 UDP dst */
    /* ports 0-9999: 9999 counts, 10000 does not, unless ports is *. */
    CU_ASSERT_EQUAL(seven(NULL, "10.0.0.1", P4, "10.0.1.7", 6, 9999), 1);
    CU_ASSERT_EQUAL(seven(NULL, "10.0.0.1", P4, "10.0.1.7", 6, 10000), 0);
    CU_ASSERT_EQUAL(seven(allp, "10.0.0.1", P4, "10.0.1.7", 6, 10000), 1);
    CU_ASSERT_EQUAL(seven(allp, "10.0.0.1", P4, "10.0.1.7", 6, 65535), 1);
    /* Vertical's filters are its own: its UDP port does not count... */
    struct alerts al;
    scand_ctx *ctx = detect_new(&al, anyp);
    for (int i = 0; i < 4; i++)
        feed(ctx, mk_tuple(T0 + i * SEC, "10.0.0.1", "10.0.1.1", 40000, (uint16_t)(20 + i),
                           i == 3 ? 17 : 6, SCAND_ST_B));
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(al.n, 0);
    detect_free(ctx, &al);
    /* ...unless vertical.proto is 0. */
    static const char *const vany[] = {"vertical.proto", "0", NULL};
    ctx = detect_new(&al, vany);
    for (int i = 0; i < 4; i++)
        feed(ctx, mk_tuple(T0 + i * SEC, "10.0.0.1", "10.0.1.1", 40000, (uint16_t)(20 + i),
                           i == 3 ? 17 : 6, SCAND_ST_B));
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(alerts_count_rule(&al, "vertical"), 1);
    detect_free(ctx, &al);
}

static void test_detect_ipv6_ula_is_private_documentation_is_not(void)
{
    CU_ASSERT_EQUAL(seven(NULL, "fd00::1", "fd00::1:", "fd00::1:7", 6, 80), 1);
    CU_ASSERT_EQUAL(seven(NULL, "fc00::1", "fd12:3456::", "fd12:3456::7", 6, 80), 1);
    CU_ASSERT_EQUAL(seven(NULL, "2001:db8::1", "2001:db8::2:", "2001:db8::2:7", 6, 80), 0);
    CU_ASSERT_EQUAL(seven(NULL, "fd00::1", "fd00::1:", "2001:db8::7", 6, 80), 0);
    static const char *const pub[] = {"horizontal.src", "any", "horizontal.dst", "any", NULL};
    CU_ASSERT_EQUAL(seven(pub, "2001:db8::1", "2001:db8::2:", "2001:db8::2:7", 6, 80), 1);
}

static void test_detect_repeated_tuples_do_not_inflate_count(void)
{
    struct alerts al;
    scand_ctx *ctx = detect_new(&al, NULL);
    /* 6 destinations, 5 flows each (other source ports), same port. */
    for (int h = 1; h <= 6; h++)
        for (int k = 0; k < 5; k++) {
            struct scand_tuple t = to_host(T0 + (h * 5 + k) * 100, "10.0.0.1", h, 80);
            t.sport = (uint16_t)(50000 + k);
            feed(ctx, t);
        }
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(al.n, 0);
    detect_free(ctx, &al);
    /* The same plus a 7th destination: count 7, every flow in flows. */
    ctx = detect_new(&al, NULL);
    for (int h = 1; h <= 6; h++)
        for (int k = 0; k < 5; k++) {
            struct scand_tuple t = to_host(T0 + (h * 5 + k) * 100, "10.0.0.1", h, 80);
            t.sport = (uint16_t)(50000 + k);
            feed(ctx, t);
        }
    feed(ctx, to_host(T0 + 40 * SEC, "10.0.0.1", 7, 80));
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_EQUAL(al.a[0].count, 7);
    CU_ASSERT_EQUAL(al.a[0].flows, 31);
    CU_ASSERT_EQUAL(al.a[0].n_targets, 7);
    detect_free(ctx, &al);
}

static void test_detect_continuations_do_not_restart_flows(void)
{
    struct alerts al;
    scand_ctx *ctx = detect_new(&al, NULL);
    for (int h = 1; h <= 7; h++) { /* 10.0.0.1: B at the start of each flow */
        feed(ctx, to_host(T0 + h * SEC, "10.0.0.1", h, 80));
    }
    for (int h = 1; h <= 7; h++) { /* 10.0.0.2: flows seen mid-way, C only */
        struct scand_tuple t = to_host(T0 + h * SEC, "10.0.0.2", h, 80);
        t.state = SCAND_ST_C;
        feed(ctx, t);
    }
    for (int h = 1; h <= 7; h++) { /* 10.0.0.3: short flows seen only at their E */
        struct scand_tuple t = to_host(T0 + 10 * SEC + h * SEC, "10.0.0.3", h, 80);
        t.state = SCAND_ST_E;
        feed(ctx, t);
    }
    /* Five minutes on: C tuples of every flow, then E. Not new starts. */
    for (int h = 1; h <= 7; h++) {
        struct scand_tuple t = to_host(T0 + 5 * MIN + h * SEC, "10.0.0.1", h, 80);
        t.state = SCAND_ST_C;
        feed(ctx, t);
        t.src[15] = 2;
        feed(ctx, t);
    }
    for (int h = 1; h <= 7; h++) {
        struct scand_tuple t = to_host(T0 + 5 * MIN + 30 * SEC + h * SEC, "10.0.0.1", h, 80);
        t.state = SCAND_ST_E;
        feed(ctx, t);
        t.src[15] = 2;
        feed(ctx, t);
    }
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(al.n, 3);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(al.a[i].window_start_ms, T0);
        CU_ASSERT_EQUAL(al.a[i].count, 7);
        CU_ASSERT_EQUAL(al.a[i].flows, 7);
    }
    CU_ASSERT(addr_is(al.a[0].src, "10.0.0.1"));
    CU_ASSERT(addr_is(al.a[1].src, "10.0.0.2")); /* the C-only flows counted */
    CU_ASSERT_EQUAL(al.a[1].first_seen_ms, T0 + SEC);
    CU_ASSERT(addr_is(al.a[2].src, "10.0.0.3")); /* the E-only flows counted */
    struct scand_stats s;
    scand_stats(ctx, &s);
    CU_ASSERT_EQUAL(s.tuples, 49);
    CU_ASSERT_EQUAL(s.starts, 21);
    detect_free(ctx, &al);
}

static void test_detect_denied_retries_count_once(void)
{
    struct alerts al;
    scand_ctx *ctx = detect_new(&al, NULL);
    /* SYN retries: each 5-tuple denied at +0, +3 s and +9 s. */
    static const int64_t retry[3] = {0, 3 * SEC, 9 * SEC};
    for (int r = 0; r < 3; r++)
        for (int h = 1; h <= 7; h++) {
            struct scand_tuple t = to_host(T0 + retry[r] + h * 100, "10.0.0.1", h, 80);
            t.state = SCAND_ST_D;
            t.dir = SCAND_DIR_IN;
            feed(ctx, t);
        }
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_EQUAL(al.a[0].count, 7);
    CU_ASSERT_EQUAL(al.a[0].flows, 7);
    CU_ASSERT_EQUAL(al.a[0].last_seen_ms, T0 + 700);
    struct scand_stats s;
    scand_stats(ctx, &s);
    CU_ASSERT_EQUAL(s.tuples, 21);
    CU_ASSERT_EQUAL(s.starts, 7);
    detect_free(ctx, &al);
}

static void test_detect_late_tuples_are_counted_not_binned(void)
{
    struct alerts al;
    scand_ctx *ctx = detect_new(&al, NULL);               /* reorder 5m */
    feed(ctx, to_host(T0 + 10 * MIN, "10.0.0.9", 1, 80)); /* newest: T0+10m */
    /* A full scan in [T0, T0+1m): that bin closed when the watermark
     * (T0+5m) passed it, for both rules: 7 late tuples. */
    for (int h = 1; h <= 7; h++)
        feed(ctx, to_host(T0 + h * SEC, "10.0.0.1", h, 80));
    struct scand_stats s;
    scand_stats(ctx, &s);
    CU_ASSERT_EQUAL(s.late, 7);
    CU_ASSERT_EQUAL(s.used, 1);
    /* Within the tolerance ([T0+5m, T0+6m) ends after the watermark): counted. */
    for (int h = 1; h <= 7; h++)
        feed(ctx, to_host(T0 + 5 * MIN + 30 * SEC + h * SEC, "10.0.0.1", h, 80));
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    scand_stats(ctx, &s);
    CU_ASSERT_EQUAL(s.late, 7);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_EQUAL(al.a[0].window_start_ms, T0 + 5 * MIN);
    CU_ASSERT_EQUAL(al.a[0].count, 7);
    detect_free(ctx, &al);
    /* With an hour's bins for the horizontal rule, the same tuples are
     * late for the vertical rule only: late and used both count them. */
    static const char *const kv[] = {"horizontal.window", "1h", NULL};
    ctx = detect_new(&al, kv);
    feed(ctx, to_host(T0 + 10 * MIN, "10.0.0.9", 1, 80));
    for (int h = 1; h <= 7; h++)
        feed(ctx, to_host(T0 + h * SEC, "10.0.0.1", h, 80));
    scand_stats(ctx, &s);
    CU_ASSERT_EQUAL(s.late, 7);
    CU_ASSERT_EQUAL(s.used, 8);
    CU_ASSERT_EQUAL(s.tuples, 8);
    detect_free(ctx, &al);
}

static void test_detect_alerts_come_when_watermark_passes_and_on_flush(void)
{
    struct alerts al;
    scand_ctx *ctx = detect_new(&al, NULL);
    for (int h = 1; h <= 7; h++)
        feed(ctx, to_host(T0 + h * SEC, "10.0.0.1", h, 80));
    CU_ASSERT_EQUAL(al.n, 0);
    /* A flow start at T0+6m puts the watermark at T0+1m: the bin closes. */
    feed(ctx, to_host(T0 + 6 * MIN, "10.0.0.2", 1, 80));
    CU_ASSERT_EQUAL(al.n, 1);
    for (int h = 1; h <= 7; h++)
        feed(ctx, to_host(T0 + 6 * MIN + h * SEC, "10.0.0.3", h, 80));
    CU_ASSERT_EQUAL(al.n, 1);
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(al.n, 2);
    CU_ASSERT_EQUAL(al.a[1].window_start_ms, T0 + 6 * MIN);
    CU_ASSERT(addr_is(al.a[1].src, "10.0.0.3"));
    struct scand_stats s;
    scand_stats(ctx, &s);
    CU_ASSERT_EQUAL(s.alerts, 2);
    detect_free(ctx, &al);
}

static void test_detect_threshold_and_enabled_options(void)
{
    static const char *const h3[] = {"horizontal.threshold", "3", NULL};
    static const char *const h0[] = {"horizontal.threshold", "0", NULL};
    static const char *const off[] = {"horizontal.enabled", "false", NULL};
    for (int n = 3; n <= 4; n++) {
        struct alerts al;
        scand_ctx *ctx = detect_new(&al, h3);
        for (int h = 1; h <= n; h++)
            feed(ctx, to_host(T0 + h * SEC, "10.0.0.1", h, 80));
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        CU_ASSERT_EQUAL(al.n, (size_t)(n - 3));
        if (al.n == 1) {
            CU_ASSERT_EQUAL(al.a[0].count, 4);
            CU_ASSERT_EQUAL(al.a[0].threshold, 3);
        }
        detect_free(ctx, &al);
    }
    CU_ASSERT_EQUAL(seven(h0, "10.0.0.1", P4, "10.0.1.7", 6, 80), 1);
    CU_ASSERT_EQUAL(seven(off, "10.0.0.1", P4, "10.0.1.7", 6, 80), 0);
    static const char *const v5[] = {"vertical.threshold", "5", NULL};
    for (int n = 5; n <= 6; n++) {
        struct alerts al;
        scand_ctx *ctx = detect_new(&al, v5);
        for (int i = 0; i < n; i++)
            feed(ctx, to_host(T0 + i * SEC, "10.0.0.1", 1, (uint16_t)(100 + i)));
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        CU_ASSERT_EQUAL(alerts_count_rule(&al, "vertical"), (size_t)(n - 5));
        detect_free(ctx, &al);
    }
}

static void test_detect_lifecycle_and_stopping_callback(void)
{
    scand_ctx *ctx = scand_new(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    struct scand_tuple t = to_host(T0, "10.0.0.1", 1, 80);
    CU_ASSERT_EQUAL(scand_feed(ctx, &t, 1), SCAND_ERR_STATE);
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_ERR_STATE);
    scand_free(ctx);
    /* A callback asking to stop fails the feeding call, and the context. */
    struct alerts al;
    ctx = detect_new(&al, NULL);
    al.stop_at = 1;
    for (int h = 1; h <= 7; h++)
        feed(ctx, to_host(T0 + h * SEC, "10.0.0.1", h, 80));
    t = to_host(T0 + 6 * MIN, "10.0.0.2", 1, 80);
    CU_ASSERT_EQUAL(scand_feed(ctx, &t, 1), SCAND_ERR_STATE);
    CU_ASSERT_EQUAL(al.n, 1);
    CU_ASSERT_EQUAL(scand_feed(ctx, &t, 1), SCAND_ERR_STATE);
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_ERR_STATE);
    detect_free(ctx, &al);
    /* The same from flush. */
    ctx = detect_new(&al, NULL);
    al.stop_at = 1;
    for (int h = 1; h <= 7; h++)
        feed(ctx, to_host(T0 + h * SEC, "10.0.0.1", h, 80));
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_ERR_STATE);
    CU_ASSERT(has_sub(scand_geterr(ctx), "callback"));
    detect_free(ctx, &al);
}

int test_detect_register(void)
{
    CU_pSuite s = CU_add_suite("detect", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
#define ADD(f)                                                                                     \
    if (CU_add_test(s, #f, f) == NULL)                                                             \
        return CU_get_error();
    ADD(test_detect_horizontal_6_destinations_no_alert)
    ADD(test_detect_horizontal_7_destinations_one_alert)
    ADD(test_detect_vertical_3_ports_no_alert_4_ports_alert)
    ADD(test_detect_horizontal_split_over_minute_boundary_is_missed)
    ADD(test_detect_filters_and_their_keys)
    ADD(test_detect_ipv6_ula_is_private_documentation_is_not)
    ADD(test_detect_repeated_tuples_do_not_inflate_count)
    ADD(test_detect_continuations_do_not_restart_flows)
    ADD(test_detect_denied_retries_count_once)
    ADD(test_detect_late_tuples_are_counted_not_binned)
    ADD(test_detect_alerts_come_when_watermark_passes_and_on_flush)
    ADD(test_detect_threshold_and_enabled_options)
    ADD(test_detect_lifecycle_and_stopping_callback)
#undef ADD
    return CUE_SUCCESS;
}
