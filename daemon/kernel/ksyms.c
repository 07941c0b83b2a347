// SPDX-License-Identifier: GPL-2.0-only
/* ksyms.c - load kallsyms text symbols, symbolize addresses, look up names */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "symdb.h"
#include "util.h"

#define NO_MODULE UINT32_MAX
/* Offsets into the string pool are 32-bit; kallsyms is ~15 MB even with many modules. */
#define MAX_FILE_SIZE (UINT32_MAX / 2)

struct ksym {
        uint64_t addr;
        uint32_t name;   /* offset into pool */
        uint32_t module; /* offset into pool, NO_MODULE for vmlinux */
};

struct skbt_ksyms {
        struct ksym *syms; /* by address; equal addresses in file order */
        size_t n;
        uint32_t *hash; /* open addressing on name: index into syms + 1, 0 = empty */
        size_t hash_mask;
        char *pool; /* NUL-terminated names and modules */
        bool visible;
};

struct skbt_ksyms *skbt_ksyms_free(struct skbt_ksyms *k)
{
        if (!k)
                return NULL;
        free(k->syms);
        free(k->hash);
        free(k->pool);
        free(k);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct skbt_ksyms *, skbt_ksyms_free)

/* procfs files report size 0, so read until EOF; returns a NUL-terminated buffer. */
static int read_all(const char *path, char **ret, size_t *ret_size)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, cap;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (st.st_size >= MAX_FILE_SIZE)
                return -EFBIG;
        /* Room for the contents, the NUL and one more byte so that EOF shows without growing. */
        cap = st.st_size > 0 ? (size_t)st.st_size + 2 : 4u << 20;
        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t l;

                if (size + 1 >= cap) {
                        char *p;

                        if (cap >= MAX_FILE_SIZE)
                                return -EFBIG;
                        p = realloc(buf, cap * 2);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        cap *= 2;
                }
                l = read(fd, buf + size, cap - size - 1);
                if (l < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (l == 0)
                        break;
                size += l;
        }
        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

static bool is_text_type(char c)
{
        return c == 'T' || c == 't' || c == 'W' || c == 'w';
}

/*
 * Parse the buffer in place: the names of kept symbols are moved to the
 * front of the same buffer, which becomes the string pool.  Every line has
 * at least "X t " before its name, so the write position never overtakes
 * what is still to be read.
 */
/* One line of /proc/kallsyms: "ADDR T name [module]". */
struct kallsyms_line {
        uint64_t addr;
        char type;
        const char *name, *mod; /* mod NULL: vmlinux */
        size_t name_len, mod_len;
};

static int parse_line(const char *p, const char *eol, struct kallsyms_line *l)
{
        int digits = 0, v;

        *l = (struct kallsyms_line){};
        for (; p < eol && (v = skbt_hex_digit(*p)) >= 0; p++, digits++)
                l->addr = l->addr << 4 | (uint64_t)v;
        if (digits == 0 || digits > 16 || eol - p < 4 || p[0] != ' ' || p[2] != ' ')
                return -EBADMSG;
        l->type = p[1];
        l->name = p + 3;
        for (p = l->name; p < eol && *p != ' ' && *p != '\t'; p++)
                ;
        l->name_len = (size_t)(p - l->name);
        if (l->name_len == 0)
                return -EBADMSG;
        while (p < eol && (*p == ' ' || *p == '\t'))
                p++;
        if (p < eol) {
                const char *close = eol - 1;

                if (*p != '[' || *close != ']' || close == p + 1)
                        return -EBADMSG;
                l->mod = p + 1;
                l->mod_len = (size_t)(close - l->mod);
        }
        return 0;
}

/* Where parse() writes the string pool, and the module whose name it holds last. */
struct pool {
        char *buf;
        size_t w, cap;
        uint32_t prev_module;
};

static int add_sym(struct skbt_ksyms *k, struct pool *pl, const struct kallsyms_line *l)
{
        if (k->n == pl->cap) {
                size_t ncap = pl->cap ? pl->cap * 2 : 16384;
                struct ksym *s = reallocarray(k->syms, ncap, sizeof(*s));

                if (!s)
                        return -ENOMEM;
                k->syms = s;
                pl->cap = ncap;
        }
        k->syms[k->n] = (struct ksym){.addr = l->addr, .name = pl->w, .module = NO_MODULE};
        memmove(pl->buf + pl->w, l->name, l->name_len);
        pl->w += l->name_len;
        pl->buf[pl->w++] = '\0';
        if (l->mod) {
                /* A module's symbols are contiguous: share one copy of its name. */
                if (pl->prev_module == NO_MODULE ||
                    strlen(pl->buf + pl->prev_module) != l->mod_len ||
                    memcmp(pl->buf + pl->prev_module, l->mod, l->mod_len) != 0) {
                        memmove(pl->buf + pl->w, l->mod, l->mod_len);
                        pl->prev_module = (uint32_t)pl->w;
                        pl->w += l->mod_len;
                        pl->buf[pl->w++] = '\0';
                }
                k->syms[k->n].module = pl->prev_module;
        }
        if (l->addr)
                k->visible = true;
        k->n++;
        return 0;
}

static int parse(struct skbt_ksyms *k, char *buf, size_t size, size_t *ret_pool_size)
{
        struct pool pl = {.buf = buf, .prev_module = NO_MODULE};
        const char *p = buf, *end = buf + size;

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                struct kallsyms_line l;
                int r;

                if (!eol)
                        eol = end;
                if (p == eol) { /* tolerate empty lines, e.g. a trailing one */
                        p = eol + 1;
                        continue;
                }
                r = parse_line(p, eol, &l);
                if (r < 0)
                        return r;
                p = eol + 1;
                if (is_text_type(l.type) && (r = add_sym(k, &pl, &l)) < 0)
                        return r;
        }
        *ret_pool_size = pl.w;
        return 0;
}

static bool same_module(const struct skbt_ksyms *k, uint32_t a, uint32_t b)
{
        if (a == b)
                return true;
        if (a == NO_MODULE || b == NO_MODULE)
                return false;
        return strcmp(k->pool + a, k->pool + b) == 0;
}

static int cmp_ksym(const void *a, const void *b)
{
        const struct ksym *x = a, *y = b;

        if (x->addr != y->addr)
                return x->addr < y->addr ? -1 : 1;
        /* Pool offsets follow file order: the first alias listed wins, deterministically. */
        return x->name < y->name ? -1 : x->name > y->name;
}

static uint32_t hash_name(const char *s)
{
        uint32_t h = 2166136261u; /* FNV-1a */

        for (; *s; s++)
                h = (h ^ (uint8_t)*s) * 16777619u;
        return h;
}

static int build_hash(struct skbt_ksyms *k)
{
        size_t size = 16;

        while (size < k->n * 2)
                size *= 2;
        k->hash = calloc(size, sizeof(*k->hash));
        if (!k->hash)
                return -ENOMEM;
        k->hash_mask = size - 1;
        /* In address order, so that for a duplicate name the lowest address is kept. */
        for (size_t i = 0; i < k->n; i++) {
                const char *name = k->pool + k->syms[i].name;

                for (size_t h = hash_name(name) & k->hash_mask;; h = (h + 1) & k->hash_mask) {
                        if (!k->hash[h]) {
                                k->hash[h] = i + 1;
                                break;
                        }
                        if (strcmp(k->pool + k->syms[k->hash[h] - 1].name, name) == 0)
                                break;
                }
        }
        return 0;
}

int skbt_ksyms_load(const char *path, struct skbt_ksyms **ret)
{
        _cleanup_(skbt_ksyms_freep) struct skbt_ksyms *k = NULL;
        size_t size, pool_size;
        char *pool;
        int r;

        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        r = read_all(path, &k->pool, &size);
        if (r < 0)
                return r;
        r = parse(k, k->pool, size, &pool_size);
        if (r < 0)
                return r;
        /* The pool holds only text symbols now: give back the rest of the file. */
        pool = realloc(k->pool, pool_size ? pool_size : 1);
        if (pool)
                k->pool = pool;
        if (k->n > 1)
                qsort(k->syms, k->n, sizeof(*k->syms), cmp_ksym);
        r = build_hash(k);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(k);
        return 0;
}

/*
 * The last symbol of an image has no known size.  An address far past it is
 * not in it (BPF trampolines and programs live in their own pages, which
 * kallsyms may not list): no kernel function is this long.
 */
#define SYMBOLIZE_UNSIZED_MAX 0x10000

int skbt_ksyms_symbolize(const struct skbt_ksyms *k, uint64_t addr, char *buf, size_t len)
{
        size_t lo = 0, hi, i, next;
        const struct ksym *s;
        int l;

        /* With kptr_restrict every address reads 0: any answer would be a lie. */
        if (!k->visible)
                return -EADDRNOTAVAIL;
        /* Find the last symbol at or below addr. */
        hi = k->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (k->syms[mid].addr <= addr)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo == 0)
                return -ENOENT;
        next = lo;
        for (i = lo - 1; i > 0 && k->syms[i - 1].addr == k->syms[lo - 1].addr; i--)
                ;
        s = &k->syms[i];
        /* The next symbol bounds the size only inside the same image (vmlinux or one module). */
        if (next < k->n && same_module(k, k->syms[next].module, s->module))
                l = snprintf(buf, len, "%s+0x%" PRIx64 "/0x%" PRIx64, k->pool + s->name,
                             addr - s->addr, k->syms[next].addr - s->addr);
        else if (addr - s->addr <= SYMBOLIZE_UNSIZED_MAX)
                l = snprintf(buf, len, "%s+0x%" PRIx64, k->pool + s->name, addr - s->addr);
        else
                return -ENOENT; /* past the image's last symbol: BPF code, a trampoline */
        if (l < 0)
                return -EINVAL;
        if ((size_t)l >= len)
                return -ENOBUFS;
        return 0;
}

uint64_t skbt_ksyms_lookup(const struct skbt_ksyms *k, const char *name)
{
        for (size_t h = hash_name(name) & k->hash_mask; k->hash[h]; h = (h + 1) & k->hash_mask) {
                const struct ksym *s = &k->syms[k->hash[h] - 1];

                if (strcmp(k->pool + s->name, name) == 0)
                        return s->addr;
        }
        return 0;
}

bool skbt_ksyms_addresses_visible(const struct skbt_ksyms *k)
{
        return k->visible;
}
