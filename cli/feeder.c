/*
 * feeder.c - run the detector on a thread of its own, so that reading and
 * parsing the input (one core) overlaps with the flow table and the rules
 * (the other): nfdump's and masscan's split of I/O from processing.
 *
 * The reader copies tuples into fixed chunks; a full chunk is handed to the
 * detector thread through a small ring (FEED_SLOTS chunks of FEED_CHUNK
 * tuples, about 7 MiB in all, so memory stays flat whatever the input).
 * The detector sees exactly the tuples, in exactly the order, that a direct
 * scand_feed() loop would give it, so alerts and statistics are the same
 * byte for byte; only the wall time changes.
 *
 * Ownership: between feeder_new() and feeder_finish() the context belongs
 * to the detector thread (scand_feed and the alert callback run there); the
 * caller touches it again only after feeder_finish() has joined. A failure
 * of scand_feed() stops the thread; later pushes return -1 at once and
 * scand_geterr(ctx) holds the reason once feeder_finish() returned.
 * With one CPU, when the caller asks (thread 0), or when the thread cannot
 * start, the feeder feeds directly.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define FEED_SLOTS 4
#define FEED_CHUNK 16384

struct chunk {
    size_t len;
    struct scand_tuple t[FEED_CHUNK];
};

struct feeder {
    scand_ctx *ctx;
    int threaded;
    pthread_t th;
    struct ring ring;   /* FEED_SLOTS chunks */
    struct chunk *fill; /* the reader's chunk, NULL once the detector failed */
    int failed;         /* the detector thread's, read after the join */
};

static void *run(void *arg)
{
    struct feeder *f = arg;
    struct chunk *c;
    while ((c = ring_take(&f->ring)) != NULL) {
        int rc = scand_feed(f->ctx, c->t, c->len);
        ring_done(&f->ring);
        if (rc != SCAND_OK) {
            f->failed = 1;
            ring_stop(&f->ring);
            break;
        }
    }
    return NULL;
}

struct feeder *feeder_new(scand_ctx *ctx, int thread)
{
    struct feeder *f = xcalloc(1, sizeof *f);
    f->ctx = ctx;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (!thread || cpus < 2)
        return f;
    ring_init(&f->ring, FEED_SLOTS, sizeof(struct chunk));
    if (pthread_create(&f->th, NULL, run, f) != 0) {
        ring_destroy(&f->ring);
        return f; /* feed directly */
    }
    f->threaded = 1;
    f->fill = ring_slot(&f->ring);
    f->fill->len = 0;
    return f;
}

/* Hand the reader's chunk to the detector and take a free one; -1 when
 * the detector has failed. */
static int hand_over(struct feeder *f)
{
    if (f->fill == NULL)
        return -1;
    if (f->fill->len > 0) {
        ring_put(&f->ring);
        f->fill = ring_slot(&f->ring);
        if (f->fill == NULL)
            return -1;
        f->fill->len = 0;
    }
    return 0;
}

int feeder_push(struct feeder *f, const struct scand_tuple *t, size_t n)
{
    if (!f->threaded) {
        if (f->failed || scand_feed(f->ctx, t, n) != SCAND_OK)
            f->failed = 1;
        return f->failed ? -1 : 0;
    }
    while (n > 0) {
        if (f->fill == NULL)
            return -1;
        size_t k = FEED_CHUNK - f->fill->len;
        if (k > n)
            k = n;
        memcpy(f->fill->t + f->fill->len, t, k * sizeof *t);
        f->fill->len += k;
        t += k;
        n -= k;
        if (f->fill->len == FEED_CHUNK && hand_over(f) != 0)
            return -1;
    }
    return 0;
}

int feeder_finish(struct feeder *f)
{
    if (f == NULL)
        return 0;
    int rc = 0;
    if (f->threaded) {
        rc = hand_over(f); /* the partial chunk */
        ring_close(&f->ring);
        pthread_join(f->th, NULL);
        if (f->failed)
            rc = -1;
        ring_destroy(&f->ring);
    } else if (f->failed) {
        rc = -1; /* fed directly: the failure is reported here all the same */
    }
    free(f);
    return rc;
}
