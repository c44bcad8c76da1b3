/*
 * p2f.h - packets to Azure VNet flow tuples (DESIGN.md section 6): a
 * bounds-checked decoder for captured frames, and a flow engine that turns
 * packets in time order into the tuples Azure would log at each monitored
 * NIC. No file I/O here: `scanlab pcap2flow` reads captures with libpcap
 * and writes the tuples with the blob writer.
 *
 * Flows are keyed by 5-tuple; the source is the initiator (the SYN sender;
 * the receiver of a SYN/ACK; for TCP first seen mid-stream the side with
 * the higher, ephemeral port, counted; for UDP the first sender). Tuples as
 * the simulator writes them: B at the first packet (no counts), C every
 * c_every_ms after it with the counts since the previous tuple, E at the
 * packet that closes a TCP flow (RST, or the second FIN) or idle_ms after
 * the last packet, with the rest of the counts. Bytes are Ethernet frame
 * bytes (IP length + 14), whatever the capture's link type.
 */
#ifndef SCANLAB_SIM_P2F_H
#define SCANLAB_SIM_P2F_H

#include <stddef.h>
#include <stdint.h>

#include "scand.h"

/* Link types (pcap_datalink() values) the decoder reads. */
enum {
    P2F_DLT_NULL = 0,
    P2F_DLT_EN10MB = 1,
    P2F_DLT_RAW = 12,
    P2F_DLT_RAW_ALT = 14, /* OpenBSD's DLT_RAW */
    P2F_DLT_LOOP = 108,
    P2F_DLT_LINUX_SLL = 113,
    P2F_DLT_IPV4 = 228,
    P2F_DLT_IPV6 = 229,
    P2F_DLT_LINUX_SLL2 = 276,
};
int p2f_linktype_ok(int dlt);

/* One decoded packet. Addresses as in scand_tuple (IPv4-mapped). */
struct p2f_pkt {
    int64_t ts_us;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint8_t proto;     /* 6 TCP, 17 UDP (1 or 58 for ICMP, not made into flows) */
    uint8_t tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 ACK 0x10 */
    uint8_t has_mac;   /* src_mac is the sender's link address */
    uint8_t src_mac[6];
    uint8_t keyed;  /* p2f_decode() filled swap and hash (its thread, not the engine's);
                       0 in a packet built or changed by hand */
    uint8_t swap;   /* the flow key puts dst first */
    uint32_t bytes; /* Ethernet frame bytes: IP total length + 14 */
    uint32_t hash;  /* the flow key's */
};
_Static_assert(sizeof(struct p2f_pkt) == 64, "a decoded packet is one cache line");

/* What a captured frame is. */
enum p2f_verdict {
    P2F_FLOW = 0,     /* TCP or UDP with ports: goes to the flow engine */
    P2F_ICMP,         /* ICMP or ICMPv6: Azure does not log it; counted */
    P2F_NOT_IP,       /* ARP, LLDP, ...: counted */
    P2F_TRUNCATED,    /* the capture cut the headers (caplen < what they need) */
    P2F_BAD_HEADER,   /* impossible header lengths or versions */
    P2F_FRAGMENT,     /* an IP fragment after the first: no ports; counted */
    P2F_OTHER_PROTO,  /* IP, but not TCP, UDP or ICMP (GRE, ESP, ...) */
    P2F_N_VERDICTS
};
const char *p2f_verdict_name(int v);

/* Decode frame d[0..caplen) (wire length len) of link type dlt. */
int p2f_decode(int dlt, const uint8_t *d, uint32_t caplen, uint32_t len, int64_t ts_us,
               struct p2f_pkt *out);

/* ------------------------------------------------------------ flows */

typedef struct p2f p2f;

/* One rule of an NSG policy (pcap2flow --policy): flows from src to dst on
 * one of the ports (all when n_ports is 0) and protocol (0 = any) are
 * denied by the destination's NSG (inbound) or the source's (outbound).
 * The denying NIC logs a D tuple with no counts for each attempt; an
 * inbound denial leaves the source's NIC logging the unanswered flow, an
 * outbound one leaves nothing for the destination. */
#define P2F_MAX_PORT_RANGES 16
struct p2f_deny {
    struct scand_cidr src, dst;
    uint16_t lo[P2F_MAX_PORT_RANGES], hi[P2F_MAX_PORT_RANGES];
    size_t n_ports;
    uint8_t proto;
    uint8_t outbound;
};

struct p2f_opts {
    int64_t tcp_idle_ms; /* default SIM_TCP_IDLE_MS (4 minutes) */
    int64_t udp_idle_ms; /* default SIM_UDP_IDLE_MS (30 seconds) */
    int64_t c_every_ms;  /* 5 minutes, as Azure */
    int64_t linger_ms;   /* a closed TCP flow absorbs stray packets this long */
    const struct scand_cidr *inside; /* the monitored VNets */
    size_t n_inside;
    const struct p2f_deny *deny; /* first match wins */
    size_t n_deny;
    size_t max_flows; /* flows held at once (0: no limit; default 1,000,000,
                         about 150 MB): past it, the longest-quiet flow ends
                         early (stats.evicted) */
    int icmp; /* also make flows of ICMP (protocol 1, ports 0) and ICMPv6 (58),
                 for non-Azure use: Azure never logs them */
};
void p2f_opts_default(struct p2f_opts *o);
/* How long after its time a tuple can still be emitted with these options
 * (at least 15 minutes): what a consumer must wait before an hour or a
 * window is complete. */
int64_t p2f_decision_lag_ms(const struct p2f_opts *o);

struct p2f_stats {
    uint64_t packets;                 /* handed to p2f_packet */
    uint64_t flows;                   /* flows started */
    uint64_t midstream;               /* TCP flows first seen without a SYN */
    uint64_t outside;                 /* flows with neither end inside: skipped */
    uint64_t after_close;             /* packets of a flow already closed */
    uint64_t tuples;                  /* tuples emitted */
    uint64_t late;                    /* packets older than the newest by > 1 s */
    uint64_t denied;                  /* flows a --policy rule denied */
    uint64_t evicted;                 /* flows ended early: max_flows reached */
    uint64_t peak_flows;
};

/* Receives each tuple: t.mac is the logging NIC's MAC (interned in st),
 * t.dir OUT at the source's NIC, IN at the destination's. Tuples of one
 * flow come in time order; across flows, in the order they are decided.
 * Return non-zero to stop. */
typedef int (*p2f_tuple_fn)(void *arg, const struct scand_tuple *t);

p2f *p2f_new(const struct p2f_opts *o, scand_strtab *st, p2f_tuple_fn fn, void *arg);
void p2f_free(p2f *p);
/* One packet of verdict P2F_FLOW (or P2F_ICMP with opts.icmp), in capture
 * time order. 0, or -1 when
 * out of memory or the callback stopped. */
int p2f_packet(p2f *p, const struct p2f_pkt *k);
/* The same for n packets in order, faster (flow slots prefetched). */
int p2f_packets(p2f *p, const struct p2f_pkt *k, size_t n);
/* End of input: end every open flow as its idle timeout would. */
int p2f_finish(p2f *p);
void p2f_get_stats(const p2f *p, struct p2f_stats *s);

/* The MAC of an inside address with no Ethernet header of its own in the
 * capture: 00:0D:3A (a Microsoft prefix Azure uses) and three bytes of a
 * hash of the address, as 12 hex digits. */
void p2f_derived_mac(const uint8_t addr[16], char out[13]);

/* Parse "10.0.0.0/16,fd00::/8" into at most max prefixes; -1 on error. */
int p2f_parse_cidrs(const char *s, struct scand_cidr *out, size_t max, size_t *n);

#endif /* SCANLAB_SIM_P2F_H */
