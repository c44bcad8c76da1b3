/*
 * test_rules.c - the rule families beyond the seed pair (block,
 * distributed, keys per source and port), what counts as a failure, each
 * preset against a fixture built for its published rule (one at the
 * threshold, one above), platform suppression, hold-down, and the truth
 * labels alerts carry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests.h"

#define SEC 1000LL
#define MIN 60000LL
#define T0 1786653000000LL /* 2026-08-13T20:30:00Z, a multiple of 5 minutes */

static scand_ctx *ctx_with(struct alerts *al, const char *preset, const char *const *kv)
{
    memset(al, 0, sizeof *al);
    scand_ctx *ctx = scand_new(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    if (preset != NULL)
        CU_ASSERT_EQUAL_FATAL(scand_set_preset(ctx, preset), SCAND_OK);
    for (; kv != NULL && kv[0] != NULL; kv += 2) {
        int rc = scand_set_config(ctx, kv[0], kv[1]);
        if (rc != SCAND_OK)
            fprintf(stderr, "\n%s\n", scand_geterr(ctx));
        CU_ASSERT_EQUAL_FATAL(rc, SCAND_OK);
    }
    scand_set_alert_cb(ctx, alerts_collect, al);
    CU_ASSERT_EQUAL_FATAL(scand_finalize(ctx), SCAND_OK);
    return ctx;
}

static void feed(scand_ctx *ctx, struct scand_tuple t)
{
    CU_ASSERT_EQUAL(scand_feed(ctx, &t, 1), SCAND_OK);
}

/* A completed flow src -> dst:dport at ts with counters (B then E). */
static void flow(scand_ctx *ctx, int64_t ts, const char *src, const char *dst, uint16_t sport,
                 uint16_t dport, uint64_t ps, uint64_t bs, uint64_t pd, uint64_t bd)
{
    struct scand_tuple b = mk_tuple(ts, src, dst, sport, dport, 6, SCAND_ST_B);
    struct scand_tuple e = b;
    e.ts_ms = ts + 5;
    e.state = SCAND_ST_E;
    e.flags &= (uint8_t)~SCAND_TF_NOCOUNT;
    e.pkts_s2d = ps;
    e.bytes_s2d = bs;
    e.pkts_d2s = pd;
    e.bytes_d2s = bd;
    feed(ctx, b);
    feed(ctx, e);
}

static void ip_n(char *buf, size_t size, const char *prefix, int n)
{
    snprintf(buf, size, "%s.%d.%d", prefix, n / 250, 1 + n % 250);
}

/* ------------------------------------------------------------ failures */

static void test_rules_failure_definition(void)
{
    static const char *const kv[] = {"f.family", "vertical", "f.threshold", "0",
                                     "f.count",  "failures", "horizontal.enabled", "false",
                                     "vertical.enabled", "false", NULL};
    static const struct {
        uint64_t ps, bs, pd, bd;
        int failed;
        const char *what;
    } cases[] = {
        {1, 58, 0, 0, 1, "a SYN, nothing back"},
        {3, 174, 0, 0, 1, "SYN and retries, nothing back"},
        {1, 58, 1, 54, 1, "SYN answered by RST (frames)"},
        {1, 80, 1, 80, 1, "at the no-payload limit"},
        {1, 81, 1, 54, 0, "a byte of payload"},
        {2, 112, 1, 58, 0, "SYN scan of an open port: SYN, SYN/ACK, RST"},
        {5, 900, 4, 3000, 0, "a connection that talked"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct alerts al;
        scand_ctx *ctx = ctx_with(&al, NULL, kv);
        flow(ctx, T0 + SEC, "10.0.0.1", "10.0.1.1", 40000, 22, cases[i].ps, cases[i].bs,
             cases[i].pd, cases[i].bd);
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        if ((int)al.n != cases[i].failed)
            fprintf(stderr, "\n  %s: %zu alerts\n", cases[i].what, al.n);
        CU_ASSERT_EQUAL(al.n, (size_t)cases[i].failed);
        struct scand_stats s;
        scand_stats(ctx, &s);
        CU_ASSERT_EQUAL(s.ends, 1);
        CU_ASSERT_EQUAL(s.failures, (uint64_t)cases[i].failed);
        detect_free(ctx, &al);
    }
    /* a denied attempt fails at once; its retries are one attempt */
    struct alerts al;
    scand_ctx *ctx = ctx_with(&al, NULL, kv);
    struct scand_tuple d = mk_tuple(T0 + SEC, "10.0.0.1", "10.0.1.1", 40000, 22, 6, SCAND_ST_D);
    feed(ctx, d);
    d.ts_ms += 1000;
    feed(ctx, d);
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(al.n, 1);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_EQUAL(al.a[0].flows, 1);
    detect_free(ctx, &al);
    /* an E without counters (",,,,") has no known outcome: not a failure */
    ctx = ctx_with(&al, NULL, kv);
    struct scand_tuple e = mk_tuple(T0 + SEC, "10.0.0.1", "10.0.1.1", 40000, 22, 6, SCAND_ST_E);
    feed(ctx, e);
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(al.n, 0);
    detect_free(ctx, &al);
}

/* ------------------------------------------------------------ families */

static void test_rules_block_needs_pairs_hosts_and_ports(void)
{
    static const char *const kv[] = {"b.family",   "block", "b.threshold", "5", "b.min_hosts",
                                      "2",          "b.min_ports", "3", "horizontal.enabled",
                                      "false",      "vertical.enabled", "false", NULL};
    /* 6 pairs: 3 hosts x 2 ports -> pairs > 5 but ports < 3: no alert */
    struct alerts al;
    scand_ctx *ctx = ctx_with(&al, NULL, kv);
    for (int h = 1; h <= 3; h++)
        for (int p = 0; p < 2; p++) {
            char d[32];
            snprintf(d, sizeof d, "10.0.1.%d", h);
            feed(ctx, mk_tuple(T0 + h * SEC + p, "10.0.0.1", d, (uint16_t)(40000 + h * 10 + p),
                               (uint16_t)(22 + p), 6, SCAND_ST_B));
        }
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(al.n, 0);
    detect_free(ctx, &al);
    /* 2 hosts x 3 ports = 6 pairs, 2 hosts, 3 ports: one alert */
    ctx = ctx_with(&al, NULL, kv);
    for (int h = 1; h <= 2; h++)
        for (int p = 0; p < 3; p++) {
            char d[32];
            snprintf(d, sizeof d, "10.0.1.%d", h);
            feed(ctx, mk_tuple(T0 + h * SEC + p, "10.0.0.1", d, (uint16_t)(40000 + h * 10 + p),
                               (uint16_t)(22 + p), 6, SCAND_ST_B));
        }
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_EQUAL(al.a[0].family, SCAND_FAM_BLOCK);
    CU_ASSERT_EQUAL(al.a[0].count, 6);
    CU_ASSERT_EQUAL(al.a[0].hosts, 2);
    CU_ASSERT_EQUAL(al.a[0].ports_count, 3);
    CU_ASSERT_EQUAL(al.a[0].n_targets, 2);
    CU_ASSERT_STRING_EQUAL(al.a[0].technique, "T1046");
    detect_free(ctx, &al);
}

static void test_rules_distributed_counts_sources_per_port(void)
{
    static const char *const kv[] = {"d.family",    "distributed", "d.threshold", "10",
                                      "d.min_hosts", "5",  "horizontal.enabled", "false",
                                      "vertical.enabled", "false", NULL};
    for (int n = 10; n <= 11; n++) {
        struct alerts al;
        scand_ctx *ctx = ctx_with(&al, NULL, kv);
        /* n sources, each probing 2 of 6 hosts on port 22: each far below any
         * per-source threshold */
        for (int s = 0; s < n; s++)
            for (int k = 0; k < 2; k++) {
                char src[32], dst[32];
                snprintf(src, sizeof src, "203.0.113.%d", s + 1);
                snprintf(dst, sizeof dst, "10.0.1.%d", 1 + (s + k) % 6);
                feed(ctx, mk_tuple(T0 + s * SEC + k, src, dst, 50000, 22, 6, SCAND_ST_B));
            }
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        CU_ASSERT_EQUAL(al.n, n == 10 ? 0 : 1);
        if (al.n == 1) {
            CU_ASSERT_EQUAL(al.a[0].family, SCAND_FAM_DISTRIBUTED);
            CU_ASSERT(al.a[0].has_port && !al.a[0].has_src);
            CU_ASSERT_EQUAL(al.a[0].port, 22);
            CU_ASSERT_EQUAL(al.a[0].count, 11);
            CU_ASSERT_EQUAL(al.a[0].hosts, 6);
            CU_ASSERT_EQUAL(al.a[0].n_sources, 11);
            CU_ASSERT_EQUAL(al.a[0].n_targets, 6);
        }
        detect_free(ctx, &al);
    }
}

/* ------------------------------------------------------------ presets */

/* Probe n ports of dst from src in [t, t + span), completing each flow as
 * closed (SYN/RST) when failed, else as a small exchange. */
static void ports(scand_ctx *ctx, int64_t t, int64_t span, const char *src, const char *dst,
                  int n, int failed)
{
    for (int i = 0; i < n; i++)
        flow(ctx, t + span * i / n, src, dst, (uint16_t)(40000 + i), (uint16_t)(1000 + i), 1, 58,
             1, failed ? 54 : 400);
}

/* Probe n hosts under prefix on port from src in [t, t + span). */
static void hosts(scand_ctx *ctx, int64_t t, int64_t span, const char *src, const char *prefix,
                  int n, uint16_t port, int failed)
{
    for (int i = 0; i < n; i++) {
        char dst[32];
        ip_n(dst, sizeof dst, prefix, i);
        flow(ctx, t + span * i / n, src, dst, (uint16_t)(40000 + i % 20000), port, 1, 58, 1,
             failed ? 54 : 400);
    }
}

static void test_rules_presets_reproduce_their_rules(void)
{
    struct alerts al;
    scand_ctx *ctx;
    /* Sentinel ASIM: > 50 ports per public source per 5 minutes, any target */
    for (int n = 50; n <= 51; n++) {
        ctx = ctx_with(&al, "sentinel-asim", NULL);
        for (int i = 0; i < n; i++) { /* spread over several destinations */
            char dst[32];
            snprintf(dst, sizeof dst, "10.0.1.%d", 1 + i % 5);
            flow(ctx, T0 + i * SEC, "198.51.100.7", dst, 40000, (uint16_t)(2000 + i), 1, 58, 0,
                 0);
        }
        ports(ctx, T0, 60 * SEC, "10.9.9.9", "10.0.1.1", 80, 1); /* private: not counted */
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        CU_ASSERT_EQUAL(al.n, n == 50 ? 0 : 1);
        if (al.n == 1) {
            CU_ASSERT_STRING_EQUAL(al.a[0].rule, "asim_port_scan");
            CU_ASSERT_EQUAL(al.a[0].count, 51);
            CU_ASSERT_EQUAL(al.a[0].window_end_ms - al.a[0].window_start_ms, 5 * MIN);
        }
        detect_free(ctx, &al);
    }
    /* Azure Firewall Port Scan: > 100 ports per (source, destination) in 30 s */
    for (int n = 100; n <= 101; n++) {
        ctx = ctx_with(&al, "azfw", NULL);
        ports(ctx, T0, 25 * SEC, "10.0.0.1", "10.0.1.1", n, 0);
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        CU_ASSERT_EQUAL(al.n, n == 100 ? 0 : 1);
        if (al.n == 1)
            CU_ASSERT_STRING_EQUAL(al.a[0].rule, "azfw_port_scan");
        detect_free(ctx, &al);
    }
    /* Azure Firewall Port Sweep: > 200 hosts per (source, port) in 30 s, 80
     * and 443 excluded */
    for (int n = 200; n <= 201; n++) {
        ctx = ctx_with(&al, "azfw", NULL);
        hosts(ctx, T0, 25 * SEC, "10.0.0.1", "10.1", n, 22, 0);
        hosts(ctx, T0, 25 * SEC, "10.0.0.2", "10.2", 300, 443, 0); /* excluded port */
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        CU_ASSERT_EQUAL(al.n, n == 200 ? 0 : 1);
        if (al.n == 1) {
            CU_ASSERT_STRING_EQUAL(al.a[0].rule, "azfw_port_sweep");
            CU_ASSERT_EQUAL(al.a[0].port, 22);
        }
        detect_free(ctx, &al);
    }
    /* Zeek: >= 25 failed hosts on a port, >= 15 failed ports on a host, 5
     * minutes; successful attempts do not count */
    for (int n = 24; n <= 25; n++) {
        ctx = ctx_with(&al, "zeek", NULL);
        hosts(ctx, T0, 4 * MIN, "10.0.0.1", "10.1", n, 22, 1);
        hosts(ctx, T0, 4 * MIN, "10.0.0.2", "10.2", 60, 22, 0); /* all answered */
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        CU_ASSERT_EQUAL(al.n, n == 24 ? 0 : 1);
        if (al.n == 1)
            CU_ASSERT_STRING_EQUAL(al.a[0].rule, "zeek_address_scan");
        detect_free(ctx, &al);
    }
    for (int n = 14; n <= 15; n++) {
        ctx = ctx_with(&al, "zeek", NULL);
        ports(ctx, T0, 4 * MIN, "10.0.0.1", "10.0.1.1", n, 1);
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        CU_ASSERT_EQUAL(al.n, n == 14 ? 0 : 1);
        if (al.n == 1)
            CU_ASSERT_STRING_EQUAL(al.a[0].rule, "zeek_port_scan");
        detect_free(ctx, &al);
    }
}

/* ------------------------------------------------------------ suppression */

static void test_rules_platform_probes_are_suppressed(void)
{
    /* 168.63.129.16 probing 200 backends within a minute */
    static const char *const any[] = {"horizontal.src", "any", NULL};
    static const char *const off[] = {"horizontal.src", "any", "suppress_platform", "false", NULL};
    for (int k = 0; k < 2; k++) {
        struct alerts al;
        scand_ctx *ctx = ctx_with(&al, NULL, k ? off : any);
        hosts(ctx, T0, 50 * SEC, "168.63.129.16", "10.1", 200, 443, 0);
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        CU_ASSERT_EQUAL(al.n, (size_t)k);
        struct scand_stats s;
        scand_stats(ctx, &s);
        CU_ASSERT_EQUAL(s.suppressed, k ? 0 : 400);
        detect_free(ctx, &al);
    }
}

static void test_rules_hold_down_and_campaign_labels(void)
{
    static const char *const kv[] = {"hold_down", "10m", NULL};
    struct alerts al;
    scand_ctx *ctx = ctx_with(&al, NULL, kv);
    /* the same sweep in three consecutive minutes: one alert, then held */
    for (int m = 0; m < 3; m++)
        for (int h = 0; h < 8; h++) {
            char dst[32];
            snprintf(dst, sizeof dst, "10.0.1.%d", h + 1);
            struct scand_tuple t = mk_tuple(T0 + m * MIN + h * SEC, "10.0.0.1", dst,
                                            (uint16_t)(40000 + m * 10 + h), 22, 6, SCAND_ST_B);
            t.campaign = h < 4 ? 7 : 9; /* truth labels ride along */
            feed(ctx, t);
        }
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_EQUAL(al.a[0].n_campaigns, 2);
    CU_ASSERT_EQUAL(al.a[0].campaigns[0], 7);
    CU_ASSERT_EQUAL(al.a[0].campaigns[1], 9);
    detect_free(ctx, &al);
    /* without hold-down: one per minute */
    ctx = ctx_with(&al, NULL, NULL);
    for (int m = 0; m < 3; m++)
        for (int h = 0; h < 8; h++) {
            char dst[32];
            snprintf(dst, sizeof dst, "10.0.1.%d", h + 1);
            feed(ctx, mk_tuple(T0 + m * MIN + h * SEC, "10.0.0.1", dst,
                               (uint16_t)(40000 + m * 10 + h), 22, 6, SCAND_ST_B));
        }
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(al.n, 3);
    CU_ASSERT_EQUAL(al.a[0].n_campaigns, 0);
    detect_free(ctx, &al);
}

/* ------------------------------------------------------------ sliding */

static void sweep(scand_ctx *ctx, const int64_t *when, int n)
{
    for (int h = 0; h < n; h++) {
        char dst[32];
        snprintf(dst, sizeof dst, "10.0.1.%d", h + 1);
        feed(ctx, mk_tuple(when[h], "10.0.0.1", dst, (uint16_t)(40000 + h), 22, 6, SCAND_ST_B));
    }
}

static void test_rules_sliding_catches_the_split_scan(void)
{
    /* 4 hosts in the last seconds of a minute, 3 in the first of the next */
    int64_t when[7];
    for (int h = 0; h < 7; h++)
        when[h] = T0 + MIN - 4 * SEC + h * SEC; /* 56..62 s */
    static const char *const tumbling[] = {"vertical.enabled", "false", NULL};
    static const char *const sliding[] = {"vertical.enabled", "false",
                                          "horizontal.window_kind", "sliding", NULL};
    struct alerts al;
    scand_ctx *ctx = ctx_with(&al, NULL, tumbling);
    sweep(ctx, when, 7);
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(al.n, 0); /* the seed rule's blind spot */
    detect_free(ctx, &al);
    ctx = ctx_with(&al, NULL, sliding);
    sweep(ctx, when, 7);
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_EQUAL(al.a[0].count, 7);
    CU_ASSERT_EQUAL(al.a[0].window_end_ms, when[6] + 1);
    CU_ASSERT_EQUAL(al.a[0].window_end_ms - al.a[0].window_start_ms, MIN);
    detect_free(ctx, &al);
}

static void test_rules_sliding_window_edges(void)
{
    static const char *const sliding[] = {"vertical.enabled", "false",
                                          "horizontal.window_kind", "sliding", NULL};
    /* 7 hosts, the last one W - 1 ms after the first: all in one window */
    for (int k = 0; k < 2; k++) {
        int64_t when[7];
        for (int h = 0; h < 6; h++)
            when[h] = T0 + h * SEC;
        when[6] = T0 + MIN - 1 + k; /* k = 1: exactly W later, the first has left */
        struct alerts al;
        scand_ctx *ctx = ctx_with(&al, NULL, sliding);
        sweep(ctx, when, 7);
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        CU_ASSERT_EQUAL(al.n, k == 0 ? 1 : 0);
        detect_free(ctx, &al);
    }
    /* a long sweep: one alert per window length, not one per flow */
    struct alerts al;
    scand_ctx *ctx = ctx_with(&al, NULL, sliding);
    for (int h = 0; h < 600; h++) {
        char dst[32];
        snprintf(dst, sizeof dst, "10.0.%d.%d", 1 + h / 250, 1 + h % 250);
        feed(ctx, mk_tuple(T0 + h * SEC, "10.0.0.1", dst, (uint16_t)(40000 + h), 22, 6,
                           SCAND_ST_B));
    }
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(al.n, 10); /* 600 s of sweep, one per minute */
    struct scand_stats st;
    scand_stats(ctx, &st);
    CU_ASSERT(st.peak_keys <= 2);
    detect_free(ctx, &al);
}

static void flow_to(scand_ctx *ctx, int64_t ts, const char *src, int host)
{
    char dst[32];
    snprintf(dst, sizeof dst, "10.0.1.%d", host);
    feed(ctx, mk_tuple(ts, src, dst, (uint16_t)(40000 + host), 22, 6, SCAND_ST_B));
}

/* src to hosts host0 + 1 .. host0 + n, one a second after t0. */
static void burst(scand_ctx *ctx, int64_t t0, const char *src, int host0, int n)
{
    for (int h = 1; h <= n; h++)
        flow_to(ctx, t0 + h * SEC, src, host0 + h);
}

/* Alert i was raised by a key that started afresh at back + 1 s, with 7 flows. */
static void assert_afresh(const struct alerts *al, size_t i, int64_t back)
{
    CU_ASSERT_EQUAL_FATAL(al->n, i + 1);
    CU_ASSERT_EQUAL(al->a[i].flows, 7);
    CU_ASSERT_EQUAL(al->a[i].first_seen_ms, back + SEC);
}

/* A key whose members all left the window is forgotten: when the source
 * comes back, its flows and first-seen time start afresh. But not while
 * the hold-down after its alert runs: late flows within it (the reorder
 * tolerance lets them in) must not alert again. */
static void test_rules_sliding_key_lifetime(void)
{
    static const char *const sliding[] = {"vertical.enabled", "false",
                                          "horizontal.window_kind", "sliding", NULL};
    struct alerts al;
    scand_ctx *ctx = ctx_with(&al, NULL, sliding);
    burst(ctx, T0, "10.0.0.1", 0, 3); /* three hosts: no alert; then quiet */
    int64_t back = T0 + 5 * MIN;
    burst(ctx, back, "10.0.0.1", 10, 7);
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    assert_afresh(&al, 0, back);
    detect_free(ctx, &al);

    ctx = ctx_with(&al, NULL, sliding);
    burst(ctx, T0, "10.0.0.1", 0, 7); /* the alert, at L = T0 + 7 s */
    int64_t l = T0 + 7 * SEC;
    flow_to(ctx, l + MIN + 10 * SEC, "10.0.0.2", 1); /* every member of 10.0.0.1 leaves */
    burst(ctx, l + 20 * SEC, "10.0.0.1", 20, 7); /* late, within the hold-down: held */
    CU_ASSERT_EQUAL(al.n, 0); /* flows wait out the reorder tolerance (5m) before counting */
    flow_to(ctx, l + MIN, "10.0.0.1", 99); /* the hold-down's end: alerts again */
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(al.n, 2);
    CU_ASSERT_EQUAL(al.a[1].reached_ms, l + MIN);
    CU_ASSERT_EQUAL(al.a[1].count, 8);
    detect_free(ctx, &al);

    /* kept for its hold-down, then back long after it ended: afresh too */
    ctx = ctx_with(&al, NULL, sliding);
    burst(ctx, T0, "10.0.0.1", 0, 7);
    flow_to(ctx, l + 30 * SEC, "10.0.0.2", 1);
    flow_to(ctx, l + 70 * SEC, "10.0.0.2", 2); /* its members leave, the hold-down runs */
    back = T0 + 30 * MIN;
    burst(ctx, back, "10.0.0.1", 30, 7);
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    assert_afresh(&al, 1, back);
    detect_free(ctx, &al);
}

/* A flow between two logged NICs is logged twice, O at the source's NIC
 * and I at the destination's. Each view is a flow of its own: the end of
 * the first view must not make the second's E look like a flow seen
 * mid-way (a start at its end's time, in a later window). */
static void test_rules_double_logged_flows(void)
{
    struct alerts al;
    scand_ctx *ctx = ctx_with(&al, NULL, NULL);
    /* 8 hosts probed at second 10 of a minute, each flow ending 4
     * minutes later: one horizontal alert in the first minute only */
    for (int dir = 0; dir < 2; dir++)
        for (int h = 1; h <= 8; h++) {
            char dst[32];
            snprintf(dst, sizeof dst, "10.0.1.%d", h);
            struct scand_tuple b = mk_tuple(T0 + 10 * SEC + h, "10.0.0.1", dst,
                                            (uint16_t)(40000 + h), 22, 6, SCAND_ST_B);
            b.dir = dir ? SCAND_DIR_IN : SCAND_DIR_OUT;
            feed(ctx, b);
        }
    for (int dir = 0; dir < 2; dir++)
        for (int h = 1; h <= 8; h++) {
            char dst[32];
            snprintf(dst, sizeof dst, "10.0.1.%d", h);
            struct scand_tuple e = mk_tuple(T0 + 4 * MIN + 10 * SEC + h, "10.0.0.1", dst,
                                            (uint16_t)(40000 + h), 22, 6, SCAND_ST_E);
            e.dir = dir ? SCAND_DIR_IN : SCAND_DIR_OUT;
            feed(ctx, e);
        }
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    struct scand_stats st;
    scand_stats(ctx, &st);
    CU_ASSERT_EQUAL(st.starts, 16); /* one per view */
    CU_ASSERT_EQUAL(st.ends, 16);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_EQUAL(al.a[0].window_start_ms, T0);
    CU_ASSERT_EQUAL(al.a[0].count, 8);
    detect_free(ctx, &al);
}

/* The watermark at the top of time: windows close once per second of it,
 * so flows in INT64_MAX's own second are not made late by a close that
 * already ran in it. */
static void test_rules_watermark_at_the_end_of_time(void)
{
    static const char *const kv[] = {"reorder", "0s", "flow_idle", "1s", NULL};
    struct alerts al;
    scand_ctx *ctx = ctx_with(&al, NULL, kv);
    feed(ctx, mk_tuple(INT64_MAX - 500, "10.0.0.1", "10.0.1.1", 40000, 22, 6, SCAND_ST_B));
    for (int h = 2; h <= 4; h++) {
        char dst[32];
        snprintf(dst, sizeof dst, "10.0.1.%d", h);
        feed(ctx, mk_tuple(INT64_MAX, "10.0.0.1", dst, (uint16_t)(40000 + h), 22, 6,
                           SCAND_ST_B));
    }
    struct scand_stats st;
    scand_stats(ctx, &st);
    CU_ASSERT_EQUAL(st.late, 0);
    CU_ASSERT_EQUAL(st.used, 4);
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    detect_free(ctx, &al);
}

/* A sliding alert's target samples: the earliest flows' destinations, in
 * time order, whatever the table order (so whatever the hash seed). */
static void test_rules_sliding_samples_in_time_order(void)
{
    for (int k = 0; k < 2; k++) {
        const char *kv[] = {"vertical.enabled", "false", "horizontal.window_kind", "sliding",
                            "horizontal.threshold", "25", "hash_seed", k ? "99" : "1", NULL};
        struct alerts al;
        scand_ctx *ctx = ctx_with(&al, NULL, kv);
        for (int h = 0; h < 26; h++) { /* destinations scrambled against time */
            char dst[32];
            snprintf(dst, sizeof dst, "10.0.1.%d", 1 + (h * 7) % 26);
            feed(ctx, mk_tuple(T0 + h * SEC, "10.0.0.1", dst, (uint16_t)(40000 + h), 22, 6,
                               SCAND_ST_B));
        }
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        CU_ASSERT_EQUAL_FATAL(al.n, 1);
        CU_ASSERT_EQUAL(al.a[0].count, 26);
        CU_ASSERT_EQUAL_FATAL(al.a[0].n_targets, SCAND_SAMPLES);
        for (unsigned i = 0; i < SCAND_SAMPLES; i++) {
            char want[32];
            uint8_t a[16];
            snprintf(want, sizeof want, "10.0.1.%u", 1 + (i * 7) % 26);
            addr(want, a);
            CU_ASSERT_EQUAL(memcmp(al.a[0].targets[i], a, 16), 0);
        }
        detect_free(ctx, &al);
    }
}

/* Seeded comparison with a naive sliding count: for each flow in time order,
 * the distinct destinations of its source among flows started in the last
 * W; an alert at the first flow where that passes the threshold, and then
 * not again for that source within W. */
static void test_rules_sliding_matches_naive_reference(void)
{
    uint64_t rs = 0x51d1;
    size_t compared = 0;
    for (int round = 0; round < 80; round++) {
        /* odd rounds feed the flows shuffled within blocks of 20 (a minute
         * or less out of order, as interleaved blobs are): the reorder
         * heap must give the same alerts as the sorted feed */
        int shuffled = round & 1;
        int n = 200 + (int)rng_below(&rs, 300);
        struct scand_tuple *t = calloc((size_t)n, sizeof *t);
        int64_t ts = T0;
        for (int i = 0; i < n; i++) {
            ts += shuffled ? 1 + (int64_t)rng_below(&rs, 3 * SEC) : (int64_t)rng_below(&rs, 3 * SEC);
            char src[32], dst[32];
            snprintf(src, sizeof src, "10.0.0.%d", 1 + (int)rng_below(&rs, 3));
            snprintf(dst, sizeof dst, "10.0.1.%d", 1 + (int)rng_below(&rs, 12));
            t[i] = mk_tuple(ts, src, dst, (uint16_t)(30000 + i), 22, 6, SCAND_ST_B);
        }
        static const char *const kv[] = {"vertical.enabled",       "false",
                                         "horizontal.window_kind", "sliding",
                                         "horizontal.window",      "30s",
                                         "horizontal.threshold",   "5",
                                         NULL};
        struct alerts al;
        scand_ctx *ctx = ctx_with(&al, NULL, kv);
        struct scand_tuple *u = malloc((size_t)n * sizeof *u);
        CU_ASSERT_PTR_NOT_NULL_FATAL(u);
        memcpy(u, t, (size_t)n * sizeof *u);
        for (int b0 = 0; shuffled && b0 < n; b0 += 20)
            for (int i = (n - b0 < 20 ? n - b0 : 20) - 1; i > 0; i--) {
                int j = (int)rng_below(&rs, (uint64_t)i + 1);
                struct scand_tuple x = u[b0 + i];
                u[b0 + i] = u[b0 + j];
                u[b0 + j] = x;
            }
        CU_ASSERT_EQUAL(scand_feed(ctx, u, (size_t)n), SCAND_OK);
        free(u);
        CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
        struct scand_stats st;
        scand_stats(ctx, &st);
        CU_ASSERT_EQUAL(st.late, 0);
        /* the reference */
        int64_t last_alert[4] = {INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN};
        size_t k = 0;
        for (int i = 0; i < n; i++) {
            int s = t[i].src[15];
            int seen[13] = {0}, count = 0;
            int64_t latest[13];
            for (int j = 0; j <= i; j++)
                if (t[j].src[15] == s && t[j].ts_ms > t[i].ts_ms - 30 * SEC) {
                    latest[t[j].dst[15]] = t[j].ts_ms;
                    if (!seen[t[j].dst[15]]) {
                        seen[t[j].dst[15]] = 1;
                        count++;
                    }
                }
            if (count <= 5 || (last_alert[s] != INT64_MIN && t[i].ts_ms < last_alert[s] + 30 * SEC))
                continue;
            last_alert[s] = t[i].ts_ms;
            CU_ASSERT_FATAL(k < al.n);
            CU_ASSERT_EQUAL(al.a[k].window_end_ms, t[i].ts_ms + 1);
            CU_ASSERT_EQUAL(al.a[k].src[15], s);
            CU_ASSERT_EQUAL(al.a[k].count, (uint64_t)count);
            /* the samples: every destination in the window, by (latest
             * start, address) */
            CU_ASSERT_EQUAL_FATAL(al.a[k].n_targets, (unsigned)count);
            for (unsigned x = 0; x < al.a[k].n_targets; x++) {
                int best = 0;
                for (int d = 1; d <= 12; d++)
                    if (seen[d] && (best == 0 || latest[d] < latest[best]))
                        best = d;
                CU_ASSERT_EQUAL(al.a[k].targets[x][15], best);
                seen[best] = 0;
            }
            k++;
            compared++;
        }
        CU_ASSERT_EQUAL(k, al.n);
        detect_free(ctx, &al);
        free(t);
    }
    CU_ASSERT(compared > 200);
}

/* A 30-second sliding window over blobs a minute apart: a record's flows
 * that start 43-45 s behind the newest are within the reorder tolerance,
 * so they count (held back, then taken in start order) and the scan is
 * caught, as the tumbling rule catches it. */
static void test_rules_sliding_window_shorter_than_reorder(void)
{
    static const char *const kv[] = {"vertical.enabled",     "false", "horizontal.window_kind",
                                     "sliding",              "horizontal.window", "30s",
                                     "horizontal.threshold", "2",     NULL};
    struct alerts al;
    scand_ctx *ctx = ctx_with(&al, NULL, kv);
    flow_to(ctx, T0 + 60 * SEC, "10.0.0.9", 1);
    for (int h = 2; h <= 4; h++)
        flow_to(ctx, T0 + (13 + h) * SEC, "10.0.0.9", h);
    CU_ASSERT_EQUAL(al.n, 0); /* held: the newest start is not 4.5 min past them yet */
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    struct scand_stats st;
    scand_stats(ctx, &st);
    CU_ASSERT_EQUAL(st.late, 0);
    CU_ASSERT_EQUAL(st.used, 4);
    CU_ASSERT_EQUAL_FATAL(al.n, 1);
    CU_ASSERT_EQUAL(al.a[0].count, 3);
    CU_ASSERT_EQUAL(al.a[0].reached_ms, T0 + 17 * SEC);
    detect_free(ctx, &al);
    /* the rule's own flows stop (port 22 only) while other traffic goes
     * on: the context's watermark lets the held flows go, before the end */
    static const char *const kv22[] = {"vertical.enabled",     "false", "horizontal.window_kind",
                                       "sliding",              "horizontal.window", "30s",
                                       "horizontal.threshold", "2",     "horizontal.ports",
                                       "22",                   NULL};
    ctx = ctx_with(&al, NULL, kv22);
    flow_to(ctx, T0 + 60 * SEC, "10.0.0.9", 1);
    for (int h = 2; h <= 4; h++)
        flow_to(ctx, T0 + (13 + h) * SEC, "10.0.0.9", h);
    for (int m = 1; m <= 10; m++)
        feed(ctx, mk_tuple(T0 + m * MIN + 30 * SEC, "10.0.0.8", "10.0.1.200",
                           (uint16_t)(50000 + m), 80, 6, SCAND_ST_B));
    CU_ASSERT_EQUAL_FATAL(al.n, 1); /* before scand_flush */
    CU_ASSERT_EQUAL(al.a[0].count, 3);
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(al.n, 1);
    detect_free(ctx, &al);
}

/* A one-dimension key holds its first value itself until a second comes
 * (rule_dcount.c): at threshold 0 a key of one value alerts with that
 * value's time and sample, a repeat of it counts once and moves its first
 * sighting back, and the second value moves both into the member set. */
static void test_rules_key_with_one_value(void)
{
    static const char *const kv[] = {"h.family", "horizontal", "h.threshold", "0",
                                     "horizontal.enabled", "false", "vertical.enabled", "false",
                                     NULL};
    struct alerts al;
    scand_ctx *ctx = ctx_with(&al, NULL, kv);
    flow(ctx, T0 + 20 * SEC, "10.0.0.1", "10.0.1.1", 40000, 22, 1, 60, 1, 60);
    flow(ctx, T0 + 10 * SEC, "10.0.0.1", "10.0.1.1", 40001, 22, 1, 60, 1, 60);
    flow(ctx, T0 + 5 * SEC, "10.0.0.2", "10.0.2.1", 40000, 22, 1, 60, 1, 60);
    flow(ctx, T0 + 30 * SEC, "10.0.0.2", "10.0.2.1", 40001, 23, 1, 60, 1, 60);
    flow(ctx, T0 + 7 * SEC, "10.0.0.2", "10.0.2.2", 40002, 22, 1, 60, 1, 60);
    flow(ctx, T0 + 3 * SEC, "10.0.0.2", "10.0.2.1", 40003, 22, 1, 60, 1, 60);
    CU_ASSERT_EQUAL(scand_flush(ctx), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(al.n, 2);
    uint8_t a1[16], b1[16], t21[16], t22[16];
    int v6;
    CU_ASSERT_EQUAL_FATAL(scand_addr_parse("10.0.1.1", 8, b1, &v6), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(scand_addr_parse("10.0.0.1", 8, a1, &v6), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(scand_addr_parse("10.0.2.1", 8, t21, &v6), SCAND_OK);
    CU_ASSERT_EQUAL_FATAL(scand_addr_parse("10.0.2.2", 8, t22, &v6), SCAND_OK);
    /* alerts of a bin come out by key: 10.0.0.1 first */
    const struct scand_alert *x = &al.a[0], *y = &al.a[1];
    CU_ASSERT_EQUAL(memcmp(x->src, a1, 16), 0);
    CU_ASSERT_EQUAL(x->count, 1);
    CU_ASSERT_EQUAL(x->flows, 2);
    CU_ASSERT_EQUAL(x->reached_ms, T0 + 10 * SEC);
    CU_ASSERT_EQUAL(x->first_seen_ms, T0 + 10 * SEC);
    CU_ASSERT_EQUAL_FATAL(x->n_targets, 1);
    CU_ASSERT_EQUAL(memcmp(x->targets[0], b1, 16), 0);
    CU_ASSERT_EQUAL(y->count, 2);
    CU_ASSERT_EQUAL(y->flows, 4);
    CU_ASSERT_EQUAL(y->reached_ms, T0 + 3 * SEC); /* the repeat moved 10.0.2.1 back */
    CU_ASSERT_EQUAL_FATAL(y->n_targets, 2);
    CU_ASSERT_EQUAL(memcmp(y->targets[0], t21, 16), 0);
    CU_ASSERT_EQUAL(memcmp(y->targets[1], t22, 16), 0);
    CU_ASSERT_EQUAL(y->n_ports, 2);
    detect_free(ctx, &al);
}

int test_rules_register(void)
{
    CU_pSuite s = CU_add_suite("rules", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
#define ADD(f)                                                                                     \
    if (CU_add_test(s, #f, f) == NULL)                                                             \
        return CU_get_error();
    ADD(test_rules_failure_definition)
    ADD(test_rules_key_with_one_value)
    ADD(test_rules_block_needs_pairs_hosts_and_ports)
    ADD(test_rules_distributed_counts_sources_per_port)
    ADD(test_rules_presets_reproduce_their_rules)
    ADD(test_rules_platform_probes_are_suppressed)
    ADD(test_rules_hold_down_and_campaign_labels)
    ADD(test_rules_sliding_catches_the_split_scan)
    ADD(test_rules_sliding_window_edges)
    ADD(test_rules_sliding_samples_in_time_order)
    ADD(test_rules_sliding_key_lifetime)
    ADD(test_rules_watermark_at_the_end_of_time)
    ADD(test_rules_double_logged_flows)
    ADD(test_rules_sliding_matches_naive_reference)
    ADD(test_rules_sliding_window_shorter_than_reorder)
#undef ADD
    return CUE_SUCCESS;
}
