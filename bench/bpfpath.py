#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""bpfpath.py - instructions one probe hit executes, counted by running the object's program.

Run on the compiled object (build/bpf/skbtrace.tmp.bpf.o): the chosen entry point is executed
by a small BPF interpreter on one crafted hit, a UDP/IPv4 packet whose headers start at the
network header, with N live sessions as the probe cost benchmark starts them (`-p udp --daddr B
--dport P`); P is the packet's port with --match, another port without.  No root, no kernel:
helpers are stubbed (scratch lookup, probe reads from the fake sk_buff and packet, clock and
pid constants, a ring-buffer record that is always reserved; every other map lookup finds
nothing), CO-RE relocations are not applied (field
offsets as compiled from bpf/vmlinux.h; bpf_core_field_exists() as compiled), struct offsets
come from the object's own BTF.  It counts the path, not the time: compare two builds of the
same entry point on the same hit (docs/performance.md, tunnels).

  bench/bpfpath.py build/bpf/skbtrace.tmp.bpf.o [--prog skbt_tpbtf_arg0] [--sessions 64] [--match]
                   [--lines]
  bench/bpfpath.py OBJ --prog skbt_kmulti_arg4 --skb-arg 4 --mark      # `-m 0xdead`, skb 5th
  bench/bpfpath.py OBJ --prog skbt_nf_kmulti --nft --mark              # nft_do_chain's entry

--mark makes the sessions filter on the mark alone (`-m 0xdead`, the packet's mark is 0, or
0xdead with --match).  --nft runs a netfilter evaluator entry as nft_do_chain(pkt, chain):
the stamp names nftables and the first argument is an nft_pktinfo whose skb is the packet;
its task's frame stack (nf_stack) is found, empty.

Prints one JSON line: instructions executed (in the program and in the functions it calls),
and the helper calls by helper number; with --lines, then the instructions executed per source
line (llvm-objdump -l).  Standard library and bpftool only.
"""

import argparse
import collections
import json
import re
import struct
import subprocess
import sys


def elf(data):
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    secs = []
    for i in range(shnum):
        nm, ty, _, _, off, sz, link, info, _, _ = struct.unpack_from(
            "<IIQQQQIIQQ", data, shoff + i * shentsize)
        secs.append({"nm": nm, "ty": ty, "off": off, "sz": sz, "link": link, "info": info})

    def cstr(sec, o):
        base = secs[sec]["off"] + o
        return data[base:data.index(b"\0", base)].decode()
    for s in secs:
        s["name"] = cstr(shstrndx, s["nm"])
    symsec = next(i for i, s in enumerate(secs) if s["ty"] == 2)  # SHT_SYMTAB
    syms = []
    for o in range(secs[symsec]["off"], secs[symsec]["off"] + secs[symsec]["sz"], 24):
        nm, info, _, shndx, val, sz = struct.unpack_from("<IBBHQQ", data, o)
        syms.append({"name": cstr(secs[symsec]["link"], nm) if nm else "", "info": info,
                     "shndx": shndx, "val": val})
    rels = collections.defaultdict(dict)  # section -> {instruction index: symbol}
    for s in secs:
        if s["ty"] == 9:  # SHT_REL
            for o in range(s["off"], s["off"] + s["sz"], 16):
                off, info = struct.unpack_from("<QQ", data, o)
                rels[s["info"]][off // 8] = syms[info >> 32]
    return secs, syms, rels


def btf_offsets(obj):
    """{struct name: {member: byte offset}}, anonymous struct/union members flattened."""
    out = subprocess.run(["bpftool", "btf", "dump", "file", obj], capture_output=True,
                         text=True, check=True).stdout
    types, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^\[(\d+)\] (STRUCT|UNION) '([^']*)'", line)
        if m:
            cur = types[int(m.group(1))] = {"name": m.group(3), "members": []}
            continue
        if line.startswith("["):
            cur = None
            continue
        m = re.match(r"^\s+'([^']*)' type_id=(\d+) bits_offset=(\d+)", line)
        if m and cur is not None:
            cur["members"].append((m.group(1), int(m.group(2)), int(m.group(3)) // 8))

    def flat(tid, base, acc):
        for name, t, off in types[tid]["members"]:
            if name == "(anon)" and t in types:
                flat(t, base + off, acc)
            elif name not in acc:
                acc[name] = base + off
        return acc
    res = {}
    for tid, t in types.items():
        if t["name"] and t["name"] not in res:
            res[t["name"]] = flat(tid, 0, {})
    return res


MASK = (1 << 64) - 1


def sx(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


class Machine:
    SCRATCH, SKB, HEAD, CTX, STACK = 0x2 << 32, 0x3 << 32, 0x31 << 28, 0x4 << 32, 0x5 << 32
    NFSTACK, PKT, RECORD = 0x6 << 32, 0x7 << 32, 0x8 << 32

    def __init__(self, obj, probe, skb_arg=0):
        self.data = open(obj, "rb").read()
        self.secs, self.syms, self.rels = elf(self.data)
        self.mem = {}
        self.code = {}
        self.probe = probe
        self.func_args = {skb_arg: self.SKB}  # fentry's arguments by position
        self.count = 0
        self.helpers = collections.Counter()
        self.pcs = collections.Counter()  # (section, instruction index): times executed
        self.secbase = {}
        base = 1 << 32
        for i, s in enumerate(self.secs):
            if s["name"] in (".bss", ".data", ".maps") or s["name"].startswith(".rodata"):
                self.secbase[i] = base
                if s["ty"] == 1:  # SHT_PROGBITS: initial contents
                    self.wrb(base, self.data[s["off"]:s["off"] + s["sz"]])
                base += (s["sz"] + 0xffff) & ~0xffff
        self.var = {sy["name"]: self.secbase[sy["shndx"]] + sy["val"] for sy in self.syms
                    if sy["shndx"] in self.secbase and sy["name"]}

    def wr(self, addr, n, v):
        for k in range(n):
            self.mem[addr + k] = (v >> (8 * k)) & 0xff

    def rd(self, addr, n):
        return sum(self.mem.get(addr + k, 0) << (8 * k) for k in range(n))

    def wrb(self, addr, b):
        for k, x in enumerate(b):
            self.mem[addr + k] = x

    def insns(self, sec):
        if sec not in self.code:
            s = self.secs[sec]
            self.code[sec] = [struct.unpack_from("<BBhi", self.data, s["off"] + k)
                              for k in range(0, s["sz"], 8)]
        return self.code[sec]

    def helper(self, n, r):
        self.helpers[n] += 1
        if n == 1:  # map_lookup_elem: the per-CPU scratch and the task's nf frames are found
            return {("map", "scratch"): self.SCRATCH,
                    ("map", "nf_stack"): self.NFSTACK}.get(r[1], 0)
        if n in (4, 112, 113):  # probe_read, probe_read_user/kernel
            for k in range(r[2]):
                self.mem[r[1] + k] = self.mem.get(r[3] + k, 0)
            return 0
        if n == 183:  # get_func_arg(ctx, n, *value): the skb is argument 0
            self.wr(r[3], 8, self.func_args.get(r[2], 0))
            return 0
        if n == 174:  # get_attach_cookie
            return self.probe
        if n in (5, 125):  # ktime_get_ns, ktime_get_boot_ns
            return 1 << 40
        if n == 118:  # jiffies64
            return 1 << 32
        if n == 131:  # ringbuf_reserve: a record, so that the event's fill is counted too
            return self.RECORD
        if n == 16:  # get_current_comm
            self.wrb(r[1], b"bench\0"[:r[2]])
            return 0
        if n == 14:  # get_current_pid_tgid
            return (4242 << 32) | 4242
        return 0

    def run(self, sec, pc, regs, depth=0):
        prog = self.insns(sec)
        regs[10] = self.STACK + 0x10000 * (depth + 1)
        while True:
            op, rr, off, imm = prog[pc]
            dst, src = rr & 0xf, rr >> 4
            self.count += 1
            self.pcs[(sec, pc)] += 1
            cls = op & 7
            if op == 0x18:  # ld_imm64
                v = (imm & 0xffffffff) | ((prog[pc + 1][3] & 0xffffffff) << 32)
                sy = self.rels[sec].get(pc)
                if sy:
                    if self.secs[sy["shndx"]]["name"] == ".maps":
                        v = ("map", sy["name"])
                    elif sy["shndx"] in self.secbase:
                        v = self.secbase[sy["shndx"]] + sy["val"] + (imm & 0xffffffff)
                if v == 0x5eb7ab1e:  # the probe id marker (bpf/skbt_probe_id.bpf.h)
                    v = self.probe
                regs[dst] = v
                pc += 2
                continue
            if cls in (4, 7):  # ALU, ALU64
                w = MASK if cls == 7 else 0xffffffff
                x = regs[dst] if isinstance(regs[dst], int) else 0
                y = regs[src] if op & 8 else imm
                y = (y if isinstance(y, int) else 0) & w
                x &= w
                c = op & 0xf0
                if c == 0xd0:  # byte swap (to big endian) or truncation
                    x &= (1 << imm) - 1
                    if op & 8:
                        x = int.from_bytes(x.to_bytes(imm // 8, "little"), "big")
                else:
                    x = {0x00: lambda: x + y, 0x10: lambda: x - y, 0x20: lambda: x * y,
                         0x30: lambda: x // y if y else 0, 0x40: lambda: x | y,
                         0x50: lambda: x & y, 0x60: lambda: x << (y & 63),
                         0x70: lambda: x >> (y & 63), 0x80: lambda: -x,
                         0x90: lambda: x % y if y else x, 0xa0: lambda: x ^ y, 0xb0: lambda: y,
                         0xc0: lambda: sx(x, 64 if cls == 7 else 32) >> (y & 63)}[c]()
                regs[dst] = x & w
                pc += 1
                continue
            if cls in (5, 6):  # JMP, JMP32
                c = op & 0xf0
                if op == 0x95:  # exit
                    return regs[0]
                if op == 0x85:  # call
                    if src == 1:  # a function of the object
                        sy = self.rels[sec].get(pc)
                        tsec, tpc = ((sy["shndx"], sy["val"] // 8 + imm + 1) if sy
                                     else (sec, pc + imm + 1))
                        regs[0] = self.run(tsec, tpc, list(regs), depth + 1)
                    else:
                        regs[0] = self.helper(imm, regs)
                    for i in range(1, 6):
                        regs[i] = 0
                    pc += 1
                    continue
                if c == 0x00:  # ja
                    pc += 1 + (imm if cls == 6 else off)
                    continue
                bits = 32 if cls == 6 else 64
                x = regs[dst] if isinstance(regs[dst], int) else 1
                y = regs[src] if op & 8 else imm
                y = y if isinstance(y, int) else 1
                ux, uy = x & ((1 << bits) - 1), y & ((1 << bits) - 1)
                s1, s2 = sx(ux, bits), sx(uy, bits)
                taken = {0x10: ux == uy, 0x20: ux > uy, 0x30: ux >= uy, 0x40: bool(ux & uy),
                         0x50: ux != uy, 0x60: s1 > s2, 0x70: s1 >= s2, 0xa0: ux < uy,
                         0xb0: ux <= uy, 0xc0: s1 < s2, 0xd0: s1 <= s2}[c]
                pc += 1 + (off if taken else 0)
                continue
            size = {0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8}[op & 0x18]
            if cls == 1:  # LDX
                if not isinstance(regs[src], int):
                    sys.exit(f"bpfpath: load through {regs[src]} at {sec}:{pc}")
                regs[dst] = self.rd(regs[src] + off, size)
            elif cls == 3 and (op & 0xe0) == 0xc0:  # atomic add
                a = regs[dst] + off
                self.wr(a, size, self.rd(a, size) + regs[src])
            elif cls == 3:  # STX
                self.wr(regs[dst] + off, size, regs[src] if isinstance(regs[src], int) else 0)
            elif cls == 2:  # ST
                self.wr(regs[dst] + off, size, imm)
            else:
                sys.exit(f"bpfpath: unknown opcode {op:#x} at {sec}:{pc}")
            pc += 1


def source_lines(obj, secs, pcs):
    """{"file:line": instructions executed there}, from the object's line info (llvm-objdump)."""
    lines = collections.Counter()
    for sec in sorted({sc for sc, _ in pcs}):
        out = subprocess.run(["llvm-objdump", "-d", "-l", "--no-show-raw-insn", "-j",
                              secs[sec]["name"], obj], capture_output=True, text=True,
                             check=True).stdout
        cur = "?"
        for line in out.splitlines():
            m = re.match(r"^; (\S+:\d+)", line)
            if m:
                cur = m.group(1).split("/bpf/")[-1]
                continue
            m = re.match(r"^\s+(\d+):", line)
            if m:
                lines[cur] += pcs.get((sec, int(m.group(1))), 0)
    return lines


def pf_bucket_port(p):
    return (p ^ (p >> 8)) & 0xff


def pf_bucket_addr(a16):
    w = struct.unpack("<4I", a16)
    x = w[0] ^ w[1] ^ w[2] ^ w[3]
    x ^= x >> 16
    x ^= x >> 8
    return x & 0xff


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("obj", help="build/bpf/skbtrace.tmp.bpf.o")
    ap.add_argument("--prog", default="skbt_tpbtf_arg0",
                    help="entry point (skbt_tpbtf_arg0, skbt_tp_arg0, skbt_fentry, "
                         "skbt_kmulti_arg0, ...)")
    ap.add_argument("--sessions", type=int, default=64, choices=range(1, 65), metavar="1-64")
    ap.add_argument("--match", action="store_true", help="the sessions' port is the packet's")
    ap.add_argument("--mark", action="store_true",
                    help="the sessions filter on the mark alone (-m 0xdead)")
    ap.add_argument("--skb-arg", type=int, default=0, choices=range(6), metavar="0-5",
                    help="the skb's argument position (tracepoints, kprobes, fentry)")
    ap.add_argument("--nft", action="store_true",
                    help="a netfilter evaluator entry as nft_do_chain(pkt, chain)")
    ap.add_argument("--lines", action="store_true",
                    help="also the instructions executed per source line (llvm-objdump -l)")
    a = ap.parse_args()

    # The probe id in the low half of the stamp or cookie; its high half: an nftables
    # evaluator with pkt first and chain second (common/skbt_abi.h SKBT_NF_STAMP_*).
    probe = 5 | ((1 | (0 << 4) | (1 << 8) | (15 << 12)) << 32 if a.nft else 0)
    m = Machine(a.obj, probe, a.skb_arg)
    O = btf_offsets(a.obj)
    st, pf, ps = m.var["state"], m.var["prefilter"], m.var["probe_sessions"]
    sess = (1 << a.sessions) - 1
    S, F, P, X, K = (O["skbt_state"], O["skbt_filter"], O["skbt_prefilter"], O["skbt_prefix"],
                     O["sk_buff"])
    m.wr(st + S["active"], 8, sess)
    m.wr(ps + 8 * (probe & 0xffffffff), 8, sess)
    saddr, daddr = bytes([10, 231, 7, 1]) + bytes(12), bytes([10, 231, 7, 2]) + bytes(12)
    sport, dport = 40000, 47009
    sess_port = dport if a.match else 47999
    # The prefilter as the daemon builds it (daemon/probes/prefilter.c) for these sessions.
    for k in ("need_l3", "need_l4", "no_port", "no_addr"):
        m.wr(pf + P[k], 8, sess)
    m.wr(pf + P["proto"] + 8 * 17, 8, sess)
    for b in range(256):
        m.wr(pf + P["sport"] + 8 * b, 8, sess)
        m.wr(pf + P["saddr"] + 8 * b, 8, sess)
    m.wr(pf + P["dport"] + 8 * pf_bucket_port(sess_port), 8, sess)
    m.wr(pf + P["daddr"] + 8 * pf_bucket_addr(daddr), 8, sess)
    fsize = F["ifname"] + 16
    if a.mark:
        m.wr(st + S["need_mark"], 8, sess)
    for slot in range(a.sessions):
        f = st + S["filters"] + fsize * slot
        if a.mark:
            m.wr(f + F["flags"], 4, 1 << 0)  # SKBT_F_MARK
            m.wr(f + F["mark"], 4, 0xdead)
            m.wr(f + F["mark_mask"], 4, 0xffffffff)
            continue
        m.wr(f + F["flags"], 4, (1 << 2) | (1 << 4) | (1 << 7))  # SKBT_F_PROTO|DADDR|DPORT
        m.wr(f + F["proto"], 1, 17)
        m.wr(f + F["dport"], 2, sess_port)
        d = f + F["daddr"]
        m.wrb(d + X["addr"], daddr)
        m.wrb(d + X["mask"], b"\xff" * 4 + bytes(12))
        m.wr(d + X["l3"], 1, 4)
        m.wr(d + X["plen"], 1, 32)
    # The packet: IPv4/UDP with 64 bytes of payload, network header 64 bytes into the head.
    pkt = (bytes([0x45, 0, 0, 92, 0, 0, 0x40, 0, 64, 17, 0, 0]) + saddr[:4] + daddr[:4] +
           struct.pack(">HHHH", sport, dport, 72, 0) + bytes(64))
    m.wrb(m.HEAD + 64, pkt)
    m.wr(m.SKB + K["head"], 8, m.HEAD)
    m.wr(m.SKB + K["data"], 8, m.HEAD + 64)
    m.wr(m.SKB + K["tail"], 4, 64 + len(pkt))
    m.wr(m.SKB + K["end"], 4, 512)
    m.wr(m.SKB + K["len"], 4, len(pkt))
    m.wr(m.SKB + K["network_header"], 2, 64)
    m.wr(m.SKB + K["mac_header"], 2, 0xffff)
    m.wr(m.SKB + K["transport_header"], 2, 84)
    m.wr(m.SKB + K["protocol"], 2, 0x0008)  # htons(ETH_P_IP)
    if a.mark and a.match:
        m.wr(m.SKB + K["mark"], 4, 0xdead)
    m.wr(m.CTX + 8 * a.skb_arg, 8, m.SKB)  # raw_tp/tp_btf args[]
    regs = ("di", "si", "dx", "cx", "r8", "r9")  # kprobes: x86-64 argument registers
    m.wr(m.CTX + O["pt_regs"][regs[a.skb_arg]], 8, m.SKB)
    if a.nft:  # nft_do_chain(pkt, chain): pkt->skb at nf_conf.pkt_skb (0 here)
        m.wr(m.PKT, 8, m.SKB)
        m.wr(m.CTX + O["pt_regs"]["di"], 8, m.PKT)
        m.func_args = {0: m.PKT}

    entry = next((s for s in m.syms if s["name"] == a.prog), None)
    if entry is None:
        sys.exit(f"bpfpath: no program {a.prog} in {a.obj}")
    regs = [0] * 11
    regs[1] = m.CTX
    ret = m.run(entry["shndx"], entry["val"] // 8, regs)
    print(json.dumps({"prog": a.prog, "sessions": a.sessions, "match": a.match, "ret": ret,
                      "insns": m.count, "helpers": dict(sorted(m.helpers.items()))}))
    if a.lines:
        for where, n in sorted(source_lines(a.obj, m.secs, m.pcs).items()):
            if n:
                print(f"{n:6d} {where}")


if __name__ == "__main__":
    main()
