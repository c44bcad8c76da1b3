/*
 * rpt.h - the lab's scoring and reporting library (librpt): ground truth
 * and alert files read back, alerts scored per campaign, Clopper-Pearson
 * intervals, one-pass threshold sweeps, and the report folder.
 *
 * Scoring is per campaign, not per flow (DESIGN.md section 8): a campaign
 * is detected when an alert's source belongs to it and the alert's window
 * overlaps the campaign's time span; a distributed campaign also when a
 * distributed-rule alert names its targets or port. An alert that matches
 * no campaign is a false alert, put in the hard-negative class whose
 * sources and targets it hits (else "other"). Campaigns the logging
 * configuration cannot see are counted apart as unseeable, never as misses.
 */
#ifndef SCANLAB_REPORTS_RPT_H
#define SCANLAB_REPORTS_RPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scand.h"
#include "sim.h"

#define RPT_ERRBUF_SIZE 512
#define RPT_SAMPLES 8     /* address samples kept per alert */
#define RPT_MAX_CLASSES 16 /* hard-negative classes (plus "other") */

/* ------------------------------------------------------------ truth */

struct rpt_campaign {
    char id[48];
    char kind[16]; /* horizontal, vertical, block, slow, distributed, udp */
    uint8_t (*sources)[16]; /* sorted (memcmp) for lookups */
    size_t n_sources;
    uint8_t (*targets)[16]; /* sorted */
    size_t n_targets;
    uint16_t *ports; /* sorted */
    size_t n_ports;
    int64_t start_ms, end_ms;
    uint64_t probes, probes_visible;
    int visible;
    char reason[192];
};

struct rpt_hard_negative {
    char cls[24];
    char what[160];
    uint8_t (*sources)[16]; /* sorted */
    size_t n_sources;
    uint8_t (*targets)[16]; /* sorted */
    size_t n_targets;
};

struct rpt_truth {
    char scenario[128];
    uint64_t seed;
    int64_t start_ms, end_ms;
    uint64_t flows, tuples;
    struct rpt_campaign *camps;
    size_t n_camps;
    struct rpt_hard_negative *hn;
    size_t n_hn;
    /* rpt_match()'s index (rpt_truth_index): campaign sources by address,
     * an open-addressing table of chain heads over (source, campaign)
     * pairs, and the distributed campaigns, matched by target too */
    uint8_t (*src_key)[16]; /* the slot's address */
    uint32_t *src_head;     /* its first pair: index + 1; 0 empty slot */
    size_t src_mask;
    uint32_t *pair_camp, *pair_next; /* pair_next: pair index + 1; 0 end */
    uint32_t *dist;
    size_t n_dist;
};

/* Parse truth.json text (the simulator's, or one written by hand: only
 * campaigns[].{id,kind,sources,start_ms,end_ms} are required). name is the
 * file for messages: "NAME:LINE: PATH: what". Returns 0, or -1 with err. */
int rpt_truth_parse(const char *name, const char *text, size_t len, struct rpt_truth *out,
                    char *err, size_t errsize);
void rpt_truth_free(struct rpt_truth *t);
/* Build the index rpt_match() uses (rpt_truth_parse does): 0, or -1 out of
 * memory. Without it rpt_match() tries every campaign. */
int rpt_truth_index(struct rpt_truth *t);

/* ------------------------------------------------------------ alerts */

/* An alert as scoring needs it: the key, the window, the count and when it
 * passed the threshold, address samples. Sweeps add reach times. */
struct rpt_alert {
    char rule[32];
    int family; /* enum scand_family */
    uint8_t has_src, has_dst, has_port;
    uint8_t n_targets, n_sources;
    uint16_t port;
    uint8_t src[16], dst[16];
    int64_t window_start_ms, window_end_ms;
    int64_t first_seen_ms, last_seen_ms, reached_ms;
    uint64_t count, threshold, flows;
    uint8_t targets[RPT_SAMPLES][16];
    uint8_t sources[RPT_SAMPLES][16];
    uint16_t ports[RPT_SAMPLES];
    uint8_t n_ports;
};

/* Copy a detector alert (samples cut to RPT_SAMPLES). */
void rpt_alert_from(struct rpt_alert *out, const struct scand_alert *a);

/* Parse alert JSON lines (scanlab detect's output). Blank lines are
 * skipped. Returns 0 with *out (free()) and *n, or -1 with err naming
 * NAME:LINE. */
int rpt_alerts_parse(const char *name, const char *text, size_t len, struct rpt_alert **out,
                     size_t *n, char *err, size_t errsize);

/* ------------------------------------------------------------ scoring */

/* Production latency of a scheduled KQL rule over Traffic Analytics: data
 * of flow time t is queryable at ceil(t + blob_ms, ta_ms) + ingest_ms, and
 * the rule alerts at its first run (every freq_ms) at or after that. */
struct rpt_latency {
    int64_t blob_ms;   /* flow log written to the blob (Azure: about 1 minute) */
    int64_t ta_ms;     /* Traffic Analytics processing interval: 10 or 60 min */
    int64_t ingest_ms; /* Log Analytics ingestion delay */
    int64_t freq_ms;   /* rule schedule: query frequency */
    int64_t period_ms; /* rule schedule: query period (lookback) */
};
void rpt_latency_defaults(struct rpt_latency *l);
/* Seconds from flow time t until the scheduled rule can alert on it. */
double rpt_latency_s(const struct rpt_latency *l, int64_t t_ms);

/* Which campaigns alert a matches: up to max indices into t->camps. */
size_t rpt_match(const struct rpt_truth *t, const struct rpt_alert *a, size_t *idx, size_t max);
/* The hard-negative class of a false alert: an index into t->hn, or
 * t->n_hn for "other". */
size_t rpt_classify(const struct rpt_truth *t, const struct rpt_alert *a);

struct rpt_camp_score {
    int detected;
    size_t alert;       /* the first alert that detected it (by reached time) */
    int64_t reached_ms; /* when its count passed the threshold */
    double ttd_s;       /* reached - campaign start, seconds of campaign time */
    double ttd_probes;  /* probes sent by then, from the campaign's pacing */
    double latency_s;   /* plus the production latency of a scheduled rule */
};

struct rpt_kind_score {
    char kind[16];
    unsigned campaigns, unseeable, detected; /* detected of (campaigns - unseeable) */
    double rate, lo, hi;                     /* rate with 95% Clopper-Pearson */
};

struct rpt_score {
    size_t n_camps;
    struct rpt_camp_score *camp; /* per truth campaign */
    size_t n_all;                /* alerts given (of every rule) */
    size_t *alert_class;         /* per alert: SIZE_MAX if true, SIZE_MAX - 1 if another
                                    rule's, else rpt_classify() */
    size_t n_alerts, true_alerts, false_alerts;
    uint64_t false_by_class[RPT_MAX_CLASSES + 1]; /* indexed like t->hn, last "other" */
    double days;                                   /* simulated time */
    double false_per_day, precision;               /* precision NAN with no alerts */
    struct rpt_kind_score kinds[8];
    size_t n_kinds;
};

/* The name of hard-negative class cls ("other" for t->n_hn). */
const char *rpt_class_name(const struct rpt_truth *t, size_t cls);
/* Rate and 95% Clopper-Pearson interval from the counts of k. */
void rpt_kind_finish(struct rpt_kind_score *k);

/* Score the alerts of rule (NULL: every alert) against t. */
int rpt_score(const struct rpt_truth *t, const struct rpt_alert *a, size_t n, const char *rule,
              const struct rpt_latency *lat, struct rpt_score *out);
void rpt_score_free(struct rpt_score *s);
/* The score as JSON text (malloc'd). */
char *rpt_score_json(const struct rpt_truth *t, const struct rpt_alert *a,
                     const struct rpt_score *s);

/* 95% (or 1 - alpha) Clopper-Pearson interval of x successes in n. */
void rpt_clopper_pearson(unsigned x, unsigned n, double alpha, double *lo, double *hi);

/* ------------------------------------------------------------ text */

/* A growable text buffer; on out of memory it stays failed (oom set) and
 * further appends are ignored. */
struct rpt_buf {
    char *s;
    size_t len, cap;
    int oom;
};
void rpt_buf_printf(struct rpt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rpt_buf_put(struct rpt_buf *b, const char *s, size_t n);
/* A whole file, NUL-terminated (malloc'd), at most max bytes; NULL with
 * err ("PATH: why") on error. */
char *rpt_read_file(const char *path, size_t max, size_t *len, char *err, size_t errsize);
/* Create or truncate path for writing, refusing to follow a symbolic link
 * (errno ELOOP); NULL with errno on error. */
FILE *rpt_fopen_out(const char *path);
/* Escapes: JSON string body, HTML text, CSV field (quoted when needed),
 * gnuplot single-quoted string body. */
void rpt_buf_json(struct rpt_buf *b, const char *s);
void rpt_buf_html(struct rpt_buf *b, const char *s);
void rpt_buf_csv(struct rpt_buf *b, const char *s);
void rpt_buf_gp(struct rpt_buf *b, const char *s);
/* s for a one-line message: cut to fit buf (at most 40 characters),
 * anything unprintable shown as '?'. Returns buf. */
const char *rpt_shown(char *buf, size_t size, const char *s);



/* ------------------------------------------------------------ sweeps */

/*
 * One-pass threshold sweep of one tumbling counting rule over several
 * windows (DESIGN.md section 8): the rule runs once per window, at the
 * sweep's lowest threshold, with scand_set_sweep(); each alert is matched
 * against truth as it comes and kept as a 48-byte record plus the times its
 * count was reached. Every threshold's alerts, detections, times to detect
 * and false alerts then come from the records: at threshold T the alerts
 * are the records with count > T, each reached at reach[T - lo]. Seeds add
 * up: begin, feed, end per seed.
 */
typedef struct rpt_sweep rpt_sweep;

#define RPT_MAX_WINDOWS 8

/* rule: the base rule's name in base. Thresholds lo, lo+step, ... <= hi.
 * Returns NULL with err set (unknown rule, not a tumbling counting rule,
 * too many windows or thresholds). */
rpt_sweep *rpt_sweep_new(const scand_ctx *base, const char *rule, uint32_t lo, uint32_t hi,
                         uint32_t step, const int64_t *windows, size_t n_windows, char *err,
                         size_t errsize);
void rpt_sweep_free(rpt_sweep *sw);
/* A new context for sweep instances: base's global keys (hold_down off:
 * it would be decided at the lowest threshold; rpt.h's sweep equality holds
 * without it), no rules. NULL with err set. */
scand_ctx *rpt_sweep_ctx(const scand_ctx *base, char *err, size_t errsize);
/* How many sweeps fit in one context (16 rules, one per window). */
size_t rpt_sweep_per_ctx(const rpt_sweep *sw);
/* Add the sweep's rule instances (named RULE-wWINDOW) to ctx, which must
 * be unfinalized (best made by rpt_sweep_ctx); sets scand_set_sweep(). */
int rpt_sweep_setup(const rpt_sweep *sw, const scand_ctx *base, scand_ctx *ctx, char *err,
                    size_t errsize);
/* Start a seed, scored against t (borrowed until rpt_sweep_end). */
void rpt_sweep_begin(rpt_sweep *sw, const struct rpt_truth *t);
/* An alert from ctx's callback: 1 if it was the sweep's (kept), 0 if
 * another rule's, -1 out of memory. */
int rpt_sweep_alert(rpt_sweep *sw, const struct scand_alert *a);
/* Score the seed's records into the curves and drop them. */
int rpt_sweep_end(rpt_sweep *sw);

size_t rpt_sweep_n_windows(const rpt_sweep *sw);
int64_t rpt_sweep_window(const rpt_sweep *sw, size_t wi);
size_t rpt_sweep_n_thresholds(const rpt_sweep *sw);
uint32_t rpt_sweep_threshold(const rpt_sweep *sw, size_t ti);
const char *rpt_sweep_rule(const rpt_sweep *sw);
/* The rule instance's name for window wi (as in ctx's alerts). */
const char *rpt_sweep_instance(const rpt_sweep *sw, size_t wi);

/* One point of a curve, summed over the seeds so far. */
struct rpt_sweep_point {
    uint64_t alerts, false_alerts;
    uint64_t false_by_class[RPT_MAX_CLASSES + 1];
    double days;
    unsigned visible, detected; /* over every kind */
    struct rpt_kind_score kinds[8];
    size_t n_kinds;
    double ttd_s_median; /* over detected campaigns; NAN when none */
    double false_per_day, rate, precision;
};
void rpt_sweep_point(const rpt_sweep *sw, size_t wi, size_t ti, struct rpt_sweep_point *p);
/* Class names as the last rpt_sweep_begin's truth named them. */
size_t rpt_sweep_n_classes(const rpt_sweep *sw);
const char *rpt_sweep_class(const rpt_sweep *sw, size_t i);

/* The current seed's alerts at threshold T (lo <= T <= hi) for window wi,
 * before rpt_sweep_end: fn gets each one's key hash (rpt_key_hash),
 * window start, count and reached time. For the equality test. */
typedef void (*rpt_sweep_alert_fn)(void *arg, uint64_t key, int64_t window_start, uint64_t count,
                                   int64_t reached_ms);
void rpt_sweep_alerts_at(const rpt_sweep *sw, size_t wi, uint32_t T, rpt_sweep_alert_fn fn,
                         void *arg);
/* sweep.csv rows of sw (with the header first when header; sw NULL: the
 * header alone), one per window and threshold. */
void rpt_sweep_csv(struct rpt_buf *b, const rpt_sweep *sw, int header);
/* The threshold and window that detect the most campaigns (at least one)
 * within budget false alerts per day; ties: fewer false alerts. 0 if none. */
int rpt_sweep_recommend(const rpt_sweep *sw, double budget, size_t *wi, size_t *ti);
/* recommend.csv rows of sw: the recommendation, and the threshold and
 * window configured in base beside it (sw NULL: the header alone). */
void rpt_recommend_csv(struct rpt_buf *b, const rpt_sweep *sw, const scand_ctx *base,
                       double budget, int header);
/* A hash of an alert's key (src, dst, port, as set). */
uint64_t rpt_key_hash(const struct scand_alert *a);

/* ------------------------------------------------------------ tables */

/* A CSV table: cells[row * n_cols + col]; row 0 is the header. */
struct rpt_table {
    char **cells;
    size_t n_rows, n_cols;
    char *mem;
};
/* Parse text of len bytes and a NUL after them (modified in place; kept
 * by the table only through rpt_table_read). Ragged rows and bad quoting
 * are errors naming NAME:LINE. */
int rpt_table_parse(const char *name, char *text, size_t len, struct rpt_table *t, char *err,
                    size_t errsize);
int rpt_table_read(const char *path, struct rpt_table *t, char *err, size_t errsize);
void rpt_table_free(struct rpt_table *t);
/* Column index of col, or -1. */
long rpt_table_col(const struct rpt_table *t, const char *col);
/* Cell text ("" when the column or row is missing); as a number (NAN when
 * empty or not a number). */
const char *rpt_cell(const struct rpt_table *t, size_t row, const char *col);
double rpt_cell_num(const struct rpt_table *t, size_t row, const char *col);

/* ------------------------------------------------------------ report */

/* Render DIR's report (report.md, index.html, plots/) from its CSV tables.
 * *gnuplot: 1 plots drawn, 0 gnuplot not installed (tables only), -1
 * gnuplot failed (err says how; the report is still written). Returns 0,
 * or -1 with err set when a table is missing or malformed or a file cannot
 * be written. */
int rpt_render(const char *dir, int *gnuplot, char *err, size_t errsize);
/* The short results table `scanlab run` prints, from DIR's tables. */
void rpt_print_summary(FILE *f, const char *dir);

/* ------------------------------------------------------------ lab */

typedef void (*rpt_progress_fn)(void *arg, int64_t hour_ms, uint64_t tuples);

/* Simulate sc and feed its tuples, hour by hour in time order, to each of
 * the n_ctx finalized contexts, then flush them (their alert callbacks see
 * every alert). *res is the run's truth (sim_result_free). Returns 0, or -1
 * with err set. */
int rpt_lab_run(const sim_scenario *sc, scand_strtab *st, scand_ctx **ctx, size_t n_ctx,
                rpt_progress_fn progress, void *progress_arg, struct sim_result **res, char *err,
                size_t errsize);
/* A run's truth before the run (a first, hook-free simulation of sc: the
 * simulator is deterministic), for sweeps that match alerts as they come.
 * It costs about a tenth of a lab run; knowing campaigns' spans without
 * generating the traffic would need the simulator to plan them apart.
 * Returns truth.json's text (malloc'd) with *t parsed from it, or NULL with
 * err set. */
char *rpt_lab_truth(const sim_scenario *sc, struct rpt_truth *t, char *err, size_t errsize);

#endif /* SCANLAB_REPORTS_RPT_H */
