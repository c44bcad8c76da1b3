/*
 * ttab.c - the timed table of scand_int.h: fixed-size keys with a time,
 * expired by record time, never by the wall clock [H4].
 *
 * Layout: one flat array of entries (header + key), power-of-two capacity,
 * keyed hash, linear probing. There is no per-entry delete: expiry happens
 * in bulk when an insert would pass 3/4 load, by rebuilding into a table
 * sized for the live entries (load <= 1/2 afterwards), so the amortised cost
 * per insert stays O(1) and memory follows the live population.
 */
#include <string.h>

#include "scand_int.h"

#define MIN_CAP 1024
#define MAX_CAP ((size_t)1 << 31) /* slot index comes from a 32-bit tag */

static struct scandint_tent *at(const struct scandint_ttab *tt, uint8_t *slots, size_t i)
{
    return (struct scandint_tent *)(void *)(slots + i * tt->esize);
}

int scandint_ttab_init(struct scandint_ttab *tt, size_t key_size, uint64_t seed)
{
    memset(tt, 0, sizeof *tt);
    tt->key_size = key_size;
    tt->esize = sizeof(struct scandint_tent) + ((key_size + 7) & ~(size_t)7);
    tt->seed = seed;
    tt->cap = MIN_CAP;
    tt->mask = MIN_CAP - 1;
    tt->slots = scandint_calloc(tt->cap, tt->esize);
    return tt->slots ? SCAND_OK : SCAND_ERR_NOMEM;
}

void scandint_ttab_fini(struct scandint_ttab *tt)
{
    scandint_free(tt->slots);
    tt->slots = NULL;
}

static int rebuild(struct scandint_ttab *tt, int64_t horizon)
{
    size_t live = 0;
    for (size_t i = 0; i < tt->cap; i++) {
        struct scandint_tent *e = at(tt, tt->slots, i);
        live += e->used && e->t >= horizon;
    }
    size_t cap = tt->cap;
    if (live * 2 > cap) {
        if (cap >= MAX_CAP)
            return SCAND_ERR_NOMEM;
        cap *= 2;
    }
    else if (live * 8 < cap && cap > MIN_CAP)
        cap /= 2;
    uint8_t *ns = scandint_calloc(cap, tt->esize);
    if (ns == NULL)
        return SCAND_ERR_NOMEM;
    size_t mask = cap - 1;
    for (size_t i = 0; i < tt->cap; i++) {
        struct scandint_tent *e = at(tt, tt->slots, i);
        if (!e->used || e->t < horizon)
            continue;
        size_t j = e->tag & mask;
        while (at(tt, ns, j)->used)
            j = (j + 1) & mask;
        memcpy(at(tt, ns, j), e, tt->esize);
    }
    scandint_free(tt->slots);
    tt->slots = ns;
    tt->cap = cap;
    tt->mask = mask;
    tt->n = live;
    return SCAND_OK;
}

struct scandint_tent *scandint_ttab_get(struct scandint_ttab *tt, const void *key,
                                        int64_t horizon, int *is_new)
{
    uint32_t h = (uint32_t)scandint_hash(key, tt->key_size, tt->seed);
    size_t i = h & tt->mask;
    for (;; i = (i + 1) & tt->mask) {
        struct scandint_tent *e = at(tt, tt->slots, i);
        if (!e->used)
            break;
        if (e->tag == h && memcmp(e->key, key, tt->key_size) == 0) {
            *is_new = 0;
            return e;
        }
    }
    if ((tt->n + 1) * 4 > tt->cap * 3) {
        if (rebuild(tt, horizon) != SCAND_OK)
            return NULL;
        i = h & tt->mask;
        while (at(tt, tt->slots, i)->used)
            i = (i + 1) & tt->mask;
    }
    struct scandint_tent *e = at(tt, tt->slots, i);
    e->used = 1;
    e->tag = h;
    e->flags = 0;
    e->t = 0;
    memcpy(e->key, key, tt->key_size);
    tt->n++;
    if (tt->n > tt->peak)
        tt->peak = tt->n;
    *is_new = 1;
    return e;
}
