/*
 * flowlog_lift.c - lift the flowTuples arrays out of a record before cJSON
 * sees it.
 *
 * cJSON builds a node and a heap string per tuple; on a 5M-tuple blob that
 * is most of the read cost [perf_anchors.md]. The tuple strings need no
 * JSON decoding when they hold no escape, so we find those arrays with a
 * byte scanner, hand cJSON a copy of the record in which their interiors
 * are blanked to spaces (so cJSON parses only the record's skeleton), and
 * parse the tuples straight from the original bytes.
 *
 * Correctness rests on the walk finding each lifted array where the scanner
 * found it, so the scanner is conservative:
 * - only the two paths the walk reads are lifted, named by their indices:
 *   flowRecords.flows[i].flowGroups[j].flowTuples (VNet) and
 *   properties.flows[i].flows[j].flowTuples (NSG);
 * - an object key with an escape (cJSON would decode it to a name the
 *   scanner did not compare) stops lifting for the whole record;
 * - two arrays at the same path (duplicate keys: cJSON takes the first)
 *   stop lifting for the whole record;
 * - an array is lifted only if every element is a string with no escape
 *   (cJSON would decode it); otherwise cJSON parses it as before. Control
 *   bytes pass, as they pass cJSON, and the tuple parser rejects them;
 * - anything the scanner does not understand stops lifting; cJSON then
 *   parses the original and reports the error where it is.
 * The walk uses a span only when cJSON hands it an empty array at the
 * span's path, and empty arrays are recorded too, so a genuinely empty
 * array and a blanked one cannot be confused. Blanking keeps newlines and
 * lengths, so positions in the copy are positions in the original.
 */
#include <stdlib.h>
#include <string.h>

#include "scand_int.h"

#define LEVELS 7 /* record object = level 1; flowTuples' object = level 6 */

struct level {
    char kind;       /* '{' or '[' */
    int want_key;    /* object: the next string is a key */
    const char *key; /* object: the current member's key (no escapes) */
    size_t key_len;
    uint32_t index; /* array: index of the current element */
};

static int key_is(const struct level *l, const char *name)
{
    size_t n = strlen(name);
    return l->kind == '{' && l->key_len == n && memcmp(l->key, name, n) == 0;
}

/* Which lifted path the array opening at level depth+1 is on, or -1. */
static int path_kind(const struct level *lv, int depth)
{
    if (depth != 6 || lv[6].want_key || !key_is(&lv[6], "flowTuples") || lv[5].kind != '[' ||
        lv[3].kind != '[' || !key_is(&lv[2], "flows"))
        return -1;
    if (key_is(&lv[1], "flowRecords") && key_is(&lv[4], "flowGroups"))
        return SCANDINT_LIFT_VNET;
    if (key_is(&lv[1], "properties") && key_is(&lv[4], "flows"))
        return SCANDINT_LIFT_NSG;
    return -1;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* If s[i] starts an array of plain strings, return the index one past its
 * ']'; else 0. With no_esc the caller knows s holds no backslash at all. */
static size_t plain_array(const char *s, size_t n, size_t i, int no_esc)
{
    i++; /* '[' */
    while (i < n && is_ws(s[i]))
        i++;
    if (i < n && s[i] == ']')
        return i + 1;
    for (;;) {
        if (i >= n || s[i] != '"')
            return 0;
        i++;
        const char *q = memchr(s + i, '"', n - i);
        if (q == NULL)
            return 0;
        size_t stop = (size_t)(q - s);
        if (!no_esc && memchr(s + i, '\\', stop - i) != NULL)
            return 0;
        i = stop + 1;
        while (i < n && is_ws(s[i]))
            i++;
        if (i < n && s[i] == ']')
            return i + 1;
        if (i >= n || s[i] != ',')
            return 0;
        i++;
        while (i < n && is_ws(s[i]))
            i++;
    }
}

static int cmp_span(const void *a, const void *b)
{
    const struct scandint_span *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->i != y->i)
        return x->i < y->i ? -1 : 1;
    if (x->j != y->j)
        return x->j < y->j ? -1 : 1;
    return 0;
}

static int add_span(struct scandint_lift *lf, int kind, uint32_t i, uint32_t j, size_t beg,
                    size_t end)
{
    if (lf->n == lf->cap && scandint_grow(&lf->v, &lf->cap, 16, sizeof *lf->v) != SCAND_OK)
        return SCAND_ERR_NOMEM;
    lf->v[lf->n++] = (struct scandint_span){(uint8_t)kind, i, j, beg, end};
    return SCAND_OK;
}

/* Skip the string starting at s[i] ('"'); return the index one past it, or
 * 0 if it does not end. *esc says whether it held a backslash. */
static size_t skip_string(const char *s, size_t n, size_t i, int *esc)
{
    *esc = 0;
    const char *q = NULL; /* the first quote at or after i, kept until passed:
                           * searching on from each escape is quadratic */
    for (i++;;) {
        if (q == NULL || (size_t)(q - s) < i) {
            q = memchr(s + i, '"', n - i);
            if (q == NULL)
                return 0;
        }
        size_t stop = (size_t)(q - s);
        const char *bs = memchr(s + i, '\\', stop - i);
        if (bs == NULL)
            return stop + 1;
        *esc = 1;
        i = (size_t)(bs - s) + 2;
        if (i > n)
            return 0;
    }
}

int scandint_lift(struct scandint_lift *lf, const char *s, size_t n, int no_esc)
{
    struct level lv[LEVELS + 1];
    int depth = 0, lifted = 0;
    lf->n = 0;
    lf->copy_len = 0;
    memset(lv, 0, sizeof lv);
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (is_ws(c)) {
            i++;
            continue;
        }
        struct level *top = depth >= 1 && depth <= LEVELS ? &lv[depth] : NULL;
        switch (c) {
        case '"': {
            int esc;
            size_t e = skip_string(s, n, i, &esc);
            if (e == 0)
                goto give_up;
            if (top != NULL && top->kind == '{' && top->want_key) {
                if (esc)
                    goto give_up;
                top->key = s + i + 1;
                top->key_len = e - i - 2;
                top->want_key = 0;
            }
            i = e;
            continue;
        }
        case '[': {
            int kind = path_kind(lv, depth);
            if (kind >= 0) {
                size_t e = plain_array(s, n, i, no_esc);
                if (e != 0) {
                    if (add_span(lf, kind, lv[3].index, lv[5].index, i + 1, e - 1) != SCAND_OK)
                        return SCAND_ERR_NOMEM;
                    lifted |= memchr(s + i, '"', e - i) != NULL;
                    i = e;
                    continue;
                }
            }
        }
            /* fall through */
        case '{':
            depth++;
            if (depth <= LEVELS) {
                lv[depth].kind = c;
                lv[depth].want_key = c == '{';
                lv[depth].key = NULL;
                lv[depth].key_len = 0;
                lv[depth].index = 0;
            }
            i++;
            continue;
        case '}':
        case ']':
            if (depth == 0)
                goto give_up;
            if (top != NULL && top->kind != (c == '}' ? '{' : '['))
                goto give_up;
            depth--;
            i++;
            if (depth == 0) {
                n = i; /* the record ends here */
                goto done;
            }
            continue;
        case ',':
            if (top != NULL) {
                if (top->kind == '{')
                    top->want_key = 1;
                else
                    top->index++;
            }
            i++;
            continue;
        default: /* ':', numbers, literals */
            i++;
            continue;
        }
    }
    goto give_up; /* unbalanced */
done:
    if (lf->n > 1) {
        qsort(lf->v, lf->n, sizeof *lf->v, cmp_span);
        for (size_t k = 1; k < lf->n; k++)
            if (cmp_span(&lf->v[k - 1], &lf->v[k]) == 0)
                goto give_up;
    }
    if (!lifted)
        goto give_up; /* nothing to gain from a copy */
    if (n > lf->copy_cap) {
        size_t cap = scandint_pow2(n);
        char *cp = scandint_realloc(lf->copy, cap);
        if (cp == NULL)
            return SCAND_ERR_NOMEM;
        lf->copy = cp;
        lf->copy_cap = cap;
    }
    char *d = lf->copy;
    memcpy(d, s, n);
    for (size_t k = 0; k < lf->n; k++) {
        size_t p = lf->v[k].beg, end = lf->v[k].end;
        while (p < end) { /* spaces, keeping newlines */
            const char *nl = memchr(d + p, '\n', end - p);
            size_t stop = nl ? (size_t)(nl - d) : end;
            memset(d + p, ' ', stop - p);
            p = stop + 1;
        }
    }
    lf->copy_len = n;
    return 1;
give_up:
    lf->n = 0;
    return 0;
}

const struct scandint_span *scandint_lift_find(const struct scandint_lift *lf, int kind,
                                               uint32_t i, uint32_t j)
{
    struct scandint_span key = {(uint8_t)kind, i, j, 0, 0};
    return lf->n ? bsearch(&key, lf->v, lf->n, sizeof *lf->v, cmp_span) : NULL;
}

void scandint_lift_fini(struct scandint_lift *lf)
{
    scandint_free(lf->v);
    scandint_free(lf->copy);
    memset(lf, 0, sizeof *lf);
}
