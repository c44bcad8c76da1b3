/*
 * policy.c - pcap2flow's NSG policy file: which flows an NSG denies, so a
 * capture can stand in for an NSG-protected subnet.
 *
 *   {"deny": [{"src": "0.0.0.0/0", "dst": "10.0.1.0/24", "ports": "22,3389",
 *              "proto": "tcp", "direction": "in"}]}
 *
 * src and dst are CIDRs or "any" (default any), ports a list of ports and
 * ranges or "*" (default *), proto tcp, udp or any (default any), direction
 * in (the destination's NSG; default) or out (the source's). Errors name
 * the file, line and rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

static int cidr_or_any(const char *s, struct scand_cidr *c)
{
    if (strcmp(s, "any") == 0 || strcmp(s, "*") == 0) {
        memset(c, 0, sizeof *c); /* matches everything, IPv4 and IPv6 */
        return 0;
    }
    size_t n;
    return p2f_parse_cidrs(s, c, 1, &n);
}

static int ports(const char *s, struct p2f_deny *d)
{
    d->n_ports = 0;
    if (strcmp(s, "*") == 0 || strcmp(s, "any") == 0)
        return 0;
    const char *p = s;
    while (*p) {
        char *end;
        if (*p < '0' || *p > '9') /* strtoul would take spaces and signs */
            return -1;
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        if (end - p > 5 || lo > 65535)
            return -1;
        p = end;
        if (*p == '-') {
            const char *q = p + 1;
            if (*q < '0' || *q > '9')
                return -1;
            hi = strtoul(q, &end, 10);
            if (end - q > 5 || hi > 65535 || hi < lo)
                return -1;
            p = end;
        }
        if (d->n_ports == P2F_MAX_PORT_RANGES)
            return -1;
        d->lo[d->n_ports] = (uint16_t)lo;
        d->hi[d->n_ports++] = (uint16_t)hi;
        if (*p == ',' && p[1] != '\0')
            p++; /* a separator, not a trailing comma */
        else if (*p != '\0')
            return -1;
    }
    return d->n_ports > 0 ? 0 : -1;
}

int cli_load_policy(const char *path, struct p2f_deny **out, size_t *n)
{
    size_t len;
    char *text = cli_read_file(path, 4u << 20, "a policy file", &len);
    *out = NULL;
    *n = 0;
    if (text == NULL)
        return -1;
    char why[512];
    cJSON *root = scand_json_parse_doc(path, text, len, "the policy", why, sizeof why);
    int rc = -1;
    if (root == NULL) {
        cli_error("%s", why);
        free(text);
        return -1;
    }
    const cJSON *deny = cJSON_GetObjectItemCaseSensitive(root, "deny"), *r;
    if (!cJSON_IsObject(root) || !cJSON_IsArray(deny) || cJSON_GetArraySize(root) != 1) {
        long line = scand_json_line(text, len, root, deny != NULL ? deny : root);
        cli_error("%s:%ld: expected {\"deny\": [rules]} and nothing else", path, line);
        goto out;
    }
    size_t cap = (size_t)cJSON_GetArraySize(deny);
    struct p2f_deny *v = xcalloc(cap ? cap : 1, sizeof *v);
    size_t k = 0;
    cJSON_ArrayForEach(r, deny)
    {
        struct p2f_deny *d = &v[k];
        long line = scand_json_line(text, len, root, r);
        const char *what = NULL;
        char twice[80];
        if (!cJSON_IsObject(r)) {
            what = "expected an object";
        } else {
            static const char *const keys[] = {"src", "dst", "ports", "proto", "direction"};
            const char *val[5] = {"any", "any", "*", "any", "in"};
            const cJSON *m = scand_json_dup_key(r);
            if (m != NULL) { /* JSON leaves it open which one counts: neither */
                snprintf(twice, sizeof twice, "key \"%.40s\" given twice", m->string);
                what = twice;
                line = scand_json_line(text, len, root, m);
            }
            for (m = what == NULL ? r->child : NULL; m != NULL; m = m->next) {
                size_t i;
                for (i = 0; i < 5 && strcmp(m->string, keys[i]) != 0; i++)
                    ;
                if (i == 5) {
                    what = "unknown key (src, dst, ports, proto, direction)";
                    line = scand_json_line(text, len, root, m);
                    break;
                }
                if (!cJSON_IsString(m)) {
                    what = "expected a string";
                    line = scand_json_line(text, len, root, m);
                    break;
                }
                val[i] = m->valuestring;
            }
            if (what == NULL && cidr_or_any(val[0], &d->src) != 0)
                what = "src: expected a CIDR or any";
            else if (what == NULL && cidr_or_any(val[1], &d->dst) != 0)
                what = "dst: expected a CIDR or any";
            else if (what == NULL && ports(val[2], d) != 0)
                what = "ports: expected ports and ranges like 22,1000-2000, or *";
            else if (what == NULL) {
                if (strcmp(val[3], "tcp") == 0)
                    d->proto = 6;
                else if (strcmp(val[3], "udp") == 0)
                    d->proto = 17;
                else if (strcmp(val[3], "any") == 0)
                    d->proto = 0;
                else
                    what = "proto: expected tcp, udp or any";
            }
            if (what == NULL) {
                if (strcmp(val[4], "in") == 0)
                    d->outbound = 0;
                else if (strcmp(val[4], "out") == 0)
                    d->outbound = 1;
                else
                    what = "direction: expected in or out";
            }
        }
        if (what != NULL) {
            cli_error("%s:%ld: deny[%zu]: %s", path, line, k, what);
            free(v);
            goto out;
        }
        k++;
    }
    *out = v;
    *n = k;
    rc = 0;
out:
    cJSON_Delete(root);
    free(text);
    return rc;
}
