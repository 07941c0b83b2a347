// SPDX-License-Identifier: GPL-2.0-only
/* tcx_attach.c - attach a tc program of an object file through a tcx link, pinned (VM tests) */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* Linux 6.6 UAPI (enum bpf_attach_type), newer than the headers we may build with. */
#define TCX_INGRESS 46

/*
 * tcx-attach OBJ PROG IFNAME PIN: load OBJ, attach its program PROG at IFNAME's
 * tcx ingress, and pin the link at PIN (in bpffs), so that it outlives us;
 * removing the pin detaches it.  bpftool and tc of Debian 12 cannot make tcx links.
 */
int main(int argc, char **argv)
{
        struct bpf_object *obj;
        struct bpf_program *prog;
        unsigned ifindex;
        int link;

        if (argc != 5) {
                fprintf(stderr, "usage: %s OBJ PROG IFNAME PIN\n", argv[0]);
                return 2;
        }
        ifindex = if_nametoindex(argv[3]);
        if (!ifindex) {
                fprintf(stderr, "%s: %s\n", argv[3], strerror(errno));
                return 1;
        }
        obj = bpf_object__open_file(argv[1], NULL);
        if (!obj || bpf_object__load(obj) < 0) {
                fprintf(stderr, "cannot load %s\n", argv[1]);
                return 1;
        }
        prog = bpf_object__find_program_by_name(obj, argv[2]);
        if (!prog) {
                fprintf(stderr, "no program %s in %s\n", argv[2], argv[1]);
                return 1;
        }
        link = bpf_link_create(bpf_program__fd(prog), (int)ifindex, TCX_INGRESS, NULL);
        if (link < 0) {
                fprintf(stderr, "tcx attach: %s\n", strerror(errno));
                return 1;
        }
        if (bpf_obj_pin(link, argv[4]) < 0) {
                fprintf(stderr, "pin %s: %s\n", argv[4], strerror(errno));
                return 1;
        }
        return 0;
}
