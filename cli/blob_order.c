/*
 * blob_order.c - the order pcap2flow writes buffered tuples in (blob hour,
 * NIC, time, arrival): an introsort of their keys with the comparison
 * inline and no scratch memory. qsort's indirect comparisons and scratch
 * copy were a tenth of a pcap2flow run; the keys are unique (arrival), so
 * stability does not matter.
 */
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

void blob_key_sort(struct blob_key *k, size_t n)
{
    int depth = 0;
    for (size_t m = n; m > 1; m >>= 1)
        depth += 2;
    blob_key_introsort(k, n, depth, NULL);
}
