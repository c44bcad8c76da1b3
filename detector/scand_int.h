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
#include <string.h>

#include "scand.h"

/* Allocation through the hooks of scand_set_allocator(). */
void *scandint_malloc(size_t n);
void *scandint_calloc(size_t count, size_t size); /* checks count*size */
void *scandint_realloc(void *p, size_t n);
/* realloc p to count*size bytes, NULL (p untouched) on overflow or failure. */
void *scandint_reallocarray(void *p, size_t count, size_t size);
/* Grow the array *pp (a pointer to the array's pointer) of size-byte
 * elements from capacity *cap to twice that, or to min from 0. SCAND_OK,
 * or SCAND_ERR_NOMEM with *pp and *cap unchanged. */
int scandint_grow(void *pp, size_t *cap, size_t min, size_t size);
void scandint_free(void *p);
char *scandint_strdup(const char *s);

/* snprintf into an error buffer of SCAND_ERRBUF_SIZE bytes (may be NULL). */
void scandint_seterr(char *errbuf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Per-tuple steps inline whatever the compiler's size heuristics decide
 * (link-time optimisation changes them with every edit elsewhere); the
 * rare paths beside them stay out of line. */
#define SCANDINT_HOT inline __attribute__((always_inline))
#define SCANDINT_COLD __attribute__((noinline))

/*
 * Keyed 64-bit hash of n bytes (a seeded multiply-xorshift over 8-byte
 * words, in the spirit of wyhash; good distribution, not cryptographic).
 * The seed is a configuration key so that an attacker who cannot read the
 * configuration cannot aim collisions at a table. [H2]
 */
/* The first byte of p[0..n) that JSON text cannot hold raw (a control
 * byte other than tab, LF and CR: cJSON takes them for white space, and a
 * NUL ends its strings), or n. */
static inline size_t scandint_json_ctl(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && ((unsigned char)p[i] >= 0x20 || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

static inline uint64_t scandint_mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Inline: it runs several times per tuple, on keys of 13 to 56 bytes. */
static inline uint64_t scandint_hash(const void *p, size_t n, uint64_t seed)
{
    const uint8_t *b = p;
    const uint64_t k1 = 0xa0761d6478bd642fULL, k2 = 0xe7037ed1a0b428dbULL;
    uint64_t h = seed ^ k1 ^ (uint64_t)n;
    size_t len = n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = scandint_mix(h ^ w, k2);
        b += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t w = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (len >= 8) { /* the tail as the top of the last 8 bytes: no memcpy call */
            memcpy(&w, b + n - 8, 8);
            w >>= (8 - n) * 8;
        } else
#endif
            memcpy(&w, b, n);
        h = scandint_mix(h ^ w ^ ((uint64_t)n << 56), k2);
    }
    return scandint_mix(h, k1 ^ seed);
}

/* Combine two hashes (or a hash and a small value) into one. */
static inline uint64_t scandint_hash_pair(uint64_t a, uint64_t b)
{
    return scandint_mix(a ^ 0xa0761d6478bd642fULL, b ^ 0xe7037ed1a0b428dbULL);
}

/* Inline forms of scand_addr_is_v4/is_private for the per-tuple paths. */
static inline int scandint_is_v4(const uint8_t a[16])
{
    static const uint8_t prefix[4] = {0, 0, 0xff, 0xff};
    uint64_t w;
    uint32_t x, p;
    memcpy(&w, a, 8);
    memcpy(&x, a + 8, 4);
    memcpy(&p, prefix, 4); /* ::ffff:0:0/96, in memory order whatever the byte order */
    return (w | (uint64_t)(x ^ p)) == 0;
}

static inline int scandint_is_private(const uint8_t a[16])
{
    if (scandint_is_v4(a))
        return a[12] == 10 || (a[12] == 172 && (a[13] & 0xf0) == 16) ||
               (a[12] == 192 && a[13] == 168);
    return (a[0] & 0xfe) == 0xfc;
}

/* Insert address sample (ts, addr) into list[0..*n), kept as the
 * SCAND_SAMPLES earliest by (ts, address): an alert's samples do not
 * depend on table order or the hash seed. when[] holds the times. */
void scandint_add_sample(uint8_t (*list)[16], unsigned *n, int64_t *when, const uint8_t addr[16],
                         int64_t ts);

/* A tuple's text (tuple.c) at p, without a NUL; the new end. It writes
 * less than SCANDINT_TUPLE_MAX bytes from p, counting up to 7 bytes of
 * scratch past the end it returns (numbers go out as whole words); the
 * longest text, with IPv6 addresses and 20-digit counts, is 224. The blob
 * writer formats straight into its buffer. */
#define SCANDINT_TUPLE_MAX 256
char *scandint_tuple_put(char *p, const struct scand_tuple *t);

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

/* a + b for b >= 0, saturating at INT64_MAX (times are caller input: a
 * window's end may not wrap). */
static inline int64_t scandint_add_sat(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* a - b for b >= 0, saturating at INT64_MIN. */
static inline int64_t scandint_sub_sat(int64_t a, int64_t b)
{
    return a < INT64_MIN + b ? INT64_MIN : a - b;
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
    size_t esize, key_size, val_off, cap, mask, n;
    uint64_t seed;
    size_t peak;
};

/* Entries hold key_size bytes of key and val_size bytes of value (zeroed
 * on insert; scandint_ttab_val). */
int scandint_ttab_init(struct scandint_ttab *tt, size_t key_size, size_t val_size, uint64_t seed);
static inline void *scandint_ttab_val(const struct scandint_ttab *tt, struct scandint_tent *e)
{
    return (uint8_t *)e + tt->val_off;
}
/* Slot i (0 <= i < tt->cap) if it holds an entry, else NULL: for the rare
 * whole-table scans (an alert's samples). */
static inline struct scandint_tent *scandint_ttab_slot(const struct scandint_ttab *tt, size_t i)
{
    return tt->tags[i] ? (struct scandint_tent *)(void *)(tt->slots + i * tt->esize) : NULL;
}
void scandint_ttab_fini(struct scandint_ttab *tt);
/* Find key; if absent insert it with t and flags 0 (*is_new = 1). Entries with
 * t < horizon may be dropped first. Returns the entry, or NULL on NOMEM. */
struct scandint_tent *scandint_ttab_get(struct scandint_ttab *tt, const void *key,
                                        int64_t horizon, int *is_new);
/* Remove entry e (from a get on tt), now: later entries of its probe run
 * move back, so entry pointers into tt are stale afterwards. */
void scandint_ttab_del(struct scandint_ttab *tt, struct scandint_tent *e);
/* The same in two steps, so a batch can hash and prefetch ahead: the key's
 * tag, a prefetch of its home slot, and the lookup with a known tag. */
static inline uint32_t scandint_ttab_tag(const struct scandint_ttab *tt, const void *key)
{
    uint32_t h = (uint32_t)scandint_hash(key, tt->key_size, tt->seed);
    return h ? h : 1;
}

static inline void scandint_ttab_prefetch(const struct scandint_ttab *tt, uint32_t tag)
{
    size_t i = tag & tt->mask;
    __builtin_prefetch(&tt->tags[i]);
    __builtin_prefetch(tt->slots + i * tt->esize);
    __builtin_prefetch(tt->slots + i * tt->esize + tt->esize - 1); /* entries may straddle lines */
}
/* (The insert half of scandint_ttab_get_tag(): empty slot i ends key's probe.) */
struct scandint_tent *scandint_ttab_insert(struct scandint_ttab *tt, const void *key,
                                           uint32_t tag, int64_t horizon, size_t i);

/* Key equality, 8 bytes at a time, inlined: a call to memcmp per probe
 * hit was a tenth of the sliding rules' time. Keys are at least 8 bytes
 * (scandint_ttab_init), so the tail is one overlapping load. */
static inline int scandint_ttab_key_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y)
            return 0;
    }
    if (i < n) {
        uint64_t x, y;
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    return 1;
}

/* The entry of key (tag h), or NULL: a lookup that never inserts. */
static inline struct scandint_tent *scandint_ttab_find(const struct scandint_ttab *tt,
                                                       const void *key, uint32_t h)
{
    for (size_t i = h & tt->mask;; i = (i + 1) & tt->mask) {
        uint32_t tag = tt->tags[i];
        if (tag == 0)
            return NULL;
        if (tag == h) {
            struct scandint_tent *e = (struct scandint_tent *)(void *)(tt->slots + i * tt->esize);
            if (scandint_ttab_key_eq(e->key, key, tt->key_size))
                return e;
        }
    }
}

/* Inline: the probe runs for every tuple in the flow table and several
 * times per flow in the rules; the insert is out of line. */
static inline struct scandint_tent *scandint_ttab_get_tag(struct scandint_ttab *tt,
                                                          const void *key, uint32_t h,
                                                          int64_t horizon, int *is_new)
{
    size_t i = h & tt->mask;
    for (;; i = (i + 1) & tt->mask) {
        uint32_t tag = tt->tags[i];
        if (tag == 0)
            break;
        if (tag == h) {
            struct scandint_tent *e = (struct scandint_tent *)(void *)(tt->slots + i * tt->esize);
            if (scandint_ttab_key_eq(e->key, key, tt->key_size)) {
                *is_new = 0;
                return e;
            }
        }
    }
    *is_new = 1;
    return scandint_ttab_insert(tt, key, h, horizon, i);
}

/*
 * The IPv4 flow table (ftab.c): open addressing over 32-byte entries with
 * the key inline. k0 holds the two addresses, k1 the ports, protocol and
 * direction, the entry's flags (bits 48-55, the owner's), its distance
 * from its home slot (bits 56-62, saturating: a deletion moves entries
 * back without hashing them again) and bit 63 set (k1 == 0 marks an empty
 * slot). Flags and distance are not part of the key. v is the owner's 8
 * bytes.
 */
#define SCANDINT_FK1_FLAGS (0xffULL << 48)
#define SCANDINT_FK1_DIST_SHIFT 56
#define SCANDINT_FK1_DIST_MAX 127u /* also the field's mask: 7 bits */
#define SCANDINT_FK1_META (0x7fffULL << 48) /* flags and distance */
#define SCANDINT_FK1_USED (1ULL << 63)

struct scandint_fent {
    uint64_t k0, k1;
    int64_t t;
    uint8_t v[8];
};

struct scandint_ftab {
    struct scandint_fent *e;
    size_t cap, mask, n;
    uint64_t s0, s1; /* the hash's keys, from the seed */
};

int scandint_ftab_init(struct scandint_ftab *ft, uint64_t seed);
void scandint_ftab_fini(struct scandint_ftab *ft);

/* The hash of key (k0, k1), k1 without flags. */
static inline uint64_t scandint_ftab_hash(const struct scandint_ftab *ft, uint64_t k0, uint64_t k1)
{
    return scandint_mix(k0 ^ ft->s0, k1 ^ ft->s1);
}

static inline void scandint_ftab_prefetch(const struct scandint_ftab *ft, uint64_t h)
{
    __builtin_prefetch(&ft->e[h & ft->mask]);
}

/* Key word k1 with distance d from its home slot. */
static inline uint64_t scandint_ftab_with_dist(uint64_t k1, size_t d)
{
    uint64_t dist = d < SCANDINT_FK1_DIST_MAX ? d : SCANDINT_FK1_DIST_MAX;
    return (k1 & ~((uint64_t)SCANDINT_FK1_DIST_MAX << SCANDINT_FK1_DIST_SHIFT)) |
           dist << SCANDINT_FK1_DIST_SHIFT;
}

/* Put key (k0, k1), hash h, in empty slot i: t 0, flags 0, a zero value. */
static inline struct scandint_fent *scandint_ftab_put(struct scandint_ftab *ft, uint64_t k0,
                                                      uint64_t k1, uint64_t h, size_t i)
{
    struct scandint_fent *e = &ft->e[i];
    e->k0 = k0;
    e->k1 = scandint_ftab_with_dist(k1, (i - h) & ft->mask);
    e->t = 0;
    memset(&e->v, 0, sizeof e->v);
    ft->n++;
    return e;
}

/* (The insert of scandint_ftab_get() when the table is full: drop the
 * entries older than newest - idle, resize, then put.) */
struct scandint_fent *scandint_ftab_insert_full(struct scandint_ftab *ft, uint64_t k0, uint64_t k1,
                                                uint64_t h, int64_t newest, int64_t idle);

/* Find key (k0, k1) with hash h; if absent insert it with t 0, flags 0 and
 * a zero value (*is_new = 1), after dropping entries older than newest -
 * idle if the table is full (the horizon is worked out only then). NULL
 * on NOMEM. */
static inline struct scandint_fent *scandint_ftab_get(struct scandint_ftab *ft, uint64_t k0,
                                                      uint64_t k1, uint64_t h, int64_t newest,
                                                      int64_t idle, int *is_new)
{
    size_t i = h & ft->mask;
    for (;; i = (i + 1) & ft->mask) {
        struct scandint_fent *e = &ft->e[i];
        if (e->k1 == 0)
            break;
        if (e->k0 == k0 && (e->k1 & ~SCANDINT_FK1_META) == k1) {
            *is_new = 0;
            return e;
        }
    }
    *is_new = 1;
    if ((ft->n + 1) * 2 > ft->cap)
        return scandint_ftab_insert_full(ft, k0, k1, h, newest, idle);
    return scandint_ftab_put(ft, k0, k1, h, i);
}

/* Remove entry e now; later entries of its run move back. */
void scandint_ftab_del(struct scandint_ftab *ft, struct scandint_fent *e);

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

#define SCANDINT_MAX_RULES 16
#define SCANDINT_MAX_RANGES 16
#define SCANDINT_MAX_CIDRS 16

/* A port set: ranges, or all. text is what was given (printed back). */
struct scandint_ports {
    uint16_t lo[SCANDINT_MAX_RANGES], hi[SCANDINT_MAX_RANGES];
    int n, all;
    char text[128];
};

static inline int scandint_ports_has(const struct scandint_ports *p, unsigned port)
{
    if (p->all)
        return 1;
    for (int i = 0; i < p->n; i++)
        if (port >= p->lo[i] && port <= p->hi[i])
            return 1;
    return 0;
}

/* A list of prefixes; text is what was given (printed back). */
struct scandint_cidrs {
    struct scand_cidr c[SCANDINT_MAX_CIDRS];
    int n;
    char text[256];
};

int scandint_cidrs_has(const struct scandint_cidrs *c, const uint8_t a[16]);

enum { SCANDINT_SCOPE_ANY, SCANDINT_SCOPE_PRIVATE, SCANDINT_SCOPE_PUBLIC };
enum { SCANDINT_RDIR_ANY, SCANDINT_RDIR_IN, SCANDINT_RDIR_OUT };
enum { SCANDINT_COUNT_ALL, SCANDINT_COUNT_FAILURES };
/* What a counting rule's count is per. */
enum { SCANDINT_KEY_SRC, SCANDINT_KEY_SRC_DST, SCANDINT_KEY_SRC_PORT, SCANDINT_KEY_DST,
       SCANDINT_KEY_PORT };

/* One rule instance; keys "<name>.<param>" in config.c. */
struct scandint_rule_cfg {
    char name[32];
    int family; /* enum scand_family */
    int enabled;
    uint64_t threshold; /* alert when the distinct count > threshold */
    int64_t window_ms;
    int sliding; /* 0 tumbling (KQL bin()), 1 sliding */
    int key;     /* SCANDINT_KEY_* */
    int count;   /* SCANDINT_COUNT_* */
    uint64_t proto; /* IANA protocol, 0 = any */
    struct scandint_ports ports, exclude_ports;
    int src_scope, dst_scope; /* SCANDINT_SCOPE_* */
    int direction;            /* SCANDINT_RDIR_* */
    struct scandint_cidrs allow_src, allow_dst;
    uint64_t min_hosts, min_ports; /* block; distributed: min_hosts targets */
    double theta0, theta1, alpha, beta; /* TRW */
    int64_t idle_ms;                    /* TRW state expiry */
    int severity;                       /* 1 low, 2 medium, 3 high */
    uint32_t reach_max; /* scand_set_sweep()'s max_threshold + 1, 0 = no sweep; not a key */
};

struct scandint_cfg {
    int64_t reorder_ms;   /* tolerated lateness before a window closes */
    int64_t flow_idle_ms; /* a 5-tuple unseen this long starts a new flow */
    uint64_t hash_seed;
    int suppress_platform;
    int64_t hold_down_ms;
    char preset[32];
    size_t n_rules;
    struct scandint_rule_cfg rule[SCANDINT_MAX_RULES];
};

void scandint_cfg_defaults(struct scandint_cfg *cfg);
int scandint_cfg_set(struct scandint_cfg *cfg, const char *key, const char *value, char *err);
int scandint_cfg_get(const struct scandint_cfg *cfg, const char *key, char *buf, size_t size);
/* The keys checked against each other (flow_idle at least reorder). */
int scandint_cfg_check(const struct scandint_cfg *cfg, char *err);
int scandint_cfg_key(const struct scandint_cfg *cfg, size_t i, char *key, size_t size,
                     const struct scand_config_info **info);
struct scandint_rule_cfg *scandint_cfg_rule(struct scandint_cfg *cfg, const char *name, size_t n);
void scandint_rule_defaults(struct scandint_rule_cfg *r, const char *name, int family);
const char *scandint_family_name(int family);
const char *scandint_severity_name(int severity);

/* ctx's error buffer (SCAND_ERRBUF_SIZE bytes), for config_json.c. */
char *scandint_ctx_errbuf(scand_ctx *ctx);
/* Where a configuration file set the later of reorder and flow_idle
 * ("FILE:LINE: KEY: ", *size bytes at most), for config_json.c. */
char *scandint_ctx_pair_where(scand_ctx *ctx, size_t *size);

/* Presets (preset.c): replace cfg's rules with a published rule set. */
int scandint_preset_apply(struct scandint_cfg *cfg, const char *name, char *err);

/* A flow as the rules see it: its first tuple, when it started, and for an
 * ended flow whether it failed (D; B/E with nothing back; one packet each
 * way without payload). */
enum { SCANDINT_EV_START, SCANDINT_EV_END };

struct scandint_flow {
    const struct scand_tuple *t; /* the tuple that started or ended it */
    int64_t start;               /* its start (FlowStartTime) */
    int kind;                    /* SCANDINT_EV_* */
    int failed;                  /* EV_END: 1 failure, 0 success */
    uint64_t hsrc, hdst;         /* scandint_hash of the addresses */
    uint32_t tag[2];             /* the rule's table tags, set by its prefetch */
};

/* What a rule dimension counts: destinations, destination ports, sources,
 * or (destination, port) pairs. */
enum { SCANDINT_V_DST, SCANDINT_V_DPORT, SCANDINT_V_SRC, SCANDINT_V_PAIR };

/* The parts of tuple t's rule key (SCANDINT_KEY_*): the source as a, the
 * destination as b, the destination port (zero where the key has none). */
static inline void scandint_key_parts(int key, const struct scand_tuple *t, uint8_t a[16],
                                      uint8_t b[16], uint16_t *port)
{
    int src = key != SCANDINT_KEY_DST && key != SCANDINT_KEY_PORT; /* SRC, SRC_DST, SRC_PORT */
    int dst = key == SCANDINT_KEY_SRC_DST || key == SCANDINT_KEY_DST;
    if (src)
        memcpy(a, t->src, 16);
    else
        memset(a, 0, 16);
    if (dst)
        memcpy(b, t->dst, 16);
    else
        memset(b, 0, 16);
    *port = key == SCANDINT_KEY_SRC_PORT || key == SCANDINT_KEY_PORT ? t->dport : 0;
}

/* The bytes of tuple t's value of dimension kind: an address, then the
 * destination port, big-endian (zero where the kind has none). */
static inline void scandint_val_bytes(int kind, const struct scand_tuple *t, uint8_t v[18])
{
    memset(v, 0, 18);
    if (kind == SCANDINT_V_DST || kind == SCANDINT_V_PAIR)
        memcpy(v, t->dst, 16);
    else if (kind == SCANDINT_V_SRC)
        memcpy(v, t->src, 16);
    if (kind == SCANDINT_V_DPORT || kind == SCANDINT_V_PAIR) {
        v[16] = (uint8_t)(t->dport >> 8);
        v[17] = (uint8_t)t->dport;
    }
}

/* A table tag from a hash: its low 32 bits, never 0 (0 marks empty). */
static inline uint32_t scandint_tag32(uint64_t h)
{
    uint32_t t = (uint32_t)h;
    return t ? t : 1;
}

/* The hash of flow f's rule key (SCANDINT_KEY_*) and of its value of
 * dimension kind (SCANDINT_V_*), from the address hashes f carries: no
 * rule hashes key bytes of its own. */
static inline uint64_t scandint_key_hash(int key, const struct scandint_flow *f)
{
    switch (key) {
    case SCANDINT_KEY_SRC_DST:
        return scandint_hash_pair(f->hsrc, f->hdst);
    case SCANDINT_KEY_SRC_PORT:
        return scandint_hash_pair(f->hsrc, f->t->dport);
    case SCANDINT_KEY_DST:
        return scandint_hash_pair(f->hdst, 0x5ca1ab1e);
    case SCANDINT_KEY_PORT:
        return scandint_hash_pair(f->t->dport, 0x0badcafe);
    default:
        return f->hsrc;
    }
}

static inline uint64_t scandint_val_hash(int kind, const struct scandint_flow *f)
{
    switch (kind) {
    case SCANDINT_V_DST:
        return f->hdst;
    case SCANDINT_V_SRC:
        return f->hsrc;
    case SCANDINT_V_PAIR:
        return scandint_hash_pair(f->hdst, f->t->dport);
    default:
        return f->t->dport;
    }
}

/* The tag of member (key hash kh, dimension d, value) in a rule's table. */
static inline uint32_t scandint_mem_tag(uint64_t kh, int d, int kind, const struct scandint_flow *f)
{
    uint64_t v = scandint_val_hash(kind, f);
    return scandint_tag32(scandint_hash_pair(kh, d > 0 ? v ^ ((uint64_t)d << 56) : v));
}

/* Distinct-count engine (rule_dcount.c): dcount(value) by key, bin(start,
 * W) > T, for the horizontal, vertical, block and distributed families. */
struct scandint_dcount;
struct scandint_dcount *scandint_dcount_new(const struct scandint_rule_cfg *cfg);
void scandint_dcount_free(struct scandint_dcount *dc);
/* Count flow f (already filtered, f->tag set by scandint_dcount_prefetch).
 * Returns 1 counted, 2 late (its window closed), SCAND_ERR_NOMEM. */
int scandint_dcount_add(struct scandint_dcount *dc, const struct scandint_flow *f);
/* Hash flow f's key and first member into f->tag and prefetch the slots
 * scandint_dcount_add(f) will touch first. */
void scandint_dcount_prefetch(struct scandint_dcount *dc, struct scandint_flow *f);
/* Close every bin ending at or before wm; alerts go to emit. Returns
 * SCAND_OK, SCAND_ERR_NOMEM, or SCAND_ERR_STATE if emit asked to stop. */
typedef int (*scandint_emit_fn)(void *arg, struct scand_alert *a);
int scandint_dcount_close(struct scandint_dcount *dc, int64_t wm, scandint_emit_fn emit,
                          void *arg, uint64_t *n_bins);
uint64_t scandint_dcount_peak_keys(const struct scandint_dcount *dc);

/* The same families over a sliding window (rule_sliding.c; f->tag set by
 * scandint_sliding_prefetch): each flow counts as it comes (for a window
 * shorter than reorder_ms, after waiting until the newest start is
 * reorder_ms - window past its own, in start order), and an alert is
 * emitted when the count over the last window passes the rule. Returns 1
 * counted (or waiting to), 2 late, SCAND_ERR_NOMEM, or SCAND_ERR_STATE if
 * emit asked to stop. */
struct scandint_sliding;
struct scandint_sliding *scandint_sliding_new(const struct scandint_rule_cfg *cfg, uint64_t seed,
                                              int64_t reorder_ms);
void scandint_sliding_free(struct scandint_sliding *s);
int scandint_sliding_add(struct scandint_sliding *s, const struct scandint_flow *f,
                         scandint_emit_fn emit, void *arg);
/* The context's watermark (newest start - reorder) passed wm: count the
 * held flows it lets go (a rule whose own flows stopped coming; at flush,
 * wm INT64_MAX, every flow still held). */
int scandint_sliding_advance(struct scandint_sliding *s, int64_t wm, scandint_emit_fn emit,
                             void *arg);
uint64_t scandint_sliding_peak_keys(const struct scandint_sliding *s);
/* Hash flow f's key and first member into f->tag and prefetch their slots. */
void scandint_sliding_prefetch(const struct scandint_sliding *s, struct scandint_flow *f);

/* Threshold Random Walk (rule_trw.c; f->tag set by scandint_trw_prefetch):
 * per source, the outcomes of first contacts (ended flows) walk a
 * log-likelihood ratio to a verdict; an alert at the scanner verdict.
 * Returns 1, SCAND_ERR_NOMEM or SCAND_ERR_STATE. */
struct scandint_trw;
struct scandint_trw *scandint_trw_new(const struct scandint_rule_cfg *cfg, uint64_t seed);
void scandint_trw_free(struct scandint_trw *w);
int scandint_trw_add(struct scandint_trw *w, const struct scandint_flow *f, scandint_emit_fn emit,
                     void *arg);
uint64_t scandint_trw_peak_keys(const struct scandint_trw *w);
/* Hash flow f's (source, destination) pair and source into f->tag and
 * prefetch their slots. */
void scandint_trw_prefetch(const struct scandint_trw *w, struct scandint_flow *f);
/* The walk of src now (0 for a source not seen); white-box tests. */
double scandint_trw_llr(struct scandint_trw *w, const uint8_t src[16]);

#endif /* SCANLAB_DETECTOR_SCAND_INT_H */
