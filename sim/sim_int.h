/*
 * sim_int.h - the simulator's private model: the validated scenario
 * (topology, traffic, hard negatives, campaigns) and the helpers the
 * generator files share. Programs include only sim.h.
 *
 * Addresses are IPv4 host-order uint32 inside the simulator; tuples carry
 * them IPv4-mapped, as the detector wants.
 */
#ifndef SCANLAB_SIM_SIM_INT_H
#define SCANLAB_SIM_SIM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "scand.h"
#include "sim.h"

#define SIM_NAME_MAX 48
#define SIM_PORTS_MAX 131072 /* entries in one port set, repeats included */
#define SIM_MAX_TARGETS (1 << 20) /* hosts one campaign probes */
#define SIM_MAX_PROBES (1 << 22)  /* (host, port) probes of one campaign */
/* Flows in one simulated hour: the generator holds an hour in memory (a
 * few hundred bytes a flow; scenarios/large.json makes 680,000 an hour),
 * and one campaign may make SIM_MAX_PROBES. */
#define SIM_MAX_HOUR_FLOWS (1 << 23)

struct sim_cidr {
    uint32_t net, mask; /* mask 0xffffff00 for a /24 */
    int len;
};

static inline int sim_cidr_has(const struct sim_cidr *c, uint32_t a)
{
    return (a & c->mask) == c->net;
}

/* A port set: a sorted unique list, in the order probes use it when
 * "sequential"; "top:N" keeps nmap's popularity order instead. */
struct sim_ports {
    uint16_t *v;
    size_t n;
    int any; /* "*": every port */
};

enum { SIM_PROTO_TCP = 6, SIM_PROTO_UDP = 17, SIM_PROTO_ICMP = 1, SIM_PROTO_ANY = 0 };

/* Peer selector: which endpoints a traffic entry, NSG or firewall rule, or
 * campaign names. */
enum sim_sel_kind {
    SEL_ANY,      /* "*" */
    SEL_ROLE,     /* role:NAME */
    SEL_VNET,     /* vnet:NAME */
    SEL_SUBNET,   /* subnet:VNET/SUBNET */
    SEL_VM,       /* vm:NAME */
    SEL_CIDR,     /* cidr:A.B.C.D/N or a bare CIDR or address */
    SEL_INTERNET, /* internet */
    SEL_ONPREM,   /* onprem */
    SEL_VNETTAG,  /* VirtualNetwork (NSG service tag) */
    SEL_LBTAG,    /* AzureLoadBalancer (NSG service tag) */
};

struct sim_sel {
    int kind;
    int idx; /* role, vnet, subnet or vm index */
    struct sim_cidr cidr;
};

struct sim_nsg_rule {
    char name[SIM_NAME_MAX];
    int allow;
    int inbound;
    struct sim_sel peer; /* source for inbound, destination for outbound */
    struct sim_ports ports;
    int proto; /* SIM_PROTO_* */
};

struct sim_fw_rule {
    struct sim_sel from, to;
    struct sim_ports ports;
    int proto;
};

struct sim_role {
    char name[SIM_NAME_MAX];
    struct sim_ports listen; /* open ports */
    int udp_listen[8];       /* open UDP ports (0 = none) */
};

struct sim_vm {
    char name[SIM_NAME_MAX + 16];
    uint32_t ip, pub;  /* pub 0 = no public IP */
    char mac[13];
    int subnet, vnet, role;
    int logged;        /* flow logging on this NIC (NIC over subnet over VNet) */
    int host_firewall; /* closed ports give no answer */
    uint16_t lb_port;  /* load-balancer probe port, 0 = not a backend */
    struct sim_ports listen;
};

struct sim_subnet {
    char name[SIM_NAME_MAX];
    int vnet;
    struct sim_cidr cidr;
    int logged;  /* -1 inherit */
    struct sim_nsg_rule *nsg;
    size_t n_nsg, cap_nsg;
    int has_nsg;
    uint32_t acl_idx; /* strtab: the NSG resource id */
    int first_vm, n_vm;
};

enum { VNET_SPOKE, VNET_HUB, VNET_VWAN };

struct sim_vnet {
    char name[SIM_NAME_MAX];
    int kind;
    struct sim_cidr cidr;
    int logged;
    int via_firewall; /* spoke: UDR sends spoke-to-spoke traffic through the hub firewall */
    int peered;       /* spoke: peered with the hub */
    int first_subnet, n_subnet;
};

struct sim_dist {
    int kind; /* 0 lognormal(median, sigma), 1 exponential(mean), 2 pareto(shape, scale) */
    double a, b;
};

/* One benign traffic entry: each source opens Poisson(rate x diurnal)
 * flows an hour, each to a uniformly chosen destination and port. */
struct sim_traffic {
    char name[SIM_NAME_MAX];
    struct sim_sel from, to;
    struct sim_ports ports;
    int proto;
    double rate; /* flows per source per hour, before the diurnal factor */
    double diurnal[24];
    double success;
    struct sim_dist bytes_out, bytes_in, duration_s;
    int cls; /* SIM_CLS_* (hard-negative class) or SIM_CLS_BENIGN */
};

enum sim_kind {
    SIM_K_HORIZONTAL,
    SIM_K_VERTICAL,
    SIM_K_BLOCK,
    SIM_K_SLOW,
    SIM_K_DISTRIBUTED,
    SIM_K_UDP,
    SIM_K_COUNT
};

enum sim_shape { SHAPE_HORIZONTAL, SHAPE_VERTICAL, SHAPE_BLOCK };

struct sim_campaign {
    char id[SIM_NAME_MAX];
    int kind, shape, proto;
    struct sim_sel from;
    uint32_t n_sources;
    struct sim_sel *to;
    size_t n_to;
    struct sim_ports ports;
    int64_t start_ms;
    double interval_ms; /* between probes of one source */
    int sequential;
    int tool; /* 0 nmap (fixed source port), 1 masscan, 2 connect (ephemeral) */
    int retries;
    uint32_t max_hosts; /* cap on targets, 0 = all */
};

struct sim_scenario {
    char name[SIM_NAME_MAX];
    char file[256];
    uint64_t seed;
    int64_t start_ms, duration_ms;
    char subscription[64];
    char region[32];

    struct sim_vnet *vnets;
    size_t n_vnets;
    struct sim_subnet *subnets;
    size_t n_subnets;
    struct sim_vm *vms;
    size_t n_vms;
    struct sim_role *roles;
    size_t n_roles;
    struct sim_ipix { uint32_t ip; int vm; } *ip_ix; /* VMs by address, sorted */
    int hub; /* index of the hub vnet, -1 none */
    int (*peer)[2]; /* direct spoke-spoke peerings */
    size_t n_peer;

    int has_firewall;
    uint32_t fw_ip;
    struct sim_cidr fw_subnet, gw_subnet;
    struct sim_fw_rule *fw;
    size_t n_fw;
    int vwan_secured;

    struct sim_cidr *onprem;
    size_t n_onprem;

    struct sim_traffic *traffic;
    size_t n_traffic, cap_traffic; /* cap: slots allocated (zeroed), freed on error */
    struct sim_campaign *camps;
    size_t n_camps, cap_camps;

    /* hard negatives (0 = off) */
    double lb_interval_s;
    double platform_interval_s;
    double mon_interval_s;
    struct sim_ports mon_ports;
    int backup_hour;
    uint16_t backup_port;
    double ad_logons;    /* per client VM per hour */
    double dns_rate;     /* per VM per hour */
    int vuln_hour;       /* -1 off */
    struct sim_ports vuln_ports;
    double noise_rate;   /* internet scan noise tuples per public IP per hour */
    double inet_clients; /* internet client flows per hour to public web */
};

/* ------------------------------------------------------------ helpers */

int sim_ports_add(struct sim_ports *p, uint16_t port);
void sim_ports_free(struct sim_ports *p);
int sim_ports_has(const struct sim_ports *p, uint16_t port);

/* nmap's most popular ports (research/scan_anchors.md 4.2). */
extern const uint16_t sim_top_tcp[];
extern const size_t sim_n_top_tcp;
extern const uint16_t sim_top_udp[];
extern const size_t sim_n_top_udp;

/* Does endpoint a (vm index or -1 with address) match selector s? */
int sim_sel_match(const struct sim_scenario *sc, const struct sim_sel *s, int vm, uint32_t a);

/* The VM whose private address is a, or -1. */
int sim_vm_at(const struct sim_scenario *sc, uint32_t a);

/* Is a an address of the estate's VirtualNetwork tag (vnets, onprem)? */
int sim_is_vnet_addr(const struct sim_scenario *sc, uint32_t a);

/* Parse "A.B.C.D" into host order; 0 ok, -1 bad. */
int sim_parse_ip(const char *s, uint32_t *out);
/* Parse "A.B.C.D/N" (or a bare address = /32); 0 ok, -1 bad. */
int sim_parse_cidr(const char *s, struct sim_cidr *out);
void sim_format_ip(uint32_t a, char *buf, size_t size);

#endif /* SCANLAB_SIM_SIM_INT_H */
