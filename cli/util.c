/*
 * util.c - messages, exit codes, checked allocation and small option
 * helpers for the scanlab program. Messages follow one shape [E4]:
 * "scanlab: error: FILE:LINE:COL: what" on stderr; stdout carries data only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bigmem.h"
#include "cli.h"

static void vmsg(const char *kind, const char *fmt, va_list ap)
{
    flockfile(stderr); /* one line, whichever thread prints (pcap2flow's reader) */
    fprintf(stderr, "scanlab: %s: ", kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("error", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("warning", fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "scanlab %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'scanlab %s --help'.\n", cmd);
    return EXIT_USAGE;
}

int cli_path_arg(const char *cmd, const char *what, const char *path)
{
    return path[0] != '\0' ? EXIT_OK : cli_usage_error(cmd, "%s: an empty path", what);
}

static void oom(void)
{
    fprintf(stderr, "scanlab: error: out of memory\n");
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom();
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        oom();
    return p;
}

void *xreallocarray(void *p, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        oom();
    size_t bytes = count * size;
    p = realloc(p, bytes != 0 ? bytes : 1);
    if (p == NULL)
        oom();
    return p;
}

void *xbiggrow(void *p, size_t count, size_t new_count, size_t size)
{
    if (size != 0 && new_count > SIZE_MAX / size)
        oom();
    p = bigmem_grow(p, count * size, new_count * size);
    if (p == NULL)
        oom();
    return p;
}

char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        oom();
    return d;
}

int cli_parse_u64(const char *cmd, const char *flag, const char *s, uint64_t lo, uint64_t hi,
                  uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9') {
        cli_usage_error(cmd, "%s: expected a number in [%llu, %llu], got '%s'", flag,
                        (unsigned long long)lo, (unsigned long long)hi, s);
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || v < lo || v > hi) {
        cli_usage_error(cmd, "%s: expected a number in [%llu, %llu], got '%s'", flag,
                        (unsigned long long)lo, (unsigned long long)hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_set_kv(scand_ctx *ctx, const char *cmd, const char *kv)
{
    char key[128];
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv || (size_t)(eq - kv) >= sizeof key)
        return cli_usage_error(cmd, "--set: expected KEY=VALUE, got '%s'", kv);
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    if (scand_set_config(ctx, key, eq + 1) != SCAND_OK)
        return cli_usage_error(cmd, "--set: %s", scand_geterr(ctx));
    return EXIT_OK;
}

int cli_set_done(scand_ctx *ctx, const char *cmd)
{
    if (scand_config_check(ctx) == SCAND_OK)
        return EXIT_OK;
    if (scand_config_check_in_file(ctx)) { /* the --config file has the last word: a bad file */
        cli_error("%s", scand_geterr(ctx));
        return EXIT_INPUT;
    }
    return cli_usage_error(cmd, "--set: %s", scand_geterr(ctx));
}

FILE *cli_open_out(const char *path)
{
    if (path == NULL || strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        cli_error("%s: %s", path, strerror(errno));
    return f;
}

int cli_close_out(FILE *f, const char *path)
{
    const char *name = (path == NULL || strcmp(path, "-") == 0) ? "<stdout>" : path;
    int bad = ferror(f);
    if (fflush(f) != 0)
        bad = 1;
    if (f != stdout && fclose(f) != 0)
        bad = 1;
    if (bad) {
        cli_error("%s: write failed: %s", name, strerror(errno));
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

int cli_tty(void)
{
    return isatty(STDERR_FILENO);
}

int cli_config_opt(scand_ctx *ctx, const char *cmd, int opt, const char *arg)
{
    if (opt == 's')
        return cli_set_kv(ctx, cmd, arg);
    if (opt == 'p') {
        if (scand_set_preset(ctx, arg) != SCAND_OK)
            return cli_usage_error(cmd, "--preset: %s", scand_geterr(ctx));
        return EXIT_OK;
    }
    /* --config FILE */
    size_t n;
    char *buf = cli_read_file(arg, 4u << 20, "a configuration", &n);
    if (buf == NULL)
        return EXIT_INPUT;
    int rc = scand_config_load_json(ctx, arg, buf, n);
    free(buf);
    if (rc != SCAND_OK) {
        cli_error("%s", scand_geterr(ctx));
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

char *cli_read_file(const char *path, size_t max, const char *what, size_t *len)
{
    char err[RPT_ERRBUF_SIZE];
    char *buf = rpt_read_file(path, max, len, err, sizeof err);
    if (buf == NULL)
        cli_error("%s%s%s", err, strstr(err, "larger than") ? "; not " : "",
                  strstr(err, "larger than") ? what : "");
    return buf;
}

sim_scenario *cli_load_scenario(const char *path)
{
    size_t len;
    char *text = cli_read_file(path, 16u << 20, "a scenario", &len);
    if (text == NULL)
        return NULL;
    char err[SIM_ERRBUF_SIZE];
    sim_scenario *sc;
    int rc = sim_scenario_parse(path, text, len, &sc, err, sizeof err);
    free(text);
    if (rc != 0) {
        cli_error("%s", err);
        return NULL;
    }
    return sc;
}

int cli_load_truth(const char *path, struct rpt_truth *t)
{
    size_t len;
    char err[RPT_ERRBUF_SIZE];
    char *text = cli_read_file(path, 512u << 20, "a truth file", &len);
    if (text == NULL)
        return -1;
    int rc = rpt_truth_parse(path, text, len, t, err, sizeof err);
    free(text);
    if (rc != 0)
        cli_error("%s", err);
    return rc;
}

int cli_latency_opt(const char *cmd, int opt, const char *arg, struct rpt_latency *lat)
{
    switch (opt) {
    case CLI_OPT_TA: {
        /* Traffic Analytics offers these two processing intervals only */
        int64_t ms;
        if (cli_parse_duration(cmd, "--ta", arg, 60000, 86400000, &ms) != 0)
            return -1;
        if (ms != 600000 && ms != 3600000)
            return cli_usage_error(cmd, "--ta: Traffic Analytics processes every 10m or 60m, "
                                        "not '%s'",
                                   arg);
        lat->ta_ms = ms;
        return 0;
    }
    case CLI_OPT_INGEST:
        return cli_parse_duration(cmd, "--ingest", arg, 0, 86400000, &lat->ingest_ms);
    case CLI_OPT_FREQ:
        return cli_parse_duration(cmd, "--freq", arg, 60000, 14 * 86400000ULL, &lat->freq_ms);
    default:
        return cli_parse_duration(cmd, "--period", arg, 60000, 14 * 86400000ULL,
                                  &lat->period_ms);
    }
}

int cli_parse_budget(const char *cmd, const char *arg, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno != 0 || *end != '\0' || end == arg || !(v >= 0) || v > 1e9) {
        cli_usage_error(cmd, "--budget: expected false alerts per day >= 0, not '%s'", arg);
        return -1;
    }
    *out = v;
    return 0;
}

void cli_gnuplot_note(int gp, const char *err)
{
    if (gp == 0)
        cli_warn("gnuplot not found: the report has tables but no plots "
                 "(scripts/install-deps.sh installs gnuplot-nox)");
    else if (gp < 0)
        cli_warn("%s: the report has tables but no plots", err);
}

int cli_parse_duration(const char *cmd, const char *flag, const char *s, uint64_t lo,
                       uint64_t hi, int64_t *out)
{
    uint64_t ms;
    if (scand_duration_parse(s, &ms) != SCAND_OK || ms < lo || ms > hi) {
        cli_usage_error(cmd, "%s: expected a duration like 90s, 10m or 1h, from %llu s to "
                             "%llu s, not '%s'",
                        flag, (unsigned long long)(lo / 1000), (unsigned long long)(hi / 1000),
                        s);
        return -1;
    }
    *out = (int64_t)ms;
    return 0;
}

int cli_parse_windows(const char *cmd, const char *s, int64_t *w, size_t *n)
{
    /* split by hand: strtok_r would skip empty items ("1m,,1m") */
    char *buf = xstrdup(s), *p = buf;
    int rc = 0;
    *n = 0;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (*p == '\0') {
            cli_usage_error(cmd, "--window: %s%s%sexpected a list like 1m,5m,10m,1h",
                            *s ? "an empty item in '" : "", s, *s ? "'; " : "");
            rc = -1;
            break;
        }
        if (*n == RPT_MAX_WINDOWS) {
            cli_usage_error(cmd, "--window: at most %d windows", RPT_MAX_WINDOWS);
            rc = -1;
            break;
        }
        if (cli_parse_duration(cmd, "--window", p, 1000, 86400000, &w[*n]) != 0) {
            rc = -1;
            break;
        }
        (*n)++;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    free(buf);
    return rc;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int cli_mkdirs(char *path)
{
    if (path[0] == '\0')
        return 0; /* nothing to make (callers reject an empty output path) */
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        int e = errno;
        *p = '/';
        if (rc != 0 && e != EEXIST) {
            errno = e;
            return -1;
        }
    }
    return 0;
}

int cli_out_dir_ok(const char *dir, int force)
{
    int ne = cli_dir_state(dir);
    if (ne < 0)
        cli_error("%s: %s", dir, strerror(errno));
    else if (ne > 0 && !force)
        cli_error("%s: not empty (use --force to write into it anyway)", dir);
    return ne == 0 || (ne > 0 && force);
}

int cli_dir_state(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : -1;
    struct dirent *e;
    int any = 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            any = 1;
    closedir(d);
    return any;
}

/* The open hour folder (".../h=HH/m=00"): blobs are opened relative to it,
 * so the kernel walks two path components, not twelve. One per thread:
 * each writer thread keeps its own. */
static _Thread_local char hour_dir[PATH_MAX];
static _Thread_local int hour_fd = -1;

static int open_rel(const char *path)
{
    const char *last = strrchr(path, '/');
    const char *mid = last;
    while (mid != NULL && mid > path && *--mid != '/')
        ;
    if (last == NULL || mid == NULL || mid == path || *mid != '/')
        return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t dl = (size_t)(mid - path);
    if (hour_fd < 0 || strlen(hour_dir) != dl || strncmp(hour_dir, path, dl) != 0) {
        if (hour_fd >= 0)
            close(hour_fd);
        memcpy(hour_dir, path, dl);
        hour_dir[dl] = '\0';
        hour_fd = open(hour_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (hour_fd < 0) {
            hour_dir[0] = '\0';
            return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        }
    }
    int fd = openat(hour_fd, mid + 1, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) { /* a new NIC folder in this hour */
        char leaf[PATH_MAX];
        snprintf(leaf, sizeof leaf, "%.*s", (int)(last - mid - 1), mid + 1);
        if (mkdirat(hour_fd, leaf, 0755) == 0 || errno == EEXIST)
            fd = openat(hour_fd, mid + 1, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        else
            errno = ENOENT;
    }
    return fd;
}

int cli_blob_open(const char *path)
{
    int fd = open_rel(path);
    if (fd < 0 && errno == ENOENT) { /* the first blob under this hour */
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", path);
        if (cli_mkdirs(tmp) != 0) {
            cli_error("%s: %s", path, strerror(errno));
            return -1;
        }
        fd = open_rel(path);
    }
    if (fd < 0)
        cli_error("%s: %s", path, strerror(errno));
    return fd;
}

void cli_blob_close(void)
{
    if (hour_fd >= 0)
        close(hour_fd);
    hour_fd = -1;
    hour_dir[0] = '\0';
}

void cli_progress(const char *what, int64_t hour_ms, uint64_t tuples, double t0)
{
    char when[40];
    scand_time_format(hour_ms, when, sizeof when);
    fprintf(stderr, "\rscanlab: %s, %.13s:00, %llu tuples, %.1f s ...", what, when,
            (unsigned long long)tuples, cli_now() - t0);
}
