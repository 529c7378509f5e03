"""Every trap the spec names in the async built-ins of ``_abi.concurrency``, one test each (the
message says which rule), plus the waits that can never end (deadlocks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from wasm_component import types as t
from wasm_component._abi import BytearrayMemory, CanonicalOptions, LiftLowerContext
from wasm_component._abi.concurrency import (
    BLOCKED,
    AsyncInstanceState,
    CopyOptions,
    Subtask,
    SyncDriver,
    Task,
    Thread,
    elem_codec,
    unpack_callback_result,
)
from wasm_component._abi.concurrency import builtins as b
from wasm_component._abi.handles import ResourceHandle
from wasm_component.errors import Trap

S8 = t.StreamType(t.U8)
S32 = t.StreamType(t.U32)
SS = t.StreamType(t.STRING)
F8 = t.FutureType(t.U8)


class World:
    """One instance with a memory and a running thread of a sync task."""

    def __init__(self, ft: t.FuncType | None = None, opts: CanonicalOptions | None = None) -> None:
        self.driver = SyncDriver()
        self.inst = AsyncInstanceState()
        self.mem = BytearrayMemory(256)
        self.cx = LiftLowerContext(CanonicalOptions(memory=self.mem), self.inst)
        self.task = Task(self.inst, ft or t.FuncType(()), opts or CanonicalOptions())
        self.thread = Thread(self.task, self.driver)
        assert self.task.enter_implicit_thread(self.thread)

    def opts(self, vt: t.Type | None, async_: bool = True) -> CopyOptions:
        return CopyOptions(async_, self.mem, None if vt is None else elem_codec(vt, self.cx))

    def stream(self, st: t.StreamType = S8) -> tuple[int, int]:
        packed = b.stream_new(self.inst, st)
        return packed & 0xFFFF_FFFF, packed >> 32

    def future(self, ft: t.FutureType = F8) -> tuple[int, int]:
        packed = b.future_new(self.inst, ft)
        return packed & 0xFFFF_FFFF, packed >> 32

    def wset(self, *waitables: int) -> int:
        si = b.waitable_set_new(self.inst)
        for w in waitables:
            b.waitable_join(self.inst, w, si)
        return si

    def subtask(self, resolve_on_cancel: bool = False) -> tuple[int, Subtask]:
        st = Subtask()

        def on_cancel(inst: Any) -> None:
            if resolve_on_cancel:
                st.on_resolve(None)

        st.on_cancel = on_cancel
        return b.finish_lower_async(self.inst, st) >> 4, st


def traps(match: str) -> Any:
    return pytest.raises(Trap, match=match)


# may_leave: every built-in that can leave the instance checks it first


def _calls(w: World) -> dict[str, Callable[[], object]]:
    th, inst, m = w.thread, w.inst, w.mem
    o = w.opts(t.U8)
    return {
        "waitable-set.new": lambda: b.waitable_set_new(inst),
        "waitable-set.wait": lambda: b.waitable_set_wait(th, False, m, 1, 0),
        "waitable-set.poll": lambda: b.waitable_set_poll(th, False, m, 1, 0),
        "waitable-set.drop": lambda: b.waitable_set_drop(inst, 1),
        "waitable.join": lambda: b.waitable_join(inst, 1, 0),
        "subtask.cancel": lambda: b.subtask_cancel(th, True, 1),
        "subtask.drop": lambda: b.subtask_drop(inst, 1),
        "stream.new": lambda: b.stream_new(inst, S8),
        "future.new": lambda: b.future_new(inst, F8),
        "stream.read": lambda: b.stream_read(th, S8, o, 1, 0, 1),
        "stream.write": lambda: b.stream_write(th, S8, o, 2, 0, 1),
        "future.read": lambda: b.future_read(th, F8, o, 1, 0),
        "future.write": lambda: b.future_write(th, F8, o, 2, 0),
        "stream.cancel-read": lambda: b.stream_cancel_read(th, S8, True, 1),
        "stream.cancel-write": lambda: b.stream_cancel_write(th, S8, True, 2),
        "future.cancel-read": lambda: b.future_cancel_read(th, F8, True, 1),
        "future.cancel-write": lambda: b.future_cancel_write(th, F8, True, 2),
        "stream.drop-readable": lambda: b.stream_drop_readable(inst, S8, 1),
        "stream.drop-writable": lambda: b.stream_drop_writable(inst, S8, 2),
        "future.drop-readable": lambda: b.future_drop_readable(inst, F8, 1),
        "future.drop-writable": lambda: b.future_drop_writable(inst, F8, 2),
        "error-context.new": lambda: b.error_context_new(inst, lambda p, n: "", 0, 0),
        "error-context.debug-message": lambda: b.error_context_debug_message(
            inst, lambda s, p: None, 1, 0
        ),
        "error-context.drop": lambda: b.error_context_drop(inst, 1),
        "task.return": lambda: b.task_return(th, None, CanonicalOptions(), lambda: ()),
        "task.cancel": lambda: b.task_cancel(th),
        "thread.yield": lambda: b.thread_yield(th, False),
        "thread.index": lambda: b.thread_index(th),
    }


@pytest.mark.parametrize("name", sorted(_calls(World())))
def test_may_leave(name: str) -> None:
    w = World()
    w.inst.may_leave = False
    with traps(rf"`{name}`: cannot leave component instance"):
        _calls(w)[name]()


# Handles of the wrong kind


@pytest.mark.parametrize(
    ("name", "call", "what"),
    [
        ("waitable-set.wait", lambda w: b.waitable_set_wait(w.thread, False, w.mem, 1, 0), "waitable set"),
        ("waitable-set.poll", lambda w: b.waitable_set_poll(w.thread, False, w.mem, 1, 0), "waitable set"),
        ("waitable-set.drop", lambda w: b.waitable_set_drop(w.inst, 1), "waitable set"),
        ("waitable.join", lambda w: b.waitable_join(w.inst, 3, 0), "waitable"),
        ("waitable.join", lambda w: b.waitable_join(w.inst, 1, 2), "waitable set"),
        ("subtask.cancel", lambda w: b.subtask_cancel(w.thread, True, 1), "subtask"),
        ("subtask.drop", lambda w: b.subtask_drop(w.inst, 1), "subtask"),
        ("stream.read", lambda w: b.stream_read(w.thread, S8, w.opts(t.U8), 2, 0, 1), "readable stream end"),
        ("stream.write", lambda w: b.stream_write(w.thread, S8, w.opts(t.U8), 1, 0, 1), "writable stream end"),
        ("future.read", lambda w: b.future_read(w.thread, F8, w.opts(t.U8), 1, 0), "readable future end"),
        ("stream.cancel-write", lambda w: b.stream_cancel_write(w.thread, S8, True, 1), "writable stream end"),
        ("stream.drop-readable", lambda w: b.stream_drop_readable(w.inst, S8, 2), "readable stream end"),
        ("future.drop-writable", lambda w: b.future_drop_writable(w.inst, F8, 1), "writable future end"),
        ("error-context.debug-message", lambda w: b.error_context_debug_message(w.inst, lambda s, p: None, 1, 0), "error-context"),
        ("error-context.drop", lambda w: b.error_context_drop(w.inst, 3), "error-context"),
        ("lift readable stream end", lambda w: b.lift_stream(w.inst, 2, t.U8), "readable stream end"),
    ],
)  # fmt: skip
def test_wrong_handle_kind(name: str, call: Callable[[World], object], what: str) -> None:
    w = World()
    w.stream()  # 1, 2
    w.inst.handles.add(ResourceHandle(t.ResourceType.fresh("r"), 7, True))  # 3: a resource
    with traps(rf"`{name}`: handle index \d is not a {what}"):
        call(w)


def test_missing_handles_trap_in_the_table() -> None:
    w = World()
    with traps("handle index 5 out of bounds"):
        b.stream_read(w.thread, S8, w.opts(t.U8), 5, 0, 1)
    r, _wi = w.stream()
    b.stream_drop_readable(w.inst, S8, r)
    with traps(f"handle index {r} is not in use"):
        b.stream_read(w.thread, S8, w.opts(t.U8), r, 0, 1)


def test_payload_type_must_match() -> None:
    w = World()
    r, wi = w.stream(S8)
    with traps(r"`stream.read`: handle index 1 carries u8, expected u32"):
        b.stream_read(w.thread, S32, w.opts(t.U32), r, 0, 1)
    with traps(r"`stream.drop-writable`: handle index 2 carries u8, expected no payload"):
        b.stream_drop_writable(w.inst, t.StreamType(None), wi)
    fr, _fw = w.future()
    with traps(r"`future.cancel-read`: handle index 3 carries u8, expected u32"):
        b.future_cancel_read(w.thread, t.FutureType(t.U32), True, fr)
    with traps(r"`lift readable future end`: handle index 3 carries u8, expected u32"):
        b.lift_future(w.inst, fr, t.U32)


# Copies


def test_copy_while_copying_and_after_done() -> None:
    w = World()
    r, wi = w.stream()
    assert b.stream_read(w.thread, S8, w.opts(t.U8), r, 0, 4) == BLOCKED
    with traps(r"`stream.read`: handle index 1 is copying, expected idle"):
        b.stream_read(w.thread, S8, w.opts(t.U8), r, 0, 4)
    b.stream_cancel_read(w.thread, S8, True, r)
    b.stream_drop_writable(w.inst, S8, wi)
    assert b.stream_read(w.thread, S8, w.opts(t.U8), r, 0, 4) == 1  # DROPPED, 0 copied
    with traps(r"`stream.read`: handle index 1 is done, expected idle"):
        b.stream_read(w.thread, S8, w.opts(t.U8), r, 0, 4)


def test_future_is_read_once() -> None:
    w = World()
    fr, fw = w.future()
    assert b.future_write(w.thread, F8, w.opts(t.U8), fw, 0) == BLOCKED
    assert b.future_read(w.thread, F8, w.opts(t.U8), fr, 8) == 0  # COMPLETED
    with traps(r"`future.read`: handle index 1 is done, expected idle"):
        b.future_read(w.thread, F8, w.opts(t.U8), fr, 8)


def test_sync_copy_of_a_waitable_in_a_set() -> None:
    w = World()
    r, _wi = w.stream()
    w.wset(r)
    with traps(r"`stream.read`: a synchronous copy of a waitable in a waitable set"):
        b.stream_read(w.thread, S8, w.opts(t.U8, async_=False), r, 0, 1)


@pytest.mark.parametrize(
    ("st", "ptr", "n", "match"),
    [
        (S8, 0, 2**28, "buffer length 268435456 exceeds the maximum"),
        (S32, 2, 1, r"buffer pointer 0x2 is not aligned to 4"),
        (S32, 252, 2, r"buffer \[0xfc, \+8\) is out of bounds"),
    ],
)
def test_buffer_checks(st: t.StreamType, ptr: int, n: int, match: str) -> None:
    w = World()
    _r, wi = w.stream(st)
    with traps(match):
        b.stream_write(w.thread, st, w.opts(st.payload), wi, ptr, n)


def test_buffer_checks_skip_empty_and_payloadless_buffers() -> None:
    w = World()
    _r, wi = w.stream(S32)
    assert b.stream_write(w.thread, S32, w.opts(t.U32), wi, 1001, 0) == BLOCKED
    none = t.StreamType(None)
    r2, w2 = w.stream(none)
    assert b.stream_write(w.thread, none, w.opts(None), w2, 99999, 3) == BLOCKED
    assert b.stream_read(w.thread, none, w.opts(None), r2, 77777, 5) == 3 << 4  # 3 () values


def test_same_instance_copy_of_non_numbers() -> None:
    w = World()
    r, wi = w.stream(SS)
    assert b.stream_write(w.thread, SS, w.opts(t.STRING), wi, 0, 1) == BLOCKED
    with traps("both ends of a stream of string are in one instance"):
        b.stream_read(w.thread, SS, w.opts(t.STRING), r, 8, 1)


def test_cancel_rules() -> None:
    w = World()
    r, _wi = w.stream()
    with traps(r"`stream.cancel-read`: no copy in progress to cancel"):
        b.stream_cancel_read(w.thread, S8, True, r)
    assert b.stream_read(w.thread, S8, w.opts(t.U8), r, 0, 4) == BLOCKED
    w.wset(r)
    with traps(r"`stream.cancel-read`: a synchronous cancel of a waitable in a waitable set"):
        b.stream_cancel_read(w.thread, S8, False, r)


def test_cancel_while_a_sync_copy_waits() -> None:
    w = World()
    _r, wi = w.stream()
    w.driver.spawn(lambda: b.stream_cancel_write(w.thread, S8, True, wi))
    with traps(r"`stream.cancel-write`: a synchronous copy waits on the end"):
        b.stream_write(w.thread, S8, w.opts(t.U8, async_=False), wi, 0, 1)


def test_drop_rules() -> None:
    w = World()
    r, _wi = w.stream()
    assert b.stream_read(w.thread, S8, w.opts(t.U8), r, 0, 4) == BLOCKED
    with traps("cannot drop a stream or future end while it copies"):
        b.stream_drop_readable(w.inst, S8, r)
    _fr, fw = w.future()
    with traps("cannot drop a writable future end before its value was written"):
        b.future_drop_writable(w.inst, F8, fw)


def test_writable_future_end_may_drop_once_the_reader_dropped() -> None:
    w = World()
    fr, fw = w.future()
    b.future_drop_readable(w.inst, F8, fr)
    assert b.future_write(w.thread, F8, w.opts(t.U8), fw, 0) == 1  # DROPPED
    b.future_drop_writable(w.inst, F8, fw)


def test_lift_rules() -> None:
    w = World()
    r, _wi = w.stream()
    assert b.stream_read(w.thread, S8, w.opts(t.U8), r, 0, 4) == BLOCKED
    with traps(r"`lift readable stream end`: handle index 1 is copying, expected idle"):
        b.lift_stream(w.inst, r, t.U8)
    r2, _w2 = w.stream()
    w.wset(r2)
    with traps(r"`lift readable stream end`: a waitable in a waitable set cannot move"):
        b.lift_stream(w.inst, r2, t.U8)


# Waitable sets


def test_waitable_set_drop_rules() -> None:
    w = World()
    r, _wi = w.stream()
    si = w.wset(r)
    with traps("cannot drop a waitable set that still has waitables"):
        b.waitable_set_drop(w.inst, si)
    s2 = w.wset()
    w.driver.spawn(lambda: b.waitable_set_drop(w.inst, s2))  # runs while the thread waits
    with traps("cannot drop a waitable set while a thread waits on it"):
        b.waitable_set_wait(w.thread, False, w.mem, s2, 0)


def test_join_while_a_sync_copy_waits() -> None:
    w = World()
    r, _wi = w.stream()
    si = w.wset()
    w.driver.spawn(lambda: b.waitable_join(w.inst, r, si))
    with traps(r"`waitable.join`: a synchronous built-in waits on the waitable"):
        b.stream_read(w.thread, S8, w.opts(t.U8, async_=False), r, 0, 1)


def test_event_payload_out_of_bounds() -> None:
    w = World()
    si = w.wset()
    with traps(r"event payload \[0xfc, \+8\) is out of bounds"):
        b.waitable_set_poll(w.thread, False, w.mem, si, 252)


def test_wait_with_nothing_to_wait_for_deadlocks() -> None:
    w = World()
    si = w.wset()
    with traps("deadlock"):
        b.waitable_set_wait(w.thread, False, w.mem, si, 0)


def test_sync_read_with_no_writer_deadlocks() -> None:
    w = World()
    r, _wi = w.stream()
    with traps("deadlock"):
        b.stream_read(w.thread, S8, w.opts(t.U8, async_=False), r, 0, 1)


# Subtasks


def test_subtask_cancel_rules() -> None:
    w = World()
    i, _st = w.subtask(resolve_on_cancel=False)
    assert b.subtask_cancel(w.thread, True, i) == BLOCKED
    with traps(r"`subtask.cancel`: cancellation already requested"):
        b.subtask_cancel(w.thread, True, i)
    j, _st2 = w.subtask()
    w.wset(j)
    with traps(r"`subtask.cancel`: a synchronous cancel of a subtask in a waitable set"):
        b.subtask_cancel(w.thread, False, j)


def test_subtask_cancel_after_resolution_delivered() -> None:
    w = World()
    i, st = w.subtask()
    st.on_start()
    st.on_resolve([])
    si = w.wset(i)
    assert b.waitable_set_poll(w.thread, False, w.mem, si, 0) == 1  # SUBTASK, RETURNED
    with traps(r"`subtask.cancel`: the subtask already resolved"):
        b.subtask_cancel(w.thread, True, i)


def test_subtask_drop_before_resolution() -> None:
    w = World()
    i, _st = w.subtask()
    with traps("cannot drop a subtask that has not resolved"):
        b.subtask_drop(w.inst, i)


def test_sync_subtask_cancel_waits_for_the_callee() -> None:
    w = World()
    i, st = w.subtask(resolve_on_cancel=False)
    st.on_start()
    w.driver.spawn(lambda: st.on_resolve(None))
    assert b.subtask_cancel(w.thread, False, i) == Subtask.State.CANCELLED_BEFORE_RETURNED
    b.subtask_drop(w.inst, i)


# Task built-ins


ASYNC_FT = t.FuncType((), t.U32, is_async=True)


def test_backpressure_bounds() -> None:
    w = World()
    with traps(r"`backpressure.dec`: backpressure counter underflow"):
        b.backpressure_dec(w.inst)
    w.inst.backpressure = 2**16 - 1
    with traps(r"`backpressure.inc`: backpressure counter overflow"):
        b.backpressure_inc(w.inst)


def test_task_return_rules() -> None:
    mem = BytearrayMemory(64)
    opts = CanonicalOptions(memory=mem, async_=True)
    w = World(ASYNC_FT, opts)
    with traps(r"`task.return`: result type string does not match the function's u32"):
        b.task_return(w.thread, t.STRING, opts, lambda: ("x",))
    with traps(r"`task.return`: options differ"):  # another memory
        b.task_return(w.thread, t.U32, CanonicalOptions(memory=BytearrayMemory(64)),
                      lambda: (1,))
    with traps(r"`task.return`: options differ"):  # another string encoding
        b.task_return(w.thread, t.U32, CanonicalOptions(memory=mem, string_encoding="utf16"),
                      lambda: (1,))
    w.task.num_borrows = 1
    with traps("borrowed handle not dropped before the task returned"):
        b.task_return(w.thread, t.U32, opts, lambda: (1,))
    w.task.num_borrows = 0
    b.task_return(w.thread, t.U32, opts, lambda: (1,))
    with traps("task already returned or cancelled"):
        b.task_return(w.thread, t.U32, opts, lambda: (1,))
    # no memory named: it lifts flat values only, and passes (as in wasmtime and jco)
    w3 = World(ASYNC_FT, opts)
    b.task_return(w3.thread, t.U32, CanonicalOptions(), lambda: (1,))
    assert w3.task.state == Task.State.RESOLVED
    w2 = World(t.FuncType((), t.U32), CanonicalOptions())
    with traps(r"`task.return` in a task not lifted `async`"):
        b.task_return(w2.thread, t.U32, CanonicalOptions(), lambda: (1,))


def test_task_cancel_rules() -> None:
    w = World(ASYNC_FT, CanonicalOptions(async_=True))
    with traps(r"`task.cancel` without a delivered cancellation request"):
        b.task_cancel(w.thread)
    w2 = World()
    with traps(r"`task.cancel` in a task not lifted `async`"):
        b.task_cancel(w2.thread)


def test_task_exits_without_resolving() -> None:
    w = World(ASYNC_FT, CanonicalOptions(async_=True))
    with traps(r"task exited without returning a value \(`task.return`\) or cancelling"):
        w.task.exit_implicit_thread()


def test_unknown_callback_code() -> None:
    assert unpack_callback_result(2 | (5 << 4)) == (2, 5)
    with traps("callback returned unknown code 3"):
        unpack_callback_result(3)
