/*
 * strtab.c - intern table: each distinct byte string gets a small index, so
 * tuples carry 4-byte indices instead of pointers (DESIGN.md section 3).
 *
 * Strings live in one growing byte arena (NUL-terminated, lengths kept in an
 * offsets array); lookup is an open-addressing table of indices with linear
 * probing at load <= 3/4 [H2]. Index 0 is the empty string. Strings are
 * never removed: the table lives as long as the run, and holds MACs, aclIDs
 * and rule names, which are few.
 */
#include <string.h>

#include "scand_int.h"

struct scand_strtab {
    char *arena;
    size_t arena_len, arena_cap;
    size_t *off; /* off[i]: start of string i in arena */
    size_t *len; /* len[i]: its length */
    uint32_t n, cap_strs;
    uint32_t *slots; /* index+1, 0 = empty */
    size_t mask;
};

static uint64_t hash_str(const char *s, size_t n)
{
    return scandint_hash(s, n, 0x5ca17ab5);
}

scand_strtab *scand_strtab_new(void)
{
    scand_strtab *st = scandint_calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    uint32_t idx;
    if (scand_strtab_intern(st, "", 0, &idx) != SCAND_OK) {
        scand_strtab_free(st);
        return NULL;
    }
    return st;
}

void scand_strtab_free(scand_strtab *st)
{
    if (st == NULL)
        return;
    scandint_free(st->arena);
    scandint_free(st->off);
    scandint_free(st->len);
    scandint_free(st->slots);
    scandint_free(st);
}

static int rehash(scand_strtab *st, size_t cap)
{
    uint32_t *slots = scandint_calloc(cap, sizeof *slots);
    if (slots == NULL)
        return SCAND_ERR_NOMEM;
    size_t mask = cap - 1;
    for (uint32_t i = 0; i < st->n; i++) {
        size_t h = hash_str(st->arena + st->off[i], st->len[i]) & mask;
        while (slots[h] != 0)
            h = (h + 1) & mask;
        slots[h] = i + 1;
    }
    scandint_free(st->slots);
    st->slots = slots;
    st->mask = mask;
    return SCAND_OK;
}

int scand_strtab_intern(scand_strtab *st, const char *s, size_t len, uint32_t *idx)
{
    uint64_t h = hash_str(s, len);
    if (st->slots != NULL) {
        for (size_t i = h & st->mask;; i = (i + 1) & st->mask) {
            uint32_t v = st->slots[i];
            if (v == 0)
                break;
            v--;
            if (st->len[v] == len && memcmp(st->arena + st->off[v], s, len) == 0) {
                *idx = v;
                return SCAND_OK;
            }
        }
    }
    if (st->n == UINT32_MAX - 1 || len > SIZE_MAX / 2)
        return SCAND_ERR_RANGE;
    /* Make room everywhere first, so a failure leaves the table unchanged. */
    if (st->arena_len + len + 1 > st->arena_cap) {
        size_t cap = scandint_pow2(st->arena_len + len + 1);
        char *a = scandint_realloc(st->arena, cap);
        if (a == NULL)
            return SCAND_ERR_NOMEM;
        st->arena = a;
        st->arena_cap = cap;
    }
    if (st->n == st->cap_strs) {
        uint32_t cap = st->cap_strs ? st->cap_strs * 2 : 16;
        size_t *o = scandint_reallocarray(st->off, cap, sizeof *o);
        if (o == NULL)
            return SCAND_ERR_NOMEM;
        st->off = o;
        size_t *l = scandint_reallocarray(st->len, cap, sizeof *l);
        if (l == NULL)
            return SCAND_ERR_NOMEM;
        st->len = l;
        st->cap_strs = cap;
    }
    if (st->slots == NULL || (size_t)(st->n + 1) * 4 > (st->mask + 1) * 3) {
        int rc = rehash(st, st->slots == NULL ? 64 : (st->mask + 1) * 2);
        if (rc != SCAND_OK)
            return rc;
    }
    uint32_t v = st->n++;
    st->off[v] = st->arena_len;
    st->len[v] = len;
    if (len > 0)
        memcpy(st->arena + st->arena_len, s, len);
    st->arena[st->arena_len + len] = '\0';
    st->arena_len += len + 1;
    size_t i = h & st->mask;
    while (st->slots[i] != 0)
        i = (i + 1) & st->mask;
    st->slots[i] = v + 1;
    *idx = v;
    return SCAND_OK;
}

const char *scand_strtab_get(const scand_strtab *st, uint32_t idx, size_t *len)
{
    if (idx >= st->n)
        return NULL;
    if (len != NULL)
        *len = st->len[idx];
    return st->arena + st->off[idx];
}

uint32_t scand_strtab_count(const scand_strtab *st)
{
    return st->n;
}

int scand_group_intern(scand_strtab *st, const char *acl, size_t acl_len, const char *rule,
                       size_t rule_len, uint32_t *idx)
{
    char small[512];
    if (acl_len > SIZE_MAX / 2 || rule_len > SIZE_MAX / 2)
        return SCAND_ERR_RANGE;
    size_t n = acl_len + 1 + rule_len;
    char *buf = n <= sizeof small ? small : scandint_malloc(n);
    if (buf == NULL)
        return SCAND_ERR_NOMEM;
    memcpy(buf, acl, acl_len);
    buf[acl_len] = '\0';
    memcpy(buf + acl_len + 1, rule, rule_len);
    int rc = scand_strtab_intern(st, buf, n, idx);
    if (buf != small)
        scandint_free(buf);
    return rc;
}

int scand_group_split(const scand_strtab *st, uint32_t idx, const char **acl, const char **rule)
{
    size_t len;
    const char *s = scand_strtab_get(st, idx, &len);
    if (s == NULL)
        return SCAND_ERR_INVAL;
    size_t a = strlen(s);
    *acl = s;
    *rule = a < len ? s + a + 1 : s + a; /* index 0 (""): both empty */
    return SCAND_OK;
}
