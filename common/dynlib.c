/* SPDX-License-Identifier: GPL-2.0-only */
/* dynlib.c - libzstd, zlib and libpcre2-8, opened with dlopen() when first needed */
#define SKBT_DYNLIB_TABLES /* the real names here: this file fills the tables */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>

#include "dynlib.h"
#include "util.h"

struct skbt_zstd_api skbt_zstd;
struct skbt_zlib_api skbt_zlib;
struct skbt_pcre2_api skbt_pcre2;

/* The first of names that opens (the SONAME the build linked against first). */
static void *open_first(const char *const *names)
{
        void *h = NULL;

        for (; *names && !h; names++)
                h = dlopen(*names, RTLD_NOW | RTLD_LOCAL);
        return h;
}

static int cannot_open(const char *const *names, const char *what, char *err, size_t errlen)
{
        const char *why = dlerror();

        skbt_fail(err, errlen, "%s need %s, which cannot be loaded: %s", what, names[0],
                  why ? why : "not found");
        return -ENOENT;
}

static int lacks(void *h, const char *lib, const char *sym, char *err, size_t errlen)
{
        dlclose(h);
        return skbt_fail(err, errlen, "the %s found lacks %s()", lib, sym);
}

#define LOAD_SYM(f)                                                                                \
        if (!(api.f = (__typeof__(api.f))dlsym(h, #f)))                                            \
                return lacks(h, names[0], #f, err, errlen);

static bool zstd_loaded, zlib_loaded, pcre2_loaded;

int skbt_zstd_load(char *err, size_t errlen)
{
        static const char *const names[] = {"libzstd.so.1", "libzstd.so", NULL};
        struct skbt_zstd_api api;
        void *h;

        if (zstd_loaded)
                return 0;
        h = open_first(names);
        if (!h)
                return cannot_open(names, "zstd-compressed recordings", err, errlen);
        SKBT_ZSTD_FUNCS(LOAD_SYM)
        skbt_zstd = api;
        zstd_loaded = true;
        return 0;
}

int skbt_zlib_load(char *err, size_t errlen)
{
        static const char *const names[] = {"libz.so.1", "libz.so", NULL};
        struct skbt_zlib_api api;
        void *h;

        if (zlib_loaded)
                return 0;
        h = open_first(names);
        if (!h)
                return cannot_open(names, "gzip-compressed recordings", err, errlen);
        SKBT_ZLIB_FUNCS(LOAD_SYM)
        skbt_zlib = api;
        zlib_loaded = true;
        return 0;
}

int skbt_pcre2_load(char *err, size_t errlen)
{
        static const char *const names[] = {"libpcre2-8.so.0", "libpcre2-8.so", NULL};
        struct skbt_pcre2_api api;
        void *h;

        if (pcre2_loaded)
                return 0;
        h = open_first(names);
        if (!h)
                return cannot_open(names, "regular expressions", err, errlen);
        SKBT_PCRE2_FUNCS(LOAD_SYM)
        skbt_pcre2 = api;
        pcre2_loaded = true;
        return 0;
}
