/*
 * buf.c - a growable text buffer and the escapes that keep scenario and
 * alert text inert wherever it lands: JSON strings, HTML, CSV fields and
 * gnuplot strings. A scenario named `system("touch x")` or <script> shows
 * up literally and runs nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpt.h"

static int grow(struct rpt_buf *b, size_t more)
{
    if (b->oom)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1) {
        if (cap > SIZE_MAX / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    char *s = realloc(b->s, cap);
    if (s == NULL) {
        b->oom = 1;
        return -1;
    }
    b->s = s;
    b->cap = cap;
    return 0;
}

void rpt_buf_put(struct rpt_buf *b, const char *s, size_t n)
{
    if (grow(b, n) != 0)
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void rpt_buf_printf(struct rpt_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void rpt_buf_json(struct rpt_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            rpt_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            rpt_buf_printf(b, "\\u%04x", *p);
        else
            rpt_buf_put(b, (const char *)p, 1);
    }
}

void rpt_buf_html(struct rpt_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '<':
            rpt_buf_put(b, "&lt;", 4);
            break;
        case '>':
            rpt_buf_put(b, "&gt;", 4);
            break;
        case '&':
            rpt_buf_put(b, "&amp;", 5);
            break;
        case '"':
            rpt_buf_put(b, "&quot;", 6);
            break;
        case '\'':
            rpt_buf_put(b, "&#39;", 5);
            break;
        default:
            if (*p < 0x20 && *p != '\n' && *p != '\t')
                rpt_buf_printf(b, "&#%u;", 0x2400u + *p); /* control pictures */
            else if (*p == 0x7f)
                rpt_buf_put(b, "&#9249;", 7); /* U+2421 */
            else
                rpt_buf_put(b, (const char *)p, 1);
        }
    }
}

const char *rpt_shown(char *buf, size_t size, const char *s)
{
    size_t k = 0;
    for (; s[k] != '\0' && k + 1 < size && k < 40; k++)
        buf[k] = s[k] >= 0x20 && s[k] < 0x7f ? s[k] : '?';
    buf[k] = '\0';
    return buf;
}

void rpt_buf_csv(struct rpt_buf *b, const char *s)
{
    /* quote when needed; a leading = + - @ gets a quote mark so a
     * spreadsheet never evaluates it as a formula */
    int formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
    if (!formula && strpbrk(s, ",\"\r\n") == NULL) {
        rpt_buf_put(b, s, strlen(s));
        return;
    }
    rpt_buf_put(b, "\"", 1);
    if (formula)
        rpt_buf_put(b, "'", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            rpt_buf_put(b, "\"\"", 2);
        else
            rpt_buf_put(b, p, 1);
    }
    rpt_buf_put(b, "\"", 1);
}

void rpt_buf_gp(struct rpt_buf *b, const char *s)
{
    /* For a gnuplot single-quoted string, always written with noenhanced:
     * inside single quotes gnuplot does no backslash processing, no
     * backquote (command) substitution and no @macro expansion; '' stands
     * for one quote. A control character could end the command, so none
     * gets through. */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\'')
            rpt_buf_put(b, "''", 2);
        else if (*p < 0x20 || *p == 0x7f)
            rpt_buf_put(b, "?", 1);
        else
            rpt_buf_put(b, (const char *)p, 1);
    }
}

char *rpt_read_file(const char *path, size_t max, size_t *len, char *err, size_t errsize)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (buf == NULL) {
            snprintf(err, errsize, "%s: out of memory", path);
            fclose(f);
            return NULL;
        }
        if (n == cap) {
            if (cap >= max) {
                snprintf(err, errsize, "%s: larger than %zu MiB", path, max >> 20);
                free(buf);
                fclose(f);
                return NULL;
            }
            cap *= 2;
            char *b = realloc(buf, cap + 1);
            if (b == NULL)
                free(buf);
            buf = b;
            continue;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errsize, "%s: read error", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

FILE *rpt_fopen_out(const char *path)
{
    /* a report folder may be someone else's: never write through a link */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w");
    if (f == NULL)
        close(fd);
    return f;
}
