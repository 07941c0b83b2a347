/* SPDX-License-Identifier: GPL-2.0-only */
/* access.h - who may use the control socket: root and members of one group */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The answer for one connection, from its peer credentials. */
struct skbt_peer {
        struct ucred cred; /* SO_PEERCRED at connect time */
        bool allowed;      /* root, or in the access group */
        bool admin;        /* root: sees and stops every session */
};

/*
 * Decide from credentials alone: uid 0 is allowed and admin; anyone else is
 * allowed when the access group is its primary group or one of groups (its
 * supplementary groups).  group_valid false (the group does not exist)
 * admits root only.
 */
bool skbt_access_allowed(const struct ucred *cred, const gid_t *groups, size_t n_groups,
                         gid_t group, bool group_valid);

/*
 * Identify the peer of a connected Unix socket and decide.  The
 * supplementary groups come from SO_PEERGROUPS (the peer's credentials at
 * connect time, Linux 4.13+), else from the user database.  Returns 0 or a
 * negative errno when the peer cannot be identified (then it is refused).
 */
int skbt_access_check(int fd, gid_t group, bool group_valid, struct skbt_peer *ret);
