"""WASI 0.3 in Python: the host side of ``wasi:cli``, ``wasi:clocks``, ``wasi:random``,
``wasi:filesystem`` and ``wasi:sockets`` at 0.3.0, the async-native WASI.

It is WASI 0.2's implementation (:mod:`wasm_component.wasi`) under 0.3's interfaces: the same
:class:`~wasm_component.wasi.WasiConfig`, the same per-store context (resource table, stdio,
clocks, random, preopens and their sandbox, socket policy), so one store serves a component
that imports both versions, as real 0.3 components do. Streams, futures and ``async func``
are bridged to asyncio in :mod:`._async`.

Example::

    linker = Linker(engine)
    linker.add_wasip2()          # WASI 0.2 ...
    linker.add_wasip3()          # ... and 0.3 side by side (or: wasi.p3.add_to_linker(linker))
    store.set_wasi(WasiConfig().inherit_stdio())
    instance = await linker.instantiate_async(store, component)
    await run.call_async(store)          # a 0.3 guest runs on the asyncio loop
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import define_registered, load_hosts
from ._async import Channels, channels_of, drain, set_channels

if TYPE_CHECKING:
    from ...engine import Store
    from ...linker import Linker
    from ..ctx import WasiCtx

__all__ = [
    "HOST_MODULES",
    "Channels",
    "add_to_linker",
    "channels_of",
    "drain",
    "set_channels",
]

#: The modules that implement WASI 0.3 interfaces (each registers its hosts when imported).
HOST_MODULES = ("p3.clocks", "p3.random", "p3.cli", "p3.filesystem", "p3.sockets")


def add_to_linker(linker: Linker, get_ctx: Callable[[Store], WasiCtx] | None = None) -> None:
    """Define every WASI 0.3 interface on ``linker``. Calls reach the store's context
    (``store.set_wasi(config)``), or ``get_ctx(store)`` when given."""
    load_hosts(HOST_MODULES)
    define_registered(linker, get_ctx, f"{__name__.rpartition('.')[0]}._bindings_p3.")
