/*
 * addr.c - IPv4/IPv6 address parsing, formatting and classification.
 *
 * Addresses are 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d,
 * RFC 4291 2.5.5.2) so one 16-byte compare and hash serves both families.
 * THREAT: the text comes from flow logs that attackers' traffic fills, so
 * the IPv4 parser is strict (four decimal octets, no leading "+", at most
 * three digits each) and IPv6 goes through inet_pton on a bounded copy.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "scand_int.h"

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int scand_addr_is_v4(const uint8_t a[16])
{
    return scandint_is_v4(a); /* words, not a call to memcmp: every tuple asks */
}

void scand_addr_from_v4(uint32_t v4, uint8_t out[16])
{
    memcpy(out, v4_prefix, 12);
    out[12] = (uint8_t)(v4 >> 24), out[13] = (uint8_t)(v4 >> 16);
    out[14] = (uint8_t)(v4 >> 8), out[15] = (uint8_t)v4;
}

uint32_t scand_addr_v4(const uint8_t a[16])
{
    return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

static int parse_v4(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;
    for (int oct = 0; oct < 4; oct++) {
        unsigned v = 0, nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && nd < 4) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
            nd++;
        }
        if (nd == 0 || nd > 3 || v > 255)
            return -1;
        out[oct] = (uint8_t)v;
        if (oct < 3) {
            if (i >= len || s[i] != '.')
                return -1;
            i++;
        }
    }
    return i == len ? 0 : -1;
}

int scand_addr_parse(const char *s, size_t len, uint8_t out[16], int *is_v6)
{
    if (len == 0)
        return SCAND_ERR_INVAL;
    if (memchr(s, ':', len) == NULL) {
        uint8_t v4[4];
        if (parse_v4(s, len, v4) != 0)
            return SCAND_ERR_INVAL;
        memcpy(out, v4_prefix, 12);
        memcpy(out + 12, v4, 4);
        *is_v6 = 0;
        return SCAND_OK;
    }
    char tmp[64];
    if (len >= sizeof tmp || memchr(s, '%', len) != NULL) /* no zone ids */
        return SCAND_ERR_INVAL;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (inet_pton(AF_INET6, tmp, out) != 1)
        return SCAND_ERR_INVAL;
    *is_v6 = 1;
    return SCAND_OK;
}

size_t scand_addr_format(const uint8_t a[16], char *buf, size_t size)
{
    if (scand_addr_is_v4(a)) {
        int n = snprintf(buf, size, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
        return n < 0 ? 0 : (size_t)n;
    }
    char tmp[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, a, tmp, sizeof tmp) == NULL)
        tmp[0] = '\0';
    int n = snprintf(buf, size, "%s", tmp);
    return n < 0 ? 0 : (size_t)n;
}

int scand_addr_is_private(const uint8_t a[16])
{
    if (scand_addr_is_v4(a)) {
        const uint8_t *v = a + 12;
        return v[0] == 10 || (v[0] == 172 && (v[1] & 0xf0) == 16) ||
               (v[0] == 192 && v[1] == 168);
    }
    return (a[0] & 0xfe) == 0xfc;
}

int scand_cidr_parse(const char *s, size_t n, struct scand_cidr *c)
{
    const char *slash = memchr(s, '/', n);
    size_t alen = slash != NULL ? (size_t)(slash - s) : n;
    int v6;
    memset(c, 0, sizeof *c);
    if (scand_addr_parse(s, alen, c->net, &v6) != SCAND_OK)
        return SCAND_ERR_INVAL;
    unsigned max = v6 ? 128 : 32, len = max;
    if (slash != NULL) {
        size_t dn = n - alen - 1; /* digits only: strtoul would take " 24" and "+24" */
        if (dn == 0 || dn > 3)
            return SCAND_ERR_INVAL;
        len = 0;
        for (size_t i = 0; i < dn; i++) {
            if (slash[1 + i] < '0' || slash[1 + i] > '9')
                return SCAND_ERR_INVAL;
            len = len * 10 + (unsigned)(slash[1 + i] - '0');
        }
        if (len > max)
            return SCAND_ERR_INVAL;
    }
    c->len = (uint8_t)(v6 ? len : len + 96);
    c->v6 = (uint8_t)v6;
    for (unsigned i = c->len; i < 128; i++) /* clear the host bits */
        c->net[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
    return SCAND_OK;
}

static uint64_t be64_at(const uint8_t *b)
{
    uint64_t w = 0;
    for (int i = 0; i < 8; i++)
        w = w << 8 | b[i];
    return w;
}

/* The first len bits of a and c->net agree: two words under a mask, no
 * memcmp call (pcap2flow asks for both ends of every new flow). */
int scand_cidr_has(const struct scand_cidr *c, const uint8_t a[16])
{
    if (c->v6 && scand_addr_is_v4(a))
        return 0;
    unsigned len = c->len > 128 ? 128 : c->len;
    uint64_t m0 = len >= 64 ? ~0ULL : len == 0 ? 0 : ~0ULL << (64 - len);
    uint64_t m1 = len <= 64 ? 0 : len >= 128 ? ~0ULL : ~0ULL << (128 - len);
    return ((be64_at(a) ^ be64_at(c->net)) & m0) == 0 &&
           ((be64_at(a + 8) ^ be64_at(c->net + 8)) & m1) == 0;
}
