/*
 * scanlab.c - main() of the one scanlab binary: dispatch to a subcommand
 * from a table [L3; MS src/main.c]. Each subcommand parses its own options
 * with getopt_long and answers --help.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef SCANLAB_VERSION
#define SCANLAB_VERSION "0.1.0"
#endif

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"detect", cmd_detect, "run the scan rules over flow logs; alerts as JSON lines"},
    {"cat", cmd_cat, "print flow-log tuples as CSV in time order"},
    {"config", cmd_config, "print the effective detector configuration"},
    {"simulate", cmd_simulate, "write a scenario's Azure flow-log blobs and truth.json"},
    {"score", cmd_score, "score alerts against ground truth, per campaign"},
    {"run", cmd_run, "the lab: simulate, detect, score, sweep, write a report"},
    {"sweep", cmd_sweep, "threshold curves of a rule in one pass per window"},
    {"report", cmd_report, "re-render a report folder from its tables"},
    {"pcap2flow", cmd_pcap2flow, "packet captures to Azure flow-log blobs"},
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: scanlab COMMAND [OPTIONS] [ARGS]\n\n"
               "ScanLab replays Azure VNet/NSG flow logs through network-scan detection\n"
               "rules and reports what they catch.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'scanlab COMMAND --help' for a command's options.\n"
               "Exit status: 0 ok, 1 input or runtime error, 2 usage error.\n");
}

/* A command that succeeded but whose output did not all reach stdout (a
 * full disk, --help > /dev/full) fails: data lost must not exit 0. */
static int finish(int rc)
{
    int e = fflush(stdout) != 0 ? errno : 0;
    if ((e != 0 || ferror(stdout)) && rc == EXIT_OK) {
        /* an error set by an earlier write leaves no errno to trust */
        fprintf(stderr, "scanlab: error: <stdout>: write failed%s%s\n", e ? ": " : "",
                e ? strerror(e) : "");
        rc = EXIT_INPUT;
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return finish(EXIT_OK);
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("scanlab %s\n", SCANLAB_VERSION);
        return finish(EXIT_OK);
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return finish(commands[i].fn(argc - 1, argv + 1));
    fprintf(stderr, "scanlab: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
