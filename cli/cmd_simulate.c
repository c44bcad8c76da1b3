/*
 * cmd_simulate.c - `scanlab simulate`: a scenario file in, the Azure VNet
 * flow-log blob tree and truth.json out (scenarios/README.md). The
 * simulator library does the work; this file reads the scenario, makes
 * directories, writes files and reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <dirent.h>

#include "cli.h"
#include "sim.h"
#include "sim_pcap.h"


static const char usage[] =
    "Usage: scanlab simulate [OPTIONS] SCENARIO.json -o DIR\n"
    "\n"
    "Generate a scenario's Azure VNet flow-log blobs (one PT1H.json per NIC and\n"
    "hour, laid out as Azure stores them) under DIR, and its ground truth in\n"
    "DIR/truth.json. Same scenario and seed, same bytes.\n"
    "\n"
    "Options:\n"
    "  -o, --output DIR        write under DIR (created; must be empty unless --force)\n"
    "      --seed N            use seed N instead of the scenario's\n"
    "      --labels            also write DIR/labels.csv: each tuple with its campaign\n"
    "      --pcap FILE         also write the same traffic as packets (pcap, headers\n"
    "                          only; for small scenarios: every packet is a record)\n"
    "      --force             write into a DIR that is not empty\n"
    "  -q, --quiet             no summary line on stderr\n"
    "  -h, --help              show this help\n"
    "\n"
    "Example:\n"
    "  scanlab simulate scenarios/default.json -o runs/default\n"
    "  scanlab detect runs/default\n"
    "\n"
    "Exit status: 0 ok, 1 bad scenario or I/O error, 2 usage error.\n";

/* A blob waiting for the writer thread: its path and its bytes. */
/* A blob for the writer: formatted bytes, or (when the writer has time to
 * spare) the tuples and metadata for it to format itself. */
struct job {
    struct job *next;
    char *data; /* formatted, or NULL */
    size_t len; /* bytes, or tuples when data is NULL */
    struct scand_tuple *t;
    struct scand_blob_meta meta;
    char *strs; /* the meta strings */
    char path[]; /* NUL-terminated */
};

/* Generation and formatting run on the main thread, file creation and
 * writing on a second one: on two cores the file system's cost overlaps
 * the generator's. The queue is bounded, so memory stays near one hour of
 * tuples. Blobs are separate files: the order of writes changes no byte. */
#define QUEUE_MAX_BYTES ((size_t)64 << 20)
#define QUEUE_SHARE_BYTES ((size_t)32 << 20) /* below this, the writer formats too */

struct membuf {
    char *p;
    size_t len, cap;
};

struct simrun {
    const char *dir;
    const scand_strtab *st;
    FILE *labels;
    _Atomic int failed; /* set by either thread, read by both */
    int show;
    double t0;
    pthread_t writer;
    pthread_mutex_t mu;
    pthread_cond_t more, room;
    struct job *head, *tail;
    size_t queued; /* bytes queued */
    int done;
};

/* mkdir -p of the directory part of path. */
/* Write one blob's bytes to path (writer thread). 0, or -1 after printing
 * the error. */
static int write_blob(const char *path, const char *data, size_t len)
{
    int fd = cli_blob_open(path);
    if (fd < 0)
        return -1;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            cli_error("%s: %s", path, w < 0 ? strerror(errno) : "write failed");
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0) {
        cli_error("%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int mem_sink(void *arg, const void *data, size_t len)
{
    struct membuf *b = arg;
    if (b->len + len > b->cap) {
        while (b->len + len > b->cap)
            b->cap = b->cap ? b->cap * 2 : 1 << 16;
        b->p = xreallocarray(b->p, b->cap, 1);
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return 0;
}

static void *writer_main(void *arg)
{
    struct simrun *r = arg;
    prctl(PR_SET_NAME, "scanlab-writer"); /* tells the threads apart in top and perf */
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->head == NULL && !r->done)
            pthread_cond_wait(&r->more, &r->mu);
        struct job *j = r->head;
        if (j == NULL)
            break; /* done and drained */
        r->head = j->next;
        if (r->head == NULL)
            r->tail = NULL;
        pthread_mutex_unlock(&r->mu);
        size_t weight = j->data ? j->len : j->len * sizeof *j->t;
        if (j->data == NULL && !r->failed) { /* format it here */
            struct membuf mb = {NULL, 0, 0};
            if (scand_blob_write(&j->meta, j->t, j->len, r->st, mem_sink, &mb) != SCAND_OK) {
                cli_error("%s: cannot format the blob", j->path);
                r->failed = 1;
            }
            j->data = mb.p;
            j->len = mb.len;
        }
        if (!r->failed && write_blob(j->path, j->data, j->len) != 0)
            r->failed = 1;
        pthread_mutex_lock(&r->mu);
        r->queued -= weight;
        pthread_cond_signal(&r->room);
        free(j->data);
        free(j->t);
        free(j->strs);
        free(j);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}


/* Generator side: format the blob, queue its bytes for the writer. */
static int on_blob(void *arg, const struct scand_blob_meta *meta, int64_t hour_ms,
                   const struct scand_tuple *t, size_t n)
{
    struct simrun *r = arg;
    if (r->failed)
        return -1;
    char rel[1024], path[PATH_MAX];
    scand_blob_path(meta, hour_ms, rel, sizeof rel);
    int plen = snprintf(path, sizeof path, "%s/%s", r->dir, rel);
    if (plen < 0 || (size_t)plen >= sizeof path) {
        cli_error("%s: blob path too long", r->dir);
        return r->failed = -1;
    }
    if (r->labels != NULL) {
        char line[256];
        for (size_t i = 0; i < n; i++) {
            scand_tuple_format(&t[i], line, sizeof line);
            fprintf(r->labels, "%s,%s,%u\n", meta->mac, line, t[i].campaign);
        }
    }
    struct job *j = xcalloc(1, sizeof *j + (size_t)plen + 1);
    memcpy(j->path, path, (size_t)plen + 1);
    /* Share the formatting: while the writer keeps up (little queued), it
     * formats; when it falls behind, this thread does. Either way the
     * bytes are the same. */
    pthread_mutex_lock(&r->mu);
    int writer_idle = r->queued < QUEUE_SHARE_BYTES;
    pthread_mutex_unlock(&r->mu);
    size_t weight;
    if (writer_idle) {
        j->t = xcalloc(n ? n : 1, sizeof *t);
        memcpy(j->t, t, n * sizeof *t);
        j->len = n;
        const char *src[4] = {meta->mac, meta->flow_log_guid, meta->flow_log_resource,
                              meta->target_resource};
        size_t total = 0, l[4];
        for (int i = 0; i < 4; i++)
            total += (l[i] = strlen(src[i])) + 1;
        j->strs = xmalloc(total);
        const char **dst[4] = {&j->meta.mac, &j->meta.flow_log_guid, &j->meta.flow_log_resource,
                               &j->meta.target_resource};
        char *q = j->strs;
        for (int i = 0; i < 4; i++) {
            memcpy(q, src[i], l[i] + 1);
            *dst[i] = q;
            q += l[i] + 1;
        }
        weight = n * sizeof *t;
    } else {
        struct membuf mb = {NULL, 0, 0};
        if (scand_blob_write(meta, t, n, r->st, mem_sink, &mb) != SCAND_OK) {
            cli_error("%s: cannot format the blob", path);
            free(mb.p);
            free(j);
            return r->failed = -1;
        }
        j->data = mb.p;
        j->len = mb.len;
        weight = mb.len;
    }
    pthread_mutex_lock(&r->mu);
    while (r->queued > 0 && r->queued + weight > QUEUE_MAX_BYTES && !r->failed)
        pthread_cond_wait(&r->room, &r->mu);
    r->queued += weight;
    if (r->tail != NULL)
        r->tail->next = j;
    else
        r->head = j;
    r->tail = j;
    pthread_cond_signal(&r->more);
    pthread_mutex_unlock(&r->mu);
    return r->failed ? -1 : 0;
}

static int on_packet(void *arg, const struct sim_packet *p)
{
    return sim_pcap_write(arg, p);
}

static void on_progress(void *arg, int64_t hour_ms, uint64_t tuples)
{
    struct simrun *r = arg;
    if (!r->show)
        return;
    cli_progress("simulate", hour_ms, tuples, r->t0);
}

int cmd_simulate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"seed", required_argument, NULL, 's'},
        {"labels", no_argument, NULL, 'l'},       {"force", no_argument, NULL, 'f'},
        {"pcap", required_argument, NULL, 'p'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *pcap_path = NULL;
    int labels = 0, force = 0, quiet = 0, have_seed = 0;
    uint64_t seed = 0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (cli_path_arg("simulate", "-o", optarg) != EXIT_OK)
                return EXIT_USAGE;
            dir = optarg;
            break;
        case 's':
            if (cli_parse_u64("simulate", "--seed", optarg, 0, 9007199254740991ULL, &seed) != 0)
                return EXIT_USAGE;
            have_seed = 1;
            break;
        case 'l':
            labels = 1;
            break;
        case 'p':
            pcap_path = optarg;
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
            return cli_usage_error("simulate", "%s: missing argument", argv[optind - 1]);
        default:
            return cli_usage_error("simulate", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("simulate", optind == argc ? "missing SCENARIO.json"
                                                          : "one SCENARIO.json at a time");
    if (dir == NULL)
        return cli_usage_error("simulate", "missing -o DIR");
    sim_scenario *sc = cli_load_scenario(argv[optind]);
    if (sc == NULL)
        return EXIT_INPUT;
    char err[SIM_ERRBUF_SIZE];
    int rc;
    if (have_seed)
        sim_scenario_set_seed(sc, seed);
    if (!cli_out_dir_ok(dir, force)) {
        sim_scenario_free(sc);
        return EXIT_INPUT;
    }
    char probe[PATH_MAX];
    snprintf(probe, sizeof probe, "%s/", dir);
    if (cli_mkdirs(probe) != 0) {
        cli_error("%s: %s", dir, strerror(errno));
        sim_scenario_free(sc);
        return EXIT_INPUT;
    }
    static struct simrun r; /* 1 MiB of I/O buffer: not on the stack */
    r.dir = dir;
    r.show = !quiet && cli_tty();
    r.t0 = cli_now();
    char lpath[PATH_MAX];
    if (labels) {
        snprintf(lpath, sizeof lpath, "%s/labels.csv", dir);
        r.labels = fopen(lpath, "w");
        if (r.labels == NULL) {
            cli_error("%s: %s", lpath, strerror(errno));
            sim_scenario_free(sc);
            return EXIT_INPUT;
        }
        fputs("mac,ts,src,dst,sport,dport,proto,dir,state,enc,pkts_s2d,bytes_s2d,pkts_d2s,"
              "bytes_d2s,campaign\n",
              r.labels);
    }
    scand_strtab *st = scand_strtab_new();
    if (st == NULL) {
        cli_error("out of memory");
        sim_scenario_free(sc);
        return EXIT_INPUT;
    }
    r.st = st;
    sim_pcap *pc = NULL;
    if (pcap_path != NULL && (pc = sim_pcap_open(pcap_path, err, sizeof err)) == NULL) {
        cli_error("%s", err);
        if (r.labels != NULL)
            fclose(r.labels);
        scand_strtab_free(st);
        sim_scenario_free(sc);
        return EXIT_INPUT;
    }
    struct sim_hooks hooks = {on_blob, &r, pc ? on_packet : NULL, pc, on_progress, &r, 0};
    struct sim_result *res = NULL;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.more, NULL);
    pthread_cond_init(&r.room, NULL);
    if (pthread_create(&r.writer, NULL, writer_main, &r) != 0) {
        cli_error("cannot start the writer thread");
        exit(EXIT_INPUT);
    }
    rc = sim_generate(sc, st, &hooks, &res, err, sizeof err);
    pthread_mutex_lock(&r.mu);
    r.done = 1;
    pthread_cond_signal(&r.more);
    pthread_mutex_unlock(&r.mu);
    pthread_join(r.writer, NULL);
    cli_blob_close();
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.more);
    pthread_cond_destroy(&r.room);
    if (rc == 0 && r.failed) { /* the writer failed after the last blob was queued */
        sim_result_free(res);
        res = NULL;
        rc = -1;
    }
    if (r.show)
        fprintf(stderr, "\r\033[K");
    int exit_code = EXIT_OK;
    if (rc != 0) {
        if (!r.failed)
            cli_error("simulate: %s", err);
        exit_code = EXIT_INPUT;
    }
    if (r.labels != NULL && cli_close_out(r.labels, lpath) != EXIT_OK)
        exit_code = EXIT_INPUT;
    uint64_t packets = pc ? sim_pcap_packets(pc) : 0;
    if (pc != NULL && sim_pcap_close(pc, err, sizeof err) != 0) {
        cli_error("%s: %s", pcap_path, err);
        exit_code = EXIT_INPUT;
    }
    if (exit_code == EXIT_OK) {
        char *truth = sim_truth_json(sc, res);
        char tpath[PATH_MAX];
        snprintf(tpath, sizeof tpath, "%s/truth.json", dir);
        FILE *f = truth ? fopen(tpath, "w") : NULL;
        if (truth == NULL)
            cli_error("out of memory");
        else if (f == NULL)
            cli_error("%s: %s", tpath, strerror(errno));
        if (f == NULL) {
            exit_code = EXIT_INPUT;
        } else {
            fputs(truth, f);
            if (cli_close_out(f, tpath) != EXIT_OK)
                exit_code = EXIT_INPUT;
        }
        free(truth);
    }
    if (exit_code == EXIT_OK && !quiet) {
        size_t vis = 0;
        for (size_t i = 0; i < res->n_camps; i++)
            vis += (size_t)res->camps[i].visible;
        fprintf(stderr,
                "scanlab: simulate: %s seed %llu: %lld h, %zu VMs (%zu NICs logged), %llu "
                "flows, %llu tuples in %llu blobs; %zu campaigns (%zu visible), %zu "
                "hard-negative classes; %.2f s\n",
                sim_scenario_name(sc), (unsigned long long)sim_scenario_seed(sc),
                (long long)((res->end_ms - res->start_ms) / 3600000), res->n_vms,
                res->n_nics_logged, (unsigned long long)res->flows,
                (unsigned long long)res->tuples, (unsigned long long)res->blobs, res->n_camps,
                vis, res->n_hn, cli_now() - r.t0);
        if (pcap_path != NULL)
            fprintf(stderr, "scanlab: simulate: %llu packets to %s\n",
                    (unsigned long long)packets, pcap_path);
    }
    sim_result_free(res);
    scand_strtab_free(st);
    sim_scenario_free(sc);
    return exit_code;
}
