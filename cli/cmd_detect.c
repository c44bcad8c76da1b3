/*
 * cmd_detect.c - `scanlab detect`: read flow logs, run the detector, print
 * alerts as JSON lines sorted by window start, rule, then key; a one-line
 * summary goes to stderr.
 *
 * Alerts are buffered and sorted at the end (they are few next to tuples),
 * so the output order does not depend on when each rule's bins closed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "Usage: scanlab detect [OPTIONS] INPUT...\n"
    "\n"
    "Run the scan rules over Azure flow logs and print alerts as JSON lines.\n"
    "INPUT is a PT1H.json blob (VNet flow log v4, or NSG flow log v1/v2), a\n"
    "directory tree of blobs (walked for PT1H.json, merged in record-time order),\n"
    "or - for standard input; or packet captures (pcap or pcapng, recognised by\n"
    "their magic number, or all inputs with --pcap), turned into flow tuples as\n"
    "scanlab pcap2flow does, for the NICs of the --inside networks.\n"
    "\n"
    "The default rules (preset seed) are the two seed KQL rules, with exact bin()\n"
    "semantics:\n"
    "  horizontal  more than 6 distinct destination IPs per source\n"
    "  vertical    more than 3 distinct destination ports per (source, destination)\n"
    "per 1-minute bin of the flow start time, private-to-private, TCP,\n"
    "destination port < 10000. Flows to or from Azure platform addresses\n"
    "(168.63.129.16, 169.254.169.254) are not counted (suppress_platform).\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE       write alerts to FILE (default: standard output)\n"
    "  -p, --preset NAME       replace the rules with a preset: seed, sentinel-asim,\n"
    "                          azfw, zeek, scanlab ('scanlab config --presets')\n"
    "  -c, --config FILE       apply a JSON configuration ('scanlab config' prints one)\n"
    "  -s, --set KEY=VALUE     set a detector key, e.g. horizontal.threshold=10,\n"
    "                          vertical.window=5m, horizontal.src=any; a new rule:\n"
    "                          NAME.family=block; 'scanlab config --help-keys'\n"
    "                          lists every key (repeatable; in order with --preset)\n"
    "      --window DURATION   window width of every rule (--set RULE.window=)\n"
    "      --dedup             drop exact duplicate tuples (always counted)\n"
    "      --pcap              the inputs are packet captures (files are also\n"
    "                          known by their first bytes; - needs --pcap)\n"
    "      --inside CIDRS      captures: the monitored VNets, e.g. 10.0.0.0/16\n"
    "      --max-warnings N    print at most N warnings per file (default 20,\n"
    "                          0 = all); every one is counted in the summary\n"
    "      --stats             print throughput and table sizes to stderr\n"
    "  -q, --quiet             no summary line\n"
    "  -h, --help              show this help\n"
    "\n"
    "Example:\n"
    "  scanlab detect examples/hubspoke-1h\n"
    "  scanlab detect --preset zeek --set zeek_port_scan.threshold=9 blobs/\n"
    "  scanlab detect --inside 10.0.0.0/16 scan.pcapng\n"
    "\n"
    "Exit status: 0 ok (alerts or not), 1 input or runtime error, 2 usage error.\n";

struct run {
    scand_ctx *ctx;
    struct feeder *feed; /* the detector's thread while input is read */
    struct scand_alert *alerts;
    size_t n, cap;
    /* captures: tuples wait until no earlier one can come (the flow engine
     * decides a tuple up to a few minutes after its time) */
    struct scand_tuple *pend;
    size_t n_pend, cap_pend;
    int64_t last_minute;
    int64_t lag_ms; /* p2f_decision_lag_ms() */
};

static int on_alert(void *arg, const struct scand_alert *a)
{
    struct run *r = arg;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->alerts = xreallocarray(r->alerts, r->cap, sizeof *r->alerts);
    }
    r->alerts[r->n++] = *a;
    return 0;
}

static int on_record(void *arg, const struct scand_record *rec, const struct scand_tuple *t,
                     size_t n)
{
    (void)rec;
    struct run *r = arg;
    return feeder_push(r->feed, t, n); /* the error is printed after the join */
}

static int cap_tuple(void *arg, const struct scand_tuple *t)
{
    struct run *r = arg;
    if (r->n_pend == r->cap_pend) {
        r->cap_pend = r->cap_pend ? r->cap_pend * 2 : 4096;
        r->pend = xreallocarray(r->pend, r->cap_pend, sizeof *r->pend);
    }
    r->pend[r->n_pend] = *t;
    r->pend[r->n_pend].campaign = (uint32_t)r->n_pend; /* tie-break: arrival order */
    r->n_pend++;
    return 0;
}

static int cmp_ts(const void *a, const void *b)
{
    const struct scand_tuple *x = a, *y = b;
    if (x->ts_ms != y->ts_ms)
        return x->ts_ms < y->ts_ms ? -1 : 1;
    return x->campaign < y->campaign ? -1 : x->campaign > y->campaign;
}

/* Feed the pending tuples older than before, in time order. */
static int cap_release(struct run *r, int64_t before)
{
    if (r->n_pend == 0)
        return 0;
    qsort(r->pend, r->n_pend, sizeof *r->pend, cmp_ts);
    size_t k = 0;
    while (k < r->n_pend && r->pend[k].ts_ms < before)
        k++;
    for (size_t i = 0; i < k; i++)
        r->pend[i].campaign = 0;
    if (k > 0 && feeder_push(r->feed, r->pend, k) != 0)
        return -1; /* printed after the join */
    memmove(r->pend, r->pend + k, (r->n_pend - k) * sizeof *r->pend);
    r->n_pend -= k;
    for (size_t i = 0; i < r->n_pend; i++)
        r->pend[i].campaign = (uint32_t)i;
    return 0;
}

static int cap_clock(void *arg, int64_t now)
{
    struct run *r = arg;
    if (now / 60000 == r->last_minute)
        return 0;
    r->last_minute = now / 60000;
    return cap_release(r, now - r->lag_ms);
}

static int cmp_alert(const void *a, const void *b)
{
    const struct scand_alert *x = a, *y = b;
    if (x->window_start_ms != y->window_start_ms)
        return x->window_start_ms < y->window_start_ms ? -1 : 1;
    int c = strcmp(x->rule, y->rule);
    if (c != 0)
        return c;
    c = memcmp(x->src, y->src, 16);
    if (c == 0)
        c = memcmp(x->dst, y->dst, 16);
    return c ? c : (int)x->port - (int)y->port;
}

static const char *const family_json[] = {"", "horizontal", "vertical", "block", "distributed",
                                          "trw"};
static const char *const severity_json[] = {"", "low", "medium", "high"};

static void print_addrs(FILE *f, const char *name, const uint8_t (*a)[16], unsigned n)
{
    char d[48];
    fprintf(f, ",\"%s\":[", name);
    for (unsigned i = 0; i < n; i++) {
        scand_addr_format(a[i], d, sizeof d);
        fprintf(f, "%s\"%s\"", i ? "," : "", d);
    }
    fputc(']', f);
}

static void print_alert(FILE *f, const struct scand_alert *a)
{
    char s[48];
    int fam = a->family >= 1 && a->family <= 5 ? a->family : 0;
    int sev = a->severity >= 1 && a->severity <= 3 ? a->severity : 2;
    fprintf(f, "{\"rule\":\"%s\",\"rule_family\":\"%s\",\"severity\":\"%s\",\"technique\":\"%s\"",
            a->rule, family_json[fam], severity_json[sev], a->technique ? a->technique : "");
    if (a->has_src) {
        scand_addr_format(a->src, s, sizeof s);
        fprintf(f, ",\"src\":\"%s\"", s);
    }
    if (a->has_dst) {
        scand_addr_format(a->dst, s, sizeof s);
        fprintf(f, ",\"dst\":\"%s\"", s);
    }
    if (a->has_port)
        fprintf(f, ",\"port\":%u", a->port);
    fprintf(f, ",\"window_start_ms\":%lld,\"window_end_ms\":%lld,\"count\":%llu,\"threshold\":%llu",
            (long long)a->window_start_ms, (long long)a->window_end_ms,
            (unsigned long long)a->count, (unsigned long long)a->threshold);
    if (a->family == SCAND_FAM_BLOCK || a->family == SCAND_FAM_DISTRIBUTED)
        fprintf(f, ",\"hosts\":%llu,\"distinct_ports\":%llu", (unsigned long long)a->hosts,
                (unsigned long long)a->ports_count);
    fprintf(f, ",\"flows\":%llu,\"first_seen_ms\":%lld,\"last_seen_ms\":%lld,\"reached_ms\":%lld",
            (unsigned long long)a->flows, (long long)a->first_seen_ms,
            (long long)a->last_seen_ms, (long long)a->reached_ms);
    print_addrs(f, "targets", (const uint8_t(*)[16])a->targets, a->n_targets);
    fputs(",\"ports\":[", f);
    for (unsigned i = 0; i < a->n_ports; i++)
        fprintf(f, "%s%u", i ? "," : "", a->ports[i]);
    fputc(']', f);
    if (a->family == SCAND_FAM_DISTRIBUTED)
        print_addrs(f, "sources", (const uint8_t(*)[16])a->sources, a->n_sources);
    if (a->n_campaigns > 0) {
        fputs(",\"campaigns\":[", f);
        for (unsigned i = 0; i < a->n_campaigns; i++)
            fprintf(f, "%s%u", i ? "," : "", a->campaigns[i]);
        fputc(']', f);
    }
    fputs("}\n", f);
}

int cmd_detect(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"set", required_argument, NULL, 's'},
        {"window", required_argument, NULL, 'b'}, {"dedup", no_argument, NULL, 'd'},
        {"preset", required_argument, NULL, 'p'}, {"config", required_argument, NULL, 'c'},
        {"max-warnings", required_argument, NULL, 'w'},
        {"stats", no_argument, NULL, 'S'},        {"quiet", no_argument, NULL, 'q'},
        {"pcap", no_argument, NULL, 'P'},         {"inside", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *out_path = NULL;
    struct in_opts io = {0, 20, 1};
    int quiet = 0, stats = 0, rc = EXIT_OK, pcap = 0;
    struct scand_cidr inside[64];
    size_t n_inside = 0;
    struct run run = {0};
    scand_strtab *st = NULL;
    FILE *out = NULL;
    char errbuf[SCAND_ERRBUF_SIZE];

    run.ctx = scand_new(errbuf);
    if (run.ctx == NULL) {
        cli_error("%s", errbuf);
        return EXIT_INPUT;
    }
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:s:p:c:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if ((rc = cli_path_arg("detect", "-o", optarg)) != EXIT_OK)
                goto out;
            out_path = optarg;
            break;
        case 's':
        case 'c':
            rc = cli_config_opt(run.ctx, "detect", c, optarg);
            if (rc != EXIT_OK)
                goto out;
            break;
        case 'p':
            if (scand_set_preset(run.ctx, optarg) != SCAND_OK) {
                rc = cli_usage_error("detect", "--preset: %s", scand_geterr(run.ctx));
                goto out;
            }
            break;
        case 'b': {
            /* --window D is --set RULE.window=D for every rule */
            char key[96];
            const struct scand_config_info *info;
            for (size_t i = 0; scand_config_key(run.ctx, i, key, sizeof key, &info) == SCAND_OK;
                 i++) {
                size_t kl = strlen(key);
                if (kl > 7 && strcmp(key + kl - 7, ".window") == 0 &&
                    scand_set_config(run.ctx, key, optarg) != SCAND_OK) {
                    rc = cli_usage_error("detect", "--window: %s", scand_geterr(run.ctx));
                    goto out;
                }
            }
            break;
        }
        case 'd':
            io.dedup = 1;
            break;
        case 'P':
            pcap = 1;
            break;
        case 'i':
            if (p2f_parse_cidrs(optarg, inside, 64, &n_inside) != 0) {
                rc = cli_usage_error("detect", "--inside: expected CIDRs like 10.0.0.0/16, not "
                                               "'%s'",
                                     optarg);
                goto out;
            }
            break;
        case 'w':
            if (cli_parse_u64("detect", "--max-warnings", optarg, 0, UINT64_MAX,
                              &io.max_warnings) != 0) {
                rc = EXIT_USAGE;
                goto out;
            }
            break;
        case 'S':
            stats = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            goto out;
        default:
            rc = cli_usage_error("detect", "unknown or incomplete option");
            goto out;
        }
    }
    if (optind >= argc) {
        rc = cli_usage_error("detect", "no INPUT given");
        goto out;
    }
    if ((rc = cli_set_done(run.ctx, "detect")) != EXIT_OK)
        goto out;
    int caps = 0;
    const char *other = NULL; /* the first input that is not a capture */
    for (int i = optind; i < argc; i++) {
        int is_cap = pcap || cap_is_capture(argv[i]);
        caps += is_cap;
        if (!is_cap && other == NULL)
            other = argv[i];
    }
    if (caps > 0 && other != NULL) {
        /* name it: often it cannot be read at all, which is its own error */
        if (strcmp(other, "-") != 0 && access(other, R_OK) != 0) {
            cli_error("%s: %s", other, strerror(errno));
            rc = EXIT_INPUT;
        } else {
            rc = cli_usage_error("detect", "captures and flow logs in one run (%s is not a "
                                           "capture): give one kind",
                                 other);
        }
        goto out;
    }
    if (caps > 0 && n_inside == 0) {
        rc = cli_usage_error("detect", "packet captures need --inside CIDRS (the monitored "
                                       "VNets)");
        goto out;
    }
    if (scand_finalize(run.ctx) != SCAND_OK) {
        rc = cli_usage_error("detect", "%s", scand_geterr(run.ctx));
        goto out;
    }
    scand_set_alert_cb(run.ctx, on_alert, &run);
    st = scand_strtab_new();
    if (st == NULL) {
        cli_error("out of memory");
        rc = EXIT_INPUT;
        goto out;
    }
    out = cli_open_out(out_path);
    if (out == NULL) {
        rc = EXIT_INPUT;
        goto out;
    }
    double t0 = cli_now();
    run.feed = feeder_new(run.ctx, 1);
    struct in_stats is;
    struct cap_stats cs;
    memset(&is, 0, sizeof is);
    if (caps > 0) {
        struct p2f_opts po;
        p2f_opts_default(&po);
        po.inside = inside;
        po.n_inside = n_inside;
        run.lag_ms = p2f_decision_lag_ms(&po);
        rc = cap_run(argv + optind, argc - optind, &po, io.max_warnings, st, cap_tuple, cap_clock,
                     &run, &cs);
        if (rc == EXIT_OK && cap_release(&run, INT64_MAX) != 0)
            rc = EXIT_INPUT;
        is.tuples = cs.flows.tuples;
    } else {
        rc = in_run(argv + optind, argc - optind, &io, st, on_record, &run, &is);
    }
    if (feeder_finish(run.feed) != 0) {
        cli_error("detector: %s", scand_geterr(run.ctx));
        rc = EXIT_INPUT;
    }
    run.feed = NULL;
    if (rc == EXIT_OK && scand_flush(run.ctx) != SCAND_OK) {
        cli_error("detector: %s", scand_geterr(run.ctx));
        rc = EXIT_INPUT;
    }
    double t1 = cli_now();
    if (rc == EXIT_OK) {
        if (run.n > 1)
            qsort(run.alerts, run.n, sizeof *run.alerts, cmp_alert);
        for (size_t i = 0; i < run.n; i++)
            print_alert(out, &run.alerts[i]);
    }
    int crc = cli_close_out(out, out_path);
    out = NULL;
    if (rc == EXIT_OK)
        rc = crc;
    struct scand_stats ds;
    scand_stats(run.ctx, &ds);
    if (!quiet && (caps == 0 || rc == EXIT_OK)) { /* a failed capture run has no summary */
        char sum[1024];
        if (caps > 0)
            cap_summary(&cs, sum, sizeof sum);
        else
            in_summary(&is, io.dedup, sum, sizeof sum);
        fprintf(stderr, "scanlab: detect: %s, %llu used, %llu late, %llu alerts\n", sum,
                (unsigned long long)ds.used, (unsigned long long)ds.late,
                (unsigned long long)run.n);
    }
    if (stats) {
        double dt = t1 - t0 > 1e-9 ? t1 - t0 : 1e-9;
        fprintf(stderr,
                "scanlab: stats: %.3f s, %.0f tuples/s, %.1f MB/s, flow starts %llu, "
                "peak flows %llu, peak keys per bin %llu, bins closed %llu\n",
                dt, (double)is.tuples / dt, (double)is.bytes / dt / 1e6,
                (unsigned long long)ds.starts, (unsigned long long)ds.peak_flows,
                (unsigned long long)ds.peak_keys, (unsigned long long)ds.bins_closed);
    }
out:
    if (out != NULL)
        cli_close_out(out, out_path);
    free(run.alerts);
    free(run.pend);
    scand_strtab_free(st);
    scand_free(run.ctx);
    return rc;
}
