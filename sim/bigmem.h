/*
 * bigmem.h - zeroed arrays of tens of megabytes that grow (the flow slab,
 * pcap2flow's tuple buffers): straight from the kernel, grown by moving
 * their pages rather than copying them (bigmem.c; why not huge pages,
 * there).
 */
#ifndef BIGMEM_H
#define BIGMEM_H

#include <stddef.h>

/* bytes, zeroed; NULL when out of memory. Freed with bigmem_free(m, bytes)
 * and the same size. */
void *bigmem_alloc(size_t bytes);
void bigmem_free(void *m, size_t bytes);
/* old (allocated with old_bytes, or NULL) moved to the start of a new
 * area of bytes, the rest zeroed; old is gone. NULL when out of memory,
 * and old is still there. */
void *bigmem_grow(void *old, size_t old_bytes, size_t bytes);

#endif
