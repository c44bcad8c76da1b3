/*
 * test_tuple.c - flowTuple text: a table of malformed tuples, each with the
 * exact reason scand_tuple_parse() gives; valid IPv4/IPv6 tuples; the NSG
 * letter mappings; all eight encryption names; scand_tuple_format() giving
 * back canonical input byte for byte; and the address helpers.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests.h"

#define V4 SCAND_FMT_VNET4
#define N2 SCAND_FMT_NSG2
#define N1 SCAND_FMT_NSG1

/* Parse s (NUL-terminated) as fmt into *t; reason into why. */
static int parse(const char *s, enum scand_fmt fmt, struct scand_tuple *t, char *why, size_t n)
{
    return scand_tuple_parse(s, strlen(s), fmt, t, why, n);
}

static void test_tuple_malformed_have_exact_reasons(void)
{
    static const struct {
        enum scand_fmt fmt;
        const char *s;
        const char *why; /* the whole reason */
    } bad[] = {
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,B,NX,0,0,0",
         "wrong field count: 12 (want 13)"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,B,NX,0,0,0,0,0",
         "wrong field count: 14 (want 13)"},
        {V4, "", "wrong field count: 1 (want 13)"},
        {V4, ",,,,,,,,,,,,,,,,,,,", "wrong field count: 20 (want 13)"},
        {N1, "1531917387,10.0.0.4,13.79.239.69,123,123,U,O", "wrong field count: 7 (want 8)"},
        {N1, "1531917387,10.0.0.4,13.79.239.69,123,123,U,O,A,B", "wrong field count: 9 (want 8)"},
        {V4, "1786653100000,1.2.3,10.0.0.2,1,80,6,O,B,NX,,,,", "bad source IP '1.2.3'"},
        {V4, "1786653100000,256.1.1.1,10.0.0.2,1,80,6,O,B,NX,,,,", "bad source IP '256.1.1.1'"},
        {V4, "1786653100000,10.0.0.1,1.2.3.4.5,1,80,6,O,B,NX,,,,",
         "bad destination IP '1.2.3.4.5'"},
        {V4, "1786653100000,,10.0.0.2,1,80,6,O,B,NX,,,,", "bad source IP ''"},
        {V4, "1786653100000,::g,::1,1,80,6,O,B,NX,,,,", "bad source IP '::g'"},
        {V4, "1786653100000,0010.0.0.1,10.0.0.2,1,80,6,O,B,NX,,,,", "bad source IP '0010.0.0.1'"},
        {V4, "1786653100000,10.0.0.1,+1.0.0.2,1,80,6,O,B,NX,,,,", "bad destination IP '+1.0.0.2'"},
        {V4, "1786653100000,fe80::1%eth0,fe80::2,1,80,6,O,B,NX,,,,",
         "bad source IP 'fe80::1%eth0'"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,65536,80,6,O,B,NX,,,,", "bad source port '65536'"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,-1,6,O,B,NX,,,,", "bad destination port '-1'"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,99999999999,6,O,B,NX,,,,",
         "bad destination port '99999999999'"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,,80,6,O,B,NX,,,,", "bad source port ''"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,256,O,B,NX,,,,", "bad protocol '256'"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,T,O,B,NX,,,,", "bad protocol 'T'"},
        {N2, "1542110402,10.0.0.1,10.0.0.2,1,80,6,O,A,B,,,,", "bad protocol '6' (want T or U)"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,X,NX,,,,",
         "bad flow state 'X' (want B, C, E or D)"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,BB,NX,,,,",
         "bad flow state 'BB' (want B, C, E or D)"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,,NX,,,,",
         "bad flow state '' (want B, C, E or D)"},
        {N2, "1542110402,10.0.0.1,10.0.0.2,1,80,T,O,A,D,,,,",
         "bad flow state 'D' (want B, C or E)"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,X,B,NX,,,,",
         "bad direction 'X' (want I or O)"},
        {N1, "1531917387,10.0.0.4,13.79.239.69,123,123,U,In,A", "bad direction 'In' (want I or O)"},
        {N1, "1531917387,10.0.0.4,13.79.239.69,123,123,U,O,B", "bad decision 'B' (want A or D)"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,B,NX_BOGUS,,,,",
         "bad encryption 'NX_BOGUS'"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,B,,,,,", "bad encryption ''"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,B,nx,,,,", "bad encryption 'nx'"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,B,NX,99999999999999999999999,0,0,0",
         "huge packets sent '99999999999999999999999'"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,B,NX,0,0,0,18446744073709551616",
         "huge bytes received '18446744073709551616'"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,B,NX,0,1x,0,0", "bad bytes sent '1x'"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,B,NX,0,0,-3,0", "bad packets received '-3'"},
        {V4, "17866531000,10.0.0.1,10.0.0.2,1,80,6,O,B,NX,,,,", "bad timestamp '17866531000'"},
        {V4, "178665310000,10.0.0.1,10.0.0.2,1,80,6,O,B,NX,,,,", "bad timestamp '178665310000'"},
        {V4, "17866531000000000,10.0.0.1,10.0.0.2,1,80,6,O,B,NX,,,,",
         "bad timestamp '17866531000000000'"},
        {V4, "-1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,B,NX,,,,",
         "bad timestamp '-1786653100000'"},
        {V4, ",10.0.0.1,10.0.0.2,1,80,6,O,B,NX,,,,", "bad timestamp ''"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,B,NX,1,,,", "counters partly empty"},
        {V4, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,B,NX,,,,0", "counters partly empty"},
        {N2, "1542110402,10.0.0.1,10.0.0.2,1,80,T,O,A,E,1,2,3,", "counters partly empty"},
        {V4, "1786653100000,10.0.0.1,fd00::2,1,80,6,O,B,NX,,,,", "address families differ"},
        {V4, "1786653100000,fd00::1,10.0.0.2,1,80,6,O,B,NX,,,,", "address families differ"},
        /* Hostile fields are cut to 40 characters, control bytes shown as '?'. */
        {V4,
         "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,B,\x01\x1b[2JAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
         "AAAAAAAAAAAAAAAAAAAAA,,,,",
         "bad encryption '??[2JAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct scand_tuple t, before;
        memset(&t, 0xa5, sizeof t);
        before = t;
        char why[96] = "";
        int rc = parse(bad[i].s, bad[i].fmt, &t, why, sizeof why);
        CU_ASSERT_EQUAL(rc, SCAND_ERR_INVAL);
        CU_ASSERT_STRING_EQUAL(why, bad[i].why);
        if (rc != SCAND_ERR_INVAL || strcmp(why, bad[i].why) != 0)
            fprintf(stderr, "\n  case %zu: \"%s\" -> %d \"%s\"\n", i, bad[i].s, rc, why);
        CU_ASSERT(memcmp(&t, &before, sizeof t) == 0); /* untouched on failure */
    }
}

static void test_tuple_vnet_fields_parse(void)
{
    struct scand_tuple t;
    memset(&t, 0, sizeof t);
    t.mac = 5;
    t.group = 7;
    t.campaign = 9;
    char why[96];
    const char *s =
        "1786653100123,10.1.2.3,192.168.4.5,40000,443,6,O,C,X,1,2,3,18446744073709551615";
    CU_ASSERT_EQUAL_FATAL(parse(s, V4, &t, why, sizeof why), SCAND_OK);
    uint8_t a[16];
    addr("10.1.2.3", a);
    CU_ASSERT(memcmp(t.src, a, 16) == 0);
    addr("192.168.4.5", a);
    CU_ASSERT(memcmp(t.dst, a, 16) == 0);
    CU_ASSERT_EQUAL(t.ts_ms, 1786653100123);
    CU_ASSERT_EQUAL(t.sport, 40000);
    CU_ASSERT_EQUAL(t.dport, 443);
    CU_ASSERT_EQUAL(t.proto, 6);
    CU_ASSERT_EQUAL(t.dir, SCAND_DIR_OUT);
    CU_ASSERT_EQUAL(t.state, SCAND_ST_C);
    CU_ASSERT_EQUAL(t.enc, SCAND_ENC_X);
    CU_ASSERT_EQUAL(t.pkts_s2d, 1);
    CU_ASSERT_EQUAL(t.bytes_s2d, 2);
    CU_ASSERT_EQUAL(t.pkts_d2s, 3);
    CU_ASSERT_EQUAL(t.bytes_d2s, UINT64_MAX);
    CU_ASSERT_EQUAL(t.flags, 0);
    /* mac, group and campaign are the caller's. */
    CU_ASSERT_EQUAL(t.mac, 5);
    CU_ASSERT_EQUAL(t.group, 7);
    CU_ASSERT_EQUAL(t.campaign, 9);
    /* Seconds: ts * 1000 and the flag; empty counters: NOCOUNT. */
    CU_ASSERT_EQUAL_FATAL(
        parse("1786653100,10.1.2.3,10.1.2.4,1,2,17,I,D,NX,,,,", V4, &t, why, sizeof why), SCAND_OK);
    CU_ASSERT_EQUAL(t.ts_ms, 1786653100000);
    CU_ASSERT_EQUAL(t.flags, SCAND_TF_TS_SEC | SCAND_TF_NOCOUNT);
    CU_ASSERT_EQUAL(t.dir, SCAND_DIR_IN);
    CU_ASSERT_EQUAL(t.state, SCAND_ST_D);
    CU_ASSERT_EQUAL(t.proto, 17);
}

static void test_tuple_ipv6_parses_and_sets_flag(void)
{
    struct scand_tuple t;
    memset(&t, 0, sizeof t);
    char why[96];
    CU_ASSERT_EQUAL_FATAL(parse("1786653100000,fd00::1,2001:db8:0:1::ab,1,80,6,O,B,NX,0,0,0,0", V4,
                                &t, why, sizeof why),
                          SCAND_OK);
    CU_ASSERT_EQUAL(t.flags, SCAND_TF_V6);
    CU_ASSERT_EQUAL(t.src[0], 0xfd);
    CU_ASSERT_EQUAL(t.src[15], 1);
    CU_ASSERT_EQUAL(t.dst[0], 0x20);
    CU_ASSERT_EQUAL(t.dst[15], 0xab);
    CU_ASSERT(!scand_addr_is_v4(t.src));
    char buf[256];
    scand_tuple_format(&t, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "1786653100000,fd00::1,2001:db8:0:1::ab,1,80,6,O,B,NX,0,0,0,0");
    /* The longest text a valid tuple can have (220 bytes) round trips. */
    const char *longest = "9999999999999999,ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe,"
                          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,65535,65535,255,I,E,"
                          "NX_HW_NOT_SUPPORTED,18446744073709551615,18446744073709551615,"
                          "18446744073709551615,18446744073709551615";
    CU_ASSERT_EQUAL_FATAL(parse(longest, V4, &t, why, sizeof why), SCAND_OK);
    size_t n = scand_tuple_format(&t, buf, sizeof buf);
    CU_ASSERT_EQUAL(n, 220);
    CU_ASSERT_STRING_EQUAL(buf, longest);
}

static void test_tuple_nsg_letters_map(void)
{
    static const struct {
        enum scand_fmt fmt;
        const char *s;
        int proto, state, flags;
    } ok[] = {
        {N2, "1542110402,10.0.0.1,10.0.0.2,1,80,T,O,A,B,,,,", 6, SCAND_ST_B,
         SCAND_TF_TS_SEC | SCAND_TF_NOCOUNT},
        {N2, "1542110402,10.0.0.1,10.0.0.2,1,80,U,O,A,C,1,2,3,4", 17, SCAND_ST_C, SCAND_TF_TS_SEC},
        {N2, "1542110402,10.0.0.1,10.0.0.2,1,80,T,O,A,E,1,2,3,4", 6, SCAND_ST_E, SCAND_TF_TS_SEC},
        {N2, "1542110402,10.0.0.1,10.0.0.2,1,80,T,I,D,B,,,,", 6, SCAND_ST_D,
         SCAND_TF_TS_SEC | SCAND_TF_NOCOUNT},
        {N2, "1542110402,10.0.0.1,10.0.0.2,1,80,U,I,D,E,0,0,0,0", 17, SCAND_ST_D, SCAND_TF_TS_SEC},
        {N1, "1531917387,10.0.0.4,13.79.239.69,123,123,U,O,A", 17, SCAND_ST_B,
         SCAND_TF_TS_SEC | SCAND_TF_NOCOUNT},
        {N1, "1531917387,10.0.0.4,13.79.239.69,123,123,T,I,D", 6, SCAND_ST_D,
         SCAND_TF_TS_SEC | SCAND_TF_NOCOUNT},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct scand_tuple t;
        memset(&t, 0, sizeof t);
        char why[96] = "";
        CU_ASSERT_EQUAL(parse(ok[i].s, ok[i].fmt, &t, why, sizeof why), SCAND_OK);
        CU_ASSERT_EQUAL(t.proto, ok[i].proto);
        CU_ASSERT_EQUAL(t.state, ok[i].state);
        CU_ASSERT_EQUAL(t.flags, ok[i].flags);
        CU_ASSERT_EQUAL(t.enc, SCAND_ENC_UNKNOWN);
        CU_ASSERT_EQUAL(t.ts_ms % 1000, 0);
    }
}

static void test_tuple_all_encryption_names(void)
{
    static const char *const names[] = {
        "X",
        "NX",
        "NX_HW_NOT_SUPPORTED",
        "NX_SW_NOT_READY",
        "NX_NOT_ACCEPTED",
        "NX_NOT_SUPPORTED",
        "NX_LOCAL_DST",
        "NX_FALLBACK",
    };
    CU_ASSERT_EQUAL(sizeof names / sizeof names[0], SCAND_ENC_COUNT - 1);
    for (int e = 1; e < SCAND_ENC_COUNT; e++) {
        char s[160], why[96], out[160];
        snprintf(s, sizeof s, "1786653100000,10.0.0.1,10.0.0.2,1,80,6,O,E,%s,1,2,3,4",
                 names[e - 1]);
        struct scand_tuple t;
        memset(&t, 0, sizeof t);
        CU_ASSERT_EQUAL(parse(s, V4, &t, why, sizeof why), SCAND_OK);
        CU_ASSERT_EQUAL(t.enc, e);
        CU_ASSERT_STRING_EQUAL(scand_enc_name(e), names[e - 1]);
        scand_tuple_format(&t, out, sizeof out);
        CU_ASSERT_STRING_EQUAL(out, s);
    }
    CU_ASSERT_STRING_EQUAL(scand_enc_name(SCAND_ENC_UNKNOWN), "");
    CU_ASSERT_STRING_EQUAL(scand_enc_name(SCAND_ENC_COUNT), "");
    CU_ASSERT_STRING_EQUAL(scand_enc_name(-1), "");
}

static void test_tuple_format_round_trips_canonical_text(void)
{
    static const char *const canon[] = {
        "1786653100000,10.0.0.1,10.0.0.2,40000,80,6,O,B,NX,,,,",
        "1786653100000,10.0.0.1,10.0.0.2,40000,80,6,O,B,NX,0,0,0,0",
        "1786653103883,147.185.132.143,10.0.5.4,50648,9881,6,I,D,NX,0,0,0,0",
        "1786653112710,40.87.164.0,10.0.5.4,23456,25800,6,I,E,NX,1,128,1,54",
        "1786653100001,0.0.0.0,255.255.255.255,0,65535,0,I,C,X,1,1,1,1",
        "1786653100000,::,::1,1,2,58,O,D,NX_LOCAL_DST,,,,",
        "1786653100000,fe80::1:2,fd12:3456:789a:1::1,1,2,17,I,B,NX_FALLBACK,5,6,7,8",
        "9999999999999999,10.0.0.1,10.0.0.2,1,2,255,O,E,NX,18446744073709551615,0,0,1",
        "1000000000000,10.0.0.1,10.0.0.2,1,2,1,O,B,NX,,,,",
    };
    for (size_t i = 0; i < sizeof canon / sizeof canon[0]; i++) {
        struct scand_tuple t;
        memset(&t, 0, sizeof t);
        char why[96] = "", out[200];
        CU_ASSERT_EQUAL(parse(canon[i], V4, &t, why, sizeof why), SCAND_OK);
        size_t n = scand_tuple_format(&t, out, sizeof out);
        CU_ASSERT_STRING_EQUAL(out, canon[i]);
        CU_ASSERT_EQUAL(n, strlen(canon[i]));
    }
    /* Non-canonical inputs format canonically: seconds become ms, NSG's
     * missing encryption becomes NX, IPv6 is compressed. */
    static const struct {
        enum scand_fmt fmt;
        const char *in, *out;
    } norm[] = {
        {V4, "1786653100,10.0.0.1,10.0.0.2,1,2,6,O,B,NX,,,,",
         "1786653100000,10.0.0.1,10.0.0.2,1,2,6,O,B,NX,,,,"},
        {N2, "1542110402,10.0.0.1,10.0.0.2,1,80,U,I,D,B,,,,",
         "1542110402000,10.0.0.1,10.0.0.2,1,80,17,I,D,NX,,,,"},
        {N1, "1531917387,10.0.0.4,13.79.239.69,123,123,U,O,A",
         "1531917387000,10.0.0.4,13.79.239.69,123,123,17,O,B,NX,,,,"},
        {V4, "1786653100000,FD00:0:0:0:0:0:0:1,fd00::02,01,002,006,O,B,NX,00,0,0,0",
         "1786653100000,fd00::1,fd00::2,1,2,6,O,B,NX,0,0,0,0"},
    };
    for (size_t i = 0; i < sizeof norm / sizeof norm[0]; i++) {
        struct scand_tuple t;
        memset(&t, 0, sizeof t);
        char why[96] = "", out[200];
        CU_ASSERT_EQUAL(parse(norm[i].in, norm[i].fmt, &t, why, sizeof why), SCAND_OK);
        scand_tuple_format(&t, out, sizeof out);
        CU_ASSERT_STRING_EQUAL(out, norm[i].out);
    }
}

static void test_tuple_format_follows_snprintf_rules(void)
{
    const char *s = "1786653100000,10.0.0.1,10.0.0.2,40000,80,6,O,B,NX,,,,";
    struct scand_tuple t;
    memset(&t, 0, sizeof t);
    char why[96], out[16];
    CU_ASSERT_EQUAL_FATAL(parse(s, V4, &t, why, sizeof why), SCAND_OK);
    memset(out, 'x', sizeof out);
    CU_ASSERT_EQUAL(scand_tuple_format(&t, out, sizeof out), strlen(s));
    CU_ASSERT_EQUAL(out[15], '\0');
    CU_ASSERT(strncmp(out, s, 15) == 0);
    CU_ASSERT_EQUAL(scand_tuple_format(&t, NULL, 0), strlen(s));
}

static void test_tuple_names_and_addresses(void)
{
    CU_ASSERT_STRING_EQUAL(scand_state_name(SCAND_ST_B), "B");
    CU_ASSERT_STRING_EQUAL(scand_state_name(SCAND_ST_C), "C");
    CU_ASSERT_STRING_EQUAL(scand_state_name(SCAND_ST_E), "E");
    CU_ASSERT_STRING_EQUAL(scand_state_name(SCAND_ST_D), "D");
    CU_ASSERT_STRING_EQUAL(scand_state_name(0), "");
    CU_ASSERT_STRING_EQUAL(scand_state_name(5), "");
    CU_ASSERT_STRING_EQUAL(scand_dir_name(SCAND_DIR_IN), "I");
    CU_ASSERT_STRING_EQUAL(scand_dir_name(SCAND_DIR_OUT), "O");
    CU_ASSERT_STRING_EQUAL(scand_dir_name(0), "");
    static const struct {
        const char *a;
        int priv;
    } p[] = {
        {"10.0.0.1", 1},    {"10.255.255.255", 1}, {"11.0.0.1", 0},    {"172.15.255.255", 0},
        {"172.16.0.0", 1},  {"172.31.255.255", 1}, {"172.32.0.0", 0},  {"192.168.0.1", 1},
        {"192.169.0.1", 0}, {"8.8.8.8", 0},        {"fd00::1", 1},     {"fc00::", 1},
        {"fbff::1", 0},     {"fe80::1", 0},        {"2001:db8::1", 0}, {"::ffff:10.0.0.1", 1},
        {"127.0.0.1", 0},   {"100.64.0.1", 0},
    };
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
        uint8_t a[16];
        addr(p[i].a, a);
        CU_ASSERT_EQUAL(scand_addr_is_private(a), p[i].priv);
    }
    uint8_t a[16];
    char buf[64];
    addr("::ffff:10.0.0.1", a); /* IPv4-mapped text is stored and printed as IPv4 */
    CU_ASSERT(scand_addr_is_v4(a));
    scand_addr_format(a, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "10.0.0.1");
    /* from and to a 32-bit IPv4 address, host order */
    uint8_t m[16];
    addr("192.168.1.200", a);
    scand_addr_from_v4(0xc0a801c8u, m);
    CU_ASSERT_EQUAL(memcmp(m, a, 16), 0);
    CU_ASSERT_EQUAL(scand_addr_v4(a), 0xc0a801c8u);
    int v6 = -1;
    CU_ASSERT_EQUAL(scand_addr_parse("10.0.0.1", 8, a, &v6), SCAND_OK);
    CU_ASSERT_EQUAL(v6, 0);
    CU_ASSERT_EQUAL(scand_addr_parse("10.0.0.12", 8, a, &v6), SCAND_OK); /* len, not NUL */
    CU_ASSERT_EQUAL(a[15], 1);
    CU_ASSERT_EQUAL(scand_addr_parse("1:2:3:4:5:6:7:8:9", 17, a, &v6), SCAND_ERR_INVAL);
    char longv6[80];
    memset(longv6, '0', sizeof longv6);
    memcpy(longv6, "::", 2);
    CU_ASSERT_EQUAL(scand_addr_parse(longv6, sizeof longv6, a, &v6), SCAND_ERR_INVAL);
}

/* Prefixes (scand_cidr_parse/has, shared by --inside, policies and the
 * rules' allowlists): lengths as plain digits within the family's bits,
 * host bits cleared, an IPv6 prefix never matching IPv4. */
static void test_tuple_cidrs(void)
{
    static const struct {
        const char *s;
        int ok;
    } parse[] = {
        {"10.0.0.0/8", 1}, {"10.1.2.3", 1},  {"fd00::/8", 1},  {"::/0", 1},      {"0.0.0.0/0", 1},
        {"10.0.0.0/32", 1}, {"10.0.0.0/33", 0}, {"::/129", 0}, {"10.0.0.0/", 0}, {"10.0.0.0/+8", 0},
        {"10.0.0.0/ 8", 0}, {"10.0.0.0/-1", 0}, {"10.0.0.0/0008", 0}, {"10.0.0/8", 0}, {"", 0},
        {"/8", 0},
    };
    struct scand_cidr c;
    for (size_t i = 0; i < sizeof parse / sizeof parse[0]; i++)
        CU_ASSERT_EQUAL(scand_cidr_parse(parse[i].s, strlen(parse[i].s), &c) == SCAND_OK,
                        parse[i].ok);
    static const struct {
        const char *cidr, *a;
        int in;
    } has[] = {
        {"10.1.2.3/16", "10.1.200.9", 1}, /* host bits of the prefix ignored */
        {"10.1.0.0/16", "10.2.0.1", 0},   {"10.1.0.0/17", "10.1.127.255", 1},
        {"10.1.0.0/17", "10.1.128.0", 0}, {"0.0.0.0/0", "8.8.8.8", 1},
        {"0.0.0.0/0", "fd00::1", 0},      {"::/0", "fd00::1", 1},
        {"::/0", "10.0.0.1", 0}, /* IPv6 prefixes hold no IPv4 */
        {"::ffff:0:0/96", "10.0.0.1", 0}, /* written as IPv6, even the mapped range */
        {"fd00::/8", "fdff::1", 1},       {"fd00::/8", "fe00::1", 0},
        {"10.0.0.7", "10.0.0.7", 1},      {"10.0.0.7", "10.0.0.8", 0},
        /* IPv6 prefixes about the 64-bit halves the test compares by */
        {"fd00:1:2:3::/64", "fd00:1:2:3:ffff::1", 1}, {"fd00:1:2:3::/64", "fd00:1:2:4::", 0},
        {"fd00:1:2:3::/63", "fd00:1:2:2::9", 1},      {"fd00:1:2:3:8000::/65", "fd00:1:2:3:7fff::", 0},
        {"fd00:1:2:3:8000::/65", "fd00:1:2:3:ffff::", 1}, {"fd00::1/128", "fd00::1", 1},
        {"fd00::1/128", "fd00::3", 0},                {"fd00::/127", "fd00::1", 1},
        {"fd00::/127", "fd00::2", 0},                 {"8000::/1", "fd00::1", 1},
        {"8000::/1", "7fff::1", 0},
    };
    for (size_t i = 0; i < sizeof has / sizeof has[0]; i++) {
        uint8_t a[16];
        CU_ASSERT_EQUAL_FATAL(scand_cidr_parse(has[i].cidr, strlen(has[i].cidr), &c), SCAND_OK);
        addr(has[i].a, a);
        CU_ASSERT_EQUAL(scand_cidr_has(&c, a), has[i].in);
    }
    struct scand_cidr any;
    memset(&any, 0, sizeof any);
    uint8_t a[16];
    addr("fd00::1", a);
    CU_ASSERT_EQUAL(scand_cidr_has(&any, a), 1); /* a zeroed prefix holds both families */
    addr("10.0.0.1", a);
    CU_ASSERT_EQUAL(scand_cidr_has(&any, a), 1);
    CU_ASSERT_EQUAL(scand_cidr_parse("10.0.0.0/8,", 10, &c), SCAND_OK); /* n bytes, not NUL */
    CU_ASSERT_EQUAL(c.len, 104);
}

int test_tuple_register(void)
{
    CU_pSuite s = CU_add_suite("tuple", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
#define ADD(f)                                                                                     \
    if (CU_add_test(s, #f, f) == NULL)                                                             \
        return CU_get_error();
    ADD(test_tuple_malformed_have_exact_reasons)
    ADD(test_tuple_vnet_fields_parse)
    ADD(test_tuple_ipv6_parses_and_sets_flag)
    ADD(test_tuple_nsg_letters_map)
    ADD(test_tuple_all_encryption_names)
    ADD(test_tuple_format_round_trips_canonical_text)
    ADD(test_tuple_format_follows_snprintf_rules)
    ADD(test_tuple_names_and_addresses)
    ADD(test_tuple_cidrs)
#undef ADD
    return CUE_SUCCESS;
}
