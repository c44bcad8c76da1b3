/*
 * cmd_pcap2flow.c - `scanlab pcap2flow CAPTURE... --inside CIDRS -o DIR`:
 * packet captures (pcap or pcapng, read by libpcap, several merged in time
 * order) into the Azure VNet flow-log blob tree, one PT1H.json per logging
 * NIC and hour (sim/p2f.c decides flows and tuples).
 *
 * Tuples wait in memory until their hour is complete, then go out sorted
 * by NIC, hour and time (the blob writer wants one NIC-hour at a time);
 * the buffer is two halves of --max-buffer: when one is full it spills,
 * sorted, to a run in a temporary file on a thread of its own while the
 * other fills, and the runs are merged when their hour is written, so
 * memory stays bounded (a spill still running when the input ends stops,
 * and its half is merged from memory). Blobs are formatted and written by
 * a writer thread and the merging thread together, while the merge goes on.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio_ext.h>
#include <string.h>
#include <unistd.h>

#include "bigmem.h"
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
    "Several captures are merged in time order; \"-\" reads one from standard input.\n"
    "\n"
    "Options:\n"
    "  -i, --inside CIDRS      the monitored VNets, e.g. 10.0.0.0/8,fd00::/8\n"
    "  -o, --output DIR        write under DIR (created; must be empty unless\n"
    "                          --force)\n"
    "      --tcp-idle DURATION a TCP flow with no packets this long ends (4m)\n"
    "      --udp-idle DURATION a UDP flow with no packets this long ends (30s)\n"
    "      --max-flows N       flows held at once (default 1000000, 0 = no limit);\n"
    "                          past it the longest-quiet flow ends early, counted\n"
    "      --max-buffer N      tuples held in memory until their hour is written\n"
    "                          (default 1000000, at least 1000; 0 = no limit), in\n"
    "                          two halves: a full half spills, sorted, to temporary\n"
    "                          files under $TMPDIR (or /tmp, 80 bytes a tuple) while\n"
    "                          the other fills; the blobs come out the same\n"
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
#define DEFAULT_MAX_BUFFER 1000000 /* tuples: 56 MB */

/* Tuples wait here until their hour can no longer grow: a tuple is decided
 * at most p2f_decision_lag_ms() after its time (a held-back B until the next tuple, 5
 * minutes; an E found by the lazy lists up to two idle timeouts late), so
 * hour H is written once the packet clock passes H + 1 h + that lag.
 * Tuples are kept compact, 56 bytes: IPv4 addresses inline, IPv6 ones as
 * indices into a table of the buffered tuples' IPv6 addresses; past
 * half --max-buffer of them they spill. */

struct ctup {
    int64_t ts;
    uint64_t bytes_s2d, bytes_d2s;
    uint32_t src, dst, mac; /* IPv4 addresses (CT_V4), else address table indices;
                               strtab index */
    uint32_t pkts_s2d, pkts_d2s;
    uint16_t sport, dport;
    uint8_t proto, dir, state, flags;
    uint32_t seq; /* arrival order: ties keep it, whatever moves the tuple */
};
_Static_assert(sizeof(struct ctup) == 56, "a buffered tuple is 56 bytes");
/* A bit of ctup.flags beside the SCAND_TF_* ones: src and dst are IPv4
 * addresses, not indices (most tuples: no table lookup for them). */
#define CT_V4 0x80
_Static_assert((CT_V4 & SCAND_TF_ALL) == 0, "CT_V4 is not a tuple flag");

/* A spilled tuple: addresses in full, as the address table forgets them. */
struct stup {
    int64_t ts;
    uint64_t bytes_s2d, bytes_d2s;
    uint8_t src[16], dst[16];
    uint32_t mac, pkts_s2d, pkts_d2s, seq;
    uint16_t sport, dport;
    uint8_t proto, dir, state, flags;
};
_Static_assert(sizeof(struct stup) == 80, "a spilled tuple is 80 bytes");

/* A sorted run of spilled tuples in an unlinked temporary file. */
#define RUN_BUF 256 /* tuples read back from a run at a time */
struct run {
    FILE *f;
    struct stup *buf; /* read ahead: buf[ibuf..nbuf) follow cur */
    size_t ibuf, nbuf;
    struct stup cur; /* its next tuple, when live */
    int64_t hour;    /* cur's blob hour */
    uint64_t left;   /* tuples after cur, read ahead or still in the file */
    int live;
    int level;       /* 0 a spill; k + 1 a merge of FAN_IN runs of level k */
};

/* FAN_IN runs of one level merge into one of the next, as in a tiered
 * (log-structured) merge: each tuple is rewritten about log16(spills)
 * times, and at most 15 runs per level stay open. */
#define FAN_IN 16

/* Buffered tuples and the IPv6 addresses they use. */
struct tbuf {
    struct ctup *t;
    size_t n, cap;
    /* the tuples' IPv6 addresses: open addressing over an array */
    uint8_t (*addr)[16];
    size_t n_addr, cap_addr;
    uint32_t *aidx; /* address index + 1, 0 = empty */
    size_t amask;
};

/* A spill on a thread of its own: it sorts and writes one full buffer
 * while the engine fills the other. */
struct spilljob {
    struct conv *c; /* its runs: the thread adds its file and compacts */
    const struct tbuf *b;
    FILE *f;
    int rc;      /* 0, -1 after an error (printed), or 1: cancelled */
    int cancel;  /* set (atomic) when the input has ended: the tuples left
                    are merged from memory, not written out and read back */
    uint32_t *keys; /* b in blob order (positions), kept when cancelled */
};

struct conv {
    const char *dir;
    size_t max_buffer;  /* tuples held in memory, both buffers together */
    struct run *runs;
    size_t n_runs, cap_runs;
    uint64_t spilled, n_spills;
    scand_strtab *st;
    struct tbuf b;  /* the tuples arriving */
    struct tbuf sb; /* the tuples being spilled (sj), or empty */
    struct spilljob sj;
    pthread_t sth;
    int spilling; /* 1: sth is spilling sb; 2: done without a thread */
    uint32_t group;
    long blobs;
    int failed;
    int64_t written_before; /* hours before this are written */
    int64_t lag_ms;         /* p2f_decision_lag_ms() */
    uint32_t seq;           /* arrival order of the buffered tuples */
    uint64_t too_late;      /* tuples for an hour already written (lost, counted) */
    uint64_t clipped;       /* packet counts above 2^32 - 1 in one tuple, clipped */
};

static uint32_t addr_hash(const uint8_t a[16])
{
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, a + 8, 8);
    uint64_t h = x ^ (y << 17 | y >> 47) ^ y; /* splitmix64's finalizer */
    h = (h ^ h >> 30) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ h >> 27) * 0x94d049bb133111ebULL;
    return (uint32_t)(h ^ h >> 31);
}

static uint32_t addr_index(struct tbuf *c, const uint8_t a[16])
{
    if ((c->n_addr + 1) * 2 > c->amask + 1) {
        size_t cap = c->amask ? (c->amask + 1) * 2 : 4096;
        uint32_t *ni = xcalloc(cap, sizeof *ni);
        for (size_t i = 0; i < c->n_addr; i++) {
            size_t j = addr_hash(c->addr[i]) & (cap - 1);
            while (ni[j] != 0)
                j = (j + 1) & (cap - 1);
            ni[j] = (uint32_t)i + 1;
        }
        free(c->aidx);
        c->aidx = ni;
        c->amask = cap - 1;
    }
    size_t j = addr_hash(a) & c->amask;
    for (; c->aidx[j] != 0; j = (j + 1) & c->amask)
        if (memcmp(c->addr[c->aidx[j] - 1], a, 16) == 0)
            return c->aidx[j] - 1;
    if (c->n_addr == c->cap_addr) {
        c->cap_addr = c->cap_addr ? c->cap_addr * 2 : 4096;
        c->addr = xreallocarray(c->addr, c->cap_addr, 16);
    }
    memcpy(c->addr[c->n_addr], a, 16);
    c->aidx[j] = (uint32_t)c->n_addr + 1;
    return (uint32_t)c->n_addr++;
}

static uint32_t clip32(struct conv *c, uint64_t v)
{
    if (v <= UINT32_MAX)
        return (uint32_t)v;
    c->clipped++;
    return UINT32_MAX;
}

static int run_less(const struct run *x, const struct run *y)
{
    return blob_order(x->hour, x->cur.mac, x->cur.ts, x->cur.seq, y->hour, y->cur.mac, y->cur.ts,
                     y->cur.seq) < 0;
}

/* c->t[0..n) in blob order, as positions into c->t (blob_order.c: a
 * radix sort straight from the buffer). The positions alone (4 bytes a
 * tuple, not a 32-byte key): a spill needs no more, and a merge from
 * memory reads each tuple anyway. */
static uint32_t *order(const struct tbuf *c, size_t n)
{
    uint32_t *pos = xmalloc((n ? n : 1) * sizeof *pos);
    blob_order_positions(c->t, sizeof *c->t, offsetof(struct ctup, ts), offsetof(struct ctup, mac),
                         offsetof(struct ctup, seq), n, pos, NULL);
    return pos;
}

/* Buffered address a of x in full (IPv4-mapped for IPv4). */
static void ct_addr(const struct tbuf *c, const struct ctup *x, uint32_t a, uint8_t out[16])
{
    if (x->flags & CT_V4)
        scand_addr_from_v4(a, out);
    else
        memcpy(out, c->addr[a], 16);
}

/* Every field is set (neither struct has padding): no memset, which GCC
 * makes a slow `rep stos` for these sizes, 20% of the merge. */
static void to_stup(const struct tbuf *c, const struct ctup *x, struct stup *y)
{
    y->ts = x->ts;
    y->bytes_s2d = x->bytes_s2d;
    y->bytes_d2s = x->bytes_d2s;
    ct_addr(c, x, x->src, y->src);
    ct_addr(c, x, x->dst, y->dst);
    y->mac = x->mac;
    y->pkts_s2d = x->pkts_s2d;
    y->pkts_d2s = x->pkts_d2s;
    y->seq = x->seq;
    y->sport = x->sport;
    y->dport = x->dport;
    y->proto = x->proto;
    y->dir = x->dir;
    y->state = x->state;
    y->flags = x->flags & (uint8_t)~CT_V4;
}

/* The writer's record from a spilled tuple (expand) or a buffered one
 * (expand_ct): the fields both hold, under the same names, then the rest.
 * Every field is set: no memset (GCC's `rep stos` for these sizes). */
#define SAME_FIELDS(t, x)                                                                     \
    ((t)->ts_ms = (x)->ts, (t)->pkts_s2d = (x)->pkts_s2d, (t)->bytes_s2d = (x)->bytes_s2d,   \
     (t)->pkts_d2s = (x)->pkts_d2s, (t)->bytes_d2s = (x)->bytes_d2s, (t)->sport = (x)->sport, \
     (t)->dport = (x)->dport, (t)->proto = (x)->proto, (t)->dir = (x)->dir,                 \
     (t)->state = (x)->state, (t)->mac = (x)->mac)

static void expand_rest(const struct conv *c, uint8_t flags, struct scand_tuple *t)
{
    t->enc = SCAND_ENC_NX;
    t->group = c->group;
    t->campaign = 0;
    t->flags = flags;
    memset(t->pad, 0, sizeof t->pad);
}

static void expand(const struct conv *c, const struct stup *x, struct scand_tuple *t)
{
    SAME_FIELDS(t, x);
    memcpy(t->src, x->src, 16);
    memcpy(t->dst, x->dst, 16);
    expand_rest(c, x->flags, t);
}

static void expand_ct(const struct conv *c, const struct tbuf *b, const struct ctup *x,
                      struct scand_tuple *t)
{
    SAME_FIELDS(t, x);
    ct_addr(b, x, x->src, t->src);
    ct_addr(b, x, x->dst, t->dst);
    expand_rest(c, x->flags & (uint8_t)~CT_V4, t);
}

static void run_close(struct run *r);

/* Read run r's next tuple; 0, or -1 on a read error or a file cut short
 * (printed). A run read to its end is closed at once: the kernel frees
 * its pages while the merge goes on, not after it. */
static int run_next(struct run *r)
{
    if (r->left == 0) {
        r->live = 0;
        run_close(r);
        return 0;
    }
    if (r->ibuf == r->nbuf) {
        size_t k = r->left < RUN_BUF ? (size_t)r->left : RUN_BUF;
        if (fread(r->buf, sizeof *r->buf, k, r->f) != k) {
            r->live = 0;
            cli_error("pcap2flow: reading back spilled tuples: %s",
                      ferror(r->f) ? strerror(errno) : "the temporary file is cut short");
            return -1;
        }
        r->ibuf = 0;
        r->nbuf = k;
    }
    r->cur = r->buf[r->ibuf++];
    r->left--;
    r->hour = scand_blob_hour(r->cur.ts);
    return 0;
}

/* Close run r's file (again: nothing). */
static void run_close(struct run *r)
{
    if (r->f != NULL)
        fclose(r->f);
    r->f = NULL;
    free(r->buf);
    r->buf = NULL;
}

/* An unlinked temporary file under $TMPDIR (else /tmp) to spill to; NULL
 * after an error (printed). */
static FILE *spill_file(void)
{
    const char *tmpdir = getenv("TMPDIR");
    if (tmpdir == NULL || tmpdir[0] == '\0')
        tmpdir = "/tmp";
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/scanlab-p2f.XXXXXX", tmpdir);
    int fd = mkstemp(path);
    if (fd < 0) {
        cli_error("%s: cannot make a temporary file to spill tuples to (--max-buffer): %s",
                  tmpdir, strerror(errno));
        return NULL;
    }
    unlink(path); /* gone when closed, or when we exit */
    FILE *f = fdopen(fd, "w+b");
    if (f == NULL) {
        cli_error("%s: a temporary file to spill tuples to: %s", tmpdir, strerror(errno));
        close(fd);
        return NULL;
    }
    /* unbuffered: runs are written and read RUN_BUF tuples (20 KB) at a
     * time, so each fwrite() and fread() is one system call (stdio's 4 KiB
     * buffer split each into two; a larger one asked of setvbuf() without
     * memory of our own is ignored). One thread at a time has a run (handed
     * on by pthread_join), so without stdio's lock either */
    setvbuf(f, NULL, _IONBF, 0);
    __fsetlocking(f, FSETLOCKING_BYCALLER);
    return f;
}

/* Make f, holding n tuples in blob order, a run of level. 0, or -1
 * (printed). */
static int add_run(struct conv *c, FILE *f, uint64_t n, int level)
{
    if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0) {
        cli_error("pcap2flow: spilling tuples: %s", strerror(errno));
        fclose(f);
        return -1;
    }
    if (c->n_runs == c->cap_runs) {
        c->cap_runs = c->cap_runs ? c->cap_runs * 2 : 8;
        c->runs = xreallocarray(c->runs, c->cap_runs, sizeof *c->runs);
    }
    struct run *r = &c->runs[c->n_runs++];
    r->f = f;
    r->buf = xmalloc(RUN_BUF * sizeof *r->buf);
    r->ibuf = r->nbuf = 0;
    r->left = n;
    r->live = 1;
    r->level = level;
    return run_next(r);
}

static int spill_write_n(FILE *f, const struct stup *y, size_t n)
{
    if (fwrite(y, sizeof *y, n, f) == n)
        return 0;
    cli_error("pcap2flow: spilling tuples: %s", strerror(errno));
    return -1;
}

static void forget_addresses(struct tbuf *c)
{
    free(c->addr);
    free(c->aidx);
    c->addr = NULL;
    c->aidx = NULL;
    c->n_addr = c->cap_addr = 0;
    c->amask = 0;
}

/* While the last FAN_IN runs share a level, merge them into one run of
 * the next level (runs only ever join at the end, so levels never rise
 * along the array). */
static int compact(struct conv *c)
{
    while (c->n_runs >= FAN_IN) {
        struct run *tail = &c->runs[c->n_runs - FAN_IN];
        int level = c->runs[c->n_runs - 1].level;
        for (size_t r = 0; r < FAN_IN; r++)
            if (tail[r].level != level)
                return 0;
        FILE *f = spill_file();
        if (f == NULL)
            return -1;
        uint64_t n = 0;
        struct stup y[RUN_BUF]; /* written RUN_BUF at a time */
        size_t ny = 0;
        for (;;) {
            struct run *best = NULL;
            for (size_t r = 0; r < FAN_IN; r++)
                if (tail[r].live && (best == NULL || run_less(&tail[r], best)))
                    best = &tail[r];
            if (ny == RUN_BUF || (best == NULL && ny > 0)) {
                if (spill_write_n(f, y, ny) != 0) {
                    fclose(f);
                    return -1;
                }
                ny = 0;
            }
            if (best == NULL)
                break;
            y[ny++] = best->cur;
            if (run_next(best) != 0) {
                fclose(f);
                return -1;
            }
            n++;
        }
        for (size_t r = 0; r < FAN_IN; r++)
            run_close(&tail[r]);
        c->n_runs -= FAN_IN;
        if (add_run(c, f, n, level + 1) != 0)
            return -1;
    }
    return 0;
}

/* Tuples read in blob order are prefetched this far ahead, both lines:
 * a 56-byte tuple straddles two cache lines seven times in eight. */
#define AHEAD 16
static inline void prefetch_ctup(const struct ctup *x)
{
    __builtin_prefetch(x);
    __builtin_prefetch((const char *)x + sizeof *x - 1);
}

/* Write buffer b, sorted into blob order, to f, make f a run and compact
 * the runs (the merges rewrite every tuple about log16(spills) times: off
 * the engine's thread too). The spill thread: until it is joined, the
 * runs are its own. */
static void *spill_run(void *arg)
{
    struct spilljob *j = arg;
    const struct tbuf *b = j->b;
    uint32_t *k = order(b, b->n);
    struct stup y[RUN_BUF]; /* written RUN_BUF at a time: one fwrite() */
    size_t ny = 0;
    j->rc = 0;
    for (size_t i = 0; i < b->n && j->rc == 0; i++) {
        if (i % 4096 == 0 && __atomic_load_n(&j->cancel, __ATOMIC_RELAXED)) {
            j->rc = 1;
            break;
        }
        if (i + AHEAD < b->n) /* sorted order reads the buffer at random */
            prefetch_ctup(&b->t[k[i + AHEAD]]);
        to_stup(b, &b->t[k[i]], &y[ny++]);
        if (ny == RUN_BUF || i + 1 == b->n) {
            j->rc = spill_write_n(j->f, y, ny);
            ny = 0;
        }
    }
    if (j->rc == 1)
        j->keys = k; /* merged from memory */
    else
        free(k);
    FILE *f = j->f;
    j->f = NULL; /* the run owns it now, or it is closed */
    if (j->rc != 0)
        fclose(f);
    else if (add_run(j->c, f, b->n, 0) != 0 || compact(j->c) != 0)
        j->rc = -1;
    return NULL;
}

/* Wait for the spill in flight, if any. 0, or -1 after an error
 * (printed). */
static int spill_done(struct conv *c)
{
    if (c->spilling == 0)
        return 0;
    if (c->spilling == 1)
        pthread_join(c->sth, NULL);
    c->spilling = 0;
    if (c->sj.rc == 1) /* cancelled: sb and its keys wait for the last merge */
        return 0;
    c->sb.n = 0;
    forget_addresses(&c->sb);
    return c->sj.rc;
}

/* The input has ended: ask the spill in flight, if any, to stop where it
 * is; spill_done() then waits for it. Its buffer stays in memory
 * (c->sj.keys in blob order, rc 1) unless it had finished. */
static void spill_cancel(struct conv *c)
{
    if (c->spilling == 1)
        __atomic_store_n(&c->sj.cancel, 1, __ATOMIC_RELAXED);
}

/* Spill the arriving buffer: on a thread, while the engine goes on into
 * the other buffer (the previous spill is done first). 0, or -1 after an
 * error (printed). */
static int spill(struct conv *c)
{
    if (spill_done(c) != 0)
        return -1;
    FILE *f = spill_file();
    if (f == NULL)
        return -1;
    struct tbuf t = c->sb; /* empty; its arrays are reused */
    c->sb = c->b;
    c->b = t;
    c->sj = (struct spilljob){c, &c->sb, f, 0, 0, NULL};
    /* counted as they start: whether the last finishes before the input
     * ends (or stops there) is a matter of timing, the output is not */
    c->spilled += c->sb.n;
    c->n_spills++;
    if (pthread_create(&c->sth, NULL, spill_run, &c->sj) == 0) {
        c->spilling = 1;
    } else {
        spill_run(&c->sj);
        c->spilling = 2;
    }
    return 0;
}

static int on_tuple(void *arg, const struct scand_tuple *t)
{
    struct conv *c = arg;
    if (scand_blob_hour(t->ts_ms) < c->written_before) {
        c->too_late++;
        return 0;
    }
    if (c->failed)
        return 0; /* a spill failed (printed); the clock stops the run */
    /* half the buffer each: one fills while the other spills */
    if (c->max_buffer > 0 && c->b.n >= c->max_buffer / 2 && spill(c) != 0) {
        c->failed = 1;
        return 0;
    }
    struct tbuf *b = &c->b;
    if (b->n == b->cap) { /* grow by half: an hour of tuples, little slack */
        size_t cap = b->cap ? b->cap + b->cap / 2 : 4096;
        b->t = xbiggrow(b->t, b->cap, cap, sizeof *b->t); /* read at random in blob order */
        b->cap = cap;
    }
    c->group = t->group;
    struct ctup *x = &b->t[b->n++];
    x->ts = t->ts_ms;
    x->bytes_s2d = t->bytes_s2d;
    x->bytes_d2s = t->bytes_d2s;
    x->flags = t->flags;
    if (scand_addr_is_v4(t->src) && scand_addr_is_v4(t->dst)) {
        x->src = scand_addr_v4(t->src);
        x->dst = scand_addr_v4(t->dst);
        x->flags |= CT_V4;
    } else {
        x->src = addr_index(b, t->src);
        x->dst = addr_index(b, t->dst);
    }
    x->mac = t->mac;
    x->pkts_s2d = clip32(c, t->pkts_s2d);
    x->pkts_d2s = clip32(c, t->pkts_d2s);
    x->sport = t->sport;
    x->dport = t->dport;
    x->proto = t->proto;
    x->dir = t->dir;
    x->state = t->state;
    x->seq = c->seq++;
    return 0;
}

static int write_blob(const struct conv *c, uint32_t mac_idx, int64_t hour,
                      const struct scand_tuple *blob, size_t n);

/* The merged NIC-hour blobs are written while the merge goes on: the
 * merge gathers chunks of whole blobs and hands each over, a writer thread
 * writes them a blob at a time, and the merging thread stops to write
 * blobs too whenever every buffer is taken, and at the end: the writer
 * formats while the merge runs, and both format when it cannot. */
/* Tuples gathered before a chunk is handed over: 16,384 (1.7 MB), not
 * 65,536, since the chunks are the only memory the end phase takes fresh
 * from the kernel (in make bench's pcap2flow loop: 0.389-0.542 s with
 * 65,536, 0.364-0.462 s with 16,384, 0.406-0.475 s with 8,192). */
#define MERGE_CHUNK 16384
#define WQ_BUFS 3         /* chunks being written, waiting, being gathered */

struct chunk {
    struct scand_tuple *t;
    size_t *gs; /* blob g is t[gs[g] .. gs[g + 1]) */
    size_t cap, cap_g;
    size_t n, ng;      /* tuples, blobs (gs[ng] == n once handed over) */
    size_t next, done; /* blobs claimed by a writer, written */
};

struct wq {
    const struct conv *c;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a chunk came or left, or the end */
    struct chunk ch[WQ_BUFS];
    size_t head, n; /* ch[head .. head + n) (mod WQ_BUFS) are handed over */
    int closed;     /* no more chunks */
    int failed;     /* a write failed (printed): the rest are only drained */
    long blobs;
    pthread_t th;
    int threaded;
};

/* Claim a blob of the chunks handed over and write it. Called, and
 * returns, with mu held; 0 when none was waiting. */
static int wq_step(struct wq *w)
{
    for (size_t i = 0; i < w->n; i++) {
        struct chunk *k = &w->ch[(w->head + i) % WQ_BUFS];
        if (k->next == k->ng)
            continue;
        size_t g = k->next++;
        int skip = w->failed;
        pthread_mutex_unlock(&w->mu);
        const struct scand_tuple *first = &k->t[k->gs[g]];
        int rc = skip ? 0
                      : write_blob(w->c, first->mac, scand_blob_hour(first->ts_ms), first,
                                   k->gs[g + 1] - k->gs[g]);
        pthread_mutex_lock(&w->mu);
        if (rc != 0)
            w->failed = 1;
        else if (!skip)
            w->blobs++;
        k->done++;
        /* chunks leave in order, once written: their buffer is free */
        while (w->n > 0 && w->ch[w->head].done == w->ch[w->head].ng) {
            w->head = (w->head + 1) % WQ_BUFS;
            w->n--;
        }
        pthread_cond_broadcast(&w->cv);
        return 1;
    }
    return 0;
}

static void *wq_writer(void *arg)
{
    struct wq *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        if (wq_step(w))
            continue;
        if (w->closed) /* nothing more to claim: the rest is being written */
            break;
        pthread_cond_wait(&w->cv, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    cli_blob_close(); /* this thread's hour folder */
    return NULL;
}

/* The chunk to gather into first. */
static struct chunk *wq_start(struct wq *w, const struct conv *c)
{
    memset(w, 0, sizeof *w);
    w->c = c;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    return &w->ch[0];
}

/* Hand chunk k (the one being gathered) over; the next to gather into,
 * emptied, or NULL once a write has failed. The writer thread starts with
 * the first chunk that has more behind it: what fits in one chunk is
 * written by the merging thread alone (without a thread, all is). */
static struct chunk *wq_submit(struct wq *w, struct chunk *k, int more)
{
    k->gs[k->ng] = k->n;
    k->next = k->done = 0;
    if (more && !w->threaded)
        w->threaded = pthread_create(&w->th, NULL, wq_writer, w) == 0;
    pthread_mutex_lock(&w->mu);
    w->n++;
    pthread_cond_broadcast(&w->cv);
    while (w->n == WQ_BUFS) /* every buffer taken: help */
        if (!wq_step(w))
            pthread_cond_wait(&w->cv, &w->mu);
    k = w->failed ? NULL : &w->ch[(w->head + w->n) % WQ_BUFS];
    pthread_mutex_unlock(&w->mu);
    if (k != NULL)
        k->n = k->ng = 0;
    return k;
}

/* Write what is handed over, helping, and stop the writer. The number of
 * blobs written, or -1 after an error (printed). */
static long wq_finish(struct wq *w)
{
    pthread_mutex_lock(&w->mu);
    w->closed = 1;
    pthread_cond_broadcast(&w->cv);
    while (w->n > 0)
        if (!wq_step(w))
            pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    if (w->threaded)
        pthread_join(w->th, NULL);
    for (int i = 0; i < WQ_BUFS; i++) {
        free(w->ch[i].t);
        free(w->ch[i].gs);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    return w->failed ? -1 : w->blobs;
}

/* Buffered tuples in blob order, merged from memory: b->t[pos[i]] for i
 * in [i, n), the key of the next in head. */
struct msrc {
    const struct tbuf *b;
    const uint32_t *pos;
    size_t i, n;
    struct blob_key head;
};

/* m's next tuple's key, when there is one. */
static void msrc_head(struct msrc *m)
{
    if (m->i == m->n)
        return;
    const struct ctup *x = &m->b->t[m->pos[m->i]];
    m->head = (struct blob_key){scand_blob_hour(x->ts), x->ts, x->mac, x->seq, m->pos[m->i], 0};
}

/* Write the NIC-hour blobs of the hours before `before`: the memory
 * sources' tuples and the spilled runs' tuples of those hours, merged in
 * blob order, up to WQ_BUFS chunks of whole blobs in memory at a time
 * (each MERGE_CHUNK tuples or more: a chunk ends only between blobs;
 * without runs, the same path: the blobs are the same bytes whether or
 * not anything spilled). The number written, or -1 after an error
 * (printed). */
static long write_blobs(struct conv *c, struct msrc *mem, size_t n_mem, int64_t before)
{
    struct wq w;
    struct chunk *k = wq_start(&w, c);
    int64_t g_hour = 0; /* the NIC-hour of the blob being gathered */
    uint32_t g_mac = 0;
    int rc = 0;
    for (;;) {
        /* the least next tuple among the runs and memory */
        struct run *best = NULL;
        for (size_t r = 0; r < c->n_runs; r++) {
            struct run *x = &c->runs[r];
            if (x->live && x->hour < before && (best == NULL || run_less(x, best)))
                best = x;
        }
        struct msrc *bm = NULL;
        for (size_t s = 0; s < n_mem; s++) {
            if (mem[s].i == mem[s].n)
                continue;
            const struct blob_key *x = &mem[s].head, *y = bm ? &bm->head : NULL;
            if (y == NULL || blob_order(x->hour, x->mac, x->ts, x->seq, y->hour, y->mac, y->ts,
                                        y->seq) < 0)
                bm = &mem[s];
        }
        const struct blob_key *m = bm != NULL ? &bm->head : NULL;
        int from_mem = m != NULL && (best == NULL || blob_order(m->hour, m->mac, m->ts, m->seq,
                                                               best->hour, best->cur.mac,
                                                               best->cur.ts, best->cur.seq) < 0);
        if (!from_mem && best == NULL)
            break;
        int64_t hour = from_mem ? m->hour : best->hour;
        uint32_t mac = from_mem ? m->mac : best->cur.mac;
        /* a new NIC-hour: a chunk ends only between two */
        if (k->n == 0 || g_mac != mac || g_hour != hour) {
            if (k->n >= MERGE_CHUNK && (k = wq_submit(&w, k, 1)) == NULL) {
                rc = -1;
                break;
            }
            if (k->ng + 1 >= k->cap_g) {
                k->cap_g = k->cap_g ? k->cap_g * 2 : 1024;
                k->gs = xreallocarray(k->gs, k->cap_g, sizeof *k->gs);
            }
            k->gs[k->ng++] = k->n;
            g_hour = hour, g_mac = mac;
        }
        if (k->n == k->cap) {
            k->cap = k->cap ? k->cap * 2 : 4096;
            k->t = xreallocarray(k->t, k->cap, sizeof *k->t);
        }
        if (from_mem) {
            if (bm->i + AHEAD < bm->n) /* blob order reads the buffer at random */
                prefetch_ctup(&bm->b->t[bm->pos[bm->i + AHEAD]]);
            expand_ct(c, bm->b, &bm->b->t[m->pos], &k->t[k->n++]);
            bm->i++;
            msrc_head(bm);
        } else {
            expand(c, &best->cur, &k->t[k->n++]);
            if (run_next(best) != 0) {
                rc = -1;
                break;
            }
        }
    }
    if (rc == 0 && k->n > 0 && wq_submit(&w, k, 0) == NULL)
        rc = -1;
    long blobs = wq_finish(&w);
    /* runs read to their end are done */
    size_t keep = 0;
    for (size_t r = 0; r < c->n_runs; r++) {
        if (c->runs[r].live)
            c->runs[keep++] = c->runs[r];
        else
            run_close(&c->runs[r]);
    }
    c->n_runs = keep;
    return rc == 0 ? blobs : -1;
}

/* Write the hours before `before` and keep the rest. */
static int flush(struct conv *c, int64_t before)
{
    size_t k = 0, m = 0;
    if (before > c->written_before && before != INT64_MAX)
        c->written_before = before; /* hours before this are complete, buffered or not */
    /* the spill in flight becomes a run like the others; at the end of the
     * input it stops (at its next 4,096 tuples written, if it got that far)
     * and its whole half is merged from memory, the partly written file
     * discarded */
    if (before == INT64_MAX)
        spill_cancel(c);
    struct tbuf *b = &c->b;
    /* a stable partition: the tuples to write first, then those kept for
     * later hours (aside, then back), each in arrival order, as the radix
     * sort wants; sorted while a spill in flight finishes (it has sb) */
    size_t n_keep = 0;
    for (size_t i = 0; i < b->n; i++)
        n_keep += scand_blob_hour(b->t[i].ts) >= before;
    struct ctup *keep = n_keep > 0 ? xmalloc(n_keep * sizeof *keep) : NULL;
    n_keep = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (scand_blob_hour(b->t[i].ts) < before)
            b->t[k++] = b->t[i]; /* k <= i */
        else
            keep[n_keep++] = b->t[i];
    }
    uint32_t *bk = k > 0 ? order(b, k) : NULL;
    if (spill_done(c) != 0) {
        free(bk);
        free(keep);
        c->failed = 1;
        return -1;
    }
    struct msrc mem[2];
    size_t n_mem = 0;
    if (k > 0)
        mem[n_mem++] = (struct msrc){b, bk, 0, k, {0, 0, 0, 0, 0, 0}};
    if (c->sj.keys != NULL) /* the cancelled spill's buffer, in order */
        mem[n_mem++] = (struct msrc){&c->sb, c->sj.keys, 0, c->sb.n, {0, 0, 0, 0, 0, 0}};
    for (size_t i = 0; i < n_mem; i++)
        msrc_head(&mem[i]);
    if (n_mem == 0 && c->n_runs == 0) {
        free(keep); /* k == 0: b is as it was */
        return 0;
    }
    long nb = write_blobs(c, mem, n_mem, before);
    for (size_t i = 0; i < n_mem; i++)
        free((void *)mem[i].pos);
    if (c->sj.keys != NULL) {
        c->sj.keys = NULL;
        c->sb.n = 0;
        forget_addresses(&c->sb);
    }
    if (nb < 0) {
        free(keep);
        c->failed = 1;
        return -1;
    }
    c->blobs += nb;
    if (n_keep > 0)
        memcpy(b->t, keep, n_keep * sizeof *keep);
    free(keep);
    m = n_keep;
    b->n = m;
    /* the address table keeps only what the kept tuples use */
    uint8_t(*old)[16] = b->addr;
    b->addr = NULL;
    forget_addresses(b);
    for (size_t i = 0; i < b->n; i++) {
        if (b->t[i].flags & CT_V4)
            continue;
        b->t[i].src = addr_index(b, old[b->t[i].src]);
        b->t[i].dst = addr_index(b, old[b->t[i].dst]);
    }
    free(old);
    return 0;
}

static int on_clock(void *arg, int64_t now)
{
    struct conv *c = arg;
    if (c->failed)
        return -1;
    int64_t safe = scand_blob_hour(now - c->lag_ms); /* hours before this are complete */
    return safe > c->written_before ? flush(c, safe) : 0; /* once an hour */
}

/* A blob file, written BLOB_BUF bytes at a time with write(2): a blob
 * (65 KB on average in the bench's vantage) in a write or two, where
 * stdio took eight, and no fdopen (its fcntl and fstat per blob). */
#define BLOB_BUF (64 << 10)
struct blob_out {
    int fd;
    char *buf;
    size_t n;
    int err; /* errno of a failed write */
};

static int blob_out_flush(struct blob_out *o)
{
    for (size_t off = 0; off < o->n;) {
        ssize_t w = write(o->fd, o->buf + off, o->n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            o->err = w < 0 ? errno : EIO;
            return -1;
        }
        off += (size_t)w;
    }
    o->n = 0;
    return 0;
}

static int blob_out_fn(void *arg, const void *buf, size_t len)
{
    struct blob_out *o = arg;
    if (o->n + len > BLOB_BUF && o->n > 0 && blob_out_flush(o) != 0)
        return -1;
    if (len > BLOB_BUF) { /* a record larger than the buffer: straight out */
        struct blob_out big = {o->fd, (char *)buf, len, 0};
        if (blob_out_flush(&big) != 0) {
            o->err = big.err;
            return -1;
        }
        return 0;
    }
    memcpy(o->buf + o->n, buf, len);
    o->n += len;
    return 0;
}

/* Write one NIC-hour blob: n tuples of NIC mac and blob hour hour, in
 * order. 0, or -1 after an error (printed). */
static int write_blob(const struct conv *c, uint32_t mac_idx, int64_t hour,
                      const struct scand_tuple *blob, size_t n)
{
    size_t ml;
    const char *mac = scand_strtab_get(c->st, mac_idx, &ml);
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
    snprintf(path, sizeof path, "%s/%s", c->dir, rel);
    struct blob_out o = {-1, malloc(BLOB_BUF), 0, 0}; /* before the file: no empty blob */
    if (o.buf == NULL) {
        cli_error("%s: out of memory", path);
        return -1;
    }
    if ((o.fd = cli_blob_open(path)) < 0) { /* printed */
        free(o.buf);
        return -1;
    }
    int rc = scand_blob_write(&meta, blob, n, c->st, blob_out_fn, &o);
    if (rc == SCAND_OK && o.n > 0 && blob_out_flush(&o) != 0)
        rc = SCAND_ERR_IO;
    if (close(o.fd) != 0 && rc == SCAND_OK)
        rc = SCAND_ERR_IO, o.err = errno;
    free(o.buf);
    if (rc != SCAND_OK) {
        cli_error("%s: write failed: %s", path,
                  rc == SCAND_ERR_IO && o.err != 0 ? strerror(o.err) : scand_strerror(rc));
        return -1;
    }
    return 0;
}

int cmd_pcap2flow(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"inside", required_argument, NULL, 'i'},  {"output", required_argument, NULL, 'o'},
        {"tcp-idle", required_argument, NULL, 'T'}, {"udp-idle", required_argument, NULL, 'U'},
        {"max-warnings", required_argument, NULL, 'w'}, {"force", no_argument, NULL, 'f'},
        {"policy", required_argument, NULL, 'P'}, {"icmp", no_argument, NULL, 'I'},
        {"max-flows", required_argument, NULL, 'M'},
        {"max-buffer", required_argument, NULL, 'B'},
        {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct p2f_opts po;
    p2f_opts_default(&po);
    struct scand_cidr inside[MAX_INSIDE];
    size_t n_inside = 0;
    const char *dir = NULL;
    int force = 0, quiet = 0;
    const char *policy = NULL;
    uint64_t max_warnings = 20, max_buffer = DEFAULT_MAX_BUFFER;
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
            if (cli_path_arg("pcap2flow", "-o", optarg) != EXIT_OK)
                return EXIT_USAGE;
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
        case 'M': {
            uint64_t m;
            if (cli_parse_u64("pcap2flow", "--max-flows", optarg, 0, 1000000000, &m) != 0)
                return EXIT_USAGE;
            po.max_flows = (size_t)m;
            break;
        }
        case 'B':
            if (cli_parse_u64("pcap2flow", "--max-buffer", optarg, 0, 1000000000,
                              &max_buffer) != 0)
                return EXIT_USAGE;
            if (max_buffer > 0 && max_buffer < 1000)
                return cli_usage_error("pcap2flow",
                                       "--max-buffer: 0 (no limit) or at least 1000, not '%s'",
                                       optarg);
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
    c.max_buffer = (size_t)max_buffer;
    c.written_before = INT64_MIN;
    c.lag_ms = p2f_decision_lag_ms(&po);
    c.st = scand_strtab_new();
    if (c.st == NULL) {
        cli_error("out of memory");
        return EXIT_INPUT;
    }
    struct cap_stats cs;
    int rc = cap_run(argv + optind, argc - optind, &po, max_warnings, c.st, on_tuple, on_clock,
                     &c, &cs);
    if (rc == EXIT_OK && (c.failed || flush(&c, INT64_MAX) != 0))
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
        if (c.clipped > 0)
            fprintf(stderr, "scanlab: pcap2flow: %llu packet counts over 4294967295 in one "
                            "tuple, clipped\n",
                    (unsigned long long)c.clipped);
        if (c.too_late > 0)
            fprintf(stderr, "scanlab: pcap2flow: %llu tuples came after their hour's blob was "
                            "written (packets out of order by more than %lld minutes); not "
                            "written\n",
                    (unsigned long long)c.too_late, (long long)(c.lag_ms / 60000));
        if (c.n_spills > 0)
            fprintf(stderr, "scanlab: pcap2flow: %llu tuples spilled, sorted, to temporary files "
                            "(%llu spills; --max-buffer %llu)\n",
                    (unsigned long long)c.spilled, (unsigned long long)c.n_spills,
                    (unsigned long long)max_buffer);
        if (cs.warnings_suppressed > 0)
            fprintf(stderr, "scanlab: pcap2flow: %llu more warnings not shown (--max-warnings)\n",
                    (unsigned long long)cs.warnings_suppressed);
    }
    if (c.spilling == 1) /* a failed run can leave one in flight: it goes first */
        pthread_join(c.sth, NULL);
    free(c.sj.keys);
    cli_blob_close();
    free(deny);
    scand_strtab_free(c.st);
    for (size_t r = 0; r < c.n_runs; r++)
        run_close(&c.runs[r]);
    free(c.runs);
    struct tbuf *bufs[2] = {&c.b, &c.sb};
    for (int i = 0; i < 2; i++) {
        bigmem_free(bufs[i]->t, bufs[i]->cap * sizeof *bufs[i]->t);
        free(bufs[i]->addr);
        free(bufs[i]->aidx);
    }
    return rc;
}
