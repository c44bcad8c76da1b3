/*
 * config_json.c - the detector configuration as JSON: `scanlab config`
 * prints it, `--config FILE` reads it back. The document is
 *
 *   {"preset": "seed", "reorder": "5m", ..., "rules": {"NAME": {"family":
 *    "horizontal", "threshold": 6, ...}, ...}}
 *
 * Loading applies "preset" first (when present), then the global keys,
 * then each rule (its "family" first, which creates it), all through
 * scand_set_config(), so a file is checked exactly like --set. The keys
 * checked against each other (reorder and flow_idle) are checked once
 * every option is in (scand_config_check, scand_finalize), so a later
 * --set may still mend them; the file is named if it set the later of
 * them. Errors name the file, the line and the key path. THREAT: config files are text from
 * anyone; cJSON parses them and every value goes through the key table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "scand_int.h"

/* JSON value v as the text --set would take; 0 ok, -1 not a scalar. */
static int value_text(const cJSON *v, char *buf, size_t size)
{
    if (cJSON_IsBool(v))
        snprintf(buf, size, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsString(v))
        snprintf(buf, size, "%s", v->valuestring);
    else if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 9.007199254740992e15)
            snprintf(buf, size, "%.0f", d);
        else
            snprintf(buf, size, "%.17g", d);
    } else
        return -1;
    return 0;
}

static int jerr(scand_ctx *ctx, const char *name, const char *text, size_t len, const cJSON *root,
                const cJSON *node, const char *path, const char *msg)
{
    scand_json_error(scandint_ctx_errbuf(ctx), SCAND_ERRBUF_SIZE, name, text, len, root, node,
                     path, msg);
    return SCAND_ERR_INVAL;
}

static int set_from(scand_ctx *ctx, const char *name, const char *text, size_t len,
                    const cJSON *root, const cJSON *v, const char *key)
{
    char val[512];
    if (value_text(v, val, sizeof val) != 0)
        return jerr(ctx, name, text, len, root, v, key,
                    "expected a string, a number or true/false");
    int rc = scand_set_config(ctx, key, val);
    if (rc != SCAND_OK) {
        const char *m = scand_geterr(ctx);
        size_t kl = strlen(key);
        if (strncmp(m, key, kl) == 0 && m[kl] == ':' && m[kl + 1] == ' ')
            m += kl + 2; /* jerr names the key */
        jerr(ctx, name, text, len, root, v, key, m);
        return rc;
    }
    return SCAND_OK;
}

int scand_config_load_json(scand_ctx *ctx, const char *name, const char *text, size_t len)
{
    char why[SCAND_ERRBUF_SIZE];
    cJSON *root = scand_json_parse_doc(name, text, len, "the configuration", why, sizeof why);
    if (root == NULL) {
        scandint_seterr(scandint_ctx_errbuf(ctx), "%s", why);
        return SCAND_ERR_INVAL;
    }
    int rc = SCAND_OK;
    if (!cJSON_IsObject(root)) {
        rc = jerr(ctx, name, text, len, root, root, "(top)", "a configuration is a JSON object");
        goto out;
    }
    const cJSON *dup = scand_json_dup_key(root);
    if (dup != NULL) {
        rc = jerr(ctx, name, text, len, root, dup, dup->string, "duplicate key");
        goto out;
    }
    const cJSON *preset = cJSON_GetObjectItemCaseSensitive(root, "preset");
    if (preset != NULL) {
        if (!cJSON_IsString(preset)) {
            rc = jerr(ctx, name, text, len, root, preset, "preset", "expected a preset name");
            goto out;
        }
        if (preset->valuestring[0] != '\0' && scand_set_preset(ctx, preset->valuestring) != 0) {
            rc = jerr(ctx, name, text, len, root, preset, "preset", scand_geterr(ctx));
            goto out;
        }
    }
    const cJSON *rules = NULL, *paired = NULL;
    for (const cJSON *e = root->child; e != NULL; e = e->next) {
        if (strcmp(e->string, "preset") == 0)
            continue;
        if (strcmp(e->string, "reorder") == 0 || strcmp(e->string, "flow_idle") == 0)
            paired = e; /* the later of the two: where the file contradicts itself */
        if (strcmp(e->string, "rules") == 0) {
            rules = e;
            continue;
        }
        if ((rc = set_from(ctx, name, text, len, root, e, e->string)) != SCAND_OK)
            goto out;
    }
    if (rules != NULL && !cJSON_IsObject(rules)) {
        rc = jerr(ctx, name, text, len, root, rules, "rules", "expected an object of rules");
        goto out;
    }
    if (rules != NULL && (dup = scand_json_dup_key(rules)) != NULL) {
        char path[200];
        snprintf(path, sizeof path, "rules.%.60s", dup->string);
        rc = jerr(ctx, name, text, len, root, dup, path, "duplicate rule");
        goto out;
    }
    for (const cJSON *r = rules ? rules->child : NULL; r != NULL; r = r->next) {
        char key[160], path[200];
        snprintf(path, sizeof path, "rules.%.60s", r->string);
        if (!cJSON_IsObject(r)) {
            rc = jerr(ctx, name, text, len, root, r, path, "expected an object of keys");
            goto out;
        }
        if ((dup = scand_json_dup_key(r)) != NULL) {
            snprintf(path, sizeof path, "rules.%.60s.%.60s", r->string, dup->string);
            rc = jerr(ctx, name, text, len, root, dup, path, "duplicate key");
            goto out;
        }
        const cJSON *fam = cJSON_GetObjectItemCaseSensitive(r, "family");
        if (fam != NULL) {
            snprintf(key, sizeof key, "%.60s.family", r->string);
            if ((rc = set_from(ctx, name, text, len, root, fam, key)) != SCAND_OK)
                goto out;
        }
        for (const cJSON *p = r->child; p != NULL; p = p->next) {
            if (p == fam)
                continue;
            snprintf(key, sizeof key, "%.60s.%.60s", r->string, p->string);
            if ((rc = set_from(ctx, name, text, len, root, p, key)) != SCAND_OK)
                goto out;
        }
    }
    /* a file that sets reorder or flow_idle answers for the pair unless
     * a later scand_set_config() sets one of them: the check waits until
     * every option is in (scand_config_check, scand_finalize) */
    if (paired != NULL) {
        size_t size;
        char *where = scandint_ctx_pair_where(ctx, &size);
        scand_json_error(where, size, name, text, len, root, paired, paired->string, "");
    }
out:
    cJSON_Delete(root);
    return rc;
}

/* Add key's value to o under field, typed by its description. */
static int add_value(const scand_ctx *ctx, cJSON *o, const char *key, const char *field,
                     const struct scand_config_info *info)
{
    char v[512];
    if (scand_get_config(ctx, key, v, sizeof v) != SCAND_OK)
        return -1;
    cJSON *item;
    if (strcmp(info->type, "bool") == 0)
        item = cJSON_CreateBool(strcmp(v, "true") == 0);
    else if (strcmp(info->type, "uint") == 0)
        item = cJSON_CreateNumber(strtod(v, NULL)); /* exact below 2^53; larger as text */
    else
        item = cJSON_CreateString(v);
    if (item != NULL && strcmp(info->type, "uint") == 0 && strtod(v, NULL) >= 9007199254740992.0) {
        cJSON_Delete(item);
        item = cJSON_CreateString(v);
    }
    return item != NULL && cJSON_AddItemToObject(o, field, item) ? 0 : -1;
}

char *scand_config_dump_json(const scand_ctx *ctx)
{
    cJSON *root = cJSON_CreateObject(), *rules = NULL;
    int ok = root != NULL && cJSON_AddStringToObject(root, "preset", scand_get_preset(ctx));
    char key[160], cur[64] = "";
    const struct scand_config_info *info;
    cJSON *rule = NULL;
    for (size_t i = 0; ok && scand_config_key(ctx, i, key, sizeof key, &info) == SCAND_OK; i++) {
        const char *dot = strrchr(key, '.');
        if (dot == NULL) {
            ok = add_value(ctx, root, key, key, info) == 0;
            continue;
        }
        if (rules == NULL)
            ok = (rules = cJSON_AddObjectToObject(root, "rules")) != NULL;
        size_t nl = (size_t)(dot - key);
        if (ok && (rule == NULL || strlen(cur) != nl || strncmp(cur, key, nl) != 0)) {
            snprintf(cur, sizeof cur, "%.*s", (int)nl, key);
            ok = (rule = cJSON_AddObjectToObject(rules, cur)) != NULL;
        }
        ok = ok && add_value(ctx, rule, key, dot + 1, info) == 0;
    }
    char *s = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    char *out = s != NULL ? scandint_malloc(strlen(s) + 2) : NULL;
    if (out != NULL) {
        strcpy(out, s);
        strcat(out, "\n");
    }
    cJSON_free(s);
    return out;
}
