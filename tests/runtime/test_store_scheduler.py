"""The store's scheduler (``_runtime.tasks.StoreScheduler``) on its own: a thread blocked on
its native stack runs the parked stackless threads on top of it, a yield lets one of them run
first, nothing to run is the deadlock trap, and a wait where the spec would switch back to an
async caller is refused with ``NotSupported``."""

from __future__ import annotations

import pytest

from wasm_component import NotSupported, Trap
from wasm_component import types as t
from wasm_component._abi.concurrency import Cancelled, Subtask, Task, WaitableSet
from wasm_component._abi.context import CanonicalOptions, ComponentInstanceState
from wasm_component._runtime.tasks import GuestThread, StoreScheduler


def _two_threads() -> tuple[StoreScheduler, GuestThread, GuestThread]:
    sched = StoreScheduler()
    inst = ComponentInstanceState()
    task = Task(inst, t.FuncType((), None, True), CanonicalOptions(async_=True))
    a, b = GuestThread(task, sched), GuestThread(task, sched)
    sched.current = a
    return sched, a, b


def test_a_stacked_wait_runs_a_parked_thread_until_it_may_go_on() -> None:
    sched, a, b = _two_threads()
    ran: list[Cancelled] = []
    sched.park(b, lambda: True, False, ran.append)
    assert a.wait_until(lambda: bool(ran)) == Cancelled.FALSE
    assert ran == [Cancelled.FALSE]
    assert sched.current is a and not sched.waiting


def test_a_yield_lets_a_ready_thread_run_first() -> None:
    sched, a, b = _two_threads()
    ran: list[Cancelled] = []
    sched.park(b, lambda: True, False, ran.append)
    assert a.yield_(False) == Cancelled.FALSE
    assert ran == [Cancelled.FALSE]


def test_a_yield_with_nothing_else_to_run_returns_at_once() -> None:
    _, a, _ = _two_threads()
    assert a.yield_(False) == Cancelled.FALSE


def test_waiting_with_nothing_that_can_run_is_a_deadlock() -> None:
    sched, a, b = _two_threads()
    sched.park(b, lambda: False, False, lambda c: None)  # parked, never ready
    with pytest.raises(Trap, match="deadlock detected"):
        a.wait_until(lambda: False)
    assert sched.current is a and b in sched.waiting


def test_a_cancelled_stackless_thread_resumes_with_cancelled() -> None:
    sched, _, b = _two_threads()
    ran: list[Cancelled] = []
    sched.park(b, lambda: False, True, ran.append)
    sched.wake(b, Cancelled.TRUE)
    assert sched.step()
    assert ran == [Cancelled.TRUE]


def test_a_wait_off_a_fiber_below_an_async_callers_start_is_not_supported() -> None:
    sched, a, _ = _two_threads()
    sched.starting.append((Subtask(), True))
    with pytest.raises(NotSupported, match="fibers"):
        a.wait_until(lambda: False)


def test_a_thread_waiting_on_a_set_is_checked_only_once_the_set_has_an_event() -> None:
    sched, _, b = _two_threads()
    wset, sub = WaitableSet(), Subtask()
    sub.join(wset)
    checks: list[int] = []
    ran: list[Cancelled] = []

    def ready() -> bool:
        checks.append(1)
        return wset.has_pending_event()

    sched.park(b, ready, True, ran.append, wset)
    for _ in range(3):
        assert not sched.step()  # nothing to run, and the waiter is not polled
    assert checks == [] and b in sched.waiting
    sub.index = 1
    sub.on_start()  # a SUBTASK event: the set's waiter becomes a candidate
    assert sched.step() and ran == [Cancelled.FALSE] and checks == [1]
    assert b not in sched.waiting


def test_a_thread_whose_event_was_taken_waits_for_the_next_one() -> None:
    sched, a, b = _two_threads()
    wset, sub = WaitableSet(), Subtask()
    sub.join(wset)
    sub.index = 1
    ran: list[Cancelled] = []
    sched.park(b, wset.has_pending_event, True, ran.append, wset)
    sub.on_start()
    assert wset.poll(a, False)[0] != 0  # another thread takes the event first
    assert not sched.step() and ran == []
    sub.on_resolve([])
    assert sched.step() and ran == [Cancelled.FALSE]


def test_a_thread_cancelled_while_waiting_on_a_set_leaves_the_sets_waiters() -> None:
    sched, _, b = _two_threads()
    wset = WaitableSet()
    ran: list[Cancelled] = []
    sched.park(b, wset.has_pending_event, True, ran.append, wset)
    sched.wake(b, Cancelled.TRUE)
    assert sched.step() and ran == [Cancelled.TRUE]
    assert not sched._wset_waiters and not sched.step()


def test_a_closed_scheduler_runs_nothing_more() -> None:
    """A store dropped while its guest still had work (an instance an HTTP pool retired while
    a guest task still wrote a body): a host operation that ends later, and a drive already
    scheduled on the loop, find the scheduler closed and run no guest code (they resumed guest
    code of the dropped store before, which trapped in a loop callback)."""
    import asyncio

    sched, _a, b = _two_threads()
    sched.current = None
    ran: list[object] = []
    errors: list[dict[str, object]] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: errors.append(context))
        gate = asyncio.Event()
        op = sched.start_host(gate.wait(), ran.append)  # still running when the store goes
        await asyncio.sleep(0)
        sched.park(b, lambda: True, False, ran.append)  # ready to run
        sched.notify()  # a background drive is scheduled
        sched.close()  # (cancels `op`: its end is seen at a later loop turn)
        for _ in range(5):
            await asyncio.sleep(0)

        assert op.cancelled()

    asyncio.run(main())
    assert ran == [] and errors == []
    assert sched.closed and not sched.host_done and not sched.waiting and sched.host_pending == 0
