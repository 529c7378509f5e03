"""``wasm-component bindgen WIT --world NAME -o DIR``: write typed Python bindings.

``WIT`` is always a path (a ``.wit`` file or a package directory), or ``-`` for source text on
stdin; ``--wit-source TEXT`` gives the source on the command line instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ComponentError

__all__ = ["main"]

EXAMPLES = """examples:
  wasm-component bindgen app.wit --world app -o out/app_bindings
  wasm-component bindgen wit/ -w app -o out/app_bindings --with wasi:cli/env=myenv
  cat app.wit | wasm-component bindgen - -w app -o out/app_bindings
  wasm-component bindgen --wit-source 'package a:b; world w { export f: func(); }' -o out/w

Then `import app_bindings` (with out/ on sys.path); the package passes `mypy --strict`."""


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="wasm-component bindgen",
        description="Generate a Python package of typed bindings for a WIT world.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("wit", nargs="?",
                    help="a .wit file or a WIT package directory (with deps/); `-` reads WIT "
                         "source from stdin")
    ap.add_argument("--wit-source", metavar="TEXT", help="WIT source text instead of a path")
    ap.add_argument("--world", "-w", help="the world (needed when the package has several)")
    ap.add_argument("-o", "--out", required=True, help="output directory (the package)")
    ap.add_argument("--features", default="", help="comma-separated @unstable features")
    ap.add_argument("--all-features", action="store_true", help="enable every feature")
    ap.add_argument("--with", dest="with_", action="append", default=[], metavar="KEY=MODULE",
                    help="use an existing module for an interface (ns:pkg/iface=py.module) "
                         "or class for an imported resource (ns:pkg/iface/res=py.module:Class)")
    ap.add_argument("--base", action="append", default=[], metavar="MODULE:NAME",
                    help="extra base class for records and variant cases")
    ap.add_argument("--decorator", action="append", default=[], metavar="MODULE:NAME",
                    help="extra decorator for records, variant cases, enums and flags")
    ap.add_argument("--no-type-check", action="store_true",
                    help="do not pass WIT signatures to the linker for link-time checks")
    ap.add_argument("--no-docs", action="store_true",
                    help="leave the WIT's doc comments out of the generated docstrings")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    if (args.wit is None) == (args.wit_source is None):
        print("error: give one WIT input: a path, `-` (stdin) or --wit-source TEXT",
              file=sys.stderr)
        return 2
    from . import WitSource

    wit: WitSource | Path
    if args.wit_source is not None:
        wit = WitSource(args.wit_source)
    elif args.wit == "-":
        wit = WitSource(sys.stdin.read())
    else:
        wit = Path(args.wit)
    with_: dict[str, str] = {}
    for item in args.with_:
        key, eq, value = item.partition("=")
        if not eq:
            print(f"error: --with expects KEY=VALUE, got `{item}`", file=sys.stderr)
            return 2
        with_[key] = value
    from . import write

    try:
        written = write(
            wit, args.out, args.world,
            features=[f for f in args.features.split(",") if f],
            all_features=args.all_features, with_=with_, bases=args.base,
            decorators=args.decorator, type_check=not args.no_type_check,
            docs=not args.no_docs,
        )
    except ComponentError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for p in written:
        print(p)
    return 0
