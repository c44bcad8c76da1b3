/*
 * ttab.c - the timed table of scand_int.h: fixed-size keys with a time,
 * expired by record time, never by the wall clock [H4].
 *
 * Layout: a power-of-two array of 32-bit tags (the key hash's low bits,
 * forced non-zero; 0 marks an empty slot) beside a flat array of entries
 * (header + key), linear probing over the tags. Probing reads only the tag
 * array, 16 slots to a cache line, so a miss (half of all flow lookups: new
 * flows) costs no entry reads at all and a hit reads one entry. Owners
 * that know when an entry is done (a flow's E tuple) delete it at once
 * (backward shift, no tombstones); the rest expires in bulk when an insert
 * would pass 3/4 load: one pass deletes the expired entries in place, and
 * the table then grows or shrinks so that its load is at most 1/2, so the
 * amortised cost per insert stays O(1) and memory follows the live
 * population.
 */
#include <string.h>

#include "scand_int.h"

#define MIN_CAP 1024
#define MAX_CAP ((size_t)1 << 31) /* slot index comes from a 32-bit tag */

static struct scandint_tent *at(const struct scandint_ttab *tt, uint8_t *slots, size_t i)
{
    return (struct scandint_tent *)(void *)(slots + i * tt->esize);
}

/* Copy n >= 8 bytes in words, the tail as one overlapping word: no call
 * for the runtime sizes of a table's keys. */
static inline void copy_words(uint8_t *d, const uint8_t *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        memcpy(d + i, s + i, 8);
    if (i < n)
        memcpy(d + n - 8, s + n - 8, 8);
}

int scandint_ttab_init(struct scandint_ttab *tt, size_t key_size, size_t val_size, uint64_t seed)
{
    memset(tt, 0, sizeof *tt);
    if (key_size < 8)
        return SCAND_ERR_INVAL; /* scandint_ttab_key_eq() reads the last 8 bytes whole */
    tt->key_size = key_size;
    tt->val_off = sizeof(struct scandint_tent) + ((key_size + 7) & ~(size_t)7);
    tt->esize = tt->val_off + ((val_size + 7) & ~(size_t)7);
    tt->seed = seed;
    tt->cap = MIN_CAP;
    tt->mask = MIN_CAP - 1;
    tt->tags = scandint_calloc(tt->cap, sizeof *tt->tags);
    tt->slots = scandint_calloc(tt->cap, tt->esize);
    if (tt->tags == NULL || tt->slots == NULL) {
        scandint_ttab_fini(tt);
        return SCAND_ERR_NOMEM;
    }
    return SCAND_OK;
}

void scandint_ttab_fini(struct scandint_ttab *tt)
{
    scandint_free(tt->tags);
    scandint_free(tt->slots);
    tt->tags = NULL;
    tt->slots = NULL;
}

/* Move every entry into a table of cap slots. */
static int resize(struct scandint_ttab *tt, size_t cap)
{
    uint32_t *ntags = scandint_calloc(cap, sizeof *ntags);
    uint8_t *ns = ntags ? scandint_malloc(cap * tt->esize) : NULL;
    if (ns == NULL) {
        scandint_free(ntags);
        return SCAND_ERR_NOMEM;
    }
    size_t mask = cap - 1;
    for (size_t i = 0; i < tt->cap; i++) {
        uint32_t tag = tt->tags[i];
        if (tag == 0)
            continue;
        size_t j = tag & mask;
        while (ntags[j] != 0)
            j = (j + 1) & mask;
        ntags[j] = tag;
        copy_words((uint8_t *)at(tt, ns, j), (const uint8_t *)at(tt, tt->slots, i), tt->esize);
    }
    scandint_free(tt->tags);
    scandint_free(tt->slots);
    tt->tags = ntags;
    tt->slots = ns;
    tt->cap = cap;
    tt->mask = mask;
    return SCAND_OK;
}

/* Drop the entries older than horizon in place, one pass, by deletion. The
 * scan starts after an empty slot: a deletion moves entries back only
 * within the run after its hole, which then never reaches a slot already
 * scanned, and the slot it refilled is looked at again. */
static void purge(struct scandint_ttab *tt, int64_t horizon)
{
    size_t start = 0;
    while (tt->tags[start] != 0) /* there is one: the load is at most 3/4 */
        start++;
    for (size_t k = 1; k <= tt->cap; k++) {
        size_t i = (start + k) & tt->mask;
        while (tt->tags[i] != 0 && at(tt, tt->slots, i)->t < horizon)
            scandint_ttab_del(tt, at(tt, tt->slots, i));
    }
}

/* At 3/4 load: drop what expired, in place; then grow when still over half
 * full, or shrink when under an eighth, so memory follows the live entries
 * and an insert's amortised cost stays O(1). */
static int rebuild(struct scandint_ttab *tt, int64_t horizon)
{
    purge(tt, horizon);
    if (tt->n * 2 > tt->cap)
        return tt->cap >= MAX_CAP ? SCAND_ERR_NOMEM : resize(tt, tt->cap * 2);
    if (tt->n * 8 < tt->cap && tt->cap > MIN_CAP)
        return resize(tt, tt->cap / 2);
    return SCAND_OK;
}

struct scandint_tent *scandint_ttab_insert(struct scandint_ttab *tt, const void *key,
                                           uint32_t h, int64_t horizon, size_t i)
{
    if ((tt->n + 1) * 4 > tt->cap * 3) {
        if (rebuild(tt, horizon) != SCAND_OK)
            return NULL;
        i = h & tt->mask;
        while (tt->tags[i] != 0)
            i = (i + 1) & tt->mask;
    }
    tt->tags[i] = h;
    struct scandint_tent *e = at(tt, tt->slots, i);
    e->t = 0;
    e->flags = 0;
    copy_words(e->key, key, tt->key_size);
    for (size_t o = tt->val_off; o < tt->esize; o += 8) /* the value: whole words */
        memset((uint8_t *)e + o, 0, 8);
    tt->n++;
    if (tt->n > tt->peak)
        tt->peak = tt->n;
    return e;
}

void scandint_ttab_del(struct scandint_ttab *tt, struct scandint_tent *e)
{
    /* Backward-shift deletion: walk the run after the hole and move back
     * each entry whose home slot is not cyclically in (hole, j], so that
     * every probe sequence stays unbroken and no tombstones pile up. */
    size_t i = (size_t)((uint8_t *)e - tt->slots) / tt->esize;
    for (size_t j = (i + 1) & tt->mask;; j = (j + 1) & tt->mask) {
        uint32_t tag = tt->tags[j];
        if (tag == 0)
            break;
        size_t home = tag & tt->mask;
        if (((j - home) & tt->mask) < ((j - i) & tt->mask))
            continue; /* home in (i, j]: it stays */
        tt->tags[i] = tag;
        copy_words((uint8_t *)at(tt, tt->slots, i), (const uint8_t *)at(tt, tt->slots, j),
                   tt->esize);
        i = j;
    }
    tt->tags[i] = 0;
    tt->n--;
}

struct scandint_tent *scandint_ttab_get(struct scandint_ttab *tt, const void *key,
                                        int64_t horizon, int *is_new)
{
    return scandint_ttab_get_tag(tt, key, scandint_ttab_tag(tt, key), horizon, is_new);
}
