"""Task bookkeeping (entering under backpressure and the exclusive lock, cancellation),
threads' context slots, subtask events, and what this module chooses where the spec leaves a
choice (event order, bulk copies): unit tests on ``_abi.concurrency`` with the stackless
driver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from wasm_component import types as t
from wasm_component._abi import BytearrayMemory, CanonicalOptions, LiftLowerContext
from wasm_component._abi.concurrency import (
    BLOCKED,
    AsyncInstanceState,
    Cancelled,
    CopyOptions,
    ElemCodec,
    EventCode,
    ReadableBytesBuffer,
    ReadableValuesBuffer,
    SharedStream,
    Subtask,
    SyncDriver,
    Task,
    Thread,
    WritableBytesBuffer,
    WritableValuesBuffer,
    elem_codec,
)
from wasm_component._abi.concurrency import builtins as b
from wasm_component._abi.handles import ResourceHandle

FT = t.FuncType((), None, is_async=True)
STACKFUL = CanonicalOptions(async_=True)
SYNC_LIFTED = CanonicalOptions()  # an async function lifted synchronously takes the lock


def _task(
    inst: AsyncInstanceState, driver: SyncDriver, opts: CanonicalOptions = STACKFUL
) -> tuple[Task, Thread, list[Any]]:
    resolved: list[Any] = []
    task = Task(inst, FT, opts, on_resolve=resolved.append)
    return task, Thread(task, driver), resolved


def test_backpressure_holds_tasks_until_released() -> None:
    driver, inst = SyncDriver(), AsyncInstanceState()
    b.backpressure_inc(inst)
    task, th, _ = _task(inst, driver)
    seen = []
    driver.spawn(lambda: seen.append(inst.num_waiting_to_enter))
    driver.spawn(lambda: b.backpressure_dec(inst))
    assert task.enter_implicit_thread(th)
    assert seen == [1] and inst.num_waiting_to_enter == 0
    assert th.index == 1 and inst.threads.get(1) is th


def test_sync_tasks_ignore_backpressure() -> None:
    driver, inst = SyncDriver(), AsyncInstanceState()
    b.backpressure_inc(inst)
    task = Task(inst, t.FuncType(()), CanonicalOptions())
    assert task.enter_implicit_thread(Thread(task, driver))


def test_exclusive_lock_serialises_sync_lifted_tasks() -> None:
    driver, inst = SyncDriver(), AsyncInstanceState()
    first, th1, _ = _task(inst, driver, SYNC_LIFTED)
    assert first.enter_implicit_thread(th1)
    assert inst.exclusive_thread is th1
    stackful, th3, _ = _task(inst, driver)
    assert stackful.enter_implicit_thread(th3)  # a stackful task does not need the lock
    second, th2, _ = _task(inst, driver, SYNC_LIFTED)

    def first_finishes() -> None:
        first.start()
        first.return_([])
        first.exit_implicit_thread()

    driver.spawn(first_finishes)
    assert second.enter_implicit_thread(th2)
    assert inst.exclusive_thread is th2


def test_later_tasks_queue_behind_waiting_ones() -> None:
    driver, inst = SyncDriver(), AsyncInstanceState()
    b.backpressure_inc(inst)
    inst.num_waiting_to_enter = 1  # another task is waiting already
    task, th, _ = _task(inst, driver)
    b.backpressure_dec(inst)
    # no backpressure now, but it still waits its turn (and its wait is over at once)
    woke = []
    driver.spawn(lambda: woke.append(True))
    assert task.enter_implicit_thread(th)
    assert inst.num_waiting_to_enter == 1 and woke == []  # ready at once: nothing else ran


def test_cancel_while_waiting_to_enter() -> None:
    driver, inst = SyncDriver(), AsyncInstanceState()
    b.backpressure_inc(inst)
    task, th, resolved = _task(inst, driver)

    def caller_cancels() -> None:
        thread = task.request_cancellation(may_enter=True)
        assert thread is th
        driver.wake(thread, Cancelled.TRUE)

    driver.spawn(caller_cancels)
    assert not task.enter_implicit_thread(th)
    assert resolved == [None] and task.state == Task.State.RESOLVED


def test_pending_cancel_is_delivered_at_the_next_cancellable_wait() -> None:
    driver, inst = SyncDriver(), AsyncInstanceState()
    task, th, resolved = _task(inst, driver)
    assert task.enter_implicit_thread(th)
    task.start()
    assert task.request_cancellation(may_enter=True) is None  # nothing waits cancellably
    assert task.state == Task.State.PENDING_CANCEL
    mem = BytearrayMemory(64)
    si = b.waitable_set_new(inst)
    assert b.waitable_set_poll(th, False, mem, si, 0) == EventCode.NONE  # not cancellable
    assert b.waitable_set_poll(th, True, mem, si, 0) == EventCode.TASK_CANCELLED
    assert b.thread_yield(th, True) == 0  # delivered once only
    b.task_cancel(th)
    assert resolved == [None]


def test_cancel_wakes_a_thread_waiting_cancellably() -> None:
    driver, inst = SyncDriver(), AsyncInstanceState()
    task, th, _ = _task(inst, driver)
    assert task.enter_implicit_thread(th)
    task.start()

    def caller_cancels() -> None:
        thread = task.request_cancellation(may_enter=True)
        assert thread is th
        driver.wake(thread, Cancelled.TRUE)

    driver.spawn(caller_cancels)
    assert th.wait_until(lambda: False, cancellable=True) == Cancelled.TRUE
    assert task.state == Task.State.CANCEL_DELIVERED
    # a caller that may not enter leaves it pending
    task2, th2, _ = _task(inst, driver)
    task2.enter_implicit_thread(th2)
    task2.start()
    th2.cancellable = True
    assert task2.request_cancellation(may_enter=False) is None
    assert task2.state == Task.State.PENDING_CANCEL


def test_context_slots_are_per_thread() -> None:
    driver, inst = SyncDriver(), AsyncInstanceState()
    task, th, _ = _task(inst, driver)
    other = Thread(task, driver)
    b.context_set(th, 0, 7)
    b.context_set(th, 1, 9)
    b.context_set(other, 0, 1)
    assert [b.context_get(th, 0), b.context_get(th, 1), b.context_get(other, 0)] == [7, 9, 1]


def test_subtask_events_follow_the_callee() -> None:
    driver, inst = SyncDriver(), AsyncInstanceState()
    task, th, _ = _task(inst, driver)
    task.enter_implicit_thread(th)
    mem = BytearrayMemory(64)
    st = Subtask()
    lender = ResourceHandle(t.ResourceType.fresh("r"), 5, True)
    st.add_lender(lender)
    packed = b.finish_lower_async(inst, st)
    assert packed == (1 << 4) | Subtask.State.STARTING
    si = b.waitable_set_new(inst)
    b.waitable_join(inst, 1, si)
    assert b.waitable_set_poll(th, False, mem, si, 0) == EventCode.NONE
    st.on_start()
    assert b.waitable_set_poll(th, False, mem, si, 8) == EventCode.SUBTASK
    assert mem.data[8:16] == bytes([1, 0, 0, 0, Subtask.State.STARTED, 0, 0, 0])
    assert lender.num_lends == 1
    st.on_resolve([])
    assert b.waitable_set_poll(th, False, mem, si, 8) == EventCode.SUBTASK
    assert mem.data[12] == Subtask.State.RETURNED and lender.num_lends == 0
    b.waitable_join(inst, 1, 0)
    b.subtask_drop(inst, 1)


def test_a_call_that_returns_at_once_takes_no_handle() -> None:
    inst = AsyncInstanceState()
    st = Subtask()
    st.on_start()
    st.on_resolve([])
    assert b.finish_lower_async(inst, st) == Subtask.State.RETURNED
    assert list(inst.handles) == []


def test_sync_lowering_waits_for_the_callee() -> None:
    driver, inst = SyncDriver(), AsyncInstanceState()
    _, th, _ = _task(inst, driver)
    st = Subtask()
    driver.spawn(st.on_start)
    driver.spawn(lambda: st.on_resolve([42]))
    assert b.finish_lower_sync(th, st) == [42]


def test_waitable_set_takes_turns() -> None:
    """Two streams with an event each time: a set delivers them in turn, not the first only."""
    driver, inst = SyncDriver(), AsyncInstanceState()
    _, th, _ = _task(inst, driver)
    mem = BytearrayMemory(256)
    cx = LiftLowerContext(CanonicalOptions(memory=mem), inst)
    o = CopyOptions(True, mem, elem_codec(t.U8, cx))
    s8 = t.StreamType(t.U8)
    ends = [b.stream_new(inst, s8) for _ in range(2)]
    readers = [p & 0xFFFF_FFFF for p in ends]
    writers = [p >> 32 for p in ends]
    si = b.waitable_set_new(inst)
    for r in readers:
        b.waitable_join(inst, r, si)
    def arm(r: int, w: int) -> None:  # give reader ``r`` an event
        assert b.stream_read(th, s8, o, r, 0, 1) == BLOCKED
        b.stream_write(th, s8, o, w, 16, 1)

    for r, w in zip(readers, writers, strict=True):
        arm(r, w)
    order = []
    for _ in range(4):  # both always have an event: the one delivered gets a new one
        assert b.waitable_set_poll(th, False, mem, si, 32) == EventCode.STREAM_READ
        got = mem.data[32]
        order.append(got)
        arm(got, writers[readers.index(got)])
    assert order == [1, 3, 1, 3]


def _refusing_codec(vt: t.Type, cx: LiftLowerContext) -> ElemCodec:
    c = elem_codec(vt, cx)

    def no(*args: Any) -> Any:
        raise AssertionError("number elements move as bytes between guest buffers")

    return ElemCodec(c.size, c.align, no, no, c.bulk)


def test_number_elements_move_as_one_slice() -> None:
    driver = SyncDriver()
    insts = [AsyncInstanceState(), AsyncInstanceState()]
    mems = [BytearrayMemory(64), BytearrayMemory(64)]
    mems[0].data[0:12] = bytes(range(1, 13))
    threads = []
    for inst in insts:
        _, th, _ = _task(inst, driver)
        threads.append(th)
    opts = [
        CopyOptions(True, m, _refusing_codec(t.U32, LiftLowerContext(CanonicalOptions(memory=m), i)))
        for m, i in zip(mems, insts, strict=True)
    ]
    s32 = t.StreamType(t.U32)
    packed = b.stream_new(insts[0], s32)
    r, w = packed & 0xFFFF_FFFF, packed >> 32
    r1 = b.lower_stream(insts[1], b.lift_stream(insts[0], r, t.U32))
    assert b.stream_write(threads[0], s32, opts[0], w, 0, 3) == BLOCKED
    assert b.stream_read(threads[1], s32, opts[1], r1, 8, 2) == 2 << 4
    assert b.stream_read(threads[1], s32, opts[1], r1, 16, 4) == 1 << 4
    assert bytes(mems[1].data[8:20]) == bytes(range(1, 13))


def _one_guest(
    vt: t.Type, codec: Any = elem_codec
) -> tuple[AsyncInstanceState, Thread, BytearrayMemory, CopyOptions]:
    """An instance with a running thread, a memory and async copy options for ``vt``."""
    driver, inst = SyncDriver(), AsyncInstanceState()
    _, th, _ = _task(inst, driver)
    mem = BytearrayMemory(64)
    cx = LiftLowerContext(CanonicalOptions(memory=mem), inst)
    return inst, th, mem, CopyOptions(True, mem, codec(vt, cx))


def test_host_bytes_move_as_slices_both_ways() -> None:
    """``stream<u8>`` between the host's ``bytes`` and guest memory, never lifted per byte."""
    inst, th, mem, o = _one_guest(t.U8, _refusing_codec)
    s8 = t.StreamType(t.U8)
    done: list[Any] = []
    # host -> guest: the host's write waits, the guest reads part of it, then the rest
    to_guest = SharedStream(t.U8)
    r = b.lower_stream(inst, to_guest)
    src = ReadableBytesBuffer(b"hello world")

    def on_partial(reclaim: Callable[[], None]) -> None:
        reclaim()
        done.append(src.progress)

    to_guest.write(None, src, on_partial, done.append)
    assert b.stream_read(th, s8, o, r, 0, 5) == 5 << 4
    assert done == [5]
    to_guest.write(None, src, on_partial, done.append)
    assert b.stream_read(th, s8, o, r, 5, 10) == 6 << 4
    assert bytes(mem.data[0:11]) == b"hello world"
    # guest -> host
    packed = b.stream_new(inst, s8)
    r2, w2 = packed & 0xFFFF_FFFF, packed >> 32
    from_guest = b.lift_stream(inst, r2, t.U8)
    dst = WritableBytesBuffer(8)
    from_guest.read(None, dst, lambda reclaim: reclaim(), done.append)
    assert b.stream_write(th, s8, o, w2, 6, 5) == 5 << 4
    assert dst.data == b"world"


def test_host_values_buffers() -> None:
    inst, th, mem, o = _one_guest(t.U32)
    s32 = t.StreamType(t.U32)
    shared = SharedStream(t.U32)
    r = b.lower_stream(inst, shared)
    results: list[Any] = []
    shared.write(None, ReadableValuesBuffer(t.U32, [7, 8, 9]), lambda rb: rb(), results.append)
    assert b.stream_read(th, s32, o, r, 0, 8) == 3 << 4
    assert bytes(mem.data[0:12]) == b"".join(x.to_bytes(4, "little") for x in (7, 8, 9))
    # a zero-length read waits; the host dropping its writer ends it with DROPPED
    assert b.stream_read(th, s32, o, r, 0, 0) == BLOCKED
    shared.drop()
    si = b.waitable_set_new(inst)
    b.waitable_join(inst, r, si)
    assert b.waitable_set_poll(th, False, mem, si, 32) == EventCode.STREAM_READ
    assert mem.data[36] == 1  # DROPPED, nothing copied
    # guest -> host values
    packed = b.stream_new(inst, s32)
    r2, w2 = packed & 0xFFFF_FFFF, packed >> 32
    got = WritableValuesBuffer(t.U32, 2)
    b.lift_stream(inst, r2, t.U32).read(None, got, lambda rb: rb(), results.append)
    assert b.stream_write(th, s32, o, w2, 0, 3) == 2 << 4
    assert got.values == [7, 8] and results == []


def test_suspend_until_woken_and_thread_index() -> None:
    driver, inst = SyncDriver(), AsyncInstanceState()
    task, th, _ = _task(inst, driver)
    assert task.enter_implicit_thread(th)
    assert b.thread_index(th) == 1
    other = Thread(task, driver)
    task.register_thread(other)
    assert b.thread_index(other) == 2
    driver.spawn(lambda: driver.wake(th))
    assert th.suspend(cancellable=False) == Cancelled.FALSE
    assert not th.waiting() and not th.cancellable  # only a parked thread is cancellable
    task.unregister_thread(other)
    assert inst.threads.array[2] is None and other.index is None


def test_error_context_keeps_its_message() -> None:
    inst = AsyncInstanceState()
    mem = BytearrayMemory(64)
    mem.data[8:13] = b"oops!"
    i = b.error_context_new(inst, lambda p, n: bytes(mem.data[p : p + n]).decode(), 8, 5)
    stored: list[tuple[str, int]] = []
    b.error_context_debug_message(inst, lambda s, p: stored.append((s, p)), i, 32)
    assert stored == [("oops!", 32)]
    b.error_context_drop(inst, i)
    assert list(inst.handles) == []


def test_a_stream_type_is_made_concrete_once_per_instance_tree(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Lifting or lowering a ``stream``/``future`` of a type with resources substitutes the
    concrete resources once per instance tree and static type (it walked the whole type on
    every value: about a millisecond for wasi:http's trailers future, per request)."""
    import wasm_component._runtime.calls  # noqa: F401 (sets the substitution)
    from wasm_component._abi import context as C

    abstract = t.ResourceType("abstract", object(), "fields")
    concrete = t.ResourceType.host(dict, "fields")
    ft = t.FutureType(t.ResultType(t.OptionType(t.OwnType(abstract)), None))
    calls: list[t.Type] = []
    real = C.concrete_async_type

    def counting(vt: t.Type, resources: dict[t.ResourceType, t.ResourceType]) -> t.Type:
        calls.append(vt)
        return real(vt, resources)

    monkeypatch.setattr(C, "concrete_async_type", counting)
    inst = C.ComponentInstanceState()
    resources = {abstract: concrete}
    for _ in range(3):
        cx = C.LiftLowerContext(C.CanonicalOptions(), inst, None, resources)
        out = cx.concrete_type(ft)
        assert out == t.FutureType(t.ResultType(t.OptionType(t.OwnType(concrete)), None))
    assert calls == [ft]
    other = C.ComponentInstanceState()  # another instance: its own
    C.LiftLowerContext(C.CanonicalOptions(), other, None, resources).concrete_type(ft)
    assert calls == [ft, ft]
