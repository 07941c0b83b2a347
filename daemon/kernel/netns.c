/* SPDX-License-Identifier: GPL-2.0-only */
/* netns.c - find a network namespace by inode and an interface's index in it */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "netns.h"

/* Processes looked at when searching /proc for a namespace: bounded work per request. */
#define PROC_SCAN_MAX 65536

/* An fd of the namespace at path if its inode is ino (ino 0: any), else -1. */
static int open_if(const char *path, uint32_t ino, uint32_t *ret_ino)
{
        struct stat st;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -1;
        if (fstat(fd, &st) < 0 || (ino && st.st_ino != ino)) {
                close(fd);
                return -1;
        }
        if (ret_ino)
                *ret_ino = (uint32_t)st.st_ino;
        return fd;
}

/* dir/NAME/suffix for each NAME in dir ("" suffix: dir/NAME). */
static int find_in_dir(const char *dir, const char *suffix, uint32_t ino, unsigned max)
{
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d)) && n++ < max) {
                char path[300];
                int fd;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s%s", dir, de->d_name, suffix);
                fd = open_if(path, ino, NULL);
                if (fd >= 0)
                        return fd;
        }
        return -1;
}

/* A handle on the namespace: the client's, a named one, or any process's in it. */
static int find_netns(uint32_t ino, pid_t peer, uint32_t *ret_ino)
{
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)peer);
        if (peer > 0 && (fd = open_if(path, ino, ret_ino)) >= 0)
                return fd;
        if (!ino)
                return -1;
        *ret_ino = ino;
        fd = find_in_dir("/run/netns", "", ino, 4096);
        if (fd >= 0)
                return fd;
        return find_in_dir("/proc", "/ns/net", ino, PROC_SCAN_MAX);
}

int skbt_netns_ifindex(uint32_t netns, pid_t peer, const char *ifname, uint32_t *ret_ifindex,
                       uint32_t *ret_netns, char *err, size_t errlen)
{
        _cleanup_close_ int target = -EBADF, self = -EBADF;
        uint32_t ino = 0, self_ino = 0;
        unsigned idx;
        int r = 0;

        target = find_netns(netns, peer, &ino);
        if (target < 0) {
                if (netns)
                        snprintf(err, errlen,
                                 "network namespace %u not found: no process and no "
                                 "/run/netns entry holds it",
                                 netns);
                else
                        snprintf(err, errlen,
                                 "cannot open the network namespace of pid %d; give the "
                                 "namespace with --netns",
                                 (int)peer);
                return -ENOENT;
        }
        self = open_if("/proc/self/ns/net", 0, &self_ino);
        if (self < 0) {
                r = negative_errno();
                snprintf(err, errlen, "cannot open the daemon's own network namespace: %s",
                         strerror(-r));
                return r;
        }
        if (ino != self_ino && setns(target, CLONE_NEWNET) < 0) {
                r = negative_errno();
                snprintf(err, errlen, "cannot enter network namespace %u to look up '%s': %s", ino,
                         ifname, strerror(-r));
                return r;
        }
        idx = if_nametoindex(ifname);
        if (!idx)
                r = negative_errno();
        /* Back home before anything else: every socket we open later must be ours. */
        if (ino != self_ino && setns(self, CLONE_NEWNET) < 0) {
                int e = negative_errno();

                /* Cannot happen with the fd we just came from; if it does, stop
                 * rather than serve from the wrong namespace. */
                log_error_errno(e, "cannot return to the daemon's network namespace: %m");
                abort();
        }
        if (!idx) {
                snprintf(err, errlen, "no interface '%s' in network namespace %u", ifname, ino);
                return r == -ENODEV || r == -ENXIO || r == -ENOENT ? -ENODEV : r;
        }
        *ret_ifindex = idx;
        *ret_netns = ino;
        return 0;
}
