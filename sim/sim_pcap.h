/*
 * sim_pcap.h - writing the simulator's packets as a pcap file (pcap_out.c,
 * the one file of sim/ that includes libpcap).
 */
#ifndef SCANLAB_SIM_SIM_PCAP_H
#define SCANLAB_SIM_SIM_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

typedef struct sim_pcap sim_pcap;

/* Create path as an Ethernet pcap; NULL with err set on failure. */
sim_pcap *sim_pcap_open(const char *path, char *err, size_t errsize);
/* Append one packet (headers only). 0, or -1 on error. */
int sim_pcap_write(sim_pcap *w, const struct sim_packet *p);
/* Flush and close; -1 with err set if a write failed. */
int sim_pcap_close(sim_pcap *w, char *err, size_t errsize);
uint64_t sim_pcap_packets(const sim_pcap *w);

#endif /* SCANLAB_SIM_SIM_PCAP_H */
