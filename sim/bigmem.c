/*
 * bigmem.c - large arrays that grow (bigmem.h): whole from mmap, grown
 * with mremap, which moves their pages instead of copying them. Under ASan
 * they come from the heap, where it checks bounds.
 *
 * No huge pages (madvise MADV_HUGEPAGE), though the flow slab and index
 * are read at random: on the 2-core KVM machines ScanLab is measured on,
 * the guest hands freed 2 MiB blocks back to the host (virtio-balloon
 * free page reporting), and a huge page taken from one is faulted in by
 * the host page by page: 300-400 MB/s, against 2 GB/s for small pages
 * (first touch of 56 MiB: 0.15-0.19 s against 0.027 s). On the pcap2flow
 * bench capture huge pages cost 0.38 s of system time against 0.25 s,
 * and the TLB misses they would save cost less (user time 0.82 s with
 * them, 0.78 s without).
 */
#define _GNU_SOURCE /* mremap */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bigmem.h"

static size_t big_size(size_t bytes)
{
    return (bytes + 4095) / 4096 * 4096;
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
    void *m = mmap(NULL, big_size(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

void bigmem_free(void *m, size_t bytes)
{
    if (m != NULL)
        munmap(m, big_size(bytes));
}

/* old (old_bytes of it in use) grown to bytes: its pages move with
 * mremap, not copied, so the two are never resident together (a slab of
 * 600,000 flows would otherwise peak at 1.5 times its size while it
 * doubles). The pages past the old end are new, so zero. */
void *bigmem_grow(void *old, size_t old_bytes, size_t bytes)
{
    if (old == NULL)
        return bigmem_alloc(bytes);
    void *m = mremap(old, big_size(old_bytes), big_size(bytes), MREMAP_MAYMOVE);
    return m == MAP_FAILED ? NULL : m;
}
#endif
