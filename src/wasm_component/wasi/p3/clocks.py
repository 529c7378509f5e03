"""``wasi:clocks@0.3.0``: the 0.2 clocks (:mod:`..clocks`: the host's, or
``WasiConfig.virtual_clock()``), with ``wait-for``/``wait-until`` as ``async`` waits on the
same timers 0.2's ``subscribe-*`` makes (on a virtual clock a wait advances the clock, so a
guest sleeping an hour finishes at once).

``timezone`` is ``@unstable`` in 0.3.0 and not in the world this host serves (as in wasmtime).

Example::

    host = MonotonicClockHost(ctx)
    await host.wait_for(5_000_000)     # 5 ms
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._bindings_p3.imports import wasi_clocks_monotonic_clock as _b_mono
from .._bindings_p3.imports import wasi_clocks_system_clock as _b_sys
from .._bindings_p3.imports import wasi_clocks_types as _b_types
from ..clocks import MonotonicClockHost as _MonotonicClockHost02
from ..ctx import register
from ._async import wait_ready

if TYPE_CHECKING:
    from ..ctx import WasiCtx

__all__ = ["MonotonicClockHost", "SystemClockHost", "instant"]

_U64 = (1 << 64) - 1


class MonotonicClockHost(_MonotonicClockHost02):
    """``wasi:clocks/monotonic-clock@0.3.0``."""

    get_resolution = _MonotonicClockHost02.resolution

    async def wait_until(self, when: int) -> None:
        await wait_ready(self._clock.timer(when))

    async def wait_for(self, how_long: int) -> None:
        deadline = min(_U64, self._clock.now_ns() + how_long)
        await wait_ready(self._clock.timer(deadline))


def instant(ns: int) -> _b_sys.Instant:
    """Nanoseconds since the epoch as a ``system-clock.instant`` (seconds may be negative;
    nanoseconds are always in ``0..10**9``)."""
    return _b_sys.Instant(ns // 1_000_000_000, ns % 1_000_000_000)


class SystemClockHost:
    """``wasi:clocks/system-clock@0.3.0`` (0.2's wall clock)."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._clock = ctx.wall_clock

    def now(self) -> _b_sys.Instant:
        return instant(int(self._clock.wall_ns()))

    def get_resolution(self) -> int:
        return int(self._clock.wall_resolution_ns())


register(_b_types, lambda ctx: None)  # types only: no host object is ever asked for
register(_b_mono, MonotonicClockHost)
register(_b_sys, SystemClockHost)
