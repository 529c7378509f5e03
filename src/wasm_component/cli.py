"""The ``wasm-component`` command line: ``inspect``, ``wast``, ``run``, ``wit``, ``bindgen``.

Example::

    $ wasm-component inspect examples/hello.wat
"""

from __future__ import annotations

import sys

from .errors import ComponentError

__all__ = ["main"]

USAGE = """usage: wasm-component COMMAND ...

commands:
  inspect FILE                 print a component's imports and exports as a WIT-like world
  wast [-v] PATH...            run conformance tests (test.json from json-from-wast, or .wast)
  run FILE --invoke 'f(args)'  instantiate a component and call an export (WAVE syntax)
  wit [--json] PATH            print the WIT of a component, or resolve a WIT package
  bindgen WIT --world NAME -o DIR   generate typed Python bindings
  serve FILE [--addr HOST:PORT]     serve a wasi:http/proxy component (uvicorn)
"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if args else 2
    cmd, rest = args[0], args[1:]
    try:
        if cmd == "inspect":
            from .inspect import main as inspect_main

            return inspect_main(rest)
        if cmd == "wast":
            from .wast import main as wast_main

            return wast_main(rest)
        if cmd == "run":
            from .run import main as run_main

            return run_main(rest)
        if cmd == "wit":
            from .wit.cli import main as wit_main

            return wit_main(rest)
        if cmd == "bindgen":
            from .bindgen.cli import main as bindgen_main

            return bindgen_main(rest)
        if cmd == "serve":
            return _serve(rest)
    except (ComponentError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"error: unknown command `{cmd}`\n\n{USAGE}", file=sys.stderr)
    return 2


def _serve(rest: list[str]) -> int:
    """``wasm-component serve``: see :mod:`wasm_component.http.serve`."""
    from .http.serve import main as serve_main

    return serve_main(rest)
