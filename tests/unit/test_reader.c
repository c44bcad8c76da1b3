/*
 * test_reader.c - the streaming flow-log reader on hand-made inputs: blobs
 * still being appended (leading commas, no "]}"), blobs cut mid-record,
 * stray commas, split minutes, varied key order, concatenated values, the
 * SCAND_ERR_FORMAT cases with their line:col, skipped records and tuples,
 * escapes inside strings, record times and the per-record stable sort.
 *
 * Every case runs at both chunk sizes (7 bytes and "as much as asked") so
 * that each buffer refill path sees the same input; a few also run 1 byte
 * at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests.h"

static const size_t chunks[] = {CHUNK_SMALL, CHUNK_LARGE};
#define N_CHUNKS (sizeof chunks / sizeof chunks[0])

#define MAC "00224800AA01"
#define T1 "2026-08-13T20:32:22.0419499Z" /* 1786653142041 */
#define T1_MS 1786653142041
#define TUP(ts, dport) "\"" ts ",10.0.0.1,10.0.0.2,40000," dport ",6,O,B,NX,,,,\""
#define REC(time, tuples)                                                                          \
    "{\"time\":\"" time "\",\"flowLogVersion\":4,\"macAddress\":\"" MAC "\","                      \
    "\"category\":\"FlowLogFlowEvent\",\"flowRecords\":{\"flows\":[{\"aclID\":\"acl-1\","          \
    "\"flowGroups\":[{\"rule\":\"r1\",\"flowTuples\":[" tuples "]}]}]}}"
#define R1 REC(T1, TUP("1786653100000", "80") "," TUP("1786653101000", "81"))
#define R2 REC("2026-08-13T20:33:22.0000000Z", TUP("1786653160000", "82"))
/* R3 has escapes (\" and \\ in the rule) so a cut can land inside one. */
#define R3                                                                                         \
    "{\"time\":\"2026-08-13T20:34:22.0000000Z\",\"macAddress\":\"" MAC "\",\"flowRecords\":"       \
    "{\"flows\":[{\"aclID\":\"a\\\\b\",\"flowGroups\":[{\"rule\":\"q\\\"}]\\\\\",\"flowTuples\":"  \
    "[" TUP("1786653220000", "83") "]}]}]},\"flowLogVersion\":4}"

/* Read s with chunk; the strtab goes to *st (caller frees). */
static void run(const char *s, size_t chunk, scand_strtab **st, struct read_result *rr)
{
    *st = scand_strtab_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(*st);
    int rc = read_all(s, strlen(s), chunk, *st, rr);
    if (rc != 0)
        scand_strtab_free(*st);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
}

static void done(scand_strtab *st, struct read_result *rr)
{
    read_result_fini(rr);
    scand_strtab_free(st);
}

/* Expect a clean end with n_rec records and n_tup tuples, no diagnostics. */
static void expect_clean(const char *s, size_t n_rec, size_t n_tup)
{
    for (size_t c = 0; c < N_CHUNKS; c++) {
        scand_strtab *st;
        struct read_result rr;
        run(s, chunks[c], &st, &rr);
        CU_ASSERT_EQUAL(rr.rc, 0);
        CU_ASSERT_EQUAL(rr.n_rec, n_rec);
        CU_ASSERT_EQUAL(rr.n_tup, n_tup);
        CU_ASSERT_EQUAL(rr.stats.cut, 0);
        CU_ASSERT_EQUAL(rr.stats.unclosed, 0);
        CU_ASSERT_EQUAL(rr.stats.records_skipped, 0);
        CU_ASSERT_EQUAL(rr.diag.n, 0);
        done(st, &rr);
    }
}

/* Expect rc (an error) with no records; geterr contains sub. */
static void expect_error(const char *s, int rc, const char *sub)
{
    for (size_t c = 0; c < N_CHUNKS; c++) {
        scand_strtab *st;
        struct read_result rr;
        run(s, chunks[c], &st, &rr);
        CU_ASSERT_EQUAL(rr.rc, rc);
        CU_ASSERT_EQUAL(rr.rc_again, rc); /* the reader keeps its error */
        CU_ASSERT_EQUAL(rr.n_rec, 0);
        CU_ASSERT(has_sub(rr.err, sub));
        done(st, &rr);
    }
}

static void test_reader_appended_blob_with_leading_commas_unclosed(void)
{
    static const char *const inputs[] = {
        "{\"records\":[," R1 "," R2,
        "{\"records\":[\n," R1 "\n," R2 "\n",
    };
    for (size_t i = 0; i < 2; i++) {
        for (size_t c = 0; c < N_CHUNKS; c++) {
            scand_strtab *st;
            struct read_result rr;
            run(inputs[i], chunks[c], &st, &rr);
            CU_ASSERT_EQUAL(rr.rc, 0);
            CU_ASSERT_EQUAL(rr.n_rec, 2);
            CU_ASSERT_EQUAL(rr.n_tup, 3);
            CU_ASSERT_EQUAL(rr.stats.unclosed, 1);
            CU_ASSERT_EQUAL(rr.stats.cut, 0);
            CU_ASSERT_EQUAL(rr.diag.n, 1);
            CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_UNCLOSED, NULL), 1);
            done(st, &rr);
        }
    }
    /* Closed array, wrapper left open (or cut inside another key). */
    static const char *const open_wrapper[] = {
        "{\"records\":[" R1 "]",
        "{\"records\":[" R1 "] ,\"x\":\"ab",
    };
    for (size_t i = 0; i < 2; i++) {
        for (size_t c = 0; c < N_CHUNKS; c++) {
            scand_strtab *st;
            struct read_result rr;
            run(open_wrapper[i], chunks[c], &st, &rr);
            CU_ASSERT_EQUAL(rr.rc, 0);
            CU_ASSERT_EQUAL(rr.n_rec, 1);
            CU_ASSERT_EQUAL(rr.stats.unclosed, 1);
            CU_ASSERT_EQUAL(rr.stats.cut, 0);
            CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_UNCLOSED, NULL), 1);
            done(st, &rr);
        }
    }
}

static void test_reader_cut_mid_record_keeps_complete_records(void)
{
    const char *head = "{\"records\":[" R1 "," R2 ",";
    const char *r3 = R3;
    size_t hl = strlen(head), rl = strlen(r3);
    char *buf = malloc(hl + rl + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    memcpy(buf, head, hl);
    /* Cut R3 after every one of its bytes but the last: in keys, in the
     * escaped rule, between \\ and its byte. */
    for (size_t cut = 1; cut < rl; cut++) {
        memcpy(buf + hl, r3, cut);
        buf[hl + cut] = '\0';
        for (size_t c = 0; c < N_CHUNKS; c++) {
            scand_strtab *st;
            struct read_result rr;
            run(buf, chunks[c], &st, &rr);
            CU_ASSERT_EQUAL(rr.rc, 0);
            CU_ASSERT_EQUAL(rr.n_rec, 2);
            CU_ASSERT_EQUAL(rr.n_tup, 3);
            CU_ASSERT_EQUAL(rr.stats.cut, 1);
            CU_ASSERT_EQUAL(rr.stats.unclosed, 0);
            CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_CUT, NULL), 1);
            CU_ASSERT_EQUAL(rr.diag.n, 1);
            CU_ASSERT_EQUAL(rr.diag.record[0], 2);
            done(st, &rr);
        }
    }
    free(buf);
    /* The whole R3 reads, with its escaped strings intact. */
    scand_strtab *st;
    struct read_result rr;
    run("{\"records\":[" R3 "]}", CHUNK_SMALL, &st, &rr);
    CU_ASSERT_EQUAL_FATAL(rr.n_tup, 1);
    const char *acl, *rule;
    CU_ASSERT_EQUAL_FATAL(scand_group_split(st, rr.tup[0].group, &acl, &rule), SCAND_OK);
    CU_ASSERT_STRING_EQUAL(acl, "a\\b");
    CU_ASSERT_STRING_EQUAL(rule, "q\"}]\\");
    done(st, &rr);
}

static void test_reader_cut_first_bare_value_is_format_error(void)
{
    /* A blob head then nothing: unclosed, not an error. */
    for (size_t c = 0; c < N_CHUNKS; c++) {
        scand_strtab *st;
        struct read_result rr;
        run("{\"records\":[", chunks[c], &st, &rr);
        CU_ASSERT_EQUAL(rr.rc, 0);
        CU_ASSERT_EQUAL(rr.n_rec, 0);
        CU_ASSERT_EQUAL(rr.stats.unclosed, 1);
        done(st, &rr);
    }
    /* A bare record cut before anything was read: not a flow log. */
    expect_error("{\"time\":\"" T1 "\",\"flowRec", SCAND_ERR_FORMAT, "1:1");
}

static void test_reader_stray_commas_are_skipped(void)
{
    expect_clean("{\"records\":[,," R1 ",,," R2 ",]}", 2, 3);
    expect_clean("{\"records\":[ , " R1 " ,\n\t, " R2 " ] }", 2, 3);
}

/* Stray closers where a record or the wrapper's end should be (found by
 * fuzzing: each stopped the reader in place, forever). Each is a counted
 * skip or a note, and the reader goes on to the end. */
static void test_reader_stray_closers_move_on(void)
{
    static const struct {
        const char *s;
        size_t n_rec, skipped;
        int unclosed, note;
    } cases[] = {
        {"{\"records\":[}", 0, 1, 1, 0},
        {"{\"records\":[}]}", 0, 1, 0, 0},
        {"{\"records\":[" R1 ",}," R2 "]}", 2, 1, 0, 0},
        {"{\"records\":[]]}", 0, 0, 0, 1},
        {"{\"records\":[" R1 "]]]}", 1, 0, 0, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t c = 0; c < N_CHUNKS; c++) {
            scand_strtab *st;
            struct read_result rr;
            run(cases[i].s, chunks[c], &st, &rr);
            CU_ASSERT_EQUAL(rr.rc, 0);
            CU_ASSERT_EQUAL(rr.n_rec, cases[i].n_rec);
            CU_ASSERT_EQUAL(rr.stats.records_skipped, cases[i].skipped);
            CU_ASSERT_EQUAL(rr.stats.unclosed, cases[i].unclosed);
            CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_RECORD_SKIPPED, "not a JSON object"),
                            (int)cases[i].skipped);
            CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_NOTE, "stray ']'"), cases[i].note);
            done(st, &rr);
        }
}

static void test_reader_records_with_same_time_stay_apart(void)
{
    const char *s = "{\"records\":[" REC(T1, TUP("1786653100000", "80")) "," REC(
        T1, TUP("1786653100000", "81")) "," REC(T1, TUP("1786653099000", "82")) "]}";
    for (size_t c = 0; c < N_CHUNKS; c++) {
        scand_strtab *st;
        struct read_result rr;
        run(s, chunks[c], &st, &rr);
        CU_ASSERT_EQUAL_FATAL(rr.n_rec, 3);
        for (size_t i = 0; i < 3; i++) {
            CU_ASSERT_EQUAL(rr.rec_time[i], T1_MS);
            CU_ASSERT_EQUAL(rr.rec_ntup[i], 1);
            CU_ASSERT_EQUAL(rr.tup[i].dport, 80 + i); /* record order kept */
        }
        done(st, &rr);
    }
}

static void test_reader_key_order_varies(void)
{
    /* Record keys in another order: flowLogVersion last, time after flows. */
    expect_clean("{\"records\":[{\"macAddress\":\"" MAC "\",\"flowRecords\":{\"flows\":[{"
                 "\"flowGroups\":[{\"flowTuples\":[" TUP(
                     "1786653100000", "80") "],\"rule\":"
                                            "\"r\"}],\"aclID\":\"a\"}]},\"time\":\"" T1
                                            "\",\"flowLogVersion\":4}]}",
                 1, 1);
    /* "records" not the first key of the wrapper, other keys before and after. */
    expect_clean("{\"category\":\"x\",\"records\":[" R1 "," R2 "],\"tail\":{\"a\":[1,2]}}", 2, 3);
    expect_clean("{\"meta\":{\"records\":1},\"records\":[" R1 "]}", 1, 2);
    /* Extra wrapper keys after the array, one holding "]}" in a string. */
    expect_clean("{ \"records\" : [ " R1 " ] , \"other\" : \"]}\" , \"n\" : [1,{}] }", 1, 2);
}

static void test_reader_concatenated_values(void)
{
    expect_clean("{\"records\":[" R1 "]}{\"records\":[" R2 "]}", 2, 3);
    expect_clean("{\"records\":[" R1 "]}\n{\"records\":[" R2 "]}\n" R3 "\n", 3, 4);
    expect_clean(R1 R2, 2, 3); /* two bare records */
    /* Garbage after a blob is an error, after the blob's records. */
    for (size_t c = 0; c < N_CHUNKS; c++) {
        scand_strtab *st;
        struct read_result rr;
        run("{\"records\":[" R1 "]}\n  garbage", chunks[c], &st, &rr);
        CU_ASSERT_EQUAL(rr.n_rec, 1);
        CU_ASSERT_EQUAL(rr.rc, SCAND_ERR_FORMAT);
        CU_ASSERT(has_sub(rr.err, "2:3"));
        done(st, &rr);
    }
}

static void test_reader_empty_or_blank_input_is_format_error(void)
{
    expect_error("", SCAND_ERR_FORMAT, "empty");
    expect_error("  \n\t\r\n ", SCAND_ERR_FORMAT, "empty");
}

static void test_reader_not_json_is_format_error_at_line_col(void)
{
    expect_error("hello", SCAND_ERR_FORMAT, "1:1");
    expect_error("\n\n  hello", SCAND_ERR_FORMAT, "3:3");
    expect_error("[1,2]", SCAND_ERR_FORMAT, "1:1");
    expect_error("{\"foo\":1}", SCAND_ERR_FORMAT, "not a flow log");
    expect_error("{\"records\":5}", SCAND_ERR_FORMAT, "not a flow log");
    expect_error("{\"foo\":1,}", SCAND_ERR_FORMAT, "malformed JSON");
}

static void test_reader_bad_records_are_counted_skips(void)
{
    const char *s =
        "{\"records\":[42,\"str\",[1],{\"time\":\"" T1 "\"}," R1 ","
        "{\"time\":\"2026-13-01T00:00:00Z\",\"flowRecords\":{\"flows\":[]}},"
        "{\"time\":\"" T1 "\",\"macAddress\":\"" MAC "\",\"flowRecords\":{\"flows\":5}},"
        "{\"time\":\"" T1 "\",\"properties\":{\"Version\":3,\"flows\":[]}},"
        "{\"time\":\"" T1 "\",\"flowLogVersion\":5,\"macAddress\":\"" MAC
        "\",\"flowRecords\":{\"flows\":[]}}," R2 "]}";
    for (size_t c = 0; c < N_CHUNKS; c++) {
        scand_strtab *st;
        struct read_result rr;
        run(s, chunks[c], &st, &rr);
        CU_ASSERT_EQUAL(rr.rc, 0);
        CU_ASSERT_EQUAL(rr.n_rec, 2);
        CU_ASSERT_EQUAL(rr.n_tup, 3);
        CU_ASSERT_EQUAL(rr.stats.records, 2);
        CU_ASSERT_EQUAL(rr.stats.records_skipped, 8);
        CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_RECORD_SKIPPED, NULL), 8);
        CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_RECORD_SKIPPED, "not a JSON object"), 3);
        CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_RECORD_SKIPPED, "no flowRecords"), 1);
        CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_RECORD_SKIPPED, "time"), 1);
        CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_RECORD_SKIPPED, "flowLogVersion"), 1);
        CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_RECORD_SKIPPED, "Version"), 2);
        /* Record indices count skipped records too: R2 was the 10th value. */
        CU_ASSERT_EQUAL(rr.diag.record[0], 0);
        CU_ASSERT_EQUAL(rr.diag.record[7], 8);
        done(st, &rr);
    }
}

static void test_reader_bad_mac_skips_record(void)
{
    const char *s = "{\"records\":[" REC(
        T1,
        TUP("1786653100000",
            "80")) ","
                   "{\"time\":\"" T1
                   "\",\"macAddress\":\"../../x\",\"flowRecords\":{\"flows\":[]}},"
                   "{\"time\":\"" T1
                   "\",\"macAddress\":\"00224800AA0G\",\"flowRecords\":{\"flows\":[]}},"
                   "{\"time\":\"" T1
                   "\",\"macAddress\":\"ABCDEF0\",\"flowRecords\":{\"flows\":[]}},"
                   "{\"time\":\"" T1
                   "\",\"macAddress\":\"00-22-48:00-AA-0\",\"flowRecords\":{\"flows\":[]}},"
                   "{\"time\":\"" T1
                   "\",\"macAddress\":\"00:22:48:00:aa:03\",\"flowRecords\":{\"flows\":"
                   "[{\"aclID\":\"a\",\"flowGroups\":[{\"rule\":\"r\",\"flowTuples\":[" TUP(
                       "1786653100000",
                       "82") "]}]}]}},"
                             "{\"time\":\"" T1
                             "\",\"macAddress\":\"00-22-48-00-aa-02\",\"flowRecords\":{\"flows\":"
                             "[{\"aclID\":\"a\",\"flowGroups\":[{\"rule\":\"r\",\"flowTuples\":"
                             "[" TUP("1786653100000", "81") "]}]}]}}]}";
    for (size_t c = 0; c < N_CHUNKS; c++) {
        scand_strtab *st;
        struct read_result rr;
        run(s, chunks[c], &st, &rr);
        CU_ASSERT_EQUAL(rr.n_rec, 3);
        CU_ASSERT_EQUAL(rr.stats.records_skipped, 4);
        CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_RECORD_SKIPPED, "macAddress"), 4);
        CU_ASSERT_EQUAL_FATAL(rr.n_tup, 3);
        CU_ASSERT_STRING_EQUAL(scand_strtab_get(st, rr.tup[0].mac, NULL), MAC);
        /* Separators ('-' or ':') dropped, hex upper-cased. */
        CU_ASSERT_STRING_EQUAL(scand_strtab_get(st, rr.tup[1].mac, NULL), "00224800AA03");
        CU_ASSERT_STRING_EQUAL(scand_strtab_get(st, rr.tup[2].mac, NULL), "00224800AA02");
        done(st, &rr);
    }
}

static void test_reader_escapes_inside_tuple_strings(void)
{
    const char *s =
        "{\"records\":[{\"time\":\"" T1 "\",\"macAddress\":\"" MAC "\",\"flowRecords\":{"
        "\"flows\":[{\"aclID\":\"a\",\"flowGroups\":[{\"rule\":\"r\\u00e9\\\"q\",\"flowTuples\":["
        "\"1786653100000,10.0.0.1,10.0.0.2,40000,8\\u0030,6,O,B,NX,,,,\","
        "\"bad\\\"tuple]}\\\\\",5,"
        "\"1786653101000,10.0.0.1,10.0.0.2,40000,81,6,O,B,NX,,,,\"]}]}]}}]}";
    static const size_t cs[] = {1, CHUNK_SMALL, CHUNK_LARGE};
    for (size_t c = 0; c < 3; c++) {
        scand_strtab *st;
        struct read_result rr;
        run(s, cs[c], &st, &rr);
        CU_ASSERT_EQUAL(rr.rc, 0);
        CU_ASSERT_EQUAL(rr.n_rec, 1);
        CU_ASSERT_EQUAL(rr.stats.tuples_skipped, 2);
        CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_TUPLE_SKIPPED, "wrong field count"), 1);
        CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_TUPLE_SKIPPED, "not a string"), 1);
        CU_ASSERT_EQUAL_FATAL(rr.n_tup, 2);
        CU_ASSERT_EQUAL(rr.tup[0].dport, 80); /* "8\u0030" */
        CU_ASSERT_EQUAL(rr.tup[1].dport, 81);
        const char *acl, *rule;
        CU_ASSERT_EQUAL_FATAL(scand_group_split(st, rr.tup[0].group, &acl, &rule), SCAND_OK);
        CU_ASSERT_STRING_EQUAL(rule, "r\xc3\xa9\"q");
        done(st, &rr);
    }
}

/* A rule name of many escapes, escaped quotes among them: the reader and
 * the lifter keep the next quote while they skip escape after escape (each
 * used to search the rest of the record for it: a string of a megabyte of
 * escaped backslashes took seconds; found by fuzzing), so the quote found
 * must be the right one at every chunk size, across buffer refills. */
static void test_reader_many_escapes_in_one_string(void)
{
    struct sb b = {0};
    sb_add(&b, "{\"records\":[{\"time\":\"" T1 "\",\"macAddress\":\"" MAC "\","
               "\"flowRecords\":{\"flows\":[{\"aclID\":\"a\",\"flowGroups\":[{\"rule\":\"");
    char want[4000];
    size_t w = 0;
    for (int k = 0; k < 1000; k++) {
        sb_add(&b, k % 3 == 0 ? "\\\"" : k % 3 == 1 ? "\\\\" : "x"); /* \" or \\ or x */
        want[w++] = k % 3 == 0 ? '"' : k % 3 == 1 ? '\\' : 'x';
    }
    want[w] = '\0';
    sb_add(&b, "\",\"flowTuples\":[\"1786653100000,10.0.0.1,10.0.0.2,40000,80,6,O,B,NX,,,,\"]}]}]}}]}");
    static const size_t cs[] = {1, CHUNK_SMALL, CHUNK_LARGE};
    for (size_t c = 0; c < 3; c++) {
        scand_strtab *st;
        struct read_result rr;
        run(b.p, cs[c], &st, &rr);
        CU_ASSERT_EQUAL(rr.rc, 0);
        CU_ASSERT_EQUAL(rr.n_rec, 1);
        CU_ASSERT_EQUAL(rr.diag.n, 0);
        CU_ASSERT_EQUAL_FATAL(rr.n_tup, 1);
        const char *acl, *rule;
        CU_ASSERT_EQUAL_FATAL(scand_group_split(st, rr.tup[0].group, &acl, &rule), SCAND_OK);
        CU_ASSERT_STRING_EQUAL(rule, want);
        done(st, &rr);
    }
    free(b.p);
}

/* An escape in the last few bytes of the input: complete values are not
 * cuts; a value that ends right after a backslash is. */
static void test_reader_escape_near_end_of_input(void)
{
#define TAIL_REC                                                                                   \
    "{\"time\":\"" T1 "\",\"macAddress\":\"" MAC "\",\"flowRecords\":{\"flows\":[]},"              \
    "\"z\":\"\\\\\"}"
    static const char *const whole[] = {
        TAIL_REC,                           /* bare record ending in "\\"} */
        "{\"records\":[" TAIL_REC,          /* appended blob, no "]}" */
        "{\"records\":[" TAIL_REC "]",      /* no final "}" */
        "{\"records\":[" TAIL_REC "]}",     /* closed */
        TAIL_REC "{\"records\":[" TAIL_REC, /* two values */
    };
    static const size_t want[] = {1, 1, 1, 1, 2};
    static const size_t cs[] = {1, CHUNK_SMALL, CHUNK_LARGE};
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        for (size_t c = 0; c < 3; c++) {
            scand_strtab *st;
            struct read_result rr;
            run(whole[i], cs[c], &st, &rr);
            CU_ASSERT_EQUAL(rr.rc, 0);
            CU_ASSERT_EQUAL(rr.n_rec, want[i]);
            CU_ASSERT_EQUAL(rr.stats.cut, 0);
            done(st, &rr);
        }
    }
    /* Cut right after the backslash, or inside a \u escape. */
    expect_error("{\"time\":\"" T1 "\",\"z\":\"\\", SCAND_ERR_FORMAT, "1:1");
    expect_error("{\"time\":\"" T1 "\",\"z\":\"\\u00", SCAND_ERR_FORMAT, "1:1");
    for (size_t c = 0; c < N_CHUNKS; c++) {
        scand_strtab *st;
        struct read_result rr;
        run("{\"records\":[" R1 ",{\"z\":\"\\", chunks[c], &st, &rr);
        CU_ASSERT_EQUAL(rr.rc, 0);
        CU_ASSERT_EQUAL(rr.n_rec, 1);
        CU_ASSERT_EQUAL(rr.stats.cut, 1);
        done(st, &rr);
    }
#undef TAIL_REC
}

/* cJSON strings end at a NUL: a \u0000 would silently cut a string, so
 * the record is skipped instead. */
static void test_reader_nul_escape_skips_record(void)
{
    const char *s =
        "{\"records\":[" R1 ",{\"time\":\"" T1 "\",\"macAddress\":\"" MAC "\","
        "\"flowRecords\":{\"flows\":[{\"aclID\":\"a\\u0000b\",\"flowGroups\":"
        "[{\"rule\":\"r\",\"flowTuples\":[" TUP("1786653100000", "80") "]}]}]}}," R2 "]}";
    for (size_t c = 0; c < N_CHUNKS; c++) {
        scand_strtab *st;
        struct read_result rr;
        run(s, chunks[c], &st, &rr);
        CU_ASSERT_EQUAL(rr.rc, 0);
        CU_ASSERT_EQUAL(rr.n_rec, 2);
        CU_ASSERT_EQUAL(rr.n_tup, 3);
        CU_ASSERT_EQUAL(rr.stats.records_skipped, 1);
        CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_RECORD_SKIPPED, "\\u0000"), 1);
        done(st, &rr);
    }
}

/* A raw NUL byte would cut a cJSON string as \u0000 would: outside the
 * lifted tuples it skips its record; inside a lifted tuple, the tuple. In
 * a blob parsed whole (keys in another order) it skips each record. */
static void test_reader_raw_nul(void)
{
    static const char rule[] =
        "{\"records\":[" R1 ",{\"time\":\"" T1 "\",\"macAddress\":\"" MAC "\","
        "\"flowRecords\":{\"flows\":[{\"aclID\":\"a@b\",\"flowGroups\":"
        "[{\"rule\":\"r\",\"flowTuples\":[" TUP("1786653100000", "80") "]}]}]}}," R2 "]}";
    static const char tuple[] = "{\"records\":[" REC(T1, TUP("1786653100000", "80") ","
                                                       "\"1786653100000,10.0.0.1@,10.0.0.2,"
                                                       "40000,81,6,O,B,NX,,,,\"") "]}";
    static const char dom[] = "{\"x\":\"@\",\"records\":[" R1 "]}";
    static const struct {
        const char *text;
        size_t len;
        int rc;
        size_t n_rec, n_tup, rec_skipped, tup_skipped;
    } cases[] = {
        {rule, sizeof rule - 1, 0, 2, 3, 1, 0},
        {tuple, sizeof tuple - 1, 0, 1, 1, 0, 1},
        {dom, sizeof dom - 1, 0, 0, 0, 1, 0}, /* parsed whole: each record of it */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *buf = malloc(cases[i].len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
        memcpy(buf, cases[i].text, cases[i].len);
        *(char *)memchr(buf, '@', cases[i].len) = '\0';
        for (size_t c = 0; c < N_CHUNKS; c++) {
            scand_strtab *st = scand_strtab_new();
            struct read_result rr;
            CU_ASSERT_EQUAL_FATAL(read_all(buf, cases[i].len, chunks[c], st, &rr), 0);
            CU_ASSERT_EQUAL(rr.rc, cases[i].rc);
            CU_ASSERT_EQUAL(rr.n_rec, cases[i].n_rec);
            CU_ASSERT_EQUAL(rr.n_tup, cases[i].n_tup);
            CU_ASSERT_EQUAL(rr.stats.records_skipped, cases[i].rec_skipped);
            CU_ASSERT_EQUAL(rr.stats.tuples_skipped, cases[i].tup_skipped);
            if (cases[i].rec_skipped)
                CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_RECORD_SKIPPED, "NUL byte"), 1);
            done(st, &rr);
        }
        free(buf);
    }
}

/* After the records array: a second "records" array is read too, with a
 * note; other members are skipped quietly; what is not JSON is a format
 * error at its place, after the records before it. */
static void test_reader_wrapper_after_the_array(void)
{
    static const struct {
        const char *json;
        size_t n_rec, n_tup;
        int notes; /* "records" twice */
    } good[] = {
        {"{\"records\":[" R1 "],\"x\":-1.5e3,\"records\":[" R2 "],\"y\":null}", 2, 3, 1},
        /* a second records key spelled with an escape is the same key */
        {"{\"records\":[" R1 "],\"rec\\u006frds\":[" R2 "]}", 2, 3, 1},
        /* parsed whole (keys in another order): the records arrays */
        {"{\"a\":1,\"records\":{},\"records\":[" R1 "]}", 1, 2, 0},
        {"{\"a\":1,\"records\":[" R1 "],\"records\":[" R2 "]}", 2, 3, 1},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        for (size_t c = 0; c < N_CHUNKS; c++) {
            scand_strtab *st;
            struct read_result rr;
            run(good[i].json, chunks[c], &st, &rr);
            CU_ASSERT_EQUAL(rr.rc, 0);
            CU_ASSERT_EQUAL(rr.n_rec, good[i].n_rec);
            CU_ASSERT_EQUAL(rr.n_tup, good[i].n_tup);
            CU_ASSERT_EQUAL(rr.diag.n, good[i].notes);
            CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_NOTE, "\"records\" twice"),
                            good[i].notes);
            done(st, &rr);
        }
    static const char *const bad[] = {
        "{\"records\":[" R1 "],\"x\":nope}", "{\"records\":[" R1 "],\"x\":01}",
        "{\"records\":[" R1 "] \"x\":1}",     "{\"records\":[" R1 "],x:1}",
        "{\"records\":[" R1 "],\"x\" 1}",     "{\"records\":[" R1 "],\"x\":1,}",
        "{\"records\":[" R1 "],\"x\":{]}",    "{\"records\":[" R1 "],\"x\":[1 2]}",
        "{\"records\":[" R1 "],\"x\":\"a\001b\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (size_t c = 0; c < N_CHUNKS; c++) {
            scand_strtab *st;
            struct read_result rr;
            run(bad[i], chunks[c], &st, &rr);
            CU_ASSERT_EQUAL(rr.rc, SCAND_ERR_FORMAT);
            CU_ASSERT_EQUAL(rr.n_rec, 1);
            CU_ASSERT(has_sub(rr.err, "malformed JSON in the blob after the records array"));
            done(st, &rr);
        }
}

static void test_reader_record_time_parse_is_exact(void)
{
    static const struct {
        const char *time;
        int64_t ms; /* -1: record skipped */
    } cases[] = {
        {"2026-08-13T20:32:22.0419499Z", 1786653142041},
        {"2024-02-29T23:59:59Z", 1709251199000},
        {"2000-01-01T00:00:00.5Z", 946684800500},
        {"1970-01-01T00:00:00.999999999Z", 999},
        {"2026-08-13 20:32:22.0419499Z", 1786653142041},
        {"2023-02-29T00:00:00Z", -1},
        {"2026-08-13T20:32:22.Z", -1},
        {"2026-08-13T20:32:22.0419499", -1},
        {"2026-08-13T20:32:22.1234567890Z", -1},
        {"2026-08-13T24:00:00Z", -1},
        {"2026-08-13T20:32:22.0419499+01:00", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char s[512];
        snprintf(s, sizeof s,
                 "{\"time\":\"%s\",\"macAddress\":\"%s\",\"flowRecords\":"
                 "{\"flows\":[]}}",
                 cases[i].time, MAC);
        scand_strtab *st;
        struct read_result rr;
        run(s, CHUNK_SMALL, &st, &rr);
        CU_ASSERT_EQUAL(rr.rc, 0);
        if (cases[i].ms >= 0) {
            CU_ASSERT_EQUAL(rr.n_rec, 1);
            if (rr.n_rec == 1)
                CU_ASSERT_EQUAL(rr.rec_time[0], cases[i].ms);
        } else {
            CU_ASSERT_EQUAL(rr.n_rec, 0);
            CU_ASSERT_EQUAL(diag_count(&rr.diag, SCAND_DIAG_RECORD_SKIPPED, "time"), 1);
        }
        done(st, &rr);
    }
}

static void test_reader_tuples_sorted_by_time_stable(void)
{
    /* 300 tuples over two groups, ts = (i * 7919) mod 50 seconds: many ties. */
    struct sb b = {0};
    sb_add(&b, "{\"time\":\"" T1 "\",\"macAddress\":\"" MAC "\",\"flowRecords\":{\"flows\":[");
    for (int g = 0; g < 2; g++) {
        char x[160];
        snprintf(x, sizeof x,
                 "%s{\"aclID\":\"a%d\",\"flowGroups\":[{\"rule\":\"r\","
                 "\"flowTuples\":[",
                 g ? "," : "", g);
        sb_add(&b, x);
        for (int i = g * 150; i < g * 150 + 150; i++) {
            snprintf(x, sizeof x, "%s\"%lld,10.0.0.1,10.0.0.2,%d,80,6,O,B,NX,,,,\"",
                     i % 150 ? "," : "", 1786653000000LL + (long long)(i * 7919 % 50) * 1000,
                     i + 1);
            sb_add(&b, x);
        }
        sb_add(&b, "]}]}");
    }
    sb_add(&b, "]}}");
    for (size_t c = 0; c < N_CHUNKS; c++) {
        scand_strtab *st;
        struct read_result rr;
        run(b.p, chunks[c], &st, &rr);
        CU_ASSERT_EQUAL_FATAL(rr.n_tup, 300);
        int ok = 1;
        for (size_t i = 1; i < rr.n_tup; i++) {
            const struct scand_tuple *p = &rr.tup[i - 1], *q = &rr.tup[i];
            /* sport is the input position + 1: equal times keep input order. */
            if (q->ts_ms < p->ts_ms || (q->ts_ms == p->ts_ms && q->sport <= p->sport))
                ok = 0;
        }
        CU_ASSERT(ok);
        CU_ASSERT_EQUAL(rr.tup[0].ts_ms, 1786653000000);
        CU_ASSERT_EQUAL(rr.tup[0].sport, 1);
        CU_ASSERT_EQUAL(rr.tup[299].ts_ms, 1786653049000);
        done(st, &rr);
    }
    free(b.p);
}

static void test_reader_many_small_records_through_small_chunks(void)
{
    enum { N = 4000 };
    struct sb b = {0};
    sb_add(&b, "{\"records\":[");
    char x[600];
    for (int i = 0; i < N; i++) {
        snprintf(x, sizeof x,
                 ",{\"time\":\"" T1 "\",\"macAddress\":\"" MAC "\",\"flowRecords\":{\"flows\":"
                 "[{\"aclID\":\"a\",\"flowGroups\":[{\"rule\":\"r%d\",\"flowTuples\":["
                 "\"%lld,10.0.%d.%d,10.0.0.2,40000,%d,6,O,B,NX,,,,\","
                 "\"%lld,10.0.0.1,10.0.0.3,40001,%d,6,O,E,NX,1,2,3,4\"]}]}]}}\n",
                 i % 7, 1786653000000LL + i + 1, i / 256, i % 256, i % 10000, 1786653000000LL + i,
                 (i * 3) % 65536);
        sb_add(&b, x);
    }
    for (size_t c = 0; c < N_CHUNKS; c++) {
        scand_strtab *st;
        struct read_result rr;
        run(b.p, chunks[c], &st, &rr);
        CU_ASSERT_EQUAL(rr.rc, 0);
        CU_ASSERT_EQUAL_FATAL(rr.n_rec, N);
        CU_ASSERT_EQUAL_FATAL(rr.n_tup, 2 * N);
        CU_ASSERT_EQUAL(rr.stats.unclosed, 1);
        CU_ASSERT_EQUAL(rr.stats.bytes, b.len);
        int ok = 1;
        for (int i = 0; i < N; i++) {
            const struct scand_tuple *e = &rr.tup[2 * i], *f = &rr.tup[2 * i + 1];
            /* The E tuple is 1 ms older: the sort puts it first. */
            ok &= e->state == SCAND_ST_E && e->dport == (i * 3) % 65536 && e->bytes_d2s == 4;
            ok &= f->state == SCAND_ST_B && f->dport == i % 10000 && f->src[14] == i / 256 &&
                  f->src[15] == i % 256;
        }
        CU_ASSERT(ok);
        CU_ASSERT_EQUAL(scand_strtab_count(st), 1 + 1 + 7); /* "", MAC, 7 groups */
        done(st, &rr);
    }
    free(b.p);
}

static void test_reader_read_error_is_io(void)
{
    const char *s = "{\"records\":[" R1 "," R2 "]}";
    size_t len = strlen(s);
    for (long at = 0; at < (long)len; at += 37) {
        scand_strtab *st = scand_strtab_new();
        CU_ASSERT_PTR_NOT_NULL_FATAL(st);
        struct mem_in in;
        mem_in_init(&in, s, len, CHUNK_SMALL);
        in.fail_at = at;
        scand_reader *r = scand_reader_new("io", mem_read, &in, st, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        struct scand_record rec;
        int rc, n = 0;
        while ((rc = scand_reader_next(r, &rec)) == 1)
            n++;
        CU_ASSERT_EQUAL(rc, SCAND_ERR_IO);
        CU_ASSERT_EQUAL(scand_reader_next(r, &rec), SCAND_ERR_IO);
        CU_ASSERT(has_sub(scand_reader_geterr(r), "read error"));
        CU_ASSERT(n <= 2);
        scand_reader_free(r);
        scand_strtab_free(st);
    }
}

static void test_reader_new_rejects_null_arguments(void)
{
    char err[SCAND_ERRBUF_SIZE] = "";
    scand_strtab *st = scand_strtab_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_PTR_NULL(scand_reader_new("x", NULL, NULL, st, err));
    CU_ASSERT(strlen(err) > 0);
    CU_ASSERT_PTR_NULL(scand_reader_new("x", mem_read, NULL, NULL, NULL));
    scand_strtab_free(st);
    scand_reader_free(NULL); /* a no-op */
}

/* Lifting (flowTuples parsed in place, cJSON on the rest) must follow
 * cJSON where keys repeat: cJSON takes the first of duplicate keys, and
 * decodes escaped key names. */
/* A duplicate key on a path the reader reads skips the record with a note
 * (JSON leaves open which of the two counts), whether the tuples were
 * lifted or not, and an escaped key counts as what it decodes to. */
static void test_reader_duplicate_keys_skip_the_record(void)
{
#define HEAD "{\"time\":\"" T1 "\",\"macAddress\":\"" MAC "\",\"flowLogVersion\":4,"
#define GRP(body) "{\"flows\":[{\"aclID\":\"a\",\"flowGroups\":[{\"rule\":\"r\"," body "}]}]}"
    static const struct {
        const char *json;
        size_t n_tup;
        int dport; /* of the one tuple, when n_tup == 1; -1: skipped */
    } cases[] = {
        /* two flowTuples in one group */
        {HEAD "\"flowRecords\":" GRP("\"flowTuples\":[" TUP("1786653100000", "80") "],"
                                    "\"flowTuples\":[" TUP("1786653100000", "81") "]") "}",
         0, -1},
        /* two flowRecords, the first's array empty */
        {HEAD "\"flowRecords\":" GRP("\"flowTuples\":[]") ",\"flowRecords\":" GRP(
             "\"flowTuples\":[" TUP("1786653100000", "81") "]") "}",
         0, -1},
        /* two flowRecords, the second one bigger */
        {HEAD "\"flowRecords\":" GRP("\"flowTuples\":[" TUP("1786653100000", "80") "]")
              ",\"flowRecords\":{\"flows\":[{},{\"aclID\":\"a\",\"flowGroups\":[{\"rule\":\"r\","
              "\"flowTuples\":[" TUP("1786653100000", "81") "]}]}]}}",
         0, -1},
        /* an escaped key that decodes to flowTuples, then flowTuples */
        {HEAD "\"flowRecords\":" GRP("\"flow\\u0054uples\":[" TUP("1786653100000", "82") "],"
                                    "\"flowTuples\":[" TUP("1786653100000", "81") "]") "}",
         0, -1},
        /* an escaped key that decodes to flowTuples, alone */
        {HEAD "\"flowRecords\":" GRP("\"flow\\u0054uples\":[" TUP("1786653100000", "82") "]") "}",
         1, 82},
        /* two times */
        {HEAD "\"time\":\"" T1 "\",\"flowRecords\":" GRP("\"flowTuples\":[]") "}", 0, -1},
        /* a lookalike key is not the array */
        {HEAD "\"flowRecords\":" GRP("\"flowTuplesX\":[" TUP("1786653100000", "81") "],"
                                    "\"flowTuples\":[" TUP("1786653100000", "83") "]") "}",
         1, 83},
        /* whitespace and newlines inside the lifted array */
        {HEAD "\"flowRecords\":" GRP("\"flowTuples\" :\n [ \n" TUP("1786653100000", "84")
                                    " \n ,\t" TUP("1786653100001", "85") "\n]") "}",
         2, 84},
    };
#undef HEAD
#undef GRP
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t c = 0; c < N_CHUNKS; c++) {
            scand_strtab *st;
            struct read_result rr;
            run(cases[i].json, chunks[c], &st, &rr);
            CU_ASSERT_EQUAL(rr.n_rec, cases[i].dport < 0 ? 0 : 1);
            CU_ASSERT_EQUAL(rr.n_tup, cases[i].n_tup);
            CU_ASSERT_EQUAL(rr.diag.n, cases[i].dport < 0 ? 1 : 0);
            if (cases[i].dport < 0)
                CU_ASSERT(has_sub(rr.diag.reason[0], "duplicate key"));
            if (rr.n_tup >= 1 && cases[i].n_tup >= 1)
                CU_ASSERT_EQUAL(rr.tup[0].dport, cases[i].dport);
            done(st, &rr);
        }
}

/* Append a random record to b; with esc, every tuple string's first byte
 * is written as a \u00XX escape, which cJSON decodes to the same string
 * but which keeps the array from being lifted. */
static void random_record(struct sb *b, uint64_t *rs, int esc)
{
    static const char garbage[] = "0123456789,.:IOBCEDTUAXN -";
    int nsg = rng_below(rs, 3) == 0;
    char t[160], e[200];
    sb_add(b, nsg ? "{\"time\":\"2026-08-13T20:32:22Z\",\"macAddress\":\"" MAC "\","
                    "\"resourceId\":\"/R\",\"properties\":{\"Version\":2,\"flows\":["
                  : "{\"time\":\"" T1 "\",\"flowLogVersion\":4,\"macAddress\":\"" MAC "\","
                    "\"flowRecords\":{\"flows\":[");
    uint64_t nf = rng_below(rs, 4);
    for (uint64_t f = 0; f < nf; f++) {
        sb_add(b, f ? "," : "");
        sb_add(b, nsg ? "{\"rule\":\"R\",\"flows\":[" : "{\"aclID\":\"a\",\"flowGroups\":[");
        uint64_t ng = rng_below(rs, 4);
        for (uint64_t g = 0; g < ng; g++) {
            sb_add(b, g ? "," : "");
            sb_add(b, nsg ? "{\"mac\":\"" MAC "\"," : "{\"rule\":\"r\",");
            if (rng_below(rs, 8) == 0)
                sb_add(b, "\"flowTuplesX\":[\"1\"],");
            int dup = rng_below(rs, 10) == 0;
            for (int k = 0; k <= dup; k++) {
                sb_add(b, k ? ",\"flowTuples\":[" : "\"flowTuples\":[");
                uint64_t nt = rng_below(rs, 5);
                for (uint64_t i = 0; i < nt; i++) {
                    sb_add(b, i ? (rng_below(rs, 4) ? "," : " ,\n ") : "");
                    uint64_t kind = rng_below(rs, 10);
                    if (kind == 0) {
                        sb_add(b, "5"); /* not a string */
                        continue;
                    }
                    if (kind == 1) { /* garbage */
                        size_t n = 1 + (size_t)rng_below(rs, 40);
                        for (size_t j = 0; j < n; j++)
                            t[j] = garbage[rng_below(rs, sizeof garbage - 1)];
                        t[n] = '\0';
                    } else if (nsg) {
                        snprintf(t, sizeof t, "1786653%03u,10.0.0.%u,10.0.1.%u,%u,%u,%c,%c,%c,B,,,,",
                                 (unsigned)rng_below(rs, 1000), (unsigned)rng_below(rs, 256),
                                 (unsigned)rng_below(rs, 256), 1024 + (unsigned)rng_below(rs, 60000),
                                 (unsigned)rng_below(rs, 70000), rng_below(rs, 2) ? 'T' : 'U',
                                 rng_below(rs, 2) ? 'I' : 'O', rng_below(rs, 2) ? 'A' : 'D');
                    } else {
                        snprintf(t, sizeof t, "1786653%06u,10.0.0.%u,10.0.1.%u,%u,%u,6,O,%c,NX,1,2,3,4",
                                 (unsigned)rng_below(rs, 1000000), (unsigned)rng_below(rs, 300),
                                 (unsigned)rng_below(rs, 256), 1024 + (unsigned)rng_below(rs, 60000),
                                 (unsigned)rng_below(rs, 70000), "BCEDX"[rng_below(rs, 5)]);
                    }
                    if (esc)
                        snprintf(e, sizeof e, "\"\\u%04x%s\"", (unsigned char)t[0], t + 1);
                    else
                        snprintf(e, sizeof e, "\"%s\"", t);
                    sb_add(b, e);
                }
                sb_add(b, "]");
            }
            sb_add(b, "}");
        }
        sb_add(b, "]}");
    }
    sb_add(b, nsg ? "]}}" : "]}}");
}

/* Lifted and not lifted must read alike: the same random records, once
 * plain and once with every tuple string escaped, give the same tuples,
 * the same skips and the same diagnostics. */
static void test_reader_lift_equals_cjson_on_random_records(void)
{
    uint64_t rs = 0x11f7ed;
    size_t total_tup = 0, total_diag = 0;
    for (int round = 0; round < 300; round++) {
        struct sb plain = {0}, esc = {0};
        uint64_t s1 = rs, s2 = rs;
        sb_add(&plain, "{\"records\":[");
        sb_add(&esc, "{\"records\":[");
        int nr = 1 + (int)rng_below(&rs, 4);
        for (int i = 0; i < nr; i++) {
            sb_add(&plain, i ? "," : "");
            sb_add(&esc, i ? "," : "");
            s2 = s1;
            random_record(&plain, &s1, 0);
            random_record(&esc, &s2, 1);
        }
        rs = s1 ^ 0x9e3779b97f4a7c15ULL;
        sb_add(&plain, "]}");
        sb_add(&esc, "]}");
        scand_strtab *sa, *sb_;
        struct read_result ra, rb;
        run(plain.p, CHUNK_LARGE, &sa, &ra);
        run(esc.p, round % 2 ? CHUNK_SMALL : CHUNK_LARGE, &sb_, &rb);
        CU_ASSERT_EQUAL(ra.rc, 0);
        CU_ASSERT_EQUAL(ra.n_rec, rb.n_rec);
        CU_ASSERT_EQUAL(ra.n_tup, rb.n_tup);
        if (ra.n_tup == rb.n_tup && ra.n_tup > 0)
            CU_ASSERT(memcmp(ra.tup, rb.tup, ra.n_tup * sizeof *ra.tup) == 0);
        CU_ASSERT_EQUAL(ra.stats.tuples_skipped, rb.stats.tuples_skipped);
        CU_ASSERT_EQUAL(ra.diag.n, rb.diag.n);
        for (int i = 0; i < ra.diag.n && i < rb.diag.n && i < DIAG_MAX; i++) {
            CU_ASSERT_EQUAL(ra.diag.record[i], rb.diag.record[i]);
            CU_ASSERT_EQUAL(ra.diag.tuple[i], rb.diag.tuple[i]);
            CU_ASSERT_STRING_EQUAL(ra.diag.reason[i], rb.diag.reason[i]);
        }
        total_tup += ra.n_tup;
        total_diag += (size_t)ra.diag.n;
        done(sa, &ra);
        done(sb_, &rb);
        free(plain.p);
        free(esc.p);
    }
    CU_ASSERT(total_tup > 500); /* the generator makes real work */
    CU_ASSERT(total_diag > 50);
}

int test_reader_register(void)
{
    CU_pSuite s = CU_add_suite("reader", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
#define ADD(f)                                                                                     \
    if (CU_add_test(s, #f, f) == NULL)                                                             \
        return CU_get_error();
    ADD(test_reader_appended_blob_with_leading_commas_unclosed)
    ADD(test_reader_cut_mid_record_keeps_complete_records)
    ADD(test_reader_cut_first_bare_value_is_format_error)
    ADD(test_reader_stray_commas_are_skipped)
    ADD(test_reader_stray_closers_move_on)
    ADD(test_reader_records_with_same_time_stay_apart)
    ADD(test_reader_key_order_varies)
    ADD(test_reader_concatenated_values)
    ADD(test_reader_empty_or_blank_input_is_format_error)
    ADD(test_reader_not_json_is_format_error_at_line_col)
    ADD(test_reader_bad_records_are_counted_skips)
    ADD(test_reader_bad_mac_skips_record)
    ADD(test_reader_escapes_inside_tuple_strings)
    ADD(test_reader_escape_near_end_of_input)
    ADD(test_reader_many_escapes_in_one_string)
    ADD(test_reader_nul_escape_skips_record)
    ADD(test_reader_raw_nul)
    ADD(test_reader_wrapper_after_the_array)
    ADD(test_reader_record_time_parse_is_exact)
    ADD(test_reader_tuples_sorted_by_time_stable)
    ADD(test_reader_many_small_records_through_small_chunks)
    ADD(test_reader_read_error_is_io)
    ADD(test_reader_new_rejects_null_arguments)
    ADD(test_reader_duplicate_keys_skip_the_record)
    ADD(test_reader_lift_equals_cjson_on_random_records)
#undef ADD
    return CUE_SUCCESS;
}
