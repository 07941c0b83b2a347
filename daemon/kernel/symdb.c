// SPDX-License-Identifier: GPL-2.0-only
/* symdb.c - discover skb probe points from BTF, tracefs systems and drop reasons */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "log.h"
#include "macro.h"
#include "symdb.h"

/* BPF trampolines and raw tracepoints pass at most 12 arguments (MAX_BPF_FUNC_ARGS). */
#define SYMDB_MAX_ARGS 12
#define TP_TYPEDEF_PREFIX "btf_trace_"
#define DROP_REASON_PREFIX "SKB_DROP_REASON_"
/*
 * Core drop reasons are small and dense; anything above this is either
 * subsystem-encoded (SKB_DROP_REASON_SUBSYS_MASK is 0xffff0000) or the mask
 * itself, and would make a table indexed by value absurdly large.
 */
#define DROP_REASON_MAX_VALUE 0xffffu
/* Well-formed BTF has short modifier chains; the bound only guards against corrupt loops. */
#define MAX_MOD_DEPTH 32

static bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Follow const/volatile/restrict/type_tag/typedef to the underlying type. */
static const struct btf_type *skip_mods(const struct btf *btf, uint32_t id, uint32_t *ret_id)
{
        const struct btf_type *t = btf__type_by_id(btf, id);

        for (int depth = 0; t && (btf_is_mod(t) || btf_is_typedef(t)); depth++) {
                if (depth >= MAX_MOD_DEPTH)
                        return NULL;
                id = t->type;
                t = btf__type_by_id(btf, id);
        }
        if (ret_id)
                *ret_id = id;
        return t;
}

/* A pointer to struct NAME (const or not). */
static bool is_struct_ptr(const struct btf *btf, uint32_t type_id, const char *struct_name)
{
        const struct btf_type *t;
        const char *name;

        t = skip_mods(btf, type_id, NULL);
        if (!t || !btf_is_ptr(t))
                return false;
        t = skip_mods(btf, t->type, NULL);
        if (!t)
                return false;
        /* A forward declaration is as good as the struct: only the name identifies it. */
        if (!btf_is_struct(t) && !(btf_is_fwd(t) && !btf_kflag(t)))
                return false;
        name = btf__name_by_offset(btf, t->name_off);
        return name && strcmp(name, struct_name) == 0;
}

static bool is_void_ptr(const struct btf *btf, uint32_t type_id)
{
        const struct btf_type *t;
        uint32_t pointee;

        t = skip_mods(btf, type_id, NULL);
        if (!t || !btf_is_ptr(t))
                return false;
        return skip_mods(btf, t->type, &pointee) && pointee == 0;
}

static void sym_clear(struct skbt_sym *s)
{
        free(s->name);
        free(s->system);
        free(s->module);
        *s = (struct skbt_sym){};
}

/* Scratch list for one scan, so that a failed scan leaves the db untouched. */
struct symvec {
        struct skbt_sym *v;
        size_t n, cap;
};

static void symvec_done(struct symvec *vec)
{
        for (size_t i = 0; i < vec->n; i++)
                sym_clear(&vec->v[i]);
        free(vec->v);
        *vec = (struct symvec){};
}

/*
 * Look at a FUNC_PROTO's parameters from index first (1 for tracepoints,
 * whose first parameter is the ctx) and add a symbol when one of them is
 * an skb pointer.  Returns 0 when added or skipped, negative errno on
 * allocation failure.
 */
static int add_candidate(struct symvec *vec, const struct btf *btf, const struct btf_type *proto,
                         unsigned int first, const char *name, uint32_t btf_id, uint8_t kind,
                         const char *module)
{
        const struct btf_param *params = btf_params(proto);
        unsigned int vlen = btf_vlen(proto);
        struct skbt_sym *s;
        int skb_arg = -1, sk_arg = -1;

        if (vlen < first)
                return 0;
        /* Variadic: the last "parameter" is an unnamed void; trampolines cannot model it. */
        if (vlen > 0 && params[vlen - 1].type == 0)
                return 0;
        if (vlen - first > SYMDB_MAX_ARGS)
                return 0;
        for (unsigned int i = first; i < vlen && (skb_arg < 0 || sk_arg < 0); i++) {
                if (skb_arg < 0 && is_struct_ptr(btf, params[i].type, "sk_buff"))
                        skb_arg = i - first;
                else if (sk_arg < 0 && is_struct_ptr(btf, params[i].type, "sock"))
                        sk_arg = i - first;
        }
        if (skb_arg < 0)
                return 0;

        if (vec->n == vec->cap) {
                size_t cap = vec->cap ? vec->cap * 2 : 256;
                struct skbt_sym *v = reallocarray(vec->v, cap, sizeof(*v));

                if (!v)
                        return -ENOMEM;
                vec->v = v;
                vec->cap = cap;
        }
        s = &vec->v[vec->n];
        *s = (struct skbt_sym){
            .btf_id = btf_id,
            .kind = kind,
            .skb_arg = skb_arg,
            .sk_arg1 = (uint8_t)(sk_arg + 1),
            .nr_args = vlen - first,
            .returns_value = proto->type != 0,
        };
        s->name = strdup(name);
        s->module = module ? strdup(module) : NULL;
        if (!s->name || (module && !s->module)) {
                sym_clear(s);
                return -ENOMEM;
        }
        vec->n++;
        return 0;
}

static int cmp_sym_ptr_kind_name_id(const void *a, const void *b)
{
        const struct skbt_sym *x = *(const struct skbt_sym *const *)a;
        const struct skbt_sym *y = *(const struct skbt_sym *const *)b;
        int r;

        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        r = strcmp(x->name, y->name);
        if (r)
                return r;
        return x->btf_id < y->btf_id ? -1 : x->btf_id > y->btf_id;
}

/*
 * pahole can emit several FUNCs of one name (static functions in different
 * files); attaching goes by name, so only the first (lowest id) is usable.
 */
static int symvec_dedup(struct symvec *vec)
{
        _cleanup_free_ struct skbt_sym **order = NULL;
        size_t n = 0;

        if (vec->n < 2)
                return 0;
        order = reallocarray(NULL, vec->n, sizeof(*order));
        if (!order)
                return -ENOMEM;
        for (size_t i = 0; i < vec->n; i++)
                order[i] = &vec->v[i];
        qsort(order, vec->n, sizeof(*order), cmp_sym_ptr_kind_name_id);
        for (size_t i = 1; i < vec->n; i++)
                if (order[i]->kind == order[i - 1]->kind &&
                    strcmp(order[i]->name, order[i - 1]->name) == 0)
                        order[i]->btf_id = 0; /* mark: valid ids are never 0 */
        /* Compact in place, keeping BTF order. */
        for (size_t i = 0; i < vec->n; i++) {
                if (vec->v[i].btf_id == 0) {
                        sym_clear(&vec->v[i]);
                        continue;
                }
                vec->v[n++] = vec->v[i];
        }
        vec->n = n;
        return 0;
}

int skbt_symdb_scan_btf(struct skbt_symdb *db, const struct btf *btf, const char *module)
{
        _cleanup_(symvec_done) struct symvec vec = {};
        const struct btf *base = btf__base_btf(btf);
        uint32_t n = btf__type_cnt(btf);
        struct skbt_sym *syms;
        int r;

        /* Split (module) BTF also answers for its base's ids; those belong to vmlinux. */
        for (uint32_t id = base ? btf__type_cnt(base) : 1; id < n; id++) {
                const struct btf_type *t = btf__type_by_id(btf, id), *proto;
                const char *name;

                if (!t)
                        continue;
                if (btf_is_func(t)) {
                        proto = btf__type_by_id(btf, t->type);
                        if (!proto || !btf_is_func_proto(proto))
                                continue;
                        name = btf__name_by_offset(btf, t->name_off);
                        if (!name || !*name)
                                continue;
                        r = add_candidate(&vec, btf, proto, 0, name, id, SKBT_SYM_FUNCTION, module);
                } else if (btf_is_typedef(t)) {
                        /* typedef void (*btf_trace_NAME)(void *__data, proto...); */
                        name = btf__name_by_offset(btf, t->name_off);
                        if (!name || !startswith(name, TP_TYPEDEF_PREFIX) ||
                            !name[strlen(TP_TYPEDEF_PREFIX)])
                                continue;
                        proto = skip_mods(btf, t->type, NULL);
                        if (!proto || !btf_is_ptr(proto))
                                continue;
                        proto = skip_mods(btf, proto->type, NULL);
                        if (!proto || !btf_is_func_proto(proto) || btf_vlen(proto) < 1 ||
                            !is_void_ptr(btf, btf_params(proto)[0].type))
                                continue;
                        r = add_candidate(&vec, btf, proto, 1, name + strlen(TP_TYPEDEF_PREFIX), id,
                                          SKBT_SYM_TRACEPOINT, module);
                } else
                        continue;
                if (r < 0)
                        return r;
        }

        r = symvec_dedup(&vec);
        if (r < 0)
                return r;
        if (vec.n == 0)
                return 0;
        syms = reallocarray(db->syms, db->n_syms + vec.n, sizeof(*syms));
        if (!syms)
                return -ENOMEM;
        db->syms = syms;
        memcpy(db->syms + db->n_syms, vec.v, vec.n * sizeof(*vec.v));
        db->n_syms += vec.n;
        vec.n = 0; /* ownership of the strings moved to db */
        return 0;
}

void skbt_symdb_done(struct skbt_symdb *db)
{
        if (!db)
                return;
        for (size_t i = 0; i < db->n_syms; i++)
                sym_clear(&db->syms[i]);
        free(db->syms);
        *db = (struct skbt_symdb){};
}

static int strcmp_null_first(const char *a, const char *b)
{
        if (!a || !b)
                return !!a - !!b;
        return strcmp(a, b);
}

static int cmp_sym(const void *a, const void *b)
{
        const struct skbt_sym *x = a, *y = b;
        int r;

        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        r = strcmp(x->name, y->name);
        if (r)
                return r;
        r = strcmp_null_first(x->module, y->module);
        if (r)
                return r;
        return x->btf_id < y->btf_id ? -1 : x->btf_id > y->btf_id;
}

void skbt_symdb_sort(struct skbt_symdb *db)
{
        if (db->n_syms > 1)
                qsort(db->syms, db->n_syms, sizeof(*db->syms), cmp_sym);
}

static int cmp_sym_ptr_name(const void *a, const void *b)
{
        const struct skbt_sym *x = *(const struct skbt_sym *const *)a;
        const struct skbt_sym *y = *(const struct skbt_sym *const *)b;

        return strcmp(x->name, y->name);
}

/* First index in the name-sorted index whose name is >= name. */
static size_t index_lower_bound(struct skbt_sym **index, size_t n, const char *name)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(index[mid]->name, name) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static void free_dirents(struct dirent **list, int n)
{
        for (int i = 0; i < n; i++)
                free(list[i]);
        free(list);
}

/* Give every still system-less tracepoint in the index that has an event in dir_fd the system. */
static int fill_from_system(struct skbt_sym **index, size_t n_index, int events_fd,
                            const char *system)
{
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        struct dirent *de;
        int r = 0;

        fd = openat(events_fd, system, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                /* Plain files ("enable", "header_page") live next to the system directories. */
                if (errno != ENOTDIR)
                        log_debug_errno(errno, "Cannot open tracefs system %s: %m, ignoring",
                                        system);
                return 0;
        }
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        TAKE_FD(fd); /* owned by d now */

        while ((errno = 0, de = readdir(d))) {
                size_t i;

                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                for (i = index_lower_bound(index, n_index, de->d_name);
                     i < n_index && strcmp(index[i]->name, de->d_name) == 0; i++) {
                        if (index[i]->system)
                                continue;
                        index[i]->system = strdup(system);
                        if (!index[i]->system) {
                                r = -ENOMEM;
                                goto out;
                        }
                }
        }
        if (errno)
                r = negative_errno();
out:
        closedir(d);
        return r;
}

int skbt_symdb_fill_systems(struct skbt_symdb *db, const char *tracefs_dir)
{
        _cleanup_free_ struct skbt_sym **index = NULL;
        _cleanup_free_ char *events = NULL;
        _cleanup_close_ int events_fd = -EBADF;
        struct dirent **systems = NULL;
        size_t n_index = 0;
        int n_systems, r = 0;

        if (asprintf(&events, "%s/events", tracefs_dir) < 0)
                return -ENOMEM;
        events_fd = open(events, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (events_fd < 0)
                return negative_errno();

        index = reallocarray(NULL, db->n_syms ? db->n_syms : 1, sizeof(*index));
        if (!index)
                return -ENOMEM;
        for (size_t i = 0; i < db->n_syms; i++)
                if (db->syms[i].kind == SKBT_SYM_TRACEPOINT && !db->syms[i].system)
                        index[n_index++] = &db->syms[i];
        if (n_index == 0)
                return 0;
        qsort(index, n_index, sizeof(*index), cmp_sym_ptr_name);

        /* Sorted, so that a name present in several systems deterministically gets the first. */
        n_systems = scandir(events, &systems, NULL, alphasort);
        if (n_systems < 0)
                return negative_errno();
        for (int i = 0; i < n_systems && r >= 0; i++) {
                if (systems[i]->d_name[0] == '.')
                        continue;
                r = fill_from_system(index, n_index, events_fd, systems[i]->d_name);
        }
        free_dirents(systems, n_systems);
        return r;
}

/* Value of enum entry i, widened so that negative (signed) values land out of range. */
static uint64_t enum_value(const struct btf *btf, const struct btf_type *t, unsigned int i,
                           const char **ret_name)
{
        if (btf_is_enum64(t)) {
                const struct btf_enum64 *e = btf_enum64(t) + i;

                *ret_name = btf__name_by_offset(btf, e->name_off);
                return btf_enum64_value(e);
        }
        *ret_name = btf__name_by_offset(btf, btf_enum(t)[i].name_off);
        return (uint32_t)btf_enum(t)[i].val;
}

static bool drop_reason_usable(const char *name, uint64_t value)
{
        /* SKB_DROP_REASON_MAX counts the reasons; it is not one. */
        return name && *name && value <= DROP_REASON_MAX_VALUE &&
               strcmp(name, DROP_REASON_PREFIX "MAX") != 0;
}

int skbt_drop_reasons_load(const struct btf *btf, char ***ret_names, uint32_t *ret_n)
{
        const struct btf_type *t;
        char **names;
        uint32_t n = 0;
        unsigned int vlen;
        int id;

        /* pahole emits ENUM64 (kernel 6.0+) once values need 64 bits: accept both forms. */
        id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
        if (id < 0)
                id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM64);
        if (id < 0)
                return -ENOENT;
        t = btf__type_by_id(btf, id);
        if (!t)
                return -ENOENT;
        vlen = btf_vlen(t);

        for (unsigned int i = 0; i < vlen; i++) {
                const char *name;
                uint64_t v = enum_value(btf, t, i, &name);

                if (drop_reason_usable(name, v) && v + 1 > n)
                        n = v + 1;
        }
        names = calloc(n ? n : 1, sizeof(*names));
        if (!names)
                return -ENOMEM;
        for (unsigned int i = 0; i < vlen; i++) {
                const char *name;
                uint64_t v = enum_value(btf, t, i, &name);

                /* Aliases share a value; the first name is the canonical one. */
                if (!drop_reason_usable(name, v) || names[v])
                        continue;
                if (startswith(name, DROP_REASON_PREFIX) && name[strlen(DROP_REASON_PREFIX)])
                        name += strlen(DROP_REASON_PREFIX);
                names[v] = strdup(name);
                if (!names[v]) {
                        skbt_drop_reasons_free(names, n);
                        return -ENOMEM;
                }
        }
        *ret_names = names;
        *ret_n = n;
        return 0;
}

void skbt_drop_reasons_free(char **names, uint32_t n)
{
        if (!names)
                return;
        for (uint32_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

void skbt_btf_foreach_module(const struct btf *vmlinux, const char *name_part,
                             void (*cb)(const struct btf *btf, const char *module, void *data),
                             void *data)
{
        _cleanup_(closedirp) DIR *dir = opendir("/sys/kernel/btf");
        struct dirent *de;

        while (dir && (de = readdir(dir))) {
                char path[PATH_MAX];
                struct btf *mbtf;

                if (de->d_name[0] == '.' || strcmp(de->d_name, "vmlinux") == 0 ||
                    (name_part && !strstr(de->d_name, name_part)))
                        continue;
                snprintf(path, sizeof(path), "/sys/kernel/btf/%s", de->d_name);
                mbtf = btf__parse_split(path, (struct btf *)vmlinux);
                if (!mbtf) {
                        log_debug_errno(errno, "cannot parse BTF of module %s, ignoring: %m",
                                        de->d_name);
                        continue;
                }
                cb(mbtf, de->d_name, data);
                btf__free(mbtf);
        }
}
