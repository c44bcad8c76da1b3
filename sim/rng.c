/*
 * rng.c - named random streams over GSL (the only file that touches GSL's
 * generators) [D1, L4]. Each stream is an mt19937 seeded with a 64-bit mix
 * of (seed, stream id) folded to GSL's unsigned long seed; gsl_rng_env_setup
 * is never called, so the environment cannot change a run.
 */
#include <stdlib.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "sim.h"

struct sim_rng {
    gsl_rng *g;
};

/* splitmix64 finaliser: spreads (seed, stream) over the seed space. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

sim_rng *sim_rng_new(uint64_t seed, uint32_t stream)
{
    sim_rng *r = malloc(sizeof *r);
    if (r == NULL)
        return NULL;
    r->g = gsl_rng_alloc(gsl_rng_mt19937);
    if (r->g == NULL) {
        free(r);
        return NULL;
    }
    uint64_t s = mix64(seed ^ mix64(stream));
    /* mt19937 treats seed 0 as its default 4357; keep seeds non-zero and in
     * 32 bits so results do not depend on the width of unsigned long. */
    gsl_rng_set(r->g, (unsigned long)((s & 0xffffffffu) | 1u));
    return r;
}

void sim_rng_free(sim_rng *r)
{
    if (r == NULL)
        return;
    gsl_rng_free(r->g);
    free(r);
}

double sim_rng_uniform(sim_rng *r)
{
    return gsl_rng_uniform(r->g);
}

uint64_t sim_rng_below(sim_rng *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    if (n <= 0xffffffffULL)
        return gsl_rng_uniform_int(r->g, (unsigned long)n);
    uint64_t hi = gsl_rng_uniform_int(r->g, (unsigned long)((n >> 32) + 1));
    uint64_t v = (hi << 32) | gsl_rng_get(r->g);
    return v % n;
}

double sim_rng_exponential(sim_rng *r, double mean)
{
    return gsl_ran_exponential(r->g, mean);
}

double sim_rng_lognormal(sim_rng *r, double zeta, double sigma)
{
    return gsl_ran_lognormal(r->g, zeta, sigma);
}

unsigned sim_rng_poisson(sim_rng *r, double mean)
{
    return gsl_ran_poisson(r->g, mean);
}

void sim_rng_shuffle(sim_rng *r, void *base, size_t n, size_t size)
{
    gsl_ran_shuffle(r->g, base, n, size);
}
