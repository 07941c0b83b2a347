/* SPDX-License-Identifier: GPL-2.0-only */
/* recording_write.c - write a recording: parts, rotation by size and age, zstd or gzip */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dynlib.h"
#include "log.h"
#include "macro.h"
#include "msgframe.h"
#include "recording.h"

#define ZSTD_LEVEL 1 /* speed first: a recording client must keep up with the daemon */
#define GZIP_LEVEL 6

struct rec_writer {
        struct rec_write_opts o;
        char *base; /* the path as given */
        char *path; /* the part being written */
        int fd;
        uint32_t part;     /* 1, 2, ... */
        uint64_t bytes;    /* on disk in this part */
        uint64_t start_ns; /* when this part started (for rotate_ns) */
        char *header;      /* without the part number and closing brace */
        size_t header_len;
        ZSTD_CCtx *zc;
        z_stream gz;
        bool gz_open;
        struct strbuf out; /* compressed bytes on their way to the file */
};

const char *rec_compress_to_string(enum rec_compress c)
{
        switch (c) {
        case REC_COMPRESS_GZIP:
                return "gzip";
        case REC_COMPRESS_ZSTD:
                return "zstd";
        default:
                return "none";
        }
}

int rec_compress_from_string(const char *s, enum rec_compress *ret)
{
        for (enum rec_compress c = REC_COMPRESS_NONE; c <= REC_COMPRESS_ZSTD; c++)
                if (strcmp(s, rec_compress_to_string(c)) == 0) {
                        *ret = c;
                        return 0;
                }
        return -EINVAL;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);

        return n >= m && strcmp(s + n - m, suffix) == 0;
}

enum rec_compress rec_compress_for_path(const char *path)
{
        if (ends_with(path, ".zst") || ends_with(path, ".zstd"))
                return REC_COMPRESS_ZSTD;
        if (ends_with(path, ".gz"))
                return REC_COMPRESS_GZIP;
        return REC_COMPRESS_NONE;
}

char *rec_part_path(const char *path, uint32_t n)
{
        const char *name = strrchr(path, '/');
        const char *dot;
        char *ret;

        name = name ? name + 1 : path;
        /* "drops.jsonl.zst": the number goes before ".jsonl.zst"; a leading dot
         * (a hidden file) is part of the name. */
        dot = strchr(name + (name[0] == '.'), '.');
        if (!dot)
                dot = name + strlen(name);
        if (asprintf(&ret, "%.*s-%04u%s", (int)(dot - path), path, n, dot) < 0)
                return NULL;
        return ret;
}

static bool rotating(const struct rec_writer *w)
{
        return w->o.rotate_bytes || w->o.rotate_ns;
}

/* ---- compression ---- */

static int out_drain(struct rec_writer *w)
{
        int r;

        if (strbuf_failed(&w->out))
                return -ENOMEM;
        if (!w->out.len)
                return 0;
        r = write_full(w->fd, w->out.data, w->out.len);
        if (r < 0)
                return r;
        w->bytes += w->out.len;
        strbuf_reset(&w->out);
        return 0;
}

static int zstd_run(struct rec_writer *w, const void *data, size_t len, ZSTD_EndDirective mode)
{
        ZSTD_inBuffer in = {data, len, 0};

        for (;;) {
                size_t room = ZSTD_CStreamOutSize(), left;
                ZSTD_outBuffer out;

                if (!strbuf_reserve(&w->out, room))
                        return -ENOMEM;
                out = (ZSTD_outBuffer){w->out.data + w->out.len, room, 0};
                left = ZSTD_compressStream2(w->zc, &out, &in, mode);
                if (ZSTD_isError(left))
                        return log_error_errno(-EIO, "zstd compression failed: %s",
                                               ZSTD_getErrorName(left));
                w->out.len += out.pos;
                /* Done when the input is taken and, when flushing, nothing is left. */
                if (in.pos == in.size && (mode == ZSTD_e_continue || left == 0))
                        return out_drain(w);
                if (w->out.len >= (1u << 20)) {
                        int r = out_drain(w);

                        if (r < 0)
                                return r;
                }
        }
}

static int gzip_run(struct rec_writer *w, const void *data, size_t len, int flush)
{
        w->gz.next_in = (Bytef *)data;
        w->gz.avail_in = (uInt)len;
        for (;;) {
                size_t room = 64 * 1024;
                int zr;

                if (!strbuf_reserve(&w->out, room))
                        return -ENOMEM;
                w->gz.next_out = (Bytef *)w->out.data + w->out.len;
                w->gz.avail_out = (uInt)room;
                zr = deflate(&w->gz, flush);
                if (zr == Z_STREAM_ERROR)
                        return log_error_errno(-EIO, "gzip compression failed");
                w->out.len += room - w->gz.avail_out;
                /* deflate() leaves output room unused only when it has nothing more. */
                if (w->gz.avail_in == 0 && w->gz.avail_out != 0)
                        return out_drain(w);
                if (w->out.len >= (1u << 20)) {
                        int r = out_drain(w);

                        if (r < 0)
                                return r;
                }
        }
}

static int put(struct rec_writer *w, const void *data, size_t len)
{
        int r;

        switch (w->o.compress) {
        case REC_COMPRESS_ZSTD:
                return zstd_run(w, data, len, ZSTD_e_continue);
        case REC_COMPRESS_GZIP:
                return gzip_run(w, data, len, Z_NO_FLUSH);
        default:
                r = write_full(w->fd, data, len);
                if (r == 0)
                        w->bytes += len;
                return r;
        }
}

int rec_writer_flush(struct rec_writer *w)
{
        if (!w || w->fd < 0)
                return 0;
        switch (w->o.compress) {
        case REC_COMPRESS_ZSTD:
                return zstd_run(w, NULL, 0, ZSTD_e_flush);
        case REC_COMPRESS_GZIP:
                return gzip_run(w, NULL, 0, Z_SYNC_FLUSH);
        default:
                return 0;
        }
}

/* ---- parts ---- */

static int part_close(struct rec_writer *w)
{
        int r = 0;

        if (w->fd < 0)
                return 0;
        if (w->o.compress == REC_COMPRESS_ZSTD)
                r = zstd_run(w, NULL, 0, ZSTD_e_end);
        else if (w->o.compress == REC_COMPRESS_GZIP && w->gz_open)
                r = gzip_run(w, NULL, 0, Z_FINISH);
        if (w->gz_open) {
                deflateEnd(&w->gz);
                w->gz_open = false;
        }
        if (close(w->fd) < 0 && r == 0)
                r = negative_errno();
        w->fd = -1;
        if (r < 0)
                return log_error_errno(r, "cannot write %s: %m", w->path);
        return 0;
}

/* The compression library, opened the first time it is needed (common/dynlib.h). */
static int compress_load(enum rec_compress c)
{
        char err[256];
        int r = 0;

        if (c == REC_COMPRESS_ZSTD)
                r = skbt_zstd_load(err, sizeof(err));
        else if (c == REC_COMPRESS_GZIP)
                r = skbt_zlib_load(err, sizeof(err));
        if (r < 0)
                return log_error_errno(r, "%s", err);
        return 0;
}

static int part_open(struct rec_writer *w)
{
        char *path = rotating(w) ? rec_part_path(w->base, w->part) : strdup(w->base);
        int r;

        if (!path)
                return log_error_errno(-ENOMEM, "out of memory");
        free(w->path);
        w->path = path;
        /* Never over an existing file: a recording is evidence, and a typo must
         * not destroy another one. */
        w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
        if (w->fd < 0) {
                r = negative_errno();
                if (r == -EEXIST)
                        return log_error_errno(r,
                                               "%s exists already: choose another name or "
                                               "remove it first",
                                               path);
                return log_error_errno(r, "cannot create %s: %m", path);
        }
        w->bytes = 0;
        r = compress_load(w->o.compress);
        if (r < 0)
                return r;
        if (w->o.compress == REC_COMPRESS_ZSTD) {
                if (!w->zc && !(w->zc = ZSTD_createCCtx()))
                        return log_error_errno(-ENOMEM, "out of memory");
                ZSTD_CCtx_reset(w->zc, ZSTD_reset_session_only);
                ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, ZSTD_LEVEL);
                ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 1);
        } else if (w->o.compress == REC_COMPRESS_GZIP) {
                w->gz = (z_stream){0};
                /* 15 + 16: a gzip stream (header and CRC), as gzip and zcat read it. */
                if (deflateInit2(&w->gz, GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
                    Z_OK)
                        return log_error_errno(-ENOMEM, "out of memory");
                w->gz_open = true;
        }
        return 0;
}

static int part_header(struct rec_writer *w)
{
        char tail[64];
        int n = snprintf(tail, sizeof(tail), ",\"part\":%u}\n", w->part);
        int r;

        if (!w->header)
                return 0;
        r = put(w, w->header, w->header_len);
        return r < 0 ? r : put(w, tail, (size_t)n);
}

/* Delete the part that fell out of the kept window. */
static void prune(struct rec_writer *w)
{
        char *old;

        if (!w->o.keep || w->part <= w->o.keep)
                return;
        old = rec_part_path(w->base, w->part - w->o.keep);
        if (old && unlink(old) < 0 && errno != ENOENT)
                log_warning_errno(negative_errno(), "cannot remove old part %s: %m, ignoring", old);
        free(old);
}

static int rotate(struct rec_writer *w, uint64_t now_ns)
{
        _cleanup_free_ char *next = rec_part_path(w->base, w->part + 1);
        char line[512];
        int n, r;

        if (!next)
                return log_error_errno(-ENOMEM, "out of memory");
        n = snprintf(line, sizeof(line),
                     REC_META_PREFIX "end\",\"reason\":\"rotate\",\"next\":\"%s\"}\n",
                     strrchr(next, '/') ? strrchr(next, '/') + 1 : next);
        /* A file name with a quote or control character would break the line:
         * the next part is found by its number anyway. */
        if (n < 0 || (size_t)n >= sizeof(line) || strpbrk(next, "\"\\\n"))
                n = snprintf(line, sizeof(line), REC_META_PREFIX "end\",\"reason\":\"rotate\"}\n");
        r = put(w, line, (size_t)n);
        if (r == 0)
                r = part_close(w);
        if (r < 0)
                return r;
        w->part++;
        w->start_ns = now_ns;
        r = part_open(w);
        if (r == 0)
                r = part_header(w);
        prune(w);
        return r;
}

int rec_writer_new(const struct rec_write_opts *o, struct rec_writer **ret)
{
        _cleanup_(rec_writer_freep) struct rec_writer *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return log_error_errno(-ENOMEM, "out of memory");
        w->fd = -1;
        w->o = *o;
        w->part = 1;
        w->base = strdup(o->path);
        if (!w->base)
                return log_error_errno(-ENOMEM, "out of memory");
        w->o.path = w->base;
        r = part_open(w);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(w);
        return 0;
}

int rec_writer_header(struct rec_writer *w, const char *header, size_t len)
{
        free(w->header);
        w->header = malloc(len);
        if (!w->header)
                return log_error_errno(-ENOMEM, "out of memory");
        memcpy(w->header, header, len);
        w->header_len = len;
        return part_header(w);
}

int rec_writer_lines(struct rec_writer *w, const char *data, size_t len, uint64_t now_ns)
{
        const char *p = data, *end = data + len;
        int r;

        if (!w->start_ns)
                w->start_ns = now_ns;
        if (!rotating(w))
                return put(w, data, len);
        /* Line by line only when a part may end: between two lines. */
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

                if ((w->o.rotate_bytes && w->bytes + w->out.len >= w->o.rotate_bytes) ||
                    (w->o.rotate_ns && now_ns - w->start_ns >= w->o.rotate_ns)) {
                        r = rotate(w, now_ns);
                        if (r < 0)
                                return r;
                }
                r = put(w, p, n);
                if (r < 0)
                        return r;
                p += n;
        }
        return 0;
}

int rec_writer_close(struct rec_writer *w)
{
        return part_close(w);
}

void rec_writer_abandon(struct rec_writer *w)
{
        if (w->fd >= 0)
                w->fd = safe_close(w->fd);
        if (w->path && unlink(w->path) < 0 && errno != ENOENT)
                log_warning_errno(negative_errno(), "cannot remove %s: %m, ignoring", w->path);
}

const char *rec_writer_path(const struct rec_writer *w)
{
        return w->path;
}

uint32_t rec_writer_parts(const struct rec_writer *w)
{
        return w->part;
}

struct rec_writer *rec_writer_free(struct rec_writer *w)
{
        if (!w)
                return NULL;
        if (w->fd >= 0)
                (void)part_close(w);
        if (w->zc) /* else libzstd may not be loaded */
                ZSTD_freeCCtx(w->zc);
        strbuf_done(&w->out);
        free(w->header);
        free(w->path);
        free(w->base);
        free(w);
        return NULL;
}
