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

static const char d2[201] = "00010203040506070809101112131415161718192021222324"
                            "25262728293031323334353637383940414243444546474849"
                            "50515253545556575859606162636465666768697071727374"
                            "75767778798081828384858687888990919293949596979899";

/* The 8 digits of v (below 10^8), leading zeros kept, as the bytes of a
 * word in memory order: four pairs from independent divisions, loaded
 * from the pair table, put together in a register. */
static inline __attribute__((always_inline)) uint64_t digits8(uint32_t v)
{
    uint32_t hi = v / 10000, lo = v % 10000;
    uint16_t a, b, c, d;
    memcpy(&a, d2 + 2 * (hi / 100), 2);
    memcpy(&b, d2 + 2 * (hi % 100), 2);
    memcpy(&c, d2 + 2 * (lo / 100), 2);
    memcpy(&d, d2 + 2 * (lo % 100), 2);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (uint64_t)a | (uint64_t)b << 16 | (uint64_t)c << 32 | (uint64_t)d << 48;
#else
    return (uint64_t)a << 48 | (uint64_t)b << 32 | (uint64_t)c << 16 | (uint64_t)d;
#endif
}

/* Exactly 8 digits of v (below 10^8): one 8-byte store. */
static inline __attribute__((always_inline)) char *put_8(char *p, uint32_t v)
{
    uint64_t w = digits8(v);
    memcpy(p, &w, 8);
    return p + 8;
}

/* Append decimal v (below 10^8) at p; return the new end. The 8 digits
 * are shifted in the register past the leading zeros and stored as one
 * word (p has room: a tuple's text is built in a large buffer); the
 * digit count is comparisons summed. No branches (a tuple's numbers have
 * 1 to 8 digits at random, and a division loop's branches mispredicted),
 * and no digits written byte by byte and read back as a word (a failed
 * store-to-load forward stalls). */
static inline __attribute__((always_inline)) char *put_u32(char *p, uint32_t v)
{
    unsigned n = 1u + (v >= 10) + (v >= 100) + (v >= 1000) + (v >= 10000) + (v >= 100000) +
                 (v >= 1000000) + (v >= 10000000);
    uint64_t w = digits8(v);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w >>= 8 * (8 - n);
#else
    w <<= 8 * (8 - n);
#endif
    memcpy(p, &w, 8);
    return p + n;
}

/* Append decimal v at p; return the new end. Numbers of 9 digits or more
 * (a tuple's millisecond time has 13) go as the part above 10^8 and then
 * 8 fixed digits: the serial chain of divisions was a quarter of a
 * tuple's formatting. */
static inline __attribute__((always_inline)) char *put_u64(char *p, uint64_t v)
{
    if (v < 100000000)
        return put_u32(p, (uint32_t)v);
    uint64_t hi = v / 100000000;
    uint32_t lo = (uint32_t)(v % 100000000);
    if (hi < 100000000) {
        p = put_u32(p, (uint32_t)hi);
    } else {
        p = put_u32(p, (uint32_t)(hi / 100000000)); /* below 10^4: 2^64 has 20 digits */
        p = put_8(p, (uint32_t)(hi % 100000000));
    }
    return put_8(p, lo);
}

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

/* Octet v's decimal digits in the low bytes (memory order on a little-
 * endian machine), their count in the top byte: one load and one 4-byte
 * store per octet, no branch (an address's octets have 1 to 3 digits at
 * random). Generated: for v in 0..255, digits | len << 24. */
static const uint32_t octet_text[256] = {
    0x01000030, 0x01000031, 0x01000032, 0x01000033, 0x01000034, 0x01000035,
    0x01000036, 0x01000037, 0x01000038, 0x01000039, 0x02003031, 0x02003131,
    0x02003231, 0x02003331, 0x02003431, 0x02003531, 0x02003631, 0x02003731,
    0x02003831, 0x02003931, 0x02003032, 0x02003132, 0x02003232, 0x02003332,
    0x02003432, 0x02003532, 0x02003632, 0x02003732, 0x02003832, 0x02003932,
    0x02003033, 0x02003133, 0x02003233, 0x02003333, 0x02003433, 0x02003533,
    0x02003633, 0x02003733, 0x02003833, 0x02003933, 0x02003034, 0x02003134,
    0x02003234, 0x02003334, 0x02003434, 0x02003534, 0x02003634, 0x02003734,
    0x02003834, 0x02003934, 0x02003035, 0x02003135, 0x02003235, 0x02003335,
    0x02003435, 0x02003535, 0x02003635, 0x02003735, 0x02003835, 0x02003935,
    0x02003036, 0x02003136, 0x02003236, 0x02003336, 0x02003436, 0x02003536,
    0x02003636, 0x02003736, 0x02003836, 0x02003936, 0x02003037, 0x02003137,
    0x02003237, 0x02003337, 0x02003437, 0x02003537, 0x02003637, 0x02003737,
    0x02003837, 0x02003937, 0x02003038, 0x02003138, 0x02003238, 0x02003338,
    0x02003438, 0x02003538, 0x02003638, 0x02003738, 0x02003838, 0x02003938,
    0x02003039, 0x02003139, 0x02003239, 0x02003339, 0x02003439, 0x02003539,
    0x02003639, 0x02003739, 0x02003839, 0x02003939, 0x03303031, 0x03313031,
    0x03323031, 0x03333031, 0x03343031, 0x03353031, 0x03363031, 0x03373031,
    0x03383031, 0x03393031, 0x03303131, 0x03313131, 0x03323131, 0x03333131,
    0x03343131, 0x03353131, 0x03363131, 0x03373131, 0x03383131, 0x03393131,
    0x03303231, 0x03313231, 0x03323231, 0x03333231, 0x03343231, 0x03353231,
    0x03363231, 0x03373231, 0x03383231, 0x03393231, 0x03303331, 0x03313331,
    0x03323331, 0x03333331, 0x03343331, 0x03353331, 0x03363331, 0x03373331,
    0x03383331, 0x03393331, 0x03303431, 0x03313431, 0x03323431, 0x03333431,
    0x03343431, 0x03353431, 0x03363431, 0x03373431, 0x03383431, 0x03393431,
    0x03303531, 0x03313531, 0x03323531, 0x03333531, 0x03343531, 0x03353531,
    0x03363531, 0x03373531, 0x03383531, 0x03393531, 0x03303631, 0x03313631,
    0x03323631, 0x03333631, 0x03343631, 0x03353631, 0x03363631, 0x03373631,
    0x03383631, 0x03393631, 0x03303731, 0x03313731, 0x03323731, 0x03333731,
    0x03343731, 0x03353731, 0x03363731, 0x03373731, 0x03383731, 0x03393731,
    0x03303831, 0x03313831, 0x03323831, 0x03333831, 0x03343831, 0x03353831,
    0x03363831, 0x03373831, 0x03383831, 0x03393831, 0x03303931, 0x03313931,
    0x03323931, 0x03333931, 0x03343931, 0x03353931, 0x03363931, 0x03373931,
    0x03383931, 0x03393931, 0x03303032, 0x03313032, 0x03323032, 0x03333032,
    0x03343032, 0x03353032, 0x03363032, 0x03373032, 0x03383032, 0x03393032,
    0x03303132, 0x03313132, 0x03323132, 0x03333132, 0x03343132, 0x03353132,
    0x03363132, 0x03373132, 0x03383132, 0x03393132, 0x03303232, 0x03313232,
    0x03323232, 0x03333232, 0x03343232, 0x03353232, 0x03363232, 0x03373232,
    0x03383232, 0x03393232, 0x03303332, 0x03313332, 0x03323332, 0x03333332,
    0x03343332, 0x03353332, 0x03363332, 0x03373332, 0x03383332, 0x03393332,
    0x03303432, 0x03313432, 0x03323432, 0x03333432, 0x03343432, 0x03353432,
    0x03363432, 0x03373432, 0x03383432, 0x03393432, 0x03303532, 0x03313532,
    0x03323532, 0x03333532, 0x03343532, 0x03353532,
};

static inline __attribute__((always_inline)) char *put_octet(char *p, unsigned v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t w = octet_text[v & 255];
    memcpy(p, &w, 4); /* the count byte is overwritten by what follows */
    return p + (w >> 24);
#else
    if (v >= 100) {
        *p++ = (char)('0' + v / 100);
        v %= 100;
        *p++ = (char)('0' + v / 10);
    } else if (v >= 10) {
        *p++ = (char)('0' + v / 10);
    }
    *p++ = (char)('0' + v % 10);
    return p;
#endif
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
