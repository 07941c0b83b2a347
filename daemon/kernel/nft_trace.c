/* SPDX-License-Identifier: GPL-2.0-only */
/* nft_trace.c - switch on nftables' trace hook (the rule behind a verdict) without touching rules
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "nft_trace.h"

#define TABLE "skbtraced"
#define CHAIN "nftrace"
#define MSG_MAX 1024

/* A netlink message under construction in a fixed buffer; nests are closed in order. */
struct nlbuf {
        uint8_t data[MSG_MAX * 5];
        size_t len;
        bool overflow;
};

static void *nl_put(struct nlbuf *b, const void *p, size_t n)
{
        size_t padded = NLMSG_ALIGN(n);
        void *at;

        if (b->len + padded > sizeof(b->data)) {
                b->overflow = true;
                return NULL;
        }
        at = b->data + b->len;
        memset(at, 0, padded);
        if (p)
                memcpy(at, p, n);
        b->len += padded;
        return at;
}

/* Start a message: header + nfgenmsg; returns its offset. */
static size_t nl_msg(struct nlbuf *b, uint16_t type, uint16_t flags, uint32_t seq, uint8_t family,
                     uint16_t res_id)
{
        struct nlmsghdr h = {
            .nlmsg_type = type, .nlmsg_flags = NLM_F_REQUEST | flags, .nlmsg_seq = seq};
        struct nfgenmsg g = {
            .nfgen_family = family, .version = NFNETLINK_V0, .res_id = htons(res_id)};
        size_t at = b->len;

        nl_put(b, &h, sizeof(h));
        nl_put(b, &g, sizeof(g));
        return at;
}

static void nl_msg_end(struct nlbuf *b, size_t at)
{
        if (!b->overflow)
                ((struct nlmsghdr *)(b->data + at))->nlmsg_len = (uint32_t)(b->len - at);
}

static size_t nl_attr(struct nlbuf *b, uint16_t type, const void *p, size_t n)
{
        struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + n), .nla_type = type};
        size_t at = b->len;

        nl_put(b, &a, sizeof(a));
        if (n)
                nl_put(b, p, n);
        return at;
}

static void nl_str(struct nlbuf *b, uint16_t type, const char *s)
{
        nl_attr(b, type, s, strlen(s) + 1);
}

static void nl_be32(struct nlbuf *b, uint16_t type, uint32_t v)
{
        v = htonl(v);
        nl_attr(b, type, &v, sizeof(v));
}

static size_t nl_nest(struct nlbuf *b, uint16_t type)
{
        return nl_attr(b, type | NLA_F_NESTED, NULL, 0);
}

static void nl_nest_end(struct nlbuf *b, size_t at)
{
        if (!b->overflow)
                ((struct nlattr *)(b->data + at))->nla_len = (uint16_t)(b->len - at);
}

/* table inet skbtraced { chain nftrace { meta nftrace set 1 } } in one batch. */
static void build_batch(struct nlbuf *b)
{
        uint8_t one = 1;
        size_t m, exprs, elem, data, imm;

        m = nl_msg(b, NFNL_MSG_BATCH_BEGIN, 0, 1, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
        nl_msg_end(b, m);

        m = nl_msg(b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK, 2,
                   NFPROTO_INET, 0);
        nl_str(b, NFTA_TABLE_NAME, TABLE);
        nl_msg_end(b, m);

        m = nl_msg(b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_ACK, 3,
                   NFPROTO_INET, 0);
        nl_str(b, NFTA_CHAIN_TABLE, TABLE);
        nl_str(b, NFTA_CHAIN_NAME, CHAIN);
        nl_msg_end(b, m);

        m = nl_msg(b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE,
                   NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, 4, NFPROTO_INET, 0);
        nl_str(b, NFTA_RULE_TABLE, TABLE);
        nl_str(b, NFTA_RULE_CHAIN, CHAIN);
        exprs = nl_nest(b, NFTA_RULE_EXPRESSIONS);
        /* [ immediate reg 1 0x01 ] */
        elem = nl_nest(b, NFTA_LIST_ELEM);
        nl_str(b, NFTA_EXPR_NAME, "immediate");
        data = nl_nest(b, NFTA_EXPR_DATA);
        nl_be32(b, NFTA_IMMEDIATE_DREG, NFT_REG_1);
        imm = nl_nest(b, NFTA_IMMEDIATE_DATA);
        nl_attr(b, NFTA_DATA_VALUE, &one, sizeof(one));
        nl_nest_end(b, imm);
        nl_nest_end(b, data);
        nl_nest_end(b, elem);
        /* [ meta set nftrace with reg 1 ]: what turns the key on (nft_meta_set_init()). */
        elem = nl_nest(b, NFTA_LIST_ELEM);
        nl_str(b, NFTA_EXPR_NAME, "meta");
        data = nl_nest(b, NFTA_EXPR_DATA);
        nl_be32(b, NFTA_META_KEY, NFT_META_NFTRACE);
        nl_be32(b, NFTA_META_SREG, NFT_REG_1);
        nl_nest_end(b, data);
        nl_nest_end(b, elem);
        nl_nest_end(b, exprs);
        nl_msg_end(b, m);

        m = nl_msg(b, NFNL_MSG_BATCH_END, 0, 5, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
        nl_msg_end(b, m);
}

/* Read the three acknowledgements (table, chain, rule); the first error wins. */
static int read_acks(int fd)
{
        uint8_t buf[8192];
        int acks = 0;

        while (acks < 3) {
                ssize_t n = recv(fd, buf, sizeof(buf), 0);
                struct nlmsghdr *h;
                size_t left;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        return -EPIPE;
                left = (size_t)n;
                for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
                        const struct nlmsgerr *e = NLMSG_DATA(h);

                        if (h->nlmsg_type != NLMSG_ERROR)
                                continue;
                        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
                                return -EBADMSG;
                        if (e->error)
                                return e->error;
                        acks++;
                }
        }
        return 0;
}

/* A netlink socket in a network namespace of its own: the thread comes back home. */
static int socket_in_new_netns(char *err, size_t errlen)
{
        _cleanup_close_ int self = -EBADF;
        int fd, r;

        self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0) {
                r = negative_errno();
                snprintf(err, errlen, "cannot open the daemon's network namespace: %s",
                         strerror(-r));
                return r;
        }
        if (unshare(CLONE_NEWNET) < 0) {
                r = negative_errno();
                snprintf(err, errlen, "cannot create a network namespace: %s", strerror(-r));
                return r;
        }
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        r = fd < 0 ? negative_errno() : 0;
        /* Home before anything else: every socket opened later must be the daemon's. */
        if (setns(self, CLONE_NEWNET) < 0) {
                log_error_errno(negative_errno(),
                                "cannot return to the daemon's network namespace: %m");
                abort();
        }
        if (fd < 0) {
                snprintf(err, errlen, "cannot open a netfilter netlink socket: %s", strerror(-r));
                return r;
        }
        return fd;
}

int skbt_nft_trace_hold(int *ret_fd, char *err, size_t errlen)
{
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
        struct timeval tv = {.tv_sec = 5};
        struct nlbuf *b;
        ssize_t n;
        int r;

        fd = socket_in_new_netns(err, errlen);
        if (fd < 0)
                return fd;
        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        build_batch(b);
        if (b->overflow) {
                free(b);
                return -E2BIG;
        }
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        n = sendto(fd, b->data, b->len, 0, (struct sockaddr *)&sa, sizeof(sa));
        r = n < 0 ? negative_errno() : (size_t)n != b->len ? -EIO : 0;
        free(b);
        if (r == 0)
                r = read_acks(fd);
        if (r < 0) {
                snprintf(err, errlen,
                         "cannot switch on nftables' trace hook (a table with a 'meta nftrace "
                         "set' rule in a namespace of the daemon's own): %s%s",
                         strerror(-r),
                         r == -EPERM ? " (the daemon needs CAP_NET_ADMIN)"
                         : r == -ENOENT || r == -EPROTONOSUPPORT || r == -EOPNOTSUPP
                             ? " (nf_tables not available)"
                             : "");
                return r;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int skbt_nft_trace_release(int fd)
{
        if (fd >= 0)
                close(fd);
        return -1;
}
