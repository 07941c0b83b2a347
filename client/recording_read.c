/* SPDX-License-Identifier: GPL-2.0-only */
/* recording_read.c - read a recording's lines back, through zstd or gzip, naming offsets on errors
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dynlib.h"
#include "macro.h"
#include "recording.h"
#include "util.h"

#define IN_SIZE (64 * 1024)
#define OUT_STEP (128 * 1024)

struct rec_reader {
        int fd;
        enum rec_compress comp;
        ZSTD_DStream *zd;
        z_stream gz;
        bool gz_open;
        bool frame_open; /* inside a zstd frame or gzip member not yet ended */
        uint8_t in[IN_SIZE];
        size_t in_len, in_pos;
        uint64_t file_off; /* bytes read from the file */
        bool file_eof;
        struct strbuf data; /* decompressed, from data_off on */
        size_t pos;         /* the next line starts at data.data + pos */
        uint64_t data_off;
        uint64_t line_no, line_off;
};

/* Like skbt_fail(), with the error to return. */
static int _printf_(4, 5) rfail(int error, char *err, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        skbt_vfail(err, errlen, fmt, ap);
        va_end(ap);
        return error;
}

/* The file offset of the next compressed byte to be used. */
static uint64_t in_offset(const struct rec_reader *r)
{
        return r->file_off - (r->in_len - r->in_pos);
}

static int read_in(struct rec_reader *r, char *err, size_t errlen)
{
        ssize_t n;

        if (r->in_pos < r->in_len || r->file_eof)
                return 0;
        do
                n = read(r->fd, r->in, sizeof(r->in));
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return rfail(-EIO, err, errlen, "read error at byte %llu: %s",
                             (unsigned long long)r->file_off, strerror(errno));
        r->in_len = (size_t)n;
        r->in_pos = 0;
        r->file_off += (uint64_t)n;
        r->file_eof = n == 0;
        return 0;
}

int rec_reader_open(const char *path, struct rec_reader **ret, char *err, size_t errlen)
{
        _cleanup_(rec_reader_freep) struct rec_reader *r = calloc(1, sizeof(*r));
        static const uint8_t zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};
        int e;

        if (!r)
                return rfail(-ENOMEM, err, errlen, "out of memory");
        r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (r->fd < 0) {
                e = negative_errno();
                return rfail(e, err, errlen, "cannot open: %s", strerror(-e));
        }
        if (read_in(r, err, errlen) < 0)
                return -EIO;
        if (r->in_len >= 4 && memcmp(r->in, zstd_magic, 4) == 0) {
                r->comp = REC_COMPRESS_ZSTD;
                e = skbt_zstd_load(err, errlen);
                if (e < 0)
                        return e;
                r->zd = ZSTD_createDStream();
                if (!r->zd)
                        return rfail(-ENOMEM, err, errlen, "out of memory");
        } else if (r->in_len >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b) {
                r->comp = REC_COMPRESS_GZIP;
                e = skbt_zlib_load(err, errlen);
                if (e < 0)
                        return e;
                if (inflateInit2(&r->gz, 15 + 16) != Z_OK)
                        return rfail(-ENOMEM, err, errlen, "out of memory");
                r->gz_open = true;
        }
        *ret = TAKE_PTR(r);
        return 0;
}

struct rec_reader *rec_reader_free(struct rec_reader *r)
{
        if (!r)
                return NULL;
        safe_close(r->fd);
        if (r->zd) /* else libzstd may not be loaded */
                ZSTD_freeDStream(r->zd);
        if (r->gz_open)
                inflateEnd(&r->gz);
        strbuf_done(&r->data);
        free(r);
        return NULL;
}

static int zstd_step(struct rec_reader *r, char *err, size_t errlen)
{
        ZSTD_inBuffer in = {r->in + r->in_pos, r->in_len - r->in_pos, 0};
        ZSTD_outBuffer out;
        size_t ret;

        if (!strbuf_reserve(&r->data, OUT_STEP))
                return rfail(-ENOMEM, err, errlen, "out of memory");
        out = (ZSTD_outBuffer){r->data.data + r->data.len, OUT_STEP, 0};
        ret = ZSTD_decompressStream(r->zd, &out, &in);
        if (ZSTD_isError(ret)) {
                return rfail(-EBADMSG, err, errlen,
                             "corrupt zstd data at byte %llu of the file: %s",
                             (unsigned long long)in_offset(r), ZSTD_getErrorName(ret));
        }
        r->in_pos += in.pos;
        r->data.len += out.pos;
        /* 0: a frame was decoded and flushed completely.  A call with nothing to
         * do (the input at its end) says nothing about the stream. */
        if (in.pos || out.pos)
                r->frame_open = ret != 0;
        return 0;
}

static int gzip_step(struct rec_reader *r, char *err, size_t errlen)
{
        int zr;

        if (!strbuf_reserve(&r->data, OUT_STEP))
                return rfail(-ENOMEM, err, errlen, "out of memory");
        r->gz.next_in = r->in + r->in_pos;
        r->gz.avail_in = (uInt)(r->in_len - r->in_pos);
        r->gz.next_out = (Bytef *)r->data.data + r->data.len;
        r->gz.avail_out = OUT_STEP;
        zr = inflate(&r->gz, Z_NO_FLUSH);
        if (zr == Z_BUF_ERROR && r->in_pos == r->in_len)
                return 0; /* no progress possible: nothing in, nothing pending */
        r->in_pos = r->in_len - r->gz.avail_in;
        r->data.len += OUT_STEP - r->gz.avail_out;
        if (zr == Z_STREAM_END) {
                /* gzip members may follow each other (cat a.gz b.gz). */
                r->frame_open = false;
                inflateReset(&r->gz);
                return 0;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
                return rfail(-EBADMSG, err, errlen,
                             "corrupt gzip data at byte %llu of the file: %s",
                             (unsigned long long)in_offset(r), r->gz.msg ? r->gz.msg : "error");
        }
        r->frame_open = true;
        return 0;
}

/* More data after data.len; 0 at the end of the file (nothing added). */
static int fill(struct rec_reader *r, char *err, size_t errlen)
{
        size_t before = r->data.len;
        int e;

        while (r->data.len == before) {
                e = read_in(r, err, errlen);
                if (e < 0)
                        return e;
                if (r->comp == REC_COMPRESS_NONE) {
                        if (r->in_pos == r->in_len)
                                return 0; /* end of file */
                        strbuf_put(&r->data, r->in + r->in_pos, r->in_len - r->in_pos);
                        if (strbuf_failed(&r->data))
                                return rfail(-ENOMEM, err, errlen, "out of memory");
                        r->in_pos = r->in_len;
                        continue;
                }
                /* Also with no input left: the decompressor may hold output that did
                 * not fit last time. */
                e = r->comp == REC_COMPRESS_ZSTD ? zstd_step(r, err, errlen)
                                                 : gzip_step(r, err, errlen);
                if (e < 0)
                        return e;
                if (r->data.len == before && r->in_pos == r->in_len && r->file_eof)
                        return 0;
        }
        return 1;
}

int rec_reader_line(struct rec_reader *r, const char **line, size_t *len, char *err, size_t errlen)
{
        size_t scanned = r->pos;
        int e;

        for (;;) {
                char *nl = r->data.len > scanned
                               ? memchr(r->data.data + scanned, '\n', r->data.len - scanned)
                               : NULL;

                if (nl) {
                        *line = r->data.data + r->pos;
                        *len = (size_t)(nl - *line);
                        r->line_no++;
                        r->line_off = r->data_off + r->pos;
                        r->pos = (size_t)(nl - r->data.data) + 1;
                        return 1;
                }
                if (r->data.len - r->pos > REC_LINE_MAX)
                        return rfail(-EBADMSG, err, errlen,
                                     "line %llu at byte %llu is longer than %u bytes",
                                     (unsigned long long)r->line_no + 1,
                                     (unsigned long long)(r->data_off + r->pos), REC_LINE_MAX);
                /* Keep the partial line only. */
                if (r->pos)
                        memmove(r->data.data, r->data.data + r->pos, r->data.len - r->pos);
                r->data.len -= r->pos;
                r->data_off += r->pos;
                r->pos = 0;
                scanned = r->data.len;
                e = fill(r, err, errlen);
                if (e < 0)
                        return e;
                if (e > 0)
                        continue;
                if (r->frame_open)
                        return rfail(-EBADMSG, err, errlen,
                                     "truncated: the file ends inside a %s stream at byte %llu "
                                     "(after line %llu): the recording was cut short",
                                     rec_compress_to_string(r->comp),
                                     (unsigned long long)r->file_off,
                                     (unsigned long long)r->line_no);
                if (r->data.len)
                        return rfail(-EBADMSG, err, errlen,
                                     "truncated: line %llu at byte %llu has no end: the "
                                     "recording was cut short",
                                     (unsigned long long)r->line_no + 1,
                                     (unsigned long long)r->data_off);
                return 0;
        }
}

uint64_t rec_reader_line_no(const struct rec_reader *r)
{
        return r->line_no;
}

uint64_t rec_reader_offset(const struct rec_reader *r)
{
        return r->line_off;
}

enum rec_compress rec_reader_compress(const struct rec_reader *r)
{
        return r->comp;
}
