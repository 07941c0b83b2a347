/* SPDX-License-Identifier: GPL-2.0-only */
/* method_list.c - io.skbtraced.List: the probes, or the probe groups tree */
#include <string.h>

#include <json-c/json.h>

#include "control-internal.h"
#include "groups.h"
#include "skbtraced.h"
#include "tp_links.h"

/* One probe name of a group, with what this kernel has of it. */
static json_object *group_probe_json(const struct skbt_loader *l, const char *name)
{
        json_object *o = json_object_new_object();
        const struct skbt_probe *p = NULL;

        for (uint32_t i = 0; i < l->n_probes; i++)
                if (!l->probes[i].is_return && strcmp(l->probes[i].name, name) == 0) {
                        p = &l->probes[i];
                        break;
                }
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "exists", json_object_new_boolean(p != NULL));
        json_object_object_add(o, "attached", json_object_new_boolean(p && p->attached));
        if (p && !p->attached && p->error)
                json_object_object_add(o, "error", json_object_new_string(p->error));
        return o;
}

/*
 * The groups tree: each group with its own probes (those the file names,
 * then those its regex matches here) and whether this kernel has them.
 */
static void list_groups(struct skbt_client *c)
{
        struct skbtraced *d = c->d;
        const struct skbt_loader *l = d->loader;
        const struct skbt_groups *gs = d->groups;
        json_object *arr, *reply;

        if (!gs) {
                client_error(c, ERR_UNSUPPORTED, "groups", "no probe groups: %s", d->groups_error);
                return;
        }
        arr = json_object_new_array();
        for (uint32_t i = 0; i < gs->n; i++) {
                const struct skbt_group *g = &gs->g[i];
                json_object *o = json_object_new_object(), *probes = json_object_new_array();
                uint32_t attached = 0, exists = 0;

                json_object_object_add(o, "name", json_object_new_string(g->name));
                json_object_object_add(
                    o, "parent",
                    g->parent >= 0 ? json_object_new_string(gs->g[g->parent].name) : NULL);
                json_object_object_add(o, "depth", json_object_new_int64(g->depth));
                json_object_object_add(o, "description", json_object_new_string(g->description));
                if (g->regex)
                        json_object_object_add(o, "regex", json_object_new_string(g->regex));
                for (uint32_t k = 0; k < g->n_probes; k++)
                        json_object_array_add(probes, group_probe_json(l, g->probes[k]));
                for (uint32_t k = 0; g->regex && k < l->n_probes; k++) {
                        const struct skbt_probe *p = &l->probes[k];
                        bool listed = false;

                        if (p->is_return || !skbt_group_regex_matches(g, p->name))
                                continue;
                        for (uint32_t m = 0; m < g->n_probes && !listed; m++)
                                listed = strcmp(g->probes[m], p->name) == 0;
                        if (!listed)
                                json_object_array_add(probes, group_probe_json(l, p->name));
                }
                for (size_t k = 0; k < json_object_array_length(probes); k++) {
                        json_object *pr = json_object_array_get_idx(probes, k), *v;

                        if (json_object_object_get_ex(pr, "exists", &v) &&
                            json_object_get_boolean(v))
                                exists++;
                        if (json_object_object_get_ex(pr, "attached", &v) &&
                            json_object_get_boolean(v))
                                attached++;
                }
                json_object_object_add(o, "exists", json_object_new_int64(exists));
                json_object_object_add(o, "attached", json_object_new_int64(attached));
                json_object_object_add(o, "probes", probes);
                json_object_array_add(arr, o);
        }
        reply = json_object_new_object();
        json_object_object_add(reply, "file", json_object_new_string(gs->path));
        json_object_object_add(reply, "groups", arr);
        skbt_client_reply(c, reply, false);
        json_object_put(reply);
}

void method_list(struct skbt_client *c, json_object *params)
{
        static const char *const allowed[] = {"regex", "groups", NULL};
        struct skbt_loader *l = c->d->loader;
        json_object *arr, *reply;
        _cleanup_(skbt_regex_freep) struct skbt_regex *re = NULL;
        bool groups = false;
        int r;

        if (!check_members(c, params, allowed) || get_bool(c, params, "groups", &groups) < 0)
                return;
        if (groups) {
                if (json_object_object_get_ex(params, "regex", NULL)) {
                        client_error(c, ERR_INVALID_PARAMETER, "regex",
                                     "regex and groups do not combine: groups lists the tree");
                        return;
                }
                list_groups(c);
                return;
        }
        if (compile_regex(c, params, &re) < 0)
                return;
        arr = json_object_new_array();
        for (uint32_t i = 0; i < l->n_probes; i++) {
                const struct skbt_probe *p = &l->probes[i];
                json_object *o;

                /* A return probe is shown as its entry's "returns". */
                if (p->is_return)
                        continue;
                if (re && (r = client_regex_match(c, re, p->name)) <= 0) {
                        if (r == 0)
                                continue;
                        json_object_put(arr);
                        return;
                }
                o = json_object_new_object();
                json_object_object_add(o, "name", json_object_new_string(p->name));
                json_object_object_add(
                    o, "kind",
                    json_object_new_string(p->kind == SKBT_PROBE_TRACEPOINT  ? "tracepoint"
                                           : p->kind == SKBT_PROBE_NETFILTER ? "netfilter"
                                                                             : "function"));
                json_object_object_add(o, "skb_arg", json_object_new_int(p->skb_arg + 1));
                json_object_object_add(o, "backend",
                                       json_object_new_string(skbt_backend_to_string(p->backend)));
                json_object_object_add(o, "attached", json_object_new_boolean(p->attached));
                /* Tracepoints: attached but not linked while the daemon is idle. */
                json_object_object_add(
                    o, "linked",
                    json_object_new_boolean(p->attached &&
                                            (!skbt_tp_relinkable(p) || p->link_fd >= 0)));
                json_object_object_add(o, "drop", json_object_new_boolean(p->drop));
                json_object_object_add(o, "returns",
                                       json_object_new_boolean(p->ret_id != SKBT_NO_PROBE &&
                                                               l->probes[p->ret_id].attached));
                if (c->d->probe_groups && c->d->probe_groups[i])
                        json_object_object_add(o, "group",
                                               json_object_new_string(c->d->probe_groups[i]));
                if (p->error)
                        json_object_object_add(o, "error", json_object_new_string(p->error));
                json_object_array_add(arr, o);
        }
        reply = json_object_new_object();
        json_object_object_add(reply, "probes", arr);
        skbt_client_reply(c, reply, false);
        json_object_put(reply);
}
