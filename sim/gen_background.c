/*
 * gen_background.c - benign traffic and the hard negatives (DESIGN.md
 * section 5), one simulated hour at a time.
 *
 * Benign traffic: each source of a traffic entry opens Poisson(rate x
 * diurnal(hour)) flows in the hour at uniform times (a Poisson process),
 * each to a uniformly chosen destination and port; sizes and durations come
 * from the entry's GSL distributions; a failed flow is refused (RST) or
 * unanswered, half and half. Internet and on-premises sources are one
 * source each: rate is their total.
 *
 * Hard negatives, the benign sources that trip scan rules:
 *  lb_probe        168.63.129.16 probing every load-balancer backend on its
 *                  probe port every interval_s (research/azure_formats.md 3.4)
 *  platform        every VM to WireServer 168.63.129.16:80 and IMDS
 *                  169.254.169.254:80 (research: AD:nw-faq)
 *  monitoring      the monitor VMs polling every VM on a few ports, all VMs
 *                  in one burst per cycle: a horizontal sweep every cycle
 *  backup          the backup VMs fanning out to every VM on one port nightly
 *  ad              every VM logging on to a domain controller: Kerberos 88,
 *                  LDAP 389, SMB 445, RPC 135 and a dynamic RPC port
 *                  (49152-65535) within two seconds: a vertical pattern
 *  dns             every VM to the hub resolvers, UDP 53 (TCP 53 sometimes)
 *  vuln_scanner    the authorised scanner sweeping every VM's top ports daily
 *  internet_noise  internet scanners probing public IPs, high random ports
 *                  with a fixed source port per scanner, mostly NSG-denied
 * Each class draws from its own random stream, so turning one off or
 * changing its rate shifts no other class.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_gen.h"

#define HOUR_MS 3600000
#define PLATFORM_IP 0xa83f8110u /* 168.63.129.16 */
#define IMDS_IP 0xa9fea9feu     /* 169.254.169.254 */
#define NOISE_POOL 200
#define CLIENT_POOL 5000

/* Stream ids: traffic entries at 1000 + i, classes below, campaigns (in
 * gen_campaign.c) at 100000 + i. */
enum { ST_LB = 10, ST_PLATFORM, ST_MON, ST_BACKUP, ST_AD, ST_DNS, ST_VULN, ST_NOISE, ST_CLIENTS,
       ST_POOLS };

struct endpoints {
    int *vm; /* VM indices */
    size_t n;
    int external; /* internet or onprem: one source */
    int kind;     /* SEL_* */
    struct sim_cidr cidr;
};

struct sim_bg {
    const struct sim_scenario *sc;
    struct sim_result *res;
    sim_rng **tr; /* per traffic entry */
    struct endpoints *from, *to;
    sim_rng *r[ST_POOLS + 1];
    int *by_role[4]; /* monitor, backup, dc, dns, vulnscan VMs */
    size_t n_role[4];
    int *vuln;
    size_t n_vuln;
    int *pub; /* VMs with public IPs */
    size_t n_pub;
    int *lb; /* LB backends */
    size_t n_lb;
    uint32_t noise_ip[NOISE_POOL];
    uint16_t noise_sport[NOISE_POOL];
    uint32_t *clients;
    double lb_phase_ms;
};

static int role_index(const struct sim_scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->n_roles; i++)
        if (strcmp(sc->roles[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int *vms_where(const struct sim_scenario *sc, const struct sim_sel *s, size_t *n)
{
    int *v = malloc((sc->n_vms ? sc->n_vms : 1) * sizeof *v);
    *n = 0;
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < sc->n_vms; i++)
        if (sim_sel_match(sc, s, (int)i, sc->vms[i].ip))
            v[(*n)++] = (int)i;
    return v;
}

/* A public unicast address outside the estate and the special ranges. The
 * parser keeps the estate to /8s or narrower, but 256 of them could still
 * cover everything: after 4096 tries we settle for TEST-NET-3. */
uint32_t sim_public_ip(const struct sim_scenario *sc, sim_rng *r)
{
    for (int tries = 0; tries < 4096; tries++) {
        uint32_t a = (uint32_t)sim_rng_below(r, 0xffffffffULL);
        uint8_t o = (uint8_t)(a >> 24), o2 = (uint8_t)(a >> 16);
        if (o == 0 || o == 10 || o == 127 || o >= 224 || (o == 169 && o2 == 254) ||
            (o == 172 && (o2 & 0xf0) == 16) || (o == 192 && o2 == 168) ||
            (o == 100 && (o2 & 0xc0) == 64) || (o == 20 && o2 == 238) || sim_is_vnet_addr(sc, a))
            continue;
        return a;
    }
    return 0xcb007100u | (uint32_t)sim_rng_below(r, 256); /* 203.0.113.0/24 */
}

static uint32_t onprem_ip(const struct sim_scenario *sc, sim_rng *r)
{
    const struct sim_cidr *c = &sc->onprem[sim_rng_below(r, sc->n_onprem)];
    uint64_t size = (uint64_t)(~c->mask) + 1;
    return c->net + (uint32_t)(size > 2 ? 1 + sim_rng_below(r, size - 2) : 0);
}

static int hn_add(struct sim_result *res, const char *cls, const char *what, const uint32_t *src,
                  size_t ns, const uint32_t *dst, size_t nd)
{
    struct sim_hard_negative *h = realloc(res->hn, (res->n_hn + 1) * sizeof *h);
    if (h == NULL)
        return -1;
    res->hn = h;
    struct sim_hard_negative *x = &h[res->n_hn++];
    memset(x, 0, sizeof *x);
    x->cls = cls;
    snprintf(x->what, sizeof x->what, "%s", what);
    x->sources = malloc((ns ? ns : 1) * sizeof *x->sources);
    x->targets = malloc((nd ? nd : 1) * sizeof *x->targets);
    if (x->sources == NULL || x->targets == NULL)
        return -1;
    memcpy(x->sources, src, ns * sizeof *src);
    memcpy(x->targets, dst, nd * sizeof *dst);
    x->n_sources = ns;
    x->n_targets = nd;
    return 0;
}

static int hn_vms(struct sim_bg *b, const char *cls, const char *what, const int *src, size_t ns,
                  const int *dst, size_t nd)
{
    uint32_t *s = malloc((ns ? ns : 1) * sizeof *s), *d = malloc((nd ? nd : 1) * sizeof *d);
    int rc = -1;
    if (s != NULL && d != NULL) {
        for (size_t i = 0; i < ns; i++)
            s[i] = b->sc->vms[src[i]].ip;
        for (size_t i = 0; i < nd; i++)
            d[i] = b->sc->vms[dst[i]].ip;
        rc = hn_add(b->res, cls, what, s, ns, d, nd);
    }
    free(s);
    free(d);
    return rc;
}

struct sim_bg *sim_bg_new(const struct sim_scenario *sc, struct sim_result *res)
{
    struct sim_bg *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->sc = sc;
    b->res = res;
    size_t nt = sc->n_traffic;
    b->tr = calloc(nt ? nt : 1, sizeof *b->tr);
    b->from = calloc(nt ? nt : 1, sizeof *b->from);
    b->to = calloc(nt ? nt : 1, sizeof *b->to);
    res->traffic = calloc(nt ? nt : 1, sizeof *res->traffic);
    if (b->tr == NULL || b->from == NULL || b->to == NULL || res->traffic == NULL)
        goto fail;
    res->n_traffic = nt;
    for (size_t i = 0; i < nt; i++) {
        const struct sim_traffic *t = &sc->traffic[i];
        snprintf(res->traffic[i].name, sizeof res->traffic[i].name, "%s", t->name);
        b->tr[i] = sim_rng_new(sc->seed, 1000 + (uint32_t)i);
        if (b->tr[i] == NULL)
            goto fail;
        b->from[i].kind = t->from.kind;
        b->from[i].external = t->from.kind == SEL_INTERNET || t->from.kind == SEL_ONPREM;
        if (!b->from[i].external && (b->from[i].vm = vms_where(sc, &t->from, &b->from[i].n)) ==
                                        NULL)
            goto fail;
        b->to[i].kind = t->to.kind;
        b->to[i].cidr = t->to.cidr;
        if (t->to.kind != SEL_CIDR && (b->to[i].vm = vms_where(sc, &t->to, &b->to[i].n)) == NULL)
            goto fail;
    }
    for (int k = ST_LB; k <= ST_POOLS; k++)
        if ((b->r[k - ST_LB] = sim_rng_new(sc->seed, (uint32_t)k)) == NULL)
            goto fail;
    static const char *const roles[4] = {"monitor", "backup", "dc", "dns"};
    for (int k = 0; k < 4; k++) {
        struct sim_sel s = {SEL_ROLE, role_index(sc, roles[k]), {0, 0, 0}};
        if ((b->by_role[k] = vms_where(sc, &s, &b->n_role[k])) == NULL)
            goto fail;
    }
    struct sim_sel vs = {SEL_ROLE, role_index(sc, "vulnscan"), {0, 0, 0}};
    if ((b->vuln = vms_where(sc, &vs, &b->n_vuln)) == NULL)
        goto fail;
    b->pub = malloc((sc->n_vms ? sc->n_vms : 1) * sizeof *b->pub);
    b->lb = malloc((sc->n_vms ? sc->n_vms : 1) * sizeof *b->lb);
    b->clients = malloc(CLIENT_POOL * sizeof *b->clients);
    if (b->pub == NULL || b->lb == NULL || b->clients == NULL)
        goto fail;
    for (size_t i = 0; i < sc->n_vms; i++) {
        if (sc->vms[i].pub)
            b->pub[b->n_pub++] = (int)i;
        if (sc->vms[i].lb_port)
            b->lb[b->n_lb++] = (int)i;
    }
    sim_rng *pools = b->r[ST_POOLS - ST_LB];
    for (int k = 0; k < NOISE_POOL; k++) {
        b->noise_ip[k] = sim_public_ip(sc, pools);
        b->noise_sport[k] = (uint16_t)(1024 + sim_rng_below(pools, 64511));
    }
    for (int k = 0; k < CLIENT_POOL; k++)
        b->clients[k] = sim_public_ip(sc, pools);

    /* the hard-negative list of truth.json */
    uint32_t plat = PLATFORM_IP, both[2] = {PLATFORM_IP, IMDS_IP};
    int *all = malloc((sc->n_vms ? sc->n_vms : 1) * sizeof *all);
    if (all == NULL)
        goto fail;
    for (size_t i = 0; i < sc->n_vms; i++)
        all[i] = (int)i;
    int rc = 0;
    if (sc->lb_interval_s > 0 && b->n_lb > 0) {
        uint32_t *d = malloc(b->n_lb * sizeof *d);
        rc |= d == NULL;
        for (size_t i = 0; d && i < b->n_lb; i++)
            d[i] = sc->vms[b->lb[i]].ip;
        if (d != NULL)
            rc |= hn_add(res, "lb_probe", "Azure Load Balancer health probes from 168.63.129.16",
                         &plat, 1, d, b->n_lb);
        free(d);
    }
    if (sc->platform_interval_s > 0) {
        uint32_t *s = malloc((sc->n_vms ? sc->n_vms : 1) * sizeof *s);
        rc |= s == NULL;
        for (size_t i = 0; s && i < sc->n_vms; i++)
            s[i] = sc->vms[i].ip;
        if (s != NULL)
            rc |= hn_add(res, "platform", "every VM to WireServer and IMDS", s, sc->n_vms, both,
                         2);
        free(s);
    }
    if (sc->mon_interval_s > 0)
        rc |= hn_vms(b, "monitoring", "monitoring server polling every VM", b->by_role[0],
                     b->n_role[0], all, sc->n_vms);
    if (sc->backup_hour >= 0)
        rc |= hn_vms(b, "backup", "backup server fanning out on one port", b->by_role[1],
                     b->n_role[1], all, sc->n_vms);
    if (sc->ad_logons > 0)
        rc |= hn_vms(b, "ad", "AD clients to domain controllers on many ports", all, sc->n_vms,
                     b->by_role[2], b->n_role[2]);
    if (sc->dns_rate > 0)
        rc |= hn_vms(b, "dns", "DNS to the hub resolvers", all, sc->n_vms, b->by_role[3],
                     b->n_role[3]);
    if (sc->vuln_hour >= 0)
        rc |= hn_vms(b, "vuln_scanner", "authorised vulnerability scanner", b->vuln, b->n_vuln,
                     all, sc->n_vms);
    if (sc->noise_rate > 0 && b->n_pub > 0) {
        uint32_t *d = malloc(b->n_pub * sizeof *d);
        rc |= d == NULL;
        for (size_t i = 0; d && i < b->n_pub; i++)
            d[i] = sc->vms[b->pub[i]].ip;
        if (d != NULL)
            rc |= hn_add(res, "internet_noise", "internet background scanning of public IPs",
                         b->noise_ip, NOISE_POOL, d, b->n_pub);
        free(d);
    }
    free(all);
    if (rc != 0)
        goto fail;
    b->lb_phase_ms = sim_rng_uniform(b->r[0]) * sc->lb_interval_s * 1000;
    return b;
fail:
    sim_bg_free(b);
    return NULL;
}

void sim_bg_free(struct sim_bg *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->sc->n_traffic; i++) {
        if (b->tr)
            sim_rng_free(b->tr[i]);
        if (b->from)
            free(b->from[i].vm);
        if (b->to)
            free(b->to[i].vm);
    }
    free(b->tr);
    free(b->from);
    free(b->to);
    for (int k = 0; k <= ST_POOLS - ST_LB; k++)
        sim_rng_free(b->r[k]);
    for (int k = 0; k < 4; k++)
        free(b->by_role[k]);
    free(b->vuln);
    free(b->pub);
    free(b->lb);
    free(b->clients);
    free(b);
}

/* A draw from d, clamped to [0, 1e10] so heavy tails stay finite (and a
 * byte count stays a byte count). */
static double draw(sim_rng *r, const struct sim_dist *d)
{
    double x;
    switch (d->kind) {
    case 0:
        x = sim_rng_lognormal(r, log(d->a), d->b);
        break;
    case 1:
        x = sim_rng_exponential(r, d->a);
        break;
    default: /* Pareto: scale / U^(1/shape) */
        x = d->b / pow(1.0 - sim_rng_uniform(r), 1.0 / d->a);
    }
    return x >= 0 && x <= 1e10 ? x : x > 1e10 ? 1e10 : 0;
}

static int hour_of_day(int64_t h0)
{
    return (int)(((h0 / HOUR_MS) % 24 + 24) % 24);
}

static int one_flow(struct sim_gen *g, int64_t t, int svm, uint32_t src, int dvm, uint32_t dst,
                    uint16_t sport, uint16_t dport, int proto, int outcome, double dur_ms,
                    uint64_t bout, uint64_t bin)
{
    struct sim_flow f;
    memset(&f, 0, sizeof f);
    f.t0 = t;
    f.src = src;
    f.dst = dst;
    f.src_vm = svm;
    f.dst_vm = dvm;
    f.sport = sport;
    f.dport = dport;
    f.proto = (uint8_t)proto;
    f.outcome = (uint8_t)outcome;
    f.dur_ms = dur_ms;
    f.bytes_out = bout;
    f.bytes_in = bin;
    f.retries = outcome == OC_NOANSWER ? 2 : 0;
    return sim_emit(g, &f) < 0 ? -1 : 0;
}

static int traffic_hour(struct sim_bg *b, struct sim_gen *g, size_t ti, int64_t h0)
{
    const struct sim_scenario *sc = b->sc;
    const struct sim_traffic *t = &sc->traffic[ti];
    sim_rng *r = b->tr[ti];
    struct endpoints *fr = &b->from[ti], *to = &b->to[ti];
    double mean = t->rate * t->diurnal[hour_of_day(h0)];
    size_t nsrc = fr->external ? 1 : fr->n;
    b->res->traffic[ti].expected += mean * (double)nsrc;
    for (size_t s = 0; s < nsrc; s++) {
        unsigned n = sim_rng_poisson(r, mean);
        for (unsigned k = 0; k < n; k++) {
            int64_t when = h0 + (int64_t)(sim_rng_uniform(r) * HOUR_MS);
            int svm = fr->external ? -1 : fr->vm[s];
            uint32_t src = svm >= 0              ? sc->vms[svm].ip
                           : fr->kind == SEL_ONPREM ? onprem_ip(sc, r)
                                                    : b->clients[sim_rng_below(r, CLIENT_POOL)];
            int dvm;
            uint32_t dst;
            if (to->kind == SEL_CIDR) {
                uint64_t size = (uint64_t)(~to->cidr.mask) + 1;
                dst = to->cidr.net + (uint32_t)sim_rng_below(r, size);
                dvm = sim_vm_at(sc, dst);
            } else {
                if (to->n == 0 || (to->n == 1 && to->vm[0] == svm))
                    break;
                do
                    dvm = to->vm[sim_rng_below(r, to->n)];
                while (dvm == svm);
                dst = sc->vms[dvm].ip;
            }
            uint16_t dport = t->ports.v[sim_rng_below(r, t->ports.n)];
            double u = sim_rng_uniform(r);
            int oc = u < t->success ? OC_OPEN : u < t->success + (1 - t->success) / 2 ? OC_CLOSED
                                                                                     : OC_NOANSWER;
            double dur = draw(r, &t->duration_s) * 1000.0;
            uint64_t bo = (uint64_t)draw(r, &t->bytes_out), bi = (uint64_t)draw(r, &t->bytes_in);
            if (one_flow(g, when, svm, src, dvm, dst, sim_ephemeral(r), dport, t->proto, oc, dur,
                         bo, bi) != 0)
                return -1;
            b->res->traffic[ti].flows++;
        }
    }
    return 0;
}

/* 168.63.129.16 to every backend every interval (TCP connect and close). */
static int lb_hour(struct sim_bg *b, struct sim_gen *g, int64_t h0)
{
    const struct sim_scenario *sc = b->sc;
    sim_rng *r = b->r[ST_LB - ST_LB];
    double iv = sc->lb_interval_s * 1000;
    for (size_t i = 0; i < b->n_lb; i++) {
        const struct sim_vm *vm = &sc->vms[b->lb[i]];
        double phase = fmod(b->lb_phase_ms + 977.0 * (double)i, iv);
        double first = ceil(((double)(h0 - sc->start_ms) - phase) / iv) * iv + phase;
        for (double t = first; t < (double)(h0 - sc->start_ms) + HOUR_MS; t += iv) {
            if (one_flow(g, sc->start_ms + (int64_t)t, -1, PLATFORM_IP, b->lb[i], vm->ip,
                         sim_ephemeral(r), vm->lb_port, SIM_PROTO_TCP, OC_OPEN, 3, 0, 0) != 0)
                return -1;
        }
    }
    return 0;
}

/* Periodic flows from each VM (or to each VM) at a per-VM phase. */
static int platform_hour(struct sim_bg *b, struct sim_gen *g, int64_t h0)
{
    const struct sim_scenario *sc = b->sc;
    sim_rng *r = b->r[ST_PLATFORM - ST_LB];
    double iv = sc->platform_interval_s * 1000;
    for (size_t i = 0; i < sc->n_vms; i++) {
        for (int k = 0; k < 2; k++) {
            double t = sim_rng_uniform(r) * iv;
            for (; t < HOUR_MS; t += iv) {
                if (one_flow(g, h0 + (int64_t)t, (int)i, sc->vms[i].ip, -1,
                             k ? IMDS_IP : PLATFORM_IP, sim_ephemeral(r), 80, SIM_PROTO_TCP,
                             OC_OPEN, 20 + sim_rng_uniform(r) * 200, 300 + sim_rng_below(r, 400),
                             800 + sim_rng_below(r, 3000)) != 0)
                    return -1;
                }
        }
    }
    return 0;
}

/* Every monitor polls every VM on each monitoring port, one burst per cycle. */
static int monitoring_hour(struct sim_bg *b, struct sim_gen *g, int64_t h0)
{
    const struct sim_scenario *sc = b->sc;
    sim_rng *r = b->r[ST_MON - ST_LB];
    double iv = sc->mon_interval_s * 1000;
    for (size_t m = 0; m < b->n_role[0]; m++) {
        int mvm = b->by_role[0][m];
        for (double c = fmod(7919.0 * (double)m, iv); c < HOUR_MS; c += iv)
            for (size_t i = 0; i < sc->n_vms; i++) {
                if ((int)i == mvm)
                    continue;
                for (size_t p = 0; p < sc->mon_ports.n; p++) {
                    int64_t t = h0 + (int64_t)c + (int64_t)(i * 40 + p * 7);
                    if (one_flow(g, t, mvm, sc->vms[mvm].ip, (int)i, sc->vms[i].ip,
                                 sim_ephemeral(r), sc->mon_ports.v[p], SIM_PROTO_TCP, OC_OPEN,
                                 30 + sim_rng_uniform(r) * 300, 200 + sim_rng_below(r, 300),
                                 1000 + sim_rng_below(r, 20000)) != 0)
                        return -1;
                        }
            }
    }
    return 0;
}

static int backup_hour(struct sim_bg *b, struct sim_gen *g, int64_t h0)
{
    const struct sim_scenario *sc = b->sc;
    if (hour_of_day(h0) != sc->backup_hour)
        return 0;
    sim_rng *r = b->r[ST_BACKUP - ST_LB];
    for (size_t m = 0; m < b->n_role[1]; m++) {
        int bvm = b->by_role[1][m];
        for (size_t i = 0; i < sc->n_vms; i++) {
            if ((int)i == bvm)
                continue;
            /* one after another across the hour, whatever the estate's size */
            int64_t t = h0 + (int64_t)((double)i * 3300000.0 / (double)sc->n_vms) +
                        (int64_t)sim_rng_below(r, 5000);
            double dur = 600000 + sim_rng_uniform(r) * 3000000; /* 10-60 min */
            if (one_flow(g, t, bvm, sc->vms[bvm].ip, (int)i, sc->vms[i].ip, sim_ephemeral(r),
                         sc->backup_port, SIM_PROTO_TCP, OC_OPEN, dur, 50000,
                         (uint64_t)sim_rng_lognormal(r, log(2e9), 1.0)) != 0)
                return -1;
        }
    }
    return 0;
}

static int ad_hour(struct sim_bg *b, struct sim_gen *g, int64_t h0)
{
    const struct sim_scenario *sc = b->sc;
    if (b->n_role[2] == 0)
        return 0;
    sim_rng *r = b->r[ST_AD - ST_LB];
    static const uint16_t ports[] = {88, 389, 445, 135};
    int dc_role = role_index(sc, "dc");
    for (size_t i = 0; i < sc->n_vms; i++) {
        if (sc->vms[i].role == dc_role)
            continue;
        unsigned n = sim_rng_poisson(r, sc->ad_logons);
        for (unsigned k = 0; k < n; k++) {
            int dc = b->by_role[2][sim_rng_below(r, b->n_role[2])];
            int64_t t = h0 + (int64_t)(sim_rng_uniform(r) * HOUR_MS);
            for (size_t p = 0; p <= sizeof ports / sizeof ports[0]; p++) {
                uint16_t port = p < 4 ? ports[p] : (uint16_t)(49152 + sim_rng_below(r, 16384));
                t += 50 + (int64_t)sim_rng_below(r, 400);
                if (one_flow(g, t, (int)i, sc->vms[i].ip, dc, sc->vms[dc].ip, sim_ephemeral(r),
                             port, SIM_PROTO_TCP, OC_OPEN, 50 + sim_rng_uniform(r) * 2000,
                             500 + sim_rng_below(r, 3000), 1000 + sim_rng_below(r, 8000)) != 0)
                    return -1;
                }
        }
    }
    return 0;
}

static int dns_hour(struct sim_bg *b, struct sim_gen *g, int64_t h0)
{
    const struct sim_scenario *sc = b->sc;
    if (b->n_role[3] == 0)
        return 0;
    sim_rng *r = b->r[ST_DNS - ST_LB];
    int dns_role = role_index(sc, "dns");
    for (size_t i = 0; i < sc->n_vms; i++) {
        if (sc->vms[i].role == dns_role)
            continue;
        unsigned n = sim_rng_poisson(r, sc->dns_rate);
        for (unsigned k = 0; k < n; k++) {
            int d = b->by_role[3][sim_rng_below(r, b->n_role[3])];
            int tcp = sim_rng_uniform(r) < 0.05;
            if (one_flow(g, h0 + (int64_t)(sim_rng_uniform(r) * HOUR_MS), (int)i, sc->vms[i].ip,
                         d, sc->vms[d].ip, sim_ephemeral(r), 53,
                         tcp ? SIM_PROTO_TCP : SIM_PROTO_UDP, OC_OPEN, 1 + sim_rng_uniform(r) * 30,
                         40 + sim_rng_below(r, 60), 80 + sim_rng_below(r, 400)) != 0)
                return -1;
        }
    }
    return 0;
}

static int vuln_hour(struct sim_bg *b, struct sim_gen *g, int64_t h0)
{
    const struct sim_scenario *sc = b->sc;
    if (hour_of_day(h0) != sc->vuln_hour)
        return 0;
    sim_rng *r = b->r[ST_VULN - ST_LB];
    /* 50 probes/s, slower only if the scan would not fit in its hour */
    double total = (double)sc->n_vms * (double)sc->vuln_ports.n, step = 20;
    if (total * step > 3400000)
        step = 3400000 / total;
    for (size_t m = 0; m < b->n_vuln; m++) {
        int s = b->vuln[m];
        double tt = (double)(h0 + 60000);
        for (size_t i = 0; i < sc->n_vms; i++) {
            if ((int)i == s)
                continue;
            for (size_t p = 0; p < sc->vuln_ports.n; p++) {
                tt += step; /* host by host */
                struct sim_flow f;
                memset(&f, 0, sizeof f);
                f.t0 = (int64_t)tt;
                f.src = sc->vms[s].ip;
                f.dst = sc->vms[i].ip;
                f.src_vm = s;
                f.dst_vm = (int)i;
                f.sport = sim_ephemeral(r);
                f.dport = sc->vuln_ports.v[p];
                f.proto = SIM_PROTO_TCP;
                f.outcome = OC_TARGET;
                f.probe = 1;
                f.retries = 1;
                if (sim_emit(g, &f) < 0)
                    return -1;
                }
        }
    }
    return 0;
}

static int noise_hour(struct sim_bg *b, struct sim_gen *g, int64_t h0)
{
    const struct sim_scenario *sc = b->sc;
    sim_rng *r = b->r[ST_NOISE - ST_LB];
    static const uint16_t popular[] = {22, 23, 80, 443, 445, 3389, 1433, 5900, 8080, 6379};
    for (size_t i = 0; i < b->n_pub; i++) {
        unsigned n = sim_rng_poisson(r, sc->noise_rate);
        for (unsigned k = 0; k < n; k++) {
            size_t s = sim_rng_below(r, NOISE_POOL);
            uint16_t port = sim_rng_uniform(r) < 0.3 ? popular[sim_rng_below(r, 10)]
                                                     : (uint16_t)(1024 + sim_rng_below(r, 64511));
            struct sim_flow f;
            memset(&f, 0, sizeof f);
            f.t0 = h0 + (int64_t)(sim_rng_uniform(r) * HOUR_MS);
            f.src = b->noise_ip[s];
            f.dst = sc->vms[b->pub[i]].ip;
            f.src_vm = -1;
            f.dst_vm = b->pub[i];
            f.sport = b->noise_sport[s];
            f.dport = port;
            f.proto = SIM_PROTO_TCP;
            f.outcome = OC_TARGET;
            f.probe = 1;
            f.retries = (uint8_t)sim_rng_below(r, 2);
            if (sim_emit(g, &f) < 0)
                return -1;
        }
    }
    return 0;
}

/* Internet clients of the public web VMs (ports 443 and 80 they listen on). */
static int clients_hour(struct sim_bg *b, struct sim_gen *g, int64_t h0)
{
    const struct sim_scenario *sc = b->sc;
    sim_rng *r = b->r[ST_CLIENTS - ST_LB];
    size_t nweb = 0;
    for (size_t i = 0; i < b->n_pub; i++)
        nweb += sim_ports_has(&sc->vms[b->pub[i]].listen, 443);
    if (nweb == 0)
        return 0;
    static const double office[24] = {0.5, 0.4, 0.4, 0.4, 0.4, 0.5, 0.7, 1.0, 1.3, 1.4, 1.5, 1.5,
                                      1.5, 1.5, 1.5, 1.4, 1.4, 1.3, 1.2, 1.1, 1.0, 0.9, 0.7, 0.6};
    unsigned n = sim_rng_poisson(r, sc->inet_clients * office[hour_of_day(h0)]);
    for (unsigned k = 0; k < n; k++) {
        size_t w = sim_rng_below(r, b->n_pub);
        int vm = b->pub[w];
        if (!sim_ports_has(&sc->vms[vm].listen, 443))
            continue;
        if (one_flow(g, h0 + (int64_t)(sim_rng_uniform(r) * HOUR_MS), -1,
                     b->clients[sim_rng_below(r, CLIENT_POOL)], vm, sc->vms[vm].ip,
                     sim_ephemeral(r), sim_rng_uniform(r) < 0.9 ? 443 : 80, SIM_PROTO_TCP,
                     OC_OPEN, sim_rng_exponential(r, 8000), 800 + sim_rng_below(r, 4000),
                     (uint64_t)sim_rng_lognormal(r, log(30000), 1.5)) != 0)
            return -1;
    }
    return 0;
}

int sim_bg_hour(struct sim_bg *b, struct sim_gen *g, int64_t h0)
{
    const struct sim_scenario *sc = b->sc;
    for (size_t i = 0; i < sc->n_traffic; i++)
        if (traffic_hour(b, g, i, h0) != 0)
            return -1;
    if ((sc->lb_interval_s > 0 && lb_hour(b, g, h0) != 0) ||
        (sc->platform_interval_s > 0 && platform_hour(b, g, h0) != 0) ||
        (sc->mon_interval_s > 0 && monitoring_hour(b, g, h0) != 0) ||
        (sc->backup_hour >= 0 && backup_hour(b, g, h0) != 0) ||
        (sc->ad_logons > 0 && ad_hour(b, g, h0) != 0) ||
        (sc->dns_rate > 0 && dns_hour(b, g, h0) != 0) ||
        (sc->vuln_hour >= 0 && vuln_hour(b, g, h0) != 0) ||
        (sc->noise_rate > 0 && noise_hour(b, g, h0) != 0) ||
        (sc->inet_clients > 0 && clients_hour(b, g, h0) != 0))
        return -1;
    return 0;
}
