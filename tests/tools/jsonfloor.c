/*
 * jsonfloor.c - the floors `make bench` measures scanlab detect against.
 *
 *   jsonfloor read FILE    read(2) the whole file in 1 MiB chunks, count bytes
 *                          and newlines: the cost of getting the bytes in
 *   jsonfloor cjson FILE   read the whole file into memory, cJSON_ParseWithLength,
 *                          walk records[].flowRecords.flows[].flowGroups[].
 *                          flowTuples[] counting string tuples, cJSON_Delete:
 *                          the cost of a bare parse-and-walk with no detection
 *
 * Prints one line to stdout, timed with CLOCK_MONOTONIC from open(2) to after
 * the last byte is read (read) or after cJSON_Delete (cjson):
 *
 *   tuples=5000123 bytes=351234567 newlines=0 seconds=1.234
 *
 * (read mode has no tuples: it prints tuples=0.) Exit 0 on success, 1 on an
 * I/O or parse error, 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define CHUNK (1u << 20)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *file, const char *what)
{
    fprintf(stderr, "jsonfloor: %s: %s: %s\n", file, what, strerror(errno));
    return 1;
}

static int floor_read(const char *file)
{
    double t0 = now_s();
    int fd = open(file, O_RDONLY);
    if (fd < 0)
        return fail(file, "open");
    char *buf = malloc(CHUNK);
    if (buf == NULL) {
        close(fd);
        return fail(file, "malloc");
    }
    uint64_t bytes = 0, lines = 0;
    for (;;) {
        ssize_t n = read(fd, buf, CHUNK);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            free(buf);
            close(fd);
            return fail(file, "read");
        }
        if (n == 0)
            break;
        bytes += (uint64_t)n;
        for (const char *p = buf, *end = buf + n;
             (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
            lines++;
    }
    free(buf);
    close(fd);
    double t1 = now_s();
    printf("tuples=0 bytes=%llu newlines=%llu seconds=%.6f\n", (unsigned long long)bytes,
           (unsigned long long)lines, t1 - t0);
    return 0;
}

/* Read the whole file: one allocation sized from fstat, then read(2) in chunks. */
static char *slurp(const char *file, size_t *len)
{
    int fd = open(file, O_RDONLY);
    if (fd < 0)
        return NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)sb.st_size + 1, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        close(fd);
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                close(fd);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t want = cap - n < CHUNK ? cap - n : CHUNK;
        ssize_t r = read(fd, buf + n, want);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
}

static int floor_cjson(const char *file)
{
    double t0 = now_s();
    size_t len = 0;
    char *buf = slurp(file, &len);
    if (buf == NULL)
        return fail(file, "read");
    cJSON *root = cJSON_ParseWithLength(buf, len);
    if (root == NULL) {
        fprintf(stderr, "jsonfloor: %s: JSON parse error\n", file);
        free(buf);
        return 1;
    }
    uint64_t tuples = 0, other = 0;
    const cJSON *records = cJSON_GetObjectItemCaseSensitive(root, "records"), *rec;
    cJSON_ArrayForEach(rec, records)
    {
        const cJSON *fr = cJSON_GetObjectItemCaseSensitive(rec, "flowRecords");
        const cJSON *flows = cJSON_GetObjectItemCaseSensitive(fr, "flows"), *fl;
        cJSON_ArrayForEach(fl, flows)
        {
            const cJSON *groups = cJSON_GetObjectItemCaseSensitive(fl, "flowGroups"), *g;
            cJSON_ArrayForEach(g, groups)
            {
                const cJSON *tl = cJSON_GetObjectItemCaseSensitive(g, "flowTuples"), *t;
                cJSON_ArrayForEach(t, tl)
                {
                    if (cJSON_IsString(t) && t->valuestring != NULL)
                        tuples++;
                    else
                        other++;
                }
            }
        }
    }
    cJSON_Delete(root);
    free(buf);
    double t1 = now_s();
    printf("tuples=%llu bytes=%llu newlines=0 seconds=%.6f\n", (unsigned long long)tuples,
           (unsigned long long)len, t1 - t0);
    if (other > 0)
        fprintf(stderr, "jsonfloor: %s: %llu non-string tuples skipped\n", file,
                (unsigned long long)other);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "read") == 0)
        return floor_read(argv[2]);
    if (argc == 3 && strcmp(argv[1], "cjson") == 0)
        return floor_cjson(argv[2]);
    fprintf(stderr, "usage: jsonfloor read FILE\n       jsonfloor cjson FILE\n");
    return 2;
}
