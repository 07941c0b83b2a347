/* SPDX-License-Identifier: GPL-2.0-only */
/* fields_render.c - custom field values (-F) and packet bytes (pcapng) appended to an event */
#include <string.h>

#include "fields_render.h"
#include "macro.h"

static uint64_t field_value(const struct skbt_field_spec *fs, uint64_t v, int64_t *sv)
{
        unsigned bits = fs->f.bit_size ? fs->f.bit_size : fs->f.size * 8u;

        if (fs->big_endian) {
                if (fs->f.size == 2)
                        v = __builtin_bswap16((uint16_t)v);
                else if (fs->f.size == 4)
                        v = __builtin_bswap32((uint32_t)v);
                else if (fs->f.size == 8)
                        v = __builtin_bswap64(v);
        }
        if (bits < 64)
                v &= (1ULL << bits) - 1;
        if (fs->is_signed && bits < 64 && (v >> (bits - 1)) & 1)
                *sv = (int64_t)(v | ~((1ULL << bits) - 1));
        else
                *sv = (int64_t)v;
        return v;
}

void skbt_fields_format(struct strbuf *out, enum skbt_output fmt,
                        const struct skbt_session_fields *sf, const uint64_t *vals)
{
        bool json = fmt == SKBT_OUTPUT_JSON;

        /* The line ends in "\n" (text) or "}\n" (JSON): reopen it. */
        if (out->len < 2 || out->data[out->len - 1] != '\n' ||
            (json && out->data[out->len - 2] != '}'))
                return;
        out->len -= json ? 2 : 1;
        if (json)
                strbuf_puts(out, ",\"fields\":{");
        for (uint32_t i = 0; i < sf->n; i++) {
                const struct skbt_field_spec *fs = &sf->f[i];
                int64_t sv;
                uint64_t v = field_value(fs, vals[fs->slot % SKBT_FIELDS_MAX], &sv);

                if (json) {
                        if (i)
                                strbuf_putc(out, ',');
                        strbuf_put_json_string(out, fs->name, strlen(fs->name));
                        strbuf_putc(out, ':');
                } else {
                        strbuf_putc(out, ' ');
                        strbuf_puts(out, fs->name);
                        strbuf_putc(out, '=');
                }
                if (fs->is_ptr) {
                        if (json)
                                strbuf_putc(out, '"');
                        strbuf_put_hex(out, v);
                        if (json)
                                strbuf_putc(out, '"');
                } else if (fs->is_signed) {
                        strbuf_put_i64(out, sv);
                } else {
                        strbuf_put_u64(out, v);
                }
        }
        strbuf_puts(out, json ? "}}\n" : "\n");
}

void skbt_snap_format(struct strbuf *out, enum skbt_output fmt, const struct skbt_event *ev,
                      const struct skbt_snap *snap)
{
        (void)ev;
        static const char hex[] = "0123456789abcdef";
        uint32_t len = MIN(snap->len, (uint32_t)SKBT_SNAP_MAX);
        uint64_t orig = MAX((uint64_t)len, (uint64_t)snap->orig_len);
        char *p;

        if (fmt != SKBT_OUTPUT_JSON || out->len < 2 || out->data[out->len - 2] != '}' ||
            out->data[out->len - 1] != '\n')
                return;
        out->len -= 2;
        strbuf_puts(out, ",\"packet\":{\"linktype\":");
        /* LINKTYPE_ETHERNET, or LINKTYPE_RAW (IPv4/IPv6 by the version nibble). */
        strbuf_put_u64(out, snap->l2 ? 1 : 101);
        strbuf_puts(out, ",\"orig_len\":");
        strbuf_put_u64(out, orig);
        strbuf_puts(out, ",\"data\":\"");
        if (!strbuf_reserve(out, 2 * (size_t)len))
                return;
        p = out->data + out->len;
        for (uint32_t i = 0; i < len; i++) {
                *p++ = hex[snap->data[i] >> 4];
                *p++ = hex[snap->data[i] & 0xf];
        }
        out->len = (size_t)(p - out->data);
        strbuf_puts(out, "\"}}\n");
}

void skbt_dump_format(struct strbuf *out, enum skbt_output fmt, const struct skbt_dump *d)
{
        static const char hex[] = "0123456789abcdef";
        bool json = fmt == SKBT_OUTPUT_JSON || fmt == SKBT_OUTPUT_AGGREGATE_JSON;
        uint32_t len = MIN(d->len, (uint32_t)SKBT_DUMP_MAX - 1);
        bool cut = d->want >= 0 && (uint64_t)d->want > len;
        char *p;

        /* The text may stop early at a NUL the kernel wrote. */
        len = (uint32_t)strnlen(d->text, len);
        if (out->len < 2 || out->data[out->len - 1] != '\n' ||
            (json && out->data[out->len - 2] != '}'))
                return;
        if (json) {
                out->len -= 2;
                strbuf_puts(out, ",\"skb_dump\":");
                strbuf_put_json_string(out, d->text, len);
                if (d->want < 0) {
                        strbuf_puts(out, ",\"skb_dump_error\":");
                        strbuf_put_i64(out, d->want);
                } else if (cut) {
                        strbuf_puts(out, ",\"skb_dump_size\":");
                        strbuf_put_u64(out, (uint64_t)d->want);
                }
                strbuf_puts(out, "}\n");
                return;
        }
        strbuf_puts(out, "    skb ");
        if (!strbuf_reserve(out, 4 * (size_t)len))
                return;
        p = out->data + out->len;
        for (uint32_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)d->text[i];

                if (c >= 0x20 && c < 0x7f && c != '\\') {
                        *p++ = (char)c;
                } else {
                        *p++ = '\\';
                        *p++ = 'x';
                        *p++ = hex[c >> 4];
                        *p++ = hex[c & 0xf];
                }
        }
        out->len = (size_t)(p - out->data);
        if (d->want < 0)
                strbuf_printf(out, "(error %d)", d->want);
        else if (cut)
                strbuf_printf(out, " (cut: %u of %d bytes)", len, d->want);
        strbuf_putc(out, '\n');
}

void skbt_format_tails(struct strbuf *out, enum skbt_output fmt, const struct skbt_tails *t,
                       const void *rec, size_t size)
{
        const struct skbt_event *ev = rec;
        const char *bytes = rec;

        /* The tails are in big records only. */
        if (size < SKBT_REC_BIG)
                return;
        if (t->fields && t->fields->n && (ev->flags & SKBT_EV_FIELDS))
                skbt_fields_format(out, fmt, t->fields,
                                   (const uint64_t *)(bytes + SKBT_REC_VALS_OFF));
        if (t->ct && (ev->flags & SKBT_EV_CT))
                skbt_ct_format(out, fmt, t->ct,
                               (const struct skbt_ct_rec *)(bytes + SKBT_REC_CT_OFF));
        if (t->snapshot && (ev->flags & SKBT_EV_SNAP))
                skbt_snap_format(out, fmt, ev,
                                 (const struct skbt_snap *)(bytes + SKBT_REC_SNAP_OFF));
        if (t->dump && size >= SKBT_REC_DUMP)
                skbt_dump_format(out, fmt, (const struct skbt_dump *)(bytes + SKBT_REC_DUMP_OFF));
}
