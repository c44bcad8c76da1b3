/*
 * json_line.c - whole JSON documents (scenario, --config, --policy and
 * truth files): parsed with the checks cJSON leaves out (NULs, control
 * bytes, trailing text), duplicate keys found, and the source line of a
 * cJSON node for error messages that name "file:line: path". cJSON keeps
 * no positions, so for the line we walk the text and the tree together:
 * both list values in document order (cJSON keeps duplicate keys as
 * separate children), so the k-th value start in the text is the k-th
 * node in a pre-order walk (only on the error path).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "scand_int.h"

struct cur {
    const char *p, *end;
};

static void ws(struct cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static void skip_string(struct cur *c)
{
    c->p++; /* '"' */
    while (c->p < c->end && *c->p != '"')
        c->p += *c->p == '\\' ? 2 : 1;
    if (c->p < c->end)
        c->p++;
}

static void skip_scalar(struct cur *c)
{
    if (c->p < c->end && *c->p == '"') {
        skip_string(c);
        return;
    }
    while (c->p < c->end && strchr(",]} \t\r\n", *c->p) == NULL)
        c->p++;
}

/* Walk node n at c; return 1 with *at set when target is found. */
static int walk(struct cur *c, const cJSON *n, const cJSON *target, const char **at)
{
    ws(c);
    if (n == target) {
        *at = c->p;
        return 1;
    }
    if (c->p >= c->end)
        return 0;
    if (cJSON_IsObject(n) || cJSON_IsArray(n)) {
        int obj = cJSON_IsObject(n);
        c->p++; /* '{' or '[' */
        for (const cJSON *ch = n->child; ch != NULL; ch = ch->next) {
            ws(c);
            if (c->p < c->end && *c->p == ',')
                c->p++;
            if (obj) {
                ws(c);
                skip_string(c); /* key */
                ws(c);
                if (c->p < c->end && *c->p == ':')
                    c->p++;
            }
            if (walk(c, ch, target, at))
                return 1;
        }
        ws(c);
        if (c->p < c->end)
            c->p++; /* '}' or ']' */
        return 0;
    }
    skip_scalar(c);
    return 0;
}

/* The 1-based line of text where at is. */
static long line_at(const char *text, const char *at)
{
    long line = 1;
    for (const char *p = text; p < at; p++)
        line += *p == '\n';
    return line;
}

long scand_json_line(const char *text, size_t len, const void *root_, const void *node_)
{
    const cJSON *root = root_, *node = node_;
    if (text == NULL || root == NULL || node == NULL)
        return 0;
    struct cur c = {text, text + len};
    const char *at = NULL;
    if (!walk(&c, root, node, &at) || at == NULL)
        return 0;
    return line_at(text, at);
}

void scand_json_error(char *err, size_t errsize, const char *name, const char *text, size_t len,
                      const void *root, const void *node, const char *path, const char *msg)
{
    char m[512]; /* msg may sit in err itself (a context's last error) */
    snprintf(m, sizeof m, "%s", msg);
    long line = node != NULL ? scand_json_line(text, len, root, node) : 1;
    snprintf(err, errsize, "%s:%ld: %s: %s", name, line > 0 ? line : 1, path, m);
}

struct member {
    const cJSON *m;
    size_t at; /* its place in the object */
};

static int by_key(const void *x, const void *y)
{
    const struct member *a = x, *b = y;
    int c = strcmp(a->m->string, b->m->string);
    return c != 0 ? c : a->at < b->at ? -1 : a->at > b->at;
}

/* Sorted by key when the object is large (a hostile file may hold a
 * million keys): O(n log n), not a comparison of every pair. */
const void *scand_json_dup_key(const void *obj_)
{
    const cJSON *obj = obj_;
    size_t n = 0;
    for (const cJSON *a = obj != NULL ? obj->child : NULL; a != NULL; a = a->next)
        n += a->string != NULL;
    struct member *v = n > 16 ? malloc(n * sizeof *v) : NULL;
    if (v == NULL) {
        for (const cJSON *b = obj != NULL ? obj->child : NULL; b != NULL; b = b->next)
            for (const cJSON *a = obj->child; a != b; a = a->next)
                if (a->string != NULL && b->string != NULL && strcmp(a->string, b->string) == 0)
                    return b;
        return NULL;
    }
    size_t k = 0;
    for (const cJSON *a = obj->child; a != NULL; a = a->next)
        if (a->string != NULL)
            v[k] = (struct member){a, k}, k++;
    qsort(v, n, sizeof *v, by_key);
    const struct member *first = NULL; /* the earliest member that repeats a key */
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i].m->string, v[i - 1].m->string) == 0 &&
            (first == NULL || v[i].at < first->at))
            first = &v[i];
    const cJSON *r = first != NULL ? first->m : NULL;
    free(v);
    return r;
}

/* The first \u0000 escape inside a string, or NULL (cJSON would decode it
 * to a NUL that ends the C string: "10.0.0.6/32\u0000x" read as a CIDR). */
static const char *nul_escape(const char *p, const char *end)
{
    int in_str = 0;
    for (; p < end; p++) {
        if (*p == '"') {
            in_str = !in_str;
        } else if (in_str && *p == '\\') {
            if (end - p >= 6 && p[1] == 'u' && memcmp(p + 2, "0000", 4) == 0)
                return p;
            p++; /* the escaped byte */
        }
    }
    return NULL;
}

void *scand_json_parse_doc(const char *name, const char *text, size_t len, const char *what,
                           char *err, size_t errsize)
{
    size_t i = scandint_json_ctl(text, len);
    if (i < len) {
        snprintf(err, errsize, "%s:%ld: a control byte 0x%02x (not JSON text)", name,
                 line_at(text, text + i), (unsigned)(unsigned char)text[i]);
        return NULL;
    }
    const char *nul;
    if ((nul = nul_escape(text, text + len)) != NULL) {
        snprintf(err, errsize, "%s:%ld: a \\u0000 escape (a NUL in a string)", name,
                 line_at(text, nul));
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root == NULL) {
        const char *stop = end != NULL && end >= text && end <= text + len ? end : text;
        snprintf(err, errsize, "%s:%ld: not valid JSON", name, line_at(text, stop));
        return NULL;
    }
    for (const char *q = end; q != NULL && q < text + len; q++)
        if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') {
            snprintf(err, errsize, "%s:%ld: text after %s", name, line_at(text, q), what);
            cJSON_Delete(root);
            return NULL;
        }
    return root;
}
