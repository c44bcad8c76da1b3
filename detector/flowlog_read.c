/*
 * flowlog_read.c - streaming reader of Azure flow logs: VNet flow log v4 and
 * NSG flow log v1/v2 (research/azure_formats.md sections 1 and 2).
 *
 * A blob is {"records":[rec,rec,...]}, up to hundreds of MB. We never build
 * the whole document: a byte scanner finds each element of the "records"
 * array (tracking strings, escapes and nesting), and cJSON parses one record
 * at a time, so memory is bounded by the largest record [perf_anchors.md: a
 * whole-file DOM costs ~240 bytes per tuple].
 *
 * What real blobs do that the docs do not (azure_formats.md 1.3, 1.4, 5):
 * - a blob still being appended has no closing "]}"; every record after the
 *   first starts with "," (Azure's block layout) and a naive concatenation
 *   gives "[,{": commas are separators we skip, however many;
 * - a blob cut mid-record: every complete record is returned, the cut is
 *   reported through the diag callback and stats.cut;
 * - key order varies; one minute may be split over several records with the
 *   same time; a bare record object (one appended block) stands alone.
 * Anything else that is not a JSON object where a blob or record must start
 * is SCAND_ERR_FORMAT with line:col; a malformed record or tuple inside a
 * blob is skipped and counted, never dropped silently.
 * THREAT: all bytes are hostile. Records are capped (MAX_RECORD); every
 * string is type-checked before use; MACs are validated (they end up in
 * file paths when a blob is rewritten).
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "scand_int.h"

#define CHUNK (256 * 1024)
#define MAX_RECORD ((size_t)256 << 20)

enum { S_TOP, S_ARRAY, S_DOM, S_DONE };

struct scand_reader {
    char *name;
    scand_read_fn fn;
    void *arg;
    scand_strtab *st;
    scand_diag_fn diag;
    void *diag_arg;

    char *buf;       /* buf[0..len) holds input from absolute offset base_off */
    size_t cap, len, pos;
    int eof;
    uint64_t base_off;
    uint64_t line_no; /* line number at buf[line_pos] */
    size_t line_pos;
    uint64_t line_start; /* absolute offset where line line_no starts */

    int state;
    int err;
    char errmsg[SCAND_ERRBUF_SIZE];
    int64_t rec_index;
    int64_t cur_rec;    /* index of the record being walked */
    int nul_escape;     /* the element being scanned has a \u0000 escape */
    int raw_nul;        /* the text cJSON parses for it has a NUL byte */
    int any_escape;     /* ... has a backslash in a string */
    int seen_value; /* a top-level value has been read */

    cJSON *dom;      /* S_DOM: whole document, records walked in place */
    cJSON *dom_arr;  /* the "records" array being walked */
    cJSON *dom_next; /* next record element */

    struct scand_tuple *tup, *tmp;
    size_t n_tup, cap_tup;
    struct scandint_lift lift; /* flowTuples parsed in place (flowlog_lift.c) */
    const char *rec_text;      /* the record's bytes while lift.n > 0 */
    struct scand_reader_stats stats;
};

/* ---------------------------------------------------------------- buffer */

/* Set by json_malloc() when an allocation for cJSON fails: cJSON returns
 * NULL for out of memory and for bad JSON alike, and the first must be
 * SCAND_ERR_NOMEM, not a skipped record. Per thread, like the parse. */
static _Thread_local int json_oom;

static int set_error(scand_reader *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int set_error(scand_reader *r, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
    va_end(ap);
    r->err = err;
    r->state = S_DONE;
    return err;
}

/* Return the 1-based line and column of buffer position p (p >= line_pos
 * of any earlier call: positions are asked for in increasing order). */
static void position(scand_reader *r, size_t p, uint64_t *line, uint64_t *col)
{
    if (p < r->line_pos) { /* rare: recount from the start of the buffer */
        p = r->line_pos;
    }
    const char *s = r->buf + r->line_pos, *e = r->buf + p;
    const char *nl;
    while (s < e && (nl = memchr(s, '\n', (size_t)(e - s))) != NULL) {
        r->line_no++;
        r->line_start = r->base_off + (uint64_t)(nl - r->buf) + 1;
        s = nl + 1;
    }
    r->line_pos = p;
    *line = r->line_no;
    *col = r->base_off + p - r->line_start + 1;
}

/* Drop buf[0..keep) (already consumed), keeping positions consistent. */
static void compact(scand_reader *r, size_t keep)
{
    if (keep == 0)
        return;
    uint64_t l, c;
    if (r->line_pos < keep)
        position(r, keep, &l, &c);
    memmove(r->buf, r->buf + keep, r->len - keep);
    r->len -= keep;
    r->pos -= keep;
    r->line_pos -= keep;
    r->base_off += keep;
}

/*
 * Make buf[need] readable, reading (and growing the buffer) as needed;
 * bytes before mark may be discarded. Return 0 when available, 1 at EOF,
 * negative on error. Positions >= mark stay valid relative to the new buf
 * after subtracting the returned shift in *shift.
 */
static int fill(scand_reader *r, size_t need, size_t mark, size_t *shift)
{
    *shift = 0;
    while (need >= r->len) {
        if (r->eof)
            return 1;
        if (mark > 0 && r->len == r->cap) {
            compact(r, mark);
            *shift += mark;
            need -= mark;
            mark = 0;
            continue;
        }
        if (r->len == r->cap) {
            if (r->cap >= MAX_RECORD + CHUNK)
                return set_error(r, SCAND_ERR_FORMAT,
                                 "%s: record %lld is larger than %zu MiB", r->name,
                                 (long long)r->rec_index, MAX_RECORD >> 20);
            size_t cap = r->cap * 2;
            char *b = scandint_realloc(r->buf, cap);
            if (b == NULL)
                return set_error(r, SCAND_ERR_NOMEM, "%s: out of memory", r->name);
            r->buf = b;
            r->cap = cap;
        }
        ssize_t n = r->fn(r->arg, r->buf + r->len, r->cap - r->len);
        if (n < 0)
            return set_error(r, SCAND_ERR_IO, "%s: read error: %s", r->name, strerror(errno));
        if (n == 0)
            r->eof = 1;
        r->len += (size_t)n;
        r->stats.bytes += (uint64_t)n;
    }
    return 0;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Skip whitespace from pos. Return 0 with buf[pos] readable, 1 at EOF, <0. */
static int skip_ws(scand_reader *r)
{
    for (;;) {
        size_t shift;
        int rc = fill(r, r->pos, r->pos, &shift);
        if (rc != 0)
            return rc;
        while (r->pos < r->len && is_ws(r->buf[r->pos]))
            r->pos++;
        if (r->pos < r->len)
            return 0;
    }
}

/*
 * Find the end of the JSON value starting at buf[pos] (an object, array,
 * string or bare literal). On 0, *end is one past its last byte and
 * buf[pos..*end) holds it. 1 means EOF inside the value.
 */
static int scan_value(scand_reader *r, size_t *end)
{
    size_t i = r->pos;
    r->nul_escape = 0;
    r->any_escape = 0;
    int depth = 0, in_str = 0;
    char c0 = r->buf[i];
    if (c0 != '{' && c0 != '[' && c0 != '"') { /* literal: number, true, null... */
        /* its first byte is its own even when it is a stray ',', ']' or
         * '}': every value moves the reader on (hostile input must not
         * stop it in place) */
        i++;
        for (;;) {
            size_t shift;
            int rc = fill(r, i, r->pos, &shift);
            i -= shift;
            if (rc < 0)
                return rc;
            if (rc == 1) {
                *end = i;
                return 0;
            }
            char c = r->buf[i];
            if (c == ',' || c == ']' || c == '}' || is_ws(c)) {
                *end = i;
                return 0;
            }
            i++;
        }
    }
    for (;;) {
        size_t shift;
        int rc = fill(r, i, r->pos, &shift);
        i -= shift;
        if (rc != 0)
            return rc;
        const char *b = r->buf;
        size_t n = r->len;
        /* The first quote at or after i (n: none before n), kept while the
         * buffer stands: a string of many escapes must not search the rest
         * of the buffer for its quote once per escape (quadratic; found by
         * fuzzing). SIZE_MAX: not known. */
        size_t qpos = SIZE_MAX;
        while (i < n) {
            if (in_str) {
                /* Jump to the next quote, then make sure no backslash hides in
                 * the span: two memchr passes beat a byte loop on tuple text. */
                if (qpos == SIZE_MAX || qpos < i) {
                    const char *q = memchr(b + i, '"', n - i);
                    qpos = q ? (size_t)(q - b) : n;
                }
                size_t stop = qpos;
                const char *bs = memchr(b + i, '\\', stop - i);
                if (bs != NULL) {
                    r->any_escape = 1;
                    size_t at = (size_t)(bs - b);
                    if (at + 6 > n) { /* make the whole escape readable */
                        size_t sh;
                        int rc2 = fill(r, at + 5, r->pos, &sh);
                        if (rc2 < 0)
                            return rc2;
                        at -= sh;
                        b = r->buf;
                        n = r->len;
                        qpos = SIZE_MAX; /* the buffer moved or grew */
                        if (rc2 == 1 && at + 1 >= n) { /* EOF right after '\\': a cut */
                            i = n;
                            continue;
                        }
                    }
                    if (at + 6 <= n && b[at + 1] == 'u' && memcmp(b + at + 2, "0000", 4) == 0)
                        r->nul_escape = 1;
                    i = at + 2; /* skip the escaped byte */
                    continue;
                }
                if (stop == n) { /* no quote yet: read on */
                    i = n;
                    break;
                }
                i = stop + 1;
                in_str = 0;
                if (depth == 0) {
                    *end = i;
                    return 0;
                }
                continue;
            }
            char c = b[i++];
            if (c == '"')
                in_str = 1;
            else if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    *end = i;
                    return 0;
                }
            }
        }
        /* i may be n+1 after an escape at the buffer's end: fill handles it. */
    }
}

/* ---------------------------------------------------------------- records */

static void say(scand_reader *r, int kind, int64_t rec, int64_t tup, uint64_t line,
                uint64_t col, const char *reason)
{
    if (r->diag == NULL)
        return;
    struct scand_diag d = {kind, r->name, rec, tup, line, col, reason};
    r->diag(r->diag_arg, &d);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int num(const char *s, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int scand_time_parse(const char *s, int64_t *ms)
{
    unsigned Y, M, D, h, m, sec;
    size_t n = strlen(s);
    if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':')
        return SCAND_ERR_INVAL;
    if (num(s, 4, &Y) || num(s + 5, 2, &M) || num(s + 8, 2, &D) || num(s + 11, 2, &h) ||
        num(s + 14, 2, &m) || num(s + 17, 2, &sec))
        return SCAND_ERR_INVAL;
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (M < 1 || M > 12 || D < 1 || h > 23 || m > 59 || sec > 60 ||
        D > mdays[M - 1] + (M == 2 && is_leap(Y)))
        return SCAND_ERR_INVAL;
    size_t i = 19;
    unsigned frac_ms = 0;
    if (s[i] == '.') {
        i++;
        int k = 0;
        while (s[i] >= '0' && s[i] <= '9') {
            if (k < 3)
                frac_ms = frac_ms * 10 + (unsigned)(s[i] - '0');
            k++;
            i++;
        }
        if (k == 0 || k > 9)
            return SCAND_ERR_INVAL;
        for (; k < 3; k++)
            frac_ms *= 10;
    }
    if (s[i] != 'Z' || s[i + 1] != '\0')
        return SCAND_ERR_INVAL;
    *ms = ((days_from_civil(Y, M, D) * 86400) + h * 3600 + m * 60 + sec) * 1000 + frac_ms;
    return SCAND_OK;
}

/* Set by child() when the object it searched has the key twice: JSON
 * leaves open which counts (cJSON takes the first, most parsers the last),
 * so a record with a duplicate key on a path we read is skipped, never
 * half read. Per thread, like the parse. */
static _Thread_local const char *dup_key;

/* Member key of object o, checking the whole object for a second one. */
static cJSON *child(const cJSON *o, const char *key)
{
    if (!cJSON_IsObject(o))
        return NULL;
    cJSON *found = NULL;
    for (cJSON *c = o->child; c != NULL; c = c->next)
        if (c->string != NULL && strcmp(c->string, key) == 0) {
            if (found != NULL) {
                dup_key = key;
                return found;
            }
            found = c;
        }
    return found;
}

/* Normalise a MAC (12 hex, or 6 pairs with '-' or ':') to 12 upper-case hex
 * digits in out[13]. */
static int norm_mac(const char *s, char out[13])
{
    size_t n = strlen(s), k = 0;
    if (n != 12 && n != 17)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (n == 17 && i % 3 == 2) {
            if (c != '-' && c != ':')
                return -1;
            continue;
        }
        if (c >= 'a' && c <= 'f')
            c = (char)(c - 'a' + 'A');
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
            return -1;
        out[k++] = c;
    }
    out[k] = '\0';
    return 0;
}

static int push_tuple(scand_reader *r, const struct scand_tuple *t)
{
    if (r->n_tup == r->cap_tup) {
        size_t cap = r->cap_tup ? r->cap_tup * 2 : 256;
        struct scand_tuple *a = scandint_reallocarray(r->tup, cap, sizeof *a);
        if (a == NULL)
            return SCAND_ERR_NOMEM;
        r->tup = a;
        struct scand_tuple *b = scandint_reallocarray(r->tmp, cap, sizeof *b);
        if (b == NULL)
            return SCAND_ERR_NOMEM;
        r->tmp = b;
        r->cap_tup = cap;
    }
    r->tup[r->n_tup++] = *t;
    return SCAND_OK;
}

/* Parse one tuple string into r->tup; idx is its index in the record. */
static int one_tuple(scand_reader *r, const char *s, size_t len, enum scand_fmt fmt,
                     uint32_t mac, uint32_t group, uint64_t line, int64_t idx)
{
    char why[96];
    struct scand_tuple t;
    memset(&t, 0, sizeof t);
    t.mac = mac;
    t.group = group;
    if (scand_tuple_parse(s, len, fmt, &t, why, sizeof why) != SCAND_OK) {
        r->stats.tuples_skipped++;
        say(r, SCAND_DIAG_TUPLE_SKIPPED, r->cur_rec, idx, line, 0, why);
        return SCAND_OK;
    }
    if (t.flags & SCAND_TF_TS_SEC)
        r->stats.ts_seconds++;
    return push_tuple(r, &t);
}

/* Parse the flowTuples array arr into r->tup; *ti counts tuples in the
 * record for diagnostics. An empty array may be a lifted one: its tuples
 * are then read from the record's bytes at span (kind, i, j). */
static int add_tuples(scand_reader *r, const cJSON *arr, enum scand_fmt fmt, uint32_t mac,
                      uint32_t group, uint64_t line, int64_t *ti, int kind, int i, int j)
{
    const struct scandint_span *sp;
    if (arr->child == NULL && r->lift.n > 0 &&
        (sp = scandint_lift_find(&r->lift, kind, (uint32_t)i, (uint32_t)j)) != NULL) {
        /* plain strings only (checked when lifted): "...", "..." */
        const char *p = r->rec_text + sp->beg, *end = r->rec_text + sp->end;
        while ((p = memchr(p, '"', (size_t)(end - p))) != NULL) {
            const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
            int rc = one_tuple(r, p + 1, (size_t)(q - p - 1), fmt, mac, group, line, (*ti)++);
            if (rc != SCAND_OK)
                return rc;
            p = q + 1;
        }
        return SCAND_OK;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        int64_t idx = (*ti)++;
        if (!cJSON_IsString(e)) {
            r->stats.tuples_skipped++;
            say(r, SCAND_DIAG_TUPLE_SKIPPED, r->cur_rec, idx, line, 0,
                "flowTuple is not a string");
            continue;
        }
        const char *s = e->valuestring;
        int rc = one_tuple(r, s, strlen(s), fmt, mac, group, line, idx);
        if (rc != SCAND_OK)
            return rc;
    }
    return SCAND_OK;
}

/* Walk a VNet v4 record. Return SCAND_OK, SCAND_ERR_INVAL with *why set
 * (record skipped), or SCAND_ERR_NOMEM. */
static int walk_vnet(scand_reader *r, const cJSON *rec, uint64_t line, char *why, size_t wn)
{
    const cJSON *v = child(rec, "flowLogVersion");
    if (v != NULL && !(cJSON_IsNumber(v) && v->valuedouble == 4)) {
        snprintf(why, wn, "unsupported flowLogVersion (want 4)");
        return SCAND_ERR_INVAL;
    }
    const cJSON *mac = child(rec, "macAddress");
    char m[13];
    if (!cJSON_IsString(mac) || norm_mac(mac->valuestring, m) != 0) {
        snprintf(why, wn, "macAddress: expected 12 hex digits");
        return SCAND_ERR_INVAL;
    }
    uint32_t mac_idx;
    if (scand_strtab_intern(r->st, m, 12, &mac_idx) != SCAND_OK)
        return SCAND_ERR_NOMEM;
    const cJSON *flows = child(child(rec, "flowRecords"), "flows");
    if (!cJSON_IsArray(flows)) {
        snprintf(why, wn, "flowRecords.flows: expected an array");
        return SCAND_ERR_INVAL;
    }
    int64_t ti = 0;
    int fi = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, flows)
    {
        const cJSON *acl = child(f, "aclID");
        const cJSON *groups = child(f, "flowGroups");
        if (!cJSON_IsString(acl) || !cJSON_IsArray(groups)) {
            snprintf(why, wn, "flowRecords.flows[%d]: expected aclID string and flowGroups array",
                     fi);
            return SCAND_ERR_INVAL;
        }
        int gi = 0;
        const cJSON *g;
        cJSON_ArrayForEach(g, groups)
        {
            const cJSON *rule = child(g, "rule");
            const cJSON *tuples = child(g, "flowTuples");
            if (!cJSON_IsString(rule) || !cJSON_IsArray(tuples)) {
                snprintf(why, wn,
                         "flowRecords.flows[%d].flowGroups[%d]: expected rule string and "
                         "flowTuples array",
                         fi, gi);
                return SCAND_ERR_INVAL;
            }
            uint32_t grp;
            if (scand_group_intern(r->st, acl->valuestring, strlen(acl->valuestring),
                                   rule->valuestring, strlen(rule->valuestring),
                                   &grp) != SCAND_OK)
                return SCAND_ERR_NOMEM;
            int rc = add_tuples(r, tuples, SCAND_FMT_VNET4, mac_idx, grp, line, &ti,
                                SCANDINT_LIFT_VNET, fi, gi);
            if (rc != SCAND_OK)
                return rc;
            gi++;
        }
        fi++;
    }
    return SCAND_OK;
}

/* Walk an NSG v1/v2 record (properties.flows[].flows[].flowTuples). */
static int walk_nsg(scand_reader *r, const cJSON *rec, int fmt, uint64_t line, char *why,
                    size_t wn)
{
    const cJSON *props = child(rec, "properties");
    const cJSON *res = child(rec, "resourceId");
    if (res == NULL)
        res = child(rec, "resourceid"); /* the docs' field list spells it so */
    const char *acl = cJSON_IsString(res) ? res->valuestring : "";
    const cJSON *flows = child(props, "flows");
    if (!cJSON_IsArray(flows)) {
        snprintf(why, wn, "properties.flows: expected an array");
        return SCAND_ERR_INVAL;
    }
    const cJSON *top_mac = child(rec, "macAddress");
    int64_t ti = 0;
    int fi = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, flows)
    {
        const cJSON *rule = child(f, "rule");
        const cJSON *inner = child(f, "flows");
        if (!cJSON_IsString(rule) || !cJSON_IsArray(inner)) {
            snprintf(why, wn, "properties.flows[%d]: expected rule string and flows array", fi);
            return SCAND_ERR_INVAL;
        }
        uint32_t grp;
        if (scand_group_intern(r->st, acl, strlen(acl), rule->valuestring,
                               strlen(rule->valuestring), &grp) != SCAND_OK)
            return SCAND_ERR_NOMEM;
        int ii = 0;
        const cJSON *g;
        cJSON_ArrayForEach(g, inner)
        {
            const cJSON *mac = child(g, "mac");
            if (mac == NULL)
                mac = top_mac;
            const cJSON *tuples = child(g, "flowTuples");
            char m[13];
            if (!cJSON_IsString(mac) || norm_mac(mac->valuestring, m) != 0) {
                snprintf(why, wn, "properties.flows[%d].flows[%d].mac: expected 12 hex digits",
                         fi, ii);
                return SCAND_ERR_INVAL;
            }
            if (!cJSON_IsArray(tuples)) {
                snprintf(why, wn, "properties.flows[%d].flows[%d].flowTuples: expected an array",
                         fi, ii);
                return SCAND_ERR_INVAL;
            }
            uint32_t mac_idx;
            if (scand_strtab_intern(r->st, m, 12, &mac_idx) != SCAND_OK)
                return SCAND_ERR_NOMEM;
            int rc = add_tuples(r, tuples, (enum scand_fmt)fmt, mac_idx, grp, line, &ti,
                                SCANDINT_LIFT_NSG, fi, ii);
            if (rc != SCAND_OK)
                return rc;
            ii++;
        }
        fi++;
    }
    return SCAND_OK;
}

/* Stable merge sort of r->tup by ts_ms. */
static void sort_tuples(scand_reader *r)
{
    size_t n = r->n_tup;
    size_t i;
    for (i = 1; i < n; i++)
        if (r->tup[i].ts_ms < r->tup[i - 1].ts_ms)
            break;
    if (i >= n)
        return; /* already sorted: the common case within a group */
    struct scand_tuple *a = r->tup, *b = r->tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n;
            size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t x = lo, y = mid, k = lo;
            while (x < mid && y < hi)
                b[k++] = a[y].ts_ms < a[x].ts_ms ? a[y++] : a[x++];
            while (x < mid)
                b[k++] = a[x++];
            while (y < hi)
                b[k++] = a[y++];
        }
        struct scand_tuple *t = a;
        a = b;
        b = t;
    }
    if (a != r->tup) {
        r->tmp = r->tup;
        r->tup = a;
    }
}

/*
 * Turn one parsed record into r->tup and *rec. Return 1 when a record was
 * produced, 0 when it was skipped (diagnosed), or a negative error.
 */
static int take_record(scand_reader *r, const cJSON *rec, uint64_t line, uint64_t col,
                       struct scand_record *out)
{
    char why[160];
    int64_t idx = r->rec_index++;
    r->cur_rec = idx;
    int rc = SCAND_ERR_INVAL;
    int fmt = SCAND_FMT_UNKNOWN;
    int64_t tms = 0;
    r->n_tup = 0;
    dup_key = NULL;
    if (!cJSON_IsObject(rec)) {
        snprintf(why, sizeof why, "record is not a JSON object");
        goto skip;
    }
    if (r->nul_escape) {
        /* cJSON strings are C strings: a \u0000 would silently cut one. */
        snprintf(why, sizeof why, "a string contains \\u0000");
        goto skip;
    }
    if (r->raw_nul) { /* the same, raw (JSON forbids it; cJSON takes it) */
        snprintf(why, sizeof why, "a NUL byte");
        goto skip;
    }
    const cJSON *tm = child(rec, "time");
    const cJSON *props = child(rec, "properties");
    if (cJSON_IsObject(child(rec, "flowRecords"))) {
        fmt = SCAND_FMT_VNET4;
    } else if (cJSON_IsObject(props)) {
        const cJSON *ver = child(props, "Version");
        if (cJSON_IsNumber(ver) && (ver->valuedouble == 1 || ver->valuedouble == 2)) {
            fmt = ver->valuedouble == 1 ? SCAND_FMT_NSG1 : SCAND_FMT_NSG2;
        } else {
            snprintf(why, sizeof why, "properties.Version: expected 1 or 2");
            goto skip;
        }
    } else {
        snprintf(why, sizeof why, "not a flow-log record (no flowRecords or properties)");
        goto skip;
    }
    if (!cJSON_IsString(tm) || scand_time_parse(tm->valuestring, &tms) != SCAND_OK) {
        snprintf(why, sizeof why, "time: expected an ISO-8601 UTC time");
        goto skip;
    }
    if (fmt == SCAND_FMT_VNET4)
        rc = walk_vnet(r, rec, line, why, sizeof why);
    else
        rc = walk_nsg(r, rec, fmt, line, why, sizeof why);
    if (rc == SCAND_ERR_NOMEM)
        return set_error(r, rc, "%s: out of memory", r->name);
    if (rc != SCAND_OK || dup_key != NULL)
        goto skip;
    sort_tuples(r);
    r->stats.records++;
    r->stats.tuples += r->n_tup;
    out->time_ms = tms;
    out->index = idx;
    out->fmt = fmt;
    out->line = line;
    out->n_tuples = r->n_tup;
    out->tuples = r->tup;
    return 1;
skip:
    /* Tuples already counted as skipped stay counted; the rest of the
     * record's valid tuples are lost with it, and the record says so. */
    if (dup_key != NULL)
        snprintf(why, sizeof why, "duplicate key \"%s\"", dup_key);
    dup_key = NULL;
    r->n_tup = 0;
    r->stats.records_skipped++;
    say(r, SCAND_DIAG_RECORD_SKIPPED, idx, -1, line, col, why);
    return 0;
}

/* Parse buf[s..e) as one record: its plain flowTuples arrays are lifted
 * (flowlog_lift.c) and cJSON parses the rest. */
static int parse_element(scand_reader *r, size_t s, size_t e, struct scand_record *out)
{
    uint64_t line, col;
    position(r, s, &line, &col);
    const char *end = NULL;
    const char *text = r->buf + s;
    int lifted = scandint_lift(&r->lift, text, e - s, !r->any_escape);
    if (lifted < 0)
        return set_error(r, SCAND_ERR_NOMEM, "%s: out of memory", r->name);
    const char *json = lifted ? r->lift.copy : text;
    /* lifted tuples are parsed from text with their lengths, and the tuple
     * parser refuses a NUL; anywhere else one would cut a cJSON string */
    r->raw_nul = memchr(json, '\0', e - s) != NULL;
    r->rec_text = text;
    json_oom = 0;
    cJSON *rec = cJSON_ParseWithLengthOpts(json, e - s, &end, 0);
    if (rec == NULL && json_oom)
        return set_error(r, SCAND_ERR_NOMEM, "%s: out of memory", r->name);
    if (rec == NULL) {
        uint64_t el = line, ec = col;
        /* the copy has the original's length and newlines: same offsets */
        if (end != NULL && end >= json && end <= json + (e - s))
            position(r, s + (size_t)(end - json), &el, &ec);
        char why[128];
        snprintf(why, sizeof why, "malformed JSON at line %llu, column %llu",
                 (unsigned long long)el, (unsigned long long)ec);
        r->stats.records_skipped++;
        say(r, SCAND_DIAG_RECORD_SKIPPED, r->rec_index++, -1, line, col, why);
        r->lift.n = 0;
        return 0;
    }
    int rc = take_record(r, rec, line, col, out);
    cJSON_Delete(rec);
    r->lift.n = 0; /* the DOM path never lifts */
    return rc;
}

/* ---------------------------------------------------------------- states */

/* At '{' of a top-level value: is it {"records":[ ? Consumes it if so.
 * Return 1 yes, 0 no (nothing consumed), 1/neg per fill at EOF/error. */
static int match_records_head(scand_reader *r)
{
    static const char key[] = "\"records\"";
    size_t i = r->pos + 1, shift;
    int stage = 0; /* 0 ws before key, 1 key, 2 ws before ':', 3 ws before '[' */
    size_t k = 0;
    for (;;) {
        int rc = fill(r, i, r->pos, &shift);
        i -= shift;
        if (rc < 0)
            return rc;
        if (rc == 1)
            return 0; /* let scan_value report the cut */
        char c = r->buf[i];
        if (stage == 0 || stage == 2 || stage == 3) {
            if (is_ws(c)) {
                i++;
                continue;
            }
            if (stage == 0) {
                stage = 1;
                continue;
            }
            if (stage == 2) {
                if (c != ':')
                    return 0;
                stage = 3;
                i++;
                continue;
            }
            if (c != '[')
                return 0;
            r->pos = i + 1;
            return 1;
        }
        if (c != key[k])
            return 0;
        i++;
        if (++k == sizeof key - 1)
            stage = 2;
    }
}

/* The first member at or after c named "records" that is an array, or
 * NULL: a blob parsed whole reads each such array in turn (JSON leaves a
 * duplicate key open; dropping either array would lose records). */
static cJSON *next_records(cJSON *c)
{
    while (c != NULL && !(c->string != NULL && strcmp(c->string, "records") == 0 &&
                          cJSON_IsArray(c)))
        c = c->next;
    return c;
}

static int top_value(scand_reader *r, struct scand_record *out)
{
    int rc = skip_ws(r);
    if (rc < 0)
        return rc;
    uint64_t line, col;
    if (rc == 1) {
        if (!r->seen_value)
            return set_error(r, SCAND_ERR_FORMAT, "%s: empty input, not a flow log", r->name);
        r->state = S_DONE;
        return 0;
    }
    if (r->buf[r->pos] != '{') {
        position(r, r->pos, &line, &col);
        if (!r->seen_value)
            return set_error(r, SCAND_ERR_FORMAT,
                             "%s:%llu:%llu: not a flow log: expected '{' to start a blob",
                             r->name, (unsigned long long)line, (unsigned long long)col);
        return set_error(r, SCAND_ERR_FORMAT,
                         "%s:%llu:%llu: unexpected data after the end of the blob", r->name,
                         (unsigned long long)line, (unsigned long long)col);
    }
    r->seen_value = 1;
    rc = match_records_head(r);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        r->state = S_ARRAY;
        return 0;
    }
    /* Not a plain blob head: a bare record, or a blob whose keys come in
     * another order. Parse the whole value (bounded by MAX_RECORD). */
    size_t end;
    size_t start = r->pos;
    rc = scan_value(r, &end);
    if (rc < 0)
        return rc;
    start = r->pos; /* fill may have shifted the buffer */
    position(r, start, &line, &col);
    if (rc == 1) {
        char why[64];
        snprintf(why, sizeof why, "input ends inside a JSON value");
        r->stats.cut = 1;
        say(r, SCAND_DIAG_CUT, r->rec_index, -1, line, col, why);
        if (r->stats.records == 0 && r->stats.records_skipped == 0)
            return set_error(r, SCAND_ERR_FORMAT,
                             "%s:%llu:%llu: not a flow log: input ends inside the first value",
                             r->name, (unsigned long long)line, (unsigned long long)col);
        r->state = S_DONE;
        return 0;
    }
    const char *perr = NULL;
    json_oom = 0;
    cJSON *doc = cJSON_ParseWithLengthOpts(r->buf + start, end - start, &perr, 0);
    r->pos = end;
    if (doc == NULL && json_oom)
        return set_error(r, SCAND_ERR_NOMEM, "%s: out of memory", r->name);
    if (doc == NULL) {
        uint64_t el = line, ec = col;
        if (perr != NULL && perr >= r->buf + start && perr <= r->buf + end)
            position(r, (size_t)(perr - r->buf), &el, &ec);
        return set_error(r, SCAND_ERR_FORMAT, "%s:%llu:%llu: malformed JSON", r->name,
                         (unsigned long long)el, (unsigned long long)ec);
    }
    /* cJSON nodes keep no positions: a NUL anywhere in a value parsed
     * whole (like a \u0000, nul_escape) skips each record of it */
    r->raw_nul = memchr(r->buf + start, '\0', end - start) != NULL;
    cJSON *records = next_records(doc->child);
    if (records != NULL) {
        r->dom = doc;
        r->dom_arr = records;
        r->dom_next = records->child;
        r->state = S_DOM;
        if (next_records(records->next) != NULL)
            say(r, SCAND_DIAG_NOTE, -1, -1, line, col,
                "the blob has \"records\" twice: the records of each are read");
        return 0;
    }
    if (child(doc, "flowRecords") == NULL && child(doc, "properties") == NULL) {
        cJSON_Delete(doc);
        return set_error(r, SCAND_ERR_FORMAT,
                         "%s:%llu:%llu: not a flow log: object has no \"records\" array and is "
                         "not a flow-log record",
                         r->name, (unsigned long long)line, (unsigned long long)col);
    }
    rc = take_record(r, doc, line, col, out);
    cJSON_Delete(doc);
    return rc;
}

/* A JSON literal: true, false, null or a number. */
static int is_literal(const char *p, size_t n)
{
    if ((n == 4 && (memcmp(p, "true", 4) == 0 || memcmp(p, "null", 4) == 0)) ||
        (n == 5 && memcmp(p, "false", 5) == 0))
        return 1;
    size_t i = 0;
    if (i < n && p[i] == '-')
        i++;
    if (i >= n || p[i] < '0' || p[i] > '9')
        return 0;
    if (p[i] == '0')
        i++;
    else
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    if (i < n && p[i] == '.') {
        if (++i >= n || p[i] < '0' || p[i] > '9')
            return 0;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        if (++i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= n || p[i] < '0' || p[i] > '9')
            return 0;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    return i == n;
}

/* After the records array's ']': the rest of the wrapper object, checked as
 * JSON: more members ("key": value) are skipped, as they are before the
 * array (they hold no flows), except a
 * second "records" array, whose records are read too (JSON leaves a
 * duplicate key open; dropping either array would lose records). */
static int close_wrapper(scand_reader *r)
{
    int stage = 0; /* 0: ',' or '}' next; 1: a key; 2: ':'; 3: a value */
    int is_records = 0;
    for (;;) {
        int rc = skip_ws(r);
        if (rc < 0)
            return rc;
        uint64_t line, col;
        position(r, r->pos, &line, &col);
        if (rc == 1) {
            say(r, SCAND_DIAG_UNCLOSED, -1, -1, line, col,
                stage == 0 ? "blob ends without its closing '}'" : "blob ends inside its wrapper");
            r->stats.unclosed = 1;
            r->state = S_DONE;
            return 0;
        }
        char c = r->buf[r->pos];
        if (stage == 0 && c == '}') {
            r->pos++;
            r->state = S_TOP;
            return 0;
        }
        if (stage == 0 && c == ']') { /* a second close of the records array */
            say(r, SCAND_DIAG_NOTE, -1, -1, line, col, "stray ']' after the records array (skipped)");
            r->pos++;
            continue;
        }
        if ((stage == 0 && c == ',') || (stage == 2 && c == ':')) {
            r->pos++;
            stage++;
            continue;
        }
        if (stage == 3 && is_records && c == '[') {
            say(r, SCAND_DIAG_NOTE, -1, -1, line, col,
                "the blob has \"records\" twice: the records of each are read");
            r->pos++;
            r->state = S_ARRAY;
            return 0;
        }
        size_t end = r->pos;
        int bad = stage == 0 || stage == 2 || (stage == 1 && c != '"');
        if (!bad) {
            rc = scan_value(r, &end);
            if (rc < 0)
                return rc;
            if (rc == 1) {
                say(r, SCAND_DIAG_UNCLOSED, -1, -1, line, col, "blob ends inside its wrapper");
                r->stats.unclosed = 1;
                r->state = S_DONE;
                return 0;
            }
            /* what scan_value took (bracket depth only) must parse as
             * JSON, with no control byte a string could hide */
            const char *v = r->buf + r->pos;
            size_t n = end - r->pos;
            bad = scandint_json_ctl(v, n) < n;
            cJSON *j = NULL;
            const char *pe = NULL;
            if (!bad) {
                json_oom = 0;
                j = cJSON_ParseWithLengthOpts(v, n, &pe, 0);
                if (j == NULL && json_oom)
                    return set_error(r, SCAND_ERR_NOMEM, "%s: out of memory", r->name);
                /* cJSON takes 01 and 1. as numbers: literals by the grammar */
                bad = j == NULL || pe != v + n || (c != '"' && c != '{' && c != '[' &&
                                                   !is_literal(v, n));
            }
            /* a key is compared as JSON reads it: "rec\u006frds" is "records" */
            if (!bad && stage == 1)
                is_records = cJSON_IsString(j) && strcmp(j->valuestring, "records") == 0;
            cJSON_Delete(j);
        }
        if (bad)
            return set_error(r, SCAND_ERR_FORMAT,
                             "%s:%llu:%llu: malformed JSON in the blob after the records array",
                             r->name, (unsigned long long)line, (unsigned long long)col);
        r->pos = end;
        stage = stage == 1 ? 2 : 0;
    }
}

static int array_element(scand_reader *r, struct scand_record *out)
{
    int rc = skip_ws(r);
    if (rc < 0)
        return rc;
    uint64_t line, col;
    if (rc == 1) {
        position(r, r->pos, &line, &col);
        say(r, SCAND_DIAG_UNCLOSED, -1, -1, line, col,
            "blob ends without its closing \"]}\" (still being appended?)");
        r->stats.unclosed = 1;
        r->state = S_DONE;
        return 0;
    }
    char c = r->buf[r->pos];
    if (c == ',') { /* separators, and Azure's leading comma per block */
        r->pos++;
        return 0;
    }
    if (c == ']') {
        r->pos++;
        return close_wrapper(r);
    }
    if (r->pos > CHUNK)
        compact(r, r->pos);
    size_t end;
    rc = scan_value(r, &end);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        position(r, r->pos, &line, &col);
        char why[128];
        snprintf(why, sizeof why, "input ends inside record %lld (%zu bytes of it dropped)",
                 (long long)r->rec_index, r->len - r->pos);
        r->stats.cut = 1;
        say(r, SCAND_DIAG_CUT, r->rec_index, -1, line, col, why);
        r->state = S_DONE;
        return 0;
    }
    size_t s = r->pos;
    r->pos = end;
    if (c != '{') {
        position(r, s, &line, &col);
        r->stats.records_skipped++;
        say(r, SCAND_DIAG_RECORD_SKIPPED, r->rec_index++, -1, line, col,
            "record is not a JSON object");
        return 0;
    }
    return parse_element(r, s, end, out);
}

int scand_reader_next(scand_reader *r, struct scand_record *rec)
{
    for (;;) {
        int rc = 0;
        switch (r->state) {
        case S_TOP:
            rc = top_value(r, rec);
            break;
        case S_ARRAY:
            rc = array_element(r, rec);
            break;
        case S_DOM:
            while (r->dom_next == NULL && r->dom_arr != NULL) { /* "records" again? */
                r->dom_arr = next_records(r->dom_arr->next);
                r->dom_next = r->dom_arr != NULL ? r->dom_arr->child : NULL;
            }
            if (r->dom_next == NULL) {
                cJSON_Delete(r->dom);
                r->dom = NULL;
                r->state = S_TOP;
                break;
            }
            {
                cJSON *e = r->dom_next;
                r->dom_next = e->next;
                rc = take_record(r, e, 0, 0, rec);
            }
            break;
        default:
            return r->err;
        }
        if (rc != 0)
            return rc;
    }
}

/* ---------------------------------------------------------------- handle */

static void *json_malloc(size_t n)
{
    void *p = scandint_malloc(n);
    if (p == NULL)
        json_oom = 1;
    return p;
}

static void json_free(void *p)
{
    scandint_free(p);
}

scand_reader *scand_reader_new(const char *name, scand_read_fn fn, void *arg, scand_strtab *st,
                               char *errbuf)
{
    if (name == NULL || fn == NULL || st == NULL) {
        scandint_seterr(errbuf, "scand_reader_new: NULL argument");
        return NULL;
    }
    cJSON_Hooks hooks = {json_malloc, json_free};
    cJSON_InitHooks(&hooks);
    scand_reader *r = scandint_calloc(1, sizeof *r);
    if (r == NULL)
        goto nomem;
    r->name = scandint_strdup(name);
    r->buf = scandint_malloc(CHUNK);
    if (r->name == NULL || r->buf == NULL)
        goto nomem;
    r->cap = CHUNK;
    r->fn = fn;
    r->arg = arg;
    r->st = st;
    r->line_no = 1;
    r->state = S_TOP;
    return r;
nomem:
    scand_reader_free(r);
    scandint_seterr(errbuf, "%s: out of memory", name);
    return NULL;
}

void scand_reader_free(scand_reader *r)
{
    if (r == NULL)
        return;
    cJSON_Delete(r->dom);
    scandint_free(r->name);
    scandint_free(r->buf);
    scandint_free(r->tup);
    scandint_free(r->tmp);
    scandint_lift_fini(&r->lift);
    scandint_free(r);
}

void scand_reader_set_diag(scand_reader *r, scand_diag_fn fn, void *arg)
{
    r->diag = fn;
    r->diag_arg = arg;
}

const char *scand_reader_geterr(const scand_reader *r)
{
    return r->errmsg;
}

void scand_reader_stats(const scand_reader *r, struct scand_reader_stats *out)
{
    *out = r->stats;
}
