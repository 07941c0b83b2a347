/* SPDX-License-Identifier: GPL-2.0-only */
/* nf_rules.c - what --nf-rules needs (nftables' trace hook, iptables' snapshots) while it runs */
#include "log.h"
#include "nft_trace.h"
#include "loader.h"
#include "skbtraced.h"

/*
 * nft_do_chain() calls its trace hook only while some rule in some namespace
 * uses 'meta nftrace set' (the static key nft_trace_enabled): the daemon holds
 * such a rule in a namespace of its own (kernel/nft_trace.c) from the first
 * --nf-rules session on.  The hook probe itself attaches and lingers like any
 * probe the session needs (session_need()).
 */
int skbt_nf_rules_hold(struct skbtraced *d, char *err, size_t errlen)
{
        int r;

        /* iptables' numbers: their per-CPU map.  Without it a session would get nftables'
         * rules and silently no iptables numbers: refuse it instead, saying why. */
        r = skbt_xt_snaps_hold(d->loader, err, errlen);
        if (r < 0)
                return log_warning_errno(r, "%s", err);
        /* Without nftables' hook (iptables numbers only) there is nothing to switch on. */
        if (d->nft_trace_fd >= 0 || d->loader->nft_hook_id >= d->loader->n_probes ||
            !d->loader->probes[d->loader->nft_hook_id].attached)
                return 0;
        r = skbt_nft_trace_hold(&d->nft_trace_fd, err, errlen);
        if (r < 0)
                return log_warning_errno(r, "%s", err);
        log_info("nftables trace hook on (a table with 'meta nftrace set' in a namespace of our "
                 "own): verdicts name their rules");
        return 0;
}

void skbt_nf_rules_idle(struct skbtraced *d)
{
        if (d->n_nf_rules)
                return;
        skbt_xt_snaps_release(d->loader);
        if (d->nft_trace_fd < 0)
                return;
        d->nft_trace_fd = skbt_nft_trace_release(d->nft_trace_fd);
        log_info("nftables trace hook off");
}
