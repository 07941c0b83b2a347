/* SPDX-License-Identifier: GPL-2.0-only */
/* netns_names.c - names of network namespaces (/run/netns, as ip netns makes them) by inode */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "netns_names.h"

/*
 * Events carry a namespace's inode; people name namespaces with ip netns,
 * which bind-mounts each one on /run/netns/NAME.  The table is read on the
 * formatting path, so it does no I/O per event: the directory is looked at
 * (one stat) at most once a second, and read again only when its mtime
 * changed.  ip netns creates the file before it mounts the namespace on it;
 * a scan that saw such a file (not on nsfs yet) reads the directory again
 * at the next look, whatever its mtime says.
 */
struct netns_name {
        uint32_t ino;
        char *name;
};

struct skbt_netns_names {
        char *dir;
        dev_t nsfs_dev;
        struct netns_name *v;
        uint32_t n;
        uint64_t checked_ns; /* last look at the directory (0: never) */
        bool have_stamp;
        ino_t dir_ino;
        struct timespec dir_mtime;
        bool pending; /* the last scan saw a file not (yet) a namespace */
        /* The last answer: a flood's events come from a few namespaces. */
        uint32_t last_ino;
        const char *last_name;
};

int skbt_netns_names_new(const char *dir, dev_t nsfs_dev, struct skbt_netns_names **ret)
{
        struct skbt_netns_names *n = calloc(1, sizeof(*n));

        if (!n)
                return -ENOMEM;
        n->dir = strdup(dir);
        if (!n->dir) {
                free(n);
                return -ENOMEM;
        }
        n->nsfs_dev = nsfs_dev;
        *ret = n;
        return 0;
}

static void names_clear(struct skbt_netns_names *n)
{
        n->last_ino = 0;
        n->last_name = NULL;
        for (uint32_t i = 0; i < n->n; i++)
                free(n->v[i].name);
        free(n->v);
        n->v = NULL;
        n->n = 0;
}

struct skbt_netns_names *skbt_netns_names_free(struct skbt_netns_names *n)
{
        if (!n)
                return NULL;
        names_clear(n);
        free(n->dir);
        free(n);
        return NULL;
}

static int name_cmp(const void *a, const void *b)
{
        const struct netns_name *x = a, *y = b;

        if (x->ino != y->ino)
                return x->ino < y->ino ? -1 : 1;
        return strcmp(x->name, y->name);
}

/* Read the directory into a new table; on any failure the table is empty. */
static void names_scan(struct skbt_netns_names *n)
{
        _cleanup_(closedirp) DIR *d = NULL;
        struct netns_name *v;
        struct dirent *de;
        uint32_t cnt = 0;

        names_clear(n);
        n->pending = false;
        d = opendir(n->dir);
        if (!d)
                return;
        v = calloc(SKBT_NETNS_NAMES_MAX, sizeof(*v));
        if (!v)
                return;
        while ((de = readdir(d)) && cnt < SKBT_NETNS_NAMES_MAX) {
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                /* Follows the bind mount: the namespace's own inode. */
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0)
                        continue;
                if (n->nsfs_dev && st.st_dev != n->nsfs_dev) {
                        n->pending = true;
                        continue;
                }
                v[cnt].ino = (uint32_t)st.st_ino;
                v[cnt].name = strdup(de->d_name);
                if (v[cnt].name)
                        cnt++;
        }
        qsort(v, cnt, sizeof(*v), name_cmp);
        n->v = v;
        n->n = cnt;
}

/* Re-read the directory if it changed (or a scan saw a namespace half made). */
static void names_refresh(struct skbt_netns_names *n, uint64_t now_ns)
{
        struct stat st;
        bool changed;

        /* Signed: an event's time may be a little before the last look's. */
        if (n->checked_ns &&
            (int64_t)(now_ns - n->checked_ns) < (int64_t)SKBT_NETNS_NAMES_RECHECK_NS)
                return;
        n->checked_ns = now_ns ? now_ns : 1;
        if (stat(n->dir, &st) < 0) {
                if (n->have_stamp || n->n)
                        names_clear(n);
                n->have_stamp = false;
                return;
        }
        changed = !n->have_stamp || st.st_ino != n->dir_ino ||
                  st.st_mtim.tv_sec != n->dir_mtime.tv_sec ||
                  st.st_mtim.tv_nsec != n->dir_mtime.tv_nsec;
        if (!changed && !n->pending)
                return;
        n->have_stamp = true;
        n->dir_ino = st.st_ino;
        n->dir_mtime = st.st_mtim;
        names_scan(n);
}

const char *skbt_netns_names_lookup(struct skbt_netns_names *n, uint32_t ino, uint64_t now_ns)
{
        uint32_t lo = 0, hi;

        if (!n || !ino)
                return NULL;
        names_refresh(n, now_ns);
        if (ino == n->last_ino)
                return n->last_name;
        /* The first entry with this inode: names are sorted after inodes. */
        hi = n->n;
        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;

                if (n->v[mid].ino < ino)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        n->last_ino = ino;
        n->last_name = lo < n->n && n->v[lo].ino == ino ? n->v[lo].name : NULL;
        return n->last_name;
}
