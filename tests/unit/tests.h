/*
 * tests.h - the unit-test suites' register functions (one per module, called
 * from the table in test_main.c) and the helpers they share (unit_util.c):
 * a read callback over memory that hands out bytes in fixed-size chunks, a
 * write callback into a growable buffer that can be told to fail, a loader
 * for the Azure samples under $SCANLAB_SHARED, a diagnostic collector, a
 * "read every record" driver, a tuple builder and an alert collector.
 *
 * Tests use scand.h only [STYLE U4]; the helpers allocate with the C
 * library, never through scand_set_allocator()'s hooks.
 */
#ifndef SCANLAB_TESTS_UNIT_TESTS_H
#define SCANLAB_TESTS_UNIT_TESTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scand.h"

/* ------------------------------------------------------------ suites */

int test_samples_register(void);
int test_reader_register(void);
int test_tuple_register(void);
int test_writer_register(void);
int test_detect_register(void);
int test_config_register(void);
int test_property_register(void);
int test_alloc_register(void);
int test_tuple_int_register(void); /* white-box: includes scand_int.h */
int test_sim_register(void);
int test_rules_register(void);
int test_trw_int_register(void); /* white-box */
int test_ttab_int_register(void);
int test_blob_order_register(void); /* white-box */
int test_lab_register(void);
int test_p2f_register(void);
int test_feeder_register(void); /* cli/feeder.c */

/* ------------------------------------------------------------ helpers */

/* Chunk sizes every reader test runs with: 7 bytes forces a refill inside
 * nearly every token; the large one hands out whatever the reader asks. */
#define CHUNK_SMALL ((size_t)7)
#define CHUNK_LARGE ((size_t)1 << 30)

/* Memory input for scand_read_fn: at most chunk bytes per call; fail_at >= 0
 * makes the call that would start at that offset fail with EIO. */
struct mem_in {
    const char *p;
    size_t len, pos, chunk;
    long fail_at;
};

void mem_in_init(struct mem_in *m, const void *p, size_t len, size_t chunk);
ssize_t mem_read(void *arg, void *buf, size_t len);

/* Memory output for scand_write_fn: appends; remembers where each call
 * started (first MAX_CALLS calls); fail_call >= 0 makes that call fail. */
#define MEM_OUT_MAX_CALLS 4096
struct mem_out {
    char *p;
    size_t len, cap;
    long fail_call;
    size_t n_calls;
    size_t call_off[MEM_OUT_MAX_CALLS];
};

void mem_out_init(struct mem_out *o);
void mem_out_fini(struct mem_out *o);
int mem_write(void *arg, const void *buf, size_t len);

/* Load $SCANLAB_SHARED/samples/azure/<name> (read in place) into a malloc'd
 * buffer; NULL (with a message on stderr) if it cannot be read. */
char *load_sample(const char *name, size_t *len);
/* The samples directory, from $SCANLAB_SHARED (NULL if unset). */
const char *samples_dir(void);

/* Diagnostic collector for scand_reader_set_diag(). */
#define DIAG_MAX 64
struct diag_log {
    int n; /* diagnostics seen (may exceed DIAG_MAX) */
    int kinds[DIAG_MAX];
    int64_t record[DIAG_MAX];
    int64_t tuple[DIAG_MAX];
    uint64_t line[DIAG_MAX], col[DIAG_MAX];
    char reason[DIAG_MAX][192];
};

void diag_collect(void *arg, const struct scand_diag *d);
/* Number of collected diagnostics of kind whose reason contains sub (NULL:
 * any reason). */
int diag_count(const struct diag_log *dl, int kind, const char *sub);

/* Everything a reader produced over one input. */
struct read_result {
    int rc;       /* last scand_reader_next() result: 0 or a negative error */
    int rc_again; /* one more call after the end: must equal rc */
    size_t n_rec; /* records returned */
    int64_t *rec_time;
    int *rec_fmt;
    size_t *rec_ntup;
    size_t n_tup; /* tuples, in the order the records returned them */
    struct scand_tuple *tup;
    struct scand_reader_stats stats;
    struct diag_log diag;
    char err[SCAND_ERRBUF_SIZE];
};

/* Read all of buf[0..len) in chunks of chunk bytes, interning into st.
 * Returns 0, or -1 if the reader could not be made (CUnit-checked). */
int read_all(const void *buf, size_t len, size_t chunk, scand_strtab *st, struct read_result *rr);
void read_result_fini(struct read_result *rr);

/* Parse an address literal; aborts the test's assertions on failure. */
void addr(const char *s, uint8_t out[16]);
/* A tuple: ts, src, dst, ports, protocol, state; dir OUT, enc NX, counters
 * empty (NOCOUNT), V6 flag from the addresses. */
struct scand_tuple mk_tuple(int64_t ts, const char *src, const char *dst, uint16_t sport,
                            uint16_t dport, uint8_t proto, uint8_t state);

/* Alert collector for scand_set_alert_cb(); stop_at > 0 makes the
 * stop_at-th alert ask the run to stop. */
struct alerts {
    size_t n, cap;
    struct scand_alert *a;
    size_t stop_at;
};

int alerts_collect(void *arg, const struct scand_alert *a);
size_t alerts_count_rule(const struct alerts *al, const char *rule);
const struct scand_alert *alerts_find_rule(const struct alerts *al, const char *rule);
/* New finalized context collecting into al; kv is {key, value, ..., NULL}
 * or NULL. Fails the test (fatally) if any step fails. */
scand_ctx *detect_new(struct alerts *al, const char *const *kv);
void detect_free(scand_ctx *ctx, struct alerts *al);

/* xorshift64* generator for seeded property tests (state must be non-zero). */
uint64_t rng_next(uint64_t *s);
uint64_t rng_below(uint64_t *s, uint64_t n);

/* A growable string; sb_add() fails the test (fatally) on OOM. */
struct sb {
    char *p;
    size_t len, cap;
};

void sb_add(struct sb *b, const char *s);

/* 1 if hay contains needle. */
int has_sub(const char *hay, const char *needle);

#endif /* SCANLAB_TESTS_UNIT_TESTS_H */
