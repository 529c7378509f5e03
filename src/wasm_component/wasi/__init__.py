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
from collections.abc import Callable, Iterable
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
    "UNSTABLE_FEATURES",
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


#: The ``@unstable`` WASI features this host implements: each is linked only when enabled
#: (``add_to_linker(linker, features=...)``), as wasmtime's ``LinkOptions`` /
#: ``wasmtime run -S network-error-code``.
UNSTABLE_FEATURES = frozenset({"network-error-code"})


def add_to_linker(linker: Linker, get_ctx: Callable[[Store], WasiCtx] | None = None, *,
                  features: Iterable[str] = ()) -> None:
    """Define every WASI 0.2 interface on ``linker``. Calls reach the store's context
    (``store.set_wasi(config)``), or ``get_ctx(store)`` when given. ``features`` enables
    ``@unstable`` functions (:data:`UNSTABLE_FEATURES`: ``"network-error-code"``, the
    ``wasi:sockets/network.network-error-code`` function), left out otherwise as the WIT
    gates them. (WASI 0.3: :func:`wasm_component.wasi.p3.add_to_linker`; one linker may have
    both.)"""
    if isinstance(features, str):
        raise TypeError(f"`wasi.add_to_linker`: expected an iterable of feature names for "
                        f"`features`, got the string {features!r}")
    enabled = frozenset(features)
    unknown = sorted(enabled - UNSTABLE_FEATURES)
    if unknown:
        raise ValueError(f"`wasi.add_to_linker`: unknown WASI feature {unknown[0]!r} "
                         f"(expected one of {sorted(UNSTABLE_FEATURES)})")
    load_hosts()
    define_registered(linker, get_ctx, f"{__name__}._bindings.", enabled)


def define_registered(linker: Linker, get_ctx: Callable[[Store], WasiCtx] | None,
                      bindings_package: str, enabled: frozenset[str] = frozenset()) -> None:
    """Define the registered interfaces whose bindings live in ``bindings_package`` (one WASI
    version's) on ``linker``, with the ``enabled`` ``@unstable`` features."""
    if get_ctx is not None and not callable(get_ctx):
        raise TypeError(f"`wasi.add_to_linker`: expected a callable `get_ctx(store)` or None, "
                        f"got {type(get_ctx).__name__}")
    ctx_of = get_ctx or _store_ctx
    for key, (bindings, _factory) in REGISTRY.items():
        if not bindings.__name__.startswith(bindings_package):
            continue
        gated: frozenset[str] = getattr(bindings, "UNSTABLE_FEATURES", frozenset())
        if gated:
            bindings.add_to_linker(linker, _host_getter(key, ctx_of), features=enabled & gated)
        else:
            bindings.add_to_linker(linker, _host_getter(key, ctx_of))


def _host_getter(key: str, ctx_of: Callable[[Store], WasiCtx]) -> Callable[[Store], Any]:
    if ctx_of is _store_ctx:
        def get(store: Store) -> Any:
            return store.wasi.hosts[key]
    else:
        def get(store: Store) -> Any:
            return ctx_of(store).hosts[key]
    return get
