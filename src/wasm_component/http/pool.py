"""Instances reused across requests, each serving a bounded number at once (WASI 0.3 serving).

Why this module exists: a WASI 0.3 ``wasi:http/service`` component handles requests as
concurrent async tasks, so one instance can serve several at a time; ``wasmtime serve`` reuses
an instance for a number of requests and bounds how many run in it at once, and makes a new one
when all are busy. :class:`InstancePool` does that for any instance type: ``make()`` builds a
new one (an awaitable), :meth:`acquire` hands out the least busy instance with room (or a new
one), :meth:`release` gives the slot back, and an instance is retired once it has served
``max_reuse`` requests or was marked broken (a trap leaves its state unknown), when its last
request ends (then ``on_retire(instance)``, if given).

Example::

    pool = InstancePool(make, per_instance=16, max_reuse=128)
    slot = await pool.acquire()
    try:
        ... await slot.instance.handle(request) ...
    except Trap:
        slot.broken = True
    finally:
        pool.release(slot)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["InstancePool", "Slot"]

I = TypeVar("I")  # noqa: E741 (the instance type)

#: ``wasmtime serve``'s defaults: requests one instance serves at once, and in all
DEFAULT_PER_INSTANCE = 16
DEFAULT_MAX_REUSE = 128


class Slot(Generic[I]):
    """One instance in the pool and its counts."""

    __slots__ = ("active", "broken", "instance", "served")

    def __init__(self, instance: I) -> None:
        self.instance = instance
        self.active = 0
        self.served = 0
        self.broken = False


class InstancePool(Generic[I]):
    """See the module docstring."""

    def __init__(self, make: Callable[[], Awaitable[I]], *,
                 per_instance: int = DEFAULT_PER_INSTANCE,
                 max_reuse: int = DEFAULT_MAX_REUSE,
                 on_retire: Callable[[I], None] | None = None) -> None:  # fmt: skip
        if per_instance < 1 or max_reuse < 1:
            raise ValueError(f"`InstancePool`: expected positive bounds, got per_instance="
                             f"{per_instance}, max_reuse={max_reuse}")
        self._make = make
        #: ``on_retire(instance)``: called when a retired instance leaves the pool
        self.on_retire = on_retire
        self.per_instance = per_instance
        self.max_reuse = max_reuse
        self.slots: list[Slot[I]] = []
        self.made = 0
        self._lock = asyncio.Lock()

    def _open(self, s: Slot[I]) -> bool:
        return not s.broken and s.active < self.per_instance and s.served < self.max_reuse

    async def acquire(self) -> Slot[I]:
        """A slot in the least busy instance that has room; a new instance when none has."""
        async with self._lock:  # one instance made at a time, and no slot taken twice
            open_ = [s for s in self.slots if self._open(s)]
            if open_:
                slot = min(open_, key=lambda s: s.active)
            else:
                slot = Slot(await self._make())
                self.made += 1
                self.slots.append(slot)
            slot.active += 1
            slot.served += 1
            return slot

    def release(self, slot: Slot[I]) -> None:
        """The request on ``slot`` has ended; a used-up or broken instance goes once idle."""
        assert slot.active > 0, "released more often than acquired"
        slot.active -= 1
        if slot.active == 0 and (slot.broken or slot.served >= self.max_reuse):
            self.slots.remove(slot)
            if self.on_retire is not None:
                self.on_retire(slot.instance)
