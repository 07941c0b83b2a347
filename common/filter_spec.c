/* SPDX-License-Identifier: GPL-2.0-only */
/* filter_spec.c - parse and validate session filters (CLI strings and wire JSON) */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "filter_spec.h"
#include "macro.h"
#include "util.h"

#define SKBT_F_ALL                                                                                 \
        (SKBT_F_MARK | SKBT_F_L3 | SKBT_F_PROTO | SKBT_F_SADDR | SKBT_F_DADDR | SKBT_F_ADDR |      \
         SKBT_F_SPORT | SKBT_F_DPORT | SKBT_F_PORT | SKBT_F_PID | SKBT_F_NETNS | SKBT_F_IFINDEX |  \
         SKBT_F_LAYER)

/* Linux's PID_MAX_LIMIT (include/linux/threads.h, 64-bit). */
#define PID_MAX 4194304

/* "10.0.0.0/24" or a full IPv6 address with "/128". */
#define PREFIX_STR_MAX (INET6_ADDRSTRLEN + 4)

static int parse_hex32(const char *s, uint32_t *ret)
{
        uint32_t v = 0;
        bool over = false;
        int d;

        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                d = skbt_hex_digit(*s);
                if (d < 0)
                        return -EINVAL;
                if (v > UINT32_MAX >> 4)
                        over = true;
                v = (v << 4) | (uint32_t)d;
        }
        if (over)
                return -ERANGE;
        *ret = v;
        return 0;
}

/* Protocols accepted by name on the command line and on the wire. */
static const struct {
        const char *name;
        uint8_t proto;
} proto_names[] = {
    {"icmp", IPPROTO_ICMP}, {"icmp6", IPPROTO_ICMPV6}, {"ipv6-icmp", IPPROTO_ICMPV6},
    {"tcp", IPPROTO_TCP},   {"udp", IPPROTO_UDP},      {"sctp", IPPROTO_SCTP},
};

/* The canonical wire name (first in proto_names), NULL for number-only protocols. */
static const char *proto_wire_name(uint8_t proto)
{
        for (size_t i = 0; i < ARRAY_SIZE(proto_names); i++)
                if (proto_names[i].proto == proto)
                        return proto_names[i].name;
        return NULL;
}

const char *skbt_proto_wire_name(uint8_t proto, char *buf, size_t len)
{
        const char *n = proto_wire_name(proto);

        if (n)
                return n;
        snprintf(buf, len, "%u", proto);
        return buf;
}

int skbt_parse_proto(const char *s, uint8_t *ret, char *err, size_t errlen)
{
        char q[SKBT_QUOTE_BUF];
        uint64_t v;

        for (size_t i = 0; i < ARRAY_SIZE(proto_names); i++) {
                if (strcasecmp(s, proto_names[i].name) == 0) {
                        *ret = proto_names[i].proto;
                        return 0;
                }
        }
        if (skbt_parse_decimal(s, 255, &v) < 0)
                return skbt_fail(err, errlen,
                                 "unknown protocol '%s': expected icmp, icmp6, tcp, udp, sctp or a "
                                 "number 0-255",
                                 skbt_quote(s, q));
        *ret = (uint8_t)v;
        return 0;
}

const char *skbt_proto_name(uint8_t proto)
{
        /* IANA keywords, for the protocols one meets in skb traces. */
        switch (proto) {
        case 1:
                return "ICMP";
        case 2:
                return "IGMP";
        case 4:
                return "IPIP";
        case 6:
                return "TCP";
        case 17:
                return "UDP";
        case 33:
                return "DCCP";
        case 41:
                return "IPv6";
        case 46:
                return "RSVP";
        case 47:
                return "GRE";
        case 50:
                return "ESP";
        case 51:
                return "AH";
        case 58:
                return "ICMPv6";
        case 89:
                return "OSPF";
        case 103:
                return "PIM";
        case 112:
                return "VRRP";
        case 115:
                return "L2TP";
        case 132:
                return "SCTP";
        case 136:
                return "UDPLite";
        case 137:
                return "MPLS";
        case 143:
                return "Ethernet";
        default:
                return NULL;
        }
}

static unsigned max_plen(uint8_t l3)
{
        return l3 == SKBT_L3_IPV4 ? 32 : 128;
}

/* Clear the bits after the first plen bits of a 16-byte address. */
static void mask_addr(uint8_t addr[16], unsigned plen)
{
        for (unsigned i = 0; i < 16; i++) {
                int bits = (int)plen - 8 * (int)i;

                if (bits <= 0)
                        addr[i] = 0;
                else if (bits < 8)
                        addr[i] &= (uint8_t)(0xff << (8 - bits));
        }
}

int skbt_parse_prefix(const char *s, struct skbt_prefix *ret, char *err, size_t errlen)
{
        char q[SKBT_QUOTE_BUF], a[INET6_ADDRSTRLEN];
        struct skbt_prefix p = {};
        const char *slash = strchr(s, '/');
        size_t alen = slash ? (size_t)(slash - s) : strlen(s);
        uint64_t plen;
        int r;

        /* A longer address part cannot be valid; copying it would truncate silently. */
        if (alen >= sizeof(a))
                goto bad_addr;
        memcpy(a, s, alen);
        a[alen] = '\0';
        if (inet_pton(AF_INET, a, p.addr) == 1)
                p.l3 = SKBT_L3_IPV4;
        else if (inet_pton(AF_INET6, a, p.addr) == 1)
                p.l3 = SKBT_L3_IPV6;
        else
                goto bad_addr;

        if (!slash) {
                plen = max_plen(p.l3);
        } else {
                r = skbt_parse_decimal(slash + 1, max_plen(p.l3), &plen);
                if (r == -ERANGE)
                        return skbt_fail(err, errlen,
                                         "prefix /%s is too long for an %s address (maximum %u)",
                                         skbt_quote(slash + 1, q),
                                         p.l3 == SKBT_L3_IPV4 ? "IPv4" : "IPv6", max_plen(p.l3));
                if (r < 0)
                        return skbt_fail(err, errlen,
                                         "invalid prefix length in '%s': expected /0 to /%u after "
                                         "the address",
                                         skbt_quote(s, q), max_plen(p.l3));
        }
        p.plen = (uint8_t)plen;
        mask_addr(p.addr, p.plen);
        skbt_prefix_fill_mask(&p);
        *ret = p;
        return 0;

bad_addr:
        return skbt_fail(
            err, errlen,
            "invalid address '%s': expected an IPv4 or IPv6 address with optional /PREFIX",
            skbt_quote(s, q));
}

void skbt_format_prefix(const struct skbt_prefix *p, char *buf, size_t len)
{
        char a[INET6_ADDRSTRLEN];
        int af = p->l3 == SKBT_L3_IPV4 ? AF_INET : AF_INET6;

        if (len == 0)
                return;
        if ((p->l3 != SKBT_L3_IPV4 && p->l3 != SKBT_L3_IPV6) ||
            !inet_ntop(af, p->addr, a, sizeof(a))) {
                snprintf(buf, len, "(invalid address)");
                return;
        }
        if (p->plen == max_plen(p->l3))
                snprintf(buf, len, "%s", a);
        else
                snprintf(buf, len, "%s/%u", a, p->plen);
}

int skbt_parse_port(const char *s, uint16_t *ret, char *err, size_t errlen)
{
        char q[SKBT_QUOTE_BUF];
        uint64_t v;

        if (skbt_parse_decimal(s, UINT16_MAX, &v) < 0)
                return skbt_fail(err, errlen,
                                 "invalid port '%s': expected a number from 0 to 65535",
                                 skbt_quote(s, q));
        *ret = (uint16_t)v;
        return 0;
}

int skbt_parse_u32(const char *what, const char *s, uint32_t *ret, char *err, size_t errlen)
{
        char q[SKBT_QUOTE_BUF];
        uint64_t v;
        uint32_t h;

        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                if (parse_hex32(s + 2, &h) < 0)
                        goto bad;
                *ret = h;
                return 0;
        }
        /* "010" is 8 to strtoul(base 0), ip-rule and iptables, but 10 to a human. */
        if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
                return skbt_fail(
                    err, errlen,
                    "invalid %s '%s': leading zeros are ambiguous (octal?), expected a "
                    "decimal number without them or a 0x hexadecimal number",
                    what, skbt_quote(s, q));
        if (skbt_parse_decimal(s, UINT32_MAX, &v) < 0)
                goto bad;
        *ret = (uint32_t)v;
        return 0;

bad:
        return skbt_fail(err, errlen,
                         "invalid %s '%s': expected a decimal or 0x hexadecimal number from 0 to "
                         "4294967295 (0xffffffff)",
                         what, skbt_quote(s, q));
}

int skbt_parse_mark(const char *s, uint32_t *mark, uint32_t *mask, bool *has_mask, char *err,
                    size_t errlen)
{
        char v[32], q[SKBT_QUOTE_BUF];
        const char *slash = strchr(s, '/');
        uint32_t m, k = UINT32_MAX;
        size_t vlen;
        int r;

        if (!slash) {
                r = skbt_parse_u32("mark", s, &m, err, errlen);
                if (r < 0)
                        return r;
        } else {
                vlen = (size_t)(slash - s);
                if (vlen >= sizeof(v))
                        return skbt_fail(err, errlen,
                                         "invalid mark '%s': expected VALUE or VALUE/MASK, each a "
                                         "decimal or 0x hexadecimal number from 0 to 4294967295",
                                         skbt_quote(s, q));
                memcpy(v, s, vlen);
                v[vlen] = '\0';
                r = skbt_parse_u32("mark", v, &m, err, errlen);
                if (r < 0)
                        return r;
                r = skbt_parse_u32("mark mask", slash + 1, &k, err, errlen);
                if (r < 0)
                        return r;
        }
        *mark = m;
        *mask = k;
        *has_mask = slash != NULL;
        return 0;
}

static const char *l3_name(uint8_t l3)
{
        return l3 == SKBT_L3_IPV4 ? "ipv4" : "ipv6";
}

static const char *l3_family(uint8_t l3)
{
        return l3 == SKBT_L3_IPV4 ? "IPv4" : "IPv6";
}

static bool prefix_valid(const struct skbt_prefix *p)
{
        struct skbt_prefix m = *p;

        if (p->l3 != SKBT_L3_IPV4 && p->l3 != SKBT_L3_IPV6)
                return false;
        if (p->plen > max_plen(p->l3))
                return false;
        /* the BPF side compares masked packet addresses with these bytes as they are */
        mask_addr(m.addr, p->plen);
        if (p->l3 == SKBT_L3_IPV4)
                memset(m.addr + 4, 0, 12);
        /* ...and with this mask, which must agree with plen */
        skbt_prefix_fill_mask(&m);
        return memcmp(m.addr, p->addr, sizeof(m.addr)) == 0 &&
               memcmp(m.mask, p->mask, sizeof(m.mask)) == 0;
}

bool skbt_ifname_valid(const char *s)
{
        size_t n = strlen(s);

        /* The kernel's dev_valid_name(): 1..15 bytes, no '/', ':' or white space,
         * not "." or "..". */
        if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c == '/' || c == ':' || c == ' ' || (c >= '\t' && c <= '\r'))
                        return false;
        }
        return true;
}

int skbt_parse_ifname(const char *s, char ret[static 16], char *err, size_t errlen)
{
        char q[SKBT_QUOTE_BUF];

        if (!skbt_ifname_valid(s))
                return skbt_fail(err, errlen,
                                 "invalid interface name '%s': expected 1 to 15 bytes without '/', "
                                 "':' or white space",
                                 skbt_quote(s, q));
        memset(ret, 0, 16);
        memcpy(ret, s, strlen(s));
        return 0;
}

static const struct {
        uint32_t flag;
        const char *name;
        size_t off;
} filter_addrs[] = {
    {SKBT_F_SADDR, "saddr", offsetof(struct skbt_filter, saddr)},
    {SKBT_F_DADDR, "daddr", offsetof(struct skbt_filter, daddr)},
    {SKBT_F_ADDR, "addr", offsetof(struct skbt_filter, addr)},
};

static const struct skbt_prefix *filter_addr(const struct skbt_filter *f, size_t i)
{
        return (const void *)((const char *)f + filter_addrs[i].off);
}

/* Structural checks: the daemon copies this struct into BPF memory as is. */
static int check_structure(const struct skbt_filter *f, char *err, size_t errlen)
{
        if (f->flags & ~(uint32_t)SKBT_F_ALL)
                return skbt_fail(err, errlen, "unknown filter flags 0x%" PRIx32,
                                 f->flags & ~(uint32_t)SKBT_F_ALL);
        if ((f->flags & SKBT_F_L3) && f->l3 != SKBT_L3_IPV4 && f->l3 != SKBT_L3_IPV6)
                return skbt_fail(err, errlen, "invalid l3 %u: expected ipv4 or ipv6", f->l3);
        for (size_t i = 0; i < ARRAY_SIZE(filter_addrs); i++) {
                const struct skbt_prefix *p = filter_addr(f, i);

                if ((f->flags & filter_addrs[i].flag) && !prefix_valid(p))
                        return skbt_fail(err, errlen,
                                         "invalid %s: family %u, prefix length %u or host bits set",
                                         filter_addrs[i].name, p->l3, p->plen);
        }
        if ((f->flags & SKBT_F_PID) && (f->pid == 0 || f->pid > PID_MAX))
                return skbt_fail(err, errlen, "invalid pid %" PRIu32 ": expected 1 to %d", f->pid,
                                 PID_MAX);
        if ((f->flags & SKBT_F_NETNS) && f->netns == 0)
                return skbt_fail(err, errlen, "invalid netns 0: expected a namespace inode number");
        /* An index means nothing without its namespace; the daemon sets both. */
        if ((f->flags & SKBT_F_IFINDEX) && (!(f->flags & SKBT_F_NETNS) || f->ifindex == 0))
                return skbt_fail(err, errlen, "an interface index needs its network namespace");
        if (f->ifname[sizeof(f->ifname) - 1] != '\0' ||
            (f->ifname[0] && !skbt_ifname_valid(f->ifname)))
                return skbt_fail(err, errlen, "invalid ifname");
        return 0;
}

static int check_mark(const struct skbt_filter *f, char *err, size_t errlen)
{
        /* The API has no "mask given" flag, so a lone mask can only be refused here. */
        if (!(f->flags & SKBT_F_MARK) && f->mark_mask)
                return skbt_fail(err, errlen, "mark_mask requires mark");
        if ((f->flags & SKBT_F_MARK) && (f->mark & ~f->mark_mask))
                return skbt_fail(err, errlen,
                                 "mark 0x%" PRIx32 " has bits outside mask 0x%" PRIx32
                                 ", so it could never match: expected mark & mask == mark",
                                 f->mark, f->mark_mask);
        return 0;
}

/* The address family every address and -4/-6 agree on (0: none given); *first: the
 * first address given (index into filter_addrs, -1: none), for messages. */
static int check_family(const struct skbt_filter *f, uint8_t *family, int *first, char *err,
                        size_t errlen)
{
        char a[PREFIX_STR_MAX], b[PREFIX_STR_MAX];

        *first = -1;
        for (size_t i = 0; i < ARRAY_SIZE(filter_addrs); i++) {
                const struct skbt_prefix *p = filter_addr(f, i), *q;

                if (!(f->flags & filter_addrs[i].flag))
                        continue;
                if ((f->flags & SKBT_F_L3) && p->l3 != f->l3) {
                        skbt_format_prefix(p, a, sizeof(a));
                        return skbt_fail(err, errlen, "address %s is %s but -%c/l3 %s was given", a,
                                         l3_family(p->l3), f->l3 == SKBT_L3_IPV4 ? '4' : '6',
                                         l3_name(f->l3));
                }
                if (*first < 0) {
                        *first = (int)i;
                        continue;
                }
                q = filter_addr(f, (size_t)*first);
                if (p->l3 != q->l3) {
                        skbt_format_prefix(q, a, sizeof(a));
                        skbt_format_prefix(p, b, sizeof(b));
                        return skbt_fail(
                            err, errlen,
                            "%s %s is %s but %s %s is %s: a packet has one address family",
                            filter_addrs[*first].name, a, l3_family(q->l3), filter_addrs[i].name, b,
                            l3_family(p->l3));
                }
        }
        *family = f->flags & SKBT_F_L3 ? f->l3
                  : *first >= 0        ? filter_addr(f, (size_t)*first)->l3
                                       : 0;
        return 0;
}

/* icmp and icmp6 each have one family; ports need a protocol that has them. */
static int check_proto(const struct skbt_filter *f, uint8_t family, int first, char *err,
                       size_t errlen)
{
        bool v4only = f->proto == IPPROTO_ICMP, v6only = f->proto == IPPROTO_ICMPV6;
        const char *n = proto_wire_name(f->proto);
        char a[PREFIX_STR_MAX], q[8];

        if (!(f->flags & SKBT_F_PROTO))
                return 0;
        if ((v4only && family == SKBT_L3_IPV6) || (v6only && family == SKBT_L3_IPV4)) {
                if (f->flags & SKBT_F_L3)
                        return skbt_fail(err, errlen,
                                         "proto %s is %s only but -%c/l3 %s was given: "
                                         "use %s",
                                         n, v4only ? "IPv4" : "IPv6", v4only ? '6' : '4',
                                         v4only ? "ipv6" : "ipv4", v4only ? "icmp6" : "icmp");
                skbt_format_prefix(filter_addr(f, (size_t)first), a, sizeof(a));
                return skbt_fail(err, errlen, "proto %s is %s only but %s %s is %s: use %s", n,
                                 v4only ? "IPv4" : "IPv6", filter_addrs[first].name, a,
                                 v4only ? "IPv6" : "IPv4", v4only ? "icmp6" : "icmp");
        }
        /* the same set the BPF parser reads ports for (bpf/skbt_parse.bpf.h) */
        if ((f->flags & (SKBT_F_SPORT | SKBT_F_DPORT | SKBT_F_PORT)) && f->proto != IPPROTO_TCP &&
            f->proto != IPPROTO_UDP && f->proto != IPPROTO_SCTP && f->proto != IPPROTO_UDPLITE)
                return skbt_fail(err, errlen,
                                 "ports only apply to tcp, udp, sctp and udplite (136), not "
                                 "proto %s",
                                 skbt_proto_wire_name(f->proto, q, sizeof(q)));
        return 0;
}

int skbt_filter_validate(const struct skbt_filter *f, char *err, size_t errlen)
{
        uint8_t family = 0;
        int first, r;

        if ((r = check_structure(f, err, errlen)) < 0 || (r = check_mark(f, err, errlen)) < 0 ||
            (r = check_family(f, &family, &first, err, errlen)) < 0)
                return r;
        return check_proto(f, family, first, err, errlen);
}

/* Append to a fixed buffer; output past the end is dropped, buf stays terminated. */
static void _printf_(4, 5) append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (*pos >= len)
                return;
        va_start(ap, fmt);
        n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
        va_end(ap);
        if (n > 0)
                *pos = MIN(len, *pos + (size_t)n);
}

void skbt_filter_describe(const struct skbt_filter *f, char *buf, size_t len)
{
        char p[PREFIX_STR_MAX];
        const char *sep = "";
        const char *n;
        size_t pos = 0;

        if (len == 0)
                return;
        buf[0] = '\0';
        if (f->flags & SKBT_F_MARK) {
                if (f->mark_mask == UINT32_MAX)
                        append(buf, len, &pos, "mark 0x%" PRIx32, f->mark);
                else
                        append(buf, len, &pos, "mark 0x%" PRIx32 "/0x%" PRIx32, f->mark,
                               f->mark_mask);
                sep = " and ";
        }
        if (f->flags & SKBT_F_L3) {
                append(buf, len, &pos, "%s%s", sep, l3_name(f->l3));
                sep = " and ";
        }
        if (f->flags & SKBT_F_PROTO) {
                n = proto_wire_name(f->proto);
                if (n)
                        append(buf, len, &pos, "%sproto %s", sep, n);
                else
                        append(buf, len, &pos, "%sproto %u", sep, f->proto);
                sep = " and ";
        }
        if (f->flags & SKBT_F_SADDR) {
                skbt_format_prefix(&f->saddr, p, sizeof(p));
                append(buf, len, &pos, "%ssaddr %s", sep, p);
                sep = " and ";
        }
        if (f->flags & SKBT_F_DADDR) {
                skbt_format_prefix(&f->daddr, p, sizeof(p));
                append(buf, len, &pos, "%sdaddr %s", sep, p);
                sep = " and ";
        }
        if (f->flags & SKBT_F_ADDR) {
                skbt_format_prefix(&f->addr, p, sizeof(p));
                append(buf, len, &pos, "%saddr %s", sep, p);
                sep = " and ";
        }
        if (f->flags & SKBT_F_SPORT) {
                append(buf, len, &pos, "%ssport %u", sep, f->sport);
                sep = " and ";
        }
        if (f->flags & SKBT_F_DPORT) {
                append(buf, len, &pos, "%sdport %u", sep, f->dport);
                sep = " and ";
        }
        if (f->flags & SKBT_F_PORT) {
                append(buf, len, &pos, "%sport %u", sep, f->port);
                sep = " and ";
        }
        if (f->flags & SKBT_F_PID) {
                append(buf, len, &pos, "%spid %" PRIu32, sep, f->pid);
                sep = " and ";
        }
        if (f->ifname[0]) {
                if (f->flags & SKBT_F_IFINDEX)
                        append(buf, len, &pos, "%sifname %s (index %" PRIu32 ")", sep, f->ifname,
                               f->ifindex);
                else
                        append(buf, len, &pos, "%sifname %s", sep, f->ifname);
                sep = " and ";
        }
        if (f->flags & SKBT_F_NETNS) {
                append(buf, len, &pos, "%snetns %" PRIu32, sep, f->netns);
                sep = " and ";
        }
        if ((f->flags & SKBT_F_LAYER) && f->layer != SKBT_LAYER_OUTER) {
                append(buf, len, &pos, "%slayer %s", sep,
                       f->layer == SKBT_LAYER_INNER ? "inner" : "either");
                sep = " and ";
        }
        if (pos == 0)
                append(buf, len, &pos, "all packets");
}
