/* SPDX-License-Identifier: GPL-2.0-only */
/* fuzz_recording.c - libFuzzer target: ipftctl show on any file (reader, decoder, renderers) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <syslog.h>

#include "ctl.h"
#include "log.h"

/*
 * A recording is a file anyone may hand to ipftctl show: the bytes go
 * through decompression (zstd, gzip or none, by the first bytes), the line
 * reader, the header check, and every event through the JSON decoder and the
 * daemon's renderers in one of the six output formats (chosen by the last
 * byte, so the corpus keeps it).  Nothing may crash, hang or leak; errors
 * are what bad input is for.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const formats[] = {"text",           "json",      "aggregate",
                                              "aggregate-json", "crossings", "pcapng"};
        static int out = -1;
        const struct ctl ctl = {.socket_path = "/nonexistent"};
        char path[64];
        char *argv[6];
        int fd;

        if (out < 0) {
                /* What show prints is not the point: only that it survives. */
                out = open("/dev/null", O_WRONLY | O_CLOEXEC);
                dup2(out, STDOUT_FILENO);
                log_set_max_level(LOG_CRIT);
        }
        fd = memfd_create("recording", MFD_CLOEXEC);
        if (fd < 0)
                return 0;
        if (size && write(fd, data, size) != (ssize_t)size) {
                close(fd);
                return 0;
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        argv[0] = (char *)"show";
        argv[1] = (char *)"-o";
        argv[2] = (char *)formats[size ? data[size - 1] % 6 : 0];
        argv[3] = path;
        argv[4] = NULL;
        cmd_show(&ctl, 4, argv);
        close(fd);
        return 0;
}
