"""Where a guest thread waits: the spec's ``Thread`` bookkeeping and the interface to the scheduler.

CanonicalABI.md "Threads" parks a thread's native stack whenever a built-in must wait
(``wait_until``, ``suspend``, ``yield_``) and lets the store run another thread meanwhile. How a
stack is parked is the runtime's business (a fiber, an OS thread, an asyncio task: see
``docs/design/async.md``), so this module only keeps what does not depend on it:

- :class:`Thread`: the per-thread state the built-ins read (its task, its index in the
  instance's thread table, the two ``context.get``/``set`` slots, whether it may be cancelled now)
  and the spec's ``wait_until``/``suspend``/``yield_``, which deliver a pending cancellation
  before they park;
- :class:`Scheduler`: the one thing the runtime must provide, ``block`` (park the running thread
  until a condition holds, it is woken, or it is cancelled) and ``wake``;
- :class:`SyncDriver`: a scheduler without stacks for tests and tools. While a thread is parked it
  runs queued *steps* (callables standing for the progress of everything else) until the thread
  may go on, and traps with a deadlock when none is left, as a synchronous task does in the spec
  when no other thread can run.

Example::

    driver = SyncDriver()
    thread = Thread(task, driver)
    flag = []
    driver.spawn(lambda: flag.append(1))
    thread.wait_until(lambda: bool(flag))   # runs the step, then returns Cancelled.FALSE
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from enum import IntEnum
from types import GeneratorType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar, overload

from ..context import trap

if TYPE_CHECKING:
    from .task import Task

__all__ = [
    "Cancelled",
    "ReadyFunc",
    "Scheduler",
    "SyncDriver",
    "Thread",
    "Wait",
    "Waiting",
    "always",
    "finish",
    "run_blocking",
    "then",
]

ReadyFunc = Callable[[], bool]
T = TypeVar("T")
U = TypeVar("U")


def always() -> bool:
    """The ready function of ``thread.yield`` (a scheduler may tell a yield by it)."""
    return True


class Cancelled(IntEnum):
    """What a parked thread was resumed with (the value ``thread.yield`` and friends return)."""

    FALSE = 0
    TRUE = 1


class Wait(NamedTuple):
    """One wait of a built-in split at its waits (a :data:`Waiting`): park ``thread`` until
    ``ready()`` (``None``: until woken), or a cancellation when ``cancellable``. ``wset``: a
    waitable set ``ready()`` implies has an event (a scheduler may wait for that first)."""

    thread: Thread
    ready: ReadyFunc | None
    cancellable: bool
    wset: Any = None


#: A built-in's rest after a wait: a generator yielding its :class:`Wait`s, sent what each
#: was resumed with, returning the built-in's result. Built-ins that may wait return their
#: result, or one of these when they must wait: a stack that can block runs it with
#: :func:`run_blocking`; a fiber suspends at each wait (the host callback returns first).
Waiting = Generator[Wait, Cancelled, T]


def run_blocking(w: Waiting[T]) -> T:
    """Run ``w`` on the current native stack, each wait through its thread's scheduler
    (:meth:`Scheduler.block`)."""
    try:
        req = next(w)
        while True:
            req = w.send(req.thread._block(req.ready, req.cancellable))
    except StopIteration as e:
        result: T = e.value
        return result


@overload
def finish(r: Waiting[T]) -> T: ...
@overload
def finish(r: T | Waiting[T]) -> T: ...
def finish(r: Any) -> Any:
    """A built-in's result, running its waits (:func:`run_blocking`) if it must wait."""
    if isinstance(r, GeneratorType):
        return run_blocking(r)
    return r


@overload
def then(r: Waiting[T], f: Callable[[T], U]) -> Waiting[U]: ...
@overload
def then(r: T | Waiting[T], f: Callable[[T], U]) -> U | Waiting[U]: ...
def then(r: Any, f: Callable[[Any], Any]) -> Any:
    """``f`` applied to the result ``r``, after its waits if it has any."""
    if isinstance(r, GeneratorType):
        return _then(r, f)
    return f(r)


def _then(w: Waiting[T], f: Callable[[T], U]) -> Waiting[U]:
    v = yield from w
    return f(v)


class Scheduler(Protocol):
    """The runtime side of waiting. ``block`` is called on the running thread only."""

    def block(self, thread: Thread, ready: ReadyFunc | None) -> Cancelled:
        """Park ``thread`` and run others until ``ready()`` holds (``ready`` is ``None``: until
        :meth:`wake`), or, when ``thread.cancellable``, until it is woken with a cancellation.
        Returns :attr:`Cancelled.TRUE` only in the latter case. Traps if nothing can ever make
        the thread ready (a deadlock)."""
        ...

    def wake(self, thread: Thread, cancelled: Cancelled = Cancelled.FALSE) -> None:
        """Make the parked ``thread`` runnable again (the spec's ``resume`` / ``resume_later``);
        it returns from :meth:`block` with ``cancelled``."""
        ...


class Thread:
    """The spec's ``Thread`` minus its continuation: the continuation is the scheduler's."""

    __slots__ = ("cancellable", "index", "ready_func", "scheduler", "storage", "task")

    def __init__(self, task: Task, scheduler: Scheduler) -> None:
        self.task = task
        self.scheduler = scheduler
        #: The index in the instance's thread table while registered with its task.
        self.index: int | None = None
        #: The two ``context.get``/``context.set`` slots.
        self.storage = [0, 0]
        #: Whether the thread, while parked, may be resumed by a cancellation.
        self.cancellable = False
        #: What the parked thread waits for (``None`` when running or suspended).
        self.ready_func: ReadyFunc | None = None

    def waiting(self) -> bool:
        return self.ready_func is not None

    def ready(self) -> bool:
        return self.ready_func is not None and self.ready_func()

    def _block(self, ready: ReadyFunc | None, cancellable: bool) -> Cancelled:
        self.cancellable = cancellable
        self.ready_func = ready
        try:
            cancelled = self.scheduler.block(self, ready)
        finally:
            self.ready_func = None
            self.cancellable = False
        assert cancellable or not cancelled, "only a cancellable wait is resumed by cancellation"
        return cancelled

    def suspend(self, cancellable: bool) -> Cancelled:
        """Park until woken (``thread.suspend``), delivering a pending cancellation first."""
        return finish(self.suspend_w(cancellable))

    def wait_until(self, ready: ReadyFunc, cancellable: bool = False) -> Cancelled:
        """Park until ``ready()`` holds (the spec's ``wait_until``), delivering a pending
        cancellation first. The scheduler may return at once when ``ready()`` already holds."""
        return finish(self.wait_until_w(ready, cancellable))

    def yield_(self, cancellable: bool) -> Cancelled:
        """Let other threads run, then go on (``thread.yield``)."""
        return self.wait_until(always, cancellable)

    # the same, split at the wait (see :data:`Waiting`)

    def suspend_w(self, cancellable: bool) -> Cancelled | Waiting[Cancelled]:
        if self.task.deliver_pending_cancel(cancellable):
            return Cancelled.TRUE
        return self._wait(None, cancellable, None)

    def wait_until_w(self, ready: ReadyFunc, cancellable: bool = False, wset: Any = None
                     ) -> Cancelled | Waiting[Cancelled]:
        if self.task.deliver_pending_cancel(cancellable):
            return Cancelled.TRUE
        return self._wait(ready, cancellable, wset)

    def yield_w(self, cancellable: bool) -> Cancelled | Waiting[Cancelled]:
        return self.wait_until_w(always, cancellable)

    def _wait(self, ready: ReadyFunc | None, cancellable: bool, wset: Any
              ) -> Waiting[Cancelled]:
        cancelled = yield Wait(self, ready, cancellable, wset)
        return cancelled


class SyncDriver:
    """A :class:`Scheduler` without stacks: a parked thread runs queued steps until it may go on.

    Steps are plain callables (``spawn``) standing for whatever else would run concurrently (a
    peer writing to a stream, a host import resolving). ``wake`` records a resumption that the
    parked thread picks up. With no step left and the thread not ready, the wait can never end:
    it traps with a deadlock, as a synchronous task blocking with nothing else to run does.
    """

    __slots__ = ("steps", "woken")

    def __init__(self) -> None:
        self.steps: deque[Callable[[], object]] = deque()
        self.woken: dict[Thread, Cancelled] = {}

    def spawn(self, step: Callable[[], object]) -> None:
        self.steps.append(step)

    def block(self, thread: Thread, ready: ReadyFunc | None) -> Cancelled:
        while True:
            if thread in self.woken:
                return self.woken.pop(thread)
            if ready is not None and ready():
                return Cancelled.FALSE
            if not self.steps:
                trap("deadlock: the thread waits and nothing else can run")
            self.steps.popleft()()

    def wake(self, thread: Thread, cancelled: Cancelled = Cancelled.FALSE) -> None:
        assert thread.cancellable or not cancelled, "only a cancellable thread is cancelled"
        self.woken[thread] = cancelled
