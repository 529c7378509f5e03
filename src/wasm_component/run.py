"""``wasm-component run``: run a WASI command component, or call one of its exports.

The flags are ``wasmtime run``'s::

    wasm-component run [--dir HOST[::GUEST]]... [--env NAME[=VAL]]... [--invoke CALL]
                       [--no-cache] FILE [ARGS...]

Without ``--invoke`` it calls the component's ``wasi:cli/run`` export (WASI 0.2's, or 0.3's
``async`` one on an asyncio loop) with ``FILE ARGS...`` as the guest's arguments and inherited
stdio, and exits with the guest's code: 0, 1 when ``run``
returns ``err``, the code given to ``wasi:cli/exit``, or 134 when the guest traps (as wasmtime
does). ``--invoke`` calls any exported function, written in WAVE; functions inside exported
interfaces use wasmtime's names (``'wasi:cli/run@0.2.0#run()'``, ``'pkg:iface/iface.f(1)'``).
Imports that WASI does not cover trap when called.

Compiled components are cached under ``$XDG_CACHE_HOME/wasm-component`` (keyed by the file's
content, the engine settings and the library versions); ``--no-cache`` or
``WASM_COMPONENT_NO_CACHE=1`` turn that off, ``WASM_COMPONENT_CACHE_DIR`` moves it.

Example::

    $ wasm-component run examples/greeter.wat --invoke 'greet("World")'
    "Hello, World!"
    $ wasm-component run --env NAME=World --dir data::/data app.wasm --flag
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import types as t
from . import wave
from .component import _SER_MAGIC, Component
from .engine import Engine, Store
from .errors import ComponentError, NotSupported, Trap
from .instance import ExportIndex, Instance
from .linker import Linker
from .values import Ok

__all__ = ["cache_dir", "load_component", "main"]

#: exit status of a trapped guest (128 + SIGABRT, as ``wasmtime run``)
TRAP_EXIT = 134
_NO_CACHE_ENV = "WASM_COMPONENT_NO_CACHE"
_CACHE_DIR_ENV = "WASM_COMPONENT_CACHE_DIR"
#: a compile that takes longer than this says so on a terminal
_SLOW_COMPILE_S = 1.0


def cache_dir() -> Path:
    env = os.environ.get(_CACHE_DIR_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "wasm-component"


def _versions() -> str:
    from importlib import metadata

    out = []
    for dist in ("wasm-component", "wasmtime"):
        try:
            out.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            out.append(f"{dist}=?")
    out.append(_SER_MAGIC.hex())
    return ";".join(out)


def _cache_key(engine: Engine, data: bytes, settings: str) -> str:
    h = hashlib.sha256()
    for part in (_versions(), repr(engine.features), settings, sys.platform, os.uname().machine
                 if hasattr(os, "uname") else ""):
        h.update(part.encode())
        h.update(b"\0")
    h.update(data)
    return h.hexdigest()


def load_component(engine: Engine, path: str | os.PathLike[str], *, cache: bool = True,
                   settings: str = "default", progress: bool | None = None) -> Component:
    """``path`` compiled for ``engine``, from the on-disk cache when it was compiled before.

    ``settings`` names the engine's ``wasmtime.Config`` (part of the cache key: the CLI's
    engine is the default one). ``progress`` (default: stderr is a terminal) prints what a
    slow compile is doing.
    """
    data = Path(path).read_bytes()
    if data.startswith(_SER_MAGIC):  # compiled ahead of time (`wasm-component compile`)
        return Component.deserialize(engine, data)
    cache = cache and not os.environ.get(_NO_CACHE_ENV)
    entry = cache_dir() / f"{_cache_key(engine, data, settings)}.cwasm" if cache else None
    if entry is not None and entry.exists():
        try:
            return Component.deserialize(engine, entry.read_bytes())
        except ComponentError:
            pass  # stale or damaged (``deserialize`` checks it): compile again
    if progress is None:
        progress = sys.stderr.isatty()
    timer: threading.Timer | None = None
    said = threading.Event()
    if progress:
        mb = len(data) / 1e6

        def say() -> None:
            said.set()
            print(f"wasm-component: compiling {os.fspath(path)} ({mb:.1f} MB) to native "
                  f"code{'; it is cached for later runs' if entry else ''}...",
                  file=sys.stderr, flush=True)

        timer = threading.Timer(_SLOW_COMPILE_S, say)
        timer.daemon = True
        timer.start()
    t0 = time.perf_counter()
    try:
        component = Component.new(engine, data)
    finally:
        if timer is not None:
            timer.cancel()
    if said.is_set():
        print(f"wasm-component: compiled in {time.perf_counter() - t0:.1f} s", file=sys.stderr,
              flush=True)
    if entry is not None:
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            tmp = entry.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(component.serialize())
            os.replace(tmp, entry)
        except OSError:
            pass  # a read-only cache is not an error
    return component


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="wasm-component run",
        description="Run a WASI command component (its wasi:cli/run), or call an export.")
    p.add_argument("--dir", action="append", default=[], metavar="HOST[::GUEST]",
                   help="preopen host directory HOST, seen by the guest as GUEST")
    p.add_argument("--env", action="append", default=[], metavar="NAME[=VAL]",
                   help="set NAME for the guest (without =VAL: this process's value)")
    p.add_argument("--invoke", metavar="CALL",
                   help="call an export instead of wasi:cli/run, e.g. 'add(1, 2)' or "
                        "'wasi:cli/run@0.2.0#run()'")
    p.add_argument("-S", "--wasi", action="append", default=[], metavar="OPT[=y|n]",
                   help="a WASI option, as wasmtime run's -S: inherit-network (any address), "
                        "allow-ip-name-lookup, network-error-code (the @unstable function)")
    p.add_argument("--no-cache", action="store_true",
                   help=f"do not use the compiled-component cache (or set {_NO_CACHE_ENV}=1)")
    p.add_argument("file", help="the component (.wasm or .wat)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the guest's arguments")
    ns = p.parse_args(list(argv))
    # the older order `run FILE --invoke CALL` (before guest arguments existed)
    if ns.invoke is None and len(ns.args) == 2 and ns.args[0] == "--invoke":
        ns.invoke, ns.args = ns.args[1], []
    return ns


def _config(ns: argparse.Namespace) -> Any:
    from .wasi import WasiConfig

    config = WasiConfig().inherit_stdio().args(ns.file, *ns.args)
    for item in ns.env:
        name, eq, value = item.partition("=")
        if not eq:
            if name not in os.environ:
                continue
            value = os.environ[name]
        config.env(name, value)
    for d in ns.dir:
        host, sep, guest = d.partition("::")
        try:
            config.preopen_dir(host, guest if sep else host)
        except ValueError as e:  # a directory that is not there: a usage error, not a bug
            raise SystemExit(f"wasm-component run: `--dir {d}`: {e}") from None
    for opt in ns.wasi:
        _wasi_option(config, opt)
    return config


def _wasi_option(config: Any, opt: str) -> None:
    """``-S NAME[=y|n]`` (sockets are denied unless these allow them)."""
    name, eq, value = opt.partition("=")
    if value.lower() not in ("", "y", "yes", "true", "1", "n", "no", "false", "0"):
        raise SystemExit(f"wasm-component run: `-S {opt}`: expected y or n, got {value!r}")
    on = not eq or value.lower() in ("y", "yes", "true", "1")
    if name == "inherit-network":
        if on:
            config.inherit_network()
    elif name == "allow-ip-name-lookup":
        config.allow_ip_name_lookup(on)
    elif name not in _WASI_FEATURES:
        raise SystemExit(f"wasm-component run: unknown WASI option `-S {name}` (known: "
                         f"inherit-network, allow-ip-name-lookup, {', '.join(_WASI_FEATURES)})")


#: ``-S`` options that enable ``@unstable`` WASI functions (linked by ``add_wasip2``)
_WASI_FEATURES = ("network-error-code",)


def _wasi_features(ns: argparse.Namespace) -> list[str]:
    """The ``@unstable`` features the ``-S`` options turn on (the last mention of each wins)."""
    on: dict[str, bool] = {}
    for opt in ns.wasi:
        name, eq, value = opt.partition("=")
        if name in _WASI_FEATURES:
            on[name] = not eq or value.lower() in ("y", "yes", "true", "1")
    return [name for name, yes in on.items() if yes]


def _functions(component: Component) -> list[tuple[str, tuple[str, ...]]]:
    """Every exported function: its wasmtime-style name and export path."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for name, ty in component.component_type().exports:
        if isinstance(ty, t.FuncType):
            out.append((name, (name,)))
        elif isinstance(ty, t.InstanceType):
            out.extend((f"{name}#{n}", (name, n)) for n, sub in ty.exports
                       if isinstance(sub, t.FuncType))
    return out


def _semver_base(iface: str) -> tuple[str, str] | None:
    from .linker import _track

    tr = _track(iface)
    return None if tr is None else (tr[0], iface)


def _find(component: Component, name: str) -> tuple[str, ...] | None:
    """The export path of function ``name`` (``f``, ``iface#f``, ``iface.f``; an interface
    version matches semver-compatibly when there is no exact match)."""
    funcs = _functions(component)
    for display, path in funcs:
        if name == display or (len(path) == 2 and name == f"{path[0]}.{path[1]}"):
            return path
    for sep in ("#", "."):
        iface, s, fname = name.rpartition(sep)
        if not s:
            continue
        want = _semver_base(iface)
        if want is None:
            continue
        for _display, path in funcs:
            if len(path) == 2 and path[1] == fname:
                have = _semver_base(path[0])
                if have is not None and have[0] == want[0]:
                    return path
    return None


def _export_index(instance: Instance, store: Store, path: tuple[str, ...]) -> ExportIndex:
    idx: ExportIndex | None = None
    for p in path:
        idx = instance.get_export_index(store, p, idx)
        assert idx is not None, "the path came from the component's type"
    assert idx is not None
    return idx


def _invoke(component: Component, instance: Instance, store: Store, call: str) -> int:
    paren = call.find("(")
    name = (call[:paren] if paren >= 0 else call).strip()
    path = _find(component, name)
    if path is None:
        names = [d for d, _ in _functions(component)]
        listing = "\n".join(f"  {n}" for n in names) or "  (none)"
        print(f"error: the component has no function export `{name}`; its exports:\n{listing}",
              file=sys.stderr)
        return 1
    func = instance.get_func(store, _export_index(instance, store, path))
    assert func is not None
    _, values = wave.parse_call("f" + (call[paren:] if paren >= 0 else "()"),
                                [ty for _, ty in func.params()])
    result = func(store, *values)
    results = func.results()
    if results:
        print(wave.to_wave(results[0], result))
    return 0


#: the ``wasi:cli/run`` interfaces ``run`` calls, and whether each is WASI 0.3's (async)
_RUN_EXPORTS = (("wasi:cli/run@0.2.", False), ("wasi:cli/run@0.3.", True))


def _run_export(component: Component) -> tuple[tuple[str, ...], bool] | None:
    """The export path of the component's ``wasi:cli/run#run``, and whether it is 0.3's."""
    for display, path in _functions(component):
        for prefix, is_p3 in _RUN_EXPORTS:
            if display.startswith(prefix) and path[-1] == "run":
                return path, is_p3
    return None


async def _run_p3(linker: Linker, store: Store, component: Component,
                  path: tuple[str, ...]) -> Any:  # fmt: skip
    """Instantiate and call WASI 0.3's ``run`` (an ``async func``) on this asyncio loop; when
    it returns, wait for the output the guest handed to stdout/stderr to be written."""
    from .wasi.p3 import drain

    instantiate_async = getattr(linker, "instantiate_async", None)
    if instantiate_async is None:
        raise NotSupported("running a WASI 0.3 command (`wasi:cli/run@0.3`) needs the "
                           "component-model async runtime (`Linker.instantiate_async`), which "
                           "is not built yet")
    instance = await instantiate_async(store, component)
    run = instance.get_func(store, _export_index(instance, store, path))
    assert run is not None
    try:
        return await run.call_async(store)
    finally:
        await drain(store.wasi)


def main(argv: Sequence[str]) -> int:
    from .wasi import WasiExit

    ns = _parse_args(argv)
    engine = Engine()
    component = load_component(engine, ns.file, cache=not ns.no_cache)
    linker = Linker(engine)
    linker.add_wasip2(features=_wasi_features(ns))
    linker.add_wasip3()  # side by side, as `wasmtime run`: 0.3 components import 0.2 too
    linker.define_unknown_imports_as_traps(component)
    store = Store(engine)
    store.set_wasi(_config(ns))
    try:
        found = None if ns.invoke is not None else _run_export(component)
        if found is not None and found[1]:
            result = asyncio.run(_run_p3(linker, store, component, found[0]))
            return 0 if isinstance(result, Ok) else 1
        instance = linker.instantiate(store, component)
        if ns.invoke is not None:
            return _invoke(component, instance, store, ns.invoke)
        if found is None:
            names = "\n".join(f"  {d}" for d, _ in _functions(component)) or "  (none)"
            print("error: the component exports no `wasi:cli/run` (use --invoke to call one "
                  f"of its exports):\n{names}", file=sys.stderr)
            return 1
        run = instance.get_func(store, _export_index(instance, store, found[0]))
        assert run is not None
        result = run(store)
        return 0 if isinstance(result, Ok) else 1
    except WasiExit as e:
        return e.exit_code
    except Trap as e:
        _flush()
        print(f"error: {e}", file=sys.stderr)
        return TRAP_EXIT
    finally:
        _flush()


def _flush() -> None:
    for s in (sys.stdout, sys.stderr):
        if s is not None:  # None: the process was started with that descriptor closed
            with contextlib.suppress(OSError, ValueError):
                s.flush()
