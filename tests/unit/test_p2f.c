/*
 * test_p2f.c - packets to flow tuples (sim/p2f.c): the decoder on a table
 * of damaged frames, the flow engine's tuple semantics on hand-made
 * packets, and the round trip: a shipped scenario's packets (the
 * simulator's packet hook) through the engine give exactly the tuples the
 * simulator logs directly (5-tuple, direction, state sequence, times,
 * counts), for every flow the NSGs let through.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "p2f.h"
#include "sim.h"
#include "tests.h"

/* ------------------------------------------------------------ decoder */

static size_t eth_ipv4_tcp(uint8_t *f, uint8_t flags)
{
    memset(f, 0, 64);
    f[12] = 0x08, f[13] = 0x00;
    uint8_t *ip = f + 14;
    ip[0] = 0x45, ip[3] = 40, ip[8] = 64, ip[9] = 6;
    ip[12] = 10, ip[15] = 5, ip[16] = 10, ip[19] = 6;
    uint8_t *t = ip + 20;
    t[0] = 0x9c, t[1] = 0x40, t[3] = 22, t[12] = 0x50, t[13] = flags;
    return 54;
}

static void test_p2f_decode_table(void)
{
    uint8_t f[128];
    struct p2f_pkt k;
    size_t n = eth_ipv4_tcp(f, 0x02);
    CU_ASSERT_EQUAL(p2f_decode(P2F_DLT_EN10MB, f, (uint32_t)n, (uint32_t)n, 0, &k), P2F_FLOW);
    CU_ASSERT_EQUAL(k.sport, 40000);
    CU_ASSERT_EQUAL(k.dport, 22);
    CU_ASSERT_EQUAL(k.tcp_flags, 0x02);
    CU_ASSERT_EQUAL(k.bytes, 54);
    /* every cut before the TCP flags is truncated (never a read past
     * caplen); from there on the ports and flags are all we need */
    for (uint32_t cap = 0; cap < 54; cap++) {
        uint8_t *copy = malloc(cap ? cap : 1);
        memcpy(copy, f, cap);
        int v = p2f_decode(P2F_DLT_EN10MB, copy, cap, 54, 0, &k);
        CU_ASSERT_EQUAL(v, cap < 48 ? P2F_TRUNCATED : P2F_FLOW);
        free(copy);
    }
    static const struct {
        size_t off;
        uint8_t val;
        int verdict;
    } bad[] = {
        {14, 0x44, P2F_BAD_HEADER},   /* IHL 4 words */
        {14, 0x55, P2F_BAD_HEADER},   /* version 5 */
        {17, 10, P2F_BAD_HEADER},     /* total length < header */
        {17, 30, P2F_BAD_HEADER},     /* total length cuts the TCP header */
        {23, 1, P2F_ICMP},            /* protocol ICMP */
        {23, 47, P2F_OTHER_PROTO},    /* GRE */
        {20, 0x01, P2F_FRAGMENT},     /* fragment offset 256 (x 8 bytes) */
        {12, 0x88, P2F_NOT_IP},       /* ethertype 0x8800 */
        {14, 0x4f, P2F_BAD_HEADER},   /* IHL 60 bytes: more than the total length */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t g[128];
        memcpy(g, f, sizeof g);
        g[bad[i].off] = bad[i].val;
        int v = p2f_decode(P2F_DLT_EN10MB, g, 54, 54, 0, &k);
        if (v != bad[i].verdict)
            fprintf(stderr, "\ncase %zu: got %s, want %s\n", i, p2f_verdict_name(v),
                    p2f_verdict_name(bad[i].verdict));
        CU_ASSERT_EQUAL(v, bad[i].verdict);
    }
    /* the IP length must fit in the frame on the wire, not in the capture:
     * headers only of a full frame are fine, a length past the frame is not */
    {
        uint8_t g[128];
        memcpy(g, f, sizeof g);
        g[16] = 0x05, g[17] = 0xdc; /* 1500 */
        CU_ASSERT_EQUAL(p2f_decode(P2F_DLT_EN10MB, g, 54, 1514, 0, &k), P2F_FLOW);
        CU_ASSERT_EQUAL(k.bytes, 1514);
        CU_ASSERT_EQUAL(p2f_decode(P2F_DLT_EN10MB, g, 54, 1513, 0, &k), P2F_BAD_HEADER);
        g[16] = 0xff, g[17] = 0xff; /* 65535 in a 54-byte frame */
        CU_ASSERT_EQUAL(p2f_decode(P2F_DLT_EN10MB, g, 54, 54, 0, &k), P2F_BAD_HEADER);
        uint8_t v6h[60];
        memset(v6h, 0, sizeof v6h);
        v6h[0] = 0x60, v6h[4] = 0x05, v6h[5] = 0xc8, v6h[6] = 17; /* payload 1480, UDP */
        CU_ASSERT_EQUAL(p2f_decode(P2F_DLT_RAW, v6h, 48, 1520, 0, &k), P2F_FLOW);
        CU_ASSERT_EQUAL(p2f_decode(P2F_DLT_RAW, v6h, 48, 1519, 0, &k), P2F_BAD_HEADER);
    }
    /* VLAN tags: five stacked is not a packet */
    uint8_t vl[128];
    memset(vl, 0, sizeof vl);
    for (int i = 0; i < 5; i++)
        vl[12 + 4 * i] = 0x81;
    CU_ASSERT_EQUAL(p2f_decode(P2F_DLT_EN10MB, vl, 60, 60, 0, &k), P2F_BAD_HEADER);
    /* an IPv6 extension header claiming more than the payload */
    uint8_t v6[80];
    memset(v6, 0, sizeof v6);
    v6[0] = 0x60, v6[5] = 16, v6[6] = 0; /* hop-by-hop */
    v6[41] = 5;                           /* 48 bytes */
    CU_ASSERT_EQUAL(p2f_decode(P2F_DLT_RAW, v6, 56, 56, 0, &k), P2F_BAD_HEADER);
    /* random bytes never crash, whatever the link type */
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    static const int dlts[] = {P2F_DLT_EN10MB, P2F_DLT_LINUX_SLL, P2F_DLT_LINUX_SLL2,
                               P2F_DLT_RAW,    P2F_DLT_NULL,      P2F_DLT_IPV6};
    for (int i = 0; i < 20000; i++) {
        uint32_t len = (uint32_t)rng_below(&s, 96);
        uint8_t *b = malloc(len ? len : 1);
        for (uint32_t j = 0; j < len; j++)
            b[j] = (uint8_t)rng_next(&s);
        if (len > 0 && i % 2)
            b[0] = (uint8_t)(i % 4 ? 0x45 : 0x60);
        int v = p2f_decode(dlts[i % 6], b, len, len, 0, &k);
        CU_ASSERT_TRUE(v >= 0 && v < P2F_N_VERDICTS);
        free(b);
    }
}

/* ------------------------------------------------------------ engine */

struct got {
    struct scand_tuple t[64];
    size_t n;
};

static int collect(void *arg, const struct scand_tuple *t)
{
    struct got *g = arg;
    if (g->n < 64)
        g->t[g->n++] = *t;
    return 0;
}

static struct p2f_pkt mk(double t, const char *s, unsigned sp, const char *d, unsigned dp,
                         int proto, uint8_t flags, uint32_t bytes)
{
    struct p2f_pkt k;
    memset(&k, 0, sizeof k);
    k.ts_us = 1772445600000000LL + (int64_t)(t * 1e6);
    addr(s, k.src);
    addr(d, k.dst);
    k.sport = (uint16_t)sp;
    k.dport = (uint16_t)dp;
    k.proto = (uint8_t)proto;
    k.tcp_flags = flags;
    k.bytes = bytes;
    return k;
}

/* The default options with inside as the monitored networks (held in
 * static storage: one engine's at a time). */
static void opts_inside(struct p2f_opts *o, const char *inside)
{
    static struct scand_cidr cidrs[4];
    p2f_opts_default(o);
    size_t n;
    CU_ASSERT_EQUAL_FATAL(p2f_parse_cidrs(inside, cidrs, 4, &n), 0);
    o->inside = cidrs;
    o->n_inside = n;
}

static p2f *engine(struct got *g, scand_strtab **st, const char *inside)
{
    struct p2f_opts o;
    opts_inside(&o, inside);
    memset(g, 0, sizeof *g);
    *st = scand_strtab_new();
    p2f *p = p2f_new(&o, *st, collect, g);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    return p;
}

/* Decoded packets come keyed (order and hash worked out on the reading
 * thread): the two directions share a hash, and a keyed packet and one
 * built by hand meet in the same flow. */
static void test_p2f_decoded_packets_keyed(void)
{
    uint8_t f[128], r[128];
    struct p2f_pkt k[2];
    size_t n = eth_ipv4_tcp(f, 0x02);
    eth_ipv4_tcp(r, 0x14); /* the answer: addresses and ports the other way */
    memcpy(r + 26, f + 30, 4), memcpy(r + 30, f + 26, 4);
    memcpy(r + 34, f + 36, 2), memcpy(r + 36, f + 34, 2);
    int64_t t0 = 1772445600000000LL;
    CU_ASSERT_EQUAL_FATAL(p2f_decode(P2F_DLT_EN10MB, f, (uint32_t)n, (uint32_t)n, t0, &k[0]),
                          P2F_FLOW);
    CU_ASSERT_EQUAL_FATAL(p2f_decode(P2F_DLT_EN10MB, r, (uint32_t)n, (uint32_t)n, t0 + 1000,
                                     &k[1]),
                          P2F_FLOW);
    CU_ASSERT_EQUAL(k[1].sport, 22);
    CU_ASSERT(k[0].keyed && k[1].keyed);
    CU_ASSERT_EQUAL(k[0].hash, k[1].hash);
    CU_ASSERT_NOT_EQUAL(k[0].swap, k[1].swap);
    uint8_t junk[64] = {0};
    CU_ASSERT_EQUAL(p2f_decode(P2F_DLT_EN10MB, junk, 10, 10, 0, &k[1]), P2F_TRUNCATED);
    CU_ASSERT_EQUAL(k[1].keyed, 0);
    /* IPv6 sources whose low half (as a word) is the hash's own constant
     * for it, differing only in their high half: they hash apart (a
     * multiply by zero would make them one probe chain) */
    uint32_t hs[64];
    int apart = 1;
    for (unsigned i = 0; i < 64; i++) {
        uint8_t v6[48];
        memset(v6, 0, sizeof v6);
        v6[0] = 0x60, v6[5] = 8, v6[6] = 17; /* payload 8: UDP */
        v6[8] = 0x20, v6[9] = 0x01, v6[15] = (uint8_t)i;
        const uint64_t lo = 0xe7037ed1a0b428dbULL; /* hash_words' constant for a1 */
        memcpy(v6 + 16, &lo, 8);
        v6[24] = 0xfd, v6[39] = 1;
        v6[41] = 53, v6[43] = 53;
        struct p2f_pkt u;
        CU_ASSERT_EQUAL_FATAL(p2f_decode(P2F_DLT_RAW, v6, 48, 48, t0, &u), P2F_FLOW);
        hs[i] = u.hash;
        for (unsigned j = 0; j < i; j++)
            apart &= hs[j] != hs[i];
    }
    CU_ASSERT(apart);
    for (int hand = 0; hand < 2; hand++) { /* the answer decoded, then built by hand */
        struct got g;
        scand_strtab *st;
        p2f *p = engine(&g, &st, "10.0.0.0/8");
        if (hand)
            k[1] = mk(0.001, "10.0.0.6", 22, "10.0.0.5", 40000, 6, 0x14, 54);
        else
            CU_ASSERT_EQUAL(p2f_decode(P2F_DLT_EN10MB, r, (uint32_t)n, (uint32_t)n, t0 + 1000,
                                       &k[1]),
                            P2F_FLOW);
        CU_ASSERT_EQUAL(k[1].keyed, !hand);
        CU_ASSERT_EQUAL(p2f_packets(p, k, 2), 0);
        CU_ASSERT_EQUAL(p2f_finish(p), 0);
        CU_ASSERT_EQUAL_FATAL(g.n, 4); /* B and E at both NICs: one flow */
        for (size_t i = 0; i < g.n; i++) {
            CU_ASSERT_EQUAL(g.t[i].sport, 40000);
            if (g.t[i].state == SCAND_ST_E)
                CU_ASSERT(g.t[i].pkts_s2d == 1 && g.t[i].pkts_d2s == 1);
        }
        p2f_free(p);
        scand_strtab_free(st);
    }
}

/* An idle time so long that the end of the input does not end the flow
 * (a library caller's choice; pcap2flow allows a day): p2f_finish keeps it
 * in the index, so the flow's next packet finds it. */
static void test_p2f_finish_keeps_open_flows(void)
{
    struct p2f_opts o;
    opts_inside(&o, "10.0.0.0/8");
    o.udp_idle_ms = INT64_MAX / 2;
    struct got g;
    memset(&g, 0, sizeof g);
    scand_strtab *st = scand_strtab_new();
    p2f *p = p2f_new(&o, st, collect, &g);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    struct p2f_pkt a = mk(0, "10.0.0.5", 5353, "10.0.0.6", 53, 17, 0, 80);
    struct p2f_pkt b = mk(0, "10.0.0.7", 5353, "10.0.0.6", 53, 17, 0, 80);
    CU_ASSERT_EQUAL(p2f_packet(p, &a), 0);
    CU_ASSERT_EQUAL(p2f_packet(p, &b), 0);
    CU_ASSERT_EQUAL(p2f_finish(p), 0);
    a = mk(1, "10.0.0.5", 5353, "10.0.0.6", 53, 17, 0, 80);
    CU_ASSERT_EQUAL(p2f_packet(p, &a), 0);
    struct p2f_stats ps;
    p2f_get_stats(p, &ps);
    CU_ASSERT_EQUAL(ps.flows, 2); /* not 3: the first flow was found again */
    p2f_free(p);
    scand_strtab_free(st);
}

static void test_p2f_engine_semantics(void)
{
    struct got g;
    scand_strtab *st;
    /* a SYN answered by RST: B and E one packet each way, at both NICs */
    p2f *p = engine(&g, &st, "10.0.0.0/8");
    struct p2f_pkt a = mk(0, "10.0.0.5", 40000, "10.0.0.6", 23, 6, 0x02, 54);
    struct p2f_pkt b = mk(0.001, "10.0.0.6", 23, "10.0.0.5", 40000, 6, 0x14, 54);
    CU_ASSERT_EQUAL(p2f_packet(p, &a), 0);
    CU_ASSERT_EQUAL(p2f_packet(p, &b), 0);
    CU_ASSERT_EQUAL(p2f_finish(p), 0);
    CU_ASSERT_EQUAL_FATAL(g.n, 4);
    int e = 0;
    for (size_t i = 0; i < g.n; i++) {
        if (g.t[i].state != SCAND_ST_E)
            continue;
        e++;
        CU_ASSERT_EQUAL(g.t[i].ts_ms, 1772445600001LL);
        CU_ASSERT_EQUAL(g.t[i].pkts_s2d, 1);
        CU_ASSERT_EQUAL(g.t[i].pkts_d2s, 1);
        CU_ASSERT_EQUAL(g.t[i].sport, 40000);
    }
    CU_ASSERT_EQUAL(e, 2);
    /* p2f_finish empties the index at once: a flow after it is new, even
     * on a 5-tuple that ended there (a stale slot would find the ended
     * flow, off every list: no tuples at all) */
    for (int k = 0; k < 2; k++) {
        a = mk(10 + k, "10.0.0.5", 5353, "10.0.0.6", 53, 17, 0, 80);
        CU_ASSERT_EQUAL(p2f_packet(p, &a), 0);
        CU_ASSERT_EQUAL(p2f_finish(p), 0);
        CU_ASSERT_EQUAL_FATAL(g.n, 8 + 4 * (size_t)k);
        for (size_t i = g.n - 4; i < g.n; i++) {
            CU_ASSERT(g.t[i].state == SCAND_ST_B || g.t[i].state == SCAND_ST_E);
            CU_ASSERT_EQUAL(g.t[i].ts_ms, 1772445610000LL + 1000 * k +
                                              (g.t[i].state == SCAND_ST_E ? 30000 : 0));
        }
    }
    p2f_free(p);
    scand_strtab_free(st);

    /* an unanswered SYN and two retries: E 4 minutes after the last */
    p = engine(&g, &st, "10.0.0.0/8");
    for (int k = 0; k < 3; k++) {
        a = mk(k * 2, "192.0.2.7", 50000, "10.0.0.6", 25, 6, 0x02, 54);
        CU_ASSERT_EQUAL(p2f_packet(p, &a), 0);
    }
    CU_ASSERT_EQUAL(p2f_finish(p), 0);
    CU_ASSERT_EQUAL_FATAL(g.n, 2); /* outside to inside: at the inside NIC only */
    CU_ASSERT_EQUAL(g.t[0].state, SCAND_ST_B);
    CU_ASSERT_EQUAL(g.t[0].dir, SCAND_DIR_IN);
    CU_ASSERT_EQUAL(g.t[1].state, SCAND_ST_E);
    CU_ASSERT_EQUAL(g.t[1].ts_ms, 1772445600000LL + 4000 + SIM_TCP_IDLE_MS);
    CU_ASSERT_EQUAL(g.t[1].pkts_s2d, 3);
    CU_ASSERT_EQUAL(g.t[1].pkts_d2s, 0);
    p2f_free(p);
    scand_strtab_free(st);

    /* a 12-minute UDP exchange every 20 s: C at 5 and 10 minutes with the
     * counts since the previous tuple, E 30 s after the last packet */
    p = engine(&g, &st, "10.0.0.0/8");
    for (int k = 0; k <= 36; k++) {
        a = mk(k * 20, "10.0.0.5", 53000, "10.0.0.53", 53, 17, 0, 100);
        CU_ASSERT_EQUAL(p2f_packet(p, &a), 0);
    }
    CU_ASSERT_EQUAL(p2f_finish(p), 0);
    CU_ASSERT_EQUAL_FATAL(g.n, 8);
    uint64_t sum = 0;
    int cs = 0;
    for (size_t i = 0; i < g.n; i++) {
        if (g.t[i].dir != SCAND_DIR_OUT)
            continue;
        sum += g.t[i].pkts_s2d;
        if (g.t[i].state == SCAND_ST_C) {
            cs++;
            CU_ASSERT_EQUAL(g.t[i].pkts_s2d, 15); /* [0, 300) s and [300, 600) s */
            CU_ASSERT_EQUAL((g.t[i].ts_ms - 1772445600000LL) % 300000, 0);
        }
        if (g.t[i].state == SCAND_ST_E)
            CU_ASSERT_EQUAL(g.t[i].ts_ms, 1772445600000LL + 720000 + SIM_UDP_IDLE_MS);
    }
    CU_ASSERT_EQUAL(cs, 2);
    CU_ASSERT_EQUAL(sum, 37);
    p2f_free(p);
    scand_strtab_free(st);

    /* mid-stream: the first packet comes from the server's port 22; the
     * client (the higher port) is the source */
    p = engine(&g, &st, "10.0.0.0/8");
    a = mk(0, "10.0.0.6", 22, "10.0.0.5", 40003, 6, 0x18, 554);
    CU_ASSERT_EQUAL(p2f_packet(p, &a), 0);
    CU_ASSERT_EQUAL(p2f_finish(p), 0);
    struct p2f_stats s;
    p2f_get_stats(p, &s);
    CU_ASSERT_EQUAL(s.midstream, 1);
    CU_ASSERT_EQUAL_FATAL(g.n, 4);
    CU_ASSERT_EQUAL(g.t[0].sport, 40003);
    CU_ASSERT_EQUAL(g.t[0].dport, 22);
    p2f_free(p);
    scand_strtab_free(st);

    /* lazy lists: a UDP flow quiet for longer than its idle timeout ends
     * there, and its next packet starts a new flow, even while a busy
     * flow keeps the clock moving and the quiet one sits behind it */
    p = engine(&g, &st, "10.0.0.0/8");
    a = mk(0, "10.0.0.5", 53000, "10.0.0.53", 53, 17, 0, 100);
    CU_ASSERT_EQUAL(p2f_packet(p, &a), 0);
    for (int k = 1; k <= 40; k++) { /* a busy flow, one packet a second */
        b = mk(k, "10.0.0.7", 40000, "10.0.0.8", 22, 6, k == 1 ? 0x02 : 0x18, 100);
        CU_ASSERT_EQUAL(p2f_packet(p, &b), 0);
    }
    a = mk(40.5, "10.0.0.5", 53000, "10.0.0.53", 53, 17, 0, 100); /* 40.5 s later */
    CU_ASSERT_EQUAL(p2f_packet(p, &a), 0);
    CU_ASSERT_EQUAL(p2f_finish(p), 0);
    int udp_b = 0, udp_e = 0;
    for (size_t i = 0; i < g.n; i++) {
        if (g.t[i].proto != 17 || g.t[i].dir != SCAND_DIR_OUT)
            continue;
        udp_b += g.t[i].state == SCAND_ST_B;
        if (g.t[i].state == SCAND_ST_E) {
            udp_e++;
            if (udp_e == 1) /* the first ends 30 s after its only packet */
                CU_ASSERT_EQUAL(g.t[i].ts_ms, 1772445600000LL + SIM_UDP_IDLE_MS);
            CU_ASSERT_EQUAL(g.t[i].pkts_s2d, 1);
        }
    }
    CU_ASSERT_EQUAL(udp_b, 2);
    CU_ASSERT_EQUAL(udp_e, 2);
    p2f_free(p);
    scand_strtab_free(st);

    /* a late RST (stamped before the flow's last packet) ends it no earlier
     * than that packet */
    p = engine(&g, &st, "10.0.0.0/8");
    a = mk(1, "10.0.0.5", 40100, "10.0.0.6", 80, 6, 0x02, 54);
    CU_ASSERT_EQUAL(p2f_packet(p, &a), 0);
    b = mk(0.9, "10.0.0.6", 80, "10.0.0.5", 40100, 6, 0x14, 54);
    CU_ASSERT_EQUAL(p2f_packet(p, &b), 0);
    CU_ASSERT_EQUAL(p2f_finish(p), 0);
    for (size_t i = 0; i < g.n; i++)
        if (g.t[i].state == SCAND_ST_E)
            CU_ASSERT_EQUAL(g.t[i].ts_ms, 1772445601000LL);
    p2f_free(p);
    scand_strtab_free(st);

    /* outside to outside: skipped and counted */
    p = engine(&g, &st, "10.0.0.0/8");
    a = mk(0, "192.0.2.1", 1234, "192.0.2.2", 80, 6, 0x02, 54);
    CU_ASSERT_EQUAL(p2f_packet(p, &a), 0);
    CU_ASSERT_EQUAL(p2f_finish(p), 0);
    p2f_get_stats(p, &s);
    CU_ASSERT_EQUAL(s.outside, 1);
    CU_ASSERT_EQUAL(g.n, 0);
    p2f_free(p);
    scand_strtab_free(st);
}

/* ------------------------------------------------------------ round trip */

struct rt {
    struct scand_tuple *t;
    size_t n, cap;
    p2f *p;
    int failed;
};

static void rt_add(struct rt *r, const struct scand_tuple *t)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 65536;
        r->t = realloc(r->t, r->cap * sizeof *r->t);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r->t);
    }
    r->t[r->n++] = *t;
}

static int rt_tuple(void *arg, const struct scand_tuple *t)
{
    rt_add(arg, t);
    return 0;
}

struct both {
    struct rt sim, pk;
};

static int on_blob(void *arg, const struct scand_blob_meta *meta, int64_t hour,
                   const struct scand_tuple *t, size_t n)
{
    (void)meta, (void)hour;
    struct both *b = arg;
    for (size_t i = 0; i < n; i++) {
        struct scand_tuple x = t[i];
        /* the simulator puts the destination NIC's clock 1 ms ahead; one
         * capture has one clock */
        if (x.dir == SCAND_DIR_IN)
            x.ts_ms -= 1;
        rt_add(&b->sim, &x);
    }
    return 0;
}

static int on_packet(void *arg, const struct sim_packet *sp)
{
    struct both *b = arg;
    struct p2f_pkt k;
    memset(&k, 0, sizeof k);
    k.ts_us = sp->ts_us;
    uint8_t a4[4] = {(uint8_t)(sp->src >> 24), (uint8_t)(sp->src >> 16), (uint8_t)(sp->src >> 8),
                     (uint8_t)sp->src};
    uint8_t b4[4] = {(uint8_t)(sp->dst >> 24), (uint8_t)(sp->dst >> 16), (uint8_t)(sp->dst >> 8),
                     (uint8_t)sp->dst};
    k.src[10] = k.src[11] = k.dst[10] = k.dst[11] = 0xff;
    memcpy(k.src + 12, a4, 4);
    memcpy(k.dst + 12, b4, 4);
    k.sport = sp->sport;
    k.dport = sp->dport;
    k.proto = sp->proto;
    k.tcp_flags = sp->tcp_flags;
    k.bytes = sp->ip_len + 14;
    k.has_mac = 1;
    memcpy(k.src_mac, sp->src_mac, 6);
    if (k.proto != 6 && k.proto != 17)
        return 0; /* ICMP: not logged */
    return p2f_packet(b->pk.p, &k) != 0;
}

/* (5-tuple, direction): one flow at one NIC side. */
static int cmp_side(const void *x, const void *y)
{
    const struct scand_tuple *a = x, *b = y;
    int c = memcmp(a->src, b->src, 16);
    if (c == 0)
        c = memcmp(a->dst, b->dst, 16);
    if (c == 0)
        c = (int)a->sport - (int)b->sport;
    if (c == 0)
        c = (int)a->dport - (int)b->dport;
    if (c == 0)
        c = (int)a->proto - (int)b->proto;
    if (c == 0)
        c = (int)a->dir - (int)b->dir;
    return c;
}

/* Compare on what both sides know: 5-tuple, direction, then time, state
 * and counts (not the NIC: a host that never answers has a derived MAC). */
static int cmp_rt(const void *x, const void *y)
{
    const struct scand_tuple *a = x, *b = y;
    int c = cmp_side(x, y);
    if (c == 0)
        c = a->ts_ms < b->ts_ms ? -1 : a->ts_ms > b->ts_ms;
    if (c == 0)
        c = (int)a->state - (int)b->state;
    if (c == 0)
        c = a->pkts_s2d < b->pkts_s2d ? -1 : a->pkts_s2d > b->pkts_s2d;
    if (c == 0)
        c = a->bytes_s2d < b->bytes_s2d ? -1 : a->bytes_s2d > b->bytes_s2d;
    if (c == 0)
        c = a->pkts_d2s < b->pkts_d2s ? -1 : a->pkts_d2s > b->pkts_d2s;
    if (c == 0)
        c = a->bytes_d2s < b->bytes_d2s ? -1 : a->bytes_d2s > b->bytes_d2s;
    return c;
}

/* bsearch over a list sorted by cmp_rt, on the (5-tuple, direction)
 * prefix: cmp_rt orders by that prefix first. */
static int cmp_side_first(const void *key, const void *elem)
{
    return cmp_side(key, elem);
}

static int same_flow(const struct scand_tuple *a, const struct scand_tuple *b)
{
    return memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0 &&
           a->sport == b->sport && a->dport == b->dport && a->proto == b->proto;
}

/* Drop every tuple of a flow that has a D tuple in sim (NSG-denied: the
 * capture cannot know the NSG without a policy file). */
static size_t drop_denied(struct scand_tuple *t, size_t n, const struct scand_tuple *den, size_t nd)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int denied = 0;
        for (size_t j = 0; j < nd && !denied; j++)
            denied = same_flow(&t[i], &den[j]);
        if (!denied)
            t[k++] = t[i];
    }
    return k;
}

/* Tuples counted, not kept: for runs of many flows. */
struct tally {
    uint64_t b, e, other, pkts_s2d, pkts_d2s, bad;
};

static int count_tuple(void *arg, const struct scand_tuple *t)
{
    struct tally *y = arg;
    if (t->state == SCAND_ST_B)
        y->b++;
    else if (t->state == SCAND_ST_E)
        y->e++;
    else
        y->other++;
    y->pkts_s2d += t->pkts_s2d;
    y->pkts_d2s += t->pkts_d2s;
    /* each flow's E: the source port says which flow, the counts must be its own */
    if (t->state == SCAND_ST_E && (t->pkts_s2d != 1u + t->sport % 3u || t->pkts_d2s != 1))
        y->bad++;
    return 0;
}

/* 100,000 flows open at once: the flow slab and its index grow through
 * several sizes (moved by mremap, not copied), and every
 * flow keeps its own state across the moves. */
static void test_p2f_many_flows(void)
{
    enum { N = 100000 };
    struct p2f_opts o;
    opts_inside(&o, "10.0.0.0/8");
    struct tally y;
    memset(&y, 0, sizeof y);
    scand_strtab *st = scand_strtab_new();
    p2f *p = p2f_new(&o, st, count_tuple, &y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    struct p2f_pkt *k = calloc(N, sizeof *k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    /* every flow: SYNs from outside (1 to 3, by source port), one a
     * millisecond, then an RST back closes it */
    for (int round = 0; round < 4; round++) {
        size_t n = 0;
        for (unsigned i = 0; i < N; i++) {
            char src[32];
            snprintf(src, sizeof src, "198.51.%u.%u", i / 250 % 256, i % 250 + 1);
            unsigned sport = 1024 + i / 64000 * 7 + (i % 60000);
            unsigned syns = 1 + sport % 3;
            double t = round * 0.001;
            if (round < 3 && (unsigned)round < syns)
                k[n++] = mk(t, src, sport, "10.1.2.3", 443, 6, 0x02, 60);
            else if (round == 3)
                k[n++] = mk(t, "10.1.2.3", 443, src, sport, 6, 0x14, 54);
        }
        CU_ASSERT_EQUAL(p2f_packets(p, k, n), 0);
    }
    CU_ASSERT_EQUAL(p2f_finish(p), 0);
    struct p2f_stats ps;
    p2f_get_stats(p, &ps);
    CU_ASSERT_EQUAL(ps.flows, N);
    CU_ASSERT_EQUAL(ps.peak_flows, N);
    CU_ASSERT_EQUAL(y.b, N); /* outside to inside: one NIC logs each */
    CU_ASSERT_EQUAL(y.e, N);
    CU_ASSERT_EQUAL(y.other, 0);
    CU_ASSERT_EQUAL(y.pkts_d2s, N);
    CU_ASSERT_EQUAL(y.bad, 0);
    free(k);
    p2f_free(p);
    scand_strtab_free(st);
}

/* Each tuple's NIC against the name it must have: the MAC of the inside
 * end's frames, else the one derived from its address. */
struct nics {
    const scand_strtab *st;
    uint64_t tuples, bad;
};

static int check_nic(void *arg, const struct scand_tuple *t)
{
    struct nics *y = arg;
    y->tuples++;
    size_t len;
    const char *got = scand_strtab_get(y->st, t->mac, &len);
    char want[13];
    unsigned host = (unsigned)t->src[14] << 8 | t->src[15]; /* the inside end: 10.9.x.y */
    if (t->src[13] == 9 && host % 2 == 0)
        snprintf(want, sizeof want, "02AB%02X%02X%02X%02X", host >> 8, host & 0xff,
                 0x5a, (unsigned)t->sport & 0xff);
    else
        p2f_derived_mac(t->src, want);
    if (got == NULL || len != 12 || memcmp(got, want, 12) != 0)
        y->bad++;
    return 0;
}

/* 3,000 inside addresses (past the NIC cache's first sizes), half with
 * Ethernet MACs and half without, each in two flows: every tuple names its
 * NIC right, and each NIC is interned once. */
static void test_p2f_nic_names(void)
{
    enum { N = 3000 };
    struct p2f_opts o;
    opts_inside(&o, "10.9.0.0/16");
    scand_strtab *st = scand_strtab_new();
    struct nics y = {st, 0, 0};
    p2f *p = p2f_new(&o, st, check_nic, &y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    uint32_t before = scand_strtab_count(st); /* the flow group's strings */
    struct p2f_pkt k[2 * N];
    for (unsigned i = 0; i < 2 * N; i++) {
        unsigned host = i % N + 1;
        char src[32];
        snprintf(src, sizeof src, "10.9.%u.%u", host >> 8, host & 0xff);
        /* sport's low byte is the MAC's last: the same for both flows */
        unsigned sport = 40000 + (i / N) * 256 + (host & 0xff);
        k[i] = mk(i * 0.001, src, sport, "203.0.113.7", 53, 17, 0, 80);
        if (host % 2 == 0) {
            static const uint8_t pre[2] = {0x02, 0xab};
            memcpy(k[i].src_mac, pre, 2);
            k[i].src_mac[2] = (uint8_t)(host >> 8);
            k[i].src_mac[3] = (uint8_t)host;
            k[i].src_mac[4] = 0x5a;
            k[i].src_mac[5] = (uint8_t)sport;
            k[i].has_mac = 1;
        }
    }
    CU_ASSERT_EQUAL(p2f_packets(p, k, 2 * N), 0);
    CU_ASSERT_EQUAL(p2f_finish(p), 0);
    CU_ASSERT_EQUAL(y.tuples, 4 * N); /* B and E of each flow */
    CU_ASSERT_EQUAL(y.bad, 0);
    CU_ASSERT_EQUAL(scand_strtab_count(st) - before, N);
    p2f_free(p);
    scand_strtab_free(st);
}

static void test_p2f_round_trip_scenario(void)
{
    FILE *f = fopen("../../scenarios/vertical.json", "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char *text = malloc(1 << 20);
    size_t len = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    sim_scenario *sc;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(sim_scenario_parse("vertical.json", text, len, &sc, err, sizeof err), 0);
    free(text);
    static struct both b;
    memset(&b, 0, sizeof b);
    scand_strtab *st = scand_strtab_new(), *st2 = scand_strtab_new();
    struct scand_cidr in[1];
    size_t nin;
    CU_ASSERT_EQUAL_FATAL(p2f_parse_cidrs("10.0.0.0/8", in, 1, &nin), 0);
    struct p2f_opts o;
    p2f_opts_default(&o);
    o.inside = in;
    o.n_inside = nin;
    b.pk.p = p2f_new(&o, st2, rt_tuple, &b.pk);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.pk.p);
    struct sim_hooks hooks = {on_blob, &b, on_packet, &b, NULL, NULL, 0};
    struct sim_result *res;
    CU_ASSERT_EQUAL_FATAL(sim_generate(sc, st, &hooks, &res, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(p2f_finish(b.pk.p), 0);
    /* the simulator's denied flows, out of both sides */
    struct scand_tuple *den = malloc(b.sim.n * sizeof *den);
    size_t nd = 0;
    for (size_t i = 0; i < b.sim.n; i++)
        if (b.sim.t[i].state == SCAND_ST_D)
            den[nd++] = b.sim.t[i];
    CU_ASSERT_TRUE(nd > 0); /* the scenario has NSG denials to set aside */
    size_t ns = drop_denied(b.sim.t, b.sim.n, den, nd);
    size_t np = drop_denied(b.pk.t, b.pk.n, den, nd);
    /* the simulator writes nothing at or after the scenario's end (I
     * tuples: 1 ms ahead); pcap2flow ends the flows still open when the
     * capture ends, after their idle timeout */
    size_t kk = 0;
    for (size_t i = 0; i < np; i++)
        if (b.pk.t[i].ts_ms + (b.pk.t[i].dir == SCAND_DIR_IN) < res->end_ms)
            b.pk.t[kk++] = b.pk.t[i];
    np = kk;
    qsort(b.sim.t, ns, sizeof *b.sim.t, cmp_rt);
    qsort(b.pk.t, np, sizeof *b.pk.t, cmp_rt);
    /* A capture cannot tell that the hub firewall dropped a flow before
     * the destination's NIC: pcap2flow logs it there too. Set aside the
     * destination side of flows the simulator logs only at the source,
     * and check that each of them is unanswered (as a dropped flow is). */
    size_t k = 0, fw = 0, bad = 0;
    for (size_t i = 0; i < np; i++) {
        const struct scand_tuple *hit =
            bsearch(&b.pk.t[i], b.sim.t, ns, sizeof *b.sim.t, cmp_side_first);
        if (hit != NULL) {
            b.pk.t[k++] = b.pk.t[i];
            continue;
        }
        fw++;
        bad += b.pk.t[i].dir != SCAND_DIR_IN || b.pk.t[i].pkts_d2s != 0;
    }
    np = k;
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_TRUE(fw > 0); /* vertical.json has a scan the firewall drops */
    CU_ASSERT_TRUE(ns > 10000);
    CU_ASSERT_EQUAL(ns, np);
    /* merge the sorted lists; print the first differences */
    size_t diff = 0, i = 0, jj = 0;
    while (i < ns || jj < np) {
        int c = i == ns ? 1 : jj == np ? -1 : cmp_rt(&b.sim.t[i], &b.pk.t[jj]);
        if (c == 0) {
            i++, jj++;
            continue;
        }
        const struct scand_tuple *x = c < 0 ? &b.sim.t[i++] : &b.pk.t[jj++];
        if (diff++ < 4) {
            char line[192];
            scand_tuple_format(x, line, sizeof line);
            fprintf(stderr, "\n only in %s: %s", c < 0 ? "sim" : "p2f", line);
        }
    }
    CU_ASSERT_EQUAL(diff, 0);
    free(den);
    free(b.sim.t);
    free(b.pk.t);
    p2f_free(b.pk.p);
    sim_result_free(res);
    scand_strtab_free(st);
    scand_strtab_free(st2);
    sim_scenario_free(sc);
}

int test_p2f_register(void)
{
    CU_pSuite s = CU_add_suite("p2f", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
    if (CU_add_test(s, "decode_table", test_p2f_decode_table) == NULL ||
        CU_add_test(s, "decoded_packets_keyed", test_p2f_decoded_packets_keyed) == NULL ||
        CU_add_test(s, "finish_keeps_open_flows", test_p2f_finish_keeps_open_flows) == NULL ||
        CU_add_test(s, "engine_semantics", test_p2f_engine_semantics) == NULL ||
        CU_add_test(s, "many_flows", test_p2f_many_flows) == NULL ||
        CU_add_test(s, "nic_names", test_p2f_nic_names) == NULL ||
        CU_add_test(s, "round_trip_scenario", test_p2f_round_trip_scenario) == NULL)
        return CU_get_error();
    return CUE_SUCCESS;
}
