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

#include <pcap/pcap.h>

#include "cli.h"
#include "p2f.h"

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
    "frames and later IP fragments are counted, not logged. Several captures\n"
    "are merged in time order.\n"
    "\n"
    "Options:\n"
    "  -i, --inside CIDRS      the monitored VNets, e.g. 10.0.0.0/8,fd00::/8\n"
    "  -o, --output DIR        write under DIR (created; must be empty unless\n"
    "                          --force)\n"
    "      --tcp-idle DURATION a TCP flow with no packets this long ends (4m)\n"
    "      --udp-idle DURATION a UDP flow with no packets this long ends (30s)\n"
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

struct cap {
    const char *path;
    pcap_t *pc;
    int dlt;
    uint64_t index; /* packets read */
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int done;
    uint64_t warnings;
};

struct conv {
    struct scand_tuple *t;
    size_t n, cap;
    uint64_t verdicts[P2F_N_VERDICTS];
    uint64_t cut_files, warnings_suppressed;
    uint64_t max_warnings;
};

static int on_tuple(void *arg, const struct scand_tuple *t)
{
    struct conv *c = arg;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4096;
        c->t = xreallocarray(c->t, c->cap, sizeof *c->t);
    }
    c->t[c->n++] = *t;
    return 0;
}

static void warn(struct conv *c, struct cap *k, const char *what)
{
    if (c->max_warnings != 0 && k->warnings >= c->max_warnings) {
        c->warnings_suppressed++;
        return;
    }
    k->warnings++;
    cli_warn("%s: packet %llu: %s", k->path, (unsigned long long)k->index, what);
}

/* Advance capture k to its next packet; 0, or marks it done. */
static void next(struct conv *c, struct cap *k)
{
    int rc = pcap_next_ex(k->pc, &k->hdr, &k->data);
    if (rc == 1) {
        k->index++;
        return;
    }
    if (rc == -1) { /* a cut or damaged record: the rest of the file is lost */
        char what[PCAP_ERRBUF_SIZE + 64];
        snprintf(what, sizeof what, "capture cut or damaged here: %s; the rest is skipped",
                 pcap_geterr(k->pc));
        k->index++;
        warn(c, k, what);
        c->cut_files++;
    }
    k->done = 1;
}

static int cmp_tuple(const void *a, const void *b)
{
    const struct scand_tuple *x = a, *y = b;
    if (x->mac != y->mac)
        return x->mac < y->mac ? -1 : 1;
    int64_t hx = scand_blob_hour(x->ts_ms), hy = scand_blob_hour(y->ts_ms);
    if (hx != hy)
        return hx < hy ? -1 : 1;
    if (x->ts_ms != y->ts_ms)
        return x->ts_ms < y->ts_ms ? -1 : 1;
    return 0;
}

static int fwrite_fn(void *arg, const void *buf, size_t len)
{
    return fwrite(buf, 1, len, arg) == len ? 0 : -1;
}

/* Write every NIC-hour blob; the number written, or -1 after an error. */
static long write_blobs(const char *dir, struct conv *c, const scand_strtab *st)
{
    /* qsort is not stable: order equal keys by their position first */
    for (size_t i = 0; i < c->n; i++)
        c->t[i].campaign = (uint32_t)i; /* (no truth here) a tie-break index */
    qsort(c->t, c->n, sizeof *c->t, cmp_tuple);
    long blobs = 0;
    for (size_t i = 0; i < c->n;) {
        size_t j = i + 1;
        int64_t hour = scand_blob_hour(c->t[i].ts_ms);
        while (j < c->n && c->t[j].mac == c->t[i].mac && scand_blob_hour(c->t[j].ts_ms) == hour)
            j++;
        for (size_t k = i; k < j; k++)
            c->t[k].campaign = 0;
        size_t ml;
        const char *mac = scand_strtab_get(st, c->t[i].mac, &ml);
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
        if (cli_mkdirs(path) != 0) {
            cli_error("%s: %s", path, strerror(errno));
            return -1;
        }
        FILE *f = fopen(path, "wb");
        if (f == NULL) {
            cli_error("%s: %s", path, strerror(errno));
            return -1;
        }
        int rc = scand_blob_write(&meta, c->t + i, j - i, st, fwrite_fn, f);
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
        {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct p2f_opts po;
    p2f_opts_default(&po);
    struct p2f_cidr inside[MAX_INSIDE];
    size_t n_inside = 0;
    const char *dir = NULL;
    int force = 0, quiet = 0;
    static struct conv c;
    memset(&c, 0, sizeof c);
    c.max_warnings = 20;
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
                              &c.max_warnings) != 0)
                return EXIT_USAGE;
            break;
        case 'f':
            force = 1;
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
    int ne = cli_dir_state(dir);
    if (ne < 0 || (ne > 0 && !force)) {
        if (ne < 0)
            cli_error("%s: %s", dir, strerror(errno));
        else
            cli_error("%s: not empty (use --force to write into it anyway)", dir);
        return EXIT_INPUT;
    }
    po.inside = inside;
    po.n_inside = n_inside;

    size_t nk = (size_t)(argc - optind);
    struct cap *caps = xcalloc(nk, sizeof *caps);
    int rc = EXIT_OK;
    for (size_t i = 0; i < nk; i++) {
        char errbuf[PCAP_ERRBUF_SIZE];
        caps[i].path = argv[optind + (int)i];
        caps[i].pc = pcap_open_offline_with_tstamp_precision(
            caps[i].path, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
        if (caps[i].pc == NULL) {
            cli_error("%s: not a pcap or pcapng capture (libpcap: %s)", caps[i].path, errbuf);
            rc = EXIT_INPUT;
            break;
        }
        caps[i].dlt = pcap_datalink(caps[i].pc);
        if (!p2f_linktype_ok(caps[i].dlt)) {
            const char *name = pcap_datalink_val_to_name(caps[i].dlt);
            cli_error("%s: link type %d (%s) is not supported (Ethernet, Linux SLL/SLL2, raw "
                      "IP, loopback)",
                      caps[i].path, caps[i].dlt, name ? name : "unknown");
            rc = EXIT_INPUT;
            break;
        }
    }
    scand_strtab *st = rc == EXIT_OK ? scand_strtab_new() : NULL;
    p2f *p = st != NULL ? p2f_new(&po, st, on_tuple, &c) : NULL;
    if (rc == EXIT_OK && p == NULL) {
        cli_error("out of memory");
        rc = EXIT_INPUT;
    }
    uint64_t packets = 0;
    if (rc == EXIT_OK) {
        for (size_t i = 0; i < nk; i++)
            next(&c, &caps[i]);
        for (;;) {
            /* the capture whose next packet is earliest (ties: argument order) */
            struct cap *k = NULL;
            for (size_t i = 0; i < nk; i++) {
                if (caps[i].done)
                    continue;
                if (k == NULL || caps[i].hdr->ts.tv_sec < k->hdr->ts.tv_sec ||
                    (caps[i].hdr->ts.tv_sec == k->hdr->ts.tv_sec &&
                     caps[i].hdr->ts.tv_usec < k->hdr->ts.tv_usec))
                    k = &caps[i];
            }
            if (k == NULL)
                break;
            packets++;
            struct p2f_pkt pk;
            int64_t ts = (int64_t)k->hdr->ts.tv_sec * 1000000 + k->hdr->ts.tv_usec;
            int v = p2f_decode(k->dlt, k->data, k->hdr->caplen, k->hdr->len, ts, &pk);
            c.verdicts[v]++;
            if (v == P2F_TRUNCATED || v == P2F_BAD_HEADER)
                warn(&c, k, v == P2F_TRUNCATED ? "headers cut by the capture length; skipped"
                                               : "impossible header lengths; skipped");
            if (v == P2F_FLOW && p2f_packet(p, &pk) != 0) {
                cli_error("out of memory");
                rc = EXIT_INPUT;
                break;
            }
            next(&c, k);
        }
    }
    if (rc == EXIT_OK && p2f_finish(p) != 0) {
        cli_error("out of memory");
        rc = EXIT_INPUT;
    }
    long blobs = 0;
    if (rc == EXIT_OK) {
        char probe[PATH_MAX];
        snprintf(probe, sizeof probe, "%s/", dir);
        if (cli_mkdirs(probe) != 0) {
            cli_error("%s: %s", dir, strerror(errno));
            rc = EXIT_INPUT;
        } else if ((blobs = write_blobs(dir, &c, st)) < 0) {
            rc = EXIT_INPUT;
        }
    }
    if (rc == EXIT_OK && !quiet) {
        struct p2f_stats s;
        p2f_get_stats(p, &s);
        fprintf(stderr,
                "scanlab: pcap2flow: %zu capture%s, %llu packets (%llu TCP/UDP, %llu ICMP, "
                "%llu not IP, %llu other IP, %llu later fragments, %llu truncated, %llu bad "
                "headers), %llu cut captures; %llu flows (%llu mid-stream, %llu outside "
                "skipped, %llu packets after close), %llu tuples in %ld blobs\n",
                nk, nk == 1 ? "" : "s", (unsigned long long)packets,
                (unsigned long long)c.verdicts[P2F_FLOW], (unsigned long long)c.verdicts[P2F_ICMP],
                (unsigned long long)c.verdicts[P2F_NOT_IP],
                (unsigned long long)c.verdicts[P2F_OTHER_PROTO],
                (unsigned long long)c.verdicts[P2F_FRAGMENT],
                (unsigned long long)c.verdicts[P2F_TRUNCATED],
                (unsigned long long)c.verdicts[P2F_BAD_HEADER],
                (unsigned long long)c.cut_files, (unsigned long long)s.flows,
                (unsigned long long)s.midstream, (unsigned long long)s.outside,
                (unsigned long long)s.after_close, (unsigned long long)c.n, blobs);
        if (c.warnings_suppressed > 0)
            fprintf(stderr, "scanlab: pcap2flow: %llu more warnings not shown (--max-warnings)\n",
                    (unsigned long long)c.warnings_suppressed);
    }
    for (size_t i = 0; i < nk; i++)
        if (caps[i].pc != NULL)
            pcap_close(caps[i].pc);
    free(caps);
    p2f_free(p);
    scand_strtab_free(st);
    free(c.t);
    return rc;
}
