/* SPDX-License-Identifier: GPL-2.0-only */
/* loader.c - load the BPF programs once and attach them to every skb probe */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>

#include "loader-internal.h"
#include "loader.h"
#include "log.h"
#include "skbtrace.skel.h"
#include "symdb.h"
#include "tp_links.h"

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int skbt_stamp_probe_id(const void *insns, size_t n_insns, uint64_t stamp, void **ret)
{
        struct bpf_insn *copy;
        size_t i, found = 0;

        copy = malloc(n_insns * sizeof(*copy));
        if (!copy)
                return -ENOMEM;
        memcpy(copy, insns, n_insns * sizeof(*copy));
        for (i = 0; i + 1 < n_insns; i++) {
                if (copy[i].code != (BPF_LD | BPF_DW | BPF_IMM) || copy[i].src_reg != 0)
                        continue;
                if ((uint32_t)copy[i].imm == SKBT_PROBE_ID_MARKER && copy[i + 1].imm == 0) {
                        copy[i].imm = (int32_t)(uint32_t)stamp;
                        copy[i + 1].imm = (int32_t)(uint32_t)(stamp >> 32);
                        found++;
                }
                i++; /* ld_imm64 takes two slots */
        }
        if (found == 0) {
                free(copy);
                return -ENOENT;
        }
        *ret = copy;
        return 0;
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
            .link_fd = -1,
            .ret_link_fd = -1,
            .ret_id = SKBT_NO_PROBE,
            .entry_id = SKBT_NO_PROBE,
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
        l->n_skipped++;
        log_debug("probe %s skipped: %s", p->name, buf);
}

/*
 * The BPF-to-BPF call targets a program may have: every function in the
 * object's .text, with its BTF FUNC and its opcodes.  libbpf appends the
 * subprograms a program calls after its own code, in an order that depends
 * on the call graph, and does not say which is where; the ELF symbol table
 * of the object (embedded in the skeleton) does, and a subprogram is then
 * recognised in a program by its length and opcodes (relocations change
 * immediates and offsets, never opcodes).
 */
static void subprogs_free(struct skbt_loader *l)
{
        for (uint32_t i = 0; i < l->n_subprogs; i++)
                free(l->subprogs[i].codes);
        free(l->subprogs);
        l->subprogs = NULL;
        l->n_subprogs = 0;
}

static int subprogs_load(struct skbt_loader *l)
{
        const struct btf *btf = bpf_object__btf(l->skel->obj);
        _cleanup_free_ char *image = NULL;
        const void *bytes;
        Elf_Data *text = NULL, *syms = NULL;
        Elf_Scn *scn = NULL;
        size_t size, text_idx = 0, strtab = 0, n_syms = 0, shstrndx;
        Elf *elf;
        int r = 0;

        if (l->subprogs || !btf)
                return btf ? 0 : -ENOENT;
        bytes = skbtrace__elf_bytes(&size);
        image = malloc(size);
        if (!image)
                return -ENOMEM;
        memcpy(image, bytes, size);
        if (elf_version(EV_CURRENT) == EV_NONE)
                return -EINVAL;
        elf = elf_memory(image, size);
        if (!elf)
                return -EINVAL;
        if (elf_getshdrstrndx(elf, &shstrndx) < 0) {
                elf_end(elf);
                return -EINVAL;
        }
        while ((scn = elf_nextscn(elf, scn))) {
                GElf_Shdr sh;
                const char *name;

                if (!gelf_getshdr(scn, &sh))
                        continue;
                name = elf_strptr(elf, shstrndx, sh.sh_name);
                if (!name)
                        continue;
                if (sh.sh_type == SHT_SYMTAB) {
                        syms = elf_getdata(scn, NULL);
                        strtab = sh.sh_link;
                        n_syms = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
                } else if (strcmp(name, ".text") == 0) {
                        text = elf_getdata(scn, NULL);
                        text_idx = elf_ndxscn(scn);
                }
        }
        if (!syms || !text || !text->d_buf) {
                /* No subprograms at all. */
                elf_end(elf);
                return 0;
        }
        for (size_t i = 0; i < n_syms; i++) {
                struct skbt_subprog *sp, *nsp;
                const char *name;
                GElf_Sym sym;
                int id;

                if (!gelf_getsym(syms, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
                    sym.st_shndx != text_idx || sym.st_size == 0)
                        continue;
                if (sym.st_value + sym.st_size > text->d_size)
                        continue;
                name = elf_strptr(elf, strtab, sym.st_name);
                id = name ? btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) : -ENOENT;
                if (id < 0)
                        continue;
                nsp = reallocarray(l->subprogs, l->n_subprogs + 1, sizeof(*nsp));
                if (!nsp) {
                        r = -ENOMEM;
                        break;
                }
                l->subprogs = nsp;
                sp = &l->subprogs[l->n_subprogs];
                sp->btf_id = (uint32_t)id;
                sp->n = (uint32_t)(sym.st_size / sizeof(struct bpf_insn));
                sp->codes = malloc(sp->n);
                if (!sp->codes) {
                        r = -ENOMEM;
                        break;
                }
                for (uint32_t k = 0; k < sp->n; k++)
                        sp->codes[k] =
                            ((const struct bpf_insn *)((const char *)text->d_buf + sym.st_value))[k]
                                .code;
                l->n_subprogs++;
        }
        elf_end(elf);
        return r;
}

/* The BTF FUNC of the subprogram at insns[off..end), or -ENOENT. */
static int subprog_btf_id(const struct skbt_loader *l, const struct bpf_insn *insns, size_t off,
                          size_t end)
{
        int by_len = -ENOENT, n_by_len = 0;

        for (uint32_t i = 0; i < l->n_subprogs; i++) {
                const struct skbt_subprog *sp = &l->subprogs[i];
                bool same = true;

                if (sp->n != end - off)
                        continue;
                by_len = (int)sp->btf_id;
                n_by_len++;
                for (uint32_t k = 0; k < sp->n && same; k++)
                        same = insns[off + k].code == sp->codes[k];
                if (same)
                        return (int)sp->btf_id;
        }
        /* A CO-RE relocation libbpf had to poison changes an opcode; the length still tells. */
        return n_by_len == 1 ? by_len : -ENOENT;
}

/*
 * BTF func_info for a program's final instructions: the entry point at 0 and
 * every subprogram that a BPF-to-BPF call targets.  We cannot reuse what the
 * kernel reports for the template: there the stamped marker id makes the
 * body dead code, and the verifier drops the dead subprograms from it.
 */
static int build_func_info(struct skbt_loader *l, struct bpf_program *tmpl,
                           struct bpf_func_info **ret, uint32_t *ret_cnt)
{
        const struct bpf_insn *insns = bpf_program__insns(tmpl);
        size_t n = bpf_program__insn_cnt(tmpl);
        const struct btf *btf = bpf_object__btf(l->skel->obj);
        _cleanup_free_ struct bpf_func_info *fi = NULL;
        uint32_t cnt = 0;
        int id, r;

        if (!btf)
                return -ENOENT;
        r = subprogs_load(l);
        if (r < 0)
                return r;
        /* At most one record per call instruction, plus the entry point. */
        fi = calloc(n + 1, sizeof(*fi));
        if (!fi)
                return -ENOMEM;
        id = btf__find_by_name_kind(btf, bpf_program__name(tmpl), BTF_KIND_FUNC);
        if (id < 0)
                return id;
        fi[cnt++] = (struct bpf_func_info){.insn_off = 0, .type_id = (uint32_t)id};
        for (size_t i = 0; i < n; i++) {
                size_t target;
                bool seen = false;

                if (insns[i].code != (BPF_JMP | BPF_CALL) || insns[i].src_reg != BPF_PSEUDO_CALL)
                        continue;
                target = (size_t)((long)i + insns[i].imm + 1);
                for (uint32_t k = 0; k < cnt; k++)
                        if (fi[k].insn_off == target)
                                seen = true;
                if (!seen)
                        fi[cnt++] = (struct bpf_func_info){.insn_off = (uint32_t)target};
        }
        /* The kernel wants records sorted by instruction offset. */
        for (uint32_t a = 1; a < cnt; a++)
                for (uint32_t b = a; b > 0 && fi[b - 1].insn_off > fi[b].insn_off; b--) {
                        struct bpf_func_info tmp = fi[b];

                        fi[b] = fi[b - 1];
                        fi[b - 1] = tmp;
                }
        /* Each subprogram runs up to the next one (libbpf appends them back to back). */
        for (uint32_t a = 1; a < cnt; a++) {
                size_t end = a + 1 < cnt ? fi[a + 1].insn_off : n;

                id = subprog_btf_id(l, insns, fi[a].insn_off, end);
                if (id < 0) {
                        log_debug("%s: no function of the object matches the subprogram at "
                                  "instruction %u",
                                  bpf_program__name(tmpl), fi[a].insn_off);
                        return id;
                }
                fi[a].type_id = (uint32_t)id;
        }
        *ret = TAKE_PTR(fi);
        *ret_cnt = cnt;
        return 0;
}

/* Load a stamped copy of a template, with the BTF the verifier needs for
 * the global filter function (checked once on its own, which keeps
 * verification of the body small). */
int skbt_load_stamped(struct skbt_loader *l, struct bpf_program *tmpl, enum bpf_prog_type type,
                      const char *name, const void *insns, uint32_t attach_btf_id,
                      int attach_btf_obj_fd)
{
        _cleanup_free_ struct bpf_func_info *fi = NULL;
        uint32_t cnt = 0;
        int r;

        r = build_func_info(l, tmpl, &fi, &cnt);
        if (r < 0)
                return r;
        LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_btf_fd = bpf_object__btf_fd(l->skel->obj),
                    .func_info = fi, .func_info_cnt = cnt,
                    .func_info_rec_size = sizeof(struct bpf_func_info),
                    .expected_attach_type = bpf_program__expected_attach_type(tmpl),
                    .attach_btf_id = attach_btf_id, .attach_btf_obj_fd = attach_btf_obj_fd);
        r = bpf_prog_load(type, name, "GPL", insns, bpf_program__insn_cnt(tmpl), &opts);
        if (r < 0) {
                /* Load again for the verifier's statistics, so the reason is visible;
                 * SKBTRACED_VERIFIER_LOG=1 asks for the full log's tail (debugging). */
                bool full = getenv("SKBTRACED_VERIFIER_LOG") != NULL;
                size_t size = full ? (64u << 20) : 4096;
                _cleanup_free_ char *log = calloc(1, size);
                int e = errno;

                if (!log)
                        return -e;
                opts.log_buf = log;
                opts.log_size = (uint32_t)size;
                opts.log_level = full ? 1 : 4;
                r = bpf_prog_load(type, name, "GPL", insns, bpf_program__insn_cnt(tmpl), &opts);
                if (r >= 0)
                        return r; /* a transient failure */
                log_debug("verifier on %s: ...%s", name,
                          log + (strlen(log) > (full ? 1900 : 300)
                                     ? strlen(log) - (full ? 1900 : 300)
                                     : 0));
                /* SKBTRACED_VERIFIER_LOG=/path: the whole log of the first failure there. */
                if (full && getenv("SKBTRACED_VERIFIER_LOG")[0] == '/') {
                        FILE *f = fopen(getenv("SKBTRACED_VERIFIER_LOG"), "wx");

                        if (f) {
                                fputs(log, f);
                                fclose(f);
                        }
                }
                return -e;
        }
        return r;
}

/* kfree_skb carries (skb, location, reason) since 5.17: the drop tracer's template. */
static bool tp_is_drop(const struct skbt_sym *s)
{
        return strcmp(s->name, "kfree_skb") == 0 && s->skb_arg == 0 && s->nr_args >= 3;
}

/*
 * The template that serves a tracepoint, or NULL if none fits: the tp_btf
 * flavour if btf (plain loads of the skb's fields), else raw_tp.
 */
static struct bpf_program *tp_template(struct skbtrace *skel, const struct skbt_sym *s, bool btf)
{
        if (tp_is_drop(s))
                return btf ? skel->progs.skbt_tpbtf_kfree_skb : skel->progs.skbt_tp_kfree_skb;
        switch (s->skb_arg) {
        case 0:
                return btf ? skel->progs.skbt_tpbtf_arg0 : skel->progs.skbt_tp_arg0;
        case 1:
                return btf ? skel->progs.skbt_tpbtf_arg1 : skel->progs.skbt_tp_arg1;
        case 2:
                return btf ? skel->progs.skbt_tpbtf_arg2 : skel->progs.skbt_tp_arg2;
        case 3:
                return btf ? skel->progs.skbt_tpbtf_arg3 : skel->progs.skbt_tp_arg3;
        case 4:
                return btf ? skel->progs.skbt_tpbtf_arg4 : skel->progs.skbt_tp_arg4;
        default:
                return NULL;
        }
}

/*
 * Give each tp_btf template, before the object's load, a vmlinux tracepoint
 * whose skb is at the template's position: the verifier types the template's
 * ctx[pos] from that prototype.  A template with no such tracepoint is not
 * loaded, and its position falls back to raw_tp.
 */
static void tpbtf_set_targets(struct skbtrace *skel, const struct skbt_symdb *db)
{
        struct bpf_program *p;

        bpf_object__for_each_program (p, skel->obj) {
                const char *target = NULL;

                if (strncmp(bpf_program__name(p), "skbt_tpbtf_", 11) != 0 ||
                    !bpf_program__autoload(p))
                        continue;
                for (size_t i = 0; i < db->n_syms && !target; i++) {
                        const struct skbt_sym *s = &db->syms[i];

                        if (s->kind == SKBT_SYM_TRACEPOINT && !s->module &&
                            tp_template(skel, s, true) == p)
                                target = s->name;
                }
                if (!target || bpf_program__set_attach_target(p, 0, target) < 0)
                        bpf_program__set_autoload(p, false);
        }
}

/*
 * Load a stamped copy of a tracepoint template: tp_btf if it can, else
 * raw_tp.  Returns the program fd, or negative errno with *what saying
 * which step failed.
 */
static int load_tracepoint(struct skbt_loader *l, const struct skbt_sym *s, uint64_t stamp,
                           const char *prog_name, bool *btf, const char **what)
{
        int r = -ENOENT;

        *what = "no template loaded for that argument position";

        for (int flavour = 1; flavour >= 0; flavour--) {
                struct bpf_program *tmpl;
                _cleanup_free_ void *insns = NULL;

                *btf = flavour;
                /* Module tracepoints would need their module's BTF fd as the target's. */
                if (*btf && (!l->tp_btf || s->module))
                        continue;
                tmpl = tp_template(l->skel, s, *btf);
                if (!tmpl || !bpf_program__autoload(tmpl))
                        continue;
                r = skbt_stamp_probe_id(bpf_program__insns(tmpl), bpf_program__insn_cnt(tmpl),
                                        stamp, &insns);
                if (r < 0) {
                        *what = "probe id marker missing in template";
                        return r;
                }
                *what = "load failed";
                if (*btf)
                        r = skbt_load_stamped(l, tmpl, BPF_PROG_TYPE_TRACING, prog_name, insns,
                                              s->btf_id, 0);
                else
                        r = skbt_load_stamped(l, tmpl, BPF_PROG_TYPE_RAW_TRACEPOINT, prog_name,
                                              insns, 0, 0);
                if (r >= 0 || !*btf)
                        return r;
                log_debug_errno(r, "tracepoint %s: tp_btf load failed (%m), trying raw_tp",
                                s->name);
        }
        return r;
}

static void attach_tracepoint(struct skbt_loader *l, const struct skbt_sym *s,
                              const struct skbt_loader_opts *opts)
{
        struct skbt_probe *p;
        char name[256], prog_name[16];
        const char *what;
        bool btf;
        int id, r;

        if (s->system)
                snprintf(name, sizeof(name), "%s:%s", s->system, s->name);
        else
                snprintf(name, sizeof(name), "tp:%s", s->name);
        /* --probes matches the name users see, "skb:kfree_skb". */
        if (!skbt_probe_wanted(opts, name))
                return;
        id = skbt_probe_add(l, name, SKBT_PROBE_TRACEPOINT, s->skb_arg, tp_is_drop(s));
        if (id < 0) {
                log_warning_errno(id, "cannot record probe %s, ignoring: %m", name);
                return;
        }
        p = &l->probes[id];
        if (!tp_template(l->skel, s, false)) {
                skbt_probe_fail(l, p, "skb is argument %u: no entry point for that position",
                                s->skb_arg + 1);
                return;
        }
        snprintf(prog_name, sizeof(prog_name), "skbt_tp_%u", (unsigned)id & 0xffffu);
        r = load_tracepoint(l, s, (uint64_t)id | (uint64_t)p->life << 32, prog_name, &btf, &what);
        if (r < 0) {
                skbt_probe_fail(l, p, "%s: %s", what, strerror(-r));
                return;
        }
        p->prog_fd = r;
        p->tp_btf = btf;
        p->tp_name = strdup(s->name);
        r = p->tp_name ? skbt_tp_link_open(p) : -ENOMEM;
        if (r < 0) {
                skbt_probe_fail(l, p, "attach failed: %s", strerror(-r));
                p->prog_fd = safe_close(p->prog_fd);
                return;
        }
        p->link_fd = r;
        p->attached = true;
        /* prog_fd stays open: idle_detach.c closes the link while no session runs and
         * opens it again from the loaded program. */
        l->n_attached++;
        if (btf)
                l->n_tp_btf++;
}

struct skbt_loader *skbt_loader_free(struct skbt_loader *l)
{
        if (!l)
                return NULL;
        skbt_functions_detach(l);
        for (uint32_t i = 0; i < l->n_probes; i++) {
                bpf_link__destroy(l->probes[i].link);
                safe_close(l->probes[i].link_fd);
                safe_close(l->probes[i].ret_link_fd);
                safe_close(l->probes[i].prog_fd);
                free(l->probes[i].name);
                free(l->probes[i].tp_name);
                free(l->probes[i].error);
        }
        free(l->probes);
        subprogs_free(l);
        skbtrace__destroy(l->skel);
        free(l);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct skbt_loader *, skbt_loader_free);

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
        if (ksyms && skbt_ksyms_addresses_visible(ksyms) && !skbt_ksyms_lookup(ksyms, s->name))
                snprintf(buf, sizeof(buf),
                         "not in /proc/kallsyms (inlined or renamed by the "
                         "compiler): cannot be attached");
        else
                snprintf(buf, sizeof(buf), "%s", why);
        p->error = strdup(buf);
        l->n_unsupported++;
}

/* Load only the templates the chosen backend uses: on a kernel where, say,
 * fentry is refused, loading its template would fail the whole object. */
static void set_autoload(struct skbtrace *skel, enum skbt_backend backend, bool nf, bool btf)
{
        struct bpf_program *p;

        bpf_object__for_each_program (p, skel->obj) {
                const char *n = bpf_program__name(p);
                bool on;

                if (strncmp(n, "skbt_tp_", 8) == 0)
                        on = true;
                else if (strncmp(n, "skbt_tpbtf_", 11) == 0)
                        on = btf;
                /* Netfilter verdicts: the same attach type as the function probes. */
                else if (strcmp(n, "skbt_nf_fentry") == 0 || strcmp(n, "skbt_nf_fexit") == 0)
                        on = nf && backend == SKBT_BACKEND_FENTRY;
                else if (strncmp(n, "skbt_nf_kmulti", 14) == 0)
                        on = nf && backend == SKBT_BACKEND_KPROBE_MULTI;
                else if (strcmp(n, "skbt_nf_kprobe") == 0 || strcmp(n, "skbt_nf_kretprobe") == 0)
                        on = nf && backend == SKBT_BACKEND_KPROBE;
                else if (strcmp(n, "skbt_fentry") == 0)
                        on = backend == SKBT_BACKEND_FENTRY;
                /* Return templates even without function_graph: copy functions'
                 * returns link copies to the packets --track follows. */
                else if (strcmp(n, "skbt_fexit") == 0)
                        on = backend == SKBT_BACKEND_FENTRY;
                else if (strcmp(n, "skbt_kmulti_ret") == 0)
                        on = backend == SKBT_BACKEND_KPROBE_MULTI;
                else if (strncmp(n, "skbt_kmulti_", 12) == 0)
                        on = backend == SKBT_BACKEND_KPROBE_MULTI;
                else if (strcmp(n, "skbt_kretprobe") == 0)
                        on = backend == SKBT_BACKEND_KPROBE;
                else if (strncmp(n, "skbt_kprobe_", 12) == 0)
                        on = backend == SKBT_BACKEND_KPROBE;
                else
                        on = false;
                bpf_program__set_autoload(p, on);
        }
}

/*
 * Load the templates.  SKBTRACED_VERIFIER_LOG (debugging) gives every
 * program a big verifier log and shows the end of the failing one's:
 * libbpf's own report is cut after its first few kilobytes, where the
 * reason is never found.  "stats": the error and the statistics only (the
 * full log of a big program overflows any buffer on older kernels, which
 * keep its start); anything else: the full log.
 */
static int load_skeleton(struct skbtrace *skel)
{
        const size_t size = 64u << 20;
        _cleanup_free_ char *log = NULL;
        struct bpf_program *p;
        int r;

        if (!getenv("SKBTRACED_VERIFIER_LOG"))
                return skbtrace__load(skel);
        log = calloc(1, size);
        if (!log)
                return -ENOMEM;
        bpf_object__for_each_program (p, skel->obj) {
                bpf_program__set_log_buf(p, log, size);
                bpf_program__set_log_level(
                    p, strcmp(getenv("SKBTRACED_VERIFIER_LOG"), "stats") == 0 ? 4 : 1);
                /* one file per failing load is enough; see below */
        }
        r = skbtrace__load(skel);
        if (r < 0) {
                const char *path = getenv("SKBTRACED_VERIFIER_LOG");
                size_t n = strlen(log);
                FILE *f;

                log_error("verifier log (end): ...%s", log + (n > 4000 ? n - 4000 : 0));
                /* A path: the whole log goes there. */
                if (path[0] == '/' && (f = fopen(path, "we"))) {
                        fwrite(log, 1, n, f);
                        fclose(f);
                }
        }
        return r;
}

/*
 * Open the object and load the templates for nf (verdict programs) and btf
 * (tp_btf tracepoint programs).  A load the kernel refuses returns its
 * negative errno with *refused set and is logged at debug level only: the
 * caller decides whether to try with fewer programs.  Anything else is
 * logged here.
 */
static int open_and_load(struct skbt_loader *l, const struct skbt_symdb *db,
                         const struct skbt_loader_opts *opts, bool nf, bool btf, bool *refused)
{
        int r;

        *refused = false;
        l->skel = skbtrace__open();
        if (!l->skel)
                return log_error_errno(negative_errno(), "cannot open BPF object: %m");
        r = bpf_map__set_max_entries(l->skel->maps.events, opts->ringbuf_bytes);
        if (r < 0)
                return log_error_errno(r, "cannot size ring buffer to %u bytes: %m",
                                       opts->ringbuf_bytes);
        set_autoload(l->skel, l->backend, nf, btf);
        if (btf)
                tpbtf_set_targets(l->skel, db);
        r = load_skeleton(l->skel);
        if (r < 0) {
                *refused = true;
                return log_debug_errno(r,
                                       "cannot load BPF programs (verdict programs: %s, "
                                       "tracepoint programs: %s): %m",
                                       nf ? "yes" : "no", btf ? "tp_btf" : "raw_tp");
        }
        l->tp_btf = btf;
        l->nf_loaded = nf;
        return 0;
}

/*
 * tp_btf programs are an optimisation and the verdicts a detail: a kernel
 * that refuses either still traces, with raw_tp programs or without
 * verdicts.  Verdicts (what users see) are given up last.
 * SKBTRACED_NO_TP_BTF=1 forces raw_tp (tests, benchmarks).
 */
static int load_best(struct skbt_loader *l, const struct skbt_symdb *db,
                     const struct skbt_loader_opts *opts)
{
        static const struct {
                bool nf, btf;
        } tries[] = {{true, true}, {true, false}, {false, true}, {false, false}};
        const bool want_btf = !getenv("SKBTRACED_NO_TP_BTF");
        /* The verdict programs exist only on the function backends. */
        const bool want_nf = l->backend != SKBT_BACKEND_TRACEPOINT;
        bool refused = true;
        int r = -EINVAL;

        for (size_t i = 0; i < ARRAY_SIZE(tries) && refused; i++) {
                if ((tries[i].nf && !want_nf) || (tries[i].btf && !want_btf))
                        continue;
                skbtrace__destroy(l->skel);
                l->skel = NULL;
                r = open_and_load(l, db, opts, tries[i].nf, tries[i].btf, &refused);
                if (r >= 0)
                        break;
        }
        if (r < 0)
                return refused ? log_error_errno(r, "cannot load BPF programs: %m (the libbpf "
                                                    "messages above give the verifier's reasons; "
                                                    "SKBTRACED_VERIFIER_LOG=PATH keeps its whole "
                                                    "log, see skbtraced(8))")
                               : r;
        if (want_btf && !l->tp_btf)
                log_warning("the kernel refused the tp_btf tracepoint programs; using raw_tp "
                            "programs (probe reads: slower per hit)");
        if (want_nf && !l->nf_loaded)
                log_warning("the kernel refused the netfilter verdict programs; loaded the "
                            "others without them (no verdicts)");
        return 0;
}

int skbt_loader_new(const struct skbt_symdb *db, const struct skbt_ksyms *ksyms,
                    const struct skbt_loader_opts *opts, struct skbt_loader **ret)
{
        _cleanup_(skbt_loader_freep) struct skbt_loader *l = NULL;
        enum skbt_backend backend = opts->backend;
        uint64_t start = now_ns();
        int r;

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->backend = backend;
        l->returns = opts->returns && backend != SKBT_BACKEND_TRACEPOINT;
        l->ringbuf_fd = l->lost_fd = l->stats_fd = l->track_fd = l->track_head_fd = -1;
        l->probes = calloc(SKBT_MAX_PROBES, sizeof(*l->probes));
        if (!l->probes)
                return -ENOMEM;
        l->n_cpus = libbpf_num_possible_cpus();
        if (l->n_cpus <= 0)
                return log_error_errno(l->n_cpus ? l->n_cpus : -EINVAL,
                                       "cannot count possible CPUs: %m");

        r = load_best(l, db, opts);
        if (r < 0)
                return r;

        l->state = &l->skel->bss->state;
        l->probe_sessions = (uint64_t *)l->skel->bss->probe_sessions;
        l->cbpf_progs = l->skel->bss->cbpf_progs;
        l->field_table = &l->skel->bss->field_table;
        l->field_sessions = (uint64_t *)&l->skel->bss->field_sessions;
        l->snap_sessions = (uint64_t *)&l->skel->bss->snap_sessions;
        l->ct_sessions = (uint64_t *)&l->skel->bss->ct_sessions;
        l->ct_conf = &l->skel->bss->ct_conf;
        l->nf_conf = &l->skel->bss->nf_conf;
        l->ringbuf_fd = bpf_map__fd(l->skel->maps.events);
        l->lost_fd = bpf_map__fd(l->skel->maps.lost);
        l->stats_fd = bpf_map__fd(l->skel->maps.stats);
        l->track_fd = bpf_map__fd(l->skel->maps.track);
        l->track_head_fd = bpf_map__fd(l->skel->maps.track_head);
        l->state->n_cpus = (uint64_t)l->n_cpus;
        l->state->track_idle_ns = SKBT_TRACK_IDLE_NS;

        for (size_t i = 0; i < db->n_syms; i++) {
                const struct skbt_sym *s = &db->syms[i];

                if (s->kind == SKBT_SYM_TRACEPOINT)
                        attach_tracepoint(l, s, opts);
        }
        l->tp_ns = now_ns() - start;
        if (backend == SKBT_BACKEND_TRACEPOINT) {
                for (size_t i = 0; i < db->n_syms; i++) {
                        const struct skbt_sym *s = &db->syms[i];

                        if (s->kind == SKBT_SYM_FUNCTION)
                                skbt_record_function(l, s, ksyms,
                                                     "needs a function backend (fentry, "
                                                     "kprobe-multi, kprobe); none is usable "
                                                     "here, see ipftctl status");
                }
        } else {
                r = skbt_functions_attach(l, db, ksyms, opts);
                if (r < 0)
                        return r;
        }
        skbt_nf_attach(l, opts);
        l->load_ns = now_ns() - start;
        if (l->n_attached == 0)
                return log_error_errno(-ENOENT,
                                       "no probe could be attached (%u tried); see the "
                                       "messages above",
                                       l->n_probes);
        log_info("backend %s: %u probes attached (%u functions, %u returns; tracepoints: "
                 "%u tp_btf, %u raw_tp), %u skipped, in %.1f s; %u skb functions not "
                 "attachable with this backend",
                 skbt_backend_to_string(backend), l->n_attached, l->n_functions, l->n_returns,
                 l->n_tp_btf, l->n_attached - l->n_functions - l->n_returns - l->n_nf - l->n_tp_btf,
                 l->n_skipped, (double)l->load_ns / 1e9, l->n_unsupported);
        *ret = TAKE_PTR(l);
        return 0;
}

static int read_percpu_sum(const struct skbt_loader *l, int fd, uint32_t key, uint64_t *ret)
{
        uint64_t vals[l->n_cpus], sum = 0;

        if (bpf_map_lookup_elem(fd, &key, vals) < 0)
                return negative_errno();
        for (int i = 0; i < l->n_cpus; i++)
                sum += vals[i];
        *ret = sum;
        return 0;
}

int skbt_loader_read_lost(const struct skbt_loader *l, uint32_t slot, uint64_t *ret)
{
        return read_percpu_sum(l, l->lost_fd, slot, ret);
}

int skbt_loader_reset_lost(const struct skbt_loader *l, uint32_t slot)
{
        uint64_t vals[l->n_cpus];

        memset(vals, 0, sizeof(vals));
        if (bpf_map_update_elem(l->lost_fd, &slot, vals, BPF_ANY) < 0)
                return negative_errno();
        return 0;
}

int skbt_loader_read_stat(const struct skbt_loader *l, uint32_t idx, uint64_t *ret)
{
        return read_percpu_sum(l, l->stats_fd, idx, ret);
}
