#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_params_docs.py - the method and parameter tables against the interface file and the docs.

    test_params_docs.py DUMP_PARAMS SOURCE_DIR

DUMP_PARAMS prints the daemon's method table with each method's parameter
rows, the error table and the client-only options (tests/unit/dump_params.c).
Checked, both ways where it makes sense:
  - varlink/io.skbtraced.varlink and varlink/org.varlink.service.varlink: every
    method has a row in the table and the table no method the file lacks; each
    method's input members are the rows (names, types, optional unless required,
    nested Filter members, enum values); every error the daemon sends is declared
    with the member it carries;
  - docs/protocol.md: every Trace and filter row is in the parameter tables, with
    its type word and its range, length limit or values; no table row is unknown;
  - docs/ipftctl.1: every command-line spelling of a Trace row (and of the
    client's own options) heads an item, and every item of the trace options
    is a row.
"""

import json
import os
import re
import subprocess
import sys

failures = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL: {msg}", file=sys.stderr)


# ---- a small parser of the varlink interface definition language ----

_TOKEN = re.compile(r"\s*(->|\[string\]|\[\]|[(),:?]|[A-Za-z_][A-Za-z0-9_.\-]*)")


def tokenize(text):
    text = re.sub(r"#[^\n]*", "", text)
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"IDL: cannot read {text[pos:pos + 30]!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


class Parser:
    def __init__(self, text):
        self.t = tokenize(text)
        self.i = 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, want=None):
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise ValueError(f"IDL: expected {want!r}, got {tok!r} at token {self.i}")
        self.i += 1
        return tok

    def type(self):
        tok = self.take()
        if tok == "?":
            return ("maybe", self.type())
        if tok == "[]":
            return ("array", self.type())
        if tok == "[string]":
            return ("map", self.type())
        if tok in ("bool", "int", "float", "string", "object"):
            return (tok,)
        if tok == "(":
            self.i -= 1
            return self.struct()
        return ("alias", tok)

    def struct(self):
        self.take("(")
        fields, enum = [], None
        while self.peek() != ")":
            name = self.take()
            if self.peek() == ":":
                self.take(":")
                fields.append((name, self.type()))
                enum = False
            else:
                fields.append((name, None))
                enum = True if enum is None else enum
            if self.peek() == ",":
                self.take(",")
        self.take(")")
        if enum:
            return ("enum", [n for n, _ in fields])
        return ("struct", fields)

    def parse(self):
        self.take("interface")
        idl = {"name": self.take(), "types": {}, "methods": {}, "errors": {}}
        while self.peek() is not None:
            kw = self.take()
            name = self.take()
            if kw == "type":
                idl["types"][name] = self.type()
            elif kw == "method":
                inp = self.struct()
                self.take("->")
                idl["methods"][name] = (inp, self.struct())
            elif kw == "error":
                idl["errors"][name] = self.struct()
            else:
                raise ValueError(f"IDL: unknown keyword {kw!r}")
        return idl


def resolve(idl, t):
    while t[0] == "alias":
        if t[1] not in idl["types"]:
            raise ValueError(f"IDL: unknown type {t[1]}")
        t = idl["types"][t[1]]
    return t


# ---- rows against the IDL ----

ROW_IDL = {"bool": ("bool",), "uint": ("int",), "seconds": ("float",), "string": ("string",),
           "prefix": ("string",), "proto": ("string",), "strings": ("array", ("string",))}


def check_row_type(idl, where, row, t):
    if not row["required"]:
        if t[0] != "maybe":
            fail(f"{where}: optional in the table, not in the IDL ({t})")
            return
        t = t[1]
    elif t[0] == "maybe":
        fail(f"{where}: required in the table, optional in the IDL")
        return
    kind = row["type"]
    if kind == "object":
        check_members(idl, where, row["sub"], resolve(idl, t))
    elif kind == "enum":
        t = resolve(idl, t)
        if t == ("string",):
            return  # values the IDL cannot name (aggregate-json): documented as a string
        if t[0] != "enum" or sorted(t[1]) != sorted(row["values"]):
            fail(f"{where}: IDL {t}, table values {row['values']}")
    elif ROW_IDL.get(kind) != t:
        fail(f"{where}: IDL type {t}, table type {kind} (want {ROW_IDL.get(kind)})")


def check_members(idl, where, rows, t):
    if t[0] != "struct":
        fail(f"{where}: IDL type {t} is not a struct")
        return
    members = dict(t[1])
    named = {r["name"]: r for r in rows if "name" in r}
    for name in sorted(set(named) - set(members)):
        fail(f"{where}: parameter {name} is in the table, not in the IDL")
    for name in sorted(set(members) - set(named)):
        fail(f"{where}: parameter {name} is in the IDL, not in the table")
    for name in sorted(set(named) & set(members)):
        check_row_type(idl, f"{where}.{name}", named[name], members[name])


def check_idl(tables, idls):
    seen = set()
    for m in tables["methods"]:
        iface, _, method = m["name"].rpartition(".")
        idl = idls.get(iface)
        if not idl or method not in idl["methods"]:
            fail(f"method {m['name']} is served but not declared in an interface file")
            continue
        seen.add(m["name"])
        check_members(idl, m["name"], m["params"], idl["methods"][method][0])
    for iface, idl in idls.items():
        for method in idl["methods"]:
            if f"{iface}.{method}" not in seen:
                fail(f"{iface}.{method} is declared but has no handler in the method table")
    for e in tables["errors"]:
        iface, _, name = e["name"].rpartition(".")
        idl = idls.get(iface)
        if not idl or name not in idl["errors"]:
            fail(f"error {e['name']} is sent but not declared")
            continue
        members = dict(idl["errors"][name][1]) if idl["errors"][name][0] == "struct" else {}
        if e.get("key") and e["key"] not in members:
            fail(f"error {e['name']} carries {e['key']}, which the IDL does not declare")
        if iface == "io.skbtraced" and "message" not in members:
            fail(f"error {e['name']}: the IDL does not declare its message")


# ---- rows against docs/protocol.md ----

DOC_TYPE = {"bool": "boolean", "uint": "integer", "seconds": "number", "string": "string",
            "prefix": "string", "proto": "string", "enum": "string",
            "strings": "array of strings", "object": "object"}


def protocol_tables(md):
    """{member name: (type cell, meaning cell)} of the Trace section's parameter tables."""
    sect = md.split("### `io.skbtraced.Trace`", 1)[1].split("\n### ", 1)[0]
    out = {}
    for line in sect.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or set(cells[0]) <= set("-: "):
            continue
        for name in re.findall(r"`([a-z0-9_]+)`", cells[0]):
            out[name] = (cells[1], "|".join(cells[2:]))
    return out


def expected_text(row):
    kind = row["type"]
    if kind == "uint":
        return [f"{row['min']} .. {row['max']}"]
    if kind == "seconds":
        return [f"at most {int(row['fmax'])}"]
    if kind == "strings":
        return [f"{row['min']} to {row['max']}"]
    if kind == "string":
        return [f"at most {row['max_len']} bytes"]
    if kind == "enum":
        return [f"`{v}`" for v in row["values"]]
    return []


def check_protocol(tables, md):
    docs = protocol_tables(md)
    trace = next(m for m in tables["methods"] if m["name"] == "io.skbtraced.Trace")
    rows = [r for r in trace["params"] if "name" in r]
    rows += [r for r in next(r for r in rows if r["type"] == "object")["sub"] if "name" in r]
    names = {r["name"] for r in rows}
    for r in rows:
        if r["name"] not in docs:
            fail(f"docs/protocol.md: Trace parameter {r['name']} is not documented")
            continue
        typ, meaning = docs[r["name"]]
        if typ != DOC_TYPE[r["type"]]:
            fail(f"docs/protocol.md: {r['name']} is documented as {typ!r}, "
                 f"want {DOC_TYPE[r['type']]!r}")
        for text in expected_text(r):
            if text not in meaning:
                fail(f"docs/protocol.md: {r['name']}: the meaning does not say {text!r}")
    for name in sorted(set(docs) - names - {"member"}):
        fail(f"docs/protocol.md documents Trace parameter {name}, which the table lacks")


# ---- command-line spellings against docs/ipftctl.1 ----

def man_items(man):
    """The .TP heading lines of the trace options (.SS trace ... and .SH FILTERS)."""
    items, section, lines = [], "", man.splitlines()
    for i, line in enumerate(lines):
        if line.startswith((".SH ", ".SS ")):
            section = line
        elif line == ".TP" and i + 1 < len(lines) and \
                ("trace" in section or section == ".SH FILTERS"):
            items.append(lines[i + 1])
    return items


def spelled(row, line):
    s, l = row.get("short"), row.get("long")
    # A '-' inside an option's name is written \- in roff (--rotate\-size).
    line = re.sub(r"(?<=[a-z])\\-(?=[a-z])", "-", line)
    if s and l:
        return f'\\-{s} ", " \\-\\-{l}' in line
    if l:
        # A hyphen inside the name is escaped in roff too (\-\-wait\-attached).
        name = re.escape(l).replace(r"\-", r"\\?-")
        return re.search(rf'\\-\\-{name}(\s|"|$)', line) is not None
    return line.strip() == f".B \\-{s}"


def cli_rows(tables):
    trace = next(m for m in tables["methods"] if m["name"] == "io.skbtraced.Trace")
    rows = []

    def walk(rs):
        for r in rs:
            if r["type"] == "object":
                walk(r["sub"])
            elif r.get("short") or r.get("long"):
                rows.append(r)
    walk(trace["params"])
    walk(tables["client_options"])
    return rows


def check_man(tables, man):
    items = man_items(man)
    rows = cli_rows(tables)
    for r in rows:
        if not any(spelled(r, line) for line in items):
            fail(f"docs/ipftctl.1: option {r.get('short') or ''} {r.get('long') or ''} "
                 f"has no item among the trace options")
    for line in items:
        if not any(spelled(r, line) for r in rows):
            fail(f"docs/ipftctl.1: trace option item {line!r} is no option of the table")


def main():
    dump, src = sys.argv[1], sys.argv[2]
    tables = json.loads(subprocess.run([dump], check=True, capture_output=True,
                                       text=True).stdout)
    idls = {}
    for f in ("io.skbtraced.varlink", "org.varlink.service.varlink"):
        with open(os.path.join(src, "varlink", f), encoding="utf-8") as fh:
            idl = Parser(fh.read()).parse()
        idls[idl["name"]] = idl
    check_idl(tables, idls)
    with open(os.path.join(src, "docs", "protocol.md"), encoding="utf-8") as fh:
        check_protocol(tables, fh.read())
    with open(os.path.join(src, "docs", "ipftctl.1"), encoding="utf-8") as fh:
        check_man(tables, fh.read())
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print(f"ok: {len(tables['methods'])} methods, {len(cli_rows(tables))} options, "
          f"{len(tables['errors'])} errors checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
