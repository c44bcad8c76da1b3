/*
 * capture.c - packet captures into flow tuples for pcap2flow and detect:
 * libpcap opens each file (pcap or pcapng), the files are merged by packet
 * time, each frame is decoded and fed to the flow engine (sim/p2f.c).
 * Damage is counted and warned about with the file and packet number; a
 * file that is not a capture or has a link type we do not read is an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "cli.h"

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

int cap_run(char *const *paths, int n, const struct p2f_opts *po, uint64_t max_warnings,
            scand_strtab *st, p2f_tuple_fn fn, cap_clock_fn clock, void *arg,
            struct cap_stats *s)
{
    memset(s, 0, sizeof *s);
    s->files = (size_t)n;
    struct cap *caps = xcalloc((size_t)n, sizeof *caps);
    int rc = EXIT_OK;
    for (int i = 0; i < n && rc == EXIT_OK; i++) {
        char errbuf[PCAP_ERRBUF_SIZE];
        caps[i].path = paths[i];
        FILE *probe = fopen(paths[i], "rb");
        if (probe == NULL) {
            cli_error("%s: %s", paths[i], strerror(errno));
            rc = EXIT_INPUT;
            break;
        }
        fclose(probe);
        caps[i].pc = pcap_open_offline_with_tstamp_precision(paths[i],
                                                             PCAP_TSTAMP_PRECISION_MICRO, errbuf);
        if (caps[i].pc == NULL) {
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
    int64_t last_clock = INT64_MIN;
    enum { BATCH = 64 };
    struct p2f_pkt *batch = xmalloc((BATCH + 2) * sizeof *batch); /* + a confirmed jump */
    size_t nb = 0;
    int64_t newest = INT64_MIN; /* the latest packet time taken */
    struct p2f_pkt susp;        /* a packet far ahead, waiting for confirmation */
    int have_susp = 0, susp_keep = 0, susp_v = 0;
    int64_t susp_from = 0;
    const char *susp_path = "";
    uint64_t susp_index = 0;
    if (rc == EXIT_OK) {
        for (int i = 0; i < n; i++)
            next(s, &caps[i], max_warnings);
        for (;;) {
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
            struct p2f_pkt *pk = &batch[nb];
            const struct timeval tv = k->hdr->ts;
            if (tv.tv_sec < 0 || (int64_t)tv.tv_sec >= ((int64_t)1 << 33) || tv.tv_usec < 0 ||
                tv.tv_usec >= 1000000) {
                s->bad_time++;
                warn(s, k, max_warnings, "timestamp out of range; skipped");
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
            int keep = v == P2F_FLOW || (v == P2F_ICMP && po->icmp);
            /* A packet more than an hour ahead of everything before it is
             * taken only if the next one confirms the jump (a capture can
             * resume later); alone, it is a damaged timestamp that would
             * close every hour early. */
            int64_t ahead = newest == INT64_MIN ? 0 : ts - newest;
            if (have_susp) {
                have_susp = 0;
                if (ts - susp_from > 3600000000LL) { /* confirmed */
                    struct p2f_pkt cur = *pk;
                    if (susp_keep)
                        batch[nb++] = susp;
                    batch[nb] = cur;
                    pk = &batch[nb];
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
                nb++; /* kept for the flow engine, a batch at a time */
            int tick = clock != NULL && ts / 1000000 != last_clock;
            if ((nb >= BATCH || tick) && nb > 0) {
                if (p2f_packets(p, batch, nb) != 0) {
                    cli_error("%s: packet %llu: out of memory", k->path,
                              (unsigned long long)k->index);
                    rc = EXIT_INPUT;
                    break;
                }
                nb = 0;
            }
            /* the clock, once a second of capture time */
            if (tick) {
                last_clock = ts / 1000000;
                if (clock(arg, ts / 1000) != 0) {
                    rc = EXIT_INPUT;
                    break;
                }
            }
            next(s, k, max_warnings);
        }
    }
    if (have_susp) {
        s->bad_time++;
        s->verdicts[susp_v]--;
        cli_warn("%s: packet %llu: timestamp more than an hour ahead of the capture and not "
                 "followed; skipped",
                 susp_path, (unsigned long long)susp_index);
    }
    if (rc == EXIT_OK && nb > 0 && p2f_packets(p, batch, nb) != 0) {
        cli_error("out of memory");
        rc = EXIT_INPUT;
    }
    free(batch);
    if (rc == EXIT_OK && p2f_finish(p) != 0) {
        cli_error("out of memory");
        rc = EXIT_INPUT;
    }
    if (p != NULL)
        p2f_get_stats(p, &s->flows);
    p2f_free(p);
    for (int i = 0; i < n; i++)
        if (caps[i].pc != NULL)
            pcap_close(caps[i].pc);
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
