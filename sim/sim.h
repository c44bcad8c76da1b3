/*
 * sim.h - the simulator library's public header (libscansim). For now it
 * holds the random streams every generator draws from; the scenario engine
 * (topology, traffic, campaigns) grows here.
 */
#ifndef SCANLAB_SIM_SIM_H
#define SCANLAB_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>

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

#endif /* SCANLAB_SIM_SIM_H */
