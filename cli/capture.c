/*
 * capture.c - packet captures into flow tuples for pcap2flow and detect:
 * libpcap opens each file (pcap or pcapng), the files are merged by packet
 * time, each frame is decoded and fed to the flow engine (sim/p2f.c).
 * Damage is counted and warned about with the file and packet number; a
 * file that is not a capture or has a link type we do not read is an error.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "cli.h"

#define READ_BUF (1 << 18) /* each capture's stdio buffer, bytes */

struct cap {
    const char *path;
    pcap_t *pc;
    char *buf; /* the FILE's buffer: freed after pcap_close() */
    int dlt;
    uint64_t index; /* packets read */
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int done;
    uint64_t warnings;
};

int cap_is_capture(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    unsigned char m[4];
    size_t n = fread(m, 1, 4, f);
    fclose(f);
    if (n != 4)
        return 0;
    uint32_t be = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
    return be == 0xa1b2c3d4 || be == 0xd4c3b2a1 || be == 0xa1b23c4d || be == 0x4d3cb2a1 ||
           be == 0x0a0d0d0a;
}

static void warn(struct cap_stats *s, struct cap *k, uint64_t max, const char *what)
{
    if (max != 0 && k->warnings >= max) {
        s->warnings_suppressed++;
        return;
    }
    k->warnings++;
    cli_warn("%s: packet %llu: %s", k->path, (unsigned long long)k->index, what);
}

static void next(struct cap_stats *s, struct cap *k, uint64_t max)
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
        warn(s, k, max, what);
        s->cut_files++;
    }
    k->done = 1;
}

/* Decoded packets go from the reader (libpcap and the decoder) to the flow
 * engine in batches through a ring of RING buffers: the reader runs on a
 * thread of its own, so reading the files overlaps the flow engine and
 * what it feeds. A batch ends at every second of capture time, where the
 * clock is called after its packets, as when one thread did both.
 *
 * The ring is large (128 batches, 4 MiB) so that a slot the reader fills
 * again has long left the engine's cache: with 8 slots the engine still
 * held a slot's lines when the reader rewrote them, every line went back
 * and forth between the cores, and when this shared machine placed the
 * two far apart the reader's CPU time doubled (0.6 to 1.1-1.3 s on the
 * bench capture, 1.3-1.7 s instead of 1.05 s in all). With 128 slots
 * those runs take 1.04-1.15 s; when the cores are close it makes no
 * difference. */
enum { BATCH = 512, RING = 128 };

struct batch {
    struct p2f_pkt pk[BATCH + 2]; /* + a confirmed jump */
    size_t n;
    int has_clock;
    int64_t clock_ms;
    const char *path; /* where its last packet came from, for errors */
    uint64_t index;
};

struct feed {
    /* the reader's side */
    struct cap *caps;
    int n;
    const struct p2f_opts *po;
    uint64_t max_warnings;
    struct cap_stats *s;
    /* the engine's side */
    p2f *p;
    cap_clock_fn clock;
    void *arg;
    int rc; /* the engine's verdict: EXIT_INPUT stops the reader */
    int threaded;
    struct ring ring; /* RING batches, when threaded */
    struct batch one; /* the only batch, when not */
};

/* Feed one batch to the flow engine, then the clock; the engine's thread. */
static int consume(struct feed *f, const struct batch *b)
{
    if (b->n > 0 && p2f_packets(f->p, b->pk, b->n) != 0) {
        cli_error("%s: packet %llu: out of memory", b->path, (unsigned long long)b->index);
        return EXIT_INPUT;
    }
    if (b->has_clock && f->clock(f->arg, b->clock_ms) != 0)
        return EXIT_INPUT; /* printed */
    return EXIT_OK;
}

/* The batch the reader fills next, empty, or NULL when the engine has
 * stopped. */
static struct batch *fill_slot(struct feed *f)
{
    struct batch *b = f->threaded ? ring_slot(&f->ring) : f->rc == EXIT_OK ? &f->one : NULL;
    if (b != NULL)
        b->n = 0, b->has_clock = 0, b->path = "", b->index = 0;
    return b;
}

/* Hand the filled batch over (without a thread: feed it now); the next to
 * fill, or NULL when the engine has stopped. */
static struct batch *submit(struct feed *f, struct batch *b)
{
    if (f->threaded)
        ring_put(&f->ring);
    else if (f->rc == EXIT_OK)
        f->rc = consume(f, b);
    return fill_slot(f);
}

/* The reader: every capture merged by packet time, decoded into batches. */
static void *reader(void *arg)
{
    struct feed *f = arg;
    struct cap *caps = f->caps;
    int n = f->n;
    struct cap_stats *s = f->s;
    uint64_t max_warnings = f->max_warnings;
    int64_t last_clock = INT64_MIN;
    int64_t newest = INT64_MIN; /* the latest packet time taken */
    struct p2f_pkt susp;        /* a packet far ahead, waiting for confirmation */
    int have_susp = 0, susp_keep = 0, susp_v = 0;
    int64_t susp_from = 0;
    const char *susp_path = "";
    uint64_t susp_index = 0;
    struct batch *b = fill_slot(f);
    for (int i = 0; i < n; i++)
        next(s, &caps[i], max_warnings);
    while (b != NULL) {
        /* the engine failed: stop here, not a batch later (no more reading,
         * no warnings about packets after the error) */
        if (f->threaded && ring_stopped(&f->ring))
            break;
        /* the capture whose next packet is earliest (ties: argument order) */
        struct cap *k = NULL;
        for (int i = 0; i < n; i++) {
            if (caps[i].done)
                continue;
            if (k == NULL || caps[i].hdr->ts.tv_sec < k->hdr->ts.tv_sec ||
                (caps[i].hdr->ts.tv_sec == k->hdr->ts.tv_sec &&
                 caps[i].hdr->ts.tv_usec < k->hdr->ts.tv_usec))
                k = &caps[i];
        }
        if (k == NULL)
            break;
        s->packets++;
        struct p2f_pkt *pk = &b->pk[b->n];
        const struct timeval tv = k->hdr->ts;
        if (tv.tv_sec < 0 || (int64_t)tv.tv_sec >= ((int64_t)1 << 33) || tv.tv_usec < 0 ||
            tv.tv_usec >= 1000000) {
            s->bad_time++;
            warn(s, k, max_warnings, "timestamp out of range; skipped");
            next(s, k, max_warnings);
            continue;
        }
        /* A flow log's times are milliseconds of 13 digits or more (fewer
         * are read as seconds): a clock before 2001-09-09T01:46:40Z, such
         * as a device's that started at 1970, would come back wrong. */
        if (tv.tv_sec < 1000000000) {
            s->bad_time++;
            warn(s, k, max_warnings,
                 "timestamp before 2001-09-09, earlier than a flow log's 13-digit "
                 "milliseconds can say; skipped");
            next(s, k, max_warnings);
            continue;
        }
        int64_t ts = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
        int v = p2f_decode(k->dlt, k->data, k->hdr->caplen, k->hdr->len, ts, pk);
        s->verdicts[v]++;
        if (v == P2F_TRUNCATED || v == P2F_BAD_HEADER)
            warn(s, k, max_warnings,
                 v == P2F_TRUNCATED ? "headers cut by the capture length; skipped"
                                    : "impossible header lengths; skipped");
        int keep = v == P2F_FLOW || (v == P2F_ICMP && f->po->icmp);
        /* A packet more than an hour ahead of everything before it is
         * taken only if the next one confirms the jump (a capture can
         * resume later); alone, it is a damaged timestamp that would
         * close every hour early. */
        int64_t ahead = newest == INT64_MIN ? 0 : ts - newest;
        if (have_susp) {
            have_susp = 0;
            if (ts - susp_from > 3600000000LL) { /* confirmed */
                struct p2f_pkt cur = *pk;
                if (susp_keep) {
                    b->pk[b->n++] = susp;
                    b->path = susp_path, b->index = susp_index;
                }
                b->pk[b->n] = cur;
                pk = &b->pk[b->n];
                if (susp.ts_us > newest)
                    newest = susp.ts_us;
                ahead = ts - newest;
            } else {
                s->bad_time++;
                s->verdicts[susp_v]--; /* counted as a bad timestamp instead */
                cli_warn("%s: packet %llu: timestamp more than an hour ahead of the "
                         "capture and not followed; skipped",
                         susp_path, (unsigned long long)susp_index);
            }
        }
        if (ahead > 3600000000LL) {
            have_susp = 1;
            susp = *pk;
            susp_keep = keep;
            susp_v = v;
            susp_from = newest;
            susp_path = k->path;
            susp_index = k->index;
            next(s, k, max_warnings);
            continue;
        }
        if (ts > newest)
            newest = ts;
        if (keep)
            b->n++; /* kept for the flow engine, a batch at a time */
        b->path = k->path;
        b->index = k->index;
        /* the clock, once a second of capture time, after the packets */
        int tick = f->clock != NULL && ts / 1000000 != last_clock;
        if (tick) {
            last_clock = ts / 1000000;
            b->has_clock = 1;
            b->clock_ms = ts / 1000;
        }
        if (b->n >= BATCH || tick)
            b = submit(f, b);
        next(s, k, max_warnings);
    }
    if (have_susp) {
        s->bad_time++;
        s->verdicts[susp_v]--;
        cli_warn("%s: packet %llu: timestamp more than an hour ahead of the capture and not "
                 "followed; skipped",
                 susp_path, (unsigned long long)susp_index);
    }
    if (b != NULL && b->n > 0)
        b = submit(f, b);
    if (f->threaded)
        ring_close(&f->ring);
    return NULL;
}

/* The engine's loop: batches from the reader thread until it is done
 * (after a failure, the rest are only freed). */
static void engine(struct feed *f)
{
    struct batch *b;
    while ((b = ring_take(&f->ring)) != NULL) {
        if (f->rc == EXIT_OK && (f->rc = consume(f, b)) != EXIT_OK)
            ring_stop(&f->ring); /* the reader stops */
        ring_done(&f->ring);
    }
}

int cap_run(char *const *paths, int n, const struct p2f_opts *po, uint64_t max_warnings,
            scand_strtab *st, p2f_tuple_fn fn, cap_clock_fn clock, void *arg,
            struct cap_stats *s)
{
    memset(s, 0, sizeof *s);
    s->files = (size_t)n;
    struct cap *caps = xcalloc((size_t)n, sizeof *caps);
    int rc = EXIT_OK;
    int stdin_used = 0;
    for (int i = 0; i < n && rc == EXIT_OK; i++) {
        char errbuf[PCAP_ERRBUF_SIZE];
        caps[i].path = paths[i];
        int is_stdin = strcmp(paths[i], "-") == 0; /* tcpdump -w - | scanlab ... - */
        if (is_stdin && stdin_used++) {
            cli_error("-: standard input given twice");
            rc = EXIT_INPUT;
            break;
        }
        FILE *f = is_stdin ? stdin : fopen(paths[i], "rb");
        if (f == NULL) {
            cli_error("%s: %s", paths[i], strerror(errno));
            rc = EXIT_INPUT;
            break;
        }
        /* libpcap reads each record with two fread()s through the FILE's
         * buffer: a large one makes that a read(2) per READ_BUF bytes
         * instead of one per st_blksize (4 KiB), without any extra copy.
         * Only the reading thread touches it: without the FILE's lock,
         * which glibc takes once the process has threads, the two calls
         * cost what they do in a single-threaded read loop */
        caps[i].buf = xmalloc(READ_BUF);
        setvbuf(f, caps[i].buf, _IOFBF, READ_BUF);
        __fsetlocking(f, FSETLOCKING_BYCALLER);
        caps[i].pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO,
                                                              errbuf);
        if (caps[i].pc == NULL) {
            fclose(f); /* pcap_close() closes it once libpcap has it */
            cli_error("%s: not a pcap or pcapng capture (libpcap: %s)", paths[i], errbuf);
            rc = EXIT_INPUT;
            break;
        }
        caps[i].dlt = pcap_datalink(caps[i].pc);
        if (!p2f_linktype_ok(caps[i].dlt)) {
            const char *name = pcap_datalink_val_to_name(caps[i].dlt);
            cli_error("%s: link type %d (%s) is not supported (Ethernet, Linux SLL/SLL2, raw "
                      "IP, loopback)",
                      paths[i], caps[i].dlt, name ? name : "unknown");
            rc = EXIT_INPUT;
        }
    }
    p2f *p = rc == EXIT_OK ? p2f_new(po, st, fn, arg) : NULL;
    if (rc == EXIT_OK && p == NULL) {
        cli_error("out of memory");
        rc = EXIT_INPUT;
    }
    if (rc == EXIT_OK) {
        struct feed f;
        memset(&f, 0, sizeof f);
        f.caps = caps, f.n = n, f.po = po, f.max_warnings = max_warnings, f.s = s;
        f.p = p, f.clock = clock, f.arg = arg, f.rc = EXIT_OK;
        ring_init(&f.ring, RING, sizeof(struct batch));
        if (stdin_used) /* maybe a live pipe: each second's batch goes at once */
            ring_wake_every(&f.ring);
        pthread_t th;
        f.threaded = 1;
        if (pthread_create(&th, NULL, reader, &f) == 0) {
            engine(&f);
            pthread_join(th, NULL);
        } else { /* no thread: read and feed in turn */
            f.threaded = 0;
            reader(&f);
        }
        rc = f.rc;
        ring_destroy(&f.ring);
    }
    if (rc == EXIT_OK && p2f_finish(p) != 0) {
        cli_error("out of memory");
        rc = EXIT_INPUT;
    }
    if (p != NULL)
        p2f_get_stats(p, &s->flows);
    p2f_free(p);
    for (int i = 0; i < n; i++) {
        if (caps[i].pc != NULL)
            pcap_close(caps[i].pc);
        free(caps[i].buf);
    }
    free(caps);
    return rc;
}

void cap_summary(const struct cap_stats *s, char *buf, size_t size)
{
    snprintf(buf, size,
             "%zu capture%s, %llu packets (%llu TCP/UDP, %llu ICMP, %llu not IP, %llu other IP, "
             "%llu later fragments, %llu truncated, %llu bad headers, %llu bad timestamps), %llu "
             "cut captures; %llu packets out of order; %llu "
             "flows (%llu mid-stream, %llu outside skipped, %llu denied by the policy, %llu "
             "ended early at the flow limit, %llu packets after close)",
             s->files, s->files == 1 ? "" : "s", (unsigned long long)s->packets,
             (unsigned long long)s->verdicts[P2F_FLOW], (unsigned long long)s->verdicts[P2F_ICMP],
             (unsigned long long)s->verdicts[P2F_NOT_IP],
             (unsigned long long)s->verdicts[P2F_OTHER_PROTO],
             (unsigned long long)s->verdicts[P2F_FRAGMENT],
             (unsigned long long)s->verdicts[P2F_TRUNCATED],
             (unsigned long long)s->verdicts[P2F_BAD_HEADER], (unsigned long long)s->bad_time,
             (unsigned long long)s->cut_files, (unsigned long long)s->flows.late,
             (unsigned long long)s->flows.flows, (unsigned long long)s->flows.midstream,
             (unsigned long long)s->flows.outside, (unsigned long long)s->flows.denied,
             (unsigned long long)s->flows.evicted,
             (unsigned long long)s->flows.after_close);
}
