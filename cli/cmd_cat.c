/*
 * cmd_cat.c - `scanlab cat`: print flow-log tuples as CSV, in record-time
 * order, with a header: the 13 VNet v4 fields in Azure's order, then the
 * NIC MAC and the rule. NSG input is shown in VNet terms (T/U become 6/17,
 * a D decision becomes state D, the absent encryption field prints NX, the
 * VNet default). Text fields are CSV-quoted when they need it (RFC 4180).
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: scanlab cat [OPTIONS] INPUT...\n"
    "\n"
    "Print the tuples of Azure flow logs (VNet v4, NSG v1/v2) as CSV in\n"
    "record-time order. INPUT is a blob, a directory tree of blobs, or -.\n"
    "Columns: ts,src,dst,sport,dport,proto,dir,state,enc,pkts_s2d,bytes_s2d,\n"
    "pkts_d2s,bytes_d2s,mac,rule\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE       write to FILE (default: standard output)\n"
    "      --dedup             drop exact duplicate tuples\n"
    "      --max-warnings N    print at most N warnings per file (default 20, 0 = all)\n"
    "  -q, --quiet             no summary line on stderr\n"
    "  -h, --help              show this help\n"
    "\n"
    "Example:\n"
    "  scanlab cat examples/hubspoke-1h | head\n"
    "\n"
    "Exit status: 0 ok, 1 input or runtime error, 2 usage error.\n";

struct catrun {
    FILE *out;
    const scand_strtab *st;
};

static void csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int on_record(void *arg, const struct scand_record *rec, const struct scand_tuple *t,
                     size_t n)
{
    (void)rec;
    struct catrun *c = arg;
    char line[192];
    for (size_t i = 0; i < n; i++) {
        scand_tuple_format(&t[i], line, sizeof line);
        const char *acl, *rule;
        if (scand_group_split(c->st, t[i].group, &acl, &rule) != SCAND_OK)
            rule = "";
        fputs(line, c->out);
        fputc(',', c->out);
        csv_field(c->out, scand_strtab_get(c->st, t[i].mac, NULL));
        fputc(',', c->out);
        csv_field(c->out, rule);
        fputc('\n', c->out);
    }
    return ferror(c->out) ? -1 : 0;
}

int cmd_cat(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"dedup", no_argument, NULL, 'd'},
        {"max-warnings", required_argument, NULL, 'w'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out_path = NULL;
    struct in_opts io = {0, 20, 1};
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (cli_path_arg("cat", "-o", optarg) != EXIT_OK)
                return EXIT_USAGE;
            out_path = optarg;
            break;
        case 'd':
            io.dedup = 1;
            break;
        case 'w':
            if (cli_parse_u64("cat", "--max-warnings", optarg, 0, UINT64_MAX,
                              &io.max_warnings) != 0)
                return EXIT_USAGE;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error("cat", "unknown or incomplete option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("cat", "no INPUT given");
    scand_strtab *st = scand_strtab_new();
    if (st == NULL) {
        cli_error("out of memory");
        return EXIT_INPUT;
    }
    FILE *out = cli_open_out(out_path);
    if (out == NULL) {
        scand_strtab_free(st);
        return EXIT_INPUT;
    }
    fputs("ts,src,dst,sport,dport,proto,dir,state,enc,pkts_s2d,bytes_s2d,pkts_d2s,bytes_d2s,"
          "mac,rule\n",
          out);
    struct catrun run = {out, st};
    struct in_stats is;
    int rc = in_run(argv + optind, argc - optind, &io, st, on_record, &run, &is);
    int crc = cli_close_out(out, out_path);
    if (rc == EXIT_OK)
        rc = crc;
    if (!quiet) {
        char sum[512];
        in_summary(&is, io.dedup, sum, sizeof sum);
        fprintf(stderr, "scanlab: cat: %s\n", sum);
    }
    scand_strtab_free(st);
    return rc;
}
