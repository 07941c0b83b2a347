/* SPDX-License-Identifier: GPL-2.0-only */
/* stamped.c - the programs loaded per probe: template copies stamped with its id, with their BTF */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>

#include "backend.h"
#include "loader-internal.h"
#include "loader.h"
#include "log.h"
#include "skbtrace.skel.h"
#include "util.h"

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

/*
 * The BPF-to-BPF call targets a program may have: every function in the
 * object's .text, with its BTF FUNC and its opcodes.  libbpf appends the
 * subprograms a program calls after its own code, in an order that depends
 * on the call graph, and does not say which is where; the ELF symbol table
 * of the object (embedded in the skeleton) does, and a subprogram is then
 * recognised in a program by its length and opcodes (relocations change
 * immediates and offsets, never opcodes).
 */
void skbt_subprogs_free(struct skbt_loader *l)
{
        for (uint32_t i = 0; i < l->n_subprogs; i++)
                free(l->subprogs[i].codes);
        free(l->subprogs);
        l->subprogs = NULL;
        l->n_subprogs = 0;
}

int skbt_subprogs_load(struct skbt_loader *l)
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
        r = skbt_subprogs_load(l);
        if (r < 0)
                return r;
        /* At most one record per call or callback instruction, plus the entry point. */
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

                /* Calls, and callbacks (bpf_loop()'s: a function's address loaded). */
                if ((insns[i].code != (BPF_JMP | BPF_CALL) ||
                     insns[i].src_reg != BPF_PSEUDO_CALL) &&
                    (insns[i].code != (BPF_LD | BPF_IMM | BPF_DW) ||
                     insns[i].src_reg != BPF_PSEUDO_FUNC))
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
/*
 * Program loads are where start-up and attach time goes (each stamped copy of
 * the body is verified on its own): count them, their time and the
 * instructions the verifier went through (Status "load", docs/protocol.md).
 * Loads may run in several threads.
 */
static void count_load(struct skbt_loader *l, int fd, const char *name, uint64_t ns)
{
        struct bpf_prog_info info = {};
        __u32 len = sizeof(info);

        /* verified_insns: Linux 5.16+; 0 before. */
        if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
                info.verified_insns = 0;
        __atomic_fetch_add(&l->loads.n, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&l->loads.ns, ns, __ATOMIC_RELAXED);
        __atomic_fetch_add(&l->loads.verified_insns, info.verified_insns, __ATOMIC_RELAXED);
        log_debug("loaded %s in %.1f ms (%u instructions verified)", name, (double)ns / 1e6,
                  info.verified_insns);
}

/*
 * Why the verifier refused a program, in words an operator can act on, from
 * its log at BPF_LOG_STATS (the error line, then the statistics): "program too
 * complex for this kernel's verifier (1000001 instructions processed, limit
 * 1000000)" rather than E2BIG's "Argument list too long".
 */
void skbt_load_why(char *why, int e, const char *log)
{
        const char *processed = strstr(log, "processed ");
        char last[112] = "";
        const char *p = log;
        unsigned long long n = 0;

        /* The last line that is not a statistic: the verifier's own reason. */
        while (*p) {
                size_t len = strcspn(p, "\n");

                if (len && strncmp(p, "processed ", 10) != 0 &&
                    strncmp(p, "verification time", 17) != 0 && strncmp(p, "stack depth", 11) != 0)
                        snprintf(last, sizeof(last), "%.*s", (int)len, p);
                p += len;
                if (*p)
                        p++;
        }
        if (processed)
                n = strtoull(processed + 10, NULL, 10);
        if (e == E2BIG && n)
                snprintf(why, SKBT_WHY_MAX,
                         "load failed: program too complex for this kernel's verifier (%llu "
                         "instructions processed, its limit is 1000000)",
                         n);
        else if (last[0])
                snprintf(why, SKBT_WHY_MAX, "load failed: the verifier refused it (%s): %s",
                         strerror(e), last);
        else
                snprintf(why, SKBT_WHY_MAX, "load failed: %s", strerror(e));
}

/* The whole verifier log of a failed load, for SKBTRACED_VERIFIER_LOG=1|PATH (debugging): one
 * more verification, at log level 1. */
static void debug_log(const char *name, enum bpf_prog_type type, const void *insns, size_t n,
                      struct bpf_prog_load_opts *opts)
{
        const char *env = getenv("SKBTRACED_VERIFIER_LOG");
        size_t size = 64u << 20;
        _cleanup_free_ char *log = NULL;
        int fd;

        if (!env || strcmp(env, "stats") == 0)
                return;
        log = calloc(1, size);
        if (!log)
                return;
        opts->log_buf = log;
        opts->log_size = (uint32_t)size;
        opts->log_level = 1;
        fd = bpf_prog_load(type, name, "GPL", insns, n, opts);
        if (fd >= 0) {
                close(fd);
                return;
        }
        log_debug("verifier on %s: ...%s", name,
                  log + (strlen(log) > 1900 ? strlen(log) - 1900 : 0));
        /* SKBTRACED_VERIFIER_LOG=/path: the whole log of the first failure there. */
        if (env[0] == '/') {
                FILE *f = fopen(env, "wx");

                if (f) {
                        fputs(log, f);
                        fclose(f);
                }
        }
}

/*
 * Load a stamped copy of a template, with the BTF the verifier needs for the
 * global filter function (checked once on its own, which keeps verification of
 * the body small).  One verification, with the verifier's statistics asked
 * for (BPF_LOG_STATS prints no instruction, only the error and the counts):
 * a refused program is not verified again to learn why, which on a program
 * that hits the 1,000,000-instruction limit cost as long again (33-55 s each
 * under TCG on 6.1).
 */
static int load_stamped(struct skbt_loader *l, struct bpf_program *tmpl, enum bpf_prog_type type,
                        const char *name, const void *insns, uint32_t attach_btf_id,
                        int attach_btf_obj_fd, int attach_prog_fd, char *why)
{
        _cleanup_free_ struct bpf_func_info *fi = NULL;
        size_t n = bpf_program__insn_cnt(tmpl), size = 16384;
        _cleanup_free_ char *log = calloc(1, size);
        uint32_t cnt = 0;
        uint64_t t0;
        int r, e;

        r = build_func_info(l, tmpl, &fi, &cnt);
        if (r < 0) {
                if (why)
                        snprintf(why, SKBT_WHY_MAX, "load failed: no BTF for %s's functions: %s",
                                 name, strerror(-r));
                return r;
        }
        LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_btf_fd = bpf_object__btf_fd(l->skel->obj),
                    .func_info = fi, .func_info_cnt = cnt,
                    .func_info_rec_size = sizeof(struct bpf_func_info),
                    .expected_attach_type = bpf_program__expected_attach_type(tmpl),
                    .attach_btf_id = attach_btf_id, .attach_btf_obj_fd = attach_btf_obj_fd,
                    .attach_prog_fd = attach_prog_fd > 0 ? attach_prog_fd : 0, .log_buf = log,
                    .log_size = log ? (uint32_t)size : 0, .log_level = log ? 4 : 0);
        t0 = skbt_now_ns();
        r = bpf_prog_load(type, name, "GPL", insns, n, &opts);
        e = r < 0 ? errno : 0;
        if (r < 0 && e == ENOSPC && log) {
                /* The log filled up (it fails the load): once more without one. */
                opts.log_buf = NULL;
                opts.log_size = 0;
                opts.log_level = 0;
                log[0] = '\0';
                r = bpf_prog_load(type, name, "GPL", insns, n, &opts);
                e = r < 0 ? errno : 0;
        }
        if (r >= 0) {
                count_load(l, r, name, skbt_now_ns() - t0);
                return r;
        }
        if (why)
                skbt_load_why(why, e, log ? log : "");
        log_debug("verifier refused %s after %.1f ms: %s", name, (double)(skbt_now_ns() - t0) / 1e6,
                  log ? log : "");
        debug_log(name, type, insns, n, &opts);
        return -e;
}

int skbt_load_stamped(struct skbt_loader *l, struct bpf_program *tmpl, enum bpf_prog_type type,
                      const char *name, const void *insns, uint32_t attach_btf_id,
                      int attach_btf_obj_fd, char *why)
{
        return load_stamped(l, tmpl, type, name, insns, attach_btf_id, attach_btf_obj_fd, 0, why);
}

int skbt_load_stamped_on_prog(struct skbt_loader *l, struct bpf_program *tmpl, const char *name,
                              const void *insns, uint32_t attach_btf_id, int attach_prog_fd,
                              char *why)
{
        return load_stamped(l, tmpl, BPF_PROG_TYPE_TRACING, name, insns, attach_btf_id, 0,
                            attach_prog_fd, why);
}

int skbt_template_fd(struct skbt_loader *l, struct bpf_program *tmpl, enum bpf_prog_type type,
                     char *why)
{
        _cleanup_free_ void *insns = NULL;
        int r;

        pthread_mutex_lock(&l->tmpl_lock);
        for (uint32_t i = 0; i < l->n_tmpl_copies; i++)
                if (l->tmpl_copies[i].tmpl == tmpl) {
                        /* A refusal is remembered: the verifier would refuse it again, and
                         * each try of a program at its limit takes long (stamped.c). */
                        r = l->tmpl_copies[i].fd;
                        if (r < 0)
                                snprintf(why, SKBT_WHY_MAX, "%s",
                                         l->tmpl_copies[i].why ? l->tmpl_copies[i].why
                                                               : "load failed");
                        goto out;
                }
        r = skbt_stamp_probe_id(bpf_program__insns(tmpl), bpf_program__insn_cnt(tmpl), 0, &insns);
        if (r == -ENOENT) {
                /* No stamp: the object's program is complete. */
                r = bpf_program__fd(tmpl);
                if (r < 0)
                        snprintf(why, SKBT_WHY_MAX, "template %s not loaded",
                                 bpf_program__name(tmpl));
                goto out;
        }
        if (r < 0 || l->n_tmpl_copies >= SKBT_TMPL_COPIES_MAX) {
                r = r < 0 ? r : -E2BIG;
                snprintf(why, SKBT_WHY_MAX, "copying template %s: %s", bpf_program__name(tmpl),
                         strerror(-r));
                goto out;
        }
        r = skbt_load_stamped(l, tmpl, type, bpf_program__name(tmpl), insns, 0, 0, why);
        if (r < 0) {
                /* Said once, where it is decided; every probe it serves lists the reason. */
                log_warning("cannot load %s, the program behind some probes of this backend: %s",
                            bpf_program__name(tmpl), why);
                if (r == -ENOMEM || r == -EAGAIN || r == -EINTR)
                        goto out; /* may work next time */
                l->tmpl_copies[l->n_tmpl_copies].why = strdup(why);
        }
        l->tmpl_copies[l->n_tmpl_copies].tmpl = tmpl;
        l->tmpl_copies[l->n_tmpl_copies++].fd = r;
out:
        pthread_mutex_unlock(&l->tmpl_lock);
        return r;
}
