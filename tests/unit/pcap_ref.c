/* SPDX-License-Identifier: GPL-2.0-only */
/* pcap_ref.c - libpcap's own verdict on a frame: the reference for the pcap filter tests */
#include <stdint.h>

#include <pcap/pcap.h>

#include "pcap_cases.h"

int pcap_reference(const char *expr, const uint8_t *frame, uint32_t n)
{
        pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
        struct bpf_program prog;
        struct pcap_pkthdr h = {.caplen = n, .len = n};
        int r;

        if (!p)
                return -1;
        if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
                pcap_close(p);
                return -1;
        }
        r = pcap_offline_filter(&prog, &h, frame) != 0;
        pcap_freecode(&prog);
        pcap_close(p);
        return r;
}
