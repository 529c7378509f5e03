"""A synthetic WIT package set the size of WASI 0.2, for timing the parser and resolver.

WASI 0.2 is ~7 packages, ~45 interfaces, ~4,500 lines of WIT, with resources, records,
variants, flags, ``use`` across interfaces and packages, and worlds importing most of it. This
generator produces the same shape so the benchmark needs no network or vendored copy.
"""

from __future__ import annotations

from pathlib import Path

PACKAGES = ["io", "clocks", "random", "filesystem", "sockets", "cli", "http"]
IFACES_PER_PACKAGE = 7
RECORDS = 3
RESOURCES = 1
METHODS = 8
FUNCS = 4


DOC = [
    "/// Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.",
    "/// Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip.",
    "///",
    "/// Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu.",
]


def _interface(pkg_index: int, i: int) -> str:
    lines = [*DOC, f"interface i{i} {{"]
    if i > 0:
        lines.append(f"  use i{i - 1}.{{error-code, r0 as prev-r0}};")
    elif pkg_index > 0:
        dep = PACKAGES[pkg_index - 1]
        lines.append(f"  use wasi:{dep}/i0@0.2.0.{{error-code as dep-error, r0 as dep-r0}};")
    if i == 0:
        lines.append("  enum error-code {")
        lines += [f"    code{n}," for n in range(20)]
        lines.append("  }")
    for n in range(RECORDS):
        lines += [f"  {d}" for d in DOC]
        lines.append(f"  record rec{n} {{")
        lines += [
            "    name: string,",
            "    size: u64,",
            "    tags: list<string>,",
            "    when: option<tuple<u64, u32>>,",
        ]
        lines.append("  }")
    for n in range(2):
        lines.append(f"  variant var{n} {{")
        lines += [f"    case{c}(rec{c % RECORDS})," for c in range(4)]
        lines += ["    none,", "    other(string),"]
        lines.append("  }")
    lines.append("  flags perms { read, write, execute, mutate, enumerate, delete }")
    for n in range(RESOURCES):
        lines += [f"  {d}" for d in DOC]
        lines.append(f"  resource r{n} {{")
        lines.append("    constructor(init: list<u8>);")
        for m in range(METHODS):
            lines += [f"    {d}" for d in DOC]
            lines.append(
                f"    op{m}: func(offset: u64, data: list<u8>, opts: option<perms>) -> "
                f"result<tuple<u64, rec{m % RECORDS}>, error-code>;"
            )
        lines.append(f"    open: static func(path: string) -> result<r{n}, error-code>;")
        lines.append("  }")
    for n in range(FUNCS):
        lines += [f"  {d}" for d in DOC]
        lines.append(
            f"  fn{n}: func(a: borrow<r{n % RESOURCES}>, b: list<rec{n % RECORDS}>, c: var{n % 2}) -> "
            "result<list<u8>, error-code>;"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def package_text(pkg_index: int) -> str:
    name = PACKAGES[pkg_index]
    parts = [f"package wasi:{name}@0.2.0;\n"]
    parts += [_interface(pkg_index, i) for i in range(IFACES_PER_PACKAGE)]
    imports = "\n".join(f"  import i{i};" for i in range(IFACES_PER_PACKAGE))
    parts.append(f"world imports {{\n{imports}\n  export i{IFACES_PER_PACKAGE - 1};\n}}\n")
    return "\n".join(parts)


def write_tree(root: Path) -> Path:
    """Write the set as ``root/wit`` (last package) with the others under ``root/wit/deps``."""
    wit = root / "wit"
    (wit / "deps").mkdir(parents=True)
    for i, name in enumerate(PACKAGES[:-1]):
        d = wit / "deps" / name
        d.mkdir()
        (d / "package.wit").write_text(package_text(i))
    (wit / "main.wit").write_text(package_text(len(PACKAGES) - 1))
    return wit
