/*
 * test_samples.c - the real and documented Azure flow logs in
 * $SCANLAB_SHARED/samples/azure, read in place, each with its exact counts
 * (records returned / skipped / tuples) at both chunk sizes, and the field
 * values that pin the format mappings (NSG v1 A -> B, NSG v2 U -> 17,
 * D decision -> state D, empty counters -> NOCOUNT, seconds -> ms).
 *
 * Every *.json in the directory must have an entry in the table below, so a
 * new sample cannot go untested.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests.h"

static const struct expect {
    const char *file;
    size_t records, skipped, tuples;
    int fmt; /* of every record; 0 when none */
} samples[] = {
    {"nsg_v1_real_msconnector_sampleJsonInput.json", 3, 0, 38, SCAND_FMT_NSG1},
    {"nsg_v2_msdocs_overview_sample.json", 2, 0, 11, SCAND_FMT_NSG2},
    {"nsg_v2_real_PT1H_danifitz.json", 15, 0, 8203, SCAND_FMT_NSG2},
    {"nsg_v2_real_aks_msconnector_AzureNSGFlowLogsv1.json", 0, 1, 0, 0},
    {"vnet_v4_msdocs_flowlogsread_record.json", 1, 0, 10, SCAND_FMT_VNET4},
    {"vnet_v4_msdocs_overview_sample.json", 1, 0, 19, SCAND_FMT_VNET4},
    {"vnet_v4_real_PT1H_chshin9.json", 5, 0, 76, SCAND_FMT_VNET4},
};
#define N_SAMPLES (sizeof samples / sizeof samples[0])

/* The chshin9 blob's NSG: an aclID that is a full resource id, not a GUID. */
#define CHSHIN9_NSG                                                                                \
    "/subscriptions/71d310bf-1718-4d11-87d1-99a7d4e2053f/resourceGroups/Student-RG-2236587/"       \
    "providers/Microsoft.Network/networkSecurityGroups/shopstream-supplier-vm-nsg"

/* Read sample name with chunk into rr (strtab in *st, caller frees). */
static void read_sample(const char *name, size_t chunk, scand_strtab **st, struct read_result *rr)
{
    size_t len = 0;
    char *buf = load_sample(name, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    *st = scand_strtab_new();
    if (*st == NULL)
        free(buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(*st);
    int rc = read_all(buf, len, chunk, *st, rr);
    free(buf);
    if (rc != 0)
        scand_strtab_free(*st);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
}

/* Return the index of the first tuple equal to text (parsed as fmt), or -1. */
static long find_tuple(const struct read_result *rr, const char *text, enum scand_fmt fmt)
{
    struct scand_tuple want;
    char why[128];
    memset(&want, 0, sizeof want);
    if (scand_tuple_parse(text, strlen(text), fmt, &want, why, sizeof why) != SCAND_OK)
        return -2;
    for (size_t i = 0; i < rr->n_tup; i++) {
        struct scand_tuple t = rr->tup[i];
        t.mac = t.group = 0;
        if (memcmp(&t, &want, sizeof t) == 0)
            return (long)i;
    }
    return -1;
}

static void check_counts(const struct expect *e, size_t chunk)
{
    scand_strtab *st;
    struct read_result rr;
    read_sample(e->file, chunk, &st, &rr);
    CU_ASSERT_EQUAL(rr.rc, 0);
    CU_ASSERT_EQUAL(rr.rc_again, 0);
    CU_ASSERT_EQUAL(rr.n_rec, e->records);
    CU_ASSERT_EQUAL(rr.stats.records, e->records);
    CU_ASSERT_EQUAL(rr.stats.records_skipped, e->skipped);
    CU_ASSERT_EQUAL(rr.n_tup, e->tuples);
    CU_ASSERT_EQUAL(rr.stats.tuples, e->tuples);
    CU_ASSERT_EQUAL(rr.stats.tuples_skipped, 0);
    CU_ASSERT_EQUAL(rr.stats.cut, 0);
    CU_ASSERT_EQUAL(rr.stats.unclosed, 0);
    for (size_t i = 0; i < rr.n_rec; i++)
        CU_ASSERT_EQUAL(rr.rec_fmt[i], e->fmt);
    read_result_fini(&rr);
    scand_strtab_free(st);
}

static void test_samples_every_file_has_exact_counts(void)
{
    const char *dir = samples_dir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int seen[N_SAMPLES] = {0};
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 5, ".json") != 0)
            continue;
        size_t i;
        for (i = 0; i < N_SAMPLES; i++)
            if (strcmp(samples[i].file, de->d_name) == 0)
                break;
        CU_ASSERT(i < N_SAMPLES); /* a sample without expectations */
        if (i < N_SAMPLES)
            seen[i]++;
    }
    closedir(d);
    for (size_t i = 0; i < N_SAMPLES; i++) {
        CU_ASSERT_EQUAL(seen[i], 1);
        check_counts(&samples[i], CHUNK_SMALL);
        check_counts(&samples[i], CHUNK_LARGE);
    }
}

/* Chunking must not change a single byte of the result. */
static void test_samples_chunk_size_does_not_change_tuples(void)
{
    for (size_t i = 0; i < N_SAMPLES; i++) {
        scand_strtab *s1, *s2;
        struct read_result a, b;
        read_sample(samples[i].file, CHUNK_SMALL, &s1, &a);
        read_sample(samples[i].file, CHUNK_LARGE, &s2, &b);
        CU_ASSERT_EQUAL(a.n_tup, b.n_tup);
        CU_ASSERT_EQUAL(a.n_rec, b.n_rec);
        if (a.n_tup == b.n_tup && a.n_tup > 0)
            CU_ASSERT(memcmp(a.tup, b.tup, a.n_tup * sizeof *a.tup) == 0);
        if (a.n_rec == b.n_rec && a.n_rec > 0)
            CU_ASSERT(memcmp(a.rec_time, b.rec_time, a.n_rec * sizeof *a.rec_time) == 0);
        CU_ASSERT_EQUAL(scand_strtab_count(s1), scand_strtab_count(s2));
        read_result_fini(&a);
        read_result_fini(&b);
        scand_strtab_free(s1);
        scand_strtab_free(s2);
    }
}

static void test_samples_nsg_v1_maps_allow_to_begin(void)
{
    scand_strtab *st;
    struct read_result rr;
    read_sample(samples[0].file, CHUNK_SMALL, &st, &rr);
    CU_ASSERT_EQUAL_FATAL(rr.n_rec, 3);
    CU_ASSERT_EQUAL(rr.rec_time[0], 1531917394625); /* 2018-07-18T12:36:34.6259876Z */
    /* The outbound NTP tuple "1531917387,10.0.0.4,13.79.239.69,123,123,U,O,A". */
    long i = find_tuple(&rr, "1531917387,10.0.0.4,13.79.239.69,123,123,U,O,A", SCAND_FMT_NSG1);
    CU_ASSERT_FATAL(i >= 0);
    const struct scand_tuple *t = &rr.tup[i];
    CU_ASSERT_EQUAL(t->ts_ms, 1531917387000);
    CU_ASSERT_EQUAL(t->state, SCAND_ST_B);
    CU_ASSERT_EQUAL(t->proto, 17);
    CU_ASSERT_EQUAL(t->dir, SCAND_DIR_OUT);
    CU_ASSERT_EQUAL(t->sport, 123);
    CU_ASSERT_EQUAL(t->enc, SCAND_ENC_UNKNOWN);
    CU_ASSERT_EQUAL(t->flags, SCAND_TF_TS_SEC | SCAND_TF_NOCOUNT);
    /* Every other v1 tuple is a D; every timestamp was in seconds. */
    size_t n_b = 0, n_d = 0;
    for (size_t k = 0; k < rr.n_tup; k++) {
        n_b += rr.tup[k].state == SCAND_ST_B;
        n_d += rr.tup[k].state == SCAND_ST_D;
        CU_ASSERT(rr.tup[k].flags & SCAND_TF_TS_SEC);
        CU_ASSERT_EQUAL(rr.tup[k].ts_ms % 1000, 0);
    }
    CU_ASSERT_EQUAL(n_b, 1);
    CU_ASSERT_EQUAL(n_d, 37);
    CU_ASSERT_EQUAL(rr.stats.ts_seconds, 38);
    CU_ASSERT_STRING_EQUAL(scand_strtab_get(st, t->mac, NULL), "000D3A0AF519");
    read_result_fini(&rr);
    scand_strtab_free(st);
}

static void test_samples_nsg_v2_maps_letters_and_empty_counters(void)
{
    scand_strtab *st;
    struct read_result rr;
    read_sample(samples[1].file, CHUNK_SMALL, &st, &rr);
    /* "1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,,": U -> 17, D -> D. */
    long i =
        find_tuple(&rr, "1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,,", SCAND_FMT_NSG2);
    CU_ASSERT_FATAL(i >= 0);
    const struct scand_tuple *t = &rr.tup[i];
    CU_ASSERT_EQUAL(t->proto, 17);
    CU_ASSERT_EQUAL(t->state, SCAND_ST_D);
    CU_ASSERT_EQUAL(t->dir, SCAND_DIR_IN);
    CU_ASSERT_EQUAL(t->ts_ms, 1542110402000);
    CU_ASSERT(t->flags & SCAND_TF_NOCOUNT);
    CU_ASSERT(t->flags & SCAND_TF_TS_SEC);
    CU_ASSERT_EQUAL(t->pkts_s2d + t->bytes_s2d + t->pkts_d2s + t->bytes_d2s, 0);
    /* An E tuple with counters: "...,T,O,A,E,1,66,1,66". */
    i = find_tuple(&rr, "1542110379,10.5.16.4,203.0.113.117,59932,443,T,O,A,E,1,66,1,66",
                   SCAND_FMT_NSG2);
    CU_ASSERT_FATAL(i >= 0);
    t = &rr.tup[i];
    CU_ASSERT_EQUAL(t->proto, 6);
    CU_ASSERT_EQUAL(t->state, SCAND_ST_E);
    CU_ASSERT_EQUAL(t->flags, SCAND_TF_TS_SEC);
    CU_ASSERT_EQUAL(t->bytes_s2d, 66);
    CU_ASSERT_EQUAL(t->pkts_d2s, 1);
    read_result_fini(&rr);
    scand_strtab_free(st);
}

static void test_samples_nsg_v2_split_minute_has_same_time(void)
{
    scand_strtab *st;
    struct read_result rr;
    read_sample(samples[2].file, CHUNK_LARGE, &st, &rr);
    CU_ASSERT_EQUAL_FATAL(rr.n_rec, 15);
    size_t sum = 0;
    for (size_t i = 0; i < rr.n_rec; i++) {
        CU_ASSERT_EQUAL(rr.rec_time[i], rr.rec_time[0]);
        sum += rr.rec_ntup[i];
    }
    CU_ASSERT_EQUAL(sum, 8203);
    read_result_fini(&rr);
    scand_strtab_free(st);
}

static void test_samples_invalid_json_record_skipped_with_position(void)
{
    scand_strtab *st;
    struct read_result rr;
    read_sample(samples[3].file, CHUNK_SMALL, &st, &rr);
    CU_ASSERT_EQUAL(rr.rc, 0);
    CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_RECORD_SKIPPED, NULL), 1);
    /* The trailing comma's ']' is at line 37, column 19. */
    CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_RECORD_SKIPPED, "line 37, column 19"), 1);
    CU_ASSERT_EQUAL(rr.diag.record[0], 0);
    CU_ASSERT_EQUAL(rr.diag.line[0], 3); /* where the record starts */
    read_result_fini(&rr);
    scand_strtab_free(st);
}

static void test_samples_chshin9_first_tuple_after_sort(void)
{
    scand_strtab *st;
    struct read_result rr;
    read_sample(samples[6].file, CHUNK_SMALL, &st, &rr);
    CU_ASSERT_EQUAL_FATAL(rr.n_rec, 5);
    CU_ASSERT_EQUAL(rr.rec_time[0], 1786653142041); /* 2026-08-13T20:32:22.0419499Z */
    CU_ASSERT_EQUAL(rr.rec_time[4], 1786653381972); /* 2026-08-13T20:36:21.9729739Z */
    /* The PlatformRule group comes first in the record, but the sort puts
     * the DenyAllInBound tuple at ...103883 ahead of it. */
    CU_ASSERT_EQUAL_FATAL(rr.rec_ntup[0], 15);
    const struct scand_tuple *t = &rr.tup[0];
    char buf[160];
    scand_tuple_format(t, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf,
                           "1786653103883,147.185.132.143,10.0.5.4,50648,9881,6,I,D,NX,0,0,0,0");
    CU_ASSERT_EQUAL(t->ts_ms, 1786653103883);
    CU_ASSERT_EQUAL(t->dport, 9881);
    CU_ASSERT_EQUAL(t->state, SCAND_ST_D);
    CU_ASSERT_EQUAL(t->enc, SCAND_ENC_NX);
    CU_ASSERT_EQUAL(t->flags, 0); /* "0,0,0,0" is not NOCOUNT; ms timestamps */
    const char *acl, *rule;
    CU_ASSERT_EQUAL_FATAL(scand_group_split(st, t->group, &acl, &rule), SCAND_OK);
    CU_ASSERT_STRING_EQUAL(acl, CHSHIN9_NSG);
    CU_ASSERT_STRING_EQUAL(rule, "DefaultRule_DenyAllInBound");
    CU_ASSERT_STRING_EQUAL(scand_strtab_get(st, t->mac, NULL), "0022486DBA37");
    for (size_t i = 1; i < rr.rec_ntup[0]; i++)
        CU_ASSERT(rr.tup[i].ts_ms >= rr.tup[i - 1].ts_ms);
    CU_ASSERT_EQUAL(rr.stats.ts_seconds, 0);
    read_result_fini(&rr);
    scand_strtab_free(st);
}

static void test_samples_chshin9_groups_and_udp(void)
{
    scand_strtab *st;
    struct read_result rr;
    read_sample(samples[6].file, CHUNK_LARGE, &st, &rr);
    size_t platform = 0, nsg = 0, udp = 0, other = 0;
    for (size_t i = 0; i < rr.n_tup; i++) {
        const char *acl, *rule;
        CU_ASSERT_EQUAL_FATAL(scand_group_split(st, rr.tup[i].group, &acl, &rule), SCAND_OK);
        if (strcmp(acl, "00000000-0000-0000-0000-000000000000") == 0 &&
            strcmp(rule, "PlatformRule") == 0)
            platform++;
        else if (strcmp(acl, CHSHIN9_NSG) == 0)
            nsg++;
        else
            other++;
        udp += rr.tup[i].proto == 17;
    }
    CU_ASSERT_EQUAL(platform, 4);
    CU_ASSERT_EQUAL(nsg, 72); /* DenyAllInBound 66, AllowInternetOutBound 4, Supplier-API 2 */
    CU_ASSERT_EQUAL(other, 0);
    CU_ASSERT_EQUAL(udp, 1);
    long i = find_tuple(&rr, "1786653256424,86.227.118.61,10.0.5.4,48857,22195,17,I,D,NX,0,0,0,0",
                        SCAND_FMT_VNET4);
    CU_ASSERT_FATAL(i >= 0);
    CU_ASSERT_EQUAL(rr.tup[i].proto, 17);
    CU_ASSERT_EQUAL(rr.tup[i].state, SCAND_ST_D);
    read_result_fini(&rr);
    scand_strtab_free(st);
}

static void test_samples_chshin9_has_one_exact_duplicate(void)
{
    scand_strtab *st;
    struct read_result rr;
    read_sample(samples[6].file, CHUNK_SMALL, &st, &rr);
    scand_dedup *d = scand_dedup_new(60000, 42);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    size_t dups = 0;
    long where = -1;
    for (size_t i = 0; i < rr.n_tup; i++) {
        int rc = scand_dedup_check(d, &rr.tup[i]);
        CU_ASSERT(rc == 0 || rc == 1);
        if (rc == 1) {
            dups++;
            where = (long)i;
        }
    }
    CU_ASSERT_EQUAL(dups, 1);
    CU_ASSERT_FATAL(where >= 0);
    char buf[160];
    scand_tuple_format(&rr.tup[where], buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "1786653204957,10.0.5.4,20.150.1.97,33620,443,6,O,B,NX,0,0,0,0");
    /* A copy with another campaign label is still a duplicate; another MAC is not. */
    struct scand_tuple c = rr.tup[where];
    c.campaign = 7;
    CU_ASSERT_EQUAL(scand_dedup_check(d, &c), 1);
    c.mac = 0;
    CU_ASSERT_EQUAL(scand_dedup_check(d, &c), 0);
    scand_dedup_free(d);
    read_result_fini(&rr);
    scand_strtab_free(st);
}

static void test_samples_bare_record_reads_alone(void)
{
    scand_strtab *st;
    struct read_result rr;
    read_sample(samples[4].file, CHUNK_SMALL, &st, &rr);
    CU_ASSERT_EQUAL_FATAL(rr.n_rec, 1);
    CU_ASSERT_EQUAL(rr.rec_fmt[0], SCAND_FMT_VNET4);
    CU_ASSERT_EQUAL(rr.rec_time[0], 1688875170283); /* 2023-07-09T03:59:30.2837112Z */
    CU_ASSERT_STRING_EQUAL(scand_strtab_get(st, rr.tup[0].mac, NULL), "0022485D8CF8");
    read_result_fini(&rr);
    scand_strtab_free(st);
}

int test_samples_register(void)
{
    CU_pSuite s = CU_add_suite("samples", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
    if (!CU_add_test(s, "test_samples_every_file_has_exact_counts",
                     test_samples_every_file_has_exact_counts) ||
        !CU_add_test(s, "test_samples_chunk_size_does_not_change_tuples",
                     test_samples_chunk_size_does_not_change_tuples) ||
        !CU_add_test(s, "test_samples_nsg_v1_maps_allow_to_begin",
                     test_samples_nsg_v1_maps_allow_to_begin) ||
        !CU_add_test(s, "test_samples_nsg_v2_maps_letters_and_empty_counters",
                     test_samples_nsg_v2_maps_letters_and_empty_counters) ||
        !CU_add_test(s, "test_samples_nsg_v2_split_minute_has_same_time",
                     test_samples_nsg_v2_split_minute_has_same_time) ||
        !CU_add_test(s, "test_samples_invalid_json_record_skipped_with_position",
                     test_samples_invalid_json_record_skipped_with_position) ||
        !CU_add_test(s, "test_samples_chshin9_first_tuple_after_sort",
                     test_samples_chshin9_first_tuple_after_sort) ||
        !CU_add_test(s, "test_samples_chshin9_groups_and_udp",
                     test_samples_chshin9_groups_and_udp) ||
        !CU_add_test(s, "test_samples_chshin9_has_one_exact_duplicate",
                     test_samples_chshin9_has_one_exact_duplicate) ||
        !CU_add_test(s, "test_samples_bare_record_reads_alone",
                     test_samples_bare_record_reads_alone))
        return CU_get_error();
    return CUE_SUCCESS;
}
