/*
 * test_ttab_int.c - white-box [STYLE U4]: the timed table (ttab.c) against
 * a plain array, through random inserts, lookups and deletions, with tags
 * chosen so that probe runs collide, wrap around the end of the table and
 * straddle deletions (backward-shift deletion must keep every key
 * reachable), and through the rebuilds of growth and expiry; and the IPv4
 * flow table (ftab.c) the same way.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "scand_int.h"
#include "tests.h"

#define NKEYS 600

struct ref {
    int present;
    int64_t t;
    uint32_t val;
};

static void key_of(uint32_t k, uint8_t key[16])
{
    memset(key, 0, 16);
    memcpy(key, &k, 4);
    key[13] = (uint8_t)(k * 7); /* a tail byte, for the overlapping compare */
}

/* Tags that collide a lot: 40 home slots, the last 32 of the table and the
 * first 8 whatever its size, so runs wrap around its end. Never 0. */
static uint32_t tag_of(uint32_t k)
{
    return ((0xffe0u + k % 40u) & 0xffffu) | (k / 40u + 1) << 16;
}

static void check_all(struct scandint_ttab *tt, const struct ref *r)
{
    size_t n = 0;
    for (uint32_t k = 0; k < NKEYS; k++) {
        if (!r[k].present)
            continue;
        n++;
        uint8_t key[16];
        key_of(k, key);
        int is_new = -1;
        /* horizon INT64_MIN: a lookup that had to insert could not drop anything */
        struct scandint_tent *e = scandint_ttab_get_tag(tt, key, tag_of(k), INT64_MIN, &is_new);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e);
        CU_ASSERT_EQUAL_FATAL(is_new, 0);
        CU_ASSERT_EQUAL(e->t, r[k].t);
        uint32_t v;
        memcpy(&v, scandint_ttab_val(tt, e), 4);
        CU_ASSERT_EQUAL(v, r[k].val);
    }
    CU_ASSERT_EQUAL(tt->n, n);
}

static void test_ttab_int_delete_keeps_runs_reachable(void)
{
    struct scandint_ttab tt;
    CU_ASSERT_EQUAL_FATAL(scandint_ttab_init(&tt, 16, 8, 7), SCAND_OK);
    struct ref *r = calloc(NKEYS, sizeof *r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    uint64_t x = 88172645463325252ULL; /* xorshift64: the test's own fixed sequence */
    for (int step = 0; step < 60000; step++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t k = (uint32_t)(x % NKEYS);
        uint8_t key[16];
        key_of(k, key);
        int is_new;
        struct scandint_tent *e = scandint_ttab_get_tag(&tt, key, tag_of(k), INT64_MIN, &is_new);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e);
        CU_ASSERT_EQUAL_FATAL(is_new, !r[k].present);
        if (r[k].present && (x >> 40) % 3 == 0) { /* a third of hits delete */
            scandint_ttab_del(&tt, e);
            r[k].present = 0;
        } else {
            e->t = step;
            uint32_t v = (uint32_t)(x >> 32);
            memcpy(scandint_ttab_val(&tt, e), &v, 4);
            r[k] = (struct ref){1, step, v};
        }
        if (step % 5000 == 4999)
            check_all(&tt, r);
    }
    check_all(&tt, r);
    /* delete everything that is left, in key order: the table ends empty */
    for (uint32_t k = 0; k < NKEYS; k++) {
        if (!r[k].present)
            continue;
        uint8_t key[16];
        key_of(k, key);
        int is_new;
        struct scandint_tent *e = scandint_ttab_get_tag(&tt, key, tag_of(k), INT64_MIN, &is_new);
        CU_ASSERT_EQUAL_FATAL(is_new, 0);
        scandint_ttab_del(&tt, e);
        r[k].present = 0;
    }
    CU_ASSERT_EQUAL(tt.n, 0);
    for (size_t i = 0; i < tt.cap; i++)
        CU_ASSERT_PTR_NULL(scandint_ttab_slot(&tt, i));
    scandint_ttab_fini(&tt);
    free(r);
}

static void test_ttab_int_expiry_drops_only_old_entries(void)
{
    struct scandint_ttab tt;
    CU_ASSERT_EQUAL_FATAL(scandint_ttab_init(&tt, 13, 0, 7), SCAND_OK);
    /* keys 0..9999 at times 0..9999; each insert may drop what is older
     * than t - 100, so at most ~100 live entries plus one table's slack */
    for (uint32_t k = 0; k < 10000; k++) {
        uint8_t key[16];
        key_of(k, key);
        int is_new;
        struct scandint_tent *e =
            scandint_ttab_get(&tt, key, (int64_t)k - 100, &is_new);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e);
        CU_ASSERT_EQUAL(is_new, 1);
        e->t = k;
    }
    CU_ASSERT(tt.cap <= 1024); /* expiry kept it at its smallest size */
    /* the newest 100 are all still there, with their times */
    for (uint32_t k = 9900; k < 10000; k++) {
        uint8_t key[16];
        key_of(k, key);
        int is_new;
        struct scandint_tent *e = scandint_ttab_get(&tt, key, INT64_MIN, &is_new);
        CU_ASSERT_EQUAL(is_new, 0);
        CU_ASSERT_EQUAL(e->t, (int64_t)k);
    }
    scandint_ttab_fini(&tt);
    CU_ASSERT_EQUAL(scandint_ttab_init(&tt, 4, 0, 7), SCAND_ERR_INVAL); /* keys under 8 bytes */
}

/* The IPv4 flow table (ftab.c) against a plain array: inserts, lookups,
 * deletions, and expiry by horizon at its rebuilds (3,000 keys, a table
 * of 1,024 slots and up: it purges, grows and shrinks, and runs wrap). */
static void test_ttab_int_ftab_matches_reference(void)
{
    struct scandint_ftab ft;
    CU_ASSERT_EQUAL_FATAL(scandint_ftab_init(&ft, 7), SCAND_OK);
    enum { NK = 3000 };
    static struct ref r[NK];
    memset(r, 0, sizeof r);
    size_t max_cap = 0;
    uint64_t x = 0x2545f4914f6cdd1dULL;
    for (int step = 0; step < 80000; step++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t k = (uint32_t)(x % NK);
        uint64_t k0 = 0x0a000000u + k, k1 = (uint64_t)(k * 7919u % 65536) | SCANDINT_FK1_USED;
        uint64_t h = scandint_ftab_hash(&ft, k0, k1);
        int is_new;
        /* horizon: entries more than 1500 steps old may go at a rebuild */
        struct scandint_fent *e = scandint_ftab_get(&ft, k0, k1, h, step, 1500, &is_new);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e);
        if (!is_new && !r[k].present) {
            CU_FAIL("found a key the reference does not hold");
        }
        if (is_new && r[k].present) /* dropped as old: it must have been old */
            CU_ASSERT(r[k].t < step - 1500);
        if (!is_new && (x >> 40) % 3 == 0) {
            scandint_ftab_del(&ft, e);
            r[k].present = 0;
            continue;
        }
        if (!is_new) {
            uint32_t v;
            memcpy(&v, e->v, 4);
            CU_ASSERT_EQUAL(v, r[k].val);
            CU_ASSERT_EQUAL(e->t, r[k].t);
            CU_ASSERT_EQUAL(e->k1 >> 48 & 0xff, r[k].val & 0xff); /* flags kept */
        }
        e->t = step;
        uint32_t v = (uint32_t)(x >> 32);
        memcpy(e->v, &v, 4);
        e->k1 = (e->k1 & ~SCANDINT_FK1_FLAGS) | (uint64_t)(v & 0xff) << 48;
        r[k] = (struct ref){1, step, v};
        if (ft.cap > max_cap)
            max_cap = ft.cap;
    }
    CU_ASSERT(max_cap > 1024); /* it grew */
    /* everything the reference holds and the table kept is found */
    size_t n = 0;
    for (uint32_t k = 0; k < NK; k++) {
        uint64_t k0 = 0x0a000000u + k, k1 = (uint64_t)(k * 7919u % 65536) | SCANDINT_FK1_USED;
        for (size_t i = 0; i < ft.cap; i++)
            if (ft.e[i].k1 != 0 && ft.e[i].k0 == k0 && (ft.e[i].k1 & ~SCANDINT_FK1_META) == k1) {
                CU_ASSERT(r[k].present);
                n++;
            }
    }
    CU_ASSERT_EQUAL(n, ft.n);
    scandint_ftab_fini(&ft);
}

/* A probe run longer than the distance field holds (127): 200 keys with
 * one home slot, found after inserts; then deleted in an order that moves
 * saturated entries back, each remaining key still found with its value
 * and every stored distance exact or saturated. */
static void test_ttab_int_ftab_long_run(void)
{
    struct scandint_ftab ft;
    CU_ASSERT_EQUAL_FATAL(scandint_ftab_init(&ft, 11), SCAND_OK);
    enum { NR = 200 };
    uint64_t k0s[NR], k1s[NR];
    size_t found = 0, home = 0;
    for (uint32_t c = 0; found < NR && c < 100000000u; c++) {
        uint64_t k0 = 0x0a000000u + c, k1 = 443u | SCANDINT_FK1_USED;
        uint64_t h = scandint_ftab_hash(&ft, k0, k1);
        if (found == 0)
            home = h & ft.mask;
        if ((h & ft.mask) != home)
            continue;
        k0s[found] = k0;
        k1s[found++] = k1;
    }
    CU_ASSERT_EQUAL_FATAL(found, NR);
    for (size_t i = 0; i < NR; i++) {
        int is_new;
        struct scandint_fent *e = scandint_ftab_get(&ft, k0s[i], k1s[i],
                                                    scandint_ftab_hash(&ft, k0s[i], k1s[i]), 0,
                                                    1000, &is_new);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e);
        CU_ASSERT_EQUAL(is_new, 1);
        e->t = (int64_t)i;
    }
    CU_ASSERT_EQUAL_FATAL(ft.cap, 1024); /* no rebuild moved the run */
    for (size_t round = 0; round < 2; round++) {
        /* delete every third key still there (the early ones first in the
         * first round: later, saturated entries move back over them) */
        for (size_t i = round; i < NR; i += 3) {
            int is_new;
            struct scandint_fent *e = scandint_ftab_get(&ft, k0s[i], k1s[i],
                                                        scandint_ftab_hash(&ft, k0s[i], k1s[i]),
                                                        0, 1000, &is_new);
            CU_ASSERT_EQUAL(is_new, 0);
            CU_ASSERT_EQUAL(e->t, (int64_t)i);
            scandint_ftab_del(&ft, e);
        }
        for (size_t i = 0; i < NR; i++) {
            int gone = i % 3 == 0 || (round == 1 && i % 3 == 1);
            size_t at = SIZE_MAX;
            for (size_t j = 0; j < ft.cap; j++)
                if (ft.e[j].k1 != 0 && ft.e[j].k0 == k0s[i])
                    at = j;
            CU_ASSERT_EQUAL(at == SIZE_MAX, gone);
            if (at == SIZE_MAX)
                continue;
            CU_ASSERT_EQUAL(ft.e[at].t, (int64_t)i);
            size_t j = home; /* a lookup's probe reaches it before an empty slot */
            while (ft.e[j].k1 != 0 && j != at)
                j = (j + 1) & ft.mask;
            CU_ASSERT_EQUAL(j, at);
            size_t d = (size_t)(ft.e[at].k1 >> SCANDINT_FK1_DIST_SHIFT) & SCANDINT_FK1_DIST_MAX;
            size_t real = (at - home) & ft.mask;
            CU_ASSERT(d == real || (d == SCANDINT_FK1_DIST_MAX && real >= d));
        }
    }
    scandint_ftab_fini(&ft);
}

static void *fail_realloc(void *p, size_t n)
{
    (void)p;
    (void)n;
    return NULL;
}

/* scandint_grow(), the tables' array growth: min first, then doubling with
 * the elements kept; a failed realloc leaves the array and its capacity as
 * they were, and a capacity that cannot double is refused. */
static void test_ttab_int_grow_doubles_and_fails_cleanly(void)
{
    uint32_t *a = NULL;
    size_t cap = 0;
    CU_ASSERT_EQUAL(scandint_grow(&a, &cap, 4, sizeof *a), SCAND_OK);
    CU_ASSERT_EQUAL(cap, 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    for (uint32_t i = 0; i < 4; i++)
        a[i] = i + 7;
    CU_ASSERT_EQUAL(scandint_grow(&a, &cap, 4, sizeof *a), SCAND_OK);
    CU_ASSERT_EQUAL(cap, 8);
    for (uint32_t i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(a[i], i + 7);
    uint32_t *before = a;
    scand_set_allocator(malloc, fail_realloc, free);
    CU_ASSERT_EQUAL(scandint_grow(&a, &cap, 4, sizeof *a), SCAND_ERR_NOMEM);
    scand_set_allocator(NULL, NULL, NULL);
    CU_ASSERT_PTR_EQUAL(a, before);
    CU_ASSERT_EQUAL(cap, 8);
    CU_ASSERT_EQUAL(a[3], 10);
    size_t huge = SIZE_MAX / 2 + 1;
    CU_ASSERT_EQUAL(scandint_grow(&a, &huge, 4, sizeof *a), SCAND_ERR_NOMEM);
    CU_ASSERT_EQUAL(huge, SIZE_MAX / 2 + 1);
    CU_ASSERT_PTR_EQUAL(a, before);
    scandint_free(a);
}

int test_ttab_int_register(void)
{
    CU_pSuite s = CU_add_suite("ttab_int", NULL, NULL);
    if (s == NULL)
        return CU_get_error();
    if (CU_add_test(s, "test_ttab_int_delete_keeps_runs_reachable",
                    test_ttab_int_delete_keeps_runs_reachable) == NULL ||
        CU_add_test(s, "test_ttab_int_expiry_drops_only_old_entries",
                    test_ttab_int_expiry_drops_only_old_entries) == NULL ||
        CU_add_test(s, "test_ttab_int_ftab_matches_reference",
                    test_ttab_int_ftab_matches_reference) == NULL ||
        CU_add_test(s, "test_ttab_int_ftab_long_run", test_ttab_int_ftab_long_run) == NULL ||
        CU_add_test(s, "test_ttab_int_grow_doubles_and_fails_cleanly",
                    test_ttab_int_grow_doubles_and_fails_cleanly) == NULL)
        return CU_get_error();
    return CUE_SUCCESS;
}
