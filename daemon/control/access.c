/* SPDX-License-Identifier: GPL-2.0-only */
/* access.c - peer credentials of control connections and the group check */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "macro.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

/* NGROUPS_MAX on Linux; a peer cannot have more. */
#define PEER_GROUPS_MAX 65536

bool skbt_access_allowed(const struct ucred *cred, const gid_t *groups, size_t n_groups,
                         gid_t group, bool group_valid)
{
        if (cred->uid == 0)
                return true;
        if (!group_valid)
                return false;
        if (cred->gid == group)
                return true;
        for (size_t i = 0; i < n_groups; i++)
                if (groups[i] == group)
                        return true;
        return false;
}

/* SO_PEERGROUPS into a malloc'ed array; -ENOPROTOOPT on kernels before 4.13. */
static int peer_groups(int fd, gid_t **ret, size_t *ret_n)
{
        _cleanup_free_ gid_t *g = NULL;
        socklen_t len = 64 * sizeof(gid_t);

        for (;;) {
                gid_t *ng = realloc(g, len ? len : sizeof(gid_t));

                if (!ng)
                        return -ENOMEM;
                g = ng;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0)
                        break;
                /* ERANGE: len now holds the size needed. */
                if (errno != ERANGE || len > PEER_GROUPS_MAX * sizeof(gid_t))
                        return negative_errno();
        }
        *ret_n = len / sizeof(gid_t);
        *ret = TAKE_PTR(g);
        return 0;
}

/* Fallback: the user's groups from the user database (NSS). */
static int user_groups(uid_t uid, gid_t gid, gid_t **ret, size_t *ret_n)
{
        _cleanup_free_ gid_t *g = NULL;
        struct passwd pw, *res = NULL;
        char buf[4096];
        int n = 64;

        if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
                return -ENOENT;
        for (;;) {
                gid_t *ng = realloc(g, (size_t)n * sizeof(gid_t));
                int want = n;

                if (!ng)
                        return -ENOMEM;
                g = ng;
                if (getgrouplist(pw.pw_name, gid, g, &want) >= 0) {
                        n = want;
                        break;
                }
                if (want <= n || want > PEER_GROUPS_MAX)
                        return -E2BIG;
                n = want;
        }
        *ret_n = (size_t)n;
        *ret = TAKE_PTR(g);
        return 0;
}

int skbt_access_check(int fd, gid_t group, bool group_valid, struct skbt_peer *ret)
{
        _cleanup_free_ gid_t *groups = NULL;
        socklen_t len = sizeof(ret->cred);
        size_t n = 0;
        int r;

        *ret = (struct skbt_peer){.cred = {.pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1}};
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &ret->cred, &len) < 0)
                return negative_errno();
        ret->admin = ret->cred.uid == 0;
        if (ret->admin || !group_valid || ret->cred.gid == group) {
                ret->allowed = skbt_access_allowed(&ret->cred, NULL, 0, group, group_valid);
                return 0;
        }
        r = peer_groups(fd, &groups, &n);
        if (r == -ENOPROTOOPT || r == -EINVAL)
                r = user_groups(ret->cred.uid, ret->cred.gid, &groups, &n);
        if (r < 0)
                return r;
        ret->allowed = skbt_access_allowed(&ret->cred, groups, n, group, group_valid);
        return 0;
}
