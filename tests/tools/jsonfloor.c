/*
 * jsonfloor.c - the floors `make bench` measures scanlab detect against.
 *
 *   jsonfloor read FILE    read(2) the whole file in 1 MiB chunks, count bytes
 *                          and newlines: the cost of getting the bytes in
 *   jsonfloor copytree SRC DST
 *                          copy every regular file under SRC to the same path
 *                          under DST (mkdir as needed), 1 MiB buffered: the
 *                          floor of writing a blob tree `scanlab simulate`
 *                          made, measured on the same tree and file system
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
#include <dirent.h>
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

static char copybuf[1 << 20];
static uint64_t copied_bytes, copied_files;

static int copy_tree(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    if (d == NULL)
        return fail(src, "opendir");
    if (mkdir(dst, 0755) != 0 && errno != EEXIST) {
        closedir(d);
        return fail(dst, "mkdir");
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char s[4096], t[4096];
        if ((size_t)snprintf(s, sizeof s, "%s/%s", src, e->d_name) >= sizeof s ||
            (size_t)snprintf(t, sizeof t, "%s/%s", dst, e->d_name) >= sizeof t)
            return fail(src, "path too long");
        struct stat st;
        if (stat(s, &st) != 0) {
            rc = fail(s, "stat");
        } else if (S_ISDIR(st.st_mode)) {
            rc = copy_tree(s, t);
        } else if (S_ISREG(st.st_mode)) {
            int in = open(s, O_RDONLY), out = open(t, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (in < 0 || out < 0) {
                rc = fail(in < 0 ? s : t, "open");
            } else {
                ssize_t n;
                while ((n = read(in, copybuf, sizeof copybuf)) > 0)
                    if (write(out, copybuf, (size_t)n) != n) {
                        rc = fail(t, "write");
                        break;
                    } else {
                        copied_bytes += (uint64_t)n;
                    }
                copied_files++;
            }
            if (in >= 0)
                close(in);
            if (out >= 0 && close(out) != 0)
                rc = fail(t, "close");
        }
    }
    closedir(d);
    return rc;
}

static int floor_copytree(const char *src, const char *dst)
{
    double t0 = now_s();
    int rc = copy_tree(src, dst);
    double t1 = now_s();
    if (rc == 0)
        printf("files=%llu bytes=%llu seconds=%.6f\n", (unsigned long long)copied_files,
               (unsigned long long)copied_bytes, t1 - t0);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "copytree") == 0)
        return floor_copytree(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "read") == 0)
        return floor_read(argv[2]);
    if (argc == 3 && strcmp(argv[1], "cjson") == 0)
        return floor_cjson(argv[2]);
    fprintf(stderr, "usage: jsonfloor read FILE\n       jsonfloor cjson FILE\n"
                    "       jsonfloor copytree SRC DST\n");
    return 2;
}
