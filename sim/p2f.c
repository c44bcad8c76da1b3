/*
 * p2f.c - packets to Azure flow tuples (p2f.h): the frame decoder and the
 * flow engine.
 *
 * Decoding trusts nothing: every header is checked against the captured
 * length before it is read, and every length field against what it claims
 * to contain [TD print-*.c's ND_TCHECK habit].
 *
 * Flows live in a slab (stable indices) under an open-addressing index of
 * 32-bit slots, deleted by backward shift, so there is no allocation per
 * packet and no tombstone. Each flow sits on one of three lists in order of
 * its last packet (TCP, UDP, closed): the heads are the flows that expire
 * first, so idle timeouts cost O(1) per flow, not a scan of the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "p2f.h"
#include "sim.h"

/* ------------------------------------------------------------ decoding */

int p2f_linktype_ok(int dlt)
{
    switch (dlt) {
    case P2F_DLT_NULL:
    case P2F_DLT_EN10MB:
    case P2F_DLT_RAW:
    case P2F_DLT_RAW_ALT:
    case P2F_DLT_LOOP:
    case P2F_DLT_LINUX_SLL:
    case P2F_DLT_IPV4:
    case P2F_DLT_IPV6:
    case P2F_DLT_LINUX_SLL2:
        return 1;
    default:
        return 0;
    }
}

const char *p2f_verdict_name(int v)
{
    static const char *const names[P2F_N_VERDICTS] = {
        "TCP/UDP", "ICMP (not logged by Azure)", "not IP", "truncated", "bad header",
        "IP fragment after the first", "other IP protocol"};
    return v >= 0 && v < P2F_N_VERDICTS ? names[v] : "?";
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* ::ffff:a.b.c.d, stored as two words: the flow key's hash reads it back
 * a word at a time (key_pkt), and a word stored in pieces would stall
 * that read (no store forwarding). */
static void v4mapped(uint8_t out[16], const uint8_t *a4)
{
    uint32_t v;
    memcpy(&v, a4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    uint64_t hi = 0x0000ffff00000000ULL | v;
#else
    uint64_t hi = 0xffff0000ULL | (uint64_t)v << 32;
#endif
    memset(out, 0, 8);
    memcpy(out + 8, &hi, 8);
}

/* The ports (and TCP flags) at l4[0..n). */
static int ports(uint8_t proto, const uint8_t *l4, uint32_t n, struct p2f_pkt *o)
{
    if (proto == 6) {
        if (n < 14)
            return P2F_TRUNCATED;
        o->tcp_flags = l4[13];
    } else if (n < 4) {
        return P2F_TRUNCATED;
    }
    o->sport = be16(l4);
    o->dport = be16(l4 + 2);
    o->proto = proto;
    return P2F_FLOW;
}

static int ipv4(const uint8_t *p, uint32_t n, struct p2f_pkt *o)
{
    if (n < 20)
        return P2F_TRUNCATED;
    if (p[0] >> 4 != 4)
        return P2F_BAD_HEADER;
    uint32_t ihl = (uint32_t)(p[0] & 0x0f) * 4;
    uint32_t tot = be16(p + 2);
    if (ihl < 20 || tot < ihl)
        return P2F_BAD_HEADER;
    if (n < ihl)
        return P2F_TRUNCATED;
    if ((uint64_t)tot > (uint64_t)n + o->bytes)
        return P2F_BAD_HEADER; /* longer than the frame on the wire */
    v4mapped(o->src, p + 12);
    v4mapped(o->dst, p + 16);
    o->bytes = tot + 14;
    if ((be16(p + 6) & 0x1fff) != 0)
        return P2F_FRAGMENT;
    uint8_t proto = p[9];
    if (proto == 1) {
        o->proto = 1;
        return P2F_ICMP;
    }
    if (proto != 6 && proto != 17)
        return P2F_OTHER_PROTO;
    /* the L4 header: within the captured bytes and within the IP length
     * (short because the IP length says so: a bad header; because the
     * capture stopped: truncated) */
    uint32_t avail = n - ihl, inlen = tot - ihl;
    int v = ports(proto, p + ihl, avail < inlen ? avail : inlen, o);
    return v == P2F_TRUNCATED && avail >= inlen ? P2F_BAD_HEADER : v;
}

static int ipv6(const uint8_t *p, uint32_t n, struct p2f_pkt *o)
{
    if (n < 40)
        return P2F_TRUNCATED;
    if (p[0] >> 4 != 6)
        return P2F_BAD_HEADER;
    uint32_t plen = be16(p + 4);
    if (40 + (uint64_t)plen > (uint64_t)n + o->bytes)
        return P2F_BAD_HEADER; /* longer than the frame on the wire */
    memcpy(o->src, p + 8, 16);
    memcpy(o->dst, p + 24, 16);
    o->bytes = 40 + plen + 14;
    uint8_t nh = p[6];
    uint32_t off = 40, end = 40 + plen;
    /* walk the extension headers (at most 8: a chain longer than that is
     * an attack, not a packet) */
    for (int hops = 0; hops < 8; hops++) {
        switch (nh) {
        case 0:   /* hop-by-hop */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 135: /* mobility */
        case 51: { /* AH */
            if (off + 2 > n)
                return P2F_TRUNCATED;
            uint32_t len = nh == 51 ? ((uint32_t)p[off + 1] + 2) * 4 : ((uint32_t)p[off + 1] + 1) * 8;
            if (off + len > end)
                return P2F_BAD_HEADER;
            nh = p[off];
            off += len;
            continue;
        }
        case 44: /* fragment */
            if (off + 8 > n)
                return P2F_TRUNCATED;
            if (off + 8 > end)
                return P2F_BAD_HEADER;
            if ((be16(p + off + 2) & 0xfff8) != 0)
                return P2F_FRAGMENT;
            nh = p[off];
            off += 8;
            continue;
        case 58:
            o->proto = 58;
            return P2F_ICMP;
        case 6:
        case 17: {
            if (off > end)
                return P2F_BAD_HEADER;
            uint32_t avail = n > off ? n - off : 0, inlen = end - off;
            int v = ports(nh, p + off, avail < inlen ? avail : inlen, o);
            return v == P2F_TRUNCATED && avail >= inlen ? P2F_BAD_HEADER : v;
        }
        default:
            return P2F_OTHER_PROTO;
        }
    }
    return P2F_BAD_HEADER;
}

static int ip_any(const uint8_t *p, uint32_t n, struct p2f_pkt *o)
{
    if (n < 1)
        return P2F_TRUNCATED;
    return p[0] >> 4 == 4 ? ipv4(p, n, o) : p[0] >> 4 == 6 ? ipv6(p, n, o) : P2F_BAD_HEADER;
}

static int by_ethertype(uint16_t type, const uint8_t *p, uint32_t n, struct p2f_pkt *o)
{
    if (type == 0x0800)
        return ipv4(p, n, o);
    if (type == 0x86dd)
        return ipv6(p, n, o);
    return P2F_NOT_IP;
}

static void key_pkt(struct p2f_pkt *k);

static int decode(int dlt, const uint8_t *d, uint32_t caplen, uint32_t len, int64_t ts_us,
                  struct p2f_pkt *o)
{
    memset(o, 0, sizeof *o);
    o->ts_us = ts_us;
    /* until the IP header sets it, bytes holds what the wire had beyond
     * the captured bytes: an IP length must fit in what the wire had */
    o->bytes = len > caplen ? len - caplen : 0;
    switch (dlt) {
    case P2F_DLT_EN10MB: {
        if (caplen < 14)
            return P2F_TRUNCATED;
        memcpy(o->src_mac, d + 6, 6);
        o->has_mac = 1;
        uint32_t off = 12;
        uint16_t type = be16(d + off);
        /* 802.1Q, 802.1ad (QinQ) and the old 0x9100: up to 4 tags */
        for (int tags = 0; (type == 0x8100 || type == 0x88a8 || type == 0x9100) && tags < 4;
             tags++) {
            if (off + 6 > caplen)
                return P2F_TRUNCATED;
            off += 4;
            type = be16(d + off);
        }
        if (type == 0x8100 || type == 0x88a8 || type == 0x9100)
            return P2F_BAD_HEADER;
        off += 2;
        return by_ethertype(type, d + off, caplen - off, o);
    }
    case P2F_DLT_LINUX_SLL: {
        if (caplen < 16)
            return P2F_TRUNCATED;
        if (be16(d + 2) == 1 && be16(d + 4) == 6 && be16(d) == 4) { /* sent by us, Ethernet */
            memcpy(o->src_mac, d + 6, 6);
            o->has_mac = 1;
        } else if (be16(d + 2) == 1 && be16(d + 4) == 6) {
            memcpy(o->src_mac, d + 6, 6); /* the sender's address, either way */
            o->has_mac = 1;
        }
        return by_ethertype(be16(d + 14), d + 16, caplen - 16, o);
    }
    case P2F_DLT_LINUX_SLL2: {
        if (caplen < 20)
            return P2F_TRUNCATED;
        if (be16(d + 8) == 1 && d[11] == 6) {
            memcpy(o->src_mac, d + 12, 6);
            o->has_mac = 1;
        }
        return by_ethertype(be16(d), d + 20, caplen - 20, o);
    }
    case P2F_DLT_NULL:
    case P2F_DLT_LOOP: {
        if (caplen < 4)
            return P2F_TRUNCATED;
        /* the address family, in the byte order of the machine that
         * captured (NULL) or network order (LOOP): try both */
        uint32_t le = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
                      (uint32_t)d[3] << 24;
        uint32_t be = (uint32_t)d[3] | (uint32_t)d[2] << 8 | (uint32_t)d[1] << 16 |
                      (uint32_t)d[0] << 24;
        uint32_t fam = dlt == P2F_DLT_LOOP ? be : (le < 256 ? le : be);
        if (fam == 2)
            return ipv4(d + 4, caplen - 4, o);
        if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
            return ipv6(d + 4, caplen - 4, o);
        return P2F_NOT_IP;
    }
    case P2F_DLT_RAW:
    case P2F_DLT_RAW_ALT:
        return ip_any(d, caplen, o);
    case P2F_DLT_IPV4:
        return ipv4(d, caplen, o);
    case P2F_DLT_IPV6:
        return ipv6(d, caplen, o);
    default:
        return P2F_NOT_IP;
    }
}

/* A packet for the flow engine comes keyed: its flow key's order and hash
 * are worked out here, on the reading thread, not on the engine's. */
int p2f_decode(int dlt, const uint8_t *d, uint32_t caplen, uint32_t len, int64_t ts_us,
               struct p2f_pkt *o)
{
    int v = decode(dlt, d, caplen, len, ts_us, o);
    if (v == P2F_FLOW || v == P2F_ICMP)
        key_pkt(o);
    return v;
}

/* ------------------------------------------------------------ cidrs, macs */

int p2f_parse_cidrs(const char *s, struct scand_cidr *out, size_t max, size_t *n)
{
    *n = 0;
    for (;;) { /* split by hand: strtok_r would skip empty items ("a,,b", "a,") */
        const char *comma = strchr(s, ',');
        size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
        if (*n == max || scand_cidr_parse(s, len, &out[*n]) != SCAND_OK)
            return -1;
        (*n)++;
        if (comma == NULL)
            return 0;
        s = comma + 1;
    }
}

static uint64_t fnv(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

/* The derived MAC as a 48-bit word: Azure's 00-0D-3A prefix, then the
 * low 24 bits of the address's FNV-1a hash. */
static uint64_t derived_mac_word(const uint8_t addr[16])
{
    return (uint64_t)0x000D3A << 24 | (fnv(addr, 16) & 0xffffff);
}

/* A 48-bit MAC as Azure writes it: 12 upper-case hex digits. */
static void mac_text(uint64_t w, char out[13])
{
    static const char hex[] = "0123456789ABCDEF";
    for (int i = 0; i < 12; i++)
        out[i] = hex[(w >> (44 - 4 * i)) & 15];
    out[12] = '\0';
}

void p2f_derived_mac(const uint8_t addr[16], char out[13])
{
    mac_text(derived_mac_word(addr), out);
}

/* ------------------------------------------------------------ flows */

/* Big-endian word: memcmp's order. */
static inline uint64_t be64(const uint8_t *b)
{
    return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 |
           (uint64_t)b[3] << 32 | (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 |
           (uint64_t)b[6] << 8 | b[7];
}

static inline uint64_t word(const uint8_t *b)
{
    uint64_t w;
    memcpy(&w, b, 8);
    return w;
}

static inline int addr_eq(const uint8_t *a, const uint8_t *b)
{
    return ((word(a) ^ word(b)) | (word(a + 8) ^ word(b + 8))) == 0;
}

/* The flow key's hash from its parts: each address as two 64-bit words,
 * then ports and protocol. Each address is folded by a 64x64->128-bit
 * multiply (as wyhash's mum), the two in parallel, then one multiply and
 * xorshift mixes in the rest: about ten cycles of latency, where a chain
 * of five multiplies took a fifth of the reading thread (FNV's byte loop
 * was a tenth of the run). Computed from the packet's own fields, not
 * from the key just built: reading back bytes just stored stalls on store
 * forwarding. */
static inline uint64_t mum(uint64_t x, uint64_t y)
{
    unsigned __int128 r = (unsigned __int128)x * y;
    /* x and y folded back in, as wyhash's "condom" does: a product with one
     * side 0 would lose the other (every IPv6 address whose low half is
     * the constant would hash alike: a flood of one probe chain) */
    return ((uint64_t)r ^ x) ^ ((uint64_t)(r >> 64) ^ y);
}

static inline uint32_t hash_words(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1,
                                  uint32_t ports, uint8_t proto)
{
    uint64_t ha = mum(a0 ^ 0xa0761d6478bd642fULL, a1 ^ 0xe7037ed1a0b428dbULL);
    uint64_t hb = mum(b0 ^ 0x8ebc6af09c88c6e3ULL, b1 ^ 0x589965cc75374cc3ULL);
    uint64_t h = (ha ^ (hb << 23 | hb >> 41) ^ ((uint64_t)ports << 8 | proto)) *
                 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
    return (uint32_t)h;
}

/* y where m is all ones, x where it is zero: a select the compiler cannot
 * turn into a branch (which way a packet goes is a coin toss, and the
 * mispredicted branch was a fifth of keying a packet). */
static inline uint64_t pick(uint64_t m, uint64_t x, uint64_t y)
{
    return (x & ~m) | (y & m);
}

#define NIL UINT32_MAX
#define KEY_SIZE 37 /* proto, address a, address b, port a, port b */
enum { L_TCP, L_UDP, L_CLOSED, N_LISTS };

/* 128 bytes on a 64-byte boundary: a packet touches two cache lines of
 * its flow (the key and state, then the times and counts), not three. */
struct flow {
    uint8_t key[KEY_SIZE];
    uint8_t init : 1;      /* 0: endpoint a initiated, 1: b */
    uint8_t fin : 2;       /* bit 0: a sent FIN, bit 1: b sent FIN */
    uint8_t list : 2;      /* L_* */
    uint8_t has_mac : 2;   /* bit 0: a's MAC known, bit 1: b's */
    uint8_t b_pending : 1; /* the B tuple waits for the next tuple, so that an end
                              that answers later is logged at its own NIC */
    uint8_t quiet : 2;     /* endpoints (bits) whose NIC logs no B/C/E: a denying
                              NSG logs D tuples only; past an outbound denial
                              nothing arrives */
    uint8_t inside : 2;    /* bit e: endpoint e is in an --inside network (its NIC logs) */
    uint8_t interned : 2;  /* bit e: mac[e] holds e's interned NIC (a uint32_t
                              string table index), decided at the flow's first
                              tuple; before that, the MAC learned for e */
    int8_t denier;         /* the endpoint whose NIC logs D tuples, -1 none */
    uint8_t mac[2][6];
    uint32_t hash;
    uint32_t prev, next; /* on its list */
    int64_t t_first, t_last, next_c; /* ms */
    int64_t t_enq; /* when it joined its list: lists are in t_enq order, and a
                      packet does not move its flow (lazy: the head is
                      re-queued if it saw packets since) */
    uint64_t pk[2], by[2];           /* since the last tuple, sent by a and by b */
};
_Static_assert(sizeof(struct flow) == 128, "a flow is two cache lines");
_Static_assert(offsetof(struct flow, t_first) == 64, "times and counts share the second line");

/* Flow keys equal: words, not a call to memcmp (the index's hot loop). */
static inline int key_eq(const uint8_t *a, const uint8_t *b)
{
    uint32_t x, y;
    memcpy(&x, a + 32, 4);
    memcpy(&y, b + 32, 4);
    return ((word(a) ^ word(b)) | (word(a + 8) ^ word(b + 8)) | (word(a + 16) ^ word(b + 16)) |
            (word(a + 24) ^ word(b + 24)) | (x ^ y) | (uint64_t)(a[36] ^ b[36])) == 0;
}
_Static_assert(KEY_SIZE == 37, "key_eq compares 37 bytes");

struct list {
    uint32_t head, tail;
};

/* Address -> the source MAC of its first frame: the NIC that logs it. At
 * most MAX_MACS addresses (a spoofed inside range cannot grow it further). */
#define MAX_MACS (1u << 20)
struct macent {
    uint8_t addr[16];
    uint8_t mac[6];
    uint8_t used;
};

/* NICs already named: a MAC (48 bits, bit 48 set so that no entry is 0)
 * -> its string table index. A flow's NIC is decided at its first tuple:
 * a word compared here instead of 12 hex digits formatted, hashed and
 * compared in the string table. It holds no more than the string table
 * does (every name in it is one of the table's). */
struct nicent {
    uint64_t mac;
    uint32_t idx;
};

/* The flow slab and index: tens of megabytes, from bigmem (the slab grows
 * without a copy). */

struct p2f {
    struct p2f_opts o;
    scand_strtab *st;
    p2f_tuple_fn fn;
    void *arg;
    uint32_t group;
    struct flow *slab; /* bigmem_alloc(cap_slab flows) */
    size_t n_slab, cap_slab;
    uint32_t free_head;
    uint64_t *index; /* hash << 32 | slab index + 1; 0 = empty: probing reads
                        no flow unless the hash matches */
    size_t mask, n_live;
    struct list lists[N_LISTS];
    struct macent *macs;
    size_t mac_mask, n_macs;
    struct nicent *nics;
    size_t nic_mask, n_nics;
    int64_t newest_us;
    int64_t expired_at; /* expire_until's last clock (ms) */
    int failed;
    int finishing; /* p2f_finish(): flows leave the index all at once */
    struct p2f_stats stats;
};

int64_t p2f_decision_lag_ms(const struct p2f_opts *o)
{
    /* a B waits for the next tuple (up to a C interval or an idle
     * timeout); the lazy lists find an idle flow up to two timeouts late */
    int64_t idle = o->tcp_idle_ms > o->udp_idle_ms ? o->tcp_idle_ms : o->udp_idle_ms;
    int64_t lag = o->c_every_ms + 2 * idle + 60000;
    return lag > 15 * 60000LL ? lag : 15 * 60000LL;
}

void p2f_opts_default(struct p2f_opts *o)
{
    memset(o, 0, sizeof *o);
    o->tcp_idle_ms = SIM_TCP_IDLE_MS;
    o->udp_idle_ms = SIM_UDP_IDLE_MS;
    o->c_every_ms = 300000;
    o->linger_ms = 2000;
    o->max_flows = 1000000;
}

p2f *p2f_new(const struct p2f_opts *o, scand_strtab *st, p2f_tuple_fn fn, void *arg)
{
    p2f *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->o = *o;
    p->st = st;
    p->fn = fn;
    p->arg = arg;
    p->free_head = NIL;
    p->mask = 4095;
    p->index = bigmem_alloc((p->mask + 1) * sizeof *p->index);
    p->mac_mask = 1023;
    p->macs = calloc(p->mac_mask + 1, sizeof *p->macs);
    p->nic_mask = 255;
    p->nics = calloc(p->nic_mask + 1, sizeof *p->nics);
    for (int i = 0; i < N_LISTS; i++)
        p->lists[i].head = p->lists[i].tail = NIL;
    static const char acl[] = "00000000-0000-0000-0000-00000000p2f0";
    if (p->index == NULL || p->macs == NULL || p->nics == NULL ||
        scand_group_intern(st, acl, sizeof acl - 1, "pcap2flow", 9, &p->group) != SCAND_OK) {
        p2f_free(p);
        return NULL;
    }
    p->newest_us = INT64_MIN;
    p->expired_at = INT64_MIN;
    return p;
}

void p2f_free(p2f *p)
{
    if (p == NULL)
        return;
    bigmem_free(p->slab, p->cap_slab * sizeof *p->slab);
    bigmem_free(p->index, (p->mask + 1) * sizeof *p->index);
    free(p->macs);
    free(p->nics);
    free(p);
}

void p2f_get_stats(const p2f *p, struct p2f_stats *s)
{
    *s = p->stats;
}

static inline uint64_t mix64(uint64_t h)
{
    h = (h ^ h >> 30) * 0xbf58476d1ce4e5b9ULL; /* splitmix64's finalizer */
    h = (h ^ h >> 27) * 0x94d049bb133111ebULL;
    return h ^ h >> 31;
}

static struct macent *mac_slot(struct macent *t, size_t mask, const uint8_t addr[16])
{
    uint64_t x = word(addr), y = word(addr + 8);
    size_t j = mix64(x ^ (y << 17 | y >> 47) ^ y) & mask;
    while (t[j].used && !addr_eq(t[j].addr, addr))
        j = (j + 1) & mask;
    return &t[j];
}

static struct nicent *nic_slot(struct nicent *t, size_t mask, uint64_t w)
{
    size_t j = mix64(w) & mask;
    while (t[j].mac != 0 && t[j].mac != w)
        j = (j + 1) & mask;
    return &t[j];
}

/* The string table index of the NIC with MAC w (48 bits): the name
 * interned the first time. -1 when out of memory. */
static int nic_name(p2f *p, uint64_t w, uint32_t *idx)
{
    w |= (uint64_t)1 << 48;
    struct nicent *e = nic_slot(p->nics, p->nic_mask, w);
    if (e->mac != 0) {
        *idx = e->idx;
        return 0;
    }
    char text[13];
    mac_text(w & 0xffffffffffffULL, text);
    if (scand_strtab_intern(p->st, text, 12, idx) != SCAND_OK)
        return -1;
    if ((p->n_nics + 1) * 2 > p->nic_mask + 1) {
        size_t cap = (p->nic_mask + 1) * 2;
        struct nicent *nt = calloc(cap, sizeof *nt);
        if (nt == NULL)
            return -1;
        for (size_t j = 0; j <= p->nic_mask; j++)
            if (p->nics[j].mac != 0)
                *nic_slot(nt, cap - 1, p->nics[j].mac) = p->nics[j];
        free(p->nics);
        p->nics = nt;
        p->nic_mask = cap - 1;
        e = nic_slot(p->nics, p->nic_mask, w);
    }
    e->mac = w;
    e->idx = *idx;
    p->n_nics++;
    return 0;
}

static int in_side(const p2f *p, const uint8_t a[16]);

/* Learn addr's MAC (first frame wins). Only inside addresses have a NIC
 * that logs, so only they are learned: spoofed outside sources cannot
 * grow the table. -1 when out of memory. */
static int mac_learn(p2f *p, const uint8_t addr[16], const uint8_t mac[6], int inside)
{
    if (!inside)
        return 0;
    struct macent *e = mac_slot(p->macs, p->mac_mask, addr);
    if (e->used || p->n_macs >= MAX_MACS)
        return 0; /* known, or the table is full: a derived MAC serves */
    if ((p->n_macs + 1) * 2 > p->mac_mask + 1) {
        size_t cap = (p->mac_mask + 1) * 2;
        struct macent *nt = calloc(cap, sizeof *nt);
        if (nt == NULL)
            return -1;
        for (size_t j = 0; j <= p->mac_mask; j++)
            if (p->macs[j].used)
                *mac_slot(nt, cap - 1, p->macs[j].addr) = p->macs[j];
        free(p->macs);
        p->macs = nt;
        p->mac_mask = cap - 1;
        e = mac_slot(p->macs, p->mac_mask, addr);
    }
    memcpy(e->addr, addr, 16);
    memcpy(e->mac, mac, 6);
    e->used = 1;
    p->n_macs++;
    return 0;
}

static const struct macent *mac_slot_c(const p2f *p, const uint8_t addr[16])
{
    return mac_slot(p->macs, p->mac_mask, addr);
}

static void unlink_flow(p2f *p, uint32_t i)
{
    struct flow *f = &p->slab[i];
    struct list *l = &p->lists[f->list];
    if (f->prev != NIL)
        p->slab[f->prev].next = f->next;
    else
        l->head = f->next;
    if (f->next != NIL)
        p->slab[f->next].prev = f->prev;
    else
        l->tail = f->prev;
    f->prev = f->next = NIL;
}

static void append(p2f *p, uint32_t i, int list, int64_t now)
{
    struct flow *f = &p->slab[i];
    f->t_enq = now;
    struct list *l = &p->lists[list];
    f->list = (uint8_t)list;
    f->next = NIL;
    f->prev = l->tail;
    if (l->tail != NIL)
        p->slab[l->tail].next = i;
    else
        l->head = i;
    l->tail = i;
}

static int in_side(const p2f *p, const uint8_t a[16])
{
    for (size_t i = 0; i < p->o.n_inside; i++)
        if (scand_cidr_has(&p->o.inside[i], a))
            return 1;
    return 0;
}

static const struct macent *mac_slot_c(const p2f *p, const uint8_t addr[16]);
static int emit_now(p2f *p, struct flow *f, int state, int64_t ts_ms);
static int emit_at(p2f *p, struct flow *f, int state, int64_t ts_ms, int only);

/* Emit one tuple of flow f at each inside end's NIC. The B tuple is held
 * back until the flow's next tuple: by then an inside end that answered
 * has shown its MAC. */
static int emit(p2f *p, struct flow *f, int state, int64_t ts_ms)
{
    if (state == SCAND_ST_B) {
        f->b_pending = 1;
        return 0;
    }
    for (int e = 0; e < 2; e++) {
        if ((f->has_mac & (1 << e)) || (f->interned & (1 << e)) || !(f->inside & (1 << e)))
            continue; /* known or decided, or outside: only inside MACs are learned */
        const struct macent *m = mac_slot_c(p, f->key + 1 + 16 * e);
        if (m->used) {
            memcpy(f->mac[e], m->mac, 6);
            f->has_mac |= (uint8_t)(1 << e);
        }
    }
    if (f->b_pending) {
        f->b_pending = 0;
        uint64_t pk[2] = {f->pk[0], f->pk[1]}, by[2] = {f->by[0], f->by[1]};
        int rc = emit_now(p, f, SCAND_ST_B, f->t_first);
        f->pk[0] = pk[0], f->pk[1] = pk[1], f->by[0] = by[0], f->by[1] = by[1];
        if (rc != 0)
            return rc;
    }
    return emit_now(p, f, state, ts_ms);
}

static int emit_now(p2f *p, struct flow *f, int state, int64_t ts_ms)
{
    return emit_at(p, f, state, ts_ms, -1);
}

/* Emit at every inside end's NIC (only < 0), or at endpoint only's. */
static int emit_at(p2f *p, struct flow *f, int state, int64_t ts_ms, int only)
{
    int s = f->init, d = !f->init; /* endpoint indices of source and destination */
    struct scand_tuple t;
    memset(&t, 0, sizeof t);
    t.ts_ms = ts_ms;
    t.proto = f->key[0];
    memcpy(t.src, f->key + 1 + 16 * s, 16);
    memcpy(t.dst, f->key + 1 + 16 * d, 16);
    t.sport = be16(f->key + 33 + 2 * s);
    t.dport = be16(f->key + 33 + 2 * d);
    t.state = (uint8_t)state;
    t.enc = SCAND_ENC_NX;
    t.group = p->group;
    if (state != SCAND_ST_B && state != SCAND_ST_D) {
        t.pkts_s2d = f->pk[s];
        t.bytes_s2d = f->by[s];
        t.pkts_d2s = f->pk[d];
        t.bytes_d2s = f->by[d];
        f->pk[0] = f->pk[1] = f->by[0] = f->by[1] = 0;
    }
    if (scand_addr_is_v4(t.src) == 0 || scand_addr_is_v4(t.dst) == 0)
        t.flags |= SCAND_TF_V6;
    for (int end = 0; end < 2; end++) {
        int who = end == 0 ? s : d;
        const uint8_t *addr = f->key + 1 + 16 * who;
        if (!(f->inside & (1 << who)) || (only < 0 && (f->quiet & (1 << who))) ||
            (only >= 0 && who != only))
            continue;
        if (!(f->interned & (1 << who))) { /* decided once, at the flow's first tuple */
            uint64_t w = 0;
            if (f->has_mac & (1 << who))
                for (int b = 0; b < 6; b++)
                    w = w << 8 | f->mac[who][b];
            else
                w = derived_mac_word(addr);
            uint32_t idx;
            if (nic_name(p, w, &idx) != 0)
                return -1;
            memcpy(f->mac[who], &idx, sizeof idx);
            f->interned |= (uint8_t)(1 << who);
        }
        memcpy(&t.mac, f->mac[who], sizeof t.mac);
        t.dir = end == 0 ? SCAND_DIR_OUT : SCAND_DIR_IN;
        p->stats.tuples++;
        if (p->fn(p->arg, &t) != 0)
            return -1;
    }
    return 0;
}

/* C tuples for every boundary before t (ms). */
static int c_until(p2f *p, struct flow *f, int64_t t)
{
    while (f->next_c < t) {
        if (emit(p, f, SCAND_ST_C, f->next_c) != 0)
            return -1;
        f->next_c += p->o.c_every_ms;
    }
    return 0;
}

/* The index slot holding flow i, or of key (hash h) when i is NIL. */
static size_t find_slot(const p2f *p, const uint8_t *key, uint32_t h, int *found)
{
    size_t j = h & p->mask;
    for (;; j = (j + 1) & p->mask) {
        uint64_t v = p->index[j];
        if (v == 0) {
            *found = 0;
            return j;
        }
        if ((uint32_t)(v >> 32) != h)
            continue;
        const struct flow *f = &p->slab[(uint32_t)v - 1];
        if (key_eq(f->key, key)) {
            *found = 1;
            return j;
        }
    }
}

/* Remove flow i from the index (backward-shift deletion) and free it. */
static void drop(p2f *p, uint32_t i)
{
    struct flow *f = &p->slab[i];
    int found = 0;
    size_t j = p->finishing ? 0 : find_slot(p, f->key, f->hash, &found);
    if (found) {
        p->index[j] = 0;
        size_t k = (j + 1) & p->mask;
        while (p->index[k] != 0) {
            size_t home = (size_t)(p->index[k] >> 32) & p->mask;
            /* move k back to j if its home is not in (j, k] */
            if ((j <= k) ? (home <= j || home > k) : (home <= j && home > k)) {
                p->index[j] = p->index[k];
                p->index[k] = 0;
                j = k;
            }
            k = (k + 1) & p->mask;
        }
    }
    unlink_flow(p, i);
    f->next = p->free_head;
    p->free_head = i;
    p->n_live--;
}

/* End flow i as its idle timeout does, and drop it. */
static int expire_by(p2f *p, uint32_t i, int64_t cap);

static int expire(p2f *p, uint32_t i)
{
    return expire_by(p, i, INT64_MAX);
}

/* End flow i at its idle timeout, or at cap if that comes first (a flow
 * evicted to bound memory), and drop it. */
static int expire_by(p2f *p, uint32_t i, int64_t cap)
{
    struct flow *f = &p->slab[i];
    if (f->list != L_CLOSED) {
        int64_t idle = f->key[0] == 6 ? p->o.tcp_idle_ms : p->o.udp_idle_ms;
        int64_t te = f->t_last + idle < cap ? f->t_last + idle : cap;
        if (te < f->t_last)
            te = f->t_last;
        if (c_until(p, f, te) != 0 || emit(p, f, SCAND_ST_E, te) != 0)
            return -1;
    }
    drop(p, i);
    return 0;
}

/* Expire what the clock (ms) has passed. */
static int expire_until(p2f *p, int64_t now)
{
    for (int l = 0; l < N_LISTS; l++) {
        int64_t idle = l == L_TCP ? p->o.tcp_idle_ms : l == L_UDP ? p->o.udp_idle_ms
                                                                  : p->o.linger_ms;
        while (p->lists[l].head != NIL) {
            uint32_t i = p->lists[l].head;
            struct flow *f = &p->slab[i];
            if (f->t_enq + idle > now)
                break; /* every flow behind it joined later */
            if (f->next != NIL) { /* the next in line, while this one ends */
                __builtin_prefetch(&p->slab[f->next]);
                __builtin_prefetch((const char *)&p->slab[f->next] + 64);
            }
            if (f->t_last + idle > now) { /* it saw packets since: to the back */
                unlink_flow(p, i);
                append(p, i, l, now);
                continue;
            }
            if (expire(p, i) != 0)
                return -1;
        }
        /* the flow behind the head is the next to be looked at: fetch it
         * now, not when the head leaves */
        if (p->lists[l].head != NIL) {
            uint32_t nx = p->slab[p->lists[l].head].next;
            if (nx != NIL)
                __builtin_prefetch(&p->slab[nx].t_enq);
        }
    }
    return 0;
}

static int grow_index(p2f *p)
{
    size_t cap = (p->mask + 1) * 2;
    uint64_t *ni = bigmem_alloc(cap * sizeof *ni);
    if (ni == NULL)
        return -1;
    size_t mask = cap - 1;
    for (size_t j = 0; j <= p->mask; j++) {
        uint64_t v = p->index[j];
        if (v == 0)
            continue;
        size_t k = (size_t)(v >> 32) & mask;
        while (ni[k] != 0)
            k = (k + 1) & mask;
        ni[k] = v;
    }
    bigmem_free(p->index, (p->mask + 1) * sizeof *p->index);
    p->index = ni;
    p->mask = mask;
    return 0;
}

static uint32_t new_flow(p2f *p)
{
    if (p->free_head != NIL) {
        uint32_t i = p->free_head;
        p->free_head = p->slab[i].next;
        return i;
    }
    if (p->n_slab == p->cap_slab) {
        size_t cap = p->cap_slab ? p->cap_slab * 2 : 4096;
        if (cap >= NIL)
            return NIL;
        struct flow *ns = bigmem_grow(p->slab, p->cap_slab * sizeof *ns, cap * sizeof *ns);
        if (ns == NULL)
            return NIL;
        p->slab = ns;
        p->cap_slab = cap;
    }
    return (uint32_t)p->n_slab++;
}

/* The policy's verdict for a new flow: sets f->quiet and f->denier. */
static void apply_policy(p2f *p, struct flow *f)
{
    f->denier = -1;
    int s = f->init, d = !f->init;
    const uint8_t *src = f->key + 1 + 16 * s, *dst = f->key + 1 + 16 * d;
    uint16_t dport = be16(f->key + 33 + 2 * d);
    for (size_t i = 0; i < p->o.n_deny; i++) {
        const struct p2f_deny *r = &p->o.deny[i];
        if ((r->proto != 0 && r->proto != f->key[0]) || !scand_cidr_has(&r->src, src) ||
            !scand_cidr_has(&r->dst, dst))
            continue;
        int port = r->n_ports == 0;
        for (size_t j = 0; j < r->n_ports && !port; j++)
            port = dport >= r->lo[j] && dport <= r->hi[j];
        if (!port)
            continue;
        p->stats.denied++;
        f->denier = (int8_t)(r->outbound ? s : d);
        f->quiet = (uint8_t)(r->outbound ? 3 : 1 << d);
        return;
    }
}

/* The flow key's two ends as words, the lesser first (swap: dst is),
 * and its ports the same way (port a << 16 | port b). */
static inline uint32_t key_ends(const struct p2f_pkt *k, int swap, uint64_t w[4])
{
    uint64_t m = (uint64_t)0 - (uint64_t)swap;
    uint64_t ws0 = word(k->src), ws1 = word(k->src + 8), wd0 = word(k->dst),
             wd1 = word(k->dst + 8);
    w[0] = pick(m, ws0, wd0), w[1] = pick(m, ws1, wd1);
    w[2] = pick(m, wd0, ws0), w[3] = pick(m, wd1, ws1);
    uint32_t sd = (uint32_t)k->sport << 16 | k->dport, ds = (uint32_t)k->dport << 16 | k->sport;
    return (uint32_t)pick(m, sd, ds);
}

/* k's flow key order (the lesser address and port first, in memcmp's
 * order, a word at a time) and hash. */
static void key_pkt(struct p2f_pkt *k)
{
    uint64_t s0 = be64(k->src), d0 = be64(k->dst), s1 = be64(k->src + 8), d1 = be64(k->dst + 8);
    int swap = (s0 > d0) | ((s0 == d0) & ((s1 > d1) | ((s1 == d1) & (k->sport > k->dport))));
    uint64_t w[4];
    uint32_t ports = key_ends(k, swap, w);
    k->swap = (uint8_t)swap;
    k->hash = hash_words(w[0], w[1], w[2], w[3], ports, k->proto);
    k->keyed = 1;
}

/* k's flow key in key; the sender (1: the key's b end). */
static int make_key(const struct p2f_pkt *k, uint8_t key[KEY_SIZE], uint32_t *h)
{
    struct p2f_pkt c;
    if (!k->keyed) { /* built by hand, not by p2f_decode() */
        c = *k;
        key_pkt(&c);
        k = &c;
    }
#if defined(__SANITIZE_ADDRESS__) /* the test builds: a packet changed after it was keyed */
    else {
        c = *k;
        key_pkt(&c);
        if (c.swap != k->swap || c.hash != k->hash)
            abort();
    }
#endif
    uint64_t w[4];
    uint32_t ports = key_ends(k, k->swap, w);
    key[0] = k->proto;
    memcpy(key + 1, w, 32);
    key[33] = (uint8_t)(ports >> 24), key[34] = (uint8_t)(ports >> 16);
    key[35] = (uint8_t)(ports >> 8), key[36] = (uint8_t)ports;
    *h = k->hash;
    return k->swap;
}

static int packet_keyed(p2f *p, const struct p2f_pkt *k, const uint8_t *key, int sender,
                        uint32_t h);

int p2f_packet(p2f *p, const struct p2f_pkt *k)
{
    uint8_t key[KEY_SIZE];
    uint32_t h;
    int sender = make_key(k, key, &h);
    return packet_keyed(p, k, key, sender, h);
}

/* Packets in a software pipeline, so that memory latency overlaps: packet
 * i + 2D is hashed and its index slot prefetched, packet i + D's slot is
 * read and its flow's lines prefetched when the tag matches, and packet i
 * is stepped (prefetches are only hints: a step may move the index). */
#define PIPE_D 16
#define PIPE (4 * PIPE_D) /* a ring of keys: a power of two above 2D */

/* A prefetch the compiler keeps: GCC deletes a finite loop whose only
 * effect is __builtin_prefetch, so the asm marks it as one it must run. */
#define PREFETCH(a)                                                                         \
    do {                                                                                    \
        __builtin_prefetch(a);                                                              \
        __asm__ volatile("" : : "r"(a));                                                    \
    } while (0)

static void prefetch_flow(const p2f *p, uint32_t h)
{
    /* the probe sequence up to an empty slot (most keys sit near home) */
    for (size_t j = h & p->mask, n = 0; n < 8; j = (j + 1) & p->mask, n++) {
        uint64_t v = p->index[j];
        if (v == 0)
            return;
        if ((uint32_t)(v >> 32) == h) {
            const char *fp = (const char *)&p->slab[(uint32_t)v - 1];
            for (size_t off = 0; off < sizeof(struct flow); off += 64)
                PREFETCH(fp + off);
            return;
        }
    }
}

int p2f_packets(p2f *p, const struct p2f_pkt *k, size_t n)
{
    uint8_t keys[PIPE][KEY_SIZE];
    uint32_t hs[PIPE];
    int snd[PIPE];
    for (size_t i = 0; i < n + 2 * PIPE_D; i++) {
        if (i < n) {
            size_t r = i % PIPE;
            snd[r] = make_key(&k[i], keys[r], &hs[r]);
            __builtin_prefetch(&p->index[hs[r] & p->mask]);
        }
        if (i >= PIPE_D && i - PIPE_D < n)
            prefetch_flow(p, hs[(i - PIPE_D) % PIPE]);
        if (i >= 2 * PIPE_D) {
            size_t j = i - 2 * PIPE_D, r = j % PIPE;
            if (packet_keyed(p, &k[j], keys[r], snd[r], hs[r]) != 0)
                return -1;
        }
    }
    return 0;
}

static int packet_keyed(p2f *p, const struct p2f_pkt *k, const uint8_t *key, int sender,
                        uint32_t h)
{
    if (p->failed)
        return -1;
    p->stats.packets++;
    if (k->ts_us > p->newest_us)
        p->newest_us = k->ts_us;
    else if (p->newest_us - k->ts_us > 1000000)
        p->stats.late++;
    int64_t t = k->ts_us / 1000, now = p->newest_us / 1000;
    if (now != p->expired_at) { /* once per ms: the lists cannot change within one */
        if (expire_until(p, now) != 0)
            goto fail;
        p->expired_at = now;
    }
    uint16_t pa = (uint16_t)(key[33] << 8 | key[34]), pb = (uint16_t)(key[35] << 8 | key[36]);
    int found;
    size_t j = find_slot(p, key, h, &found);
    int tcp = k->proto == 6;
    uint8_t fl = k->tcp_flags;
    int syn_only = tcp && (fl & 0x12) == 0x02;
    if (found) {
        uint32_t i = (uint32_t)p->index[j] - 1;
        struct flow *f = &p->slab[i];
        int64_t idle = f->list == L_CLOSED ? p->o.linger_ms
                       : tcp                  ? p->o.tcp_idle_ms
                                              : p->o.udp_idle_ms;
        if (t - f->t_last >= idle) { /* gone idle before this packet: a new flow */
            if (expire(p, i) != 0)
                goto fail;
            j = find_slot(p, key, h, &found);
        } else if (f->list == L_CLOSED) {
            if (!syn_only) {
                p->stats.after_close++;
                return 0;
            }
            drop(p, i); /* a new connection on the same 5-tuple */
            j = find_slot(p, key, h, &found);
        } else {
            if (c_until(p, f, t + 1) != 0) /* boundaries at or before this packet */
                goto fail;
            if (f->denier >= 0 && sender == f->init &&
                emit_at(p, f, SCAND_ST_D, t > f->t_first ? t : f->t_first, f->denier) != 0)
                goto fail; /* each attempt */
            f->pk[sender]++;
            f->by[sender] += k->bytes;
            if (t > f->t_last)
                f->t_last = t;
            if (k->has_mac && !(f->has_mac & (1 << sender))) { /* once per flow end */
                if (mac_learn(p, k->src, k->src_mac, f->inside & (1 << sender)) != 0)
                    goto fail;
                if (!(f->interned & (1 << sender)))
                    memcpy(f->mac[sender], k->src_mac, 6);
                f->has_mac |= (uint8_t)(1 << sender);
            }
            int closed = 0;
            if (tcp) {
                if (fl & 0x04)
                    closed = 1;
                else if (fl & 0x01) {
                    f->fin |= (uint8_t)(1 << sender);
                    closed = f->fin == 3;
                }
            }
            if (closed) { /* a late closing packet still ends after the flow began */
                if (emit(p, f, SCAND_ST_E, t > f->t_last ? t : f->t_last) != 0)
                    goto fail;
                unlink_flow(p, i);
                append(p, i, L_CLOSED, now);
            }
            return 0;
        }
    }
    /* a new flow */
    int inside = in_side(p, key + 1) | in_side(p, key + 17) << 1;
    if (inside == 0) {
        p->stats.outside++;
        return 0;
    }
    if (p->o.max_flows > 0 && p->n_live >= p->o.max_flows) {
        /* hostile or huge captures: end the longest-quiet flow now, as a
         * conntrack table does when full (closed ones go first) */
        for (int q = L_TCP; q <= L_UDP; q++) /* lazy heads: put the busy ones back */
            while (p->lists[q].head != NIL &&
                   p->slab[p->lists[q].head].t_last > p->slab[p->lists[q].head].t_enq) {
                uint32_t hd = p->lists[q].head;
                unlink_flow(p, hd);
                append(p, hd, q, now); /* t_enq = now: the lists stay in t_enq order */
            }
        int l = p->lists[L_CLOSED].head != NIL ? L_CLOSED : L_TCP;
        if (l == L_TCP && (p->lists[L_TCP].head == NIL ||
                           (p->lists[L_UDP].head != NIL &&
                            p->slab[p->lists[L_UDP].head].t_enq <
                                p->slab[p->lists[L_TCP].head].t_enq)))
            l = L_UDP;
        if (p->lists[l].head != NIL) {
            if (l != L_CLOSED)
                p->stats.evicted++;
            if (expire_by(p, p->lists[l].head, now) != 0)
                goto fail;
            j = find_slot(p, key, h, &found);
        }
    }
    /* at most a third full: linear probing's clusters stay short (a new
     * flow's search for a free slot, and the backward shift when one
     * ends, walk them); 8 bytes a slot, against 128 a flow. Three
     * quarters full made the engine 15% slower per packet. */
    if ((p->n_live + 1) * 3 > p->mask + 1) {
        if (grow_index(p) != 0)
            goto fail;
        j = find_slot(p, key, h, &found);
    }
    uint32_t i = new_flow(p);
    if (i == NIL)
        goto fail;
    struct flow *f = &p->slab[i];
    static const struct flow zero_flow;
    *f = zero_flow; /* two lines of vector stores; memset was a `rep stos` */
    f->denier = -1;
    memcpy(f->key, key, KEY_SIZE);
    f->hash = h;
    f->inside = (uint8_t)inside;
    f->prev = f->next = NIL;
    p->index[j] = (uint64_t)h << 32 | (i + 1);
    p->n_live++;
    if (p->n_live > p->stats.peak_flows)
        p->stats.peak_flows = p->n_live;
    p->stats.flows++;
    /* the initiator */
    int init = sender;
    if (tcp && (fl & 0x12) == 0x12) {
        init = !sender; /* a SYN/ACK: its receiver opened the flow */
    } else if (tcp && !(fl & 0x02)) {
        p->stats.midstream++;
        uint16_t ps = sender == 0 ? pa : pb, pr = sender == 0 ? pb : pa;
        init = ps >= pr ? sender : !sender; /* the ephemeral (higher) port's side */
    }
    f->init = (uint8_t)init;
    f->t_first = f->t_last = t;
    f->next_c = t + p->o.c_every_ms;
    f->list = tcp ? L_TCP : L_UDP;
    append(p, i, f->list, now);
    /* each end's NIC, fixed for the flow's life: the MAC its address sent
     * from (learned from any flow), else derived from the address */
    if (k->has_mac && mac_learn(p, k->src, k->src_mac, inside & (1 << sender)) != 0)
        goto fail;
    for (int e = 0; e < 2; e++) {
        if (!(inside & (1 << e)))
            continue; /* only inside addresses are in the table */
        const struct macent *m = mac_slot(p->macs, p->mac_mask, key + 1 + 16 * e);
        if (m->used) {
            memcpy(f->mac[e], m->mac, 6);
            f->has_mac |= (uint8_t)(1 << e);
        }
    }
    apply_policy(p, f);
    if (f->denier >= 0 && emit_at(p, f, SCAND_ST_D, t, f->denier) != 0)
        goto fail;
    if (emit(p, f, SCAND_ST_B, t) != 0)
        goto fail;
    f->pk[sender] = 1;
    f->by[sender] = k->bytes;
    if (tcp && (fl & 0x04)) { /* a lone RST */
        unlink_flow(p, i);
        if (emit(p, f, SCAND_ST_E, t) != 0)
            goto fail;
        append(p, i, L_CLOSED, now);
    }
    return 0;
fail:
    p->failed = 1;
    return -1;
}

int p2f_finish(p2f *p)
{
    if (p->failed)
        return -1;
    /* every flow ends: the index is emptied at once, not a flow at a time
     * (a probe and a shift each, a tenth of the time the end took) */
    p->finishing = 1;
    int rc = expire_until(p, INT64_MAX / 2);
    p->finishing = 0;
    if (rc != 0) {
        p->failed = 1;
        return -1;
    }
    memset(p->index, 0, (p->mask + 1) * sizeof *p->index);
    /* flows that idle times beyond the clock used above keep open (none
     * with pcap2flow's limits of a day) go back in */
    for (int l = 0; l < N_LISTS; l++)
        for (uint32_t i = p->lists[l].head; i != NIL; i = p->slab[i].next) {
            int found;
            size_t j = find_slot(p, p->slab[i].key, p->slab[i].hash, &found);
            p->index[j] = (uint64_t)p->slab[i].hash << 32 | (i + 1);
        }
    return 0;
}
