/* SPDX-License-Identifier: GPL-2.0-only */
/* probe_table.c - the loader's probe table: add a probe, say why one failed, which are wanted */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "loader-internal.h"
#include "loader.h"
#include "log.h"
#include "skbt_regex.h"
#include "symdb.h"

bool skbt_function_is_drop(const struct skbt_sym *s)
{
        /* kfree_skb_reason(skb, reason) until 6.10, sk_skb_reason_drop(sk, skb, reason)
         * from 6.11: in both the reason follows the skb. */
        return strcmp(s->name, "kfree_skb_reason") == 0 ||
               strcmp(s->name, "sk_skb_reason_drop") == 0;
}

bool skbt_probe_wanted(const struct skbt_loader_opts *o, const char *name)
{
        char err[512];
        int r;

        if (!o->probe_regex)
                return true;
        r = skbt_regex_match(o->probe_regex, name);
        if (r < 0) {
                /* --probes is the operator's; a pattern over its limits skips the probe. */
                skbt_regex_limit_message(o->probe_regex, r, name, err, sizeof(err));
                log_warning("--probes: %s; not attaching %s", err, name);
        }
        return r == 1;
}

int skbt_probe_add(struct skbt_loader *l, const char *name, uint8_t kind, uint8_t skb_arg,
                   bool drop)
{
        struct skbt_probe *p;

        if (l->n_probes >= SKBT_MAX_PROBES)
                return -E2BIG;
        p = &l->probes[l->n_probes];
        *p = (struct skbt_probe){
            .kind = kind,
            .skb_arg = skb_arg,
            .backend = SKBT_BACKEND_TRACEPOINT,
            .drop = drop,
            .prog_fd = -1,
            .ret_prog_fd = -1,
            .ret_id = SKBT_NO_PROBE,
            .entry_id = SKBT_NO_PROBE,
            .attached = true, /* usable until a load or attach says otherwise */
            .life = (uint16_t)skbt_probe_life(name, kind),
        };
        p->name = strdup(name);
        if (!p->name)
                return -ENOMEM;
        return (int)l->n_probes++;
}

void skbt_probe_fail(struct skbt_loader *l, struct skbt_probe *p, const char *fmt, ...)
{
        char buf[160];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        free(p->error);
        p->error = strdup(buf);
        p->attached = false;
        log_debug("probe %s%s skipped: %s", p->name, p->is_return ? " (return)" : "", buf);
}

/*
 * Functions with an skb parameter are listed even when no function backend
 * can attach them here, so "ipftctl list" answers "can I trace ip_rcv on this
 * host, and if not, why".
 */
void skbt_record_function(struct skbt_loader *l, const struct skbt_sym *s,
                          const struct skbt_ksyms *ksyms, const char *why)
{
        bool drop = skbt_function_is_drop(s);
        struct skbt_probe *p;
        char buf[192];
        int id;

        id = skbt_probe_add(l, s->name, SKBT_PROBE_FUNCTION, s->skb_arg, drop);
        if (id < 0)
                return;
        p = &l->probes[id];
        p->backend = _SKBT_BACKEND_MAX; /* none */
        p->attached = false;
        if (ksyms && skbt_ksyms_addresses_visible(ksyms) && !skbt_ksyms_lookup(ksyms, s->name))
                snprintf(buf, sizeof(buf),
                         "not in /proc/kallsyms (inlined or renamed by the "
                         "compiler): cannot be attached");
        else
                snprintf(buf, sizeof(buf), "%s", why);
        p->error = strdup(buf);
        l->n_unsupported++;
}
