/*
 * blob_order.c - the order pcap2flow writes buffered tuples in (blob hour,
 * NIC, time, arrival).
 *
 * A buffer's keys come in arrival order, so the order wanted is that of
 * (hour, NIC, time) with ties kept in place: the three fields, less their
 * minimum, packed into one word with the key's index below them and sorted
 * by a least-significant-digit radix sort (stable, a few passes of up to 12 bits
 * over the bits the buffer uses) -- 500,000 keys in about 10 ms where the
 * comparison sort took 80. blob_order_positions() packs the buffer's
 * tuples straight into the words, with no key array between. When the
 * fields do not fit in a word beside the
 * index, arrival is not in index order (the 32-bit counter wrapped), or
 * the scratch memory is not there, an introsort with the comparison inline
 * and no scratch memory does it; the keys are unique (arrival), so
 * stability does not matter there. qsort's indirect comparisons and
 * scratch copy were a tenth of a pcap2flow run.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static inline int key_less(const struct blob_key *x, const struct blob_key *y)
{
    return blob_order(x->hour, x->mac, x->ts, x->seq, y->hour, y->mac, y->ts, y->seq) < 0;
}

static inline void key_swap(struct blob_key *a, struct blob_key *b)
{
    struct blob_key t = *a;
    *a = *b;
    *b = t;
}

static void key_sift(struct blob_key *k, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && key_less(&k[c], &k[c + 1]))
            c++;
        if (!key_less(&k[i], &k[c]))
            return;
        key_swap(&k[i], &k[c]);
        i = c;
    }
}

void blob_key_introsort(struct blob_key *k, size_t n, int depth, struct blob_sort_stats *st)
{
    while (n > 16) {
        if (depth-- == 0) { /* heapsort: no quadratic worst case */
            if (st != NULL)
                st->fallbacks++;
            for (size_t i = n / 2; i-- > 0;)
                key_sift(k, i, n);
            for (size_t i = n - 1; i > 0; i--) {
                key_swap(&k[0], &k[i]);
                key_sift(k, 0, i);
            }
            return;
        }
        /* median of three to k[0], then Hoare partition around it */
        if (st != NULL)
            st->partitioned += n;
        size_t m = n / 2;
        if (key_less(&k[m], &k[0]))
            key_swap(&k[m], &k[0]);
        if (key_less(&k[n - 1], &k[m]))
            key_swap(&k[n - 1], &k[m]);
        if (key_less(&k[m], &k[0]))
            key_swap(&k[m], &k[0]);
        key_swap(&k[0], &k[m]);
        size_t i = 0, j = n;
        for (;;) {
            do
                i++;
            while (i < n && key_less(&k[i], &k[0]));
            do
                j--;
            while (key_less(&k[0], &k[j]));
            if (i >= j)
                break;
            key_swap(&k[i], &k[j]);
        }
        key_swap(&k[0], &k[j]);
        /* recurse into the smaller side, loop on the larger */
        if (j < n - j - 1) {
            blob_key_introsort(k, j, depth, st);
            k += j + 1;
            n -= j + 1;
        } else {
            blob_key_introsort(k + j + 1, n - j - 1, depth, st);
            n = j;
        }
    }
    for (size_t i = 1; i < n; i++) /* insertion sort */
        for (size_t j = i; j > 0 && key_less(&k[j], &k[j - 1]); j--)
            key_swap(&k[j], &k[j - 1]);
}

static unsigned width(uint64_t v)
{
    return v ? 64 - (unsigned)__builtin_clzll(v) : 0;
}

enum { DIGIT_MAX = 12 };

/* a[0..n) sorted, stably, by their bits [bi, bi + kb) (b is as large,
 * scratch): LSD passes of up to DIGIT_MAX bits, a pass skipped when every
 * key has the same digit there. The sorted array (a or b), or NULL when
 * out of memory. */
static uint64_t *radix_words(uint64_t *a, uint64_t *b, size_t n, unsigned kb, unsigned bi,
                             struct blob_sort_stats *st)
{
    if (kb == 0 || n < 2)
        return a;
    unsigned passes = (kb + DIGIT_MAX - 1) / DIGIT_MAX;
    unsigned d = (kb + passes - 1) / passes; /* digits of even width */
    size_t (*count)[1 << DIGIT_MAX] = calloc(passes, sizeof *count);
    if (count == NULL)
        return NULL;
    uint64_t dmask = ((uint64_t)1 << d) - 1;
    for (size_t i = 0; i < n; i++)
        for (unsigned p = 0; p < passes; p++)
            count[p][(a[i] >> (bi + p * d)) & dmask]++;
    for (unsigned p = 0; p < passes; p++) {
        size_t sum = 0;
        int skip = 0;
        for (size_t v = 0; v <= dmask; v++) {
            size_t c = count[p][v];
            skip |= c == n; /* one value: the pass would change nothing */
            count[p][v] = sum;
            sum += c;
        }
        if (skip)
            continue;
        unsigned shift = bi + p * d;
        for (size_t i = 0; i < n; i++)
            b[count[p][(a[i] >> shift) & dmask]++] = a[i];
        uint64_t *t = a;
        a = b, b = t;
        if (st != NULL)
            st->radix_passes++;
    }
    free(count);
    return a;
}

/* The radix sort's keys: hour (counted in hours), NIC and time, less
 * their minimums, packed in a word above the key's index (arrival order,
 * so that ties keep it). */
struct pack {
    int64_t h0, t0;
    unsigned bh, bm, bt, bi;
};

/* The widths for n keys with hours h0..h1, NICs up to m1 and times
 * t0..t1; 0, or -1 when they do not fit a word beside the index (or n is
 * below 2, or above 2^32). */
static int pack_plan(struct pack *p, size_t n, int64_t h0, int64_t h1, uint32_t m1, int64_t t0,
                     int64_t t1)
{
    if (n < 2 || n - 1 > UINT32_MAX)
        return -1;
    /* differences as unsigned words: exact, as max >= min */
    p->h0 = h0, p->t0 = t0;
    p->bh = width((uint64_t)h1 - (uint64_t)h0);
    p->bm = width(m1);
    p->bt = width((uint64_t)t1 - (uint64_t)t0);
    p->bi = width(n - 1); /* >= 1, so every shift in pack_key is below 64 */
    return p->bh + p->bm + p->bt + p->bi <= 64 ? 0 : -1;
}

static inline uint64_t pack_key(const struct pack *p, int64_t hour, uint32_t mac, int64_t ts,
                                size_t i)
{
    uint64_t x = (uint64_t)hour - (uint64_t)p->h0;
    x = x << p->bm | mac;
    x = x << p->bt | ((uint64_t)ts - (uint64_t)p->t0);
    return x << p->bi | i;
}

/* Field off of record i (records stride bytes apart from base). */
static inline int64_t field64(const char *base, size_t stride, size_t i, size_t off)
{
    int64_t v;
    memcpy(&v, base + i * stride + off, sizeof v);
    return v;
}

static inline uint32_t field32(const char *base, size_t stride, size_t i, size_t off)
{
    uint32_t v;
    memcpy(&v, base + i * stride + off, sizeof v);
    return v;
}

/* The radix sort; 0 when done, -1 when it cannot be used (see the head
 * of the file). */
static int positions_radix(const char *b, size_t stride, size_t ots, size_t omac, size_t oseq,
                           size_t n, uint32_t *pos, struct blob_sort_stats *st)
{
    if (n < 2)
        return -1;
    int64_t t0 = field64(b, stride, 0, ots), t1 = t0;
    uint32_t m1 = field32(b, stride, 0, omac), prev = field32(b, stride, 0, oseq);
    for (size_t i = 1; i < n; i++) {
        uint32_t seq = field32(b, stride, i, oseq);
        if (seq <= prev)
            return -1; /* ties would not fall in index order */
        prev = seq;
        int64_t ts = field64(b, stride, i, ots);
        uint32_t mac = field32(b, stride, i, omac);
        t0 = ts < t0 ? ts : t0;
        t1 = ts > t1 ? ts : t1;
        m1 = mac > m1 ? mac : m1;
    }
    /* an hour is a function of the time that never falls as it rises: the
     * extreme times give the extreme hours */
    struct pack p;
    if (pack_plan(&p, n, scand_blob_hour(t0) / BLOB_HOUR_MS, scand_blob_hour(t1) / BLOB_HOUR_MS,
                  m1, t0, t1) != 0)
        return -1;
    uint64_t *w = malloc(2 * n * sizeof *w); /* reused heap: no fresh pages to zero */
    if (w == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int64_t ts = field64(b, stride, i, ots);
        w[i] = pack_key(&p, scand_blob_hour(ts) / BLOB_HOUR_MS, field32(b, stride, i, omac), ts,
                        i);
    }
    uint64_t *a = radix_words(w, w + n, n, p.bh + p.bm + p.bt, p.bi, st);
    if (a != NULL) {
        uint64_t imask = ((uint64_t)1 << p.bi) - 1;
        for (size_t j = 0; j < n; j++)
            pos[j] = (uint32_t)(a[j] & imask);
        if (st != NULL)
            st->radix++;
    }
    free(w);
    return a != NULL ? 0 : -1;
}

void blob_order_positions(const void *base, size_t stride, size_t off_ts, size_t off_mac,
                          size_t off_seq, size_t n, uint32_t *pos, struct blob_sort_stats *st)
{
    const char *b = base;
    if (positions_radix(b, stride, off_ts, off_mac, off_seq, n, pos, st) == 0)
        return;
    struct blob_key *k = xmalloc((n ? n : 1) * sizeof *k);
    for (size_t i = 0; i < n; i++) {
        int64_t ts = field64(b, stride, i, off_ts);
        k[i] = (struct blob_key){scand_blob_hour(ts), ts, field32(b, stride, i, off_mac),
                                 field32(b, stride, i, off_seq), (uint32_t)i, 0};
    }
    blob_key_sort_stats(k, n, st);
    for (size_t i = 0; i < n; i++)
        pos[i] = k[i].pos;
    free(k);
}

void blob_key_sort_stats(struct blob_key *k, size_t n, struct blob_sort_stats *st)
{
    int depth = 0;
    for (size_t m = n; m > 1; m >>= 1)
        depth += 2;
    blob_key_introsort(k, n, depth, st);
}

void blob_key_sort(struct blob_key *k, size_t n)
{
    blob_key_sort_stats(k, n, NULL);
}
