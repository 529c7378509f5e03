"""``Engine`` and ``Store``: where components are compiled and where their instances live.

An :class:`Engine` holds compilation settings (a ``wasmtime.Config`` for core wasm, plus the
component-model feature set used by the validator); share one across stores and components.
A :class:`Store` owns instances, their handle tables and host state (``store.data``); values from
one store never mix with another's.

Example::

    >>> engine = Engine()
    >>> store = Store(engine, {"greeting": "hi"})
    >>> store.data["greeting"]
    'hi'
"""

from __future__ import annotations

from typing import Any

from ._runtime import core
from ._validate.features import Features

__all__ = ["Engine", "Store"]


class Engine:
    """Compilation environment. ``config`` is a ``wasmtime.Config`` (fuel, epochs, wasm features);
    ``features`` the component-model features to accept (a :class:`Features`, or a wasm-tools
    style flag list such as ``"cm-async,cm-fixed-length-lists"``; default: all that we support).
    """

    __slots__ = ("_core", "features")

    def __init__(self, config: Any = None, *, features: Features | str | None = None) -> None:
        if isinstance(features, str):
            features = Features.from_flags(features)
        self.features: Features = features if features is not None else Features.all()
        self._core = core.CoreEngine(config)

    def increment_epoch(self) -> None:
        """Advance the epoch counter (for stores with an epoch deadline)."""
        self._core.increment_epoch()


class Store:
    """Owns instances and host state. ``data`` is yours: host functions receive the store.

    Fuel and epoch deadlines pass straight through to wasmtime (enable them on the engine's
    ``wasmtime.Config`` first).
    """

    __slots__ = (
        "__weakref__", "_core", "_drop_fns", "_instances", "_resource_dtors", "_resource_lift",
        "_wasi", "engine",
    )

    def __init__(self, engine: Engine, data: Any = None) -> None:
        self.engine = engine
        self._core = core.CoreStore(engine._core, data)
        self._instances: list[Any] = []
        # concrete resource type -> (defining instance state or None for host, dtor(rep) or None)
        self._resource_dtors: dict[Any, tuple[Any, Any]] = {}
        self._drop_fns: dict[Any, Any] = {}  # per resource type: the host-side drop call
        from .resources import resource_lift

        self._resource_lift = resource_lift(self)
        self._wasi: Any = None

    def set_wasi(self, config: Any) -> None:
        """Give this store a WASI context built from ``config`` (a ``wasi.WasiConfig``, or a
        ready ``wasi.WasiCtx``), for hosts added with ``Linker.add_wasip2()``."""
        from .wasi import WasiConfig, WasiCtx

        if isinstance(config, WasiConfig):
            config = WasiCtx(config)
        if not isinstance(config, WasiCtx):
            raise TypeError(f"`Store.set_wasi`: expected a WasiConfig, got "
                            f"{type(config).__name__}")
        self._wasi = config

    @property
    def wasi(self) -> Any:
        """The store's ``wasi.WasiCtx`` (see :meth:`set_wasi`)."""
        ctx = self._wasi
        if ctx is None:
            from .errors import Trap

            raise Trap("the guest called WASI, but the store has no WASI context "
                       "(call `store.set_wasi(WasiConfig())` first)")
        return ctx

    def __del__(self) -> None:
        # Nothing below refers back to the store (host functions and resource lifts hold it
        # weakly), so reference counting gets here; what remains refers to itself (call paths,
        # the core store's host callbacks) and is let go now rather than by the cyclic GC.
        for root in self._instances:
            root.release()
        self._instances.clear()
        self._resource_dtors.clear()
        self._drop_fns.clear()
        self._core.release()

    @property
    def data(self) -> Any:
        return self._core.data

    @data.setter
    def data(self, value: Any) -> None:
        self._core.data = value

    def set_fuel(self, fuel: int) -> None:
        self._core.set_fuel(fuel)

    def get_fuel(self) -> int:
        return self._core.get_fuel()

    def set_epoch_deadline(self, ticks_after_current: int) -> None:
        self._core.set_epoch_deadline(ticks_after_current)

    def gc(self) -> None:
        self._core.gc()
