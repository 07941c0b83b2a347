/* SPDX-License-Identifier: GPL-2.0-only */
/* test_recording.c - recording files: parts, rotation, zstd and gzip; damage reported with offsets
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recording.h"
#include "testlib.h"

static char dir[] = "/tmp/skbt-rec-XXXXXX";

static char *path_in(const char *name)
{
        static char buf[4][512];
        static int i;

        snprintf(buf[i % 4], sizeof(buf[0]), "%s/%s", dir, name);
        return buf[i++ % 4];
}

static const char header[] = "{\"record\":\"header\",\"format\":1,\"id\":\"abc\"";

/* Event-like lines, different enough that compression cannot hide them all. */
static void event_line(char *buf, size_t len, int i)
{
        uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ULL;

        snprintf(buf, len,
                 "{\"packet_id\":\"0xffff8880%08x\",\"timestamp\":%d,\"function\":\"f%d\","
                 "\"pad\":\"%016llx%016llx\"}\n",
                 i * 2654435761u, i, i % 7, (unsigned long long)x,
                 (unsigned long long)(x * 0xbf58476d1ce4e5b9ULL));
}

/* Write n events, rotating as o says; returns the parts written. */
static uint32_t write_events(struct rec_write_opts *o, int n, uint64_t ns_per_event)
{
        struct rec_writer *w = NULL;
        char line[256];
        uint32_t parts;

        CHECK_INTEQ(rec_writer_new(o, &w), 0);
        if (!w)
                return 0;
        CHECK_INTEQ(rec_writer_header(w, header, strlen(header)), 0);
        for (int i = 0; i < n; i++) {
                event_line(line, sizeof(line), i);
                CHECK_INTEQ(rec_writer_lines(w, line, strlen(line), 1 + (uint64_t)i * ns_per_event),
                            0);
                if (i % 100 == 0)
                        CHECK_INTEQ(rec_writer_flush(w), 0);
        }
        CHECK_INTEQ(rec_writer_close(w), 0);
        parts = rec_writer_parts(w);
        rec_writer_free(w);
        return parts;
}

/* Every line of a file, checked against what was written; returns the events read. */
static int read_back(const char *path, int first, uint32_t part, bool last)
{
        struct rec_reader *r = NULL;
        const char *line;
        size_t len;
        char err[256], want[256], head[64];
        int n = 0, e;

        CHECK_INTEQ(rec_reader_open(path, &r, err, sizeof(err)), 0);
        if (!r)
                return 0;
        CHECK_INTEQ(rec_reader_line(r, &line, &len, err, sizeof(err)), 1);
        snprintf(head, sizeof(head), ",\"part\":%u}", part);
        CHECK(len == strlen(header) + strlen(head) && memcmp(line, header, strlen(header)) == 0 &&
              memcmp(line + strlen(header), head, strlen(head)) == 0);
        while ((e = rec_reader_line(r, &line, &len, err, sizeof(err))) > 0) {
                if (len > 10 && memcmp(line, REC_META_PREFIX, strlen(REC_META_PREFIX)) == 0) {
                        /* A rotated part ends with its end record. */
                        CHECK(!last && strstr(line, "\"rotate\""));
                        continue;
                }
                event_line(want, sizeof(want), first + n);
                CHECK(len == strlen(want) - 1 && memcmp(line, want, len) == 0);
                n++;
        }
        CHECK_INTEQ(e, 0);
        if (e < 0)
                fprintf(stderr, "%s: %s\n", path, err);
        rec_reader_free(r);
        return n;
}

static void test_part_names(void)
{
        struct {
                const char *in, *want;
        } cases[] = {
            {"drops.jsonl.zst", "drops-0002.jsonl.zst"},
            {"/var/tmp/x.y/drops", "/var/tmp/x.y/drops-0002"},
            {".hidden.gz", ".hidden-0002.gz"},
            {"a/b.c.d", "a/b-0002.c.d"},
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char *p = rec_part_path(cases[i].in, 2);

                CHECK_STREQ(p, cases[i].want);
                free(p);
        }
        CHECK_INTEQ(rec_compress_for_path("a.jsonl.zst"), REC_COMPRESS_ZSTD);
        CHECK_INTEQ(rec_compress_for_path("a.jsonl.gz"), REC_COMPRESS_GZIP);
        CHECK_INTEQ(rec_compress_for_path("a.jsonl"), REC_COMPRESS_NONE);
}

/* Rotation by size in every compression; the parts hold every event once, in order. */
static void test_rotation(enum rec_compress c, const char *name)
{
        struct rec_write_opts o = {.path = path_in(name), .compress = c, .rotate_bytes = 16384};
        uint32_t parts = write_events(&o, 3000, 1000);
        int n = 0;

        CHECK(parts >= 3);
        if (parts < 3)
                fprintf(stderr, "%s: %u parts\n", name, parts);
        for (uint32_t p = 1; p <= parts; p++) {
                char *part = rec_part_path(o.path, p);
                struct stat st;

                CHECK_INTEQ(stat(part, &st), 0);
                /* Sizes are checked as bytes reach the disk: one compressed block late. */
                CHECK(st.st_size <= 16384 + (c == REC_COMPRESS_NONE ? 256 : 140 * 1024));
                n += read_back(part, n, p, p == parts);
                free(part);
        }
        CHECK_INTEQ(n, 3000);
}

/* --rotate-age and --rotate-keep: old parts go. */
static void test_age_keep(void)
{
        struct rec_write_opts o = {.path = path_in("age.jsonl"), .rotate_ns = 100000, .keep = 2};
        uint32_t parts = write_events(&o, 1000, 1000); /* a part per 100 events */
        char *p;

        CHECK_INTEQ(parts, 10);
        for (uint32_t i = 1; i <= parts; i++) {
                p = rec_part_path(o.path, i);
                CHECK_INTEQ(access(p, F_OK) == 0, i > parts - 2);
                free(p);
        }
        p = rec_part_path(o.path, 9);
        CHECK_INTEQ(read_back(p, 800, 9, false), 100);
        free(p);
}

/* A header far larger than one decompression step (a function backend's probe table). */
static void test_big_header(enum rec_compress c, const char *name)
{
        struct rec_write_opts o = {.path = path_in(name), .compress = c};
        struct rec_writer *w = NULL;
        struct rec_reader *r = NULL;
        size_t n = 600 * 1024, len;
        char *big = malloc(n + 64), err[256];
        const char *line;

        strcpy(big, header);
        for (size_t i = strlen(header); i < n; i += 16)
                memcpy(big + i, ",\"x\":\"01234567\"", 16);
        CHECK_INTEQ(rec_writer_new(&o, &w), 0);
        CHECK_INTEQ(rec_writer_header(w, big, n), 0);
        CHECK_INTEQ(rec_writer_lines(w, "{\"a\":1}\n", 8, 1), 0);
        CHECK_INTEQ(rec_writer_flush(w), 0);
        /* Not closed: as a recorder killed after a flush leaves it. */
        CHECK_INTEQ(rec_reader_open(o.path, &r, err, sizeof(err)), 0);
        CHECK_INTEQ(rec_reader_line(r, &line, &len, err, sizeof(err)), 1);
        CHECK_INTEQ(len, n + strlen(",\"part\":1}"));
        CHECK_INTEQ(rec_reader_line(r, &line, &len, err, sizeof(err)), 1);
        CHECK(len == 7 && memcmp(line, "{\"a\":1}", 7) == 0);
        CHECK_INTEQ(rec_reader_line(r, &line, &len, err, sizeof(err)),
                    c == REC_COMPRESS_NONE ? 0 : -EBADMSG);
        rec_reader_free(r);
        rec_writer_free(w);
        free(big);
}

static void test_no_overwrite(void)
{
        struct rec_write_opts o = {.path = path_in("once.jsonl")};
        struct rec_writer *w = NULL;

        CHECK_INTEQ(write_events(&o, 1, 0), 1);
        CHECK_INTEQ(rec_writer_new(&o, &w), -EEXIST);
        CHECK(!w);
}

static void write_file(const char *path, const void *data, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        CHECK(fd >= 0 && write(fd, data, len) == (ssize_t)len);
        close(fd);
}

static void *read_file(const char *path, size_t *len)
{
        struct stat st;
        char *buf;
        int fd = open(path, O_RDONLY);

        CHECK(fd >= 0 && fstat(fd, &st) == 0);
        buf = malloc((size_t)st.st_size + 1);
        CHECK(buf && read(fd, buf, (size_t)st.st_size) == st.st_size);
        close(fd);
        *len = (size_t)st.st_size;
        return buf;
}

/* Read to the end; the error of the first failure, with its message. */
static int read_all(const char *path, char *err, size_t errlen, int *lines)
{
        struct rec_reader *r = NULL;
        const char *line;
        size_t len;
        int e;

        *lines = 0;
        e = rec_reader_open(path, &r, err, errlen);
        if (e < 0)
                return e;
        while ((e = rec_reader_line(r, &line, &len, err, errlen)) > 0)
                (*lines)++;
        rec_reader_free(r);
        return e;
}

/* Cut, flipped and garbage files: an error naming where, and the lines before it. */
static void test_damage(enum rec_compress c, const char *name)
{
        struct rec_write_opts o = {.path = path_in(name), .compress = c};
        char err[256], *cut_path = path_in("cut"), *flip_path = path_in("flip");
        size_t len;
        char *data;
        int lines, e;

        write_events(&o, 2000, 0);
        data = read_file(o.path, &len);

        /* Cut in the middle. */
        write_file(cut_path, data, len / 2);
        e = read_all(cut_path, err, sizeof(err), &lines);
        CHECK_INTEQ(e, -EBADMSG);
        CHECK(strstr(err, "truncated") && strstr(err, "at byte"));
        CHECK(lines > 100 && lines < 2000);
        if (!strstr(err, "truncated"))
                fprintf(stderr, "%s cut: %s\n", name, err);

        /* A byte flipped: compressed data says corrupt (zstd checksums, gzip CRC);
         * plain text gives a line the JSON reader refuses later. */
        data[len / 3] ^= 0x5a;
        write_file(flip_path, data, len);
        e = read_all(flip_path, err, sizeof(err), &lines);
        if (c == REC_COMPRESS_NONE) {
                CHECK_INTEQ(e, 0);
        } else {
                CHECK_INTEQ(e, -EBADMSG);
                CHECK(strstr(err, "corrupt") && strstr(err, "at byte"));
                if (!strstr(err, "corrupt"))
                        fprintf(stderr, "%s flip: %s\n", name, err);
        }
        free(data);
}

static void test_garbage(void)
{
        char err[256];
        int lines;
        char big[64];
        const char *p = path_in("garbage");
        int fd;

        write_file(p, "", 0);
        CHECK_INTEQ(read_all(p, err, sizeof(err), &lines), 0);
        CHECK_INTEQ(lines, 0);
        /* zstd's magic and then nothing sensible. */
        write_file(p, "\x28\xb5\x2f\xfd\x00\x00\x00garbage", 14);
        CHECK_INTEQ(read_all(p, err, sizeof(err), &lines), -EBADMSG);
        CHECK(strstr(err, "at byte"));
        write_file(p, "\x1f\x8b\x08garbage", 10);
        CHECK_INTEQ(read_all(p, err, sizeof(err), &lines), -EBADMSG);
        CHECK(strstr(err, "at byte"));
        /* A line without end, longer than the limit. */
        fd = open(p, O_WRONLY | O_TRUNC);
        memset(big, 'x', sizeof(big));
        for (size_t n = 0; n <= REC_LINE_MAX; n += sizeof(big))
                CHECK(write(fd, big, sizeof(big)) == sizeof(big));
        close(fd);
        CHECK_INTEQ(read_all(p, err, sizeof(err), &lines), -EBADMSG);
        CHECK_STREQ(err, "line 1 at byte 0 is longer than 16777216 bytes");
        CHECK_INTEQ(read_all(path_in("nonexistent"), err, sizeof(err), &lines), -ENOENT);
}

int main(void)
{
        char cmd[600];

        if (!mkdtemp(dir))
                return EXIT_FAILURE;
        test_part_names();
        test_rotation(REC_COMPRESS_NONE, "rot.jsonl");
        test_rotation(REC_COMPRESS_ZSTD, "rot.jsonl.zst");
        test_rotation(REC_COMPRESS_GZIP, "rot.jsonl.gz");
        test_age_keep();
        test_big_header(REC_COMPRESS_NONE, "big.jsonl");
        test_big_header(REC_COMPRESS_ZSTD, "big.jsonl.zst");
        test_big_header(REC_COMPRESS_GZIP, "big.jsonl.gz");
        test_no_overwrite();
        test_damage(REC_COMPRESS_NONE, "dmg.jsonl");
        test_damage(REC_COMPRESS_ZSTD, "dmg.jsonl.zst");
        test_damage(REC_COMPRESS_GZIP, "dmg.jsonl.gz");
        test_garbage();
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "cannot remove %s\n", dir);
        return TEST_DONE();
}
