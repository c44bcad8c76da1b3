/*
 * test_config.c - the detector's configuration keys (config.c through
 * scand_set_config/scand_get_config): unknown keys, bad values and
 * out-of-range values with messages naming the key, a failed set changing
 * nothing, the finalize checks (and a --config file's reorder against its
 * flow_idle) and SCAND_ERR_STATE afterwards, every key's
 * documented default printed back, and value text round trips.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>

#include "tests.h"

static void test_config_errors_name_the_key(void)
{
    char err[SCAND_ERRBUF_SIZE];
    scand_ctx *ctx = scand_new(err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    char v[64];
    CU_ASSERT_EQUAL(scand_set_config(ctx, "horizontal.nope", "1"), SCAND_ERR_INVAL);
    CU_ASSERT(has_sub(scand_geterr(ctx), "horizontal.nope"));
    CU_ASSERT_EQUAL(scand_set_config(ctx, "", "1"), SCAND_ERR_INVAL);
    static const struct {
        const char *key, *value;
        int rc;
    } bad[] = {
        {"horizontal.threshold", "abc", SCAND_ERR_INVAL},
        {"horizontal.threshold", "-1", SCAND_ERR_INVAL},
        {"horizontal.threshold", "7x", SCAND_ERR_INVAL},
        {"horizontal.threshold", "", SCAND_ERR_INVAL},
        {"horizontal.threshold", "4294967296", SCAND_ERR_RANGE},
        {"horizontal.threshold", "99999999999999999999999", SCAND_ERR_RANGE},
        {"horizontal.enabled", "maybe", SCAND_ERR_INVAL},
        {"horizontal.window", "1w", SCAND_ERR_INVAL},
        {"horizontal.window", "m", SCAND_ERR_INVAL},
        {"horizontal.window", "500ms", SCAND_ERR_RANGE},
        {"horizontal.window", "2d", SCAND_ERR_RANGE},
        {"horizontal.window", "0", SCAND_ERR_RANGE},
        {"vertical.proto", "256", SCAND_ERR_RANGE},
        {"vertical.ports", "0-65536", SCAND_ERR_INVAL},
        {"vertical.ports", "10-5", SCAND_ERR_INVAL},
        {"vertical.ports", "22,", SCAND_ERR_INVAL},
        {"vertical.ports", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", SCAND_ERR_INVAL},
        {"vertical.src", "everyone", SCAND_ERR_INVAL},
        {"vertical.count", "some", SCAND_ERR_INVAL},
        {"vertical.key", "src_port", SCAND_ERR_INVAL}, /* horizontal's, not vertical's */
        {"horizontal.key", "dst", SCAND_ERR_INVAL},
        {"horizontal.min_ports", "3", SCAND_ERR_INVAL}, /* a block parameter */
        {"horizontal.allow_src", "10.0.0.0/33", SCAND_ERR_INVAL},
        {"horizontal.allow_src", "10.0.0.0/8,,", SCAND_ERR_INVAL},
        {"horizontal.severity", "dire", SCAND_ERR_INVAL},
        {"suppress_platform", "perhaps", SCAND_ERR_INVAL},
        {"reorder", "99999999999999999999d", SCAND_ERR_RANGE},
        {"flow_idle", "999ms", SCAND_ERR_RANGE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* a parameter of another family has no value to keep */
        int has = scand_get_config(ctx, bad[i].key, v, sizeof v) == SCAND_OK;
        char before[64];
        snprintf(before, sizeof before, "%s", has ? v : "");
        int rc = scand_set_config(ctx, bad[i].key, bad[i].value);
        CU_ASSERT_EQUAL(rc, bad[i].rc);
        if (rc != bad[i].rc)
            fprintf(stderr, "\n  %s=%s -> %d\n", bad[i].key, bad[i].value, rc);
        CU_ASSERT(has_sub(scand_geterr(ctx), bad[i].key)); /* the message names the key */
        if (!has)
            continue;
        CU_ASSERT_EQUAL(scand_get_config(ctx, bad[i].key, v, sizeof v), SCAND_OK);
        CU_ASSERT_STRING_EQUAL(v, before); /* unchanged */
    }
    /* flow_idle below reorder cannot be finalized. */
    CU_ASSERT_EQUAL(scand_set_config(ctx, "flow_idle", "1m"), SCAND_OK);
    CU_ASSERT_EQUAL(scand_finalize(ctx), SCAND_ERR_INVAL);
    CU_ASSERT(has_sub(scand_geterr(ctx), "flow_idle"));
    CU_ASSERT_EQUAL(scand_set_config(ctx, "flow_idle", "6m"), SCAND_OK);
    CU_ASSERT_EQUAL(scand_finalize(ctx), SCAND_OK);
    /* Closed after finalize. */
    CU_ASSERT_EQUAL(scand_set_config(ctx, "horizontal.threshold", "3"), SCAND_ERR_STATE);
    CU_ASSERT(has_sub(scand_geterr(ctx), "horizontal.threshold"));
    CU_ASSERT_EQUAL(scand_get_config(ctx, "horizontal.threshold", v, sizeof v), SCAND_OK);
    CU_ASSERT_STRING_EQUAL(v, "6");
    CU_ASSERT_EQUAL(scand_finalize(ctx), SCAND_ERR_STATE);
    scand_free(ctx);
    scand_free(NULL);
}

static void test_config_get_round_trips(void)
{
    scand_ctx *ctx = scand_new(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    size_t n = scand_config_count();
    CU_ASSERT(n > 10);
    CU_ASSERT_PTR_NULL(scand_config_at(n));
    char v[300], w[300], key[96];
    for (size_t i = 0; i < n; i++) {
        const struct scand_config_info *ci = scand_config_at(i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ci);
        CU_ASSERT(ci->help != NULL && ci->help[0] != '\0');
        CU_ASSERT(ci->families != NULL && ci->families[0] != '\0');
    }
    /* every key of the effective configuration prints and reads back */
    const struct scand_config_info *info;
    size_t nk = 0;
    for (size_t i = 0; scand_config_key(ctx, i, key, sizeof key, &info) == SCAND_OK; i++, nk++) {
        CU_ASSERT_EQUAL(scand_get_config(ctx, key, v, sizeof v), SCAND_OK);
        if (strchr(key, '.') == NULL)
            CU_ASSERT_STRING_EQUAL(v, info->def); /* globals print their documented default */
        CU_ASSERT_EQUAL(scand_set_config(ctx, key, v), SCAND_OK);
        CU_ASSERT_EQUAL(scand_get_config(ctx, key, w, sizeof w), SCAND_OK);
        CU_ASSERT_STRING_EQUAL(w, v);
    }
    CU_ASSERT(nk > 20); /* globals and the seed preset's two rules */
    static const struct {
        const char *key, *in, *out;
    } rt[] = {
        {"horizontal.window", "90s", "90s"},
        {"horizontal.window", "120s", "2m"},
        {"horizontal.window", "1500ms", "1500ms"},
        {"horizontal.window", "7200", "2h"},
        {"horizontal.window", "1d", "1d"},
        {"reorder", "0", "0s"},
        {"reorder", "0ms", "0s"},
        {"vertical.enabled", "no", "false"},
        {"vertical.enabled", "1", "true"},
        {"vertical.src", "public", "public"},
        {"vertical.ports", "22,80,1000-2000", "22,80,1000-2000"},
        {"vertical.allow_dst", "10.0.0.0/8,fd00::/8", "10.0.0.0/8,fd00::/8"},
        {"horizontal.threshold", "0", "0"},
        {"horizontal.threshold", "4294967295", "4294967295"},
        {"hash_seed", "18446744073709551615", "18446744073709551615"},
        {"vertical.count", "failures", "failures"},
        {"suppress_platform", "false", "false"},
        {"hold_down", "1h", "1h"},
    };
    for (size_t i = 0; i < sizeof rt / sizeof rt[0]; i++) {
        CU_ASSERT_EQUAL(scand_set_config(ctx, rt[i].key, rt[i].in), SCAND_OK);
        CU_ASSERT_EQUAL(scand_get_config(ctx, rt[i].key, v, sizeof v), SCAND_OK);
        CU_ASSERT_STRING_EQUAL(v, rt[i].out);
    }
    CU_ASSERT_EQUAL(scand_get_config(ctx, "nope", v, sizeof v), SCAND_ERR_INVAL);
    scand_free(ctx);
}

/* Rules are created by setting their family, presets replace the rule set
 * and each one's table applies cleanly. */
static void test_config_rules_and_presets(void)
{
    scand_ctx *ctx = scand_new(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    char v[64];
    CU_ASSERT_STRING_EQUAL(scand_get_preset(ctx), "seed");
    CU_ASSERT_EQUAL(scand_set_config(ctx, "mine.threshold", "3"), SCAND_ERR_INVAL);
    CU_ASSERT(has_sub(scand_geterr(ctx), "no rule named 'mine'"));
    CU_ASSERT_EQUAL(scand_set_config(ctx, "mine.family", "cubist"), SCAND_ERR_INVAL);
    CU_ASSERT_EQUAL(scand_set_config(ctx, "bad name.family", "block"), SCAND_ERR_INVAL);
    CU_ASSERT_EQUAL(scand_set_config(ctx, "mine.family", "block"), SCAND_OK);
    CU_ASSERT_STRING_EQUAL(scand_get_preset(ctx), ""); /* no longer the preset */
    CU_ASSERT_EQUAL(scand_get_config(ctx, "mine.min_hosts", v, sizeof v), SCAND_OK);
    CU_ASSERT_STRING_EQUAL(v, "3");
    CU_ASSERT_EQUAL(scand_set_config(ctx, "mine.min_ports", "4"), SCAND_OK);
    /* a family change starts from that family's defaults */
    CU_ASSERT_EQUAL(scand_set_config(ctx, "mine.family", "vertical"), SCAND_OK);
    CU_ASSERT_EQUAL(scand_get_config(ctx, "mine.min_ports", v, sizeof v), SCAND_ERR_INVAL);
    CU_ASSERT_EQUAL(scand_get_config(ctx, "mine.key", v, sizeof v), SCAND_OK);
    CU_ASSERT_STRING_EQUAL(v, "src_dst");
    for (size_t i = 0; i < scand_preset_count(); i++) {
        const char *name = scand_preset_name(i);
        CU_ASSERT_EQUAL(scand_set_preset(ctx, name), SCAND_OK);
        CU_ASSERT_STRING_EQUAL(scand_get_preset(ctx), name);
        CU_ASSERT(scand_preset_help(i) != NULL);
    }
    CU_ASSERT_PTR_NULL(scand_preset_name(scand_preset_count()));
    CU_ASSERT_EQUAL(scand_set_preset(ctx, "azfw"), SCAND_OK);
    CU_ASSERT_EQUAL(scand_get_config(ctx, "horizontal.threshold", v, sizeof v), SCAND_ERR_INVAL);
    CU_ASSERT_EQUAL(scand_get_config(ctx, "azfw_port_sweep.exclude_ports", v, sizeof v),
                    SCAND_OK);
    CU_ASSERT_STRING_EQUAL(v, "80,443");
    CU_ASSERT_EQUAL(scand_set_preset(ctx, "nope"), SCAND_ERR_INVAL);
    CU_ASSERT(has_sub(scand_geterr(ctx), "presets: seed"));
    for (int i = 0; i < 14; i++) { /* 2 azfw rules + 14 = 16, the most */
        char key[32];
        snprintf(key, sizeof key, "r%d.family", i);
        CU_ASSERT_EQUAL(scand_set_config(ctx, key, "horizontal"), SCAND_OK);
    }
    CU_ASSERT_EQUAL(scand_set_config(ctx, "one_too_many.family", "horizontal"), SCAND_ERR_RANGE);
    CU_ASSERT_EQUAL(scand_finalize(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(scand_set_preset(ctx, "seed"), SCAND_ERR_STATE);
    scand_free(ctx);
}

/* reorder above flow_idle: a --config file that sets either is rejected
 * with its name and line (found by fuzzing: only scand_finalize checked,
 * naming neither), and scand_config_check() tells --set callers. */
static void test_config_reorder_over_flow_idle(void)
{
    static const char bad[] = "{\n  \"reorder\": \"10m\",\n  \"hash_seed\": 2\n}\n";
    static const char swapped[] = "{\"flow_idle\": \"20m\",\n\"reorder\": \"10m\"}";
    scand_ctx *ctx = scand_new(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    CU_ASSERT_EQUAL(scand_config_check(ctx), SCAND_OK);
    /* the file loads; the check names it, as it has the last word */
    CU_ASSERT_EQUAL(scand_config_load_json(ctx, "c.json", bad, strlen(bad)), SCAND_OK);
    CU_ASSERT_EQUAL(scand_config_check(ctx), SCAND_ERR_INVAL);
    CU_ASSERT_STRING_EQUAL(scand_geterr(ctx), "c.json:2: reorder: reorder (10m) is longer than "
                                              "flow_idle (6m); flow_idle must be at least reorder");
    CU_ASSERT_EQUAL(scand_config_check_in_file(ctx), 1);
    /* a later set mends it */
    CU_ASSERT_EQUAL(scand_set_config(ctx, "flow_idle", "15m"), SCAND_OK);
    CU_ASSERT_EQUAL(scand_config_check(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(scand_config_load_json(ctx, "d.json", swapped, strlen(swapped)), SCAND_OK);
    CU_ASSERT_EQUAL(scand_config_check(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(scand_set_config(ctx, "flow_idle", "9m"), SCAND_OK); /* as --set does */
    CU_ASSERT_EQUAL(scand_config_check(ctx), SCAND_ERR_INVAL);
    CU_ASSERT_EQUAL(scand_config_check_in_file(ctx), 0); /* the set had the last word */
    CU_ASSERT(has_sub(scand_geterr(ctx), "reorder (10m)"));
    CU_ASSERT(has_sub(scand_geterr(ctx), "flow_idle (9m)"));
    CU_ASSERT(!has_sub(scand_geterr(ctx), "d.json"));
    CU_ASSERT_EQUAL(scand_finalize(ctx), SCAND_ERR_INVAL);
    CU_ASSERT_EQUAL(scand_set_config(ctx, "flow_idle", "10m"), SCAND_OK);
    CU_ASSERT_EQUAL(scand_config_check(ctx), SCAND_OK);
    CU_ASSERT_EQUAL(scand_finalize(ctx), SCAND_OK);
    scand_free(ctx);
}

/* scand_json_dup_key() names the earliest member whose key came before,
 * in small objects (pairwise) and large ones (sorted); none when keys are
 * unique. */
static void test_config_dup_key_small_and_large(void)
{
    for (int big = 0; big < 2; big++) {
        int n = big ? 5000 : 8;
        cJSON *o = cJSON_CreateObject();
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        for (int i = 0; i < n; i++) {
            char k[16];
            snprintf(k, sizeof k, "k%d", i);
            cJSON_AddNumberToObject(o, k, i);
        }
        CU_ASSERT_PTR_NULL(scand_json_dup_key(o));
        /* k5 again at n, k1 again at n + 1: the first repeat is k5's */
        cJSON_AddNumberToObject(o, "k5", -1);
        cJSON_AddNumberToObject(o, "k1", -2);
        const cJSON *d = scand_json_dup_key(o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        CU_ASSERT_STRING_EQUAL(d->string, "k5");
        CU_ASSERT_EQUAL(d->valueint, -1);
        cJSON_Delete(o);
    }
}

int test_config_register(void)
{
    CU_pSuite s = CU_add_suite("config", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
    if (CU_add_test(s, "test_config_errors_name_the_key", test_config_errors_name_the_key) ==
            NULL ||
        CU_add_test(s, "test_config_get_round_trips", test_config_get_round_trips) == NULL ||
        CU_add_test(s, "test_config_rules_and_presets", test_config_rules_and_presets) == NULL ||
        CU_add_test(s, "test_config_reorder_over_flow_idle", test_config_reorder_over_flow_idle) ==
            NULL ||
        CU_add_test(s, "test_config_dup_key_small_and_large", test_config_dup_key_small_and_large) ==
            NULL)
        return CU_get_error();
    return CUE_SUCCESS;
}
