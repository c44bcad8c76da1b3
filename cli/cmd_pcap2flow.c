/*
 * cmd_pcap2flow.c - `scanlab pcap2flow CAPTURE... --inside CIDRS -o DIR`:
 * packet captures (pcap or pcapng, read by libpcap, several merged in time
 * order) into the Azure VNet flow-log blob tree, one PT1H.json per logging
 * NIC and hour (sim/p2f.c decides flows and tuples).
 *
 * Tuples are gathered in memory and written at the end, sorted by NIC,
 * hour and time (the blob writer wants one NIC-hour at a time).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "Usage: scanlab pcap2flow [OPTIONS] --inside CIDR[,CIDR...] -o DIR CAPTURE...\n"
    "\n"
    "Turn packet captures (pcap or pcapng; Ethernet with 802.1Q/QinQ tags, Linux\n"
    "cooked SLL and SLL2, raw IPv4/IPv6, loopback) into Azure VNet flow-log\n"
    "blobs under DIR, as the NICs of the --inside networks would log them:\n"
    "flows by 5-tuple with the initiator as source, B at the first packet, C\n"
    "every 5 minutes with the counts since the previous tuple, E at the close\n"
    "(RST, or FIN both ways) or after the idle timeout. A flow between two\n"
    "inside addresses is logged at both NICs (O at the source, I at the\n"
    "destination); with one end outside, once at the inside end. ICMP, non-IP\n"
    "frames and later IP fragments are counted, not logged (--icmp logs ICMP).\n"
    "Several captures\n"
    "are merged in time order.\n"
    "\n"
    "Options:\n"
    "  -i, --inside CIDRS      the monitored VNets, e.g. 10.0.0.0/8,fd00::/8\n"
    "  -o, --output DIR        write under DIR (created; must be empty unless\n"
    "                          --force)\n"
    "      --tcp-idle DURATION a TCP flow with no packets this long ends (4m)\n"
    "      --udp-idle DURATION a UDP flow with no packets this long ends (30s)\n"
    "      --icmp              also log ICMP as protocol 1 (58 for ICMPv6), ports 0,\n"
    "                          for non-Azure use (Azure never logs ICMP)\n"
    "      --policy FILE       NSG rules that deny flows, as JSON (README): the\n"
    "                          denying NIC logs D tuples, one per attempt\n"
    "      --max-warnings N    print at most N warnings per capture (default 20,\n"
    "                          0 = all); every one is counted in the summary\n"
    "      --force             write into a DIR that is not empty\n"
    "  -q, --quiet             no summary line on stderr\n"
    "  -h, --help              show this help\n"
    "\n"
    "Example:\n"
    "  scanlab pcap2flow --inside 10.0.0.0/16 -o flows scan.pcapng\n"
    "  scanlab detect flows\n"
    "\n"
    "Exit status: 0 ok (damaged packets are counted warnings), 1 a file that is\n"
    "not a capture, an unsupported link type or a write error, 2 usage error.\n";

#define MAX_INSIDE 64

/* Tuples wait here until their hour can no longer grow: a tuple is decided
 * at most FLUSH_LAG after its time (a held-back B until the next tuple, 5
 * minutes; an E at the idle timeout), so hour H is written once the packet
 * clock passes H + 1 h + FLUSH_LAG. Memory holds about an hour of tuples. */
#define FLUSH_LAG_MS (15 * 60000LL)

struct conv {
    const char *dir;
    scand_strtab *st;
    struct scand_tuple *t;
    size_t n, cap;
    long blobs;
    int failed;
    int64_t written_before; /* hours before this are written */
    uint64_t too_late;      /* tuples for an hour already written (lost, counted) */
};

static int on_tuple(void *arg, const struct scand_tuple *t)
{
    struct conv *c = arg;
    if (scand_blob_hour(t->ts_ms) < c->written_before) {
        c->too_late++;
        return 0;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4096;
        c->t = xreallocarray(c->t, c->cap, sizeof *c->t);
    }
    c->t[c->n++] = *t;
    return 0;
}

static long write_blobs(const char *dir, struct scand_tuple *t, size_t n, const scand_strtab *st);

/* Write the hours before `before` and keep the rest. */
static int flush(struct conv *c, int64_t before)
{
    size_t k = 0, m = 0;
    if (before > c->written_before && before != INT64_MAX)
        c->written_before = before; /* hours before this are complete, buffered or not */
    /* partition: the tuples to write first */
    for (size_t i = 0; i < c->n; i++)
        if (scand_blob_hour(c->t[i].ts_ms) < before) {
            struct scand_tuple x = c->t[i];
            c->t[i] = c->t[k];
            c->t[k++] = x;
        }
    if (k == 0)
        return 0;
    long b = write_blobs(c->dir, c->t, k, c->st);
    if (b < 0) {
        c->failed = 1;
        return -1;
    }
    c->blobs += b;
    for (size_t i = k; i < c->n; i++)
        c->t[m++] = c->t[i];
    c->n = m;
    return 0;
}

static int on_clock(void *arg, int64_t now)
{
    struct conv *c = arg;
    int64_t safe = scand_blob_hour(now - FLUSH_LAG_MS); /* hours before this are complete */
    return safe > c->written_before ? flush(c, safe) : 0; /* once an hour */
}

/* A sort key per tuple (24 bytes, not the 96-byte tuple): hour, NIC, time,
 * position (qsort is not stable). */
struct skey {
    int64_t hour;
    int64_t ts;
    uint32_t mac, pos;
};

static int cmp_key(const void *a, const void *b)
{
    const struct skey *x = a, *y = b;
    if (x->hour != y->hour)
        return x->hour < y->hour ? -1 : 1; /* one hour folder at a time */
    if (x->mac != y->mac)
        return x->mac < y->mac ? -1 : 1;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int fwrite_fn(void *arg, const void *buf, size_t len)
{
    return fwrite(buf, 1, len, arg) == len ? 0 : -1;
}

/* Write every NIC-hour blob of t[0..n); the number written, or -1 after
 * an error. A blob is written once: its hour is complete. */
static long write_blobs(const char *dir, struct scand_tuple *t, size_t n, const scand_strtab *st)
{
    struct skey *k = xmalloc((n ? n : 1) * sizeof *k);
    for (size_t i = 0; i < n; i++)
        k[i] = (struct skey){scand_blob_hour(t[i].ts_ms), t[i].ts_ms, t[i].mac, (uint32_t)i};
    qsort(k, n, sizeof *k, cmp_key);
    /* apply the order in place, cycle by cycle (no second copy of the
     * tuples): slot i takes tuple k[i].pos */
    for (size_t i = 0; i < n; i++) {
        if (k[i].pos == UINT32_MAX || k[i].pos == i)
            continue;
        struct scand_tuple first = t[i];
        size_t j = i;
        while (k[j].pos != i) {
            size_t from = k[j].pos;
            t[j] = t[from];
            k[j].pos = UINT32_MAX;
            j = from;
        }
        t[j] = first;
        k[j].pos = UINT32_MAX;
    }
    free(k);
    long blobs = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        int64_t hour = scand_blob_hour(t[i].ts_ms);
        while (j < n && t[j].mac == t[i].mac && scand_blob_hour(t[j].ts_ms) == hour)
            j++;
        size_t ml;
        const char *mac = scand_strtab_get(st, t[i].mac, &ml);
        char target[160];
        snprintf(target, sizeof target,
                 "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/pcap2flow/"
                 "providers/Microsoft.Network/networkInterfaces/nic-%s",
                 mac);
        struct scand_blob_meta meta = {
            mac, "00000000-0000-4000-8000-00000000p2f0",
            "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/"
            "NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/"
            "NETWORKWATCHER_PCAP2FLOW/FLOWLOGS/PCAP2FLOW",
            target};
        char rel[2048], path[PATH_MAX + 2048];
        scand_blob_path(&meta, hour, rel, sizeof rel);
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        int fd = cli_blob_open(path);
        FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (f == NULL) {
            if (fd >= 0) {
                cli_error("%s: %s", path, strerror(errno));
                close(fd);
            }
            return -1;
        }
        int rc = scand_blob_write(&meta, t + i, j - i, st, fwrite_fn, f);
        if (rc != SCAND_OK) {
            fclose(f);
            cli_error("%s: write error", path);
            return -1;
        }
        if (cli_close_out(f, path) != EXIT_OK)
            return -1;
        blobs++;
        i = j;
    }
    return blobs;
}

int cmd_pcap2flow(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"inside", required_argument, NULL, 'i'},  {"output", required_argument, NULL, 'o'},
        {"tcp-idle", required_argument, NULL, 'T'}, {"udp-idle", required_argument, NULL, 'U'},
        {"max-warnings", required_argument, NULL, 'w'}, {"force", no_argument, NULL, 'f'},
        {"policy", required_argument, NULL, 'P'}, {"icmp", no_argument, NULL, 'I'},
        {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct p2f_opts po;
    p2f_opts_default(&po);
    struct p2f_cidr inside[MAX_INSIDE];
    size_t n_inside = 0;
    const char *dir = NULL;
    int force = 0, quiet = 0;
    const char *policy = NULL;
    uint64_t max_warnings = 20;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":i:o:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'i':
            if (p2f_parse_cidrs(optarg, inside, MAX_INSIDE, &n_inside) != 0)
                return cli_usage_error("pcap2flow",
                                       "--inside: expected CIDRs like 10.0.0.0/16,fd00::/8 "
                                       "(at most %d), not '%s'",
                                       MAX_INSIDE, optarg);
            break;
        case 'o':
            dir = optarg;
            break;
        case 'T':
            if (cli_parse_duration("pcap2flow", "--tcp-idle", optarg, 1000, 86400000,
                                   &po.tcp_idle_ms) != 0)
                return EXIT_USAGE;
            break;
        case 'U':
            if (cli_parse_duration("pcap2flow", "--udp-idle", optarg, 1000, 86400000,
                                   &po.udp_idle_ms) != 0)
                return EXIT_USAGE;
            break;
        case 'w':
            if (cli_parse_u64("pcap2flow", "--max-warnings", optarg, 0, UINT64_MAX,
                              &max_warnings) != 0)
                return EXIT_USAGE;
            break;
        case 'f':
            force = 1;
            break;
        case 'P':
            policy = optarg;
            break;
        case 'I':
            po.icmp = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return EXIT_OK;
        case ':':
            return cli_usage_error("pcap2flow", "%s: missing argument", argv[optind - 1]);
        default:
            return cli_usage_error("pcap2flow", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (n_inside == 0)
        return cli_usage_error("pcap2flow", "missing --inside CIDRS (the monitored VNets)");
    if (dir == NULL)
        return cli_usage_error("pcap2flow", "missing -o DIR");
    if (optind >= argc)
        return cli_usage_error("pcap2flow", "missing CAPTURE");
    if (!cli_out_dir_ok(dir, force)) {
        return EXIT_INPUT;
    }
    po.inside = inside;
    po.n_inside = n_inside;
    struct p2f_deny *deny = NULL;
    if (policy != NULL && cli_load_policy(policy, &deny, &po.n_deny) != 0)
        return EXIT_INPUT;
    po.deny = deny;

    static struct conv c;
    memset(&c, 0, sizeof c);
    c.dir = dir;
    c.written_before = INT64_MIN;
    c.st = scand_strtab_new();
    if (c.st == NULL) {
        cli_error("out of memory");
        return EXIT_INPUT;
    }
    struct cap_stats cs;
    int rc = cap_run(argv + optind, argc - optind, &po, max_warnings, c.st, on_tuple, on_clock,
                     &c, &cs);
    if (rc == EXIT_OK && flush(&c, INT64_MAX) != 0)
        rc = EXIT_INPUT;
    char probe[PATH_MAX];
    snprintf(probe, sizeof probe, "%s/", dir);
    if (rc == EXIT_OK && cli_mkdirs(probe) != 0) { /* DIR exists, even with no flows */
        cli_error("%s: %s", dir, strerror(errno));
        rc = EXIT_INPUT;
    }
    if (rc == EXIT_OK && !quiet) {
        char sum[1024];
        cap_summary(&cs, sum, sizeof sum);
        fprintf(stderr, "scanlab: pcap2flow: %s, %llu tuples in %ld blobs\n", sum,
                (unsigned long long)cs.flows.tuples, c.blobs);
        if (c.too_late > 0)
            fprintf(stderr, "scanlab: pcap2flow: %llu tuples came after their hour's blob was "
                            "written (packets out of order by more than 15 minutes); not "
                            "written\n",
                    (unsigned long long)c.too_late);
        if (cs.warnings_suppressed > 0)
            fprintf(stderr, "scanlab: pcap2flow: %llu more warnings not shown (--max-warnings)\n",
                    (unsigned long long)cs.warnings_suppressed);
    }
    cli_blob_close();
    free(deny);
    scand_strtab_free(c.st);
    free(c.t);
    return rc;
}
