"""WASI 0.2 in Python: the host side of ``wasi:io``, ``wasi:clocks``, ``wasi:random``,
``wasi:cli``, ``wasi:filesystem`` and ``wasi:sockets``, written on the public API.

Components built against any WASI 0.2.x (0.2.0 through 0.2.12) link: the linker matches
interface versions semver-compatibly. Every interface is a Python class implementing the
Protocol that ``wasm-component bindgen`` generated from the WASI WIT (``wasi._bindings``);
:func:`register` replaces or adds one.

Example::

    from wasm_component import Component, Engine, Linker, Store
    from wasm_component.wasi import WasiConfig

    engine = Engine()
    component = Component.from_file(engine, "app.wasm")
    linker = Linker(engine)
    linker.add_wasip2()                      # or: wasm_component.wasi.add_to_linker(linker)
    store = Store(engine)
    store.set_wasi(WasiConfig().inherit_stdio().args("app"))
    instance = linker.instantiate(store, component)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .config import INHERIT, Preopen, WasiConfig
from .ctx import REGISTRY, WasiCtx, WasiExit, register
from .io import (
    InputStream,
    IoError,
    OutputStream,
    Pollable,
    StreamClosed,
    StreamFailed,
    poll,
)
from .sockets_net import SocketAddrUse, SocketPolicy

if TYPE_CHECKING:
    from ..engine import Store
    from ..linker import Linker

__all__ = [
    "INHERIT",
    "REGISTRY",
    "InputStream",
    "IoError",
    "OutputStream",
    "Pollable",
    "Preopen",
    "SocketAddrUse",
    "SocketPolicy",
    "StreamClosed",
    "StreamFailed",
    "WasiConfig",
    "WasiCtx",
    "WasiExit",
    "add_to_linker",
    "define_registered",
    "load_hosts",
    "poll",
    "register",
]

#: The modules that implement WASI interfaces (each registers its hosts when imported);
#: ones not built yet are skipped.
HOST_MODULES = ("io", "clocks", "random", "cli", "filesystem", "sockets")


def load_hosts(modules: tuple[str, ...] = HOST_MODULES) -> None:
    """Import every host module, so each has registered its interfaces."""
    for name in modules:
        full = f"{__name__}.{name}"
        try:
            importlib.import_module(full)
        except ModuleNotFoundError as e:
            if e.name != full:
                raise


def _store_ctx(store: Store) -> WasiCtx:
    ctx: WasiCtx = store.wasi
    return ctx


def add_to_linker(linker: Linker, get_ctx: Callable[[Store], WasiCtx] | None = None) -> None:
    """Define every WASI 0.2 interface on ``linker``. Calls reach the store's context
    (``store.set_wasi(config)``), or ``get_ctx(store)`` when given. (WASI 0.3:
    :func:`wasm_component.wasi.p3.add_to_linker`; one linker may have both.)"""
    load_hosts()
    define_registered(linker, get_ctx, f"{__name__}._bindings.")


def define_registered(linker: Linker, get_ctx: Callable[[Store], WasiCtx] | None,
                      bindings_package: str) -> None:  # fmt: skip
    """Define the registered interfaces whose bindings live in ``bindings_package`` (one WASI
    version's) on ``linker``."""
    ctx_of = get_ctx or _store_ctx
    for key, (bindings, _factory) in REGISTRY.items():
        if bindings.__name__.startswith(bindings_package):
            bindings.add_to_linker(linker, _host_getter(key, ctx_of))


def _host_getter(key: str, ctx_of: Callable[[Store], WasiCtx]) -> Callable[[Store], Any]:
    if ctx_of is _store_ctx:
        def get(store: Store) -> Any:
            return store.wasi.hosts[key]
    else:
        def get(store: Store) -> Any:
            return ctx_of(store).hosts[key]
    return get
