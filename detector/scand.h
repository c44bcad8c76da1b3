/*
 * scand.h - the one public header of libscand, ScanLab's scan detector.
 *
 * libscand turns Azure flow-log tuples into scan alerts. It holds the compact
 * tuple record, the string intern table, the streaming flow-log reader (VNet
 * v4, NSG v1/v2), the VNet v4 blob writer, the duplicate filter and the
 * detector context with its rules.
 *
 * The library never opens files, reads argv or the environment, looks at the
 * wall clock, prints, or exits: bytes come in through a caller's read
 * callback, go out through a caller's write callback, and diagnostics and
 * alerts are handed to callbacks.
 *
 * Conventions for the whole API:
 * - Functions returning int return SCAND_OK (0) or a negative enum scand_err.
 *   A failed call leaves the object as it was, and its handle keeps a message
 *   for the matching *_geterr() call.
 * - Constructors return NULL on failure and, when errbuf is not NULL, fill it
 *   with a message of at most SCAND_ERRBUF_SIZE bytes.
 * - Pointer arguments are borrowed for the duration of the call unless the
 *   comment says otherwise. Pointers returned by the library are borrowed and
 *   stay valid until the next call on the same handle or until it is freed.
 *   Whoever calls x_new calls x_free; x_free(NULL) is a no-op.
 * - Handles are not thread safe; distinct handles may be used from distinct
 *   threads at once. scand_set_allocator() is process-wide: call it before
 *   creating any handle.
 */
#ifndef SCANLAB_DETECTOR_SCAND_H
#define SCANLAB_DETECTOR_SCAND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SCAND_ERRBUF_SIZE 256

/* Error codes: 0 is success, negatives are errors. */
enum scand_err {
    SCAND_OK = 0,
    SCAND_ERR_NOMEM = -1, /* an allocation failed */
    SCAND_ERR_INVAL = -2, /* bad argument, unknown key, malformed input */
    SCAND_ERR_RANGE = -3, /* value out of range */
    SCAND_ERR_STATE = -4, /* call not allowed in this state */
    SCAND_ERR_IO = -5,    /* the read or write callback failed */
    SCAND_ERR_FORMAT = -6 /* input is not a flow log at all */
};

/* Return a static description of a scand_err code. */
const char *scand_strerror(int err);

/*
 * Replace the allocator used by the whole library (for tests that fail the
 * Nth allocation). Any argument NULL restores the C library's. Not thread
 * safe; call before creating any handle, and free every handle made with one
 * allocator before switching to another.
 */
void scand_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                         void (*free_fn)(void *));

/* ---------------------------------------------------------------------- */
/* The tuple record (DESIGN.md section 3)                                 */
/* ---------------------------------------------------------------------- */

enum scand_state { SCAND_ST_B = 1, SCAND_ST_C = 2, SCAND_ST_E = 3, SCAND_ST_D = 4 };
enum scand_dir { SCAND_DIR_IN = 1, SCAND_DIR_OUT = 2 };
/* Flow encryption, VNet v4 field 9. UNKNOWN is for NSG logs, which have none. */
enum scand_enc {
    SCAND_ENC_UNKNOWN = 0,
    SCAND_ENC_X,
    SCAND_ENC_NX,
    SCAND_ENC_NX_HW_NOT_SUPPORTED,
    SCAND_ENC_NX_SW_NOT_READY,
    SCAND_ENC_NX_NOT_ACCEPTED,
    SCAND_ENC_NX_NOT_SUPPORTED,
    SCAND_ENC_NX_LOCAL_DST,
    SCAND_ENC_NX_FALLBACK,
    SCAND_ENC_COUNT
};

#define SCAND_TF_V6 0x01      /* both addresses are IPv6 (else IPv4-mapped) */
#define SCAND_TF_NOCOUNT 0x02 /* the counters were empty (",,,,") in the input */
#define SCAND_TF_TS_SEC 0x04  /* the input timestamp was in seconds */
#define SCAND_TF_ALL 0x07     /* every flag above */

/*
 * One flow-log tuple. Fixed size, no pointers: strings (MAC, aclID and rule)
 * are indices into a scand_strtab. Addresses are 16 bytes, IPv4 stored
 * IPv4-mapped (::ffff:a.b.c.d) so one comparison serves both families.
 */
struct scand_tuple {
    int64_t ts_ms;      /* flow timestamp, epoch milliseconds */
    uint8_t src[16];    /* source address (network order) */
    uint8_t dst[16];    /* destination address */
    uint64_t pkts_s2d;  /* packets source to destination since last tuple */
    uint64_t bytes_s2d; /* bytes source to destination since last tuple */
    uint64_t pkts_d2s;  /* packets destination to source */
    uint64_t bytes_d2s; /* bytes destination to source */
    uint16_t sport;
    uint16_t dport;
    uint8_t proto;    /* IANA protocol number */
    uint8_t dir;      /* enum scand_dir */
    uint8_t state;    /* enum scand_state */
    uint8_t enc;      /* enum scand_enc */
    uint32_t mac;     /* strtab index of the NIC MAC (12 hex digits) */
    uint32_t group;   /* strtab index of the flow group, see scand_group_split() */
    uint32_t campaign; /* ground-truth campaign id, 0 = benign or unknown */
    uint8_t flags;    /* SCAND_TF_* */
    uint8_t pad[3];
};

/* ---------------------------------------------------------------------- */
/* Addresses                                                              */
/* ---------------------------------------------------------------------- */

/*
 * Parse an IPv4 dotted quad or an IPv6 address of len bytes (not
 * NUL-terminated) into out (IPv4 becomes IPv4-mapped). *is_v6 is set to 1 for
 * IPv6. Returns SCAND_OK or SCAND_ERR_INVAL.
 */
int scand_addr_parse(const char *s, size_t len, uint8_t out[16], int *is_v6);

/* Format an address into buf (at least 46 bytes: INET6_ADDRSTRLEN). Returns
 * the length written. IPv4-mapped addresses print as dotted quads. */
size_t scand_addr_format(const uint8_t a[16], char *buf, size_t size);

/* Return 1 if a is private: RFC 1918 for IPv4 (as KQL ipv4_is_private()),
 * unique-local fc00::/7 (RFC 4193) for IPv6. */
int scand_addr_is_private(const uint8_t a[16]);

/* Return 1 if a is IPv4-mapped. */
int scand_addr_is_v4(const uint8_t a[16]);

/* An address prefix. IPv4 is held IPv4-mapped, so len counts over the
 * 128-bit form (10.0.0.0/8 has len 104); net has its host bits clear. An
 * IPv6 prefix matches IPv6 addresses only: ::/0 is not every IPv4 address
 * too. A zeroed one (len 0, v6 0) matches every address. */
struct scand_cidr {
    uint8_t net[16];
    uint8_t len;
    uint8_t v6;
};

/* Parse "ADDR" or "ADDR/LEN" of n bytes (not NUL-terminated): LEN plain
 * digits (no sign or space), at most 32 for IPv4 and 128 for IPv6.
 * Returns SCAND_OK or SCAND_ERR_INVAL. */
int scand_cidr_parse(const char *s, size_t n, struct scand_cidr *c);

/* Return 1 if address a lies in prefix c. */
int scand_cidr_has(const struct scand_cidr *c, const uint8_t a[16]);

/* The IPv4-mapped address of v4 (host order, 10.0.0.1 = 0x0a000001), and
 * back: the IPv4 address in the last four bytes of a. */
void scand_addr_from_v4(uint32_t v4, uint8_t out[16]);
uint32_t scand_addr_v4(const uint8_t a[16]);

/* ---------------------------------------------------------------------- */
/* String intern table                                                    */
/* ---------------------------------------------------------------------- */

typedef struct scand_strtab scand_strtab;

/* New table; index 0 is always the empty string. */
scand_strtab *scand_strtab_new(void);
void scand_strtab_free(scand_strtab *st);
/* Intern len bytes at s (may contain NUL); store the index in *idx. Returns
 * SCAND_OK or SCAND_ERR_NOMEM (table unchanged). */
int scand_strtab_intern(scand_strtab *st, const char *s, size_t len, uint32_t *idx);
/* Return the bytes of idx (NUL-terminated, valid until the table is freed)
 * and their length in *len if len is not NULL; NULL if idx is unknown. */
const char *scand_strtab_get(const scand_strtab *st, uint32_t idx, size_t *len);
/* Number of strings held, including the empty string. */
uint32_t scand_strtab_count(const scand_strtab *st);

/*
 * A tuple's group is the pair (aclID, rule), interned as aclID NUL rule.
 * scand_group_intern() makes one; scand_group_split() returns the two halves
 * (borrowed from the table). Returns SCAND_OK or a negative error.
 */
int scand_group_intern(scand_strtab *st, const char *acl, size_t acl_len, const char *rule,
                       size_t rule_len, uint32_t *idx);
int scand_group_split(const scand_strtab *st, uint32_t idx, const char **acl, const char **rule);

/* ---------------------------------------------------------------------- */
/* Tuple text                                                             */
/* ---------------------------------------------------------------------- */

enum scand_fmt { SCAND_FMT_UNKNOWN = 0, SCAND_FMT_VNET4 = 4, SCAND_FMT_NSG1 = 1, SCAND_FMT_NSG2 = 2 };

/*
 * Parse one flowTuple string of len bytes in format fmt into *t (mac, group
 * and campaign are left as they were). On error return SCAND_ERR_INVAL and
 * point *why at a static reason ("wrong field count: 12 (want 13)" style
 * reasons are built in why_buf, which must hold at least 96 bytes).
 * VNet v4: 13 fields, ts in ms (13+ digits) or s (10 digits), IANA proto,
 * state B|C|E|D, encryption X|NX|NX_*. Counters "0,0,0,0" or ",,,,".
 * NSG v2: 13 fields, ts in s, T|U, I|O, A|D, B|C|E; a D decision becomes state D.
 * NSG v1: 8 fields; A becomes B (a flow seen), D stays D; no counters.
 */
int scand_tuple_parse(const char *s, size_t len, enum scand_fmt fmt, struct scand_tuple *t,
                      char *why_buf, size_t why_size);

/* Format t as a VNet v4 flowTuple into buf; returns the length, or the length
 * needed if it would not fit (snprintf rules). */
size_t scand_tuple_format(const struct scand_tuple *t, char *buf, size_t size);

/* Static names: "B" for SCAND_ST_B, "I" for SCAND_DIR_IN, "NX" for SCAND_ENC_NX
 * ("" for UNKNOWN). */
const char *scand_state_name(int state);
const char *scand_dir_name(int dir);
const char *scand_enc_name(int enc);

/* ---------------------------------------------------------------------- */
/* Streaming flow-log reader                                              */
/* ---------------------------------------------------------------------- */

/* Read up to len bytes into buf: return the count, 0 at end of input, -1 on
 * error with errno set. */
typedef ssize_t (*scand_read_fn)(void *arg, void *buf, size_t len);

/* A diagnostic about the input: a skipped tuple or record, a cut blob. */
enum scand_diag_kind {
    SCAND_DIAG_TUPLE_SKIPPED = 1, /* a malformed tuple was skipped */
    SCAND_DIAG_RECORD_SKIPPED,    /* a malformed or unknown record was skipped */
    SCAND_DIAG_CUT,               /* input ended inside a record (partial blob) */
    SCAND_DIAG_UNCLOSED,          /* input ended after a record, without "]}" */
    SCAND_DIAG_NOTE               /* anything else worth saying */
};

struct scand_diag {
    int kind;             /* enum scand_diag_kind */
    const char *source;   /* the name given to scand_reader_new() */
    int64_t record;       /* 0-based record index, -1 if none */
    int64_t tuple;        /* 0-based tuple index in the record, -1 if none */
    uint64_t line, col;   /* 1-based position of the record (or of the cut) */
    const char *reason;   /* what is wrong */
};

typedef void (*scand_diag_fn)(void *arg, const struct scand_diag *d);

/* One record of a flow log. */
struct scand_record {
    int64_t time_ms;   /* the record's "time" (epoch ms; 7-digit fraction truncated) */
    int64_t index;     /* 0-based record index in the input */
    int fmt;           /* enum scand_fmt of the record */
    uint64_t line;     /* line where the record starts */
    size_t n_tuples;   /* valid tuples */
    const struct scand_tuple *tuples; /* sorted by ts_ms, then input order;
                                         borrowed until the next call */
};

struct scand_reader_stats {
    uint64_t bytes;           /* bytes consumed */
    uint64_t records;         /* records read (including ones with skipped tuples) */
    uint64_t records_skipped; /* records skipped as malformed or unknown */
    uint64_t tuples;          /* valid tuples returned */
    uint64_t tuples_skipped;  /* malformed tuples skipped */
    uint64_t ts_seconds;      /* tuples whose timestamp was in seconds */
    uint64_t cut;             /* 1 if the input ended inside a record */
    uint64_t unclosed;        /* 1 if the input ended without its closing "]}" */
};

typedef struct scand_reader scand_reader;

/*
 * New reader over the byte stream read by fn(arg, ...). name is copied and
 * used in diagnostics. Strings go to st (borrowed; must outlive the reader).
 * Accepts {"records":[...]} blobs (including ones still being appended to:
 * leading commas, no closing "]}"), a bare record object, and several such
 * JSON values one after another. Memory is bounded by the largest record.
 */
scand_reader *scand_reader_new(const char *name, scand_read_fn fn, void *arg, scand_strtab *st,
                               char *errbuf);
void scand_reader_free(scand_reader *r);
void scand_reader_set_diag(scand_reader *r, scand_diag_fn fn, void *arg);

/*
 * Read the next record into *rec. Returns 1 for a record, 0 at the end of the
 * input, or a negative error: SCAND_ERR_FORMAT when the input is not a flow
 * log (message with line:col in scand_reader_geterr()), SCAND_ERR_IO when fn
 * failed, SCAND_ERR_NOMEM. After an error the reader returns the same error.
 */
int scand_reader_next(scand_reader *r, struct scand_record *rec);
const char *scand_reader_geterr(const scand_reader *r);
void scand_reader_stats(const scand_reader *r, struct scand_reader_stats *out);

/* ---------------------------------------------------------------------- */
/* VNet v4 blob writer                                                    */
/* ---------------------------------------------------------------------- */

/* Write len bytes; return 0 on success, -1 on error with errno set. */
typedef int (*scand_write_fn)(void *arg, const void *buf, size_t len);

/* Identity of one NIC's flow log. Strings are borrowed. */
struct scand_blob_meta {
    const char *mac;               /* 12 hex digits, no separators */
    const char *flow_log_guid;     /* flowLogGUID */
    const char *flow_log_resource; /* flowLogResourceID ("/SUBSCRIPTIONS/...") */
    const char *target_resource;   /* targetResourceID */
};

/*
 * Write one PT1H.json blob: tuples t[0..n) of one NIC, sorted by ts_ms. They
 * are grouped into one record per minute (record time = end of the minute,
 * so the blob holds records whose time falls in one hour when the tuples are
 * bucketed with scand_blob_hour()), and within a record into flows by aclID
 * then flowGroups by rule, both in order of first appearance. The output is
 * a pure function of the arguments. Returns SCAND_OK, SCAND_ERR_IO (fn
 * failed), SCAND_ERR_INVAL (unsorted input) or SCAND_ERR_NOMEM.
 */
int scand_blob_write(const struct scand_blob_meta *meta, const struct scand_tuple *t, size_t n,
                     const scand_strtab *st, scand_write_fn fn, void *arg);

/* Return the start (epoch ms) of the hour whose blob holds a tuple at ts_ms:
 * the hour of its record time (end of the tuple's minute). */
int64_t scand_blob_hour(int64_t ts_ms);

/*
 * Format the blob path of a NIC-hour relative to the output root:
 * insights-logs-flowlogflowevent/flowLogResourceID=<res>/y=YYYY/m=MM/d=DD/
 * h=HH/m=00/macAddress=<MAC>/PT1H.json. Returns the length (snprintf rules).
 */
size_t scand_blob_path(const struct scand_blob_meta *meta, int64_t hour_ms, char *buf,
                       size_t size);

/* Parse an ISO-8601 UTC time "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" (Azure writes
 * 7 fraction digits) into epoch ms, the fraction truncated to ms. Returns
 * SCAND_OK or SCAND_ERR_INVAL. */
int scand_time_parse(const char *s, int64_t *ms);
/* A duration as configuration keys take it: digits and a unit ms, s, m, h
 * or d (none: seconds). SCAND_OK or SCAND_ERR_INVAL. */
int scand_duration_parse(const char *s, uint64_t *ms);

/* The 1-based line where a cJSON node (node, within the tree root parsed
 * from text) begins, or 0 if it cannot be found. The pointers are cJSON *;
 * void here so that this header needs no cJSON. */
long scand_json_line(const char *text, size_t len, const void *root, const void *node);
/* The first member of cJSON object obj whose key an earlier member has, or
 * NULL (JSON leaves it open which of the two counts: our readers take
 * neither). */
const void *scand_json_dup_key(const void *obj);
/* Parse text[0..len) as one whole JSON document (a scenario, --config,
 * --policy or truth file): a cJSON * the caller frees with cJSON_Delete,
 * or NULL with "NAME:LINE: why" in err. Refused: invalid JSON, text after
 * the document (what says what the document is, e.g. "the JSON document"),
 * a control byte other than tab, LF or CR (a NUL would end a cJSON string),
 * and a \u0000 escape. */
void *scand_json_parse_doc(const char *name, const char *text, size_t len, const char *what,
                           char *err, size_t errsize);
/* "NAME:LINE: PATH: MSG" into err, the line of node (1 when node is NULL or
 * cannot be found): the one shape of every JSON file error (scenarios,
 * --config files, truth files). msg may point into err. */
void scand_json_error(char *err, size_t errsize, const char *name, const char *text, size_t len,
                      const void *root, const void *node, const char *path, const char *msg);

/* Format epoch ms as Azure's record time "YYYY-MM-DDTHH:MM:SS.fffffffZ". */
size_t scand_time_format(int64_t ms, char *buf, size_t size);

/* ---------------------------------------------------------------------- */
/* Duplicate filter                                                       */
/* ---------------------------------------------------------------------- */

typedef struct scand_dedup scand_dedup;

/*
 * Exact-duplicate detector: a tuple is a duplicate of an earlier one when all
 * its fields (including MAC and group, excluding campaign) are equal; since a
 * duplicate has the same timestamp, only tuples within window_ms of the
 * newest timestamp seen are remembered (a keyed 64-bit hash of the fields
 * and the timestamp, in a table expired by record time). Memory is bounded
 * by the tuples of about one window.
 */
scand_dedup *scand_dedup_new(int64_t window_ms, uint64_t seed);
void scand_dedup_free(scand_dedup *d);
/* Return 1 if t duplicates a remembered tuple, 0 if new (now remembered), or
 * SCAND_ERR_NOMEM. */
int scand_dedup_check(scand_dedup *d, const struct scand_tuple *t);
/* Check t[0..n) in order, as n calls of scand_dedup_check() would, setting
 * dup[i] to 1 or 0; faster (hashes and prefetches ahead). Returns the number
 * of duplicates or SCAND_ERR_NOMEM. */
int64_t scand_dedup_check_n(scand_dedup *d, const struct scand_tuple *t, size_t n, uint8_t *dup);

/* ---------------------------------------------------------------------- */
/* Detector                                                               */
/* ---------------------------------------------------------------------- */

typedef struct scand_ctx scand_ctx;

enum scand_family {
    SCAND_FAM_HORIZONTAL = 1, /* distinct destinations per source (or source and port) */
    SCAND_FAM_VERTICAL = 2,   /* distinct ports per (source, destination) (or source) */
    SCAND_FAM_BLOCK = 3,      /* distinct (host, port) pairs per source */
    SCAND_FAM_DISTRIBUTED = 4, /* distinct sources converging on a port (or host) */
    SCAND_FAM_TRW = 5,        /* Threshold Random Walk per source */
};

#define SCAND_SAMPLES 20
#define SCAND_MAX_CAMPAIGNS 8

/* One alert. Every field is owned by the struct except technique (a static
 * string). */
struct scand_alert {
    char rule[32];         /* rule name, e.g. "horizontal" */
    int family;            /* enum scand_family */
    int severity;          /* 1 low, 2 medium, 3 high */
    const char *technique; /* MITRE ATT&CK: "T1046" (Network Service Discovery) */
    int has_src, has_dst, has_port; /* which key fields are set */
    uint8_t src[16];       /* key: source */
    uint8_t dst[16];       /* key: destination */
    uint16_t port;         /* key: destination port */
    int64_t window_start_ms, window_end_ms; /* [start, end) */
    int64_t first_seen_ms, last_seen_ms;    /* first and last counted flow start */
    int64_t reached_ms;    /* flow start at which the count first passed the threshold
                              (TRW: the observation that gave the verdict) */
    const int64_t *reach_ms; /* sweeps (scand_set_sweep), tumbling rules only:
                                reach_ms[i] is when the count first reached
                                threshold + 1 + i; borrowed for the callback */
    unsigned n_reach;
    uint64_t count;        /* distinct count that crossed the threshold */
    uint64_t threshold;    /* alert fires when count > threshold */
    uint64_t hosts, ports_count; /* block: distinct hosts and ports; distributed: targets */
    uint64_t flows;        /* flows counted */
    unsigned n_targets;    /* destination samples, by first seen */
    uint8_t targets[SCAND_SAMPLES][16];
    unsigned n_ports;      /* destination port samples, by first seen */
    uint16_t ports[SCAND_SAMPLES];
    unsigned n_sources;    /* distributed: source samples, by first seen */
    uint8_t sources[SCAND_SAMPLES][16];
    unsigned n_campaigns;  /* truth labels of the counted tuples (0 left out) */
    uint32_t campaigns[SCAND_MAX_CAMPAIGNS];
};

/* Receives each alert; a is borrowed for the call. Return 0 to go on, or
 * non-zero to make the feeding call fail with SCAND_ERR_STATE. */
typedef int (*scand_alert_fn)(void *arg, const struct scand_alert *a);

struct scand_stats {
    uint64_t tuples;      /* tuples fed */
    uint64_t starts;      /* tuples that start a flow */
    uint64_t ends;        /* flows seen to end (E, or D) */
    uint64_t failures;    /* ends that are failures (D; nothing back; a bare reset) */
    uint64_t suppressed;  /* tuples to or from Azure platform addresses, not counted */
    uint64_t used;        /* tuples counted by at least one rule */
    uint64_t late;        /* tuples at least one rule dropped: their window had closed
                             (one may be late for a 1m rule and used by a 1h rule) */
    uint64_t alerts;      /* alerts emitted */
    uint64_t bins_closed; /* (rule, bin) windows closed */
    uint64_t peak_keys;   /* largest number of live keys in one rule's bin */
    uint64_t peak_flows;  /* largest flow-table population: open flows and D attempts
                             remembered, plus entries expired but not yet dropped (the
                             tables drop them in bulk, when they fill) */
};

/*
 * Lifecycle: scand_new, scand_set_config*, scand_finalize, scand_feed*,
 * scand_flush, scand_free. Configuration after finalize is SCAND_ERR_STATE.
 */
scand_ctx *scand_new(char *errbuf);
void scand_free(scand_ctx *ctx);
const char *scand_geterr(const scand_ctx *ctx);

/* Set key (e.g. "horizontal.threshold") from its text value ("6", "1m",
 * "true"). Returns SCAND_ERR_INVAL for an unknown key or a bad value,
 * SCAND_ERR_RANGE out of range; the message names the key. */
int scand_set_config(scand_ctx *ctx, const char *key, const char *value);
/* Write the current value of key as text into buf. */
int scand_get_config(const scand_ctx *ctx, const char *key, char *buf, size_t size);
/* Check the keys against each other, as scand_finalize() will: flow_idle
 * must be at least reorder. SCAND_ERR_INVAL with a message naming both
 * keys and their values, led by "FILE:LINE: KEY: " when a configuration
 * file (scand_config_load_json) set the later of the two and no
 * scand_set_config() of either came after; nothing changes. For callers
 * that set keys one at a time (--config, --set) and check once they are
 * all set. */
int scand_config_check(scand_ctx *ctx);
/* After a failed scand_config_check(): 1 when a configuration file has the
 * last word on the pair (a bad file), 0 when scand_set_config() has. */
int scand_config_check_in_file(const scand_ctx *ctx);

/* Description of one configuration key: a global key ("reorder"), or a
 * rule parameter ("threshold", set as "<rule>.threshold"). */
struct scand_config_info {
    const char *key;
    const char *type; /* bool, uint, duration, enum, ports, cidrs, prob */
    const char *def;  /* default, as text ("" when it depends on the family) */
    uint64_t min, max; /* range (durations in ms) */
    const char *help;
    const char *families; /* rule parameters: the families that have it */
};
/* Every global key, then every rule parameter. */
size_t scand_config_count(void);
const struct scand_config_info *scand_config_at(size_t i);
/* The i-th key of ctx's effective configuration ("reorder", ...,
 * "horizontal.threshold", ...) into key; its description into *info.
 * SCAND_ERR_INVAL past the last. */
int scand_config_key(const scand_ctx *ctx, size_t i, char *key, size_t size,
                     const struct scand_config_info **info);

/* Replace every rule with a preset's (see scand_preset_*). SCAND_ERR_INVAL
 * for an unknown name. */
int scand_set_preset(scand_ctx *ctx, const char *name);
size_t scand_preset_count(void);
const char *scand_preset_name(size_t i);
const char *scand_preset_help(size_t i);
/* The preset the rules came from, or "" once a rule was added. */
const char *scand_get_preset(const scand_ctx *ctx);

/* Apply a JSON configuration (the form scand_config_dump_json() prints):
 * "preset" first, then the global keys, then "rules" (each rule's "family"
 * first). name is the file name for messages; errors read
 * "NAME:LINE: KEY: what is wrong". "reorder" and "flow_idle" are checked
 * against each other only by scand_config_check() and scand_finalize(),
 * so a later scand_set_config() may mend them; if the file set the later
 * of the two, that message names it. SCAND_ERR_INVAL or
 * SCAND_ERR_RANGE on a bad file; keys applied before the error stay
 * applied. */
int scand_config_load_json(scand_ctx *ctx, const char *name, const char *text, size_t len);
/* The effective configuration as JSON text; release with scand_free_text().
 * NULL on out of memory. */
char *scand_config_dump_json(const scand_ctx *ctx);
void scand_free_text(char *text);

void scand_set_alert_cb(scand_ctx *ctx, scand_alert_fn fn, void *arg);
/* One-pass threshold sweeps: every tumbling counting rule's alerts carry
 * reach_ms, the times its count first reached threshold + 1 up to
 * min(count, max_threshold + 1). Run the rules at the lowest threshold of
 * the sweep; the alerts at a higher threshold T are then those with count
 * > T, each detected at reach_ms[T - threshold] (reports/sweep.c). Before
 * scand_finalize. */
int scand_set_sweep(scand_ctx *ctx, uint32_t max_threshold);
/* Drop every rule (the global keys stay), e.g. to build a context of
 * sweep instances only. Before scand_finalize. */
int scand_clear_rules(scand_ctx *ctx);
/* Validate the configuration and allocate. */
int scand_finalize(scand_ctx *ctx);
/* Feed n tuples in (about) time order: later than the newest seen minus the
 * "reorder" tolerance. A tuple whose window has closed is counted in
 * stats.late, never binned elsewhere. */
int scand_feed(scand_ctx *ctx, const struct scand_tuple *t, size_t n);
/* Close every open window and emit the remaining alerts. */
int scand_flush(scand_ctx *ctx);
void scand_stats(const scand_ctx *ctx, struct scand_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* SCANLAB_DETECTOR_SCAND_H */
