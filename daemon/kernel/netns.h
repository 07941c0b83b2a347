/* SPDX-License-Identifier: GPL-2.0-only */
/* netns.h - find a network namespace by inode and an interface's index in it */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/**
 * skbt_netns_ifindex() - resolve an interface name where the client means it
 * @netns: inode of the namespace; 0: the namespace of process @peer (the client)
 * @peer: the client's pid, tried first for the namespace's handle
 * @ifname: the name
 * @ret_ifindex: its index in that namespace
 * @ret_netns: the namespace's inode (= @netns unless that was 0)
 * @err: on failure, a message for the client
 *
 * A namespace is found through the client, /run/netns (ip netns) or any
 * process in it (/proc/PID/ns/net).  The calling thread enters it for the
 * lookup and returns to its own namespace before returning.
 *
 * Return: 0; -ENOENT no such namespace, -ENODEV no such interface, or
 * another negative errno (e.g. -EPERM: not allowed to enter it).
 */
int skbt_netns_ifindex(uint32_t netns, pid_t peer, const char *ifname, uint32_t *ret_ifindex,
                       uint32_t *ret_netns, char *err, size_t errlen);
