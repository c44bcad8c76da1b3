/*
 * cmd_detect.c - `scanlab detect`: read flow logs, run the detector, print
 * alerts as JSON lines sorted by window start, rule, then key; a one-line
 * summary goes to stderr.
 *
 * Alerts are buffered and sorted at the end (they are few next to tuples),
 * so the output order does not depend on when each rule's bins closed.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char usage[] =
    "Usage: scanlab detect [OPTIONS] INPUT...\n"
    "\n"
    "Run the scan rules over Azure flow logs and print alerts as JSON lines.\n"
    "INPUT is a PT1H.json blob (VNet flow log v4, or NSG flow log v1/v2), a\n"
    "directory tree of blobs (walked for PT1H.json, merged in record-time order),\n"
    "or - for standard input.\n"
    "\n"
    "The default rules are the two seed KQL rules, with exact bin() semantics:\n"
    "  horizontal  more than 6 distinct destination IPs per source\n"
    "  vertical    more than 3 distinct destination ports per (source, destination)\n"
    "per 1-minute bin of the flow start time, private-to-private, TCP,\n"
    "destination port < 10000.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE       write alerts to FILE (default: standard output)\n"
    "  -s, --set KEY=VALUE     set a detector key, e.g. horizontal.threshold=10,\n"
    "                          vertical.bin=5m, horizontal.private_only=false;\n"
    "                          'scanlab config' lists every key (repeatable)\n"
    "      --bin DURATION      bin width of both rules (same as --set *.bin=)\n"
    "      --dedup             drop exact duplicate tuples (always counted)\n"
    "      --max-warnings N    print at most N warnings per file (default 20,\n"
    "                          0 = all); every one is counted in the summary\n"
    "      --stats             print throughput and table sizes to stderr\n"
    "  -q, --quiet             no summary line\n"
    "  -h, --help              show this help\n"
    "\n"
    "Example:\n"
    "  scanlab detect examples/hubspoke-1h\n"
    "  scanlab detect --set horizontal.threshold=10 --set vertical.bin=5m blobs/\n"
    "\n"
    "Exit status: 0 ok (alerts or not), 1 input or runtime error, 2 usage error.\n";

struct run {
    scand_ctx *ctx;
    struct scand_alert *alerts;
    size_t n, cap;
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
    if (scand_feed(r->ctx, t, n) != SCAND_OK) {
        cli_error("detector: %s", scand_geterr(r->ctx));
        return -1;
    }
    return 0;
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
    return c ? c : memcmp(x->dst, y->dst, 16);
}

static void print_alert(FILE *f, const struct scand_alert *a)
{
    char s[48], d[48];
    scand_addr_format(a->src, s, sizeof s);
    fprintf(f, "{\"rule\":\"%s\",\"src\":\"%s\"", a->rule, s);
    if (a->has_dst) {
        scand_addr_format(a->dst, d, sizeof d);
        fprintf(f, ",\"dst\":\"%s\"", d);
    }
    fprintf(f,
            ",\"window_start_ms\":%lld,\"window_end_ms\":%lld,\"count\":%llu,"
            "\"threshold\":%llu,\"flows\":%llu,\"first_seen_ms\":%lld,\"last_seen_ms\":%lld,"
            "\"targets\":[",
            (long long)a->window_start_ms, (long long)a->window_end_ms,
            (unsigned long long)a->count, (unsigned long long)a->threshold,
            (unsigned long long)a->flows, (long long)a->first_seen_ms,
            (long long)a->last_seen_ms);
    for (unsigned i = 0; i < a->n_targets; i++) {
        scand_addr_format(a->targets[i], d, sizeof d);
        fprintf(f, "%s\"%s\"", i ? "," : "", d);
    }
    fputs("],\"ports\":[", f);
    for (unsigned i = 0; i < a->n_ports; i++)
        fprintf(f, "%s%u", i ? "," : "", a->ports[i]);
    fputs("]}\n", f);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int cmd_detect(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"set", required_argument, NULL, 's'},
        {"bin", required_argument, NULL, 'b'},    {"dedup", no_argument, NULL, 'd'},
        {"max-warnings", required_argument, NULL, 'w'},
        {"stats", no_argument, NULL, 'S'},        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *out_path = NULL;
    struct in_opts io = {0, 20, 1};
    int quiet = 0, stats = 0, rc = EXIT_OK;
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
    while ((c = getopt_long(argc, argv, "o:s:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out_path = optarg;
            break;
        case 's':
            rc = cli_set_kv(run.ctx, "detect", optarg);
            if (rc != EXIT_OK)
                goto out;
            break;
        case 'b':
            /* --bin D is --set horizontal.bin=D --set vertical.bin=D */
            for (size_t i = 0; i < 2; i++) {
                static const char *const keys[] = {"horizontal.bin", "vertical.bin"};
                if (scand_set_config(run.ctx, keys[i], optarg) != SCAND_OK) {
                    rc = cli_usage_error("detect", "--bin: %s", scand_geterr(run.ctx));
                    goto out;
                }
            }
            break;
        case 'd':
            io.dedup = 1;
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
    double t0 = now_s();
    struct in_stats is;
    rc = in_run(argv + optind, argc - optind, &io, st, on_record, &run, &is);
    if (rc == EXIT_OK && scand_flush(run.ctx) != SCAND_OK) {
        cli_error("detector: %s", scand_geterr(run.ctx));
        rc = EXIT_INPUT;
    }
    double t1 = now_s();
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
    if (!quiet) {
        char sum[512];
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
    scand_strtab_free(st);
    scand_free(run.ctx);
    return rc;
}
