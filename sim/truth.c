/*
 * truth.c - truth.json: the answer key of a simulated run (scenarios/
 * README.md, "truth.json"). Built with cJSON; addresses as dotted quads,
 * times as epoch ms and ISO-8601.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim_int.h"

static cJSON *ips(const uint32_t *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    char buf[20];
    for (size_t i = 0; a != NULL && i < n; i++) {
        sim_format_ip(v[i], buf, sizeof buf);
        cJSON *s = cJSON_CreateString(buf);
        if (s == NULL || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static int add_time(cJSON *o, const char *key, int64_t ms)
{
    char k[32], buf[40];
    snprintf(k, sizeof k, "%s_ms", key);
    scand_time_format(ms, buf, sizeof buf);
    return cJSON_AddNumberToObject(o, k, (double)ms) != NULL &&
           cJSON_AddStringToObject(o, key, buf) != NULL;
}

static const char *proto_name(int p)
{
    return p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : "any";
}

char *sim_truth_json(const sim_scenario *sc, const struct sim_result *res)
{
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    ok = ok && cJSON_AddStringToObject(root, "scenario", sc->name) != NULL;
    /* the seed in digits: cJSON prints numbers with 15 significant digits
     * when they compare equal within a relative epsilon, and a seed must
     * come back exact */
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)sc->seed);
    ok = ok && cJSON_AddRawToObject(root, "seed", seed) != NULL;
    ok = ok && add_time(root, "start", res->start_ms) && add_time(root, "end", res->end_ms);
    cJSON *topo = ok ? cJSON_AddObjectToObject(root, "topology") : NULL;
    ok = ok && topo != NULL;
    ok = ok && cJSON_AddNumberToObject(topo, "vnets", (double)sc->n_vnets) != NULL;
    ok = ok && cJSON_AddNumberToObject(topo, "subnets", (double)sc->n_subnets) != NULL;
    ok = ok && cJSON_AddNumberToObject(topo, "vms", (double)res->n_vms) != NULL;
    ok = ok && cJSON_AddNumberToObject(topo, "nics_logged", (double)res->n_nics_logged) != NULL;
    cJSON *logged = ok ? cJSON_AddArrayToObject(topo, "vnets_logged") : NULL;
    ok = ok && logged != NULL;
    for (size_t i = 0; ok && i < sc->n_vnets; i++) {
        size_t nl = 0, nv = 0;
        for (size_t k = 0; k < sc->n_vms; k++)
            if (sc->vms[k].vnet == (int)i) {
                nv++;
                nl += (size_t)sc->vms[k].logged;
            }
        cJSON *o = cJSON_CreateObject();
        ok = o != NULL && cJSON_AddItemToArray(logged, o);
        ok = ok && cJSON_AddStringToObject(o, "vnet", sc->vnets[i].name) != NULL;
        ok = ok && cJSON_AddNumberToObject(o, "vms", (double)nv) != NULL;
        ok = ok && cJSON_AddNumberToObject(o, "nics_logged", (double)nl) != NULL;
    }
    ok = ok && cJSON_AddNumberToObject(root, "flows", (double)res->flows) != NULL;
    ok = ok && cJSON_AddNumberToObject(root, "tuples", (double)res->tuples) != NULL;
    ok = ok && cJSON_AddNumberToObject(root, "blobs", (double)res->blobs) != NULL;
    cJSON *camps = ok ? cJSON_AddArrayToObject(root, "campaigns") : NULL;
    ok = ok && camps != NULL;
    for (size_t i = 0; ok && i < res->n_camps; i++) {
        const struct sim_camp_truth *c = &res->camps[i];
        cJSON *o = cJSON_CreateObject();
        ok = o != NULL && cJSON_AddItemToArray(camps, o);
        ok = ok && cJSON_AddNumberToObject(o, "label", (double)(i + 1)) != NULL;
        ok = ok && cJSON_AddStringToObject(o, "id", c->id) != NULL;
        ok = ok && cJSON_AddStringToObject(o, "kind", sim_kind_name(c->kind)) != NULL;
        ok = ok && cJSON_AddStringToObject(o, "protocol", proto_name(c->proto)) != NULL;
        cJSON *a = ok ? ips(c->sources, c->n_sources) : NULL;
        ok = ok && a != NULL && cJSON_AddItemToObject(o, "sources", a);
        a = ok ? ips(c->targets, c->n_targets) : NULL;
        ok = ok && a != NULL && cJSON_AddItemToObject(o, "targets", a);
        cJSON *p = ok ? cJSON_AddArrayToObject(o, "ports") : NULL;
        ok = ok && p != NULL;
        for (size_t k = 0; ok && k < c->n_ports; k++) {
            cJSON *n = cJSON_CreateNumber(c->ports[k]);
            ok = n != NULL && cJSON_AddItemToArray(p, n);
        }
        ok = ok && add_time(o, "start", c->start_ms) && add_time(o, "end", c->end_ms);
        ok = ok && cJSON_AddNumberToObject(o, "probes", (double)c->probes) != NULL;
        ok = ok && cJSON_AddNumberToObject(o, "probes_visible", (double)c->probes_visible);
        ok = ok && cJSON_AddNumberToObject(o, "targets_visible", (double)c->n_targets_visible);
        ok = ok && cJSON_AddNumberToObject(o, "ports_visible", (double)c->n_ports_visible);
        ok = ok && cJSON_AddBoolToObject(o, "visible", c->visible) != NULL;
        ok = ok && cJSON_AddStringToObject(o, "reason", c->reason) != NULL;
    }
    cJSON *hn = ok ? cJSON_AddArrayToObject(root, "hard_negatives") : NULL;
    ok = ok && hn != NULL;
    for (size_t i = 0; ok && i < res->n_hn; i++) {
        const struct sim_hard_negative *h = &res->hn[i];
        cJSON *o = cJSON_CreateObject();
        ok = o != NULL && cJSON_AddItemToArray(hn, o);
        ok = ok && cJSON_AddStringToObject(o, "class", h->cls) != NULL;
        ok = ok && cJSON_AddStringToObject(o, "what", h->what) != NULL;
        cJSON *a = ok ? ips(h->sources, h->n_sources) : NULL;
        ok = ok && a != NULL && cJSON_AddItemToObject(o, "sources", a);
        a = ok ? ips(h->targets, h->n_targets) : NULL;
        ok = ok && a != NULL && cJSON_AddItemToObject(o, "targets", a);
    }
    cJSON *tr = ok ? cJSON_AddArrayToObject(root, "traffic") : NULL;
    ok = ok && tr != NULL;
    for (size_t i = 0; ok && i < res->n_traffic; i++) {
        cJSON *o = cJSON_CreateObject();
        ok = o != NULL && cJSON_AddItemToArray(tr, o);
        ok = ok && cJSON_AddStringToObject(o, "name", res->traffic[i].name) != NULL;
        ok = ok && cJSON_AddNumberToObject(o, "flows", (double)res->traffic[i].flows) != NULL;
        ok = ok && cJSON_AddNumberToObject(o, "expected", res->traffic[i].expected) != NULL;
    }
    char *s = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    char *out = s != NULL ? malloc(strlen(s) + 2) : NULL;
    if (out != NULL) { /* the caller frees with free(), whatever cJSON's hooks are */
        strcpy(out, s);
        strcat(out, "\n");
    }
    cJSON_free(s);
    return out;
}
