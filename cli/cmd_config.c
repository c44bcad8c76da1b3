/*
 * cmd_config.c - `scanlab config`: print the effective detector
 * configuration as JSON (every key with its value), after any --set, so a
 * run can be reproduced and the keys discovered [K2].
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: scanlab config [OPTIONS]\n"
    "\n"
    "Print the effective detector configuration as a JSON object, one key per\n"
    "line. With --help-keys, print each key's type, default, range and meaning.\n"
    "\n"
    "Options:\n"
    "  -s, --set KEY=VALUE     change a key first (repeatable)\n"
    "      --help-keys         describe every key instead\n"
    "  -h, --help              show this help\n"
    "\n"
    "Example:\n"
    "  scanlab config --set horizontal.threshold=10\n"
    "\n"
    "Exit status: 0 ok, 2 usage error (unknown key, bad value).\n";

int cmd_config(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"set", required_argument, NULL, 's'},
        {"help-keys", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char errbuf[SCAND_ERRBUF_SIZE];
    scand_ctx *ctx = scand_new(errbuf);
    if (ctx == NULL) {
        cli_error("%s", errbuf);
        return EXIT_INPUT;
    }
    int c, keys = 0, rc = EXIT_OK;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
        if (c == 's') {
            rc = cli_set_kv(ctx, "config", optarg);
            if (rc != EXIT_OK)
                goto out;
        } else if (c == 'k') {
            keys = 1;
        } else if (c == 'h') {
            fputs(usage, stdout);
            goto out;
        } else {
            rc = cli_usage_error("config", "unknown or incomplete option");
            goto out;
        }
    }
    if (optind < argc) {
        rc = cli_usage_error("config", "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    size_t n = scand_config_count();
    if (keys) {
        for (size_t i = 0; i < n; i++) {
            const struct scand_config_info *k = scand_config_at(i);
            printf("%-26s %-8s default %-6s %s\n", k->key, k->type, k->def, k->help);
        }
    } else {
        printf("{\n");
        for (size_t i = 0; i < n; i++) {
            const struct scand_config_info *k = scand_config_at(i);
            char v[64];
            scand_get_config(ctx, k->key, v, sizeof v);
            int quote = strcmp(k->type, "duration") == 0;
            printf("  \"%s\": %s%s%s%s\n", k->key, quote ? "\"" : "", v, quote ? "\"" : "",
                   i + 1 < n ? "," : "");
        }
        printf("}\n");
    }
    rc = cli_close_out(stdout, NULL);
out:
    scand_free(ctx);
    return rc;
}
