/* SPDX-License-Identifier: GPL-2.0-only */
/* test_netns_names.c - namespace names by inode: lookup, rescan when the directory changes */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "netns_names.h"
#include "testlib.h"

/* Regular files stand in for the bind mounts: their inodes are what is looked up. */
static uint32_t make_file(const char *dir, const char *name)
{
        char path[512];
        struct stat st;
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        CHECK(fd >= 0);
        CHECK(fstat(fd, &st) == 0);
        close(fd);
        return (uint32_t)st.st_ino;
}

static void remove_file(const char *dir, const char *name)
{
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        CHECK(unlink(path) == 0);
}

#define SEC 1000000000ULL

static void test_lookup(void)
{
        char dir[] = "/tmp/skbt-netns-XXXXXX";
        struct skbt_netns_names *n = NULL;
        uint32_t blue, red, green;
        uint64_t now = 5 * SEC;
        char path[600];

        CHECK(mkdtemp(dir) != NULL);
        snprintf(path, sizeof(path), "%s/netns", dir);
        /* The directory does not exist yet: nothing, and no error. */
        CHECK_INTEQ(skbt_netns_names_new(path, 0, &n), 0);
        CHECK(skbt_netns_names_lookup(n, 12345, now) == NULL);
        CHECK(mkdir(path, 0700) == 0);
        blue = make_file(path, "blue");
        red = make_file(path, "red");
        /* Not looked at again within a second. */
        CHECK(skbt_netns_names_lookup(n, blue, now + SEC / 2) == NULL);
        now += SEC;
        CHECK_STREQ(skbt_netns_names_lookup(n, blue, now), "blue");
        CHECK_STREQ(skbt_netns_names_lookup(n, red, now), "red");
        CHECK(skbt_netns_names_lookup(n, 0, now) == NULL);
        CHECK(skbt_netns_names_lookup(n, blue + red + 1000, now) == NULL);

        /* Changes are seen after the recheck interval. */
        remove_file(path, "red");
        green = make_file(path, "green");
        /* mtime granularity: make sure the directory's stamp moved. */
        {
                struct timespec ts[2] = {{0, UTIME_NOW}, {now / SEC + 100, 0}};

                CHECK(utimensat(AT_FDCWD, path, ts, 0) == 0);
        }
        CHECK_STREQ(skbt_netns_names_lookup(n, blue, now + 1), "blue");
        /* An event's time a little before the last look's (another CPU's event) is not a
         * second later: the directory is not read again, once per event. */
        {
                const char *old = skbt_netns_names_lookup(n, green, now - 1);

                /* NULL, or red's name if green took red's inode. */
                CHECK(!old || strcmp(old, "green") != 0);
        }
        now += 2 * SEC;
        CHECK(skbt_netns_names_lookup(n, red, now) == NULL || red == green);
        CHECK_STREQ(skbt_netns_names_lookup(n, green, now), "green");
        CHECK_STREQ(skbt_netns_names_lookup(n, blue, now), "blue");

        /* The directory goes away: names go with it. */
        remove_file(path, "blue");
        remove_file(path, "green");
        CHECK(rmdir(path) == 0);
        now += 2 * SEC;
        CHECK(skbt_netns_names_lookup(n, blue, now) == NULL);
        skbt_netns_names_free(n);
        CHECK(rmdir(dir) == 0);
        CHECK(skbt_netns_names_free(NULL) == NULL);
        CHECK(skbt_netns_names_lookup(NULL, 1, now) == NULL);
}

/* Files on another device than the namespace file system are not (yet) namespaces. */
static void test_other_device(void)
{
        char dir[] = "/tmp/skbt-netns-XXXXXX";
        struct skbt_netns_names *n = NULL;
        struct stat st;
        uint32_t ino;

        CHECK(mkdtemp(dir) != NULL);
        ino = make_file(dir, "half-made");
        CHECK(stat(dir, &st) == 0);
        CHECK_INTEQ(skbt_netns_names_new(dir, st.st_dev + 1, &n), 0);
        CHECK(skbt_netns_names_lookup(n, ino, SEC) == NULL);
        skbt_netns_names_free(n);
        /* With the right device it is found. */
        CHECK_INTEQ(skbt_netns_names_new(dir, st.st_dev, &n), 0);
        CHECK_STREQ(skbt_netns_names_lookup(n, ino, SEC), "half-made");
        skbt_netns_names_free(n);
        remove_file(dir, "half-made");
        CHECK(rmdir(dir) == 0);
}

int main(void)
{
        test_lookup();
        test_other_device();
        return TEST_DONE();
}
