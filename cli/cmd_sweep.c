/*
 * cmd_sweep.c - `scanlab sweep SCENARIO|BLOBS --rule R`: one detector pass
 * per window at the lowest threshold, every threshold's curve point from
 * the record of when each key's count was reached (reports/sweep.c).
 * Prints sweep.csv. A scenario is simulated in memory (its truth scores
 * the curves); blobs are read like `scanlab detect` reads them, scored
 * against --truth (default DIR/truth.json when present).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "rpt.h"
#include "sim.h"

static const char usage[] =
    "Usage: scanlab sweep [OPTIONS] --rule NAME SCENARIO.json|BLOBS...\n"
    "\n"
    "Sweep a rule's threshold in one pass per window and print the curve table\n"
    "(CSV: per window and threshold, alerts, false alerts per day, precision,\n"
    "campaigns detected, detection rate overall and per campaign kind, median\n"
    "time to detect). A scenario file is simulated in memory and scored against\n"
    "its truth; blob trees and files are read like scanlab detect reads them and\n"
    "scored against --truth (default: truth.json in the blob folder, when there\n"
    "is one; without truth only the alert counts are filled in).\n"
    "\n"
    "Options:\n"
    "  -r, --rule NAME         the rule to sweep (a tumbling counting rule)\n"
    "      --param threshold=LO:HI[:STEP]\n"
    "                          thresholds to sweep (default threshold=1:200)\n"
    "      --window LIST       windows (default 1m,5m,10m,1h)\n"
    "  -p, --preset NAME       the rules come from this preset (default seed)\n"
    "  -c, --config FILE       the rules come from this configuration\n"
    "  -s, --set KEY=VALUE     change a key of the configuration (repeatable)\n"
    "  -t, --truth FILE        ground truth for blob input\n"
    "  -n, --seeds N           scenario: Monte Carlo seeds (default 1)\n"
    "  -b, --budget N          print the best threshold within N false alerts per\n"
    "                          day to stderr (default 1)\n"
    "  -o, --output FILE       write the table to FILE (default: standard output)\n"
    "  -h, --help              show this help\n"
    "\n"
    "Example:\n"
    "  scanlab sweep --rule horizontal scenarios/default.json > sweep.csv\n"
    "  scanlab sweep --rule vertical --param threshold=1:50:1 --window 1m,5m sim/\n"
    "\n"
    "Exit status: 0 ok, 1 input error, 2 usage error.\n";

struct sweeprun {
    scand_ctx *ctx;
    struct feeder *feed; /* blob input: the detector's thread */
    rpt_sweep *sw;
    struct rpt_truth *truth;
    int64_t lo, hi; /* time span of blob input */
    int oom;
};

static int on_alert(void *arg, const struct scand_alert *a)
{
    struct sweeprun *r = arg;
    if (rpt_sweep_alert(r->sw, a) < 0) {
        r->oom = 1;
        return 1;
    }
    return 0;
}

static int on_record(void *arg, const struct scand_record *rec, const struct scand_tuple *t,
                     size_t n)
{
    (void)rec;
    struct sweeprun *r = arg;
    for (size_t i = 0; i < n; i++) {
        if (t[i].ts_ms < r->lo)
            r->lo = t[i].ts_ms;
        if (t[i].ts_ms > r->hi)
            r->hi = t[i].ts_ms;
    }
    return feeder_push(r->feed, t, n); /* the error is printed after the join */
}

/* Plain decimal digits, at most 100000: no sign, space or tail. */
static int range_part(const char *s, size_t n, uint64_t *v)
{
    if (n == 0 || n > 6)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return x <= 100000 ? 0 : -1;
}

static int parse_param(const char *s, uint64_t *lo, uint64_t *hi, uint64_t *step)
{
    const char *eq = strchr(s, '=');
    if (eq == NULL || (size_t)(eq - s) != 9 || strncmp(s, "threshold", 9) != 0) {
        cli_usage_error("sweep", "--param: only threshold=LO:HI[:STEP] can be swept (the "
                                 "one-pass record holds counts), not '%s'",
                        s);
        return -1;
    }
    /* LO:HI or LO:HI:STEP, each plain digits (sscanf's %llu took "-1" as
     * 2^64-1 and let junk follow STEP) */
    uint64_t a = 0, b = 0, c = 1;
    const char *p = eq + 1, *c1 = strchr(p, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    int ok = c1 != NULL && range_part(p, (size_t)(c1 - p), &a) == 0 &&
             (c2 == NULL ? range_part(c1 + 1, strlen(c1 + 1), &b) == 0
                         : range_part(c1 + 1, (size_t)(c2 - c1 - 1), &b) == 0 &&
                               range_part(c2 + 1, strlen(c2 + 1), &c) == 0);
    if (!ok || a > b || c == 0) {
        cli_usage_error("sweep", "--param: expected threshold=LO:HI[:STEP] with LO <= HI <= "
                                 "100000 and STEP >= 1, not '%s'",
                        s);
        return -1;
    }
    *lo = a;
    *hi = b;
    *step = c;
    return 0;
}

/* A file is a scenario unless it is named PT1H.json or its first key is a
 * flow-log blob's or record's (a blob saved under another name). */
static int is_scenario(const char *path)
{
    struct stat sb;
    if (strcmp(path, "-") == 0 || stat(path, &sb) != 0 || S_ISDIR(sb.st_mode))
        return 0;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strcmp(base, "PT1H.json") == 0)
        return 0;
    static const char *const azure[] = {
        "records",      "time",       "flowLogVersion",    "flowLogGUID",
        "macAddress",   "category",   "flowLogResourceID", "targetResourceID",
        "operationName", "flowRecords", "properties",      "resourceId",
        "resourceid",   "systemId",
    };
    char head[4096];
    size_t n = 0;
    FILE *f = fopen(path, "rb");
    if (f != NULL) {
        n = fread(head, 1, sizeof head - 1, f);
        fclose(f);
    }
    head[n] = '\0';
    const char *p = head;
    if (memcmp(p, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 byte order mark */
        p += 3;
    p += strspn(p, " \t\r\n");
    if (*p++ != '{')
        return 1;
    p += strspn(p, " \t\r\n");
    if (*p++ != '"')
        return 1;
    size_t k = strcspn(p, "\"");
    for (size_t i = 0; i < sizeof azure / sizeof azure[0]; i++)
        if (strlen(azure[i]) == k && strncmp(p, azure[i], k) == 0)
            return 0;
    return 1;
}

int cmd_sweep(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rule", required_argument, NULL, 'r'},  {"param", required_argument, NULL, 'P'},
        {"window", required_argument, NULL, 'W'}, {"preset", required_argument, NULL, 'p'},
        {"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 's'},
        {"truth", required_argument, NULL, 't'},  {"seeds", required_argument, NULL, 'n'},
        {"budget", required_argument, NULL, 'b'}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *rule = NULL, *truth_path = NULL, *out_path = NULL;
    uint64_t lo = 1, hi = 200, step = 1, n_seeds = 1;
    double budget = 1.0;
    int64_t windows[RPT_MAX_WINDOWS] = {60000, 300000, 600000, 3600000};
    size_t n_windows = 4;
    int rc = EXIT_OK;
    char errbuf[SCAND_ERRBUF_SIZE];
    scand_ctx *base = scand_new(errbuf);
    if (base == NULL) {
        cli_error("%s", errbuf);
        return EXIT_INPUT;
    }
    scand_set_preset(base, "seed");
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":r:p:c:s:t:n:b:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            rule = optarg;
            break;
        case 'P':
            if (parse_param(optarg, &lo, &hi, &step) != 0)
                rc = EXIT_USAGE;
            break;
        case 'W':
            if (cli_parse_windows("sweep", optarg, windows, &n_windows) != 0)
                rc = EXIT_USAGE;
            break;
        case 'p':
            if (scand_set_preset(base, optarg) != SCAND_OK)
                rc = cli_usage_error("sweep", "--preset: %s", scand_geterr(base));
            break;
        case 'c':
            rc = cli_config_opt(base, "sweep", 'c', optarg);
            break;
        case 's':
            rc = cli_set_kv(base, "sweep", optarg);
            break;
        case 't':
            truth_path = optarg;
            break;
        case 'n':
            if (cli_parse_u64("sweep", "--seeds", optarg, 1, 1000, &n_seeds) != 0)
                rc = EXIT_USAGE;
            break;
        case 'b':
            if (cli_parse_budget("sweep", optarg, &budget) != 0)
                rc = EXIT_USAGE;
            break;
        case 'o':
            rc = cli_path_arg("sweep", "-o", optarg);
            out_path = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            goto out;
        case ':':
            rc = cli_usage_error("sweep", "%s: missing argument", argv[optind - 1]);
            break;
        default:
            rc = cli_usage_error("sweep", "unknown option '%s'", argv[optind - 1]);
            break;
        }
        if (rc != EXIT_OK)
            goto out;
    }
    if (rule == NULL) {
        rc = cli_usage_error("sweep", "missing --rule NAME");
        goto out;
    }
    if ((rc = cli_set_done(base, "sweep")) != EXIT_OK)
        goto out;
    if (optind >= argc) {
        rc = cli_usage_error("sweep", "missing SCENARIO.json or BLOBS");
        goto out;
    }
    char err[RPT_ERRBUF_SIZE];
    struct sweeprun r = {NULL, NULL, NULL, NULL, INT64_MAX, INT64_MIN, 0};
    r.sw = rpt_sweep_new(base, rule, (uint32_t)lo, (uint32_t)hi, (uint32_t)step, windows,
                         n_windows, err, sizeof err);
    if (r.sw == NULL) {
        rc = cli_usage_error("sweep", "%s", err);
        goto out;
    }
    int scenario = argc - optind == 1 && is_scenario(argv[optind]);
    sim_scenario *sc = NULL;
    if (scenario && (sc = cli_load_scenario(argv[optind])) == NULL) {
        rc = EXIT_INPUT;
        goto out_sw;
    }
    struct rpt_truth truth;
    memset(&truth, 0, sizeof truth);
    if (!scenario) {
        char tp[PATH_MAX];
        struct stat sb;
        if (truth_path == NULL && stat(argv[optind], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            snprintf(tp, sizeof tp, "%.4000s/truth.json", argv[optind]);
            if (access(tp, R_OK) == 0)
                truth_path = tp;
        }
        if (truth_path != NULL && cli_load_truth(truth_path, &truth) != 0) {
            rc = EXIT_INPUT;
            goto out_sw;
        }
    }
    uint64_t first = scenario ? sim_scenario_seed(sc) : 0;
    for (uint64_t si = 0; si < (scenario ? n_seeds : 1) && rc == EXIT_OK; si++) {
        /* the sweep's own context: base's global keys, the instances only */
        r.ctx = rpt_sweep_ctx(base, err, sizeof err);
        if (r.ctx == NULL) {
            cli_error("%s", err);
            rc = EXIT_INPUT;
            break;
        }
        if (rc == EXIT_OK && rpt_sweep_setup(r.sw, base, r.ctx, err, sizeof err) != 0) {
            cli_error("%s", err);
            rc = EXIT_INPUT;
        }
        scand_set_alert_cb(r.ctx, on_alert, &r);
        if (rc == EXIT_OK && scand_finalize(r.ctx) != SCAND_OK) {
            cli_error("%s", scand_geterr(r.ctx));
            rc = EXIT_INPUT;
        }
        if (rc == EXIT_OK && scenario) {
            sim_scenario_set_seed(sc, first + si);
            scand_strtab *st = scand_strtab_new();
            struct sim_result *res = NULL;
            char *tj = rpt_lab_truth(sc, &truth, err, sizeof err);
            if (st == NULL || tj == NULL) {
                cli_error("%s", st == NULL ? "out of memory" : err);
                rc = EXIT_INPUT;
            }
            free(tj);
            if (rc == EXIT_OK) {
                rpt_sweep_begin(r.sw, &truth);
                if (rpt_lab_run(sc, st, &r.ctx, 1, NULL, NULL, &res, err, sizeof err) != 0) {
                    cli_error("%s", r.oom ? "out of memory" : err);
                    rc = EXIT_INPUT;
                }
            }
            sim_result_free(res);
            scand_strtab_free(st);
        } else if (rc == EXIT_OK) {
            scand_strtab *st = scand_strtab_new();
            struct in_opts io = {0, 20, 1};
            struct in_stats is;
            rpt_sweep_begin(r.sw, &truth);
            r.feed = feeder_new(r.ctx, 1);
            rc = st == NULL ? EXIT_INPUT
                            : in_run(argv + optind, argc - optind, &io, st, on_record, &r, &is);
            if (feeder_finish(r.feed) != 0) {
                cli_error("detector: %s", r.oom ? "out of memory" : scand_geterr(r.ctx));
                rc = EXIT_INPUT;
            }
            r.feed = NULL;
            if (rc == EXIT_OK && scand_flush(r.ctx) != SCAND_OK) {
                cli_error("detector: %s", scand_geterr(r.ctx));
                rc = EXIT_INPUT;
            }
            if (truth_path == NULL && r.lo <= r.hi) { /* no truth: the span of the data */
                truth.start_ms = r.lo;
                truth.end_ms = r.hi;
            }
            scand_strtab_free(st);
        }
        if (rc == EXIT_OK && rpt_sweep_end(r.sw) != 0) {
            cli_error("out of memory");
            rc = EXIT_INPUT;
        }
        scand_free(r.ctx);
        r.ctx = NULL;
        if (scenario)
            rpt_truth_free(&truth);
    }
    if (rc == EXIT_OK) {
        struct rpt_buf b = {0};
        rpt_sweep_csv(&b, r.sw, 1);
        FILE *f = cli_open_out(out_path);
        if (f == NULL || b.oom) {
            if (b.oom)
                cli_error("out of memory");
            rc = EXIT_INPUT;
        } else {
            fwrite(b.s, 1, b.len, f);
            rc = cli_close_out(f, out_path);
        }
        free(b.s);
        size_t wi, ti;
        if (rc == EXIT_OK && rpt_sweep_recommend(r.sw, budget, &wi, &ti)) {
            struct rpt_sweep_point p;
            rpt_sweep_point(r.sw, wi, ti, &p);
            fprintf(stderr,
                    "scanlab: sweep: %s: best within %g false alerts/day: count > %u per %llds: "
                    "detected %u/%u, %.2f false alerts/day\n",
                    rule, budget, rpt_sweep_threshold(r.sw, ti),
                    (long long)(rpt_sweep_window(r.sw, wi) / 1000), p.detected, p.visible,
                    p.false_per_day);
        } else if (rc == EXIT_OK && !scenario && truth_path == NULL) {
            fprintf(stderr, "scanlab: sweep: %s: no truth (no truth.json beside the blobs, no "
                            "--truth): only the alert counts are filled in\n",
                    rule);
        } else if (rc == EXIT_OK) {
            fprintf(stderr, "scanlab: sweep: %s: no threshold detects a campaign within %g "
                            "false alerts/day\n",
                    rule, budget);
        }
    }
    if (!scenario)
        rpt_truth_free(&truth);
out_sw:
    sim_scenario_free(sc);
    rpt_sweep_free(r.sw);
out:
    scand_free(base);
    return rc;
}
