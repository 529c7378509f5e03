"""The component-model async runtime: the store's scheduler, async lifts and lowers, the async
built-ins' core functions, and the host's drivers (sync calls and ``call_async``).

The spec's state machines are in :mod:`wasm_component._abi.concurrency`; this module runs them
against real core calls. It is used only by stores in which an async feature was instantiated
(an async built-in, an async lift or lower): then the instances of that root carry the store's
:class:`StoreScheduler` (``ComponentInstanceState.sched``) and every call into them runs as a
spec :class:`~.concurrency.Task` on a guest :class:`GuestThread`. A store without async features
never reaches this module (the sync call paths of ``calls`` stay as they are).

How a thread waits (CanonicalABI.md "Thread"):

- *stackless*: a ``callback``-lifted task between two callback calls, or a task waiting to enter
  its instance (backpressure), has no native stack: it is parked with a continuation
  (:meth:`StoreScheduler.park`) that the scheduler calls when the thread is ready;
- *on a fiber*: in a component that may suspend a guest stack (``instantiate.needs_fibers``)
  every guest call runs on a wasmtime fiber (``core.GuestStack``), and a built-in that must
  wait (``waitable-set.wait``, a sync lower that did not finish, a sync ``stream.read``,
  ``thread.yield`` and the other ``thread.*``) suspends the thread's fiber
  (:meth:`StoreScheduler.suspend`): the thread is parked with a continuation that resumes the
  fiber, and its caller goes on, as the spec's switch back to the caller;
- *stacked* (the fallback, for a component instantiated without fibers): a thread that blocks
  keeps its native stack: :meth:`StoreScheduler.block` runs the store's other ready threads on
  top of it until it may go on.

Host async operations (an async host import: a host function returning an awaitable) run as
asyncio tasks on the caller's loop (``call_async``) or on a private loop the scheduler runs
while a synchronous host call waits (``Func.__call__``); their results are applied by the
scheduler (:attr:`StoreScheduler.host_done`), never from inside an asyncio callback.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from itertools import repeat
from types import CoroutineType, GeneratorType
from typing import TYPE_CHECKING, Any

from .. import types as t
from .._abi.concurrency import builtins as B
from .._abi.concurrency.copy import elem_codec
from .._abi.concurrency.scheduler import (
    Cancelled,
    ReadyFunc,
    Thread,
    Wait,
    Waiting,
    always,
    finish,
    then,
)
from .._abi.concurrency.task import CallbackCode, Task, unpack_callback_result
from .._abi.concurrency.waitable import EventCode, Subtask, WaitableSet
from .._abi.context import CanonicalOptions, ComponentInstanceState, LiftLowerContext, trap
from .._abi.func import func_abi
from .._abi.layout import flatten_functype
from .._translate.trampolines import Trampoline
from .._validate.model import CanonInfo
from ..errors import NotSupported, Trap, TrapCode
from . import core

if TYPE_CHECKING:
    from .calls import HostFunc, LiftedFunc, Site

__all__ = [
    "ASYNC_BUILTINS",
    "AsyncLift",
    "GuestThread",
    "StoreScheduler",
    "async_lift_call",
    "async_lowered",
    "async_lowered_call",
    "call_async",
    "in_own_task",
    "not_built",
    "scheduler_for",
]

OnStart = Callable[[], Sequence[Any]]
OnResolve = Callable[[Sequence[Any] | None], None]
OnCancel = Callable[[ComponentInstanceState | None], None]
Cont = Callable[[Cancelled], None]

def _never_started() -> Sequence[Any]:
    raise AssertionError("a task of the fast path is started by it")


DEADLOCK = "deadlock detected: event loop cannot make further progress"
#: The spec's ``trap_if(not candidates)`` at the end of ``canon_lift``: a task of a
#: non-``async`` function type waits, and no other thread of its instance is ready to run.
SYNC_BLOCK = "cannot block a synchronous task before returning"
_INITIAL = Task.State.INITIAL
_STARTED = Task.State.STARTED
POISONED = "the component instance trapped in another task while this call waited"


class LiftTask(Task):
    """A task of a lifted function: also the concrete resource types its static type names
    (``resources``: abstract -> concrete, ``None`` when none), which ``task.return``'s lifting
    of that type needs (the built-in is shared by every function of the instance)."""

    __slots__ = ("resources",)

    def __init__(self, inst: Any, ft: t.FuncType, opts: CanonicalOptions, on_start: Any,
                 on_resolve: Any, resources: dict[t.ResourceType, t.ResourceType] | None
                 ) -> None:
        # ``Task.__init__`` (and the sync task's below it) inline: one task per async call,
        # so their two frames are a hot path's; every slot of both is set here
        self.inst = inst
        self.ft = ft
        self.opts = opts
        self.num_borrows = 0
        self.resolved = False
        self.host_lenders = None
        self.on_start = on_start
        self.on_resolve = on_resolve
        self.state = _INITIAL
        self.implicit_thread = None
        self.threads = []
        self._exclusive = not opts.async_ or opts.callback is not None
        self.resources = resources


class GuestThread(Thread):
    """A spec ``Thread`` as the runtime runs it: ``cont`` is the continuation of a parked
    stackless thread (``None`` while running or blocked on its native stack); ``parks`` counts
    its parkings (a queue entry of an earlier one is stale); ``wset`` is the waitable set a
    parked ``WAIT`` waits on."""

    __slots__ = ("cont", "parks", "resume_with", "wset")

    def __init__(self, task: Task, scheduler: StoreScheduler) -> None:
        # ``Thread.__init__`` inline (a thread per async call: a hot path)
        self.task = task
        self.scheduler = scheduler
        self.index = None
        self.storage = [0, 0]
        self.cancellable = False
        self.ready_func = None
        self.cont: Cont | None = None
        self.parks = 0
        self.wset: WaitableSet | None = None
        #: what a thread suspended on its fiber is being resumed with (read by the
        #: suspension's poll: :meth:`StoreScheduler.suspend`)
        self.resume_with: Cancelled | None = None


class StoreScheduler:
    """The store's scheduler (the spec's ``Store``: its ``waiting`` threads and ``tick``), and
    the :class:`~.concurrency.Scheduler` every guest thread of the store blocks through.

    ``current`` is the running guest thread (the spec's ``current_thread()``), ``None`` when
    the host runs. ``entered`` lists the instances the native stack has entered (a stacked
    wait lets other tasks enter them, as the spec's switch back to the caller would).

    Scheduling costs O(ready work), not O(parked threads): a parked stackless thread is either
    a *candidate* (``candidates``: checked by :meth:`step`, in the order they became one) or,
    waiting on a waitable set without a pending event, listed on that set (``_wset_waiters``)
    until the set's ``on_event`` makes its waiters candidates. A woken thread is queued in
    ``_woken_q``. Queue entries are ``(thread, parks)``: stale once the thread parks again."""

    __slots__ = (
        "_background",
        "_host_futs",
        "_in_switch",
        "_loop",
        "_waiters",
        "_woken_q",
        "_wset_waiters",
        "candidates",
        "closed",
        "cstore",
        "current",
        "driving",
        "entered",
        "host_done",
        "host_holds_ends",
        "host_pending",
        "starting",
        "switch_to",
        "waiting",
        "woken",
    )

    def __init__(self) -> None:
        self.current: GuestThread | None = None
        #: the parked threads (stackless and stacked), in the order they parked
        self.waiting: dict[GuestThread, None] = {}
        self.woken: dict[Thread, Cancelled] = {}
        self.candidates: deque[tuple[GuestThread, int]] = deque()
        self._woken_q: deque[tuple[Thread, int]] = deque()
        self._wset_waiters: dict[WaitableSet, list[tuple[GuestThread, int]]] = {}
        self.entered: list[ComponentInstanceState] = []
        #: completed host operations, applied in order by :meth:`step`
        self.host_done: deque[Callable[[], None]] = deque()
        #: host operations still running (asyncio tasks)
        self.host_pending = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._host_futs: set[asyncio.Future[Any]] = set()
        #: whether the host holds stream/future ends (then a wait with nothing to run may be
        #: ended by the host: ``call_async`` waits for :meth:`notify` instead of trapping)
        self.host_holds_ends = False
        #: the lowered calls into guest callees on the native stack (since the innermost
        #: resumption) still in their callee's first run, and whether each was lowered
        #: ``async``: if the callee blocks, the spec switches back to such a caller
        self.starting: list[tuple[Subtask, bool]] = []
        #: the loop a background drive is scheduled on (see :meth:`notify`)
        self._background: asyncio.AbstractEventLoop | None = None
        #: the store has gone (:meth:`close`): nothing more runs
        self.closed = False
        #: the store's core store (set by :func:`scheduler_for`), whose fibers it resumes
        self.cstore: core.CoreStore | None = None
        #: how many synchronous drivers (:meth:`run_until`) run the store now: they apply
        #: host results themselves (no background drive, which would resume guest stacks from
        #: inside an asyncio callback, where a trap would be lost)
        self.driving = 0
        #: a thread to run as soon as the current thread's fiber suspended (``thread.*-then-
        #: resume``/``promote``: the spec's ``switch_to``)
        self.switch_to: GuestThread | None = None
        self._in_switch = False

    # -- guest stacks on fibers ----------------------------------------------------------------

    def suspend(self, thread: GuestThread, w: Waiting[Any]) -> Any:
        """A built-in running as an async host function on ``thread``'s fiber must wait
        (``w``: its rest, ``scheduler.Waiting``): park the thread with a continuation that
        resumes the fiber, and give core the :class:`core.Suspend` that keeps the fiber
        suspended until then. The built-in's rest runs in the fiber when it is resumed; its
        result goes to the guest, what it raises traps it. A wait whose condition already holds
        goes on at once (as a stacked wait does)."""
        assert self.cstore is not None, "made by scheduler_for"
        stack = core.running_stack(self.cstore)
        assert stack is not None, "an async host function runs on a fiber"

        def step(c: Cancelled | None) -> Any:
            while True:
                try:
                    req = w.send(c)  # type: ignore[arg-type]
                except StopIteration as e:
                    return e.value
                ready = req.ready
                if ready is not None and ready is not always and ready():
                    c = Cancelled.FALSE  # (ready already: no switch)
                    continue
                self._park_stacked(thread, stack, req)
                return core.PENDING

        def poll() -> Any:
            c = thread.resume_with
            if c is None:
                return core.PENDING
            thread.resume_with = None
            return step(c)

        r = step(None)
        return core.Suspend(poll) if r is core.PENDING else r

    def _park_stacked(self, thread: GuestThread, stack: core.GuestStack, req: Wait) -> None:
        self.park(thread, req.ready, req.cancellable,
                  partial(self._resume_stacked, thread, stack), req.wset)

    def _resume_stacked(self, thread: GuestThread, stack: core.GuestStack,
                        cancelled: Cancelled) -> None:
        """Resume a thread suspended on its fiber (it is the current thread: :meth:`run`)."""
        thread.resume_with = cancelled
        states = _reenter(self, thread.task.inst)
        try:
            self.run_stack(stack)
        finally:
            _leave(self, states)

    def run_stack(self, stack: core.GuestStack) -> None:
        """Poll a fiber on; when its call is done, its owner's ``on_done`` runs. When it
        suspended switching to another thread (:attr:`switch_to`), that one runs now (by the
        outermost poll: switches back and forth loop here, they do not nest)."""
        if stack.poll():
            on_done = stack.on_done
            if on_done is not None:
                on_done(stack)
        if self.switch_to is not None and not self._in_switch:
            self._switch()

    def _switch(self) -> None:
        self._in_switch = True
        try:
            while (other := self.switch_to) is not None:
                self.switch_to = None
                self.resume(other, Cancelled.FALSE)
        finally:
            self._in_switch = False

    def suspended(self, thread: GuestThread) -> bool:
        """The spec's ``Thread.suspended``: parked, and waiting for nothing but a resumption."""
        return thread.cont is not None and thread in self.waiting and thread.ready_func is None

    def resume_later(self, thread: GuestThread) -> None:
        """The spec's ``Thread.resume_later``: a suspended thread becomes ready."""
        assert self.suspended(thread), "checked by the built-in"
        thread.ready_func = always
        self.candidates.append((thread, thread.parks))

    def wait_stack(self, stack: core.GuestStack) -> None:
        """A caller that cannot suspend waits for a call whose fiber suspended (core's
        ``stack_waiter``): run the store's threads until it is done."""
        self.run_until(lambda: stack.done)

    # -- the Scheduler protocol (stacked waits) ------------------------------------------------

    def block(self, thread: Thread, ready: ReadyFunc | None) -> Cancelled:
        assert isinstance(thread, GuestThread) and thread is self.current, "the running thread"
        for subtask, async_ in self.starting:
            if async_ or subtask.resolved():
                # the spec switches back to the caller below us (an async caller, or one whose
                # callee already returned), which has no native stack of its own here
                raise NotSupported(
                    "a task blocks on a native stack that is not a fiber (its caller's "
                    "component has no built-in that may suspend, so its guest calls were not "
                    "put on fibers) where the spec switches back to the caller (called through "
                    "an async lower, or after it returned its value)")
        thread.cont = None
        self.waiting[thread] = None
        # a task of a non-``async`` type waits as at the end of its ``canon_lift``
        # (:meth:`finish_sync`): only its own instance's threads run meanwhile. (No async-typed
        # task waits under a sync lower on a stack that is not a fiber: such a lower puts the
        # store on fibers, ``instantiate.needs_fibers``. So the thread's own task is the one
        # whose ``canon_lift`` would wait.)
        inst = None if thread.task.ft.is_async else thread.task.inst
        # the instances this stack entered may be entered by others while it waits
        left = [s for s in self.entered if not s.may_enter]
        for s in left:
            s.may_enter = True
        try:
            stepped = ready is not always  # (a yield lets another thread run first)
            while True:
                c = self.woken.pop(thread, None)
                if c is not None:
                    return c
                if ready is not None and ready() and stepped:
                    return Cancelled.FALSE
                if not self.step(inst):
                    if ready is not None and ready():
                        return Cancelled.FALSE
                    self.nothing_ran(inst)
                stepped = True
        finally:
            self.waiting.pop(thread, None)
            self.current = thread
            for s in left:
                s.may_enter = False

    def wake(self, thread: Thread, cancelled: Cancelled = Cancelled.FALSE) -> None:
        assert thread.cancellable or not cancelled, "only a cancellable thread is cancelled"
        self.woken[thread] = cancelled
        self._woken_q.append((thread, getattr(thread, "parks", 0)))

    # -- stackless waits -----------------------------------------------------------------------

    def park(self, thread: GuestThread, ready: ReadyFunc | None, cancellable: bool, cont: Cont,
             wset: WaitableSet | None = None) -> None:
        """Park a thread that has no native stack: ``cont(cancelled)`` runs when ``ready()``
        (or a cancellation, when ``cancellable``). A pending cancellation is delivered first,
        as the spec's ``wait_until`` does. ``wset``: ``ready()`` implies that this set has a
        pending event (the thread need not be checked before it has one). ``ready`` ``None``:
        suspended, until woken (:meth:`wake`)."""
        thread.parks += 1
        thread.ready_func = ready
        thread.cancellable = cancellable
        thread.cont = cont
        thread.wset = wset
        self.waiting[thread] = None
        if thread.task.deliver_pending_cancel(cancellable):
            self.wake(thread, Cancelled.TRUE)
        if ready is None:
            return  # (suspended: only a wake resumes it)
        if wset is not None and not wset.has_pending_event():
            self._wait_on(thread, wset)
        else:
            self.candidates.append((thread, thread.parks))

    def _wait_on(self, thread: GuestThread, wset: WaitableSet) -> None:
        waiters = self._wset_waiters.get(wset)
        if waiters is None:
            waiters = self._wset_waiters[wset] = []
            wset.on_event = self._wset_event
        waiters.append((thread, thread.parks))

    def _wset_event(self, wset: WaitableSet) -> None:
        """``wset`` has a pending event: its parked waiters become candidates."""
        waiters = self._wset_waiters.pop(wset, None)
        if waiters:
            self.candidates.extend(waiters)

    def resume(self, thread: GuestThread, cancelled: Cancelled) -> None:
        """Run a parked stackless thread's continuation now."""
        cont = thread.cont
        assert cont is not None, "only a stackless thread resumes from the scheduler"
        del self.waiting[thread]
        self.woken.pop(thread, None)
        wset = thread.wset
        if wset is not None and wset in self._wset_waiters:
            # (resumed before its set had an event: a cancellation)
            rest = [e for e in self._wset_waiters[wset] if e[0] is not thread]
            if rest:
                self._wset_waiters[wset] = rest
            else:
                del self._wset_waiters[wset]
        thread.cont = None
        thread.wset = None
        thread.ready_func = None
        thread.cancellable = False
        if thread.task.inst.root.poisoned:
            return  # its instance trapped (in another task): no code of it runs again
        starting, self.starting = self.starting, []  # (a new native stack base)
        try:
            self.run(thread, partial(cont, cancelled))
        finally:
            self.starting = starting

    def run(self, thread: GuestThread, fn: Callable[[], None]) -> None:
        """Run ``fn`` (guest code of ``thread``) as the current thread. A trap leaves the
        instance poisoned (the spec's lockdown)."""
        prev = self.current
        self.current = thread
        try:
            fn()
        except BaseException:
            thread.task.inst.poison()
            raise
        finally:
            self.current = prev

    def step(self, inst: ComponentInstanceState | None = None) -> bool:
        """Make one step of progress: apply a finished host operation, or resume one ready
        stackless thread. ``False``: nothing could run. ``inst``: resume only a thread of that
        instance (the candidates while a task of a non-``async`` function type waits:
        :meth:`finish_sync`, or :meth:`block` on a stack that is not a fiber); the others stay
        queued."""
        if self.switch_to is not None and not self._in_switch:
            self._switch()  # (a switch made where no poll loop could take it)
            return True
        if self.host_done:
            self.host_done.popleft()()
            return True
        woken, waiting = self.woken, self.waiting
        woken_q = self._woken_q
        skipped: list[tuple[Thread, int]] | None = None  # (made at the first: most steps skip none)
        try:
            while woken_q:
                th, parks = woken_q.popleft()
                # (a stacked thread picks its wake-up in `block`)
                if (isinstance(th, GuestThread) and th.cont is not None and th.parks == parks
                        and th in waiting):
                    c = woken.get(th)
                    if c is not None:
                        if inst is not None and th.task.inst is not inst:
                            if skipped is None:
                                skipped = []
                            skipped.append((th, parks))
                            continue
                        self.resume(th, c)
                        return True
        finally:
            if skipped:
                woken_q.extendleft(reversed(skipped))
        q = self.candidates
        for _ in range(len(q)):
            th, parks = q.popleft()
            if th.cont is None or th.parks != parks or th not in waiting:
                continue  # stale: resumed (and maybe parked again) since
            if inst is not None and th.task.inst is not inst:
                q.append((th, parks))
                continue
            if th.ready():
                self.resume(th, Cancelled.FALSE)
                return True
            wset = th.wset
            if wset is not None and not wset.has_pending_event():
                self._wait_on(th, wset)  # (its event was taken by a poll)
            else:
                q.append((th, parks))  # (ready but for the lock or backpressure)
        return False

    def finish_sync(self, task: Task) -> None:
        """The end of the spec's ``canon_lift`` for a non-``async`` function type whose task
        has not returned: run the ready threads of its instance (never another instance's; a
        callback-lifted task's parked event loop is one of them) until it has; with none
        ready, it traps (:meth:`nothing_ran`).

        The spec's candidates also leave out the thread holding the instance's exclusive lock.
        Its suite's newer ``during-sync-scheduling-candidates`` resumes a callback task
        suspended mid-frame, lock held, that the waiting task made ready; leaving it out makes
        that wait a livelock (the waiting task's own yields keep it ready, so it never traps).
        What counts as blocking in a host callee is the host's to say: a host operation still
        running is waited for."""
        inst, resolved = task.inst, Task.State.RESOLVED
        while task.state != resolved:
            if not self.step(inst) and task.state != resolved:
                self.nothing_ran(inst)

    def nothing_ran(self, inst: ComponentInstanceState | None) -> None:
        """A waiter found nothing to run. ``inst``: the waiter is a task of a non-``async``
        type, of that instance (the spec's ``trap_if(not candidates)``), which traps, leaving
        the instance poisoned as any trap does, unless a host operation is still running
        (then :meth:`stuck` waits for it). ``None``: :meth:`stuck`."""
        if inst is not None and not self.host_pending:
            inst.poison()
            trap(SYNC_BLOCK)
        self.stuck()

    def stuck(self) -> None:
        """Nothing can run: wait for a host operation when that is possible, else deadlock."""
        if self.host_pending:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                # a synchronous host call: the host operations run on the scheduler's loop
                self._run_private_loop()
                return
            raise NotSupported(
                "a synchronous wait needs a host async operation to finish while an asyncio "
                "loop runs in this thread (a synchronous call made inside `async` code, or a "
                "guest stack that is not a fiber blocking inside `call_async`): call the "
                "export with `call_async`")
        trap(DEADLOCK)

    def close(self) -> None:
        """The store is going: cancel the host operations still running. No guest code of
        the store runs after this (a drive already scheduled on a loop, or a host operation
        that ends later, finds the scheduler closed and does nothing; no background drive is
        scheduled from now on)."""
        self.closed = True
        self.driving += 1
        # (it refers back to the scheduler, through the instances' states: a cycle that kept
        # the wasmtime store, with its linear memories, until the cyclic GC)
        self.cstore = None
        self.host_done.clear()
        self.waiting.clear()
        self.woken.clear()
        self.candidates.clear()
        self._woken_q.clear()
        self._wset_waiters.clear()
        for f in list(self._host_futs):
            f.cancel()
        loop = self._loop
        if loop is not None and not loop.is_running() and not loop.is_closed():
            mine = [f for f in self._host_futs if f.get_loop() is loop]
            if mine and asyncio._get_running_loop() is None:
                # (let the cancelled operations finish on the loop they run on)
                loop.run_until_complete(asyncio.gather(*mine, return_exceptions=True))
            loop.close()
        self._host_futs.clear()

    def run_until(self, done: Callable[[], bool]) -> None:
        """Run the store's threads until ``done()`` (the host waits for a call)."""
        self.driving += 1
        try:
            while not done():
                if not self.step():
                    if done():
                        return
                    self.stuck()
        finally:
            self.driving -= 1

    # -- host operations ---------------------------------------------------------------------

    def host_loop(self) -> asyncio.AbstractEventLoop:
        """The loop host operations run on: the caller's, else the scheduler's own."""
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            loop = self._loop
            if loop is None or loop.is_closed():
                loop = self._loop = asyncio.new_event_loop()
            return loop

    def start_host(self, awaitable: Any, on_done: Callable[[asyncio.Future[Any]], None]
                   ) -> asyncio.Future[Any]:
        """Run a host operation; ``on_done(future)`` is applied by :meth:`step` once it ends."""
        fut: asyncio.Future[Any] = asyncio.ensure_future(awaitable, loop=self.host_loop())
        self.host_pending += 1
        self._host_futs.add(fut)

        def done(f: asyncio.Future[Any]) -> None:
            self.host_pending -= 1
            self._host_futs.discard(f)
            if self.closed:
                return  # (its store has gone: nothing to hand the result to)
            self.host_done.append(partial(on_done, f))
            self.notify()

        fut.add_done_callback(done)
        return fut

    def notify(self) -> None:
        """Something the host did may have made a parked thread ready (a host stream or
        future operation): wake one ``call_async`` driver waiting for the host (it runs every
        ready thread of the store, and passes the turn on when its own call is done). With none
        waiting, the store's ready threads run from the running loop: a guest task may outlive
        the call that started it (it returned a stream it goes on writing, or a future)."""
        waiters = self._waiters
        while waiters:
            w = waiters.popleft()
            if not w.done():
                w.set_result(None)
                return
        if self.current is not None or self.driving:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # a synchronous caller runs the store itself
        if self._background is loop:
            return  # (one scheduled on a loop that closed since does not count)
        self._background = loop
        loop.call_soon(self._drive_background)

    def _drive_background(self) -> None:
        """Run ready threads (a bounded number of steps per loop turn, so host coroutines
        take turns with the guest), while no ``call_async`` drives the store."""
        self._background = None
        if self.closed:
            return
        waiters = self._waiters
        while waiters and waiters[0].done():
            waiters.popleft()  # (a driver whose call ended while it waited)
        if self.current is not None or waiters or self.driving:
            return
        for _ in range(_BACKGROUND_STEPS):
            if not self.step():
                return
        self.notify()  # more may be ready: go on at the next turn

    async def next_host(self, w: asyncio.Future[None] | None = None) -> None:
        """Wait until a host operation ends (or ``w``, the caller's own, is done)."""
        if self.host_done:
            return
        if w is None:
            w = asyncio.get_running_loop().create_future()
        self._waiters.append(w)
        await w

    def may_progress(self) -> bool:
        """Whether :meth:`step` may have work (a host result or a thread to check)."""
        return bool(self.host_done or self._woken_q or self.candidates)

    def _run_private_loop(self) -> None:
        loop = self.host_loop()
        assert not loop.is_running(), "no loop runs in this thread"
        loop.run_until_complete(self.next_host())


#: How many scheduler steps a background drive makes per asyncio loop turn.
_BACKGROUND_STEPS = 64
#: How many scheduler steps a ``call_async`` driver makes between two asyncio loop turns.
_DRIVER_STEPS = 64

_REALLOC_FT = t.FuncType(tuple((f"p{i}", t.U32) for i in range(4)), t.U32)
_PLAIN = CanonicalOptions()


def in_own_task(state: ComponentInstanceState, invoke: Callable[[Sequence[Any]], Any],
                ft: t.FuncType = _REALLOC_FT) -> Callable[[Sequence[Any]], Any]:
    """``invoke`` (a ``realloc`` or destructor call) run as the spec's ``reallocate`` and
    ``canon_resource_drop`` run it: a ``canon lift`` of its own in ``state``, so on a fresh
    thread of a task of that instance (its own ``context.get``/``set`` slots, and the
    built-ins it calls use ``state``'s handles)."""
    sched: StoreScheduler = state.root.sched

    def call(args: Sequence[Any]) -> Any:
        prev = sched.current
        sched.current = GuestThread(Task(state, ft, _PLAIN), sched)
        try:
            return invoke(args)
        finally:
            sched.current = prev

    return call


def scheduler_for(store: Any, state: ComponentInstanceState) -> StoreScheduler:
    """The store's scheduler, made on first use, set on ``state``'s tree (whose calls then
    run as tasks)."""
    sched: StoreScheduler | None = store._sched
    if sched is None:
        sched = store._sched = StoreScheduler()
    if sched.cstore is None:
        sched.cstore = store._core
        store._core.stack_waiter = sched.wait_stack
    state.root.sched = sched
    return sched


# -- entering instances ---------------------------------------------------------------------------


def _chain(state: ComponentInstanceState) -> list[ComponentInstanceState]:
    out = [state]
    while state.parent is not None:
        state = state.parent
        out.append(state)
    return out


def entering_set(inst: ComponentInstanceState, caller: ComponentInstanceState | None
                 ) -> tuple[ComponentInstanceState, ...]:
    """The spec's ``entering_set``: the callee and its ancestors, less the caller and its
    ancestors; a call into an ancestor (donut wrapping) enters nothing, a call into the caller's
    own instance still checks it (as the sync path does)."""
    chain = _chain(inst)
    if caller is None:
        return tuple(chain)
    above = set(_chain(caller))
    if inst in above and inst is not caller:
        return ()
    return tuple(s for s in chain if s is inst or s not in above)


def _enter(sched: StoreScheduler, states: tuple[ComponentInstanceState, ...]) -> None:
    for s in states:
        if s.root.poisoned:
            raise Trap("cannot enter component instance: it trapped earlier and may not be "
                       "entered again", code=TrapCode.CANNOT_ENTER_COMPONENT)
        if not s.may_enter:
            raise Trap("cannot enter component instance: it is already on the stack",
                       code=TrapCode.CANNOT_ENTER_COMPONENT)
    for s in states:
        s.may_enter = False
    sched.entered.extend(states)


def _leave(sched: StoreScheduler, states: tuple[ComponentInstanceState, ...]) -> None:
    if states:
        del sched.entered[-len(states):]
    for s in states:
        s.may_enter = True


def _reenter(sched: StoreScheduler, inst: ComponentInstanceState
             ) -> tuple[ComponentInstanceState, ...]:
    """Enter ``inst`` from the store's loop (a resumed stackless thread): the instances not
    entered already."""
    states = tuple(s for s in _chain(inst) if s.may_enter)
    for s in states:
        s.may_enter = False
    sched.entered.extend(states)
    return states


# -- canon lift ------------------------------------------------------------------------------------


class _BadArguments(Exception):
    """The host's arguments could not be lowered (``error``): raised as ``error`` by the
    caller, and the instance is not poisoned (no guest code ran)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class AsyncLift:
    """``canon lift`` of one function in a store with async features: the spec's
    ``Store.lift`` ``func_inst`` and ``canon_lift``, sync or async, stackless or stackful."""

    __slots__ = ("_entering", "callback", "callback_on_stack", "ft", "host", "host_call_async",
                 "inst", "invoke", "invoke_on_stack", "lift_results", "lower_params", "name",
                 "opts", "post", "resources", "sched", "shared_cx", "static_ft")

    def __init__(self, lf: LiftedFunc, sched: StoreScheduler, host: bool) -> None:
        from .calls import make_opts

        info, site = lf._info, lf._site
        inst = lf.state
        ft = lf.ty
        self.sched = sched
        self.inst = inst
        self.ft = ft
        #: the type as the component declares it, in its own type space (abstract resources):
        #: what the spec's ``task.return`` compares its result type with
        self.static_ft = lf._static
        self.host = host
        self.name = lf.name or "function"
        callback = None
        #: in a store with fibers: the callback's and the function's calls started on a fiber
        #: of their own (the thread's stack: it may suspend), instead of called
        self.callback_on_stack: Callable[[Sequence[Any]], core.GuestStack] | None = None
        self.invoke_on_stack: Callable[[Sequence[Any]], core.GuestStack] | None = None
        fibers = core.resolve(lf.core_func).store.fibers
        if info.is_async and site.callback is not None:
            cb_ty = core.CoreFuncType(("i32", "i32", "i32"), ("i32",))
            cb = core.resolve(site.callback).make_caller(cb_ty)
            callback = cb
            if fibers:
                self.callback_on_stack = core.resolve(site.callback).on_stack(cb_ty)
        self.callback = callback
        base = make_opts(site, info, inst)
        self.opts = CanonicalOptions(base.string_encoding, base.memory, base.realloc, None,
                                     base.memory64, info.is_async, callback, base.alloc)
        abi = lf._abi
        pt = self.opts.ptr_type
        sig = flatten_functype(ft, "lift", pt, info.is_async, callback is not None)
        self.invoke = core.resolve(lf.core_func).make_caller(
            core.CoreFuncType(sig.params, sig.results))
        if fibers:
            self.invoke_on_stack = core.resolve(lf.core_func).on_stack(
                core.CoreFuncType(sig.params, sig.results))
        self.post = None
        if site.post_return is not None and not info.is_async:
            self.post = core.resolve(site.post_return).make_caller(
                core.CoreFuncType(sig.results, ()))
        self.lower_params = abi.lower_params
        self.lift_results = abi.lift_results_host if host else abi.lift_results
        self.resources = site.resources or None
        #: without borrow parameters nothing is lent to the task: one context serves every call
        self.shared_cx = (None if abi.has_borrow
                          else LiftLowerContext(self.opts, inst, None, self.resources))
        #: the entering set per caller (``None``: the host), worked out once
        self._entering: dict[ComponentInstanceState | None, tuple[ComponentInstanceState, ...]]
        self._entering = {}
        #: ``host_call_async(args)``: the coroutine of one call from the host on the running
        #: loop (``Func.call_async``): :func:`call_async`, or for a ``callback`` lift its
        #: common case generated in one frame (``fast_lift``), which leaves to it when needed
        self.host_call_async: Callable[[Sequence[Any]], Any] = partial(call_async, self)
        if (host and callback is not None and ft.is_async and not fibers
                and self.shared_cx is not None):
            self.host_call_async = self._fast_call_async(lf, sig)

    def _fast_call_async(self, lf: LiftedFunc, sig: Any) -> Callable[[Sequence[Any]], Any]:
        from .fast_lift import make_fast_call_async

        inst = self.inst
        states = entering_set(inst, None)
        ic = core.resolve(lf.core_func).inline_call(core.CoreFuncType(sig.params, sig.results))
        ctx, faddr, aaddr, n, trap_out = ic.cargs
        abi = lf._abi
        params = tuple(sig.params)
        return make_fast_call_async(
            self.ft, abi.enc, abi.pt, abi.lift_sig.params_spilled, len(states),
            lift=self, sched=self.sched, inst=inst, root=inst.root, states=states,
            cx=self.shared_cx, static_ft=self.static_ft, opts=self.opts,
            resources=self.resources, tbl=inst.threads, view=ic.view, pack=ic.pack,
            unpack=ic.unpack, call_=ic.call, ctx=ctx, faddr=faddr, aaddr=aaddr, n=n,
            trap_out=trap_out, trap_flag=ic.trap, fail=ic.fail, keep=ic.keep,
            normalize=core.normalize_values, params=params, nparams=len(params),
            struct_error=core.struct_error, general=call_async, drive=_drive,
            resolver=_resolver, new=object.__new__, LiftTask=LiftTask, GuestThread=GuestThread,
            STARTED=_STARTED, RESOLVED=Task.State.RESOLVED, never_started=_never_started,
            trap=trap, partial=partial, cancelled_error=asyncio.CancelledError,
            name=self.name, Trap=Trap, delivered=_delivered)

    # the spec's ``func_inst``
    def __call__(self, on_start: OnStart, on_resolve: OnResolve,
                 caller: ComponentInstanceState | None) -> OnCancel:
        sched, inst = self.sched, self.inst
        states = self._entering.get(caller)
        if states is None:
            states = self._entering[caller] = entering_set(inst, caller)
        if len(states) == 1:  # (``_enter`` of one instance, inline: the common case)
            s = states[0]
            if s.root.poisoned or not s.may_enter:
                _enter(sched, states)  # (traps, saying why)
            s.may_enter = False
            sched.entered.append(s)
        else:
            _enter(sched, states)
        task = LiftTask(inst, self.static_ft, self.opts, on_start, on_resolve, self.resources)
        thread = GuestThread(task, sched)
        prev = sched.current
        sched.current = thread
        try:
            self._thread_func(task, thread)
        except _BadArguments as e:
            raise e.error from None  # (the host's fault: no guest code ran)
        except BaseException:
            inst.poison()
            raise
        finally:
            sched.current = prev
            if len(states) == 1:  # (``_leave``, inline)
                del sched.entered[-1]
                states[0].may_enter = True
            else:
                _leave(sched, states)
        if not self.ft.is_async and task.state != Task.State.RESOLVED:
            # a callee of a non-async type returns before its caller goes on
            sched.finish_sync(task)
        return partial(self._on_cancel, task)

    def _on_cancel(self, task: Task, caller: ComponentInstanceState | None) -> None:
        inst, sched = self.inst, self.sched
        states = entering_set(inst, caller)
        may_enter = all(s.may_enter and not s.root.poisoned for s in states)
        th = task.request_cancellation(may_enter)
        if th is None:
            return
        assert isinstance(th, GuestThread), "the task's threads are the runtime's"
        if th.cont is not None and th in sched.waiting:
            # the spec resumes the cancelled thread at once (entering from the caller)
            _enter(sched, states)
            try:
                sched.resume(th, Cancelled.TRUE)
            finally:
                _leave(sched, states)
        else:
            sched.wake(th, Cancelled.TRUE)

    def _thread_func(self, task: Task, thread: GuestThread) -> None:
        inst = self.inst
        if self.ft.is_async:
            if (inst.backpressure > 0 or (task._exclusive and inst.exclusive_thread is not None)
                    or inst.num_waiting_to_enter > 0):
                # ``enter_implicit_thread``'s wait, stackless
                task.implicit_thread = thread
                inst.num_waiting_to_enter += 1
                self.sched.park(thread, lambda: not task.has_backpressure(), True,
                                partial(self._entered_after_wait, task, thread))
                return
            # ``task.enter_implicit_thread(thread)`` with nothing to wait for, inline (the
            # backpressure test above is its ``has_backpressure``): the lock, then the thread
            # registers with its task (``register_thread``)
            if task._exclusive:
                inst.exclusive_thread = thread
        task.implicit_thread = thread
        task.threads.append(thread)
        thread.index = inst.threads.add(thread)
        self._body(task, thread)

    def _entered_after_wait(self, task: Task, thread: GuestThread, cancelled: Cancelled) -> None:
        inst = self.inst
        inst.num_waiting_to_enter -= 1
        if cancelled:
            task.cancel()
            return
        if task.needs_exclusive():
            assert inst.exclusive_thread is None, "backpressure waited for the lock"
            inst.exclusive_thread = thread
        task.register_thread(thread)
        states = _reenter(self.sched, inst)
        try:
            self._body(task, thread)
        finally:
            _leave(self.sched, states)

    def _body(self, task: Task, thread: GuestThread) -> None:
        inst, opts = self.inst, self.opts
        cx = self.shared_cx or LiftLowerContext(opts, inst, task, self.resources)
        task.state = _STARTED  # (``task.start()``, inline)
        args = task.on_start()
        try:
            flat_args = self.lower_params(cx, args)
        except (TypeError, ValueError, OverflowError) as e:
            self._abandon(task, thread)
            raise _BadArguments(type(e)(f"`{self.name}`: {e}")) from None
        start = self.invoke_on_stack
        if start is not None:
            # the thread's stack: a fiber, which a blocking built-in may suspend (then the
            # caller goes on, and the rest runs when the scheduler resumes the thread)
            stack = start(flat_args)
            stack.on_done = partial(self._body_done, task, thread, cx)
            self.sched.run_stack(stack)
            return
        if not opts.async_:
            self._sync_return(task, cx, self.invoke(flat_args))
            return
        if self.callback is None:
            self.invoke(flat_args)
            task.exit_implicit_thread()
            return
        packed = self.invoke(flat_args)[0]
        if packed == 0:  # EXIT at once (``_after_callback``'s first case, inline)
            task.exit_implicit_thread()
            return
        self._after_callback(task, thread, packed)

    def _body_done(self, task: Task, thread: GuestThread, cx: LiftLowerContext,
                   stack: core.GuestStack) -> None:
        """The rest of :meth:`_body` once the call on the thread's fiber returned."""
        flat_results = stack.result()
        opts = self.opts
        if not opts.async_:
            self._sync_return(task, cx, flat_results)
            return
        if self.callback is None:
            task.exit_implicit_thread()
            return
        self._after_callback(task, thread, flat_results[0])

    def _sync_return(self, task: Task, cx: LiftLowerContext, flat_results: Any) -> None:
        """A sync-lifted callee's end: its results lifted and returned, then its
        ``post-return`` (with ``may_leave`` cleared, as the spec does) and the thread's exit."""
        value = self.lift_results(cx, flat_results)
        task.return_([value] if self.ft.result is not None else [])
        post = self.post
        if post is not None:
            inst = self.inst
            inst.may_leave = False
            try:
                post(flat_results)
            finally:
                inst.may_leave = True
        task.exit_implicit_thread()

    def _abandon(self, task: Task, thread: GuestThread) -> None:
        """Undo a task whose arguments could not be lowered (no guest code ran): its thread
        leaves the thread table and the lock; it resolves without a result."""
        inst = self.inst
        task.threads.remove(thread)
        assert thread.index is not None, "the thread was registered"
        inst.threads.remove(thread.index)
        thread.index = None
        if self.ft.is_async and task.needs_exclusive() and inst.exclusive_thread is thread:
            inst.exclusive_thread = None
        task.state = Task.State.RESOLVED

    def _after_callback(self, task: Task, thread: GuestThread, packed: int) -> None:
        inst = self.inst
        if packed == 0:  # EXIT (the common first answer of a task that returned at once)
            task.exit_implicit_thread()
            return
        code, si = unpack_callback_result(packed & 0xFFFF_FFFF)
        if code == CallbackCode.EXIT:
            task.exit_implicit_thread()
            return
        assert inst.exclusive_thread is thread, "a callback runs under the exclusive lock"
        inst.exclusive_thread = None
        if code == CallbackCode.YIELD:
            self.sched.park(thread, lambda: inst.exclusive_thread is None, True,
                            partial(self._resume_yield, task, thread))
            return
        wset = inst.handles.get(si) if si else None
        if not isinstance(wset, WaitableSet):
            trap(f"callback returned WAIT on handle index {si}, which is not a waitable set")
        wset.num_waiting += 1

        def ready() -> bool:
            return inst.exclusive_thread is None and wset.has_pending_event()

        self.sched.park(thread, ready, True, partial(self._resume_wait, task, thread, wset),
                        wset)

    def _resume_yield(self, task: Task, thread: GuestThread, cancelled: Cancelled) -> None:
        code = EventCode.TASK_CANCELLED if cancelled else EventCode.NONE
        self._call_callback(task, thread, (code, 0, 0))

    def _resume_wait(self, task: Task, thread: GuestThread, wset: WaitableSet,
                     cancelled: Cancelled) -> None:
        event = (EventCode.TASK_CANCELLED, 0, 0) if cancelled else wset.get_pending_event()
        wset.num_waiting -= 1
        self._call_callback(task, thread, event)

    def _callback_done(self, task: Task, thread: GuestThread, stack: core.GuestStack) -> None:
        self._after_callback(task, thread, stack.result()[0])

    def _call_callback(self, task: Task, thread: GuestThread,
                       event: tuple[EventCode, int, int]) -> None:
        inst = self.inst
        assert self.callback is not None, "a callback lift"
        states = _reenter(self.sched, inst)
        try:
            assert inst.exclusive_thread is None, "the lock was free to resume"
            inst.exclusive_thread = thread
            code, p1, p2 = event
            start = self.callback_on_stack
            if start is not None:
                stack = start((int(code), p1, p2))
                stack.on_done = partial(self._callback_done, task, thread)
                self.sched.run_stack(stack)
                return
            packed = self.callback((int(code), p1, p2))[0]
            self._after_callback(task, thread, packed)
        finally:
            _leave(self.sched, states)


def async_lift_call(lf: LiftedFunc, sched: StoreScheduler, host: bool
                    ) -> tuple[AsyncLift, Callable[[Sequence[Any]], Any]]:
    """A lifted function's call path in an async store: ``call(args) -> value`` for a
    synchronous caller (the host, or a sync-path trampoline), which waits for the task by
    running the store's scheduler."""
    lift = AsyncLift(lf, sched, host)
    has_result = lf.ty.result is not None
    name = lift.name

    def call(args: Sequence[Any]) -> Any:
        box: list[Sequence[Any] | None] = []

        def on_start() -> Sequence[Any]:
            return args

        try:
            lift(on_start, box.append, None)
            if not box:
                sched.run_until(lambda: bool(box))
        except Trap as e:
            if not _delivered(e, box):
                raise
        result = box[0]
        if result is None:
            raise Trap(f"`{name}`: the task was cancelled")
        return result[0] if has_result else None

    return lift, call


def _resolver(box: list[Sequence[Any] | None], wait: list[asyncio.Future[None]]
              ) -> OnResolve:
    """A ``call_async`` task's ``on_resolve``: the result into ``box``, and the driver waiting
    on ``wait`` (if any) woken."""

    def on_resolve(result: Sequence[Any] | None) -> None:
        box.append(result)
        if wait and not wait[0].done():
            wait[0].set_result(None)  # (another driver ran this task to its end)

    return on_resolve


def _delivered(e: Trap, box: list[Sequence[Any] | None]) -> bool:
    """Whether the trap ``e`` is the deadlock of a task that had delivered its value first
    (``task.return``, then a wait that can never end on its native stack): the spec hands the
    caller the value at ``task.return`` (its ``on_resolve``), as wasmtime does; the wait has
    no stack to park on here, so the trap unwound it and its instance stays poisoned."""
    return bool(box) and box[0] is not None and str(e).startswith(DEADLOCK)


def _no_cancel(caller: ComponentInstanceState | None) -> None:
    """(a task that resolved already: nothing to cancel)"""


async def call_async(lift: AsyncLift, args: Sequence[Any]) -> Any:
    """Run one task of ``lift`` for a host caller on the running asyncio loop: its steps run
    on the loop, waiting for host operations; cancelling the awaiting asyncio task requests
    the guest task's cancellation (``subtask.cancel``'s protocol) and waits for it to resolve.
    (The general path: ``AsyncLift.host_call_async`` may take the common case faster.)"""
    sched = lift.sched
    box: list[Sequence[Any] | None] = []
    wait: list[asyncio.Future[None]] = []  # (while this driver waits: what it waits on)
    # (``on_start`` returns the arguments: a bound C method, no frame per call)
    try:
        on_cancel = lift(repeat(args).__next__, _resolver(box, wait), None)
    except Trap as e:
        if not _delivered(e, box):
            raise
        on_cancel = _no_cancel
    if box:  # (resolved in its first run, the common case: no driving)
        if sched.host_done or sched._woken_q or sched.candidates:  # (``may_progress``)
            sched.notify()  # (the store's other ready work: another driver or the loop)
        result = box[0]
        if result is None:
            raise asyncio.CancelledError()
        return result[0] if lift.ft.result is not None else None
    return await _drive(lift, box, wait, on_cancel)


async def _drive(lift: AsyncLift, box: list[Sequence[Any] | None],
                 wait: list[asyncio.Future[None]], on_cancel: OnCancel) -> Any:
    """Drive the store until the task started by ``call_async`` resolved (into ``box``;
    ``wait`` is what its ``on_resolve`` wakes, ``on_cancel`` requests its cancellation)."""
    sched = lift.sched
    loop = asyncio.get_running_loop()
    cancelled = False
    steps = 0
    try:
        while not box:
            try:
                try:
                    progressed = sched.step()
                except Trap as e:
                    if not _delivered(e, box):
                        raise
                    break
                if progressed:
                    steps += 1
                    if not box and steps % _DRIVER_STEPS == 0:
                        await asyncio.sleep(0)  # (other asyncio tasks take turns)
                    continue
                if box:
                    break
                if lift.inst.root.poisoned:
                    trap(POISONED)  # (another task's trap: this one's threads run no more)
                if not sched.host_pending and not sched.host_holds_ends:
                    trap(DEADLOCK)
                wait[:] = [loop.create_future()]
                try:
                    await sched.next_host(wait[0])
                finally:
                    wait.clear()
            except asyncio.CancelledError:
                if cancelled or box:
                    raise
                cancelled = True
                on_cancel(None)
    finally:
        if sched.may_progress():
            sched.notify()  # (the store's other ready work: another driver or the loop)
    result = box[0]
    if result is None:
        raise asyncio.CancelledError()
    if cancelled:
        # the guest returned although cancelled: the asyncio task is still cancelled
        raise asyncio.CancelledError()
    return result[0] if lift.ft.result is not None else None


# -- canon lower ---------------------------------------------------------------------------------


def _run_first_step(coro: Any) -> Any:
    """Run a host coroutine's first step now, on the running loop, as an eager task (its own
    ``asyncio.current_task()``, so ``asyncio.timeout`` and task groups in it bind to it): its
    value when it returns at once (the common async host import: no loop turn at all), else
    the task going on from where it stopped, or a future holding what it raised. Without a
    running loop (a synchronous caller) it is left to run as a task.

    On 3.11 (no eager tasks) the task that goes on is made first and is the current task
    during the step; a step that ends at once leaves it unclaimed, and the next first step on
    that loop (before the loop runs it) uses it again, so a run of host calls that return at
    once costs one task, not one each (see :func:`_spare_task`)."""
    loop = asyncio._get_running_loop()
    if loop is None:
        return coro
    if sys.version_info >= (3, 12):
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, eager_start=True)
        if task.done() and not task.cancelled() and task.exception() is None:
            return task.result()
        return task
    # (3.11: the first step runs here with the task that goes on as the current task)
    task, spare = _spare_task(loop)
    state = spare[1]
    prev = asyncio.current_task(loop)
    if prev is not None:
        asyncio.tasks._leave_task(loop, prev)
    asyncio.tasks._enter_task(loop, task)
    try:
        yielded = coro.send(None)
    except StopIteration as e:
        _unclaimed(task, spare)
        return e.value
    except (Exception, asyncio.CancelledError) as e:
        _unclaimed(task, spare)
        fut: asyncio.Future[Any] = loop.create_future()
        if isinstance(e, asyncio.CancelledError):
            fut.cancel()
        else:
            fut.set_exception(e)
        return fut
    finally:
        asyncio.tasks._leave_task(loop, task)
        if prev is not None:
            asyncio.tasks._enter_task(loop, prev)
    state[:] = (coro, _taken(yielded))  # (claimed: the task goes on with this coroutine)
    return task


#: (3.11) the task of an ended first step, not yet started by its loop, that the next first
#: step may use: ``[(weak reference to the task, its state)]`` (or empty). The state is empty
#: while unclaimed, and ``(coro, yielded)`` once a step that waits claimed the task.
_SPARE: list[tuple[Any, list[Any]]] = []


def _spare_task(loop: asyncio.AbstractEventLoop
                ) -> tuple[asyncio.Task[Any], tuple[Any, list[Any]]]:
    """(3.11) A task of ``loop`` not yet started, for a first step, and its ``(weak
    reference, state)``: the spare one (taken, so that a first step nested in this one makes its own),
    else a new one."""
    if _SPARE:
        try:
            spare: tuple[Any, list[Any]] = _SPARE.pop()  # (loops of other threads may race)
        except IndexError:
            pass
        else:
            task = spare[0]()
            if task is not None and task.get_loop() is loop and not task.done():
                return task, spare
    state: list[Any] = []
    new = loop.create_task(_rest(state))
    return new, (weakref.ref(new), state)


def _unclaimed(task: asyncio.Task[Any], spare: tuple[Any, list[Any]]) -> None:
    """(3.11) The first step on ``task`` ended at once: the task stays the spare, unless the
    step asked for its cancellation (it then ends, cancelled, at its start)."""
    if task.cancelling() or task._must_cancel:  # type: ignore[attr-defined]
        task.cancel()  # (no one waits for it: it ends at its first step)
    else:
        _SPARE[:] = [spare]


async def _rest(state: list[Any]) -> Any:
    """(3.11) The body of a first step's task, started by its loop: the claiming
    coroutine's rest (``_go_on``), or nothing when no first step claimed it."""
    spare = _SPARE[:]
    if spare and spare[0][1] is state:
        _SPARE.clear()  # (started: no longer a task a first step may use)
    if not state:
        return None
    coro, yielded = state
    return await _go_on(coro, yielded)


def _taken(yielded: Any) -> Any:
    """Take a future a coroutine step yielded, at once, as an asyncio task does: another
    coroutine may await the same future before we wait for it."""
    if getattr(yielded, "_asyncio_future_blocking", False):
        yielded._asyncio_future_blocking = False
    return yielded


async def _go_on(coro: Any, yielded: Any) -> Any:
    """Drive ``coro`` on from a step that yielded ``yielded`` the way an asyncio task would:
    wait for the yielded future (a bare ``yield``: one loop turn), then send into it; a
    cancellation cancels the future it waits for (or, when that is done, is thrown in)."""
    while True:
        cancel = False
        if yielded is None:
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                cancel = True
        elif getattr(yielded, "_asyncio_future_blocking", None) is not None:
            while not yielded.done():
                try:
                    await asyncio.wait((yielded,))
                except asyncio.CancelledError:
                    if not yielded.cancel():
                        cancel = True
                        break
        else:
            exc = RuntimeError(f"bad yield from a host coroutine: {yielded!r}")
            try:
                yielded = _taken(coro.throw(exc))
            except StopIteration as e:
                return e.value
            continue
        try:
            yielded = _taken(coro.throw(asyncio.CancelledError()) if cancel else coro.send(None))
        except StopIteration as e:
            return e.value


def _host_callee(target: HostFunc, store: Any, sched: StoreScheduler, has_result: bool,
                 call: Callable[[Sequence[Any]], Any] | None = None
                 ) -> Callable[[OnStart, OnResolve, ComponentInstanceState | None], OnCancel]:
    """A host function as the spec's ``FuncInst`` (``call``: its call path, the function's
    own in ``store`` by default): a plain function resolves at once; one whose call returns a
    coroutine or an asyncio future (``func_wrap_async``) resolves when it completes. Other
    awaitables are values: a ``FutureReader`` returned for a ``future<T>`` result goes to the
    guest as it is."""
    if call is None:
        call = target.call_in(store)
    # the host function sees which instance called it (``Store.calling_instance``), as on the
    # sync path, while its call runs up to its first wait (``handles`` holds the store weakly)
    handles = store._host_handles

    def noop(caller: ComponentInstanceState | None) -> None:
        return None

    def callee(on_start: OnStart, on_resolve: OnResolve,
               caller: ComponentInstanceState | None) -> OnCancel:
        args = on_start()
        outer = handles.caller
        handles.caller = caller
        try:
            r = call(args)
            if isinstance(r, CoroutineType):  # (``inspect.iscoroutine``, without its frame)
                r = _run_first_step(r)
        finally:
            handles.caller = outer
        if not isinstance(r, (CoroutineType, asyncio.Future)):
            on_resolve([r] if has_result else [])
            return noop

        def on_done(f: asyncio.Future[Any]) -> None:
            if f.cancelled():
                on_resolve(None)
                return
            v = f.result()
            on_resolve([v] if has_result else [])

        fut = sched.start_host(r, on_done)

        def on_cancel(caller: ComponentInstanceState | None) -> None:
            fut.cancel()

        return on_cancel

    return callee


def async_lowered(store: Any, site: Site, state: ComponentInstanceState, info: CanonInfo,
                  target: Any, abi: Any) -> core.CoreFunc:
    """The core function of an ``async`` ``canon lower`` (its call path made at the first
    call, by :func:`async_lowered_call`)."""
    scheduler_for(store, state)
    pt = "i64" if info.memory64 else "i32"
    sig = flatten_functype(abi.ft, "lower", pt, True)
    owner = weakref.ref(store)  # (the store keeps this function: no cycle through it)

    def build() -> Callable[..., Any]:
        return async_lowered_call(owner(), site, state, info, target, abi)

    return core.new_lazy_host_func(store._core, sig.params, sig.results, build)


def async_lowered_call(store: Any, site: Site, state: ComponentInstanceState, info: CanonInfo,
                       target: Any, abi: Any, on_fiber: bool = False) -> Callable[..., Any]:
    """The Python side of a ``canon lower`` (``async`` or not) in a store with async
    features: the spec's ``canon_lower``, a :class:`Subtask` per call. ``on_fiber``: the
    (sync) lower is an async host function (``core.new_lazy_host_func(may_suspend=True)`` in a
    store with fibers): waiting for its callee suspends the caller's fiber."""
    from .calls import LiftedFunc, make_opts

    sched = scheduler_for(store, state)
    ft: t.FuncType = abi.ft
    opts = make_opts(site, info, state)
    is_lift = isinstance(target, LiftedFunc)
    if info.is_async:
        lift_params = abi.lift_params_async if is_lift else abi.lift_params_async_host
        lower_results = abi.lower_results_async
    else:
        lift_params = abi.lift_params if is_lift else abi.lift_params_host
        lower_results = abi.lower_results
    host_call = None
    if not is_lift and not info.is_async and getattr(target, "views", None):
        # a host function taking lazy views (``WasmStr``/``WasmList``), as the sync path
        from ..views import view_call

        lift_params, host_call = view_call(abi.ft, target.views, abi.lower_sig.params_spilled,
                                           target.call_in(store))
    if is_lift:
        callee: Callable[..., OnCancel] = target.async_lift(sched)
    else:
        callee = _host_callee(target, store, sched, ft.result is not None, host_call)
    resources = site.resources or None
    has_result = ft.result is not None
    async_ = info.is_async
    one_result = not async_ and len(abi.lower_sig.results) == 1
    name = getattr(target, "name", "") or "import"

    def trampoline(*flat: Any) -> Any:
        thread = sched.current
        if not state.may_leave:
            trap("cannot leave component instance")
        if thread is None:
            trap(f"`{name}` called outside a task")
        subtask = Subtask()
        cx = LiftLowerContext(opts, state, subtask, resources)

        def on_start() -> Sequence[Any]:
            subtask.on_start()
            args: Sequence[Any] = lift_params(cx, flat)
            return args

        def on_resolve(result: Sequence[Any] | None) -> None:
            if result is None:
                subtask.on_resolve(None)
                return
            try:
                out = lower_results(cx, result[0] if has_result else None, flat)
            except (TypeError, ValueError, OverflowError) as e:
                raise type(e)(f"function `{name}` returned a bad value: {e}") from None
            subtask.on_resolve(out)

        if is_lift:
            starting = sched.starting
            starting.append((subtask, async_))
            try:
                subtask.on_cancel = callee(on_start, on_resolve, state)
            finally:
                starting.pop()
        else:
            subtask.on_cancel = callee(on_start, on_resolve, state)
        if not async_:
            r = B.finish_lower_sync_w(thread, subtask)
            if not isinstance(r, list):  # (it must wait for the callee)
                if on_fiber:
                    return sched.suspend(thread, then(r, pick))
                r = finish(r)
            return pick(r)
        return B.finish_lower_async(state, subtask)

    def pick(out: list[Any]) -> Any:
        return out[0] if one_result else None

    return trampoline


# -- the built-ins ---------------------------------------------------------------------------------


def _current(sched: StoreScheduler, name: str) -> GuestThread:
    thread = sched.current
    if thread is None:
        trap(f"`{name}` called outside a task")
    return thread


def _host_fn(store: Any, info: CanonInfo, fn: Callable[..., Any], may_suspend: bool = False
             ) -> core.CoreFunc:
    ct = info.core_type
    assert ct is not None, "validated: a built-in has a core type"
    return core.new_host_func(store._core, tuple(ct.params), tuple(ct.results), fn,
                              may_suspend=may_suspend)


Maker = Callable[[Any, ComponentInstanceState, Trampoline, CanonInfo, Any, Any], core.CoreFunc]


def _on_inst(fn: Callable[..., Any]) -> Maker:
    """A built-in that reads only the instance: ``fn(inst, *args)``."""

    def make(store: Any, state: ComponentInstanceState, kind: Trampoline, info: CanonInfo,
             rt: Any, site: Any) -> core.CoreFunc:
        scheduler_for(store, state)
        return _host_fn(store, info, partial(fn, state))

    return make


def _payload(info: CanonInfo, site: Any) -> Any:
    """A stream/future built-in's type with its resources made the instance's concrete ones,
    so that every built-in of a stream, and a host end passed in (typed with the host's
    resources), agree on what it carries."""
    ty = info.payload
    if ty is None or not getattr(site, "resources", None):
        return ty
    return site.concrete(ty)


def _on_type(fn: Callable[..., Any]) -> Maker:
    """A built-in of a stream/future type reading only the instance: ``fn(inst, ty, *args)``."""

    def make(store: Any, state: ComponentInstanceState, kind: Trampoline, info: CanonInfo,
             rt: Any, site: Any) -> core.CoreFunc:
        scheduler_for(store, state)
        return _host_fn(store, info, partial(fn, state, _payload(info, site)))

    return make


Bind = Callable[[CanonInfo, Any, ComponentInstanceState], tuple[Any, ...]]


def _bound(bind: Bind, store: Any, state: ComponentInstanceState, kind: Trampoline,
           info: CanonInfo, site: Any) -> tuple[StoreScheduler, CanonInfo, tuple[Any, ...], str]:
    """What a thread built-in binds once per definition: the store's scheduler, ``info`` with
    its payload made the instance's concrete type, the bound immediates and the name."""
    sched = scheduler_for(store, state)
    if info.payload is not None:
        info = dataclasses.replace(info, payload=_payload(info, site))
    return sched, info, bind(info, site, state), kind.value


def _on_thread(bind: Bind, fn: Callable[..., Any]) -> Maker:
    """A built-in of the running thread: ``fn(thread, *bind(info, site, state), *args)``, its
    immediates bound once per definition."""

    def make(store: Any, state: ComponentInstanceState, kind: Trampoline, info: CanonInfo,
             rt: Any, site: Any) -> core.CoreFunc:
        sched, info, imm, name = _bound(bind, store, state, kind, info, site)

        def builtin(*args: Any) -> Any:
            return fn(_current(sched, name), *imm, *args)

        return _host_fn(store, info, builtin)

    return make


def _on_thread_w(bind: Bind, fn: Callable[..., Any]) -> Maker:
    """A built-in of the running thread that may wait: ``fn(thread, *imm, *args)`` returns
    the result or its rest (``scheduler.Waiting``). In a store with fibers it is an async host
    function whose wait suspends the thread's fiber (:meth:`StoreScheduler.suspend`);
    elsewhere the wait blocks the native stack (``scheduler.finish``)."""

    def make(store: Any, state: ComponentInstanceState, kind: Trampoline, info: CanonInfo,
             rt: Any, site: Any) -> core.CoreFunc:
        sched, info, imm, name = _bound(bind, store, state, kind, info, site)
        if store._core.fibers:
            suspend = sched.suspend

            def on_fiber(*args: Any) -> Any:
                thread = _current(sched, name)
                r = fn(thread, *imm, *args)
                if r.__class__ is GeneratorType:
                    return suspend(thread, r)
                return r

            return _host_fn(store, info, on_fiber, may_suspend=True)

        def builtin(*args: Any) -> Any:
            return finish(fn(_current(sched, name), *imm, *args))

        return _host_fn(store, info, builtin)

    return make


def _no_imm(info: CanonInfo, site: Any, state: ComponentInstanceState) -> tuple[Any, ...]:
    return ()


def _cancellable(info: CanonInfo, site: Any, state: ComponentInstanceState) -> tuple[Any, ...]:
    return (info.cancellable,)


def _slot(info: CanonInfo, site: Any, state: ComponentInstanceState) -> tuple[Any, ...]:
    return (info.index or 0,)


def _async_flag(info: CanonInfo, site: Any, state: ComponentInstanceState) -> tuple[Any, ...]:
    return (info.is_async,)


def _type_and_async(info: CanonInfo, site: Any, state: ComponentInstanceState
                    ) -> tuple[Any, ...]:
    return (info.payload, info.is_async)


def _opts(site: Any, info: CanonInfo, state: ComponentInstanceState) -> CanonicalOptions:
    from .calls import make_opts

    return make_opts(site, info, state)


def _copy_options(info: CanonInfo, site: Any, state: ComponentInstanceState
                  ) -> tuple[Any, ...]:
    """``{stream,future}.{read,write}``'s immediates: the type and a ``CopyOptions`` with the
    memory and the element codec, made once per definition."""
    opts = _opts(site, info, state)
    ty = _payload(info, site)
    assert ty is not None, "validated: a copy names its type"
    codec = None
    if ty.payload is not None:
        cx = LiftLowerContext(opts, state, None, getattr(site, "resources", None) or None)
        codec = elem_codec(ty.payload, cx)
    return (ty, B.CopyOptions(info.is_async, opts.memory, codec))


def _cancellable_memory(info: CanonInfo, site: Any, state: ComponentInstanceState
                        ) -> tuple[Any, ...]:
    """``waitable-set.wait``/``poll``'s immediates: ``cancellable`` and the memory."""
    mem = _opts(site, info, state).memory
    assert mem is not None, "validated: wait and poll name a memory"
    return (info.cancellable, mem)


def _same_memory(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if a is None or b is None:
        return False
    fa, fb = getattr(a.view, "__self__", None), getattr(b.view, "__self__", None)
    return fa is not None and fb is not None and (fa is fb or fa.data_ptr() == fb.data_ptr())


def _task_return(store: Any, state: ComponentInstanceState, kind: Trampoline, info: CanonInfo,
                 rt: Any, site: Any) -> core.CoreFunc:
    sched = scheduler_for(store, state)
    opts = _opts(site, info, state)
    fty = info.func_type
    assert fty is not None, "validated: task.return has its func(result?) type"
    result_type = fty.params[0][1] if fty.params else None
    abi = func_abi(fty, opts.string_encoding, opts.ptr_type)
    lift = abi.lift_params_host
    resources = getattr(site, "resources", None) or None

    cx = LiftLowerContext(opts, state, None, resources)
    #: the options, function type and resources of the last task whose return passed the
    #: checks that depend on nothing else: the fast form's one test (``fast_lift``)
    ok: list[Any] = [None, None, None]
    # per task options (by identity): the options to check them against
    matched: dict[int, tuple[CanonicalOptions, CanonicalOptions]] = {}
    last: list[Any] = [None, None]  # (the last pair used)

    def builtin(*flat: Any) -> None:
        thread = sched.current  # (``_current``, inline)
        if thread is None:
            trap("`task.return` called outside a task")
        task = thread.task
        topts = task.opts
        if topts is last[0]:  # (the options of the last task that returned: the common case)
            mine = last[1]
            hit = None
        else:
            hit = matched.get(id(topts))
        if hit is not None and hit[0] is topts:
            mine = hit[1]
            last[:] = hit
        elif topts is not last[0]:
            # (the memory option names the task's memory when both reach one memory)
            mine = (CanonicalOptions(opts.string_encoding, task.opts.memory)
                    if _same_memory(opts.memory, task.opts.memory) else opts)
            if len(matched) < 64:
                matched[id(task.opts)] = (task.opts, mine)
            last[:] = (task.opts, mine)
        # the result's resources are the task's function's (the spec checks the types equal)
        found = getattr(task, "resources", None)
        shared = found is None or found is resources
        at = cx if shared else LiftLowerContext(mine, state, None, found)
        B.task_return(thread, result_type, mine, partial(lift, at, flat))
        if shared and isinstance(task, LiftTask):  # (the checks passed: the fast form's now)
            ok[:] = (topts, task.ft, task.resources)

    from .fast_lift import make_task_return

    sig = abi.lower_sig
    ct = info.core_type
    assert ct is not None and not ct.results, "validated: task.return's core type"

    def make(entry: core.HostEntry) -> Callable[..., int]:
        return make_task_return(result_type, opts.string_encoding, opts.ptr_type,
                                len(sig.params), sig.params_spilled, entry, sched=sched, cx=cx,
                                ok=ok, general=builtin, lift=lift, trap=trap,
                                RESOLVED=Task.State.RESOLVED)

    return core.new_host_func_from(store._core, ct.params, make)


def _error_context_new(store: Any, state: ComponentInstanceState, kind: Trampoline,
                       info: CanonInfo, rt: Any, site: Any) -> core.CoreFunc:
    scheduler_for(store, state)
    opts = _opts(site, info, state)
    lift = func_abi(t.FuncType((("s", t.STRING),)), opts.string_encoding,
                    opts.ptr_type).lift_params_host
    cx = LiftLowerContext(opts, state)

    def load_string(ptr: int, units: int) -> str:
        return str(lift(cx, (ptr, units))[0])

    return _host_fn(store, info, partial(B.error_context_new, state, load_string))


def _error_context_debug_message(store: Any, state: ComponentInstanceState, kind: Trampoline,
                                 info: CanonInfo, rt: Any, site: Any) -> core.CoreFunc:
    scheduler_for(store, state)
    opts = _opts(site, info, state)
    lower = func_abi(t.FuncType((), t.STRING), opts.string_encoding, opts.ptr_type).lower_results
    cx = LiftLowerContext(opts, state)

    def store_string(message: str, ptr: int) -> None:
        lower(cx, message, (ptr,))

    return _host_fn(store, info, partial(B.error_context_debug_message, state, store_string))


def _backpressure_set(inst: ComponentInstanceState, flag: int) -> None:
    """The older ``backpressure.set``: on (1) or off (0)."""
    inst.backpressure = 1 if flag else 0


def not_built(store: Any, state: ComponentInstanceState, kind: Trampoline, info: CanonInfo,
               rt: Any, site: Any) -> core.CoreFunc:
    """A built-in this runtime does not implement (the shared-everything threads proposal's
    ``thread.spawn-ref``, which takes a typed function reference, a GC-proposal value the
    raw call paths do not carry): ``NotSupported`` naming it when called."""
    scheduler_for(store, state)

    def builtin(*args: Any) -> Any:
        if kind.checks_may_leave and not state.may_leave:
            trap("cannot leave component instance")
        raise NotSupported(f"`{kind.value}` (shared-everything threads) is not supported by "
                           "this runtime")

    return _host_fn(store, info, builtin)


_THREAD_FT = core.CoreFuncType(("i32",), ())


def _thread_new_indirect(store: Any, state: ComponentInstanceState, kind: Trampoline,
                         info: CanonInfo, rt: Any, site: Any) -> core.CoreFunc:
    """``thread.new-indirect``: a new thread of the current task, suspended, whose fiber will
    call element ``fi`` of the function table with ``c`` (the spec's ``thread_func``: then the
    thread leaves its task). Its index in the instance's thread table is the result.

    ``thread.spawn-indirect`` (without ``shared``: a cooperative thread) is the same followed
    by ``thread.resume-later`` of the new thread, as the spec defines it."""
    sched = scheduler_for(store, state)
    table = core.resolve(site.table) if site is not None and site.table is not None else None
    name = kind.value
    spawn = kind is T.THREAD_SPAWN_INDIRECT

    def builtin(fi: int, c: int) -> int:
        thread = _current(sched, name)
        task = thread.task
        if not state.may_leave:
            trap(f"`{name}`: cannot leave component instance")
        assert table is not None, f"validated: {name} names a table"
        if not 0 <= fi < table.size():
            trap(f"`{name}`: table index {fi} out of bounds")
        f = table.get(fi)
        if f is None:
            trap(f"`{name}`: uninitialized element {fi} of the function table")
        if f.ty != _THREAD_FT:
            trap(f"`{name}`: element {fi} of the function table has type "
                 f"{f.ty}, expected (i32) -> ()")
        start = f.on_stack(_THREAD_FT)
        new = GuestThread(task, sched)

        def done(stack: core.GuestStack) -> None:
            stack.result()
            task.unregister_thread(new)

        def thread_func(cancelled: Cancelled) -> None:
            stack = start((c,))
            stack.on_done = done
            states = _reenter(sched, task.inst)
            try:
                sched.run_stack(stack)
            finally:
                _leave(sched, states)

        sched.park(new, None, False, thread_func)  # (suspended: until resumed)
        task.register_thread(new)
        assert new.index is not None, "registered"
        if spawn:
            sched.resume_later(new)
        return new.index

    return _host_fn(store, info, builtin)


def _as_int(c: Cancelled) -> int:
    return int(c)


def _other_thread(thread: GuestThread, i: int, name: str) -> GuestThread:
    inst = thread.task.inst
    if not inst.may_leave:
        trap(f"`{name}`: cannot leave component instance")
    other = inst.threads.get(i)
    assert isinstance(other, GuestThread), "the instance's threads are the runtime's"
    return other


def _check_suspended(sched: StoreScheduler, other: GuestThread, name: str) -> None:
    if not sched.suspended(other):
        trap(f"`{name}`: cannot resume thread which is not suspended (index {other.index})")


def _thread_resume_later(store: Any, state: ComponentInstanceState, kind: Trampoline,
                         info: CanonInfo, rt: Any, site: Any) -> core.CoreFunc:
    """``thread.resume-later``: a suspended thread of the instance becomes ready (it runs when
    the scheduler gets to it)."""
    sched = scheduler_for(store, state)

    def builtin(i: int) -> None:
        other = _other_thread(_current(sched, kind.value), i, kind.value)
        _check_suspended(sched, other, kind.value)
        sched.resume_later(other)

    return _host_fn(store, info, builtin)


def _thread_switch(store: Any, state: ComponentInstanceState, kind: Trampoline,
                   info: CanonInfo, rt: Any, site: Any) -> core.CoreFunc:
    """``thread.{suspend,yield}-then-{resume,promote}``: the current thread suspends (or, for
    ``yield``, stays ready) and thread ``i`` runs at once (``resume``: it must be suspended;
    ``promote``: only if it is ready, else this is ``thread.suspend``/``yield``)."""
    sched = scheduler_for(store, state)
    name = kind.value
    cancellable = info.cancellable
    yielding = kind in (T.THREAD_YIELD_THEN_RESUME, T.THREAD_YIELD_THEN_PROMOTE)
    promote = kind in (T.THREAD_SUSPEND_THEN_PROMOTE, T.THREAD_YIELD_THEN_PROMOTE)
    suspend = sched.suspend

    def builtin(i: int) -> Any:
        thread = _current(sched, name)
        other = _other_thread(thread, i, name)
        if promote:
            switch = other is not thread and other.cont is not None and other.ready()
        else:
            _check_suspended(sched, other, name)
            switch = True
        if thread.task.deliver_pending_cancel(cancellable):
            return int(Cancelled.TRUE)
        w = thread._wait(always if yielding else None, cancellable, None)
        if switch:
            sched.switch_to = other  # (run as soon as this thread's fiber suspended)
        return suspend(thread, then(w, _as_int))

    return _host_fn(store, info, builtin, may_suspend=True)


T = Trampoline

#: The maker of each async built-in's core function (``calls.BUILTINS`` takes these).
ASYNC_BUILTINS: dict[Trampoline, Maker] = {
    T.BACKPRESSURE_SET: _on_inst(_backpressure_set),
    T.BACKPRESSURE_INC: _on_inst(B.backpressure_inc),
    T.BACKPRESSURE_DEC: _on_inst(B.backpressure_dec),
    T.TASK_RETURN: _task_return,
    T.TASK_CANCEL: _on_thread(_no_imm, B.task_cancel),
    T.CONTEXT_GET: _on_thread(_slot, B.context_get),
    T.CONTEXT_SET: _on_thread(_slot, B.context_set),
    T.SUBTASK_DROP: _on_inst(B.subtask_drop),
    T.SUBTASK_CANCEL: _on_thread_w(_async_flag, B.subtask_cancel_w),
    T.STREAM_NEW: _on_type(B.stream_new),
    T.STREAM_READ: _on_thread_w(_copy_options, B.stream_read_w),
    T.STREAM_WRITE: _on_thread_w(_copy_options, B.stream_write_w),
    T.STREAM_CANCEL_READ: _on_thread_w(_type_and_async, B.stream_cancel_read_w),
    T.STREAM_CANCEL_WRITE: _on_thread_w(_type_and_async, B.stream_cancel_write_w),
    T.STREAM_DROP_READABLE: _on_type(B.stream_drop_readable),
    T.STREAM_DROP_WRITABLE: _on_type(B.stream_drop_writable),
    T.FUTURE_NEW: _on_type(B.future_new),
    T.FUTURE_READ: _on_thread_w(_copy_options, B.future_read_w),
    T.FUTURE_WRITE: _on_thread_w(_copy_options, B.future_write_w),
    T.FUTURE_CANCEL_READ: _on_thread_w(_type_and_async, B.future_cancel_read_w),
    T.FUTURE_CANCEL_WRITE: _on_thread_w(_type_and_async, B.future_cancel_write_w),
    T.FUTURE_DROP_READABLE: _on_type(B.future_drop_readable),
    T.FUTURE_DROP_WRITABLE: _on_type(B.future_drop_writable),
    T.ERROR_CONTEXT_NEW: _error_context_new,
    T.ERROR_CONTEXT_DEBUG_MESSAGE: _error_context_debug_message,
    T.ERROR_CONTEXT_DROP: _on_inst(B.error_context_drop),
    T.WAITABLE_SET_NEW: _on_inst(B.waitable_set_new),
    T.WAITABLE_SET_WAIT: _on_thread_w(_cancellable_memory, B.waitable_set_wait_w),
    T.WAITABLE_SET_POLL: _on_thread(_cancellable_memory, B.waitable_set_poll),
    T.WAITABLE_SET_DROP: _on_inst(B.waitable_set_drop),
    T.WAITABLE_JOIN: _on_inst(B.waitable_join),
    T.THREAD_INDEX: _on_thread(_no_imm, B.thread_index),
    T.THREAD_YIELD: _on_thread_w(_cancellable, B.thread_yield_w),
    T.THREAD_NEW_INDIRECT: _thread_new_indirect,
    T.THREAD_SPAWN_INDIRECT: _thread_new_indirect,
    T.THREAD_AVAILABLE_PARALLELISM: _on_inst(B.thread_available_parallelism),
    T.THREAD_SUSPEND: _on_thread_w(_cancellable, B.thread_suspend_w),
    T.THREAD_RESUME_LATER: _thread_resume_later,
    T.THREAD_SUSPEND_THEN_RESUME: _thread_switch,
    T.THREAD_YIELD_THEN_RESUME: _thread_switch,
    T.THREAD_SUSPEND_THEN_PROMOTE: _thread_switch,
    T.THREAD_YIELD_THEN_PROMOTE: _thread_switch,
}
