/*
 * config.c - the detector's configuration keys: one table of
 * {key, type, default, range, help, offset} [K2; ND ndpi_main.c config
 * table]. scand_set_config(), `--set k=v`, `scanlab config` and (later) the
 * scenario's "detector" object and tune sweeps all go through it.
 *
 * Defaults reproduce the two seed KQL rules (research/azure_formats.md
 * 4.10): horizontal dcount(DestIp) by SrcIp per bin(FlowStartTime, 1m) > 6,
 * vertical dcount(DestPort) by SrcIp, DestIp per 1m > 3, both for
 * ipv4_is_private() on both ends, L4Protocol TCP and DestPort < 10000.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scand_int.h"

enum { T_BOOL, T_UINT, T_DUR };

struct key_def {
    struct scand_config_info info;
    int type;
    size_t off;
};

#define DAY_MS 86400000ULL
#define RULE(i, name, thr, thr_s)                                                                 \
    {{name ".enabled", "bool", "true", 0, 1, "run the " name " rule"}, T_BOOL,                    \
     offsetof(struct scandint_cfg, rule[i].enabled)},                                             \
        {{name ".threshold", "uint", thr_s, 0, UINT32_MAX,                                        \
          "alert when the distinct count in a bin is greater than this"},                         \
         T_UINT, offsetof(struct scandint_cfg, rule[i].threshold)},                               \
        {{name ".bin", "duration", "1m", 1000, DAY_MS,                                            \
          "tumbling bin width, aligned to the epoch like KQL bin()"},                             \
         T_DUR, offsetof(struct scandint_cfg, rule[i].bin_ms)},                                   \
        {{name ".private_only", "bool", "true", 0, 1,                                             \
          "count only private-to-private flows (RFC 1918, IPv6 ULA)"},                            \
         T_BOOL, offsetof(struct scandint_cfg, rule[i].private_only)},                            \
        {{name ".proto", "uint", "6", 0, 255, "IANA protocol to count (6 TCP, 17 UDP), 0 = any"}, \
         T_UINT, offsetof(struct scandint_cfg, rule[i].proto)},                                   \
        {{name ".dport_max", "uint", "10000", 1, 65536,                                           \
          "count only destination ports below this (65536 = all)"},                               \
         T_UINT, offsetof(struct scandint_cfg, rule[i].dport_max)}

static const struct key_def keys[] = {
    {{"reorder", "duration", "5m", 0, DAY_MS,
      "how late a tuple may arrive (behind the newest seen) before its bin closes"},
     T_DUR, offsetof(struct scandint_cfg, reorder_ms)},
    {{"flow_idle", "duration", "6m", 1000, DAY_MS,
      "a 5-tuple unseen this long starts a new flow (Azure writes C tuples every 5m)"},
     T_DUR, offsetof(struct scandint_cfg, flow_idle_ms)},
    {{"hash_seed", "uint", "1", 0, UINT64_MAX, "seed of the keyed hash of every table"}, T_UINT,
     offsetof(struct scandint_cfg, hash_seed)},
    RULE(RULE_HORIZONTAL, "horizontal", 6, "6"),
    RULE(RULE_VERTICAL, "vertical", 3, "3"),
};

#define N_KEYS (sizeof keys / sizeof keys[0])

size_t scand_config_count(void)
{
    return N_KEYS;
}

const struct scand_config_info *scand_config_at(size_t i)
{
    return i < N_KEYS ? &keys[i].info : NULL;
}

static const struct key_def *find(const char *key)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].info.key, key) == 0)
            return &keys[i];
    return NULL;
}

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

static int set_one(struct scandint_cfg *cfg, const struct key_def *k, const char *v, char *err)
{
    char *base = (char *)cfg + k->off;
    uint64_t n;
    if (k->type == T_BOOL) {
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0)
            n = 1;
        else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
            n = 0;
        else {
            scandint_seterr(err, "%s: expected true or false, got '%.40s'", k->info.key, v);
            return SCAND_ERR_INVAL;
        }
        *(int *)(void *)base = (int)n;
        return SCAND_OK;
    }
    int rc;
    if (k->type == T_DUR) {
        rc = parse_duration(v, &n);
        if (rc == -1) {
            scandint_seterr(err, "%s: expected a duration like 30s, 1m, 1h, got '%.40s'",
                            k->info.key, v);
            return SCAND_ERR_INVAL;
        }
    } else {
        char *end;
        rc = 0;
        if (*v < '0' || *v > '9') {
            rc = -1;
        } else {
            errno = 0;
            unsigned long long x = strtoull(v, &end, 10);
            if (errno == ERANGE)
                rc = -2;
            else if (*end != '\0')
                rc = -1;
            n = x;
        }
        if (rc == -1) {
            scandint_seterr(err, "%s: expected a whole number, got '%.40s'", k->info.key, v);
            return SCAND_ERR_INVAL;
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
        scandint_seterr(err, "%s: '%.40s' is out of range [%s, %s]", k->info.key, v, lo, hi);
        return SCAND_ERR_RANGE;
    }
    if (k->type == T_DUR)
        *(int64_t *)(void *)base = (int64_t)n;
    else
        *(uint64_t *)(void *)base = n;
    return SCAND_OK;
}

void scandint_cfg_defaults(struct scandint_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_KEYS; i++)
        set_one(cfg, &keys[i], keys[i].info.def, NULL);
}

int scandint_cfg_set(struct scandint_cfg *cfg, const char *key, const char *value, char *err)
{
    const struct key_def *k = find(key);
    if (k == NULL) {
        scandint_seterr(err, "unknown configuration key '%.80s' (see 'scanlab config')", key);
        return SCAND_ERR_INVAL;
    }
    return set_one(cfg, k, value, err);
}

int scandint_cfg_get(const struct scandint_cfg *cfg, const char *key, char *buf, size_t size)
{
    const struct key_def *k = find(key);
    if (k == NULL)
        return SCAND_ERR_INVAL;
    const char *base = (const char *)cfg + k->off;
    if (k->type == T_BOOL)
        snprintf(buf, size, "%s", *(const int *)(const void *)base ? "true" : "false");
    else if (k->type == T_DUR)
        format_duration((uint64_t) * (const int64_t *)(const void *)base, buf, size);
    else
        snprintf(buf, size, "%" PRIu64, *(const uint64_t *)(const void *)base);
    return SCAND_OK;
}
