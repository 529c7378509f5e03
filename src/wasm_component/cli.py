"""The ``wasm-component`` command line: one entry point dispatching to each command's module.

Every command has ``--help`` with examples. Errors print ``error: ...`` (no traceback) and exit
with status 1; usage errors exit with 2. ``-v`` before the command prints the traceback of an
error and turns on debug logging (``logging`` at ``DEBUG`` on stderr).

Example::

    $ wasm-component inspect examples/hello.wat
    $ wasm-component -v run examples/greeter.wat --invoke 'greet("World")'
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback

from .errors import ComponentError

__all__ = ["main", "version"]

# command -> (module, one-line summary); each module has `main(argv) -> int`
COMMANDS: dict[str, tuple[str, str]] = {
    "run": (".run", "run a WASI command component, or call an export (--invoke, WAVE syntax)"),
    "inspect": (".inspect", "print a component's imports and exports (--json for JSON)"),
    "wit": (".wit.cli", "print the WIT of a component, or resolve a WIT package"),
    "bindgen": (".bindgen.cli", "generate typed Python bindings for a WIT world"),
    "serve": (".http.serve", "serve a wasi:http/proxy component over HTTP (uvicorn)"),
    "compile": (".compile", "compile a component ahead of time into a .cwasm"),
    "wast": (".wast", "run conformance tests (.wast files or json-from-wast test.json)"),
}

EXAMPLES = """examples:
  wasm-component run examples/greeter.wat --invoke 'greet("World")'
  wasm-component inspect --json examples/hello.wat
  wasm-component wit app.wasm
  wasm-component bindgen app.wit --world app -o app_bindings
  wasm-component serve proxy.wasm --addr 127.0.0.1:8080
  wasm-component compile app.wasm -o app.cwasm
  wasm-component wast tests.wast"""


def command_parser(cmd: str, description: str, examples: str) -> argparse.ArgumentParser:
    """The argument parser of ``wasm-component CMD``: its description, and its examples under
    ``--help``. Usage errors and ``--help`` raise ``SystemExit``, which :func:`main` turns into
    the exit status."""
    return argparse.ArgumentParser(prog=f"wasm-component {cmd}", description=description,
                                   epilog=examples,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def version() -> str:
    """The installed distribution's version (the source tree's when not installed)."""
    from importlib import metadata

    try:
        return metadata.version("wasm-component")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name.ljust(width)}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return (
        "usage: wasm-component [-h] [-V] [-v] COMMAND [ARGS...]\n\n"
        "The WebAssembly Component Model for Python.\n\ncommands:\n" + "\n".join(lines)
        + "\n\noptions:\n  -h, --help     show this help (COMMAND --help: a command's help)\n"
        "  -V, --version  print the version\n"
        "  -v, --verbose  tracebacks for errors, debug logging\n\n" + EXAMPLES
    )


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = False
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in ("-h", "--help"):
            print(usage())
            return 0
        if opt in ("-V", "--version"):
            print(f"wasm-component {version()}")
            return 0
        if opt in ("-v", "--verbose"):
            verbose = True
            continue
        print(f"error: unknown option `{opt}`\n\n{usage()}", file=sys.stderr)
        return 2
    if not args:
        print(usage(), file=sys.stderr)
        return 2
    cmd, rest = args[0], args[1:]
    if cmd == "help":
        if rest and rest[0] in COMMANDS:
            return _dispatch(rest[0], ["--help"], verbose)
        print(usage())
        return 0
    if cmd not in COMMANDS:
        print(f"error: unknown command `{cmd}`\n\n{usage()}", file=sys.stderr)
        return 2
    return _dispatch(cmd, rest, verbose)


def _dispatch(cmd: str, rest: list[str], verbose: bool) -> int:
    if verbose:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                            format="%(name)s: %(message)s")
    try:
        module = importlib.import_module(COMMANDS[cmd][0], __package__)
        status: int = module.main(rest)
        return status
    except SystemExit as e:  # argparse's --help and usage errors, `raise SystemExit(message)`
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)  # what Python does with a message, and its status 1
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `wasm-component inspect big.wasm | head`
        return 0
    except (ComponentError, OSError, UnicodeDecodeError) as e:
        if verbose:
            traceback.print_exc()
        print(f"error: {_message(e)}", file=sys.stderr)
        return 1
    except Exception as e:  # a bug: say so in one line; -v shows where
        if verbose:
            traceback.print_exc()
        hint = "" if verbose else " (run with -v for the traceback)"
        print(f"error: internal error in `{cmd}`: {type(e).__name__}: {e}{hint}",
              file=sys.stderr)
        return 1


def _message(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror and e.filename is not None:
        return f"{e.strerror}: `{e.filename}`"
    return str(e)
