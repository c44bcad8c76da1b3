/*
 * cmd_score.c - `scanlab score ALERTS TRUTH`: score an alert file (scanlab
 * detect's JSON lines) against a truth file (the simulator's truth.json, or
 * one written by hand for a capture), per campaign; the score as JSON on
 * stdout.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rpt.h"

static const char usage[] =
    "Usage: scanlab score [OPTIONS] ALERTS TRUTH\n"
    "\n"
    "Score alerts (scanlab detect's JSON lines; - for standard input) against\n"
    "ground truth (truth.json from scanlab simulate, or written by hand), per\n"
    "campaign: a campaign is detected when an alert's source belongs to it and\n"
    "the alert's window overlaps the campaign's time span (a distributed\n"
    "campaign also when a distributed alert names its targets). Other alerts are\n"
    "false, classed by the hard negative they hit. Campaigns the logging cannot\n"
    "see are unseeable, not missed. Prints the score as JSON.\n"
    "\n"
    "Options:\n"
    "  -r, --rule NAME         score only this rule's alerts (default: all); when\n"
    "                          no alert has that name, a warning lists those there\n"
    "      --ta DURATION       Traffic Analytics processing interval, 10m or 60m\n"
    "                          (default 60m)\n"
    "      --ingest DURATION   Log Analytics ingestion delay (default 3m)\n"
    "      --freq DURATION     scheduled rule's query frequency (default 1h)\n"
    "      --period DURATION   scheduled rule's query period (default 1h)\n"
    "  -o, --output FILE       write the score to FILE (default: standard output)\n"
    "  -h, --help              show this help\n"
    "\n"
    "Time to detect is counted from the campaign's first probe to the flow at\n"
    "which the alert's count passed its threshold (ttd_s, ttd_probes), and to\n"
    "when a scheduled KQL rule could raise it (ttd_production_s).\n"
    "\n"
    "Example:\n"
    "  scanlab simulate scenarios/horizontal.json -o sim\n"
    "  scanlab detect sim > alerts.json\n"
    "  scanlab score alerts.json sim/truth.json\n"
    "\n"
    "Exit status: 0 ok, 1 unreadable or malformed file, 2 usage error.\n";

#define MAX_FILE (512u << 20)

/* --rule NAME with no alert of that name scores none: say so, naming the
 * rules the file has (a warning: a rule that never fired looks the same). */
static void check_rule(const char *apath, const char *rule, const struct rpt_alert *a, size_t n)
{
    const char *seen[8];
    size_t n_seen = 0;
    int more = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(a[i].rule, rule) == 0)
            return;
        size_t k = 0;
        while (k < n_seen && strcmp(seen[k], a[i].rule) != 0)
            k++;
        if (k == n_seen && n_seen < sizeof seen / sizeof seen[0])
            seen[n_seen++] = a[i].rule;
        else if (k == n_seen)
            more = 1;
    }
    /* names from the file (and the option) reach a terminal: shown printable */
    struct rpt_buf b = {0};
    char nb[48], rb[48];
    for (size_t k = 0; k < n_seen; k++)
        rpt_buf_printf(&b, "%s%s", k ? ", " : "", rpt_shown(nb, sizeof nb, seen[k]));
    rpt_shown(rb, sizeof rb, rule);
    if (n_seen == 0)
        cli_warn("%s: no alert of rule '%s' (the file has no alerts): scoring none", apath, rb);
    else
        cli_warn("%s: no alert of rule '%s' (rules there: %s%s): scoring none", apath, rb,
                 b.s != NULL ? b.s : "", more ? ", ..." : "");
    free(b.s);
}

int cmd_score(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rule", required_argument, NULL, 'r'},
        {"output", required_argument, NULL, 'o'},
        CLI_LATENCY_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *rule = NULL, *out_path = NULL;
    struct rpt_latency lat;
    rpt_latency_defaults(&lat);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":r:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            rule = optarg;
            break;
        case 'o':
            if (cli_path_arg("score", "-o", optarg) != EXIT_OK)
                return EXIT_USAGE;
            out_path = optarg;
            break;
        case CLI_OPT_TA:
        case CLI_OPT_INGEST:
        case CLI_OPT_FREQ:
        case CLI_OPT_PERIOD:
            if (cli_latency_opt("score", c, optarg, &lat) != 0)
                return EXIT_USAGE;
            break;
        case 'h':
            fputs(usage, stdout);
            return EXIT_OK;
        case ':':
            return cli_usage_error("score", "%s: missing argument", argv[optind - 1]);
        default:
            return cli_usage_error("score", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error("score", "expected ALERTS and TRUTH");
    if (lat.period_ms < lat.freq_ms)
        return cli_usage_error("score", "--period must be at least --freq (a scheduled rule "
                                        "that looks back less than it waits misses data)");
    const char *apath = argv[optind], *tpath = argv[optind + 1];
    size_t alen;
    char err[RPT_ERRBUF_SIZE];
    char *atext = cli_read_file(strcmp(apath, "-") == 0 ? "/dev/stdin" : apath, MAX_FILE,
                                "an alert file", &alen);
    if (atext == NULL)
        return EXIT_INPUT;
    struct rpt_alert *alerts = NULL;
    size_t n = 0;
    struct rpt_truth truth;
    struct rpt_score score;
    int rc = EXIT_INPUT;
    int bad = rpt_alerts_parse(apath, atext, alen, &alerts, &n, err, sizeof err);
    free(atext);
    if (bad != 0) {
        cli_error("%s", err);
        return EXIT_INPUT;
    }
    if (cli_load_truth(tpath, &truth) != 0) {
        free(alerts);
        return EXIT_INPUT;
    }
    if (rule != NULL)
        check_rule(apath, rule, alerts, n);
    if (rpt_score(&truth, alerts, n, rule, &lat, &score) != 0) {
        cli_error("out of memory");
        goto out;
    }
    char *json = rpt_score_json(&truth, alerts, &score);
    if (json == NULL) {
        cli_error("out of memory");
        rpt_score_free(&score);
        goto out;
    }
    FILE *f = cli_open_out(out_path);
    if (f != NULL) {
        fputs(json, f);
        rc = cli_close_out(f, out_path);
    }
    free(json);
    rpt_score_free(&score);
out:
    rpt_truth_free(&truth);
    free(alerts);
    return rc;
}
