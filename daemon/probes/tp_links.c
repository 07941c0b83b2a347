/* SPDX-License-Identifier: GPL-2.0-only */
/* tp_links.c - open and close the tracepoint probes' links; their programs stay loaded */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include "log.h"
#include "macro.h"
#include "tp_links.h"

int skbt_tp_link_open(const struct skbt_probe *p)
{
        /* raw_tp programs attach by name, tp_btf programs to the tracepoint they were
         * loaded for; BPF_RAW_TRACEPOINT_OPEN gives the link (libbpf 1.0+ returns a
         * negative errno on failure). */
        return bpf_raw_tracepoint_open(p->tp_btf ? NULL : p->tp_name, p->prog_fd);
}

uint32_t skbt_tp_links_open(struct skbt_loader *l)
{
        uint32_t failed = 0;

        for (uint32_t i = 0; i < l->n_probes; i++) {
                struct skbt_probe *p = &l->probes[i];
                char buf[160];
                int r;

                if (!skbt_tp_relinkable(p) || p->link_fd >= 0)
                        continue;
                r = skbt_tp_link_open(p);
                if (r < 0) {
                        failed++;
                        snprintf(buf, sizeof(buf), "re-attach after idle detach failed: %s",
                                 strerror(-r));
                        free(p->error);
                        p->error = strdup(buf);
                        if (p->attached) {
                                /* Sessions go on with the other probes. */
                                p->attached = false;
                                l->n_attached--;
                                l->n_skipped++;
                                log_warning_errno(r,
                                                  "cannot re-attach tracepoint %s (%m); it is "
                                                  "left out until the next session starts, "
                                                  "ignoring",
                                                  p->name);
                        }
                        continue;
                }
                p->link_fd = r;
                if (!p->attached) {
                        /* It failed last time: it is back. */
                        p->attached = true;
                        l->n_attached++;
                        l->n_skipped--;
                        free(p->error);
                        p->error = NULL;
                        log_info("tracepoint %s attached again", p->name);
                }
        }
        return failed;
}

void skbt_tp_links_close(struct skbt_loader *l)
{
        for (uint32_t i = 0; i < l->n_probes; i++)
                if (skbt_tp_relinkable(&l->probes[i]))
                        l->probes[i].link_fd = safe_close(l->probes[i].link_fd);
}

uint32_t skbt_tp_links_loaded(const struct skbt_loader *l)
{
        uint32_t n = 0;

        for (uint32_t i = 0; i < l->n_probes; i++)
                n += skbt_tp_relinkable(&l->probes[i]);
        return n;
}

uint32_t skbt_tp_links_linked(const struct skbt_loader *l)
{
        uint32_t n = 0;

        for (uint32_t i = 0; i < l->n_probes; i++)
                n += skbt_tp_relinkable(&l->probes[i]) && l->probes[i].link_fd >= 0;
        return n;
}
