/* SPDX-License-Identifier: GPL-2.0-only */
/* method_list.c - io.skbtraced.List: the probes, or the probe groups tree */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "groups.h"
#include "json_util.h"
#include "skbt_regex.h"
#include "skbtraced.h"
#include "varlink.h"

/* One probe name of a group, with what this kernel has of it. */
static json_object *group_probe_json(const struct skbt_loader *l, const char *name,
                                     uint32_t *exists, uint32_t *attached)
{
        json_object *o = json_object_new_object();
        const struct skbt_probe *p = NULL;

        for (uint32_t i = 0; i < l->n_probes; i++)
                if (!l->probes[i].is_return && strcmp(l->probes[i].name, name) == 0) {
                        p = &l->probes[i];
                        break;
                }
        *exists += p != NULL;
        *attached += p && p->attached;
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "exists", json_object_new_boolean(p != NULL));
        json_object_object_add(o, "attached", json_object_new_boolean(p && p->attached));
        if (p && !p->attached && p->error)
                json_object_object_add(o, "error", json_object_new_string(p->error));
        return o;
}

/* A group's own probes: those the file names, then those its regex matches here. */
static json_object *group_probes_json(const struct skbt_loader *l, const struct skbt_group *g,
                                      uint32_t *exists, uint32_t *attached)
{
        json_object *probes = json_object_new_array();

        for (uint32_t k = 0; k < g->n_probes; k++)
                json_object_array_add(probes, group_probe_json(l, g->probes[k], exists, attached));
        for (uint32_t k = 0; g->regex && k < l->n_probes; k++) {
                const struct skbt_probe *p = &l->probes[k];
                bool listed = false;

                if (p->is_return || !skbt_group_regex_matches(g, p->name))
                        continue;
                for (uint32_t m = 0; m < g->n_probes && !listed; m++)
                        listed = strcmp(g->probes[m], p->name) == 0;
                if (!listed)
                        json_object_array_add(probes,
                                              group_probe_json(l, p->name, exists, attached));
        }
        return probes;
}

static json_object *group_json(const struct skbt_loader *l, const struct skbt_groups *gs,
                               const struct skbt_group *g)
{
        json_object *o = json_object_new_object(), *probes;
        uint32_t attached = 0, exists = 0;

        json_object_object_add(o, "name", json_object_new_string(g->name));
        json_object_object_add(
            o, "parent", g->parent >= 0 ? json_object_new_string(gs->g[g->parent].name) : NULL);
        json_object_object_add(o, "depth", json_object_new_int64(g->depth));
        json_object_object_add(o, "description", json_object_new_string(g->description));
        if (g->regex)
                json_object_object_add(o, "regex", json_object_new_string(g->regex));
        probes = group_probes_json(l, g, &exists, &attached);
        json_object_object_add(o, "exists", json_object_new_int64(exists));
        json_object_object_add(o, "attached", json_object_new_int64(attached));
        json_object_object_add(o, "probes", probes);
        return o;
}

/* The groups tree: each group with its own probes and whether this kernel has them. */
static int list_groups(struct vl_call *call)
{
        struct skbtraced *d = call->client->d;
        const struct skbt_groups *gs = d->groups;
        _cleanup_json_ json_object *reply = json_object_new_object();
        json_object *arr = json_object_new_array();

        if (!reply || !arr || json_object_object_add(reply, "groups", arr) < 0) {
                json_object_put(arr);
                return -ENOMEM;
        }
        if (!gs)
                return vl_error(call, VL_ERR_NOT_SUPPORTED, "groups", "no probe groups: %s",
                                d->groups_error);
        for (uint32_t i = 0; i < gs->n; i++)
                json_object_array_add(arr, group_json(d->loader, gs, &gs->g[i]));
        json_object_object_add(reply, "file", json_object_new_string(gs->path));
        return vl_reply(call, reply, false);
}

static const char *kind_name(enum skbt_probe_kind k)
{
        return k == SKBT_PROBE_TRACEPOINT  ? "tracepoint"
               : k == SKBT_PROBE_NETFILTER ? "netfilter"
               : k == SKBT_PROBE_BPF       ? "bpf"
                                           : "function";
}

static json_object *probe_json(const struct skbtraced *d, uint32_t i)
{
        const struct skbt_loader *l = d->loader;
        const struct skbt_probe *p = &l->probes[i];
        json_object *o = json_object_new_object();

        json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "kind", json_object_new_string(kind_name(p->kind)));
        json_object_object_add(o, "skb_arg", json_object_new_int(p->skb_arg + 1));
        json_object_object_add(o, "backend",
                               json_object_new_string(skbt_backend_to_string(p->backend)));
        json_object_object_add(o, "attached", json_object_new_boolean(p->attached));
        /* Tracepoints: attached but not linked while the daemon is idle. */
        json_object_object_add(o, "linked", json_object_new_boolean(skbt_probe_linked(p)));
        json_object_object_add(o, "drop", json_object_new_boolean(p->drop));
        json_object_object_add(
            o, "returns",
            json_object_new_boolean(p->ret_id != SKBT_NO_PROBE && l->probes[p->ret_id].attached));
        if (d->probe_groups && d->probe_groups[i])
                json_object_object_add(o, "group", json_object_new_string(d->probe_groups[i]));
        if (p->error)
                json_object_object_add(o, "error", json_object_new_string(p->error));
        /* A tc or XDP program: where it was seen attached. */
        if (p->kind == SKBT_PROBE_BPF && p->target)
                json_object_object_add(o, "target", json_object_new_string(p->target));
        return o;
}

int method_list(struct vl_call *call, void *args)
{
        const struct vl_list_args *a = args;
        struct skbtraced *d = call->client->d;
        const struct skbt_loader *l = d->loader;
        bool have_re = a->given & SKBT_PARAM_BIT(0);
        _cleanup_(skbt_regex_freep) struct skbt_regex *re = NULL;
        _cleanup_json_ json_object *reply = json_object_new_object();
        json_object *arr = json_object_new_array();
        int r;

        if (!reply || !arr || json_object_object_add(reply, "probes", arr) < 0) {
                json_object_put(arr);
                return -ENOMEM;
        }
        if (a->groups && have_re)
                return vl_error(call, VL_ERR_INVALID_PARAMETER, "regex",
                                "regex and groups do not combine: groups lists the tree");
        if (a->groups)
                return list_groups(call);
        if (have_re && (r = vl_regex_new(call, a->regex, &re)) < 0)
                return r;
        skbt_daemon_scan_bpf_progs(d);
        for (uint32_t i = 0; i < l->n_probes; i++) {
                /* A return probe is shown as its entry's "returns". */
                if (l->probes[i].is_return)
                        continue;
                r = re ? vl_regex_match(call, re, l->probes[i].name) : 1;
                if (r < 0)
                        return r;
                if (r)
                        json_object_array_add(arr, probe_json(d, i));
        }
        return vl_reply(call, reply, false);
}
