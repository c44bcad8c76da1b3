/*
 * test_lab.c - the lab's scoring (reports/): Clopper-Pearson against known
 * values, scoring semantics on hand-built truth and alerts (detected,
 * missed, false by class, unseeable, distributed), the escapes, and the
 * one-pass sweep: for a shipped scenario and a sample of thresholds and
 * windows, the sweep's alerts equal full detector runs at each threshold,
 * exactly (key, window, count, and when the count passed the threshold).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "rpt.h"
#include "sim.h"
#include "tests.h"

static void test_lab_clopper_pearson_known_values(void)
{
    /* reference values: R binom.test(x, n)$conf.int, 95% */
    static const struct {
        unsigned x, n;
        double lo, hi;
    } v[] = {
        {0, 10, 0.0, 0.3084971}, {5, 10, 0.1870860, 0.8129140}, {10, 10, 0.6915029, 1.0},
        {1, 1, 0.025, 1.0},      {3, 20, 0.0320714, 0.3789268}, {0, 0, 0.0, 1.0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        double lo, hi;
        rpt_clopper_pearson(v[i].x, v[i].n, 0.05, &lo, &hi);
        CU_ASSERT_DOUBLE_EQUAL(lo, v[i].lo, 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(hi, v[i].hi, 1e-6);
    }
}

static const char truth_json[] =
    "{\"scenario\":\"hand\",\"seed\":1,\"start_ms\":0,\"end_ms\":172800000,\n"
    " \"campaigns\":[\n"
    "  {\"id\":\"sweep\",\"kind\":\"horizontal\",\"sources\":[\"10.0.0.5\"],\n"
    "   \"targets\":[\"10.0.1.1\",\"10.0.1.2\"],\"ports\":[22],\n"
    "   \"start_ms\":600000,\"end_ms\":660000,\"probes\":11},\n"
    "  {\"id\":\"quiet\",\"kind\":\"vertical\",\"sources\":[\"10.0.0.6\"],\n"
    "   \"start_ms\":600000,\"end_ms\":660000,\"probes\":5},\n"
    "  {\"id\":\"blind\",\"kind\":\"horizontal\",\"sources\":[\"10.0.0.7\"],\n"
    "   \"start_ms\":600000,\"end_ms\":660000,\"visible\":false,\"reason\":\"no logging\"},\n"
    "  {\"id\":\"botnet\",\"kind\":\"distributed\",\"sources\":[\"203.0.113.1\",\"203.0.113.2\"],\n"
    "   \"targets\":[\"10.0.2.1\",\"10.0.2.2\"],\"ports\":[22],\n"
    "   \"start_ms\":7200000,\"end_ms\":7300000,\"probes\":4}],\n"
    " \"hard_negatives\":[\n"
    "  {\"class\":\"monitoring\",\"sources\":[\"10.0.0.9\"],\"targets\":[\"10.0.1.1\",\"10.0.1.2\"]},\n"
    "  {\"class\":\"ad\",\"sources\":[\"10.0.0.5\",\"10.0.0.8\"],\"targets\":[\"10.0.3.1\"]}]}\n";

static void test_lab_scoring_semantics(void)
{
    const char alerts_txt[] =
        /* detects "sweep": source in it, window overlaps, passed at 630 s */
        "{\"rule\":\"h\",\"src\":\"10.0.0.5\",\"window_start_ms\":600000,\"window_end_ms\":"
        "660000,\"count\":9,\"threshold\":6,\"reached_ms\":630000}\n"
        "\n"
        /* the same source an hour later: no campaign then; AD by its target */
        "{\"rule\":\"v\",\"src\":\"10.0.0.5\",\"dst\":\"10.0.3.1\",\"window_start_ms\":3600000,"
        "\"window_end_ms\":3660000,\"count\":5,\"threshold\":3}\n"
        /* the monitoring server: false, monitoring */
        "{\"rule\":\"h\",\"src\":\"10.0.0.9\",\"window_start_ms\":0,\"window_end_ms\":60000,"
        "\"count\":7,\"threshold\":6,\"targets\":[\"10.0.1.1\",\"10.0.1.2\"]}\n"
        /* an unknown source: other */
        "{\"rule\":\"h\",\"src\":\"10.9.9.9\",\"window_start_ms\":0,\"window_end_ms\":60000,"
        "\"count\":7,\"threshold\":6}\n"
        /* a distributed alert on port 22 naming the botnet's targets */
        "{\"rule\":\"d\",\"rule_family\":\"distributed\",\"port\":22,\"window_start_ms\":7200000,"
        "\"window_end_ms\":7500000,\"count\":2,\"threshold\":1,\"reached_ms\":7250000,"
        "\"targets\":[\"10.0.2.2\"],\"sources\":[\"198.51.100.1\"]}\n"
        /* the invisible campaign's source: matches it, but it stays unseeable */
        "{\"rule\":\"h\",\"src\":\"10.0.0.7\",\"window_start_ms\":600000,\"window_end_ms\":"
        "660000,\"count\":7,\"threshold\":6}\n";
    struct rpt_truth t;
    char err[RPT_ERRBUF_SIZE] = "";
    int rc = rpt_truth_parse("truth.json", truth_json, strlen(truth_json), &t, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    struct rpt_alert *a;
    size_t n;
    rc = rpt_alerts_parse("a.json", alerts_txt, strlen(alerts_txt), &a, &n, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL_FATAL(n, 6);
    struct rpt_latency lat;
    rpt_latency_defaults(&lat);
    struct rpt_score s;
    CU_ASSERT_EQUAL_FATAL(rpt_score(&t, a, n, NULL, &lat, &s), 0);
    CU_ASSERT_EQUAL(s.n_alerts, 6);
    CU_ASSERT_EQUAL(s.true_alerts, 3);
    CU_ASSERT_EQUAL(s.false_alerts, 3);
    CU_ASSERT_DOUBLE_EQUAL(s.days, 2.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(s.false_per_day, 1.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(s.precision, 0.5, 1e-9);
    CU_ASSERT_EQUAL(s.false_by_class[0], 1); /* monitoring */
    CU_ASSERT_EQUAL(s.false_by_class[1], 1); /* ad */
    CU_ASSERT_EQUAL(s.false_by_class[2], 1); /* other */
    CU_ASSERT_STRING_EQUAL(rpt_class_name(&t, 2), "other");
    CU_ASSERT_TRUE(s.camp[0].detected);
    CU_ASSERT_DOUBLE_EQUAL(s.camp[0].ttd_s, 30.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(s.camp[0].ttd_probes, 6.0, 1e-9); /* half of 10 gaps */
    /* 630 s + 1 min blob -> TA at 1 h -> +3 min ingest -> run at 2 h */
    CU_ASSERT_DOUBLE_EQUAL(s.camp[0].latency_s, 30.0 + (7200.0 - 630.0), 1e-9);
    CU_ASSERT_FALSE(s.camp[1].detected); /* missed */
    CU_ASSERT_TRUE(s.camp[3].detected);  /* distributed, by its targets */
    /* kinds: horizontal 1 of 1 seeable (1 unseeable), vertical 0 of 1 */
    CU_ASSERT_STRING_EQUAL(s.kinds[0].kind, "horizontal");
    CU_ASSERT_EQUAL(s.kinds[0].campaigns, 2);
    CU_ASSERT_EQUAL(s.kinds[0].unseeable, 1);
    CU_ASSERT_EQUAL(s.kinds[0].detected, 1);
    CU_ASSERT_STRING_EQUAL(s.kinds[1].kind, "vertical");
    CU_ASSERT_EQUAL(s.kinds[1].detected, 0);
    CU_ASSERT_DOUBLE_EQUAL(s.kinds[1].hi, 0.975, 1e-9);
    char *json = rpt_score_json(&t, a, &s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    CU_ASSERT_TRUE(has_sub(json, "\"id\":\"blind\",\"kind\":\"horizontal\",\"result\":\"unseeable\""));
    CU_ASSERT_TRUE(has_sub(json, "\"id\":\"quiet\",\"kind\":\"vertical\",\"result\":\"missed\""));
    free(json);
    rpt_score_free(&s);
    /* one rule only */
    CU_ASSERT_EQUAL_FATAL(rpt_score(&t, a, n, "v", &lat, &s), 0);
    CU_ASSERT_EQUAL(s.n_alerts, 1);
    CU_ASSERT_EQUAL(s.false_alerts, 1);
    CU_ASSERT_FALSE(s.camp[0].detected);
    rpt_score_free(&s);
    free(a);
    rpt_truth_free(&t);
}

/* Strings of 160 and 192 characters, one more than truth's fields hold,
 * and of 159 and 191, as many. */
#define LONG31 "0123456789abcdef0123456789abcde"
#define LONG32 LONG31 "f"
#define LONG159 LONG32 LONG32 LONG32 LONG32 LONG31
#define LONG160 LONG32 LONG32 LONG32 LONG32 LONG32
#define LONG191 LONG160 LONG31
#define LONG192 LONG160 LONG32

static void test_lab_bad_files(void)
{
    static const struct {
        const char *text, *err;
    } truths[] = {
        {"{\"campaigns\":[{\"id\":\"x\",\"kind\":\"horizontal\",\"start_ms\":1,\"end_ms\":2}]}",
         "t.json:1: campaigns[0]: missing \"sources\""},
        {"{\"campaigns\":[\n{\"id\":\"x\",\"kind\":\"horizontal\",\"sources\":[\"1.2.3\"],\"start_ms\":1,"
         "\"end_ms\":2}]}",
         "t.json:2: campaigns[0]: \"sources\": not an IP address"},
        {"{\"campaigns\":{}}", "t.json:1: campaigns: expected an array"},
        {"{\"campaigns\":[{\"id\":\"a\",\"kind\":\"slow\",\"sources\":[\"1.2.3.4\"],\"start_ms\":1,"
         "\"end_ms\":2},\n{\"id\":\"b\",\"kind\":\"slow\",\"sources\":[\"1.2.3.4\"],\"start_ms\":1,"
         "\"end_ms\":2},\n{\"id\":\"a\",\"kind\":\"slow\",\"sources\":[\"1.2.3.5\"],\"start_ms\":1,"
         "\"end_ms\":2}]}",
         "t.json:3: campaigns[2]: id \"a\" given twice"},
        {"{\"campaigns\":[", "t.json:1: not valid JSON"},
        {"{\"campaigns\":[{\"id\":\"x\",\"kind\":\"horizontal\",\"sources\":[\"1.2.3.4\"],\"start_ms\":5,"
         "\"end_ms\":2}]}",
         "t.json:1: campaigns[0]: end_ms is before start_ms"},
        /* found by fuzzing: ids cut to fit merged campaigns, any kind passed */
        {"{\"campaigns\":[{\"id\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\","
         "\"kind\":\"horizontal\",\"sources\":[\"1.2.3.4\"],\"start_ms\":1,\"end_ms\":2}]}",
         "t.json:1: campaigns[0]: \"id\": at most 47 characters"},
        {"{\"campaigns\":[{\"id\":\"x\",\"kind\":\"bogus\",\"sources\":[\"1.2.3.4\"],"
         "\"start_ms\":1,\"end_ms\":2}]}",
         "t.json:1: campaigns[0]: \"kind\": expected horizontal, vertical, block, slow, "
         "distributed or udp"},
        {"{\"campaigns\":[{\"id\":\"x\",\"kind\":\"" LONG160 "\",\"sources\":[\"1.2.3.4\"],"
         "\"start_ms\":1,\"end_ms\":2}]}",
         "t.json:1: campaigns[0]: \"kind\": expected horizontal, vertical, block, slow, "
         "distributed or udp"},
        {"{\"campaigns\":[],\n\"campaigns\":[]}", "t.json:2: $: \"campaigns\": given twice"},
        /* found by fuzzing: reasons and descriptions were cut to fit */
        {"{\"campaigns\":[{\"id\":\"x\",\"kind\":\"horizontal\",\"sources\":[\"1.2.3.4\"],"
         "\"start_ms\":1,\"end_ms\":2,\n\"reason\":\"" LONG192 "\"}]}",
         "t.json:2: campaigns[0]: \"reason\": at most 191 characters"},
        {"{\"campaigns\":[],\"hard_negatives\":[{\"class\":\"dns\",\"sources\":[\"1.2.3.4\"],\n"
         "\"what\":\"" LONG160 "\"}]}",
         "t.json:2: hard_negatives[0]: \"what\": at most 159 characters"},
        {"{\"scenario\":\"" LONG192 "\",\"campaigns\":[]}",
         "t.json:1: $: \"scenario\": at most 127 characters"},
        {"{\"campaigns\":[{\"id\":\"x\",\"kind\":\"horizontal\",\"sources\":[\"1.2.3.4\"],"
         "\"start_ms\":1,\"end_ms\":2,\"end_ms\":3}]}",
         "t.json:1: campaigns[0]: \"end_ms\": given twice"},
    };
    for (size_t i = 0; i < sizeof truths / sizeof truths[0]; i++) {
        struct rpt_truth t;
        char err[RPT_ERRBUF_SIZE] = "";
        CU_ASSERT_EQUAL(rpt_truth_parse("t.json", truths[i].text, strlen(truths[i].text), &t,
                                        err, sizeof err),
                        -1);
        if (strcmp(err, truths[i].err) != 0)
            fprintf(stderr, "\n got '%s'\nwant '%s'\n", err, truths[i].err);
        CU_ASSERT_STRING_EQUAL(err, truths[i].err);
    }
    /* the longest that fit are kept whole */
    static const char longest[] =
        "{\"campaigns\":[{\"id\":\"x\",\"kind\":\"horizontal\",\"sources\":[\"1.2.3.4\"],"
        "\"start_ms\":1,\"end_ms\":2,\"reason\":\"" LONG191 "\"}],\"hard_negatives\":[{"
        "\"class\":\"dns\",\"sources\":[\"1.2.3.4\"],\"what\":\"" LONG159 "\"}]}";
    struct rpt_truth lt;
    char lerr[RPT_ERRBUF_SIZE] = "";
    CU_ASSERT_EQUAL_FATAL(
        rpt_truth_parse("t.json", longest, strlen(longest), &lt, lerr, sizeof lerr), 0);
    CU_ASSERT_STRING_EQUAL(lt.camps[0].reason, LONG191);
    CU_ASSERT_STRING_EQUAL(lt.hn[0].what, LONG159);
    rpt_truth_free(&lt);
    static const struct {
        const char *text, *err;
    } alerts[] = {
        {"{\"rule\":\"h\",\"src\":\"10.0.0.1\",\"window_start_ms\":0,\"window_end_ms\":1}\nnope\n",
         "a.json:2: not valid JSON"},
        {"{\"rule\":\"h\",\"window_start_ms\":0,\"window_end_ms\":1}",
         "a.json:1: no key: expected \"src\", \"dst\" or \"port\""},
        {"{\"rule\":\"h\",\"src\":\"10.0.0.1\",\"window_start_ms\":0}",
         "a.json:1: \"window_end_ms\": expected whole milliseconds"},
        {"[1]", "a.json:1: expected a JSON object"},
        /* found by fuzzing: fractions were cut to whole numbers */
        {"{\"rule\":\"h\",\"src\":\"10.0.0.1\",\"window_start_ms\":0,\"window_end_ms\":1,"
         "\"count\":7.9}",
         "a.json:1: \"count\": expected a whole number >= 0"},
        {"{\"rule\":\"h\",\"src\":\"10.0.0.1\",\"window_start_ms\":0,\"window_end_ms\":1,"
         "\"threshold\":6.5}",
         "a.json:1: \"threshold\": expected a whole number >= 0"},
        {"{\"rule\":\"h\",\"src\":\"10.0.0.1\",\"window_start_ms\":0,\"window_end_ms\":1,"
         "\"flows\":0.5}",
         "a.json:1: \"flows\": expected a whole number >= 0"},
        {"{\"rule\":\"h\",\"port\":22.5,\"window_start_ms\":0,\"window_end_ms\":1}",
         "a.json:1: \"port\": expected a whole number 0..65535"},
        {"{\"rule\":\"h\",\"src\":\"10.0.0.1\",\"window_start_ms\":0,\"window_end_ms\":1,"
         "\"ports\":[22,80.5]}",
         "a.json:1: \"ports\": expected whole numbers 0..65535"},
        {"{\"rule\":\"h\",\"src\":\"10.0.0.1\",\"window_start_ms\":0.25,\"window_end_ms\":1}",
         "a.json:1: \"window_start_ms\": expected whole milliseconds"},
        {"{\"rule\":\"h\",\"src\":\"10.0.0.1\",\"window_start_ms\":0,\"window_end_ms\":1,"
         "\"reached_ms\":1.5}",
         "a.json:1: \"reached_ms\": expected whole milliseconds"},
    };
    for (size_t i = 0; i < sizeof alerts / sizeof alerts[0]; i++) {
        struct rpt_alert *a = NULL;
        size_t n;
        char err[RPT_ERRBUF_SIZE] = "";
        CU_ASSERT_EQUAL(rpt_alerts_parse("a.json", alerts[i].text, strlen(alerts[i].text), &a,
                                         &n, err, sizeof err),
                        -1);
        CU_ASSERT_STRING_EQUAL(err, alerts[i].err);
        CU_ASSERT_PTR_NULL(a);
    }
}

/* The report's CSV reader on the edges of a file: no final newline (the
 * last field ends in the NUL after the text; it was an "internal error",
 * found by fuzzing), CRLF, quotes, and a ragged row. */
static void test_lab_csv_edges(void)
{
    static const struct {
        const char *text;
        size_t rows;
        const char *last; /* the last row's "b", NULL: an error */
    } cases[] = {
        {"a,b\n1,2", 2, "2"},
        {"a,b\n1,2\n", 2, "2"},
        {"a,b\r\n1,\"x,\"\"y\"\"\"", 2, "x,\"y\""},
        {"a,b\n1", 0, NULL},
        {"a,b\n1,\"2", 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = strdup(cases[i].text), err[256] = "";
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        struct rpt_table t;
        int rc = rpt_table_parse("t.csv", text, strlen(text), &t, err, sizeof err);
        if (cases[i].last == NULL) {
            CU_ASSERT_EQUAL(rc, -1);
            CU_ASSERT(has_sub(err, "t.csv:"));
        } else {
            CU_ASSERT_EQUAL_FATAL(rc, 0);
            CU_ASSERT_EQUAL(t.n_rows, cases[i].rows);
            const char *b = rpt_cell(&t, t.n_rows - 1, "b"); /* row 0 is the header */
            CU_ASSERT_PTR_NOT_NULL(b);
            if (b != NULL)
                CU_ASSERT_STRING_EQUAL(b, cases[i].last);
            free(t.cells);
        }
        free(text);
    }
}

static void test_lab_escapes(void)
{
    const char *evil = "x\"y`system(\"touch x\")`<script>&'z\n";
    struct rpt_buf b = {0};
    rpt_buf_html(&b, evil);
    CU_ASSERT_STRING_EQUAL(b.s, "x&quot;y`system(&quot;touch x&quot;)`&lt;script&gt;&amp;&#39;z\n");
    b.len = 0;
    rpt_buf_gp(&b, evil);
    CU_ASSERT_STRING_EQUAL(b.s, "x\"y`system(\"touch x\")`<script>&''z?");
    b.len = 0;
    rpt_buf_csv(&b, evil);
    CU_ASSERT_STRING_EQUAL(b.s, "\"x\"\"y`system(\"\"touch x\"\")`<script>&'z\n\"");
    b.len = 0;
    rpt_buf_csv(&b, "=cmd|' /C calc'!A0");
    CU_ASSERT_STRING_EQUAL(b.s, "\"'=cmd|' /C calc'!A0\"");
    b.len = 0;
    rpt_buf_json(&b, evil);
    CU_ASSERT_STRING_EQUAL(b.s, "x\\\"y`system(\\\"touch x\\\")`<script>&'z\\u000a");
    free(b.s);
}

/* ------------------------------------------------------------ sweep */

struct key_alert {
    uint64_t key;
    int64_t wstart, reached;
    uint64_t count;
};

struct klist {
    struct key_alert *v;
    size_t n, cap;
};

static void kl_add(void *arg, uint64_t key, int64_t wstart, uint64_t count, int64_t reached)
{
    struct klist *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        CU_ASSERT_PTR_NOT_NULL_FATAL(l->v);
    }
    l->v[l->n++] = (struct key_alert){key, wstart, reached, count};
}

static int cmp_ka(const void *a, const void *b)
{
    const struct key_alert *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->wstart > y->wstart) - (x->wstart < y->wstart);
}

#define N_T 7
#define N_W 2
static const uint32_t thresholds[N_T] = {1, 2, 3, 6, 10, 25, 60};
static const int64_t windows[N_W] = {60000, 300000};
static const char *const wtext[N_W] = {"1m", "5m"};
static const char *const rules[2] = {"horizontal", "vertical"};

struct full {
    struct alerts al;
    scand_ctx *ctx;
};

struct sweep_cb {
    rpt_sweep *sw[2];
    int kept;
};

static int on_sweep_alert(void *arg, const struct scand_alert *a)
{
    struct sweep_cb *cb = arg;
    for (int r = 0; r < 2; r++) {
        int k = rpt_sweep_alert(cb->sw[r], a);
        CU_ASSERT_TRUE(k >= 0);
        cb->kept += k;
    }
    return 0;
}

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void test_lab_sweep_equals_full_runs(void)
{
    size_t len;
    char *text = read_text("../../scenarios/horizontal.json", &len);
    sim_scenario *sc;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(sim_scenario_parse("horizontal.json", text, len, &sc, err, sizeof err),
                          0);
    /* the sweep: one context, seed preset plus each rule at 2 windows */
    scand_ctx *base = scand_new(NULL);
    CU_ASSERT_EQUAL_FATAL(scand_set_preset(base, "seed"), SCAND_OK);
    /* the sweep's own context takes base's global keys, with hold-down off
     * (it would be decided at the lowest threshold) */
    CU_ASSERT_EQUAL_FATAL(scand_set_config(base, "hold_down", "10m"), SCAND_OK);
    scand_ctx *sctx = rpt_sweep_ctx(base, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sctx);
    char hd[32];
    CU_ASSERT_EQUAL(scand_get_config(sctx, "hold_down", hd, sizeof hd), SCAND_OK);
    CU_ASSERT_STRING_EQUAL(hd, "0s");
    CU_ASSERT_EQUAL(scand_set_config(base, "hold_down", "0s"), SCAND_OK);
    struct sweep_cb cb = {{NULL, NULL}, 0};
    for (int r = 0; r < 2; r++) {
        cb.sw[r] = rpt_sweep_new(base, rules[r], 1, 60, 1, windows, N_W, err, sizeof err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(cb.sw[r]);
        CU_ASSERT_EQUAL_FATAL(rpt_sweep_setup(cb.sw[r], base, sctx, err, sizeof err), 0);
    }
    scand_set_alert_cb(sctx, on_sweep_alert, &cb);
    CU_ASSERT_EQUAL_FATAL(scand_finalize(sctx), SCAND_OK);
    /* full runs: the seed preset at each threshold and window */
    struct full full[N_T * N_W];
    scand_ctx *ctxs[1 + N_T * N_W];
    ctxs[0] = sctx;
    for (int ti = 0; ti < N_T; ti++)
        for (int wi = 0; wi < N_W; wi++) {
            struct full *f = &full[ti * N_W + wi];
            char th[16];
            snprintf(th, sizeof th, "%u", thresholds[ti]);
            memset(&f->al, 0, sizeof f->al);
            f->ctx = scand_new(NULL);
            CU_ASSERT_EQUAL_FATAL(scand_set_preset(f->ctx, "seed"), SCAND_OK);
            for (int r = 0; r < 2; r++) {
                char k[64];
                snprintf(k, sizeof k, "%s.threshold", rules[r]);
                CU_ASSERT_EQUAL_FATAL(scand_set_config(f->ctx, k, th), SCAND_OK);
                snprintf(k, sizeof k, "%s.window", rules[r]);
                CU_ASSERT_EQUAL_FATAL(scand_set_config(f->ctx, k, wtext[wi]), SCAND_OK);
            }
            scand_set_alert_cb(f->ctx, alerts_collect, &f->al);
            CU_ASSERT_EQUAL_FATAL(scand_finalize(f->ctx), SCAND_OK);
            ctxs[1 + ti * N_W + wi] = f->ctx;
        }
    scand_strtab *st = scand_strtab_new();
    struct sim_result *res;
    struct rpt_truth truth;
    memset(&truth, 0, sizeof truth);
    for (int r = 0; r < 2; r++)
        rpt_sweep_begin(cb.sw[r], &truth); /* matching is not under test here */
    int rc = rpt_lab_run(sc, st, ctxs, 1 + N_T * N_W, NULL, NULL, &res, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_TRUE(cb.kept > 100);
    size_t compared = 0, nonempty = 0;
    for (int ti = 0; ti < N_T; ti++)
        for (int wi = 0; wi < N_W; wi++)
            for (int r = 0; r < 2; r++) {
                struct full *f = &full[ti * N_W + wi];
                struct klist want = {0}, got = {0};
                for (size_t i = 0; i < f->al.n; i++) {
                    const struct scand_alert *a = &f->al.a[i];
                    if (strcmp(a->rule, rules[r]) == 0)
                        kl_add(&want, rpt_key_hash(a), a->window_start_ms, a->count,
                               a->reached_ms);
                }
                rpt_sweep_alerts_at(cb.sw[r], (size_t)wi, thresholds[ti], kl_add, &got);
                CU_ASSERT_EQUAL(got.n, want.n);
                if (got.n == want.n && got.n > 0) {
                    qsort(got.v, got.n, sizeof *got.v, cmp_ka);
                    qsort(want.v, want.n, sizeof *want.v, cmp_ka);
                    for (size_t i = 0; i < got.n; i++) {
                        CU_ASSERT_EQUAL(got.v[i].key, want.v[i].key);
                        CU_ASSERT_EQUAL(got.v[i].wstart, want.v[i].wstart);
                        CU_ASSERT_EQUAL(got.v[i].count, want.v[i].count);
                        CU_ASSERT_EQUAL(got.v[i].reached, want.v[i].reached);
                    }
                }
                compared += want.n;
                nonempty += want.n > 0;
                free(got.v);
                free(want.v);
            }
    /* the sample must exercise the comparison: alerts at most points */
    CU_ASSERT_TRUE(compared > 200);
    CU_ASSERT_TRUE(nonempty >= 20);
    for (int i = 0; i < N_T * N_W; i++)
        detect_free(full[i].ctx, &full[i].al);
    for (int r = 0; r < 2; r++)
        rpt_sweep_free(cb.sw[r]);
    scand_free(sctx);
    scand_free(base);
    sim_result_free(res);
    scand_strtab_free(st);
    sim_scenario_free(sc);
    free(text);
}

/* rpt_match() through the source index gives what trying every campaign
 * gives: seeded campaigns over a small pool of sources (shared, repeated)
 * and alerts with and without a source, sampled sources and targets. */
static void test_lab_match_index_equals_scan(void)
{
    uint64_t rs = 0x5c0e;
    static const char *const kinds[] = {"horizontal", "vertical", "distributed", "block"};
    for (int round = 0; round < 20; round++) {
        struct rpt_buf b = {0};
        rpt_buf_printf(&b, "{\"scenario\":\"p\",\"campaigns\":[");
        int nc = 1 + (int)rng_below(&rs, 300);
        for (int i = 0; i < nc; i++) {
            int64_t st = (int64_t)rng_below(&rs, 100) * 60000;
            rpt_buf_printf(&b, "%s{\"id\":\"c%d\",\"kind\":\"%s\",\"sources\":[", i ? "," : "",
                           i, kinds[rng_below(&rs, 4)]);
            int ns = 1 + (int)rng_below(&rs, 3);
            for (int j = 0; j < ns; j++)
                rpt_buf_printf(&b, "%s\"10.0.0.%u\"", j ? "," : "", (unsigned)rng_below(&rs, 40));
            rpt_buf_printf(&b, "],\"targets\":[\"10.0.1.%u\",\"10.0.1.%u\"],\"ports\":[%u],"
                               "\"start_ms\":%lld,\"end_ms\":%lld}",
                           (unsigned)rng_below(&rs, 20), (unsigned)rng_below(&rs, 20),
                           (unsigned)(20 + rng_below(&rs, 3)), (long long)st,
                           (long long)(st + 60000 * (int64_t)(1 + rng_below(&rs, 30))));
        }
        rpt_buf_printf(&b, "]}");
        CU_ASSERT_FATAL(!b.oom);
        struct rpt_truth t;
        char err[RPT_ERRBUF_SIZE] = "";
        int prc = rpt_truth_parse("p.json", b.s, b.len, &t, err, sizeof err);
        if (prc != 0)
            fprintf(stderr, "\n%s\n", err);
        CU_ASSERT_EQUAL_FATAL(prc, 0);
        free(b.s);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t.src_head);
        for (int k = 0; k < 500; k++) {
            struct rpt_alert a;
            memset(&a, 0, sizeof a);
            a.has_src = rng_below(&rs, 2) == 0;
            a.src[10] = a.src[11] = 0xff;
            a.src[12] = 10;
            a.src[15] = (uint8_t)rng_below(&rs, 45);
            a.has_port = !a.has_src && rng_below(&rs, 2);
            a.port = (uint16_t)(20 + rng_below(&rs, 3));
            a.has_dst = !a.has_src && !a.has_port;
            memcpy(a.dst, a.src, 16);
            a.dst[14] = 1;
            a.dst[15] = (uint8_t)rng_below(&rs, 20);
            a.n_sources = (uint8_t)rng_below(&rs, 4);
            for (unsigned j = 0; j < a.n_sources; j++) {
                memcpy(a.sources[j], a.src, 16);
                a.sources[j][15] = (uint8_t)rng_below(&rs, 45);
            }
            a.n_targets = (uint8_t)rng_below(&rs, 3);
            for (unsigned j = 0; j < a.n_targets; j++) {
                memcpy(a.targets[j], a.dst, 16);
                a.targets[j][15] = (uint8_t)rng_below(&rs, 20);
            }
            a.window_start_ms = (int64_t)rng_below(&rs, 130) * 60000;
            a.window_end_ms = a.window_start_ms + 60000;
            size_t got[64], want[64];
            size_t n = rpt_match(&t, &a, got, 64);
            uint32_t *head = t.src_head;
            t.src_head = NULL; /* every campaign */
            size_t m = rpt_match(&t, &a, want, 64);
            t.src_head = head;
            CU_ASSERT_EQUAL_FATAL(n, m);
            for (size_t j = 0; j < n; j++)
                CU_ASSERT_EQUAL(got[j], want[j]);
        }
        rpt_truth_free(&t);
    }
}

int test_lab_register(void)
{
    CU_pSuite s = CU_add_suite("lab", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
    if (CU_add_test(s, "clopper_pearson_known_values", test_lab_clopper_pearson_known_values) ==
            NULL ||
        CU_add_test(s, "scoring_semantics", test_lab_scoring_semantics) == NULL ||
        CU_add_test(s, "bad_files", test_lab_bad_files) == NULL ||
        CU_add_test(s, "csv_edges", test_lab_csv_edges) == NULL ||
        CU_add_test(s, "escapes", test_lab_escapes) == NULL ||
        CU_add_test(s, "sweep_equals_full_runs", test_lab_sweep_equals_full_runs) == NULL ||
        CU_add_test(s, "match_index_equals_scan", test_lab_match_index_equals_scan) == NULL)
        return CU_get_error();
    return CUE_SUCCESS;
}
