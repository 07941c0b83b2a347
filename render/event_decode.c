/* SPDX-License-Identifier: GPL-2.0-only */
/* event_decode.c - JSON events (as the daemon renders them) back into the records renderers take */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_decode.h"
#include "json_scan.h"
#include "util.h"

/*
 * Symbols (drop locations, stack frames) are strings in JSON.  Each distinct
 * one gets an address in a range no kernel text address has; the
 * symbolizer we give the renderers turns it back into the string.  Every
 * location and frame goes through this, also those the daemon printed as
 * "0x..." (no symbol), so the renderer prints what the recording says.
 */
#define SYM_BASE 0x5eb7000000000000ULL

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_SCTP_ 132

/* ---- interned strings ---- */

struct intern {
        char **str;      /* by id, NUL-terminated */
        uint32_t *len;   /* by id (a string may hold NUL bytes from \u0000) */
        uint32_t n, cap; /* ids in use, room in str */
        uint32_t *slot;  /* open addressing: id + 1, 0 for empty */
        uint32_t n_slots;
};

static void intern_done(struct intern *t)
{
        for (uint32_t i = 0; i < t->n; i++)
                free(t->str[i]);
        free(t->str);
        free(t->len);
        free(t->slot);
        *t = (struct intern){0};
}

static uint32_t hash_bytes(const char *s, size_t n)
{
        uint32_t h = 2166136261u;

        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)s[i]) * 16777619u;
        return h;
}

static int intern_grow(struct intern *t)
{
        uint32_t n_slots = t->n_slots ? t->n_slots * 2 : 256;
        uint32_t *slot = calloc(n_slots, sizeof(*slot));

        if (!slot)
                return -ENOMEM;
        for (uint32_t i = 0; i < t->n; i++) {
                uint32_t h = hash_bytes(t->str[i], t->len[i]);

                while (slot[h & (n_slots - 1)])
                        h++;
                slot[h & (n_slots - 1)] = i + 1;
        }
        free(t->slot);
        t->slot = slot;
        t->n_slots = n_slots;
        return 0;
}

/* The id of s (NUL-terminated, len bytes), added if new. */
static int intern_id(struct intern *t, const char *s, size_t len, uint32_t *ret)
{
        uint32_t h;
        char *copy;

        if (t->n >= SKBT_DECODE_MAX_NAMES)
                return -E2BIG;
        if ((t->n + 1) * 2 > t->n_slots && intern_grow(t) < 0)
                return -ENOMEM;
        for (h = hash_bytes(s, len);; h++) {
                uint32_t id = t->slot[h & (t->n_slots - 1)];

                if (!id)
                        break;
                if (t->len[id - 1] == len && memcmp(t->str[id - 1], s, len) == 0) {
                        *ret = id - 1;
                        return 0;
                }
        }
        if (t->n == t->cap) {
                uint32_t cap = t->cap ? t->cap * 2 : 64;
                char **n = reallocarray(t->str, cap, sizeof(*n));
                uint32_t *l;

                if (!n)
                        return -ENOMEM;
                t->str = n;
                l = reallocarray(t->len, cap, sizeof(*l));
                if (!l)
                        return -ENOMEM;
                t->len = l;
                t->cap = cap;
        }
        copy = malloc(len + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, s, len);
        copy[len] = '\0';
        t->str[t->n] = copy;
        t->len[t->n] = (uint32_t)len;
        t->slot[h & (t->n_slots - 1)] = t->n + 1;
        *ret = t->n++;
        return 0;
}

/* ---- the decoder ---- */

struct skbt_decoder {
        struct intern probes;             /* by name */
        char **probe_name, **probe_group; /* by probe id (groups may be NULL) */
        uint8_t *probe_group_set;         /* bit by probe id: the group is known */
        uint32_t probe_cap;
        struct intern reasons; /* drop reasons */
        struct intern symbols; /* locations and stack frames */
        struct intern netns;   /* network namespace names */
        /* Namespace inode -> name id + 1 (0: none), as the last event there said. */
        uint32_t *ns_key, *ns_val;
        uint32_t ns_n, ns_slots;
        struct skbt_session_fields fields;
        struct skbt_ct_layout ct; /* a layout of our own for the entries read back */
        bool ct_seen;             /* an event had a conntrack member */
        struct skbt_names names;
};

static int symbolize(void *data, uint64_t addr, char *buf, size_t len)
{
        struct skbt_decoder *d = data;

        if (addr < SYM_BASE || addr - SYM_BASE >= d->symbols.n || !len)
                return -ENOENT;
        snprintf(buf, len, "%s", d->symbols.str[addr - SYM_BASE]);
        return 0;
}

static uint32_t *ns_find(struct skbt_decoder *d, uint32_t inode)
{
        if (!d->ns_slots)
                return NULL;
        for (uint32_t h = inode * 2654435761u;; h++) {
                uint32_t i = h & (d->ns_slots - 1);

                if (d->ns_key[i] == inode)
                        return &d->ns_val[i];
                if (!d->ns_key[i])
                        return NULL;
        }
}

static int ns_set(struct skbt_decoder *d, uint32_t inode, uint32_t val)
{
        uint32_t *v = ns_find(d, inode);

        if (v) {
                *v = val;
                return 0;
        }
        if ((d->ns_n + 1) * 2 > d->ns_slots) {
                uint32_t n = d->ns_slots ? d->ns_slots * 2 : 64;
                uint32_t *k = calloc(n, sizeof(*k)), *vals = calloc(n, sizeof(*vals));

                if (!k || !vals || d->ns_n >= SKBT_DECODE_MAX_NAMES) {
                        free(k);
                        free(vals);
                        return !k || !vals ? -ENOMEM : -E2BIG;
                }
                for (uint32_t i = 0; i < d->ns_slots; i++) {
                        uint32_t h = d->ns_key[i] * 2654435761u;

                        if (!d->ns_key[i])
                                continue;
                        while (k[h & (n - 1)])
                                h++;
                        k[h & (n - 1)] = d->ns_key[i];
                        vals[h & (n - 1)] = d->ns_val[i];
                }
                free(d->ns_key);
                free(d->ns_val);
                d->ns_key = k;
                d->ns_val = vals;
                d->ns_slots = n;
        }
        for (uint32_t h = inode * 2654435761u;; h++) {
                uint32_t i = h & (d->ns_slots - 1);

                if (!d->ns_key[i]) {
                        d->ns_key[i] = inode;
                        d->ns_val[i] = val;
                        d->ns_n++;
                        return 0;
                }
        }
}

static const char *netns_name(void *data, uint32_t inode, uint64_t ts)
{
        (void)ts;
        struct skbt_decoder *d = data;
        uint32_t *v = ns_find(d, inode);

        return v && *v ? d->netns.str[*v - 1] : NULL;
}

/*
 * Conntrack entries come back into a struct nf_conn of our own layout, which
 * the renderer reads as it reads the kernel's through the offsets from BTF
 * (render/ct_render.c).  Whether the kernel had a zone, a mark and the TCP
 * state is learnt from the first entry that shows one.
 */
#define CT_TUPLE 40
static const struct skbt_ct_layout ct_layout = {
    .len = 16 + 2 * CT_TUPLE,
    .status = 0,
    .status_size = 8,
    .mark = 8,
    .zone = 12,
    .tcp_state = 14,
    .tuple = {16, 16 + CT_TUPLE},
    .src_u3 = 0,
    .src_u = 16,
    .src_l3num = 18,
    .dst_u3 = 20,
    .dst_u = 36,
    .dst_protonum = 38,
};

int skbt_decoder_new(struct skbt_decoder **ret)
{
        struct skbt_decoder *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->ct = ct_layout;
        *ret = d;
        return 0;
}

struct skbt_decoder *skbt_decoder_free(struct skbt_decoder *d)
{
        if (!d)
                return NULL;
        for (uint32_t i = 0; i < d->probes.n; i++) {
                free(d->probe_name[i]);
                free(d->probe_group[i]);
        }
        intern_done(&d->probes);
        intern_done(&d->reasons);
        intern_done(&d->symbols);
        intern_done(&d->netns);
        free(d->ns_key);
        free(d->ns_val);
        free(d->probe_name);
        free(d->probe_group);
        free(d->probe_group_set);
        free(d);
        return NULL;
}

const struct skbt_names *skbt_decoder_names(struct skbt_decoder *d)
{
        d->names = (struct skbt_names){
            .probes = (const char *const *)d->probe_name,
            .n_probes = d->probes.n,
            .probe_groups = (const char *const *)d->probe_group,
            .drop_reasons = (const char *const *)d->reasons.str,
            .n_drop_reasons = d->reasons.n,
            .symbolize = symbolize,
            .symbolize_data = d,
            .netns_name = netns_name,
            .netns_name_data = d,
            /* The daemon left out the tracing machinery's frames already. */
            .frames_trimmed = true,
        };
        return &d->names;
}

const struct skbt_session_fields *skbt_decoder_fields(const struct skbt_decoder *d)
{
        return &d->fields;
}

const struct skbt_ct_layout *skbt_decoder_ct_layout(const struct skbt_decoder *d)
{
        return d->ct_seen ? &d->ct : NULL;
}

/* Room in the by-id arrays for one more probe, before it gets an id. */
static int probe_reserve(struct skbt_decoder *d)
{
        uint32_t cap = d->probe_cap ? d->probe_cap * 2 : 64;
        uint8_t *bits;
        char **a;

        if (d->probes.n < d->probe_cap)
                return 0;
        a = reallocarray(d->probe_name, cap, sizeof(*a));
        if (!a)
                return -ENOMEM;
        d->probe_name = a;
        a = reallocarray(d->probe_group, cap, sizeof(*a));
        if (!a)
                return -ENOMEM;
        d->probe_group = a;
        bits = realloc(d->probe_group_set, cap / 8);
        if (!bits)
                return -ENOMEM;
        d->probe_group_set = bits;
        d->probe_cap = cap;
        return 0;
}

/*
 * Probes are known by name.  The group comes with the first event that names
 * the probe (a probe looked up before, for --egress, has none until then;
 * nothing was rendered with it meanwhile).  group NULL: not known here.
 */
static int probe_intern(struct skbt_decoder *d, const char *name, const char *group, uint32_t *ret)
{
        size_t nl = strlen(name);
        uint32_t before = d->probes.n;
        int r;

        r = probe_reserve(d);
        if (r < 0)
                return r;
        r = intern_id(&d->probes, name, nl, ret);
        if (r < 0)
                return r;
        if (d->probes.n > before) {
                /* Out of memory here leaves a probe without a name: it prints as probe#N. */
                d->probe_name[*ret] = strdup(name);
                d->probe_group[*ret] = NULL;
                d->probe_group_set[*ret / 8] &= (uint8_t) ~(1u << (*ret % 8));
        }
        if (group && !(d->probe_group_set[*ret / 8] & (1u << (*ret % 8)))) {
                d->probe_group[*ret] = group[0] ? strdup(group) : NULL;
                d->probe_group_set[*ret / 8] |= (uint8_t)(1u << (*ret % 8));
        }
        return 0;
}

int skbt_decoder_probe_id(struct skbt_decoder *d, const char *name, uint32_t *ret)
{
        if (strlen(name) >= SKBT_DECODE_NAME_MAX)
                return -E2BIG;
        return probe_intern(d, name, NULL, ret);
}

/* ---- one event ---- */

struct dctx {
        struct skbt_decoder *d;
        struct json_scan js;
        struct skbt_decoded *out;
        struct skbt_event *ev;
        uint32_t seen; /* members read, by index in members[] */
        char probe[SKBT_DECODE_NAME_MAX];
        char group[SKBT_DECODE_NAME_MAX];
        char netns_name[SKBT_DECODE_NAME_MAX];
        size_t netns_name_len;
        /* The tuple's flags are settled when the whole object is read. */
        bool tuple, tcp_flags, icmp;
        bool nf;
        struct skbt_nf nfv;
        uint32_t verdict;
        bool fields, snap, big;
};

static int get_hex_u64(struct dctx *c, const char *what, uint64_t *ret)
{
        char buf[24];
        size_t n;
        uint64_t v = 0;
        int r = json_scan_string(&c->js, buf, sizeof(buf), &n);

        if (r < 0)
                return r;
        if (n < 3 || n > 18 || buf[0] != '0' || buf[1] != 'x')
                return json_scan_fail(&c->js, "%s must be \"0x\" and 1 to 16 hex digits", what);
        for (size_t i = 2; i < n; i++) {
                int h = skbt_hex_digit(buf[i]);

                if (h < 0)
                        return json_scan_fail(&c->js, "%s must be \"0x\" and hex digits", what);
                v = v << 4 | (uint64_t)h;
        }
        *ret = v;
        return 0;
}

/* A fixed-size name field of the record (ifname, comm): not NUL-terminated when full. */
static int get_fixed(struct dctx *c, char *dst, size_t size)
{
        const char *at = (json_scan_peek(&c->js), c->js.p);
        char buf[64];
        size_t n;
        int r = json_scan_string(&c->js, buf, sizeof(buf), &n);

        if (r < 0)
                return r;
        if (n > size) {
                c->js.p = at; /* the error names where the value starts */
                return json_scan_fail(&c->js, "string longer than %zu bytes", size);
        }
        memcpy(dst, buf, n);
        return 0;
}

static int get_name(struct dctx *c, char *buf)
{
        size_t n;

        return json_scan_string(&c->js, buf, SKBT_DECODE_NAME_MAX, &n);
}

static int intern_fail(struct dctx *c, int r)
{
        if (r == -E2BIG)
                return json_scan_fail(&c->js, "more than %u distinct names", SKBT_DECODE_MAX_NAMES);
        if (r == -ENOMEM)
                return json_scan_fail(&c->js, "out of memory");
        return r;
}

static int get_symbol(struct dctx *c, uint64_t *ret)
{
        char buf[SKBT_DECODE_NAME_MAX];
        size_t n;
        uint32_t id;
        int r = json_scan_string(&c->js, buf, sizeof(buf), &n);

        if (r < 0)
                return r;
        r = intern_id(&c->d->symbols, buf, n, &id);
        if (r < 0)
                return intern_fail(c, r);
        *ret = SYM_BASE + id;
        return 0;
}

static int m_packet_id(struct dctx *c)
{
        uint64_t v = 0;
        int r = get_hex_u64(c, "packet_id", &v);

        c->ev->skb = v;
        return r;
}

static int m_timestamp(struct dctx *c)
{
        uint64_t v = 0;
        int r = json_scan_u64(&c->js, &v);

        c->ev->ts = v;
        return r;
}

static int m_processor_id(struct dctx *c)
{
        return json_scan_u32(&c->js, &c->ev->cpu);
}

static int m_function(struct dctx *c)
{
        return get_name(c, c->probe);
}

static int set_flag(struct dctx *c, uint8_t flag)
{
        bool b;
        int r = json_scan_bool(&c->js, &b);

        if (r == 0 && b)
                c->ev->flags |= flag;
        return r;
}

static int m_is_return(struct dctx *c)
{
        return set_flag(c, SKBT_EV_RETURN);
}

static int m_mark(struct dctx *c)
{
        return json_scan_u32(&c->js, &c->ev->mark);
}

static int m_len(struct dctx *c)
{
        return json_scan_u32(&c->js, &c->ev->len);
}

static int m_protocol(struct dctx *c)
{
        uint64_t v;
        int r = get_hex_u64(c, "protocol", &v);

        if (r < 0)
                return r;
        if (v > 0xffff)
                return json_scan_fail(&c->js, "protocol must be a 16-bit ethertype");
        c->ev->protocol = (uint16_t)v;
        return 0;
}

static int m_ifindex(struct dctx *c)
{
        return json_scan_u32(&c->js, &c->ev->ifindex);
}

static int m_ifname(struct dctx *c)
{
        return get_fixed(c, c->ev->ifname, sizeof(c->ev->ifname));
}

static int m_netns(struct dctx *c)
{
        return json_scan_u32(&c->js, &c->ev->netns);
}

static int m_pid(struct dctx *c)
{
        return json_scan_u32(&c->js, &c->ev->pid);
}

static int get_u16(struct dctx *c, uint16_t *ret)
{
        uint32_t v;
        int r = json_scan_u32(&c->js, &v);

        if (r < 0)
                return r;
        if (v > 0xffff)
                return json_scan_fail(&c->js, "number out of range (at most 65535)");
        *ret = (uint16_t)v;
        return 0;
}

static int get_u8(struct dctx *c, uint8_t *ret)
{
        uint32_t v;
        int r = json_scan_u32(&c->js, &v);

        if (r < 0)
                return r;
        if (v > 0xff)
                return json_scan_fail(&c->js, "number out of range (at most 255)");
        *ret = (uint8_t)v;
        return 0;
}

static int tuple_proto(struct dctx *c, struct skbt_tuple *t)
{
        static const struct {
                const char *name;
                uint8_t proto;
        } protos[] = {{"icmp", IPPROTO_ICMP_},
                      {"tcp", IPPROTO_TCP_},
                      {"udp", IPPROTO_UDP_},
                      {"icmp6", IPPROTO_ICMPV6_},
                      {"sctp", IPPROTO_SCTP_}};
        char buf[16];
        size_t n;
        int r;

        if (json_scan_peek(&c->js) == JSON_SCAN_NUMBER)
                return get_u8(c, &t->l4proto);
        r = json_scan_string(&c->js, buf, sizeof(buf), &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
                if (strcmp(buf, protos[i].name) == 0) {
                        t->l4proto = protos[i].proto;
                        return 0;
                }
        return json_scan_fail(&c->js, "unknown protocol name");
}

static int tcp_flags(struct dctx *c, struct skbt_tuple *t, bool *seen)
{
        static const char letters[] = "FSRP.UEW"; /* bit i: letters[i] */
        char buf[16];
        size_t n;
        int r = json_scan_string(&c->js, buf, sizeof(buf), &n);

        if (r < 0)
                return r;
        *seen = true;
        t->tcp_flags = 0;
        if (strcmp(buf, "none") == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                const char *l = memchr(letters, buf[i], 8);

                if (!l || !buf[i])
                        return json_scan_fail(&c->js, "unknown TCP flag letter");
                t->tcp_flags |= (uint8_t)(1u << (l - letters));
        }
        return 0;
}

static int flag_member(struct dctx *c, uint8_t *flags, uint8_t bit)
{
        bool b;
        int r = json_scan_bool(&c->js, &b);

        if (r == 0 && b)
                *flags |= bit;
        return r;
}

/* The address text waits for l3: members may come in any order. */
static int tuple_member(struct dctx *c, struct skbt_tuple *t, const char *key, char *saddr,
                        char *daddr, bool *tcpf)
{
        size_t n;

        if (strcmp(key, "l3") == 0) {
                char buf[8];
                int r = json_scan_string(&c->js, buf, sizeof(buf), &n);

                if (r < 0)
                        return r;
                if (strcmp(buf, "ipv4") && strcmp(buf, "ipv6"))
                        return json_scan_fail(&c->js, "l3 must be \"ipv4\" or \"ipv6\"");
                t->l3 = buf[3] == '4' ? SKBT_L3_IPV4 : SKBT_L3_IPV6;
                return 0;
        }
        if (strcmp(key, "proto") == 0)
                return tuple_proto(c, t);
        if (strcmp(key, "saddr") == 0)
                return json_scan_string(&c->js, saddr, INET6_ADDRSTRLEN, &n);
        if (strcmp(key, "daddr") == 0)
                return json_scan_string(&c->js, daddr, INET6_ADDRSTRLEN, &n);
        if (strcmp(key, "sport") == 0)
                return get_u16(c, &t->sport);
        if (strcmp(key, "dport") == 0)
                return get_u16(c, &t->dport);
        if (strcmp(key, "tcp_flags") == 0)
                return tcp_flags(c, t, tcpf);
        if (strcmp(key, "vlan") == 0) {
                t->flags |= SKBT_TUPLE_VLAN;
                return get_u16(c, &t->vlan_id);
        }
        if (strcmp(key, "truncated") == 0)
                return flag_member(c, &t->flags, SKBT_TUPLE_TRUNCATED);
        if (strcmp(key, "fragment") == 0)
                return flag_member(c, &t->flags, SKBT_TUPLE_FRAGMENT);
        if (strcmp(key, "from_socket") == 0)
                return flag_member(c, &t->flags, SKBT_TUPLE_SOCK);
        return json_scan_skip(&c->js);
}

static bool proto_l4_decoded(uint8_t proto)
{
        return proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_ || proto == IPPROTO_SCTP_ ||
               proto == IPPROTO_ICMP_ || proto == IPPROTO_ICMPV6_;
}

/* A tuple object into t: 1, or 0 for null; tcpf: it had tcp_flags. */
static int get_tuple(struct dctx *c, struct skbt_tuple *t, bool *tcpf)
{
        char key[32], saddr[INET6_ADDRSTRLEN] = "", daddr[INET6_ADDRSTRLEN] = "";
        unsigned i = 0;
        const char *at, *end;
        int r = json_scan_null(&c->js);

        if (r != 0)
                return r < 0 ? r : 0;
        at = c->js.p;
        r = json_scan_object(&c->js);
        while (r >= 0 && (r = json_scan_member(&c->js, &i, key, sizeof(key))) > 0)
                r = tuple_member(c, t, key, saddr, daddr, tcpf);
        if (r < 0)
                return r;
        end = c->js.p;
        c->js.p = at; /* what is wrong is the tuple as a whole */
        if (!t->l3)
                return json_scan_fail(&c->js, "tuple without l3");
        if (inet_pton(t->l3 == SKBT_L3_IPV4 ? AF_INET : AF_INET6, saddr, t->saddr) != 1 ||
            inet_pton(t->l3 == SKBT_L3_IPV4 ? AF_INET : AF_INET6, daddr, t->daddr) != 1)
                return json_scan_fail(&c->js, "tuple addresses are not %s addresses",
                                      t->l3 == SKBT_L3_IPV4 ? "IPv4" : "IPv6");
        t->flags |= SKBT_TUPLE_L3;
        c->js.p = end;
        return 1;
}

static int m_tuple(struct dctx *c)
{
        int r = get_tuple(c, &c->ev->tuple, &c->tcp_flags);

        c->tuple = r > 0;
        return r < 0 ? r : 0;
}

static int get_icmp(struct dctx *c, struct skbt_tuple *t)
{
        char key[16];
        unsigned i = 0;
        int r = json_scan_object(&c->js);

        while (r >= 0 && (r = json_scan_member(&c->js, &i, key, sizeof(key))) > 0) {
                if (strcmp(key, "type") == 0)
                        r = get_u8(c, &t->icmp_type);
                else if (strcmp(key, "code") == 0)
                        r = get_u8(c, &t->icmp_code);
                else if (strcmp(key, "id") == 0)
                        r = get_u16(c, &t->icmp_id);
                else if (strcmp(key, "seq") == 0)
                        r = get_u16(c, &t->icmp_seq);
                else
                        r = json_scan_skip(&c->js);
        }
        return r < 0 ? r : 0;
}

static int m_icmp(struct dctx *c)
{
        c->icmp = true;
        return get_icmp(c, &c->ev->tuple);
}

/*
 * Whether the transport header was read (SKBT_TUPLE_L4) shows in JSON only
 * through what it adds: TCP flags, the icmp object, or for UDP and SCTP the
 * absence of a reason not to have it (the parser reads the L4 header of
 * every first fragment it has the bytes for, bpf/skbt_parse.bpf.h).
 */
static void settle_l4(struct skbt_tuple *t, bool tcpf, bool icmp)
{
        if (!proto_l4_decoded(t->l4proto) ||
            (t->flags & (SKBT_TUPLE_TRUNCATED | SKBT_TUPLE_FRAGMENT)))
                return;
        if (t->l4proto == IPPROTO_TCP_                                     ? tcpf
            : t->l4proto == IPPROTO_ICMP_ || t->l4proto == IPPROTO_ICMPV6_ ? icmp
                                                                           : true)
                t->flags |= SKBT_TUPLE_L4;
}

/* The tunnel's kinds as the renderer names them (ip-link(8)'s device kinds). */
static const struct {
        const char *name;
        uint8_t type;
        uint8_t flags;
} tunnel_kinds[] = {
    {"vxlan", SKBT_TUN_VXLAN, SKBT_TUN_F_L2},
    {"geneve", SKBT_TUN_GENEVE, 0},
    {"gre", SKBT_TUN_GRE, 0},
    {"ip6gre", SKBT_TUN_GRE, 0},
    {"gretap", SKBT_TUN_GRETAP, SKBT_TUN_F_L2},
    {"ip6gretap", SKBT_TUN_GRETAP, SKBT_TUN_F_L2},
    {"ipip", SKBT_TUN_IPIP, 0},
    {"sit", SKBT_TUN_IPIP, 0},
    {"ip6tnl", SKBT_TUN_IPIP, 0},
};

static int tunnel_type(struct dctx *c, struct skbt_tunnel *tun)
{
        char buf[16];
        size_t n;
        int r = json_scan_string(&c->js, buf, sizeof(buf), &n);

        if (r < 0)
                return r;
        for (size_t i = 0; i < ARRAY_SIZE(tunnel_kinds); i++)
                if (strcmp(buf, tunnel_kinds[i].name) == 0) {
                        tun->type = tunnel_kinds[i].type;
                        tun->flags |= tunnel_kinds[i].flags;
                        return 0;
                }
        return json_scan_fail(&c->js, "unknown tunnel type");
}

static int tunnel_member(struct dctx *c, const char *key, bool *tcpf, bool *icmp, bool *inner)
{
        struct skbt_tunnel *tun = &c->ev->tun;
        uint64_t v;
        int r;

        if (strcmp(key, "type") == 0)
                return tunnel_type(c, tun);
        if (strcmp(key, "vni") == 0 || strcmp(key, "key") == 0) {
                tun->flags |= SKBT_TUN_F_ID;
                return json_scan_u32(&c->js, &tun->id);
        }
        if (strcmp(key, "inner_protocol") == 0) {
                r = get_hex_u64(c, "inner_protocol", &v);
                if (r == 0 && v > 0xffff)
                        return json_scan_fail(&c->js, "inner_protocol out of range");
                tun->inner_proto = (uint16_t)v;
                return r;
        }
        if (strcmp(key, "inner") == 0) {
                r = get_tuple(c, &tun->inner, tcpf);
                *inner = r > 0;
                return r < 0 ? r : 0;
        }
        if (strcmp(key, "inner_icmp") == 0) {
                *icmp = true;
                return get_icmp(c, &tun->inner);
        }
        if (strcmp(key, "vlan") == 0) {
                tun->inner.flags |= SKBT_TUPLE_VLAN;
                return get_u16(c, &tun->inner.vlan_id);
        }
        if (strcmp(key, "truncated") == 0)
                return flag_member(c, &tun->inner.flags, SKBT_TUPLE_TRUNCATED);
        return json_scan_skip(&c->js);
}

/* The tunnel around the packet and its inner packet (docs/output.md). */
static int m_tunnel(struct dctx *c)
{
        const char *at = (json_scan_peek(&c->js), c->js.p);
        bool tcpf = false, icmp = false, inner = false;
        char key[32];
        unsigned i = 0;
        int r = json_scan_object(&c->js);

        while (r >= 0 && (r = json_scan_member(&c->js, &i, key, sizeof(key))) > 0)
                r = tunnel_member(c, key, &tcpf, &icmp, &inner);
        if (r < 0)
                return r;
        if (c->ev->tun.type == SKBT_TUN_NONE) {
                c->js.p = at;
                return json_scan_fail(&c->js, "tunnel without a type");
        }
        if (icmp && !inner) {
                c->js.p = at;
                return json_scan_fail(&c->js, "inner_icmp member without an inner tuple");
        }
        if (inner)
                settle_l4(&c->ev->tun.inner, tcpf, icmp);
        return 0;
}

static int m_drop_reason(struct dctx *c)
{
        char buf[SKBT_DECODE_NAME_MAX];
        size_t n;
        int r = json_scan_string(&c->js, buf, sizeof(buf), &n);

        if (r < 0)
                return r;
        r = intern_id(&c->d->reasons, buf, n, &c->ev->drop_reason);
        if (r < 0)
                return intern_fail(c, r);
        c->ev->flags |= SKBT_EV_DROP;
        return 0;
}

static int m_location(struct dctx *c)
{
        uint64_t v = 0;
        int r = get_symbol(c, &v);

        c->ev->location = v;
        return r;
}

static int m_retval(struct dctx *c)
{
        int64_t v = 0;
        int r = json_scan_i64(&c->js, &v);

        c->ev->retval = v;
        return r;
}

static int m_track_id(struct dctx *c)
{
        uint64_t v = 0;
        int r = json_scan_u64(&c->js, &v);

        c->ev->track_id = v;
        return r;
}

static int m_comm(struct dctx *c)
{
        return get_fixed(c, c->ev->comm, sizeof(c->ev->comm));
}

static int m_group(struct dctx *c)
{
        return get_name(c, c->group);
}

static int m_free(struct dctx *c)
{
        return set_flag(c, SKBT_EV_FREE);
}

static int m_netns_name(struct dctx *c)
{
        return json_scan_string(&c->js, c->netns_name, sizeof(c->netns_name), &c->netns_name_len);
}

/* Without a tuple, what the parser saw of the link layer (docs/output.md). */
static int m_vlan(struct dctx *c)
{
        c->ev->tuple.flags |= SKBT_TUPLE_VLAN;
        return get_u16(c, &c->ev->tuple.vlan_id);
}

static int m_truncated(struct dctx *c)
{
        return flag_member(c, &c->ev->tuple.flags, SKBT_TUPLE_TRUNCATED);
}

static int m_stack(struct dctx *c)
{
        uint64_t *frames = (uint64_t *)(c->ev + 1);
        unsigned i = 0;
        int r = json_scan_array(&c->js);

        while (r >= 0 && (r = json_scan_element(&c->js, &i)) > 0) {
                if (i > SKBT_STACK_MAX)
                        return json_scan_fail(&c->js, "more than %d stack frames", SKBT_STACK_MAX);
                r = get_symbol(c, &frames[i - 1]);
        }
        if (r < 0)
                return r;
        c->ev->stack_depth = (uint8_t)i;
        return 0;
}

static int field_slot(struct dctx *c, const char *name, uint32_t *ret)
{
        struct skbt_session_fields *sf = &c->d->fields;
        struct skbt_field_spec *fs;

        for (uint32_t i = 0; i < sf->n; i++)
                if (strcmp(sf->f[i].name, name) == 0) {
                        *ret = i;
                        return 0;
                }
        if (sf->n == SKBT_FIELDS_PER_SESSION)
                return json_scan_fail(&c->js, "more than %d distinct custom fields",
                                      SKBT_FIELDS_PER_SESSION);
        fs = &sf->f[sf->n];
        *fs = (struct skbt_field_spec){.slot = (uint8_t)sf->n, .f = {.size = 8, .n_hops = 1}};
        snprintf(fs->name, sizeof(fs->name), "%s", name);
        *ret = sf->n++;
        return 0;
}

/*
 * A value's type shows in its form: pointers are "0x..." strings, signed
 * types may be negative.  A field is signed or unsigned for good once a value
 * says so; until then (values 0 .. 2^63-1) both print the same.
 */
static int field_value(struct dctx *c, struct skbt_field_spec *fs, uint64_t *v)
{
        int64_t sv;
        int r;

        if (json_scan_peek(&c->js) == JSON_SCAN_STRING) {
                fs->is_ptr = true;
                return get_hex_u64(c, "a pointer field", v);
        }
        if (json_scan_peek(&c->js) == JSON_SCAN_NUMBER && c->js.p[0] == '-') {
                r = json_scan_i64(&c->js, &sv);
                fs->is_signed = true;
                *v = (uint64_t)sv;
                return r;
        }
        r = json_scan_u64(&c->js, v);
        if (r == 0 && *v > INT64_MAX && fs->is_signed)
                return json_scan_fail(&c->js, "field %s has negative and 64-bit unsigned values",
                                      fs->name);
        return r;
}

static int m_fields(struct dctx *c)
{
        uint64_t *vals = (uint64_t *)(c->out->rec.bytes + SKBT_REC_VALS_OFF);
        char key[SKBT_FIELD_NAME_MAX];
        unsigned i = 0;
        uint32_t slot = 0;
        int r = json_scan_object(&c->js);

        while (r >= 0 && (r = json_scan_member(&c->js, &i, key, sizeof(key))) > 0) {
                r = field_slot(c, key, &slot);
                if (r == 0)
                        r = field_value(c, &c->d->fields.f[slot], &vals[slot]);
        }
        if (r < 0)
                return r;
        c->ev->flags |= SKBT_EV_FIELDS;
        c->fields = true;
        return 0;
}

static int snap_data(struct dctx *c, struct skbt_snap *snap)
{
        char hex[2 * SKBT_SNAP_MAX + 1];
        size_t n;
        int r = json_scan_string(&c->js, hex, sizeof(hex), &n);

        if (r < 0)
                return r;
        if (n % 2)
                return json_scan_fail(&c->js, "packet data has an odd number of hex digits");
        for (size_t i = 0; i < n; i += 2) {
                int hi = skbt_hex_digit(hex[i]), lo = skbt_hex_digit(hex[i + 1]);

                if (hi < 0 || lo < 0)
                        return json_scan_fail(&c->js, "packet data must be hex digits");
                snap->data[i / 2] = (uint8_t)(hi << 4 | lo);
        }
        snap->len = (uint32_t)(n / 2);
        return 0;
}

static int m_packet(struct dctx *c)
{
        struct skbt_snap *snap = (struct skbt_snap *)(c->out->rec.bytes + SKBT_REC_SNAP_OFF);
        char key[16];
        unsigned i = 0;
        uint32_t linktype = 1;
        int r = json_scan_object(&c->js);

        while (r >= 0 && (r = json_scan_member(&c->js, &i, key, sizeof(key))) > 0) {
                if (strcmp(key, "linktype") == 0)
                        r = json_scan_u32(&c->js, &linktype);
                else if (strcmp(key, "orig_len") == 0)
                        r = json_scan_u32(&c->js, &snap->orig_len);
                else if (strcmp(key, "data") == 0)
                        r = snap_data(c, snap);
                else
                        r = json_scan_skip(&c->js);
        }
        if (r < 0)
                return r;
        if (linktype != 1 && linktype != 101)
                return json_scan_fail(&c->js, "packet linktype must be 1 or 101");
        snap->l2 = linktype == 1;
        c->ev->flags |= SKBT_EV_SNAP;
        c->snap = true;
        return 0;
}

/* "ip", "pf#7" -> the number; the names are the renderer's own (format.c). */
static int nf_number(struct dctx *c, const char *s, const char *what,
                     const char *(*name)(uint8_t pf, unsigned v), uint8_t pf, unsigned *ret)
{
        size_t wl = strlen(what);
        unsigned v = 0;

        for (unsigned i = 0; i <= 255; i++) {
                const char *n = name(pf, i);

                if (n && strcmp(n, s) == 0) {
                        *ret = i;
                        return 0;
                }
        }
        if (strncmp(s, what, wl) == 0 && s[wl] == '#' && s[wl + 1]) {
                for (const char *p = s + wl + 1; *p; p++) {
                        if (*p < '0' || *p > '9' || v > 255)
                                return json_scan_fail(&c->js, "bad netfilter %s '%s'", what, s);
                        v = v * 10 + (unsigned)(*p - '0');
                }
                if (v <= 255) {
                        *ret = v;
                        return 0;
                }
        }
        return json_scan_fail(&c->js, "unknown netfilter %s '%s'", what, s);
}

static const char *nf_family(uint8_t pf, unsigned v)
{
        return skbt_nf_family_name((uint8_t)v);
}

static const char *nf_hook(uint8_t pf, unsigned v)
{
        return skbt_nf_hook_name(pf, (uint8_t)v);
}

static const char *nf_verdict(uint8_t pf, unsigned v)
{
        return skbt_nf_verdict_name(v);
}

struct nf_text {
        char engine[16], family[16], hook[16], verdict[16];
        char table[SKBT_NF_NAME], chain[SKBT_NF_NAME];
        struct skbt_nf rule; /* rule_type, rule_handle, rule_pos, rule_chain */
};

/* '"rule":{"handle":4,"position":2,"chain":"sub"}' or '{"policy":true}' (--nf-rules). */
static int nf_rule(struct dctx *c, struct skbt_nf *rule)
{
        char key[16];
        unsigned i = 0;
        bool policy = false, handle = false, position = false;
        size_t n;
        int r = json_scan_object(&c->js);

        while (r >= 0 && (r = json_scan_member(&c->js, &i, key, sizeof(key))) > 0) {
                if (strcmp(key, "policy") == 0) {
                        r = json_scan_bool(&c->js, &policy);
                } else if (strcmp(key, "handle") == 0) {
                        uint64_t v = 0;

                        r = json_scan_u64(&c->js, &v);
                        rule->rule_handle = v;
                        handle = true;
                } else if (strcmp(key, "position") == 0) {
                        r = json_scan_u32(&c->js, &rule->rule_pos);
                        position = true;
                } else if (strcmp(key, "chain") == 0) {
                        /* One byte short: the record's names are NUL-terminated. */
                        r = json_scan_string(&c->js, rule->rule_chain, sizeof(rule->rule_chain) - 1,
                                             &n);
                } else {
                        r = json_scan_skip(&c->js);
                }
        }
        if (r < 0)
                return r;
        /* nftables names a rule by its handle, iptables by its position. */
        if (policy == (handle || position))
                return json_scan_fail(&c->js,
                                      "netfilter rule: want a handle, a position or policy true");
        rule->rule_type = policy ? SKBT_NF_RULE_POLICY : SKBT_NF_RULE_RULE;
        return 0;
}

static int nf_member(struct dctx *c, const char *key, struct nf_text *t)
{
        static const struct {
                const char *name;
                size_t off, size;
        } strs[] = {
            {"engine", offsetof(struct nf_text, engine), sizeof(t->engine)},
            {"family", offsetof(struct nf_text, family), sizeof(t->family)},
            {"table", offsetof(struct nf_text, table), sizeof(t->table)},
            {"chain", offsetof(struct nf_text, chain), sizeof(t->chain)},
            {"hook", offsetof(struct nf_text, hook), sizeof(t->hook)},
            {"verdict", offsetof(struct nf_text, verdict), sizeof(t->verdict)},
        };
        size_t n;

        if (strcmp(key, "rule") == 0)
                return nf_rule(c, &t->rule);
        for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
                if (strcmp(key, strs[i].name) == 0)
                        /* One byte short: the record's names are NUL-terminated. */
                        return json_scan_string(&c->js, (char *)t + strs[i].off, strs[i].size - 1,
                                                &n);
        return json_scan_skip(&c->js);
}

/*
 * The renderer derives an xtables engine's name from the family and its
 * chain from the hook: read back, they must agree, and the record keeps
 * the chain only where the renderer prints it from there.
 */
static int m_netfilter(struct dctx *c)
{
        struct nf_text t = {0};
        struct skbt_nf *nf = &c->nfv;
        char key[16];
        unsigned i = 0, v;
        int r = json_scan_object(&c->js);

        while (r >= 0 && (r = json_scan_member(&c->js, &i, key, sizeof(key))) > 0)
                r = nf_member(c, key, &t);
        if (r < 0)
                return r;
        *nf = t.rule;
        nf->engine = strcmp(t.engine, "nftables") == 0   ? SKBT_NF_NFTABLES
                     : strcmp(t.engine, "ebtables") == 0 ? SKBT_NF_EBTABLES
                                                         : SKBT_NF_XTABLES;
        r = nf_number(c, t.family, "pf", nf_family, 0, &v);
        if (r < 0)
                return r;
        nf->pf = (uint8_t)v;
        if (strcmp(skbt_nf_engine_name(nf), t.engine) != 0)
                return json_scan_fail(&c->js, "netfilter engine '%s' does not go with family '%s'",
                                      t.engine, t.family);
        r = nf_number(c, t.hook, "hook", nf_hook, nf->pf, &v);
        if (r < 0)
                return r;
        nf->hook = (uint8_t)v;
        r = nf_number(c, t.verdict, "verdict", nf_verdict, 0, &c->verdict);
        if (r < 0)
                return r;
        memcpy(nf->table, t.table, sizeof(nf->table));
        if (nf->engine == SKBT_NF_NFTABLES || !skbt_nf_hook_name(nf->pf, nf->hook))
                memcpy(nf->chain, t.chain, sizeof(nf->chain));
        c->nf = true;
        return 0;
}

/* ',"bpf":{"type":"tc","direction":"ingress","verdict":"SHOT","retval":2}': the number is what
 * counts (the name is rendered from it). */
static int m_bpf(struct dctx *c)
{
        struct skbt_nf *nf = &c->nfv;
        char key[16], type[8] = "", dir[16] = "";
        unsigned i = 0;
        int64_t retval = 0;
        bool have_retval = false;
        size_t n;
        int r = json_scan_object(&c->js);

        while (r >= 0 && (r = json_scan_member(&c->js, &i, key, sizeof(key))) > 0) {
                if (strcmp(key, "type") == 0)
                        r = json_scan_string(&c->js, type, sizeof(type) - 1, &n);
                else if (strcmp(key, "direction") == 0)
                        r = json_scan_string(&c->js, dir, sizeof(dir) - 1, &n);
                else if (strcmp(key, "retval") == 0) {
                        r = json_scan_i64(&c->js, &retval);
                        have_retval = true;
                } else
                        r = json_scan_skip(&c->js);
        }
        if (r < 0)
                return r;
        if ((strcmp(type, "tc") != 0 && strcmp(type, "xdp") != 0) || !have_retval)
                return json_scan_fail(&c->js, "bpf: want type tc or xdp and a retval");
        *nf = (struct skbt_nf){0};
        nf->engine = strcmp(type, "xdp") == 0 ? SKBT_NF_XDP : SKBT_NF_TC;
        nf->hook = strcmp(dir, "egress") == 0;
        c->verdict = (uint32_t)retval;
        c->nf = true;
        return 0;
}

/* ---- conntrack ---- */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void put_be16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
}

/* A name the renderer gives a number (names(i) for i in 0..max), or NAME#N / bitN forms. */
static int ct_number(struct dctx *c, const char *s, const char *(*names)(unsigned), unsigned max,
                     unsigned *ret)
{
        for (unsigned i = 0; i <= max; i++) {
                const char *n = names(i);

                if (n && strcmp(n, s) == 0) {
                        *ret = i;
                        return 0;
                }
        }
        return json_scan_fail(&c->js, "unknown conntrack name '%.40s'", s);
}

static const char *ct_info(unsigned v)
{
        return skbt_ct_info_name((uint8_t)v);
}

static const char *ct_tcp(unsigned v)
{
        return skbt_ct_tcp_state_name((uint8_t)v);
}

static const char *ct_proto(unsigned v)
{
        return skbt_ct_proto_name((uint8_t)v);
}

/* "status": ["ASSURED", "bit17", ...]. */
static int ct_status(struct dctx *c, uint64_t *ret)
{
        char name[32];
        unsigned i = 0;
        size_t n;
        int r = json_scan_array(&c->js);

        *ret = 0;
        while (r >= 0 && (r = json_scan_element(&c->js, &i)) > 0) {
                unsigned bit = 64;

                r = json_scan_string(&c->js, name, sizeof(name), &n);
                if (r < 0)
                        return r;
                for (unsigned b = 0; b < 64; b++)
                        if (skbt_ct_status_name(b) && strcmp(skbt_ct_status_name(b), name) == 0)
                                bit = b;
                if (bit == 64 && strncmp(name, "bit", 3) == 0 && name[3] >= '0' && name[3] <= '9' &&
                    strlen(name) <= 5)
                        bit = (unsigned)atoi(name + 3);
                if (bit >= 64)
                        return json_scan_fail(&c->js, "unknown conntrack status '%s'", name);
                *ret |= 1ULL << bit;
        }
        return r < 0 ? r : 0;
}

/* What a tuple shows besides its addresses (render/ct_render.c decides by its protocol). */
enum ct_shows {
        CT_SHOWS_ADDRS = 0,
        CT_SHOWS_PORTS,
        CT_SHOWS_ICMP,
};

/* One direction's tuple into our layout; the family from how the addresses are written. */
static int ct_tuple(struct dctx *c, uint8_t *t, enum ct_shows *shows)
{
        const struct skbt_ct_layout *l = &ct_layout;
        char key[16], sa[INET6_ADDRSTRLEN] = "", da[INET6_ADDRSTRLEN] = "";
        uint16_t sport = 0, dport = 0, id = 0;
        uint8_t type = 0, code = 0;
        unsigned i = 0;
        size_t n;
        int r = json_scan_object(&c->js), af;

        while (r >= 0 && (r = json_scan_member(&c->js, &i, key, sizeof(key))) > 0) {
                if (strcmp(key, "saddr") == 0)
                        r = json_scan_string(&c->js, sa, sizeof(sa), &n);
                else if (strcmp(key, "daddr") == 0)
                        r = json_scan_string(&c->js, da, sizeof(da), &n);
                else if (strcmp(key, "sport") == 0 || strcmp(key, "dport") == 0)
                        r = *shows = CT_SHOWS_PORTS, get_u16(c, key[0] == 's' ? &sport : &dport);
                else if (strcmp(key, "id") == 0)
                        r = *shows = CT_SHOWS_ICMP, get_u16(c, &id);
                else if (strcmp(key, "type") == 0)
                        r = *shows = CT_SHOWS_ICMP, get_u8(c, &type);
                else if (strcmp(key, "code") == 0)
                        r = *shows = CT_SHOWS_ICMP, get_u8(c, &code);
                else
                        r = json_scan_skip(&c->js);
        }
        if (r < 0)
                return r;
        af = strchr(sa, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(af, sa, t + l->src_u3) != 1 || inet_pton(af, da, t + l->dst_u3) != 1)
                return json_scan_fail(&c->js, "conntrack tuple addresses are not addresses");
        put_le(t + l->src_l3num, af == AF_INET6 ? 10 : 2, 2);
        /* Ports, or the ICMP id, type and code, where the kernel keeps them. */
        if (*shows == CT_SHOWS_ICMP) {
                put_be16(t + l->src_u, id);
                t[l->dst_u] = type;
                t[l->dst_u + 1] = code;
        } else {
                put_be16(t + l->src_u, sport);
                put_be16(t + l->dst_u, dport);
        }
        return 0;
}

struct ct_text {
        char state[32], error[32], proto[16], tcp[16];
        uint64_t status;
        uint32_t zone, mark;
        bool has_zone, has_mark, has_proto_num, has_entry;
        uint8_t proto_num;
        enum ct_shows shows[2]; /* orig, reply */
};

static int ct_member(struct dctx *c, const char *key, struct ct_text *t, uint8_t *raw)
{
        size_t n;

        if (strcmp(key, "state") == 0)
                return json_scan_string(&c->js, t->state, sizeof(t->state), &n);
        if (strcmp(key, "error") == 0) {
                t->has_entry = true;
                return json_scan_string(&c->js, t->error, sizeof(t->error), &n);
        }
        if (strcmp(key, "status") == 0) {
                t->has_entry = true;
                return ct_status(c, &t->status);
        }
        if (strcmp(key, "zone") == 0)
                return t->has_zone = true, json_scan_u32(&c->js, &t->zone);
        if (strcmp(key, "mark") == 0)
                return t->has_mark = true, json_scan_u32(&c->js, &t->mark);
        if (strcmp(key, "proto") == 0) {
                if (json_scan_peek(&c->js) == JSON_SCAN_NUMBER)
                        return t->has_proto_num = true, get_u8(c, &t->proto_num);
                return json_scan_string(&c->js, t->proto, sizeof(t->proto), &n);
        }
        if (strcmp(key, "tcp_state") == 0)
                return json_scan_string(&c->js, t->tcp, sizeof(t->tcp), &n);
        if (strcmp(key, "orig") == 0)
                return ct_tuple(c, raw + ct_layout.tuple[0], &t->shows[0]);
        if (strcmp(key, "reply") == 0)
                return ct_tuple(c, raw + ct_layout.tuple[1], &t->shows[1]);
        return json_scan_skip(&c->js);
}

/* The entry's numbers into our layout; its kind into the record's flags. */
static int ct_settle(struct dctx *c, struct ct_text *t, struct skbt_ct_rec *rec)
{
        const struct skbt_ct_layout *l = &ct_layout;
        unsigned v = 0;
        int r = ct_number(c, t->state, ct_info, 7, &v);

        if (r < 0)
                return r;
        rec->ctinfo = (uint8_t)v;
        if (!t->has_entry) {
                rec->flags = SKBT_CT_UNTRACKED;
                return 0;
        }
        rec->flags = SKBT_CT_ENTRY | (t->error[0] ? SKBT_CT_FAULT : 0);
        rec->len = (uint16_t)l->len;
        if (t->error[0])
                return 0;
        if (!t->has_proto_num) {
                r = ct_number(c, t->proto, ct_proto, 255, &v);
                if (r < 0)
                        return r;
                t->proto_num = (uint8_t)v;
        }
        /* The entry's protocol is the original direction's (ct_proto); each tuple shows
         * ports or ICMP by its own, which differ where the kernel's copy was cut short. */
        for (int d = 0; d < 2; d++) {
                static const uint8_t like[] = {
                    [CT_SHOWS_ADDRS] = 0, [CT_SHOWS_PORTS] = 17, [CT_SHOWS_ICMP] = 1};
                uint8_t p = d == 0 || t->shows[1] == t->shows[0] ? t->proto_num : like[t->shows[1]];

                rec->raw[l->tuple[d] + l->dst_protonum] = p;
        }
        put_le(rec->raw + l->status, t->status, 8);
        put_le(rec->raw + l->zone, t->zone, 2);
        put_le(rec->raw + l->mark, t->mark, 4);
        /* A state the renderer has no name for is not shown: 255 has none either. */
        v = 255;
        if (t->tcp[0] && ct_number(c, t->tcp, ct_tcp, 255, &v) < 0)
                return c->js.error;
        rec->raw[l->tcp_state] = (uint8_t)v;
        c->d->ct.has_zone |= t->has_zone;
        c->d->ct.has_mark |= t->has_mark;
        c->d->ct.has_tcp_state |= t->tcp[0] != 0;
        return 0;
}

static int m_conntrack(struct dctx *c)
{
        struct skbt_ct_rec *rec = (struct skbt_ct_rec *)(c->out->rec.bytes + SKBT_REC_CT_OFF);
        struct ct_text t = {0};
        char key[16];
        unsigned i = 0;
        int r;

        c->ev->flags |= SKBT_EV_CT;
        c->big = true;
        c->d->ct_seen = true;
        r = json_scan_null(&c->js);
        if (r != 0)
                return r < 0 ? r : 0; /* no conntrack for this packet */
        r = json_scan_object(&c->js);
        while (r >= 0 && (r = json_scan_member(&c->js, &i, key, sizeof(key))) > 0)
                r = ct_member(c, key, &t, rec->raw);
        if (r < 0)
                return r;
        return ct_settle(c, &t, rec);
}

static int m_depth(struct dctx *c)
{
        uint32_t depth;

        c->out->has_depth = true;
        return json_scan_u32(&c->js, &depth);
}

/* In the order the renderer writes them (docs/output.md), which is tried first. */
static const struct {
        const char *name;
        int (*fn)(struct dctx *c);
} members[] = {
    {"packet_id", m_packet_id},
    {"timestamp", m_timestamp},
    {"processor_id", m_processor_id},
    {"function", m_function},
    {"is_return", m_is_return},
    {"mark", m_mark},
    {"len", m_len},
    {"protocol", m_protocol},
    {"ifindex", m_ifindex},
    {"ifname", m_ifname},
    {"netns", m_netns},
    {"pid", m_pid},
    {"tuple", m_tuple},
    {"icmp", m_icmp},
    {"drop_reason", m_drop_reason},
    {"location", m_location},
    {"retval", m_retval},
    {"track_id", m_track_id},
    {"comm", m_comm},
    {"group", m_group},
    {"free", m_free},
    {"netns_name", m_netns_name},
    {"vlan", m_vlan},
    {"truncated", m_truncated},
    {"tunnel", m_tunnel},
    {"netfilter", m_netfilter},
    {"bpf", m_bpf},
    {"stack", m_stack},
    {"fields", m_fields},
    {"conntrack", m_conntrack},
    {"packet", m_packet},
    {"depth", m_depth},
};
#define REQUIRED_MEMBERS ((1u << 0) | (1u << 1) | (1u << 3)) /* packet_id, timestamp, function */
_Static_assert(ARRAY_SIZE(members) <= 32, "members[] is indexed by bits of dctx.seen");

static int member(struct dctx *c, const char *key, unsigned *next)
{
        unsigned i = *next < ARRAY_SIZE(members) && strcmp(members[*next].name, key) == 0
                         ? *next
                         : ARRAY_SIZE(members);

        if (i == ARRAY_SIZE(members))
                for (i = 0; i < ARRAY_SIZE(members); i++)
                        if (strcmp(members[i].name, key) == 0)
                                break;
        /* Unknown: a newer daemon's addition. */
        if (i == ARRAY_SIZE(members))
                return json_scan_skip(&c->js);
        if (c->seen & (1u << i))
                return json_scan_fail(&c->js, "member '%s' given twice", key);
        c->seen |= 1u << i;
        *next = i + 1;
        return members[i].fn(c);
}

static int settle_tuple(struct dctx *c)
{
        if (!c->tuple) {
                if (c->icmp)
                        return json_scan_fail(&c->js, "icmp member without a tuple");
                return 0;
        }
        settle_l4(&c->ev->tuple, c->tcp_flags, c->icmp);
        return 0;
}

/* The record's size and layout as the ring buffer would have had it (skbt_record.h). */
static int settle_record(struct dctx *c)
{
        struct skbt_event *ev = c->ev;
        size_t size = sizeof(*ev) + (size_t)ev->stack_depth * sizeof(uint64_t);

        if (c->nf && (ev->flags & SKBT_EV_DROP)) {
                /* A drop explained by a verdict: shown with the event, not part of it. */
                c->out->nf_explains = true;
                c->out->nf = c->nfv;
                c->out->nf_verdict = c->verdict;
        } else if (c->nf) {
                if (ev->stack_depth)
                        return json_scan_fail(&c->js, "a netfilter verdict's event has no stack");
                memcpy(ev + 1, &c->nfv, sizeof(c->nfv));
                ev->flags |= SKBT_EV_NF;
                /* The verdict is in retval; a return event printed it whole. */
                if (!(ev->flags & SKBT_EV_RETURN))
                        ev->retval = (int64_t)c->verdict;
                size = sizeof(*ev) + sizeof(c->nfv);
        }
        if (c->fields || c->snap || c->big)
                size = SKBT_REC_BIG;
        c->out->size = size;
        return 0;
}

/*
 * The daemon names a namespace as it is when it renders the event: an event
 * without netns_name says its namespace has no name now.  Keeping that per
 * inode renders each event as it was (and aggregate blocks, rendered later,
 * with the name of the latest event, as the daemon would).
 */
static int settle_netns(struct dctx *c)
{
        uint32_t id = 0;
        int r;

        if (!c->ev->netns)
                return 0;
        if (c->netns_name_len) {
                r = intern_id(&c->d->netns, c->netns_name, c->netns_name_len, &id);
                if (r < 0)
                        return intern_fail(c, r);
                id++;
        }
        r = ns_set(c->d, c->ev->netns, id);
        return r < 0 ? intern_fail(c, r) : 0;
}

int skbt_decode_event(struct skbt_decoder *d, const char *json, size_t len,
                      struct skbt_decoded *ret, char *err, size_t errlen)
{
        struct dctx c = {.d = d, .out = ret, .ev = &ret->rec.ev};
        char key[64];
        unsigned i = 0, next = 0;
        uint32_t id;
        int r;

        memset(ret, 0, sizeof(*ret));
        json_scan_init(&c.js, json, len, err, errlen);
        r = json_scan_object(&c.js);
        while (r >= 0 && (r = json_scan_member(&c.js, &i, key, sizeof(key))) > 0)
                r = member(&c, key, &next);
        if (r >= 0)
                r = json_scan_finish(&c.js);
        if (r >= 0 && (c.seen & REQUIRED_MEMBERS) != REQUIRED_MEMBERS)
                r = json_scan_fail(&c.js, "not an event: it needs packet_id, timestamp and "
                                          "function");
        if (r >= 0)
                r = settle_tuple(&c);
        if (r >= 0)
                r = settle_record(&c);
        if (r < 0)
                return r;
        r = settle_netns(&c);
        if (r < 0)
                return r;
        r = probe_intern(d, c.probe, c.group, &id);
        if (r < 0)
                return intern_fail(&c, r);
        ret->rec.ev.probe_id = id;
        return 0;
}
