/*
 * test_main.c - the unit-test runner: `unit-tests [suite [test]]`.
 *
 * Suites come from one table of {name, register_fn} [STYLE U1; RD
 * src/server.c redisTests[]]; each register function adds its suite with
 * CU_add_suite() and its tests with CU_add_test() (no positional
 * CU_SuiteInfo, whose layout changed in CUnit 2.1-3). With a suite name only
 * that suite runs, with a test name too only that test [RD `redis-server
 * test sds`]. The exit status is non-zero when any assertion, test, suite
 * init/cleanup or the registry failed, or the named suite/test is unknown.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "tests.h"

static const struct {
    const char *name;
    int (*register_fn)(void);
} suites[] = {
    {"samples", test_samples_register},   {"reader", test_reader_register},
    {"tuple", test_tuple_register},       {"writer", test_writer_register},
    {"detect", test_detect_register},     {"config", test_config_register},
    {"property", test_property_register}, {"alloc", test_alloc_register},
    {"tuple_int", test_tuple_int_register}, {"sim", test_sim_register},
    {"rules", test_rules_register},         {"trw_int", test_trw_int_register},
    {"lab", test_lab_register},
    {"p2f", test_p2f_register},
    {"feeder", test_feeder_register},
    {"ttab_int", test_ttab_int_register},
    {"blob_order", test_blob_order_register},
};

int main(int argc, char **argv)
{
    if (argc > 3) {
        fprintf(stderr, "usage: %s [suite [test]]\n", argv[0]);
        return 2;
    }
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "unit-tests: %s\n", CU_get_error_msg());
        return 1;
    }
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        if (suites[i].register_fn() != CUE_SUCCESS) {
            fprintf(stderr, "unit-tests: registering suite %s: %s\n", suites[i].name,
                    CU_get_error_msg());
            CU_cleanup_registry();
            return 1;
        }
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_ErrorCode rc;
    if (argc == 1) {
        rc = CU_basic_run_tests();
    } else {
        CU_pSuite s = CU_get_suite(argv[1]);
        if (s == NULL) {
            fprintf(stderr, "unit-tests: no suite named '%s'; suites:", argv[1]);
            for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
                fprintf(stderr, " %s", suites[i].name);
            fprintf(stderr, "\n");
            CU_cleanup_registry();
            return 2;
        }
        if (argc == 3) {
            CU_pTest t = CU_get_test(s, argv[2]);
            if (t == NULL) {
                fprintf(stderr, "unit-tests: suite '%s' has no test named '%s'\n", argv[1],
                        argv[2]);
                CU_cleanup_registry();
                return 2;
            }
            rc = CU_basic_run_test(s, t);
        } else {
            rc = CU_basic_run_suite(s);
        }
    }
    unsigned failures = CU_get_number_of_failure_records() + CU_get_number_of_tests_failed() +
                        CU_get_number_of_suites_failed();
    if (rc != CUE_SUCCESS)
        fprintf(stderr, "unit-tests: run error: %s\n", CU_get_error_msg());
    CU_cleanup_registry();
    return rc != CUE_SUCCESS || failures != 0 ? 1 : 0;
}
