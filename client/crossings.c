/* SPDX-License-Identifier: GPL-2.0-only */
/* crossings.c - tracepkt's view: a line each time a packet enters a new (netns, interface) */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "crossings.h"
#include "macro.h"
#include "msgframe.h"

void crossings_init(struct crossings *x, int fd)
{
        memset(x, 0, sizeof(*x));
        x->fd = fd;
        x->batch = 1; /* slots' line_batch 0: no line */
}

void crossings_done(struct crossings *x)
{
        strbuf_done(&x->line);
        strbuf_done(&x->out);
}

static const char *jstr(json_object *o, const char *key)
{
        json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t jint(json_object *o, const char *key, int64_t def)
{
        json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : def;
}

static struct crossings_slot *slot_of(struct crossings *x, uint64_t key)
{
        struct crossings_slot *oldest = NULL;
        uint64_t h = key * 0x9e3779b97f4a7c15ULL;

        /* A short probe sequence; the table forgets rather than grows. */
        for (unsigned i = 0; i < 8; i++) {
                struct crossings_slot *s = &x->slot[(h + i) % CROSSINGS_SLOTS];

                if (s->key == key)
                        return s;
                if (!s->key) {
                        s->key = key;
                        s->netns = s->ifindex = 0;
                        s->line_batch = 0;
                        return s;
                }
                if (!oldest || s->seen < oldest->seen)
                        oldest = s;
        }
        oldest->key = key;
        oldest->netns = oldest->ifindex = 0;
        oldest->line_batch = 0;
        return oldest;
}

/* What the packet is, tracepkt style: "request", "reply", "TCP [S.]", "UDP". */
static void put_what(struct strbuf *out, json_object *tuple, json_object *icmp)
{
        const char *proto = jstr(tuple, "proto");
        const char *flags = jstr(tuple, "tcp_flags");
        int64_t type = icmp ? jint(icmp, "type", -1) : -1;

        if (icmp && (type == 8 || type == 128)) {
                strbuf_puts(out, "request");
        } else if (icmp && (type == 0 || type == 129)) {
                strbuf_puts(out, "reply");
        } else if (proto) {
                for (const char *p = proto; *p; p++)
                        strbuf_putc(out, (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p));
                if (icmp)
                        strbuf_printf(out, " type %" PRId64, type);
                if (flags)
                        strbuf_printf(out, " [%s]", flags);
        } else {
                strbuf_puts(out, "proto ");
                strbuf_puts(out,
                            json_object_to_json_string(json_object_object_get(tuple, "proto")));
        }
}

static void put_endpoint(struct strbuf *out, json_object *tuple, const char *addr, const char *port)
{
        int64_t p = jint(tuple, port, 0);
        const char *proto = jstr(tuple, "proto");
        bool ports =
            proto && (!strcmp(proto, "tcp") || !strcmp(proto, "udp") || !strcmp(proto, "sctp"));
        const char *a = jstr(tuple, addr);

        if (!a)
                a = "?";
        if (!ports) {
                strbuf_puts(out, a);
                return;
        }
        if (strchr(a, ':'))
                strbuf_printf(out, "[%s]:%" PRId64, a, p);
        else
                strbuf_printf(out, "%s:%" PRId64, a, p);
}

/*
 * "[4026532317]", or "[blue:4026532317]" when the namespace has a name (ip
 * netns).  Names are file names: anything but a printable ASCII byte shows as
 * '?', so that a name cannot send terminal escapes.
 */
static void put_netns(struct strbuf *out, json_object *ev)
{
        const char *name = jstr(ev, "netns_name");
        int64_t netns = jint(ev, "netns", 0);

        if (!name || !*name) {
                strbuf_printf(out, "[%10" PRId64 "]", netns);
                return;
        }
        strbuf_putc(out, '[');
        for (const char *c = name; *c; c++)
                strbuf_putc(out, *c > 0x20 && *c < 0x7f ? *c : '?');
        strbuf_printf(out, ":%" PRId64 "]", netns);
}

/*
 * " filter.INPUT:DROP": the verdict of one table or chain evaluation; with
 * the rule that decided (--nf-rules), "t.in:DROP(rule 4)" or "(policy)".
 */
static void put_verdict(struct strbuf *out, json_object *nf)
{
        json_object *rule, *v;

        strbuf_printf(out, " %s.%s:%s", jstr(nf, "table") ?: "?", jstr(nf, "chain") ?: "?",
                      jstr(nf, "verdict") ?: "?");
        if (!json_object_object_get_ex(nf, "rule", &rule) ||
            !json_object_is_type(rule, json_type_object))
                return;
        if (json_object_object_get_ex(rule, "policy", &v) && json_object_get_boolean(v))
                strbuf_puts(out, "(policy)");
        else if (json_object_object_get_ex(rule, "handle", &v))
                strbuf_printf(out, "(rule %" PRId64 ")", json_object_get_int64(v));
}

/* " vxlan 42 {request 10.0.0.1 -> 10.0.0.2}": a tunnel and its inner packet. */
static void put_tunnel(struct strbuf *out, json_object *ev)
{
        json_object *tun, *inner, *icmp = NULL, *v;

        if (!json_object_object_get_ex(ev, "tunnel", &tun) ||
            !json_object_is_type(tun, json_type_object))
                return;
        strbuf_printf(out, " %s", jstr(tun, "type") ?: "?");
        if (json_object_object_get_ex(tun, "vni", &v) || json_object_object_get_ex(tun, "key", &v))
                strbuf_printf(out, " %" PRId64, json_object_get_int64(v));
        if (!json_object_object_get_ex(tun, "inner", &inner) ||
            !json_object_is_type(inner, json_type_object))
                return;
        json_object_object_get_ex(tun, "inner_icmp", &icmp);
        strbuf_puts(out, " {");
        put_what(out, inner, icmp);
        strbuf_putc(out, ' ');
        put_endpoint(out, inner, "saddr", "sport");
        strbuf_puts(out, " -> ");
        put_endpoint(out, inner, "daddr", "dport");
        strbuf_putc(out, '}');
}

/* Add the verdict to the packet's line if it is still in out, else give it a line. */
static void add_verdict(struct crossings *x, struct crossings_slot *s, json_object *ev,
                        json_object *nf, struct strbuf *out)
{
        struct strbuf v = STRBUF_INIT;
        size_t pos;

        put_verdict(&v, nf);
        if (strbuf_failed(&v) || s->line_batch != x->batch || s->line_end >= out->len ||
            !strbuf_reserve(out, v.len)) {
                put_netns(out, ev);
                strbuf_printf(out, " %-16s %s  (%s)\n", jstr(ev, "ifname") ?: "?",
                              v.data ? v.data + 1 : "?", jstr(ev, "function") ?: "?");
                strbuf_done(&v);
                return;
        }
        pos = s->line_end;
        memmove(out->data + pos + v.len, out->data + pos, out->len - pos);
        memcpy(out->data + pos, v.data, v.len);
        out->len += v.len;
        for (unsigned i = 0; i < CROSSINGS_SLOTS; i++)
                if (x->slot[i].line_batch == x->batch && x->slot[i].line_end >= pos &&
                    &x->slot[i] != s)
                        x->slot[i].line_end += v.len;
        s->line_end += v.len;
        strbuf_done(&v);
}

int crossings_event(struct crossings *x, const char *line, size_t len, struct strbuf *out)
{
        json_tokener *tok = json_tokener_new();
        json_object *ev = NULL, *tuple, *icmp = NULL, *v;
        struct crossings_slot *s;
        const char *fn, *id, *ifname;
        uint64_t key;
        int64_t netns, ifindex;
        int r = 0;

        if (!tok)
                return -ENOMEM;
        ev = json_tokener_parse_ex(tok, line, (int)len);
        json_tokener_free(tok);
        if (!ev || !json_object_is_type(ev, json_type_object))
                goto out;
        fn = jstr(ev, "function");
        id = jstr(ev, "packet_id");
        netns = jint(ev, "netns", 0);
        ifindex = jint(ev, "ifindex", 0);
        ifname = jstr(ev, "ifname");
        /* The journey's id when the session follows packets, else the skb. */
        key =
            json_object_object_get_ex(ev, "track_id", &v) ? (uint64_t)json_object_get_int64(v) : 0;
        if (!key && id)
                key = strtoull(id, NULL, 16);
        if (!key || !fn)
                goto out;
        s = slot_of(x, key);
        s->seen = ++x->clock;
        if (ifindex && (s->netns != (uint32_t)netns || s->ifindex != (uint32_t)ifindex)) {
                s->netns = (uint32_t)netns;
                s->ifindex = (uint32_t)ifindex;
                put_netns(out, ev);
                strbuf_printf(out, " %-16s ", ifname ? ifname : "?");
                if (json_object_object_get_ex(ev, "tuple", &tuple) &&
                    json_object_is_type(tuple, json_type_object)) {
                        json_object_object_get_ex(ev, "icmp", &icmp);
                        put_what(out, tuple, icmp);
                        strbuf_putc(out, ' ');
                        put_endpoint(out, tuple, "saddr", "sport");
                        strbuf_puts(out, " -> ");
                        put_endpoint(out, tuple, "daddr", "dport");
                        put_tunnel(out, ev);
                } else {
                        strbuf_printf(out, "protocol %s", jstr(ev, "protocol") ?: "?");
                }
                strbuf_printf(out, "  (%s)", fn);
                s->line_end = out->len;
                s->line_batch = x->batch;
                strbuf_putc(out, '\n');
                x->lines++;
        }
        /* An evaluation's verdict; drops it explains carry it too, and a drop reason. */
        if (json_object_object_get_ex(ev, "netfilter", &v) &&
            json_object_is_type(v, json_type_object) && !jstr(ev, "drop_reason"))
                add_verdict(x, s, ev, v, out);
        /* The skb is gone: its address may come back as another packet. */
        if (!strcmp(fn, "skb:consume_skb") || !strcmp(fn, "skb:kfree_skb"))
                s->key = 0;
out:
        json_object_put(ev);
        return r;
}

int crossings_feed(struct crossings *x, const char *data, size_t len)
{
        const char *p = data, *end = data + len;
        int r;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));

                if (!nl) {
                        strbuf_put(&x->line, p, (size_t)(end - p));
                        break;
                }
                if (x->line.len) {
                        strbuf_put(&x->line, p, (size_t)(nl - p));
                        crossings_event(x, x->line.data, x->line.len, &x->out);
                        strbuf_reset(&x->line);
                } else {
                        crossings_event(x, p, (size_t)(nl - p), &x->out);
                }
                p = nl + 1;
        }
        if (strbuf_failed(&x->out) || strbuf_failed(&x->line))
                return -ENOMEM;
        if (!x->out.len)
                return 0;
        r = write_full(x->fd, x->out.data, x->out.len);
        strbuf_reset(&x->out);
        x->batch++;
        return r;
}
