/*
 * dedup.c - exact-duplicate tuple filter.
 *
 * Real blobs repeat tuples verbatim (vnet_v4_real_PT1H_chshin9.json has one
 * B tuple twice; azure_formats.md 1.4 and 5). A duplicate carries the same
 * timestamp as its original, so we remember (keyed 64-bit hash of every
 * field but the campaign label, timestamp) for the tuples of the last
 * window_ms of record time, in a timed table. Two different tuples collide
 * only on a 64-bit keyed hash collision at the same millisecond.
 */
#include <stddef.h>
#include <string.h>

#include "scand_int.h"

struct scand_dedup {
    struct scandint_ttab tt;
    int64_t window_ms;
    int64_t newest;
    uint64_t seed;
};

scand_dedup *scand_dedup_new(int64_t window_ms, uint64_t seed)
{
    scand_dedup *d = scandint_calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    if (scandint_ttab_init(&d->tt, 16, 0, seed) != SCAND_OK) {
        scandint_free(d);
        return NULL;
    }
    d->window_ms = window_ms > 0 ? window_ms : 1;
    d->newest = INT64_MIN;
    d->seed = seed;
    return d;
}

void scand_dedup_free(scand_dedup *d)
{
    if (d == NULL)
        return;
    scandint_ttab_fini(&d->tt);
    scandint_free(d);
}

/* Every field up to the campaign label, plus the flags (",,,," and
 * "0,0,0,0" are different text, so not duplicates). */
static void dedup_key(const scand_dedup *d, const struct scand_tuple *t, uint64_t key[2])
{
    key[0] = scandint_hash(t, offsetof(struct scand_tuple, campaign), d->seed ^ t->flags);
    key[1] = (uint64_t)t->ts_ms;
}

static int check_key(scand_dedup *d, const uint64_t key[2], uint32_t tag, int64_t ts)
{
    if (ts > d->newest)
        d->newest = ts;
    int is_new;
    int64_t horizon = d->newest == INT64_MIN ? INT64_MIN : d->newest - d->window_ms;
    struct scandint_tent *e = scandint_ttab_get_tag(&d->tt, key, tag, horizon, &is_new);
    if (e == NULL)
        return SCAND_ERR_NOMEM;
    e->t = ts;
    return is_new ? 0 : 1;
}

int scand_dedup_check(scand_dedup *d, const struct scand_tuple *t)
{
    uint64_t key[2];
    dedup_key(d, t, key);
    return check_key(d, key, scandint_ttab_tag(&d->tt, key), t->ts_ms);
}

#define BATCH 32

int64_t scand_dedup_check_n(scand_dedup *d, const struct scand_tuple *t, size_t n, uint8_t *dup)
{
    uint64_t keys[BATCH][2];
    uint32_t tags[BATCH];
    int64_t n_dup = 0;
    for (size_t b = 0; b < n; b += BATCH) {
        size_t m = n - b < BATCH ? n - b : BATCH;
        /* hash the batch and prefetch its slots, then look them up */
        for (size_t i = 0; i < m; i++) {
            dedup_key(d, &t[b + i], keys[i]);
            tags[i] = scandint_ttab_tag(&d->tt, keys[i]);
            scandint_ttab_prefetch(&d->tt, tags[i]);
        }
        for (size_t i = 0; i < m; i++) {
            int rc = check_key(d, keys[i], tags[i], t[b + i].ts_ms);
            if (rc < 0)
                return rc;
            dup[b + i] = (uint8_t)rc;
            n_dup += rc;
        }
    }
    return n_dup;
}
