/*
 * cli.h - what the scanlab subcommands share: messages and exit codes,
 * checked allocation, option parsing helpers, and the input pipeline that
 * turns files, directory trees and stdin into one time-ordered stream of
 * flow-log records.
 */
#ifndef SCANLAB_CLI_CLI_H
#define SCANLAB_CLI_CLI_H

#include <stdint.h>
#include <pthread.h>
#include <stdio.h>

#include "p2f.h"
#include "rpt.h"
#include "scand.h"
#include "sim.h"

/* Exit codes (README "Exit codes"). */
enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2 };

/* "scanlab: error: ..." / "scanlab: warning: ..." on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage error for subcommand cmd: message plus a pointer to --help; returns
 * EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An output path given to option `what` of cmd: EXIT_OK, or EXIT_USAGE
 * (printed) when it is empty, since "" + "/" + name is a file of the root
 * folder and opendir("") fails as "not made yet". */
int cli_path_arg(const char *cmd, const char *what, const char *path);

/* Checked allocation: print and abort on failure [E6]. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xreallocarray(void *p, size_t count, size_t size);
/* An array of count elements from bigmem (sim/bigmem.h: grown without a copy), or
 * NULL, grown to new_count (the new part zeroed); freed with
 * bigmem_free(p, count * size). */
void *xbiggrow(void *p, size_t count, size_t new_count, size_t size);
char *xstrdup(const char *s);

/* Parse a whole decimal number for option flag into [lo, hi]; on error
 * print a usage message and return -1. */
int cli_parse_u64(const char *cmd, const char *flag, const char *s, uint64_t lo, uint64_t hi,
                  uint64_t *out);

/* Parse a duration ("90s", "10m", "1h") for option flag into [lo, hi] ms;
 * on error print a usage message and return -1. */
int cli_parse_duration(const char *cmd, const char *flag, const char *s, uint64_t lo,
                       uint64_t hi, int64_t *out);
/* --window LIST ("1m,5m,10m,1h"): 1 to RPT_MAX_WINDOWS durations of 1 s to
 * 1 d into w[*n]; an empty item is an error. On error print a usage message
 * and return -1. */
int cli_parse_windows(const char *cmd, const char *s, int64_t *w, size_t *n);

/* A whole file, NUL-terminated (malloc'd), at most max bytes; on error
 * prints "PATH: why" (what names what the file should be) and returns NULL. */
char *cli_read_file(const char *path, size_t max, const char *what, size_t *len);

/* Read and validate a scenario file; NULL after printing the error. */
sim_scenario *cli_load_scenario(const char *path);
/* Read a truth file into t; -1 after printing the error. */
int cli_load_truth(const char *path, struct rpt_truth *t);

/* The production-latency options (--ta, --ingest, --freq, --period) of
 * score and run: their getopt codes, long options, and parsing into lat
 * (-1 after a usage message). */
enum { CLI_OPT_TA = 0x100, CLI_OPT_INGEST, CLI_OPT_FREQ, CLI_OPT_PERIOD };
#define CLI_LATENCY_LONGOPTS                                                                     \
    {"ta", required_argument, NULL, CLI_OPT_TA},                                                 \
        {"ingest", required_argument, NULL, CLI_OPT_INGEST},                                     \
        {"freq", required_argument, NULL, CLI_OPT_FREQ},                                         \
        {"period", required_argument, NULL, CLI_OPT_PERIOD}
int cli_latency_opt(const char *cmd, int opt, const char *arg, struct rpt_latency *lat);
/* --budget N: false alerts per day >= 0; -1 after a usage message. */
int cli_parse_budget(const char *cmd, const char *arg, double *out);
/* Tell the user when the report has no plots (rpt_render's *gnuplot). */
void cli_gnuplot_note(int gp, const char *err);

/* Apply "KEY=VALUE" (a --set argument) to ctx; on error print a usage
 * message for cmd and return EXIT_USAGE, else EXIT_OK. */
int cli_set_kv(scand_ctx *ctx, const char *cmd, const char *kv);
/* After the last --config and --set: the keys checked against each other.
 * If a --config file had the last word on them, print its error (file and
 * line) and return EXIT_INPUT; if a --set did, a usage message and
 * EXIT_USAGE. */
int cli_set_done(scand_ctx *ctx, const char *cmd);

/* A detector configuration option: opt 's' (--set KEY=VALUE), 'p'
 * (--preset NAME) or 'c' (--config FILE). Prints the error; returns
 * EXIT_OK, EXIT_USAGE (bad key or value) or EXIT_INPUT (bad file). */
int cli_config_opt(scand_ctx *ctx, const char *cmd, int opt, const char *arg);

/* Open path for writing ("-" or NULL = stdout). */
FILE *cli_open_out(const char *path);
/* Close an output stream; print an error and return EXIT_INPUT if any write
 * failed [E5]. */
int cli_close_out(FILE *f, const char *path);

/* Monotonic seconds. */
double cli_now(void);
/* Create every directory of path up to its last '/' (mkdir -p of the
 * parent); path is modified and restored. 0, or -1 with errno. */
int cli_mkdirs(char *path);

/* Create (or truncate) a blob file for writing, making its folders as
 * needed; opened relative to its hour folder, kept open between calls (per
 * thread). An fd, or -1 after printing the error. */
int cli_blob_open(const char *path);
/* Close the hour folder cli_blob_open() keeps open (this thread's). */
void cli_blob_close(void);

/* 1 if dir exists and holds anything, 0 if absent or empty, -1 error
 * (errno set). */
int cli_dir_state(const char *dir);

/* May a command write its tree under dir (absent, empty, or --force)?
 * Prints why not. */
int cli_out_dir_ok(const char *dir, int force);

/* One progress line on stderr ("\rscanlab: WHAT, <hour>, N tuples, S s
 * ..."), for simulations hour by hour; the caller checks cli_tty(). */
void cli_progress(const char *what, int64_t hour_ms, uint64_t tuples, double t0);

/* Is stderr a terminal (progress lines allowed)? */
int cli_tty(void);

/* ------------------------------------------------------------ input */

struct in_opts {
    int dedup;             /* drop exact duplicates (they are always counted) */
    uint64_t max_warnings; /* per input file; 0 = all */
    int progress;          /* progress on stderr when it is a terminal */
};

struct in_stats {
    uint64_t files, bytes;
    uint64_t records, records_skipped;
    uint64_t tuples, tuples_skipped;
    uint64_t duplicates; /* exact duplicates seen (dropped when --dedup) */
    uint64_t ts_seconds;
    uint64_t cut_files, unclosed_files;
    uint64_t warnings_suppressed;
};

/* Receives each record, in time order, with its tuples after dedup. */
typedef int (*in_record_fn)(void *arg, const struct scand_record *rec,
                            const struct scand_tuple *t, size_t n);

/*
 * Read paths (files, directories walked for *.json, "-" for stdin) and hand
 * every record to fn in record-time order, blobs of the same hour merged.
 * Returns EXIT_OK, or EXIT_INPUT after printing the error (a file that is
 * not a flow log, an unreadable path, fn returning non-zero).
 */
/* A ring of n_slots slots of slot_size bytes between a producer thread and
 * a consumer thread (ring.c). The producer fills ring_slot() (it waits while
 * every slot is full; NULL once the consumer stopped) and hands it over with
 * ring_put(), then ring_close() at its end. The consumer takes the oldest
 * filled slot with ring_take() (it waits; NULL when closed and empty),
 * frees it with ring_done(), and can ring_stop() the producer, which can
 * also poll ring_stopped() between slots. */
struct ring {
    unsigned char *mem;
    size_t n_slots, slot_size;
    size_t head, n_full; /* slots [head, head + n_full) wait for the consumer */
    int closed;
    int stopped;    /* written under mu, also polled without it (atomic) */
    int waiting;    /* the producer waits for a free slot */
    int starving;   /* the consumer waits for a full one */
    size_t wake_full; /* ... and wakes when this many are full */
    pthread_mutex_t mu;
    pthread_cond_t full_cv, free_cv;
};
void ring_init(struct ring *r, size_t n_slots, size_t slot_size);
/* Wake a waiting consumer at every slot, not when half the ring is full:
 * for a producer that may block on a live pipe with slots still unread. */
void ring_wake_every(struct ring *r);
void ring_destroy(struct ring *r);
void *ring_slot(struct ring *r);
void ring_put(struct ring *r);
void ring_close(struct ring *r);
void *ring_take(struct ring *r);
void ring_done(struct ring *r);
void ring_stop(struct ring *r);
int ring_stopped(struct ring *r);

/* The detector on a thread of its own (feeder.c): feeder_push() copies
 * tuples for it, in order; feeder_finish() waits for the last and frees the
 * feeder. Both return 0, or -1 when scand_feed() failed (scand_geterr()
 * says why, after feeder_finish()). The context is the detector thread's
 * from feeder_new() until feeder_finish() returns. */
struct feeder;
struct feeder *feeder_new(scand_ctx *ctx, int thread); /* thread 0: feed directly */
int feeder_push(struct feeder *f, const struct scand_tuple *t, size_t n);
int feeder_finish(struct feeder *f);

int in_run(char *const *paths, int n_paths, const struct in_opts *o, scand_strtab *st,
           in_record_fn fn, void *arg, struct in_stats *stats);

/* Format the input part of the run summary into buf. */
void in_summary(const struct in_stats *s, int dedup, char *buf, size_t size);

/* ------------------------------------------------------------ captures */

struct cap_stats {
    size_t files;
    uint64_t packets;
    uint64_t verdicts[P2F_N_VERDICTS];
    uint64_t cut_files, warnings_suppressed;
    uint64_t bad_time; /* timestamps out of range, or a lone jump of over an hour */
    struct p2f_stats flows;
};

/* Is path a pcap or pcapng file (by its magic number)? */
int cap_is_capture(const char *path);
/* Called once a second of capture time with the packet clock (ms); non-zero
 * stops the run. */
typedef int (*cap_clock_fn)(void *arg, int64_t now_ms);
/* Read captures (merged by time), decode, and hand every tuple to fn.
 * EXIT_OK, or EXIT_INPUT after printing the error. */
int cap_run(char *const *paths, int n, const struct p2f_opts *po, uint64_t max_warnings,
            scand_strtab *st, p2f_tuple_fn fn, cap_clock_fn clock, void *arg,
            struct cap_stats *s);
void cap_summary(const struct cap_stats *s, char *buf, size_t size);
/* Read an NSG policy file (policy.c); -1 after printing the error. */
int cli_load_policy(const char *path, struct p2f_deny **out, size_t *n);

/* scand_blob_hour()'s bins, ms: a blob hour is a multiple of it. */
#define BLOB_HOUR_MS 3600000

/* The order of the blobs' tuples: blob hour, NIC, time, arrival. */
static inline int blob_order(int64_t ha, uint32_t ma, int64_t ta, uint32_t sa, int64_t hb, uint32_t mb,
                     int64_t tb, uint32_t sb)
{
    if (ha != hb)
        return ha < hb ? -1 : 1;
    if (ma != mb)
        return ma < mb ? -1 : 1;
    if (ta != tb)
        return ta < tb ? -1 : 1;
    return sa < sb ? -1 : sa > sb; /* arrival order (wraps after 4G) */
}

/* A buffered tuple's place in blob order, its hour computed once
 * (pcap2flow). */
struct blob_key {
    int64_t hour, ts;
    uint32_t mac, seq, pos, pad;
};

/* What a sort did: the introsort counts the keys partitioned (its work: n
 * log n when the pivots are good) and the heapsort fallbacks; the radix
 * sort its sorts and passes. */
struct blob_sort_stats {
    uint64_t partitioned, fallbacks, radix, radix_passes;
};
/* Positions of n records in blob order: pos[j] the index of the j-th.
 * Each record's time (int64_t, ms), NIC (uint32_t) and arrival (uint32_t)
 * sit at off_ts, off_mac and off_seq, the records stride bytes apart from
 * base; its hour is scand_blob_hour() of its time. By a radix sort when
 * arrival rises with the index (ties then keep it) and the fields fit a
 * word beside the index, else by the introsort (blob_order.c). Out of
 * memory exits. */
void blob_order_positions(const void *base, size_t stride, size_t off_ts, size_t off_mac,
                          size_t off_seq, size_t n, uint32_t *pos, struct blob_sort_stats *st);
/* Sort k[0..n) in blob order by the introsort (2 log2 n levels before the
 * heapsort), counting what it did in st (or NULL). */
void blob_key_sort(struct blob_key *k, size_t n);
void blob_key_sort_stats(struct blob_key *k, size_t n, struct blob_sort_stats *st);
/* The introsort with depth quicksort levels before heapsort takes over (2
 * log2 n in blob_key_sort; tests pass 0 to reach the heapsort). */
void blob_key_introsort(struct blob_key *k, size_t n, int depth, struct blob_sort_stats *st);

/* Subcommands. */
int cmd_detect(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_pcap2flow(int argc, char **argv);

#endif /* SCANLAB_CLI_CLI_H */
