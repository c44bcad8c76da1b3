/*
 * cmd_report.c - `scanlab report DIR`: re-render a report folder
 * (report.md, index.html, plots) from its CSV tables, e.g. after editing a
 * table or on a machine that has gnuplot.
 */
#include <getopt.h>

#include "cli.h"
#include "rpt.h"

static const char usage[] =
    "Usage: scanlab report DIR\n"
    "\n"
    "Re-render a report folder written by scanlab run from its CSV tables:\n"
    "report.md, index.html (self-contained, plots inline as SVG) and the SVG and\n"
    "PNG plots (gnuplot through a pipe; without gnuplot, tables only).\n"
    "\n"
    "Options:\n"
    "  -h, --help              show this help\n"
    "\n"
    "Example:\n"
    "  scanlab report runs/default\n"
    "\n"
    "Exit status: 0 ok, 1 a table is missing or malformed or a file cannot be\n"
    "written, 2 usage error.\n";

int cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return EXIT_OK;
        }
        return cli_usage_error("report", "unknown option '%s'", argv[optind - 1]);
        /* (report takes no option arguments: ':' cannot happen) */
    }
    if (optind != argc - 1)
        return cli_usage_error("report", "expected one report folder");
    if (cli_path_arg("report", "the report folder", argv[optind]) != EXIT_OK)
        return EXIT_USAGE;
    char err[RPT_ERRBUF_SIZE];
    int gp;
    if (rpt_render(argv[optind], &gp, err, sizeof err) != 0) {
        cli_error("%s", err);
        return EXIT_INPUT;
    }
    cli_gnuplot_note(gp, err);
    printf("%s\n", argv[optind]);
    return EXIT_OK;
}
