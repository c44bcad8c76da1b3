/*
 * scand_int.h - private declarations shared by libscand's files: the
 * allocator hooks, the keyed hash, error-buffer helpers. Nothing here is
 * part of the public API; programs include only scand.h.
 */
#ifndef SCANLAB_DETECTOR_SCAND_INT_H
#define SCANLAB_DETECTOR_SCAND_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "scand.h"

/* Allocation through the hooks of scand_set_allocator(). */
void *scandint_malloc(size_t n);
void *scandint_calloc(size_t count, size_t size); /* checks count*size */
void *scandint_realloc(void *p, size_t n);
/* realloc p to count*size bytes, NULL (p untouched) on overflow or failure. */
void *scandint_reallocarray(void *p, size_t count, size_t size);
void scandint_free(void *p);
char *scandint_strdup(const char *s);

/* snprintf into an error buffer of SCAND_ERRBUF_SIZE bytes (may be NULL). */
void scandint_seterr(char *errbuf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Keyed 64-bit hash of n bytes (a seeded multiply-xorshift over 8-byte
 * words, in the spirit of wyhash; good distribution, not cryptographic).
 * The seed is a configuration key so that an attacker who cannot read the
 * configuration cannot aim collisions at a table. [H2]
 */
uint64_t scandint_hash(const void *p, size_t n, uint64_t seed);
/* Combine two hashes (or a hash and a small value) into one. */
uint64_t scandint_hash_pair(uint64_t a, uint64_t b);

/* Round up to a power of two (at least 16). */
size_t scandint_pow2(size_t n);

/* Floor division for bins: KQL bin(t, w) = floor(t / w) * w. */
static inline int64_t scandint_bin(int64_t t, int64_t w)
{
    int64_t q = t / w;
    if ((t % w != 0) && ((t < 0) != (w < 0)))
        q--;
    return q * w;
}

/* Parse a decimal uint64 from [s, s+n); 0 ok, -1 not a number, -2 overflow. */
int scandint_parse_u64(const char *s, size_t n, uint64_t *out);

/*
 * Timed table (ttab.c): an open-addressing set of fixed-size keys, each with
 * a time and a byte of flags, whose entries expire when their time falls
 * behind a horizon the caller passes in. Expired entries are dropped when
 * the table would pass 3/4 load; it then grows, stays or shrinks so that it
 * holds at most about four times its live entries [H2, H4].
 */
struct scandint_tent {
    int64_t t;
    uint8_t flags;
    uint8_t pad[7];
    uint8_t key[]; /* key_size bytes, padded to 8 */
};

struct scandint_ttab {
    uint32_t *tags; /* per slot: the key's hash tag, 0 = empty */
    uint8_t *slots; /* per slot: an entry of esize bytes */
    size_t esize, key_size, cap, mask, n;
    uint64_t seed;
    size_t peak;
};

int scandint_ttab_init(struct scandint_ttab *tt, size_t key_size, uint64_t seed);
void scandint_ttab_fini(struct scandint_ttab *tt);
/* Find key; if absent insert it with t and flags 0 (*is_new = 1). Entries with
 * t < horizon may be dropped first. Returns the entry, or NULL on NOMEM. */
struct scandint_tent *scandint_ttab_get(struct scandint_ttab *tt, const void *key,
                                        int64_t horizon, int *is_new);
/* The same in two steps, so a batch can hash and prefetch ahead: the key's
 * tag, a prefetch of its home slot, and the lookup with a known tag. */
uint32_t scandint_ttab_tag(const struct scandint_ttab *tt, const void *key);
void scandint_ttab_prefetch(const struct scandint_ttab *tt, uint32_t tag);
struct scandint_tent *scandint_ttab_get_tag(struct scandint_ttab *tt, const void *key,
                                            uint32_t tag, int64_t horizon, int *is_new);

/* The general tuple parser, which scand_tuple_parse() falls back to when
 * its fast path declines; exported for the differential test. */
int scandint_tuple_parse_slow(const char *s, size_t len, enum scand_fmt fmt,
                              struct scand_tuple *t, char *why, size_t why_size);

/*
 * Tuple lifting (flowlog_lift.c): find the flowTuples arrays of one record
 * whose elements are plain strings, so they can be parsed in place while
 * cJSON parses a copy with those arrays blanked.
 */
enum { SCANDINT_LIFT_VNET, SCANDINT_LIFT_NSG };

struct scandint_span {
    uint8_t kind;    /* SCANDINT_LIFT_* */
    uint32_t i, j;   /* flows[i], flowGroups[j] (VNet) or flows[j] (NSG) */
    size_t beg, end; /* the array's interior, offsets into the record */
};

struct scandint_lift {
    struct scandint_span *v; /* sorted by (kind, i, j), unique */
    size_t n, cap;
    char *copy; /* the record with lifted interiors blanked */
    size_t copy_len, copy_cap;
};

/* Scan record s[0..n) (no_esc: the caller knows it holds no backslash).
 * Return 1 with lf->copy and the spans set, 0 when nothing is lifted
 * (parse s itself), or SCAND_ERR_NOMEM. */
int scandint_lift(struct scandint_lift *lf, const char *s, size_t n, int no_esc);
/* The span at (kind, i, j), or NULL. */
const struct scandint_span *scandint_lift_find(const struct scandint_lift *lf, int kind,
                                               uint32_t i, uint32_t j);
void scandint_lift_fini(struct scandint_lift *lf);

/* ------------------------------------------------------------ detector */

enum { RULE_HORIZONTAL, RULE_VERTICAL, N_RULES };

/* Per-rule tunables; keys "<rule>.<field>" in config.c. */
struct scandint_rule_cfg {
    int enabled;
    uint64_t threshold; /* alert when the distinct count > threshold */
    int64_t bin_ms;     /* tumbling bin width, KQL bin() */
    int private_only;   /* both ends private (RFC 1918 / ULA) */
    uint64_t proto;     /* IANA protocol to count, 0 = any */
    uint64_t dport_max; /* count only destination ports < dport_max */
};

struct scandint_cfg {
    int64_t reorder_ms;   /* tolerated lateness before a bin closes */
    int64_t flow_idle_ms; /* a 5-tuple unseen this long starts a new flow */
    uint64_t hash_seed;
    struct scandint_rule_cfg rule[N_RULES];
};

void scandint_cfg_defaults(struct scandint_cfg *cfg);
int scandint_cfg_set(struct scandint_cfg *cfg, const char *key, const char *value, char *err);
int scandint_cfg_get(const struct scandint_cfg *cfg, const char *key, char *buf, size_t size);

/* Distinct-count rule engine (rule_dcount.c): dcount(value) by key,
 * bin(start, W) > T, the shape of both seed rules. */
enum { DC_KEY_SRC, DC_KEY_SRC_DST };
enum { DC_VAL_DST, DC_VAL_DPORT };

struct scandint_rule_ops {
    const char *name;
    int family;   /* enum scand_family */
    int key_kind; /* DC_KEY_* */
    int val_kind; /* DC_VAL_* */
};

extern const struct scandint_rule_ops scandint_rules[N_RULES];

struct scandint_dcount;
struct scandint_dcount *scandint_dcount_new(const struct scandint_rule_ops *ops,
                                            const struct scandint_rule_cfg *cfg);
void scandint_dcount_free(struct scandint_dcount *dc);
/* Count flow start t, whose addresses hash (scandint_hash, 16 bytes, the
 * rule's seed) to hsrc and hdst: computed once per tuple for every rule.
 * Returns 1 counted, 0 filtered out, 2 late (bin closed), SCAND_ERR_NOMEM. */
int scandint_dcount_add(struct scandint_dcount *dc, const struct scand_tuple *t, uint64_t hsrc,
                        uint64_t hdst);
/* Close every bin ending at or before wm; alerts go to fn. Returns SCAND_OK,
 * SCAND_ERR_NOMEM, or SCAND_ERR_STATE if fn asked to stop. */
int scandint_dcount_close(struct scandint_dcount *dc, int64_t wm, scand_alert_fn fn, void *arg,
                          uint64_t *n_alerts, uint64_t *n_bins);
uint64_t scandint_dcount_peak_keys(const struct scandint_dcount *dc);

#endif /* SCANLAB_DETECTOR_SCAND_INT_H */
