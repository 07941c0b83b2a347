/* SPDX-License-Identifier: GPL-2.0-only */
/* log.h - leveled logging to stderr (journald reads it under systemd) */
#pragma once

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

/* Set once at start-up from -v; LOG_INFO by default. */
void log_set_max_level(int level);
int log_get_max_level(void);
/* Prefix lines with "<N>" so journald keeps the priority. */
void log_set_syslog_prefix(int enable);
void log_set_ident(const char *ident);

/* Logs and returns -abs(error) (or 0 when error is 0), so that
 * "return log_error_errno(r, ...)" both logs and propagates.  "%m" in the
 * format expands to strerror(abs(error)). */
int log_internal(int level, int error, const char *file, int line, const char *fmt, ...)
    _printf_(5, 6);

#define log_full_errno(level, error, ...)                                                          \
        ({                                                                                         \
                int _l = (level), _e = (error);                                                    \
                _l <= log_get_max_level() ? log_internal(_l, _e, __FILE__, __LINE__, __VA_ARGS__)  \
                                          : (_e > 0 ? -_e : _e);                                   \
        })

#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)
