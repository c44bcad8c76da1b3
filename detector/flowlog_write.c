/*
 * flowlog_write.c - VNet flow log v4 blob writer (research/azure_formats.md
 * 1.1-1.3, Azure docs "VNet flow logs overview" and "Read flow logs").
 *
 * A blob is written the way Azure's block blob holds it: a 12-byte head
 * {"records":[ , one block per record (every block after the first starts
 * with a comma), and the 2-byte tail ]} . One record per NIC-minute, record
 * time = end of the minute (tuples precede their record, as in real blobs),
 * flows grouped by aclID and flowGroups by rule in order of first appearance.
 * Output is a pure function of the input: no clock, no hash order.
 * JSON is written by hand (not cJSON) so that byte layout is ours to fix;
 * every string goes through json_str(), which escapes it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scand_int.h"

#define MINUTE_MS 60000
#define HOUR_MS 3600000

struct obuf {
    char *p;
    size_t len, cap;
    int oom;
};

/* Room for n more bytes; 0, or -1 (b->oom) when out of memory. */
static int ob_room(struct obuf *b, size_t n)
{
    if (b->oom)
        return -1;
    if (b->len + n > b->cap) {
        size_t cap = scandint_pow2(b->len + n);
        char *p = scandint_realloc(b->p, cap);
        if (p == NULL) {
            b->oom = 1;
            return -1;
        }
        b->p = p;
        b->cap = cap;
    }
    return 0;
}

static void ob_put(struct obuf *b, const char *s, size_t n)
{
    if (ob_room(b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void ob_str(struct obuf *b, const char *s)
{
    ob_put(b, s, strlen(s));
}

/* Append s as a JSON string literal, escaped (RFC 8259 section 7). */
static void json_str(struct obuf *b, const char *s)
{
    ob_put(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        ob_put(b, run, (size_t)(s - run));
        char esc[8];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else
            snprintf(esc, sizeof esc, "\\u%04x", c);
        ob_str(b, esc);
        run = s + 1;
    }
    ob_put(b, run, (size_t)(s - run));
    ob_put(b, "\"", 1);
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

struct tm_parts {
    int64_t y;
    unsigned mo, d, h, mi, s, ms;
};

static void split_ms(int64_t ms, struct tm_parts *t)
{
    int64_t days = scandint_bin(ms, 86400000) / 86400000;
    int64_t rem = ms - days * 86400000;
    civil_from_days(days, &t->y, &t->mo, &t->d);
    t->h = (unsigned)(rem / 3600000);
    t->mi = (unsigned)(rem / 60000 % 60);
    t->s = (unsigned)(rem / 1000 % 60);
    t->ms = (unsigned)(rem % 1000);
}

static char *digits(char *p, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

size_t scand_time_format(int64_t ms, char *buf, size_t size)
{
    struct tm_parts t;
    split_ms(ms, &t);
    if (t.y < 0 || t.y > 9999) { /* outside ISO-8601's 4 digits: rare, slow path */
        int n = snprintf(buf, size, "%04lld-%02u-%02uT%02u:%02u:%02u.%03u0000Z",
                         (long long)t.y, t.mo, t.d, t.h, t.mi, t.s, t.ms);
        return n < 0 ? 0 : (size_t)n;
    }
    /* a record per NIC-minute: formatted by hand, snprintf is the cost */
    char tmp[32], *p = tmp;
    p = digits(p, (unsigned)t.y, 4);
    *p++ = '-';
    p = digits(p, t.mo, 2);
    *p++ = '-';
    p = digits(p, t.d, 2);
    *p++ = 'T';
    p = digits(p, t.h, 2);
    *p++ = ':';
    p = digits(p, t.mi, 2);
    *p++ = ':';
    p = digits(p, t.s, 2);
    *p++ = '.';
    p = digits(p, t.ms, 3);
    memcpy(p, "0000Z", 5);
    p += 5;
    size_t n = (size_t)(p - tmp);
    if (size > 0) {
        size_t k = n < size - 1 ? n : size - 1;
        memcpy(buf, tmp, k);
        buf[k] = '\0';
    }
    return n;
}

static int64_t record_time(int64_t ts_ms)
{
    return scandint_bin(ts_ms, MINUTE_MS) + MINUTE_MS;
}

int64_t scand_blob_hour(int64_t ts_ms)
{
    return scandint_bin(record_time(ts_ms), HOUR_MS);
}

/* Copy a resource id into a path segment: keep [A-Za-z0-9_.=/-], map the
 * rest to '_', and break ".." so a hostile id cannot climb out of the root. */
static size_t safe_path(const char *s, char *out, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; s[i] && k + 1 < size; i++) {
        char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '=' || c == '/' || c == '.';
        if (!ok)
            c = '_';
        if (c == '.' && k > 0 && out[k - 1] == '.')
            c = '_';
        out[k++] = c;
    }
    out[k] = '\0';
    return k;
}

size_t scand_blob_path(const struct scand_blob_meta *meta, int64_t hour_ms, char *buf,
                       size_t size)
{
    char res[512], mac[64];
    safe_path(meta->flow_log_resource, res, sizeof res);
    safe_path(meta->mac, mac, sizeof mac);
    for (char *p = mac; *p; p++)
        if (*p == '/')
            *p = '_';
    struct tm_parts t;
    split_ms(hour_ms, &t);
    int n = snprintf(buf, size,
                     "insights-logs-flowlogflowevent/flowLogResourceID=%s%s/y=%04lld/m=%02u/"
                     "d=%02u/h=%02u/m=00/macAddress=%s/PT1H.json",
                     res[0] == '/' ? "" : "/", res, (long long)t.y, t.mo, t.d, t.h, mac);
    return n < 0 ? 0 : (size_t)n;
}

/* Append the record of tuples t[0..n) (one minute) to b. */
/* The part of every record of a blob after its time: the same for all. */
static void put_head(struct obuf *b, const struct scand_blob_meta *meta)
{
    ob_str(b, "\",\"flowLogVersion\":4,\"flowLogGUID\":");
    json_str(b, meta->flow_log_guid);
    ob_str(b, ",\"macAddress\":");
    json_str(b, meta->mac);
    ob_str(b, ",\"category\":\"FlowLogFlowEvent\",\"flowLogResourceID\":");
    json_str(b, meta->flow_log_resource);
    ob_str(b, ",\"targetResourceID\":");
    json_str(b, meta->target_resource);
    ob_str(b, ",\"operationName\":\"FlowLogFlowEvent\",\"flowRecords\":{\"flows\":[");
}

static int put_record(struct obuf *b, const struct obuf *head, const struct scand_tuple *t,
                      size_t n, const scand_strtab *st, uint32_t *seen, int64_t rtime)
{
    char tbuf[64];
    scand_time_format(rtime, tbuf, sizeof tbuf);
    ob_str(b, "{\"time\":\"");
    ob_str(b, tbuf);
    ob_put(b, head->p, head->len);

    /* Distinct groups in order of first appearance. */
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        size_t g;
        for (g = 0; g < ng; g++)
            if (seen[g] == t[i].group)
                break;
        if (g == ng)
            seen[ng++] = t[i].group;
    }
    int first_flow = 1;
    for (size_t g = 0; g < ng; g++) {
        const char *acl, *rule;
        if (scand_group_split(st, seen[g], &acl, &rule) != SCAND_OK)
            return SCAND_ERR_INVAL;
        /* Skip groups whose aclID an earlier group already wrote. */
        size_t h;
        for (h = 0; h < g; h++) {
            const char *a2, *r2;
            scand_group_split(st, seen[h], &a2, &r2);
            if (strcmp(a2, acl) == 0)
                break;
        }
        if (h < g)
            continue;
        ob_str(b, first_flow ? "{\"aclID\":" : ",{\"aclID\":");
        first_flow = 0;
        json_str(b, acl);
        ob_str(b, ",\"flowGroups\":[");
        int first_group = 1;
        for (size_t k = g; k < ng; k++) {
            const char *a2, *r2;
            scand_group_split(st, seen[k], &a2, &r2);
            if (strcmp(a2, acl) != 0)
                continue;
            ob_str(b, first_group ? "{\"rule\":" : ",{\"rule\":");
            first_group = 0;
            json_str(b, r2);
            ob_str(b, ",\"flowTuples\":[");
            int first_tuple = 1;
            for (size_t i = 0; i < n; i++) {
                if (t[i].group != seen[k])
                    continue;
                /* formatted in place: "text", or ,"text" */
                if (ob_room(b, SCANDINT_TUPLE_MAX + 3) != 0)
                    break;
                char *p = b->p + b->len;
                if (!first_tuple)
                    *p++ = ',';
                first_tuple = 0;
                *p++ = '"';
                p = scandint_tuple_put(p, &t[i]);
                *p++ = '"';
                b->len = (size_t)(p - b->p);
            }
            ob_str(b, "]}");
        }
        ob_str(b, "]}");
    }
    ob_str(b, "]}}");
    return b->oom ? SCAND_ERR_NOMEM : SCAND_OK;
}

int scand_blob_write(const struct scand_blob_meta *meta, const struct scand_tuple *t, size_t n,
                     const scand_strtab *st, scand_write_fn fn, void *arg)
{
    for (size_t i = 1; i < n; i++)
        if (t[i].ts_ms < t[i - 1].ts_ms)
            return SCAND_ERR_INVAL;
    struct obuf b = {0}, head = {0};
    uint32_t *seen = scandint_calloc(n ? n : 1, sizeof *seen);
    if (seen == NULL)
        return SCAND_ERR_NOMEM;
    int rc = SCAND_OK;
    put_head(&head, meta);
    if (head.oom) {
        rc = SCAND_ERR_NOMEM;
        goto out;
    }
    if (fn(arg, "{\"records\":[", 12) != 0) {
        rc = SCAND_ERR_IO;
        goto out;
    }
    for (size_t i = 0; i < n;) {
        int64_t rt = record_time(t[i].ts_ms);
        size_t j = i;
        while (j < n && record_time(t[j].ts_ms) == rt)
            j++;
        b.len = 0;
        if (i > 0)
            ob_put(&b, ",", 1);
        rc = put_record(&b, &head, t + i, j - i, st, seen, rt);
        if (rc != SCAND_OK)
            goto out;
        if (fn(arg, b.p, b.len) != 0) {
            rc = SCAND_ERR_IO;
            goto out;
        }
        i = j;
    }
    if (fn(arg, "]}", 2) != 0)
        rc = SCAND_ERR_IO;
out:
    scandint_free(b.p);
    scandint_free(head.p);
    scandint_free(seen);
    return rc;
}
