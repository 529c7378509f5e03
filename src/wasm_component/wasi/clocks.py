"""``wasi:clocks``: the monotonic clock (with timers the guest can poll) and the wall clock.

By default both are the host's (``time.monotonic_ns``, ``time.time_ns``). For tests,
``WasiConfig.virtual_clock()`` gives a simulated clock that stands still until advanced, and
that jumps forward when the guest sleeps (so a guest sleeping an hour finishes at once).

Example::

    store.set_wasi(WasiConfig().virtual_clock(wall_start_ns=1_700_000_000 * 10**9))
    store.wasi.monotonic_clock.advance(5_000_000)   # 5 ms pass for the guest
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ._bindings.imports import wasi_clocks_monotonic_clock as _b_mono
from ._bindings.imports import wasi_clocks_wall_clock as _b_wall
from ._bindings.imports import wasi_io_poll as _b_poll
from .ctx import register
from .io import Pollable

if TYPE_CHECKING:
    from ..resources import Resource
    from .config import WasiConfig
    from .ctx import WasiCtx

__all__ = ["SystemClock", "Timer", "VirtualClock", "make_clocks"]

_U64 = (1 << 64) - 1


class SystemClock:
    """The host's clocks: ``now_ns()`` monotonic, ``wall_ns()`` since the Unix epoch."""

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def resolution_ns(self) -> int:
        return max(1, int(time.get_clock_info("monotonic").resolution * 1e9))

    def wall_ns(self) -> int:
        return time.time_ns()

    def wall_resolution_ns(self) -> int:
        return max(1, int(time.get_clock_info("time").resolution * 1e9))

    def timer(self, deadline: int) -> Pollable:
        return Timer(self, deadline)


class VirtualClock(SystemClock):
    """Simulated time: both clocks move only by :meth:`advance` (or when a guest sleeps)."""

    def __init__(self, monotonic_start_ns: int = 0, wall_start_ns: int = 0) -> None:
        self._mono = monotonic_start_ns
        self._wall = wall_start_ns

    def now_ns(self) -> int:
        return self._mono

    def resolution_ns(self) -> int:
        return 1

    def wall_ns(self) -> int:
        return self._wall

    def wall_resolution_ns(self) -> int:
        return 1

    def advance(self, ns: int) -> None:
        """Let ``ns`` nanoseconds pass."""
        if ns < 0:
            raise ValueError(f"`VirtualClock.advance`: expected a non-negative duration, got {ns}")
        self._mono += ns
        self._wall += ns

    def advance_to(self, instant_ns: int) -> None:
        """Move the monotonic clock to ``instant_ns`` (if later), the wall clock with it."""
        if instant_ns > self._mono:
            self.advance(instant_ns - self._mono)


class Timer(Pollable):
    """Ready once ``clock.now_ns() >= deadline`` (and from then on: the clock is monotonic)."""

    __slots__ = ("clock", "deadline", "fired")

    def __init__(self, clock: SystemClock, deadline: int) -> None:
        self.clock = clock
        self.deadline = deadline
        self.fired = False

    def ready(self) -> bool:
        if self.fired:  # (a pollable polled again and again: no clock read each time)
            return True
        self.fired = fired = self.clock.now_ns() >= self.deadline
        return fired

    def deadline_ns(self) -> int | None:
        if isinstance(self.clock, VirtualClock):
            return None
        if type(self.clock) is SystemClock:
            return self.deadline
        # a custom clock: translate its remaining time onto the host's monotonic clock
        return time.monotonic_ns() + max(0, self.deadline - self.clock.now_ns())

    def virtual_deadline(self) -> tuple[Any, int] | None:
        if isinstance(self.clock, VirtualClock):
            return (self.clock, self.deadline)
        return None


def make_clocks(config: WasiConfig) -> tuple[Any, Any]:
    system = SystemClock()
    return (config.monotonic_clock_impl or system, config.wall_clock_impl or system)


class MonotonicClockHost:
    """``wasi:clocks/monotonic-clock``."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx
        self._clock = ctx.monotonic_clock

    def now(self) -> int:
        return int(self._clock.now_ns())

    def resolution(self) -> int:
        return int(self._clock.resolution_ns())

    def subscribe_instant(self, when: int) -> Resource[Any]:
        return self._ctx.push(self._clock.timer(when), _b_poll._RT_Pollable)

    def subscribe_duration(self, when: int) -> Resource[Any]:
        deadline = min(_U64, self._clock.now_ns() + when)
        return self._ctx.push(self._clock.timer(deadline), _b_poll._RT_Pollable)


class WallClockHost:
    """``wasi:clocks/wall-clock``."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._clock = ctx.wall_clock

    def now(self) -> _b_wall.Datetime:
        ns = int(self._clock.wall_ns())
        return _b_wall.Datetime(ns // 1_000_000_000, ns % 1_000_000_000)

    def resolution(self) -> _b_wall.Datetime:
        ns = int(self._clock.wall_resolution_ns())
        return _b_wall.Datetime(ns // 1_000_000_000, ns % 1_000_000_000)


register(_b_mono, MonotonicClockHost)
register(_b_wall, WallClockHost)
