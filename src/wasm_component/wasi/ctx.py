"""``WasiCtx``: the WASI state of one store, and the registry of WASI host implementations.

A :class:`WasiCtx` is built from a :class:`~wasm_component.wasi.WasiConfig` (by
``store.set_wasi(config)``). It owns the resource table behind every WASI handle the guest
holds (capped per component instance, ``WasiConfig.max_resources``: a guest that opens handles
without end traps with a clear message instead of exhausting the host), the host-side allocation bound for reads, and one host object per WASI
interface, made on first use from the factories registered here.

Each WASI module registers its hosts with :func:`register` (bindings module, factory); the
package's ``add_to_linker`` wires every registered interface to ``store.wasi``.

Example::

    store.set_wasi(WasiConfig().inherit_stdio())
    ctx = store.wasi
    handle = ctx.push(some_pollable)
    assert ctx.get(handle, Pollable) is some_pollable
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import Trap
from ..resources import (
    Full,
    HasChildren,
    NotPresent,
    Resource,
    ResourceTable,
    ResourceTableError,
    WrongType,
)
from ..types import ResourceType

if TYPE_CHECKING:
    from ..engine import Store
    from .config import WasiConfig
    from .random import Source

__all__ = ["REGISTRY", "WasiCtx", "WasiExit", "register"]

T = TypeVar("T")

#: ``(instance name, bindings module, factory(ctx) -> host)`` for every WASI interface.
REGISTRY: dict[str, tuple[ModuleType, Callable[[WasiCtx], Any]]] = {}


def register(bindings: ModuleType, factory: Callable[[WasiCtx], Any]) -> None:
    """Implement the interface of generated ``bindings`` (a module of ``wasi._bindings``) with
    ``factory(ctx)``, an object satisfying the module's ``Host`` Protocol. A later registration
    of the same interface replaces the earlier one."""
    REGISTRY[bindings.INSTANCE_NAME] = (bindings, factory)


class WasiExit(Trap):
    """The guest called ``wasi:cli/exit`` (``exit`` or ``exit-with-code``): it stopped with
    ``exit_code`` (0 success). Like a trap it unwinds the guest, but nothing went wrong; its
    :attr:`Trap.code` is ``None`` (wasmtime-py's ``ExitTrap.code`` is this ``exit_code``)."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(f"guest exited with code {exit_code}")
        self.exit_code = exit_code


_ANY = ResourceType.host(object, "wasi")


class _Hosts(dict[str, Any]):
    """Instance name -> host object, made on first use (the context held weakly: it holds
    this)."""

    def __init__(self, ctx: WasiCtx) -> None:
        super().__init__()
        self._ctx = weakref.ref(ctx)

    def __missing__(self, key: str) -> Any:
        ctx = self._ctx()
        assert ctx is not None, "a context's hosts are asked for through it"
        host = REGISTRY[key][1](ctx)
        self[key] = host
        return host


class WasiCtx:
    """The per-store WASI state built from ``config`` (see the module docstring)."""

    def __init__(self, config: WasiConfig) -> None:
        self.config = config
        self.table = ResourceTable()
        # the cap is per component instance (``Store.calling_instance`` of the push): how many
        # handles each holds, and who holds each entry
        self._held: dict[object, int] = {}
        self._holder: dict[int, object] = {}
        self._store: weakref.ref[Store] | None = None
        self.max_read_chunk = config.max_read_chunk
        self.hosts = _Hosts(self)
        self._extensions: dict[str, Any] = {}
        from . import cli, clocks, random

        self.stdio = cli.make_stdio(config)
        self.monotonic_clock, self.wall_clock = clocks.make_clocks(config)
        # (annotated: mypy cannot infer them through the cycle random.py -> ctx.py)
        self.random: Source
        self.insecure_random: Source
        self.insecure_seed: tuple[int, int]
        self.random, self.insecure_random, self.insecure_seed = random.make_random(config)

    def attach(self, store: Store) -> None:
        """Serve ``store`` (``Store.set_wasi`` calls this): its calling instance decides whose
        handle budget a push counts against."""
        self._store = weakref.ref(store)

    def detach(self) -> None:
        """The store is gone (``Store`` calls this as it goes): let go of the hosts made for
        it, which refer back to this context, so the context and what it holds (the guest's
        open files among them) go by reference counting with the store, as wasmtime's does.
        Hosts asked for again later are made anew."""
        self.hosts.clear()

    def extension(self, key: str, make: Callable[[WasiCtx], T]) -> T:
        """Per-context state of another WASI module (filesystem, sockets), made on first use."""
        v = self._extensions.get(key)
        if v is None:
            v = self._extensions[key] = make(self)
        return v

    # -- the resource table (table errors become traps naming what went wrong) -----------------

    def push(self, value: Any, rt: ResourceType | None = None,
             parent: Resource[Any] | None = None) -> Resource[Any]:
        """Store ``value`` for the guest; an owned handle (a child of ``parent`` if given).
        Each component instance may hold ``WasiConfig.max_resources`` handles (those pushed
        while it calls WASI; ones the host pushes outside a call share a budget of their own)."""
        store = self._store() if self._store is not None else None
        holder = store.calling_instance if store is not None else None
        held = self._held.get(holder, 0)
        if held >= self.config.max_resources:
            raise Trap(
                f"the WASI resource table is full ({self.config.max_resources} handles per "
                f"component instance, `WasiConfig.max_resources`): the guest holds too many "
                f"handles")
        try:
            if parent is None:
                r = self.table.push(value, rt or _ANY)
            else:
                r = self.table.push_child(value, parent, rt or _ANY)
        except Full:
            raise Trap("the WASI resource table is full (2**32 - 1 handles)") from None
        except NotPresent as e:
            raise Trap(f"WASI: {e}") from None
        self._held[holder] = held + 1
        self._holder[r.rep] = holder
        return r

    def get(self, r: Resource[Any], cls: type[T]) -> T:
        """The object behind ``r``, which must be a ``cls`` (else the guest traps)."""
        try:
            v: T = self.table.get(r, cls)
            return v
        except ResourceTableError:
            pass
        try:  # say what is wrong
            v = self.table.get(r)
        except NotPresent:
            raise Trap(f"WASI: unknown handle {r.rep} (expected a {cls.__name__})") from None
        except WrongType as e:
            raise Trap(f"WASI: {e}") from None
        raise Trap(f"WASI: handle {r.rep} is a {type(v).__name__}, expected a {cls.__name__}")

    def delete(self, r: Resource[Any] | int) -> Any:
        """Remove the object behind ``r`` (traps while child handles, e.g. a stream's
        pollables, are still alive)."""
        try:
            v = self.table.delete(r)
        except HasChildren:
            rep = r.rep if isinstance(r, Resource) else r
            raise Trap(f"WASI: handle {rep} was dropped while handles made from it (such as its "
                       f"pollables) are still alive") from None
        except (NotPresent, WrongType, ResourceTableError) as e:
            raise Trap(f"WASI: {e}") from None
        holder = self._holder.pop(r.rep if isinstance(r, Resource) else r, None)
        self._held[holder] -= 1
        return v
