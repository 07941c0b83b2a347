// SPDX-License-Identifier: GPL-2.0-only
/* linktargets.c - the kernel function each BPF tracing link (fentry, fexit) is attached to */

/*
 * bench/vm-compare-guest.sh runs this inside the VM-tier guest.  On fentry
 * both skbtraced and ipftrace2 load one program per kernel function; to
 * compare their cost function by function, each program's run statistics
 * (bpftool) need the function its link is attached to.  The link's info
 * carries it (Linux 5.13+); its fdinfo does only on newer kernels (not on
 * 6.1) and bpftool 7.1 prints neither.
 *
 *   linktargets
 *
 * prints one line per tracing link:
 *
 *   PROG_ID TARGET_OBJ_ID TARGET_BTF_ID ATTACH_TYPE
 *
 * (TARGET_OBJ_ID: the BTF object, 1 for vmlinux; ATTACH_TYPE: the number of
 * enum bpf_attach_type, 24 fentry, 25 fexit).  Exit status 0, 1 if the links
 * cannot be listed.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_bpf(int cmd, union bpf_attr *attr)
{
        return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* The tracing link with id, printed; 0 also when it went away meanwhile or is still being
 * created (EAGAIN: another process's link not yet complete, not one of the tracers'). */
static int show_link(__u32 id)
{
        struct bpf_link_info info;
        union bpf_attr attr;
        int fd, r;

        memset(&attr, 0, sizeof(attr));
        attr.link_id = id;
        fd = sys_bpf(BPF_LINK_GET_FD_BY_ID, &attr);
        if (fd < 0)
                return errno == ENOENT || errno == EAGAIN ? 0 : -errno;
        memset(&info, 0, sizeof(info));
        memset(&attr, 0, sizeof(attr));
        attr.info.bpf_fd = (__u32)fd;
        attr.info.info_len = sizeof(info);
        attr.info.info = (__u64)(unsigned long)&info;
        r = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0 ? -errno : 0;
        close(fd);
        if (r == 0 && info.type == BPF_LINK_TYPE_TRACING)
                printf("%u %u %u %u\n", info.prog_id, info.tracing.target_obj_id,
                       info.tracing.target_btf_id, info.tracing.attach_type);
        return r;
}

int main(void)
{
        union bpf_attr attr;
        __u32 id = 0;
        int r;

        for (;;) {
                memset(&attr, 0, sizeof(attr));
                attr.start_id = id;
                if (sys_bpf(BPF_LINK_GET_NEXT_ID, &attr) < 0) {
                        if (errno == ENOENT)
                                return 0;
                        fprintf(stderr, "linktargets: listing links: %s\n", strerror(errno));
                        return 1;
                }
                id = attr.next_id;
                r = show_link(id);
                if (r < 0) {
                        fprintf(stderr, "linktargets: link %u: %s\n", id, strerror(-r));
                        return 1;
                }
        }
}
