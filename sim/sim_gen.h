/*
 * sim_gen.h - what the generator files share: the flow record every
 * generator produces, the engine that turns flows into the tuples each
 * logged NIC writes (gen.c), and the generators' entry points
 * (gen_background.c, gen_campaign.c).
 */
#ifndef SCANLAB_SIM_SIM_GEN_H
#define SCANLAB_SIM_SIM_GEN_H

#include "sim_int.h"

/* What the destination does with a flow that reaches it. */
enum sim_outcome {
    OC_OPEN,     /* a service answers: B, C every 5 min, E with data both ways */
    OC_CLOSED,   /* TCP RST (one packet each way), or UDP with no reply */
    OC_NOANSWER, /* silently dropped: packets out, none back */
    OC_TARGET,   /* decide from the target: open if it listens, else closed */
};

/* One flow as a generator describes it; the engine works out who logs it. */
struct sim_flow {
    int64_t t0;       /* start, epoch ms */
    double dur_ms;    /* open flows: how long the connection lives */
    uint32_t src, dst;
    int src_vm, dst_vm; /* -1: not a VM of the estate */
    uint16_t sport, dport;
    uint8_t proto;
    uint8_t outcome; /* enum sim_outcome */
    uint8_t retries; /* unanswered: extra SYNs (and D tuples when denied) */
    uint8_t probe;   /* a scanner's probe: small packets, RST on open ports */
    uint64_t bytes_out, bytes_in; /* open flows */
    uint32_t campaign;            /* 1-based campaign index, 0 benign */
};

/* emit() result bits: where the flow was logged. */
#define SIM_SEEN_SRC 0x01
#define SIM_SEEN_DST 0x02
/* why nothing was logged, when nothing was */
#define SIM_LOST_ICMP 0x10
#define SIM_LOST_FIREWALL 0x20
#define SIM_LOST_UNLOGGED 0x40
#define SIM_LOST_NOROUTE 0x80

struct sim_gen;

/* Hand one flow to the engine; returns SIM_SEEN_* and SIM_LOST_* bits, or
 * -1 out of memory. */
int sim_emit(struct sim_gen *g, const struct sim_flow *f);

/* Engine facts the generators need. */
const struct sim_scenario *sim_gen_scenario(const struct sim_gen *g);
int64_t sim_gen_end(const struct sim_gen *g); /* end of the scenario, ms */
/* An ephemeral source port (Linux 32768-60999) from r. */
uint16_t sim_ephemeral(sim_rng *r);
/* A public unicast address outside the estate, from r. */
uint32_t sim_public_ip(const struct sim_scenario *sc, sim_rng *r);

/* Background: benign traffic entries and hard negatives for [h0, h0 + 1h). */
struct sim_bg;
struct sim_bg *sim_bg_new(const struct sim_scenario *sc, struct sim_result *res);
void sim_bg_free(struct sim_bg *b);
int sim_bg_hour(struct sim_bg *b, struct sim_gen *g, int64_t h0);

/* Campaigns: their probes for [h0, h0 + 1h), truth in res->camps. */
struct sim_camps;
struct sim_camps *sim_camps_new(const struct sim_scenario *sc, struct sim_result *res);
void sim_camps_free(struct sim_camps *c);
int sim_camps_hour(struct sim_camps *c, struct sim_gen *g, int64_t h0);
/* After the last hour: distinct visible targets and ports, reasons. */
int sim_camps_finish(struct sim_camps *c);

#endif /* SCANLAB_SIM_SIM_GEN_H */
