/*
 * bigmem.c - large arrays read at random (bigmem.h): whole from mmap,
 * aligned to 2 MiB when that large and asked to be backed by huge pages
 * (madvise MADV_HUGEPAGE: Debian's transparent huge page mode is
 * "madvise"); without them the kernel backs them with small pages, as
 * malloc's. Under ASan they come from the heap, where it checks bounds.
 */
#define _GNU_SOURCE /* mremap */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bigmem.h"

#define HUGE_PAGE ((size_t)2 << 20)

static size_t big_size(size_t bytes)
{
    size_t page = bytes >= HUGE_PAGE ? HUGE_PAGE : 4096;
    return (bytes + page - 1) / page * page;
}

#if defined(__SANITIZE_ADDRESS__) /* the heap, where ASan checks bounds */
void *bigmem_alloc(size_t bytes)
{
    void *m = aligned_alloc(64, big_size(bytes));
    if (m != NULL)
        memset(m, 0, big_size(bytes));
    return m;
}

void bigmem_free(void *m, size_t bytes)
{
    (void)bytes;
    free(m);
}

void *bigmem_grow(void *old, size_t old_bytes, size_t bytes)
{
    void *m = bigmem_alloc(bytes);
    if (m != NULL && old != NULL) {
        memcpy(m, old, old_bytes);
        bigmem_free(old, old_bytes);
    }
    return m;
}
#else
void *bigmem_alloc(size_t bytes)
{
    size_t size = big_size(bytes), extra = size >= HUGE_PAGE ? HUGE_PAGE : 0;
    char *m = mmap(NULL, size + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    if (extra > 0) { /* keep the aligned part */
        size_t head = (size_t)(-(uintptr_t)m & (HUGE_PAGE - 1));
        if (head > 0)
            munmap(m, head);
        if (extra - head > 0)
            munmap(m + head + size, extra - head);
        m += head;
#ifdef MADV_HUGEPAGE
        madvise(m, size, MADV_HUGEPAGE); /* a hint: small pages serve too */
#endif
    }
    return m;
}

void bigmem_free(void *m, size_t bytes)
{
    if (m != NULL)
        munmap(m, big_size(bytes));
}

/* old (old_bytes of it in use) moved to the start of a new area of bytes:
 * its pages move with mremap, not copied, so the two are never resident
 * together (a slab of 600,000 flows would otherwise peak at 1.5 times its
 * size while it doubles). */
void *bigmem_grow(void *old, size_t old_bytes, size_t bytes)
{
    char *m = bigmem_alloc(bytes);
    if (m == NULL || old == NULL)
        return m;
    size_t os = big_size(old_bytes);
#ifdef MREMAP_FIXED
    if (mremap(old, os, os, MREMAP_MAYMOVE | MREMAP_FIXED, m) != MAP_FAILED) {
#ifdef MADV_HUGEPAGE
        if (big_size(bytes) >= HUGE_PAGE) /* the moved part keeps its old advice */
            madvise(m, big_size(bytes), MADV_HUGEPAGE);
#endif
        return m;
    }
    /* a failed MREMAP_FIXED may have unmapped the target: start afresh */
    bigmem_free(m, bytes);
    if ((m = bigmem_alloc(bytes)) == NULL)
        return NULL;
#endif
    memcpy(m, old, old_bytes);
    bigmem_free(old, old_bytes);
    return m;
}
#endif
