// SPDX-License-Identifier: GPL-2.0-only
/* fake_ct.c - struct nf_conn in BTF (clang -target bpf -g), for test_ct */
#include "fake_ct.h"

struct nf_conn fake_conn;
