/*
 * gen.c - the generation engine: flows in, per-NIC tuples out, one hour at
 * a time (DESIGN.md section 5, "Visibility").
 *
 * For each flow we decide, as Azure would:
 *  1. the source NIC's outbound NSG (a deny is a D tuple at the source);
 *  2. the route: same VNet, hub-spoke peering, a direct spoke-spoke peering,
 *     a UDR through the hub firewall (whose policy may drop the flow before
 *     the destination sees it), a Virtual WAN hub router, the gateway from
 *     on-premises, a public IP from the internet, or no route at all;
 *  3. the destination subnet's inbound NSG (a deny is a D tuple at the
 *     destination, and an unanswered B/E at the source);
 *  4. what the destination does: a service answers (B, C every 5 minutes
 *     with counts since the previous tuple, E), a closed TCP port sends RST
 *     (one packet each way), a host firewall or a missing host stays silent
 *     (packets out, none back).
 * Each logged NIC on the way writes the flow: O at the source, I at the
 * destination, with its NSG's aclID and the rule that decided.
 * Tuples are bucketed by the hour of their blob; a bucket is complete once
 * every flow that starts in its hour has been generated (tuples only move
 * forward in time), so memory holds about one hour plus the tails of long
 * flows (durations are capped below the ring's span).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_gen.h"

#define RING 8                       /* hours of pending buckets */
#define MAX_FLOW_MS (5 * 3600000.0) /* cap on a flow's life, < RING - 1 hours */
#define C_EVERY_MS 300000            /* C tuples every 5 minutes */
#define PLATFORM_IP 0xa83f8110u      /* 168.63.129.16 */

/* Bytes as flow logs count them: whole Ethernet frames (a real VNet blob's
 * RST is "1,54": 14 + 20 + 20; research/azure_formats.md 1.4 sample). */
#define FRAME_TCP 54  /* a bare TCP segment: RST, ACK, FIN */
#define FRAME_SYN 58  /* with the MSS option */
#define FRAME_UDP 42  /* an empty datagram */
#define FRAME_ICMP 98 /* an echo with 56 bytes of data */

/* NSG default rules, after the user rules in each subnet's group table. */
enum {
    DR_ALLOW_VNET_IN,
    DR_ALLOW_LB_IN,
    DR_DENY_ALL_IN,
    DR_ALLOW_VNET_OUT,
    DR_ALLOW_INET_OUT,
    DR_DENY_ALL_OUT,
    N_DEFAULT
};

static const char *const default_rules[N_DEFAULT] = {
    "DefaultRule_AllowVnetInBound",     "DefaultRule_AllowAzureLoadBalancerInBound",
    "DefaultRule_DenyAllInBound",       "DefaultRule_AllowVnetOutBound",
    "DefaultRule_AllowInternetOutBound", "DefaultRule_DenyAllOutBound",
};

/* A tuple waiting for its hour's flush: 56 bytes, not the 96 of a
 * struct scand_tuple, as an hour of a large estate is millions of them. */
struct pend {
    int64_t ts;
    uint64_t bytes_s2d, bytes_d2s;
    uint32_t src, dst;
    uint32_t pkts_s2d, pkts_d2s;
    uint32_t group, campaign;
    uint16_t sport, dport;
    uint8_t proto, dir, state, pad;
};

/* An hour's packets, in generation order. */
struct pktbuf {
    struct sim_packet *v;
    size_t n, cap;
};

/* One NIC's pending tuples of one hour, in generation order. */
struct nicbuf {
    struct pend *v;
    size_t n, cap;
};

/* An hour's pending tuples, per NIC: a NIC's tuples are sorted and written
 * from its own small array, never gathered from one big one. */
struct bucket {
    int64_t hour;
    struct nicbuf *nic; /* per VM */
    struct pktbuf pkt;
};

struct sim_gen {
    const struct sim_scenario *sc;
    scand_strtab *st;
    struct sim_result *res;
    uint32_t **groups; /* per subnet: strtab group index per rule (user rules, then defaults) */
    uint32_t *mac_idx; /* per VM: its MAC in st */
    struct bucket ring[RING];
    int64_t end_ms;
    int oom;
    int overflow;     /* a tuple fell beyond the ring: a bug, the run fails */
    int64_t gen_hour; /* the hour being generated */
    uint64_t hour_flows;     /* flows made for it so far: past max, the run fails */
    uint64_t max_hour_flows; /* sim_hooks' max_hour_flows, or SIM_MAX_HOUR_FLOWS */
    int want_packets;
    char **flow_res; /* per vnet: the flowLogResourceID */
    /* flush scratch, kept across hours */
    struct skey *key, *key_tmp;
    size_t cap_key;
    struct scand_tuple *tup; /* one NIC's tuples */
    size_t cap_tup;
};

const struct sim_scenario *sim_gen_scenario(const struct sim_gen *g)
{
    return g->sc;
}

int64_t sim_gen_end(const struct sim_gen *g)
{
    return g->end_ms;
}

uint16_t sim_ephemeral(sim_rng *r)
{
    return (uint16_t)(32768 + sim_rng_below(r, 28232));
}

/* ------------------------------------------------------------ buckets */

static struct bucket *bucket_for(struct sim_gen *g, int64_t ts)
{
    int64_t h = scand_blob_hour(ts);
    if (h - g->gen_hour >= (int64_t)(RING - 1) * 3600000) {
        /* flows are capped so this cannot happen; if it ever does, fail the
         * run rather than put tuples in another hour's blob */
        g->overflow = 1;
        h = g->gen_hour;
    }
    int64_t k = (h - g->sc->start_ms) / 3600000;
    struct bucket *b = &g->ring[((k % RING) + RING) % RING];
    if (b->hour != h) /* the slot was flushed (emptied); flows are capped so */
        b->hour = h;  /* no tuple reaches RING hours ahead */
    return b;
}

static void put(struct sim_gen *g, const struct sim_vm *vm, int64_t ts, uint32_t src, uint32_t dst,
                const struct sim_flow *f, int out, int state, uint64_t ps, uint64_t bs,
                uint64_t pd, uint64_t bd, uint32_t group)
{
    if (ts >= g->end_ms)
        return; /* the scenario ends: later tuples are never written */
    struct nicbuf *b = &bucket_for(g, ts)->nic[vm - g->sc->vms];
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        struct pend *v = realloc(b->v, cap * sizeof *v);
        if (v == NULL) {
            g->oom = 1;
            return;
        }
        b->v = v;
        b->cap = cap;
    }
    struct pend *p = &b->v[b->n++];
    p->ts = ts;
    p->src = src;
    p->dst = dst;
    p->sport = f->sport;
    p->dport = f->dport;
    p->proto = f->proto;
    p->dir = out ? SCAND_DIR_OUT : SCAND_DIR_IN;
    p->state = (uint8_t)state;
    p->pkts_s2d = (uint32_t)(ps > UINT32_MAX ? UINT32_MAX : ps);
    p->pkts_d2s = (uint32_t)(pd > UINT32_MAX ? UINT32_MAX : pd);
    p->bytes_s2d = bs;
    p->bytes_d2s = bd;
    p->group = group;
    p->campaign = f->campaign;
    g->res->tuples++;
}

/* The tuple a pending record stands for. */
static void expand(const struct sim_gen *g, uint32_t nic, const struct pend *p,
                   struct scand_tuple *t)
{
    memset(t, 0, sizeof *t);
    t->ts_ms = p->ts;
    scand_addr_from_v4(p->src, t->src);
    scand_addr_from_v4(p->dst, t->dst);
    t->sport = p->sport;
    t->dport = p->dport;
    t->proto = p->proto;
    t->dir = p->dir;
    t->state = p->state;
    t->enc = SCAND_ENC_NX;
    t->pkts_s2d = p->pkts_s2d;
    t->bytes_s2d = p->bytes_s2d;
    t->pkts_d2s = p->pkts_d2s;
    t->bytes_d2s = p->bytes_d2s;
    t->mac = g->mac_idx[nic];
    t->group = p->group;
    t->campaign = p->campaign;
}

/* ------------------------------------------------------------ NSG, routes */

/* Evaluate the NSG of subnet si for a flow; peer is the far end. Returns
 * the rule's slot in groups[si] and sets *allow. */
static int nsg_eval(const struct sim_gen *g, int si, int inbound, int peer_vm, uint32_t peer,
                    uint16_t port, uint8_t proto, int *allow)
{
    const struct sim_subnet *sn = &g->sc->subnets[si];
    for (size_t i = 0; i < sn->n_nsg; i++) {
        const struct sim_nsg_rule *r = &sn->nsg[i];
        if (r->inbound != inbound || (r->proto != SIM_PROTO_ANY && r->proto != proto) ||
            !sim_ports_has(&r->ports, port) || !sim_sel_match(g->sc, &r->peer, peer_vm, peer))
            continue;
        *allow = r->allow;
        return (int)i;
    }
    int base = (int)sn->n_nsg;
    if (inbound) {
        if (sim_is_vnet_addr(g->sc, peer)) {
            *allow = 1;
            return base + DR_ALLOW_VNET_IN;
        }
        if (peer == PLATFORM_IP) {
            *allow = 1;
            return base + DR_ALLOW_LB_IN;
        }
        *allow = 0;
        return base + DR_DENY_ALL_IN;
    }
    *allow = 1;
    return base + (sim_is_vnet_addr(g->sc, peer) ? DR_ALLOW_VNET_OUT : DR_ALLOW_INET_OUT);
}

enum { RT_DIRECT, RT_FIREWALL, RT_NONE };

static int route(const struct sim_gen *g, int src_vm, uint32_t src, int dst_vm)
{
    const struct sim_scenario *sc = g->sc;
    int dv = sc->vms[dst_vm].vnet;
    if (src_vm < 0) {
        if (sim_is_vnet_addr(sc, src)) /* on-premises, through the gateway */
            return sc->vnets[dv].kind == VNET_HUB || sc->vnets[dv].peered ? RT_DIRECT : RT_NONE;
        return RT_DIRECT; /* internet to a public IP */
    }
    int sv = sc->vms[src_vm].vnet;
    if (sv == dv)
        return RT_DIRECT;
    const struct sim_vnet *a = &sc->vnets[sv], *b = &sc->vnets[dv];
    if (a->kind == VNET_HUB || b->kind == VNET_HUB)
        return (a->kind == VNET_HUB ? b->peered : a->peered) ? RT_DIRECT : RT_NONE;
    for (size_t i = 0; i < sc->n_peer; i++)
        if ((sc->peer[i][0] == sv && sc->peer[i][1] == dv) ||
            (sc->peer[i][0] == dv && sc->peer[i][1] == sv))
            return RT_DIRECT; /* direct peering bypasses the hub firewall */
    if (!a->peered || !b->peered)
        return RT_NONE;
    if (sc->hub >= 0 && sc->vnets[sc->hub].kind == VNET_VWAN)
        return sc->vwan_secured ? RT_FIREWALL : RT_DIRECT;
    if (a->via_firewall || b->via_firewall)
        return RT_FIREWALL;
    return RT_NONE; /* peering is not transitive */
}

static int fw_allows(const struct sim_gen *g, const struct sim_flow *f)
{
    const struct sim_scenario *sc = g->sc;
    for (size_t i = 0; i < sc->n_fw; i++) {
        const struct sim_fw_rule *r = &sc->fw[i];
        if ((r->proto == SIM_PROTO_ANY || r->proto == f->proto) &&
            sim_ports_has(&r->ports, f->dport) && sim_sel_match(sc, &r->from, f->src_vm, f->src) &&
            sim_sel_match(sc, &r->to, f->dst_vm, f->dst))
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ flows */

/*
 * What a flow does on the wire, decided once per flow; the tuples of each
 * logged NIC and the packets of --pcap both follow from it.
 *  W_ANSWER  B at t0, C every 5 minutes with the counts since the previous
 *            tuple, E at end (TCP: the closing FIN or RST; UDP: the last
 *            datagram plus the UDP idle timeout)
 *  W_SILENT  nothing comes back: the SYN (or datagram) and its retries, E
 *            when the idle timeout passes after the last one
 *  W_DENIED  an NSG drops each attempt: a D tuple per attempt
 */
enum { W_ANSWER, W_SILENT, W_DENIED };

struct wire {
    int kind;
    int64_t end;        /* E time */
    int64_t last;       /* time of the last packet */
    uint64_t ps, bs, pd, bd;
};

/* Times of a flow's first packet and its retries: t0, +1 s, +3 s, +7 s... */
static int64_t retry_at(int64_t t0, int k)
{
    return t0 + 1000 * (((int64_t)1 << k) - 1);
}

static void plan_silent(const struct sim_flow *f, struct wire *w)
{
    uint64_t syn = f->proto == SIM_PROTO_TCP ? FRAME_SYN : FRAME_UDP;
    w->kind = W_SILENT;
    w->ps = 1u + f->retries;
    w->bs = syn * w->ps;
    w->pd = w->bd = 0;
    w->last = retry_at(f->t0, f->retries);
    w->end = w->last + (f->proto == SIM_PROTO_TCP ? SIM_TCP_IDLE_MS : SIM_UDP_IDLE_MS);
}

static void plan_answer(const struct sim_flow *f, double dur, uint64_t ps, uint64_t bs,
                        uint64_t pd, uint64_t bd, struct wire *w)
{
    w->kind = W_ANSWER;
    w->ps = ps, w->bs = bs, w->pd = pd, w->bd = bd;
    dur = dur < 1 ? 1 : dur > MAX_FLOW_MS ? MAX_FLOW_MS : dur;
    w->last = f->t0 + (int64_t)dur;
    w->end = f->proto == SIM_PROTO_TCP ? w->last : w->last + SIM_UDP_IDLE_MS;
}

/* The B [C...] E tuples of w at one NIC; skew shifts the far NIC's clock. */
static void tuples_at(struct sim_gen *g, const struct sim_vm *vm, int out, const struct sim_flow *f,
                      const struct wire *w, uint32_t group, int64_t skew)
{
    if (w->kind == W_DENIED) {
        for (int k = 0; k <= f->retries; k++)
            put(g, vm, retry_at(f->t0, k) + skew, f->src, f->dst, f, out, SCAND_ST_D, 0, 0, 0, 0,
                group);
        return;
    }
    int64_t t0 = f->t0 + skew, end = w->end + skew;
    double span = (double)(w->last - f->t0);
    put(g, vm, t0, f->src, f->dst, f, out, SCAND_ST_B, 0, 0, 0, 0, group);
    uint64_t sps = 0, sbs = 0, spd = 0, sbd = 0; /* already reported */
    for (int64_t t = t0 + C_EVERY_MS; t < end; t += C_EVERY_MS) {
        double frac = span <= 0 ? 1 : (double)(t - t0) / span;
        if (frac > 1)
            frac = 1;
        uint64_t a = (uint64_t)(w->ps * frac), b = (uint64_t)(w->bs * frac);
        uint64_t c = (uint64_t)(w->pd * frac), d = (uint64_t)(w->bd * frac);
        put(g, vm, t, f->src, f->dst, f, out, SCAND_ST_C, a - sps, b - sbs, c - spd, d - sbd,
            group);
        sps = a, sbs = b, spd = c, sbd = d;
    }
    put(g, vm, end, f->src, f->dst, f, out, SCAND_ST_E, w->ps - sps, w->bs - sbs, w->pd - spd,
        w->bd - sbd, group);
}

/* ------------------------------------------------------------ packets */

static const uint8_t router_mac[6] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}; /* Azure's gateway */

static void mac_of(const struct sim_gen *g, int vm, uint8_t out[6])
{
    if (vm < 0) {
        memcpy(out, router_mac, 6);
        return;
    }
    const char *m = g->sc->vms[vm].mac;
    for (int i = 0; i < 6; i++) {
        unsigned hi = (unsigned)(m[2 * i] <= '9' ? m[2 * i] - '0' : m[2 * i] - 'A' + 10);
        unsigned lo = (unsigned)(m[2 * i + 1] <= '9' ? m[2 * i + 1] - '0' : m[2 * i + 1] - 'A' + 10);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
}

/* One packet of frame bytes (as tuples count them: the Ethernet frame). */
static void packet(struct sim_gen *g, const struct sim_flow *f, int64_t ts_ms, int reply,
                   uint32_t frame, uint8_t flags)
{
    if (ts_ms >= g->end_ms)
        return;
    struct pktbuf *pb = &bucket_for(g, ts_ms)->pkt;
    if (pb->n == pb->cap) {
        size_t cap = pb->cap ? pb->cap * 2 : 4096;
        struct sim_packet *v = realloc(pb->v, cap * sizeof *v);
        if (v == NULL) {
            g->oom = 1;
            return;
        }
        pb->v = v;
        pb->cap = cap;
    }
    struct sim_packet *p = &pb->v[pb->n++];
    memset(p, 0, sizeof *p);
    p->ts_us = ts_ms * 1000;
    p->src = reply ? f->dst : f->src;
    p->dst = reply ? f->src : f->dst;
    p->sport = reply ? f->dport : f->sport;
    p->dport = reply ? f->sport : f->dport;
    p->proto = f->proto;
    p->tcp_flags = f->proto == SIM_PROTO_ICMP ? (reply ? 0 : 8) : flags; /* ICMP: the type */
    p->ip_len = frame > 14 ? frame - 14 : 20;
    /* the capture point: the sender's NIC when the sender is a VM */
    int sender = reply ? f->dst_vm : f->src_vm, receiver = reply ? f->src_vm : f->dst_vm;
    if (sender >= 0) {
        mac_of(g, sender, p->src_mac);
        memcpy(p->dst_mac, router_mac, 6);
    } else {
        memcpy(p->src_mac, router_mac, 6);
        mac_of(g, receiver, p->dst_mac);
    }
}

/* n packets of one direction carrying bytes in total, evenly spread over
 * (from, to]; the first at from when first_at_from. */
static void spread(struct sim_gen *g, const struct sim_flow *f, int reply, int64_t from, int64_t to,
                   uint64_t n, uint64_t bytes, int first_at_from, uint8_t first_flags,
                   uint8_t last_flags, int last_at_to)
{
    uint32_t hdr = f->proto == SIM_PROTO_TCP ? FRAME_TCP : FRAME_UDP;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t share = bytes / n + (i < bytes % n);
        uint32_t len = share < hdr ? hdr : share > 65535 + 14 ? 65535 + 14 : (uint32_t)share;
        int64_t t;
        if (i == 0 && first_at_from)
            t = from;
        else if (i == n - 1 && last_at_to)
            t = to;
        else
            t = from + (int64_t)((double)(to - from) * (double)(i + 1) / (double)(n + 1));
        uint8_t fl = f->proto != SIM_PROTO_TCP ? 0
                     : i == 0 && first_flags   ? first_flags
                     : i == n - 1 && last_flags ? last_flags
                                                : 0x18; /* PSH|ACK */
        packet(g, f, t, reply, len, fl);
    }
}

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_ACK = 0x10 };

/* The packets of w, consistent with its tuples: each C interval carries the
 * counts its tuple reports. */
static void packets_of(struct sim_gen *g, const struct sim_flow *f, const struct wire *w, int oc)
{
    if (w->kind != W_ANSWER) {
        uint32_t len = (uint32_t)(w->bs / w->ps);
        for (int k = 0; k <= f->retries; k++)
            packet(g, f, retry_at(f->t0, k), 0, len, F_SYN);
        return;
    }
    int tcp = f->proto == SIM_PROTO_TCP;
    if (tcp && oc == OC_CLOSED) { /* SYN, RST */
        packet(g, f, f->t0, 0, (uint32_t)w->bs, F_SYN);
        packet(g, f, w->last, 1, (uint32_t)w->bd, F_RST | F_ACK);
        return;
    }
    if (tcp && f->probe) { /* SYN, SYN/ACK, RST */
        packet(g, f, f->t0, 0, FRAME_SYN, F_SYN);
        packet(g, f, f->t0 + (w->last - f->t0) / 2, 1, (uint32_t)w->bd, F_SYN | F_ACK);
        packet(g, f, w->last, 0, (uint32_t)(w->bs - FRAME_SYN), F_RST);
        return;
    }
    /* a whole flow: per C interval, the packets that interval reports */
    double span = (double)(w->last - f->t0);
    uint64_t sps = 0, sbs = 0, spd = 0, sbd = 0;
    int64_t from = f->t0;
    for (int64_t t = f->t0 + C_EVERY_MS;; t += C_EVERY_MS) {
        int final = t >= w->end;
        int64_t to = final ? w->last : t - 1;
        double frac = final || span <= 0 ? 1 : (double)(t - f->t0) / span;
        if (frac > 1)
            frac = 1;
        uint64_t a = final ? w->ps : (uint64_t)(w->ps * frac);
        uint64_t b = final ? w->bs : (uint64_t)(w->bs * frac);
        uint64_t c = final ? w->pd : (uint64_t)(w->pd * frac);
        uint64_t d = final ? w->bd : (uint64_t)(w->bd * frac);
        int first = from == f->t0;
        spread(g, f, 0, from, to, a - sps, b - sbs, first, first ? F_SYN : 0,
               final && tcp ? F_FIN | F_ACK : 0, 0);
        spread(g, f, 1, first ? from + (to > from ? 1 : 0) : from, to, c - spd, d - sbd, first,
               first ? F_SYN | F_ACK : 0, final && tcp ? F_FIN | F_ACK : 0, final);
        sps = a, sbs = b, spd = c, sbd = d;
        if (final)
            break;
        from = t;
    }
}

/* ------------------------------------------------------------ routing a flow */

int sim_emit(struct sim_gen *g, const struct sim_flow *f)
{
    const struct sim_scenario *sc = g->sc;
    if (++g->hour_flows > g->max_hour_flows)
        return -1;
    g->res->flows++;
    if (f->proto == SIM_PROTO_ICMP) {
        if (g->want_packets) { /* echo request, and a reply from a host that exists */
            packet(g, f, f->t0, 0, FRAME_ICMP, 0);
            if (f->dst_vm >= 0)
                packet(g, f, f->t0 + 1, 1, FRAME_ICMP, 0);
        }
        return g->oom ? -1 : SIM_LOST_ICMP; /* VNet flow logs do not record ICMP */
    }
    const struct sim_vm *sv = f->src_vm >= 0 ? &sc->vms[f->src_vm] : NULL;
    const struct sim_vm *dv = f->dst_vm >= 0 ? &sc->vms[f->dst_vm] : NULL;
    int seen = 0, lost = 0, oc = f->outcome;
    uint32_t out_group = 0, in_group = 0;
    struct wire w;
    int at_src = sv != NULL && sv->logged, at_dst = 0, deny_at_dst = 0;
    if (sv != NULL) {
        int allow;
        int slot = nsg_eval(g, sv->subnet, 0, f->dst_vm, f->dst, f->dport, f->proto, &allow);
        out_group = g->groups[sv->subnet][slot];
        if (!allow) {
            plan_silent(f, &w);
            w.kind = W_DENIED;
            goto emit;
        }
    }
    /* does it reach a destination NIC? */
    int rt = dv == NULL ? RT_NONE : route(g, f->src_vm, f->src, f->dst_vm);
    if (dv != NULL && f->src_vm < 0 && !sim_is_vnet_addr(sc, f->src) && dv->pub == 0 &&
        f->src != PLATFORM_IP)
        rt = RT_NONE; /* the internet reaches only public IPs; the platform reaches all */
    lost = rt == RT_NONE ? SIM_LOST_NOROUTE : 0;
    if (rt == RT_FIREWALL && !fw_allows(g, f)) {
        rt = RT_NONE;
        lost = SIM_LOST_FIREWALL;
    }
    if (rt == RT_NONE) {
        if (dv == NULL && sv != NULL && !sim_is_vnet_addr(sc, f->dst) && !f->probe &&
            f->outcome != OC_NOANSWER) {
            /* to the internet, answered out there */
            uint64_t ps = 3 + f->bytes_out / 1200, pd = 2 + f->bytes_in / 1400;
            uint64_t h = f->proto == SIM_PROTO_TCP ? FRAME_TCP : FRAME_UDP;
            plan_answer(f, f->dur_ms, ps, f->bytes_out + h * ps, pd, f->bytes_in + h * pd, &w);
        } else {
            plan_silent(f, &w);
        }
        goto emit;
    }
    {
        int allow;
        int slot = nsg_eval(g, dv->subnet, 1, f->src_vm, f->src, f->dport, f->proto, &allow);
        in_group = g->groups[dv->subnet][slot];
        if (!allow) {
            /* the NSG drops each attempt: D at the target, unanswered at the source */
            deny_at_dst = dv->logged;
            plan_silent(f, &w);
            goto emit;
        }
    }
    at_dst = dv->logged;
    if (oc == OC_TARGET) {
        int open = f->proto == SIM_PROTO_UDP ? 0 : sim_ports_has(&dv->listen, f->dport);
        if (f->proto == SIM_PROTO_UDP)
            for (int k = 0; k < 8; k++)
                open |= sc->roles[dv->role].udp_listen[k] == f->dport && f->dport != 0;
        oc = open ? OC_OPEN : OC_CLOSED;
    }
    if (oc == OC_CLOSED && (dv->host_firewall || f->proto == SIM_PROTO_UDP))
        oc = OC_NOANSWER; /* dropped silently; a UDP port-unreachable is ICMP, not logged */
    if (oc == OC_NOANSWER) {
        plan_silent(f, &w);
    } else if (oc == OC_CLOSED) {
        plan_answer(f, 1 + (double)(f->t0 % 7), 1, FRAME_SYN, 1, FRAME_TCP, &w); /* SYN, RST */
    } else if (f->probe) {
        /* SYN, SYN/ACK, RST (nmap -sS; connect scans close with RST too) */
        int tcp = f->proto == SIM_PROTO_TCP;
        plan_answer(f, 2 + (double)(f->t0 % 11), tcp ? 2 : 1,
                    tcp ? FRAME_SYN + FRAME_TCP : FRAME_UDP, 1, tcp ? FRAME_SYN : FRAME_UDP + 32,
                    &w);
    } else {
        uint64_t ps = 3 + f->bytes_out / 1200, pd = 2 + f->bytes_in / 1400;
        uint64_t h = f->proto == SIM_PROTO_TCP ? FRAME_TCP : FRAME_UDP;
        plan_answer(f, f->dur_ms, ps, f->bytes_out + h * ps, pd, f->bytes_in + h * pd, &w);
    }
emit:
    if (at_dst) {
        tuples_at(g, dv, 0, f, &w, in_group, 1);
        seen |= SIM_SEEN_DST;
    }
    if (deny_at_dst) {
        struct wire d = w;
        d.kind = W_DENIED;
        tuples_at(g, dv, 0, f, &d, in_group, 1);
        seen |= SIM_SEEN_DST;
    }
    if (at_src) {
        tuples_at(g, sv, 1, f, &w, out_group, 0);
        seen |= SIM_SEEN_SRC;
    }
    if (g->want_packets)
        packets_of(g, f, &w, oc);
    if (g->oom)
        return -1;
    return seen ? seen : (lost | SIM_LOST_UNLOGGED);
}

/* ------------------------------------------------------------ setup */

static int setup(struct sim_gen *g, char *err, size_t errsize)
{
    const struct sim_scenario *sc = g->sc;
    char acl[320], rule[96];
    g->groups = calloc(sc->n_subnets ? sc->n_subnets : 1, sizeof *g->groups);
    if (g->groups == NULL)
        goto nomem;
    for (size_t i = 0; i < sc->n_subnets; i++) {
        const struct sim_subnet *sn = &sc->subnets[i];
        const struct sim_vnet *vn = &sc->vnets[sn->vnet];
        snprintf(acl, sizeof acl,
                 "/subscriptions/%s/resourceGroups/%s-rg/providers/Microsoft.Network/"
                 "networkSecurityGroups/%s-%s-nsg",
                 sc->subscription, vn->name, vn->name, sn->name);
        size_t nr = sn->n_nsg + N_DEFAULT;
        g->groups[i] = calloc(nr, sizeof *g->groups[i]);
        if (g->groups[i] == NULL)
            goto nomem;
        for (size_t r = 0; r < nr; r++) {
            if (r < sn->n_nsg)
                snprintf(rule, sizeof rule, "UserRule_%s", sn->nsg[r].name);
            else
                snprintf(rule, sizeof rule, "%s", default_rules[r - sn->n_nsg]);
            if (scand_group_intern(g->st, acl, strlen(acl), rule, strlen(rule),
                                   &g->groups[i][r]) != SCAND_OK)
                goto nomem;
        }
    }
    size_t nics = 0;
    g->mac_idx = calloc(sc->n_vms ? sc->n_vms : 1, sizeof *g->mac_idx);
    if (g->mac_idx == NULL)
        goto nomem;
    for (size_t i = 0; i < sc->n_vms; i++) {
        if (scand_strtab_intern(g->st, sc->vms[i].mac, 12, &g->mac_idx[i]) != SCAND_OK)
            goto nomem;
        nics += (size_t)sc->vms[i].logged;
    }
    g->res->n_vms = sc->n_vms;
    g->res->n_nics_logged = nics;
    g->flow_res = calloc(sc->n_vnets, sizeof *g->flow_res);
    if (g->flow_res == NULL)
        goto nomem;
    for (size_t i = 0; i < sc->n_vnets; i++) {
        char buf[400], up[400];
        snprintf(buf, sizeof buf,
                 "/SUBSCRIPTIONS/%s/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/"
                 "NETWORKWATCHERS/NETWORKWATCHER_%s/FLOWLOGS/%s-FLOWLOG",
                 sc->subscription, sc->region, sc->vnets[i].name);
        size_t k;
        for (k = 0; buf[k] && k + 1 < sizeof up; k++)
            up[k] = (buf[k] >= 'a' && buf[k] <= 'z') ? (char)(buf[k] - 32) : buf[k];
        up[k] = '\0';
        g->flow_res[i] = strdup(up);
        if (g->flow_res[i] == NULL)
            goto nomem;
    }
    for (int k = 0; k < RING; k++) {
        g->ring[k].hour = INT64_MIN;
        g->ring[k].nic = calloc(sc->n_vms ? sc->n_vms : 1, sizeof *g->ring[k].nic);
        if (g->ring[k].nic == NULL)
            goto nomem;
    }
    return 0;
nomem:
    snprintf(err, errsize, "out of memory");
    return -1;
}

/* Sort key of a NIC's pending tuple: time, then generation order. */
struct skey {
    int64_t ts;
    uint64_t i;
};

/* Stable bottom-up merge sort of a[0..n) by ts, through tmp; returns the
 * array holding the result (a or tmp). Stability keeps generation order. */
static struct skey *sort_keys(struct skey *a, struct skey *tmp, size_t n)
{
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t x = lo, y = mid, k = lo;
            while (x < mid && y < hi)
                tmp[k++] = a[y].ts < a[x].ts ? a[y++] : a[x++];
            while (x < mid)
                tmp[k++] = a[x++];
            while (y < hi)
                tmp[k++] = a[y++];
        }
        struct skey *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

/* Write the bucket of hour h as blobs, NIC by NIC; empty it. */
/* Hand out the hour's packets in time order; empty the buffer. */
static int flush_packets(struct sim_gen *g, struct pktbuf *pb, const struct sim_hooks *hooks,
                         char *err, size_t errsize)
{
    size_t n = pb->n;
    pb->n = 0;
    if (n == 0)
        return 0;
    struct skey *key = malloc(n * sizeof *key), *tmp = malloc(n * sizeof *tmp);
    if (key == NULL || tmp == NULL) {
        free(key);
        free(tmp);
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        key[i].ts = pb->v[i].ts_us;
        key[i].i = i;
    }
    const struct skey *s = sort_keys(key, tmp, n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (hooks->packet(hooks->packet_arg, &pb->v[s[i].i]) != 0) {
            snprintf(err, errsize, "stopped while writing packets");
            rc = -1;
        }
    free(key);
    free(tmp);
    (void)g;
    return rc;
}

static int flush_hour(struct sim_gen *g, int64_t h, const struct sim_hooks *hooks, char *err,
                      size_t errsize)
{
    int64_t k = (h - g->sc->start_ms) / 3600000;
    struct bucket *b = &g->ring[k % RING];
    if (b->hour != h)
        return 0;
    int rc = 0;
    if (g->want_packets && flush_packets(g, &b->pkt, hooks, err, errsize) != 0)
        return -1;
    for (size_t ni = 0; ni < g->sc->n_vms; ni++) {
        struct nicbuf *nb = &b->nic[ni];
        size_t n = nb->n;
        if (n == 0 || rc != 0) {
            nb->n = 0;
            continue;
        }
        if (n > g->cap_key) {
            free(g->key);
            free(g->key_tmp);
            free(g->tup);
            g->cap_key = n * 2;
            g->key = malloc(g->cap_key * sizeof *g->key);
            g->key_tmp = malloc(g->cap_key * sizeof *g->key_tmp);
            g->tup = malloc(g->cap_key * sizeof *g->tup);
            if (g->key == NULL || g->key_tmp == NULL || g->tup == NULL) {
                g->cap_key = 0;
                snprintf(err, errsize, "out of memory");
                return -1;
            }
        }
        int sorted = 1;
        for (size_t i = 0; i < n; i++) {
            g->key[i].ts = nb->v[i].ts;
            g->key[i].i = i;
            sorted &= i == 0 || nb->v[i].ts >= nb->v[i - 1].ts;
        }
        const struct skey *key = sorted ? g->key : sort_keys(g->key, g->key_tmp, n);
        for (size_t i = 0; i < n; i++)
            expand(g, (uint32_t)ni, &nb->v[key[i].i], &g->tup[i]);
        nb->n = 0;
        const struct sim_vm *vm = &g->sc->vms[ni];
        char guid[48], target[300];
        snprintf(guid, sizeof guid, "5ca11ab5-f10e-4000-8000-%012zx", ni + 1);
        snprintf(target, sizeof target,
                 "/subscriptions/%s/resourceGroups/%s-rg/providers/Microsoft.Network/"
                 "networkInterfaces/%s-nic",
                 g->sc->subscription, g->sc->vnets[vm->vnet].name, vm->name);
        struct scand_blob_meta meta = {vm->mac, guid, g->flow_res[vm->vnet], target};
        if (hooks->blob != NULL && hooks->blob(hooks->blob_arg, &meta, h, g->tup, n) != 0) {
            snprintf(err, errsize, "stopped while writing the blob of %s", vm->name);
            rc = -1;
        }
        g->res->blobs++;
    }
    return rc;
}

int sim_generate(const sim_scenario *sc, scand_strtab *st, const struct sim_hooks *hooks,
                 struct sim_result **out, char *err, size_t errsize)
{
    *out = NULL;
    struct sim_result *res = calloc(1, sizeof *res);
    struct sim_gen *g = calloc(1, sizeof *g);
    struct sim_bg *bg = NULL;
    struct sim_camps *cp = NULL;
    int rc = -1;
    if (res == NULL || g == NULL) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    g->sc = sc;
    g->st = st;
    g->res = res;
    g->want_packets = hooks->packet != NULL;
    g->max_hour_flows = hooks->max_hour_flows ? hooks->max_hour_flows : SIM_MAX_HOUR_FLOWS;
    g->end_ms = sc->start_ms + sc->duration_ms;
    res->start_ms = sc->start_ms;
    res->end_ms = g->end_ms;
    if (setup(g, err, errsize) != 0)
        goto out;
    bg = sim_bg_new(sc, res);
    cp = sim_camps_new(sc, res);
    if (bg == NULL || cp == NULL) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    for (int64_t h = sc->start_ms; h < g->end_ms; h += 3600000) {
        g->gen_hour = h;
        g->hour_flows = 0;
        if (sim_bg_hour(bg, g, h) != 0 || sim_camps_hour(cp, g, h) != 0 || g->oom) {
            if (g->hour_flows > g->max_hour_flows)
                snprintf(err, errsize,
                         "hour %lld of the scenario makes more than %llu flows (the simulator "
                         "holds an hour in memory): lower the traffic rates or the VM counts",
                         (long long)((h - sc->start_ms) / 3600000 + 1),
                         (unsigned long long)g->max_hour_flows);
            else
                snprintf(err, errsize, "out of memory");
            goto out;
        }
        if (g->overflow) {
            snprintf(err, errsize, "internal error: a flow outlived the %d-hour ring", RING - 1);
            goto out;
        }
        if (flush_hour(g, h, hooks, err, errsize) != 0)
            goto out;
        if (hooks->progress != NULL)
            hooks->progress(hooks->progress_arg, h, res->tuples);
    }
    /* tuples of the scenario's last minute sit in the blob of the hour after
     * it (a record's time is the end of its minute), as Azure writes them */
    if (flush_hour(g, g->end_ms, hooks, err, errsize) != 0)
        goto out;
    if (sim_camps_finish(cp) != 0) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    rc = 0;
out:
    sim_bg_free(bg);
    sim_camps_free(cp);
    if (g != NULL) {
        for (int k = 0; k < RING; k++) {
            for (size_t i = 0; g->ring[k].nic != NULL && i < sc->n_vms; i++)
                free(g->ring[k].nic[i].v);
            free(g->ring[k].nic);
            free(g->ring[k].pkt.v);
        }
        if (g->groups != NULL)
            for (size_t i = 0; i < sc->n_subnets; i++)
                free(g->groups[i]);
        free(g->groups);
        if (g->flow_res != NULL)
            for (size_t i = 0; i < sc->n_vnets; i++)
                free(g->flow_res[i]);
        free(g->flow_res);
        free(g->mac_idx);
        free(g->key);
        free(g->key_tmp);
        free(g->tup);
        free(g);
    }
    if (rc != 0) {
        sim_result_free(res);
        return -1;
    }
    *out = res;
    return 0;
}

void sim_result_free(struct sim_result *res)
{
    if (res == NULL)
        return;
    for (size_t i = 0; i < res->n_camps; i++) {
        free(res->camps[i].sources);
        free(res->camps[i].targets);
        free(res->camps[i].ports);
    }
    free(res->camps);
    for (size_t i = 0; i < res->n_hn; i++) {
        free(res->hn[i].sources);
        free(res->hn[i].targets);
    }
    free(res->hn);
    free(res->traffic);
    free(res);
}
