/* SPDX-License-Identifier: GPL-2.0-only */
/* format.c - render events as text or JSON lines */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "format.h"
#include "macro.h"

/*
 * This runs once per event per session, so it is written for throughput:
 * each line makes one strbuf_reserve() for its worst case and then writes
 * through a plain pointer, with no allocation, no printf and no per-field
 * capacity check.  Only strings that come from outside (probe, drop reason
 * and symbol names, the interface name) are variable-sized; they are
 * measured first and accounted for in the reservation.
 *
 * Worst cases for the parts we generate ourselves:
 *   flow summary: "proto 255 " + 2 * "[<45 chars>]:65535" + " -> " + " [FSRP.UEW]"
 *   + " frag (socket) (truncated) vlan=65535" < 210;
 *   text line: 20 + 10 + 18 + 16 ("probe#N") + 64 (escaped ifname) + flow
 *   + drop and retval suffixes < 450 besides the names;
 *   JSON object: keys and numbers < 700 besides the names.
 */
#define FLOW_MAX 600 /* a tunnel's: outer (< 200) + " ip6gretap key=4294967295 {" + inner */
#define LINE_FIXED_MAX 1400
/* Symbolized locations longer than this are cut; kallsyms names are shorter. */
#define LOCATION_MAX 256
/* A namespace's name is a file name (NAME_MAX). */
#define NETNS_NAME_MAX 255

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_SCTP_ 132

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

static const char hex_digits[] = "0123456789abcdef";

static const char digit_pairs[] = "00010203040506070809"
                                  "10111213141516171819"
                                  "20212223242526272829"
                                  "30313233343536373839"
                                  "40414243444546474849"
                                  "50515253545556575859"
                                  "60616263646566676869"
                                  "70717273747576777879"
                                  "80818283848586878889"
                                  "90919293949596979899";

/* Append a string literal (length known at compile time). */
#define PUT_LIT(p, s) ((p) = (char *)memcpy((p), (s), sizeof(s) - 1) + sizeof(s) - 1)

static inline char *put_mem(char *p, const char *s, size_t n)
{
        memcpy(p, s, n);
        return p + n;
}

static inline unsigned dec_digits(uint64_t v)
{
        unsigned n = 1;

        for (;;) {
                if (v < 10)
                        return n;
                if (v < 100)
                        return n + 1;
                if (v < 1000)
                        return n + 2;
                if (v < 10000)
                        return n + 3;
                v /= 10000;
                n += 4;
        }
}

/*
 * A line has a dozen numbers, mostly small; counting the digits first lets
 * them be written in place, where going through a temporary would cost a
 * variable-length memcpy() call each.
 */
static char *put_u64(char *p, uint64_t v)
{
        unsigned n = dec_digits(v);
        char *e = p + n;

        while (v >= 100) {
                unsigned d = (unsigned)(v % 100) * 2;

                v /= 100;
                *--e = digit_pairs[d + 1];
                *--e = digit_pairs[d];
        }
        if (v >= 10) {
                *--e = digit_pairs[v * 2 + 1];
                *--e = digit_pairs[v * 2];
        } else {
                *--e = (char)('0' + v);
        }
        return p + n;
}

static char *put_i64(char *p, int64_t v)
{
        if (v < 0) {
                *p++ = '-';
                return put_u64(p, (uint64_t)0 - (uint64_t)v);
        }
        return put_u64(p, (uint64_t)v);
}

/* 0..255 without leading zeros: the common case of addresses and ICMP fields. */
static inline char *put_u8(char *p, unsigned v)
{
        if (v >= 100) {
                *p++ = (char)('0' + v / 100);
                v %= 100;
                *p++ = digit_pairs[v * 2];
                *p++ = digit_pairs[v * 2 + 1];
        } else if (v >= 10) {
                *p++ = digit_pairs[v * 2];
                *p++ = digit_pairs[v * 2 + 1];
        } else {
                *p++ = (char)('0' + v);
        }
        return p;
}

/* "0x" and lowercase hex without leading zeros, like strbuf_put_hex(). */
static char *put_hex(char *p, uint64_t v)
{
        unsigned n = v ? (unsigned)(64 - __builtin_clzll(v) + 3) / 4 : 1;

        *p++ = '0';
        *p++ = 'x';
        for (unsigned i = n; i-- > 0; v >>= 4)
                p[i] = hex_digits[v & 0xf];
        return p + n;
}

/* "0x" and exactly four hex digits: ethertypes are conventionally shown so. */
static char *put_hex16(char *p, uint16_t v)
{
        p[0] = '0';
        p[1] = 'x';
        p[2] = hex_digits[v >> 12];
        p[3] = hex_digits[(v >> 8) & 0xf];
        p[4] = hex_digits[(v >> 4) & 0xf];
        p[5] = hex_digits[v & 0xf];
        return p + 6;
}

/* printf("%03u"): the CPU column stays aligned on machines with < 1000 CPUs. */
static char *put_cpu(char *p, uint32_t cpu)
{
        if (cpu < 10) {
                PUT_LIT(p, "00");
                *p++ = (char)('0' + cpu);
                return p;
        }
        if (cpu < 100) {
                *p++ = '0';
                return put_u8(p, cpu);
        }
        return put_u64(p, cpu);
}

static char *put_ipv4(char *p, const uint8_t *a)
{
        p = put_u8(p, a[0]);
        *p++ = '.';
        p = put_u8(p, a[1]);
        *p++ = '.';
        p = put_u8(p, a[2]);
        *p++ = '.';
        return put_u8(p, a[3]);
}

static char *put_hex_group(char *p, unsigned w)
{
        if (w >= 0x1000)
                *p++ = hex_digits[w >> 12];
        if (w >= 0x100)
                *p++ = hex_digits[(w >> 8) & 0xf];
        if (w >= 0x10)
                *p++ = hex_digits[(w >> 4) & 0xf];
        *p++ = hex_digits[w & 0xf];
        return p;
}

/*
 * RFC 5952 text form, at most 45 bytes.  glibc's inet_ntop() formats each
 * group with sprintf(), which would dominate the cost of an IPv6 event.  The
 * longest run of two or more zero groups (the first on a tie) becomes "::";
 * only IPv4-mapped addresses end in a dotted quad (unlike glibc, not the
 * deprecated IPv4-compatible ones, as RFC 5952 section 5 recommends).
 */
static char *put_ipv6(char *p, const uint8_t *a)
{
        static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        unsigned w[8];
        int best = -1, best_len = 0, cur = -1;

        if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
                PUT_LIT(p, "::ffff:");
                return put_ipv4(p, a + 12);
        }
        for (int i = 0; i < 8; i++) {
                w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
                if (w[i] == 0) {
                        if (cur < 0)
                                cur = i;
                        if (i - cur + 1 > best_len) {
                                best = cur;
                                best_len = i - cur + 1;
                        }
                } else {
                        cur = -1;
                }
        }
        if (best_len < 2)
                best = -1;
        for (int i = 0; i < 8; i++) {
                if (i == best) {
                        /* "::" stands for the run and both of its separators. */
                        PUT_LIT(p, "::");
                        i += best_len - 1;
                        continue;
                }
                if (i > 0 && i != best + best_len)
                        *p++ = ':';
                p = put_hex_group(p, w[i]);
        }
        return p;
}

static char *put_addr(char *p, const struct skbt_tuple *t, const uint8_t *a)
{
        return t->l3 == SKBT_L3_IPV4 ? put_ipv4(p, a) : put_ipv6(p, a);
}

/* tcpdump's letters in tcpdump's order (print-tcp.c tcp_flag_values). */
static char *put_tcp_flags(char *p, uint8_t f)
{
        static const struct {
                uint8_t bit;
                char c;
        } letters[] = {
            {TCP_FIN, 'F'}, {TCP_SYN, 'S'}, {TCP_RST, 'R'}, {TCP_PSH, 'P'},
            {TCP_ACK, '.'}, {TCP_URG, 'U'}, {TCP_ECE, 'E'}, {TCP_CWR, 'W'},
        };

        if (!f) {
                PUT_LIT(p, "none");
                return p;
        }
        for (size_t i = 0; i < ARRAY_SIZE(letters); i++)
                if (f & letters[i].bit)
                        *p++ = letters[i].c;
        return p;
}

/* Interface names are chosen by whoever can create devices; in text output
 * they must not be able to break the line or send terminal escapes. */
static char *put_ifname_text(char *p, const char *name, size_t n)
{
        if (n == 0) {
                *p++ = '-';
                return p;
        }
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)name[i];

                if (c == '\\') {
                        PUT_LIT(p, "\\\\");
                } else if (c > 0x20 && c < 0x7f) {
                        *p++ = (char)c;
                } else {
                        PUT_LIT(p, "\\x");
                        *p++ = hex_digits[c >> 4];
                        *p++ = hex_digits[c & 0xf];
                }
        }
        return p;
}

struct proto_name {
        const char *text;
        const char *json;
};

static const struct proto_name *proto_lookup(uint8_t proto)
{
        static const struct proto_name icmp = {"ICMP", "icmp"}, tcp = {"TCP", "tcp"},
                                       udp = {"UDP", "udp"}, icmp6 = {"ICMPv6", "icmp6"},
                                       sctp = {"SCTP", "sctp"};

        switch (proto) {
        case IPPROTO_ICMP_:
                return &icmp;
        case IPPROTO_TCP_:
                return &tcp;
        case IPPROTO_UDP_:
                return &udp;
        case IPPROTO_ICMPV6_:
                return &icmp6;
        case IPPROTO_SCTP_:
                return &sctp;
        }
        return NULL;
}

static bool proto_has_ports(uint8_t proto)
{
        return proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_ || proto == IPPROTO_SCTP_;
}

static bool proto_is_icmp(uint8_t proto)
{
        return proto == IPPROTO_ICMP_ || proto == IPPROTO_ICMPV6_;
}

static const char *icmp_type_name(uint8_t proto, uint8_t type)
{
        static const char *const v4[] = {
            [0] = "echo-reply",           [3] = "dest-unreachable",
            [4] = "source-quench",        [5] = "redirect",
            [8] = "echo-request",         [9] = "router-advertisement",
            [10] = "router-solicitation", [11] = "time-exceeded",
            [12] = "parameter-problem",   [13] = "timestamp-request",
            [14] = "timestamp-reply",
        };
        static const char *const v6_error[] = {
            [1] = "dest-unreachable",
            [2] = "packet-too-big",
            [3] = "time-exceeded",
            [4] = "parameter-problem",
        };
        static const char *const v6_info[] = {
            [128 - 128] = "echo-request",
            [129 - 128] = "echo-reply",
            [130 - 128] = "mld-query",
            [131 - 128] = "mld-report",
            [132 - 128] = "mld-done",
            [133 - 128] = "router-solicitation",
            [134 - 128] = "router-advertisement",
            [135 - 128] = "neighbor-solicitation",
            [136 - 128] = "neighbor-advertisement",
            [137 - 128] = "redirect",
            [143 - 128] = "mld2-report",
        };

        if (proto == IPPROTO_ICMP_)
                return type < ARRAY_SIZE(v4) ? v4[type] : NULL;
        if (type < ARRAY_SIZE(v6_error))
                return v6_error[type];
        if (type >= 128 && type - 128 < (int)ARRAY_SIZE(v6_info))
                return v6_info[type - 128];
        return NULL;
}

static bool icmp_is_echo(uint8_t proto, uint8_t type)
{
        if (proto == IPPROTO_ICMP_)
                return type == 0 || type == 8;
        return type == 128 || type == 129;
}

static bool icmp_is_unreachable(uint8_t proto, uint8_t type)
{
        return type == (proto == IPPROTO_ICMP_ ? 3 : 1);
}

/* The parser's L3 flag with an l3 value we know how to print. */
static bool tuple_has_l3(const struct skbt_tuple *t)
{
        return (t->flags & SKBT_TUPLE_L3) && (t->l3 == SKBT_L3_IPV4 || t->l3 == SKBT_L3_IPV6);
}

static char *put_endpoint(char *p, const struct skbt_tuple *t, const uint8_t *a, uint16_t port,
                          bool ports)
{
        if (!ports)
                return put_addr(p, t, a);
        if (t->l3 == SKBT_L3_IPV6) {
                *p++ = '[';
                p = put_ipv6(p, a);
                *p++ = ']';
        } else {
                p = put_ipv4(p, a);
        }
        *p++ = ':';
        return put_u64(p, port);
}

/* One packet's flow summary; writes less than 200 bytes. */
static char *put_flow_tuple(char *p, const struct skbt_tuple *t, uint16_t protocol)
{
        const struct proto_name *pn;
        bool l4 = t->flags & SKBT_TUPLE_L4;
        bool ports;

        if (!tuple_has_l3(t)) {
                PUT_LIT(p, "proto ");
                p = put_hex16(p, protocol);
                if (protocol == 0x0800 || protocol == 0x86dd)
                        PUT_LIT(p, " (no ip header)");
                goto suffixes;
        }

        pn = proto_lookup(t->l4proto);
        if (pn) {
                p = put_mem(p, pn->text, strlen(pn->text));
        } else {
                PUT_LIT(p, "proto ");
                p = put_u8(p, t->l4proto);
        }
        *p++ = ' ';
        ports = l4 && proto_has_ports(t->l4proto);
        p = put_endpoint(p, t, t->saddr, t->sport, ports);
        PUT_LIT(p, " -> ");
        p = put_endpoint(p, t, t->daddr, t->dport, ports);

        if (l4 && t->l4proto == IPPROTO_TCP_) {
                PUT_LIT(p, " [");
                p = put_tcp_flags(p, t->tcp_flags);
                *p++ = ']';
        } else if (l4 && proto_is_icmp(t->l4proto)) {
                const char *name = icmp_type_name(t->l4proto, t->icmp_type);

                *p++ = ' ';
                if (!name) {
                        PUT_LIT(p, "type=");
                        p = put_u8(p, t->icmp_type);
                        PUT_LIT(p, " code=");
                        p = put_u8(p, t->icmp_code);
                } else {
                        p = put_mem(p, name, strlen(name));
                        if (icmp_is_echo(t->l4proto, t->icmp_type)) {
                                PUT_LIT(p, " id=");
                                p = put_u64(p, t->icmp_id);
                                PUT_LIT(p, " seq=");
                                p = put_u64(p, t->icmp_seq);
                        }
                        /* For unreachables code 0 (net unreachable) is news too. */
                        if (t->icmp_code || icmp_is_unreachable(t->l4proto, t->icmp_type)) {
                                PUT_LIT(p, " code=");
                                p = put_u8(p, t->icmp_code);
                        }
                }
        }
        if (t->flags & SKBT_TUPLE_FRAGMENT)
                PUT_LIT(p, " frag");
        /* Not read from headers: the socket's (a TCP skb before its headers exist). */
        if (t->flags & SKBT_TUPLE_SOCK)
                PUT_LIT(p, " (socket)");

suffixes:
        if ((t->flags & SKBT_TUPLE_TRUNCATED) && !l4)
                PUT_LIT(p, " (truncated)");
        if (t->flags & SKBT_TUPLE_VLAN) {
                PUT_LIT(p, " vlan=");
                p = put_u64(p, t->vlan_id);
        }
        return p;
}

/* "vxlan", "sit", ...: the tunnel's kind, named as ip-link(8) names its devices. */
static const char *tunnel_name(const struct skbt_event *ev)
{
        bool v6 = ev->tuple.l3 == SKBT_L3_IPV6;

        switch (ev->tun.type) {
        case SKBT_TUN_VXLAN:
                return "vxlan";
        case SKBT_TUN_GENEVE:
                return "geneve";
        case SKBT_TUN_GRE:
                return v6 ? "ip6gre" : "gre";
        case SKBT_TUN_GRETAP:
                return v6 ? "ip6gretap" : "gretap";
        case SKBT_TUN_IPIP:
                if (v6)
                        return "ip6tnl";
                return ev->tun.inner.l3 == SKBT_L3_IPV6 ? "sit" : "ipip";
        }
        return NULL;
}

/* The tunnel's id: VXLAN's and Geneve's VNI, GRE's key; NULL for none. */
static const char *tunnel_id_name(const struct skbt_event *ev)
{
        if (!(ev->tun.flags & SKBT_TUN_F_ID))
                return NULL;
        return ev->tun.type == SKBT_TUN_VXLAN || ev->tun.type == SKBT_TUN_GENEVE ? "vni" : "key";
}

/* Writes at most FLOW_MAX bytes: the outer flow, then " vxlan vni=42 {INNER FLOW}". */
static char *put_flow(char *p, const struct skbt_event *ev)
{
        const char *name = tunnel_name(ev), *id;

        p = put_flow_tuple(p, &ev->tuple, ev->protocol);
        if (!name)
                return p;
        *p++ = ' ';
        p = put_mem(p, name, strlen(name));
        id = tunnel_id_name(ev);
        if (id) {
                *p++ = ' ';
                p = put_mem(p, id, 3);
                *p++ = '=';
                p = put_u64(p, ev->tun.id);
        }
        PUT_LIT(p, " {");
        p = put_flow_tuple(p, &ev->tun.inner, ev->tun.inner_proto);
        *p++ = '}';
        return p;
}

void skbt_format_flow(struct strbuf *out, const struct skbt_event *ev)
{
        char *p;

        if (!strbuf_reserve(out, FLOW_MAX))
                return;
        p = put_flow(out->data + out->len, ev);
        out->len = (size_t)(p - out->data);
}

/* Name lookups; NULL means "print the number". */
static const char *probe_name(const struct skbt_names *names, uint32_t id)
{
        if (names && names->probes && id < names->n_probes)
                return names->probes[id];
        return NULL;
}

static const char *drop_reason_name(const struct skbt_names *names, uint32_t reason)
{
        if (names && names->drop_reasons && reason < names->n_drop_reasons)
                return names->drop_reasons[reason];
        return NULL;
}

/* Symbolize into buf; 0 (print hex instead) when there is no usable name. */
static size_t symbolize(const struct skbt_names *names, uint64_t addr, char *buf, size_t len)
{
        if (!names || !names->symbolize)
                return 0;
        buf[0] = '\0';
        if (names->symbolize(names->symbolize_data, addr, buf, len) < 0)
                return 0;
        return strnlen(buf, len - 1);
}

/* ---- netfilter verdicts ---- */

#define NFPROTO_INET_ 1
#define NFPROTO_IPV4_ 2
#define NFPROTO_ARP_ 3
#define NFPROTO_NETDEV_ 5
#define NFPROTO_BRIDGE_ 7
#define NFPROTO_IPV6_ 10

const char *skbt_nf_family_name(uint8_t pf)
{
        switch (pf) {
        case NFPROTO_INET_:
                return "inet";
        case NFPROTO_IPV4_:
                return "ip";
        case NFPROTO_ARP_:
                return "arp";
        case NFPROTO_NETDEV_:
                return "netdev";
        case NFPROTO_BRIDGE_:
                return "bridge";
        case NFPROTO_IPV6_:
                return "ip6";
        }
        return NULL;
}

const char *skbt_nf_hook_name(uint8_t pf, uint8_t hook)
{
        static const char *const inet[] = {"PREROUTING", "INPUT",       "FORWARD",
                                           "OUTPUT",     "POSTROUTING", "INGRESS"};
        static const char *const arp[] = {"INPUT", "OUTPUT", "FORWARD"};
        static const char *const netdev[] = {"INGRESS", "EGRESS"};
        /* NF_BR_*: the bridge's own hooks, with BROUTING where inet has INGRESS. */
        static const char *const bridge[] = {"PREROUTING", "INPUT",       "FORWARD",
                                             "OUTPUT",     "POSTROUTING", "BROUTING"};

        switch (pf) {
        case NFPROTO_BRIDGE_:
                return hook < ARRAY_SIZE(bridge) ? bridge[hook] : NULL;
        case NFPROTO_ARP_:
                return hook < ARRAY_SIZE(arp) ? arp[hook] : NULL;
        case NFPROTO_NETDEV_:
                return hook < ARRAY_SIZE(netdev) ? netdev[hook] : NULL;
        default:
                return hook < ARRAY_SIZE(inet) ? inet[hook] : NULL;
        }
}

/* The low byte is the verdict; the rest a queue number or an errno. */
const char *skbt_nf_verdict_name(uint32_t verdict)
{
        static const char *const names[] = {"DROP", "ACCEPT", "STOLEN", "QUEUE", "REPEAT", "STOP"};

        /* NF_DROP_REASON(): the hook freed the packet itself, with an errno. */
        if ((verdict & 0xff) == SKBT_NF_VERDICT_STOLEN && (verdict >> 16))
                return "DROP";
        return (verdict & 0xff) < ARRAY_SIZE(names) ? names[verdict & 0xff] : NULL;
}

const char *skbt_nf_engine_name(const struct skbt_nf *nf)
{
        if (nf->engine == SKBT_NF_NFTABLES)
                return "nftables";
        if (nf->engine == SKBT_NF_EBTABLES)
                return "ebtables";
        switch (nf->pf) {
        case NFPROTO_IPV6_:
                return "ip6tables";
        case NFPROTO_ARP_:
                return "arptables";
        default:
                return "iptables";
        }
}

/* The chain: nftables names its base chains; an iptables table's is the hook's. */
static const char *nf_chain(const struct skbt_nf *nf, size_t *len)
{
        const char *hook = skbt_nf_hook_name(nf->pf, nf->hook);

        if (nf->engine == SKBT_NF_NFTABLES || !hook) {
                *len = strnlen(nf->chain, sizeof(nf->chain));
                return nf->chain;
        }
        *len = strlen(hook);
        return hook;
}

/* Numbers we have no name for print as "name#N". */
static void put_nf_name(struct strbuf *out, bool json, const char *name, const char *what,
                        unsigned v)
{
        if (name) {
                if (json)
                        strbuf_put_json_string(out, name, strlen(name));
                else
                        strbuf_puts(out, name);
        } else {
                strbuf_printf(out, json ? "\"%s#%u\"" : "%s#%u", what, v);
        }
}

/* A name the kernel holds for whoever wrote the rules: escaped like interface names. */
static void put_nf_text_string(struct strbuf *out, const char *s, size_t n)
{
        char *p;

        if (!strbuf_reserve(out, 4 * n + 1))
                return;
        p = put_ifname_text(out->data + out->len, s, n);
        out->len = (size_t)(p - out->data);
}

/* TC_ACT_* (include/uapi/linux/pkt_cls.h) and XDP_* (include/uapi/linux/bpf.h): UAPI. */
const char *skbt_bpf_verdict_name(uint8_t engine, uint32_t verdict)
{
        static const char *const tc[] = {"OK",     "RECLASSIFY", "SHOT",     "PIPE", "STOLEN",
                                         "QUEUED", "REPEAT",     "REDIRECT", "TRAP"};
        static const char *const xdp[] = {"ABORTED", "DROP", "PASS", "TX", "REDIRECT"};

        if (engine == SKBT_NF_XDP)
                return verdict < ARRAY_SIZE(xdp) ? xdp[verdict] : NULL;
        if ((int32_t)verdict == -1)
                return "UNSPEC";
        return verdict < ARRAY_SIZE(tc) ? tc[verdict] : NULL;
}

/* ' bpf=tc dir=ingress verdict=SHOT': a tc or XDP program's run (the probe names it). */
static void put_bpf_text(struct strbuf *out, const struct skbt_nf *nf, uint32_t verdict)
{
        const char *v = skbt_bpf_verdict_name(nf->engine, verdict);

        strbuf_puts(out, nf->engine == SKBT_NF_XDP ? " bpf=xdp" : " bpf=tc dir=");
        if (nf->engine != SKBT_NF_XDP)
                strbuf_puts(out, nf->hook ? "egress" : "ingress");
        strbuf_puts(out, " verdict=");
        if (v)
                strbuf_puts(out, v);
        else
                strbuf_printf(out, "%d", (int32_t)verdict);
}

/* ',"bpf":{"type":"tc","direction":"ingress","verdict":"SHOT","retval":2}' */
static void put_bpf_json(struct strbuf *out, const struct skbt_nf *nf, uint32_t verdict)
{
        const char *v = skbt_bpf_verdict_name(nf->engine, verdict);

        strbuf_puts(out, nf->engine == SKBT_NF_XDP ? ",\"bpf\":{\"type\":\"xdp\""
                                                   : ",\"bpf\":{\"type\":\"tc\",\"direction\":");
        if (nf->engine != SKBT_NF_XDP)
                strbuf_puts(out, nf->hook ? "\"egress\"" : "\"ingress\"");
        strbuf_puts(out, ",\"verdict\":");
        if (v)
                strbuf_printf(out, "\"%s\"", v);
        else
                strbuf_printf(out, "\"verdict#%d\"", (int32_t)verdict);
        strbuf_printf(out, ",\"retval\":%d}", (int32_t)verdict);
}

/* ' nf=nftables family=ip table=filter chain=input hook=INPUT verdict=DROP' */
void skbt_format_nf_text(struct strbuf *out, const struct skbt_nf *nf, uint32_t verdict, bool rules)
{
        size_t chain_len;
        const char *chain = nf_chain(nf, &chain_len);

        if (nf->engine == SKBT_NF_TC || nf->engine == SKBT_NF_XDP) {
                put_bpf_text(out, nf, verdict);
                return;
        }
        strbuf_puts(out, " nf=");
        strbuf_puts(out, skbt_nf_engine_name(nf));
        strbuf_puts(out, " family=");
        put_nf_name(out, false, skbt_nf_family_name(nf->pf), "pf", nf->pf);
        strbuf_puts(out, " table=");
        put_nf_text_string(out, nf->table, strnlen(nf->table, sizeof(nf->table)));
        strbuf_puts(out, " chain=");
        put_nf_text_string(out, chain, chain_len);
        strbuf_puts(out, " hook=");
        put_nf_name(out, false, skbt_nf_hook_name(nf->pf, nf->hook), "hook", nf->hook);
        strbuf_puts(out, " verdict=");
        put_nf_name(out, false, skbt_nf_verdict_name(verdict), "verdict", verdict & 0xff);
        if (!rules || nf->rule_type == SKBT_NF_RULE_NONE)
                return;
        if (nf->rule_type == SKBT_NF_RULE_POLICY) {
                strbuf_puts(out, " rule=policy");
                return;
        }
        /* iptables rules have no handle: their number in the chain says which. */
        if (nf->engine == SKBT_NF_NFTABLES) {
                strbuf_puts(out, " rule_handle=");
                strbuf_put_u64(out, nf->rule_handle);
        }
        if (nf->rule_pos) {
                strbuf_puts(out, " rule_pos=");
                strbuf_put_u64(out, nf->rule_pos);
        }
        if (nf->rule_chain[0]) {
                strbuf_puts(out, " rule_chain=");
                put_nf_text_string(out, nf->rule_chain,
                                   strnlen(nf->rule_chain, sizeof(nf->rule_chain)));
        }
}

/* ',"netfilter":{"engine":"nftables","family":"ip","table":"filter","chain":"input",
 *  "hook":"INPUT","verdict":"DROP"}' */
static void put_nf_json(struct strbuf *out, const struct skbt_nf *nf, uint32_t verdict, bool rules)
{
        size_t chain_len;
        const char *chain = nf_chain(nf, &chain_len);

        if (nf->engine == SKBT_NF_TC || nf->engine == SKBT_NF_XDP) {
                put_bpf_json(out, nf, verdict);
                return;
        }
        strbuf_puts(out, ",\"netfilter\":{\"engine\":\"");
        strbuf_puts(out, skbt_nf_engine_name(nf));
        strbuf_puts(out, "\",\"family\":");
        put_nf_name(out, true, skbt_nf_family_name(nf->pf), "pf", nf->pf);
        strbuf_puts(out, ",\"table\":");
        strbuf_put_json_string(out, nf->table, strnlen(nf->table, sizeof(nf->table)));
        strbuf_puts(out, ",\"chain\":");
        strbuf_put_json_string(out, chain, chain_len);
        strbuf_puts(out, ",\"hook\":");
        put_nf_name(out, true, skbt_nf_hook_name(nf->pf, nf->hook), "hook", nf->hook);
        strbuf_puts(out, ",\"verdict\":");
        put_nf_name(out, true, skbt_nf_verdict_name(verdict), "verdict", verdict & 0xff);
        /* The rule that decided: {"handle":4,"position":2,"chain":"input"}, {"policy":true}. */
        if (rules && nf->rule_type == SKBT_NF_RULE_POLICY) {
                strbuf_puts(out, ",\"rule\":{\"policy\":true}");
        } else if (rules && nf->rule_type == SKBT_NF_RULE_RULE) {
                /* iptables: no handle, the position (its number in the chain) always. */
                if (nf->engine == SKBT_NF_NFTABLES) {
                        strbuf_puts(out, ",\"rule\":{\"handle\":");
                        strbuf_put_u64(out, nf->rule_handle);
                        if (nf->rule_pos) {
                                strbuf_puts(out, ",\"position\":");
                                strbuf_put_u64(out, nf->rule_pos);
                        }
                } else {
                        strbuf_puts(out, ",\"rule\":{\"position\":");
                        strbuf_put_u64(out, nf->rule_pos);
                }
                if (nf->rule_chain[0]) {
                        strbuf_puts(out, ",\"chain\":");
                        strbuf_put_json_string(out, nf->rule_chain,
                                               strnlen(nf->rule_chain, sizeof(nf->rule_chain)));
                }
                strbuf_putc(out, '}');
        }
        strbuf_puts(out, "}");
}

/* The verdict an event shows, if any. */
static const struct skbt_nf *event_nf(const struct skbt_format_opts *o, const struct skbt_event *ev,
                                      uint32_t *verdict)
{
        if (o->nf) {
                *verdict = o->nf_verdict;
                return o->nf;
        }
        if (ev->flags & SKBT_EV_NF) {
                *verdict = (uint32_t)ev->retval;
                return (const struct skbt_nf *)(ev + 1);
        }
        return NULL;
}

/* The variable-sized strings of one event, looked up and measured once. */
struct event_strings {
        const char *probe;
        size_t probe_len;
        const char *group;
        size_t group_len;
        size_t comm_len;
        const char *reason;
        size_t reason_len;
        size_t ifname_len;
        size_t location_len;
        char location[LOCATION_MAX];
        const char *netns_name;
        size_t netns_name_len;
};

/*
 * detail: also the strings only text --detail and JSON show (the task's
 * name, the probe's group, the namespace's name): a plain text line, the
 * commonest, does not pay for their lookups and lengths.
 */
static void event_strings_load(struct event_strings *s, const struct skbt_event *ev,
                               const struct skbt_names *names, bool detail)
{
        s->probe = probe_name(names, ev->probe_id);
        s->probe_len = s->probe ? strlen(s->probe) : 0;
        s->ifname_len = strnlen(ev->ifname, sizeof(ev->ifname));
        s->comm_len = 0;
        s->group = NULL;
        s->group_len = 0;
        s->netns_name = NULL;
        s->netns_name_len = 0;
        if (detail) {
                s->comm_len = strnlen(ev->comm, sizeof(ev->comm));
                s->group = names && names->probe_groups && ev->probe_id < names->n_probes
                               ? names->probe_groups[ev->probe_id]
                               : NULL;
                s->group_len = s->group ? strlen(s->group) : 0;
        }
        if (detail && ev->netns && names && names->netns_name) {
                s->netns_name = names->netns_name(names->netns_name_data, ev->netns, ev->ts);
                /* Names come from file names: bounded, but not by us. */
                s->netns_name_len = s->netns_name ? strnlen(s->netns_name, NETNS_NAME_MAX) : 0;
        }
        s->reason = NULL;
        s->reason_len = 0;
        s->location_len = 0;
        if (ev->flags & SKBT_EV_DROP) {
                s->reason = drop_reason_name(names, ev->drop_reason);
                s->reason_len = s->reason ? strlen(s->reason) : 0;
                s->location_len = symbolize(names, ev->location, s->location, sizeof(s->location));
        }
}

/* Worst-case bytes for the strings when each byte may become "\u00XX". */
static size_t event_strings_max(const struct event_strings *s)
{
        return 6 * (s->probe_len + s->ifname_len + s->reason_len + s->location_len + s->group_len +
                    s->comm_len + s->netns_name_len) +
               16;
}

/* ' if=veth0:3 netns=4026532301 pid=812 comm=ping group=link-in' (--detail). */
static char *put_detail_text(char *p, const struct skbt_event *ev, const struct event_strings *s)
{
        PUT_LIT(p, " if=");
        p = put_ifname_text(p, ev->ifname, s->ifname_len);
        if (s->ifname_len) {
                *p++ = ':';
                p = put_u64(p, ev->ifindex);
        }
        /* Like if=NAME:INDEX: the number after the last colon, the name (if any) before. */
        PUT_LIT(p, " netns=");
        if (s->netns_name_len) {
                p = put_ifname_text(p, s->netns_name, s->netns_name_len);
                *p++ = ':';
        }
        p = put_u64(p, ev->netns);
        PUT_LIT(p, " pid=");
        p = put_u64(p, ev->pid);
        /* A task names itself: escaped like a device name. */
        PUT_LIT(p, " comm=");
        p = put_ifname_text(p, ev->comm, s->comm_len);
        PUT_LIT(p, " group=");
        if (s->group)
                p = put_mem(p, s->group, s->group_len);
        else
                *p++ = '-';
        return p;
}

/*
 * The machinery between the probed code and our program: the program
 * itself (a bpf_prog_* symbol, or an address kallsyms did not have when we
 * read it), the trampoline or tracepoint glue that called it.  Which frames
 * those are depends on the kernel and the backend, so they are recognised
 * by name in the first frames and left out: a stack starts at the probed
 * function (fentry, kprobe) or the tracepoint's caller.
 */
#define STACK_GLUE_FRAMES 8

static bool stack_glue(const char *sym)
{
        static const char *const prefixes[] = {
            "bpf_prog_",
            "bpf_trampoline_",
            "bpf_trace_run",
            "__traceiter_",
            "__bpf_trace_",
            "__bpf_prog_enter",
            "__bpf_prog_exit",
            "trace_call_bpf",
            "kprobe_",
            "fprobe_",
            "rethook_",
            "__kprobe_multi",
            "kprobe_multi_",
            "perf_trace_",
            "bpf_get_stack",
            "ftrace_",
            /* fentry's hop from a function's stub to the shared body (backend_fentry.c) */
            "bpf_strncmp",
        };

        for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
                if (strncmp(sym, prefixes[i], strlen(prefixes[i])) == 0)
                        return true;
        return false;
}

static const uint64_t *event_stack(const struct skbt_event *ev, const struct skbt_names *names,
                                   uint32_t *n)
{
        const uint64_t *frames = (const uint64_t *)(ev + 1);
        uint32_t depth = ev->stack_depth < SKBT_STACK_MAX ? ev->stack_depth : SKBT_STACK_MAX;
        uint32_t skip = 0;
        bool trim = !names || !names->frames_trimmed;
        char buf[LOCATION_MAX];

        for (uint32_t i = 0; trim && i < depth && i < STACK_GLUE_FRAMES; i++)
                if (symbolize(names, frames[i], buf, sizeof(buf)) && stack_glue(buf))
                        skip = i + 1;
        *n = depth - skip;
        return frames + skip;
}

/* One line per frame, innermost first, indented under the event's line. */
void skbt_format_stack_text(struct strbuf *out, const struct skbt_event *ev,
                            const struct skbt_names *names)
{
        uint32_t n;
        const uint64_t *frames = event_stack(ev, names, &n);
        char buf[LOCATION_MAX];

        for (uint32_t i = 0; i < n; i++) {
                size_t len = symbolize(names, frames[i], buf, sizeof(buf));

                strbuf_puts(out, "    ");
                if (len)
                        strbuf_put(out, buf, len);
                else
                        strbuf_put_hex(out, frames[i]);
                strbuf_putc(out, '\n');
        }
}

static void put_stack_json(struct strbuf *out, const struct skbt_event *ev,
                           const struct skbt_names *names)
{
        uint32_t n;
        const uint64_t *frames = event_stack(ev, names, &n);
        char buf[LOCATION_MAX];

        strbuf_puts(out, ",\"stack\":[");
        for (uint32_t i = 0; i < n; i++) {
                size_t len = symbolize(names, frames[i], buf, sizeof(buf));

                if (i)
                        strbuf_putc(out, ',');
                if (len) {
                        strbuf_put_json_string(out, buf, len);
                } else {
                        strbuf_putc(out, '"');
                        strbuf_put_hex(out, frames[i]);
                        strbuf_putc(out, '"');
                }
        }
        strbuf_putc(out, ']');
}

/*
 * strbuf_put_json_string() works on the strbuf, while the rest of a line is
 * written through a cursor; these hand the position back and forth.  The
 * reservation made at the start still covers what follows.
 */
#define CURSOR_SYNC(out, p) ((out)->len = (size_t)((p) - (out)->data))
#define CURSOR_LOAD(out, p) ((p) = (out)->data + (out)->len)

void skbt_format_text_opts(struct strbuf *out, const struct skbt_format_opts *o,
                           const struct skbt_event *ev, const struct skbt_names *names)
{
        const struct skbt_nf *nf;
        uint32_t verdict = 0;
        struct event_strings s;
        size_t start;
        char *p;

        event_strings_load(&s, ev, names, o->detail);
        if (!strbuf_reserve(out, LINE_FIXED_MAX + event_strings_max(&s)))
                return;
        start = out->len;
        p = out->data + out->len;

        p = put_u64(p, ev->ts);
        *p++ = ' ';
        p = put_cpu(p, ev->cpu);
        *p++ = ' ';
        p = put_hex(p, ev->skb);
        *p++ = ' ';
        if (s.probe) {
                p = put_mem(p, s.probe, s.probe_len);
        } else {
                PUT_LIT(p, "probe#");
                p = put_u64(p, ev->probe_id);
        }
        *p++ = ' ';
        p = put_ifname_text(p, ev->ifname, s.ifname_len);
        if (!o->omit_flow) {
                *p++ = ' ';
                p = put_flow(p, ev);
        }

        if (ev->flags & SKBT_EV_DROP) {
                PUT_LIT(p, " drop_reason=");
                if (s.reason) {
                        p = put_mem(p, s.reason, s.reason_len);
                } else {
                        PUT_LIT(p, "reason#");
                        p = put_u64(p, ev->drop_reason);
                }
                PUT_LIT(p, " location=");
                if (s.location_len)
                        p = put_mem(p, s.location, s.location_len);
                else
                        p = put_hex(p, ev->location);
        }
        if (ev->flags & SKBT_EV_RETURN) {
                PUT_LIT(p, " retval=");
                p = put_i64(p, ev->retval);
        }
        if (o->track) {
                PUT_LIT(p, " track=");
                p = put_u64(p, ev->track_id);
        }
        if (o->detail)
                p = put_detail_text(p, ev, &s);

        CURSOR_SYNC(out, p);
        assert(out->len - start <= LINE_FIXED_MAX + event_strings_max(&s));
        nf = event_nf(o, ev, &verdict);
        if (nf)
                skbt_format_nf_text(out, nf, verdict, o->nf_rules);
        strbuf_putc(out, '\n');
        if (o->stack)
                skbt_format_stack_text(out, ev, names);
}

void skbt_format_text(struct strbuf *out, const struct skbt_event *ev,
                      const struct skbt_names *names)
{
        static const struct skbt_format_opts none;

        skbt_format_text_opts(out, &none, ev, names);
}

static char *put_json_tuple(char *p, const struct skbt_tuple *t)
{
        const struct proto_name *pn = proto_lookup(t->l4proto);
        bool l4 = t->flags & SKBT_TUPLE_L4;
        bool ports = l4 && proto_has_ports(t->l4proto);

        if (t->l3 == SKBT_L3_IPV4)
                PUT_LIT(p, "{\"l3\":\"ipv4\",\"proto\":");
        else
                PUT_LIT(p, "{\"l3\":\"ipv6\",\"proto\":");
        if (pn) {
                *p++ = '"';
                p = put_mem(p, pn->json, strlen(pn->json));
                *p++ = '"';
        } else {
                p = put_u8(p, t->l4proto);
        }
        PUT_LIT(p, ",\"saddr\":\"");
        p = put_addr(p, t, t->saddr);
        PUT_LIT(p, "\",\"daddr\":\"");
        p = put_addr(p, t, t->daddr);
        PUT_LIT(p, "\",\"sport\":");
        p = put_u64(p, ports ? t->sport : 0);
        PUT_LIT(p, ",\"dport\":");
        p = put_u64(p, ports ? t->dport : 0);
        if (l4 && t->l4proto == IPPROTO_TCP_) {
                PUT_LIT(p, ",\"tcp_flags\":\"");
                p = put_tcp_flags(p, t->tcp_flags);
                *p++ = '"';
        }
        if (t->flags & SKBT_TUPLE_VLAN) {
                PUT_LIT(p, ",\"vlan\":");
                p = put_u64(p, t->vlan_id);
        }
        if (t->flags & SKBT_TUPLE_TRUNCATED)
                PUT_LIT(p, ",\"truncated\":true");
        if (t->flags & SKBT_TUPLE_FRAGMENT)
                PUT_LIT(p, ",\"fragment\":true");
        if (t->flags & SKBT_TUPLE_SOCK)
                PUT_LIT(p, ",\"from_socket\":true");
        *p++ = '}';
        return p;
}

/* '{"type":8,"code":0,"id":7,"seq":3}' */
static char *put_json_icmp_object(char *p, const struct skbt_tuple *t)
{
        PUT_LIT(p, "{\"type\":");
        p = put_u8(p, t->icmp_type);
        PUT_LIT(p, ",\"code\":");
        p = put_u8(p, t->icmp_code);
        /* Other types carry something else (e.g. the MTU) in these bytes. */
        if (icmp_is_echo(t->l4proto, t->icmp_type)) {
                PUT_LIT(p, ",\"id\":");
                p = put_u64(p, t->icmp_id);
                PUT_LIT(p, ",\"seq\":");
                p = put_u64(p, t->icmp_seq);
        }
        *p++ = '}';
        return p;
}

static char *put_json_icmp(char *p, const struct skbt_tuple *t)
{
        PUT_LIT(p, ",\"icmp\":");
        return put_json_icmp_object(p, t);
}

/*
 * ',"tunnel":{"type":"vxlan","vni":42,"inner_protocol":"0x0800","inner":{...},
 *  "inner_icmp":{...}}': the inner tuple as "tuple" is, null without an IP header
 *  (then "vlan" and "truncated" say what the parser saw, as for the outer packet).
 */
static char *put_json_tunnel(char *p, const struct skbt_event *ev)
{
        const struct skbt_tuple *t = &ev->tun.inner;
        const char *name = tunnel_name(ev), *id = tunnel_id_name(ev);

        PUT_LIT(p, ",\"tunnel\":{\"type\":\"");
        p = put_mem(p, name, strlen(name));
        *p++ = '"';
        if (id) {
                PUT_LIT(p, ",\"");
                p = put_mem(p, id, 3);
                PUT_LIT(p, "\":");
                p = put_u64(p, ev->tun.id);
        }
        PUT_LIT(p, ",\"inner_protocol\":\"");
        p = put_hex16(p, ev->tun.inner_proto);
        PUT_LIT(p, "\",\"inner\":");
        if (tuple_has_l3(t)) {
                p = put_json_tuple(p, t);
                if ((t->flags & SKBT_TUPLE_L4) && proto_is_icmp(t->l4proto)) {
                        PUT_LIT(p, ",\"inner_icmp\":");
                        p = put_json_icmp_object(p, t);
                }
        } else {
                PUT_LIT(p, "null");
                if (t->flags & SKBT_TUPLE_VLAN) {
                        PUT_LIT(p, ",\"vlan\":");
                        p = put_u64(p, t->vlan_id);
                }
                if (t->flags & SKBT_TUPLE_TRUNCATED)
                        PUT_LIT(p, ",\"truncated\":true");
        }
        *p++ = '}';
        return p;
}

/* A JSON string literal at p, returning the new end: the line reserved 6 bytes per byte of
 * its strings and 16 for their quotes (event_strings_max()), so no append can grow it. */
static char *put_json_str(char *p, const char *str, size_t n)
{
        *p++ = '"';
        p = json_escape_to(p, str, n);
        *p++ = '"';
        return p;
}

static char *put_json_drop(char *p, const struct skbt_event *ev, const struct event_strings *s)
{
        PUT_LIT(p, ",\"drop_reason\":");
        if (s->reason) {
                p = put_json_str(p, s->reason, s->reason_len);
        } else {
                PUT_LIT(p, "\"reason#");
                p = put_u64(p, ev->drop_reason);
                *p++ = '"';
        }
        PUT_LIT(p, ",\"location\":");
        if (s->location_len) {
                p = put_json_str(p, s->location, s->location_len);
        } else {
                *p++ = '"';
                p = put_hex(p, ev->location);
                *p++ = '"';
        }
        return p;
}

void skbt_format_json_opts(struct strbuf *out, const struct skbt_format_opts *o,
                           const struct skbt_event *ev, const struct skbt_names *names)
{
        const struct skbt_tuple *t = &ev->tuple;
        const struct skbt_nf *nf;
        uint32_t verdict = 0;
        struct event_strings s;
        size_t start;
        char *p;

        event_strings_load(&s, ev, names, true);
        if (!strbuf_reserve(out, LINE_FIXED_MAX + event_strings_max(&s)))
                return;
        start = out->len;
        p = out->data + out->len;

        PUT_LIT(p, "{\"packet_id\":\"");
        p = put_hex(p, ev->skb);
        PUT_LIT(p, "\",\"timestamp\":");
        p = put_u64(p, ev->ts);
        PUT_LIT(p, ",\"processor_id\":");
        p = put_u64(p, ev->cpu);
        PUT_LIT(p, ",\"function\":");
        if (s.probe) {
                p = put_json_str(p, s.probe, s.probe_len);
        } else {
                PUT_LIT(p, "\"probe#");
                p = put_u64(p, ev->probe_id);
                *p++ = '"';
        }
        if (ev->flags & SKBT_EV_RETURN)
                PUT_LIT(p, ",\"is_return\":true,\"mark\":");
        else
                PUT_LIT(p, ",\"is_return\":false,\"mark\":");
        p = put_u64(p, ev->mark);
        PUT_LIT(p, ",\"len\":");
        p = put_u64(p, ev->len);
        PUT_LIT(p, ",\"protocol\":\"");
        p = put_hex16(p, ev->protocol);
        PUT_LIT(p, "\",\"ifindex\":");
        p = put_u64(p, ev->ifindex);
        PUT_LIT(p, ",\"ifname\":");
        p = put_json_str(p, ev->ifname, s.ifname_len);
        PUT_LIT(p, ",\"netns\":");
        p = put_u64(p, ev->netns);
        PUT_LIT(p, ",\"pid\":");
        p = put_u64(p, ev->pid);

        PUT_LIT(p, ",\"tuple\":");
        if (tuple_has_l3(t)) {
                p = put_json_tuple(p, t);
                if ((t->flags & SKBT_TUPLE_L4) && proto_is_icmp(t->l4proto))
                        p = put_json_icmp(p, t);
        } else {
                PUT_LIT(p, "null");
        }

        if (ev->flags & SKBT_EV_DROP)
                p = put_json_drop(p, ev, &s);
        if (ev->flags & SKBT_EV_RETURN) {
                PUT_LIT(p, ",\"retval\":");
                p = put_i64(p, ev->retval);
        }
        PUT_LIT(p, ",\"track_id\":");
        p = put_u64(p, o->track ? ev->track_id : 0);
        PUT_LIT(p, ",\"comm\":");
        p = put_json_str(p, ev->comm, s.comm_len);
        PUT_LIT(p, ",\"group\":");
        if (s.group) {
                p = put_json_str(p, s.group, s.group_len);
        } else {
                PUT_LIT(p, "\"\"");
        }
        if (ev->flags & SKBT_EV_FREE)
                PUT_LIT(p, ",\"free\":true");
        if (s.netns_name_len) {
                PUT_LIT(p, ",\"netns_name\":");
                p = put_json_str(p, s.netns_name, s.netns_name_len);
        }
        /* Without an IP header the tuple is null; what the parser saw before it still
         * counts (the text flow shows it), and a recording must keep it. */
        if (!tuple_has_l3(t)) {
                if (t->flags & SKBT_TUPLE_VLAN) {
                        PUT_LIT(p, ",\"vlan\":");
                        p = put_u64(p, t->vlan_id);
                }
                if (t->flags & SKBT_TUPLE_TRUNCATED)
                        PUT_LIT(p, ",\"truncated\":true");
        }
        if (tunnel_name(ev))
                p = put_json_tunnel(p, ev);
        CURSOR_SYNC(out, p);
        assert(out->len - start <= LINE_FIXED_MAX + event_strings_max(&s));
        nf = event_nf(o, ev, &verdict);
        if (nf)
                put_nf_json(out, nf, verdict, o->nf_rules);
        if (o->stack)
                put_stack_json(out, ev, names);
        strbuf_puts(out, "}\n");
}

void skbt_format_json(struct strbuf *out, const struct skbt_event *ev,
                      const struct skbt_names *names)
{
        static const struct skbt_format_opts none;

        skbt_format_json_opts(out, &none, ev, names);
}

void skbt_format_event_opts(struct strbuf *out, enum skbt_output fmt,
                            const struct skbt_format_opts *o, const struct skbt_event *ev,
                            const struct skbt_names *names)
{
        if (fmt == SKBT_OUTPUT_JSON || fmt == SKBT_OUTPUT_AGGREGATE_JSON)
                skbt_format_json_opts(out, o, ev, names);
        else
                skbt_format_text_opts(out, o, ev, names);
}

void skbt_format_event(struct strbuf *out, enum skbt_output fmt, const struct skbt_event *ev,
                       const struct skbt_names *names)
{
        static const struct skbt_format_opts none;

        skbt_format_event_opts(out, fmt, &none, ev, names);
}
