/*
 * cmd_run.c - `scanlab run SCENARIO`: the lab's main job. For each seed,
 * simulate the scenario straight into the detectors (every preset under
 * evaluation, plus one-pass sweeps of the primary configuration's tumbling
 * rules), score their alerts per campaign against the run's truth, add the
 * seeds up, recommend thresholds within a false-alert budget, and write
 * the report folder: CSV tables, then report.md, index.html and the plots
 * rendered from those tables (reports/render.c, as `scanlab report` does).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rpt.h"
#include "sim.h"

static const char usage[] =
    "Usage: scanlab run [OPTIONS] SCENARIO.json\n"
    "\n"
    "The whole lab in one command: simulate the scenario (one or more seeds)\n"
    "straight into the detector, score every preset's alerts per campaign\n"
    "against the ground truth, sweep the thresholds of the primary rules in one\n"
    "pass over windows of 1m, 5m, 10m and 1h, recommend thresholds within a\n"
    "false-alert budget, and write a report folder (index.html, report.md, CSV\n"
    "tables, SVG and PNG plots). Prints the folder and a short table.\n"
    "\n"
    "Without --preset or --config every preset is evaluated (seed, sentinel-asim,\n"
    "azfw, zeek, scanlab) and the seed rules are swept; with one, that\n"
    "configuration is evaluated beside the seed rules and its rules are swept.\n"
    "\n"
    "Options:\n"
    "  -o, --output DIR        report folder (default: runs/SCENARIO-NAME)\n"
    "  -n, --seeds N           Monte Carlo seeds, from the scenario's seed up\n"
    "                          (default 1)\n"
    "      --seed N            first seed (default: the scenario's)\n"
    "  -p, --preset NAME       evaluate and sweep this preset\n"
    "  -c, --config FILE       evaluate and sweep this configuration\n"
    "  -s, --set KEY=VALUE     change a key of that configuration (repeatable)\n"
    "  -b, --budget N          false alerts per day the recommendation may cost\n"
    "                          (default 1)\n"
    "      --max-threshold N   sweep thresholds 1..N (default 200)\n"
    "      --window LIST       sweep windows (default 1m,5m,10m,1h)\n"
    "      --ta DURATION       Traffic Analytics interval, 10m or 60m (default 60m)\n"
    "      --ingest DURATION   ingestion delay (default 3m)\n"
    "      --freq DURATION     scheduled rule frequency (default 1h)\n"
    "      --period DURATION   scheduled rule period (default 1h)\n"
    "  -q, --quiet             no progress, no table\n"
    "  -h, --help              show this help\n"
    "\n"
    "Example:\n"
    "  scanlab run scenarios/default.json\n"
    "  scanlab run --seeds 5 --preset zeek -o runs/zeek scenarios/default.json\n"
    "\n"
    "Exit status: 0 ok, 1 bad scenario or configuration file, or the report\n"
    "could not be written, 2 usage error.\n";

#define MAX_EVALS 6
#define MAX_SWEEPS 16

/* Scores added up over seeds, for one rule (or all rules) of a config. */
struct agg {
    char rule[32];
    char family[16];
    uint64_t alerts, true_alerts, false_alerts;
    uint64_t by_class[RPT_MAX_CLASSES + 1];
    double days;
    struct rpt_kind_score kinds[8];
    size_t n_kinds;
};

/* One configuration under evaluation. */
struct eval {
    char name[32];
    const char *preset; /* NULL: the --config file */
    scand_ctx *ctx;     /* this seed's */
    struct rpt_alert *alerts;
    size_t n, cap;
    size_t n_rules;
    struct agg agg[1 + 16]; /* [0] every rule */
};

struct opts {
    const char *preset, *config;
    char **sets;
    size_t n_sets;
};

struct lab {
    struct eval ev[MAX_EVALS];
    size_t n_ev;
    rpt_sweep *sw[MAX_SWEEPS];
    size_t n_sw;
    scand_ctx *swctx[MAX_SWEEPS];
    size_t n_swctx;
    int oom;
    /* progress */
    int show;
    double t0;
    unsigned seed_i, n_seeds;
};

static int on_alert(void *arg, const struct scand_alert *a)
{
    struct eval *e = arg;
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 256;
        e->alerts = xreallocarray(e->alerts, e->cap, sizeof *e->alerts);
    }
    rpt_alert_from(&e->alerts[e->n++], a);
    return 0;
}

static int on_sweep_alert(void *arg, const struct scand_alert *a)
{
    struct lab *l = arg;
    for (size_t i = 0; i < l->n_sw; i++) {
        int k = rpt_sweep_alert(l->sw[i], a);
        if (k < 0) {
            l->oom = 1;
            return 1;
        }
        if (k > 0)
            break;
    }
    return 0;
}

static void on_progress(void *arg, int64_t hour_ms, uint64_t tuples)
{
    struct lab *l = arg;
    if (!l->show)
        return;
    char what[48];
    snprintf(what, sizeof what, "run: seed %u/%u", l->seed_i + 1, l->n_seeds);
    cli_progress(what, hour_ms, tuples, l->t0);
}

/* A fresh context for configuration e (or the primary one when e is
 * NULL): preset or config file, then the --set keys. */
static int make_ctx(const char *preset, const struct opts *o, int apply_user, scand_ctx **out)
{
    char errbuf[SCAND_ERRBUF_SIZE];
    scand_ctx *ctx = scand_new(errbuf);
    if (ctx == NULL) {
        cli_error("%s", errbuf);
        return EXIT_INPUT;
    }
    int rc = EXIT_OK;
    if (preset != NULL && scand_set_preset(ctx, preset) != SCAND_OK)
        rc = cli_usage_error("run", "--preset: %s", scand_geterr(ctx));
    if (rc == EXIT_OK && apply_user && o->config != NULL)
        rc = cli_config_opt(ctx, "run", 'c', o->config);
    for (size_t i = 0; rc == EXIT_OK && apply_user && i < o->n_sets; i++)
        rc = cli_set_kv(ctx, "run", o->sets[i]);
    if (rc == EXIT_OK && apply_user)
        rc = cli_set_done(ctx, "run");
    if (rc != EXIT_OK) {
        scand_free(ctx);
        return rc;
    }
    *out = ctx;
    return EXIT_OK;
}

/* The rule names of a configuration, in its order. */
static size_t rule_names(const scand_ctx *ctx, char names[][32], char fams[][16], size_t max)
{
    char key[96], val[64];
    const struct scand_config_info *info;
    size_t n = 0;
    for (size_t i = 0; scand_config_key(ctx, i, key, sizeof key, &info) == SCAND_OK; i++) {
        char *dot = strchr(key, '.');
        if (dot == NULL || strcmp(dot + 1, "family") != 0 || n == max)
            continue;
        if (scand_get_config(ctx, key, val, sizeof val) != SCAND_OK)
            continue;
        *dot = '\0';
        snprintf(names[n], 32, "%.31s", key);
        snprintf(fams[n], 16, "%.15s", val);
        n++;
    }
    return n;
}

static void agg_add(struct agg *g, const struct rpt_score *s)
{
    g->alerts += s->n_alerts;
    g->true_alerts += s->true_alerts;
    g->false_alerts += s->false_alerts;
    for (size_t c = 0; c <= RPT_MAX_CLASSES; c++)
        g->by_class[c] += s->false_by_class[c];
    g->days += s->days;
    for (size_t i = 0; i < s->n_kinds; i++) {
        size_t k;
        for (k = 0; k < g->n_kinds && strcmp(g->kinds[k].kind, s->kinds[i].kind) != 0; k++)
            ;
        if (k == g->n_kinds) {
            if (k == 8)
                continue;
            memset(&g->kinds[k], 0, sizeof g->kinds[k]);
            snprintf(g->kinds[k].kind, sizeof g->kinds[k].kind, "%s", s->kinds[i].kind);
            g->n_kinds++;
        }
        g->kinds[k].campaigns += s->kinds[i].campaigns;
        g->kinds[k].unseeable += s->kinds[i].unseeable;
        g->kinds[k].detected += s->kinds[i].detected;
    }
}

static void csv_num(struct rpt_buf *b, double v)
{
    if (isnan(v))
        rpt_buf_put(b, ",", 1);
    else
        rpt_buf_printf(b, ",%.6g", v);
}

static void csv_str(struct rpt_buf *b, const char *s, int first)
{
    if (!first)
        rpt_buf_put(b, ",", 1);
    rpt_buf_csv(b, s);
}

static int write_buf(const char *dir, const char *name, struct rpt_buf *b)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (b->oom) {
        cli_error("%s: out of memory", path);
        return EXIT_INPUT;
    }
    FILE *f = rpt_fopen_out(path);
    if (f == NULL) {
        cli_error("%s: %s", path, strerror(errno));
        return EXIT_INPUT;
    }
    if (b->len > 0)
        fwrite(b->s, 1, b->len, f);
    return cli_close_out(f, path);
}

static void addr_text(const uint8_t a[16], char *s, size_t size)
{
    scand_addr_format(a, s, size);
}

/* Per seed: the rows of campaigns.csv and false_alerts.csv. */
static void seed_rows(struct rpt_buf *camp, struct rpt_buf *fa, uint64_t seed,
                      const struct eval *e, const struct rpt_truth *t, const struct rpt_score *s)
{
    for (size_t i = 0; i < t->n_camps; i++) {
        const struct rpt_campaign *c = &t->camps[i];
        const struct rpt_camp_score *cs = &s->camp[i];
        rpt_buf_printf(camp, "%llu", (unsigned long long)seed);
        csv_str(camp, e->name, 0);
        csv_str(camp, c->id, 0);
        csv_str(camp, c->kind, 0);
        csv_str(camp, !c->visible ? "unseeable" : cs->detected ? "detected" : "missed", 0);
        csv_str(camp, cs->detected ? e->alerts[cs->alert].rule : "", 0);
        if (cs->detected)
            rpt_buf_printf(camp, ",%.3f,%.1f,%.0f", cs->ttd_s, cs->ttd_probes, cs->latency_s);
        else
            rpt_buf_put(camp, ",,,", 3);
        rpt_buf_printf(camp, ",%llu,%llu", (unsigned long long)c->probes,
                       (unsigned long long)c->probes_visible);
        csv_str(camp, c->reason, 0);
        rpt_buf_put(camp, "\n", 1);
    }
    for (size_t i = 0; i < e->n; i++) {
        size_t cls = s->alert_class[i];
        if (cls >= SIZE_MAX - 1)
            continue;
        const struct rpt_alert *a = &e->alerts[i];
        char src[48] = "", dst[48] = "", when[40];
        if (a->has_src)
            addr_text(a->src, src, sizeof src);
        if (a->has_dst)
            addr_text(a->dst, dst, sizeof dst);
        scand_time_format(a->window_start_ms, when, sizeof when);
        rpt_buf_printf(fa, "%llu", (unsigned long long)seed);
        csv_str(fa, e->name, 0);
        csv_str(fa, a->rule, 0);
        csv_str(fa, rpt_class_name(t, cls), 0);
        csv_str(fa, src, 0);
        csv_str(fa, dst, 0);
        if (a->has_port)
            rpt_buf_printf(fa, ",%u", a->port);
        else
            rpt_buf_put(fa, ",", 1);
        csv_str(fa, when, 0);
        rpt_buf_printf(fa, ",%llu,%llu", (unsigned long long)a->count,
                       (unsigned long long)a->threshold);
        struct rpt_buf ev = {0};
        for (unsigned j = 0; j < a->n_targets; j++) {
            char x[48];
            addr_text(a->targets[j], x, sizeof x);
            rpt_buf_printf(&ev, "%s%s", j ? " " : "", x);
        }
        csv_str(fa, ev.s ? ev.s : "", 0);
        ev.len = 0;
        for (unsigned j = 0; j < a->n_ports; j++)
            rpt_buf_printf(&ev, "%s%u", j ? " " : "", a->ports[j]);
        csv_str(fa, ev.s ? ev.s : "", 0);
        free(ev.s);
        rpt_buf_put(fa, "\n", 1);
    }
}

/* Default folder: runs/NAME with NAME's unsafe characters replaced. */
static void default_dir(const char *name, char *out, size_t size)
{
    char safe[64];
    size_t k = 0;
    for (const char *p = name; *p && k < sizeof safe - 1; p++)
        safe[k++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                   (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'
                               ? *p
                               : '_');
    safe[k] = '\0';
    if (k == 0 || strcmp(safe, ".") == 0 || strcmp(safe, "..") == 0)
        snprintf(safe, sizeof safe, "scenario");
    snprintf(out, size, "runs/%s", safe);
}

int cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"seeds", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 'S'},
        {"preset", required_argument, NULL, 'p'},
        {"config", required_argument, NULL, 'c'},
        {"set", required_argument, NULL, 's'},
        {"budget", required_argument, NULL, 'b'},
        {"max-threshold", required_argument, NULL, 'M'},
        {"window", required_argument, NULL, 'W'},
        CLI_LATENCY_LONGOPTS,
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct opts o = {NULL, NULL, NULL, 0};
    const char *out_dir = NULL;
    uint64_t n_seeds = 1, first_seed = 0, max_t = 200;
    int have_seed = 0, quiet = 0;
    double budget = 1.0;
    int64_t windows[RPT_MAX_WINDOWS] = {60000, 300000, 600000, 3600000};
    size_t n_windows = 4;
    struct rpt_latency lat;
    rpt_latency_defaults(&lat);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:n:p:c:s:b:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (cli_path_arg("run", "-o", optarg) != EXIT_OK)
                goto usage;
            out_dir = optarg;
            break;
        case 'n':
            if (cli_parse_u64("run", "--seeds", optarg, 1, 1000, &n_seeds) != 0)
                goto usage;
            break;
        case 'S':
            /* as a scenario's seed: up to 2^53 - 1, exact as a JSON number
             * (truth.json), the last of --seeds too */
            if (cli_parse_u64("run", "--seed", optarg, 0, 9007199254740991ULL - 1000, &first_seed) !=
                0)
                goto usage;
            have_seed = 1;
            break;
        case 'p':
            if (o.preset != NULL || o.config != NULL) {
                cli_usage_error("run", "one --preset or --config");
                goto usage;
            }
            o.preset = optarg;
            break;
        case 'c':
            if (o.preset != NULL || o.config != NULL) {
                cli_usage_error("run", "one --preset or --config");
                goto usage;
            }
            o.config = optarg;
            break;
        case 's':
            o.sets = xreallocarray(o.sets, o.n_sets + 1, sizeof *o.sets);
            o.sets[o.n_sets++] = optarg;
            break;
        case 'b':
            if (cli_parse_budget("run", optarg, &budget) != 0)
                goto usage;
            break;
        case 'M':
            if (cli_parse_u64("run", "--max-threshold", optarg, 1, 4000, &max_t) != 0)
                goto usage;
            break;
        case 'W':
            if (cli_parse_windows("run", optarg, windows, &n_windows) != 0)
                goto usage;
            break;
        case CLI_OPT_TA:
        case CLI_OPT_INGEST:
        case CLI_OPT_FREQ:
        case CLI_OPT_PERIOD:
            if (cli_latency_opt("run", c, optarg, &lat) != 0)
                goto usage;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            free(o.sets);
            return EXIT_OK;
        case ':':
            cli_usage_error("run", "%s: missing argument", argv[optind - 1]);
            goto usage;
        default:
            cli_usage_error("run", "unknown option '%s'", argv[optind - 1]);
            goto usage;
        }
    }
    if (optind != argc - 1) {
        cli_usage_error("run", optind == argc ? "missing SCENARIO.json"
                                              : "one SCENARIO.json at a time");
        goto usage;
    }
    if (lat.period_ms < lat.freq_ms) {
        cli_usage_error("run", "--period must be at least --freq (a scheduled rule that looks "
                               "back less than it waits misses data)");
        goto usage;
    }
    if (o.n_sets > 0 && o.preset == NULL && o.config == NULL)
        o.preset = "seed"; /* --set changes the seed rules */

    /* the scenario */
    sim_scenario *sc = cli_load_scenario(argv[optind]);
    if (sc == NULL) {
        free(o.sets);
        return EXIT_INPUT;
    }
    int rc;
    if (!have_seed)
        first_seed = sim_scenario_seed(sc);
    char dir[PATH_MAX];
    if (out_dir != NULL)
        snprintf(dir, sizeof dir, "%s", out_dir);
    else
        default_dir(sim_scenario_name(sc), dir, sizeof dir);

    /* what is evaluated: every preset, or the user's configuration and seed */
    static struct lab lab;
    memset(&lab, 0, sizeof lab);
    rc = EXIT_OK;
    if (o.preset == NULL && o.config == NULL) {
        for (size_t i = 0; i < scand_preset_count() && lab.n_ev < MAX_EVALS; i++) {
            struct eval *e = &lab.ev[lab.n_ev++];
            e->preset = scand_preset_name(i);
            snprintf(e->name, sizeof e->name, "%s", e->preset);
        }
    } else {
        struct eval *e = &lab.ev[lab.n_ev++];
        e->preset = o.preset;
        snprintf(e->name, sizeof e->name, "%s", o.preset != NULL ? o.preset : "config");
        if (o.n_sets > 0)
            snprintf(e->name, sizeof e->name, "%s+set", o.preset != NULL ? o.preset : "config");
        if (o.config != NULL || o.n_sets > 0 || strcmp(o.preset, "seed") != 0) {
            e = &lab.ev[lab.n_ev++];
            e->preset = "seed";
            snprintf(e->name, sizeof e->name, "seed");
        }
    }
    /* the primary configuration (the first) and its sweeps */
    scand_ctx *primary = NULL;
    rc = make_ctx(lab.ev[0].preset, &o, 1, &primary);
    if (rc != EXIT_OK)
        goto out;
    {
        char names[16][32], fams[16][16];
        size_t nr = rule_names(primary, names, fams, 16);
        for (size_t i = 0; i < nr && lab.n_sw < MAX_SWEEPS; i++) {
            char key[64], val[64];
            snprintf(key, sizeof key, "%s.enabled", names[i]);
            if (strcmp(fams[i], "trw") == 0 ||
                (scand_get_config(primary, key, val, sizeof val) == SCAND_OK &&
                 strcmp(val, "false") == 0))
                continue;
            snprintf(key, sizeof key, "%s.window_kind", names[i]);
            if (scand_get_config(primary, key, val, sizeof val) == SCAND_OK &&
                strcmp(val, "tumbling") != 0)
                continue;
            char serr[RPT_ERRBUF_SIZE];
            rpt_sweep *sw = rpt_sweep_new(primary, names[i], 1, (uint32_t)max_t, 1, windows,
                                          n_windows, serr, sizeof serr);
            if (sw == NULL) {
                cli_warn("not swept: %s", serr);
                continue;
            }
            lab.sw[lab.n_sw++] = sw;
        }
    }
    lab.n_seeds = (unsigned)n_seeds;
    lab.show = !quiet && cli_tty();
    lab.t0 = cli_now();

    struct rpt_buf camp = {0}, fa = {0};
    rpt_buf_printf(&camp, "seed,preset,campaign,kind,result,rule,ttd_s,ttd_probes,"
                          "ttd_production_s,probes,probes_visible,reason\n");
    rpt_buf_printf(&fa, "seed,preset,rule,class,src,dst,port,window_start,count,threshold,"
                        "targets,ports\n");
    struct rpt_truth first_truth;
    memset(&first_truth, 0, sizeof first_truth);
    uint64_t tot_flows = 0, tot_tuples = 0;
    size_t n_vms = 0, n_nics = 0;
    for (unsigned si = 0; si < n_seeds && rc == EXIT_OK; si++) {
        uint64_t seed = first_seed + si;
        lab.seed_i = si;
        sim_scenario_set_seed(sc, seed);
        scand_ctx *ctxs[MAX_EVALS + MAX_SWEEPS];
        size_t nctx = 0;
        for (size_t i = 0; i < lab.n_ev && rc == EXIT_OK; i++) {
            struct eval *e = &lab.ev[i];
            rc = make_ctx(e->preset, &o, i == 0, &e->ctx);
            if (rc != EXIT_OK)
                break;
            if (si == 0) {
                char names[16][32], fams[16][16];
                e->n_rules = rule_names(e->ctx, names, fams, 16);
                snprintf(e->agg[0].rule, sizeof e->agg[0].rule, "*");
                for (size_t r = 0; r < e->n_rules; r++) {
                    snprintf(e->agg[1 + r].rule, sizeof e->agg[1 + r].rule, "%s", names[r]);
                    snprintf(e->agg[1 + r].family, sizeof e->agg[1 + r].family, "%.15s", fams[r]);
                }
            }
            scand_set_alert_cb(e->ctx, on_alert, e);
            if (scand_finalize(e->ctx) != SCAND_OK) {
                cli_error("%s: %s", e->name, scand_geterr(e->ctx));
                rc = EXIT_INPUT;
                break;
            }
            e->n = 0;
            ctxs[nctx++] = e->ctx;
        }
        /* sweep contexts: the primary's global keys and as many swept rules
         * as fit (one instance per window) */
        lab.n_swctx = 0;
        size_t per = lab.n_sw > 0 ? rpt_sweep_per_ctx(lab.sw[0]) : 1;
        for (size_t i = 0; i < lab.n_sw && rc == EXIT_OK; i += per) {
            char serr[RPT_ERRBUF_SIZE];
            scand_ctx *sctx = rpt_sweep_ctx(primary, serr, sizeof serr);
            if (sctx == NULL) {
                cli_error("%s", serr);
                rc = EXIT_INPUT;
                break;
            }
            lab.swctx[lab.n_swctx++] = sctx;
            for (size_t j = i; j < lab.n_sw && j < i + per && rc == EXIT_OK; j++)
                if (rpt_sweep_setup(lab.sw[j], primary, sctx, serr, sizeof serr) != 0) {
                    cli_error("%s", serr);
                    rc = EXIT_INPUT;
                }
            scand_set_alert_cb(sctx, on_sweep_alert, &lab);
            if (rc == EXIT_OK && scand_finalize(sctx) != SCAND_OK) {
                cli_error("sweep: %s", scand_geterr(sctx));
                rc = EXIT_INPUT;
            }
            ctxs[nctx++] = sctx;
        }
        if (rc != EXIT_OK)
            break;
        /* truth is known only after the run; the sweeps match alerts as
         * they come, so they score against a first pass's truth */
        char lerr[RPT_ERRBUF_SIZE];
        struct rpt_truth truth;
        char *tj = rpt_lab_truth(sc, &truth, lerr, sizeof lerr);
        if (tj == NULL) {
            cli_error("%s", lerr);
            rc = EXIT_INPUT;
            break;
        }
        scand_strtab *st = scand_strtab_new();
        struct sim_result *res = NULL;
        if (st == NULL) {
            cli_error("out of memory");
            rc = EXIT_INPUT;
        }
        if (si == 0 && rc == EXIT_OK) {
            char tpath[PATH_MAX + 16];
            snprintf(tpath, sizeof tpath, "%s/truth.json", dir);
            if (cli_mkdirs(tpath) != 0) {
                cli_error("%s: %s", dir, strerror(errno));
                rc = EXIT_INPUT;
            } else {
                struct rpt_buf tb = {0};
                rpt_buf_put(&tb, tj, strlen(tj));
                rc = write_buf(dir, "truth.json", &tb);
                free(tb.s);
            }
        }
        free(tj);
        for (size_t i = 0; i < lab.n_sw; i++)
            rpt_sweep_begin(lab.sw[i], &truth);
        if (rc == EXIT_OK &&
            rpt_lab_run(sc, st, ctxs, nctx, on_progress, &lab, &res, lerr, sizeof lerr) != 0) {
            cli_error("%s", lab.oom ? "out of memory" : lerr);
            rc = EXIT_INPUT;
        }
        if (lab.show)
            fputc('\n', stderr);
        if (rc == EXIT_OK) {
            tot_flows += res->flows;
            tot_tuples += res->tuples;
            n_vms = res->n_vms;
            n_nics = res->n_nics_logged;
            for (size_t i = 0; i < lab.n_sw && rc == EXIT_OK; i++)
                if (rpt_sweep_end(lab.sw[i]) != 0) {
                    cli_error("out of memory");
                    rc = EXIT_INPUT;
                }
            for (size_t i = 0; i < lab.n_ev && rc == EXIT_OK; i++) {
                struct eval *e = &lab.ev[i];
                struct rpt_score s;
                for (size_t r = 0; r <= e->n_rules; r++) {
                    if (rpt_score(&truth, e->alerts, e->n, r == 0 ? NULL : e->agg[r].rule, &lat,
                                  &s) != 0) {
                        cli_error("out of memory");
                        rc = EXIT_INPUT;
                        break;
                    }
                    agg_add(&e->agg[r], &s);
                    if (r == 0)
                        seed_rows(&camp, &fa, seed, e, &truth, &s);
                    rpt_score_free(&s);
                }
            }
        }
        if (si == 0 && rc == EXIT_OK)
            first_truth = truth;
        else
            rpt_truth_free(&truth);
        sim_result_free(res);
        scand_strtab_free(st);
        for (size_t i = 0; i < lab.n_ev; i++) {
            scand_free(lab.ev[i].ctx);
            lab.ev[i].ctx = NULL;
        }
        for (size_t i = 0; i < lab.n_swctx; i++)
            scand_free(lab.swctx[i]);
        lab.n_swctx = 0;
    }
    if (rc != EXIT_OK)
        goto tables_out;

    /* ---- tables */
    {
        const struct rpt_truth *t = &first_truth;
        struct rpt_buf b = {0};
        rpt_buf_printf(&b, "key,value\nscenario,");
        rpt_buf_csv(&b, t->scenario);
        rpt_buf_printf(&b, "\nseeds,%llu\nfirst_seed,%llu\nhours_per_seed,%.6g\nvms,%zu\n"
                           "nics_logged,%zu\nflows,%llu\ntuples,%llu\ncampaigns,%zu\n",
                       (unsigned long long)n_seeds, (unsigned long long)first_seed,
                       (double)(t->end_ms - t->start_ms) / 3600000.0, n_vms, n_nics,
                       (unsigned long long)tot_flows, (unsigned long long)tot_tuples,
                       t->n_camps);
        size_t vis = 0;
        for (size_t i = 0; i < t->n_camps; i++)
            vis += t->camps[i].visible != 0;
        rpt_buf_printf(&b, "campaigns_visible,%zu\nhard_negative_classes,", vis);
        struct rpt_buf cl = {0};
        for (size_t i = 0; i < t->n_hn; i++)
            rpt_buf_printf(&cl, "%s%s", i ? " " : "", t->hn[i].cls);
        rpt_buf_csv(&b, cl.s ? cl.s : "");
        free(cl.s);
        rpt_buf_printf(&b, "\nbudget_per_day,%.6g\nta_interval_s,%lld\ningest_delay_s,%lld\n"
                           "rule_frequency_s,%lld\nrule_period_s,%lld\n",
                       budget, (long long)(lat.ta_ms / 1000), (long long)(lat.ingest_ms / 1000),
                       (long long)(lat.freq_ms / 1000), (long long)(lat.period_ms / 1000));
        rc = write_buf(dir, "scenario.csv", &b);
        b.len = 0;

        /* campaigns of the first seed */
        rpt_buf_printf(&b, "campaign,kind,sources,targets,ports,probes,visible,reason\n");
        for (size_t i = 0; i < t->n_camps; i++) {
            const struct rpt_campaign *cp = &t->camps[i];
            rpt_buf_csv(&b, cp->id);
            csv_str(&b, cp->kind, 0);
            rpt_buf_printf(&b, ",%zu,%zu,%zu,%llu,%s", cp->n_sources, cp->n_targets, cp->n_ports,
                           (unsigned long long)cp->probes, cp->visible ? "yes" : "no");
            csv_str(&b, cp->reason, 0);
            rpt_buf_put(&b, "\n", 1);
        }
        if (rc == EXIT_OK)
            rc = write_buf(dir, "truth_campaigns.csv", &b);
        b.len = 0;

        /* the hard negatives of the first seed */
        rpt_buf_printf(&b, "class,what,sources,targets\n");
        for (size_t i = 0; i < t->n_hn; i++) {
            rpt_buf_csv(&b, t->hn[i].cls);
            csv_str(&b, t->hn[i].what, 0);
            rpt_buf_printf(&b, ",%zu,%zu\n", t->hn[i].n_sources, t->hn[i].n_targets);
        }
        if (rc == EXIT_OK)
            rc = write_buf(dir, "hard_negatives.csv", &b);
        b.len = 0;

        /* presets.csv and detection.csv */
        struct rpt_buf d = {0};
        rpt_buf_printf(&b, "preset,rule,family,alerts,true_alerts,false_alerts,false_per_day,"
                           "precision");
        for (size_t i = 0; i <= t->n_hn; i++)
            csv_str(&b, rpt_class_name(t, i), 0);
        rpt_buf_put(&b, "\n", 1);
        rpt_buf_printf(&d, "preset,rule,kind,campaigns,unseeable,detected,rate,ci_lo,ci_hi\n");
        for (size_t i = 0; i < lab.n_ev; i++) {
            struct eval *e = &lab.ev[i];
            for (size_t r = 0; r <= e->n_rules; r++) {
                struct agg *g = &e->agg[r];
                rpt_buf_csv(&b, e->name);
                csv_str(&b, g->rule, 0);
                csv_str(&b, r == 0 ? "*" : g->family, 0);
                rpt_buf_printf(&b, ",%llu,%llu,%llu", (unsigned long long)g->alerts,
                               (unsigned long long)g->true_alerts,
                               (unsigned long long)g->false_alerts);
                csv_num(&b, g->days > 0 ? (double)g->false_alerts / g->days : NAN);
                csv_num(&b, g->alerts ? (double)g->true_alerts / (double)g->alerts : NAN);
                for (size_t k = 0; k <= t->n_hn; k++)
                    rpt_buf_printf(&b, ",%llu",
                                   (unsigned long long)g->by_class[k < t->n_hn ? k : t->n_hn]);
                rpt_buf_put(&b, "\n", 1);
                for (size_t k = 0; k < g->n_kinds; k++) {
                    rpt_kind_finish(&g->kinds[k]);
                    const struct rpt_kind_score *ks = &g->kinds[k];
                    rpt_buf_csv(&d, e->name);
                    csv_str(&d, g->rule, 0);
                    csv_str(&d, ks->kind, 0);
                    rpt_buf_printf(&d, ",%u,%u,%u", ks->campaigns, ks->unseeable, ks->detected);
                    csv_num(&d, ks->rate);
                    csv_num(&d, ks->lo);
                    csv_num(&d, ks->hi);
                    rpt_buf_put(&d, "\n", 1);
                }
            }
        }
        if (rc == EXIT_OK)
            rc = write_buf(dir, "presets.csv", &b);
        if (rc == EXIT_OK)
            rc = write_buf(dir, "detection.csv", &d);
        free(d.s);
        if (rc == EXIT_OK)
            rc = write_buf(dir, "campaigns.csv", &camp);
        if (rc == EXIT_OK)
            rc = write_buf(dir, "false_alerts.csv", &fa);

        /* sweep.csv and recommend.csv */
        b.len = 0;
        for (size_t i = 0; i < lab.n_sw; i++)
            rpt_sweep_csv(&b, lab.sw[i], i == 0);
        if (lab.n_sw == 0)
            rpt_sweep_csv(&b, NULL, 1);
        if (rc == EXIT_OK)
            rc = write_buf(dir, "sweep.csv", &b);
        b.len = 0;
        rpt_recommend_csv(&b, NULL, primary, budget, 1);
        for (size_t i = 0; i < lab.n_sw; i++)
            rpt_recommend_csv(&b, lab.sw[i], primary, budget, 0);
        if (rc == EXIT_OK)
            rc = write_buf(dir, "recommend.csv", &b);
        free(b.s);
    }
    if (rc != EXIT_OK)
        goto tables_out;

    /* ---- the report, rendered from the tables */
    {
        char rerr[RPT_ERRBUF_SIZE];
        int gp = 0;
        if (rpt_render(dir, &gp, rerr, sizeof rerr) != 0) {
            cli_error("%s", rerr);
            rc = EXIT_INPUT;
            goto tables_out;
        }
        cli_gnuplot_note(gp, rerr);
        printf("%s\n", dir);
        if (!quiet)
            rpt_print_summary(stdout, dir);
    }
tables_out:
    free(camp.s);
    free(fa.s);
    rpt_truth_free(&first_truth);
out:
    for (size_t i = 0; i < lab.n_ev; i++) {
        free(lab.ev[i].alerts);
        scand_free(lab.ev[i].ctx); /* a seed that failed part way */
    }
    for (size_t i = 0; i < lab.n_swctx; i++)
        scand_free(lab.swctx[i]);
    for (size_t i = 0; i < lab.n_sw; i++)
        rpt_sweep_free(lab.sw[i]);
    scand_free(primary);
    sim_scenario_free(sc);
    free(o.sets);
    return rc;
usage:
    free(o.sets);
    return EXIT_USAGE;
}
