/*
 * util.c - allocator hooks, error strings, the keyed hash and small number
 * parsers shared by the rest of libscand.
 *
 * The allocator hooks are the one piece of process-wide state in the
 * library: tests swap them to fail the Nth allocation [ND ndpi_memory.c].
 * Every size product is checked for overflow before it reaches them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scand_int.h"

static void *(*hook_malloc)(size_t) = malloc;
static void *(*hook_realloc)(void *, size_t) = realloc;
static void (*hook_free)(void *) = free;

void scand_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                         void (*free_fn)(void *))
{
    if (malloc_fn == NULL || realloc_fn == NULL || free_fn == NULL) {
        hook_malloc = malloc;
        hook_realloc = realloc;
        hook_free = free;
        return;
    }
    hook_malloc = malloc_fn;
    hook_realloc = realloc_fn;
    hook_free = free_fn;
}

void *scandint_malloc(size_t n)
{
    return hook_malloc(n ? n : 1);
}

void *scandint_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = scandint_malloc(count * size);
    if (p != NULL)
        memset(p, 0, count * size != 0 ? count * size : 1);
    return p;
}

void *scandint_realloc(void *p, size_t n)
{
    return hook_realloc(p, n ? n : 1);
}

void *scandint_reallocarray(void *p, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    return scandint_realloc(p, count * size);
}

int scandint_grow(void *pp, size_t *cap, size_t min, size_t size)
{
    void *p;
    memcpy(&p, pp, sizeof p); /* pp is a T **: copied, not cast, to a void * */
    if (*cap > SIZE_MAX / 2)
        return SCAND_ERR_NOMEM;
    size_t n = *cap ? *cap * 2 : min;
    void *np = scandint_reallocarray(p, n, size);
    if (np == NULL)
        return SCAND_ERR_NOMEM;
    memcpy(pp, &np, sizeof np);
    *cap = n;
    return SCAND_OK;
}

void scandint_free(void *p)
{
    if (p != NULL)
        hook_free(p);
}

char *scandint_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = scandint_malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

void scandint_seterr(char *errbuf, const char *fmt, ...)
{
    if (errbuf == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, SCAND_ERRBUF_SIZE, fmt, ap);
    va_end(ap);
}

const char *scand_strerror(int err)
{
    switch (err) {
    case SCAND_OK: return "success";
    case SCAND_ERR_NOMEM: return "out of memory";
    case SCAND_ERR_INVAL: return "invalid argument";
    case SCAND_ERR_RANGE: return "value out of range";
    case SCAND_ERR_STATE: return "call not allowed in this state";
    case SCAND_ERR_IO: return "input/output error";
    case SCAND_ERR_FORMAT: return "not a flow log";
    default: return "unknown error";
    }
}

size_t scandint_pow2(size_t n)
{
    size_t c = 16;
    while (c < n && c < SIZE_MAX / 2)
        c <<= 1;
    return c;
}

int scandint_parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9)
            return -1;
        if (v > (UINT64_MAX - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

void scandint_add_sample(uint8_t (*list)[16], unsigned *n, int64_t *when, const uint8_t addr[16],
                     int64_t ts)
{
    unsigned i = *n;
    while (i > 0 && (when[i - 1] > ts || (when[i - 1] == ts && memcmp(list[i - 1], addr, 16) > 0)))
        i--;
    if (i >= SCAND_SAMPLES)
        return;
    unsigned last = *n < SCAND_SAMPLES ? *n : SCAND_SAMPLES - 1;
    for (unsigned j = last; j > i; j--) {
        memcpy(list[j], list[j - 1], 16);
        when[j] = when[j - 1];
    }
    memcpy(list[i], addr, 16);
    when[i] = ts;
    if (*n < SCAND_SAMPLES)
        (*n)++;
}
