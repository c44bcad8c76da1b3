/*
 * detectmem.c - in-memory detection throughput for `make bench`: tuples
 * already parsed, so only the detector is timed.
 *
 *   detectmem FILE [--repeat N] [--small-pages] [--preset NAME] [--config FILE]
 *             [KEY=VALUE...]
 *   detectmem FILE --floor        time one bare pass reading every tuple
 *                                 (the memory floor), prints floor= seconds=
 *
 * Reads every tuple of FILE (one blob) into memory with the reader, then
 * times scand_feed() over all of them in batches of 4096 and scand_flush(),
 * with CLOCK_MONOTONIC, and prints one line to stdout:
 *
 *   tuples=5002927 alerts=131 runs=1 min=0.412 seconds=0.412
 *
 * --repeat N times N passes, each with a new context configured the same
 * way (shared machines are noisy; one parse serves them all): seconds is
 * their median, min the fastest, alerts those of one pass.
 *
 * The parsed tuples (about 100 bytes each, half a gigabyte for five
 * million) are copied into memory backed by 2 MiB pages where the kernel
 * gives them (madvise MADV_HUGEPAGE, Debian's default THP mode): streamed
 * through 4 KiB pages, the array alone costs a TLB miss every 40 tuples,
 * a cost of this harness, not of the detector, which `scanlab detect`
 * feeds from small reused batches. --small-pages keeps the 4 KiB pages,
 * to show that cost. The line ends with huge_kib=, the tuple memory the
 * kernel backed with huge pages (0: it did not; absent: --small-pages).
 *
 * Exit 0 on success, 1 on an I/O or detector error, 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "scand.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static ssize_t read_fd(void *arg, void *buf, size_t len)
{
    return read(*(int *)arg, buf, len);
}

static uint64_t alerts;

static int on_alert(void *arg, const struct scand_alert *a)
{
    (void)arg;
    (void)a;
    alerts++;
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    for (size_t got; b != NULL && (got = fread(b + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap)
            b = realloc(b, cap *= 2);
    }
    fclose(f);
    *len = n;
    return b;
}

/* A context configured by the options argv[2..argc), finalized; NULL
 * after a message (*usage = 1 for a usage error). */
static scand_ctx *make_ctx(int argc, char **argv, int *usage)
{
    char err[SCAND_ERRBUF_SIZE] = "";
    scand_ctx *ctx = scand_new(err);
    *usage = 0;
    if (ctx == NULL) {
        fprintf(stderr, "detectmem: %s\n", err);
        return NULL;
    }
    for (int i = 2; i < argc; i++) {
        int rc = SCAND_OK;
        if (strcmp(argv[i], "--floor") == 0 || strcmp(argv[i], "--small-pages") == 0) {
            continue;
        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            i++;
        } else if (strcmp(argv[i], "--preset") == 0 && i + 1 < argc) {
            rc = scand_set_preset(ctx, argv[++i]);
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            size_t len;
            char *text = slurp(argv[++i], &len);
            rc = text ? scand_config_load_json(ctx, argv[i], text, len) : SCAND_ERR_IO;
            free(text);
        } else {
            const char *eq = strchr(argv[i], '=');
            if (eq == NULL) {
                fprintf(stderr, "detectmem: '%s': expected KEY=VALUE\n", argv[i]);
                *usage = 1;
                scand_free(ctx);
                return NULL;
            }
            char key[128];
            snprintf(key, sizeof key, "%.*s", (int)(eq - argv[i]), argv[i]);
            rc = scand_set_config(ctx, key, eq + 1);
        }
        if (rc != SCAND_OK) {
            fprintf(stderr, "detectmem: %s\n", scand_geterr(ctx));
            *usage = 1;
            scand_free(ctx);
            return NULL;
        }
    }
    scand_set_alert_cb(ctx, on_alert, NULL);
    if (scand_finalize(ctx) != SCAND_OK) {
        fprintf(stderr, "detectmem: %s\n", scand_geterr(ctx));
        *usage = 1;
        scand_free(ctx);
        return NULL;
    }
    return ctx;
}

#define HUGE_PAGE ((size_t)2 << 20)

/* t[0..n) moved to memory asked to be backed by huge pages; t itself
 * when that memory cannot be had (*huge stays 0). */
static struct scand_tuple *to_huge_pages(struct scand_tuple *t, size_t n, int *huge)
{
    size_t bytes = (n * sizeof *t + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    void *h = bytes > 0 ? aligned_alloc(HUGE_PAGE, bytes) : NULL;
    if (h == NULL)
        return t;
    *huge = madvise(h, bytes, MADV_HUGEPAGE) == 0;
    memcpy(h, t, n * sizeof *t);
    free(t);
    return h;
}

/* AnonHugePages of this process, KiB; 0 when unknown. */
static unsigned long huge_kib(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    unsigned long kib = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "AnonHugePages: %lu kB", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kib;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n sorted times. */
static double median(const double *s, int n)
{
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: detectmem FILE [--floor] [--repeat N] [--small-pages] "
                        "[--preset NAME] [--config FILE] [KEY=VALUE...]\n");
        return 2;
    }
    char err[SCAND_ERRBUF_SIZE] = "";
    int floor_only = 0, repeat = 1, small_pages = 0, usage;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--floor") == 0)
            floor_only = 1;
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            repeat = *end == '\0' && v >= 1 && v <= 1000 ? (int)v : 0;
        }
        else if (strcmp(argv[i], "--small-pages") == 0)
            small_pages = 1;
        else if (strcmp(argv[i], "--preset") == 0 || strcmp(argv[i], "--config") == 0)
            i++;
    }
    if (repeat < 1 || repeat > 1000) {
        fprintf(stderr, "detectmem: --repeat: expected 1 to 1000\n");
        return 2;
    }
    scand_ctx *ctx = make_ctx(argc, argv, &usage); /* options checked before the long read */
    if (ctx == NULL)
        return usage ? 2 : 1;
    scand_free(ctx);
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "detectmem: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    scand_strtab *st = scand_strtab_new();
    scand_reader *r = scand_reader_new(argv[1], read_fd, &fd, st, err);
    if (st == NULL || r == NULL) {
        fprintf(stderr, "detectmem: %s\n", err);
        return 1;
    }
    struct scand_tuple *t = NULL;
    size_t n = 0, cap = 0;
    struct scand_record rec;
    int rc;
    while ((rc = scand_reader_next(r, &rec)) == 1) {
        if (n + rec.n_tuples > cap) {
            cap = (n + rec.n_tuples) * 2;
            t = realloc(t, cap * sizeof *t);
            if (t == NULL) {
                fprintf(stderr, "detectmem: out of memory\n");
                return 1;
            }
        }
        memcpy(t + n, rec.tuples, rec.n_tuples * sizeof *t);
        n += rec.n_tuples;
    }
    close(fd);
    if (rc < 0) {
        fprintf(stderr, "detectmem: %s\n", scand_reader_geterr(r));
        return 1;
    }
    int huge = 0;
    if (!small_pages)
        t = to_huge_pages(t, n, &huge);
    char pages[64] = "";
    if (!small_pages)
        snprintf(pages, sizeof pages, " huge_kib=%lu", huge ? huge_kib() : 0UL);
    if (floor_only) {
        /* the floor: one pass over the tuples reading what the flow table
         * reads (time, addresses, ports, protocol, state, counters) */
        double secs[1000];
        uint64_t sum = 0;
        for (int p = 0; p < repeat; p++) {
            double f0 = now_s();
            for (size_t i = 0; i < n; i++)
                sum += (uint64_t)t[i].ts_ms ^ t[i].src[15] ^ t[i].dst[15] ^ t[i].sport ^
                       t[i].dport ^ t[i].proto ^ t[i].state ^ t[i].pkts_s2d ^ t[i].bytes_d2s;
            secs[p] = now_s() - f0;
        }
        qsort(secs, (size_t)repeat, sizeof *secs, cmp_double);
        printf("tuples=%zu floor=%llu runs=%d min=%.6f seconds=%.6f%s\n", n,
               (unsigned long long)(sum & 1), repeat, secs[0], median(secs, repeat), pages);
        free(t);
        scand_reader_free(r);
        scand_strtab_free(st);
        return 0;
    }
    double secs[1000];
    uint64_t pass_alerts = 0;
    for (int p = 0; p < repeat; p++) {
        ctx = make_ctx(argc, argv, &usage);
        if (ctx == NULL)
            return usage ? 2 : 1;
        alerts = 0;
        double t0 = now_s();
        for (size_t i = 0; i < n; i += 4096) {
            size_t m = n - i < 4096 ? n - i : 4096;
            if (scand_feed(ctx, t + i, m) != SCAND_OK) {
                fprintf(stderr, "detectmem: %s\n", scand_geterr(ctx));
                return 1;
            }
        }
        if (scand_flush(ctx) != SCAND_OK) {
            fprintf(stderr, "detectmem: %s\n", scand_geterr(ctx));
            return 1;
        }
        secs[p] = now_s() - t0;
        if (p > 0 && alerts != pass_alerts) {
            fprintf(stderr, "detectmem: pass %d gave %llu alerts, pass 1 %llu\n", p + 1,
                    (unsigned long long)alerts, (unsigned long long)pass_alerts);
            return 1;
        }
        pass_alerts = alerts;
        scand_free(ctx);
    }
    qsort(secs, (size_t)repeat, sizeof *secs, cmp_double);
    printf("tuples=%zu alerts=%llu runs=%d min=%.6f seconds=%.6f%s\n", n,
           (unsigned long long)pass_alerts, repeat, secs[0], median(secs, repeat), pages);
    free(t);
    scand_reader_free(r);
    scand_strtab_free(st);
    return 0;
}
