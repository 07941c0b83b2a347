/* SPDX-License-Identifier: GPL-2.0-only */
/* cmd_list.c - ipftctl list: the probes, or the probe groups tree */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "filter_spec.h"
#include "log.h"
#include "trace_args.h"
#include "varlink_client.h"

/* ---- list ---- */

/* The groups tree: each group with its probes and whether this kernel has them. */
/* Group j is i or below it (parents come before their children in the reply). */
static bool group_below(json_object *groups, size_t j, size_t i)
{
        const char *want = member_str(json_object_array_get_idx(groups, i), "name");

        for (unsigned hops = 0; want && hops < 64; hops++) {
                json_object *g = json_object_array_get_idx(groups, j);
                const char *name = member_str(g, "name"), *parent = member_str(g, "parent");
                size_t k;

                if (name && strcmp(name, want) == 0)
                        return true;
                if (!parent)
                        return false;
                for (k = 0; k < j; k++)
                        if (member_str(json_object_array_get_idx(groups, k), "name") &&
                            strcmp(member_str(json_object_array_get_idx(groups, k), "name"),
                                   parent) == 0)
                                break;
                if (k == j)
                        return false;
                j = k;
        }
        return false;
}

static void list_print_groups(json_object *groups, bool verbose)
{
        size_t n = json_object_array_length(groups);

        printf("%-20s %-52s %s\n", "GROUP", "DESCRIPTION", "ATTACHED (with the groups below)");
        for (size_t i = 0; i < n; i++) {
                json_object *g = json_object_array_get_idx(groups, i);
                json_object *probes = member(g, "probes", json_type_array);
                const char *name = member_str(g, "name"), *desc = member_str(g, "description");
                uint64_t depth = member_u64_or(g, "depth", 0);
                size_t np = probes ? json_object_array_length(probes) : 0;
                char head[64];

                uint64_t att = 0, all = 0;

                /* What selecting the group selects: it and the groups below it. */
                for (size_t j = i; j < n; j++) {
                        json_object *gj = json_object_array_get_idx(groups, j);
                        json_object *pj = member(gj, "probes", json_type_array);

                        if (!group_below(groups, j, i))
                                continue;
                        att += member_u64_or(gj, "attached", 0);
                        all += pj ? json_object_array_length(pj) : 0;
                }
                snprintf(head, sizeof(head), "%*s%s", (int)(2 * MIN(depth, 8u)), "",
                         name ? name : "?");
                printf("%-20s %-52s %" PRIu64 "/%" PRIu64 "\n", head, desc ? desc : "", att, all);
                for (size_t k = 0; k < np; k++) {
                        json_object *p = json_object_array_get_idx(probes, k);
                        bool exists =
                            json_object_get_boolean(member(p, "exists", json_type_boolean));
                        bool patt =
                            json_object_get_boolean(member(p, "attached", json_type_boolean));
                        const char *err = member_str(p, "error");

                        /* Names this kernel does not have are noise unless asked for. */
                        if (!exists && !verbose)
                                continue;
                        printf("%*s  %-40s %s%s%s\n", (int)(2 * MIN(depth, 8u)), "",
                               member_str(p, "name") ? member_str(p, "name") : "?",
                               patt     ? "attached"
                               : exists ? "not attached"
                                        : "not on this kernel",
                               !patt && err && verbose ? ": " : "",
                               !patt && err && verbose ? err : "");
                }
        }
}

void list_usage(FILE *f)
{
        fputs("Usage: ipftctl [--socket PATH] list [OPTIONS]\n"
              "\n"
              "List the probes skbtraced discovered: kernel functions and tracepoints that\n"
              "take a struct sk_buff.  Probes that could not be attached are listed with the\n"
              "reason.  The number of probes goes to standard error.\n"
              "\n"
              "Options:\n"
              "  -r, --regex RE         only probes whose name matches the regular expression\n"
              "                         RE (PCRE2 syntax, no back-references; as 'ipftctl\n"
              "                         trace -r')\n"
              "  -k, --kind KIND        only probes of this kind: function, tracepoint,\n"
              "                         netfilter (verdicts of iptables and nftables) or bpf\n"
              "                         (tc and XDP programs)\n"
              "  -g, --groups           the probe groups ('ipftctl trace -g') as a tree, with\n"
              "                         their probes on this kernel (-v: also those it lacks)\n"
              "  -v, --verbose          with --groups: list names this kernel does not have\n"
              "  -o, --output FORMAT    text (a table, default) or json (one object per line)\n"
              "  -h, --help             show this help\n"
              "\n"
              "Examples:\n"
              "  ipftctl list -r '^tcp_'\n"
              "  ipftctl list -k tracepoint\n"
              "  ipftctl list -o json | jq -r 'select(.attached | not) | .name'\n"
              "  ipftctl list --groups\n",
              f);
}

static const char *probe_attached(json_object *p, char *buf, size_t len)
{
        const char *error = member_str(p, "error");

        if (json_object_get_boolean(member(p, "attached", json_type_boolean)))
                return "yes";
        if (!error)
                return "no";
        snprintf(buf, len, "no: %s", error);
        return buf;
}

static void list_print_table(json_object **rows, size_t n)
{
        static const char *const head[] = {"NAME", "KIND", "SKB_ARG", "BACKEND"};
        size_t w[ARRAY_SIZE(head)];
        char arg[24], att[512];

        for (size_t k = 0; k < ARRAY_SIZE(head); k++)
                w[k] = strlen(head[k]);
        for (size_t i = 0; i < n; i++) {
                const char *name = member_str(rows[i], "name");
                const char *kind = member_str(rows[i], "kind");
                const char *backend = member_str(rows[i], "backend");

                w[0] = MAX(w[0], strlen(name ? name : "-"));
                w[1] = MAX(w[1], strlen(kind ? kind : "-"));
                w[3] = MAX(w[3], strlen(backend ? backend : "-"));
        }

        printf("%-*s  %-*s  %*s  %-*s  %s\n", (int)w[0], head[0], (int)w[1], head[1], (int)w[2],
               head[2], (int)w[3], head[3], "ATTACHED");
        for (size_t i = 0; i < n; i++) {
                const char *name = member_str(rows[i], "name");
                const char *kind = member_str(rows[i], "kind");
                const char *backend = member_str(rows[i], "backend");
                uint64_t skb_arg;

                /* skb_arg is 1-based on the wire, and shown as such. */
                if (member_u64(rows[i], "skb_arg", &skb_arg))
                        snprintf(arg, sizeof(arg), "%" PRIu64, skb_arg);
                else
                        snprintf(arg, sizeof(arg), "-");
                printf("%-*s  %-*s  %*s  %-*s  %s\n", (int)w[0], name ? name : "-", (int)w[1],
                       kind ? kind : "-", (int)w[2], arg, (int)w[3], backend ? backend : "-",
                       probe_attached(rows[i], att, sizeof(att)));
        }
}

struct list_opts {
        const char *regex, *kind, *output;
        bool groups, verbose;
};

/* 0, -1 for --help (printed), or the exit status of a usage error. */
static int list_parse(int argc, char **argv, struct list_opts *o)
{
        static const struct option longopts[] = {
            {"regex", required_argument, NULL, 'r'},
            {"kind", required_argument, NULL, 'k'},
            {"output", required_argument, NULL, 'o'},
            {"groups", no_argument, NULL, 'g'},
            {"verbose", no_argument, NULL, 'v'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        static const char *const kinds[] = {"function", "tracepoint", "netfilter", "bpf"};
        char err[SKBT_ERR_MAX + 128];
        int c;

        *o = (struct list_opts){.output = "text"};
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":r:k:o:gvh", longopts, NULL)) != -1) {
                switch (c) {
                case 'g':
                        o->groups = true;
                        break;
                case 'v':
                        o->verbose = true;
                        break;
                case 'r':
                        if (args_check_regex(optarg, err, sizeof(err)) < 0)
                                return usage_error("list", err);
                        o->regex = optarg;
                        break;
                case 'k':
                        for (size_t i = 0; i < ARRAY_SIZE(kinds) && !o->kind; i++)
                                if (strcmp(optarg, kinds[i]) == 0)
                                        o->kind = kinds[i];
                        if (!o->kind)
                                return usage_errorf("list",
                                                    "invalid kind '%.64s': expected function, "
                                                    "tracepoint, netfilter or bpf",
                                                    optarg);
                        break;
                case 'o':
                        if (args_parse_output(optarg, &o->output, err, sizeof(err)) < 0)
                                return usage_error("list", err);
                        break;
                case 'h':
                        list_usage(stdout);
                        return -1;
                default:
                        args_getopt_error(c, argv, longopts, err, sizeof(err));
                        return usage_error("list", err);
                }
        }
        if (optind < argc)
                return usage_errorf("list", "unexpected argument '%.64s'", argv[optind]);
        if (o->groups && (o->regex || o->kind))
                return usage_error("list", "--groups lists the whole tree: it does not combine "
                                           "with --regex or --kind");
        return 0;
}

/* One JSON object per line, as -o json prints arrays. */
static void print_json_lines(json_object **rows, size_t n)
{
        for (size_t i = 0; i < n; i++)
                printf("%s\n", json_object_to_json_string_ext(rows[i], JSON_C_TO_STRING_PLAIN));
}

static int list_groups(const struct ctl *ctl, const struct list_opts *o)
{
        _cleanup_json_ json_object *params = json_object_new_object(), *reply = NULL;
        json_object *rparams, *arr;
        size_t n;

        if (!params || json_object_object_add(params, "groups", json_object_new_boolean(1)) < 0) {
                log_error("out of memory");
                return EXIT_ERROR;
        }
        if (call_once(ctl, "io.skbtraced.List", params, &reply, &rparams) < 0)
                return EXIT_ERROR;
        arr = member(rparams, "groups", json_type_array);
        if (!arr) {
                log_error("malformed reply from skbtraced: no groups array");
                return EXIT_ERROR;
        }
        n = json_object_array_length(arr);
        if (strcmp(o->output, "json") == 0)
                for (size_t i = 0; i < n; i++)
                        print_json_lines((json_object *[]){json_object_array_get_idx(arr, i)}, 1);
        else
                list_print_groups(arr, o->verbose);
        fflush(stdout);
        fprintf(stderr, "%zu groups from %s\n", n,
                member_str(rparams, "file") ? member_str(rparams, "file") : "?");
        return EXIT_OK;
}

static int list_probes(const struct ctl *ctl, const struct list_opts *o)
{
        _cleanup_json_ json_object *params = json_object_new_object(), *reply = NULL;
        _cleanup_free_ json_object **rows = NULL;
        json_object *rparams, *probes;
        size_t n = 0, attached = 0, total;

        if (!params || (o->regex && json_object_object_add(params, "regex",
                                                           json_object_new_string(o->regex)) < 0)) {
                log_error("out of memory");
                return EXIT_ERROR;
        }
        if (call_once(ctl, "io.skbtraced.List", params, &reply, &rparams) < 0)
                return EXIT_ERROR;
        probes = member(rparams, "probes", json_type_array);
        if (!probes) {
                log_error("malformed reply from skbtraced: no probes array");
                return EXIT_ERROR;
        }
        /* --kind is applied here: the List method has no such parameter. */
        total = json_object_array_length(probes);
        rows = calloc(MAX(total, (size_t)1), sizeof(*rows));
        if (!rows) {
                log_error("out of memory");
                return EXIT_ERROR;
        }
        for (size_t i = 0; i < total; i++) {
                json_object *p = json_object_array_get_idx(probes, i);
                const char *k = member_str(p, "kind");

                if (!json_object_is_type(p, json_type_object) ||
                    (o->kind && (!k || strcmp(k, o->kind) != 0)))
                        continue;
                rows[n++] = p;
                if (json_object_get_boolean(member(p, "attached", json_type_boolean)))
                        attached++;
        }
        if (strcmp(o->output, "json") == 0)
                print_json_lines(rows, n);
        else
                list_print_table(rows, n);
        /* Flush first so the count follows the table when both go to a terminal. */
        fflush(stdout);
        fprintf(stderr, "%zu probes (%zu attached)\n", n, attached);
        return EXIT_OK;
}

int cmd_list(const struct ctl *ctl, int argc, char **argv)
{
        struct list_opts o;
        int r = list_parse(argc, argv, &o);

        if (r != 0)
                return r < 0 ? EXIT_OK : r;
        return o.groups ? list_groups(ctl, &o) : list_probes(ctl, &o);
}
