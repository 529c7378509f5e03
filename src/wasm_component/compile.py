"""``wasm-component compile FILE [-o OUT]``: compile a component ahead of time.

Writes :meth:`Component.serialize` output (the component plus its natively compiled core
modules), which :meth:`Component.deserialize_file` loads without compiling again. Like
``wasmtime compile``'s ``.cwasm``, the file is valid only for the same wasm-component and
wasmtime versions and engine settings, and should only be loaded from a trusted source.

Example::

    $ wasm-component compile app.wasm -o app.cwasm
    >>> component = Component.deserialize_file(Engine(), "app.cwasm")
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["main"]

EXAMPLES = """examples:
  wasm-component compile app.wasm                 writes app.cwasm
  wasm-component compile app.wat -o /tmp/app.cwasm

Load the result with `Component.deserialize_file(engine, "app.cwasm")`."""


def main(argv: list[str]) -> int:
    from .cli import command_parser
    from .component import Component
    from .engine import Engine

    ap = command_parser("compile", "Compile a component ahead of time into a .cwasm file "
                        "(for Component.deserialize_file).", EXAMPLES)
    ap.add_argument("file", help="the component (.wasm binary or .wat text)")
    ap.add_argument("-o", "--output", metavar="OUT",
                    help="where to write it (default: FILE with the suffix .cwasm)")
    ns = ap.parse_args(argv)
    src = Path(ns.file)
    out = Path(ns.output) if ns.output else src.with_suffix(".cwasm")
    if out.resolve() == src.resolve():
        print(f"error: the output `{out}` would overwrite the input", file=sys.stderr)
        return 2
    data = Component.from_file(Engine(), src).serialize()
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    return 0
