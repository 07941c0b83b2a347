/* SPDX-License-Identifier: GPL-2.0-only */
/* fake_ct.h - struct nf_conn as the kernel lays it out (6.x, members skbtraced reads) */
#pragma once

/*
 * Included by fake_ct.c (compiled for the BPF target, for its BTF) and by
 * test_ct.c (host): both targets lay these types out the same way, so the
 * test can fill an entry on the host and check the offsets found in the BTF.
 */
typedef unsigned char u8_;
typedef unsigned short u16_;
typedef unsigned int u32_;
typedef unsigned short be16_;
typedef unsigned int be32_;

struct nf_conntrack {
        u32_ use;
};

union nf_inet_addr {
        u32_ all[4];
        be32_ ip;
        be32_ ip6[4];
};

union nf_conntrack_man_proto {
        be16_ all;
        struct {
                be16_ port;
        } tcp;
        struct {
                be16_ id;
        } icmp;
};

struct nf_conntrack_man {
        union nf_inet_addr u3;
        union nf_conntrack_man_proto u;
        u16_ l3num;
};

struct nf_conntrack_tuple {
        struct nf_conntrack_man src;
        struct {
                union nf_inet_addr u3;
                union {
                        be16_ all;
                        struct {
                                be16_ port;
                        } tcp;
                        struct {
                                u8_ type, code;
                        } icmp;
                } u;
                u8_ protonum;
                u8_ dir;
        } dst;
};

struct hlist_nulls_node {
        struct hlist_nulls_node *next, **pprev;
};

struct nf_conntrack_tuple_hash {
        struct hlist_nulls_node hnnode;
        struct nf_conntrack_tuple tuple;
};

struct nf_conntrack_zone {
        u16_ id;
        u8_ flags;
        u8_ dir;
};

struct ip_ct_tcp_state {
        u32_ td_end, td_maxend, td_maxwin, td_maxack;
        u8_ td_scale, flags;
};

struct ip_ct_tcp {
        struct ip_ct_tcp_state seen[2];
        u8_ state;
        u8_ last_dir;
};

union nf_conntrack_proto {
        struct ip_ct_tcp tcp;
        u32_ gre[4];
};

struct nf_conn {
        struct nf_conntrack ct_general;
        u32_ lock;
        u32_ timeout;
        struct nf_conntrack_zone zone;
        struct nf_conntrack_tuple_hash tuplehash[2];
        unsigned long status;
        void *ct_net;
        struct nf_conn *master;
        u32_ mark;
        u32_ secmark;
        void *ext;
        union nf_conntrack_proto proto;
};
