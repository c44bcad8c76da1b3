/*
 * preset.c - named rule sets that reproduce published scan rules exactly
 * (research/azure_formats.md 4.1-4.4 and 4.10, scan_anchors.md 1.2). Each
 * preset is a list of "key=value" settings applied to an empty rule list,
 * so it goes through the same checks as --set.
 *
 * Time: every rule bins flows on their start (FlowStartTime), as the seed
 * rules do. The Sentinel and Azure Firewall rules bin on TimeGenerated
 * (ingestion time); the report models that delay apart.
 */
#include <stdio.h>
#include <string.h>

#include "scand_int.h"

struct preset {
    const char *name, *help;
    const char *const *kv;
};

/* Seed KQL rules (azure_formats.md 4.10): dcount(DestIp) by SrcIp per
 * bin(FlowStartTime, 1m) > 6, dcount(DestPort) by SrcIp, DestIp > 3;
 * ipv4_is_private() on both ends, TCP, DestPort < 10000. */
static const char *const seed[] = {
    "horizontal.family=horizontal", "horizontal.key=src",     "horizontal.threshold=6",
    "horizontal.window=1m",         "horizontal.proto=6",     "horizontal.ports=0-9999",
    "horizontal.src=private",       "horizontal.dst=private", "vertical.family=vertical",
    "vertical.key=src_dst",         "vertical.threshold=3",   "vertical.window=1m",
    "vertical.proto=6",             "vertical.ports=0-9999",  "vertical.src=private",
    "vertical.dst=private",         NULL,
};

/* Sentinel ASIM "Port scan detected" v1.0.6 (4.1): dcount(DstPortNumber) by
 * SrcIpAddr, bin(TimeGenerated, 5m) > 50 where the source is not private. */
static const char *const asim[] = {
    "asim_port_scan.family=vertical", "asim_port_scan.key=src",
    "asim_port_scan.threshold=50",    "asim_port_scan.window=5m",
    "asim_port_scan.src=public",      NULL,
};

/* Azure Firewall "Port Scan" v1.1.3 (4.3): dcount(DestinationPort) by
 * SourceIp, bin(30s), destination > 100; "Port Sweep" v1.2.0 (4.4):
 * distinct destinations by SourceIp, bin(30s), DestinationPort > 200,
 * ports 80 and 443 excluded. */
static const char *const azfw[] = {
    "azfw_port_scan.family=vertical",    "azfw_port_scan.key=src_dst",
    "azfw_port_scan.threshold=100",      "azfw_port_scan.window=30s",
    "azfw_port_sweep.family=horizontal", "azfw_port_sweep.key=src_port",
    "azfw_port_sweep.threshold=200",     "azfw_port_sweep.window=30s",
    "azfw_port_sweep.exclude_ports=80,443", NULL,
};

/* Zeek policy/misc/scan.zeek (scan_anchors.md 1.2): failed TCP attempts in
 * 5-minute SumStats epochs (tumbling); Address_Scan at >= 25 distinct hosts
 * per (scanner, port), Port_Scan at >= 15 distinct ports per (scanner,
 * victim). ">= 25" is "> 24" here. */
static const char *const zeek[] = {
    "zeek_address_scan.family=horizontal", "zeek_address_scan.key=src_port",
    "zeek_address_scan.threshold=24",      "zeek_address_scan.window=5m",
    "zeek_address_scan.count=failures",    "zeek_address_scan.proto=6",
    "zeek_port_scan.family=vertical",      "zeek_port_scan.key=src_dst",
    "zeek_port_scan.threshold=14",         "zeek_port_scan.window=5m",
    "zeek_port_scan.count=failures",       "zeek_port_scan.proto=6",
    NULL,
};

/* ScanLab's own default: failures only (benign look-alikes mostly
 * succeed), windows long enough for T1-paced scans, block and distributed
 * shapes, and TRW for scans slower than any window. Provisional: the
 * reports issue tunes it on the shipped scenarios and records the numbers
 * that justify it. */
/* ScanLab's default, tuned with `scanlab run` (5 seeds of every shipped
 * scenario, README "Status"): against the seed rules it detects 40 of 40
 * visible campaigns on default.json (seed: 23) at 197 false alerts a day,
 * 189 of them the authorised vulnerability scanner that a SOC allowlists by
 * address (seed: 2,539 a day). A sweep counts failed contacts to more than
 * 5 hosts on one port (a 10-host SSH sweep against open servers fails on
 * fewer than 9); the slow rule catches T0-paced port scans that no
 * 10-minute window holds; TRW walks private sources only (internet sources
 * hitting public addresses are background noise, 22 alerts a day). */
static const char *const scanlab[] = {
    "sweep.family=horizontal",  "sweep.key=src_port",        "sweep.threshold=5",
    "sweep.window=10m",         "sweep.count=failures",      "portscan.family=vertical",
    "portscan.key=src_dst",     "portscan.threshold=9",      "portscan.window=10m",
    "portscan.count=failures",  "slowscan.family=vertical",  "slowscan.key=src_dst",
    "slowscan.threshold=10",    "slowscan.window=1h",        "block.family=block",
    "block.threshold=20",       "block.min_hosts=3",         "block.min_ports=3",
    "block.window=10m",         "block.count=failures",      "distributed.family=distributed",
    "distributed.key=port",     "distributed.threshold=10",  "distributed.min_hosts=10",
    "distributed.window=10m",   "distributed.count=failures", "walk.family=trw",
    "walk.src=private",         NULL,
};

static const struct preset presets[] = {
    {"seed", "the two seed KQL rules: > 6 hosts per source, > 3 ports per (source, destination), "
             "per 1-minute bin, private to private, TCP, ports below 10000",
     seed},
    {"sentinel-asim", "Sentinel ASIM Port scan: > 50 ports per public source per 5 minutes", asim},
    {"azfw", "Azure Firewall Port Scan (> 100 ports per source and destination in 30 s) and Port "
             "Sweep (> 200 hosts per source and port in 30 s, 80 and 443 excluded)",
     azfw},
    {"zeek", "Zeek scan.zeek: >= 25 hosts on a port or >= 15 ports on a host, failed TCP, "
             "5 minutes",
     zeek},
    {"scanlab", "ScanLab's default, tuned in the lab: failures in 10-minute windows (sweeps, "
                "port scans, block and distributed scans), slow port scans over an hour, and a "
                "Threshold Random Walk per private source",
     scanlab},
};

#define N_PRESETS (sizeof presets / sizeof presets[0])

size_t scand_preset_count(void)
{
    return N_PRESETS;
}

const char *scand_preset_name(size_t i)
{
    return i < N_PRESETS ? presets[i].name : NULL;
}

const char *scand_preset_help(size_t i)
{
    return i < N_PRESETS ? presets[i].help : NULL;
}

int scandint_preset_apply(struct scandint_cfg *cfg, const char *name, char *err)
{
    for (size_t i = 0; i < N_PRESETS; i++) {
        if (strcmp(presets[i].name, name) != 0)
            continue;
        struct scandint_cfg c = *cfg;
        c.n_rules = 0;
        for (const char *const *kv = presets[i].kv; *kv != NULL; kv++) {
            char key[96];
            const char *eq = strchr(*kv, '=');
            snprintf(key, sizeof key, "%.*s", (int)(eq - *kv), *kv);
            int rc = scandint_cfg_set(&c, key, eq + 1, err);
            if (rc != SCAND_OK)
                return rc; /* a bug in the table above: the unit tests apply each */
        }
        snprintf(c.preset, sizeof c.preset, "%s", name);
        *cfg = c;
        return SCAND_OK;
    }
    char list[128] = "";
    for (size_t i = 0; i < N_PRESETS; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", presets[i].name);
    }
    scandint_seterr(err, "preset: no preset named '%.40s' (presets: %s)", name, list);
    return SCAND_ERR_INVAL;
}
