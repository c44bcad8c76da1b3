/*
 * sim.h - the simulator library's public header (libscansim): seeded random
 * streams, scenario files (parse and validate), and the generator that turns
 * a scenario into Azure VNet flow-log blobs plus ground truth.
 *
 * The library does no file I/O: the caller hands it the scenario text and
 * receives each finished NIC-hour blob's tuples through a callback.
 */
#ifndef SCANLAB_SIM_SIM_H
#define SCANLAB_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "scand.h"

/*
 * One named random stream: a GSL mt19937 generator seeded from the
 * scenario seed and a stream id, so adding draws to one purpose (say a new
 * campaign) never shifts another's (benign traffic) [D1]. Same seed and
 * stream, same numbers, on every machine.
 */
typedef struct sim_rng sim_rng;

sim_rng *sim_rng_new(uint64_t seed, uint32_t stream);
void sim_rng_free(sim_rng *r);
double sim_rng_uniform(sim_rng *r);                   /* [0, 1) */
uint64_t sim_rng_below(sim_rng *r, uint64_t n);       /* [0, n), n >= 1 */
double sim_rng_exponential(sim_rng *r, double mean);  /* mean > 0 */
double sim_rng_lognormal(sim_rng *r, double zeta, double sigma);
unsigned sim_rng_poisson(sim_rng *r, double mean);
void sim_rng_shuffle(sim_rng *r, void *base, size_t n, size_t size);

/* ------------------------------------------------------------ scenarios */

typedef struct sim_scenario sim_scenario;

#define SIM_ERRBUF_SIZE 512

/*
 * Parse and validate scenario text (scenarios/README.md). file names the
 * scenario in messages. On error returns -1 with err set to one line,
 * "FILE:LINE: PATH: what is wrong", and *out NULL. The scenario is owned by
 * the caller (sim_scenario_free).
 */
int sim_scenario_parse(const char *file, const char *text, size_t len, sim_scenario **out,
                       char *err, size_t errsize);
void sim_scenario_free(sim_scenario *sc);
const char *sim_scenario_name(const sim_scenario *sc);
uint64_t sim_scenario_seed(const sim_scenario *sc);
void sim_scenario_set_seed(sim_scenario *sc, uint64_t seed); /* --seed */

/* ------------------------------------------------------------ generation */

/* Campaign kinds, as truth.json and reports name them. */
const char *sim_kind_name(int kind);

/* Ground truth of one campaign. Addresses are IPv4, host order. */
struct sim_camp_truth {
    char id[48];
    int kind;  /* sim_kind_name() */
    int proto; /* IANA */
    uint32_t *sources;
    size_t n_sources;
    uint32_t *targets; /* distinct destinations probed, ascending */
    size_t n_targets;
    uint16_t *ports; /* distinct destination ports probed, ascending */
    size_t n_ports;
    int64_t start_ms, end_ms; /* when the first and the last probe were sent */
    uint64_t probes, probes_visible;
    size_t n_targets_visible, n_ports_visible; /* over visible probes */
    int visible;
    char reason[192]; /* why not visible ("" when visible) */
};

/* A class of benign traffic that looks like scanning (DESIGN.md section 5):
 * the sources that do it and the targets they touch. */
struct sim_hard_negative {
    const char *cls; /* lb_probe, platform, monitoring, backup, ad, dns, vuln_scanner,
                        internet_noise */
    char what[160];
    uint32_t *sources;
    size_t n_sources;
    uint32_t *targets;
    size_t n_targets;
};

struct sim_traffic_stat {
    char name[48];
    uint64_t flows;  /* flows generated */
    double expected; /* their expected number (rate x diurnal x sources x hours) */
};

struct sim_result {
    struct sim_camp_truth *camps;
    size_t n_camps;
    struct sim_hard_negative *hn;
    size_t n_hn;
    struct sim_traffic_stat *traffic;
    size_t n_traffic;
    uint64_t flows, tuples, blobs;
    size_t n_vms, n_nics_logged;
    int64_t start_ms, end_ms;
};

/*
 * Receives one finished blob: the tuples of one NIC for one hour (sorted by
 * time; t[i].campaign is the truth label, 0 benign), the blob's metadata and
 * its hour. Called in hour order, NICs in a fixed order within the hour.
 * Return non-zero to stop the run.
 */
typedef int (*sim_blob_fn)(void *arg, const struct scand_blob_meta *meta, int64_t hour_ms,
                           const struct scand_tuple *t, size_t n);

/* Idle timeouts that end a flow with no close (an unanswered TCP SYN, any
 * UDP exchange): its E tuple comes this long after its last packet. The
 * pcap converter uses the same values by default. */
#define SIM_TCP_IDLE_MS 240000
#define SIM_UDP_IDLE_MS 30000

/* One synthetic packet (--pcap): IPv4, TCP, UDP or ICMP. ip_len is its IP
 * total length; only headers are captured. MACs are the sending VM's NIC
 * and Azure's gateway MAC 12:34:56:78:9a:bc (every VM's next hop). Tuples
 * count frames: ip_len + 14 bytes. */
struct sim_packet {
    int64_t ts_us;
    uint32_t src, dst; /* IPv4, host order */
    uint16_t sport, dport;
    uint32_t ip_len;
    uint8_t proto;
    uint8_t tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10; ICMP: its type */
    uint8_t src_mac[6], dst_mac[6];
};

/* Receives every packet of the run in time order (ties in generation
 * order). Return non-zero to stop the run. */
typedef int (*sim_packet_fn)(void *arg, const struct sim_packet *p);

/* Progress: called after each simulated hour. */
typedef void (*sim_progress_fn)(void *arg, int64_t hour_ms, uint64_t tuples);

/* What a run hands out; any callback may be NULL. */
struct sim_hooks {
    sim_blob_fn blob;
    void *blob_arg;
    sim_packet_fn packet; /* NULL: no packets are made */
    void *packet_arg;
    sim_progress_fn progress;
    void *progress_arg;
    uint64_t max_hour_flows; /* 0: the default, 8,388,608 flows in one simulated hour */
};

/*
 * Generate the scenario: benign traffic, hard negatives and campaigns as
 * flows, flows as the tuples each logged NIC writes (and, with a packet
 * hook, as packets), handed out hour by hour. MACs and flow groups are
 * interned in st. Memory holds about one simulated hour. Returns 0 with
 * *res set (sim_result_free), or -1 with err set (out of memory, a hook
 * stopped the run).
 */
int sim_generate(const sim_scenario *sc, scand_strtab *st, const struct sim_hooks *hooks,
                 struct sim_result **res, char *err, size_t errsize);
void sim_result_free(struct sim_result *res);

/* truth.json text for a run (malloc'd, NUL-terminated), or NULL on OOM. */
char *sim_truth_json(const sim_scenario *sc, const struct sim_result *res);

#endif /* SCANLAB_SIM_SIM_H */
