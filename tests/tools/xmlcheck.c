/*
 * xmlcheck.c - `xmlcheck FILE`: is a report page well-formed (XHTML-style:
 * every element closed, attributes quoted, '&' only in entities, '<' only
 * in tags) and self-contained (no src=, no href= or xlink:href= other than
 * a #fragment, no <link>, <script>, <iframe>, <object>, <embed>, no url()
 * but url(#...), no @import)? Prints the first problem with its line and
 * exits 1; exits 0 when the page passes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *text, *end, *name;
static long line_of(const char *p)
{
    long n = 1;
    for (const char *q = text; q < p; q++)
        n += *q == '\n';
    return n;
}

static int fail(const char *p, const char *what)
{
    printf("%s:%ld: %s\n", name, line_of(p), what);
    return 1;
}

static int entity(const char *p)
{
    const char *q = p + 1;
    if (*q == '#') {
        q++;
        if (*q == 'x')
            q++;
        if (!isxdigit((unsigned char)*q))
            return 0;
        while (isxdigit((unsigned char)*q))
            q++;
    } else {
        if (!isalpha((unsigned char)*q))
            return 0;
        while (isalnum((unsigned char)*q))
            q++;
    }
    return *q == ';';
}

static int bad_url(const char *v, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++)
        if (strncmp(v + i, "url(", 4) == 0) {
            size_t j = i + 4;
            while (j < n && (v[j] == '\'' || v[j] == '"' || v[j] == ' '))
                j++;
            if (j >= n || v[j] != '#')
                return 1;
        }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: xmlcheck FILE\n");
        return 2;
    }
    name = argv[1];
    FILE *f = fopen(name, "rb");
    if (f == NULL) {
        perror(name);
        return 2;
    }
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t got; buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    if (buf == NULL)
        return 2;
    buf[n] = '\0';
    text = buf;
    end = buf + n;
    char stack[256][64];
    int depth = 0, roots = 0;
    const char *p = buf;
    int in_style = 0;
    while (p < end) {
        if (*p == '&') {
            if (!entity(p))
                return fail(p, "'&' outside an entity");
            p++;
            continue;
        }
        if (*p != '<') {
            p++;
            continue;
        }
        if (strncmp(p, "<!--", 4) == 0) {
            const char *e = strstr(p, "-->");
            if (e == NULL)
                return fail(p, "unterminated comment");
            p = e + 3;
            continue;
        }
        if (strncmp(p, "<!DOCTYPE", 9) == 0 || strncmp(p, "<?", 2) == 0) {
            const char *e = strchr(p, '>');
            if (e == NULL)
                return fail(p, "unterminated declaration");
            p = e + 1;
            continue;
        }
        int closing = p[1] == '/';
        const char *q = p + 1 + closing;
        char tag[64];
        size_t k = 0;
        while (q < end && (isalnum((unsigned char)*q) || *q == ':' || *q == '-' || *q == '_') &&
               k < sizeof tag - 1)
            tag[k++] = (char)tolower((unsigned char)*q++);
        tag[k] = '\0';
        if (k == 0)
            return fail(p, "'<' that does not start a tag");
        static const char *const banned[] = {"script", "link", "iframe", "object", "embed",
                                             "img", "audio", "video", "source", NULL};
        const char *local = strrchr(tag, ':'); /* svg:script is a script too */
        local = local != NULL ? local + 1 : tag;
        for (int i = 0; banned[i] != NULL; i++)
            if (strcmp(local, banned[i]) == 0)
                return fail(p, "external or active content element");
        if (closing) {
            while (q < end && isspace((unsigned char)*q))
                q++;
            if (*q != '>')
                return fail(q, "bad closing tag");
            if (depth == 0 || strcmp(stack[depth - 1], tag) != 0)
                return fail(p, "closing tag does not match the open element");
            depth--;
            in_style = 0;
            p = q + 1;
            continue;
        }
        /* attributes */
        int self = 0;
        for (;;) {
            while (q < end && isspace((unsigned char)*q))
                q++;
            if (q >= end)
                return fail(p, "unterminated tag");
            if (*q == '>') {
                q++;
                break;
            }
            if (*q == '/' && q[1] == '>') {
                self = 1;
                q += 2;
                break;
            }
            char an[64];
            size_t ak = 0;
            while (q < end && !isspace((unsigned char)*q) && *q != '=' && *q != '>' &&
                   ak < sizeof an - 1)
                an[ak++] = (char)tolower((unsigned char)*q++);
            an[ak] = '\0';
            if (ak == 0 || *q != '=')
                return fail(q, "attribute without a quoted value");
            q++;
            if (*q != '"' && *q != '\'')
                return fail(q, "unquoted attribute value");
            char quote = *q++;
            const char *v = q;
            while (q < end && *q != quote) {
                if (*q == '<')
                    return fail(q, "'<' in an attribute value");
                if (*q == '&' && !entity(q))
                    return fail(q, "'&' outside an entity in an attribute");
                q++;
            }
            if (q >= end)
                return fail(v, "unterminated attribute value");
            size_t vn = (size_t)(q - v);
            q++;
            if (strcmp(an, "src") == 0 || strcmp(an, "srcset") == 0 || strcmp(an, "action") == 0)
                return fail(v, "external resource attribute");
            if ((strcmp(an, "href") == 0 || strcmp(an, "xlink:href") == 0) &&
                (vn == 0 || v[0] != '#'))
                return fail(v, "link to a resource outside the page");
            if (strncmp(an, "on", 2) == 0)
                return fail(v, "event handler attribute");
            if (bad_url(v, vn))
                return fail(v, "url() outside the page");
        }
        if (depth == 0 && !self)
            roots++;
        if (!self) {
            if (depth == 256)
                return fail(p, "nesting too deep");
            snprintf(stack[depth++], sizeof stack[0], "%s", tag);
            if (strcmp(tag, "style") == 0) {
                in_style = 1;
                const char *e = strstr(q, "</style>");
                if (e == NULL)
                    return fail(q, "unterminated style");
                int import = 0;
                for (const char *x = q; x + 7 <= e && !import; x++)
                    import = strncmp(x, "@import", 7) == 0;
                if (bad_url(q, (size_t)(e - q)) || import)
                    return fail(q, "style fetches a resource");
                q = e; /* CSS text: no entity rules */
            }
        }
        p = q;
    }
    (void)in_style;
    if (depth != 0)
        return fail(end, "unclosed elements at the end");
    if (roots != 1)
        return fail(end, "expected exactly one root element");
    free(buf);
    printf("%s: well-formed, self-contained\n", name);
    return 0;
}
