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

struct feeder {
    scand_ctx *ctx;
    int threaded;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t full_cv;  /* a chunk is ready for the detector */
    pthread_cond_t empty_cv; /* a chunk is free for the reader */
    struct scand_tuple *chunk[FEED_SLOTS];
    size_t len[FEED_SLOTS];
    size_t head, n_full; /* chunks [head, head + n_full) wait for the detector */
    size_t fill;         /* the reader's chunk: (head + n_full) % FEED_SLOTS */
    size_t fill_len;
    int done, failed;
};

static void *run(void *arg)
{
    struct feeder *f = arg;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (f->n_full == 0 && !f->done)
            pthread_cond_wait(&f->full_cv, &f->mu);
        if (f->n_full == 0)
            break; /* done, and nothing left */
        size_t slot = f->head;
        pthread_mutex_unlock(&f->mu);
        int rc = scand_feed(f->ctx, f->chunk[slot], f->len[slot]);
        pthread_mutex_lock(&f->mu);
        f->head = (f->head + 1) % FEED_SLOTS;
        f->n_full--;
        pthread_cond_signal(&f->empty_cv);
        if (rc != SCAND_OK) {
            f->failed = 1;
            break;
        }
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

struct feeder *feeder_new(scand_ctx *ctx, int thread)
{
    struct feeder *f = xcalloc(1, sizeof *f);
    f->ctx = ctx;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (!thread || cpus < 2)
        return f;
    for (int i = 0; i < FEED_SLOTS; i++)
        f->chunk[i] = xreallocarray(NULL, FEED_CHUNK, sizeof(struct scand_tuple));
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->full_cv, NULL);
    pthread_cond_init(&f->empty_cv, NULL);
    if (pthread_create(&f->th, NULL, run, f) != 0) {
        pthread_mutex_destroy(&f->mu);
        pthread_cond_destroy(&f->full_cv);
        pthread_cond_destroy(&f->empty_cv);
        for (int i = 0; i < FEED_SLOTS; i++)
            free(f->chunk[i]);
        return f; /* feed directly */
    }
    f->threaded = 1;
    return f;
}

/* Hand the reader's chunk to the detector and wait for a free one; -1 when
 * the detector has failed. */
static int hand_over(struct feeder *f)
{
    pthread_mutex_lock(&f->mu);
    if (f->fill_len > 0 && !f->failed) {
        f->len[f->fill] = f->fill_len;
        f->n_full++;
        f->fill_len = 0;
        pthread_cond_signal(&f->full_cv);
    }
    while (f->n_full == FEED_SLOTS && !f->failed)
        pthread_cond_wait(&f->empty_cv, &f->mu);
    f->fill = (f->head + f->n_full) % FEED_SLOTS;
    int rc = f->failed ? -1 : 0;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

int feeder_push(struct feeder *f, const struct scand_tuple *t, size_t n)
{
    if (!f->threaded) {
        if (f->failed || scand_feed(f->ctx, t, n) != SCAND_OK)
            f->failed = 1;
        return f->failed ? -1 : 0;
    }
    while (n > 0) {
        size_t k = FEED_CHUNK - f->fill_len;
        if (k > n)
            k = n;
        memcpy(f->chunk[f->fill] + f->fill_len, t, k * sizeof *t);
        f->fill_len += k;
        t += k;
        n -= k;
        if (f->fill_len == FEED_CHUNK && hand_over(f) != 0)
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
        pthread_mutex_lock(&f->mu);
        f->done = 1;
        pthread_cond_signal(&f->full_cv);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->th, NULL);
        if (f->failed)
            rc = -1;
        pthread_mutex_destroy(&f->mu);
        pthread_cond_destroy(&f->full_cv);
        pthread_cond_destroy(&f->empty_cv);
        for (int i = 0; i < FEED_SLOTS; i++)
            free(f->chunk[i]);
    } else if (f->failed) {
        rc = -1; /* fed directly: the failure is reported here all the same */
    }
    free(f);
    return rc;
}
