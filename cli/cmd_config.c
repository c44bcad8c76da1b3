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
    "Print the effective detector configuration as JSON: the global keys and\n"
    "every rule with its keys. The output can be edited and given back with\n"
    "--config (to config, detect and the lab commands).\n"
    "\n"
    "Options:\n"
    "  -p, --preset NAME       start from a preset: seed (default), sentinel-asim,\n"
    "                          azfw, zeek, scanlab\n"
    "  -c, --config FILE       apply a JSON configuration file\n"
    "  -s, --set KEY=VALUE     change a key (repeatable; applied in order)\n"
    "      --presets           list the presets instead\n"
    "      --help-keys         describe every key instead\n"
    "  -h, --help              show this help\n"
    "\n"
    "Example:\n"
    "  scanlab config --preset zeek --set zeek_port_scan.threshold=9 > my.json\n"
    "  scanlab detect --config my.json blobs/\n"
    "\n"
    "Exit status: 0 ok, 1 unreadable or bad --config file, 2 usage error (unknown\n"
    "key, bad value).\n";

int cmd_config(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"set", required_argument, NULL, 's'},   {"preset", required_argument, NULL, 'p'},
        {"config", required_argument, NULL, 'c'}, {"presets", no_argument, NULL, 'P'},
        {"help-keys", no_argument, NULL, 'k'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char errbuf[SCAND_ERRBUF_SIZE];
    scand_ctx *ctx = scand_new(errbuf);
    if (ctx == NULL) {
        cli_error("%s", errbuf);
        return EXIT_INPUT;
    }
    int c, keys = 0, presets = 0, rc = EXIT_OK;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:p:c:h", longopts, NULL)) != -1) {
        if (c == 's' || c == 'p' || c == 'c') {
            rc = cli_config_opt(ctx, "config", c, optarg);
            if (rc != EXIT_OK)
                goto out;
        } else if (c == 'k') {
            keys = 1;
        } else if (c == 'P') {
            presets = 1;
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
    if ((rc = cli_set_done(ctx, "config")) != EXIT_OK)
        goto out;
    if (presets) {
        for (size_t i = 0; i < scand_preset_count(); i++)
            printf("%-14s %s\n", scand_preset_name(i), scand_preset_help(i));
    } else if (keys) {
        printf("Global keys:\n");
        for (size_t i = 0; i < scand_config_count(); i++) {
            const struct scand_config_info *k = scand_config_at(i);
            if (i > 0 && strcmp(k->key, "family") == 0)
                printf("\nRule keys, set as RULE.KEY (families that have the key):\n");
            printf("  %-18s %-8s %-9s %s (%s)\n", k->key, k->type, k->def[0] ? k->def : "-",
                   k->help, k->families);
        }
    } else {
        char *text = scand_config_dump_json(ctx);
        if (text == NULL) {
            cli_error("out of memory");
            rc = EXIT_INPUT;
            goto out;
        }
        fputs(text, stdout);
        scand_free_text(text);
    }
    rc = cli_close_out(stdout, NULL);
out:
    scand_free(ctx);
    return rc;
}
