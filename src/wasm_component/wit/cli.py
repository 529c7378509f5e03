"""``wasm-component wit [--json] [--features a,b] [--all-features] PATH``.

- PATH a component (``.wasm`` binary or ``.wat`` text): print the WIT world its imports and exports
  describe (as ``wasm-tools component wit`` does), or the WIT package it encodes;
- PATH a ``.wit`` file or a directory: resolve it and print the package(s).

``--json`` prints wit-parser's JSON form instead of WIT text. Errors print ``error: ...`` and
exit with status 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import ComponentError
from .json import dumps
from .printer import print_resolve
from .resolve import Resolve

__all__ = ["main"]

USAGE = """usage: wasm-component wit [--json] [--features a,b] [--all-features] PATH

Print the WIT world a component's imports and exports describe (or the WIT package it encodes),
or resolve a .wit file or package directory and print it. Components are only decoded: nothing
is compiled.

options:
  --json            wit-parser's JSON form instead of WIT text
  --features a,b    enable these @unstable features (WIT input)
  --all-features    enable every @unstable feature (WIT input)

examples:
  wasm-component wit app.wasm
  wasm-component wit --json app.wasm | jq '.worlds'
  wasm-component wit --features fancy wit/"""


def _is_binary_input(path: Path) -> bool:
    if path.suffix in (".wasm", ".wat"):
        return True
    if path.is_file():
        with open(path, "rb") as f:
            return f.read(4) == b"\x00asm"
    return False


def render(path: str, as_json: bool = False, features: set[str] | None = None,
           all_features: bool = False) -> str:
    """What ``wasm-component wit`` prints for ``path`` (without the trailing newline rules)."""
    from .from_component import component_to_resolve, decode_wit_package, is_wit_package

    p = Path(path)
    if not p.exists():
        raise ComponentError(f"no such file or directory: {path}")
    if _is_binary_input(p):
        data = p.read_bytes()
        if is_wit_package(data):
            resolve, main = decode_wit_package(data)
        else:
            resolve, wid = component_to_resolve(data)
            pkg = resolve.worlds[wid].package
            assert pkg is not None
            main = pkg
        return dumps(resolve) if as_json else print_resolve(resolve, main)
    resolve = Resolve(features=features, all_features=all_features)
    main = resolve.push_path(p)
    return dumps(resolve) if as_json else print_resolve(resolve, main)


def main(argv: list[str]) -> int:
    as_json = False
    all_features = False
    features: set[str] = set()
    paths: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-h", "--help"):
            print(USAGE)
            return 0
        if a == "--json":
            as_json = True
        elif a == "--all-features":
            all_features = True
        elif a == "--features" or a.startswith("--features="):
            if a == "--features":
                i += 1
                if i >= len(args):
                    print("error: --features needs a value", file=sys.stderr)
                    return 1
                value = args[i]
            else:
                value = a.split("=", 1)[1]
            features.update(f.strip() for f in value.split(",") if f.strip())
        elif a.startswith("-") and a != "-":
            print(f"error: unknown option `{a}`\n{USAGE}", file=sys.stderr)
            return 1
        else:
            paths.append(a)
        i += 1
    if len(paths) != 1:
        print(f"error: expected exactly one PATH\n{USAGE}", file=sys.stderr)
        return 1
    try:
        text = render(paths[0], as_json, features, all_features)
    except (ComponentError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
