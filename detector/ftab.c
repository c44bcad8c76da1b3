/*
 * ftab.c - the IPv4 flow table of scand_int.h: open addressing with linear
 * probing over 32-byte entries that hold their key inline (two words: the
 * addresses; the ports, protocol and direction), so a lookup reads one
 * cache line where the general timed table (ttab.c) reads a tag array and
 * then an entry. Every tuple of an IPv4 flow passes through here.
 *
 * A flow's entry goes at its E tuple (backward-shift deletion, no
 * tombstones, guided by the distances the entries keep); the rest (flows
 * never closed, D attempts remembered for flow_idle) expires when an
 * insert would pass 1/2 load: one pass deletes
 * the entries older than the horizon in place, and the table then grows or
 * shrinks so its load is at most 1/4 (short probe runs matter more here
 * than the bytes: every tuple probes, and every E deletes). The hash is
 * keyed by hash_seed [H2, H4].
 */
#include <string.h>

#include "scand_int.h"

#define MIN_CAP 1024
#define MAX_CAP ((size_t)1 << 31)

int scandint_ftab_init(struct scandint_ftab *ft, uint64_t seed)
{
    memset(ft, 0, sizeof *ft);
    ft->s0 = scandint_mix(seed ^ 0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL);
    ft->s1 = scandint_mix(seed ^ 0x94d049bb133111ebULL, 0xa0761d6478bd642fULL);
    ft->cap = MIN_CAP;
    ft->mask = MIN_CAP - 1;
    ft->e = scandint_calloc(ft->cap, sizeof *ft->e);
    return ft->e != NULL ? SCAND_OK : SCAND_ERR_NOMEM;
}

void scandint_ftab_fini(struct scandint_ftab *ft)
{
    scandint_free(ft->e);
    ft->e = NULL;
}

/* The distance of the entry in slot j from its home; hashed again only if
 * it saturated. */
static size_t dist_of(const struct scandint_ftab *ft, const struct scandint_fent *x, size_t j,
                      size_t mask)
{
    size_t d = (size_t)(x->k1 >> SCANDINT_FK1_DIST_SHIFT) & SCANDINT_FK1_DIST_MAX;
    if (d < SCANDINT_FK1_DIST_MAX)
        return d;
    return (j - scandint_ftab_hash(ft, x->k0, x->k1 & ~SCANDINT_FK1_META)) & mask;
}

static int resize(struct scandint_ftab *ft, size_t cap)
{
    struct scandint_fent *ne = scandint_calloc(cap, sizeof *ne);
    if (ne == NULL)
        return SCAND_ERR_NOMEM;
    size_t mask = cap - 1;
    for (size_t i = 0; i < ft->cap; i++) {
        const struct scandint_fent *e = &ft->e[i];
        if (e->k1 == 0)
            continue;
        size_t home = scandint_ftab_hash(ft, e->k0, e->k1 & ~SCANDINT_FK1_META) & mask;
        size_t j = home;
        while (ne[j].k1 != 0)
            j = (j + 1) & mask;
        ne[j] = *e;
        ne[j].k1 = scandint_ftab_with_dist(e->k1, (j - home) & mask);
    }
    scandint_free(ft->e);
    ft->e = ne;
    ft->cap = cap;
    ft->mask = mask;
    return SCAND_OK;
}

void scandint_ftab_del(struct scandint_ftab *ft, struct scandint_fent *e)
{
    /* move back each later entry of the run whose home is not in (hole, j]:
     * one at least as far from its home as from the hole */
    size_t i = (size_t)(e - ft->e);
    for (size_t j = (i + 1) & ft->mask;; j = (j + 1) & ft->mask) {
        const struct scandint_fent *x = &ft->e[j];
        if (x->k1 == 0)
            break;
        size_t d = dist_of(ft, x, j, ft->mask), gap = (j - i) & ft->mask;
        if (d < gap)
            continue;
        ft->e[i] = *x;
        ft->e[i].k1 = scandint_ftab_with_dist(x->k1, d - gap);
        i = j;
    }
    ft->e[i].k1 = 0;
    ft->n--;
}

/* Delete the entries older than horizon, in place, in one pass that starts
 * after an empty slot (see ttab.c's purge). */
static void purge(struct scandint_ftab *ft, int64_t horizon)
{
    size_t start = 0;
    while (ft->e[start].k1 != 0) /* the load is at most 1/2 */
        start++;
    for (size_t k = 1; k <= ft->cap; k++) {
        size_t i = (start + k) & ft->mask;
        while (ft->e[i].k1 != 0 && ft->e[i].t < horizon)
            scandint_ftab_del(ft, &ft->e[i]);
    }
}

struct scandint_fent *scandint_ftab_insert_full(struct scandint_ftab *ft, uint64_t k0, uint64_t k1,
                                                uint64_t h, int64_t newest, int64_t idle)
{
    purge(ft, scandint_sub_sat(newest, idle));
    int rc = SCAND_OK;
    if (ft->n * 4 > ft->cap)
        rc = ft->cap >= MAX_CAP ? SCAND_ERR_NOMEM : resize(ft, ft->cap * 2);
    else if (ft->n * 16 < ft->cap && ft->cap > MIN_CAP)
        rc = resize(ft, ft->cap / 2);
    if (rc != SCAND_OK)
        return NULL;
    size_t i = h & ft->mask;
    while (ft->e[i].k1 != 0)
        i = (i + 1) & ft->mask;
    return scandint_ftab_put(ft, k0, k1, h, i);
}
