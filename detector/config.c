/*
 * config.c - the detector's configuration: global keys, and rule instances
 * with their parameters, all reached as text keys ("reorder",
 * "horizontal.threshold") through one table of {name, type, range, help,
 * offset, families} [K2; ND ndpi_main.c config table]. scand_set_config(),
 * `--set k=v`, `--config FILE` (config_json.c), `scanlab config` and the
 * presets all go through it.
 *
 * A rule is an instance of a family (horizontal, vertical, block,
 * distributed, trw) under a name; setting "NAME.family" creates one. The
 * presets (preset.c) reproduce published rules.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scand_int.h"

#define DAY_MS 86400000ULL

enum { T_BOOL, T_UINT, T_DUR, T_ENUM, T_PORTS, T_CIDRS, T_PROB };

struct key_def {
    struct scand_config_info info;
    int type;
    size_t off;
    unsigned fams;                /* rule keys: bit (1 << family) of the families using it */
    const char *const *enum_name; /* T_ENUM: names by value */
};

static const char *const family_names[] = {"", "horizontal", "vertical", "block", "distributed",
                                           "trw", NULL};
static const char *const scope_names[] = {"any", "private", "public", NULL};
static const char *const dir_names[] = {"any", "in", "out", NULL};
static const char *const count_names[] = {"all", "failures", NULL};
static const char *const window_names[] = {"tumbling", "sliding", NULL};
static const char *const key_names[] = {"src", "src_dst", "src_port", "dst", "port", NULL};
static const char *const severity_names[] = {"", "low", "medium", "high", NULL};

const char *scandint_family_name(int f)
{
    static const char *const all[] = {"", "horizontal", "vertical", "block", "distributed", "trw"};
    return f >= 1 && f <= SCAND_FAM_TRW ? all[f] : "";
}

const char *scandint_severity_name(int s)
{
    return s >= 1 && s <= 3 ? severity_names[s] : "medium";
}

#define FAM(x) (1u << SCAND_FAM_##x)
#define COUNTING (FAM(HORIZONTAL) | FAM(VERTICAL) | FAM(BLOCK) | FAM(DISTRIBUTED))
#define ALLF (COUNTING | FAM(TRW))
#define R(field) offsetof(struct scandint_rule_cfg, field)
#define G(field) offsetof(struct scandint_cfg, field)

static const struct key_def global_keys[] = {
    {{"reorder", "duration", "5m", 0, DAY_MS,
      "how late a tuple may arrive (behind the newest seen) before its window closes", "all"},
     T_DUR, G(reorder_ms), 0, NULL},
    {{"flow_idle", "duration", "6m", 1000, DAY_MS,
      "a 5-tuple unseen this long starts a new flow (Azure writes C tuples every 5m)", "all"},
     T_DUR, G(flow_idle_ms), 0, NULL},
    {{"hash_seed", "uint", "1", 0, UINT64_MAX, "seed of the keyed hash of every table", "all"},
     T_UINT, G(hash_seed), 0, NULL},
    {{"suppress_platform", "bool", "true", 0, 1,
      "ignore flows to or from 168.63.129.16 and 169.254.169.254 (Azure platform)", "all"},
     T_BOOL, G(suppress_platform), 0, NULL},
    {{"hold_down", "duration", "0s", 0, 30 * DAY_MS,
      "after an alert, no other alert for the same rule and key for this long "
      "(0: one per window)",
      "all"},
     T_DUR, G(hold_down_ms), 0, NULL},
};

static const struct key_def rule_keys[] = {
    {{"family", "enum", "", 0, 0, "horizontal, vertical, block, distributed or trw; setting it "
                                  "creates the rule",
      "all"},
     T_ENUM, R(family), ALLF, family_names},
    {{"enabled", "bool", "true", 0, 1, "run this rule", "all"}, T_BOOL, R(enabled), ALLF, NULL},
    {{"threshold", "uint", "", 0, UINT32_MAX,
      "alert when the distinct count (distributed: of sources) is greater than this",
      "horizontal,vertical,block,distributed"},
     T_UINT, R(threshold), COUNTING, NULL},
    {{"window", "duration", "1m", 1000, DAY_MS,
      "window width; tumbling windows are aligned to the epoch like KQL bin()",
      "horizontal,vertical,block,distributed"},
     T_DUR, R(window_ms), COUNTING, NULL},
    {{"window_kind", "enum", "tumbling", 0, 0,
      "tumbling (KQL bin(), what production rules do) or sliding (no escape across a "
      "boundary; one alert per key per window)",
      "horizontal,vertical,block,distributed"},
     T_ENUM, R(sliding), COUNTING, window_names},
    {{"key", "enum", "", 0, 0,
      "what the count is per: horizontal src|src_port, vertical src_dst|src, distributed "
      "port|dst",
      "horizontal,vertical,distributed"},
     T_ENUM, R(key), FAM(HORIZONTAL) | FAM(VERTICAL) | FAM(DISTRIBUTED), key_names},
    {{"count", "enum", "all", 0, 0,
      "all flows, or failures only (D; B/E with nothing back; one packet each way, no payload)",
      "all"},
     T_ENUM, R(count), COUNTING, count_names},
    {{"proto", "uint", "0", 0, 255, "IANA protocol to count (6 TCP, 17 UDP), 0 = any", "all"},
     T_UINT, R(proto), ALLF, NULL},
    {{"ports", "ports", "*", 0, 0, "destination ports counted: *, 22, 0-9999, 22,80,443",
      "all"},
     T_PORTS, R(ports), ALLF, NULL},
    {{"exclude_ports", "ports", "", 0, 0, "destination ports never counted", "all"}, T_PORTS,
     R(exclude_ports), ALLF, NULL},
    {{"src", "enum", "any", 0, 0, "sources counted: any, private (RFC 1918, ULA) or public",
      "all"},
     T_ENUM, R(src_scope), ALLF, scope_names},
    {{"dst", "enum", "any", 0, 0, "destinations counted: any, private or public", "all"}, T_ENUM,
     R(dst_scope), ALLF, scope_names},
    {{"direction", "enum", "any", 0, 0,
      "tuples counted by direction at the logging NIC: any, in or out", "all"},
     T_ENUM, R(direction), ALLF, dir_names},
    {{"allow_src", "cidrs", "", 0, 0, "sources never counted (CIDRs, comma-separated)", "all"},
     T_CIDRS, R(allow_src), ALLF, NULL},
    {{"allow_dst", "cidrs", "", 0, 0, "destinations never counted (CIDRs)", "all"}, T_CIDRS,
     R(allow_dst), ALLF, NULL},
    {{"min_hosts", "uint", "2", 1, UINT32_MAX,
      "block: at least this many hosts; distributed per port: this many targets",
      "block,distributed"},
     T_UINT, R(min_hosts), FAM(BLOCK) | FAM(DISTRIBUTED), NULL},
    {{"min_ports", "uint", "2", 1, 65536,
      "block: at least this many ports; distributed per dst: this many ports", "block,distributed"},
     T_UINT, R(min_ports), FAM(BLOCK) | FAM(DISTRIBUTED), NULL},
    {{"theta0", "prob", "0.8", 0, 0, "TRW: P(success) of a benign source's first contact", "trw"},
     T_PROB, R(theta0), FAM(TRW), NULL},
    {{"theta1", "prob", "0.2", 0, 0, "TRW: P(success) of a scanner's first contact", "trw"},
     T_PROB, R(theta1), FAM(TRW), NULL},
    {{"alpha", "prob", "0.01", 0, 0, "TRW: false positive rate the thresholds aim at", "trw"},
     T_PROB, R(alpha), FAM(TRW), NULL},
    {{"beta", "prob", "0.99", 0, 0, "TRW: detection rate the thresholds aim at", "trw"}, T_PROB,
     R(beta), FAM(TRW), NULL},
    {{"idle", "duration", "1h", 1000, 30 * DAY_MS,
      "TRW: forget a source (its walk and contacts) after this long without a contact", "trw"},
     T_DUR, R(idle_ms), FAM(TRW), NULL},
    {{"severity", "enum", "medium", 0, 0, "severity of its alerts: low, medium or high", "all"},
     T_ENUM, R(severity), ALLF, severity_names},
};

#define N_GLOBAL (sizeof global_keys / sizeof global_keys[0])
#define N_RULEKEY (sizeof rule_keys / sizeof rule_keys[0])

size_t scand_config_count(void)
{
    return N_GLOBAL + N_RULEKEY;
}

const struct scand_config_info *scand_config_at(size_t i)
{
    if (i < N_GLOBAL)
        return &global_keys[i].info;
    i -= N_GLOBAL;
    return i < N_RULEKEY ? &rule_keys[i].info : NULL;
}

/* ------------------------------------------------------------ values */

/* Parse a duration: digits with an optional unit ms, s, m, h, d (default s). */
static int parse_duration(const char *v, uint64_t *ms)
{
    char *end;
    if (*v < '0' || *v > '9')
        return -1;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0)
        return -2;
    uint64_t mul;
    if (strcmp(end, "ms") == 0)
        mul = 1;
    else if (*end == '\0' || strcmp(end, "s") == 0)
        mul = 1000;
    else if (strcmp(end, "m") == 0)
        mul = 60000;
    else if (strcmp(end, "h") == 0)
        mul = 3600000;
    else if (strcmp(end, "d") == 0)
        mul = DAY_MS;
    else
        return -1;
    if (n > UINT64_MAX / mul)
        return -2;
    *ms = n * mul;
    return 0;
}

int scand_duration_parse(const char *v, uint64_t *ms)
{
    return parse_duration(v, ms) == 0 ? SCAND_OK : SCAND_ERR_INVAL;
}

static void format_duration(uint64_t ms, char *buf, size_t size)
{
    if (ms != 0 && ms % DAY_MS == 0)
        snprintf(buf, size, "%" PRIu64 "d", (uint64_t)(ms / DAY_MS));
    else if (ms != 0 && ms % 3600000 == 0)
        snprintf(buf, size, "%" PRIu64 "h", ms / 3600000);
    else if (ms != 0 && ms % 60000 == 0)
        snprintf(buf, size, "%" PRIu64 "m", ms / 60000);
    else if (ms % 1000 == 0)
        snprintf(buf, size, "%" PRIu64 "s", ms / 1000);
    else
        snprintf(buf, size, "%" PRIu64 "ms", ms);
}

/* "*", "", "22", "0-9999", "22,80,1000-2000": into p; 0 ok, -1 bad. */
static int parse_ports(const char *v, struct scandint_ports *p)
{
    struct scandint_ports r;
    memset(&r, 0, sizeof r);
    if (strlen(v) >= sizeof r.text)
        return -1;
    snprintf(r.text, sizeof r.text, "%s", v);
    if (strcmp(v, "*") == 0) {
        r.all = 1;
        *p = r;
        return 0;
    }
    const char *s = v;
    while (*s) {
        char *e;
        if (*s < '0' || *s > '9')
            return -1;
        unsigned long lo = strtoul(s, &e, 10), hi = lo;
        if (*e == '-') {
            const char *h = e + 1;
            if (*h < '0' || *h > '9')
                return -1;
            hi = strtoul(h, &e, 10);
        }
        if (lo > 65535 || hi > 65535 || lo > hi || r.n == SCANDINT_MAX_RANGES)
            return -1;
        r.lo[r.n] = (uint16_t)lo;
        r.hi[r.n++] = (uint16_t)hi;
        if (*e == ',' && e[1] != '\0')
            e++;
        else if (*e != '\0')
            return -1;
        s = e;
    }
    *p = r;
    return 0;
}

/* "10.0.0.0/8,fd00::/8": into c; 0 ok, -1 bad. */
static int parse_cidrs(const char *v, struct scandint_cidrs *c)
{
    struct scandint_cidrs r;
    memset(&r, 0, sizeof r);
    if (strlen(v) >= sizeof r.text)
        return -1;
    snprintf(r.text, sizeof r.text, "%s", v);
    const char *s = v;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (n == 0 || r.n == SCANDINT_MAX_CIDRS || scand_cidr_parse(s, n, &r.c[r.n]) != SCAND_OK)
            return -1;
        r.n++;
        s += n;
        if (*s == ',' && *++s == '\0')
            return -1; /* a trailing comma */
    }
    *c = r;
    return 0;
}

int scandint_cidrs_has(const struct scandint_cidrs *c, const uint8_t a[16])
{
    for (int i = 0; i < c->n; i++)
        if (scand_cidr_has(&c->c[i], a))
            return 1;
    return 0;
}

static int enum_index(const char *const *names, const char *v)
{
    for (int i = 0; names[i] != NULL; i++)
        if (names[i][0] != '\0' && strcmp(names[i], v) == 0)
            return i;
    return -1;
}

static void enum_list(const char *const *names, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; names[i] != NULL; i++) {
        if (names[i][0] == '\0')
            continue;
        size_t l = strlen(buf);
        snprintf(buf + l, size - l, "%s%s", l ? ", " : "", names[i]);
    }
}

/* Set one key k (shown as `name` in messages) in the struct at base. */
static int set_value(char *base, const struct key_def *k, const char *name, const char *v,
                     char *err)
{
    char *p = base + k->off;
    uint64_t n = 0;
    int rc = 0;
    switch (k->type) {
    case T_BOOL:
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0)
            *(int *)(void *)p = 1;
        else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
            *(int *)(void *)p = 0;
        else {
            scandint_seterr(err, "%s: expected true or false, got '%.40s'", name, v);
            return SCAND_ERR_INVAL;
        }
        return SCAND_OK;
    case T_ENUM: {
        int i = enum_index(k->enum_name, v);
        if (i < 0) {
            char list[160];
            enum_list(k->enum_name, list, sizeof list);
            scandint_seterr(err, "%s: expected one of %s, got '%.40s'", name, list, v);
            return SCAND_ERR_INVAL;
        }
        *(int *)(void *)p = i;
        return SCAND_OK;
    }
    case T_PORTS:
        /* no ports counted would switch the rule off without a word:
         * only a list of exclusions may be empty */
        if (parse_ports(v, (struct scandint_ports *)(void *)p) != 0 ||
            (v[0] == '\0' && strcmp(k->info.key, "exclude_ports") != 0)) {
            scandint_seterr(err,
                            "%s: expected ports like *, 22, 0-9999 or 22,80,443 (at most %d "
                            "ranges), got '%.40s'",
                            name, SCANDINT_MAX_RANGES, v);
            return SCAND_ERR_INVAL;
        }
        return SCAND_OK;
    case T_CIDRS:
        if (parse_cidrs(v, (struct scandint_cidrs *)(void *)p) != 0) {
            scandint_seterr(err, "%s: expected CIDRs like 10.0.0.0/8,fd00::/8 (at most %d), got "
                                 "'%.40s'",
                            name, SCANDINT_MAX_CIDRS, v);
            return SCAND_ERR_INVAL;
        }
        return SCAND_OK;
    case T_PROB: {
        char *e;
        errno = 0;
        double d = strtod(v, &e);
        if (e == v || *e != '\0' || errno != 0 || !(d > 0 && d < 1)) {
            scandint_seterr(err, "%s: expected a probability strictly between 0 and 1, got "
                                 "'%.40s'",
                            name, v);
            return SCAND_ERR_RANGE;
        }
        *(double *)(void *)p = d;
        return SCAND_OK;
    }
    case T_DUR:
        rc = parse_duration(v, &n);
        if (rc == -1) {
            scandint_seterr(err, "%s: expected a duration like 30s, 1m, 1h, got '%.40s'", name, v);
            return SCAND_ERR_INVAL;
        }
        break;
    default: { /* T_UINT */
        char *end;
        if (*v < '0' || *v > '9') {
            rc = -1;
        } else {
            errno = 0;
            unsigned long long x = strtoull(v, &end, 10);
            rc = errno == ERANGE ? -2 : *end != '\0' ? -1 : 0;
            n = x;
        }
        if (rc == -1) {
            scandint_seterr(err, "%s: expected a whole number, got '%.40s'", name, v);
            return SCAND_ERR_INVAL;
        }
    }
    }
    if (rc == -2 || n < k->info.min || n > k->info.max) {
        char lo[32], hi[32];
        if (k->type == T_DUR) {
            format_duration(k->info.min, lo, sizeof lo);
            format_duration(k->info.max, hi, sizeof hi);
        } else {
            snprintf(lo, sizeof lo, "%" PRIu64, k->info.min);
            snprintf(hi, sizeof hi, "%" PRIu64, k->info.max);
        }
        scandint_seterr(err, "%s: '%.40s' is out of range [%s, %s]", name, v, lo, hi);
        return SCAND_ERR_RANGE;
    }
    if (k->type == T_DUR)
        *(int64_t *)(void *)p = (int64_t)n;
    else
        *(uint64_t *)(void *)p = n;
    return SCAND_OK;
}

static void get_value(const char *base, const struct key_def *k, char *buf, size_t size)
{
    const char *p = base + k->off;
    switch (k->type) {
    case T_BOOL:
        snprintf(buf, size, "%s", *(const int *)(const void *)p ? "true" : "false");
        break;
    case T_ENUM:
        snprintf(buf, size, "%s", k->enum_name[*(const int *)(const void *)p]);
        break;
    case T_PORTS:
        snprintf(buf, size, "%s", ((const struct scandint_ports *)(const void *)p)->text);
        break;
    case T_CIDRS:
        snprintf(buf, size, "%s", ((const struct scandint_cidrs *)(const void *)p)->text);
        break;
    case T_PROB:
        snprintf(buf, size, "%g", *(const double *)(const void *)p);
        break;
    case T_DUR:
        format_duration((uint64_t) * (const int64_t *)(const void *)p, buf, size);
        break;
    default:
        snprintf(buf, size, "%" PRIu64, *(const uint64_t *)(const void *)p);
    }
}

/* ------------------------------------------------------------ rules */

void scandint_rule_defaults(struct scandint_rule_cfg *r, const char *name, int family)
{
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->family = family;
    r->enabled = 1;
    r->window_ms = 60000;
    r->min_hosts = 2;
    r->min_ports = 2;
    r->theta0 = 0.8;
    r->theta1 = 0.2;
    r->alpha = 0.01;
    r->beta = 0.99;
    r->idle_ms = 3600000;
    r->severity = 2;
    parse_ports("*", &r->ports);
    parse_ports("", &r->exclude_ports);
    switch (family) {
    case SCAND_FAM_HORIZONTAL:
        r->threshold = 6;
        r->key = SCANDINT_KEY_SRC;
        break;
    case SCAND_FAM_VERTICAL:
        r->threshold = 3;
        r->key = SCANDINT_KEY_SRC_DST;
        break;
    case SCAND_FAM_BLOCK:
        r->threshold = 20;
        r->key = SCANDINT_KEY_SRC;
        r->min_hosts = 3;
        r->min_ports = 3;
        break;
    case SCAND_FAM_DISTRIBUTED:
        r->threshold = 10;
        r->key = SCANDINT_KEY_PORT;
        r->min_hosts = 10;
        r->window_ms = 600000;
        break;
    default: /* TRW */
        r->key = SCANDINT_KEY_SRC;
        break;
    }
}

/* Is a rule name usable in a key? Letters, digits, '_' and '-'. */
static int good_name(const char *s, size_t n)
{
    if (n == 0 || n >= sizeof(((struct scandint_rule_cfg *)0)->name))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

struct scandint_rule_cfg *scandint_cfg_rule(struct scandint_cfg *cfg, const char *name, size_t n)
{
    for (size_t i = 0; i < cfg->n_rules; i++)
        if (strlen(cfg->rule[i].name) == n && memcmp(cfg->rule[i].name, name, n) == 0)
            return &cfg->rule[i];
    return NULL;
}

static const struct key_def *find_global(const char *key)
{
    for (size_t i = 0; i < N_GLOBAL; i++)
        if (strcmp(global_keys[i].info.key, key) == 0)
            return &global_keys[i];
    return NULL;
}

static const struct key_def *find_param(const char *p)
{
    for (size_t i = 0; i < N_RULEKEY; i++)
        if (strcmp(rule_keys[i].info.key, p) == 0)
            return &rule_keys[i];
    return NULL;
}

/* Check what the key table cannot: values that make sense for the family. */
static int check_rule(const struct scandint_rule_cfg *r, const char *key, char *err)
{
    int k = r->key;
    int ok = r->family == SCAND_FAM_HORIZONTAL   ? k == SCANDINT_KEY_SRC || k == SCANDINT_KEY_SRC_PORT
             : r->family == SCAND_FAM_VERTICAL    ? k == SCANDINT_KEY_SRC_DST || k == SCANDINT_KEY_SRC
             : r->family == SCAND_FAM_DISTRIBUTED ? k == SCANDINT_KEY_PORT || k == SCANDINT_KEY_DST
                                                  : k == SCANDINT_KEY_SRC;
    if (!ok) {
        scandint_seterr(err, "%s: a %s rule counts per %s", key, scandint_family_name(r->family),
                        r->family == SCAND_FAM_HORIZONTAL   ? "src or src_port"
                        : r->family == SCAND_FAM_VERTICAL    ? "src_dst or src"
                        : r->family == SCAND_FAM_DISTRIBUTED ? "port or dst"
                                                             : "src");
        return SCAND_ERR_INVAL;
    }
    if (r->family == SCAND_FAM_TRW && r->theta1 >= r->theta0) {
        scandint_seterr(err, "%s: TRW needs theta1 (%g) below theta0 (%g)", key, r->theta1,
                        r->theta0);
        return SCAND_ERR_INVAL;
    }
    if (r->family == SCAND_FAM_TRW && r->beta <= r->alpha) {
        scandint_seterr(err, "%s: TRW needs beta (%g) above alpha (%g)", key, r->beta, r->alpha);
        return SCAND_ERR_INVAL;
    }
    return SCAND_OK;
}

int scandint_cfg_set(struct scandint_cfg *cfg, const char *key, const char *value, char *err)
{
    const struct key_def *k = find_global(key);
    if (k != NULL)
        return set_value((char *)cfg, k, key, value, err);
    const char *dot = strrchr(key, '.');
    if (dot == NULL || (k = find_param(dot + 1)) == NULL) {
        scandint_seterr(err, "unknown configuration key '%.80s' (see 'scanlab config "
                             "--help-keys')",
                        key);
        return SCAND_ERR_INVAL;
    }
    size_t nl = (size_t)(dot - key);
    struct scandint_rule_cfg *r = scandint_cfg_rule(cfg, key, nl);
    if (r == NULL) {
        if (strcmp(dot + 1, "family") != 0) {
            scandint_seterr(err, "%.80s: no rule named '%.*s' (create it with %.*s.family=...)",
                            key, (int)(nl > 40 ? 40 : nl), key, (int)(nl > 40 ? 40 : nl), key);
            return SCAND_ERR_INVAL;
        }
        if (!good_name(key, nl)) {
            scandint_seterr(err, "%.80s: rule names are 1..31 letters, digits, '_' or '-'", key);
            return SCAND_ERR_INVAL;
        }
        if (cfg->n_rules == SCANDINT_MAX_RULES) {
            scandint_seterr(err, "%.80s: at most %d rules", key, SCANDINT_MAX_RULES);
            return SCAND_ERR_RANGE;
        }
        int fam = enum_index(family_names, value);
        if (fam < 1) {
            char list[160];
            enum_list(family_names, list, sizeof list);
            scandint_seterr(err, "%.80s: expected one of %s, got '%.40s'", key, list, value);
            return SCAND_ERR_INVAL;
        }
        char name[32];
        memcpy(name, key, nl);
        name[nl] = '\0';
        scandint_rule_defaults(&cfg->rule[cfg->n_rules++], name, fam);
        return SCAND_OK;
    }
    if (!(k->fams & (1u << r->family))) {
        scandint_seterr(err, "%.80s: a %s rule has no '%s' (it is for %s)", key,
                        scandint_family_name(r->family), k->info.key, k->info.families);
        return SCAND_ERR_INVAL;
    }
    if (k->type == T_ENUM && k->enum_name == family_names) {
        int fam = enum_index(family_names, value);
        if (fam < 1) {
            char list[160];
            enum_list(family_names, list, sizeof list);
            scandint_seterr(err, "%.80s: expected one of %s, got '%.40s'", key, list, value);
            return SCAND_ERR_INVAL;
        }
        if (fam != r->family) { /* a new family: start from its defaults */
            char name[32];
            snprintf(name, sizeof name, "%s", r->name);
            scandint_rule_defaults(r, name, fam);
        }
        return SCAND_OK;
    }
    struct scandint_rule_cfg saved = *r;
    int rc = set_value((char *)r, k, key, value, err);
    if (rc == SCAND_OK && (rc = check_rule(r, key, err)) != SCAND_OK)
        *r = saved;
    return rc;
}

int scandint_cfg_get(const struct scandint_cfg *cfg, const char *key, char *buf, size_t size)
{
    const struct key_def *k = find_global(key);
    if (k != NULL) {
        get_value((const char *)cfg, k, buf, size);
        return SCAND_OK;
    }
    const char *dot = strrchr(key, '.');
    if (dot == NULL || (k = find_param(dot + 1)) == NULL)
        return SCAND_ERR_INVAL;
    const struct scandint_rule_cfg *r =
        scandint_cfg_rule((struct scandint_cfg *)(uintptr_t)cfg, key, (size_t)(dot - key));
    if (r == NULL || !(k->fams & (1u << r->family)))
        return SCAND_ERR_INVAL;
    get_value((const char *)r, k, buf, size);
    return SCAND_OK;
}

int scandint_cfg_check(const struct scandint_cfg *cfg, char *err)
{
    /* a flow must outlive the reorder tolerance, or a late tuple of an open
     * flow would start a second one */
    if (cfg->flow_idle_ms < cfg->reorder_ms) {
        char ro[32], fi[32];
        format_duration((uint64_t)cfg->reorder_ms, ro, sizeof ro);
        format_duration((uint64_t)cfg->flow_idle_ms, fi, sizeof fi);
        scandint_seterr(err,
                        "reorder (%s) is longer than flow_idle (%s); flow_idle must be at "
                        "least reorder",
                        ro, fi);
        return SCAND_ERR_INVAL;
    }
    return SCAND_OK;
}

/* The i-th key of the effective configuration (globals, then each rule's
 * keys for its family), its info, and whether its value is JSON text. */
int scandint_cfg_key(const struct scandint_cfg *cfg, size_t i, char *key, size_t size,
                     const struct scand_config_info **info)
{
    if (i < N_GLOBAL) {
        snprintf(key, size, "%s", global_keys[i].info.key);
        *info = &global_keys[i].info;
        return SCAND_OK;
    }
    i -= N_GLOBAL;
    for (size_t r = 0; r < cfg->n_rules; r++)
        for (size_t p = 0; p < N_RULEKEY; p++) {
            if (!(rule_keys[p].fams & (1u << cfg->rule[r].family)))
                continue;
            if (i-- == 0) {
                snprintf(key, size, "%s.%s", cfg->rule[r].name, rule_keys[p].info.key);
                *info = &rule_keys[p].info;
                return SCAND_OK;
            }
        }
    return SCAND_ERR_INVAL;
}

void scandint_cfg_defaults(struct scandint_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_GLOBAL; i++)
        set_value((char *)cfg, &global_keys[i], global_keys[i].info.key, global_keys[i].info.def,
                  NULL);
    scandint_preset_apply(cfg, "seed", NULL);
}
