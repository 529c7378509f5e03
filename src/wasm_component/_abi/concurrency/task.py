"""Tasks as CanonicalABI.md "Tasks" keeps them, without the stack switching.

A :class:`Task` is one call into a component export. Here live the parts of its life that are
pure bookkeeping: the state machine (``INITIAL`` -> ``STARTED`` -> ``RESOLVED``, with
``PENDING_CANCEL``/``CANCEL_DELIVERED`` in between when the caller cancels), backpressure and the
instance-wide exclusive lock that decide when an async task may enter, its threads, and the
checks of ``task.return``/``task.cancel``. It extends the synchronous :class:`~.context.Task`
(the borrow scope that counts ``num_borrows``), so one task object serves both ABIs.

:class:`AsyncInstanceState` is the synchronous :class:`~.context.ComponentInstanceState`, which
keeps the spec's per-instance concurrency fields; its ``handles`` table holds resources and async
objects alike, as the spec's one ``handles`` table does (indices are shared, and guests see
them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum, IntEnum
from typing import Any

from ... import types as t
from ..context import CanonicalOptions, ComponentInstanceState, trap, trap_if
from ..context import Task as SyncTask
from ..handles import Table
from .scheduler import Thread

__all__ = [
    "AsyncInstanceState",
    "CallbackCode",
    "OnResolve",
    "OnStart",
    "Task",
    "unpack_callback_result",
]

OnStart = Callable[[], Sequence[Any]]
OnResolve = Callable[[Sequence[Any] | None], None]


#: The spec's ``ComponentInstance`` with its concurrency fields (the thread table, the number of
#: tasks waiting to enter, the thread holding the exclusive lock): the sync ABI's instance state,
#: which has them.
AsyncInstanceState = ComponentInstanceState


def _never_started() -> Sequence[Any]:
    return ()


def _ignore(result: Sequence[Any] | None) -> None:
    return None


class Task(SyncTask):
    """One call into an export: the spec's ``Task`` (its threads are :class:`Thread` objects
    whose stacks the scheduler parks)."""

    class State(Enum):
        INITIAL = 1
        STARTED = 2
        PENDING_CANCEL = 3
        CANCEL_DELIVERED = 4
        RESOLVED = 5

    __slots__ = ("_exclusive", "implicit_thread", "on_resolve", "on_start", "state", "threads")

    inst: AsyncInstanceState
    ft: t.FuncType
    opts: CanonicalOptions

    def __init__(
        self,
        inst: AsyncInstanceState,
        ft: t.FuncType,
        opts: CanonicalOptions,
        on_start: OnStart = _never_started,
        on_resolve: OnResolve = _ignore,
    ) -> None:
        super().__init__(inst, ft, opts)
        self.on_start = on_start
        self.on_resolve = on_resolve
        self.state = Task.State.INITIAL
        self.implicit_thread: Thread | None = None
        self.threads: list[Thread] = []
        self._exclusive = not opts.async_ or opts.callback is not None

    def needs_exclusive(self) -> bool:
        """Sync-lifted and callback-lifted async functions run under the instance's lock;
        stackful async ones do not."""
        assert self.ft.is_async, "only async functions take the exclusive lock"
        return self._exclusive

    def has_backpressure(self) -> bool:
        inst = self.inst
        return inst.backpressure > 0 or (
            self.needs_exclusive() and inst.exclusive_thread is not None
        )

    def enter_implicit_thread(self, thread: Thread) -> bool:
        """Admit the task's first thread: an async task waits (cancellably) while the instance
        has backpressure, or while others wait before it. Returns ``False`` when cancelled
        while waiting (the task then resolved as cancelled)."""
        assert self.state == Task.State.INITIAL, "a task enters once"
        self.implicit_thread = thread
        inst = self.inst
        if self.ft.is_async:
            if self.has_backpressure() or inst.num_waiting_to_enter > 0:
                inst.num_waiting_to_enter += 1
                cancelled = thread.wait_until(lambda: not self.has_backpressure(), True)
                inst.num_waiting_to_enter -= 1
                if cancelled:
                    self.cancel()
                    return False
            if self.needs_exclusive():
                assert inst.exclusive_thread is None, "backpressure waited for the lock"
                inst.exclusive_thread = thread
        self.register_thread(thread)
        return True

    def register_thread(self, thread: Thread) -> None:
        assert thread not in self.threads and thread.task is self, "a thread registers once"
        self.threads.append(thread)
        assert thread.index is None, "a thread has one index"
        thread.index = self.inst.threads.add(thread)

    def exit_implicit_thread(self) -> None:
        thread = self.implicit_thread
        assert thread is not None, "the task entered"
        threads = self.threads
        if len(threads) == 1 and threads[0] is thread and thread.task is self:
            # (``unregister_thread`` of the task's last thread, inline: every task's exit)
            threads.clear()
            if self.state is not Task.State.RESOLVED:
                trap("task exited without returning a value (`task.return`) or cancelling")
            assert self.num_borrows == 0, "resolving checked the borrows"
            assert thread.index is not None, "a registered thread has an index"
            self.inst.threads.remove(thread.index)
            thread.index = None
            self.implicit_thread = None  # (the task and its thread: no cycle left behind)
        else:
            self.unregister_thread(thread)
        if self.ft.is_async and self._exclusive:  # (``needs_exclusive()``)
            assert self.inst.exclusive_thread is thread, "the task held the exclusive lock"
            self.inst.exclusive_thread = None

    def unregister_thread(self, thread: Thread) -> None:
        assert thread in self.threads and thread.task is self, "the thread is the task's"
        self.threads.remove(thread)
        if not self.threads:
            if self.state is not Task.State.RESOLVED:
                trap("task exited without returning a value (`task.return`) or cancelling")
            assert self.num_borrows == 0, "resolving checked the borrows"
        assert thread.index is not None, "a registered thread has an index"
        self.inst.threads.remove(thread.index)
        thread.index = None

    def request_cancellation(self, may_enter: bool) -> Thread | None:
        """The caller cancels (``subtask.cancel``). Returns the thread the scheduler must now
        wake with :attr:`Cancelled.TRUE`, or ``None`` if the cancellation stays pending until a
        thread of the task next waits cancellably. ``may_enter``: the caller may enter the
        instance now (the spec's ``may_enter_from``)."""
        if self.state == Task.State.INITIAL:
            self.state = Task.State.CANCEL_DELIVERED
            return self.implicit_thread
        assert self.state == Task.State.STARTED, "a task is cancelled once, before it resolves"
        candidates = [th for th in self.threads if th.cancellable]
        inst = self.inst
        if self.needs_exclusive() and inst.exclusive_thread not in (None, self.implicit_thread):
            candidates = [th for th in candidates if th is not self.implicit_thread]
        if candidates and may_enter:
            self.state = Task.State.CANCEL_DELIVERED
            return candidates[0]
        self.state = Task.State.PENDING_CANCEL
        return None

    def deliver_pending_cancel(self, cancellable: bool) -> bool:
        if cancellable and self.state == Task.State.PENDING_CANCEL:
            self.state = Task.State.CANCEL_DELIVERED
            return True
        return False

    def start(self) -> Sequence[Any]:
        assert self.state == Task.State.INITIAL, "a task starts once"
        self.state = Task.State.STARTED
        return self.on_start()

    def return_(self, result: Sequence[Any] | None = ()) -> None:
        # (``trap_if`` spelled out: a task's return is a hot path)
        if self.state is Task.State.RESOLVED:
            trap("task already returned or cancelled")
        if self.num_borrows > 0:
            trap("borrowed handle not dropped before the task returned")
        assert result is not None, "a returned task has a result"
        self.on_resolve(result)
        self.state = Task.State.RESOLVED
        self.resolved = True

    def cancel(self) -> None:
        trap_if(
            self.state != Task.State.CANCEL_DELIVERED,
            "`task.cancel` without a delivered cancellation request",
        )
        trap_if(self.num_borrows > 0, "borrowed handle not dropped before the task cancelled")
        self.on_resolve(None)
        self.state = Task.State.RESOLVED
        self.resolved = True


class CallbackCode(IntEnum):
    """What a ``callback``-lifted function returns to its event loop (low 4 bits)."""

    EXIT = 0
    YIELD = 1
    WAIT = 2
    MAX = 2


def unpack_callback_result(packed: int) -> tuple[CallbackCode, int]:
    """Split a callback's ``i32`` result into its code and the waitable set index."""
    code = packed & 0xF
    if code > CallbackCode.MAX:
        trap(f"callback returned unknown code {code}")
    assert packed < 2**32 and Table.MAX_LENGTH < 2**28, "the index fits in 28 bits"
    return CallbackCode(code), packed >> 4
