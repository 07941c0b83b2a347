/* SPDX-License-Identifier: GPL-2.0-only */
/* netns_names.h - names of network namespaces (/run/netns, as ip netns makes them) by inode */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Names read from the directory: bounded work per rescan and bounded memory. */
#define SKBT_NETNS_NAMES_MAX 1024
/* The directory is looked at again at most this often, and only read when it changed. */
#define SKBT_NETNS_NAMES_RECHECK_NS (1000 * 1000 * 1000ULL)

struct skbt_netns_names;

/**
 * skbt_netns_names_new() - a name table over a directory of namespace files
 * @dir: "/run/netns"; need not exist yet (ip netns creates it on first use)
 * @nsfs_dev: st_dev the files must have (that of /proc/self/ns/net), 0: any
 *            (tests use regular files)
 * @ret: the table; nothing is read until the first lookup
 *
 * Return: 0 or -ENOMEM.
 */
int skbt_netns_names_new(const char *dir, dev_t nsfs_dev, struct skbt_netns_names **ret);
/* Accepts NULL, returns NULL. */
struct skbt_netns_names *skbt_netns_names_free(struct skbt_netns_names *n);

/**
 * skbt_netns_names_lookup() - the name of the namespace with inode @ino
 * @now_ns: CLOCK_MONOTONIC now, or an event's time (events from several CPUs
 *          come slightly out of order); the directory is re-read when it
 *          changed and SKBT_NETNS_NAMES_RECHECK_NS passed since the last look
 *
 * A namespace with several names gives the first in byte order.  The result
 * stays valid until the next lookup.
 *
 * Return: the name, NULL when no file in the directory is that namespace.
 */
const char *skbt_netns_names_lookup(struct skbt_netns_names *n, uint32_t ino, uint64_t now_ns);
