/*
 * alerts.c - alerts as scoring keeps them: copied from the detector, or
 * read back from `scanlab detect` JSON lines with cJSON (one line at a
 * time; an error names the file, the line and the field). Every number in
 * an alert is a whole one: a fraction is an error, never cut.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rpt.h"

void rpt_alert_from(struct rpt_alert *o, const struct scand_alert *a)
{
    memset(o, 0, sizeof *o);
    memcpy(o->rule, a->rule, sizeof o->rule);
    o->rule[sizeof o->rule - 1] = '\0';
    o->family = a->family;
    o->has_src = (uint8_t)a->has_src;
    o->has_dst = (uint8_t)a->has_dst;
    o->has_port = (uint8_t)a->has_port;
    o->port = a->port;
    memcpy(o->src, a->src, 16);
    memcpy(o->dst, a->dst, 16);
    o->window_start_ms = a->window_start_ms;
    o->window_end_ms = a->window_end_ms;
    o->first_seen_ms = a->first_seen_ms;
    o->last_seen_ms = a->last_seen_ms;
    o->reached_ms = a->reached_ms;
    o->count = a->count;
    o->threshold = a->threshold;
    o->flows = a->flows;
    o->n_targets = (uint8_t)(a->n_targets < RPT_SAMPLES ? a->n_targets : RPT_SAMPLES);
    memcpy(o->targets, a->targets, (size_t)o->n_targets * 16);
    o->n_sources = (uint8_t)(a->n_sources < RPT_SAMPLES ? a->n_sources : RPT_SAMPLES);
    memcpy(o->sources, a->sources, (size_t)o->n_sources * 16);
    o->n_ports = (uint8_t)(a->n_ports < RPT_SAMPLES ? a->n_ports : RPT_SAMPLES);
    memcpy(o->ports, a->ports, (size_t)o->n_ports * sizeof *o->ports);
}

static const char *const families[] = {"", "horizontal", "vertical", "block", "distributed",
                                       "trw"};

/* A whole number in [lo, hi] (hi at most 2^53): 1, 0 when absent, -1 when
 * not a number, out of range or with a fraction. */
static int num(const cJSON *o, const char *key, double lo, double hi, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (v == NULL)
        return 0;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return -1;
    *out = v->valuedouble;
    return 1;
}

static int addr(const cJSON *o, const char *key, uint8_t out[16])
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    int v6;
    if (v == NULL)
        return 0;
    if (!cJSON_IsString(v) ||
        scand_addr_parse(v->valuestring, strlen(v->valuestring), out, &v6) != SCAND_OK)
        return -1;
    return 1;
}

static int addrs(const cJSON *o, const char *key, uint8_t (*out)[16], uint8_t *n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key), *e;
    *n = 0;
    if (v == NULL)
        return 0;
    if (!cJSON_IsArray(v))
        return -1;
    cJSON_ArrayForEach(e, v)
    {
        int v6;
        uint8_t a[16];
        if (!cJSON_IsString(e) ||
            scand_addr_parse(e->valuestring, strlen(e->valuestring), a, &v6) != SCAND_OK)
            return -1;
        if (*n < RPT_SAMPLES)
            memcpy(out[(*n)++], a, 16);
    }
    return 0;
}

/* One alert line into a; returns NULL or what is wrong (in why, or a
 * constant). */
static const char *parse_one(const cJSON *o, struct rpt_alert *a, char *why, size_t whysize)
{
    double d;
    memset(a, 0, sizeof *a);
    if (!cJSON_IsObject(o))
        return "expected a JSON object";
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "rule");
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0' || strlen(v->valuestring) >= sizeof a->rule)
        return "\"rule\": expected a rule name (1-31 characters)";
    strcpy(a->rule, v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(o, "rule_family");
    a->family = SCAND_FAM_HORIZONTAL;
    if (v != NULL) {
        int f = 0;
        for (int i = 1; i <= 5 && cJSON_IsString(v); i++)
            if (strcmp(v->valuestring, families[i]) == 0)
                f = i;
        if (f == 0)
            return "\"rule_family\": expected horizontal, vertical, block, distributed or trw";
        a->family = f;
    }
    int r = addr(o, "src", a->src);
    if (r < 0)
        return "\"src\": not an IP address";
    a->has_src = (uint8_t)r;
    if ((r = addr(o, "dst", a->dst)) < 0)
        return "\"dst\": not an IP address";
    a->has_dst = (uint8_t)r;
    if ((r = num(o, "port", 0, 65535, &d)) < 0)
        return "\"port\": expected a whole number 0..65535";
    a->has_port = (uint8_t)r;
    a->port = r ? (uint16_t)d : 0;
    if (!a->has_src && !a->has_dst && !a->has_port)
        return "no key: expected \"src\", \"dst\" or \"port\"";
    static const char *const times[] = {"window_start_ms", "window_end_ms", "first_seen_ms",
                                        "last_seen_ms", "reached_ms"};
    int64_t *tv[] = {&a->window_start_ms, &a->window_end_ms, &a->first_seen_ms,
                     &a->last_seen_ms, &a->reached_ms};
    for (int i = 0; i < 5; i++) {
        r = num(o, times[i], 0, 9.0e15, &d);
        if (r < 0 || (r == 0 && i < 2)) {
            snprintf(why, whysize, "\"%s\": expected whole milliseconds", times[i]);
            return why;
        }
        *tv[i] = r ? (int64_t)d : INT64_MIN;
    }
    if (a->window_end_ms < a->window_start_ms)
        return "\"window_end_ms\" is before \"window_start_ms\"";
    if (a->first_seen_ms == INT64_MIN)
        a->first_seen_ms = a->window_start_ms;
    if (a->last_seen_ms == INT64_MIN)
        a->last_seen_ms = a->window_end_ms;
    if (a->reached_ms == INT64_MIN) /* older alert files: the last flow counted */
        a->reached_ms = a->last_seen_ms;
    uint64_t *nv[] = {&a->count, &a->threshold, &a->flows};
    static const char *const nums[] = {"count", "threshold", "flows"};
    for (int i = 0; i < 3; i++) {
        d = 0;
        if (num(o, nums[i], 0, 9.0e15, &d) < 0) {
            snprintf(why, whysize, "\"%s\": expected a whole number >= 0", nums[i]);
            return why;
        }
        *nv[i] = (uint64_t)d;
    }
    if (addrs(o, "targets", a->targets, &a->n_targets) < 0)
        return "\"targets\": expected an array of addresses";
    if (addrs(o, "sources", a->sources, &a->n_sources) < 0)
        return "\"sources\": expected an array of addresses";
    v = cJSON_GetObjectItemCaseSensitive(o, "ports");
    if (v != NULL) {
        const cJSON *e;
        if (!cJSON_IsArray(v))
            return "\"ports\": expected an array of ports";
        cJSON_ArrayForEach(e, v)
        {
            if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0 && e->valuedouble <= 65535) ||
                e->valuedouble != (double)(int)e->valuedouble)
                return "\"ports\": expected whole numbers 0..65535";
            if (a->n_ports < RPT_SAMPLES)
                a->ports[a->n_ports++] = (uint16_t)e->valuedouble;
        }
    }
    return NULL;
}

int rpt_alerts_parse(const char *name, const char *text, size_t len, struct rpt_alert **out,
                     size_t *n, char *err, size_t errsize)
{
    struct rpt_alert *v = NULL;
    size_t nv = 0, cap = 0;
    long line = 0;
    const char *p = text, *end = text + len;
    *out = NULL;
    *n = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end;
        line++;
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < le) {
            if (nv == cap) {
                size_t nc = cap ? cap * 2 : 64;
                struct rpt_alert *w = realloc(v, nc * sizeof *w);
                if (w == NULL) {
                    snprintf(err, errsize, "%s:%ld: out of memory", name, line);
                    free(v);
                    return -1;
                }
                v = w;
                cap = nc;
            }
            const char *pe = NULL;
            char why[96];
            cJSON *o = cJSON_ParseWithLengthOpts(q, (size_t)(le - q), &pe, 0);
            const char *what = o == NULL ? "not valid JSON" : parse_one(o, &v[nv], why, sizeof why);
            while (what == NULL && pe != NULL && pe < le && (*pe == ' ' || *pe == '\t' ||
                                                             *pe == '\r'))
                pe++;
            if (what == NULL && pe != NULL && pe < le)
                what = "text after the alert's JSON object";
            cJSON_Delete(o);
            if (what != NULL) {
                snprintf(err, errsize, "%s:%ld: %s", name, line, what);
                free(v);
                return -1;
            }
            nv++;
        }
        p = le + (nl != NULL);
    }
    *out = v;
    *n = nv;
    return 0;
}
