/*
 * pcap_out.c - the simulator's packets as a pcap file (simulate --pcap),
 * through libpcap: pcap_open_dead(DLT_EN10MB) and pcap_dump. Each record
 * holds the Ethernet, IPv4 and TCP/UDP/ICMP headers (with a valid IPv4
 * checksum; TCP SYNs carry an MSS option); caplen covers the headers, len
 * the whole frame, as a capture with a short snaplen would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "sim_pcap.h"

struct sim_pcap {
    pcap_t *p;
    pcap_dumper_t *d;
    uint64_t packets;
};

sim_pcap *sim_pcap_open(const char *path, char *err, size_t errsize)
{
    sim_pcap *w = calloc(1, sizeof *w);
    if (w == NULL) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    w->p = pcap_open_dead(DLT_EN10MB, 65535);
    if (w->p == NULL) {
        snprintf(err, errsize, "pcap_open_dead failed");
        free(w);
        return NULL;
    }
    w->d = pcap_dump_open(w->p, path);
    if (w->d == NULL) {
        snprintf(err, errsize, "%s: %s", path, pcap_geterr(w->p));
        pcap_close(w->p);
        free(w);
        return NULL;
    }
    return w;
}

static void be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int sim_pcap_write(sim_pcap *w, const struct sim_packet *pk)
{
    uint8_t f[14 + 20 + 24];
    memset(f, 0, sizeof f);
    memcpy(f, pk->dst_mac, 6);
    memcpy(f + 6, pk->src_mac, 6);
    be16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    be16(ip + 2, pk->ip_len);
    ip[6] = 0x40; /* DF */
    ip[8] = 64;
    ip[9] = pk->proto;
    be32(ip + 12, pk->src);
    be32(ip + 16, pk->dst);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)ip[i] << 8 | ip[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    be16(ip + 10, ~sum & 0xffff);
    uint8_t *l4 = ip + 20;
    size_t l4len;
    if (pk->proto == 6) {
        int syn = pk->tcp_flags & 0x02;
        be16(l4, pk->sport);
        be16(l4 + 2, pk->dport);
        l4[12] = (uint8_t)((syn ? 6 : 5) << 4);
        l4[13] = pk->tcp_flags;
        be16(l4 + 14, 64240);
        if (syn) { /* MSS 1460 */
            l4[20] = 2;
            l4[21] = 4;
            be16(l4 + 22, 1460);
        }
        l4len = syn ? 24 : 20;
    } else if (pk->proto == 17) {
        be16(l4, pk->sport);
        be16(l4 + 2, pk->dport);
        be16(l4 + 4, pk->ip_len > 20 ? pk->ip_len - 20 : 8);
        l4len = 8;
    } else { /* ICMP: tcp_flags holds the type (8 echo request, 0 reply) */
        l4[0] = pk->tcp_flags;
        l4len = 8;
    }
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(pk->ts_us / 1000000);
    h.ts.tv_usec = (suseconds_t)(pk->ts_us % 1000000);
    size_t hdr = 14 + 20 + l4len, frame = 14 + (size_t)pk->ip_len;
    h.caplen = (bpf_u_int32)(hdr < frame ? hdr : frame);
    h.len = (bpf_u_int32)frame;
    pcap_dump((u_char *)w->d, &h, f);
    w->packets++;
    return 0;
}

int sim_pcap_close(sim_pcap *w, char *err, size_t errsize)
{
    if (w == NULL)
        return 0;
    int rc = 0;
    if (pcap_dump_flush(w->d) != 0) {
        snprintf(err, errsize, "write error");
        rc = -1;
    }
    pcap_dump_close(w->d);
    pcap_close(w->p);
    free(w);
    return rc;
}

uint64_t sim_pcap_packets(const sim_pcap *w)
{
    return w->packets;
}
