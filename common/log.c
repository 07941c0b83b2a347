/* SPDX-License-Identifier: GPL-2.0-only */
/* log.c - leveled logging to stderr */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Process-wide logging configuration: set once at start-up, read-only after. */
static int log_max_level = LOG_INFO;
static int log_syslog_prefix;
static const char *log_ident;

void log_set_max_level(int level)
{
        log_max_level = level;
}

int log_get_max_level(void)
{
        return log_max_level;
}

void log_set_syslog_prefix(int enable)
{
        log_syslog_prefix = enable;
}

void log_set_ident(const char *ident)
{
        log_ident = ident;
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...)
{
        char buf[2048];
        va_list ap;
        int saved = errno;

        (void)file;
        (void)line;
        /* %m must expand to the error we were given, not whatever errno is. */
        errno = error < 0 ? -error : error;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);

        if (log_syslog_prefix)
                fprintf(stderr, "<%d>%s\n", level, buf);
        else if (log_ident)
                fprintf(stderr, "%s: %s\n", log_ident, buf);
        else
                fprintf(stderr, "%s\n", buf);

        errno = saved;
        return error > 0 ? -error : error;
}
