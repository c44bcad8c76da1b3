/*
 * input.c - the input pipeline shared by every subcommand that reads flow
 * logs: expand paths (directories are walked recursively for PT1H.json, "-" is
 * stdin), open the blobs lazily, and merge their records by record time so
 * the detector sees one time-ordered stream (DESIGN.md section 4).
 *
 * Azure writes one PT1H.json per NIC per hour under .../y=YYYY/m=MM/d=DD/
 * h=HH/... . A blob is opened only when the merge reaches its hour (taken
 * from the path), so memory holds about one record per NIC of the current
 * hour, not the tree. Files without an hour in their path are opened at the
 * start. Ties (same record time) go to the file sorted first, then record
 * order, so output never depends on directory order.
 * Every diagnostic is counted; the first max_warnings per file are printed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct src {
    char *path;      /* as given or found; "-" for stdin */
    int64_t hour_ms; /* hour from the path, INT64_MIN if none */
    int fd;
    scand_reader *r;
    struct scand_record rec; /* current record when in the heap */
    uint64_t warnings;
    size_t order;
};

struct srclist {
    struct src *v;
    size_t n, cap;
};

struct pipe {
    const struct in_opts *o;
    struct in_stats *stats;
    struct src *cur; /* source whose diagnostics are being reported */
};

static void add_src(struct srclist *l, const char *path)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
    }
    struct src *s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    s->path = xstrdup(path);
    s->fd = -1;
    s->hour_ms = INT64_MIN;
}

/* Hour of an Azure blob path ".../y=YYYY/m=MM/d=DD/h=HH/...", or INT64_MIN. */
static int64_t path_hour(const char *p)
{
    const char *y = strstr(p, "y=");
    while (y != NULL) {
        unsigned Y, M, D, H;
        int n = 0;
        if (sscanf(y, "y=%4u/m=%2u/d=%2u/h=%2u/%n", &Y, &M, &D, &H, &n) == 4 && n > 0) {
            char iso[32];
            int64_t ms;
            snprintf(iso, sizeof iso, "%04u-%02u-%02uT%02u:00:00Z", Y % 10000, M % 100, D % 100,
                     H % 100);
            if (scand_time_parse(iso, &ms) == SCAND_OK)
                return ms;
        }
        y = strstr(y + 2, "y=");
    }
    return INT64_MIN;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk dir for regular files named PT1H.json (Azure's blob name), in name
 * order. Other files (truth.json, labels.csv, notes) are not blobs. */
static int walk(struct srclist *l, const char *dir, int depth)
{
    if (depth > 64) {
        cli_error("%s: directory tree deeper than 64 levels", dir);
        return -1;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        cli_error("%s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = xreallocarray(names, cap, sizeof *names);
        }
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_name);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *p = xmalloc(len);
        snprintf(p, len, "%s/%s", dir, names[i]);
        struct stat st;
        if (rc == 0 && stat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                rc = walk(l, p, depth + 1);
            else if (S_ISREG(st.st_mode) && strcmp(names[i], "PT1H.json") == 0)
                add_src(l, p);
        }
        free(p);
        free(names[i]);
    }
    free(names);
    return rc;
}

static ssize_t read_fd(void *arg, void *buf, size_t len)
{
    struct src *s = arg;
    for (;;) {
        ssize_t n = read(s->fd, buf, len);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

static void on_diag(void *arg, const struct scand_diag *d)
{
    struct pipe *p = arg;
    struct src *s = p->cur;
    char where[64] = "";
    if (d->line > 0 && d->col > 0)
        snprintf(where, sizeof where, ":%llu:%llu", (unsigned long long)d->line,
                 (unsigned long long)d->col);
    else if (d->line > 0)
        snprintf(where, sizeof where, ":%llu", (unsigned long long)d->line);
    if (p->o->max_warnings != 0 && s->warnings >= p->o->max_warnings) {
        p->stats->warnings_suppressed++;
        s->warnings++;
        return;
    }
    s->warnings++;
    if (d->record >= 0 && d->tuple >= 0)
        cli_warn("%s%s: record %lld, tuple %lld: %s (tuple skipped)", d->source, where,
                 (long long)d->record, (long long)d->tuple, d->reason);
    else if (d->kind == SCAND_DIAG_RECORD_SKIPPED)
        cli_warn("%s%s: record %lld: %s (record skipped)", d->source, where,
                 (long long)d->record, d->reason);
    else
        cli_warn("%s%s: %s", d->source, where, d->reason);
}

/* Open s and read its first record. Return 1 if it has one, 0 if empty, -1
 * on error (printed). */
static int src_open(struct pipe *p, struct src *s, scand_strtab *st)
{
    char errbuf[SCAND_ERRBUF_SIZE];
    int is_stdin = strcmp(s->path, "-") == 0;
    s->fd = is_stdin ? STDIN_FILENO : open(s->path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) {
        cli_error("%s: %s", s->path, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (!is_stdin && fstat(s->fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        cli_error("%s: is a directory", s->path);
        return -1;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    if (!is_stdin)
        posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    s->r = scand_reader_new(is_stdin ? "<stdin>" : s->path, read_fd, s, st, errbuf);
    if (s->r == NULL) {
        cli_error("%s", errbuf);
        return -1;
    }
    scand_reader_set_diag(s->r, on_diag, p);
    p->stats->files++;
    return 0;
}

/* Advance s to its next record. 1 = record in s->rec, 0 = end, -1 error. */
static int src_next(struct pipe *p, struct src *s)
{
    p->cur = s;
    int rc = scand_reader_next(s->r, &s->rec);
    if (rc < 0) {
        cli_error("%s", scand_reader_geterr(s->r));
        return -1;
    }
    return rc;
}

static void src_close(struct pipe *p, struct src *s)
{
    if (s->r != NULL) {
        struct scand_reader_stats rs;
        scand_reader_stats(s->r, &rs);
        struct in_stats *t = p->stats;
        t->bytes += rs.bytes;
        t->records += rs.records;
        t->records_skipped += rs.records_skipped;
        t->tuples += rs.tuples;
        t->tuples_skipped += rs.tuples_skipped;
        t->ts_seconds += rs.ts_seconds;
        t->cut_files += rs.cut;
        t->unclosed_files += rs.unclosed;
        scand_reader_free(s->r);
        s->r = NULL;
    }
    if (s->fd > STDIN_FILENO)
        close(s->fd);
    s->fd = -1;
}

/* Heap order: record time, then source order, then record index. */
static int before(const struct src *a, const struct src *b)
{
    if (a->rec.time_ms != b->rec.time_ms)
        return a->rec.time_ms < b->rec.time_ms;
    return a->order < b->order;
}

static void heap_push(struct src **h, size_t *n, struct src *s)
{
    size_t i = (*n)++;
    h[i] = s;
    while (i > 0 && before(h[i], h[(i - 1) / 2])) {
        struct src *t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static struct src *heap_pop(struct src **h, size_t *n)
{
    struct src *top = h[0];
    h[0] = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < *n && before(h[l], h[m]))
            m = l;
        if (r < *n && before(h[r], h[m]))
            m = r;
        if (m == i)
            break;
        struct src *t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
    return top;
}

static int cmp_src(const void *a, const void *b)
{
    const struct src *x = a, *y = b;
    if (x->hour_ms != y->hour_ms)
        return x->hour_ms < y->hour_ms ? -1 : 1;
    return strcmp(x->path, y->path);
}

int in_run(char *const *paths, int n_paths, const struct in_opts *o, scand_strtab *st,
           in_record_fn fn, void *arg, struct in_stats *stats)
{
    struct srclist l = {0};
    struct pipe p = {o, stats, NULL};
    int rc = EXIT_OK;
    struct src **heap = NULL;
    size_t nh = 0;
    struct scand_tuple *keep = NULL;
    size_t cap_keep = 0;
    uint8_t *dup = NULL;
    size_t cap_dup = 0;
    scand_dedup *dd = NULL;
    int n_stdin = 0;

    memset(stats, 0, sizeof *stats);
    for (int i = 0; i < n_paths; i++) {
        struct stat sb;
        if (strcmp(paths[i], "-") == 0) {
            if (n_stdin++ > 0) {
                cli_error("-: standard input given twice");
                rc = EXIT_INPUT;
                goto out;
            }
            add_src(&l, "-");
        } else if (stat(paths[i], &sb) != 0) {
            cli_error("%s: %s", paths[i], strerror(errno));
            rc = EXIT_INPUT;
            goto out;
        } else if (S_ISDIR(sb.st_mode)) {
            size_t before_n = l.n;
            if (walk(&l, paths[i], 0) != 0) {
                rc = EXIT_INPUT;
                goto out;
            }
            if (l.n == before_n)
                cli_warn("%s: no PT1H.json blobs in this directory", paths[i]);
        } else {
            add_src(&l, paths[i]);
        }
    }
    if (l.n == 0) {
        cli_error("no flow-log blobs in the given inputs (directories are searched for PT1H.json)");
        rc = EXIT_INPUT;
        goto out;
    }
    for (size_t i = 0; i < l.n; i++)
        l.v[i].hour_ms = strcmp(l.v[i].path, "-") == 0 ? INT64_MIN : path_hour(l.v[i].path);
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, cmp_src);
    for (size_t i = 0; i < l.n; i++)
        l.v[i].order = i;
    heap = xcalloc(l.n ? l.n : 1, sizeof *heap);
    dd = scand_dedup_new(120000, 0x5eed);
    if (dd == NULL) {
        cli_error("out of memory");
        rc = EXIT_INPUT;
        goto out;
    }

    int show = o->progress && cli_tty();
    double t0 = show ? cli_now() : 0, last = t0;
    size_t next = 0;
    for (;;) {
        /* Open every blob whose hour the merge has reached. */
        while (next < l.n && (nh == 0 || l.v[next].hour_ms <= heap[0]->rec.time_ms)) {
            struct src *s = &l.v[next++];
            if (src_open(&p, s, st) != 0) {
                rc = EXIT_INPUT;
                goto out;
            }
            int got = src_next(&p, s);
            if (got < 0) {
                rc = EXIT_INPUT;
                goto out;
            }
            if (got == 1)
                heap_push(heap, &nh, s);
            else
                src_close(&p, s);
        }
        if (nh == 0)
            break;
        struct src *s = heap_pop(heap, &nh);
        const struct scand_tuple *t = s->rec.tuples;
        size_t n = s->rec.n_tuples;
        if (n > cap_keep) {
            cap_keep = n * 2;
            keep = xreallocarray(keep, cap_keep, sizeof *keep);
        }
        if (n > cap_dup) {
            cap_dup = n * 2;
            dup = xreallocarray(dup, cap_dup, 1);
        }
        int64_t nd = scand_dedup_check_n(dd, t, n, dup);
        if (nd < 0) {
            cli_error("out of memory");
            rc = EXIT_INPUT;
            goto out;
        }
        stats->duplicates += (uint64_t)nd;
        const struct scand_tuple *pass = t;
        size_t k = n;
        if (nd > 0 && o->dedup) {
            if (n > cap_keep) {
                cap_keep = n * 2;
                keep = xreallocarray(keep, cap_keep, sizeof *keep);
            }
            k = 0;
            for (size_t i = 0; i < n; i++)
                if (!dup[i])
                    keep[k++] = t[i];
            pass = keep;
        }
        if (fn(arg, &s->rec, pass, k) != 0) {
            rc = EXIT_INPUT;
            goto out;
        }
        if (show) {
            double now = cli_now();
            if (now - last >= 0.5) {
                last = now;
                fprintf(stderr, "\rscanlab: %zu/%zu files, record time %lld ...", s->order + 1,
                        l.n, (long long)s->rec.time_ms / 1000);
            }
        }
        int got = src_next(&p, s);
        if (got < 0) {
            rc = EXIT_INPUT;
            goto out;
        }
        if (got == 1)
            heap_push(heap, &nh, s);
        else
            src_close(&p, s);
    }
    if (show)
        fprintf(stderr, "\r\033[K");
out:
    for (size_t i = 0; i < l.n; i++) {
        src_close(&p, &l.v[i]);
        free(l.v[i].path);
    }
    free(l.v);
    free(heap);
    free(keep);
    free(dup);
    scand_dedup_free(dd);
    return rc;
}

void in_summary(const struct in_stats *s, int dedup, char *buf, size_t size)
{
    int n = snprintf(buf, size,
                     "%llu files, %llu records (%llu skipped), %llu tuples read (%llu skipped), "
                     "%llu duplicates %s",
                     (unsigned long long)s->files, (unsigned long long)s->records,
                     (unsigned long long)s->records_skipped, (unsigned long long)s->tuples,
                     (unsigned long long)s->tuples_skipped, (unsigned long long)s->duplicates,
                     dedup ? "dropped" : "kept");
    if (n > 0 && (size_t)n < size && s->cut_files)
        n += snprintf(buf + n, size - (size_t)n, ", %llu cut blobs",
                      (unsigned long long)s->cut_files);
    if (n > 0 && (size_t)n < size && s->unclosed_files)
        n += snprintf(buf + n, size - (size_t)n, ", %llu unclosed blobs",
                      (unsigned long long)s->unclosed_files);
    if (n > 0 && (size_t)n < size && s->warnings_suppressed)
        snprintf(buf + n, size - (size_t)n, ", %llu warnings not shown",
                 (unsigned long long)s->warnings_suppressed);
}
