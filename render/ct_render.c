/* SPDX-License-Identifier: GPL-2.0-only */
/* ct_render.c - conntrack (--ct): a record's conntrack entry after an event, as text or JSON */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ct_render.h"
#include "macro.h"

/*
 * The names below are UAPI (include/uapi/linux/netfilter/nf_conntrack_common.h,
 * nf_conntrack_tcp.h): numbers that do not change between kernels, so a
 * table is safe here where drop reasons must come from BTF.
 */
const char *skbt_ct_info_name(uint8_t ctinfo)
{
        static const char *const names[] = {"established",       "related",       "new",
                                            "established-reply", "related-reply", "new-reply",
                                            "ctinfo#6",          "untracked"};

        return names[ctinfo & 7];
}

static const char *const status_names[] = {
    "EXPECTED",   "SEEN_REPLY",   "ASSURED",      "CONFIRMED",  "SRC_NAT",       "DST_NAT",
    "SEQ_ADJUST", "SRC_NAT_DONE", "DST_NAT_DONE", "DYING",      "FIXED_TIMEOUT", "TEMPLATE",
    "NAT_CLASH",  "HELPER",       "OFFLOAD",      "HW_OFFLOAD",
};

const char *skbt_ct_status_name(unsigned bit)
{
        return bit < ARRAY_SIZE(status_names) ? status_names[bit] : NULL;
}

const char *skbt_ct_tcp_state_name(uint8_t st)
{
        static const char *const names[] = {"NONE",     "SYN_SENT",   "SYN_RECV", "ESTABLISHED",
                                            "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT",
                                            "CLOSE",    "SYN_SENT2"};

        return st < ARRAY_SIZE(names) ? names[st] : NULL;
}

#define AF_INET_ 2
#define AF_INET6_ 10
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_DCCP 33
#define PROTO_ICMPV6 58
#define PROTO_SCTP 132
#define PROTO_UDPLITE 136

const char *skbt_ct_proto_name(uint8_t p)
{
        switch (p) {
        case PROTO_ICMP:
                return "icmp";
        case PROTO_TCP:
                return "tcp";
        case PROTO_UDP:
                return "udp";
        case PROTO_DCCP:
                return "dccp";
        case PROTO_ICMPV6:
                return "icmp6";
        case PROTO_SCTP:
                return "sctp";
        case PROTO_UDPLITE:
                return "udplite";
        }
        return NULL;
}

static bool proto_has_ports(uint8_t p)
{
        return p == PROTO_TCP || p == PROTO_UDP || p == PROTO_DCCP || p == PROTO_SCTP ||
               p == PROTO_UDPLITE;
}

static uint64_t raw_uint(const struct skbt_ct_rec *r, uint32_t off, uint32_t size)
{
        uint64_t v = 0;

        if (off + size > r->len || off + size > SKBT_CT_RAW_MAX || size > sizeof(v))
                return 0;
        /* Little endian (x86-64, the only architecture the BPF side is built for). */
        memcpy(&v, r->raw + off, size);
        return v;
}

static uint16_t raw_be16(const struct skbt_ct_rec *r, uint32_t off)
{
        return ntohs((uint16_t)raw_uint(r, off, 2));
}

struct ct_tuple {
        char saddr[INET6_ADDRSTRLEN], daddr[INET6_ADDRSTRLEN];
        bool v6;
        uint8_t proto;
        uint16_t sport, dport;        /* proto_has_ports() */
        uint16_t id;                  /* icmp: src.u.icmp.id */
        uint8_t icmp_type, icmp_code; /* icmp: dst.u.icmp.type, code */
};

static void tuple_read(const struct skbt_ct_layout *l, const struct skbt_ct_rec *r, int dir,
                       struct ct_tuple *t)
{
        uint32_t base = l->tuple[dir];
        uint16_t l3 = (uint16_t)raw_uint(r, base + l->src_l3num, 2);
        int af = l3 == AF_INET6_ ? AF_INET6 : AF_INET;
        uint8_t a[16] = {0};

        memset(t, 0, sizeof(*t));
        t->v6 = af == AF_INET6;
        t->proto = (uint8_t)raw_uint(r, base + l->dst_protonum, 1);
        if (base + l->src_u3 + 16 <= r->len)
                memcpy(a, r->raw + base + l->src_u3, 16);
        inet_ntop(af, a, t->saddr, sizeof(t->saddr));
        memset(a, 0, sizeof(a));
        if (base + l->dst_u3 + 16 <= r->len)
                memcpy(a, r->raw + base + l->dst_u3, 16);
        inet_ntop(af, a, t->daddr, sizeof(t->daddr));
        if (proto_has_ports(t->proto)) {
                t->sport = raw_be16(r, base + l->src_u);
                t->dport = raw_be16(r, base + l->dst_u);
        } else if (t->proto == PROTO_ICMP || t->proto == PROTO_ICMPV6) {
                t->id = raw_be16(r, base + l->src_u);
                t->icmp_type = (uint8_t)raw_uint(r, base + l->dst_u, 1);
                t->icmp_code = (uint8_t)raw_uint(r, base + l->dst_u + 1, 1);
        }
}

static void put_endpoint_text(struct strbuf *out, const struct ct_tuple *t, const char *a,
                              uint16_t port)
{
        bool ports = proto_has_ports(t->proto);

        if (ports && t->v6)
                strbuf_printf(out, "[%s]:%u", a, port);
        else if (ports)
                strbuf_printf(out, "%s:%u", a, port);
        else
                strbuf_puts(out, a);
}

static void put_tuple_text(struct strbuf *out, const char *key, const struct ct_tuple *t)
{
        strbuf_puts(out, key);
        put_endpoint_text(out, t, t->saddr, t->sport);
        strbuf_puts(out, "->");
        put_endpoint_text(out, t, t->daddr, t->dport);
}

static void put_tuple_json(struct strbuf *out, const struct ct_tuple *t)
{
        strbuf_printf(out, "{\"saddr\":\"%s\",\"daddr\":\"%s\"", t->saddr, t->daddr);
        if (proto_has_ports(t->proto))
                strbuf_printf(out, ",\"sport\":%u,\"dport\":%u", t->sport, t->dport);
        else if (t->proto == PROTO_ICMP || t->proto == PROTO_ICMPV6)
                strbuf_printf(out, ",\"id\":%u,\"type\":%u,\"code\":%u", t->id, t->icmp_type,
                              t->icmp_code);
        strbuf_putc(out, '}');
}

static void put_status(struct strbuf *out, uint64_t status, bool json)
{
        bool first = true;

        strbuf_puts(out, json ? "[" : "");
        for (unsigned i = 0; i < 64; i++) {
                if (!(status & (1ULL << i)))
                        continue;
                if (!first)
                        strbuf_putc(out, ',');
                first = false;
                if (json)
                        strbuf_putc(out, '"');
                if (i < ARRAY_SIZE(status_names))
                        strbuf_puts(out, status_names[i]);
                else
                        strbuf_printf(out, "bit%u", i);
                if (json)
                        strbuf_putc(out, '"');
        }
        if (json)
                strbuf_putc(out, ']');
        else if (first)
                strbuf_puts(out, "none");
}

static void put_ct_text(struct strbuf *out, const struct skbt_ct_layout *l,
                        const struct skbt_ct_rec *r)
{
        struct ct_tuple orig, reply;
        const char *pn, *ts;

        if (!(r->flags & (SKBT_CT_ENTRY | SKBT_CT_UNTRACKED))) {
                strbuf_puts(out, " ct=none");
                return;
        }
        strbuf_puts(out, " ct=");
        strbuf_puts(out, skbt_ct_info_name(r->ctinfo));
        if (!(r->flags & SKBT_CT_ENTRY))
                return;
        if (r->flags & SKBT_CT_FAULT) {
                strbuf_puts(out, " ct_error=unreadable");
                return;
        }
        tuple_read(l, r, 0, &orig);
        tuple_read(l, r, 1, &reply);
        strbuf_puts(out, " ct_status=");
        put_status(out, raw_uint(r, l->status, l->status_size), false);
        if (l->has_zone)
                strbuf_printf(out, " ct_zone=%u", (unsigned)raw_uint(r, l->zone, 2));
        if (l->has_mark)
                strbuf_printf(out, " ct_mark=%u", (unsigned)raw_uint(r, l->mark, 4));
        pn = skbt_ct_proto_name(orig.proto);
        if (pn)
                strbuf_printf(out, " ct_proto=%s", pn);
        else
                strbuf_printf(out, " ct_proto=%u", orig.proto);
        ts = orig.proto == PROTO_TCP && l->has_tcp_state
                 ? skbt_ct_tcp_state_name((uint8_t)raw_uint(r, l->tcp_state, 1))
                 : NULL;
        if (ts)
                strbuf_printf(out, " ct_tcp=%s", ts);
        put_tuple_text(out, " ct_orig=", &orig);
        put_tuple_text(out, " ct_reply=", &reply);
}

static void put_ct_json(struct strbuf *out, const struct skbt_ct_layout *l,
                        const struct skbt_ct_rec *r)
{
        struct ct_tuple orig, reply;
        const char *pn, *ts;

        if (!(r->flags & (SKBT_CT_ENTRY | SKBT_CT_UNTRACKED))) {
                strbuf_puts(out, ",\"conntrack\":null");
                return;
        }
        strbuf_printf(out, ",\"conntrack\":{\"state\":\"%s\"", skbt_ct_info_name(r->ctinfo));
        if (!(r->flags & SKBT_CT_ENTRY)) {
                strbuf_putc(out, '}');
                return;
        }
        if (r->flags & SKBT_CT_FAULT) {
                strbuf_puts(out, ",\"error\":\"unreadable\"}");
                return;
        }
        tuple_read(l, r, 0, &orig);
        tuple_read(l, r, 1, &reply);
        strbuf_puts(out, ",\"status\":");
        put_status(out, raw_uint(r, l->status, l->status_size), true);
        if (l->has_zone)
                strbuf_printf(out, ",\"zone\":%u", (unsigned)raw_uint(r, l->zone, 2));
        if (l->has_mark)
                strbuf_printf(out, ",\"mark\":%u", (unsigned)raw_uint(r, l->mark, 4));
        pn = skbt_ct_proto_name(orig.proto);
        if (pn)
                strbuf_printf(out, ",\"proto\":\"%s\"", pn);
        else
                strbuf_printf(out, ",\"proto\":%u", orig.proto);
        ts = orig.proto == PROTO_TCP && l->has_tcp_state
                 ? skbt_ct_tcp_state_name((uint8_t)raw_uint(r, l->tcp_state, 1))
                 : NULL;
        if (ts)
                strbuf_printf(out, ",\"tcp_state\":\"%s\"", ts);
        strbuf_puts(out, ",\"orig\":");
        put_tuple_json(out, &orig);
        strbuf_puts(out, ",\"reply\":");
        put_tuple_json(out, &reply);
        strbuf_putc(out, '}');
}

void skbt_ct_format(struct strbuf *out, enum skbt_output fmt, const struct skbt_ct_layout *l,
                    const struct skbt_ct_rec *r)
{
        bool json = fmt == SKBT_OUTPUT_JSON || fmt == SKBT_OUTPUT_AGGREGATE_JSON;

        /* The line ends in "\n" (text) or "}\n" (JSON): reopen it. */
        if (out->len < 2 || out->data[out->len - 1] != '\n' ||
            (json && out->data[out->len - 2] != '}'))
                return;
        out->len -= json ? 2 : 1;
        if (json)
                put_ct_json(out, l, r);
        else
                put_ct_text(out, l, r);
        strbuf_puts(out, json ? "}\n" : "\n");
}
