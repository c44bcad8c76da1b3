/*
 * tuple.c - flowTuple text to struct scand_tuple and back.
 *
 * Formats (research/azure_formats.md sections 1.2 and 2.2, from the Azure
 * docs "VNet flow logs overview" and "NSG flow logs overview"):
 *   VNet v4: ts,src,dst,sport,dport,proto(IANA),I|O,B|C|E|D,enc,p,b,p,b
 *   NSG v2:  ts(s),src,dst,sport,dport,T|U,I|O,A|D,B|C|E,p,b,p,b
 *   NSG v1:  the first 8 NSG v2 fields.
 * Timestamps: 13+ digits are milliseconds, 10 or fewer are seconds (every
 * real VNet sample is ms; NSG is s; the docs' bandwidth example mixes them).
 * Counters on B and D may be "0,0,0,0" or empty; we keep which in a flag so a
 * written blob says what was read.
 * THREAT: every field is attacker-influenced text; each is length-checked,
 * range-checked and rejected with a reason rather than guessed at.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "scand_int.h"

#define MAX_FIELDS 14

static const char *const enc_names[SCAND_ENC_COUNT] = {
    "", "X", "NX", "NX_HW_NOT_SUPPORTED", "NX_SW_NOT_READY", "NX_NOT_ACCEPTED",
    "NX_NOT_SUPPORTED", "NX_LOCAL_DST", "NX_FALLBACK",
};

const char *scand_enc_name(int enc)
{
    return enc >= 0 && enc < SCAND_ENC_COUNT ? enc_names[enc] : "";
}

const char *scand_state_name(int state)
{
    static const char *const n[] = {"", "B", "C", "E", "D"};
    return state >= 1 && state <= 4 ? n[state] : "";
}

const char *scand_dir_name(int dir)
{
    return dir == SCAND_DIR_IN ? "I" : dir == SCAND_DIR_OUT ? "O" : "";
}

/* Write "<what> '<field>'<tail>" into why, the field cut to 40 printable
 * characters; return SCAND_ERR_INVAL. */
static int fail(char *why, size_t n, const char *what, const char *field, size_t flen,
                const char *tail)
{
    if (flen > 40)
        flen = 40; /* keep hostile fields short in messages */
    char f[48];
    size_t k = 0;
    for (size_t i = 0; i < flen; i++)
        f[k++] = (field[i] >= 0x20 && field[i] < 0x7f) ? field[i] : '?';
    f[k] = '\0';
    snprintf(why, n, "%s '%s'%s", what, f, tail);
    return SCAND_ERR_INVAL;
}

static int is1(const char *s, size_t n, char c)
{
    return n == 1 && s[0] == c;
}

static int parse_ts(const char *s, size_t n, int64_t *ms, int *secs)
{
    uint64_t v;
    if (n > 16 || scandint_parse_u64(s, n, &v) != 0)
        return -1;
    if (n >= 13) {
        *ms = (int64_t)v;
        *secs = 0;
    } else if (n <= 10) {
        *ms = (int64_t)v * 1000;
        *secs = 1;
    } else {
        return -1; /* 11 or 12 digits: neither seconds nor ms of any real date */
    }
    return 0;
}

static int parse_port(const char *s, size_t n, uint16_t *p)
{
    uint64_t v;
    if (n > 5 || scandint_parse_u64(s, n, &v) != 0 || v > 65535)
        return -1;
    *p = (uint16_t)v;
    return 0;
}

/*
 * One-pass parser of the common VNet v4 tuple (IPv4, encryption X or NX),
 * the bulk of every real blob. It accepts exactly what the general parser
 * below accepts, or declines (-1) and leaves the tuple to it, which also
 * words the reasons for bad tuples; a unit test runs both on mutated
 * tuples and compares.
 */
static const char *fast_uint(const char *p, const char *e, unsigned max_digits, uint64_t *v)
{
    if (p == NULL)
        return NULL;
    uint64_t x = 0;
    unsigned n = 0;
    while (p < e && (unsigned)(*p - '0') <= 9 && n <= max_digits) {
        x = x * 10 + (uint64_t)(*p - '0');
        p++;
        n++;
    }
    if (n == 0 || n > max_digits)
        return NULL;
    *v = x;
    return p;
}

static const char *fast_v4(const char *p, const char *e, uint8_t out[16])
{
    static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memcpy(out, pre, 12);
    for (int k = 0; k < 4; k++) {
        uint64_t v;
        p = fast_uint(p, e, 3, &v);
        if (p == NULL || v > 255 || p >= e || *p != (k < 3 ? '.' : ','))
            return NULL;
        out[12 + k] = (uint8_t)v;
        p++;
    }
    return p; /* past the ',' */
}

/* Expect c at p; return p + 1 or NULL. */
static const char *fast_ch(const char *p, const char *e, char c)
{
    return p != NULL && p < e && *p == c ? p + 1 : NULL;
}

static int fast_vnet4(const char *s, size_t len, struct scand_tuple *r)
{
    const char *p = s, *e = s + len, *q;
    uint64_t v;
    q = fast_uint(p, e, 16, &v);
    if (q == NULL || q - p < 13 || (v >> 63) != 0)
        return -1; /* seconds, odd widths: the general parser */
    r->ts_ms = (int64_t)v;
    p = fast_ch(q, e, ',');
    if (p == NULL || (p = fast_v4(p, e, r->src)) == NULL || (p = fast_v4(p, e, r->dst)) == NULL)
        return -1;
    if ((p = fast_uint(p, e, 5, &v)) == NULL || v > 65535)
        return -1;
    r->sport = (uint16_t)v;
    if ((p = fast_uint(fast_ch(p, e, ','), e, 5, &v)) == NULL || v > 65535)
        return -1;
    r->dport = (uint16_t)v;
    if ((p = fast_uint(fast_ch(p, e, ','), e, 3, &v)) == NULL || v > 255)
        return -1;
    r->proto = (uint8_t)v;
    if ((p = fast_ch(p, e, ',')) == NULL || e - p < 6)
        return -1;
    if (p[0] == 'I')
        r->dir = SCAND_DIR_IN;
    else if (p[0] == 'O')
        r->dir = SCAND_DIR_OUT;
    else
        return -1;
    switch (p[2]) {
    case 'B': r->state = SCAND_ST_B; break;
    case 'C': r->state = SCAND_ST_C; break;
    case 'E': r->state = SCAND_ST_E; break;
    case 'D': r->state = SCAND_ST_D; break;
    default: return -1;
    }
    if (p[1] != ',' || p[3] != ',')
        return -1;
    p += 4;
    if (e - p >= 3 && p[0] == 'N' && p[1] == 'X' && p[2] == ',') {
        r->enc = SCAND_ENC_NX;
        p += 3;
    } else if (e - p >= 2 && p[0] == 'X' && p[1] == ',') {
        r->enc = SCAND_ENC_X;
        p += 2;
    } else {
        return -1;
    }
    if (e - p == 3 && p[0] == ',' && p[1] == ',' && p[2] == ',') {
        r->flags |= SCAND_TF_NOCOUNT;
        return 0;
    }
    uint64_t *c[4] = {&r->pkts_s2d, &r->bytes_s2d, &r->pkts_d2s, &r->bytes_d2s};
    for (int k = 0; k < 4; k++) {
        if (k > 0 && (p = fast_ch(p, e, ',')) == NULL)
            return -1;
        if ((p = fast_uint(p, e, 19, c[k])) == NULL) /* 19 digits cannot overflow */
            return -1;
    }
    return p == e ? 0 : -1;
}

int scand_tuple_parse(const char *s, size_t len, enum scand_fmt fmt, struct scand_tuple *t,
                      char *why, size_t why_size)
{
    if (fmt == SCAND_FMT_VNET4) {
        struct scand_tuple r;
        memset(&r, 0, sizeof r);
        r.mac = t->mac;
        r.group = t->group;
        r.campaign = t->campaign;
        if (fast_vnet4(s, len, &r) == 0) {
            *t = r;
            return SCAND_OK;
        }
    }
    return scandint_tuple_parse_slow(s, len, fmt, t, why, why_size);
}

int scandint_tuple_parse_slow(const char *s, size_t len, enum scand_fmt fmt,
                              struct scand_tuple *t, char *why, size_t why_size)
{
    const char *f[MAX_FIELDS];
    size_t fl[MAX_FIELDS];
    size_t nf = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == ',') {
            if (nf < MAX_FIELDS) {
                f[nf] = s + start;
                fl[nf] = i - start;
            }
            nf++;
            start = i + 1;
        }
    }
    size_t want = fmt == SCAND_FMT_NSG1 ? 8 : 13;
    if (nf != want) {
        snprintf(why, why_size, "wrong field count: %zu (want %zu)", nf, want);
        return SCAND_ERR_INVAL;
    }

    struct scand_tuple r;
    memset(&r, 0, sizeof r);
    r.mac = t->mac;
    r.group = t->group;
    r.campaign = t->campaign;

    int secs;
    if (parse_ts(f[0], fl[0], &r.ts_ms, &secs) != 0)
        return fail(why, why_size, "bad timestamp", f[0], fl[0], "");
    if (secs)
        r.flags |= SCAND_TF_TS_SEC;
    int v6s, v6d;
    if (scand_addr_parse(f[1], fl[1], r.src, &v6s) != SCAND_OK)
        return fail(why, why_size, "bad source IP", f[1], fl[1], "");
    if (scand_addr_parse(f[2], fl[2], r.dst, &v6d) != SCAND_OK)
        return fail(why, why_size, "bad destination IP", f[2], fl[2], "");
    if (v6s != v6d)
        {
        snprintf(why, why_size, "address families differ");
        return SCAND_ERR_INVAL;
    }
    if (v6s)
        r.flags |= SCAND_TF_V6;
    if (parse_port(f[3], fl[3], &r.sport) != 0)
        return fail(why, why_size, "bad source port", f[3], fl[3], "");
    if (parse_port(f[4], fl[4], &r.dport) != 0)
        return fail(why, why_size, "bad destination port", f[4], fl[4], "");

    if (fmt == SCAND_FMT_VNET4) {
        uint64_t p;
        if (fl[5] > 3 || scandint_parse_u64(f[5], fl[5], &p) != 0 || p > 255)
            return fail(why, why_size, "bad protocol", f[5], fl[5], "");
        r.proto = (uint8_t)p;
    } else {
        if (is1(f[5], fl[5], 'T'))
            r.proto = 6;
        else if (is1(f[5], fl[5], 'U'))
            r.proto = 17;
        else
            return fail(why, why_size, "bad protocol", f[5], fl[5], " (want T or U)");
    }
    if (is1(f[6], fl[6], 'I'))
        r.dir = SCAND_DIR_IN;
    else if (is1(f[6], fl[6], 'O'))
        r.dir = SCAND_DIR_OUT;
    else
        return fail(why, why_size, "bad direction", f[6], fl[6], " (want I or O)");

    size_t c0; /* first counter field */
    if (fmt == SCAND_FMT_VNET4) {
        static const char st[] = "BCED";
        const char *p = fl[7] == 1 ? strchr(st, f[7][0]) : NULL;
        if (p == NULL || f[7][0] == '\0')
            return fail(why, why_size, "bad flow state", f[7], fl[7], " (want B, C, E or D)");
        r.state = (uint8_t)(SCAND_ST_B + (p - st));
        int e;
        for (e = 1; e < SCAND_ENC_COUNT; e++)
            if (strlen(enc_names[e]) == fl[8] && memcmp(enc_names[e], f[8], fl[8]) == 0)
                break;
        if (e == SCAND_ENC_COUNT)
            return fail(why, why_size, "bad encryption", f[8], fl[8], "");
        r.enc = (uint8_t)e;
        c0 = 9;
    } else {
        int deny;
        if (is1(f[7], fl[7], 'A'))
            deny = 0;
        else if (is1(f[7], fl[7], 'D'))
            deny = 1;
        else
            return fail(why, why_size, "bad decision", f[7], fl[7], " (want A or D)");
        if (fmt == SCAND_FMT_NSG1) {
            /* v1 has no state: an allowed flow was seen begin, a denied one D. */
            r.state = deny ? SCAND_ST_D : SCAND_ST_B;
            r.flags |= SCAND_TF_NOCOUNT;
            *t = r;
            return SCAND_OK;
        }
        if (is1(f[8], fl[8], 'B'))
            r.state = SCAND_ST_B;
        else if (is1(f[8], fl[8], 'C'))
            r.state = SCAND_ST_C;
        else if (is1(f[8], fl[8], 'E'))
            r.state = SCAND_ST_E;
        else
            return fail(why, why_size, "bad flow state", f[8], fl[8], " (want B, C or E)");
        if (deny)
            r.state = SCAND_ST_D;
        c0 = 9;
    }

    int empty = 0;
    for (size_t i = c0; i < c0 + 4; i++)
        empty += fl[i] == 0;
    if (empty == 4) {
        r.flags |= SCAND_TF_NOCOUNT;
    } else if (empty != 0) {
        {
        snprintf(why, why_size, "counters partly empty");
        return SCAND_ERR_INVAL;
    }
    } else {
        uint64_t *dst[4] = {&r.pkts_s2d, &r.bytes_s2d, &r.pkts_d2s, &r.bytes_d2s};
        static const char *const names[4] = {"packets sent", "bytes sent", "packets received",
                                             "bytes received"};
        for (size_t i = 0; i < 4; i++) {
            int rc = scandint_parse_u64(f[c0 + i], fl[c0 + i], dst[i]);
            if (rc != 0) {
                char what[40];
                snprintf(what, sizeof what, "%s %s", rc == -2 ? "huge" : "bad", names[i]);
                return fail(why, why_size, what, f[c0 + i], fl[c0 + i], "");
            }
        }
    }
    *t = r;
    return SCAND_OK;
}

/* Append decimal v at p; return the new end. The digits are counted first
 * and written from the end, two per division, straight into p. Inlined,
 * as put_octet(): a tuple takes 16 of them, and the calls were 8% of
 * formatting it. */
static inline __attribute__((always_inline)) char *put_u64(char *p, uint64_t v)
{
    static const char d2[201] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    int n = 1;
    for (uint64_t x = v; x >= 10; x /= 10)
        n++;
    char *e = p + n, *q = e;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        *--q = d2[2 * r + 1];
        *--q = d2[2 * r];
    }
    if (v >= 10) {
        *--q = d2[2 * v + 1];
        *--q = d2[2 * v];
    } else {
        *--q = (char)('0' + v);
    }
    return e;
}

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static inline __attribute__((always_inline)) char *put_octet(char *p, unsigned v)
{
    if (v >= 100) {
        *p++ = (char)('0' + v / 100);
        v %= 100;
        *p++ = (char)('0' + v / 10);
    } else if (v >= 10) {
        *p++ = (char)('0' + v / 10);
    }
    *p++ = (char)('0' + v % 10);
    return p;
}

static char *put_addr(char *p, const uint8_t a[16])
{
    if (scand_addr_is_v4(a)) {
        p = put_octet(p, a[12]);
        *p++ = '.';
        p = put_octet(p, a[13]);
        *p++ = '.';
        p = put_octet(p, a[14]);
        *p++ = '.';
        return put_octet(p, a[15]);
    }
    char tmp[48];
    scand_addr_format(a, tmp, sizeof tmp);
    return put_str(p, tmp);
}

char *scandint_tuple_put(char *p, const struct scand_tuple *t)
{
    int enc = t->enc == SCAND_ENC_UNKNOWN ? SCAND_ENC_NX : t->enc;
    if (t->ts_ms < 0) {
        *p++ = '-';
        p = put_u64(p, (uint64_t)0 - (uint64_t)t->ts_ms);
    } else {
        p = put_u64(p, (uint64_t)t->ts_ms);
    }
    *p++ = ',';
    p = put_addr(p, t->src);
    *p++ = ',';
    p = put_addr(p, t->dst);
    *p++ = ',';
    p = put_u64(p, t->sport);
    *p++ = ',';
    p = put_u64(p, t->dport);
    *p++ = ',';
    p = put_u64(p, t->proto);
    *p++ = ',';
    p = put_str(p, scand_dir_name(t->dir));
    *p++ = ',';
    p = put_str(p, scand_state_name(t->state));
    *p++ = ',';
    p = put_str(p, enc_names[enc >= 0 && enc < SCAND_ENC_COUNT ? enc : SCAND_ENC_NX]);
    if (t->flags & SCAND_TF_NOCOUNT) {
        p = put_str(p, ",,,,");
    } else {
        const uint64_t c[4] = {t->pkts_s2d, t->bytes_s2d, t->pkts_d2s, t->bytes_d2s};
        for (int k = 0; k < 4; k++) {
            *p++ = ',';
            p = put_u64(p, c[k]);
        }
    }
    return p;
}

size_t scand_tuple_format(const struct scand_tuple *t, char *buf, size_t size)
{
    /* built in a local buffer, then copied with snprintf's rules */
    char tmp[SCANDINT_TUPLE_MAX];
    size_t n = (size_t)(scandint_tuple_put(tmp, t) - tmp);
    if (size > 0) {
        size_t k = n < size - 1 ? n : size - 1;
        memcpy(buf, tmp, k);
        buf[k] = '\0';
    }
    return n;
}

/* The record is 96 bytes: two 16-byte addresses, four 64-bit counters and
 * 16 bytes of indices. Pinned so a change to it is a decision [H3]. */
_Static_assert(sizeof(struct scand_tuple) == 96, "struct scand_tuple must stay 96 bytes");
_Static_assert(offsetof(struct scand_tuple, campaign) == 88, "dedup hashes the first 88 bytes");
