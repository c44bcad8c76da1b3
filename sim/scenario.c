/*
 * scenario.c - scenario files: cJSON in, a validated struct sim_scenario
 * out (scenarios/README.md documents every key and default).
 *
 * Validation is strict because a typo in a scenario silently changes every
 * curve made from it: unknown and duplicate keys, wrong types, values out
 * of range, overlapping address space, an AzureFirewallSubnet smaller than
 * /26 or a GatewaySubnet smaller than /27 (Azure's own minimums), selectors
 * naming things that do not exist: each is an error of the form
 * "FILE:LINE: PATH: what is wrong", the line found by jsonpos.c.
 * THREAT: scenario files may come from anyone; every string is length-
 * checked before it is copied, every count bounded.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim_int.h"

#define MAX_VMS 100000
#define MAX_ITEMS 4096

struct vctx {
    const char *file, *text;
    size_t len;
    const cJSON *root;
    char *err;
    size_t errsz;
    struct sim_scenario *sc;
    const cJSON **vm_node; /* per VM: its group, for messages */
};

struct named {
    const char *name;
    int i;
};

static int cmp_named(const void *a, const void *b)
{
    const struct named *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->i - y->i;
}

static int verr(struct vctx *v, const cJSON *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int verr(struct vctx *v, const cJSON *node, const char *path, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    scand_json_error(v->err, v->errsz, v->file, v->text, v->len, v->root, node,
                     path[0] ? path : "(top)", msg);
    return -1;
}

static void *zalloc(size_t n, size_t size)
{
    return calloc(n ? n : 1, size);
}

/* ------------------------------------------------------------ addresses */

int sim_parse_ip(const char *s, uint32_t *out)
{
    uint32_t a = 0;
    for (int k = 0; k < 4; k++) {
        if (!isdigit((unsigned char)*s))
            return -1;
        unsigned v = 0, nd = 0;
        while (isdigit((unsigned char)*s) && nd < 4) {
            v = v * 10 + (unsigned)(*s++ - '0');
            nd++;
        }
        if (nd > 3 || v > 255)
            return -1;
        a = (a << 8) | v;
        if (k < 3 && *s++ != '.')
            return -1;
    }
    if (*s != '\0')
        return -1;
    *out = a;
    return 0;
}

int sim_parse_cidr(const char *s, struct sim_cidr *out)
{
    char buf[32];
    size_t n = strlen(s);
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, s, n + 1);
    int len = 32;
    char *slash = strchr(buf, '/');
    if (slash != NULL) {
        *slash = '\0';
        char *e;
        long l = strtol(slash + 1, &e, 10);
        if (slash[1] == '\0' || *e != '\0' || l < 0 || l > 32)
            return -1;
        len = (int)l;
    }
    uint32_t a;
    if (sim_parse_ip(buf, &a) != 0)
        return -1;
    uint32_t mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
    if ((a & mask) != a)
        return -1; /* host bits set: say what you mean */
    out->net = a;
    out->mask = mask;
    out->len = len;
    return 0;
}

void sim_format_ip(uint32_t a, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static int cidr_overlap(const struct sim_cidr *a, const struct sim_cidr *b)
{
    uint32_t m = a->mask & b->mask;
    return (a->net & m) == (b->net & m);
}

static int cidr_inside(const struct sim_cidr *in, const struct sim_cidr *out)
{
    return in->len >= out->len && sim_cidr_has(out, in->net);
}

/* ------------------------------------------------------------ ports */

int sim_ports_add(struct sim_ports *p, uint16_t port)
{
    if (p->n >= SIM_PORTS_MAX)
        return -1; /* repeats past two full ranges: refuse rather than grow */
    if ((p->n & (p->n - 1)) == 0 || p->n == 0) { /* grow at powers of two */
        size_t cap = p->n ? p->n * 2 : 8;
        uint16_t *v = realloc(p->v, cap * sizeof *v);
        if (v == NULL)
            return -1;
        p->v = v;
    }
    p->v[p->n++] = port;
    return 0;
}

void sim_ports_free(struct sim_ports *p)
{
    free(p->v);
    memset(p, 0, sizeof *p);
}

int sim_ports_has(const struct sim_ports *p, uint16_t port)
{
    if (p->any)
        return 1;
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i] == port)
            return 1;
    return 0;
}

/* nmap-services open-frequency order, research/scan_anchors.md 4.2 [V]. */
const uint16_t sim_top_tcp[] = {80,  23,   443,  21,   22,  25,   3389, 110, 445,  139,
                                143, 53,   135,  3306, 8080, 1723, 111,  995, 993,  5900,
                                1025, 587, 8888, 199,  1720, 465,  548,  113, 81,   6001};
const size_t sim_n_top_tcp = sizeof sim_top_tcp / sizeof sim_top_tcp[0];
const uint16_t sim_top_udp[] = {631, 161, 137, 123, 138,  1434, 445,  135,   67,  53,
                                139, 500, 68,  520, 1900, 4500, 514, 49152, 162, 69};
const size_t sim_n_top_udp = sizeof sim_top_udp / sizeof sim_top_udp[0];

/* Add the top n ports of list (then ascending numbers not in it). */
static int add_top(struct sim_ports *p, const uint16_t *list, size_t nl, long n)
{
    for (size_t i = 0; i < nl && (long)p->n < n; i++)
        if (sim_ports_add(p, list[i]) != 0)
            return -1;
    for (uint32_t port = 1; port <= 65535 && (long)p->n < n; port++) {
        size_t i;
        for (i = 0; i < nl && list[i] != port; i++)
            ;
        if (i == nl && sim_ports_add(p, (uint16_t)port) != 0)
            return -1;
    }
    return 0;
}

/* Parse one port spec "22", "1-1024", "top:N", "*", or "22,80,443" into p. */
static int port_spec(struct vctx *v, const cJSON *node, const char *path, const char *s,
                     int udp, struct sim_ports *p)
{
    if (strcmp(s, "*") == 0) {
        p->any = 1;
        return 0;
    }
    if (strncmp(s, "top:", 4) == 0) {
        char *e;
        long n = strtol(s + 4, &e, 10);
        if (s[4] == '\0' || *e != '\0' || n < 1 || n > 65535)
            return verr(v, node, path, "'%s': expected top:N with N in 1..65535", s);
        if (add_top(p, udp ? sim_top_udp : sim_top_tcp, udp ? sim_n_top_udp : sim_n_top_tcp,
                    n) != 0)
            return verr(v, node, path, "out of memory");
        return 0;
    }
    const char *q = s;
    while (*q) {
        char *e;
        long lo = strtol(q, &e, 10), hi = lo;
        if (e == q)
            return verr(v, node, path, "'%s': expected a port, a range A-B, top:N or *", s);
        if (*e == '-') {
            const char *h = e + 1;
            hi = strtol(h, &e, 10);
            if (e == h)
                return verr(v, node, path, "'%s': expected a port range A-B", s);
        }
        if (lo < 0 || hi > 65535 || lo > hi)
            return verr(v, node, path, "'%s': ports must be 0..65535, ranges ascending", s);
        for (long k = lo; k <= hi; k++)
            if (sim_ports_add(p, (uint16_t)k) != 0)
                return verr(v, node, path, "too many ports (at most %d, repeats included)",
                            SIM_PORTS_MAX);
        if (*e == ',')
            e++;
        else if (*e != '\0')
            return verr(v, node, path, "'%s': unexpected '%c'", s, *e);
        q = e;
    }
    return 0;
}

/* ports: a number, a spec string, or an array of either. Duplicates are
 * removed keeping the first (so top:N order survives). */
static int get_ports_(struct vctx *v, const cJSON *node, const char *path, int udp,
                      struct sim_ports *p)
{
    memset(p, 0, sizeof *p);
    const cJSON *items[MAX_ITEMS];
    size_t ni = 0;
    if (cJSON_IsArray(node)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, node)
        {
            if (ni == MAX_ITEMS)
                return verr(v, e, path, "too many entries (at most %d)", MAX_ITEMS);
            items[ni++] = e;
        }
        if (ni == 0)
            return verr(v, node, path, "expected at least one port");
    } else {
        items[ni++] = node;
    }
    for (size_t i = 0; i < ni; i++) {
        const cJSON *e = items[i];
        if (cJSON_IsNumber(e)) {
            double d = e->valuedouble;
            if (d != floor(d) || d < 0 || d > 65535)
                return verr(v, e, path, "expected a port number 0..65535");
            if (sim_ports_add(p, (uint16_t)d) != 0)
                return verr(v, e, path, "too many ports (at most %d, repeats included)",
                            SIM_PORTS_MAX);
        } else if (cJSON_IsString(e)) {
            if (port_spec(v, e, path, e->valuestring, udp, p) != 0)
                return -1;
        } else {
            return verr(v, e, path, "expected a port, a string like \"1-1024\" or \"top:100\"");
        }
    }
    if (p->any && p->n > 0)
        return verr(v, node, path, "'*' cannot be combined with other ports");
    /* drop repeats, keep first occurrence */
    uint8_t seen[65536 / 8];
    memset(seen, 0, sizeof seen);
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++) {
        uint16_t x = p->v[i];
        if (seen[x >> 3] & (1u << (x & 7)))
            continue;
        seen[x >> 3] |= (uint8_t)(1u << (x & 7));
        p->v[k++] = x;
    }
    p->n = k;
    return 0;
}

/* get_ports_, and nothing left allocated when it fails. */
static int get_ports(struct vctx *v, const cJSON *node, const char *path, int udp,
                     struct sim_ports *p)
{
    int rc = get_ports_(v, node, path, udp, p);
    if (rc != 0)
        sim_ports_free(p);
    return rc;
}

/* ------------------------------------------------------------ typed access */

static int check_keys(struct vctx *v, const cJSON *obj, const char *path,
                      const char *const *allowed)
{
    if (!cJSON_IsObject(obj))
        return verr(v, obj, path, "expected an object");
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        size_t i;
        for (i = 0; allowed[i] != NULL; i++)
            if (strcmp(c->string, allowed[i]) == 0)
                break;
        if (allowed[i] == NULL) {
            char keys[400] = "";
            for (size_t k = 0; allowed[k] != NULL; k++) {
                strncat(keys, k ? ", " : "", sizeof keys - strlen(keys) - 1);
                strncat(keys, allowed[k], sizeof keys - strlen(keys) - 1);
            }
            return verr(v, c, path, "unknown key '%.60s' (known: %s)", c->string, keys);
        }
        for (const cJSON *d = obj->child; d != c; d = d->next)
            if (strcmp(d->string, c->string) == 0)
                return verr(v, c, path, "duplicate key '%.60s'", c->string);
    }
    return 0;
}

/* out = a + b + c, cut to fit n (paths are for messages only). */
static void cat3(char *out, size_t n, const char *a, const char *b, const char *c)
{
    size_t k = 0;
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++)
        for (const char *q = parts[i]; *q && k + 1 < n; q++)
            out[k++] = *q;
    out[k] = '\0';
}

static void subpath(char *out, size_t n, const char *path, const char *key)
{
    cat3(out, n, path, path[0] ? "." : "", key);
}

static void idxpath(char *out, size_t n, const char *path, size_t i)
{
    char ix[24];
    snprintf(ix, sizeof ix, "[%zu]", i);
    cat3(out, n, path, ix, "");
}

/* Number at obj.key in [lo, hi]; def when absent (required: error). */
static int get_num(struct vctx *v, const cJSON *obj, const char *path, const char *key,
                   double lo, double hi, int integer, double def, int required, double *out)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[256];
    subpath(p, sizeof p, path, key);
    if (n == NULL) {
        if (required)
            return verr(v, obj, path, "missing key '%s'", key);
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble) || (integer && n->valuedouble !=
                                                                           floor(n->valuedouble)))
        return verr(v, n, p, "expected %s", integer ? "an integer" : "a number");
    if (n->valuedouble < lo || n->valuedouble > hi) {
        if (hi >= 1e15) /* the seed's 2^53 - 1, in full */
            return verr(v, n, p, "expected a number in %.0f..%.0f", lo, hi);
        return verr(v, n, p, "expected a number in %g..%g", lo, hi);
    }
    *out = n->valuedouble;
    return 0;
}

/* String at obj.key (NULL when absent and not required). */
static int get_str(struct vctx *v, const cJSON *obj, const char *path, const char *key,
                   int required, size_t max, const char **out)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[256];
    subpath(p, sizeof p, path, key);
    *out = NULL;
    if (n == NULL) {
        if (required)
            return verr(v, obj, path, "missing key '%s'", key);
        return 0;
    }
    if (!cJSON_IsString(n))
        return verr(v, n, p, "expected a string");
    if (strlen(n->valuestring) == 0 || strlen(n->valuestring) > max)
        return verr(v, n, p, "expected a string of 1..%zu characters", max);
    *out = n->valuestring;
    return 0;
}

/* A string of key checked character by character: a name (letters,
 * digits, '-', '_', '.'; used in VM names and paths) or, with text, free
 * text for people (the scenario's name: anything printable; reports escape
 * it wherever it lands). */
static int get_checked(struct vctx *v, const cJSON *obj, const char *path, const char *key,
                       int required, int text, char *out, size_t size)
{
    const char *s;
    if (get_str(v, obj, path, key, required, size - 1, &s) != 0)
        return -1;
    if (s == NULL) {
        out[0] = '\0';
        return 0;
    }
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        int ok = text ? *q >= 0x20 && *q != 0x7f
                      : isalnum(*q) || *q == '-' || *q == '_' || *q == '.';
        if (ok)
            continue;
        char p[256];
        subpath(p, sizeof p, path, key);
        if (text)
            return verr(v, cJSON_GetObjectItemCaseSensitive(obj, key), p,
                        "control characters are not allowed");
        return verr(v, cJSON_GetObjectItemCaseSensitive(obj, key), p,
                    "'%s': use letters, digits, '-', '_' and '.' only", s);
    }
    snprintf(out, size, "%s", s);
    return 0;
}

static int get_name(struct vctx *v, const cJSON *obj, const char *path, const char *key,
                    int required, char *out, size_t size)
{
    return get_checked(v, obj, path, key, required, 0, out, size);
}

static int get_bool(struct vctx *v, const cJSON *obj, const char *path, const char *key, int def,
                    int *out)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[256];
    subpath(p, sizeof p, path, key);
    if (n == NULL) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsBool(n))
        return verr(v, n, p, "expected true or false");
    *out = cJSON_IsTrue(n);
    return 0;
}

static int get_cidr(struct vctx *v, const cJSON *obj, const char *path, const char *key,
                    int required, struct sim_cidr *out, int *present)
{
    const char *s;
    if (get_str(v, obj, path, key, required, 31, &s) != 0)
        return -1;
    if (present)
        *present = s != NULL;
    if (s == NULL)
        return 0;
    if (sim_parse_cidr(s, out) != 0) {
        char p[256];
        subpath(p, sizeof p, path, key);
        return verr(v, cJSON_GetObjectItemCaseSensitive(obj, key), p,
                    "'%s': expected a CIDR like 10.1.0.0/16 (no host bits set)", s);
    }
    return 0;
}

static int get_proto(struct vctx *v, const cJSON *obj, const char *path, const char *key,
                     int def, int allow_icmp, int allow_any, int *out)
{
    const char *s;
    if (get_str(v, obj, path, key, 0, 8, &s) != 0)
        return -1;
    if (s == NULL) {
        *out = def;
        return 0;
    }
    if (strcmp(s, "tcp") == 0)
        *out = SIM_PROTO_TCP;
    else if (strcmp(s, "udp") == 0)
        *out = SIM_PROTO_UDP;
    else if (allow_icmp && strcmp(s, "icmp") == 0)
        *out = SIM_PROTO_ICMP;
    else if (allow_any && strcmp(s, "any") == 0)
        *out = SIM_PROTO_ANY;
    else {
        char p[256];
        subpath(p, sizeof p, path, key);
        return verr(v, cJSON_GetObjectItemCaseSensitive(obj, key), p, "'%s': expected %s", s,
                    allow_icmp ? "tcp, udp or icmp" : allow_any ? "tcp, udp or any" : "tcp or udp");
    }
    return 0;
}

/* ------------------------------------------------------------ roles */

static const struct {
    const char *name, *tcp;
    int udp[8];
} builtin_roles[] = {
    {"web", "22,80,443", {0}},
    {"app", "22,8080,8443", {0}},
    {"db", "22,1433,3306,5432", {0}},
    {"aks", "22,443,10250", {0}},
    {"dns", "22,53", {53}},
    {"dc", "53,88,135,139,389,445,464,636,3268,3269,3389,5985,49152-49170", {53, 88, 123, 389}},
    {"ntp", "22", {123}},
    {"jump", "22,3389", {0}},
    {"monitor", "22,443", {0}},
    {"backup", "22,443", {0}},
    {"vulnscan", "22,443", {0}},
    {"vm", "22", {0}},
};

static int find_role(const struct sim_scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->n_roles; i++)
        if (strcmp(sc->roles[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int add_role(struct vctx *v, const cJSON *node, const char *path, const char *name,
                    const char *tcp, const int *udp)
{
    struct sim_scenario *sc = v->sc;
    struct sim_role *r = realloc(sc->roles, (sc->n_roles + 1) * sizeof *r);
    if (r == NULL)
        return verr(v, node, path, "out of memory");
    sc->roles = r;
    struct sim_role *x = &r[sc->n_roles++];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    if (tcp != NULL && port_spec(v, node, path, tcp, 0, &x->listen) != 0)
        return -1;
    if (udp != NULL)
        memcpy(x->udp_listen, udp, sizeof x->udp_listen);
    return 0;
}

static int parse_roles(struct vctx *v, const cJSON *root)
{
    for (size_t i = 0; i < sizeof builtin_roles / sizeof builtin_roles[0]; i++)
        if (add_role(v, root, "roles", builtin_roles[i].name, builtin_roles[i].tcp,
                     builtin_roles[i].udp) != 0)
            return -1;
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(root, "roles");
    if (roles == NULL)
        return 0;
    if (!cJSON_IsObject(roles))
        return verr(v, roles, "roles", "expected an object of role name to {listen, udp}");
    for (const cJSON *r = roles->child; r != NULL; r = r->next) {
        char path[256];
        subpath(path, sizeof path, "roles", r->string);
        static const char *const keys[] = {"listen", "udp", NULL};
        if (check_keys(v, r, path, keys) != 0)
            return -1;
        char nm[SIM_NAME_MAX];
        snprintf(nm, sizeof nm, "%s", r->string);
        if (strlen(r->string) >= SIM_NAME_MAX || strlen(r->string) == 0)
            return verr(v, r, path, "role names are 1..%d characters", SIM_NAME_MAX - 1);
        for (const char *q = r->string; *q; q++)
            if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_' && *q != '.')
                return verr(v, r, path, "role names use letters, digits, '-', '_' and '.' only");
        int k = find_role(v->sc, nm);
        if (k < 0) {
            if (add_role(v, r, path, nm, NULL, NULL) != 0)
                return -1;
            k = (int)v->sc->n_roles - 1;
        }
        struct sim_role *x = &v->sc->roles[k];
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(r, "listen");
        if (l != NULL) {
            sim_ports_free(&x->listen);
            char p[256];
            subpath(p, sizeof p, path, "listen");
            if (get_ports(v, l, p, 0, &x->listen) != 0)
                return -1;
        }
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(r, "udp");
        if (u != NULL) {
            struct sim_ports up;
            char p[256];
            subpath(p, sizeof p, path, "udp");
            if (get_ports(v, u, p, 1, &up) != 0)
                return -1;
            if (up.n > 8 || up.any) {
                sim_ports_free(&up);
                return verr(v, u, p, "at most 8 UDP ports");
            }
            memset(x->udp_listen, 0, sizeof x->udp_listen);
            for (size_t i = 0; i < up.n; i++)
                x->udp_listen[i] = up.v[i];
            sim_ports_free(&up);
        }
    }
    return 0;
}

/* ------------------------------------------------------------ topology */

static int find_vnet(const struct sim_scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->n_vnets; i++)
        if (strcmp(sc->vnets[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Address space the estate may not claim: too wide a range (the internet
 * must stay outside it), and the addresses the simulator gives meaning. */
static int check_reserved(struct vctx *v, const cJSON *node, const char *path,
                          const struct sim_cidr *c, const char *what)
{
    static const struct {
        struct sim_cidr c;
        const char *name;
    } reserved[] = {
        {{0xa83f8110u, 0xffffffffu, 32}, "Azure's platform address 168.63.129.16"},
        {{0xa9fe0000u, 0xffff0000u, 16}, "link-local 169.254.0.0/16 (IMDS)"},
        {{0x14ee0000u, 0xffff0000u, 16}, "20.238.0.0/16, where VMs get their public IPs"},
    };
    if (c->len < 8)
        return verr(v, node, path, "%s: a /%d is too wide (at most a /8)", what, c->len);
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (cidr_overlap(c, &reserved[i].c))
            return verr(v, node, path, "%s overlaps %s", what, reserved[i].name);
    return 0;
}

static int check_space(struct vctx *v, const cJSON *node, const char *path,
                       const struct sim_cidr *c, const char *what)
{
    struct sim_scenario *sc = v->sc;
    if (check_reserved(v, node, path, c, what) != 0)
        return -1;
    for (size_t i = 0; i < sc->n_vnets; i++)
        if (cidr_overlap(c, &sc->vnets[i].cidr)) {
            char a[20];
            sim_format_ip(sc->vnets[i].cidr.net, a, sizeof a);
            return verr(v, node, path, "%s overlaps vnet '%s' (%s/%d)", what, sc->vnets[i].name,
                        a, sc->vnets[i].cidr.len);
        }
    for (size_t i = 0; i < sc->n_onprem; i++)
        if (cidr_overlap(c, &sc->onprem[i]))
            return verr(v, node, path, "%s overlaps onprem[%zu]", what, i);
    return 0;
}

static int parse_vms(struct vctx *v, const cJSON *arr, const char *path, int si)
{
    struct sim_scenario *sc = v->sc;
    struct sim_subnet *sn = &sc->subnets[si];
    struct sim_vnet *vn = &sc->vnets[sn->vnet];
    sn->first_vm = (int)sc->n_vms;
    if (arr == NULL)
        return 0;
    if (!cJSON_IsArray(arr))
        return verr(v, arr, path, "expected an array of VM groups");
    uint32_t next = sn->cidr.net + 4; /* Azure reserves .0-.3 and the last */
    uint32_t last = (sn->cidr.net | ~sn->cidr.mask) - 1;
    size_t gi = 0;
    const cJSON *g;
    cJSON_ArrayForEach(g, arr)
    {
        char gp[256];
        idxpath(gp, sizeof gp, path, gi++);
        static const char *const keys[] = {"role",      "count",         "name",
                                           "public_ip", "flow_logs",     "lb_probe_port",
                                           "listen",    "host_firewall", NULL};
        if (check_keys(v, g, gp, keys) != 0)
            return -1;
        const char *role;
        double count, lbp;
        char name[SIM_NAME_MAX];
        int pub, host_fw, logged_set = 0, logged = 0;
        if (get_str(v, g, gp, "role", 1, SIM_NAME_MAX - 1, &role) != 0 ||
            get_num(v, g, gp, "count", 1, MAX_VMS, 1, 1, 0, &count) != 0 ||
            get_name(v, g, gp, "name", 0, name, sizeof name) != 0 ||
            get_bool(v, g, gp, "public_ip", 0, &pub) != 0 ||
            get_bool(v, g, gp, "host_firewall", 0, &host_fw) != 0 ||
            get_num(v, g, gp, "lb_probe_port", 1, 65535, 1, 0, 0, &lbp) != 0)
            return -1;
        const cJSON *fl = cJSON_GetObjectItemCaseSensitive(g, "flow_logs");
        if (fl != NULL) {
            if (get_bool(v, g, gp, "flow_logs", 0, &logged) != 0)
                return -1;
            logged_set = 1;
        }
        int ri = find_role(sc, role);
        if (ri < 0) {
            char p[256];
            subpath(p, sizeof p, gp, "role");
            return verr(v, cJSON_GetObjectItemCaseSensitive(g, "role"), p,
                        "unknown role '%s' (define it under \"roles\")", role);
        }
        if (sc->n_vms + (size_t)count > MAX_VMS)
            return verr(v, g, gp, "too many VMs (at most %d in a scenario)", MAX_VMS);
        if ((uint64_t)next + (uint64_t)count - 1 > last || next > last) {
            char p[256];
            subpath(p, sizeof p, gp, "count");
            return verr(v, g, p, "subnet '%s' has no room for %g more VMs", sn->name, count);
        }
        struct sim_ports listen = {0};
        const cJSON *ln = cJSON_GetObjectItemCaseSensitive(g, "listen");
        if (ln != NULL) {
            char p[256];
            subpath(p, sizeof p, gp, "listen");
            if (get_ports(v, ln, p, 0, &listen) != 0)
                return -1;
        }
        struct sim_vm *vms = realloc(sc->vms, (sc->n_vms + (size_t)count) * sizeof *vms);
        const cJSON **nodes = vms ? realloc(v->vm_node, (sc->n_vms + (size_t)count) *
                                                           sizeof *nodes)
                                  : NULL;
        if (vms != NULL)
            sc->vms = vms;
        if (nodes == NULL) {
            sim_ports_free(&listen);
            return verr(v, g, gp, "out of memory");
        }
        v->vm_node = nodes;
        for (size_t q = 0; q < (size_t)count; q++)
            nodes[sc->n_vms + q] = g;
        /* number VMs per (vnet, role) so names are stable and readable */
        int seq = 0;
        for (size_t k = 0; k < sc->n_vms; k++)
            if (vms[k].vnet == sn->vnet && vms[k].role == ri)
                seq++;
        for (int k = 0; k < (int)count; k++) {
            struct sim_vm *vm = &vms[sc->n_vms];
            memset(vm, 0, sizeof *vm);
            if (name[0] && count == 1)
                snprintf(vm->name, sizeof vm->name, "%s", name);
            else if (name[0])
                snprintf(vm->name, sizeof vm->name, "%s-%d", name, k + 1);
            else
                snprintf(vm->name, sizeof vm->name, "%s-%s-%d", vn->name, role, seq + k + 1);
            vm->ip = next++;
            vm->subnet = si;
            vm->vnet = sn->vnet;
            vm->role = ri;
            vm->logged = logged_set ? logged : -1;
            vm->host_firewall = host_fw;
            vm->lb_port = (uint16_t)lbp;
            vm->pub = pub ? 1 : 0; /* assigned after the topology is known */
            if (ln != NULL) {
                for (size_t q = 0; q < listen.n; q++)
                    if (sim_ports_add(&vm->listen, listen.v[q]) != 0) {
                        sim_ports_free(&listen);
                        return verr(v, g, gp, "out of memory");
                    }
                vm->listen.any = listen.any;
            }
            /* 00:22:48 is a Microsoft OUI seen on Azure NICs; the low 24 bits
             * are a bijection of the VM index, so MACs are unique. */
            uint32_t lo = ((uint32_t)sc->n_vms * 0x9E3779B1u + 0x5ca1ab) & 0xffffff;
            snprintf(vm->mac, sizeof vm->mac, "002248%06X", lo);
            sc->n_vms++;
        }
        sim_ports_free(&listen);
    }
    sn->n_vm = (int)sc->n_vms - sn->first_vm;
    return 0;
}

static int parse_nsg(struct vctx *v, const cJSON *arr, const char *path, struct sim_subnet *sn);

static int parse_subnets(struct vctx *v, const cJSON *arr, const char *path, int vi)
{
    struct sim_scenario *sc = v->sc;
    struct sim_vnet *vn = &sc->vnets[vi];
    vn->first_subnet = (int)sc->n_subnets;
    if (arr == NULL)
        return 0;
    if (!cJSON_IsArray(arr))
        return verr(v, arr, path, "expected an array of subnets");
    size_t i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, arr)
    {
        char sp[256];
        idxpath(sp, sizeof sp, path, i++);
        static const char *const keys[] = {"name", "cidr", "flow_logs", "nsg", "vms", NULL};
        if (check_keys(v, s, sp, keys) != 0)
            return -1;
        struct sim_subnet *sns = realloc(sc->subnets, (sc->n_subnets + 1) * sizeof *sns);
        if (sns == NULL)
            return verr(v, s, sp, "out of memory");
        sc->subnets = sns;
        struct sim_subnet *sn = &sns[sc->n_subnets];
        memset(sn, 0, sizeof *sn);
        sn->vnet = vi;
        sn->logged = -1;
        if (get_name(v, s, sp, "name", 1, sn->name, sizeof sn->name) != 0 ||
            get_cidr(v, s, sp, "cidr", 1, &sn->cidr, NULL) != 0)
            return -1;
        char cp[256];
        subpath(cp, sizeof cp, sp, "cidr");
        const cJSON *cn = cJSON_GetObjectItemCaseSensitive(s, "cidr");
        if (!cidr_inside(&sn->cidr, &vn->cidr))
            return verr(v, cn, cp, "not inside vnet '%s'", vn->name);
        if (sn->cidr.len > 29)
            return verr(v, cn, cp, "Azure subnets are /29 or larger");
        for (size_t k = vn->first_subnet; k < sc->n_subnets; k++) {
            if (strcmp(sc->subnets[k].name, sn->name) == 0)
                return verr(v, s, sp, "duplicate subnet name '%s' in vnet '%s'", sn->name,
                            vn->name);
            if (cidr_overlap(&sc->subnets[k].cidr, &sn->cidr))
                return verr(v, cn, cp, "overlaps subnet '%s'", sc->subnets[k].name);
        }
        if (vn->kind == VNET_HUB) {
            if (sc->has_firewall && cidr_overlap(&sc->fw_subnet, &sn->cidr))
                return verr(v, cn, cp, "overlaps the AzureFirewallSubnet");
            if (sc->gw_subnet.len && cidr_overlap(&sc->gw_subnet, &sn->cidr))
                return verr(v, cn, cp, "overlaps the GatewaySubnet");
        }
        if (cJSON_GetObjectItemCaseSensitive(s, "flow_logs") != NULL &&
            get_bool(v, s, sp, "flow_logs", 0, &sn->logged) != 0)
            return -1;
        sn->has_nsg = cJSON_GetObjectItemCaseSensitive(s, "nsg") != NULL;
        sc->n_subnets++;
        char vp[256];
        subpath(vp, sizeof vp, sp, "vms");
        if (parse_vms(v, cJSON_GetObjectItemCaseSensitive(s, "vms"), vp,
                      (int)sc->n_subnets - 1) != 0)
            return -1;
    }
    vn->n_subnet = (int)sc->n_subnets - vn->first_subnet;
    return 0;
}

static int parse_sel(struct vctx *v, const cJSON *node, const char *path, int nsg,
                     struct sim_sel *out);

static int parse_firewall(struct vctx *v, const cJSON *fw, const char *path,
                          const struct sim_vnet *hub)
{
    struct sim_scenario *sc = v->sc;
    static const char *const keys[] = {"subnet", "allow", NULL};
    if (check_keys(v, fw, path, keys) != 0 ||
        get_cidr(v, fw, path, "subnet", 1, &sc->fw_subnet, NULL) != 0)
        return -1;
    char p[256];
    subpath(p, sizeof p, path, "subnet");
    const cJSON *sn = cJSON_GetObjectItemCaseSensitive(fw, "subnet");
    if (sc->fw_subnet.len > 26)
        return verr(v, sn, p, "the AzureFirewallSubnet must be /26 or larger");
    if (!cidr_inside(&sc->fw_subnet, &hub->cidr))
        return verr(v, sn, p, "not inside hub vnet '%s'", hub->name);
    sc->has_firewall = 1;
    sc->fw_ip = sc->fw_subnet.net + 4;
    return 0;
}

static int parse_firewall_rules(struct vctx *v, const cJSON *fw, const char *path)
{
    struct sim_scenario *sc = v->sc;
    const cJSON *allow = cJSON_GetObjectItemCaseSensitive(fw, "allow");
    char ap[256];
    subpath(ap, sizeof ap, path, "allow");
    if (allow == NULL)
        return 0;
    if (!cJSON_IsArray(allow))
        return verr(v, allow, ap, "expected an array of rules");
    size_t n = (size_t)cJSON_GetArraySize(allow), i = 0;
    sc->fw = zalloc(n, sizeof *sc->fw);
    if (sc->fw == NULL)
        return verr(v, allow, ap, "out of memory");
    const cJSON *r;
    cJSON_ArrayForEach(r, allow)
    {
        char rp[256];
        idxpath(rp, sizeof rp, ap, i++);
        static const char *const keys[] = {"from", "to", "ports", "proto", NULL};
        if (check_keys(v, r, rp, keys) != 0)
            return -1;
        struct sim_fw_rule *x = &sc->fw[sc->n_fw++];
        char p[256];
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(r, "from");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "to");
        const cJSON *ports = cJSON_GetObjectItemCaseSensitive(r, "ports");
        if (f == NULL || t == NULL || ports == NULL)
            return verr(v, r, rp, "a firewall rule needs from, to and ports");
        subpath(p, sizeof p, rp, "from");
        if (parse_sel(v, f, p, 0, &x->from) != 0)
            return -1;
        subpath(p, sizeof p, rp, "to");
        if (parse_sel(v, t, p, 0, &x->to) != 0)
            return -1;
        subpath(p, sizeof p, rp, "ports");
        if (get_ports(v, ports, p, 0, &x->ports) != 0 ||
            get_proto(v, r, rp, "proto", SIM_PROTO_ANY, 0, 1, &x->proto) != 0)
            return -1;
    }
    return 0;
}

static int parse_vnets(struct vctx *v, const cJSON *root)
{
    struct sim_scenario *sc = v->sc;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "vnets");
    if (arr == NULL)
        return verr(v, root, "", "missing key 'vnets'");
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
        return verr(v, arr, "vnets", "expected a non-empty array");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n > 256)
        return verr(v, arr, "vnets", "at most 256 vnets");
    sc->vnets = zalloc(n, sizeof *sc->vnets);
    if (sc->vnets == NULL)
        return verr(v, arr, "vnets", "out of memory");
    sc->hub = -1;
    size_t i = 0;
    const cJSON *o;
    /* pass 1: names, kinds, address space, firewall subnet */
    cJSON_ArrayForEach(o, arr)
    {
        char vp[256];
        idxpath(vp, sizeof vp, "vnets", i++);
        static const char *const keys[] = {"name",    "kind",         "cidr",
                                           "flow_logs", "via_firewall", "peered",
                                           "firewall", "gateway_subnet", "secured",
                                           "subnets", NULL};
        if (check_keys(v, o, vp, keys) != 0)
            return -1;
        struct sim_vnet vn;
        memset(&vn, 0, sizeof vn);
        const char *kind;
        if (get_name(v, o, vp, "name", 1, vn.name, sizeof vn.name) != 0 ||
            get_str(v, o, vp, "kind", 0, 8, &kind) != 0 ||
            get_cidr(v, o, vp, "cidr", 1, &vn.cidr, NULL) != 0)
            return -1;
        char kp[256];
        subpath(kp, sizeof kp, vp, "kind");
        if (kind == NULL || strcmp(kind, "spoke") == 0)
            vn.kind = VNET_SPOKE;
        else if (strcmp(kind, "hub") == 0)
            vn.kind = VNET_HUB;
        else if (strcmp(kind, "vwan") == 0)
            vn.kind = VNET_VWAN;
        else
            return verr(v, cJSON_GetObjectItemCaseSensitive(o, "kind"), kp,
                        "'%s': expected hub, spoke or vwan", kind);
        if (find_vnet(sc, vn.name) >= 0)
            return verr(v, o, vp, "duplicate vnet name '%s'", vn.name);
        char cp[256];
        subpath(cp, sizeof cp, vp, "cidr");
        if (check_space(v, cJSON_GetObjectItemCaseSensitive(o, "cidr"), cp, &vn.cidr,
                        "address space") != 0)
            return -1;
        if (vn.kind != VNET_SPOKE) {
            if (sc->hub >= 0)
                return verr(v, o, vp, "a second hub ('%s' is the hub already)",
                            sc->vnets[sc->hub].name);
            sc->hub = (int)sc->n_vnets;
        }
        sc->vnets[sc->n_vnets++] = vn;
    }
    /* pass 2: the rest, now that every vnet is known */
    i = 0;
    cJSON_ArrayForEach(o, arr)
    {
        int vi = (int)i;
        char vp[256];
        idxpath(vp, sizeof vp, "vnets", i++);
        struct sim_vnet *vn = &sc->vnets[vi];
        int dflt_log = vn->kind != VNET_VWAN;
        if (get_bool(v, o, vp, "flow_logs", dflt_log, &vn->logged) != 0)
            return -1;
        const cJSON *fw = cJSON_GetObjectItemCaseSensitive(o, "firewall");
        const cJSON *gw = cJSON_GetObjectItemCaseSensitive(o, "gateway_subnet");
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(o, "secured");
        const cJSON *vf = cJSON_GetObjectItemCaseSensitive(o, "via_firewall");
        const cJSON *pe = cJSON_GetObjectItemCaseSensitive(o, "peered");
        const cJSON *subs = cJSON_GetObjectItemCaseSensitive(o, "subnets");
        char p[256];
        if (vn->kind == VNET_SPOKE) {
            if (fw || gw || sec) {
                const cJSON *bad = fw ? fw : gw ? gw : sec;
                subpath(p, sizeof p, vp, bad->string);
                return verr(v, bad, p, "only the hub has %s", bad->string);
            }
        } else {
            if (vf || pe) {
                const cJSON *bad = vf ? vf : pe;
                subpath(p, sizeof p, vp, bad->string);
                return verr(v, bad, p, "%s is a spoke setting", bad->string);
            }
        }
        if (vn->kind == VNET_VWAN) {
            if (subs != NULL || gw != NULL) {
                const cJSON *bad = subs ? subs : gw;
                subpath(p, sizeof p, vp, bad->string);
                return verr(v, bad, p,
                            "a Virtual WAN hub is Microsoft-managed: no subnets, VMs or "
                            "gateway subnet of yours");
            }
            if (get_bool(v, o, vp, "secured", 0, &sc->vwan_secured) != 0)
                return -1;
            if (fw != NULL) { /* a secured hub's Azure Firewall policy: rules only */
                static const char *const fkeys[] = {"allow", NULL};
                subpath(p, sizeof p, vp, "firewall");
                if (!sc->vwan_secured)
                    return verr(v, fw, p, "only a secured Virtual WAN hub has a firewall");
                if (check_keys(v, fw, p, fkeys) != 0)
                    return -1;
                sc->has_firewall = 1;
            }
            vn->logged = 0; /* nothing of yours to log */
        }
        if (vn->kind == VNET_HUB) {
            if (sec) {
                subpath(p, sizeof p, vp, "secured");
                return verr(v, sec, p, "secured is a vwan setting");
            }
            if (fw != NULL) {
                subpath(p, sizeof p, vp, "firewall");
                if (parse_firewall(v, fw, p, vn) != 0)
                    return -1;
            }
            if (gw != NULL) {
                int present;
                if (get_cidr(v, o, vp, "gateway_subnet", 0, &sc->gw_subnet, &present) != 0)
                    return -1;
                subpath(p, sizeof p, vp, "gateway_subnet");
                if (sc->gw_subnet.len > 27)
                    return verr(v, gw, p, "the GatewaySubnet must be /27 or larger");
                if (!cidr_inside(&sc->gw_subnet, &vn->cidr))
                    return verr(v, gw, p, "not inside hub vnet '%s'", vn->name);
                if (sc->has_firewall && cidr_overlap(&sc->gw_subnet, &sc->fw_subnet))
                    return verr(v, gw, p, "overlaps the AzureFirewallSubnet");
            }
        }
        if (vn->kind == VNET_SPOKE) {
            if (get_bool(v, o, vp, "peered", sc->hub >= 0, &vn->peered) != 0)
                return -1;
            if (vn->peered && sc->hub < 0) {
                subpath(p, sizeof p, vp, "peered");
                return verr(v, pe ? pe : o, pe ? p : vp, "peered with a hub, but no vnet has kind hub or vwan");
            }
            int fw_default = vn->peered && sc->hub >= 0 && sc->vnets[sc->hub].kind == VNET_HUB &&
                             cJSON_GetObjectItemCaseSensitive(
                                 cJSON_GetArrayItem(arr, sc->hub), "firewall") != NULL;
            if (get_bool(v, o, vp, "via_firewall", fw_default, &vn->via_firewall) != 0)
                return -1;
            if (vn->via_firewall && !fw_default && !(sc->hub >= 0 &&
                                                     sc->vnets[sc->hub].kind == VNET_VWAN)) {
                subpath(p, sizeof p, vp, "via_firewall");
                return verr(v, vf, p, "no hub firewall to route through (give the hub a firewall)");
            }
        }
        subpath(p, sizeof p, vp, "subnets");
        if (parse_subnets(v, subs, p, vi) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ selectors */

static int parse_sel(struct vctx *v, const cJSON *node, const char *path, int nsg,
                     struct sim_sel *out)
{
    struct sim_scenario *sc = v->sc;
    memset(out, 0, sizeof *out);
    if (!cJSON_IsString(node))
        return verr(v, node, path, "expected a selector string (role:, vnet:, subnet:, vm:, "
                                   "a CIDR, internet, onprem or *)");
    const char *s = node->valuestring;
    if (strcmp(s, "*") == 0) {
        out->kind = SEL_ANY;
        return 0;
    }
    if (strcmp(s, "internet") == 0 || strcmp(s, "Internet") == 0) {
        out->kind = SEL_INTERNET;
        return 0;
    }
    if (strcmp(s, "onprem") == 0) {
        if (sc->n_onprem == 0)
            return verr(v, node, path, "'onprem': the scenario has no onprem ranges");
        out->kind = SEL_ONPREM;
        return 0;
    }
    if (nsg && strcmp(s, "VirtualNetwork") == 0) {
        out->kind = SEL_VNETTAG;
        return 0;
    }
    if (nsg && strcmp(s, "AzureLoadBalancer") == 0) {
        out->kind = SEL_LBTAG;
        return 0;
    }
    const char *colon = strchr(s, ':');
    if (colon == NULL || strncmp(s, "cidr:", 5) == 0) {
        out->kind = SEL_CIDR;
        if (sim_parse_cidr(colon ? colon + 1 : s, &out->cidr) != 0)
            return verr(v, node, path,
                        "'%.60s': expected role:, vnet:, subnet:, vm:, cidr:, a CIDR, internet, "
                        "onprem or *",
                        s);
        return 0;
    }
    const char *arg = colon + 1;
    size_t kl = (size_t)(colon - s);
    if (kl == 4 && strncmp(s, "role", 4) == 0) {
        out->kind = SEL_ROLE;
        out->idx = find_role(sc, arg);
        int used = 0;
        for (size_t i = 0; i < sc->n_vms && out->idx >= 0; i++)
            used |= sc->vms[i].role == out->idx;
        if (out->idx < 0 || !used)
            return verr(v, node, path, "'%.60s': no VM has role '%.40s'", s, arg);
        return 0;
    }
    if (kl == 4 && strncmp(s, "vnet", 4) == 0) {
        out->kind = SEL_VNET;
        out->idx = find_vnet(sc, arg);
        if (out->idx < 0)
            return verr(v, node, path, "'%.60s': no vnet named '%.40s'", s, arg);
        return 0;
    }
    if (kl == 6 && strncmp(s, "subnet", 6) == 0) {
        out->kind = SEL_SUBNET;
        const char *sl = strchr(arg, '/');
        out->idx = -1;
        if (sl != NULL) {
            char vn[SIM_NAME_MAX];
            size_t n = (size_t)(sl - arg);
            if (n < sizeof vn) {
                memcpy(vn, arg, n);
                vn[n] = '\0';
                int vi = find_vnet(sc, vn);
                for (size_t i = 0; i < sc->n_subnets && vi >= 0; i++)
                    if (sc->subnets[i].vnet == vi && strcmp(sc->subnets[i].name, sl + 1) == 0)
                        out->idx = (int)i;
            }
        }
        if (out->idx < 0)
            return verr(v, node, path, "'%.60s': no such subnet (write subnet:VNET/SUBNET)", s);
        return 0;
    }
    if (kl == 2 && strncmp(s, "vm", 2) == 0) {
        out->kind = SEL_VM;
        out->idx = -1;
        for (size_t i = 0; i < sc->n_vms; i++)
            if (strcmp(sc->vms[i].name, arg) == 0)
                out->idx = (int)i;
        if (out->idx < 0)
            return verr(v, node, path, "'%.60s': no VM named '%.40s'", s, arg);
        return 0;
    }
    return verr(v, node, path, "'%.60s': unknown selector kind", s);
}

static int cmp_ipix(const void *a, const void *b)
{
    uint32_t x = ((const struct sim_ipix *)a)->ip, y = ((const struct sim_ipix *)b)->ip;
    return x < y ? -1 : x > y;
}

int sim_vm_at(const struct sim_scenario *sc, uint32_t a)
{
    size_t lo = 0, hi = sc->n_vms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sc->ip_ix[mid].ip < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < sc->n_vms && sc->ip_ix[lo].ip == a ? sc->ip_ix[lo].vm : -1;
}

int sim_is_vnet_addr(const struct sim_scenario *sc, uint32_t a)
{
    for (size_t i = 0; i < sc->n_vnets; i++)
        if (sim_cidr_has(&sc->vnets[i].cidr, a))
            return 1;
    for (size_t i = 0; i < sc->n_onprem; i++)
        if (sim_cidr_has(&sc->onprem[i], a))
            return 1;
    return 0;
}

int sim_sel_match(const struct sim_scenario *sc, const struct sim_sel *s, int vm, uint32_t a)
{
    switch (s->kind) {
    case SEL_ANY:
        return 1;
    case SEL_ROLE:
        return vm >= 0 && sc->vms[vm].role == s->idx;
    case SEL_VNET:
        return sim_cidr_has(&sc->vnets[s->idx].cidr, a);
    case SEL_SUBNET:
        return sim_cidr_has(&sc->subnets[s->idx].cidr, a);
    case SEL_VM:
        return vm == s->idx;
    case SEL_CIDR:
        return sim_cidr_has(&s->cidr, a);
    case SEL_INTERNET:
        return !sim_is_vnet_addr(sc, a);
    case SEL_ONPREM:
        for (size_t i = 0; i < sc->n_onprem; i++)
            if (sim_cidr_has(&sc->onprem[i], a))
                return 1;
        return 0;
    case SEL_VNETTAG:
        return sim_is_vnet_addr(sc, a);
    case SEL_LBTAG:
        return a == 0xa83f8110u; /* 168.63.129.16 */
    }
    return 0;
}

/* ------------------------------------------------------------ NSGs */

static int parse_nsg(struct vctx *v, const cJSON *arr, const char *path, struct sim_subnet *sn)
{
    if (arr == NULL)
        return 0;
    if (!cJSON_IsArray(arr))
        return verr(v, arr, path, "expected an array of rules");
    size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
    sn->nsg = zalloc(n, sizeof *sn->nsg);
    if (sn->nsg == NULL)
        return verr(v, arr, path, "out of memory");
    sn->cap_nsg = n;
    const cJSON *r;
    cJSON_ArrayForEach(r, arr)
    {
        char rp[256];
        idxpath(rp, sizeof rp, path, i++);
        static const char *const keys[] = {"name", "access", "direction", "from",
                                           "to",   "ports",  "proto",     NULL};
        if (check_keys(v, r, rp, keys) != 0)
            return -1;
        struct sim_nsg_rule *x = &sn->nsg[sn->n_nsg];
        const char *acc, *dir;
        if (get_name(v, r, rp, "name", 1, x->name, sizeof x->name) != 0 ||
            get_str(v, r, rp, "access", 1, 8, &acc) != 0 ||
            get_str(v, r, rp, "direction", 0, 8, &dir) != 0)
            return -1;
        char p[256];
        if (strcmp(acc, "allow") != 0 && strcmp(acc, "deny") != 0) {
            subpath(p, sizeof p, rp, "access");
            return verr(v, cJSON_GetObjectItemCaseSensitive(r, "access"), p,
                        "'%s': expected allow or deny", acc);
        }
        x->allow = strcmp(acc, "allow") == 0;
        if (dir != NULL && strcmp(dir, "in") != 0 && strcmp(dir, "out") != 0) {
            subpath(p, sizeof p, rp, "direction");
            return verr(v, cJSON_GetObjectItemCaseSensitive(r, "direction"), p,
                        "'%s': expected in or out", dir);
        }
        x->inbound = dir == NULL || strcmp(dir, "in") == 0;
        const char *pk = x->inbound ? "from" : "to";
        const char *other = x->inbound ? "to" : "from";
        if (cJSON_GetObjectItemCaseSensitive(r, other) != NULL) {
            subpath(p, sizeof p, rp, other);
            return verr(v, cJSON_GetObjectItemCaseSensitive(r, other), p,
                        "an %s rule names its peer with '%s'",
                        x->inbound ? "inbound" : "outbound", pk);
        }
        const cJSON *peer = cJSON_GetObjectItemCaseSensitive(r, pk);
        if (peer == NULL)
            x->peer.kind = SEL_ANY;
        else {
            subpath(p, sizeof p, rp, pk);
            if (parse_sel(v, peer, p, 1, &x->peer) != 0)
                return -1;
        }
        const cJSON *ports = cJSON_GetObjectItemCaseSensitive(r, "ports");
        if (ports == NULL)
            x->ports.any = 1;
        else {
            subpath(p, sizeof p, rp, "ports");
            if (get_ports(v, ports, p, 0, &x->ports) != 0)
                return -1;
        }
        if (get_proto(v, r, rp, "proto", SIM_PROTO_ANY, 0, 1, &x->proto) != 0)
            return -1;
        for (size_t k = 0; k < sn->n_nsg; k++)
            if (strcmp(sn->nsg[k].name, x->name) == 0)
                return verr(v, r, rp, "duplicate NSG rule name '%s'", x->name);
        sn->n_nsg++;
    }
    return 0;
}

/* ------------------------------------------------------------ traffic */

static const char *const diurnal_names[] = {"flat", "office", "night", NULL};

static void diurnal_shape(int which, double out[24])
{
    /* Relative activity by UTC hour, normalised to mean 1 below. office:
     * working hours 08-18 with a lunch dip; night: batch jobs 00-05. */
    static const double office[24] = {0.15, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8,
                                      1.6,  2.0, 2.1, 2.0, 1.6, 1.9, 2.0, 1.9,
                                      1.6,  1.2, 0.8, 0.6, 0.4, 0.3, 0.2, 0.15};
    static const double night[24] = {2.5, 3.0, 3.0, 2.5, 2.0, 1.0, 0.5, 0.3, 0.2, 0.2, 0.2, 0.2,
                                      0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.4, 0.5, 0.8, 1.2, 1.8};
    double sum = 0;
    for (int h = 0; h < 24; h++) {
        out[h] = which == 1 ? office[h] : which == 2 ? night[h] : 1.0;
        sum += out[h];
    }
    for (int h = 0; h < 24; h++)
        out[h] *= 24.0 / sum;
}

static int get_dist(struct vctx *v, const cJSON *obj, const char *path, const char *key,
                    int def_kind, double def_a, double def_b, struct sim_dist *d)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
    d->kind = def_kind;
    d->a = def_a;
    d->b = def_b;
    if (n == NULL)
        return 0;
    char p[256];
    subpath(p, sizeof p, path, key);
    static const char *const keys[] = {"dist", "median", "sigma", "mean", "shape", "scale", NULL};
    if (check_keys(v, n, p, keys) != 0)
        return -1;
    const char *dist;
    if (get_str(v, n, p, "dist", 0, 16, &dist) != 0)
        return -1;
    int kind = dist == NULL ? def_kind
               : strcmp(dist, "lognormal") == 0 ? 0
               : strcmp(dist, "exponential") == 0 ? 1
               : strcmp(dist, "pareto") == 0 ? 2
                                                   : -1;
    if (kind < 0) {
        char dp[256];
        subpath(dp, sizeof dp, p, "dist");
        return verr(v, cJSON_GetObjectItemCaseSensitive(n, "dist"), dp,
                    "'%s': expected lognormal, exponential or pareto", dist);
    }
    d->kind = kind;
    if (kind == 0)
        return get_num(v, n, p, "median", 1e-6, 1e12, 0, def_kind == 0 ? def_a : 1000, 0, &d->a) ||
               get_num(v, n, p, "sigma", 0, 10, 0, def_kind == 0 ? def_b : 1, 0, &d->b);
    if (kind == 1)
        return get_num(v, n, p, "mean", 1e-6, 1e12, 0, def_kind == 1 ? def_a : 1, 0, &d->a);
    return get_num(v, n, p, "shape", 0.1, 100, 0, 1.5, 0, &d->a) ||
           get_num(v, n, p, "scale", 1e-6, 1e12, 0, 1, 0, &d->b);
}

static int parse_traffic(struct vctx *v, const cJSON *root)
{
    struct sim_scenario *sc = v->sc;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "traffic");
    if (arr == NULL)
        return 0;
    if (!cJSON_IsArray(arr))
        return verr(v, arr, "traffic", "expected an array");
    size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
    if (n > 10000) /* stream ids 1000 + i stay below the campaigns' */
        return verr(v, arr, "traffic", "at most 10000 traffic entries");
    sc->traffic = zalloc(n, sizeof *sc->traffic);
    if (sc->traffic == NULL)
        return verr(v, arr, "traffic", "out of memory");
    sc->cap_traffic = n;
    const cJSON *t;
    cJSON_ArrayForEach(t, arr)
    {
        char tp[256];
        idxpath(tp, sizeof tp, "traffic", i++);
        static const char *const keys[] = {"name",    "from",      "to",       "ports",
                                           "proto",   "rate",      "diurnal",  "success",
                                           "bytes_out", "bytes_in", "duration", NULL};
        if (check_keys(v, t, tp, keys) != 0)
            return -1;
        struct sim_traffic *x = &sc->traffic[sc->n_traffic];
        char p[256];
        if (get_name(v, t, tp, "name", 0, x->name, sizeof x->name) != 0)
            return -1;
        if (x->name[0] == '\0')
            snprintf(x->name, sizeof x->name, "traffic%zu", i - 1);
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(t, "from");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(t, "to");
        const cJSON *ports = cJSON_GetObjectItemCaseSensitive(t, "ports");
        if (f == NULL || to == NULL || ports == NULL)
            return verr(v, t, tp, "a traffic entry needs from, to and ports");
        subpath(p, sizeof p, tp, "from");
        if (parse_sel(v, f, p, 0, &x->from) != 0)
            return -1;
        if (x->from.kind == SEL_ANY || x->from.kind == SEL_CIDR)
            return verr(v, f, p, "sources must be VMs (role:, vnet:, subnet:, vm:), onprem or "
                                 "internet");
        subpath(p, sizeof p, tp, "to");
        if (parse_sel(v, to, p, 0, &x->to) != 0)
            return -1;
        if (x->to.kind == SEL_ANY || x->to.kind == SEL_ONPREM || x->to.kind == SEL_INTERNET)
            return verr(v, to, p, "destinations must be VMs (role:, vnet:, subnet:, vm:) or a "
                                  "CIDR");
        if (get_proto(v, t, tp, "proto", SIM_PROTO_TCP, 0, 0, &x->proto) != 0)
            return -1;
        subpath(p, sizeof p, tp, "ports");
        if (get_ports(v, ports, p, x->proto == SIM_PROTO_UDP, &x->ports) != 0)
            return -1;
        if (x->ports.any)
            return verr(v, ports, p, "name the ports ('*' is for NSG rules)");
        if (get_num(v, t, tp, "rate", 0, 1e6, 0, 0, 1, &x->rate) != 0 ||
            get_num(v, t, tp, "success", 0, 1, 0, 0.99, 0, &x->success) != 0 ||
            get_dist(v, t, tp, "bytes_out", 0, 1500, 1.0, &x->bytes_out) != 0 ||
            get_dist(v, t, tp, "bytes_in", 0, 20000, 1.5, &x->bytes_in) != 0 ||
            get_dist(v, t, tp, "duration", 1, 2.0, 0, &x->duration_s) != 0)
            return -1;
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(t, "diurnal");
        subpath(p, sizeof p, tp, "diurnal");
        if (d == NULL) {
            diurnal_shape(0, x->diurnal);
        } else if (cJSON_IsString(d)) {
            int k;
            for (k = 0; diurnal_names[k] && strcmp(diurnal_names[k], d->valuestring); k++)
                ;
            if (diurnal_names[k] == NULL)
                return verr(v, d, p, "'%.40s': expected flat, office, night or 24 numbers",
                            d->valuestring);
            diurnal_shape(k, x->diurnal);
        } else if (cJSON_IsArray(d) && cJSON_GetArraySize(d) == 24) {
            double sum = 0;
            int h = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, d)
            {
                if (!cJSON_IsNumber(e) || e->valuedouble < 0 || !isfinite(e->valuedouble))
                    return verr(v, e, p, "expected 24 numbers >= 0");
                x->diurnal[h++] = e->valuedouble;
                sum += e->valuedouble;
            }
            if (sum <= 0)
                return verr(v, d, p, "expected some hour above 0");
            if (!isfinite(sum) || !isfinite(24.0 / sum)) {
                /* weights so large their sum overflows, or so small 24/sum
                 * does: scale by the largest first (the usual case keeps
                 * its exact arithmetic, and so its bytes) */
                double max = 0;
                for (h = 0; h < 24; h++)
                    max = x->diurnal[h] > max ? x->diurnal[h] : max;
                sum = 0;
                for (h = 0; h < 24; h++)
                    sum += x->diurnal[h] /= max;
            }
            for (h = 0; h < 24; h++)
                x->diurnal[h] *= 24.0 / sum;
        } else {
            return verr(v, d, p, "expected flat, office, night or an array of 24 numbers");
        }
        sc->n_traffic++;
    }
    return 0;
}

/* ------------------------------------------------------------ hard negatives */

static int parse_hard(struct vctx *v, const cJSON *root)
{
    struct sim_scenario *sc = v->sc;
    sc->vuln_hour = -1;
    sc->backup_hour = -1;
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(root, "hard_negatives");
    if (h == NULL)
        return 0;
    static const char *const keys[] = {"lb_probes", "platform", "monitoring",
                                       "backup",    "ad",       "dns",
                                       "vulnerability_scanner", "internet_noise",
                                       "internet_clients", NULL};
    if (check_keys(v, h, "hard_negatives", keys) != 0)
        return -1;
    const cJSON *o;
    char p[256];
#define SUB(key, ...)                                                                              \
    if ((o = cJSON_GetObjectItemCaseSensitive(h, key)) != NULL) {                                  \
        static const char *const k_[] = {__VA_ARGS__, NULL};                                       \
        subpath(p, sizeof p, "hard_negatives", key);                                               \
        if (check_keys(v, o, p, k_) != 0)                                                          \
            return -1;
#define END }
    SUB("lb_probes", "interval_s")
    if (get_num(v, o, p, "interval_s", 1, 3600, 0, 15, 0, &sc->lb_interval_s) != 0)
        return -1;
    END SUB("platform", "interval_s")
    if (get_num(v, o, p, "interval_s", 10, 86400, 0, 300, 0, &sc->platform_interval_s) != 0)
        return -1;
    END SUB("monitoring", "interval_s", "ports")
    if (get_num(v, o, p, "interval_s", 10, 86400, 0, 300, 0, &sc->mon_interval_s) != 0)
        return -1;
    const cJSON *ports = cJSON_GetObjectItemCaseSensitive(o, "ports");
    char pp[256];
    subpath(pp, sizeof pp, p, "ports");
    if (ports != NULL ? get_ports(v, ports, pp, 0, &sc->mon_ports)
                      : port_spec(v, o, pp, "22,5985,9100", 0, &sc->mon_ports))
        return -1;
    END SUB("backup", "hour", "port")
    double hr, port;
    if (get_num(v, o, p, "hour", 0, 23, 1, 1, 0, &hr) != 0 ||
        get_num(v, o, p, "port", 1, 65535, 1, 445, 0, &port) != 0)
        return -1;
    sc->backup_hour = (int)hr;
    sc->backup_port = (uint16_t)port;
    END SUB("ad", "logons_per_vm_hour")
    if (get_num(v, o, p, "logons_per_vm_hour", 0.01, 1000, 0, 1, 0, &sc->ad_logons) != 0)
        return -1;
    END SUB("dns", "per_vm_hour")
    if (get_num(v, o, p, "per_vm_hour", 0.01, 100000, 0, 30, 0, &sc->dns_rate) != 0)
        return -1;
    END SUB("vulnerability_scanner", "hour", "ports")
    double hr;
    if (get_num(v, o, p, "hour", 0, 23, 1, 2, 0, &hr) != 0)
        return -1;
    sc->vuln_hour = (int)hr;
    const cJSON *ports = cJSON_GetObjectItemCaseSensitive(o, "ports");
    char pp[256];
    subpath(pp, sizeof pp, p, "ports");
    if (ports != NULL ? get_ports(v, ports, pp, 0, &sc->vuln_ports)
                      : port_spec(v, o, pp, "top:30", 0, &sc->vuln_ports))
        return -1;
    END SUB("internet_noise", "per_ip_hour")
    if (get_num(v, o, p, "per_ip_hour", 0.01, 100000, 0, 6, 0, &sc->noise_rate) != 0)
        return -1;
    END SUB("internet_clients", "per_hour")
    if (get_num(v, o, p, "per_hour", 0.01, 1e7, 0, 300, 0, &sc->inet_clients) != 0)
        return -1;
    END
#undef SUB
#undef END
    /* roles the classes need */
    static const struct {
        const char *key, *role;
    } need[] = {{"monitoring", "monitor"},
                {"backup", "backup"},
                {"ad", "dc"},
                {"dns", "dns"},
                {"vulnerability_scanner", "vulnscan"}};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(h, need[i].key);
        if (k == NULL)
            continue;
        int ri = find_role(sc, need[i].role), used = 0;
        for (size_t j = 0; j < sc->n_vms && ri >= 0; j++)
            used |= sc->vms[j].role == ri;
        if (!used) {
            subpath(p, sizeof p, "hard_negatives", need[i].key);
            return verr(v, k, p, "needs a VM with role '%s'", need[i].role);
        }
    }
    return 0;
}

/* ------------------------------------------------------------ campaigns */

static const char *const kind_names[SIM_K_COUNT] = {"horizontal", "vertical",    "block",
                                                    "slow",       "distributed", "udp"};

const char *sim_kind_name(int kind)
{
    return kind >= 0 && kind < SIM_K_COUNT ? kind_names[kind] : "?";
}

/* "+2h30m", "+90m", "+45s", or an ISO time; relative to the scenario start. */
static int parse_when(const struct sim_scenario *sc, const char *s, int64_t *out)
{
    if (s[0] != '+')
        return scand_time_parse(s, out) == SCAND_OK ? 0 : -1;
    int64_t ms = 0;
    const char *q = s + 1;
    if (*q == '\0')
        return -1;
    while (*q) {
        char *e;
        long n = strtol(q, &e, 10);
        if (e == q || n < 0 || n > 1000000)
            return -1;
        int64_t unit = *e == 'h' ? 3600000 : *e == 'm' ? 60000 : *e == 's' ? 1000 : 0;
        if (unit == 0)
            return -1;
        ms += n * unit;
        q = e + 1;
    }
    *out = sc->start_ms + ms;
    return 0;
}

static int parse_campaigns(struct vctx *v, const cJSON *root)
{
    struct sim_scenario *sc = v->sc;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "campaigns");
    if (arr == NULL)
        return 0;
    if (!cJSON_IsArray(arr))
        return verr(v, arr, "campaigns", "expected an array");
    size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
    if (n > 65535)
        return verr(v, arr, "campaigns", "at most 65535 campaigns");
    sc->camps = zalloc(n, sizeof *sc->camps);
    if (sc->camps == NULL)
        return verr(v, arr, "campaigns", "out of memory");
    sc->cap_camps = n;
    const cJSON *c;
    cJSON_ArrayForEach(c, arr)
    {
        char cp[256], p[256];
        idxpath(cp, sizeof cp, "campaigns", i++);
        static const char *const keys[] = {"id",    "kind",  "from",    "sources", "to",
                                           "ports", "proto", "start",   "timing",  "rate",
                                           "order", "tool",  "retries", "shape",   "max_hosts",
                                           NULL};
        if (check_keys(v, c, cp, keys) != 0)
            return -1;
        struct sim_campaign *x = &sc->camps[sc->n_camps];
        const char *kind, *start, *timing, *order, *tool, *shape;
        if (get_name(v, c, cp, "id", 1, x->id, sizeof x->id) != 0 ||
            get_str(v, c, cp, "kind", 1, 16, &kind) != 0)
            return -1;
        for (size_t k = 0; k < sc->n_camps; k++)
            if (strcmp(sc->camps[k].id, x->id) == 0)
                return verr(v, c, cp, "duplicate campaign id '%s'", x->id);
        for (x->kind = 0; x->kind < SIM_K_COUNT && strcmp(kind_names[x->kind], kind); x->kind++)
            ;
        if (x->kind == SIM_K_COUNT) {
            subpath(p, sizeof p, cp, "kind");
            return verr(v, cJSON_GetObjectItemCaseSensitive(c, "kind"), p,
                        "'%s': expected horizontal, vertical, block, slow, distributed or udp",
                        kind);
        }
        x->shape = x->kind == SIM_K_VERTICAL || x->kind == SIM_K_UDP ? SHAPE_VERTICAL
                   : x->kind == SIM_K_BLOCK                          ? SHAPE_BLOCK
                                                                     : SHAPE_HORIZONTAL;
        if (get_str(v, c, cp, "shape", 0, 16, &shape) != 0)
            return -1;
        if (shape != NULL) {
            subpath(p, sizeof p, cp, "shape");
            const cJSON *sn = cJSON_GetObjectItemCaseSensitive(c, "shape");
            if (x->kind != SIM_K_SLOW && x->kind != SIM_K_DISTRIBUTED && x->kind != SIM_K_UDP)
                return verr(v, sn, p, "shape is set by kind '%s'", kind);
            if (strcmp(shape, "horizontal") == 0)
                x->shape = SHAPE_HORIZONTAL;
            else if (strcmp(shape, "vertical") == 0)
                x->shape = SHAPE_VERTICAL;
            else if (strcmp(shape, "block") == 0)
                x->shape = SHAPE_BLOCK;
            else
                return verr(v, sn, p, "'%s': expected horizontal, vertical or block", shape);
        }
        if (get_proto(v, c, cp, "proto", x->kind == SIM_K_UDP ? SIM_PROTO_UDP : SIM_PROTO_TCP, 1,
                      0, &x->proto) != 0)
            return -1;
        if (x->kind == SIM_K_UDP && x->proto != SIM_PROTO_UDP) {
            subpath(p, sizeof p, cp, "proto");
            return verr(v, cJSON_GetObjectItemCaseSensitive(c, "proto"), p,
                        "a udp campaign is proto udp");
        }
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, "from");
        if (f == NULL)
            return verr(v, c, cp, "missing key 'from'");
        subpath(p, sizeof p, cp, "from");
        if (parse_sel(v, f, p, 0, &x->from) != 0)
            return -1;
        if (x->from.kind == SEL_ANY)
            return verr(v, f, p, "name the source: vm:, role:, vnet:, subnet:, an address, "
                                 "onprem or internet");
        double ns;
        if (get_num(v, c, cp, "sources", 1, 100000, 1, x->kind == SIM_K_DISTRIBUTED ? 20 : 1, 0,
                    &ns) != 0)
            return -1;
        x->n_sources = (uint32_t)ns;
        if (x->kind != SIM_K_DISTRIBUTED && x->n_sources != 1) {
            subpath(p, sizeof p, cp, "sources");
            return verr(v, cJSON_GetObjectItemCaseSensitive(c, "sources"), p,
                        "only a distributed campaign has several sources");
        }
        if (x->from.kind == SEL_VM && x->n_sources > 1) {
            subpath(p, sizeof p, cp, "from");
            return verr(v, f, p, "a distributed campaign needs a source set, not one VM");
        }
        if (x->from.kind == SEL_CIDR && x->from.cidr.len == 32 && x->n_sources > 1)
            return verr(v, f, p, "a distributed campaign needs a source range, not one address");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(c, "to");
        if (to == NULL)
            return verr(v, c, cp, "missing key 'to'");
        subpath(p, sizeof p, cp, "to");
        size_t nt = cJSON_IsArray(to) ? (size_t)cJSON_GetArraySize(to) : 1;
        if (nt == 0 || nt > MAX_ITEMS)
            return verr(v, to, p, "expected 1..%d target selectors", MAX_ITEMS);
        x->to = zalloc(nt, sizeof *x->to);
        if (x->to == NULL)
            return verr(v, to, p, "out of memory");
        if (cJSON_IsArray(to)) {
            const cJSON *e;
            size_t k = 0;
            cJSON_ArrayForEach(e, to)
            {
                char ep[256];
                idxpath(ep, sizeof ep, p, k);
                if (parse_sel(v, e, ep, 0, &x->to[k++]) != 0)
                    return -1;
            }
        } else if (parse_sel(v, to, p, 0, &x->to[0]) != 0) {
            return -1;
        }
        x->n_to = nt;
        for (size_t k = 0; k < nt; k++)
            if (x->to[k].kind == SEL_ANY || x->to[k].kind == SEL_INTERNET ||
                x->to[k].kind == SEL_ONPREM)
                return verr(v, to, p, "targets must be VMs (role:, vnet:, subnet:, vm:) or CIDRs "
                                      "of the estate");
        const cJSON *ports = cJSON_GetObjectItemCaseSensitive(c, "ports");
        subpath(p, sizeof p, cp, "ports");
        if (ports == NULL) {
            if (x->proto == SIM_PROTO_ICMP)
                sim_ports_add(&x->ports, 0);
            else
                return verr(v, c, cp, "missing key 'ports'");
        } else if (get_ports(v, ports, p, x->proto == SIM_PROTO_UDP, &x->ports) != 0) {
            return -1;
        } else if (x->ports.any) {
            return verr(v, ports, p, "name the ports (\"1-65535\" for all)");
        }
        uint64_t nhosts = 0; /* targets, an upper bound (repeats counted) */
        for (size_t k = 0; k < x->n_to; k++) {
            if (x->to[k].kind == SEL_CIDR) {
                nhosts += (uint64_t)(~x->to[k].cidr.mask) + 1;
                continue;
            }
            for (size_t q = 0; q < sc->n_vms; q++)
                nhosts += (uint64_t)sim_sel_match(sc, &x->to[k], (int)q, sc->vms[q].ip);
        }
        double mh0;
        if (get_num(v, c, cp, "max_hosts", 1, 16777216, 1, 0, 0, &mh0) != 0)
            return -1;
        if (mh0 > 0 && nhosts > (uint64_t)mh0)
            nhosts = (uint64_t)mh0;
        if (nhosts > SIM_MAX_TARGETS ||
            nhosts * (x->ports.n ? x->ports.n : 1) > SIM_MAX_PROBES) {
            char tp[256];
            subpath(tp, sizeof tp, cp, "to");
            return verr(v, to, tp,
                        "%llu targets x %zu ports is too large (at most %d targets and %d probes; "
                        "set max_hosts)",
                        (unsigned long long)nhosts, x->ports.n, SIM_MAX_TARGETS, SIM_MAX_PROBES);
        }
        if (x->shape == SHAPE_HORIZONTAL && x->ports.n > 3 && x->kind != SIM_K_DISTRIBUTED)
            return verr(v, ports, p, "a horizontal sweep probes 1..3 ports (use kind block)");
        if (get_str(v, c, cp, "start", 1, 40, &start) != 0)
            return -1;
        subpath(p, sizeof p, cp, "start");
        if (parse_when(sc, start, &x->start_ms) != 0)
            return verr(v, cJSON_GetObjectItemCaseSensitive(c, "start"), p,
                        "'%s': expected +1h30m (from the scenario start) or an ISO-8601 UTC time",
                        start);
        if (x->start_ms < sc->start_ms || x->start_ms >= sc->start_ms + sc->duration_ms)
            return verr(v, cJSON_GetObjectItemCaseSensitive(c, "start"), p,
                        "starts outside the scenario's time span");
        if (get_str(v, c, cp, "timing", 0, 4, &timing) != 0)
            return -1;
        const cJSON *rate = cJSON_GetObjectItemCaseSensitive(c, "rate");
        if (timing != NULL && rate != NULL)
            return verr(v, rate, cp, "give timing or rate, not both");
        /* nmap scan_delay for T0-T2 (scan_anchors.md 4.1); T3-T5 have none and
         * dynamic parallelism: we use 100, 300 and 1000 probes/s. */
        static const double t_interval[6] = {300000, 15000, 400, 10, 10.0 / 3, 1};
        int tdef = x->kind == SIM_K_SLOW ? 1 : 3;
        x->interval_ms = t_interval[tdef];
        if (timing != NULL) {
            if (timing[0] != 'T' || timing[1] < '0' || timing[1] > '5' || timing[2] != '\0') {
                subpath(p, sizeof p, cp, "timing");
                return verr(v, cJSON_GetObjectItemCaseSensitive(c, "timing"), p,
                            "'%s': expected T0..T5", timing);
            }
            x->interval_ms = t_interval[timing[1] - '0'];
        }
        if (rate != NULL) {
            double r;
            if (get_num(v, c, cp, "rate", 1e-5, 1e6, 0, 0, 1, &r) != 0) {
                subpath(p, sizeof p, cp, "rate");
                snprintf(v->err, v->errsz, "%s:%ld: %s: expected a number > 0", v->file,
                         scand_json_line(v->text, v->len, v->root, rate), p);
                return -1;
            }
            x->interval_ms = 1000.0 / r;
        }
        if (x->kind == SIM_K_SLOW && x->interval_ms < 5000)
            return verr(v, timing ? cJSON_GetObjectItemCaseSensitive(c, "timing") : rate, cp,
                        "a slow campaign probes at most once every 5 s (T0, T1 or rate <= 0.2)");
        if (get_str(v, c, cp, "order", 0, 16, &order) != 0 ||
            get_str(v, c, cp, "tool", 0, 16, &tool) != 0)
            return -1;
        x->sequential = order != NULL && strcmp(order, "sequential") == 0;
        if (order != NULL && !x->sequential && strcmp(order, "random") != 0) {
            subpath(p, sizeof p, cp, "order");
            return verr(v, cJSON_GetObjectItemCaseSensitive(c, "order"), p,
                        "'%s': expected random or sequential", order);
        }
        x->tool = tool == NULL || strcmp(tool, "nmap") == 0 ? 0
                  : strcmp(tool, "masscan") == 0            ? 1
                  : strcmp(tool, "connect") == 0            ? 2
                                                            : -1;
        if (x->tool < 0) {
            subpath(p, sizeof p, cp, "tool");
            return verr(v, cJSON_GetObjectItemCaseSensitive(c, "tool"), p,
                        "'%s': expected nmap, masscan or connect", tool);
        }
        double rt, mh;
        if (get_num(v, c, cp, "retries", 0, 10, 1, 1, 0, &rt) != 0 ||
            get_num(v, c, cp, "max_hosts", 1, 16777216, 1, 0, 0, &mh) != 0)
            return -1;
        x->retries = (int)rt;
        x->max_hosts = (uint32_t)mh;
        sc->n_camps++;
    }
    return 0;
}

/* ------------------------------------------------------------ top level */

static int parse_top(struct vctx *v, const cJSON *root)
{
    struct sim_scenario *sc = v->sc;
    static const char *const keys[] = {"name",     "description", "seed",      "start",
                                       "duration_hours", "subscription", "region", "roles",
                                       "vnets",    "peerings",    "onprem",    "traffic",
                                       "hard_negatives", "campaigns", NULL};
    if (check_keys(v, root, "", keys) != 0)
        return -1;
    const char *start, *desc, *sub, *region;
    double seed, hours;
    if (get_checked(v, root, "", "name", 1, 1, sc->name, sizeof sc->name) != 0 ||
        get_str(v, root, "", "description", 0, 4000, &desc) != 0 ||
        get_num(v, root, "", "seed", 0, 9007199254740991.0, 1, 1, 0, &seed) != 0 ||
        get_str(v, root, "", "start", 0, 40, &start) != 0 ||
        get_num(v, root, "", "duration_hours", 1, 24 * 31, 1, 24, 0, &hours) != 0 ||
        get_str(v, root, "", "subscription", 0, 36, &sub) != 0 ||
        get_name(v, root, "", "region", 0, sc->region, sizeof sc->region) != 0)
        return -1;
    (void)region;
    sc->seed = (uint64_t)seed;
    sc->duration_ms = (int64_t)hours * 3600000;
    snprintf(sc->subscription, sizeof sc->subscription, "%s",
             sub ? sub : "5ca11ab5-0000-4000-8000-000000000001");
    if (sc->region[0] == '\0')
        snprintf(sc->region, sizeof sc->region, "westeurope");
    for (const char *q = sc->subscription; *q; q++)
        if (!isxdigit((unsigned char)*q) && *q != '-')
            return verr(v, cJSON_GetObjectItemCaseSensitive(root, "subscription"), "subscription",
                        "expected a subscription GUID");
    if (scand_time_parse(start ? start : "2026-03-02T00:00:00Z", &sc->start_ms) != SCAND_OK)
        return verr(v, cJSON_GetObjectItemCaseSensitive(root, "start"), "start",
                    "'%s': expected an ISO-8601 UTC time", start);
    /* a flow log's times are epoch ms of 13 digits or more (fewer are read
     * as seconds): 10^12 ms is 2001-09-09T01:46:40Z, the next hour this */
    if (sc->start_ms < 1000000800000LL)
        return verr(v, cJSON_GetObjectItemCaseSensitive(root, "start"), "start",
                    "start at 2001-09-09T02:00:00Z or later (flow logs carry 13-digit epoch "
                    "milliseconds)");
    if (sc->start_ms % 3600000 != 0)
        return verr(v, cJSON_GetObjectItemCaseSensitive(root, "start"), "start",
                    "start on the hour (blobs cover whole hours)");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(root, "onprem");
    if (op != NULL) {
        if (!cJSON_IsArray(op))
            return verr(v, op, "onprem", "expected an array of CIDRs");
        size_t n = (size_t)cJSON_GetArraySize(op), i = 0;
        sc->onprem = zalloc(n, sizeof *sc->onprem);
        if (sc->onprem == NULL)
            return verr(v, op, "onprem", "out of memory");
        const cJSON *e;
        cJSON_ArrayForEach(e, op)
        {
            char p[64];
            idxpath(p, sizeof p, "onprem", i++);
            struct sim_cidr c;
            if (!cJSON_IsString(e) || sim_parse_cidr(e->valuestring, &c) != 0)
                return verr(v, e, p, "expected a CIDR like 192.168.0.0/16");
            if (check_reserved(v, e, p, &c, "range") != 0)
                return -1;
            for (size_t k = 0; k < sc->n_onprem; k++)
                if (cidr_overlap(&c, &sc->onprem[k]))
                    return verr(v, e, p, "overlaps onprem[%zu]", k);
            sc->onprem[sc->n_onprem++] = c;
        }
    }
    if (parse_roles(v, root) != 0 || parse_vnets(v, root) != 0)
        return -1;
    /* VM names are unique (selectors and resource ids use them) */
    if (sc->n_vms > 1) {
        struct named *ix = malloc(sc->n_vms * sizeof *ix);
        if (ix == NULL)
            return verr(v, root, "", "out of memory");
        for (size_t i = 0; i < sc->n_vms; i++)
            ix[i] = (struct named){sc->vms[i].name, (int)i};
        qsort(ix, sc->n_vms, sizeof *ix, cmp_named);
        for (size_t i = 1; i < sc->n_vms; i++)
            if (strcmp(ix[i].name, ix[i - 1].name) == 0) {
                int later = ix[i].i; /* the second of the two, in file order */
                char name[SIM_NAME_MAX + 16];
                snprintf(name, sizeof name, "%s", sc->vms[later].name);
                free(ix);
                return verr(v, v->vm_node[later], "vnets", "duplicate VM name '%s'", name);
            }
        free(ix);
    }
    /* NSGs and firewall rules name VMs, so they come after the topology */
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "vnets");
    size_t vi = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, arr)
    {
        char vp[256], p[256];
        idxpath(vp, sizeof vp, "vnets", vi);
        const struct sim_vnet *vn = &sc->vnets[vi++];
        const cJSON *subs = cJSON_GetObjectItemCaseSensitive(o, "subnets");
        for (int k = 0; k < vn->n_subnet; k++) {
            char sp[256];
            subpath(p, sizeof p, vp, "subnets");
            idxpath(sp, sizeof sp, p, (size_t)k);
            subpath(p, sizeof p, sp, "nsg");
            if (parse_nsg(v, cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(subs, k), "nsg"),
                          p, &sc->subnets[vn->first_subnet + k]) != 0)
                return -1;
        }
        const cJSON *fw = cJSON_GetObjectItemCaseSensitive(o, "firewall");
        if (fw != NULL) {
            subpath(p, sizeof p, vp, "firewall");
            if (parse_firewall_rules(v, fw, p) != 0)
                return -1;
        }
    }
    const cJSON *pe = cJSON_GetObjectItemCaseSensitive(root, "peerings");
    if (pe != NULL) {
        if (!cJSON_IsArray(pe))
            return verr(v, pe, "peerings", "expected an array of [spoke, spoke] pairs");
        size_t n = (size_t)cJSON_GetArraySize(pe), i = 0;
        sc->peer = zalloc(n, sizeof *sc->peer);
        if (sc->peer == NULL)
            return verr(v, pe, "peerings", "out of memory");
        const cJSON *e;
        cJSON_ArrayForEach(e, pe)
        {
            char p[64];
            idxpath(p, sizeof p, "peerings", i++);
            const cJSON *a = cJSON_GetArrayItem(e, 0), *b = cJSON_GetArrayItem(e, 1);
            if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsString(a) ||
                !cJSON_IsString(b))
                return verr(v, e, p, "expected [\"spokeA\", \"spokeB\"]");
            int x = find_vnet(sc, a->valuestring), y = find_vnet(sc, b->valuestring);
            if (x < 0 || y < 0)
                return verr(v, e, p, "no vnet named '%.40s'",
                            x < 0 ? a->valuestring : b->valuestring);
            if (x == y || sc->vnets[x].kind != VNET_SPOKE || sc->vnets[y].kind != VNET_SPOKE)
                return verr(v, e, p, "direct peerings join two different spokes");
            sc->peer[sc->n_peer][0] = x;
            sc->peer[sc->n_peer][1] = y;
            sc->n_peer++;
        }
    }
    /* VMs by address, for the generators' lookups */
    sc->ip_ix = zalloc(sc->n_vms, sizeof *sc->ip_ix);
    if (sc->ip_ix == NULL)
        return verr(v, root, "", "out of memory");
    for (size_t i = 0; i < sc->n_vms; i++)
        sc->ip_ix[i] = (struct sim_ipix){sc->vms[i].ip, (int)i};
    qsort(sc->ip_ix, sc->n_vms, sizeof *sc->ip_ix, cmp_ipix);
    /* effective flow logging: NIC over subnet over VNet */
    for (size_t i = 0; i < sc->n_vms; i++) {
        struct sim_vm *vm = &sc->vms[i];
        const struct sim_subnet *sn = &sc->subnets[vm->subnet];
        if (vm->logged < 0)
            vm->logged = sn->logged >= 0 ? sn->logged : sc->vnets[vm->vnet].logged;
        if (vm->listen.n == 0 && !vm->listen.any) {
            const struct sim_ports *rl = &sc->roles[vm->role].listen;
            vm->listen.any = rl->any;
            for (size_t k = 0; k < rl->n; k++)
                if (sim_ports_add(&vm->listen, rl->v[k]) != 0)
                    return verr(v, root, "", "out of memory");
        }
    }
    /* public IPs: Azure-owned 20.x space, one per VM that asks, in VM order */
    uint32_t next_pub = 0x14ee0004u; /* 20.238.0.4 */
    for (size_t i = 0; i < sc->n_vms; i++)
        if (sc->vms[i].pub)
            sc->vms[i].pub = next_pub++;
    if (parse_traffic(v, root) != 0 || parse_hard(v, root) != 0 || parse_campaigns(v, root) != 0)
        return -1;
    return 0;
}

static void free_ports_of(struct sim_scenario *sc)
{
    for (size_t i = 0; i < sc->n_roles; i++)
        sim_ports_free(&sc->roles[i].listen);
    for (size_t i = 0; i < sc->n_vms; i++)
        sim_ports_free(&sc->vms[i].listen);
    for (size_t i = 0; i < sc->n_subnets; i++) {
        for (size_t k = 0; k < sc->subnets[i].cap_nsg; k++)
            sim_ports_free(&sc->subnets[i].nsg[k].ports);
        free(sc->subnets[i].nsg);
    }
    for (size_t i = 0; i < sc->n_fw; i++)
        sim_ports_free(&sc->fw[i].ports);
    for (size_t i = 0; i < sc->cap_traffic; i++)
        sim_ports_free(&sc->traffic[i].ports);
    for (size_t i = 0; i < sc->cap_camps; i++) {
        sim_ports_free(&sc->camps[i].ports);
        free(sc->camps[i].to);
    }
    sim_ports_free(&sc->mon_ports);
    sim_ports_free(&sc->vuln_ports);
}

void sim_scenario_free(sim_scenario *sc)
{
    if (sc == NULL)
        return;
    free_ports_of(sc);
    free(sc->vnets);
    free(sc->subnets);
    free(sc->vms);
    free(sc->ip_ix);
    free(sc->roles);
    free(sc->peer);
    free(sc->fw);
    free(sc->onprem);
    free(sc->traffic);
    free(sc->camps);
    free(sc);
}

int sim_scenario_parse(const char *file, const char *text, size_t len, sim_scenario **out,
                       char *err, size_t errsize)
{
    *out = NULL;
    cJSON *root = scand_json_parse_doc(file, text, len, "the scenario object", err, errsize);
    if (root == NULL)
        return -1;
    struct sim_scenario *sc = calloc(1, sizeof *sc);
    if (sc == NULL) {
        cJSON_Delete(root);
        snprintf(err, errsize, "%s: out of memory", file);
        return -1;
    }
    snprintf(sc->file, sizeof sc->file, "%s", file);
    struct vctx v = {file, text, len, root, err, errsize, sc, NULL};
    int rc = cJSON_IsObject(root) ? parse_top(&v, root)
                                  : verr(&v, root, "", "a scenario is a JSON object");
    free(v.vm_node);
    cJSON_Delete(root);
    if (rc != 0) {
        sim_scenario_free(sc);
        return -1;
    }
    *out = sc;
    return 0;
}

const char *sim_scenario_name(const sim_scenario *sc)
{
    return sc->name;
}

uint64_t sim_scenario_seed(const sim_scenario *sc)
{
    return sc->seed;
}

void sim_scenario_set_seed(sim_scenario *sc, uint64_t seed)
{
    sc->seed = seed;
}
