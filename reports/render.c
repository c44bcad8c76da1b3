/*
 * render.c - a report folder rendered from its CSV tables alone:
 * report.md, a self-contained index.html (plots inline as SVG, no external
 * resource) and plots/RULE-WHAT.svg and .png drawn by gnuplot through a pipe. The
 * data reach gnuplot as inline datablocks, so no script or data file is
 * left behind; gnuplot's exit status is checked. Every piece of text from
 * a table is escaped for where it lands (rpt_buf_html, rpt_buf_gp).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpt.h"

enum { T_SCEN, T_PRESETS, T_DET, T_CAMP, T_FALSE, T_SWEEP, T_REC, T_TRUTH, T_HN, N_TABLES };
static const char *const table_files[N_TABLES] = {
    "scenario.csv",  "presets.csv", "detection.csv",       "campaigns.csv",     "false_alerts.csv",
    "sweep.csv",     "recommend.csv", "truth_campaigns.csv", "hard_negatives.csv"};

struct rep {
    const char *dir;
    struct rpt_table t[N_TABLES];
    char rules[RPT_MAX_WINDOWS * 4][32]; /* swept rules */
    size_t n_rules;
    int gp; /* 1 plots drawn, 0 no gnuplot, -1 failed */
    char drawn[RPT_MAX_WINDOWS * 4 * 4][96]; /* plots drawn by this render */
    size_t n_drawn;
};

static void mark_drawn(struct rep *r, const char *base)
{
    if (r->n_drawn < sizeof r->drawn / sizeof r->drawn[0])
        snprintf(r->drawn[r->n_drawn++], sizeof r->drawn[0], "%s", base);
}

static int was_drawn(const struct rep *r, const char *base)
{
    for (size_t i = 0; i < r->n_drawn; i++)
        if (strcmp(r->drawn[i], base) == 0)
            return 1;
    return 0;
}

static const char *scen(const struct rep *r, const char *key)
{
    const struct rpt_table *t = &r->t[T_SCEN];
    for (size_t i = 1; i < t->n_rows; i++)
        if (strcmp(rpt_cell(t, i, "key"), key) == 0)
            return rpt_cell(t, i, "value");
    return "";
}

static void fmt_num(char *buf, size_t size, double v, int digits)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.*f", digits, v);
}

static void fmt_window(char *buf, size_t size, double s)
{
    if (isnan(s))
        snprintf(buf, size, "-");
    else if (fmod(s, 3600) == 0)
        snprintf(buf, size, "%.0fh", s / 3600);
    else if (fmod(s, 60) == 0)
        snprintf(buf, size, "%.0fm", s / 60);
    else
        snprintf(buf, size, "%.0fs", s);
}

/* ------------------------------------------------------------ gnuplot */

/* gnuplot on PATH, as an absolute path in out[PATH_MAX] (it runs in the
 * plots folder, where a relative PATH entry would find another): 1, or 0
 * when there is none. */
static int find_gnuplot(char *out)
{
    const char *path = getenv("PATH");
    if (path == NULL)
        return 0;
    char buf[PATH_MAX];
    for (const char *p = path; *p;) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 0 && n < sizeof buf - 10) {
            snprintf(buf, sizeof buf, "%.*s/gnuplot", (int)n, p);
            char cwd[PATH_MAX];
            if (access(buf, X_OK) == 0 &&
                (buf[0] == '/' ? snprintf(out, PATH_MAX, "%s", buf) < PATH_MAX
                               : getcwd(cwd, sizeof cwd) != NULL &&
                                     snprintf(out, PATH_MAX, "%s/%s", cwd, buf) < PATH_MAX))
                return 1;
        }
        p += n + (e != NULL);
    }
    return 0;
}

/* One plot of the sweep table for rule: y (and x) columns per window. */
static void plot_script(struct rpt_buf *b, const struct rep *r, const char *rule,
                        const char *xcol, const char *ycol, const char *xlabel,
                        const char *ylabel, const char *title, int logx, int logy,
                        const char *term, const char *out)
{
    const struct rpt_table *t = &r->t[T_SWEEP];
    double wins[RPT_MAX_WINDOWS];
    size_t nw = 0;
    for (size_t i = 1; i < t->n_rows; i++) {
        if (strcmp(rpt_cell(t, i, "rule"), rule) != 0)
            continue;
        double w = rpt_cell_num(t, i, "window_s");
        size_t k;
        for (k = 0; k < nw && wins[k] != w; k++)
            ;
        if (k == nw && nw < RPT_MAX_WINDOWS)
            wins[nw++] = w;
    }
    rpt_buf_printf(b, "set terminal %s noenhanced size 720,420\nset output '", term);
    rpt_buf_gp(b, out);
    rpt_buf_printf(b, "'\nset title '");
    rpt_buf_gp(b, title);
    rpt_buf_printf(b, "'\nset xlabel '");
    rpt_buf_gp(b, xlabel);
    rpt_buf_printf(b, "'\nset ylabel '");
    rpt_buf_gp(b, ylabel);
    rpt_buf_printf(b, "'\nset grid\nset key outside right\nset datafile missing '?'\n");
    rpt_buf_printf(b, logx ? "set logscale x\n" : "unset logscale x\n");
    rpt_buf_printf(b, logy ? "set logscale y\n" : "unset logscale y\n");
    if (strcmp(ycol, "rate") == 0)
        rpt_buf_printf(b, "set yrange [0:1.05]\n");
    else
        rpt_buf_printf(b, "set autoscale y\n");
    for (size_t k = 0; k < nw; k++) {
        rpt_buf_printf(b, "$w%zu << EOD\n", k);
        for (size_t i = 1; i < t->n_rows; i++) {
            if (strcmp(rpt_cell(t, i, "rule"), rule) != 0 ||
                rpt_cell_num(t, i, "window_s") != wins[k])
                continue;
            double x = rpt_cell_num(t, i, xcol), y = rpt_cell_num(t, i, ycol);
            /* log scales: zero is off the chart; keep it visible at 0.01 */
            if (logx && x <= 0)
                x = 0.01;
            if (logy && y <= 0)
                y = 0.01;
            if (isnan(x) || isnan(y))
                rpt_buf_printf(b, "? ?\n");
            else
                rpt_buf_printf(b, "%.6g %.6g\n", x, y);
        }
        rpt_buf_printf(b, "EOD\n");
    }
    rpt_buf_printf(b, "plot ");
    for (size_t k = 0; k < nw; k++) {
        char wl[32];
        fmt_window(wl, sizeof wl, wins[k]);
        rpt_buf_printf(b, "%s$w%zu using 1:2 with %s title 'window %s'", k ? ", " : "", k,
                       strcmp(xcol, "threshold") == 0 ? "lines" : "linespoints", wl);
    }
    rpt_buf_printf(b, "\nunset output\n");
}

/* Run a script through a pipe into gnuplot (its absolute path), in folder
 * dir; 0, or -1 with err. The script names its outputs relative to dir
 * (rule names are letters, digits, '_' and '-'), so no path, however odd,
 * reaches gnuplot.
 * gnuplot's stderr goes to an anonymous temporary file (gone when closed):
 * its warnings stay out of our output, and its last line explains a
 * failure (control and non-ASCII bytes shown as '?'). */
static int gnuplot_run(const char *gnuplot, const char *script, size_t len, const char *dir,
                       char *err, size_t errsize)
{
    FILE *log = tmpfile();
    int fds[2];
    if (log == NULL || pipe(fds) != 0) {
        snprintf(err, errsize, "cannot run gnuplot: %s", strerror(errno));
        if (log != NULL)
            fclose(log);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errsize, "cannot run gnuplot: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        fclose(log);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[0], 0);
        dup2(fileno(log), 1);
        dup2(fileno(log), 2);
        close(fds[0]);
        close(fds[1]);
        if (chdir(dir) != 0) {
            fprintf(stderr, "cannot enter the plots folder: %s\n", strerror(errno));
            _exit(126);
        }
        execl(gnuplot, "gnuplot", (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    size_t put = 0;
    while (put < len) {
        ssize_t w = write(fds[1], script + put, len - put);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        put += (size_t)w;
    }
    close(fds[1]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    signal(SIGPIPE, old);
    int ok = put == len && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!ok) {
        /* the last line gnuplot wrote says why */
        char line[256] = "", last[256] = "";
        rewind(log);
        while (fgets(line, sizeof line, log) != NULL)
            if (strspn(line, " \t\r\n^") != strlen(line))
                snprintf(last, sizeof last, "%s", line);
        last[strcspn(last, "\r\n")] = '\0';
        for (char *c = last; *c != '\0'; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                *c = '?';
        snprintf(err, errsize, "gnuplot exited with status %d%s%s",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1, last[0] ? ": " : "", last);
    }
    fclose(log);
    return ok ? 0 : -1;
}

static const struct {
    const char *suffix, *xcol, *ycol, *xlabel, *ylabel, *what;
    int logx, logy;
} plots[] = {
    {"rate", "threshold", "rate", "threshold (alert when count > threshold)",
     "campaigns detected (share of visible)", "detection rate", 0, 0},
    {"false", "threshold", "false_per_day", "threshold (alert when count > threshold)",
     "false alerts per day", "false alerts per day", 0, 1},
    {"roc", "false_per_day", "rate", "false alerts per day",
     "campaigns detected (share of visible)", "detection against false alerts", 1, 0},
};
#define N_PLOTS (sizeof plots / sizeof plots[0])

/* The window a rule's per-kind curve is drawn at: the recommended one,
 * else the cheapest, else the configured, else the first swept. */
static double kind_window(const struct rep *r, const char *rule)
{
    static const char *const order[] = {"recommended", "cheapest", "configured"};
    const struct rpt_table *t = &r->t[T_REC];
    for (int k = 0; k < 3; k++)
        for (size_t i = 1; i < t->n_rows; i++)
            if (strcmp(rpt_cell(t, i, "rule"), rule) == 0 &&
                strcmp(rpt_cell(t, i, "choice"), order[k]) == 0 &&
                !isnan(rpt_cell_num(t, i, "window_s")))
                return rpt_cell_num(t, i, "window_s");
    const struct rpt_table *s = &r->t[T_SWEEP];
    for (size_t i = 1; i < s->n_rows; i++)
        if (strcmp(rpt_cell(s, i, "rule"), rule) == 0)
            return rpt_cell_num(s, i, "window_s");
    return NAN;
}

/* Detection rate per campaign kind against the threshold, at one window
 * (the table has at least one rate_KIND column). */
static void plot_kinds(struct rpt_buf *b, const struct rep *r, const char *rule, double win,
                       const char *title, const char *term, const char *out)
{
    const struct rpt_table *t = &r->t[T_SWEEP];
    rpt_buf_printf(b, "set terminal %s noenhanced size 720,420\nset output '", term);
    rpt_buf_gp(b, out);
    rpt_buf_printf(b, "'\nset title '");
    rpt_buf_gp(b, title);
    rpt_buf_printf(b, "'\nset xlabel 'threshold (alert when count > threshold)'\n"
                      "set ylabel 'campaigns of the kind detected'\nset grid\n"
                      "set key outside right\nset datafile missing '?'\nunset logscale x\n"
                      "unset logscale y\nset yrange [0:1.05]\n");
    size_t nk = 0;
    for (size_t c = 0; c < t->n_cols; c++) {
        const char *col = t->cells[c];
        if (strncmp(col, "rate_", 5) != 0)
            continue;
        rpt_buf_printf(b, "$k%zu << EOD\n", nk++);
        for (size_t i = 1; i < t->n_rows; i++) {
            if (strcmp(rpt_cell(t, i, "rule"), rule) != 0 ||
                rpt_cell_num(t, i, "window_s") != win)
                continue;
            double x = rpt_cell_num(t, i, "threshold"), y = rpt_cell_num(t, i, col);
            if (isnan(x) || isnan(y))
                rpt_buf_printf(b, "? ?\n");
            else
                rpt_buf_printf(b, "%.6g %.6g\n", x, y);
        }
        rpt_buf_printf(b, "EOD\n");
    }
    rpt_buf_printf(b, "plot ");
    for (size_t c = 0, k = 0; c < t->n_cols; c++) {
        const char *col = t->cells[c];
        if (strncmp(col, "rate_", 5) != 0)
            continue;
        rpt_buf_printf(b, "%s$k%zu using 1:2 with lines title '", k ? ", " : "", k);
        rpt_buf_gp(b, col + 5);
        rpt_buf_printf(b, "'");
        k++;
    }
    rpt_buf_printf(b, "\nunset output\n");
}

static int draw_plots(struct rep *r, char *err, size_t errsize)
{
    char pdir[PATH_MAX];
    snprintf(pdir, sizeof pdir, "%s/plots", r->dir);
    struct stat sb;
    if (mkdir(pdir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errsize, "%.400s: %s", pdir, strerror(errno));
        return -1;
    }
    if (lstat(pdir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errsize, "%.400s: not a directory (a link is not followed)", pdir);
        return -1;
    }
    char gnuplot[PATH_MAX];
    if (!find_gnuplot(gnuplot)) {
        r->gp = 0;
        return 0;
    }
    struct rpt_buf b = {0};
    const char *name = scen(r, "scenario");
    for (size_t i = 0; i < r->n_rules; i++)
        for (size_t k = 0; k < N_PLOTS; k++)
            for (int png = 0; png < 2; png++) {
                char out[PATH_MAX + 160], title[256];
                snprintf(out, sizeof out, "%s/%s-%s.%s", pdir, r->rules[i], plots[k].suffix,
                         png ? "png" : "svg");
                unlink(out); /* gnuplot opens by name: never through a planted link */
                snprintf(out, sizeof out, "%s-%s.%s", r->rules[i], plots[k].suffix,
                         png ? "png" : "svg"); /* gnuplot runs in pdir */
                if (!png) {
                    char base[96];
                    snprintf(base, sizeof base, "%s-%s", r->rules[i], plots[k].suffix);
                    mark_drawn(r, base);
                }
                snprintf(title, sizeof title, "%s: %s, scenario %s", r->rules[i], plots[k].what,
                         name);
                plot_script(&b, r, r->rules[i], plots[k].xcol, plots[k].ycol, plots[k].xlabel,
                            plots[k].ylabel, title, plots[k].logx, plots[k].logy,
                            png ? "pngcairo" : "svg", out);
            }
    int kinds = 0; /* per-kind rate columns to draw (none in a hand-trimmed table) */
    for (size_t c = 0; c < r->t[T_SWEEP].n_cols; c++)
        kinds += strncmp(r->t[T_SWEEP].cells[c], "rate_", 5) == 0;
    for (size_t i = 0; i < r->n_rules && kinds > 0; i++) {
        double win = kind_window(r, r->rules[i]);
        if (isnan(win))
            continue;
        for (int png = 0; png < 2; png++) {
            char out[PATH_MAX + 160], title[256], wl[32];
            fmt_window(wl, sizeof wl, win);
            snprintf(out, sizeof out, "%s/%s-kinds.%s", pdir, r->rules[i], png ? "png" : "svg");
            unlink(out);
            snprintf(out, sizeof out, "%s-kinds.%s", r->rules[i], png ? "png" : "svg");
            if (!png) {
                char base[96];
                snprintf(base, sizeof base, "%s-kinds", r->rules[i]);
                mark_drawn(r, base);
            }
            snprintf(title, sizeof title, "%s: detection by campaign kind, window %s, scenario %s",
                     r->rules[i], wl, name);
            plot_kinds(&b, r, r->rules[i], win, title, png ? "pngcairo" : "svg", out);
        }
    }
    if (b.oom) {
        free(b.s);
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    r->gp = 1;
    if (b.len > 0 && gnuplot_run(gnuplot, b.s, b.len, pdir, err, errsize) != 0) {
        r->gp = -1;
        /* gnuplot stops at its first error, leaving that plot empty and
         * the later ones undrawn: no plot of this render stays behind */
        for (size_t i = 0; i < r->n_drawn; i++)
            for (int png = 0; png < 2; png++) {
                char out[PATH_MAX + 160];
                snprintf(out, sizeof out, "%s/%s.%s", pdir, r->drawn[i], png ? "png" : "svg");
                unlink(out);
            }
    }
    free(b.s);
    return 0;
}

/* ------------------------------------------------------------ text */

/* Text of a cell for Markdown tables: escaped like HTML (GitHub renders
 * inline HTML), '|' kept from splitting the table, line breaks and tabs as
 * spaces, other control bytes as their Unicode control pictures. */
static void md_cell(struct rpt_buf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '|')
            rpt_buf_put(b, "\\|", 2);
        else if (*p == '\n' || *p == '\r')
            rpt_buf_put(b, " ", 1);
        else if (*p == '<')
            rpt_buf_put(b, "&lt;", 4);
        else if (*p == '>')
            rpt_buf_put(b, "&gt;", 4);
        else if (*p == '&')
            rpt_buf_put(b, "&amp;", 5);
        else if (*p == '`' || *p == '*' || *p == '_' || *p == '[' || *p == ']' || *p == '\\')
            rpt_buf_printf(b, "\\%c", *p);
        else if (*p == '\t')
            rpt_buf_put(b, " ", 1);
        else if ((unsigned char)*p < 0x20 || *p == 0x7f) /* control pictures, U+2400.. */
            rpt_buf_printf(b, "\xe2\x90%c", *p == 0x7f ? 0xa1 : 0x80 + *p);
        else
            rpt_buf_put(b, p, 1);
    }
}

/* A document built for both outputs: a list of blocks. */
struct doc {
    struct rpt_buf md, html;
};

static void h2(struct doc *d, const char *title)
{
    rpt_buf_printf(&d->md, "\n## %s\n\n", title);
    rpt_buf_printf(&d->html, "<h2>%s</h2>\n", title);
}

static void para(struct doc *d, const char *text)
{
    md_cell(&d->md, text); /* text may carry table cells: escaped, as cells are */
    rpt_buf_printf(&d->md, "\n\n");
    rpt_buf_printf(&d->html, "<p>");
    rpt_buf_html(&d->html, text);
    rpt_buf_printf(&d->html, "</p>\n");
}

/* A table: ncol headers, then rows of ncol cells (from a callback). */
static void table_begin(struct doc *d, const char *const *head, size_t n)
{
    rpt_buf_put(&d->md, "|", 1);
    rpt_buf_printf(&d->html, "<table>\n<tr>");
    for (size_t i = 0; i < n; i++) {
        rpt_buf_put(&d->md, " ", 1);
        md_cell(&d->md, head[i]);
        rpt_buf_put(&d->md, " |", 2);
        rpt_buf_printf(&d->html, "<th>");
        rpt_buf_html(&d->html, head[i]);
        rpt_buf_printf(&d->html, "</th>");
    }
    rpt_buf_put(&d->md, "\n|", 2);
    for (size_t i = 0; i < n; i++)
        rpt_buf_put(&d->md, "---|", 4);
    rpt_buf_put(&d->md, "\n", 1);
    rpt_buf_printf(&d->html, "</tr>\n");
}

static void table_row(struct doc *d, const char *const *cells, size_t n)
{
    rpt_buf_put(&d->md, "|", 1);
    rpt_buf_printf(&d->html, "<tr>");
    for (size_t i = 0; i < n; i++) {
        rpt_buf_put(&d->md, " ", 1);
        md_cell(&d->md, cells[i]);
        rpt_buf_put(&d->md, " |", 2);
        rpt_buf_printf(&d->html, "<td>");
        rpt_buf_html(&d->html, cells[i]);
        rpt_buf_printf(&d->html, "</td>");
    }
    rpt_buf_put(&d->md, "\n", 1);
    rpt_buf_printf(&d->html, "</tr>\n");
}

static void table_end(struct doc *d)
{
    rpt_buf_put(&d->md, "\n", 1);
    rpt_buf_printf(&d->html, "</table>\n");
}

/* Inline an SVG file into the HTML (from its <svg element on: the XML
 * prolog and doctype stay out), and link the PNG from the Markdown. */
static void figure(struct doc *d, const struct rep *r, const char *base, const char *caption)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/plots/%s.svg", r->dir, base);
    rpt_buf_printf(&d->md, "![");
    md_cell(&d->md, caption);
    rpt_buf_printf(&d->md, "](plots/%s.png)\n\n", base);
    /* only what this render drew: never a stale or planted file */
    FILE *f = r->gp == 1 && was_drawn(r, base) ? fopen(path, "rb") : NULL;
    if (f == NULL)
        return;
    struct rpt_buf svg = {0};
    char buf[65536];
    for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;)
        rpt_buf_put(&svg, buf, n);
    fclose(f);
    const char *s = svg.s != NULL ? strstr(svg.s, "<svg") : NULL;
    if (s != NULL) {
        rpt_buf_printf(&d->html, "<figure>");
        rpt_buf_put(&d->html, s, strlen(s));
        rpt_buf_printf(&d->html, "<figcaption>");
        rpt_buf_html(&d->html, caption);
        rpt_buf_printf(&d->html, "</figcaption></figure>\n");
    }
    free(svg.s);
}

static const char css[] =
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
    "color:#222}table{border-collapse:collapse;margin:1em 0;font-size:90%}"
    "th,td{border:1px solid #bbb;padding:3px 8px;text-align:left}th{background:#eee}"
    "figure{margin:1em 0}svg{max-width:100%;height:auto}code{background:#f4f4f4}";

/* ------------------------------------------------------------ sections */

static void sec_scenario(struct doc *d, const struct rep *r)
{
    char line[1024];
    h2(d, "Scenario");
    static const char *const head[] = {"what", "value"};
    table_begin(d, head, 2);
    static const char *const keys[][2] = {
        {"scenario", "scenario"},
        {"seeds", "seeds (Monte Carlo runs)"},
        {"first_seed", "first seed"},
        {"hours_per_seed", "simulated hours per seed"},
        {"vms", "VMs"},
        {"nics_logged", "NICs with flow logging"},
        {"flows", "flows (all seeds)"},
        {"tuples", "flow-log tuples (all seeds)"},
        {"campaigns", "scan campaigns per seed"},
        {"campaigns_visible", "campaigns the logging can see"},
        {"hard_negative_classes", "benign look-alikes (hard negatives)"},
        {"budget_per_day", "false-alert budget per day"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *cells[2] = {keys[i][1], scen(r, keys[i][0])};
        table_row(d, cells, 2);
    }
    table_end(d);
    const struct rpt_table *t = &r->t[T_TRUTH];
    /* the source count's column was misnamed protocol_sources before */
    const char *sources = rpt_table_col(t, "sources") >= 0 ? "sources" : "protocol_sources";
    if (t->n_rows > 1) {
        para(d, "Campaigns (first seed):");
        static const char *const ch[] = {"campaign", "kind",   "sources", "targets",
                                         "ports",    "probes", "visible", "why not"};
        table_begin(d, ch, 8);
        for (size_t i = 1; i < t->n_rows; i++) {
            const char *cells[8] = {rpt_cell(t, i, "campaign"), rpt_cell(t, i, "kind"),
                                    rpt_cell(t, i, sources),    rpt_cell(t, i, "targets"),
                                    rpt_cell(t, i, "ports"),    rpt_cell(t, i, "probes"),
                                    rpt_cell(t, i, "visible"),  rpt_cell(t, i, "reason")};
            table_row(d, cells, 8);
        }
        table_end(d);
    }
    const struct rpt_table *h = &r->t[T_HN];
    if (h->n_rows > 1) {
        para(d, "Hard negatives (benign traffic that looks like scanning):");
        static const char *const hh[] = {"class", "what", "sources", "targets"};
        table_begin(d, hh, 4);
        for (size_t i = 1; i < h->n_rows; i++) {
            const char *cells[4] = {rpt_cell(h, i, "class"), rpt_cell(h, i, "what"),
                                    rpt_cell(h, i, "sources"), rpt_cell(h, i, "targets")};
            table_row(d, cells, 4);
        }
        table_end(d);
    }
    snprintf(line, sizeof line,
             "Production latency assumes Traffic Analytics every %s s, %s s ingestion delay and "
             "a scheduled rule every %s s over %s s.",
             scen(r, "ta_interval_s"), scen(r, "ingest_delay_s"), scen(r, "rule_frequency_s"),
             scen(r, "rule_period_s"));
    para(d, line);
}

static void sec_presets(struct doc *d, const struct rep *r)
{
    const struct rpt_table *p = &r->t[T_PRESETS], *dt = &r->t[T_DET];
    h2(d, "Results per preset and rule");
    para(d, "Detection counts campaigns, not flows; unseeable campaigns are left out. "
            "Intervals are 95% Clopper-Pearson over every seed's campaigns.");
    static const char *const head[] = {"preset", "rule",      "family",    "alerts",
                                       "false/day", "precision", "detected", "by kind"};
    table_begin(d, head, 8);
    for (size_t i = 1; i < p->n_rows; i++) {
        const char *preset = rpt_cell(p, i, "preset"), *rule = rpt_cell(p, i, "rule");
        unsigned det = 0, vis = 0;
        struct rpt_buf kinds = {0};
        for (size_t j = 1; j < dt->n_rows; j++) {
            if (strcmp(rpt_cell(dt, j, "preset"), preset) != 0 ||
                strcmp(rpt_cell(dt, j, "rule"), rule) != 0)
                continue;
            double c = rpt_cell_num(dt, j, "campaigns"), u = rpt_cell_num(dt, j, "unseeable"),
                   k = rpt_cell_num(dt, j, "detected");
            if (!(c >= 0 && c <= 1e9 && u >= 0 && u <= c && k >= 0 && k <= c - u) || c - u <= 0)
                continue; /* not what scanlab run writes: left out */
            det += (unsigned)k;
            vis += (unsigned)(c - u);
            char lo[16], hi[16];
            fmt_num(lo, sizeof lo, rpt_cell_num(dt, j, "ci_lo"), 2);
            fmt_num(hi, sizeof hi, rpt_cell_num(dt, j, "ci_hi"), 2);
            rpt_buf_printf(&kinds, "%s%s %.0f/%.0f [%s, %s]", kinds.len ? "; " : "",
                           rpt_cell(dt, j, "kind"), k, c - u, lo, hi);
        }
        char fpd[32], prec[32], detected[32];
        fmt_num(fpd, sizeof fpd, rpt_cell_num(p, i, "false_per_day"), 1);
        fmt_num(prec, sizeof prec, rpt_cell_num(p, i, "precision"), 3);
        snprintf(detected, sizeof detected, "%u/%u", det, vis);
        const char *cells[8] = {preset, strcmp(rule, "*") == 0 ? "(all)" : rule,
                                rpt_cell(p, i, "family"), rpt_cell(p, i, "alerts"),
                                fpd,    prec,
                                detected, kinds.s ? kinds.s : ""};
        table_row(d, cells, 8);
        free(kinds.s);
    }
    table_end(d);
    /* false alerts by class, all rules */
    para(d, "False alerts by hard-negative class (all rules of each preset):");
    size_t first = 8; /* class columns follow precision */
    const char *head2[RPT_MAX_CLASSES + 2];
    size_t nh = 0;
    head2[nh++] = "preset";
    for (size_t c = first; c < p->n_cols && nh < RPT_MAX_CLASSES + 2; c++)
        head2[nh++] = p->cells[c];
    table_begin(d, head2, nh);
    for (size_t i = 1; i < p->n_rows; i++) {
        if (strcmp(rpt_cell(p, i, "rule"), "*") != 0)
            continue;
        const char *cells[RPT_MAX_CLASSES + 2];
        cells[0] = rpt_cell(p, i, "preset");
        for (size_t c = first, k = 1; c < p->n_cols && k < nh; c++, k++)
            cells[k] = p->cells[i * p->n_cols + c];
        table_row(d, cells, nh);
    }
    table_end(d);
}

static void sec_recommend(struct doc *d, const struct rep *r)
{
    const struct rpt_table *t = &r->t[T_REC];
    h2(d, "Recommended thresholds");
    char line[512];
    snprintf(line, sizeof line,
             "Per swept rule, the threshold and window that detect the most campaigns within "
             "the budget of %s false alerts per day, beside the configured values on the same "
             "data.",
             scen(r, "budget_per_day"));
    para(d, line);
    static const char *const head[] = {"rule",     "choice",    "window",   "alert when",
                                       "detected", "false/day", "median time to detect (s)"};
    table_begin(d, head, 7);
    for (size_t i = 1; i < t->n_rows; i++) {
        char win[32], when[64], det[32], fpd[32], ttd[32];
        double th = rpt_cell_num(t, i, "threshold");
        fmt_window(win, sizeof win, rpt_cell_num(t, i, "window_s"));
        int configured = strcmp(rpt_cell(t, i, "choice"), "configured") == 0;
        if (isnan(th))
            snprintf(when, sizeof when, "%s",
                     configured ? "not in the swept range" : "no threshold fits the budget");
        else
            snprintf(when, sizeof when, "count > %.0f", th);
        snprintf(det, sizeof det, "%s/%s", rpt_cell(t, i, "detected"), rpt_cell(t, i, "visible"));
        fmt_num(fpd, sizeof fpd, rpt_cell_num(t, i, "false_per_day"), 2);
        fmt_num(ttd, sizeof ttd, rpt_cell_num(t, i, "ttd_median_s"), 1);
        const char *cells[7] = {rpt_cell(t, i, "rule"), rpt_cell(t, i, "choice"), win, when,
                                isnan(th) ? "-" : det, isnan(th) ? "-" : fpd,
                                isnan(th) ? "-" : ttd};
        table_row(d, cells, 7);
    }
    table_end(d);
}

static void sec_curves(struct doc *d, const struct rep *r)
{
    h2(d, "Threshold curves");
    if (r->n_rules == 0) {
        para(d, "No rule was swept (sweeps need tumbling counting rules).");
        return;
    }
    if (r->gp == 0)
        para(d, "gnuplot is not installed: no plots; the curves are in sweep.csv.");
    else if (r->gp < 0)
        para(d, "gnuplot failed: no plots; the curves are in sweep.csv.");
    else
        para(d, "From one detector pass per window (sweep.csv): detection rate and false alerts "
                "per day against the threshold, and detection against false alerts.");
    for (size_t i = 0; i < r->n_rules; i++) {
        for (size_t k = 0; k < N_PLOTS; k++) {
            char base[96], cap[160];
            snprintf(base, sizeof base, "%s-%s", r->rules[i], plots[k].suffix);
            snprintf(cap, sizeof cap, "%s: %s", r->rules[i], plots[k].what);
            figure(d, r, base, cap);
        }
        char base[96], cap[160], wl[32];
        fmt_window(wl, sizeof wl, kind_window(r, r->rules[i]));
        snprintf(base, sizeof base, "%s-kinds", r->rules[i]);
        snprintf(cap, sizeof cap, "%s: detection by campaign kind (window %s)", r->rules[i], wl);
        figure(d, r, base, cap);
    }
}

static void sec_ttd(struct doc *d, const struct rep *r)
{
    const struct rpt_table *t = &r->t[T_CAMP];
    h2(d, "Time to detect");
    para(d, "From the campaign's first probe to the flow at which an alert's count passed its "
            "threshold (seconds and probes of campaign time), and to when a scheduled KQL rule "
            "over Traffic Analytics could raise it (production).");
    static const char *const head[] = {"seed",     "preset", "campaign",   "kind",
                                       "result",   "rule",   "seconds",    "probes",
                                       "production (s)"};
    table_begin(d, head, 9);
    for (size_t i = 1; i < t->n_rows; i++) {
        const char *cells[9] = {rpt_cell(t, i, "seed"),     rpt_cell(t, i, "preset"),
                                rpt_cell(t, i, "campaign"), rpt_cell(t, i, "kind"),
                                rpt_cell(t, i, "result"),   rpt_cell(t, i, "rule"),
                                rpt_cell(t, i, "ttd_s"),    rpt_cell(t, i, "ttd_probes"),
                                rpt_cell(t, i, "ttd_production_s")};
        table_row(d, cells, 9);
    }
    table_end(d);
}

#define MAX_FALSE_SHOWN 40

static void sec_misses(struct doc *d, const struct rep *r)
{
    const struct rpt_table *c = &r->t[T_CAMP], *f = &r->t[T_FALSE];
    h2(d, "Misses and false alerts");
    para(d, "Missed campaigns (visible to the logging, no alert of the preset):");
    static const char *const mh[] = {"seed", "preset", "campaign", "kind", "probes sent",
                                     "probes logged"};
    table_begin(d, mh, 6);
    for (size_t i = 1; i < c->n_rows; i++) {
        if (strcmp(rpt_cell(c, i, "result"), "missed") != 0)
            continue;
        const char *cells[6] = {rpt_cell(c, i, "seed"),     rpt_cell(c, i, "preset"),
                                rpt_cell(c, i, "campaign"), rpt_cell(c, i, "kind"),
                                rpt_cell(c, i, "probes"),   rpt_cell(c, i, "probes_visible")};
        table_row(d, cells, 6);
    }
    table_end(d);
    para(d, "Unseeable campaigns (the logging configuration cannot see them; not misses):");
    static const char *const uh[] = {"seed", "preset", "campaign", "kind", "why"};
    table_begin(d, uh, 5);
    for (size_t i = 1; i < c->n_rows; i++) {
        if (strcmp(rpt_cell(c, i, "result"), "unseeable") != 0)
            continue;
        const char *cells[5] = {rpt_cell(c, i, "seed"), rpt_cell(c, i, "preset"),
                                rpt_cell(c, i, "campaign"), rpt_cell(c, i, "kind"),
                                rpt_cell(c, i, "reason")};
        table_row(d, cells, 5);
    }
    table_end(d);
    char line[256];
    size_t n_false = f->n_rows - 1;
    snprintf(line, sizeof line,
             "False alerts with their evidence (%zu in all; the first %d per preset here, every "
             "one in false_alerts.csv):",
             n_false, MAX_FALSE_SHOWN);
    para(d, line);
    static const char *const fh[] = {"preset", "rule",  "class",  "source",  "destination",
                                     "port",   "window start", "count", "targets", "ports"};
    table_begin(d, fh, 10);
    const char *cur = "";
    size_t shown = 0;
    for (size_t i = 1; i < f->n_rows; i++) {
        const char *preset = rpt_cell(f, i, "preset");
        if (strcmp(preset, cur) != 0) {
            cur = preset;
            shown = 0;
        }
        if (shown++ >= MAX_FALSE_SHOWN)
            continue;
        const char *cells[10] = {preset,
                                 rpt_cell(f, i, "rule"),
                                 rpt_cell(f, i, "class"),
                                 rpt_cell(f, i, "src"),
                                 rpt_cell(f, i, "dst"),
                                 rpt_cell(f, i, "port"),
                                 rpt_cell(f, i, "window_start"),
                                 rpt_cell(f, i, "count"),
                                 rpt_cell(f, i, "targets"),
                                 rpt_cell(f, i, "ports")};
        table_row(d, cells, 10);
    }
    table_end(d);
}

/* ------------------------------------------------------------ files */

static int write_file(const char *dir, const char *name, const struct rpt_buf *b, char *err,
                      size_t errsize)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (b->oom) {
        snprintf(err, errsize, "%s: out of memory", path);
        return -1;
    }
    FILE *f = rpt_fopen_out(path);
    if (f == NULL) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t put = b->len ? fwrite(b->s, 1, b->len, f) : 0;
    int bad = put != b->len || ferror(f);
    if (fclose(f) != 0 || bad) {
        snprintf(err, errsize, "%s: write error", path);
        return -1;
    }
    return 0;
}

static int load(struct rep *r, char *err, size_t errsize)
{
    for (int i = 0; i < N_TABLES; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", r->dir, table_files[i]);
        if (i == T_HN && access(path, F_OK) != 0) { /* folders from before it existed */
            static const char empty[] = "class,what,sources,targets\n";
            char *copy = strdup(empty);
            if (copy == NULL || rpt_table_parse(path, copy, strlen(copy), &r->t[i], err,
                                                errsize) != 0) {
                free(copy);
                return -1;
            }
            r->t[i].mem = copy;
            continue;
        }
        if (rpt_table_read(path, &r->t[i], err, errsize) != 0)
            return -1;
    }
    static const char *const need[][3] = {
        {"scenario.csv", "key", "value"},   {"presets.csv", "preset", "false_per_day"},
        {"detection.csv", "kind", "ci_hi"}, {"campaigns.csv", "campaign", "result"},
        {"false_alerts.csv", "class", "ports"}, {"sweep.csv", "rule", "rate"},
        {"recommend.csv", "choice", "threshold"}, {"truth_campaigns.csv", "campaign", "visible"},
        {"hard_negatives.csv", "class", "targets"},
    };
    for (int i = 0; i < N_TABLES; i++)
        for (int k = 1; k < 3; k++)
            if (rpt_table_col(&r->t[i], need[i][k]) < 0) {
                snprintf(err, errsize, "%s/%s:1: no column '%s'", r->dir, need[i][0], need[i][k]);
                return -1;
            }
    const struct rpt_table *s = &r->t[T_SWEEP];
    for (size_t i = 1; i < s->n_rows; i++) {
        const char *rule = rpt_cell(s, i, "rule");
        size_t k;
        for (k = 0; k < r->n_rules && strcmp(r->rules[k], rule) != 0; k++)
            ;
        if (k < r->n_rules)
            continue;
        /* a rule name becomes a file name: letters, digits, '_' and '-' only */
        int ok = rule[0] != '\0' && strlen(rule) < 32;
        for (const char *p = rule; ok && *p; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                 (*p >= '0' && *p <= '9') || *p == '_' || *p == '-';
        if (!ok) {
            snprintf(err, errsize, "%s/sweep.csv:%zu: bad rule name", r->dir, i + 1);
            return -1;
        }
        if (r->n_rules == sizeof r->rules / sizeof r->rules[0])
            break;
        snprintf(r->rules[r->n_rules++], sizeof r->rules[0], "%s", rule);
    }
    /* a recommended window picks the rows of the per-kind curve: it must be
     * one that sweep.csv has for its rule (all scanlab run writes), or empty */
    const struct rpt_table *rec = &r->t[T_REC];
    for (size_t i = 1; i < rec->n_rows; i++) {
        const char *rule = rpt_cell(rec, i, "rule"), *ws = rpt_cell(rec, i, "window_s");
        double w = rpt_cell_num(rec, i, "window_s");
        size_t j = 1;
        while (j < s->n_rows &&
               (strcmp(rpt_cell(s, j, "rule"), rule) != 0 || rpt_cell_num(s, j, "window_s") != w))
            j++;
        if (ws[0] != '\0' && j == s->n_rows) {
            char v[48], ru[48];
            snprintf(err, errsize,
                     "%s/recommend.csv:%zu: window_s '%s': not a window of rule '%s' in "
                     "sweep.csv",
                     r->dir, i + 1, rpt_shown(v, sizeof v, ws), rpt_shown(ru, sizeof ru, rule));
            return -1;
        }
    }
    return 0;
}

int rpt_render(const char *dir, int *gnuplot, char *err, size_t errsize)
{
    static struct rep r;
    memset(&r, 0, sizeof r);
    r.dir = dir;
    *gnuplot = 0;
    int rc = -1;
    char gerr[RPT_ERRBUF_SIZE] = "";
    if (load(&r, err, errsize) != 0)
        goto out;
    if (draw_plots(&r, gerr, sizeof gerr) != 0) {
        snprintf(err, errsize, "%s", gerr);
        goto out;
    }
    struct doc d = {{0}, {0}};
    const char *name = scen(&r, "scenario");
    rpt_buf_printf(&d.md, "# ScanLab report: ");
    md_cell(&d.md, name);
    rpt_buf_printf(&d.md, "\n\nWhat each rule catches, misses and costs in false alerts on "
                          "this scenario, and the thresholds to deploy.\n");
    rpt_buf_printf(&d.html, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                            "<title>ScanLab report: ");
    rpt_buf_html(&d.html, name);
    rpt_buf_printf(&d.html, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>ScanLab report: ",
                   css);
    rpt_buf_html(&d.html, name);
    rpt_buf_printf(&d.html, "</h1>\n<p>What each rule catches, misses and costs in false alerts "
                            "on this scenario, and the thresholds to deploy.</p>\n");
    sec_scenario(&d, &r);
    sec_presets(&d, &r);
    sec_recommend(&d, &r);
    sec_curves(&d, &r);
    sec_ttd(&d, &r);
    sec_misses(&d, &r);
    rpt_buf_printf(&d.html, "</body>\n</html>\n");
    rc = write_file(dir, "report.md", &d.md, err, errsize) == 0 &&
                 write_file(dir, "index.html", &d.html, err, errsize) == 0
             ? 0
             : -1;
    free(d.md.s);
    free(d.html.s);
    *gnuplot = r.gp;
    if (rc == 0 && r.gp < 0)
        snprintf(err, errsize, "%s", gerr);
out:
    for (int i = 0; i < N_TABLES; i++)
        rpt_table_free(&r.t[i]);
    return rc;
}

void rpt_print_summary(FILE *f, const char *dir)
{
    char err[RPT_ERRBUF_SIZE];
    struct rpt_table p, dt, rec;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/presets.csv", dir);
    if (rpt_table_read(path, &p, err, sizeof err) != 0)
        return;
    snprintf(path, sizeof path, "%s/detection.csv", dir);
    if (rpt_table_read(path, &dt, err, sizeof err) != 0) {
        rpt_table_free(&p);
        return;
    }
    snprintf(path, sizeof path, "%s/recommend.csv", dir);
    if (rpt_table_read(path, &rec, err, sizeof err) != 0) {
        rpt_table_free(&p);
        rpt_table_free(&dt);
        return;
    }
    fprintf(f, "%-14s %9s %10s %9s\n", "preset", "detected", "false/day", "precision");
    for (size_t i = 1; i < p.n_rows; i++) {
        if (strcmp(rpt_cell(&p, i, "rule"), "*") != 0)
            continue;
        const char *preset = rpt_cell(&p, i, "preset");
        double det = 0, vis = 0;
        for (size_t j = 1; j < dt.n_rows; j++)
            if (strcmp(rpt_cell(&dt, j, "preset"), preset) == 0 &&
                strcmp(rpt_cell(&dt, j, "rule"), "*") == 0) {
                det += rpt_cell_num(&dt, j, "detected");
                vis += rpt_cell_num(&dt, j, "campaigns") - rpt_cell_num(&dt, j, "unseeable");
            }
        char dd[32], fpd[32], prec[32];
        snprintf(dd, sizeof dd, "%.0f/%.0f", det, vis);
        fmt_num(fpd, sizeof fpd, rpt_cell_num(&p, i, "false_per_day"), 1);
        fmt_num(prec, sizeof prec, rpt_cell_num(&p, i, "precision"), 3);
        fprintf(f, "%-14s %9s %10s %9s\n", preset, dd, fpd, prec);
    }
    for (size_t i = 1; i < rec.n_rows; i++) {
        double th = rpt_cell_num(&rec, i, "threshold");
        char win[32], fpd[32];
        fmt_window(win, sizeof win, rpt_cell_num(&rec, i, "window_s"));
        fmt_num(fpd, sizeof fpd, rpt_cell_num(&rec, i, "false_per_day"), 2);
        if (isnan(th))
            fprintf(f, "%s %s: none within %s false alerts/day\n", rpt_cell(&rec, i, "rule"),
                    rpt_cell(&rec, i, "choice"), rpt_cell(&rec, i, "budget_per_day"));
        else
            fprintf(f, "%s %s: count > %.0f per %s: detected %s/%s, %s false alerts/day\n",
                    rpt_cell(&rec, i, "rule"), rpt_cell(&rec, i, "choice"), th, win,
                    rpt_cell(&rec, i, "detected"), rpt_cell(&rec, i, "visible"), fpd);
    }
    rpt_table_free(&p);
    rpt_table_free(&dt);
    rpt_table_free(&rec);
}
