/*
 * mkpcap.c - `mkpcap DIR`: write the captures the pcap2flow tests read,
 * with libpcap (pcap_open_dead + pcap_dump), plus a hand-made pcapng (libpcap
 * reads pcapng but does not write it) and broken files. Nothing downloaded:
 * every packet is built here, byte by byte. Same bytes on every run.
 *
 * `mkpcap --bench FILE N` writes a benchmark capture of at least N packets
 * instead: many short TCP sessions (handshake, two exchanges, FIN both
 * ways) and UDP exchanges between 65,536 clients and 2,000 servers,
 * hundreds of thousands of flows interleaved in time. `mkpcap --mixed FILE
 * N` writes the same kind of traffic, one flow in four over IPv6, spread
 * over three hours with fewer flows at once: hour flushes and spills meet
 * both address families.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#define T0 1772445600LL /* 2026-03-02T10:00:00Z, seconds */

static const char *dir;
static pcap_t *dead;
static pcap_dumper_t *dumper;
static int linktype;

static void die(const char *what)
{
    fprintf(stderr, "mkpcap: %s\n", what);
    exit(1);
}

static void open_cap(const char *name, int dlt)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    linktype = dlt;
    dead = pcap_open_dead_with_tstamp_precision(dlt, 65535, PCAP_TSTAMP_PRECISION_MICRO);
    if (dead == NULL || (dumper = pcap_dump_open(dead, path)) == NULL)
        die(path);
}

static void close_cap(void)
{
    pcap_dump_close(dumper);
    pcap_close(dead);
}

/* ------------------------------------------------------------ frames */

struct ep {
    const char *ip; /* "10.0.0.5" or "fd00::5" */
    unsigned port;
    unsigned char mac[6];
};

/* A minimal inet_pton for the fd00::N addresses the tests use. */
static int inet_pton_like6(const char *s, unsigned char *out)
{
    memset(out, 0, 16);
    unsigned a, b;
    if (sscanf(s, "%x::%x", &a, &b) != 2)
        return -1;
    out[0] = (unsigned char)(a >> 8), out[1] = (unsigned char)a;
    out[14] = (unsigned char)(b >> 8), out[15] = (unsigned char)b;
    return 0;
}

static int put_addr(unsigned char *p, const char *ip)
{
    if (strchr(ip, ':') != NULL) {
        if (inet_pton_like6(ip, p) != 0)
            die(ip);
        return 16;
    }
    unsigned a, b, c, d;
    if (sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
        die(ip);
    p[0] = (unsigned char)a, p[1] = (unsigned char)b, p[2] = (unsigned char)c;
    p[3] = (unsigned char)d;
    return 4;
}

/* The L3+L4 bytes of one packet into out; its length. payload: bytes of
 * data after the transport header. ext6: add a hop-by-hop header (IPv6). */
static size_t ip_packet(unsigned char *out, const struct ep *s, const struct ep *d, int proto,
                        unsigned flags, unsigned payload, int ext6)
{
    unsigned char sa[16], da[16];
    int alen = put_addr(sa, s->ip);
    put_addr(da, d->ip);
    unsigned l4 = (proto == 6 ? 20 : 8) + payload;
    size_t n;
    unsigned char *t;
    if (alen == 4) {
        memset(out, 0, 20);
        out[0] = 0x45;
        out[2] = (unsigned char)((20 + l4) >> 8), out[3] = (unsigned char)(20 + l4);
        out[8] = 64;
        out[9] = (unsigned char)proto;
        memcpy(out + 12, sa, 4);
        memcpy(out + 16, da, 4);
        t = out + 20;
        n = 20 + l4;
    } else {
        unsigned extra = ext6 ? 8 : 0;
        memset(out, 0, 40 + extra);
        out[0] = 0x60;
        out[4] = (unsigned char)((l4 + extra) >> 8), out[5] = (unsigned char)(l4 + extra);
        out[6] = ext6 ? 0 : (unsigned char)proto;
        out[7] = 64;
        memcpy(out + 8, sa, 16);
        memcpy(out + 24, da, 16);
        if (ext6) { /* hop-by-hop, 8 bytes: next header, length 0, PadN */
            out[40] = (unsigned char)proto;
            out[41] = 0;
            out[42] = 1, out[43] = 4;
        }
        t = out + 40 + extra;
        n = 40 + extra + l4;
    }
    memset(t, 0, l4);
    t[0] = (unsigned char)(s->port >> 8), t[1] = (unsigned char)s->port;
    t[2] = (unsigned char)(d->port >> 8), t[3] = (unsigned char)d->port;
    if (proto == 6) {
        t[12] = 0x50;
        t[13] = (unsigned char)flags;
    } else {
        t[4] = (unsigned char)(l4 >> 8), t[5] = (unsigned char)l4;
    }
    for (unsigned i = 0; i < payload; i++)
        t[(proto == 6 ? 20 : 8) + i] = (unsigned char)('a' + i % 26);
    return n;
}

static void dump(double t, const unsigned char *frame, size_t len, size_t caplen)
{
    struct pcap_pkthdr h;
    long long us = (long long)(t * 1e6 + 0.5);
    h.ts.tv_sec = (time_t)(T0 + us / 1000000);
    h.ts.tv_usec = (suseconds_t)(us % 1000000);
    h.len = (bpf_u_int32)len;
    h.caplen = (bpf_u_int32)(caplen < len ? caplen : len);
    pcap_dump((u_char *)dumper, &h, frame);
}

enum { VLAN_NONE, VLAN_ONE, VLAN_QINQ };
static int vlan_mode;
static size_t snap = 65535; /* the benchmark captures headers only, as tcpdump -s 96 does */

/* One packet at t seconds after T0, framed for the open capture's link
 * type. */
static void pkt(double t, const struct ep *s, const struct ep *d, int proto, unsigned flags,
                unsigned payload)
{
    unsigned char ip[2048], fr[2200];
    int v6 = strchr(s->ip, ':') != NULL;
    size_t n = ip_packet(ip, s, d, proto, flags, payload, v6);
    size_t off = 0;
    unsigned type = v6 ? 0x86dd : 0x0800;
    switch (linktype) {
    case DLT_EN10MB:
        memcpy(fr, d->mac, 6);
        memcpy(fr + 6, s->mac, 6);
        off = 12;
        if (vlan_mode == VLAN_QINQ) {
            fr[off] = 0x88, fr[off + 1] = 0xa8, fr[off + 2] = 0, fr[off + 3] = 100;
            off += 4;
        }
        if (vlan_mode != VLAN_NONE) {
            fr[off] = 0x81, fr[off + 1] = 0x00, fr[off + 2] = 0, fr[off + 3] = 42;
            off += 4;
        }
        fr[off] = (unsigned char)(type >> 8), fr[off + 1] = (unsigned char)type;
        off += 2;
        break;
    case DLT_LINUX_SLL:
        memset(fr, 0, 16);
        fr[1] = 4;                 /* sent by us */
        fr[3] = 1;                 /* ARPHRD_ETHER */
        fr[5] = 6;                 /* address length */
        memcpy(fr + 6, s->mac, 6); /* the sender's address */
        fr[14] = (unsigned char)(type >> 8), fr[15] = (unsigned char)type;
        off = 16;
        break;
    case DLT_LINUX_SLL2:
        memset(fr, 0, 20);
        fr[0] = (unsigned char)(type >> 8), fr[1] = (unsigned char)type;
        fr[7] = 2;   /* interface index */
        fr[9] = 1;   /* ARPHRD_ETHER */
        fr[10] = 4;  /* sent by us */
        fr[11] = 6;  /* address length */
        memcpy(fr + 12, s->mac, 6);
        off = 20;
        break;
    case DLT_NULL:
        fr[0] = v6 ? 30 : 2, fr[1] = fr[2] = fr[3] = 0; /* host order, little-endian */
        off = 4;
        break;
    default: /* DLT_RAW */
        break;
    }
    memcpy(fr + off, ip, n);
    dump(t, fr, off + n, snap);
}

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

static struct ep C5 = {"10.0.0.5", 40000, {0x00, 0x22, 0x48, 0x00, 0x00, 0x05}};
static struct ep S6 = {"10.0.0.6", 22, {0x00, 0x22, 0x48, 0x00, 0x00, 0x06}};

/* Handshake, n data exchanges over span seconds, FIN both ways, a
 * trailing ACK. */
static void tcp_session(double t, const struct ep *c, const struct ep *s, int n, double span,
                        int close)
{
    pkt(t, c, s, 6, SYN, 0);
    pkt(t + 0.001, s, c, 6, SYN | ACK, 0);
    pkt(t + 0.002, c, s, 6, ACK, 0);
    for (int i = 0; i < n; i++) {
        double u = t + 0.01 + span * i / (n > 1 ? n - 1 : 1);
        pkt(u, c, s, 6, PSH | ACK, 100);
        pkt(u + 0.001, s, c, 6, PSH | ACK, 1000);
    }
    if (!close)
        return;
    double e = t + 0.02 + span;
    pkt(e, c, s, 6, FIN | ACK, 0);
    pkt(e + 0.001, s, c, 6, FIN | ACK, 0);
    pkt(e + 0.002, c, s, 6, ACK, 0);
}

static void write_file(const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die(path);
}

/* pcapng by hand: section header, one Ethernet interface, enhanced packet
 * blocks (little-endian, microsecond timestamps). */
static void pcapng(const char *name)
{
    unsigned char buf[4096];
    size_t n = 0;
#define U32(v)                                                                                   \
    do {                                                                                         \
        uint32_t x_ = (uint32_t)(v);                                                             \
        buf[n++] = (unsigned char)x_, buf[n++] = (unsigned char)(x_ >> 8);                       \
        buf[n++] = (unsigned char)(x_ >> 16), buf[n++] = (unsigned char)(x_ >> 24);              \
    } while (0)
    /* SHB */
    U32(0x0a0d0d0a);
    U32(28);
    U32(0x1a2b3c4d);
    buf[n++] = 1, buf[n++] = 0, buf[n++] = 0, buf[n++] = 0; /* version 1.0 */
    U32(0xffffffff);
    U32(0xffffffff); /* section length: unknown */
    U32(28);
    /* IDB */
    U32(1);
    U32(20);
    buf[n++] = 1, buf[n++] = 0, buf[n++] = 0, buf[n++] = 0; /* LINKTYPE_ETHERNET */
    U32(65535);
    U32(20);
    /* two EPBs: SYN and RST */
    struct ep c = {"10.0.0.5", 40100, {0, 0x22, 0x48, 0, 0, 5}};
    struct ep s = {"10.0.0.6", 3389, {0, 0x22, 0x48, 0, 0, 6}};
    for (int k = 0; k < 2; k++) {
        unsigned char fr[128], ip[128];
        size_t il = ip_packet(ip, k ? &s : &c, k ? &c : &s, 6, k ? RST | ACK : SYN, 0, 0);
        memcpy(fr, (k ? &c : &s)->mac, 6);
        memcpy(fr + 6, (k ? &s : &c)->mac, 6);
        fr[12] = 0x08, fr[13] = 0x00;
        memcpy(fr + 14, ip, il);
        size_t fl = 14 + il, pad = (4 - fl % 4) % 4;
        uint64_t us = (uint64_t)(T0 + 60) * 1000000 + (uint64_t)k * 2000;
        U32(6);
        U32(32 + fl + pad);
        U32(0);
        U32(us >> 32);
        U32(us);
        U32(fl);
        U32(fl);
        memcpy(buf + n, fr, fl);
        n += fl;
        memset(buf + n, 0, pad);
        n += pad;
        U32(32 + fl + pad);
    }
#undef U32
    write_file(name, buf, n);
}

/* A flow of the benchmark capture, in progress. */
struct bflow {
    struct ep c, s;
    char cip[24], sip[24];
    int step, udp;
};

static void bench(const char *file, unsigned long long want, int mixed)
{
    char d[4096];
    snprintf(d, sizeof d, "%s", file);
    char *slash = strrchr(d, '/');
    const char *name = file;
    if (slash != NULL) {
        *slash = '\0';
        dir = d;
        name = slash + 1;
    } else {
        dir = ".";
    }
    open_cap(name, DLT_EN10MB);
    snap = 96;
    enum { MAX_LIVE = 4096 };
    static struct bflow live[MAX_LIVE];
    const unsigned LIVE = mixed ? 64 : MAX_LIVE;
    const double step = mixed ? 3 * 3600.0 / (double)want : 0.00002;
    uint64_t x = 0x9e3779b97f4a7c15ULL, n = 0, flows = 0;
    double t = 0;
    for (unsigned i = 0; i < LIVE; i++)
        live[i].step = -1;
    while (n < want) {
        /* xorshift64*: which live flow moves next */
        x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
        uint64_t r = x * 0x2545f4914f6cdd1dULL;
        struct bflow *f = &live[r % LIVE];
        if (f->step < 0) { /* a new flow in this slot */
            unsigned cl = (unsigned)(r >> 16) & 0xffff, sv = (unsigned)(r >> 32) % 2000;
            if (mixed && (r >> 56) % 4 == 0) {
                snprintf(f->cip, sizeof f->cip, "fd01::%x", cl);
                snprintf(f->sip, sizeof f->sip, "fd02::%x", sv);
            } else {
                snprintf(f->cip, sizeof f->cip, "10.1.%u.%u", cl >> 8, cl & 0xff);
                snprintf(f->sip, sizeof f->sip, "10.2.%u.%u", sv >> 8, sv & 0xff);
            }
            f->c.ip = f->cip;
            f->s.ip = f->sip;
            f->c.port = 32768 + (unsigned)(flows % 28000);
            f->udp = (r >> 48) % 8 == 0;
            f->s.port = f->udp ? 53 : (unsigned[]){443, 80, 22, 1433, 8080}[(r >> 40) % 5];
            unsigned char cm[6] = {0, 0x22, 0x48, 1, (unsigned char)(cl >> 8), (unsigned char)cl};
            unsigned char sm[6] = {0, 0x22, 0x48, 2, (unsigned char)(sv >> 8), (unsigned char)sv};
            memcpy(f->c.mac, cm, 6);
            memcpy(f->s.mac, sm, 6);
            f->step = 0;
            flows++;
        }
        t += step; /* --bench: 50,000 packets a second */
        if (f->udp) {
            pkt(t, f->step == 0 ? &f->c : &f->s, f->step == 0 ? &f->s : &f->c, 17, 0,
                f->step == 0 ? 40 : 120);
            f->step = f->step == 0 ? 1 : -1;
        } else {
            static const unsigned flags[] = {SYN, SYN | ACK, ACK, PSH | ACK, PSH | ACK,
                                             PSH | ACK, PSH | ACK, FIN | ACK, FIN | ACK, ACK};
            static const int from_server[] = {0, 1, 0, 0, 1, 0, 1, 0, 1, 0};
            static const unsigned bytes[] = {0, 0, 0, 200, 1400, 100, 900, 0, 0, 0};
            int k = f->step;
            pkt(t, from_server[k] ? &f->s : &f->c, from_server[k] ? &f->c : &f->s, 6, flags[k],
                bytes[k]);
            f->step = k + 1 == 10 ? -1 : k + 1;
        }
        n++;
    }
    close_cap();
    fprintf(stderr, "mkpcap: %llu packets, %llu flows\n", (unsigned long long)n,
            (unsigned long long)flows);
}

int main(int argc, char **argv)
{
    if (argc == 4 && (strcmp(argv[1], "--bench") == 0 || strcmp(argv[1], "--mixed") == 0)) {
        bench(argv[2], strtoull(argv[3], NULL, 10), strcmp(argv[1], "--mixed") == 0);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: mkpcap DIR\n       mkpcap --bench FILE NPACKETS\n"
                        "       mkpcap --mixed FILE NPACKETS\n");
        return 2;
    }
    dir = argv[1];
    struct ep c = C5, s = S6;

    /* TCP: open with data and FIN both ways (and a stray ACK after) */
    open_cap("tcp-open.pcap", DLT_EN10MB);
    tcp_session(0, &c, &s, 3, 2, 1);
    close_cap();

    /* TCP: closed port (RST) and filtered (SYN and two retries, no answer) */
    open_cap("tcp-closed-filtered.pcap", DLT_EN10MB);
    s.port = 23;
    pkt(0, &c, &s, 6, SYN, 0);
    pkt(0.0005, &s, &c, 6, RST | ACK, 0);
    s.port = 25;
    c.port = 40002;
    for (int k = 0; k < 3; k++)
        pkt(1 + (1 << k) - 1, &c, &s, 6, SYN, 0);
    close_cap();

    /* TCP: first seen mid-stream (from the server side), then idle */
    open_cap("tcp-midstream.pcap", DLT_EN10MB);
    s.port = 22;
    c.port = 40003;
    pkt(0, &s, &c, 6, PSH | ACK, 500);
    pkt(0.001, &c, &s, 6, ACK, 0);
    close_cap();

    /* TCP: a 12-minute session (C tuples at 5 and 10 minutes) */
    open_cap("tcp-long.pcap", DLT_EN10MB);
    c.port = 40004;
    tcp_session(0, &c, &s, 73, 720, 1);
    close_cap();

    /* UDP: request and response (DNS), and one-way (syslog) */
    open_cap("udp.pcap", DLT_EN10MB);
    {
        struct ep cl = {"10.0.0.5", 53000, {0, 0x22, 0x48, 0, 0, 5}};
        struct ep dns = {"10.0.0.53", 53, {0, 0x22, 0x48, 0, 0, 0x53}};
        struct ep log = {"10.0.0.7", 514, {0, 0x22, 0x48, 0, 0, 7}};
        pkt(0, &cl, &dns, 17, 0, 30);
        pkt(0.002, &dns, &cl, 17, 0, 90);
        cl.port = 53001;
        for (int i = 0; i < 3; i++)
            pkt(1 + i * 10, &cl, &log, 17, 0, 200);
    }
    close_cap();

    /* IPv6 with a hop-by-hop extension header: SYN, SYN/ACK, RST */
    open_cap("ipv6-ext.pcap", DLT_EN10MB);
    {
        struct ep a = {"fd00::5", 40005, {0, 0x22, 0x48, 0, 0, 5}};
        struct ep b = {"fd00::6", 443, {0, 0x22, 0x48, 0, 0, 6}};
        pkt(0, &a, &b, 6, SYN, 0);
        pkt(0.001, &b, &a, 6, SYN | ACK, 0);
        pkt(0.002, &a, &b, 6, RST, 0);
    }
    close_cap();

    /* 802.1Q inside 802.1ad (QinQ) */
    open_cap("vlan.pcap", DLT_EN10MB);
    vlan_mode = VLAN_QINQ;
    c.port = 40006;
    s.port = 80;
    pkt(0, &c, &s, 6, SYN, 0);
    pkt(0.001, &s, &c, 6, RST | ACK, 0);
    vlan_mode = VLAN_NONE;
    close_cap();

    /* Linux cooked captures (v1 and v2), raw IP and BSD loopback */
    static const struct {
        const char *name;
        int dlt;
    } links[] = {{"sll.pcap", DLT_LINUX_SLL},
                 {"sll2.pcap", DLT_LINUX_SLL2},
                 {"raw.pcap", DLT_RAW},
                 {"null.pcap", DLT_NULL}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        open_cap(links[i].name, links[i].dlt);
        c.port = 40010 + (unsigned)i;
        s.port = 8080;
        pkt(0, &c, &s, 6, SYN, 0);
        pkt(0.001, &s, &c, 6, RST | ACK, 0);
        close_cap();
    }

    pcapng("tcp.pcapng");

    /* two captures of one conversation, each side's packets in its own
     * file (as two NICs capture it), merged by time */
    {
        struct ep a = {"10.0.0.5", 40020, {0, 0x22, 0x48, 0, 0, 5}};
        struct ep b = {"10.0.0.6", 22, {0, 0x22, 0x48, 0, 0, 6}};
        open_cap("merge-a.pcap", DLT_EN10MB);
        pkt(0, &a, &b, 6, SYN, 0);
        pkt(0.002, &a, &b, 6, ACK, 0);
        pkt(0.004, &a, &b, 6, FIN | ACK, 0);
        close_cap();
        open_cap("merge-b.pcap", DLT_EN10MB);
        pkt(0.001, &b, &a, 6, SYN | ACK, 0);
        pkt(0.003, &b, &a, 6, PSH | ACK, 300);
        pkt(0.005, &b, &a, 6, FIN | ACK, 0);
        close_cap();
    }

    /* inside and outside: out to the internet, in from it, and a flow
     * between two outside hosts */
    open_cap("inout.pcap", DLT_EN10MB);
    {
        struct ep in1 = {"10.0.0.5", 40030, {0, 0x22, 0x48, 0, 0, 5}};
        struct ep web = {"198.51.100.7", 443, {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}};
        struct ep scanner = {"203.0.113.9", 51000, {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}};
        struct ep in2 = {"10.0.0.6", 22, {0, 0x22, 0x48, 0, 0, 6}};
        struct ep o1 = {"192.0.2.1", 1234, {2, 0, 0, 0, 0, 1}};
        struct ep o2 = {"192.0.2.2", 80, {2, 0, 0, 0, 0, 2}};
        pkt(0, &in1, &web, 6, SYN, 0);
        pkt(0.01, &web, &in1, 6, RST | ACK, 0);
        pkt(1, &scanner, &in2, 6, SYN, 0);
        pkt(1.001, &in2, &scanner, 6, RST | ACK, 0);
        pkt(2, &o1, &o2, 6, SYN, 0);
    }
    close_cap();

    /* counted, not logged: ICMP, an ARP frame, a later IP fragment; and
     * damage: headers cut by a short snap length, impossible lengths */
    open_cap("odd.pcap", DLT_EN10MB);
    {
        unsigned char fr[128];
        memset(fr, 0, sizeof fr);
        memcpy(fr, S6.mac, 6);
        memcpy(fr + 6, C5.mac, 6);
        /* ICMP echo */
        fr[12] = 0x08, fr[13] = 0x00;
        fr[14] = 0x45, fr[17] = 28, fr[22] = 64, fr[23] = 1;
        fr[26] = 10, fr[29] = 5, fr[30] = 10, fr[33] = 6;
        fr[34] = 8;
        dump(0, fr, 42, 42);
        /* a fragment at offset 1480 */
        unsigned char fg[60];
        memcpy(fg, fr, 60);
        fg[23] = 6;
        fg[20] = 0x00, fg[21] = 0xb9; /* offset 185 * 8 */
        fg[17] = 40;
        dump(0.1, fg, 54, 54);
        /* ARP */
        unsigned char arp[42];
        memset(arp, 0, sizeof arp);
        memset(arp, 0xff, 6);
        memcpy(arp + 6, C5.mac, 6);
        arp[12] = 0x08, arp[13] = 0x06;
        dump(0.2, arp, 42, 42);
        /* TCP cut by the snap length inside its header (caplen < len) */
        struct ep a = {"10.0.0.5", 40040, {0, 0x22, 0x48, 0, 0, 5}};
        unsigned char ip[128], tf[160];
        size_t il = ip_packet(ip, &a, &S6, 6, SYN, 0, 0);
        memcpy(tf, S6.mac, 6);
        memcpy(tf + 6, a.mac, 6);
        tf[12] = 0x08, tf[13] = 0x00;
        memcpy(tf + 14, ip, il);
        dump(0.3, tf, 14 + il, 40);
        /* IPv4 total length shorter than its header */
        tf[14 + 3] = 10;
        dump(0.4, tf, 14 + il, 14 + il);
        /* one good SYN so the file has a flow */
        il = ip_packet(ip, &a, &S6, 6, SYN, 0, 0);
        memcpy(tf + 14, ip, il);
        dump(0.5, tf, 14 + il, 14 + il);
    }
    close_cap();

    /* a capture cut mid-record: the good packets, then half a record */
    open_cap("cut.pcap", DLT_EN10MB);
    c.port = 40050;
    s.port = 22;
    pkt(0, &c, &s, 6, SYN, 0);
    pkt(0.001, &s, &c, 6, RST | ACK, 0);
    pkt(0.002, &c, &s, 6, SYN, 0);
    close_cap();
    {
        char path[4096];
        snprintf(path, sizeof path, "%s/cut.pcap", dir);
        FILE *f = fopen(path, "rb");
        if (f == NULL || fseek(f, 0, SEEK_END) != 0)
            die(path);
        long size = ftell(f);
        fclose(f);
        if (truncate(path, size - 30) != 0)
            die(path);
    }

    /* timestamps: one with microseconds out of range, one from 1970 (too
     * early for a flow log's milliseconds), and one alone a month
     * ahead of its neighbours (a damaged clock), then a capture that
     * resumes two hours later (a real gap: the next packet confirms it) */
    open_cap("times.pcap", DLT_EN10MB);
    {
        struct ep a = {"10.0.0.5", 40060, {0, 0x22, 0x48, 0, 0, 5}};
        struct ep b = {"10.0.0.6", 22, {0, 0x22, 0x48, 0, 0, 6}};
        pkt(0, &a, &b, 6, SYN, 0);
        unsigned char ip[128], fr[160];
        size_t il = ip_packet(ip, &b, &a, 6, RST | ACK, 0, 0);
        memcpy(fr, a.mac, 6);
        memcpy(fr + 6, b.mac, 6);
        fr[12] = 0x08, fr[13] = 0x00;
        memcpy(fr + 14, ip, il);
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)T0;
        h.ts.tv_usec = 2000000; /* out of range */
        h.len = h.caplen = (bpf_u_int32)(14 + il);
        pcap_dump((u_char *)dumper, &h, fr);
        h.ts.tv_sec = 5; /* a device clock that started at 1970 */
        h.ts.tv_usec = 0;
        pcap_dump((u_char *)dumper, &h, fr);
        a.port = 40061;
        pkt(30 * 86400.0, &a, &b, 6, SYN, 0); /* alone, a month ahead */
        pkt(1, &a, &b, 6, SYN, 0);
        pkt(1.001, &b, &a, 6, RST | ACK, 0);
        a.port = 40062;
        pkt(7200, &a, &b, 6, SYN, 0); /* the capture resumes two hours on */
        pkt(7200.001, &b, &a, 6, RST | ACK, 0);
    }
    close_cap();

    /* not a capture at all, and a link type we do not read (802.11) */
    static const char text[] = "{\"records\": []}\n";
    write_file("not-a-capture.pcap", text, sizeof text - 1);
    open_cap("wifi.pcap", DLT_IEEE802_11);
    close_cap();
    return 0;
}
