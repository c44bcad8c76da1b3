/*
 * unit_util.c - helpers shared by the unit suites (declared in tests.h):
 * memory read/write callbacks, sample loading, diagnostic collection, a
 * read-everything driver, tuple building, alert collection and a seeded
 * generator.
 *
 * Invariant: the helpers never touch files except to read the shared Azure
 * samples in place, and they allocate with the C library so that a test
 * swapping scand_set_allocator() hooks counts only the library's calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests.h"

void mem_in_init(struct mem_in *m, const void *p, size_t len, size_t chunk)
{
    m->p = p;
    m->len = len;
    m->pos = 0;
    m->chunk = chunk ? chunk : 1;
    m->fail_at = -1;
}

ssize_t mem_read(void *arg, void *buf, size_t len)
{
    struct mem_in *m = arg;
    if (m->fail_at >= 0 && m->pos >= (size_t)m->fail_at) {
        errno = EIO;
        return -1;
    }
    size_t n = m->len - m->pos;
    if (n > len)
        n = len;
    if (n > m->chunk)
        n = m->chunk;
    if (m->fail_at >= 0 && m->pos + n > (size_t)m->fail_at)
        n = (size_t)m->fail_at - m->pos;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

void mem_out_init(struct mem_out *o)
{
    memset(o, 0, sizeof *o);
    o->fail_call = -1;
}

void mem_out_fini(struct mem_out *o)
{
    free(o->p);
    o->p = NULL;
    o->len = o->cap = 0;
}

int mem_write(void *arg, const void *buf, size_t len)
{
    struct mem_out *o = arg;
    if (o->fail_call >= 0 && o->n_calls == (size_t)o->fail_call) {
        o->n_calls++;
        errno = ENOSPC;
        return -1;
    }
    if (o->n_calls < MEM_OUT_MAX_CALLS)
        o->call_off[o->n_calls] = o->len;
    o->n_calls++;
    if (o->len + len + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + len + 1)
            cap *= 2;
        char *p = realloc(o->p, cap);
        if (p == NULL)
            return -1;
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, buf, len);
    o->len += len;
    o->p[o->len] = '\0';
    return 0;
}

const char *samples_dir(void)
{
    static char dir[4096];
    const char *sh = getenv("SCANLAB_SHARED");
    if (sh == NULL || *sh == '\0')
        return NULL;
    snprintf(dir, sizeof dir, "%s/samples/azure", sh);
    return dir;
}

char *load_sample(const char *name, size_t *len)
{
    const char *dir = samples_dir();
    if (dir == NULL) {
        fprintf(stderr, "SCANLAB_SHARED is not set (make unit sets it)\n");
        return NULL;
    }
    char path[4352];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (n == cap) {
            char *b = realloc(buf, cap * 2);
            if (b == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (buf != NULL && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

void diag_collect(void *arg, const struct scand_diag *d)
{
    struct diag_log *dl = arg;
    if (dl->n < DIAG_MAX) {
        int i = dl->n;
        dl->kinds[i] = d->kind;
        dl->record[i] = d->record;
        dl->tuple[i] = d->tuple;
        dl->line[i] = d->line;
        dl->col[i] = d->col;
        snprintf(dl->reason[i], sizeof dl->reason[i], "%s", d->reason ? d->reason : "");
    }
    /* a reader that says the same thing forever is stuck in place: fail
     * the test rather than hang the suite */
    if (++dl->n > 1000000)
        CU_FAIL_FATAL("a million diagnostics: the reader makes no progress");
}

int diag_count(const struct diag_log *dl, int kind, const char *sub)
{
    int c = 0;
    int n = dl->n < DIAG_MAX ? dl->n : DIAG_MAX;
    for (int i = 0; i < n; i++)
        if (dl->kinds[i] == kind && (sub == NULL || strstr(dl->reason[i], sub) != NULL))
            c++;
    return c;
}

static int grow(void **p, size_t *cap, size_t need, size_t esize)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * esize);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

int read_all(const void *buf, size_t len, size_t chunk, scand_strtab *st, struct read_result *rr)
{
    memset(rr, 0, sizeof *rr);
    struct mem_in in;
    mem_in_init(&in, buf, len, chunk);
    char errbuf[SCAND_ERRBUF_SIZE] = "";
    scand_reader *r = scand_reader_new("unit", mem_read, &in, st, errbuf);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r == NULL)
        return -1;
    scand_reader_set_diag(r, diag_collect, &rr->diag);
    size_t cap_rec = 0, cap_tup = 0, cap_f = 0, cap_n = 0;
    struct scand_record rec;
    int rc;
    while ((rc = scand_reader_next(r, &rec)) == 1) {
        if (grow((void **)&rr->rec_time, &cap_rec, rr->n_rec + 1, sizeof *rr->rec_time) ||
            grow((void **)&rr->rec_fmt, &cap_f, rr->n_rec + 1, sizeof *rr->rec_fmt) ||
            grow((void **)&rr->rec_ntup, &cap_n, rr->n_rec + 1, sizeof *rr->rec_ntup) ||
            grow((void **)&rr->tup, &cap_tup, rr->n_tup + rec.n_tuples, sizeof *rr->tup)) {
            CU_FAIL("out of memory in read_all");
            rc = SCAND_ERR_NOMEM;
            break;
        }
        rr->rec_time[rr->n_rec] = rec.time_ms;
        rr->rec_fmt[rr->n_rec] = rec.fmt;
        rr->rec_ntup[rr->n_rec] = rec.n_tuples;
        rr->n_rec++;
        if (rec.n_tuples > 0)
            memcpy(rr->tup + rr->n_tup, rec.tuples, rec.n_tuples * sizeof *rr->tup);
        rr->n_tup += rec.n_tuples;
    }
    rr->rc = rc;
    rr->rc_again = scand_reader_next(r, &rec);
    scand_reader_stats(r, &rr->stats);
    snprintf(rr->err, sizeof rr->err, "%s", scand_reader_geterr(r));
    scand_reader_free(r);
    return 0;
}

void read_result_fini(struct read_result *rr)
{
    free(rr->rec_time);
    free(rr->rec_fmt);
    free(rr->rec_ntup);
    free(rr->tup);
    rr->rec_time = NULL;
    rr->rec_fmt = NULL;
    rr->rec_ntup = NULL;
    rr->tup = NULL;
}

void addr(const char *s, uint8_t out[16])
{
    int v6 = -1;
    memset(out, 0, 16);
    CU_ASSERT_EQUAL_FATAL(scand_addr_parse(s, strlen(s), out, &v6), SCAND_OK);
}

struct scand_tuple mk_tuple(int64_t ts, const char *src, const char *dst, uint16_t sport,
                            uint16_t dport, uint8_t proto, uint8_t state)
{
    struct scand_tuple t;
    memset(&t, 0, sizeof t);
    t.ts_ms = ts;
    addr(src, t.src);
    addr(dst, t.dst);
    if (!scand_addr_is_v4(t.src))
        t.flags |= SCAND_TF_V6;
    t.sport = sport;
    t.dport = dport;
    t.proto = proto;
    t.dir = SCAND_DIR_OUT;
    t.state = state;
    t.enc = SCAND_ENC_NX;
    t.flags |= SCAND_TF_NOCOUNT;
    return t;
}

int alerts_collect(void *arg, const struct scand_alert *a)
{
    struct alerts *al = arg;
    if (al->n == al->cap) {
        size_t cap = al->cap ? al->cap * 2 : 16;
        struct scand_alert *p = realloc(al->a, cap * sizeof *p);
        if (p == NULL)
            return 1;
        al->a = p;
        al->cap = cap;
    }
    al->a[al->n++] = *a;
    return al->stop_at != 0 && al->n >= al->stop_at;
}

size_t alerts_count_rule(const struct alerts *al, const char *rule)
{
    size_t c = 0;
    for (size_t i = 0; i < al->n; i++)
        c += strcmp(al->a[i].rule, rule) == 0;
    return c;
}

const struct scand_alert *alerts_find_rule(const struct alerts *al, const char *rule)
{
    for (size_t i = 0; i < al->n; i++)
        if (strcmp(al->a[i].rule, rule) == 0)
            return &al->a[i];
    return NULL;
}

scand_ctx *detect_new(struct alerts *al, const char *const *kv)
{
    memset(al, 0, sizeof *al);
    char err[SCAND_ERRBUF_SIZE] = "";
    scand_ctx *ctx = scand_new(err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    for (; kv != NULL && kv[0] != NULL; kv += 2)
        CU_ASSERT_EQUAL(scand_set_config(ctx, kv[0], kv[1]), SCAND_OK);
    scand_set_alert_cb(ctx, alerts_collect, al);
    CU_ASSERT_EQUAL_FATAL(scand_finalize(ctx), SCAND_OK);
    return ctx;
}

void detect_free(scand_ctx *ctx, struct alerts *al)
{
    scand_free(ctx);
    free(al->a);
    al->a = NULL;
}

uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

uint64_t rng_below(uint64_t *s, uint64_t n)
{
    return n ? rng_next(s) % n : 0;
}

void sb_add(struct sb *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

int has_sub(const char *hay, const char *needle)
{
    return hay != NULL && needle != NULL && strstr(hay, needle) != NULL;
}
