/*
 * genflows.c - deterministic generator of VNet flow-log blobs for the
 * shipped example and for `make bench`. Not the scenario engine (that is
 * `scanlab simulate`, to come); a fixed, small, hand-designed estate.
 *
 *   genflows example DIR          a hub-and-spoke hour as an Azure blob tree
 *   genflows bench FILE N [SEED]  one PT1H-style blob of at least N tuples
 *
 * All randomness comes from sim_rng (GSL mt19937 streams); same arguments,
 * same bytes. Tuples are written with libscand's writer, so the files are
 * what the reader and detector see in production.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scand.h"
#include "sim.h"

#define MIN_MS 60000LL
#define T0 1772445600000LL /* 2026-03-02T10:00:00Z */

enum outcome { OPEN, CLOSED, FILTERED, DENIED };

struct nic {
    const char *name;
    const char *ip;
    uint8_t addr[16];
    char mac[13];
    uint32_t mac_idx;
    struct scand_tuple *t;
    size_t n, cap;
};

static scand_strtab *st;
static struct nic *nics;
static size_t n_nics;
static uint32_t grp_out, grp_in, grp_deny, grp_dns;

static void die(const char *what)
{
    fprintf(stderr, "genflows: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void push(struct nic *n, const struct scand_tuple *t)
{
    if (n->n == n->cap) {
        n->cap = n->cap ? n->cap * 2 : 1024;
        n->t = realloc(n->t, n->cap * sizeof *n->t);
        if (n->t == NULL)
            die("realloc");
    }
    n->t[n->n++] = *t;
}

static struct nic *find_nic(const uint8_t a[16])
{
    for (size_t i = 0; i < n_nics; i++)
        if (memcmp(nics[i].addr, a, 16) == 0)
            return &nics[i];
    return NULL;
}

static void addr(const char *s, uint8_t out[16])
{
    int v6;
    if (scand_addr_parse(s, strlen(s), out, &v6) != SCAND_OK) {
        fprintf(stderr, "genflows: bad address %s\n", s);
        exit(1);
    }
}

/*
 * Emit one flow as Azure logs it at each logged NIC it touches: O at the
 * source NIC, I at the destination NIC. Outcomes follow the target:
 * open (B, then C every 5 min, then E with data), closed (B/E, SYN and RST,
 * one packet each way), filtered (B/E, SYN retries, nothing back), denied
 * by the destination's NSG (D there; the source still logs B/E, no reply).
 */
static void flow(sim_rng *r, const uint8_t src[16], const uint8_t dst[16], uint16_t sport,
                 uint16_t dport, uint8_t proto, int64_t t, enum outcome oc, int64_t dur)
{
    struct nic *ns = find_nic(src), *nd = find_nic(dst);
    struct scand_tuple b;
    memset(&b, 0, sizeof b);
    memcpy(b.src, src, 16);
    memcpy(b.dst, dst, 16);
    b.sport = sport;
    b.dport = dport;
    b.proto = proto;
    b.enc = SCAND_ENC_NX;
    for (int side = 0; side < 2; side++) {
        struct nic *n = side == 0 ? ns : nd;
        if (n == NULL)
            continue;
        struct scand_tuple x = b;
        x.dir = side == 0 ? SCAND_DIR_OUT : SCAND_DIR_IN;
        x.mac = n->mac_idx;
        x.group = side == 0 ? grp_out : (dport == 53 ? grp_dns : grp_in);
        if (oc == DENIED && side == 1) {
            x.ts_ms = t;
            x.state = SCAND_ST_D;
            x.group = grp_deny;
            push(n, &x);
            continue;
        }
        x.ts_ms = t;
        x.state = SCAND_ST_B;
        push(n, &x);
        int64_t end = t + dur;
        int64_t last = t;
        if (oc == OPEN) {
            /* C tuples every 5 minutes of a long flow, counts since the last. */
            for (int64_t c = t + 5 * MIN_MS; c < end; c += 5 * MIN_MS) {
                x.ts_ms = c;
                x.state = SCAND_ST_C;
                x.pkts_s2d = 20 + sim_rng_below(r, 200);
                x.bytes_s2d = x.pkts_s2d * (60 + sim_rng_below(r, 1400));
                x.pkts_d2s = 20 + sim_rng_below(r, 300);
                x.bytes_d2s = x.pkts_d2s * (60 + sim_rng_below(r, 1400));
                push(n, &x);
                last = c;
            }
            (void)last;
            x.pkts_s2d = 3 + sim_rng_below(r, 20);
            x.bytes_s2d = x.pkts_s2d * 60 + sim_rng_below(r, 4000);
            x.pkts_d2s = 2 + sim_rng_below(r, 30);
            x.bytes_d2s = x.pkts_d2s * 60 + (uint64_t)sim_rng_lognormal(r, 8.0, 1.5);
        } else if (oc == CLOSED) {
            x.pkts_s2d = 1;
            x.bytes_s2d = 74;
            x.pkts_d2s = 1;
            x.bytes_d2s = 54;
        } else {
            x.pkts_s2d = proto == 6 ? 3 : 1; /* SYN and two retries */
            x.bytes_s2d = x.pkts_s2d * 74;
            x.pkts_d2s = 0;
            x.bytes_d2s = 0;
        }
        x.ts_ms = end;
        x.state = SCAND_ST_E;
        push(n, &x);
    }
}

static void add_nic(const char *name, const char *ip)
{
    nics = realloc(nics, (n_nics + 1) * sizeof *nics);
    if (nics == NULL)
        die("realloc");
    struct nic *n = &nics[n_nics++];
    memset(n, 0, sizeof *n);
    n->name = name;
    n->ip = ip;
    addr(ip, n->addr);
    /* Azure MACs: 00-22-48 prefix, then the last three address bytes. */
    snprintf(n->mac, sizeof n->mac, "002248%02X%02X%02X", n->addr[13], n->addr[14],
             n->addr[15]);
    if (scand_strtab_intern(st, n->mac, 12, &n->mac_idx) != SCAND_OK)
        die("intern");
}

static void groups(void)
{
    const char *acl = "/subscriptions/5ca11ab5-0000-4000-8000-000000000001/resourceGroups/"
                      "lab-rg/providers/Microsoft.Network/networkSecurityGroups/lab-nsg";
    struct {
        const char *rule;
        uint32_t *idx;
    } g[] = {{"DefaultRule_AllowVnetOutBound", &grp_out},
             {"DefaultRule_AllowVnetInBound", &grp_in},
             {"UserRule_DenySpoke2ToMgmt", &grp_deny},
             {"UserRule_AllowDns", &grp_dns}};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        if (scand_group_intern(st, acl, strlen(acl), g[i].rule, strlen(g[i].rule), g[i].idx) !=
            SCAND_OK)
            die("intern");
}

static int cmp_ts(const void *a, const void *b)
{
    const struct scand_tuple *x = a, *y = b;
    if (x->ts_ms != y->ts_ms)
        return x->ts_ms < y->ts_ms ? -1 : 1;
    return memcmp(x, y, sizeof *x); /* total order: output never depends on qsort */
}

static int write_file(void *arg, const void *buf, size_t len)
{
    return fwrite(buf, 1, len, arg) == len ? 0 : -1;
}

static void mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            die(path);
        *p = '/';
    }
}

static void write_tree(const char *dir)
{
    for (size_t i = 0; i < n_nics; i++) {
        struct nic *n = &nics[i];
        qsort(n->t, n->n, sizeof *n->t, cmp_ts);
        char guid[64], target[256];
        snprintf(guid, sizeof guid, "5ca11ab5-f10e-4000-8000-%012zx", i + 1);
        snprintf(target, sizeof target,
                 "/subscriptions/5ca11ab5-0000-4000-8000-000000000001/resourceGroups/lab-rg/"
                 "providers/Microsoft.Network/networkInterfaces/%s-nic",
                 n->name);
        struct scand_blob_meta meta = {
            n->mac, guid,
            "/SUBSCRIPTIONS/5CA11AB5-0000-4000-8000-000000000001/RESOURCEGROUPS/"
            "NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_"
            "WESTEUROPE/FLOWLOGS/LAB-VNET-FLOWLOG",
            target};
        for (size_t a = 0; a < n->n;) {
            int64_t hour = scand_blob_hour(n->t[a].ts_ms);
            size_t b = a;
            while (b < n->n && scand_blob_hour(n->t[b].ts_ms) == hour)
                b++;
            char rel[1024], path[2048];
            scand_blob_path(&meta, hour, rel, sizeof rel);
            snprintf(path, sizeof path, "%s/%s", dir, rel);
            mkdirs(path);
            FILE *f = fopen(path, "w");
            if (f == NULL)
                die(path);
            if (scand_blob_write(&meta, n->t + a, b - a, st, write_file, f) != SCAND_OK)
                die("write blob");
            if (fclose(f) != 0)
                die(path);
            a = b;
        }
    }
}

static void example(const char *dir)
{
    static const char *const names[][2] = {
        {"dns1", "10.0.1.4"},  {"dc1", "10.0.1.5"},   {"jump1", "10.0.1.10"},
        {"mon1", "10.0.1.20"}, {"web1", "10.1.1.4"},  {"web2", "10.1.1.5"},
        {"web3", "10.1.1.6"},  {"web4", "10.1.1.7"},  {"app1", "10.1.2.4"},
        {"app2", "10.1.2.5"},  {"db1", "10.2.1.4"},   {"db2", "10.2.1.5"},
        {"batch1", "10.2.1.9"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        add_nic(names[i][0], names[i][1]);
    sim_rng *benign = sim_rng_new(42, 1), *scan = sim_rng_new(42, 2);
    if (benign == NULL || scan == NULL)
        die("rng");
    struct nic *dns = &nics[0], *dc = &nics[1], *jump = &nics[2], *mon = &nics[3];
    struct nic *web = &nics[4], *app = &nics[8], *db = &nics[10];
    uint16_t eph = 40000;
#define EPH() ((uint16_t)(eph = (uint16_t)(eph >= 60999 ? 40000 : eph + 1)))

    for (int64_t m = 0; m < 60; m++) {
        int64_t base = T0 + m * MIN_MS;
        sim_rng *r = benign;
        /* Web tier to app tier on 8080, a few requests a minute. */
        for (int w = 0; w < 4; w++) {
            unsigned k = sim_rng_poisson(r, 1.5);
            for (unsigned j = 0; j < k; j++)
                flow(r, web[w].addr, app[sim_rng_below(r, 2)].addr, EPH(), 8080, 6,
                     base + (int64_t)sim_rng_below(r, 60000), OPEN,
                     200 + (int64_t)sim_rng_exponential(r, 2000));
        }
        /* App tier to databases on 1433; one in ten is a long pooled session. */
        for (int a = 0; a < 2; a++) {
            unsigned k = sim_rng_poisson(r, 0.8);
            for (unsigned j = 0; j < k; j++) {
                int64_t dur = sim_rng_uniform(r) < 0.1 ? 6 * MIN_MS + (int64_t)sim_rng_below(
                                                                          r, 8 * MIN_MS)
                                                       : 100 + (int64_t)sim_rng_below(r, 900);
                flow(r, app[a].addr, db[sim_rng_below(r, 2)].addr, EPH(), 1433, 6,
                     base + (int64_t)sim_rng_below(r, 60000), OPEN, dur);
            }
        }
        /* Every VM resolves names at the hub DNS (UDP 53). */
        for (size_t v = 4; v < n_nics; v++)
            if (sim_rng_uniform(r) < 0.5)
                flow(r, nics[v].addr, dns->addr, EPH(), 53, 17,
                     base + (int64_t)sim_rng_below(r, 60000), OPEN, 20);
        /* Hard negative: AD logons, one client hits the DC on 5 ports at once
         * (Kerberos, LDAP, SMB, RPC endpoint mapper, a dynamic RPC port). */
        if (m % 10 == 3) {
            struct nic *c = &nics[4 + sim_rng_below(r, n_nics - 4)];
            int64_t t = base + (int64_t)sim_rng_below(r, 50000);
            uint16_t ports[] = {88, 389, 445, 135,
                                (uint16_t)(49152 + sim_rng_below(r, 16384))};
            for (size_t p = 0; p < 5; p++)
                flow(r, c->addr, dc->addr, EPH(), ports[p], 6, t + (int64_t)p * 40, OPEN, 300);
        }
        /* Hard negative: monitoring polls every VM on 22 every 5 minutes. */
        if (m % 5 == 0)
            for (size_t v = 4; v < n_nics; v++)
                flow(r, mon->addr, nics[v].addr, EPH(), 22, 6,
                     base + 2000 + (int64_t)(v - 4) * 700, OPEN, 150);
        /* The jump host: an admin session now and then. */
        if (sim_rng_uniform(r) < 0.1)
            flow(r, jump->addr, nics[4 + sim_rng_below(r, n_nics - 4)].addr, EPH(), 22, 6,
                 base + (int64_t)sim_rng_below(r, 60000), OPEN, 5 * MIN_MS);
    }

    /* Campaigns, all from batch1 (10.2.1.9), a compromised VM in spoke 2. */
    const uint8_t *atk = nics[12].addr;
    uint8_t tgt[16];
    char ip[32];
    /* 1. Horizontal: TCP/22 sweep of 10.1.1.1-30 at 10:20:05, 0.5 s apart.
     * Hosts without a NIC never answer; existing ones have 22 closed. */
    for (int h = 1; h <= 30; h++) {
        snprintf(ip, sizeof ip, "10.1.1.%d", h);
        addr(ip, tgt);
        flow(scan, atk, tgt, EPH(), 22, 6, T0 + 20 * MIN_MS + 5000 + (h - 1) * 500,
             find_nic(tgt) ? CLOSED : FILTERED, find_nic(tgt) ? 2 : 21000);
    }
    /* 2. Vertical: nmap's top 20 ports against app1 at 10:35:10, 200 ms apart. */
    static const uint16_t top20[] = {80,  23,  443, 21,   22,   25,   3389, 110,  445, 139,
                                     143, 53,  135, 3306, 8080, 1723, 111,  995,  993, 5900};
    for (int p = 0; p < 20; p++)
        flow(scan, atk, app[0].addr, EPH(), top20[p], 6, T0 + 35 * MIN_MS + 10000 + p * 200,
             top20[p] == 8080 ? OPEN : CLOSED, top20[p] == 8080 ? 40 : 2);
    /* 3. Split: 7 hosts on 3389, 4 before 10:45:00 and 3 after: the tumbling
     * 1-minute rule sees 4 and 3 and stays silent. */
    static const char *const split[] = {"10.2.1.4", "10.2.1.5", "10.1.2.4", "10.1.2.5",
                                        "10.1.1.4", "10.1.1.5", "10.1.1.6"};
    static const int64_t at[] = {-3000, -2000, -1500, -1000, 500, 1000, 2000};
    for (int i = 0; i < 7; i++) {
        addr(split[i], tgt);
        flow(scan, atk, tgt, EPH(), 3389, 6, T0 + 45 * MIN_MS + at[i], CLOSED, 2);
    }
    /* 4. Slow: one 445 probe every 90 s from 10:47 (nmap -T1-like): never more
     * than one host per minute. */
    for (int i = 0; i < 8; i++) {
        snprintf(ip, sizeof ip, "10.1.1.%d", 40 + i);
        addr(ip, tgt);
        flow(scan, atk, tgt, EPH(), 445, 6, T0 + 47 * MIN_MS + i * 90000, FILTERED, 21000);
    }
    sim_rng_free(benign);
    sim_rng_free(scan);
    write_tree(dir);
}

/* One big blob for the benchmark: a busy hub NIC (an NVA) that logs flows
 * between ~65k spoke clients and 2,000 servers, ~4,000 tuples a minute,
 * with a sweep every 10 minutes so the detector has alerts to build. */
static void bench(const char *file, uint64_t want, uint64_t seed)
{
    add_nic("nva1", "10.0.2.4");
    sim_rng *r = sim_rng_new(seed, 7);
    if (r == NULL)
        die("rng");
    FILE *f = fopen(file, "w");
    if (f == NULL)
        die(file);
    struct nic *n = &nics[0];
    struct scand_blob_meta meta = {n->mac, "5ca11ab5-be4c-4000-8000-000000000001",
                                   "/SUBSCRIPTIONS/5CA11AB5/RESOURCEGROUPS/NETWORKWATCHERRG/"
                                   "PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/"
                                   "NETWORKWATCHER_WESTEUROPE/FLOWLOGS/BENCH",
                                   "/subscriptions/5ca11ab5/nva1-nic"};
    static const uint16_t ports[] = {443, 443, 443, 80, 1433, 8080, 22, 3389, 5432, 6379, 53};
    uint64_t total = 0;
    int first = 1;
    if (fputs("{\"records\":[", f) == EOF)
        die(file);
    struct scand_tuple *pending = NULL;
    size_t np = 0, cap = 0;
    for (int64_t m = 0; total < want; m++) {
        int64_t base = T0 + m * MIN_MS;
        /* Flows starting this minute; their tuples land at the NVA's NIC. */
        for (int i = 0; i < 1900; i++) {
            struct scand_tuple x;
            memset(&x, 0, sizeof x);
            uint32_t c = (uint32_t)sim_rng_below(r, 65536), s = (uint32_t)sim_rng_below(r, 2000);
            uint8_t a4[4] = {10, 1, (uint8_t)(c >> 8), (uint8_t)c};
            uint8_t b4[4] = {10, 2, (uint8_t)(s >> 8), (uint8_t)s};
            static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
            memcpy(x.src, pre, 12);
            memcpy(x.src + 12, a4, 4);
            memcpy(x.dst, pre, 12);
            memcpy(x.dst + 12, b4, 4);
            x.sport = (uint16_t)(32768 + sim_rng_below(r, 28000));
            x.dport = ports[sim_rng_below(r, sizeof ports / sizeof ports[0])];
            x.proto = x.dport == 53 ? 17 : 6;
            x.dir = SCAND_DIR_IN;
            x.enc = SCAND_ENC_NX;
            x.mac = n->mac_idx;
            x.group = grp_in;
            x.ts_ms = base + (int64_t)sim_rng_below(r, 60000);
            x.state = SCAND_ST_B;
            if (np + 2 > cap) {
                cap = cap ? cap * 2 : 8192;
                pending = realloc(pending, cap * sizeof *pending);
                if (pending == NULL)
                    die("realloc");
            }
            pending[np++] = x;
            x.ts_ms += 50 + (int64_t)sim_rng_exponential(r, 20000);
            x.state = SCAND_ST_E;
            x.pkts_s2d = 3 + sim_rng_below(r, 40);
            x.bytes_s2d = x.pkts_s2d * (60 + sim_rng_below(r, 1000));
            x.pkts_d2s = 2 + sim_rng_below(r, 60);
            x.bytes_d2s = x.pkts_d2s * (60 + sim_rng_below(r, 1400));
            pending[np++] = x;
        }
        if (m % 10 == 5) /* a horizontal sweep: 50 servers on 445 in 25 s */
            for (int h = 0; h < 50; h++) {
                struct scand_tuple x = pending[np - 1];
                x.src[14] = 99;
                x.src[15] = 9;
                x.dst[14] = (uint8_t)(h >> 8);
                x.dst[15] = (uint8_t)h;
                x.dport = 445;
                x.proto = 6;
                x.ts_ms = base + 10000 + h * 500;
                x.state = SCAND_ST_D;
                x.pkts_s2d = x.bytes_s2d = x.pkts_d2s = x.bytes_d2s = 0;
                if (np == cap) {
                    cap *= 2;
                    pending = realloc(pending, cap * sizeof *pending);
                    if (pending == NULL)
                        die("realloc");
                }
                pending[np++] = x;
            }
        /* Write the tuples whose minute is complete (ts < next minute). */
        qsort(pending, np, sizeof *pending, cmp_ts);
        size_t k = 0;
        while (k < np && pending[k].ts_ms < base + MIN_MS)
            k++;
        /* The writer frames each call as a blob; keep only the record. */
        char *buf = NULL;
        size_t len = 0;
        FILE *mf = open_memstream(&buf, &len);
        if (mf == NULL || scand_blob_write(&meta, pending, k, st, write_file, mf) != SCAND_OK ||
            fclose(mf) != 0)
            die("write record");
        if (k > 0) {
            if ((!first && fputc(',', f) == EOF) || fwrite(buf + 12, 1, len - 14, f) != len - 14)
                die(file);
            first = 0;
        }
        free(buf);
        total += k;
        memmove(pending, pending + k, (np - k) * sizeof *pending);
        np -= k;
    }
    if (fputs("]}", f) == EOF || fclose(f) != 0)
        die(file);
    free(pending);
    sim_rng_free(r);
    fprintf(stderr, "genflows: %s: %llu tuples\n", file, (unsigned long long)total);
}

int main(int argc, char **argv)
{
    st = scand_strtab_new();
    if (st == NULL)
        die("strtab");
    groups();
    if (argc == 3 && strcmp(argv[1], "example") == 0) {
        example(argv[2]);
    } else if ((argc == 4 || argc == 5) && strcmp(argv[1], "bench") == 0) {
        bench(argv[2], strtoull(argv[3], NULL, 10), argc == 5 ? strtoull(argv[4], NULL, 10) : 1);
    } else {
        fprintf(stderr, "usage: genflows example DIR\n       genflows bench FILE N [SEED]\n");
        return 2;
    }
    for (size_t i = 0; i < n_nics; i++)
        free(nics[i].t);
    free(nics);
    scand_strtab_free(st);
    return 0;
}
