/* SPDX-License-Identifier: GPL-2.0-only */
/* pcapng.c - turn JSON event lines with packet bytes into a pcapng stream */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "macro.h"
#include "msgframe.h"
#include "pcapng.h"
#include "util.h"

/* pcapng (draft-ietf-opsawg-pcapng) block types and options. */
#define BT_SHB 0x0A0D0D0AU
#define BT_IDB 0x00000001U
#define BT_EPB 0x00000006U
#define OPT_END 0
#define OPT_COMMENT 1
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_TSRESOL 9
#define LINKTYPE_ETHERNET 1
#define LINKTYPE_RAW 101
#define SNAPLEN 65535

static void put32(struct strbuf *b, uint32_t v)
{
        strbuf_put(b, &v, 4); /* host order: the byte-order magic says which */
}

static void put16(struct strbuf *b, uint16_t v)
{
        strbuf_put(b, &v, 2);
}

static void pad4(struct strbuf *b)
{
        static const char zero[4];

        if (b->len % 4)
                strbuf_put(b, zero, 4 - b->len % 4);
}

static void put_opt(struct strbuf *b, uint16_t code, const void *v, size_t n)
{
        put16(b, code);
        put16(b, (uint16_t)n);
        strbuf_put(b, v, n);
        pad4(b);
}

/* Close a block started at start: the total length at both ends. */
static void block_end(struct strbuf *b, size_t start)
{
        uint32_t total = (uint32_t)(b->len - start + 4);

        memcpy(b->data + start + 4, &total, 4);
        put32(b, total);
}

static void idb(struct strbuf *b, uint16_t linktype, const char *name)
{
        size_t start = b->len;
        uint8_t ns = 9; /* timestamps in nanoseconds */

        put32(b, BT_IDB);
        put32(b, 0);
        put16(b, linktype);
        put16(b, 0);
        put32(b, SNAPLEN);
        put_opt(b, IF_NAME, name, strlen(name));
        put_opt(b, IF_TSRESOL, &ns, 1);
        put_opt(b, OPT_END, NULL, 0);
        block_end(b, start);
}

static int64_t clock_ns(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int pcapng_start(struct pcapng_writer *w, int fd)
{
        static const char appl[] = "ipftctl (skbtraced)";
        struct strbuf *b = &w->block;
        size_t start;
        int r;

        w->fd = fd;
        w->line = (struct strbuf)STRBUF_INIT;
        w->block = (struct strbuf)STRBUF_INIT;
        w->packets = w->skipped = 0;
        w->mono_to_real_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
        start = b->len;
        put32(b, BT_SHB);
        put32(b, 0);
        put32(b, 0x1A2B3C4DU);
        put16(b, 1);
        put16(b, 0);
        put32(b, 0xffffffffU); /* section length unknown: a stream */
        put32(b, 0xffffffffU);
        put_opt(b, SHB_USERAPPL, appl, sizeof(appl) - 1);
        put_opt(b, OPT_END, NULL, 0);
        block_end(b, start);
        idb(b, LINKTYPE_ETHERNET, "skb-l2");
        idb(b, LINKTYPE_RAW, "skb-l3");
        if (strbuf_failed(b))
                return -ENOMEM;
        r = write_full(fd, b->data, b->len);
        strbuf_reset(b);
        return r;
}

int pcapng_event_block(struct strbuf *out, const char *line, size_t len, int64_t mono_to_real_ns)
{
        json_object *ev = NULL, *pkt, *v;
        json_tokener *tok = json_tokener_new();
        const char *hex, *probe, *id;
        char comment[512];
        size_t start, hlen, n;
        uint64_t ts;
        int linktype, r = -EINVAL;

        if (!tok)
                return -ENOMEM;
        ev = json_tokener_parse_ex(tok, line, (int)len);
        json_tokener_free(tok);
        if (!ev || !json_object_is_type(ev, json_type_object) ||
            !json_object_object_get_ex(ev, "packet", &pkt) ||
            !json_object_object_get_ex(pkt, "data", &v))
                goto out;
        hex = json_object_get_string(v);
        hlen = strlen(hex);
        if (hlen % 2)
                goto out;
        linktype = json_object_object_get_ex(pkt, "linktype", &v) ? json_object_get_int(v) : 0;
        if (linktype != LINKTYPE_ETHERNET && linktype != LINKTYPE_RAW)
                goto out;
        ts =
            json_object_object_get_ex(ev, "timestamp", &v) ? (uint64_t)json_object_get_int64(v) : 0;
        ts += (uint64_t)mono_to_real_ns;
        probe = json_object_object_get_ex(ev, "function", &v) ? json_object_get_string(v) : "?";
        id = json_object_object_get_ex(ev, "packet_id", &v) ? json_object_get_string(v) : "?";
        n = (size_t)snprintf(comment, sizeof(comment), "%s packet_id=%s", probe, id);
        if (json_object_object_get_ex(ev, "track_id", &v) && n < sizeof(comment))
                n += (size_t)snprintf(comment + n, sizeof(comment) - n, " track_id=%s",
                                      json_object_get_string(v));
        /* The tunnel (the frame holds its inner packet already): "tunnel=vxlan vni=42". */
        if (json_object_object_get_ex(ev, "tunnel", &v) &&
            json_object_is_type(v, json_type_object) && n < sizeof(comment)) {
                json_object *t, *idv = NULL;
                const char *idname = json_object_object_get_ex(v, "vni", &idv)   ? "vni"
                                     : json_object_object_get_ex(v, "key", &idv) ? "key"
                                                                                 : NULL;

                n += (size_t)snprintf(
                    comment + n, sizeof(comment) - n, " tunnel=%s",
                    json_object_object_get_ex(v, "type", &t) ? json_object_get_string(t) : "?");
                if (idname && n < sizeof(comment))
                        n += (size_t)snprintf(comment + n, sizeof(comment) - n, " %s=%s", idname,
                                              json_object_get_string(idv));
        }
        if (n >= sizeof(comment))
                n = sizeof(comment) - 1;

        start = out->len;
        put32(out, BT_EPB);
        put32(out, 0);
        put32(out, linktype == LINKTYPE_ETHERNET ? 0 : 1);
        put32(out, (uint32_t)(ts >> 32));
        put32(out, (uint32_t)ts);
        put32(out, (uint32_t)(hlen / 2));
        put32(out, json_object_object_get_ex(pkt, "orig_len", &v)
                       ? (uint32_t)json_object_get_int64(v)
                       : (uint32_t)(hlen / 2));
        for (size_t i = 0; i < hlen; i += 2) {
                int hi = skbt_hex_digit(hex[i]), lo = skbt_hex_digit(hex[i + 1]);

                if (hi < 0 || lo < 0) {
                        out->len = start;
                        goto out;
                }
                strbuf_putc(out, (char)(hi << 4 | lo));
        }
        pad4(out);
        put_opt(out, OPT_COMMENT, comment, n);
        put_opt(out, OPT_END, NULL, 0);
        block_end(out, start);
        r = strbuf_failed(out) ? -ENOMEM : 0;
out:
        json_object_put(ev);
        return r;
}

int pcapng_feed(struct pcapng_writer *w, const char *data, size_t len)
{
        const char *p = data, *end = data + len;
        int r;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));

                if (!nl) {
                        strbuf_put(&w->line, p, (size_t)(end - p));
                        break;
                }
                if (w->line.len) {
                        strbuf_put(&w->line, p, (size_t)(nl - p));
                        r = pcapng_event_block(&w->block, w->line.data, w->line.len,
                                               w->mono_to_real_ns);
                        strbuf_reset(&w->line);
                } else {
                        r = pcapng_event_block(&w->block, p, (size_t)(nl - p), w->mono_to_real_ns);
                }
                if (r == 0)
                        w->packets++;
                else
                        w->skipped++;
                p = nl + 1;
        }
        if (strbuf_failed(&w->block) || strbuf_failed(&w->line))
                return -ENOMEM;
        if (!w->block.len)
                return 0;
        r = write_full(w->fd, w->block.data, w->block.len);
        strbuf_reset(&w->block);
        return r;
}

void pcapng_done(struct pcapng_writer *w)
{
        strbuf_done(&w->line);
        strbuf_done(&w->block);
}
