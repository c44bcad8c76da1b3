/*
 * gen_campaign.c - scan campaigns and their ground truth (DESIGN.md
 * section 5; scanner behaviour from research/scan_anchors.md 4.1-4.5).
 *
 * A campaign's probe list is built once: (host, port) pairs by its shape
 * (horizontal: 1-3 ports x many hosts; vertical: many ports x a host;
 * block: ports x hosts), in sequential order (nmap -r; hosts inner for a
 * sweep) or shuffled (nmap's default port shuffle, masscan's and zmap's
 * permutations). A distributed campaign deals the list round-robin to its
 * sources, which probe in parallel. Each source sends one probe every
 * interval (nmap T0 300 s, T1 15 s, T2 0.4 s; T3-T5 as rates), with a
 * small jitter; probes past the scenario's end are never sent. Source
 * ports: nmap raw scans use one base port per scan (33000 + random%31000),
 * masscan one base (40000 + random%20000) with a range of 16, a connect
 * scan the OS's ephemeral ports.
 * Each probe's outcome follows the target (gen.c); the engine says where it
 * was logged, and truth.json counts sent and visible probes, the distinct
 * targets and ports of the visible ones, and why an unseen campaign is
 * unseen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_gen.h"

#define HOUR_MS 3600000
#define MAX_TARGETS SIM_MAX_TARGETS /* the parser holds campaigns to it */

struct probe {
    uint32_t dst;
    int32_t vm;
    uint16_t port;
    uint8_t seen; /* SIM_SEEN_* | SIM_LOST_* of the probe */
    uint8_t sent;
};

struct camp {
    const struct sim_campaign *c;
    sim_rng *r;
    struct probe *p;
    size_t n;
    uint32_t *src;
    int *src_vm;
    uint16_t *sport;
    size_t n_src;
    size_t *next; /* per source: its next probe's ordinal */
    double *jit;  /* per source start offset */
    int lost_bits;
};

struct sim_camps {
    const struct sim_scenario *sc;
    struct sim_result *res;
    struct camp *v;
    size_t n;
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return x < y ? -1 : x > y;
}

/* Sort and drop repeats; return the new count. */
static size_t uniq32(uint32_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_u32);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[k - 1])
            v[k++] = v[i];
    return k;
}

static size_t uniq16(uint16_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_u16);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[k - 1])
            v[k++] = v[i];
    return k;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The target hosts of c, in selector order then address order, without
 * repeats and without its sources src[0..ns) (a sweep of its own subnet
 * does not probe itself). */
static uint32_t *targets(const struct sim_scenario *sc, const struct sim_campaign *c,
                         int internet_src, const uint32_t *src, size_t ns, size_t *n)
{
    size_t cap = 256, k = 0;
    uint32_t *v = malloc(cap * sizeof *v);
    if (v == NULL)
        return NULL;
    for (size_t s = 0; s < c->n_to; s++) {
        const struct sim_sel *sel = &c->to[s];
        if (sel->kind == SEL_CIDR) {
            uint64_t size = (uint64_t)(~sel->cidr.mask) + 1;
            for (uint64_t a = 0; a < size && k < MAX_TARGETS; a++) {
                if (k == cap) {
                    uint32_t *nv = realloc(v, (cap *= 2) * sizeof *v);
                    if (nv == NULL) {
                        free(v);
                        return NULL;
                    }
                    v = nv;
                }
                v[k++] = sel->cidr.net + (uint32_t)a;
            }
            continue;
        }
        for (size_t i = 0; i < sc->n_vms; i++) {
            if (!sim_sel_match(sc, sel, (int)i, sc->vms[i].ip))
                continue;
            if (internet_src && sc->vms[i].pub == 0)
                continue; /* the internet sees only public IPs */
            if (k == cap) {
                uint32_t *nv = realloc(v, (cap *= 2) * sizeof *v);
                if (nv == NULL) {
                    free(v);
                    return NULL;
                }
                v = nv;
            }
            v[k++] = sc->vms[i].ip;
        }
    }
    /* drop repeats and the campaign's own sources, keep first-seen order:
     * sort (address, position) pairs, mark, compact */
    uint64_t *ord = malloc((k ? k : 1) * sizeof *ord);
    uint32_t *srt = malloc((ns ? ns : 1) * sizeof *srt);
    uint8_t *drop = calloc(k ? k : 1, 1);
    if (ord == NULL || srt == NULL || drop == NULL) {
        free(ord);
        free(srt);
        free(drop);
        free(v);
        return NULL;
    }
    for (size_t i = 0; i < k; i++)
        ord[i] = (uint64_t)v[i] << 32 | i;
    qsort(ord, k, sizeof *ord, cmp_u64);
    memcpy(srt, src, ns * sizeof *src);
    qsort(srt, ns, sizeof *srt, cmp_u32);
    for (size_t i = 0; i < k; i++) {
        uint32_t a = (uint32_t)(ord[i] >> 32);
        if ((i > 0 && (uint32_t)(ord[i - 1] >> 32) == a) ||
            bsearch(&a, srt, ns, sizeof *srt, cmp_u32) != NULL)
            drop[(uint32_t)ord[i]] = 1;
    }
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (!drop[i])
            v[m++] = v[i];
    free(ord);
    free(srt);
    free(drop);
    *n = m;
    return v;
}

static int setup_camp(const struct sim_scenario *sc, size_t ci, struct camp *cp,
                      struct sim_camp_truth *tr)
{
    const struct sim_campaign *c = &sc->camps[ci];
    cp->c = c;
    cp->r = sim_rng_new(sc->seed, 100000 + (uint32_t)ci);
    if (cp->r == NULL)
        return -1;
    sim_rng *r = cp->r;
    snprintf(tr->id, sizeof tr->id, "%s", c->id);
    tr->kind = c->kind;
    tr->proto = c->proto;
    /* sources */
    size_t ns = c->n_sources;
    cp->src = calloc(ns, sizeof *cp->src);
    cp->n_src = 0;
    cp->src_vm = calloc(ns, sizeof *cp->src_vm);
    cp->sport = calloc(ns, sizeof *cp->sport);
    cp->next = calloc(ns, sizeof *cp->next);
    cp->jit = calloc(ns, sizeof *cp->jit);
    if (!cp->src || !cp->src_vm || !cp->sport || !cp->next || !cp->jit)
        return -1;
    int internet = c->from.kind == SEL_INTERNET ||
                   (c->from.kind == SEL_CIDR && !sim_is_vnet_addr(sc, c->from.cidr.net));
    if (c->from.kind == SEL_INTERNET || c->from.kind == SEL_ONPREM || c->from.kind == SEL_CIDR) {
        for (size_t i = 0; i < ns; i++) {
            uint32_t a;
            if (c->from.kind == SEL_INTERNET) {
                a = sim_public_ip(sc, r);
            } else {
                const struct sim_cidr *cc = &c->from.cidr;
                if (c->from.kind == SEL_ONPREM)
                    cc = &sc->onprem[sim_rng_below(r, sc->n_onprem)];
                uint64_t size = (uint64_t)(~cc->mask) + 1;
                a = cc->net + (uint32_t)(size > 2 ? 1 + sim_rng_below(r, size - 2) : 0);
            }
            cp->src[i] = a;
            cp->src_vm[i] = sim_vm_at(sc, a);
        }
    } else {
        int *cand = malloc((sc->n_vms ? sc->n_vms : 1) * sizeof *cand);
        size_t nc = 0;
        if (cand == NULL)
            return -1;
        for (size_t i = 0; i < sc->n_vms; i++)
            if (sim_sel_match(sc, &c->from, (int)i, sc->vms[i].ip))
                cand[nc++] = (int)i;
        if (nc < ns)
            ns = nc; /* fewer VMs than sources: each VM is one source */
        sim_rng_shuffle(r, cand, nc, sizeof *cand);
        for (size_t i = 0; i < ns; i++) {
            cp->src_vm[i] = cand[i];
            cp->src[i] = sc->vms[cand[i]].ip;
        }
        free(cand);
    }
    cp->n_src = ns;
    for (size_t i = 0; i < ns; i++) {
        cp->sport[i] = c->tool == 1 ? (uint16_t)(40000 + sim_rng_below(r, 20000))
                                    : (uint16_t)(33000 + sim_rng_below(r, 31000));
        cp->jit[i] = ns > 1 ? sim_rng_uniform(r) * c->interval_ms : 0;
    }
    /* the probe list */
    size_t nt;
    uint32_t *tg = targets(sc, c, internet, cp->src, ns, &nt);
    if (tg == NULL)
        return -1;
    if (c->max_hosts && nt > c->max_hosts)
        nt = c->max_hosts;
    size_t np = c->ports.n;
    size_t n = nt * np;
    cp->p = calloc(n ? n : 1, sizeof *cp->p);
    if (cp->p == NULL) {
        free(tg);
        return -1;
    }
    int host_inner = c->shape != SHAPE_VERTICAL;
    for (size_t i = 0; i < n; i++) {
        size_t h = host_inner ? i % nt : i / np, q = host_inner ? i / nt : i % np;
        cp->p[i].dst = tg[h];
        cp->p[i].port = c->ports.v[q];
        cp->p[i].vm = sim_vm_at(sc, tg[h]);
    }
    free(tg);
    cp->n = n;
    if (!c->sequential && n > 1)
        sim_rng_shuffle(r, cp->p, n, sizeof *cp->p);
    /* truth: sources now, the rest as probes go out */
    tr->sources = malloc((ns ? ns : 1) * sizeof *tr->sources);
    if (tr->sources == NULL)
        return -1;
    if (ns > 0)
        memcpy(tr->sources, cp->src, ns * sizeof *cp->src);
    tr->n_sources = uniq32(tr->sources, ns);
    tr->start_ms = INT64_MAX;
    tr->end_ms = INT64_MIN;
    return 0;
}

struct sim_camps *sim_camps_new(const struct sim_scenario *sc, struct sim_result *res)
{
    struct sim_camps *cs = calloc(1, sizeof *cs);
    if (cs == NULL)
        return NULL;
    cs->sc = sc;
    cs->res = res;
    cs->v = calloc(sc->n_camps ? sc->n_camps : 1, sizeof *cs->v);
    res->camps = calloc(sc->n_camps ? sc->n_camps : 1, sizeof *res->camps);
    if (cs->v == NULL || res->camps == NULL) {
        sim_camps_free(cs);
        return NULL;
    }
    res->n_camps = sc->n_camps;
    cs->n = sc->n_camps;
    for (size_t i = 0; i < sc->n_camps; i++)
        if (setup_camp(sc, i, &cs->v[i], &res->camps[i]) != 0) {
            sim_camps_free(cs);
            return NULL;
        }
    return cs;
}

void sim_camps_free(struct sim_camps *cs)
{
    if (cs == NULL)
        return;
    for (size_t i = 0; i < cs->n && cs->v; i++) {
        struct camp *cp = &cs->v[i];
        sim_rng_free(cp->r);
        free(cp->p);
        free(cp->src);
        free(cp->src_vm);
        free(cp->sport);
        free(cp->next);
        free(cp->jit);
    }
    free(cs->v);
    free(cs);
}

int sim_camps_hour(struct sim_camps *cs, struct sim_gen *g, int64_t h0)
{
    int64_t h1 = h0 + HOUR_MS, end = sim_gen_end(g);
    for (size_t ci = 0; ci < cs->n; ci++) {
        struct camp *cp = &cs->v[ci];
        const struct sim_campaign *c = cp->c;
        struct sim_camp_truth *tr = &cs->res->camps[ci];
        for (size_t s = 0; s < cp->n_src; s++) {
            for (;;) {
                size_t k = cp->next[s];
                size_t idx = k * cp->n_src + s; /* round-robin deal */
                if (idx >= cp->n)
                    break;
                double jitter = c->interval_ms >= 1000 ? sim_rng_uniform(cp->r) * 500 : 0;
                int64_t t = c->start_ms + (int64_t)(cp->jit[s] + (double)k * c->interval_ms +
                                                    jitter);
                if (t >= h1 || t >= end)
                    break;
                cp->next[s]++;
                struct probe *p = &cp->p[idx];
                struct sim_flow f;
                memset(&f, 0, sizeof f);
                f.t0 = t;
                f.src = cp->src[s];
                f.src_vm = cp->src_vm[s];
                f.dst = p->dst;
                f.dst_vm = p->vm;
                f.sport = c->tool == 2   ? sim_ephemeral(cp->r)
                          : c->tool == 1 ? (uint16_t)(cp->sport[s] + (k & 15))
                                         : cp->sport[s];
                f.dport = p->port;
                f.proto = (uint8_t)c->proto;
                f.outcome = OC_TARGET;
                f.probe = 1;
                f.retries = (uint8_t)c->retries;
                f.campaign = (uint32_t)ci + 1;
                int seen = sim_emit(g, &f);
                if (seen < 0)
                    return -1;
                p->sent = 1;
                p->seen = (uint8_t)seen;
                cp->lost_bits |= seen & ~(SIM_SEEN_SRC | SIM_SEEN_DST);
                tr->probes++;
                if (seen & (SIM_SEEN_SRC | SIM_SEEN_DST))
                    tr->probes_visible++;
                if (t < tr->start_ms)
                    tr->start_ms = t;
                if (t > tr->end_ms)
                    tr->end_ms = t;
            }
        }
    }
    return 0;
}

int sim_camps_finish(struct sim_camps *cs)
{
    const struct sim_scenario *sc = cs->sc;
    for (size_t ci = 0; ci < cs->n; ci++) {
        struct camp *cp = &cs->v[ci];
        struct sim_camp_truth *tr = &cs->res->camps[ci];
        size_t n = cp->n ? cp->n : 1;
        uint32_t *t = malloc(n * sizeof *t), *tv = malloc(n * sizeof *tv);
        uint16_t *p = malloc(n * sizeof *p), *pv = malloc(n * sizeof *pv);
        if (!t || !tv || !p || !pv) {
            free(t);
            free(tv);
            free(p);
            free(pv);
            return -1;
        }
        size_t a = 0, b = 0;
        for (size_t i = 0; i < cp->n; i++) {
            if (!cp->p[i].sent)
                continue;
            t[a] = cp->p[i].dst;
            p[a++] = cp->p[i].port;
            if (cp->p[i].seen & (SIM_SEEN_SRC | SIM_SEEN_DST)) {
                tv[b] = cp->p[i].dst;
                pv[b++] = cp->p[i].port;
            }
        }
        tr->n_targets = uniq32(t, a);
        tr->targets = t;
        tr->n_ports = uniq16(p, a);
        tr->ports = p;
        tr->n_targets_visible = uniq32(tv, b);
        tr->n_ports_visible = uniq16(pv, b);
        free(tv);
        free(pv);
        if (tr->probes == 0) {
            tr->start_ms = tr->end_ms = cp->c->start_ms;
            snprintf(tr->reason, sizeof tr->reason, "no probes: no targets, or it starts after "
                                                    "the scenario ends");
        }
        tr->visible = tr->probes_visible > 0;
        if (tr->visible || tr->probes == 0)
            continue;
        int lb = cp->lost_bits;
        if (lb & SIM_LOST_ICMP)
            snprintf(tr->reason, sizeof tr->reason,
                     "ICMP: Azure VNet flow logs do not record it");
        else if (lb == (SIM_LOST_FIREWALL | SIM_LOST_UNLOGGED))
            snprintf(tr->reason, sizeof tr->reason,
                     "the hub firewall drops every probe and the source NIC is not logged");
        else if (lb & SIM_LOST_NOROUTE && !(lb & ~(SIM_LOST_NOROUTE | SIM_LOST_UNLOGGED)))
            snprintf(tr->reason, sizeof tr->reason,
                     "no route to the targets and the source NIC is not logged");
        else
            snprintf(tr->reason, sizeof tr->reason,
                     "flow logging is off on the source and on every target NIC");
        (void)sc;
    }
    return 0;
}
