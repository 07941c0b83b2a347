// SPDX-License-Identifier: GPL-2.0-only
/* fake_kernel.c - a tiny "kernel" whose BTF (clang -target bpf -g) feeds test_symdb */

/*
 * The BPF backend refuses to define functions with more than 5 arguments or
 * variadic ones, but emits extern FUNCs for the functions a definition calls
 * (at -O2), so the variadic case is an extern called below.  More than 5 and
 * more than 12 arguments are covered by BTF built in test_symdb.c itself.
 */

struct sk_buff {
        unsigned int len;
        struct sk_buff *next;
};

struct net_device {
        int ifindex;
};

struct sock {
        int sk_family;
};

typedef struct sk_buff skb_t;

enum skb_drop_reason {
        SKB_NOT_DROPPED_YET = 0,
        SKB_CONSUMED,
        SKB_DROP_REASON_NOT_SPECIFIED,
        SKB_DROP_REASON_NO_SOCKET,
        SKB_DROP_REASON_PKT_TOO_SMALL,
        /* a hole at 5..9 */
        SKB_DROP_REASON_QDISC_DROP = 10,
        SKB_DROP_REASON_MAX,
        SKB_DROP_REASON_SUBSYS_MASK = 0xffff0000,
};

int ip_rcv(struct sk_buff *skb, struct net_device *dev, int pt, struct net_device *orig_dev)
{
        return skb->len + dev->ifindex + pt + orig_dev->ifindex;
}

void dev_queue_at1(struct net_device *dev, struct sk_buff *skb)
{
        skb->len = dev->ifindex;
}

int const_at2(int a, long b, const struct sk_buff *skb)
{
        return a + b + skb->len;
}

/* Through a typedef and both qualifiers: still an skb. */
int typedef_at3(int a, int b, int c, const volatile skb_t *skb)
{
        return a + b + c + skb->len;
}

unsigned int last_of_five(int a, int b, int c, struct sock *sk, struct sk_buff *skb)
{
        return a + b + c + sk->sk_family + skb->len;
}

/* Two skbs: the first one is recorded. */
int two_skbs(struct sock *sk, struct sk_buff *from, struct sk_buff *to)
{
        to->len = from->len + sk->sk_family;
        return 0;
}

int no_skb(struct net_device *dev, int x)
{
        return dev->ifindex + x;
}

/* A pointer to a pointer is not an skb argument. */
int skb_ptr_ptr(struct sk_buff **pskb)
{
        return (*pskb)->len;
}

int no_args(void)
{
        return 42;
}

extern int skb_printk(struct sk_buff *skb, const char *fmt, ...);

int call_printk(struct sk_buff *skb)
{
        return skb_printk(skb, "len %u", skb->len);
}

/* Raw tracepoint types as the kernel's DEFINE_EVENT emits them. */
typedef void (*btf_trace_foo)(void *, int, struct sk_buff *);
typedef void (*btf_trace_kfree_skb)(void *, struct sk_buff *, void *, enum skb_drop_reason,
                                    struct sock *);
typedef void (*btf_trace_netif_receive_skb)(void *, struct sk_buff *);
typedef void (*btf_trace_sched_switch)(void *, int, int);
/* Not tracepoints: the first argument is not the void * ctx, or the name does not match. */
typedef void (*btf_trace_bad_ctx)(struct sk_buff *, int);
typedef void (*not_a_trace)(void *, struct sk_buff *);

btf_trace_foo tp_foo;
btf_trace_kfree_skb tp_kfree_skb;
btf_trace_netif_receive_skb tp_netif_receive_skb;
btf_trace_sched_switch tp_sched_switch;
btf_trace_bad_ctx tp_bad_ctx;
not_a_trace tp_not_a_trace;
enum skb_drop_reason last_reason;
