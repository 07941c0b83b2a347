/* SPDX-License-Identifier: GPL-2.0-only */
/* dynlib.h - libzstd, zlib and libpcre2-8, opened with dlopen() when first needed */
#pragma once

#include <stddef.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <zlib.h>
#include <zstd.h>

/*
 * Every ipftctl run paid for loading these three before main(), whether it
 * used them or not: about 0.2 ms of CPU each on the benchmark host, a quarter
 * of the client's start-up and most of what made session start slower than
 * at f8ce747 (docs/performance.md, issue 13).  Only recordings (trace -w,
 * show) need zstd and zlib, only regular expressions need PCRE2.  So nothing
 * links them: the code that uses one calls its skbt_*_load() first, which
 * opens it once and fills the table below, and the names used in that code
 * go through the table (the #defines at the end of this file).  The packages
 * name the libraries in Depends (debian/control), shlibs cannot see them.
 */

/* X(name) per function used: the symbol as the library exports it. */
#define SKBT_ZSTD_FUNCS(X)                                                                         \
        X(ZSTD_CCtx_reset)                                                                         \
        X(ZSTD_CCtx_setParameter)                                                                  \
        X(ZSTD_CStreamOutSize)                                                                     \
        X(ZSTD_compressStream2)                                                                    \
        X(ZSTD_createCCtx)                                                                         \
        X(ZSTD_createDStream)                                                                      \
        X(ZSTD_decompressStream)                                                                   \
        X(ZSTD_freeCCtx)                                                                           \
        X(ZSTD_freeDStream)                                                                        \
        X(ZSTD_getErrorName)                                                                       \
        X(ZSTD_isError)
/* deflateInit2() and inflateInit2() are macros over the _ functions. */
#define SKBT_ZLIB_FUNCS(X)                                                                         \
        X(deflate)                                                                                 \
        X(deflateEnd)                                                                              \
        X(deflateInit2_)                                                                           \
        X(inflate)                                                                                 \
        X(inflateEnd)                                                                              \
        X(inflateInit2_)                                                                           \
        X(inflateReset)
/* pcre2.h maps pcre2_compile() to pcre2_compile_8() for 8-bit code units. */
#define SKBT_PCRE2_FUNCS(X)                                                                        \
        X(pcre2_code_free_8)                                                                       \
        X(pcre2_compile_8)                                                                         \
        X(pcre2_compile_context_create_8)                                                          \
        X(pcre2_compile_context_free_8)                                                            \
        X(pcre2_general_context_create_8)                                                          \
        X(pcre2_general_context_free_8)                                                            \
        X(pcre2_get_error_message_8)                                                               \
        X(pcre2_match_8)                                                                           \
        X(pcre2_match_context_create_8)                                                            \
        X(pcre2_match_context_free_8)                                                              \
        X(pcre2_match_data_create_8)                                                               \
        X(pcre2_match_data_free_8)                                                                 \
        X(pcre2_pattern_info_8)                                                                    \
        X(pcre2_set_depth_limit_8)                                                                 \
        X(pcre2_set_heap_limit_8)                                                                  \
        X(pcre2_set_match_limit_8)                                                                 \
        X(pcre2_set_max_pattern_length_8)                                                          \
        X(pcre2_set_parens_nest_limit_8)

#define SKBT_DYNLIB_MEMBER(f) __typeof__(f) *f;
struct skbt_zstd_api {
        SKBT_ZSTD_FUNCS(SKBT_DYNLIB_MEMBER)
};
struct skbt_zlib_api {
        SKBT_ZLIB_FUNCS(SKBT_DYNLIB_MEMBER)
};
struct skbt_pcre2_api {
        SKBT_PCRE2_FUNCS(SKBT_DYNLIB_MEMBER)
};
#undef SKBT_DYNLIB_MEMBER

extern struct skbt_zstd_api skbt_zstd;
extern struct skbt_zlib_api skbt_zlib;
extern struct skbt_pcre2_api skbt_pcre2;

/*
 * Open the library and fill its table, once (later calls return at once).
 * 0, or a negative errno with a one-line message in err: the library cannot
 * be loaded (naming it and what needs it) or lacks a function.
 */
int skbt_zstd_load(char *err, size_t errlen);
int skbt_zlib_load(char *err, size_t errlen);
int skbt_pcre2_load(char *err, size_t errlen);

/* The code that uses the libraries calls them through the tables. */
#ifndef SKBT_DYNLIB_TABLES
#define ZSTD_CCtx_reset skbt_zstd.ZSTD_CCtx_reset
#define ZSTD_CCtx_setParameter skbt_zstd.ZSTD_CCtx_setParameter
#define ZSTD_CStreamOutSize skbt_zstd.ZSTD_CStreamOutSize
#define ZSTD_compressStream2 skbt_zstd.ZSTD_compressStream2
#define ZSTD_createCCtx skbt_zstd.ZSTD_createCCtx
#define ZSTD_createDStream skbt_zstd.ZSTD_createDStream
#define ZSTD_decompressStream skbt_zstd.ZSTD_decompressStream
#define ZSTD_freeCCtx skbt_zstd.ZSTD_freeCCtx
#define ZSTD_freeDStream skbt_zstd.ZSTD_freeDStream
#define ZSTD_getErrorName skbt_zstd.ZSTD_getErrorName
#define ZSTD_isError skbt_zstd.ZSTD_isError
#define deflate skbt_zlib.deflate
#define deflateEnd skbt_zlib.deflateEnd
#define deflateInit2_ skbt_zlib.deflateInit2_
#define inflate skbt_zlib.inflate
#define inflateEnd skbt_zlib.inflateEnd
#define inflateInit2_ skbt_zlib.inflateInit2_
#define inflateReset skbt_zlib.inflateReset
#define pcre2_code_free_8 skbt_pcre2.pcre2_code_free_8
#define pcre2_compile_8 skbt_pcre2.pcre2_compile_8
#define pcre2_compile_context_create_8 skbt_pcre2.pcre2_compile_context_create_8
#define pcre2_compile_context_free_8 skbt_pcre2.pcre2_compile_context_free_8
#define pcre2_general_context_create_8 skbt_pcre2.pcre2_general_context_create_8
#define pcre2_general_context_free_8 skbt_pcre2.pcre2_general_context_free_8
#define pcre2_get_error_message_8 skbt_pcre2.pcre2_get_error_message_8
#define pcre2_match_8 skbt_pcre2.pcre2_match_8
#define pcre2_match_context_create_8 skbt_pcre2.pcre2_match_context_create_8
#define pcre2_match_context_free_8 skbt_pcre2.pcre2_match_context_free_8
#define pcre2_match_data_create_8 skbt_pcre2.pcre2_match_data_create_8
#define pcre2_match_data_free_8 skbt_pcre2.pcre2_match_data_free_8
#define pcre2_pattern_info_8 skbt_pcre2.pcre2_pattern_info_8
#define pcre2_set_depth_limit_8 skbt_pcre2.pcre2_set_depth_limit_8
#define pcre2_set_heap_limit_8 skbt_pcre2.pcre2_set_heap_limit_8
#define pcre2_set_match_limit_8 skbt_pcre2.pcre2_set_match_limit_8
#define pcre2_set_max_pattern_length_8 skbt_pcre2.pcre2_set_max_pattern_length_8
#define pcre2_set_parens_nest_limit_8 skbt_pcre2.pcre2_set_parens_nest_limit_8
#endif
