/*
 * test_tuple_int.c - white-box [STYLE U4]: scand_tuple_parse()'s one-pass
 * fast path against the general parser it falls back to. On valid tuples
 * and on seeded byte mutations of them (flips, deletions, insertions,
 * digits appended), both must accept the same strings and produce the same
 * records; on rejection the public call must give the general parser's
 * reason. And scandint_tuple_put(), which the blob writer formats into
 * its buffer with, stays under SCANDINT_TUPLE_MAX for any record at all.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "scand_int.h"
#include "tests.h"

static const char *const seeds[] = {
    "1772445600031,10.1.64.3,10.2.3.68,42331,8080,6,I,B,NX,0,0,0,0",
    "1772445600031,10.1.64.3,10.2.3.68,42331,8080,6,O,C,X,12,3400,10,99999",
    "1772445600031,10.1.64.3,10.2.3.68,42331,8080,17,I,E,NX,,,,",
    "1772445600031,192.168.255.255,0.0.0.0,0,65535,255,O,D,NX,0,0,0,0",
    "1772445600,10.1.64.3,10.2.3.68,1,2,6,I,B,NX,,,,",
    "9999999999999999,010.001.000.255,1.2.3.4,00080,0,6,I,B,NX_LOCAL_DST,1,1,1,1",
    "1772445600031,fd00::1,fd00::2,1,2,6,I,B,NX,,,,",
    "1772445600031,10.0.0.1,10.0.0.2,1,2,6,I,B,NX,18446744073709551615,0,0,1",
};

static void check_same(const char *s, size_t len)
{
    struct scand_tuple a, b;
    char wa[96] = "", wb[96] = "";
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.mac = b.mac = 7;
    int ra = scand_tuple_parse(s, len, SCAND_FMT_VNET4, &a, wa, sizeof wa);
    int rb = scandint_tuple_parse_slow(s, len, SCAND_FMT_VNET4, &b, wb, sizeof wb);
    CU_ASSERT_EQUAL(ra, rb);
    if (ra == SCAND_OK && rb == SCAND_OK)
        CU_ASSERT(memcmp(&a, &b, sizeof a) == 0);
    if (ra != SCAND_OK && rb != SCAND_OK)
        CU_ASSERT_STRING_EQUAL(wa, wb);
}

static void test_tuple_int_fast_path_equals_general_parser(void)
{
    static const char alphabet[] = "0123456789,.:IOBCEDNX \t-+";
    uint64_t rs = 0x7e57f457;
    char buf[160];
    size_t accepted = 0, total = 0;
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        check_same(seeds[k], strlen(seeds[k]));
        for (int m = 0; m < 20000; m++) {
            size_t n = strlen(seeds[k]);
            memcpy(buf, seeds[k], n);
            int edits = 1 + (int)rng_below(&rs, 3);
            for (int e = 0; e < edits; e++) {
                size_t at = (size_t)rng_below(&rs, n + 1);
                char c = alphabet[rng_below(&rs, sizeof alphabet - 1)];
                switch (rng_below(&rs, 4)) {
                case 0: /* replace */
                    if (at < n)
                        buf[at] = c;
                    break;
                case 1: /* delete */
                    if (at < n) {
                        memmove(buf + at, buf + at + 1, n - at - 1);
                        n--;
                    }
                    break;
                case 2: /* insert */
                    if (n + 1 < sizeof buf) {
                        memmove(buf + at + 1, buf + at, n - at);
                        buf[at] = c;
                        n++;
                    }
                    break;
                default: /* lengthen a number: overflow and width edges */
                    if (at < n && buf[at] >= '0' && buf[at] <= '9' && n + 1 < sizeof buf) {
                        memmove(buf + at + 1, buf + at, n - at);
                        buf[at] = '9';
                        n++;
                    }
                    break;
                }
            }
            struct scand_tuple t;
            memset(&t, 0, sizeof t);
            char why[96];
            accepted += scand_tuple_parse(buf, n, SCAND_FMT_VNET4, &t, why, sizeof why) ==
                        SCAND_OK;
            total++;
            check_same(buf, n);
        }
    }
    /* the mutations must reach both sides of the decision */
    CU_ASSERT(accepted > total / 20);
    CU_ASSERT(accepted < total - total / 20);
}

/* The longest text any record can give, valid or not: the most negative
 * time, two IPv6 addresses with no zero group, the longest encryption
 * name, four 20-digit counts; out-of-range direction, state and
 * encryption; every field at its widest in turn. */
static void test_tuple_int_put_bound(void)
{
    struct scand_tuple t;
    memset(&t, 0, sizeof t);
    t.ts_ms = INT64_MIN;
    for (int i = 0; i < 16; i++)
        t.src[i] = 0xff, t.dst[i] = (uint8_t)(0xf0 | i);
    t.sport = t.dport = 65535;
    t.proto = 255;
    t.dir = SCAND_DIR_IN;
    t.state = SCAND_ST_E;
    t.enc = SCAND_ENC_NX_HW_NOT_SUPPORTED;
    t.pkts_s2d = t.bytes_s2d = t.pkts_d2s = t.bytes_d2s = UINT64_MAX;
    char buf[2 * SCANDINT_TUPLE_MAX], ref[2 * SCANDINT_TUPLE_MAX];
    memset(buf, 'Z', sizeof buf);
    size_t n = (size_t)(scandint_tuple_put(buf, &t) - buf);
    CU_ASSERT(n < SCANDINT_TUPLE_MAX);
    /* it may scribble a few bytes past the end it returns, never past
     * SCANDINT_TUPLE_MAX */
    for (size_t i = SCANDINT_TUPLE_MAX; i < sizeof buf; i++)
        CU_ASSERT_EQUAL_FATAL(buf[i], 'Z');
    CU_ASSERT_EQUAL(scand_tuple_format(&t, ref, sizeof ref), n);
    CU_ASSERT(memcmp(buf, ref, n) == 0);
    CU_ASSERT_EQUAL(n, 20 + 1 + 39 + 1 + 39 + 1 + 5 + 1 + 5 + 1 + 3 + 1 + 1 + 1 + 1 + 1 + 19 +
                           4 * 21);
    /* values out of range name nothing and keep the bound */
    t.dir = 200, t.state = 200, t.enc = 200;
    n = (size_t)(scandint_tuple_put(buf, &t) - buf);
    CU_ASSERT(n < SCANDINT_TUPLE_MAX);
    CU_ASSERT_EQUAL(scand_tuple_format(&t, ref, sizeof ref), n);
}

/* Numbers at every digit count and its edges, and every octet, against
 * printf: the formatter writes digits a word at a time. */
static void test_tuple_int_put_numbers(void)
{
    uint64_t vals[80];
    size_t nv = 0;
    vals[nv++] = 0;
    for (uint64_t p = 1; nv + 3 < 80; p *= 10) {
        vals[nv++] = p - 1 > 0 ? p - 1 : 1;
        vals[nv++] = p;
        vals[nv++] = p + 1;
        if (p > UINT64_MAX / 10)
            break;
    }
    vals[nv++] = UINT32_MAX;
    vals[nv++] = UINT64_MAX;
    struct scand_tuple t;
    memset(&t, 0, sizeof t);
    t.src[10] = t.src[11] = t.dst[10] = t.dst[11] = 0xff; /* IPv4-mapped */
    t.proto = 6, t.dir = SCAND_DIR_OUT, t.state = SCAND_ST_C, t.enc = SCAND_ENC_NX;
    for (size_t i = 0; i < nv; i++) {
        uint64_t v = vals[i];
        unsigned o = (unsigned)(i * 37 % 256);
        t.ts_ms = (int64_t)(v >> 1) * (i % 2 ? -1 : 1);
        t.pkts_s2d = v, t.bytes_s2d = v / 3, t.pkts_d2s = v / 7, t.bytes_d2s = v % 1000;
        t.sport = (uint16_t)v, t.dport = (uint16_t)(v >> 16);
        t.src[12] = (uint8_t)o, t.src[13] = (uint8_t)(o + 1), t.src[14] = (uint8_t)(o + 9);
        t.src[15] = (uint8_t)(o + 99), t.dst[12] = (uint8_t)(255 - o), t.dst[15] = (uint8_t)i;
        char want[320], got[320];
        snprintf(want, sizeof want, "%lld,%u.%u.%u.%u,%u.%u.%u.%u,%u,%u,6,O,C,NX,%llu,%llu,%llu,%llu",
                 (long long)t.ts_ms, t.src[12], t.src[13], t.src[14], t.src[15], t.dst[12],
                 t.dst[13], t.dst[14], t.dst[15], t.sport, t.dport,
                 (unsigned long long)t.pkts_s2d, (unsigned long long)t.bytes_s2d,
                 (unsigned long long)t.pkts_d2s, (unsigned long long)t.bytes_d2s);
        size_t n = (size_t)(scandint_tuple_put(got, &t) - got);
        got[n] = '\0';
        CU_ASSERT_STRING_EQUAL(got, want);
    }
    for (unsigned o = 0; o < 256; o++) { /* every octet */
        t.src[12] = t.src[13] = t.src[14] = t.src[15] = (uint8_t)o;
        char got[320], want[32];
        size_t n = (size_t)(scandint_tuple_put(got, &t) - got);
        got[n] = '\0';
        snprintf(want, sizeof want, ",%u.%u.%u.%u,", o, o, o, o);
        CU_ASSERT_PTR_NOT_NULL(strstr(got, want));
    }
}

int test_tuple_int_register(void)
{
    CU_pSuite s = CU_add_suite("tuple_int", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
    if (CU_add_test(s, "test_tuple_int_fast_path_equals_general_parser",
                    test_tuple_int_fast_path_equals_general_parser) == NULL ||
        CU_add_test(s, "test_tuple_int_put_bound", test_tuple_int_put_bound) == NULL ||
        CU_add_test(s, "test_tuple_int_put_numbers", test_tuple_int_put_numbers) == NULL)
        return CU_get_error();
    return CUE_SUCCESS;
}
