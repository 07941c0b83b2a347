/* SPDX-License-Identifier: GPL-2.0-only */
/* bpf_progs.c - tc and XDP programs loaded while the daemon runs join the probe table and names */
#include "groups.h"
#include "log.h"
#include "skbtraced.h"

/*
 * The loader finds them (probes/attach_bpfprog.c); the names the renderer
 * and the groups look up are per probe id, with room for the whole table.
 */
void skbt_daemon_scan_bpf_progs(struct skbtraced *d)
{
        struct skbt_loader *l = d->loader;
        uint32_t from = l->n_probes;
        int r;

        r = skbt_loader_scan_bpf_progs(l);
        if (r < 0) {
                log_warning_errno(r, "cannot list the tc and XDP programs (%m), ignoring");
                return;
        }
        for (uint32_t i = from; i < l->n_probes; i++) {
                d->probe_names[i] = l->probes[i].name;
                if (d->probe_groups && d->groups) {
                        d->probe_groups[i] = skbt_groups_probe_group(d->groups, l->probes[i].name);
                        l->probes[i].grouped = d->probe_groups[i] != NULL;
                }
        }
        skbt_loader_recount(l);
        d->names.n_probes = l->n_probes;
        if (r > 0)
                log_info("%d new tc or XDP programs to trace", r);
}
