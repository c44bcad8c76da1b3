/*
 * truth.c - truth.json read back with cJSON: campaigns (what was sent and
 * whether logging could see it) and hard-negative classes (benign sources
 * that look like scanning). Every address list is sorted so scoring can
 * look addresses up by binary search. A string longer than its field is an
 * error, never cut; the fields hold whatever the simulator writes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rpt.h"

struct pctx {
    const char *name, *text;
    size_t len;
    const cJSON *root;
    char *err;
    size_t errsize;
};

static int fail(struct pctx *p, const cJSON *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct pctx *p, const cJSON *node, const char *path, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    scand_json_error(p->err, p->errsize, p->name, p->text, p->len, p->root, node, path, msg);
    return -1;
}

static int cmp_addr(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

_Static_assert(sizeof((struct rpt_campaign *)0)->id >= sizeof((struct sim_camp_truth *)0)->id &&
                   sizeof((struct rpt_campaign *)0)->reason >=
                       sizeof((struct sim_camp_truth *)0)->reason &&
                   sizeof((struct rpt_hard_negative *)0)->what >=
                       sizeof((struct sim_hard_negative *)0)->what,
               "truth.json's strings from the simulator fit the reader's fields");

/* A string into dst; one that does not fit is an error (cut, an id would
 * merge two campaigns, a reason or description would lose its end). */
static int get_str(struct pctx *p, const cJSON *obj, const char *key, const char *path, int need,
                   char *dst, size_t size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL) {
        if (need)
            return fail(p, obj, path, "missing \"%s\"", key);
        dst[0] = '\0';
        return 0;
    }
    if (!cJSON_IsString(v))
        return fail(p, v, path, "\"%s\": expected a string", key);
    if (strlen(v->valuestring) >= size)
        return fail(p, v, path, "\"%s\": at most %zu characters", key, size - 1);
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

static int get_num(struct pctx *p, const cJSON *obj, const char *key, const char *path, int need,
                   double lo, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL) {
        if (need)
            return fail(p, obj, path, "missing \"%s\"", key);
        return 0;
    }
    /* 2^53 - 1: the largest integer a JSON number holds exactly (seeds) */
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > 9007199254740991.0)
        return fail(p, v, path, "\"%s\": expected a number in %.0f..9007199254740991", key, lo);
    *out = v->valuedouble;
    return 0;
}

/* An array of address strings, sorted and de-duplicated. */
static int get_addrs(struct pctx *p, const cJSON *obj, const char *key, const char *path, int need,
                     uint8_t (**out)[16], size_t *n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    *n = 0;
    if (v == NULL)
        return need ? fail(p, obj, path, "missing \"%s\"", key) : 0;
    if (!cJSON_IsArray(v))
        return fail(p, v, path, "\"%s\": expected an array of addresses", key);
    int m = cJSON_GetArraySize(v);
    if (m == 0)
        return 0;
    uint8_t(*a)[16] = calloc((size_t)m, 16);
    if (a == NULL)
        return fail(p, NULL, path, "out of memory");
    size_t k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        int v6;
        if (!cJSON_IsString(e) ||
            scand_addr_parse(e->valuestring, strlen(e->valuestring), a[k], &v6) != SCAND_OK) {
            free(a);
            return fail(p, e, path, "\"%s\": not an IP address", key);
        }
        k++;
    }
    qsort(a, k, 16, cmp_addr);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || memcmp(a[u - 1], a[i], 16) != 0)
            memmove(a[u++], a[i], 16);
    *out = a;
    *n = u;
    return 0;
}

static int get_ports(struct pctx *p, const cJSON *obj, const char *path, struct rpt_campaign *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "ports");
    if (v == NULL)
        return 0;
    if (!cJSON_IsArray(v))
        return fail(p, v, path, "\"ports\": expected an array of ports");
    int m = cJSON_GetArraySize(v);
    if (m == 0)
        return 0;
    c->ports = calloc((size_t)m, sizeof *c->ports);
    if (c->ports == NULL)
        return fail(p, NULL, path, "out of memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 65535 ||
            e->valuedouble != (double)(int)e->valuedouble)
            return fail(p, e, path, "\"ports\": expected ports 0..65535");
        c->ports[c->n_ports++] = (uint16_t)e->valuedouble;
    }
    qsort(c->ports, c->n_ports, sizeof *c->ports, cmp_u16);
    return 0;
}

static int parse_campaign(struct pctx *p, const cJSON *o, size_t i, struct rpt_campaign *c)
{
    char path[48];
    char kind[64]; /* room for a wrong one, to be named as such */
    double d;
    snprintf(path, sizeof path, "campaigns[%zu]", i);
    if (!cJSON_IsObject(o))
        return fail(p, o, path, "expected an object");
    const cJSON *twice = scand_json_dup_key(o);
    if (twice != NULL)
        return fail(p, twice, path, "\"%s\": given twice", twice->string);
    /* a kind too long for the buffer is as wrong as any: named below */
    const cJSON *kj = cJSON_GetObjectItemCaseSensitive(o, "kind");
    int long_kind = cJSON_IsString(kj) && strlen(kj->valuestring) >= sizeof kind;
    if (get_str(p, o, "id", path, 1, c->id, sizeof c->id) ||
        (long_kind ? (kind[0] = '\0', 0) : get_str(p, o, "kind", path, 1, kind, sizeof kind)) ||
        get_str(p, o, "reason", path, 0, c->reason, sizeof c->reason))
        return -1;
    static const char *const kinds[] = {"horizontal", "vertical",    "block",
                                        "slow",       "distributed", "udp"};
    size_t k = 0;
    while (k < sizeof kinds / sizeof *kinds && strcmp(kind, kinds[k]) != 0)
        k++;
    if (k == sizeof kinds / sizeof *kinds)
        return fail(p, cJSON_GetObjectItemCaseSensitive(o, "kind"), path,
                    "\"kind\": expected horizontal, vertical, block, slow, distributed or udp");
    snprintf(c->kind, sizeof c->kind, "%s", kinds[k]);
    if (get_addrs(p, o, "sources", path, 1, &c->sources, &c->n_sources) ||
        get_addrs(p, o, "targets", path, 0, &c->targets, &c->n_targets) ||
        get_ports(p, o, path, c))
        return -1;
    if (c->n_sources == 0)
        return fail(p, o, path, "\"sources\": a campaign needs at least one source");
    d = 0;
    if (get_num(p, o, "start_ms", path, 1, 0, &d))
        return -1;
    c->start_ms = (int64_t)d;
    if (get_num(p, o, "end_ms", path, 1, 0, &d))
        return -1;
    c->end_ms = (int64_t)d;
    if (c->end_ms < c->start_ms)
        return fail(p, o, path, "end_ms is before start_ms");
    d = 0;
    if (get_num(p, o, "probes", path, 0, 0, &d))
        return -1;
    c->probes = (uint64_t)d;
    d = (double)c->probes;
    if (get_num(p, o, "probes_visible", path, 0, 0, &d))
        return -1;
    c->probes_visible = (uint64_t)d;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "visible");
    if (v != NULL && !cJSON_IsBool(v))
        return fail(p, v, path, "\"visible\": expected true or false");
    c->visible = v == NULL || cJSON_IsTrue(v);
    return 0;
}

static int parse_hn(struct pctx *p, const cJSON *o, size_t i, struct rpt_hard_negative *h)
{
    char path[48];
    snprintf(path, sizeof path, "hard_negatives[%zu]", i);
    if (!cJSON_IsObject(o))
        return fail(p, o, path, "expected an object");
    const cJSON *twice = scand_json_dup_key(o);
    if (twice != NULL)
        return fail(p, twice, path, "\"%s\": given twice", twice->string);
    if (get_str(p, o, "class", path, 1, h->cls, sizeof h->cls) ||
        get_str(p, o, "what", path, 0, h->what, sizeof h->what))
        return -1;
    if (strcmp(h->cls, "other") == 0)
        return fail(p, o, path, "\"class\": \"other\" is reserved for unclassified alerts");
    return get_addrs(p, o, "sources", path, 1, &h->sources, &h->n_sources) ||
                   get_addrs(p, o, "targets", path, 0, &h->targets, &h->n_targets)
               ? -1
               : 0;
}

/* Campaigns (pointers into one array) by (id, position). */
static int by_id(const void *x, const void *y)
{
    const struct rpt_campaign *a = *(const struct rpt_campaign *const *)x;
    const struct rpt_campaign *b = *(const struct rpt_campaign *const *)y;
    int r = strcmp(a->id, b->id);
    return r != 0 ? r : a < b ? -1 : a > b;
}

/* In *at the earliest of c[0..n) whose id an earlier one has, SIZE_MAX
 * if none (sorted: a truth file may hold many campaigns). 0, or -1 out of
 * memory. */
static int dup_id(const struct rpt_campaign *c, size_t n, size_t *at)
{
    *at = SIZE_MAX;
    if (n < 2)
        return 0;
    const struct rpt_campaign **ord = malloc(n * sizeof *ord);
    if (ord == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        ord[i] = &c[i];
    qsort(ord, n, sizeof *ord, by_id);
    for (size_t i = 1; i < n; i++)
        if (strcmp(ord[i]->id, ord[i - 1]->id) == 0 && (size_t)(ord[i] - c) < *at)
            *at = (size_t)(ord[i] - c);
    free(ord);
    return 0;
}

int rpt_truth_parse(const char *name, const char *text, size_t len, struct rpt_truth *out,
                    char *err, size_t errsize)
{
    struct pctx p = {name, text, len, NULL, err, errsize};
    memset(out, 0, sizeof *out);
    cJSON *root = scand_json_parse_doc(name, text, len, "the JSON document", err, errsize);
    if (root == NULL)
        return -1;
    p.root = root;
    int rc = -1;
    double d = 0;
    if (!cJSON_IsObject(root)) {
        fail(&p, root, "$", "expected an object");
        goto out;
    }
    const cJSON *twice = scand_json_dup_key(root);
    if (twice != NULL) { /* which one would count is anyone's guess: neither */
        fail(&p, twice, "$", "\"%s\": given twice", twice->string);
        goto out;
    }
    if (get_str(&p, root, "scenario", "$", 0, out->scenario, sizeof out->scenario))
        goto out;
    if (get_num(&p, root, "seed", "$", 0, 0, &d))
        goto out;
    out->seed = (uint64_t)d;
    const cJSON *camps = cJSON_GetObjectItemCaseSensitive(root, "campaigns");
    if (!cJSON_IsArray(camps)) {
        fail(&p, camps != NULL ? camps : root, "campaigns", "expected an array");
        goto out;
    }
    size_t nc = (size_t)cJSON_GetArraySize(camps);
    out->camps = calloc(nc ? nc : 1, sizeof *out->camps);
    if (out->camps == NULL) {
        fail(&p, NULL, "campaigns", "out of memory");
        goto out;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, camps)
    {
        if (parse_campaign(&p, e, out->n_camps, &out->camps[out->n_camps]) != 0) {
            out->n_camps++; /* freed with the rest */
            goto out;
        }
        out->n_camps++;
    }
    size_t dup_at; /* ids name campaigns in every report: one each */
    if (dup_id(out->camps, out->n_camps, &dup_at) != 0) {
        fail(&p, NULL, "campaigns", "out of memory");
        goto out;
    }
    if (dup_at != SIZE_MAX) {
        char path[48];
        snprintf(path, sizeof path, "campaigns[%zu]", dup_at);
        fail(&p, cJSON_GetArrayItem(camps, (int)dup_at), path, "id \"%s\" given twice",
             out->camps[dup_at].id);
        goto out;
    }
    const cJSON *hns = cJSON_GetObjectItemCaseSensitive(root, "hard_negatives");
    if (hns != NULL) {
        if (!cJSON_IsArray(hns)) {
            fail(&p, hns, "hard_negatives", "expected an array");
            goto out;
        }
        size_t nh = (size_t)cJSON_GetArraySize(hns);
        if (nh > RPT_MAX_CLASSES) {
            fail(&p, hns, "hard_negatives", "more than %d classes", RPT_MAX_CLASSES);
            goto out;
        }
        out->hn = calloc(nh ? nh : 1, sizeof *out->hn);
        if (out->hn == NULL) {
            fail(&p, NULL, "hard_negatives", "out of memory");
            goto out;
        }
        cJSON_ArrayForEach(e, hns)
        {
            if (parse_hn(&p, e, out->n_hn, &out->hn[out->n_hn]) != 0) {
                out->n_hn++;
                goto out;
            }
            for (size_t k = 0; k < out->n_hn; k++)
                if (strcmp(out->hn[k].cls, out->hn[out->n_hn].cls) == 0) {
                    char path[48];
                    snprintf(path, sizeof path, "hard_negatives[%zu]", out->n_hn);
                    fail(&p, e, path, "class \"%s\" given twice", out->hn[k].cls);
                    out->n_hn++;
                    goto out;
                }
            out->n_hn++;
        }
    }
    /* the time span: given, or that of the campaigns */
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < out->n_camps; i++) {
        if (out->camps[i].start_ms < lo)
            lo = out->camps[i].start_ms;
        if (out->camps[i].end_ms > hi)
            hi = out->camps[i].end_ms;
    }
    d = lo == INT64_MAX ? 0 : (double)lo;
    if (get_num(&p, root, "start_ms", "$", 0, 0, &d))
        goto out;
    out->start_ms = (int64_t)d;
    d = hi == INT64_MIN ? (double)out->start_ms : (double)hi;
    if (get_num(&p, root, "end_ms", "$", 0, 0, &d))
        goto out;
    out->end_ms = (int64_t)d;
    if (out->end_ms < out->start_ms) {
        fail(&p, root, "end_ms", "before start_ms");
        goto out;
    }
    d = 0;
    if (get_num(&p, root, "flows", "$", 0, 0, &d))
        goto out;
    out->flows = (uint64_t)d;
    d = 0;
    if (get_num(&p, root, "tuples", "$", 0, 0, &d))
        goto out;
    out->tuples = (uint64_t)d;
    if (rpt_truth_index(out) != 0) {
        snprintf(err, errsize, "%s: out of memory", name);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc != 0)
        rpt_truth_free(out);
    return rc;
}

void rpt_truth_free(struct rpt_truth *t)
{
    for (size_t i = 0; i < t->n_camps; i++) {
        free(t->camps[i].sources);
        free(t->camps[i].targets);
        free(t->camps[i].ports);
    }
    for (size_t i = 0; i < t->n_hn; i++) {
        free(t->hn[i].sources);
        free(t->hn[i].targets);
    }
    free(t->camps);
    free(t->hn);
    free(t->src_key);
    free(t->src_head);
    free(t->pair_camp);
    free(t->pair_next);
    free(t->dist);
    memset(t, 0, sizeof *t);
}
