/*
 * test_sim.c - the scenario engine: determinism, truth against the blobs
 * read back with the reader for every shipped scenario, probe outcomes
 * (open, closed, filtered, NSG-denied, firewall-dropped), visibility rules,
 * benign rates against their configured means, and a table of invalid
 * scenarios with their exact messages.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "sim.h"
#include "tests.h"

#define SCEN_DIR "../../scenarios/"

static char *slurp(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

static sim_scenario *load(const char *path)
{
    size_t len;
    char *text = slurp(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    sim_scenario *sc;
    char err[SIM_ERRBUF_SIZE] = "";
    int rc = sim_scenario_parse(path, text, len, &sc, err, sizeof err);
    free(text);
    if (rc != 0)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return sc;
}

static sim_scenario *parse_text(const char *text)
{
    sim_scenario *sc;
    char err[SIM_ERRBUF_SIZE] = "";
    int rc = sim_scenario_parse("t.json", text, strlen(text), &sc, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return sc;
}

/* ------------------------------------------------------------ collection */

/* Everything a run produced: the blob bytes' digest, and every tuple with
 * its truth label and the MAC of the NIC that logged it. */
struct run {
    uint64_t digest;
    size_t blobs;
    struct scand_tuple *t;
    char (*mac)[13];
    size_t n, cap;
    scand_strtab *st;
    int roundtrip; /* write each blob, read it back, compare */
    size_t roundtrip_failures;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static int cmp_tuple(const void *a, const void *b)
{
    /* every field but the label; mac and group are strtab indices of one
     * strtab, so equal text is an equal index */
    return memcmp(a, b, offsetof(struct scand_tuple, campaign));
}

static int on_blob(void *arg, const struct scand_blob_meta *meta, int64_t hour_ms,
                   const struct scand_tuple *t, size_t n)
{
    struct run *r = arg;
    char path[2048];
    scand_blob_path(meta, hour_ms, path, sizeof path);
    r->digest = fnv(r->digest ? r->digest : 0xcbf29ce484222325ULL, path, strlen(path));
    struct mem_out o;
    mem_out_init(&o);
    int rc = scand_blob_write(meta, t, n, r->st, mem_write, &o);
    CU_ASSERT_EQUAL(rc, SCAND_OK);
    r->digest = fnv(r->digest, o.p, o.len);
    r->blobs++;
    if (r->roundtrip) {
        /* the blob must read back as exactly these tuples */
        struct read_result rr;
        CU_ASSERT_EQUAL(read_all(o.p, o.len, CHUNK_LARGE, r->st, &rr), 0);
        int ok = rr.rc == 0 && rr.n_tup == n && rr.stats.tuples_skipped == 0;
        if (ok) {
            struct scand_tuple *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
            memcpy(a, t, n * sizeof *a);
            memcpy(b, rr.tup, n * sizeof *b);
            qsort(a, n, sizeof *a, cmp_tuple);
            qsort(b, n, sizeof *b, cmp_tuple);
            for (size_t i = 0; ok && i < n; i++)
                ok = cmp_tuple(&a[i], &b[i]) == 0;
            free(a);
            free(b);
        }
        r->roundtrip_failures += !ok;
        read_result_fini(&rr);
    }
    mem_out_fini(&o);
    if (r->n + n > r->cap) {
        r->cap = (r->n + n) * 2;
        r->t = realloc(r->t, r->cap * sizeof *r->t);
        r->mac = realloc(r->mac, r->cap * sizeof *r->mac);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r->t);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r->mac);
    }
    memcpy(r->t + r->n, t, n * sizeof *t);
    for (size_t i = 0; i < n; i++)
        snprintf(r->mac[r->n + i], sizeof r->mac[0], "%s", meta->mac);
    r->n += n;
    return 0;
}

static struct sim_result *run(const sim_scenario *sc, struct run *r, int roundtrip)
{
    memset(r, 0, sizeof *r);
    r->st = scand_strtab_new();
    r->roundtrip = roundtrip;
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->st);
    struct sim_result *res;
    char err[SIM_ERRBUF_SIZE] = "";
    struct sim_hooks hooks = {on_blob, r, NULL, NULL, NULL, NULL, 0};
    int rc = sim_generate(sc, r->st, &hooks, &res, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return res;
}

static void run_fini(struct run *r, struct sim_result *res)
{
    free(r->t);
    free(r->mac);
    scand_strtab_free(r->st);
    sim_result_free(res);
}

static uint32_t v4(const uint8_t a[16])
{
    return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

static uint32_t ip(const char *s)
{
    unsigned a, b, c, d;
    CU_ASSERT_EQUAL_FATAL(sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
    return a << 24 | b << 16 | c << 8 | d;
}

/* ------------------------------------------------------------ determinism */

/* More flows in one simulated hour than the cap: a clear error naming the
 * hour, not memory exhausted; under the cap the same scenario runs. */
static void test_sim_hour_flow_cap(void)
{
    sim_scenario *sc = load(SCEN_DIR "horizontal.json"); /* about 5,700 flows an hour */
    for (int k = 0; k < 2; k++) {
        struct run r;
        memset(&r, 0, sizeof r);
        r.st = scand_strtab_new();
        CU_ASSERT_PTR_NOT_NULL_FATAL(r.st);
        struct sim_result *res = NULL;
        char err[SIM_ERRBUF_SIZE] = "";
        struct sim_hooks hooks = {on_blob, &r, NULL, NULL, NULL, NULL, k ? 20000 : 1000};
        int rc = sim_generate(sc, r.st, &hooks, &res, err, sizeof err);
        if (k == 0) {
            CU_ASSERT_EQUAL(rc, -1);
            CU_ASSERT_PTR_NULL(res);
            CU_ASSERT_STRING_EQUAL(err, "hour 1 of the scenario makes more than 1000 flows (the "
                                        "simulator holds an hour in memory): lower the traffic "
                                        "rates or the VM counts");
        } else {
            CU_ASSERT_EQUAL(rc, 0);
            CU_ASSERT(res != NULL && res->flows > 15000);
        }
        run_fini(&r, res);
    }
    sim_scenario_free(sc);
}

static void test_sim_same_seed_same_bytes_other_seed_differs(void)
{
    sim_scenario *sc = load(SCEN_DIR "horizontal.json");
    struct run a, b, c;
    struct sim_result *ra = run(sc, &a, 0), *rb = run(sc, &b, 0);
    CU_ASSERT(a.blobs > 0);
    CU_ASSERT_EQUAL(a.digest, b.digest);
    CU_ASSERT_EQUAL(a.n, b.n);
    sim_scenario_set_seed(sc, sim_scenario_seed(sc) + 1);
    struct sim_result *rc = run(sc, &c, 0);
    CU_ASSERT_NOT_EQUAL(a.digest, c.digest);
    char *ta = sim_truth_json(sc, ra), *tc = sim_truth_json(sc, rc);
    CU_ASSERT_PTR_NOT_NULL(ta);
    CU_ASSERT(ta && tc && strcmp(ta, tc) != 0);
    free(ta);
    free(tc);
    run_fini(&a, ra);
    run_fini(&b, rb);
    run_fini(&c, rc);
    sim_scenario_free(sc);
}

/* ------------------------------------------------------------ truth vs blobs */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static size_t distinct(uint32_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_u32);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        k += v[i] != v[i - 1];
    return k;
}

static void check_scenario_truth(const char *file, int roundtrip)
{
    sim_scenario *sc = load(file);
    struct run r;
    struct sim_result *res = run(sc, &r, roundtrip);
    CU_ASSERT_EQUAL(r.roundtrip_failures, 0); /* every blob reads back exactly */
    CU_ASSERT(res->n_camps > 0);
    uint32_t *dst = malloc((r.n ? r.n : 1) * sizeof *dst), *port = malloc((r.n ? r.n : 1) * 4);
    for (size_t c = 0; c < res->n_camps; c++) {
        const struct sim_camp_truth *tr = &res->camps[c];
        size_t k = 0;
        for (size_t i = 0; i < r.n; i++)
            if (r.t[i].campaign == c + 1) {
                dst[k] = v4(r.t[i].dst);
                port[k++] = r.t[i].dport;
            }
        size_t nd = distinct(dst, k), np = distinct(port, k);
        if (nd != tr->n_targets_visible || np != tr->n_ports_visible)
            fprintf(stderr, "\n%s: %s: blobs %zu targets %zu ports, truth %zu / %zu\n", file,
                    tr->id, nd, np, tr->n_targets_visible, tr->n_ports_visible);
        CU_ASSERT_EQUAL(nd, tr->n_targets_visible);
        CU_ASSERT_EQUAL(np, tr->n_ports_visible);
        CU_ASSERT_EQUAL(tr->visible, k > 0);
        CU_ASSERT(tr->probes_visible <= tr->probes);
        CU_ASSERT(tr->visible || tr->reason[0] != '\0');
    }
    free(dst);
    free(port);
    run_fini(&r, res);
    sim_scenario_free(sc);
}

static void test_sim_truth_matches_blobs_read_back(void)
{
    static const char *const files[] = {"default.json", "horizontal.json", "vertical.json",
                                        "block.json",   "slow.json",       "distributed.json",
                                        "udp.json",     "hub-only.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, SCEN_DIR "%s", files[i]);
        check_scenario_truth(path, 1);
    }
    /* large.json too, without reading each of its 6,000 blobs back (the
     * round trip is the same code as above; this checks its truth) */
    check_scenario_truth(SCEN_DIR "large.json", 0);
}

/* ------------------------------------------------------------ packets */

struct flowsum {
    uint32_t a, b; /* initiator, responder */
    uint16_t ap, bp;
    uint8_t proto;
    uint64_t pkt[2], byt[2];    /* from packets: [0] a->b, [1] b->a */
    uint64_t tpkt[2][2], tbyt[2][2]; /* from tuples, [view O/I][direction] */
    int has_e[2];
};

struct pktrun {
    struct flowsum *v;
    size_t n, cap;
    size_t packets;
    size_t *idx; /* open addressing: index + 1, 0 empty */
};

#define FLOW_HASH (1u << 20)

static uint32_t flow_hash(uint32_t a, uint32_t b, uint16_t ap, uint16_t bp, uint8_t proto)
{
    /* symmetric in the two ends */
    uint64_t x = ((uint64_t)(a ^ b) << 32 | (uint32_t)(ap ^ bp) << 8 | proto) ^
                 ((uint64_t)(a + b) * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)(ap + bp) << 17);
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 32;
    return (uint32_t)x & (FLOW_HASH - 1);
}

static size_t flow_slot(struct pktrun *pr, uint32_t a, uint32_t b, uint16_t ap, uint16_t bp,
                        uint8_t proto, int *rev, int create)
{
    if (pr->idx == NULL)
        pr->idx = calloc(FLOW_HASH, sizeof *pr->idx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pr->idx);
    uint32_t h = flow_hash(a, b, ap, bp, proto);
    for (;; h = (h + 1) & (FLOW_HASH - 1)) {
        size_t i = pr->idx[h];
        if (i == 0)
            break;
        struct flowsum *f = &pr->v[i - 1];
        if (f->proto != proto)
            continue;
        if (f->a == a && f->b == b && f->ap == ap && f->bp == bp) {
            *rev = 0;
            return i - 1;
        }
        if (f->a == b && f->b == a && f->ap == bp && f->bp == ap) {
            *rev = 1;
            return i - 1;
        }
    }
    if (!create)
        return (size_t)-1;
    CU_ASSERT_FATAL(pr->n < FLOW_HASH / 2);
    if (pr->n == pr->cap) {
        pr->cap = pr->cap ? pr->cap * 2 : 1024;
        pr->v = realloc(pr->v, pr->cap * sizeof *pr->v);
    }
    memset(&pr->v[pr->n], 0, sizeof pr->v[0]);
    pr->v[pr->n] = (struct flowsum){.a = a, .b = b, .ap = ap, .bp = bp, .proto = proto};
    pr->idx[h] = ++pr->n;
    *rev = 0;
    return pr->n - 1;
}

static int on_packet(void *arg, const struct sim_packet *p)
{
    struct pktrun *pr = arg;
    pr->packets++;
    if (p->proto != 6 && p->proto != 17)
        return 0;
    int rev;
    size_t i = flow_slot(pr, p->src, p->dst, p->sport, p->dport, p->proto, &rev, 1);
    pr->v[i].pkt[rev]++;
    pr->v[i].byt[rev] += p->ip_len + 14; /* tuples count Ethernet frames */
    return 0;
}

/* --pcap: every flow's packets add up to what its tuples report, at each
 * NIC that logged it (flows whose E falls inside the scenario). */
static void test_sim_packets_add_up_to_the_tuples(void)
{
    sim_scenario *sc = load(SCEN_DIR "udp.json");
    struct run r;
    memset(&r, 0, sizeof r);
    r.st = scand_strtab_new();
    struct pktrun pr = {0};
    struct sim_hooks hooks = {on_blob, &r, on_packet, &pr, NULL, NULL, 0};
    struct sim_result *res;
    char err[SIM_ERRBUF_SIZE] = "";
    CU_ASSERT_EQUAL_FATAL(sim_generate(sc, r.st, &hooks, &res, err, sizeof err), 0);
    CU_ASSERT(pr.packets > 10000);
    for (size_t i = 0; i < r.n; i++) {
        const struct scand_tuple *t = &r.t[i];
        if (t->state == SCAND_ST_D)
            continue; /* a denied attempt has zero counters by definition */
        int rev;
        size_t k = flow_slot(&pr, v4(t->src), v4(t->dst), t->sport, t->dport, t->proto, &rev, 0);
        CU_ASSERT_NOT_EQUAL_FATAL(k, (size_t)-1); /* every logged flow has packets */
        struct flowsum *f = &pr.v[k];
        int view = t->dir == SCAND_DIR_OUT ? 0 : 1;
        f->tpkt[view][rev] += t->pkts_s2d;
        f->tbyt[view][rev] += t->bytes_s2d;
        f->tpkt[view][!rev] += t->pkts_d2s;
        f->tbyt[view][!rev] += t->bytes_d2s;
        f->has_e[view] |= t->state == SCAND_ST_E;
    }
    size_t checked = 0, bad = 0;
    for (size_t k = 0; k < pr.n; k++) {
        const struct flowsum *f = &pr.v[k];
        for (int view = 0; view < 2; view++) {
            if (!f->has_e[view])
                continue;
            checked++;
            if (f->tpkt[view][0] != f->pkt[0] || f->tpkt[view][1] != f->pkt[1] ||
                f->tbyt[view][0] != f->byt[0] || f->tbyt[view][1] != f->byt[1])
                bad++;
        }
    }
    CU_ASSERT(checked > 5000);
    CU_ASSERT_EQUAL(bad, 0);
    free(pr.v);
    free(pr.idx);
    run_fini(&r, res);
    sim_scenario_free(sc);
}

/* ------------------------------------------------------------ outcomes */

#define TOPO                                                                                       \
    "\"name\":\"t\",\"start\":\"2026-03-02T00:00:00Z\",\"duration_hours\":1,"                      \
    "\"vnets\":[{\"name\":\"hub\",\"kind\":\"hub\",\"cidr\":\"10.0.0.0/16\",\"firewall\":{"        \
    "\"subnet\":\"10.0.0.0/26\",\"allow\":[{\"from\":\"vnet:s1\",\"to\":\"vnet:s2\","              \
    "\"ports\":[443]}]},\"subnets\":[{\"name\":\"sh\",\"cidr\":\"10.0.1.0/24\","                   \
    "\"vms\":[{\"role\":\"jump\"}]}]},"                                                             \
    "{\"name\":\"s1\",\"cidr\":\"10.1.0.0/16\",\"subnets\":["                                      \
    "{\"name\":\"a\",\"cidr\":\"10.1.1.0/24\",\"vms\":[{\"role\":\"vm\",\"name\":\"src\"}]},"      \
    "{\"name\":\"b\",\"cidr\":\"10.1.2.0/24\",\"nsg\":[{\"name\":\"no-rdp\",\"access\":\"deny\","  \
    "\"from\":\"*\",\"ports\":[3389]}],\"vms\":[{\"role\":\"web\",\"name\":\"open\"},"             \
    "{\"role\":\"web\",\"name\":\"shy\",\"host_firewall\":true}]}]},"                              \
    "{\"name\":\"s2\",\"cidr\":\"10.2.0.0/16\",@\"subnets\":[{\"name\":\"c\","                     \
    "\"cidr\":\"10.2.1.0/24\",\"vms\":[{\"role\":\"web\",\"count\":3}]}]}]"

static char *topo(const char *log2, const char *camps)
{
    static char buf[8192];
    const char *t = TOPO;
    const char *at = strchr(t, '@'); /* where s2's flow_logs setting goes */
    snprintf(buf, sizeof buf, "{%.*s%s%s,\"campaigns\":[%s]}", (int)(at - t), t, log2, at + 1,
             camps);
    return buf;
}

static void test_sim_probe_outcomes_follow_the_target(void)
{
    /* src 10.1.1.4 probes open (10.1.2.4, listens on 22/80/443) and shy
     * (10.1.2.5, host firewall) on 22 (open), 8081 (closed) and 3389 (NSG
     * deny); one try each (retries 0) */
    sim_scenario *sc = parse_text(topo(
        "", "{\"id\":\"p\",\"kind\":\"vertical\",\"from\":\"vm:src\",\"to\":[\"vm:open\","
            "\"vm:shy\"],\"ports\":[22,8081,3389],\"start\":\"+10m\",\"retries\":0}"));
    struct run r;
    struct sim_result *res = run(sc, &r, 0);
    const struct scand_tuple *g[8];
    uint32_t src = ip("10.1.1.4"), open = ip("10.1.2.4"), shy = ip("10.1.2.5");
    (void)src;
    /* open port: B then E at the target, one packet back (SYN/ACK) */
    size_t n = 0;
    for (size_t i = 0; i < r.n; i++)
        if (r.t[i].campaign == 1 && r.t[i].dir == SCAND_DIR_IN && v4(r.t[i].dst) == open &&
            r.t[i].dport == 22 && n < 8)
            g[n++] = &r.t[i];
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(g[0]->state, SCAND_ST_B);
    CU_ASSERT_EQUAL(g[1]->state, SCAND_ST_E);
    CU_ASSERT_EQUAL(g[1]->pkts_d2s, 1);
    CU_ASSERT_EQUAL(g[1]->pkts_s2d, 2);
    /* closed port: B/E with one packet each way (SYN, RST) */
    n = 0;
    for (size_t i = 0; i < r.n; i++)
        if (r.t[i].campaign == 1 && r.t[i].dir == SCAND_DIR_IN && v4(r.t[i].dst) == open &&
            r.t[i].dport == 8081 && n < 8)
            g[n++] = &r.t[i];
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(g[1]->state, SCAND_ST_E);
    CU_ASSERT_EQUAL(g[1]->pkts_s2d, 1);
    CU_ASSERT_EQUAL(g[1]->pkts_d2s, 1);
    /* host firewall: filtered, nothing back */
    n = 0;
    for (size_t i = 0; i < r.n; i++)
        if (r.t[i].campaign == 1 && r.t[i].dir == SCAND_DIR_IN && v4(r.t[i].dst) == shy &&
            r.t[i].dport == 8081 && n < 8)
            g[n++] = &r.t[i];
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(g[1]->pkts_d2s, 0);
    CU_ASSERT_EQUAL(g[1]->bytes_d2s, 0);
    CU_ASSERT(g[1]->pkts_s2d >= 1);
    /* NSG deny: one D with zero counters at the target... */
    n = 0;
    for (size_t i = 0; i < r.n; i++)
        if (r.t[i].campaign == 1 && r.t[i].dir == SCAND_DIR_IN && v4(r.t[i].dst) == open &&
            r.t[i].dport == 3389 && n < 8)
            g[n++] = &r.t[i];
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(g[0]->state, SCAND_ST_D);
    CU_ASSERT_EQUAL(g[0]->pkts_s2d + g[0]->bytes_s2d + g[0]->pkts_d2s + g[0]->bytes_d2s, 0);
    /* ...and an unanswered B/E at the source */
    n = 0;
    for (size_t i = 0; i < r.n; i++)
        if (r.t[i].campaign == 1 && r.t[i].dir == SCAND_DIR_OUT && v4(r.t[i].dst) == open &&
            r.t[i].dport == 3389 && n < 8)
            g[n++] = &r.t[i];
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(g[1]->state, SCAND_ST_E);
    CU_ASSERT_EQUAL(g[1]->pkts_d2s, 0);
    CU_ASSERT_EQUAL(res->camps[0].probes, 6);
    CU_ASSERT_EQUAL(res->camps[0].probes_visible, 6);
    run_fini(&r, res);
    sim_scenario_free(sc);
}

static void test_sim_firewall_drop_is_seen_only_at_the_source(void)
{
    /* s1 -> s2 goes through the hub firewall, which allows only 443 */
    sim_scenario *sc = parse_text(topo(
        "", "{\"id\":\"f\",\"kind\":\"horizontal\",\"from\":\"vm:src\",\"to\":\"vnet:s2\","
            "\"ports\":[22],\"start\":\"+5m\"}"));
    struct run r;
    struct sim_result *res = run(sc, &r, 0);
    size_t at_src = 0, at_dst = 0;
    for (size_t i = 0; i < r.n; i++)
        if (r.t[i].campaign == 1) {
            at_src += r.t[i].dir == SCAND_DIR_OUT && v4(r.t[i].src) == ip("10.1.1.4");
            at_dst += r.t[i].dir == SCAND_DIR_IN;
            CU_ASSERT_EQUAL(r.t[i].pkts_d2s, 0);
        }
    CU_ASSERT_EQUAL(at_src, 6); /* B and E for each of 3 targets */
    CU_ASSERT_EQUAL(at_dst, 0);
    CU_ASSERT(res->camps[0].visible);
    run_fini(&r, res);
    sim_scenario_free(sc);
    /* the same probes on 443, which the firewall allows, reach the targets */
    sc = parse_text(topo("", "{\"id\":\"f\",\"kind\":\"horizontal\",\"from\":\"vm:src\","
                             "\"to\":\"vnet:s2\",\"ports\":[443],\"start\":\"+5m\"}"));
    res = run(sc, &r, 0);
    at_dst = 0;
    for (size_t i = 0; i < r.n; i++)
        at_dst += r.t[i].campaign == 1 && r.t[i].dir == SCAND_DIR_IN;
    CU_ASSERT_EQUAL(at_dst, 6);
    run_fini(&r, res);
    sim_scenario_free(sc);
}

static void test_sim_hub_only_logging_cannot_see_a_spoke_scan(void)
{
    char text[8192];
    /* flow logs off on both spokes: the scan inside s1 is unseeable */
    snprintf(text, sizeof text, "%s", topo("\"flow_logs\":false,", "{\"id\":\"in\","
        "\"kind\":\"horizontal\",\"from\":\"vm:src\",\"to\":\"subnet:s1/b\",\"ports\":[22],"
        "\"start\":\"+5m\"}"));
    char *s1 = strstr(text, "\"name\":\"s1\",");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s1);
    memmove(s1 + 18, s1, strlen(s1) + 1);
    memcpy(s1, "\"flow_logs\":false,", 18);
    sim_scenario *sc = parse_text(text);
    struct run r;
    struct sim_result *res = run(sc, &r, 0);
    CU_ASSERT_EQUAL(res->camps[0].probes, 2);
    CU_ASSERT_EQUAL(res->camps[0].probes_visible, 0);
    CU_ASSERT_FALSE(res->camps[0].visible);
    CU_ASSERT(has_sub(res->camps[0].reason, "flow logging is off"));
    for (size_t i = 0; i < r.n; i++)
        CU_ASSERT_EQUAL(r.t[i].campaign, 0);
    CU_ASSERT_EQUAL(res->n_nics_logged, 1); /* only the hub's jump host */
    run_fini(&r, res);
    sim_scenario_free(sc);
}

static void test_sim_icmp_sweep_is_never_logged(void)
{
    sim_scenario *sc = parse_text(topo("", "{\"id\":\"ping\",\"kind\":\"horizontal\","
        "\"proto\":\"icmp\",\"from\":\"vm:src\",\"to\":\"subnet:s1/b\",\"start\":\"+5m\"}"));
    struct run r;
    struct sim_result *res = run(sc, &r, 0);
    CU_ASSERT_EQUAL(res->camps[0].probes, 2);
    CU_ASSERT_FALSE(res->camps[0].visible);
    CU_ASSERT(has_sub(res->camps[0].reason, "ICMP"));
    run_fini(&r, res);
    sim_scenario_free(sc);
}

/* Regressions from review: load-balancer probes reach backends without a
 * public IP; a sweep of its own subnet does not probe its source; ICMP
 * echo requests and replies carry the right types. */
static int icmp_types(void *arg, const struct sim_packet *p)
{
    int *seen = arg;
    if (p->proto == 1)
        seen[p->tcp_flags == 8 ? 0 : p->tcp_flags == 0 ? 1 : 2]++;
    return 0;
}

static void test_sim_platform_self_and_icmp(void)
{
    static const char text[] =
        "{\"name\":\"r\",\"duration_hours\":1,\"vnets\":[{\"name\":\"v\","
        "\"cidr\":\"10.5.0.0/16\",\"subnets\":[{\"name\":\"s\",\"cidr\":\"10.5.1.0/24\","
        "\"vms\":[{\"role\":\"web\",\"count\":4,\"lb_probe_port\":443}]}]}],"
        "\"hard_negatives\":{\"lb_probes\":{\"interval_s\":60}},"
        "\"campaigns\":[{\"id\":\"own\",\"kind\":\"horizontal\",\"from\":\"vm:v-web-1\","
        "\"to\":\"subnet:v/s\",\"ports\":[22],\"start\":\"+10m\"},"
        "{\"id\":\"ping\",\"kind\":\"horizontal\",\"proto\":\"icmp\",\"from\":\"vm:v-web-1\","
        "\"to\":\"subnet:v/s\",\"start\":\"+20m\"}]}";
    sim_scenario *sc = parse_text(text);
    struct run r;
    memset(&r, 0, sizeof r);
    r.st = scand_strtab_new();
    int icmp[3] = {0, 0, 0};
    struct sim_hooks hooks = {on_blob, &r, icmp_types, icmp, NULL, NULL, 0};
    struct sim_result *res;
    char err[SIM_ERRBUF_SIZE] = "";
    CU_ASSERT_EQUAL_FATAL(sim_generate(sc, r.st, &hooks, &res, err, sizeof err), 0);
    size_t probes_b = 0;
    for (size_t i = 0; i < r.n; i++)
        probes_b += v4(r.t[i].src) == ip("168.63.129.16") && r.t[i].state == SCAND_ST_B;
    CU_ASSERT_EQUAL(probes_b, 4 * 60); /* 4 private backends, one probe a minute */
    CU_ASSERT_EQUAL(res->camps[0].n_targets, 3); /* not itself */
    for (size_t k = 0; k < res->camps[0].n_targets; k++)
        CU_ASSERT_NOT_EQUAL(res->camps[0].targets[k], ip("10.5.1.4"));
    CU_ASSERT_EQUAL(icmp[0], 3); /* requests */
    CU_ASSERT_EQUAL(icmp[1], 3); /* replies */
    CU_ASSERT_EQUAL(icmp[2], 0);
    run_fini(&r, res);
    sim_scenario_free(sc);
}

/* ------------------------------------------------------------ rates */

static void test_sim_benign_rates_match_their_means(void)
{
    /* 8 web VMs x 90 flows/h x 6 h flat = 4320; 4 app x 25/h x office shape
     * over hours 0-5; onprem 200/h total x 6 h = 1200 */
    static const char text[] =
        "{\"name\":\"rates\",\"seed\":11,\"start\":\"2026-03-02T00:00:00Z\","
        "\"duration_hours\":6,\"onprem\":[\"192.168.0.0/16\"],\"vnets\":[{\"name\":\"v\","
        "\"cidr\":\"10.5.0.0/16\",\"subnets\":[{\"name\":\"s\",\"cidr\":\"10.5.1.0/24\","
        "\"vms\":[{\"role\":\"web\",\"count\":8},{\"role\":\"app\",\"count\":4}]}]}],"
        "\"traffic\":[{\"name\":\"flat\",\"from\":\"role:web\",\"to\":\"role:app\","
        "\"ports\":[8080],\"rate\":90},{\"name\":\"office\",\"from\":\"role:app\","
        "\"to\":\"role:web\",\"ports\":[443],\"rate\":25,\"diurnal\":\"office\"},"
        "{\"name\":\"users\",\"from\":\"onprem\",\"to\":\"role:web\",\"ports\":[443],"
        "\"rate\":200}]}";
    sim_scenario *sc = parse_text(text);
    struct run r;
    struct sim_result *res = run(sc, &r, 0);
    CU_ASSERT_EQUAL_FATAL(res->n_traffic, 3);
    CU_ASSERT_DOUBLE_EQUAL(res->traffic[0].expected, 4320, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(res->traffic[2].expected, 1200, 1e-6);
    /* office shape, hours 0-5: (0.15+0.1*4+0.2) / mean (sum 24.0 / 24) */
    double office_sum = 0.15 + 0.1 + 0.1 + 0.1 + 0.1 + 0.2, all = 0;
    static const double office[24] = {0.15, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8,
                                      1.6,  2.0, 2.1, 2.0, 1.6, 1.9, 2.0, 1.9,
                                      1.6,  1.2, 0.8, 0.6, 0.4, 0.3, 0.2, 0.15};
    for (int h = 0; h < 24; h++)
        all += office[h];
    CU_ASSERT_DOUBLE_EQUAL(res->traffic[1].expected, 4 * 25 * office_sum * 24 / all, 1e-6);
    for (size_t i = 0; i < res->n_traffic; i++) {
        double e = res->traffic[i].expected, o = (double)res->traffic[i].flows;
        CU_ASSERT(fabs(o - e) <= 4 * sqrt(e)); /* Poisson: 4 sigma */
    }
    run_fini(&r, res);
    sim_scenario_free(sc);
}

/* ------------------------------------------------------------ validation */

static void test_sim_bad_scenarios_name_path_and_line(void)
{
    static const struct {
        const char *text, *err;
    } cases[] = {
        {"[1]", "t.json:1: (top): a scenario is a JSON object"},
        {"{\"name\":\"x\",", "t.json:1: not valid JSON"},
        {"{\"name\":\"x\",\n\"vnets\":[{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\"}],\n"
         "\"colour\":1}",
         "t.json:3: (top): unknown key 'colour'"},
        {"{\"name\":\"x\",\"name\":\"y\",\"vnets\":[]}", "t.json:1: (top): duplicate key 'name'"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\"},\n"
         "{\"name\":\"b\",\"cidr\":\"10.0.128.0/17\"}]}",
         "t.json:2: vnets[1].cidr: address space overlaps vnet 'a' (10.0.0.0/16)"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"h\",\"kind\":\"hub\",\"cidr\":\"10.0.0.0/16\",\n"
         "\"firewall\":{\"subnet\":\"10.0.0.0/28\"}}]}",
         "t.json:2: vnets[0].firewall.subnet: the AzureFirewallSubnet must be /26 or larger"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"h\",\"kind\":\"hub\",\"cidr\":\"10.0.0.0/16\",\n"
         "\"gateway_subnet\":\"10.0.0.0/28\"}]}",
         "t.json:2: vnets[0].gateway_subnet: the GatewaySubnet must be /27 or larger"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\",\"subnets\":[\n"
         "{\"name\":\"s\",\"cidr\":\"10.1.0.0/24\"}]}]}",
         "t.json:2: vnets[0].subnets[0].cidr: not inside vnet 'a'"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\",\"subnets\":["
         "{\"name\":\"s\",\"cidr\":\"10.0.0.0/24\",\"vms\":[{\"role\":\"web\"}]}]}],\n"
         "\"campaigns\":[{\"id\":\"c\",\"kind\":\"horizontal\",\"from\":\"vm:a-web-1\",\n"
         "\"to\":\"vnet:spoke9\",\"ports\":[22],\"start\":\"+1h\"}]}",
         "t.json:3: campaigns[0].to: 'vnet:spoke9': no vnet named 'spoke9'"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\",\"subnets\":["
         "{\"name\":\"s\",\"cidr\":\"10.0.0.0/24\",\"vms\":[{\"role\":\"web\"}]}]}],\n"
         "\"campaigns\":[{\"id\":\"c\",\"kind\":\"horizontal\",\"from\":\"vm:a-web-1\",\n"
         "\"to\":\"vnet:a\",\"ports\":[22],\"start\":\"+1h\",\n\"rate\":0}]}",
         "t.json:4: campaigns[0].rate: expected a number > 0"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\",\"subnets\":["
         "{\"name\":\"s\",\"cidr\":\"10.0.0.0/24\",\"vms\":[{\"role\":\"web\"}]}]}],\n"
         "\"campaigns\":[{\"id\":\"c\",\"kind\":\"diagonal\",\"from\":\"vm:a-web-1\"}]}",
         "t.json:2: campaigns[0].kind: 'diagonal': expected horizontal, vertical, block, slow, "
         "distributed or udp"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\",\"subnets\":["
         "{\"name\":\"s\",\"cidr\":\"10.0.0.0/24\",\"vms\":[{\"role\":\"web\"}]}]}],\n"
         "\"campaigns\":[{\"id\":\"c\",\"kind\":\"vertical\",\"from\":\"vm:a-web-1\",\n"
         "\"to\":\"vnet:a\",\"ports\":\"1-99999\",\"start\":\"+1h\"}]}",
         "t.json:3: campaigns[0].ports: '1-99999': ports must be 0..65535, ranges ascending"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\",\"subnets\":["
         "{\"name\":\"s\",\"cidr\":\"10.0.0.0/24\",\"vms\":[{\"role\":\"chef\"}]}]}]}",
         "t.json:1: vnets[0].subnets[0].vms[0].role: unknown role 'chef' (define it under "
         "\"roles\")"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\",\"subnets\":["
         "{\"name\":\"s\",\"cidr\":\"10.0.0.0/29\",\"vms\":[{\"role\":\"web\",\"count\":4}]}]}]}",
         "t.json:1: vnets[0].subnets[0].vms[0].count: subnet 's' has no room for 4 more VMs"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\",\"subnets\":["
         "{\"name\":\"s\",\"cidr\":\"10.0.0.0/24\",\"vms\":[{\"role\":\"web\"}]}]}],\n"
         "\"campaigns\":[{\"id\":\"c\",\"kind\":\"horizontal\",\"from\":\"vm:a-web-1\",\n"
         "\"to\":\"vnet:a\",\"ports\":[22],\"start\":\"+30h\"}]}",
         "t.json:3: campaigns[0].start: starts outside the scenario's time span"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\",\"subnets\":["
         "{\"name\":\"s\",\"cidr\":\"10.0.0.0/24\",\"vms\":[{\"role\":\"web\"}]}]}],\n"
         "\"traffic\":[{\"from\":\"role:web\",\"to\":\"role:web\",\"ports\":[80],\n"
         "\"rate\":\"often\"}]}",
         "t.json:3: traffic[0].rate: expected a number"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"v\",\"kind\":\"vwan\",\"cidr\":\"10.0.0.0/16\",\n"
         "\"subnets\":[]}]}",
         "t.json:2: vnets[0].subnets: a Virtual WAN hub is Microsoft-managed: no subnets, VMs or "
         "gateway subnet of yours"},
        /* the review's hostile cases */
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"0.0.0.0/0\"}]}",
         "t.json:1: vnets[0].cidr: address space: a /0 is too wide (at most a /8)"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"168.63.0.0/16\"}]}",
         "t.json:1: vnets[0].cidr: address space overlaps Azure's platform address 168.63.129.16"},
        {"{\"name\":\"x\",\"onprem\":[\"169.254.0.0/16\"],\"vnets\":[]}",
         "t.json:1: onprem[0]: range overlaps link-local 169.254.0.0/16 (IMDS)"},
        {"{\"name\":\"x\",\"start\":\"1969-12-31T00:00:00Z\",\"vnets\":[]}",
         "t.json:1: start: start at 2001-09-09T02:00:00Z or later"},
        {"{\"name\":\"x\",\"start\":\"2001-09-09T01:00:00Z\",\"vnets\":[]}",
         "t.json:1: start: start at 2001-09-09T02:00:00Z or later"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"255.0.0.0/8\",\"subnets\":["
         "{\"name\":\"s\",\"cidr\":\"255.255.255.248/29\",\"vms\":[{\"role\":\"web\","
         "\"count\":20}]}]}]}",
         "t.json:1: vnets[0].subnets[0].vms[0].count: subnet 's' has no room for 20 more VMs"},
        {"{\"name\":\"x\",\"vnets\":[]} {\"more\":1}", "t.json:1: text after the scenario object"},
        {"{\"name\":\"x\",\"roles\":{\"a b\":{}},\"vnets\":[]}",
         "t.json:1: roles.a b: role names use letters, digits"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\",\"subnets\":["
         "{\"name\":\"s\",\"cidr\":\"10.0.0.0/24\",\"vms\":[{\"role\":\"web\"}]}]}],\n"
         "\"campaigns\":[{\"id\":\"c\",\"kind\":\"vertical\",\"from\":\"vm:a-web-1\",\n"
         "\"to\":\"vnet:a\",\"ports\":\"0-65535,0-65535,0-65535\",\"start\":\"+1h\"}]}",
         "t.json:3: campaigns[0].ports: too many ports (at most 131072, repeats included)"},
        {"{\"name\":\"x\",\"vnets\":[{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\",\"subnets\":["
         "{\"name\":\"s\",\"cidr\":\"10.0.0.0/24\",\"vms\":[{\"role\":\"web\",\"name\":\"w\"}]},\n"
         "{\"name\":\"t\",\"cidr\":\"10.0.1.0/24\",\"vms\":[{\"role\":\"app\",\"name\":\"w\"}]}]}]}",
         "t.json:2: vnets: duplicate VM name 'w'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sim_scenario *sc = NULL;
        char err[SIM_ERRBUF_SIZE] = "";
        int rc = sim_scenario_parse("t.json", cases[i].text, strlen(cases[i].text), &sc, err,
                                    sizeof err);
        CU_ASSERT_EQUAL(rc, -1);
        CU_ASSERT_PTR_NULL(sc);
        if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
            fprintf(stderr, "\ncase %zu:\n  got  %s\n  want %s\n", i, err, cases[i].err);
        CU_ASSERT(strncmp(err, cases[i].err, strlen(cases[i].err)) == 0);
        sim_scenario_free(sc);
    }
}

/* Hostile scenario text: seeded byte mutations of a shipped scenario either
 * parse or fail with a one-line "file:line: ..." message; never a crash
 * (the asan run makes this a memory-safety test). */
static void test_sim_mutated_scenarios_fail_cleanly(void)
{
    size_t len;
    char *orig = slurp(SCEN_DIR "slow.json", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
    static const char alphabet[] = "{}[]\",:0123456789-.e+ abtnrfu/\\x";
    uint64_t rs = 0x5ce7a210;
    char *buf = malloc(len + 16);
    size_t ok = 0, bad = 0;
    for (int m = 0; m < 3000; m++) {
        size_t n = len;
        memcpy(buf, orig, len);
        for (int e = 0; e < 1 + (int)rng_below(&rs, 3); e++) {
            size_t at = (size_t)rng_below(&rs, n);
            char c = alphabet[rng_below(&rs, sizeof alphabet - 1)];
            if (rng_below(&rs, 2) == 0) {
                buf[at] = c;
            } else {
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
            }
        }
        sim_scenario *sc = NULL;
        char err[SIM_ERRBUF_SIZE] = "";
        if (sim_scenario_parse("m.json", buf, n, &sc, err, sizeof err) == 0) {
            CU_ASSERT_PTR_NOT_NULL(sc);
            ok++;
        } else {
            CU_ASSERT_PTR_NULL(sc);
            CU_ASSERT(strncmp(err, "m.json:", 7) == 0 && strchr(err, '\n') == NULL);
            bad++;
        }
        sim_scenario_free(sc);
    }
    CU_ASSERT(bad > 100); /* the mutations reach the validator */
    CU_ASSERT(ok > 100);
    free(buf);
    free(orig);
}

int test_sim_register(void)
{
    CU_pSuite s = CU_add_suite("sim", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
#define ADD(f)                                                                                     \
    if (CU_add_test(s, #f, f) == NULL)                                                             \
        return CU_get_error();
    ADD(test_sim_same_seed_same_bytes_other_seed_differs)
    ADD(test_sim_hour_flow_cap)
    ADD(test_sim_truth_matches_blobs_read_back)
    ADD(test_sim_probe_outcomes_follow_the_target)
    ADD(test_sim_firewall_drop_is_seen_only_at_the_source)
    ADD(test_sim_hub_only_logging_cannot_see_a_spoke_scan)
    ADD(test_sim_icmp_sweep_is_never_logged)
    ADD(test_sim_benign_rates_match_their_means)
    ADD(test_sim_bad_scenarios_name_path_and_line)
    ADD(test_sim_mutated_scenarios_fail_cleanly)
    ADD(test_sim_packets_add_up_to_the_tuples)
    ADD(test_sim_platform_self_and_icmp)
#undef ADD
    return CUE_SUCCESS;
}
