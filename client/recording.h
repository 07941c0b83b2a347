/* SPDX-License-Identifier: GPL-2.0-only */
/* recording.h - recording files (ipftctl trace -w): write with rotation and compression, read back
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "strbuf.h"

/*
 * A recording is JSON Lines (docs/recording.md), optionally compressed as a
 * whole (zstd or gzip streams, as zstdcat and zcat read them):
 *
 *   {"record":"header","format":1,...}   what produced it: daemon, kernel,
 *                                         probes, the session's request
 *   {"packet_id":...}                     events, exactly as the daemon sent them
 *   {"record":"loss",...}                 loss counters when they changed
 *   {"record":"end","reason":"rotate"}    a part's end when rotated
 *   {"record":"summary",...}              the daemon's end-of-session summary
 *
 * With rotation every part starts with the header (its "part" counting from
 * 1), so each file can be read alone.
 */

#define REC_FORMAT 1
/* A longer line is corruption (events are a few KiB at most). */
#define REC_LINE_MAX (16u << 20)
/* Meta records start so; events start with {"packet_id". */
#define REC_META_PREFIX "{\"record\":\""

enum rec_compress {
        REC_COMPRESS_NONE = 0,
        REC_COMPRESS_GZIP,
        REC_COMPRESS_ZSTD,
};

const char *rec_compress_to_string(enum rec_compress c);
int rec_compress_from_string(const char *s, enum rec_compress *ret);
/* From a file name's extension: .zst, .gz, else none. */
enum rec_compress rec_compress_for_path(const char *path);

struct rec_write_opts {
        const char *path;
        enum rec_compress compress;
        uint64_t rotate_bytes; /* start a new part past this many bytes on disk; 0: never */
        uint64_t rotate_ns;    /* ... or after this long; 0: never */
        uint32_t keep;         /* with rotation: delete the oldest parts beyond this; 0: all */
};

struct rec_writer;

/*
 * Create the first part (O_EXCL: an existing file is not overwritten).
 * header: the header object without its closing brace and part number
 * ('{"record":"header",...'): each part's header gets ',"part":N}'.
 */
int rec_writer_new(const struct rec_write_opts *o, struct rec_writer **ret);
struct rec_writer *rec_writer_free(struct rec_writer *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rec_writer *, rec_writer_free);
/* Remove what was created (the session never started). */
void rec_writer_abandon(struct rec_writer *w);
/* The header (see above), written at the start of this and every later part. */
int rec_writer_header(struct rec_writer *w, const char *header, size_t len);
/* Complete lines: events, or a meta record.  Rotates between lines when due. */
int rec_writer_lines(struct rec_writer *w, const char *data, size_t len, uint64_t now_ns);
/* Make what was written readable by a reader of the file now (compressed streams are
 * flushed; costs compression ratio, so call it about once a second). */
int rec_writer_flush(struct rec_writer *w);
/* End the last part's compressed stream and close it. */
int rec_writer_close(struct rec_writer *w);
/* The path of the part being written; parts written so far. */
const char *rec_writer_path(const struct rec_writer *w);
uint32_t rec_writer_parts(const struct rec_writer *w);
/* The name of part n (from 1) of a rotated recording at path: "drops.jsonl.zst" ->
 * "drops-0002.jsonl.zst" (the number before the first '.' of the file name). */
char *rec_part_path(const char *path, uint32_t n);

struct rec_reader;

/* Open a recording (compression found from its first bytes); -errno with a message. */
int rec_reader_open(const char *path, struct rec_reader **ret, char *err, size_t errlen);
struct rec_reader *rec_reader_free(struct rec_reader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rec_reader *, rec_reader_free);
/*
 * The next line (without its newline, valid until the next call): 1, or 0 at
 * the end, or -EBADMSG/-EIO with a message naming the offset (a corrupt or
 * truncated file, a line too long).
 */
int rec_reader_line(struct rec_reader *r, const char **line, size_t *len, char *err, size_t errlen);
/* Where the last line started: its number (from 1) and its byte offset in the data. */
uint64_t rec_reader_line_no(const struct rec_reader *r);
uint64_t rec_reader_offset(const struct rec_reader *r);
enum rec_compress rec_reader_compress(const struct rec_reader *r);
