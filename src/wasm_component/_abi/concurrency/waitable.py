"""Waitables, waitable sets and subtasks (CanonicalABI.md "Waitable State", "Subtask State").

A :class:`Waitable` (a subtask or a stream/future end) holds at most one *pending event*: a
closure that, when the event is delivered, updates the waitable's state and returns the
``(code, index, payload)`` triple the guest sees. A :class:`WaitableSet` gathers waitables so a
guest can ``wait`` or ``poll`` for the next event of any of them.

Which of several pending events a set delivers is the runtime's choice (the spec shuffles). This
one delivers the first pending element in join order and then moves it to the back, so every
element of a busy set gets its turn; the differential tests check each choice is one the spec
allows.

A :class:`Subtask` is one call out through an async-lowered import. Its state machine is the
spec's: ``STARTING`` -> ``STARTED`` -> ``RETURNED``, or a ``CANCELLED_BEFORE_*`` state when the
caller cancelled; once it is in the caller's table every transition leaves a ``SUBTASK`` event.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any

from ..context import Subtask as SyncSubtask
from ..context import trap_if
from .scheduler import Cancelled, ReadyFunc, Thread, Waiting, finish, then
from .task import AsyncInstanceState

__all__ = ["Event", "EventCode", "OnCancel", "Subtask", "Waitable", "WaitableSet"]


class EventCode(IntEnum):
    NONE = 0
    SUBTASK = 1
    STREAM_READ = 2
    STREAM_WRITE = 3
    FUTURE_READ = 4
    FUTURE_WRITE = 5
    TASK_CANCELLED = 6


Event = tuple[EventCode, int, int]
OnCancel = Callable[[AsyncInstanceState | None], None]


class Waitable:
    """Something a guest can wait on; at most one event pending at a time.

    (No ``__slots__`` here, so that :class:`Subtask` can also be the synchronous ABI's
    :class:`~.context.Subtask`, whose slot layout it extends; subclasses add slots.)
    """

    def __init__(self) -> None:
        self.pending_event: Callable[[], Event] | None = None
        self.wset: WaitableSet | None = None
        self.has_sync_waiter = False

    def set_pending_event(self, pending_event: Callable[[], Event]) -> None:
        self.pending_event = pending_event
        wset = self.wset
        if wset is not None and wset.on_event is not None:
            wset.on_event(wset)

    def has_pending_event(self) -> bool:
        return self.pending_event is not None

    def in_waitable_set(self) -> bool:
        return self.wset is not None

    def wait_for_pending_event(self, thread: Thread, ready: ReadyFunc | None = None) -> None:
        """A synchronous built-in waits (uncancellably) for this waitable's event, or for
        ``ready()`` (which implies one)."""
        finish(self.wait_for_pending_event_w(thread, ready))

    def wait_for_pending_event_w(self, thread: Thread, ready: ReadyFunc | None = None
                                 ) -> Waiting[None] | None:
        """:meth:`wait_for_pending_event` split at its wait (``scheduler.Waiting``)."""
        assert not self.in_waitable_set() and not self.has_sync_waiter, "checked by the caller"
        self.has_sync_waiter = True
        r = thread.wait_until_w(ready or self.has_pending_event, cancellable=False)
        return then(r, self._end_sync_wait)

    def _end_sync_wait(self, cancelled: Cancelled) -> None:
        self.has_sync_waiter = False

    def get_pending_event(self) -> Event:
        pending_event = self.pending_event
        assert pending_event is not None, "an event is delivered only when pending"
        self.pending_event = None
        return pending_event()

    def join(self, wset: WaitableSet | None) -> None:
        assert not self.has_sync_waiter, "checked by `waitable.join`"
        if self.wset is not None:
            self.wset.elems.remove(self)
        self.wset = wset
        if wset is not None:
            wset.elems.append(self)
            if self.pending_event is not None and wset.on_event is not None:
                wset.on_event(wset)

    def drop(self) -> None:
        assert not self.has_pending_event(), "checked by the drop built-in"
        assert not self.has_sync_waiter, "a waitable with a sync waiter cannot be dropped"
        self.join(None)


class WaitableSet:
    """The spec's ``WaitableSet``: its elements, and how many threads wait on it.

    ``on_event`` (set by a scheduler) is called with the set whenever an element gets a pending
    event or joins with one: the only ways ``has_pending_event()`` becomes true, so a scheduler
    can wake the set's waiters then instead of polling them."""

    __slots__ = ("elems", "num_waiting", "on_event")

    def __init__(self) -> None:
        self.elems: list[Waitable] = []
        self.num_waiting = 0
        self.on_event: Callable[[WaitableSet], None] | None = None

    def has_pending_event(self) -> bool:
        return any(w.has_pending_event() for w in self.elems)

    def get_pending_event(self) -> Event:
        elems = self.elems
        for k, w in enumerate(elems):
            assert w.wset is self, "elements belong to their set"
            if w.has_pending_event():
                del elems[k]
                elems.append(w)
                return w.get_pending_event()
        raise AssertionError("an event is delivered only when one is pending")

    def wait_for_event_and(self, thread: Thread, ready: ReadyFunc, cancellable: bool) -> Event:
        """Park ``thread`` until ``ready()`` and some element has an event, then deliver it."""

        def ready_and_has_event() -> bool:
            return ready() and self.has_pending_event()

        return finish(self.wait_for_event_and_w(thread, ready, cancellable))

    def wait_for_event_and_w(self, thread: Thread, ready: ReadyFunc, cancellable: bool
                             ) -> Event | Waiting[Event]:
        """:meth:`wait_for_event_and` split at its wait (``scheduler.Waiting``)."""

        def ready_and_has_event() -> bool:
            return ready() and self.has_pending_event()

        self.num_waiting += 1
        r = thread.wait_until_w(ready_and_has_event, cancellable, self)
        return then(r, self._event_after_wait)

    def _event_after_wait(self, cancelled: Cancelled) -> Event:
        if cancelled:
            event: Event = (EventCode.TASK_CANCELLED, 0, 0)
        else:
            event = self.get_pending_event()
        self.num_waiting -= 1
        return event

    def wait_for_event(self, thread: Thread, cancellable: bool) -> Event:
        return self.wait_for_event_and(thread, _always, cancellable)

    def wait_for_event_w(self, thread: Thread, cancellable: bool) -> Event | Waiting[Event]:
        return self.wait_for_event_and_w(thread, _always, cancellable)

    def poll(self, thread: Thread, cancellable: bool) -> Event:
        if thread.task.deliver_pending_cancel(cancellable):
            return (EventCode.TASK_CANCELLED, 0, 0)
        if not self.has_pending_event():
            return (EventCode.NONE, 0, 0)
        return self.get_pending_event()

    def drop(self) -> None:
        trap_if(len(self.elems) > 0, "cannot drop a waitable set that still has waitables")
        trap_if(self.num_waiting > 0, "cannot drop a waitable set while a thread waits on it")


def _always() -> bool:
    return True


class Subtask(Waitable, SyncSubtask):
    """A call out through an import, as the caller's table sees it.

    The runtime's lowering drives it: :meth:`on_start` when the callee takes its arguments,
    :meth:`on_resolve` when it returns (flat results) or acknowledges a cancellation (``None``).
    ``on_cancel`` is how ``subtask.cancel`` asks the callee to stop.
    """

    class State(IntEnum):
        STARTING = 0
        STARTED = 1
        RETURNED = 2
        CANCELLED_BEFORE_STARTED = 3
        CANCELLED_BEFORE_RETURNED = 4

    __slots__ = ("cancellation_requested", "flat_results", "index", "on_cancel", "state")

    def __init__(self) -> None:
        Waitable.__init__(self)
        SyncSubtask.__init__(self)
        self.state = Subtask.State.STARTING
        self.on_cancel: OnCancel | None = None
        self.cancellation_requested = False
        self.flat_results: list[Any] = []
        #: The handle index once the caller holds it (events are made from then on).
        self.index = 0

    def resolved(self) -> bool:
        return self.state >= Subtask.State.RETURNED

    def add_lender(self, h: Any) -> None:
        assert not self.resolve_delivered() and not self.resolved(), "lent before it resolves"
        SyncSubtask.add_lender(self, h)

    def resolve(self, state: Subtask.State, flat_results: list[Any]) -> None:
        assert state == Subtask.State.RETURNED or flat_results == [], "only a return has results"
        assert not self.resolved(), "a subtask resolves once"
        self.state = state
        self.flat_results = flat_results

    def deliver_resolve(self) -> None:
        assert not self.resolve_delivered() and self.resolved(), "delivered once, when resolved"
        SyncSubtask.deliver_resolve(self)

    def resolve_delivered(self) -> bool:
        assert self.lenders is not None or self.resolved(), "delivery follows resolution"
        return self.lenders is None

    def drop(self) -> None:
        trap_if(not self.resolve_delivered(), "cannot drop a subtask that has not resolved")
        Waitable.drop(self)

    # Progress, as the spec's ``canon lower`` reports it.

    def on_start(self) -> None:
        self._progress()
        assert self.state == Subtask.State.STARTING, "a subtask starts once"
        self.state = Subtask.State.STARTED

    def on_resolve(self, flat_results: list[Any] | None) -> None:
        self._progress()
        if flat_results is None:
            assert self.cancellation_requested, "only a cancelled callee resolves without results"
            if self.state == Subtask.State.STARTING:
                self.resolve(Subtask.State.CANCELLED_BEFORE_STARTED, [])
            else:
                assert self.state == Subtask.State.STARTED, "resolves once"
                self.resolve(Subtask.State.CANCELLED_BEFORE_RETURNED, [])
        else:
            assert self.state == Subtask.State.STARTED, "a callee returns after it started"
            self.resolve(Subtask.State.RETURNED, flat_results)

    def _progress(self) -> None:
        if self.index:
            self.set_pending_event(self._event)

    def _event(self) -> Event:
        if self.resolved():
            self.deliver_resolve()
        return (EventCode.SUBTASK, self.index, self.state)

    def request_cancellation(self, inst: AsyncInstanceState) -> None:
        self.cancellation_requested = True
        assert self.on_cancel is not None, "the lowering set `on_cancel`"
        self.on_cancel(inst)

