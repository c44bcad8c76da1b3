/*
 * ring.c - a ring of fixed-size slots between two threads: one producer
 * fills slots and hands them over in order, one consumer takes them in
 * that order and frees them. Memory is the slots, allocated once; the
 * producer waits while every slot is full, the consumer while none is.
 * Used by feeder.c (tuples to the detector thread) and capture.c (decoded
 * packets from the reader thread to the flow engine).
 */
#include <stdlib.h>

#include "bigmem.h"
#include "cli.h"

void ring_init(struct ring *r, size_t n_slots, size_t slot_size)
{
    r->mem = xbiggrow(NULL, 0, n_slots, slot_size);
    r->n_slots = n_slots;
    r->slot_size = slot_size;
    r->head = r->n_full = 0;
    r->closed = r->stopped = r->waiting = r->starving = 0;
    r->wake_full = (n_slots + 1) / 2;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->full_cv, NULL);
    pthread_cond_init(&r->free_cv, NULL);
}

void ring_wake_every(struct ring *r)
{
    r->wake_full = 1;
}

void ring_destroy(struct ring *r)
{
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->full_cv);
    pthread_cond_destroy(&r->free_cv);
    bigmem_free(r->mem, r->n_slots * r->slot_size);
    r->mem = NULL;
}

static void *slot(const struct ring *r, size_t i)
{
    return r->mem + (i % r->n_slots) * r->slot_size;
}

void *ring_slot(struct ring *r)
{
    pthread_mutex_lock(&r->mu);
    while (r->n_full == r->n_slots && !r->stopped) {
        r->waiting = 1;
        pthread_cond_wait(&r->free_cv, &r->mu);
    }
    r->waiting = 0;
    void *s = r->stopped ? NULL : slot(r, r->head + r->n_full);
    pthread_mutex_unlock(&r->mu);
    return s;
}

void ring_put(struct ring *r)
{
    pthread_mutex_lock(&r->mu);
    r->n_full++;
    /* likewise a waiting consumer wakes when half the ring is full */
    if (r->starving && r->n_full >= r->wake_full)
        pthread_cond_signal(&r->full_cv);
    pthread_mutex_unlock(&r->mu);
}

void ring_close(struct ring *r)
{
    pthread_mutex_lock(&r->mu);
    r->closed = 1;
    pthread_cond_signal(&r->full_cv);
    pthread_mutex_unlock(&r->mu);
}

void *ring_take(struct ring *r)
{
    pthread_mutex_lock(&r->mu);
    while (r->n_full == 0 && !r->closed) {
        r->starving = 1;
        pthread_cond_wait(&r->full_cv, &r->mu);
    }
    r->starving = 0;
    void *s = r->n_full > 0 ? slot(r, r->head) : NULL;
    pthread_mutex_unlock(&r->mu);
    return s;
}

void ring_done(struct ring *r)
{
    pthread_mutex_lock(&r->mu);
    r->head = (r->head + 1) % r->n_slots;
    r->n_full--;
    /* a waiting producer wakes when half the ring is free, not at every
     * slot: when the consumer is the slower side, a wake per slot costs
     * both threads a futex call and a context switch each time */
    if (r->waiting && r->n_full <= r->n_slots / 2)
        pthread_cond_signal(&r->free_cv);
    pthread_mutex_unlock(&r->mu);
}

void ring_stop(struct ring *r)
{
    pthread_mutex_lock(&r->mu);
    __atomic_store_n(&r->stopped, 1, __ATOMIC_RELAXED);
    pthread_cond_signal(&r->free_cv);
    pthread_mutex_unlock(&r->mu);
}

int ring_stopped(struct ring *r)
{
    return __atomic_load_n(&r->stopped, __ATOMIC_RELAXED);
}
