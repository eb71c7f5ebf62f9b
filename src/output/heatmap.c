/*
 * heatmap.c — see heatmap.h.
 *
 * Line counts come from the flat profile (one row per file, line and
 * function); rows are grouped by file, and each file's source is read from
 * disk, with the target's rights, when the heat map is written. Source
 * text is untrusted: it is escaped for HTML, invalid UTF-8 becomes U+FFFD,
 * and files and lines are capped.
 */
#include "output/heatmap.h"

#include "base/u64map.h"
#include "base/utf8.h"
#include "sampler/flat.h"

#include <stdlib.h>
#include <string.h>

#define HOTTEST_LINES 50                /* in the index */
#define SOURCE_MAX_BYTES (4u << 20)     /* read no more of one file */

/* Per line of one file: samples executing it (self) and on the stack. */
struct line_heat {
    int32_t line;
    uint64_t self, total;
    uint32_t function;  /* string id of the function running it most */
    uint64_t self_of_function;  /* ... its self samples there */
};

struct file_heat {
    uint32_t file;      /* string id */
    struct line_heat *lines;
    size_t count, cap;
    uint64_t self;      /* all its lines */
    uint64_t hottest;   /* the most self samples of one line */
};

static void html_text(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '<')
            fputs("&lt;", f);
        else if (c == '>')
            fputs("&gt;", f);
        else if (c == '&')
            fputs("&amp;", f);
        else if (c == '"')
            fputs("&quot;", f);
        else if (c == '\f')
            fputc(' ', f);  /* a page break, which Python takes for a space */
        else if (c < 0x20 && c != '\t')
            fputs("\xef\xbf\xbd", f);
        else
            fputc(c, f);
    }
}

static void html_str(FILE *f, const char *s)
{
    html_text(f, s, strlen(s));
}

/* One source line, escaped, invalid UTF-8 replaced. */
static void source_line(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t c = utf8_char_len((const unsigned char *)s + i, n - i);
        if (c == 0) {
            fputs("\xef\xbf\xbd", f);
            i++;
        } else {
            html_text(f, s + i, c);
            i += c;
        }
    }
}

static int cmp_lines(const void *pa, const void *pb)
{
    const struct line_heat *a = pa, *b = pb;
    return (a->line > b->line) - (a->line < b->line);
}

static int cmp_files_hottest_first(const void *pa, const void *pb)
{
    const struct file_heat *a = pa, *b = pb;
    if (a->self != b->self)
        return a->self > b->self ? -1 : 1;
    return (a->file > b->file) - (a->file < b->file);
}

/*
 * Samples with each source line on the stack, counted once per stack even
 * when two of its frames are (a lambda or a comprehension and the function
 * around it run one line). Indexed by frame symbol id.
 */
static uint64_t *line_totals(const struct profile *p)
{
    size_t nframes = p->symbols.count;
    uint32_t *group = xmalloc(MAX(nframes, 1) * sizeof(*group));
    struct u64map line_group;
    u64map_init(&line_group);
    size_t ngroups = 0;
    for (size_t f = 0; f < nframes; f++) {
        const struct frame_sym *fs = symbols_get(&p->symbols, (uint32_t)f);
        uint64_t key = (uint64_t)fs->file << 32 | (uint32_t)fs->line;
        group[f] = u64map_get(&line_group, key);
        if (group[f] == ID_NONE) {
            group[f] = (uint32_t)ngroups++;
            u64map_put(&line_group, key, group[f]);
        }
    }
    struct flat_profile by_line;
    flat_profile_compute_groups(p, group, ngroups, &by_line);
    uint64_t *total_of_group = xcalloc(MAX(ngroups, 1), sizeof(*total_of_group));
    for (size_t i = 0; i < by_line.count; i++)
        total_of_group[group[by_line.rows[i].frame]] = by_line.rows[i].cumulative;
    uint64_t *total = xmalloc(MAX(nframes, 1) * sizeof(*total));
    for (size_t f = 0; f < nframes; f++)
        total[f] = total_of_group[group[f]];
    free(total_of_group);
    flat_profile_free(&by_line);
    u64map_free(&line_group);
    free(group);
    return total;
}

/* Group the flat profile's rows by file, and by line within a file: its
 * self samples add up, it is named after the function with the most of
 * them, and its samples on the stack are the line's own (line_totals). */
static struct file_heat *collect(const struct profile *p, const struct flat_profile *flat,
                                 size_t *nfiles)
{
    uint64_t *total_of_frame = line_totals(p);
    size_t nstrings = MAX(p->symbols.strings.count, 1);
    uint32_t *file_index = xmalloc(nstrings * sizeof(*file_index));
    memset(file_index, 0xff, nstrings * sizeof(*file_index));
    struct file_heat *files = NULL;
    size_t count = 0, cap = 0;
    for (size_t i = 0; i < flat->count; i++) {
        const struct flat_row *row = &flat->rows[i];
        const struct frame_sym *fs = symbols_get(&p->symbols, row->frame);
        if (row->frame == p->truncated_frame)
            continue;
        if (file_index[fs->file] == ID_NONE) {
            files = xgrow(files, &cap, count + 1, sizeof(*files));
            files[count] = (struct file_heat){ .file = fs->file };
            file_index[fs->file] = (uint32_t)count++;
        }
        struct file_heat *fh = &files[file_index[fs->file]];
        fh->lines = xgrow(fh->lines, &fh->cap, fh->count + 1, sizeof(*fh->lines));
        fh->lines[fh->count++] = (struct line_heat){ fs->line, row->direct,
                                                     total_of_frame[row->frame], fs->name,
                                                     row->direct };
        fh->self += row->direct;
    }
    for (size_t i = 0; i < count; i++) {
        struct file_heat *fh = &files[i];
        qsort(fh->lines, fh->count, sizeof(*fh->lines), cmp_lines);
        size_t out = 0;
        for (size_t j = 0; j < fh->count; j++) {
            if (out && fh->lines[out - 1].line == fh->lines[j].line) {
                struct line_heat *merged = &fh->lines[out - 1];
                if (fh->lines[j].self > merged->self_of_function) {
                    merged->function = fh->lines[j].function;
                    merged->self_of_function = fh->lines[j].self;
                }
                merged->self += fh->lines[j].self;
            } else {
                fh->lines[out++] = fh->lines[j];
            }
        }
        fh->count = out;
        for (size_t j = 0; j < out; j++)
            fh->hottest = MAX(fh->hottest, fh->lines[j].self);
    }
    if (count)
        qsort(files, count, sizeof(*files), cmp_files_hottest_first);
    free(file_index);
    free(total_of_frame);
    *nfiles = count;
    return files;
}

/* Heat 0..100 of `self` against the hottest line of the whole profile. */
static int heat(uint64_t self, uint64_t max)
{
    return max ? (int)((100 * self + max - 1) / max) : 0;
}

static void write_index(FILE *f, const struct profile *p, const struct file_heat *files,
                        size_t nfiles, uint64_t total)
{
    /* The hottest lines of all files: a simple selection, at most
     * HOTTEST_LINES passes over the lines. */
    fputs("<h2>Hottest lines</h2>\n<table class=\"index\"><tr><th>self samples</th><th>%</th>"
          "<th>on stack</th><th>line</th><th>function</th></tr>\n", f);
    uint64_t below = UINT64_MAX;
    size_t shown = 0;
    while (shown < HOTTEST_LINES) {
        uint64_t best = 0;
        for (size_t i = 0; i < nfiles; i++)
            for (size_t j = 0; j < files[i].count; j++)
                if (files[i].lines[j].self < below && files[i].lines[j].self > best)
                    best = files[i].lines[j].self;
        if (!best)
            break;
        for (size_t i = 0; i < nfiles && shown < HOTTEST_LINES; i++) {
            for (size_t j = 0; j < files[i].count && shown < HOTTEST_LINES; j++) {
                const struct line_heat *l = &files[i].lines[j];
                if (l->self != best)
                    continue;
                fprintf(f, "<tr class=\"hot-line\"><td>%llu</td><td>%.2f</td><td>%llu</td>"
                           "<td><a href=\"#f%zu-L%d\">",
                        (unsigned long long)l->self, total ? 100.0 * (double)l->self / (double)total : 0.0,
                        (unsigned long long)l->total, i, l->line);
                html_str(f, symbols_str(&p->symbols, files[i].file));
                fprintf(f, ":%d</a></td><td>", l->line);
                html_str(f, symbols_str(&p->symbols, l->function));
                fprintf(f, "</td></tr>\n");
                shown++;
            }
        }
        below = best;
    }
    fputs("</table>\n<h2>Files</h2>\n<table class=\"index\"><tr><th>self samples</th><th>%</th>"
          "<th>file</th></tr>\n", f);
    for (size_t i = 0; i < nfiles; i++) {
        fprintf(f, "<tr><td>%llu</td><td>%.2f</td><td><a href=\"#f%zu\">",
                (unsigned long long)files[i].self,
                total ? 100.0 * (double)files[i].self / (double)total : 0.0, i);
        html_str(f, symbols_str(&p->symbols, files[i].file));
        fputs("</a></td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void write_line_row(FILE *f, size_t file_no, int32_t line, const struct line_heat *l,
                           uint64_t max, uint64_t file_hottest, const char *text, size_t len)
{
    int h = l ? heat(l->self, max) : 0;
    const char *cls = l && l->self && l->self == file_hottest ? " class=\"hottest\"" : "";
    fprintf(f, "<tr id=\"f%zu-L%d\"%s data-self=\"%llu\" data-total=\"%llu\" "
               "style=\"--heat:%d\"><td class=\"n\">%d</td><td class=\"s\">",
            file_no, line, cls, (unsigned long long)(l ? l->self : 0),
            (unsigned long long)(l ? l->total : 0), h, line);
    if (l && l->self)
        fprintf(f, "%llu", (unsigned long long)l->self);
    fputs("</td><td class=\"c\">", f);
    if (l && l->total)
        fprintf(f, "%llu", (unsigned long long)l->total);
    fputs("</td><td class=\"src\">", f);
    source_line(f, text, len);
    fputs("</td></tr>\n", f);
}

static void write_file(FILE *f, const struct profile *p, struct target_file_reader *reader,
                       const struct file_heat *fh, size_t file_no, uint64_t max)
{
    const char *path = symbols_str(&p->symbols, fh->file);
    fprintf(f, "<h2 id=\"f%zu\">", file_no);
    html_str(f, path);
    fprintf(f, " <small>%llu self samples</small></h2>\n<table class=\"source\">\n",
            (unsigned long long)fh->self);
    size_t len = 0;
    char *src = NULL;
    enum target_file_status read = target_file_read(reader, path, SOURCE_MAX_BYTES, &src, &len);
    size_t next = 0;    /* next line_heat to place */
    /* Samples whose line is not known (0) come first. */
    static const char UNKNOWN_LINE[] = "(line not known)";
    for (; next < fh->count && fh->lines[next].line < 1; next++)
        write_line_row(f, file_no, fh->lines[next].line, &fh->lines[next], max, fh->hottest,
                       UNKNOWN_LINE, strlen(UNKNOWN_LINE));
    if (src) {
        int32_t line = 1;
        for (size_t pos = 0; pos < len && line > 0; line++) {
            const char *nl = memchr(src + pos, '\n', len - pos);
            size_t end = nl ? (size_t)(nl - src) : len;
            /* A file written on Windows ends its lines with \r\n. */
            size_t text_end = end > pos && src[end - 1] == '\r' ? end - 1 : end;
            /* lines are sorted, one entry each: the next is this one or later */
            const struct line_heat *l =
                next < fh->count && fh->lines[next].line == line ? &fh->lines[next++] : NULL;
            write_line_row(f, file_no, line, l, max, fh->hottest, src + pos, text_end - pos);
            pos = end + 1;
        }
    }
    /* Lines the file does not have (no source, or it changed since). */
    const char *missing = src                               ? "(past the end of the file as read now)"
                          : read == TARGET_FILE_NO_IDENTITY ? "(source not read: strobe could not "
                                                              "take on the target's user to read it)"
                                                            : "(source not available)";
    for (; next < fh->count; next++)
        write_line_row(f, file_no, fh->lines[next].line, &fh->lines[next], max, fh->hottest,
                       missing, strlen(missing));
    fputs("</table>\n", f);
    free(src);
}

static const char HEATMAP_STYLE[] =
    "body{font:13px system-ui,sans-serif;margin:16px;color:#222}"
    "table{border-collapse:collapse}td,th{padding:1px 8px;text-align:left}"
    "table.index tr:nth-child(even){background:#f6f6f6}"
    "table.source{font:12px ui-monospace,monospace;width:100%}"
    "table.source td.n,table.source td.s,table.source td.c{color:#777;text-align:right;width:4em}"
    "table.source td.src{white-space:pre}"
    "table.source tr{background:rgba(230,60,20,calc(var(--heat)/100*0.85))}"
    "tr.hottest td.n{font-weight:bold;color:#b00}"
    "h2 small{color:#777;font-weight:normal}";

void heatmap_write(FILE *f, const struct profile *p)
{
    struct flat_profile flat;
    flat_profile_compute(p, &flat);
    size_t nfiles = 0;
    struct file_heat *files = collect(p, &flat, &nfiles);
    uint64_t max = 0;
    for (size_t i = 0; i < nfiles; i++)
        max = MAX(max, files[i].hottest);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
    fprintf(f, "strobe heat map: pid %d</title><style>%s</style></head><body>\n", (int)p->pid,
            HEATMAP_STYLE);
    fprintf(f, "<h1>strobe heat map: pid %d</h1>\n<p>", (int)p->pid);
    html_str(f, p->target[0] ? p->target : "CPython");
    fprintf(f, ", %.2f s, %llu samples. A line's colour is its share of the samples that were "
               "executing it (self), against the hottest line; \"on stack\" counts samples with "
               "the line anywhere on the stack.</p>\n",
            profile_duration_s(p), (unsigned long long)flat.total_samples);
    write_index(f, p, files, nfiles, flat.total_samples);
    struct target_file_reader *reader = target_file_reader_open(&p->sources_reader);
    for (size_t i = 0; i < nfiles; i++)
        write_file(f, p, reader, &files[i], i, max);
    target_file_reader_close(reader);
    fputs("</body></html>\n", f);
    for (size_t i = 0; i < nfiles; i++)
        free(files[i].lines);
    free(files);
    flat_profile_free(&flat);
}
