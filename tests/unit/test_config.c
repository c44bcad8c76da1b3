/*
 * test_config.c - the detector's configuration keys (config.c through
 * scand_set_config/scand_get_config): unknown keys, bad values and
 * out-of-range values with messages naming the key, a failed set changing
 * nothing, the finalize checks and SCAND_ERR_STATE afterwards, every key's
 * documented default printed back, and value text round trips.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

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
        {"horizontal.bin", "1w", SCAND_ERR_INVAL},
        {"horizontal.bin", "m", SCAND_ERR_INVAL},
        {"horizontal.bin", "500ms", SCAND_ERR_RANGE},
        {"horizontal.bin", "2d", SCAND_ERR_RANGE},
        {"horizontal.bin", "0", SCAND_ERR_RANGE},
        {"vertical.proto", "256", SCAND_ERR_RANGE},
        {"vertical.dport_max", "0", SCAND_ERR_RANGE},
        {"vertical.dport_max", "65537", SCAND_ERR_RANGE},
        {"reorder", "99999999999999999999d", SCAND_ERR_RANGE},
        {"flow_idle", "999ms", SCAND_ERR_RANGE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL_FATAL(scand_get_config(ctx, bad[i].key, v, sizeof v), SCAND_OK);
        char before[64];
        snprintf(before, sizeof before, "%s", v);
        int rc = scand_set_config(ctx, bad[i].key, bad[i].value);
        CU_ASSERT_EQUAL(rc, bad[i].rc);
        if (rc != bad[i].rc)
            fprintf(stderr, "\n  %s=%s -> %d\n", bad[i].key, bad[i].value, rc);
        CU_ASSERT(has_sub(scand_geterr(ctx), bad[i].key)); /* the message names the key */
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
    CU_ASSERT_EQUAL(n, 15); /* reorder, flow_idle, hash_seed, 2 rules x 6 */
    CU_ASSERT_PTR_NULL(scand_config_at(n));
    char v[64], w[64];
    for (size_t i = 0; i < n; i++) {
        const struct scand_config_info *ci = scand_config_at(i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ci);
        CU_ASSERT_EQUAL(scand_get_config(ctx, ci->key, v, sizeof v), SCAND_OK);
        CU_ASSERT_STRING_EQUAL(v, ci->def); /* defaults print as documented */
        CU_ASSERT_EQUAL(scand_set_config(ctx, ci->key, v), SCAND_OK);
        CU_ASSERT_EQUAL(scand_get_config(ctx, ci->key, w, sizeof w), SCAND_OK);
        CU_ASSERT_STRING_EQUAL(w, v);
        CU_ASSERT(ci->help != NULL && ci->help[0] != '\0');
    }
    static const struct {
        const char *key, *in, *out;
    } rt[] = {
        {"horizontal.bin", "90s", "90s"},
        {"horizontal.bin", "120s", "2m"},
        {"horizontal.bin", "1500ms", "1500ms"},
        {"horizontal.bin", "7200", "2h"},
        {"horizontal.bin", "1d", "1d"},
        {"reorder", "0", "0s"},
        {"reorder", "0ms", "0s"},
        {"vertical.enabled", "no", "false"},
        {"vertical.enabled", "1", "true"},
        {"vertical.private_only", "yes", "true"},
        {"horizontal.threshold", "0", "0"},
        {"horizontal.threshold", "4294967295", "4294967295"},
        {"hash_seed", "18446744073709551615", "18446744073709551615"},
        {"vertical.dport_max", "65536", "65536"},
    };
    for (size_t i = 0; i < sizeof rt / sizeof rt[0]; i++) {
        CU_ASSERT_EQUAL(scand_set_config(ctx, rt[i].key, rt[i].in), SCAND_OK);
        CU_ASSERT_EQUAL(scand_get_config(ctx, rt[i].key, v, sizeof v), SCAND_OK);
        CU_ASSERT_STRING_EQUAL(v, rt[i].out);
    }
    CU_ASSERT_EQUAL(scand_get_config(ctx, "nope", v, sizeof v), SCAND_ERR_INVAL);
    scand_free(ctx);
}

int test_config_register(void)
{
    CU_pSuite s = CU_add_suite("config", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
    if (CU_add_test(s, "test_config_errors_name_the_key", test_config_errors_name_the_key) ==
            NULL ||
        CU_add_test(s, "test_config_get_round_trips", test_config_get_round_trips) == NULL)
        return CU_get_error();
    return CUE_SUCCESS;
}
