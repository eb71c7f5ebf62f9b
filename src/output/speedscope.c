/*
 * speedscope.c — see speedscope.h.
 */
#include "output/speedscope.h"

#include "output/formats.h"
#include "output/json.h"

#include <stdlib.h>

#define SPEEDSCOPE_SCHEMA "https://www.speedscope.app/file-format-schema.json"

static void write_frames(FILE *f, const struct symbols *s)
{
    fputs("\"shared\":{\"frames\":[", f);
    for (size_t i = 0; i < s->count; i++) {
        const struct frame_sym *fs = symbols_get(s, (uint32_t)i);
        fputs(i ? ",\n{\"name\":" : "\n{\"name\":", f);
        json_string(f, symbols_str(s, fs->name));
        fputs(",\"file\":", f);
        json_string(f, symbols_str(s, fs->file));
        fprintf(f, ",\"line\":%d}", fs->line);
    }
    fputs("]}", f);
}

static void write_thread(FILE *f, const struct profile *p, const struct calltree_leaves *leaves,
                         size_t thread, uint32_t *path)
{
    const struct calltree *t = &p->tree;
    char label[THREAD_LABEL_MAX];
    output_thread_label(&t->threads[thread], label, sizeof(label));
    uint64_t total_ns = 0;
    fputs("{\"type\":\"sampled\",\"name\":", f);
    json_string(f, label);
    fputs(",\"unit\":\"seconds\",\"startValue\":0,\"samples\":[", f);
    for (size_t i = leaves->start[thread]; i < leaves->start[thread + 1]; i++) {
        size_t depth = calltree_path(t, leaves->nodes[i], path);
        fputs(i > leaves->start[thread] ? ",\n[" : "\n[", f);
        while (depth--)
            fprintf(f, depth ? "%u," : "%u", path[depth]);
        fputc(']', f);
        total_ns += t->nodes[leaves->nodes[i]].self_ns;
    }
    fputs("],\"weights\":[", f);
    for (size_t i = leaves->start[thread]; i < leaves->start[thread + 1]; i++) {
        if (i > leaves->start[thread])
            fputc(',', f);
        json_seconds(f, t->nodes[leaves->nodes[i]].self_ns);
    }
    fputs("],\"endValue\":", f);
    json_seconds(f, total_ns);
    fputc('}', f);
}

void speedscope_write(FILE *f, const struct profile *p)
{
    const struct calltree *t = &p->tree;
    struct calltree_leaves leaves;
    calltree_leaves_collect(t, &leaves);
    uint32_t *path = xmalloc((leaves.max_depth + 1) * sizeof(*path));
    char name[128];
    snprintf(name, sizeof(name), "strobe: pid %d (%s)", (int)p->pid,
             p->target[0] ? p->target : "CPython");

    fputs("{\"$schema\":\"" SPEEDSCOPE_SCHEMA "\",\n\"exporter\":\"strobe " STROBE_VERSION "\",\n",
          f);
    fputs("\"name\":", f);
    json_string(f, name);
    fputs(",\n\"activeProfileIndex\":0,\n", f);
    write_frames(f, &p->symbols);
    fputs(",\n\"profiles\":[", f);
    bool first = true;
    for (size_t i = 0; i < t->nthreads; i++) {
        if (leaves.start[i] == leaves.start[i + 1])
            continue;
        fputs(first ? "\n" : ",\n", f);
        first = false;
        write_thread(f, p, &leaves, i, path);
    }
    fputs("]}\n", f);
    free(path);
    calltree_leaves_free(&leaves);
}
