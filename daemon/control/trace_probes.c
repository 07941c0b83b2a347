/* SPDX-License-Identifier: GPL-2.0-only */
/* trace_probes.c - io.skbtraced.Trace: which probes a session listens on */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "groups.h"
#include "skbt_regex.h"
#include "skbtraced.h"
#include "trace.h"
#include "varlink.h"

/* The session's -g groups, as indexes into d->groups. */
struct group_sel {
        const struct skbt_groups *gs;
        int idx[SKBT_GROUPS_MAX];
        uint32_t n;
        /* The set -r, -g and -t choose from (SKBT_PROBES_GROUPS: per probe id, its group's
         * name or NULL for none; drop probes are in it whatever the file says). */
        const char *const *in_groups;
};

static bool group_selected(const struct group_sel *g, const char *name)
{
        if (g->n == 0)
                return true;
        for (uint32_t i = 0; i < g->n; i++)
                if (skbt_group_selects(g->gs, (uint32_t)g->idx[i], name))
                        return true;
        return false;
}

/*
 * Entry probes are selected by the tracer, the groups and the regex; a
 * return probe goes with its entry, for function_graph only (it reports to
 * the sessions its entry matched, so selecting it alone would never fire).
 * 1 selected, 0 not, or the regex failed on its name (decided, -errno).
 */
static int probe_selected(struct vl_call *call, const struct skbt_loader *l,
                          const struct skbt_probe *p, enum skbt_tracer tracer,
                          struct skbt_regex *re, const struct group_sel *g)
{
        uint32_t id;

        /* Helpers serve a feature (--nf-rules), not a selection: session_need() adds them. */
        if (!p->attached || p->helper)
                return 0;
        if (p->is_return) {
                if (tracer != SKBT_TRACER_FUNCTION_GRAPH || p->entry_id >= l->n_probes)
                        return 0;
                p = &l->probes[p->entry_id];
                if (!p->attached)
                        return 0;
        }
        if (tracer == SKBT_TRACER_DROP && !p->drop)
                return 0;
        if (tracer == SKBT_TRACER_FUNCTION_GRAPH && p->kind == SKBT_PROBE_TRACEPOINT)
                return 0;
        /* A tc or XDP program is traced when asked for by name or group, never by default:
         * tracing it costs each of its runs a trampoline. */
        if (p->kind == SKBT_PROBE_BPF && !re && g->n == 0)
                return 0;
        id = (uint32_t)(p - l->probes);
        if (g->in_groups && !g->in_groups[id] && !p->drop)
                return 0;
        if (!group_selected(g, p->name))
                return 0;
        return re ? vl_regex_match(call, re, p->name) : 1;
}

/* "groups": every name must be a group of the data file; kept joined for Sessions. */
static int resolve_groups(struct vl_call *call, const struct skbt_trace_request *req,
                          struct group_sel *g, struct skbt_session *tmpl)
{
        struct skbtraced *d = call->client->d;
        char names[1024];
        size_t pos = 0;

        g->gs = d->groups;
        g->n = 0;
        if (!req->n_groups)
                return 0;
        if (!d->groups)
                return vl_error(call, VL_ERR_NOT_SUPPORTED, "groups", "no probe groups: %s",
                                d->groups_error);
        tmpl->groups = calloc(req->n_groups, SKBT_TRACE_GROUP_NAME_MAX + 1);
        if (!tmpl->groups)
                return -ENOMEM;
        for (uint32_t i = 0; i < req->n_groups; i++) {
                int idx = skbt_groups_find(d->groups, req->groups[i]);

                if (idx < 0) {
                        skbt_groups_names(d->groups, names, sizeof(names));
                        return vl_error(call, VL_ERR_INVALID_PARAMETER, "groups",
                                        "unknown probe group '%s': expected one of %s",
                                        req->groups[i], names);
                }
                g->idx[g->n++] = idx;
                pos += (size_t)sprintf(tmpl->groups + pos, "%s%s", i ? "," : "",
                                       d->groups->g[idx].name);
        }
        return 0;
}

/*
 * What a session hears besides what it selected: an aggregate block ends when
 * its packet is freed, or at the egress probe; netfilter verdicts explain drops
 * (docs/output.md), shown only when selected.
 */
static void add_implied(const struct skbt_loader *l, struct skbt_session *tmpl, uint8_t *sel)
{
        bool aggregate = skbt_output_is_aggregate(tmpl->output);

        for (uint32_t i = 0; aggregate && i < l->n_probes; i++) {
                const struct skbt_probe *p = &l->probes[i];

                if (sel[i] || !p->attached || p->is_return ||
                    !((p->life & SKBT_STAMP_FREE) || i == tmpl->egress_probe))
                        continue;
                sel[i] = 1;
                tmpl->n_probes++;
        }
        for (uint32_t i = 0; i < l->n_probes; i++) {
                const struct skbt_probe *p = &l->probes[i];

                if (sel[i] || !p->attached || !skbt_probe_is_nf_eval(p) ||
                    tmpl->n_nf_hidden >= ARRAY_SIZE(tmpl->nf_hidden))
                        continue;
                sel[i] = 1;
                tmpl->nf_hidden[tmpl->n_nf_hidden++] = i;
        }
}

/*
 * The set the session's regex, groups and tracer choose from: what it asked
 * for; else all when it chose probes itself (-r, -g, the drop tracer), the
 * daemon's default_probes otherwise.  A default of groups falls back to all
 * without a groups file (the daemon warned at start-up); asking for groups
 * then is an error.
 */
static int probe_set(struct vl_call *call, const struct skbt_trace_request *req,
                     struct group_sel *g)
{
        struct skbtraced *d = call->client->d;
        enum skbt_probe_set set = d->opt.cfg.default_probes;

        if (skbt_trace_given(req, SKBT_TP_PROBES))
                set = req->probes;
        else if (req->n_groups || skbt_trace_given(req, SKBT_TP_REGEX) ||
                 req->tracer == SKBT_TRACER_DROP)
                set = SKBT_PROBES_ALL;
        g->in_groups = NULL;
        if (set != SKBT_PROBES_GROUPS)
                return 0;
        if (!d->groups || !d->probe_groups) {
                if (skbt_trace_given(req, SKBT_TP_PROBES))
                        return vl_error(call, VL_ERR_NOT_SUPPORTED, "probes",
                                        "no probe groups: %s (probes all needs none)",
                                        d->groups_error);
                return 0;
        }
        g->in_groups = d->probe_groups;
        return 0;
}

/* The first probe the regex names that cannot be attached here, with why (NULL: none). */
static const struct skbt_probe *unusable_match(struct vl_call *call, const struct skbt_loader *l,
                                               struct skbt_regex *re)
{
        for (uint32_t i = 0; re && i < l->n_probes; i++) {
                const struct skbt_probe *p = &l->probes[i];

                if (!p->attached && p->error && !p->is_return &&
                    vl_regex_match(call, re, p->name) == 1)
                        return p;
        }
        return NULL;
}

static int no_probes(struct vl_call *call, const struct skbt_trace_request *req,
                     const struct group_sel *g, struct skbt_regex *regex)
{
        bool re = skbt_trace_given(req, SKBT_TP_REGEX);
        const struct skbt_probe *p;

        if (req->tracer == SKBT_TRACER_DROP)
                return vl_error(call, VL_ERR_NO_MATCHING_PROBES, NULL,
                                "no drop probe %sis attached on this kernel (the drop tracer needs "
                                "skb:kfree_skb with a reason, Linux 5.17+)",
                                re ? "matching the regex " : "");
        if (req->n_groups)
                return vl_error(call, VL_ERR_NO_MATCHING_PROBES, "groups",
                                "the groups%s select no attached probe here; see 'ipftctl list "
                                "--groups'",
                                re ? " and the regex" : "");
        if (!re && g->in_groups)
                return vl_error(call, VL_ERR_NO_MATCHING_PROBES,
                                skbt_trace_given(req, SKBT_TP_PROBES) ? "probes" : NULL,
                                "no probe of the groups file is attached here; see 'ipftctl "
                                "list --groups' (probes all: every probe)");
        if (!re)
                return vl_error(call, VL_ERR_NO_MATCHING_PROBES, NULL,
                                "no probe is attached here; see 'ipftctl list'");
        p = unusable_match(call, call->client->d->loader, regex);
        if (p)
                return vl_error(call, VL_ERR_NO_MATCHING_PROBES, "regex",
                                "the regex matches no attached probe: %s cannot be attached "
                                "here: %s; see 'ipftctl list'",
                                p->name, p->error);
        return vl_error(call, VL_ERR_NO_MATCHING_PROBES, "regex",
                        "the regex matches no attached probe; see 'ipftctl list'");
}

/* The text names tc or xdp as a word ("^(tc|xdp):", "^tc:drop", not "^tcp_" or "do_xdp_generic").
 */
static bool names_tc_or_xdp(const char *text)
{
        static const char *const words[] = {"tc", "xdp"};

        for (const char *p = text; p && *p; p++)
                for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
                        size_t n = strlen(words[i]);

                        if (strncmp(p, words[i], n) == 0 &&
                            (p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) &&
                            !(isalnum((unsigned char)p[n]) || p[n] == '_'))
                                return true;
                }
        return false;
}

/*
 * Whether the session may select a tc or XDP program, so the daemon looks for
 * programs loaded since its last look (a walk over every BPF program and link
 * on the host): its regex or one of its groups names or matches "tc:" or
 * "xdp:".  Sessions that cannot select one do not pay that walk; a regex
 * such as '.' selects the programs known from the last look, and finds new
 * ones too.
 */
static bool may_select_bpfprogs(const struct skbt_trace_request *req, struct skbt_regex *re,
                                const struct group_sel *g)
{
        if (re && (names_tc_or_xdp(req->regex) || skbt_regex_match(re, "tc:") == 1 ||
                   skbt_regex_match(re, "xdp:") == 1))
                return true;
        for (uint32_t i = 0; i < g->n; i++) {
                const struct skbt_group *grp = &g->gs->g[g->idx[i]];

                if (names_tc_or_xdp(grp->regex) ||
                    skbt_group_selects(g->gs, (uint32_t)g->idx[i], "tc:") ||
                    skbt_group_selects(g->gs, (uint32_t)g->idx[i], "xdp:"))
                        return true;
        }
        return false;
}

int trace_select_probes(struct vl_call *call, const struct skbt_trace_request *req,
                        struct skbt_session *tmpl, uint8_t **ret_sel)
{
        const struct skbt_loader *l = call->client->d->loader;
        _cleanup_free_ struct group_sel *g = calloc(1, sizeof(*g));
        _cleanup_free_ uint8_t *sel = NULL;
        _cleanup_(skbt_regex_freep) struct skbt_regex *re = NULL;
        int r;

        if (!g)
                return -ENOMEM;
        r = resolve_groups(call, req, g, tmpl);
        if (r < 0)
                return r;
        r = probe_set(call, req, g);
        if (r < 0)
                return r;
        if (skbt_trace_given(req, SKBT_TP_REGEX) && (r = vl_regex_new(call, req->regex, &re)) < 0)
                return r;
        if (may_select_bpfprogs(req, re, g))
                skbt_daemon_scan_bpf_progs(call->client->d);
        sel = calloc(l->n_probes ? l->n_probes : 1, 1);
        if (!sel)
                return -ENOMEM;
        for (uint32_t i = 0; i < l->n_probes; i++) {
                r = probe_selected(call, l, &l->probes[i], tmpl->tracer, re, g);
                if (r < 0)
                        return r;
                if (r) {
                        sel[i] = 1;
                        tmpl->n_probes++;
                }
        }
        if (tmpl->n_probes == 0)
                return no_probes(call, req, g, re);
        add_implied(l, tmpl, sel);
        *ret_sel = TAKE_PTR(sel);
        return 0;
}
