/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* skbt_abi.h - data shared between the BPF programs and user space */
#pragma once

/*
 * This header is included by BPF code (with vmlinux.h providing the __uN
 * types) and by user space (with linux/types.h).  Every structure here has a
 * fixed layout: fixed-width members, explicit padding and a size assertion,
 * so that a change on one side that the other does not know about fails the
 * build instead of corrupting events.
 */
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bump when any structure below changes layout. */
#define SKBT_ABI_VERSION 5

/* Sessions are bits in a 64-bit mask. */
#define SKBT_MAX_SESSIONS 64
/* Probe ids index per-probe arrays; kernels have ~1,500 skb functions. */
#define SKBT_MAX_PROBES 8192
/* Highest skb argument position (0-based) any entry point supports. */
#define SKBT_MAX_SKB_ARG 11

/*
 * Marker immediate stamped when a program is loaded once per probe (see
 * bpf/skbt_probe_id.bpf.h).  The 64-bit value carries the probe id in the low
 * 32 bits and SKBT_STAMP_* in the high 32 bits.
 */
#define SKBT_PROBE_ID_MARKER 0x5eb7ab1eU
/* fentry's shared body: nesting levels of a stub's hop (bpf/skbtrace.bpf.c), one program each. */
#define SKBT_HOP_LEVELS 3
#define SKBT_STAMP_ARG_MASK 0xffU /* 0-based skb argument position */
#define SKBT_STAMP_DROP (1U << 8) /* reason is the argument after the skb */
/* Packet tracking (bpf/skbt_track.bpf.h): what the probe means for a packet's life. */
#define SKBT_STAMP_FREE (1U << 9)    /* the skb is freed here: tracking ends */
#define SKBT_STAMP_CLONE (1U << 10)  /* returns a copy or clone of its skb argument */
#define SKBT_STAMP_REHEAD (1U << 11) /* may give the skb a new data buffer (skb->head) */
#define SKBT_STAMP_LIVE (1U << 12)   /* never on an skb's free path: the skb here is alive */
#define SKBT_STAMP_ENTRY_SHIFT 16    /* return probes: the entry probe's id */
/*
 * Entry probes: 1 + the 0-based position of the probe's struct sock * argument, 0: none (or
 * past the sixth: kprobes reach six registers).  A TCP skb before its headers takes its
 * tuple from that socket (bpf/skbt_body.bpf.h, skbt_sock_tuple()).
 */
#define SKBT_STAMP_SK_SHIFT 13
#define SKBT_STAMP_SK_MASK 0x7U
#define SKBT_STAMP_SK(arg1) ((arg1) <= 6 ? (unsigned)(arg1) << SKBT_STAMP_SK_SHIFT : 0U)

/* struct skbt_tuple.l3 */
enum skbt_l3 {
        SKBT_L3_NONE = 0,
        SKBT_L3_IPV4 = 4,
        SKBT_L3_IPV6 = 6,
};

/* struct skbt_tuple.flags */
enum skbt_tuple_flags {
        SKBT_TUPLE_L3 = 1 << 0,        /* addresses are valid */
        SKBT_TUPLE_L4 = 1 << 1,        /* l4 header (ports / icmp) is valid */
        SKBT_TUPLE_TRUNCATED = 1 << 2, /* headers ran past the data we could read */
        SKBT_TUPLE_FRAGMENT = 1 << 3,  /* non-first fragment: no l4 header */
        SKBT_TUPLE_VLAN = 1 << 4,      /* vlan tag seen in the packet data */
        SKBT_TUPLE_L2 = 1 << 5,        /* parsed from an Ethernet header */
        /* Not from headers: a TCP skb before its headers are built (the write and retransmit
         * queues) takes the socket's addresses and ports and its TCP control block's flags. */
        SKBT_TUPLE_SOCK = 1 << 6,
};

/*
 * What the packet parser extracts from one packet.  Addresses are in network
 * byte order; IPv4 addresses use the first 4 bytes.  Ports and icmp id/seq
 * are in host byte order.
 */
struct skbt_tuple {
        /* 4-byte aligned: the filter compares addresses a 32-bit word at a time,
         * and the verifier rejects misaligned stack access. */
        __u8 saddr[16] __attribute__((aligned(4)));
        __u8 daddr[16];
        __u16 sport;
        __u16 dport;
        __u8 l3;        /* enum skbt_l3 */
        __u8 l4proto;   /* IPPROTO_* (after IPv6 extension headers) */
        __u8 flags;     /* enum skbt_tuple_flags */
        __u8 tcp_flags; /* FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20 ECE CWR */
        __u8 icmp_type;
        __u8 icmp_code;
        __u16 vlan_id;
        __u16 icmp_id;
        __u16 icmp_seq;
};
_Static_assert(sizeof(struct skbt_tuple) == 48, "skbt_tuple layout");

/* struct skbt_tunnel.type: the encapsulation around the inner packet */
enum skbt_tunnel_type {
        SKBT_TUN_NONE = 0,
        SKBT_TUN_VXLAN = 1,  /* UDP 4789 (or Linux's old default 8472), VNI, inner Ethernet */
        SKBT_TUN_GENEVE = 2, /* UDP 6081, VNI, inner Ethernet (or IP by protocol type) */
        SKBT_TUN_GRE = 3,    /* IP protocol 47 carrying IP (key if present) */
        SKBT_TUN_GRETAP = 4, /* GRE carrying Ethernet (0x6558) */
        SKBT_TUN_IPIP = 5,   /* IP in IP: 4in4 (ipip), 6in4 (sit), 4in6, 6in6 (ip6tnl) */
};

/* struct skbt_tunnel.flags */
enum skbt_tunnel_flags {
        SKBT_TUN_F_ID = 1 << 0, /* id is valid: the VNI, or a GRE key */
        SKBT_TUN_F_L2 = 1 << 1, /* the inner packet starts with an Ethernet header */
};

/*
 * A tunnel found around the packet's headers, and the inner packet's tuple.
 * The event's tuple is the outer packet's.  Parsed once, one level deep.
 */
struct skbt_tunnel {
        __u8 type;         /* enum skbt_tunnel_type; SKBT_TUN_NONE: no tunnel */
        __u8 flags;        /* enum skbt_tunnel_flags */
        __u16 inner_off;   /* where the inner packet starts in the header copy */
        __u32 id;          /* VNI (24 bits) or GRE key, with SKBT_TUN_F_ID */
        __u16 inner_proto; /* the inner packet's ethertype (host order), 0 if unknown */
        __u8 pad[6];
        struct skbt_tuple inner;
};
_Static_assert(sizeof(struct skbt_tunnel) == 64, "skbt_tunnel layout");

/* struct skbt_filter.flags: which members are set */
enum skbt_filter_flags {
        SKBT_F_MARK = 1 << 0,
        SKBT_F_L3 = 1 << 1,
        SKBT_F_PROTO = 1 << 2,
        SKBT_F_SADDR = 1 << 3,
        SKBT_F_DADDR = 1 << 4,
        SKBT_F_ADDR = 1 << 5, /* saddr or daddr */
        SKBT_F_SPORT = 1 << 6,
        SKBT_F_DPORT = 1 << 7,
        SKBT_F_PORT = 1 << 8, /* sport or dport */
        /* Where the packet is and who handles it, not what it contains: */
        SKBT_F_PID = 1 << 9,      /* process context (tgid) of the probe hit */
        SKBT_F_NETNS = 1 << 10,   /* network namespace of the device (or socket) */
        SKBT_F_IFINDEX = 1 << 11, /* device index; always with SKBT_F_NETNS */
        SKBT_F_LAYER = 1 << 12,   /* layer: which packet of a tunnelled one (enum skbt_layer) */
};

/* struct skbt_filter.layer: which packet of a tunnelled one the header members look at. */
enum skbt_layer {
        SKBT_LAYER_OUTER = 0,  /* the outermost headers, as for every packet (default) */
        SKBT_LAYER_INNER = 1,  /* the tunnel's inner packet; a packet without one: itself */
        SKBT_LAYER_EITHER = 2, /* the outer or the inner packet */
};

/*
 * An address with a prefix, for one of the address filters.  The mask is
 * precomputed from plen (skbt_prefix_fill_mask()) so that BPF compares four
 * 32-bit words without loops or branches per bit.
 */
struct skbt_prefix {
        __u8 addr[16] __attribute__((aligned(4))); /* network byte order, host bits cleared */
        __u8 mask[16];                             /* plen leading one bits */
        __u8 l3;                                   /* enum skbt_l3 */
        __u8 plen;                                 /* 0..32 or 0..128 */
        __u8 pad[2];
};
_Static_assert(sizeof(struct skbt_prefix) == 36, "skbt_prefix layout");

/* Set p->mask from p->plen and clear host bits in p->addr. */
static inline void skbt_prefix_fill_mask(struct skbt_prefix *p)
{
        unsigned int i, plen = p->plen;

        for (i = 0; i < 16; i++) {
                if (plen >= 8) {
                        p->mask[i] = 0xff;
                        plen -= 8;
                } else {
                        p->mask[i] = (__u8)(0xff << (8 - plen));
                        plen = 0;
                }
                p->addr[i] &= p->mask[i];
        }
}

/*
 * One session's packet filter, evaluated in BPF on the parsed tuple.
 * All set members must match (AND).  A filter on addresses or ports never
 * matches a packet whose headers could not be parsed.
 */
struct skbt_filter {
        __u32 flags; /* enum skbt_filter_flags */
        __u32 mark;
        __u32 mark_mask;
        __u8 l3;    /* enum skbt_l3, with SKBT_F_L3 */
        __u8 proto; /* IPPROTO_*, with SKBT_F_PROTO */
        __u16 sport;
        __u16 dport;
        __u16 port;
        struct skbt_prefix saddr;
        struct skbt_prefix daddr;
        struct skbt_prefix addr;
        __u32 pid;     /* with SKBT_F_PID */
        __u32 netns;   /* inode, with SKBT_F_NETNS */
        __u32 ifindex; /* with SKBT_F_IFINDEX, in netns */
        __u8 layer;    /* enum skbt_layer, with SKBT_F_LAYER */
        __u8 pad[3];
        char ifname[16]; /* the name ifindex was resolved from (for people; unused in BPF) */
};
_Static_assert(sizeof(struct skbt_filter) == 160, "skbt_filter layout");

/* What kind of probe produced an event (struct skbt_probe_meta.kind). */
enum skbt_probe_kind {
        SKBT_PROBE_FUNCTION = 0,
        SKBT_PROBE_TRACEPOINT = 1,
        SKBT_PROBE_NETFILTER = 2, /* a netfilter table/chain evaluation and its verdict */
        SKBT_PROBE_BPF = 3,       /* a tc or XDP BPF program's run and its verdict */
};

/* struct skbt_event.flags */
enum skbt_event_flags {
        SKBT_EV_RETURN = 1 << 0,  /* function return (fexit / kretprobe) */
        SKBT_EV_DROP = 1 << 1,    /* drop_reason and location are valid */
        SKBT_EV_HAS_DEV = 1 << 2, /* ifindex/ifname/netns come from skb->dev */
        SKBT_EV_FREE = 1 << 3,    /* the probe frees the skb: its life ends here */
        SKBT_EV_FIELDS = 1 << 4,  /* field values (-F) follow (common/skbt_record.h) */
        SKBT_EV_SNAP = 1 << 5,    /* packet bytes (pcapng) follow (common/skbt_record.h) */
        SKBT_EV_NF = 1 << 6,      /* a struct skbt_nf follows; retval is the verdict */
        SKBT_EV_CT = 1 << 7,      /* conntrack (--ct) follows (common/skbt_record.h) */
};

/* Kernel stack frames that may follow a struct skbt_event (stack_depth of them). */
#define SKBT_STACK_MAX 32

/*
 * One ring-buffer record: one probe hit of one packet, carrying the mask of
 * sessions whose filters matched.  The daemon fans it out to those sessions.
 */
struct skbt_event {
        __u64 sessions; /* mask of matching session slots */
        __u64 ts;       /* bpf_ktime_get_ns() */
        __u64 skb;      /* skb address: the packet id */
        __u64 location; /* drop location (kernel text address) */
        __s64 retval;   /* with SKBT_EV_RETURN */
        __u32 probe_id;
        __u32 cpu;
        __u32 mark;
        __u32 len;
        __u32 ifindex;
        __u32 netns; /* inode of the device's network namespace */
        __u32 drop_reason;
        __u32 pid;      /* tgid of the current task */
        __u16 protocol; /* skb->protocol, host order */
        __u8 flags;     /* enum skbt_event_flags */
        __u8 pad[5];
        char ifname[16];
        struct skbt_tuple tuple;
        __u64 track_id;   /* the packet's journey, shared by its clones; 0: not tracked */
        char comm[16];    /* current task's name */
        __u8 stack_depth; /* __u64 return addresses following the record, innermost first */
        __u8 pad2[7];
        /* The tunnel around the packet and its inner packet (tun.type 0: none); only
         * tun.type is written for packets without one. */
        struct skbt_tunnel tun;
};
_Static_assert(sizeof(struct skbt_event) == 240, "skbt_event layout");

/*
 * Global state shared with user space through the programs' .bss (mmapped
 * by the daemon, so session start is a memory write, not a syscall).
 */
struct skbt_state {
        __u64 active; /* sessions that are live */
        __u64 graph;  /* live sessions that want returns (function_graph) */
        struct skbt_filter filters[SKBT_MAX_SESSIONS];
        __u64 ident;    /* sessions whose events carry track ids (--track, aggregate output) */
        __u64 track;    /* sessions that follow a matched packet whatever its headers (--track) */
        __u64 stack;    /* sessions that want the kernel stack of each event */
        __u64 need_dev; /* sessions whose filter looks at the device (netns, ifindex) */
        __u64 track_idle_ns; /* a tracked packet unseen for this long is taken as gone */
        __u64 n_cpus;        /* possible CPUs: track ids are handed out per CPU */
        __u64 need_pid;      /* sessions whose filter looks at the process (--pid) */
        /* Bumped by the daemon before a session goes live (after its filter is in place):
         * verdicts cached before (bpf/skbt_verdict.bpf.h) do not answer for its slot. */
        __u64 gen;
        __u64 need_mark;     /* sessions whose filter tests the mark (--mark) */
        __u64 need_cbpf;     /* sessions with a pcap filter: verdicts are cached while one runs */
        __u64 track_limited; /* sessions whose new tracked packets cost a token (non-root) */
        __u64 track_interval_ns; /* ...one token per this many ns (the quota's rate) */
        __u64 track_burst_ns;    /* ...and at most this much time's worth saved up */
        __u64 need_inner; /* sessions whose filter looks at a tunnel's inner packet (--layer) */
};

/*
 * Packet tracking (bpf/skbt_track.bpf.h).  Map "track" holds one entry per
 * skb address being followed; map "track_head" one per data buffer
 * (skb->head) of a tracked packet, so that a clone, which shares its
 * original's buffer, is recognised at its first probe hit.  Both are LRU
 * hashes; the daemon clears a session's bit from them when it ends.
 */
/* Packets followed at once: 1.7 MiB of kernel memory per map (preallocated, as LRU maps are). */
#define SKBT_TRACK_ENTRIES 16384
/* An entry unseen this long is stale: its packet was freed where no probe saw it. */
#define SKBT_TRACK_IDLE_NS 1000000000ULL

/*
 * Per-session quota of packets it starts tracking (bpf/skbt_track.bpf.h), as
 * a GCRA: a packet is allowed while tat < now + burst, and moves tat (the
 * theoretical arrival time) on by one interval.  Reset by the daemon before
 * the session's bit is set in state.track_limited.
 */
struct skbt_track_quota {
        __u64 tat;
        __u64 refused; /* packets this session matched but was not given tracking for */
};

struct skbt_track {
        __u64 track_id;
        __u64 sessions; /* sessions wanting track ids that matched the packet */
        __u64 ref;      /* track: skb->head when last seen (0: learn at the next hit);
                           track_head: the skb that owns the buffer */
        __u64 last_ts;  /* bpf_ktime_get_ns() of the last hit */
};

/*
 * Netfilter verdicts (bpf/skbt_nf.bpf.h).  The evaluation of one table
 * (iptables legacy: ipt_do_table, ip6t_do_table, arpt_do_table) or base
 * chain (nftables: nft_do_chain) is one record: a struct skbt_event built
 * at entry (flags SKBT_EV_NF, retval the verdict at return) followed by
 * this.  Names are the kernel's, NUL-terminated, cut at SKBT_NF_NAME - 1.
 */
#define SKBT_NF_NAME 32
/* NF_DROP; NF_STOLEN with an errno above (NF_DROP_REASON()) is a drop the hook did itself. */
#define SKBT_NF_VERDICT_DROP 0
#define SKBT_NF_VERDICT_STOLEN 2

enum skbt_nf_engine {
        SKBT_NF_XTABLES = 0, /* ip_tables, ip6_tables, arp_tables (chain: the hook's) */
        SKBT_NF_NFTABLES = 1,
        SKBT_NF_EBTABLES = 2, /* bridge ebtables (legacy), like x_tables (chain: the hook's) */
        /* Not netfilter: a tc or XDP BPF program, traced with fentry/fexit on it; the same
         * record (the packet at entry, the verdict at return), hook 0 ingress, 1 egress. */
        SKBT_NF_TC = 3,  /* retval: TC_ACT_* */
        SKBT_NF_XDP = 4, /* retval: XDP_*; skb is the struct xdp_buff's address */
};

/* struct skbt_nf.rule_type: what decided (sessions with nf_rules). */
enum skbt_nf_rule_type {
        SKBT_NF_RULE_NONE = 0,   /* not known: the session did not ask, or the kernel did not say */
        SKBT_NF_RULE_RULE = 1,   /* a rule (rule_handle, rule_pos, rule_chain) */
        SKBT_NF_RULE_POLICY = 2, /* the base chain's policy: no rule matched with a verdict */
};

struct skbt_nf {
        char table[SKBT_NF_NAME];
        char chain[SKBT_NF_NAME];      /* nftables: the base chain; xtables: empty */
        __u8 engine;                   /* enum skbt_nf_engine */
        __u8 pf;                       /* NFPROTO_* of the hook (nf_hook_state.pf) */
        __u8 hook;                     /* NF_INET_* / NF_ARP_* / NF_NETDEV_* */
        __u8 rule_type;                /* enum skbt_nf_rule_type */
        __u32 rule_pos;                /* the rule's 1-based position in rule_chain; 0: unknown */
        __u64 rule_handle;             /* nftables: the rule's handle (nft -a list ruleset) */
        char rule_chain[SKBT_NF_NAME]; /* the chain holding the rule (a jump's target) */
};
_Static_assert(sizeof(struct skbt_nf) == 112, "skbt_nf layout");

/*
 * Where the daemon found what the programs read, from kernel and module
 * BTF (daemon/probes/attach_nf.c): the structures live in modules, which CO-RE
 * cannot rely on being loaded when the programs are.  Offsets in bytes.
 */
struct skbt_nf_conf {
        __u32 state_hook;  /* nf_hook_state.hook (u8) */
        __u32 state_pf;    /* nf_hook_state.pf (u8) */
        __u32 xt_name;     /* xt_table.name (char[]) */
        __u32 ebt_name;    /* ebt_table.name (char[]) */
        __u32 pkt_skb;     /* nft_pktinfo.skb */
        __u32 pkt_state;   /* nft_pktinfo.state */
        __u32 chain_name;  /* nft_chain.name (char *) */
        __u32 chain_table; /* nft_chain.table */
        __u32 table_name;  /* nft_table.name (char *) */
        /* The rule that decided (nftables' trace hook, skbt_nf.bpf.h): */
        __u32 info_rule;     /* nft_traceinfo.rule, when the hook has no rule argument */
        __u32 last_chain;    /* nft_rule_dp_last.chain: a blob's end names its chain */
        __u32 chain_blob[2]; /* nft_chain.blob_gen_0, blob_gen_1 */
        __u32 blob_data;     /* nft_rule_blob.data */
        __u8 rule_hdr;       /* sizeof(struct nft_rule_dp): the header before the data */
        __u8 dlen_shift;     /* bit fields of the header's u64: dlen ... */
        __u8 dlen_bits;
        __u8 handle_shift; /* ... handle ... */
        __u8 handle_bits;
        __u8 last_shift; /* ... and is_last (1 bit) */
        __u8 rules;      /* the hook is attached: rules can be told */
        __u8 xt_rules;   /* SKBT_XT_RULES_*: for which families (the members below found) */
        /* iptables/ip6tables rule numbers, from the per-rule counters (skbt_nf.bpf.h): */
        __u32 xt_private;     /* xt_table.private (struct xt_table_info *) */
        __u32 xti_size;       /* xt_table_info.size: bytes of entries */
        __u32 xti_hook_entry; /* xt_table_info.hook_entry[0] (u32 per hook) */
        __u32 xti_underflow;  /* xt_table_info.underflow[0] */
        __u32 xti_entries;    /* xt_table_info.entries (the blob) */
        __u16 ipt_target;     /* ipt_entry.target_offset (u16) */
        __u16 ipt_next;       /* ipt_entry.next_offset (u16) */
        __u16 ipt_pcnt;       /* ipt_entry.counters.pcnt */
        __u16 ipt_flags;      /* ipt_entry.ip.flags (u8; IPT_F_GOTO) */
        __u16 tgt_kernel;     /* xt_entry_target.u.kernel.target (struct xt_target *) */
        __u16 tgt_data;       /* xt_entry_target.data: a standard verdict, an error's name */
        __u16 xtg_target;     /* xt_target.target (NULL: the standard target) */
        __u16 ip6t_target;    /* ip6t_entry: the same walk, other offsets */
        __u16 ip6t_next;
        __u16 ip6t_pcnt;
        __u16 ip6t_flags; /* ip6t_entry.ipv6.flags (u8; IP6T_F_GOTO) */
        __u8 xt_percpu;   /* counters are per CPU (more than one possible CPU) */
        __u8 pad2[7];
        __u64 xt_pcpu_offset; /* with xt_percpu: &__per_cpu_offset[0] (kallsyms) */
};

/* skbt_nf_conf.xt_rules: the families whose rules are numbered. */
#define SKBT_XT_RULES_IP 1  /* ip_tables (ipt_do_table) */
#define SKBT_XT_RULES_IP6 2 /* ip6_tables (ip6t_do_table) */

/*
 * iptables rule numbers: one evaluation's snapshot of this CPU's per-rule
 * counters, and the replay's state (bpf/skbt_nf.bpf.h).  In a per-CPU array
 * (one value per evaluation depth) that the daemon creates when the first
 * --nf-rules session starts and drops after the last (an inner map of
 * xt_snaps): ~97 KiB per possible CPU, only while some session asks.
 */
#define SKBT_XT_SLOTS 2048   /* entries looked at: by offset / 128 */
#define SKBT_XT_SLOT_SHIFT 7 /* an ipt_entry with the smallest target takes 152 bytes */
#define SKBT_XT_STACK 8      /* user chain depth followed */
#define SKBT_XT_DEPTH 4      /* evaluation depths: bpf/skbt_nf.bpf.h SKBT_NF_DEPTH */

/* A walk's state: in the map, not on the stack (the entry program's stack is nearly full). */
struct skbt_xt_walk {
        __u64 base, cpu_off;
        __u32 size, off, prev;
        /* the family's ipt_entry / ip6t_entry offsets, and its goto flag */
        __u16 o_target, o_next, o_pcnt, o_flags;
        __u8 goto_flag;
        __u8 pad[3];
        /* the replay (skbt_xt_rule_resolve()): */
        __u32 head, pos, sp, underflow, hook_entry;
        __u32 st_off[SKBT_XT_STACK], st_head[SKBT_XT_STACK], st_pos[SKBT_XT_STACK];
        __u32 found_off, found_head, found_pos;
        __u8 found; /* 1: an absolute verdict; 2: a target of its own, so far */
};

struct skbt_xt_snap {
        __u64 base; /* the entries counted (xt_table_info.entries), 0: none */
        __u32 size;
        __u32 pad;
        struct skbt_xt_walk w;
        __u64 cnt[SKBT_XT_SLOTS];  /* this CPU's packet count of the entry at slot */
        __u32 prev[SKBT_XT_SLOTS]; /* offset of the entry before it */
};

/*
 * Stamp (probe id in the low 32 bits) of a netfilter entry: above it the
 * engine and the argument positions, 4 bits each.  xtables: skb, hook
 * state, table; nftables: pktinfo, chain.
 */
#define SKBT_NF_STAMP_ENGINE(v) ((__u32)(v)&0xf)
#define SKBT_NF_STAMP_POS(v, i) (((__u32)(v) >> (4 * ((i) + 1))) & 0xf)
/*
 * nftables' trace hook (__nft_trace_packet): 4 bits per argument position
 * above the low 32 bits, in this order: traceinfo, rule, chain, type; 0xf
 * where the kernel's version has no such argument.
 */
#define SKBT_NFT_HOOK_POS(v, i) (((__u32)(v) >> (4 * (i))) & 0xf)
#define SKBT_NFT_HOOK_NONE 0xf

/* Counters in the BPF "stats" map (per CPU), read by the daemon. */
enum skbt_stat {
        SKBT_STAT_EMITTED = 0,     /* records submitted */
        SKBT_STAT_RB_FULL = 1,     /* records not reserved (each may hold several sessions) */
        SKBT_STAT_TRACK_NEW = 2,   /* tracking entries created for a newly matched packet */
        SKBT_STAT_TRACK_CLONE = 3, /* entries created for a clone or copy of a tracked packet */
        SKBT_STAT_TRACK_FREED = 4, /* entries removed because the skb was freed */
        SKBT_STAT_TRACK_STALE = 5, /* entries dropped: address reused or idle (free not seen) */
        SKBT_STAT_TRACK_FULL = 6,  /* entries not created: the map update failed */
        SKBT_STAT_STACK_ERR = 7,   /* events whose stack could not be read */
        SKBT_STAT_NF_DEEP = 8,     /* netfilter evaluations nested deeper than followed */
        SKBT_STAT_HOP_LOST = 9,    /* fentry hits whose shared body did not run (nesting) */
        SKBT_STAT_GRAPH_LOST = 10, /* function_graph returns not followed: no frame pushed */
        SKBT_STAT__MAX = 11,
};

/* Session prefilter tables, also in the programs' .bss. */
#include "skbt_prefilter.h"
/* Conntrack (--ct): what records carry, and the copy length in the programs' .bss. */
#include "skbt_ct.h"
