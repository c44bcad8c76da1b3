/*
 * csv.c - the report's tables read back (RFC 4180: quoted fields, doubled
 * quotes, CRLF or LF), so `scanlab report DIR` renders from the CSV files
 * alone. A ragged row is an error naming the file and line.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpt.h"

#define MAX_TABLE (256u << 20)

void rpt_table_free(struct rpt_table *t)
{
    free(t->cells);
    free(t->mem);
    memset(t, 0, sizeof *t);
}

int rpt_table_parse(const char *name, char *text, size_t len, struct rpt_table *t, char *err,
                    size_t errsize)
{
    memset(t, 0, sizeof *t);
    size_t cap = 0, n = 0, row_start = 0;
    long line = 1, row_line = 1;
    char *p = text, *end = text + len, *w = text;
    while (p < end) {
        /* one field, unquoted in place into w */
        char *field = w;
        if (*p == '"') {
            p++;
            for (;;) {
                if (p >= end) {
                    snprintf(err, errsize, "%s:%ld: unterminated quoted field", name, row_line);
                    free(t->cells);
                    t->cells = NULL;
                    return -1;
                }
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                line += *p == '\n';
                *w++ = *p++;
            }
        } else {
            while (p < end && *p != ',' && *p != '\n' && *p != '\r')
                *w++ = *p++;
        }
        int eol = p >= end || *p == '\n' || *p == '\r';
        if (!eol && *p != ',') {
            snprintf(err, errsize, "%s:%ld: text after a quoted field", name, line);
            free(t->cells);
            t->cells = NULL;
            return -1;
        }
        char *next = p + 1;
        if (p < end && *p == '\r' && next < end && *next == '\n')
            next++;
        *w++ = '\0';
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            char **c = realloc(t->cells, cap * sizeof *c);
            if (c == NULL) {
                snprintf(err, errsize, "%s: out of memory", name);
                free(t->cells);
                t->cells = NULL;
                return -1;
            }
            t->cells = c;
        }
        t->cells[n++] = field;
        p = p < end ? next : end;
        if (eol) {
            size_t cols = n - row_start;
            if (t->n_rows == 0)
                t->n_cols = cols;
            else if (cols != t->n_cols) {
                snprintf(err, errsize, "%s:%ld: %zu fields, the header has %zu", name, row_line,
                         cols, t->n_cols);
                free(t->cells);
                t->cells = NULL;
                return -1;
            }
            t->n_rows++;
            row_start = n;
            line++;
            row_line = line;
        }
        /* cannot happen: unquoting only shrinks (the last field of a file
         * without a final newline ends in the byte at text[len]) */
        if (w > p + (p == end)) {
            snprintf(err, errsize, "%s: internal error", name);
            free(t->cells);
            t->cells = NULL;
            return -1;
        }
    }
    if (t->n_rows == 0) {
        snprintf(err, errsize, "%s: empty; expected a header line", name);
        free(t->cells);
        t->cells = NULL;
        return -1;
    }
    return 0;
}

int rpt_table_read(const char *path, struct rpt_table *t, char *err, size_t errsize)
{
    memset(t, 0, sizeof *t);
    size_t n;
    char *buf = rpt_read_file(path, MAX_TABLE, &n, err, errsize);
    if (buf == NULL)
        return -1;
    if (rpt_table_parse(path, buf, n, t, err, errsize) != 0) {
        free(buf);
        return -1;
    }
    t->mem = buf;
    return 0;
}

long rpt_table_col(const struct rpt_table *t, const char *col)
{
    for (size_t c = 0; c < t->n_cols; c++)
        if (strcmp(t->cells[c], col) == 0)
            return (long)c;
    return -1;
}

const char *rpt_cell(const struct rpt_table *t, size_t row, const char *col)
{
    long c = rpt_table_col(t, col);
    if (c < 0 || row == 0 || row >= t->n_rows)
        return "";
    return t->cells[row * t->n_cols + (size_t)c];
}

double rpt_cell_num(const struct rpt_table *t, size_t row, const char *col)
{
    const char *s = rpt_cell(t, row, col);
    char *end;
    if (*s == '\0')
        return NAN;
    double v = strtod(s, &end);
    return *end == '\0' ? v : NAN;
}
