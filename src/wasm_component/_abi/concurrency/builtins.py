"""The async ``canon`` built-ins, one function each, named as CanonicalABI.md names them.

Each takes what the spec reads from ambient state as arguments: the running :class:`Thread`
(whose task and instance the spec calls ``current_thread()``/``current_instance()``), or just
the instance when nothing else is read. Immediates come next (the type, the options), then the
core arguments; the result is the core result. Memory is reached through the
:class:`~.context.Memory` protocol and element values through injected codecs and callables, so
the runtime binds each built-in once per ``canon`` definition (``functools.partial``) and nothing
here needs wasmtime.

Example (``stream.new`` then an async ``stream.read`` that has to wait)::

    packed = stream_new(inst, t.StreamType(t.U8))
    ri, wi = packed & 0xFFFF_FFFF, packed >> 32
    opts = CopyOptions(async_=True, memory=mem, codec=codec)
    assert stream_read(thread, t.StreamType(t.U8), opts, ri, 0, 4) == BLOCKED
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from ... import types as t
from ..context import CanonicalOptions, Memory, memory_covering, trap, trap_if
from ..handles import ErrorContext
from .copy import (
    MAX_BUFFER_LENGTH,
    CopyEnd,
    CopyResult,
    CopyState,
    ElemCodec,
    ReadableFutureEnd,
    ReadableGuestBuffer,
    ReadableStreamEnd,
    SharedFuture,
    SharedStream,
    WritableFutureEnd,
    WritableGuestBuffer,
    WritableStreamEnd,
)
from .scheduler import Cancelled, Thread, Waiting, finish, then
from .task import AsyncInstanceState
from .waitable import Event, EventCode, Subtask, Waitable, WaitableSet

__all__ = [
    "BLOCKED",
    "CopyOptions",
    "backpressure_dec",
    "backpressure_inc",
    "context_get",
    "context_set",
    "error_context_debug_message",
    "error_context_drop",
    "error_context_new",
    "finish_lower_async",
    "finish_lower_sync",
    "finish_lower_sync_w",
    "future_cancel_read",
    "future_cancel_read_w",
    "future_cancel_write",
    "future_cancel_write_w",
    "future_drop_readable",
    "future_drop_writable",
    "future_new",
    "future_read",
    "future_read_w",
    "future_write",
    "future_write_w",
    "lift_future",
    "lift_stream",
    "lower_future",
    "lower_stream",
    "stream_cancel_read",
    "stream_cancel_read_w",
    "stream_cancel_write",
    "stream_cancel_write_w",
    "stream_drop_readable",
    "stream_drop_writable",
    "stream_new",
    "stream_read",
    "stream_read_w",
    "stream_write",
    "stream_write_w",
    "subtask_cancel",
    "subtask_cancel_w",
    "subtask_drop",
    "task_cancel",
    "task_return",
    "thread_index",
    "thread_suspend_w",
    "thread_yield",
    "thread_yield_w",
    "waitable_join",
    "waitable_set_drop",
    "waitable_set_new",
    "waitable_set_poll",
    "waitable_set_wait",
    "waitable_set_wait_w",
]

#: What an async built-in returns when the operation goes on in the background.
BLOCKED = 0xFFFF_FFFF

E = TypeVar("E")

_WHAT: dict[type, str] = {
    Waitable: "waitable",
    WaitableSet: "waitable set",
    Subtask: "subtask",
    ErrorContext: "error-context",
}


@dataclass(frozen=True, slots=True)
class CopyOptions:
    """The ``canonopt``s of a ``stream``/``future`` ``read``/``write`` as a copy uses them:
    ``async``, and the memory and element codec the guest's buffer is read through (no codec:
    the payload-less ``stream``/``future``)."""

    async_: bool = False
    memory: Memory | None = None
    codec: ElemCodec | None = None


def _check_may_leave(inst: AsyncInstanceState, name: str) -> None:
    if not inst.may_leave:
        trap(f"`{name}`: cannot leave component instance")


def _what(cls: type) -> str:
    what = _WHAT.get(cls)
    return what if what is not None else str(getattr(cls, "what", cls.__name__))


def _get(inst: AsyncInstanceState, i: int, cls: type[E], name: str) -> E:
    e = inst.handles.get(i)
    if not isinstance(e, cls):
        trap(f"`{name}`: handle index {i} is not a {_what(cls)}")
    return e


def _remove(inst: AsyncInstanceState, i: int, cls: type[E], name: str) -> E:
    e = _get(inst, i, cls, name)
    inst.handles.remove(i)
    return e


def _store_event(mem: Memory, ptr: int, event: Event) -> int:
    code, p1, p2 = event
    m = memory_covering(mem, ptr + 8)
    if m is None:
        trap(f"event payload [{ptr:#x}, +8) is out of bounds")
    struct.pack_into("<II", m, ptr, p1, p2)
    return int(code)


def _payload_name(vt: t.Type | None) -> str:
    return "no payload" if vt is None else vt.wit()


def _check_end(e: CopyEnd, vt: t.Type | None, i: int, name: str) -> None:
    if e.shared.t != vt:
        trap(
            f"`{name}`: handle index {i} carries {_payload_name(e.shared.t)}, "
            f"expected {_payload_name(vt)}"
        )


# Task built-ins


def context_get(thread: Thread, i: int) -> int:
    """``context.get i``: slot ``i`` (0 or 1, validated) of the running thread."""
    assert 0 <= i < len(thread.storage), "validation bounds the slot"
    return thread.storage[i]


def context_set(thread: Thread, i: int, v: int) -> None:
    """``context.set i``."""
    assert 0 <= i < len(thread.storage), "validation bounds the slot"
    thread.storage[i] = v


def backpressure_inc(inst: AsyncInstanceState) -> None:
    assert 0 <= inst.backpressure < 2**16, "backpressure stays a u16"
    inst.backpressure += 1
    if inst.backpressure == 2**16:
        trap("`backpressure.inc`: backpressure counter overflow")


def backpressure_dec(inst: AsyncInstanceState) -> None:
    assert 0 <= inst.backpressure < 2**16, "backpressure stays a u16"
    inst.backpressure -= 1
    if inst.backpressure < 0:
        trap("`backpressure.dec`: backpressure counter underflow")


def task_return(
    thread: Thread,
    result_type: t.Type | None,
    opts: CanonicalOptions,
    lift_result: Callable[[], Sequence[Any]],
) -> None:
    """``task.return``: ``lift_result`` lifts the flat arguments (run after the checks)."""
    task = thread.task
    topts = task.opts
    # (``_check_may_leave`` and ``trap_if`` spelled out: a task's return is a hot path)
    if not task.inst.may_leave:
        trap("`task.return`: cannot leave component instance")
    if not topts.async_:
        trap("`task.return` in a task not lifted `async`")
    if result_type is not task.ft.result and result_type != task.ft.result:
        trap(
            f"`task.return`: result type {_payload_name(result_type)} does not match the "
            f"function's {_payload_name(task.ft.result)}"
        )
    # The spec's ``LiftOptions.equal`` compares the memories by identity; like wasmtime (and
    # jco), a `task.return` that names no memory passes that comparison: validation gives it
    # one whenever its result needs one, so without one it lifts flat values only, the same
    # whatever the lift's memory is. A different memory, or string encoding, traps.
    if opts.string_encoding != topts.string_encoding or (
            opts.memory is not None and opts.memory is not topts.memory):
        trap("`task.return`: options differ from the lifted function's")
    task.return_(lift_result())


def task_cancel(thread: Thread) -> None:
    task = thread.task
    _check_may_leave(task.inst, "task.cancel")
    trap_if(not task.opts.async_, "`task.cancel` in a task not lifted `async`")
    task.cancel()


def thread_yield(thread: Thread, cancellable: bool) -> int:
    """``thread.yield`` (``yield``): let others run; 1 when resumed by a cancellation."""
    return finish(thread_yield_w(thread, cancellable))


def thread_yield_w(thread: Thread, cancellable: bool) -> int | Waiting[int]:
    """:func:`thread_yield` split at its wait (``scheduler.Waiting``)."""
    _check_may_leave(thread.task.inst, "thread.yield")
    return then(thread.yield_w(cancellable), int)


def thread_suspend_w(thread: Thread, cancellable: bool) -> int | Waiting[int]:
    """``thread.suspend``: park until resumed; 1 when resumed by a cancellation (split at its
    wait, ``scheduler.Waiting``)."""
    _check_may_leave(thread.task.inst, "thread.suspend")
    return then(thread.suspend_w(cancellable), int)


#: What ``thread.available-parallelism`` answers: this runtime runs an instance's threads
#: cooperatively, one at a time (no preemptive ``shared`` threads), so one thread runs in
#: parallel, for the instance's whole lifetime (the spec: an engine may limit the value).
AVAILABLE_PARALLELISM = 1


def thread_available_parallelism(inst: AsyncInstanceState) -> int:
    """``thread.available-parallelism`` (no ``may_leave`` check in the spec)."""
    return AVAILABLE_PARALLELISM


def thread_index(thread: Thread) -> int:
    _check_may_leave(thread.task.inst, "thread.index")
    assert thread.index is not None, "a running thread is registered"
    return thread.index


# Waitables


def waitable_set_new(inst: AsyncInstanceState) -> int:
    _check_may_leave(inst, "waitable-set.new")
    return inst.handles.add(WaitableSet())


def waitable_set_wait(thread: Thread, cancellable: bool, mem: Memory, si: int, ptr: int) -> int:
    """``waitable-set.wait``: park until an element has an event; store ``(index, payload)``
    at ``ptr`` and return the event code."""
    return finish(waitable_set_wait_w(thread, cancellable, mem, si, ptr))


def waitable_set_wait_w(thread: Thread, cancellable: bool, mem: Memory, si: int, ptr: int
                        ) -> int | Waiting[int]:
    """:func:`waitable_set_wait` split at its wait (``scheduler.Waiting``)."""
    inst = thread.task.inst
    _check_may_leave(inst, "waitable-set.wait")
    wset = _get(inst, si, WaitableSet, "waitable-set.wait")
    return then(wset.wait_for_event_w(thread, cancellable), partial(_store_event, mem, ptr))


def waitable_set_poll(thread: Thread, cancellable: bool, mem: Memory, si: int, ptr: int) -> int:
    """``waitable-set.poll``: as ``wait``, but ``EventCode.NONE`` instead of waiting."""
    inst = thread.task.inst
    _check_may_leave(inst, "waitable-set.poll")
    wset = _get(inst, si, WaitableSet, "waitable-set.poll")
    return _store_event(mem, ptr, wset.poll(thread, cancellable))


def waitable_set_drop(inst: AsyncInstanceState, i: int) -> None:
    _check_may_leave(inst, "waitable-set.drop")
    _get(inst, i, WaitableSet, "waitable-set.drop").drop()
    inst.handles.remove(i)


def waitable_join(inst: AsyncInstanceState, wi: int, si: int) -> None:
    """``waitable.join``: move waitable ``wi`` into set ``si`` (0: out of any set)."""
    _check_may_leave(inst, "waitable.join")
    w = _get(inst, wi, Waitable, "waitable.join")
    trap_if(w.has_sync_waiter, "`waitable.join`: a synchronous built-in waits on the waitable")
    w.join(None if si == 0 else _get(inst, si, WaitableSet, "waitable.join"))


# Subtasks


def finish_lower_async(inst: AsyncInstanceState, subtask: Subtask) -> int:
    """The end of an async ``canon lower``: a call that already returned reports ``RETURNED``;
    otherwise the subtask enters the caller's table and the result packs its state and index."""
    if subtask.resolved():
        assert subtask.state == Subtask.State.RETURNED, "a call cancels only once it has a handle"
        subtask.deliver_resolve()
        assert subtask.flat_results == [], "async lowering returns results through memory"
        return int(Subtask.State.RETURNED)
    i = inst.handles.add(subtask)
    subtask.index = i
    return int(subtask.state) | (i << 4)


def finish_lower_sync(thread: Thread, subtask: Subtask) -> list[Any]:
    """The end of a sync ``canon lower``: wait (uncancellably) for the callee to return."""
    return finish(finish_lower_sync_w(thread, subtask))


def finish_lower_sync_w(thread: Thread, subtask: Subtask) -> list[Any] | Waiting[list[Any]]:
    """:func:`finish_lower_sync` split at its wait (``scheduler.Waiting``)."""
    if not subtask.resolved():
        return then(thread.wait_until_w(subtask.resolved), partial(_deliver_resolve, subtask))
    subtask.deliver_resolve()
    return subtask.flat_results


def _deliver_resolve(subtask: Subtask, cancelled: Cancelled) -> list[Any]:
    subtask.deliver_resolve()
    return subtask.flat_results


def subtask_cancel(thread: Thread, async_: bool, i: int) -> int:
    """``subtask.cancel``: ask the callee to stop; its final state, or ``BLOCKED``."""
    return finish(subtask_cancel_w(thread, async_, i))


def subtask_cancel_w(thread: Thread, async_: bool, i: int) -> int | Waiting[int]:
    """:func:`subtask_cancel` split at its wait (``scheduler.Waiting``)."""
    inst = thread.task.inst
    _check_may_leave(inst, "subtask.cancel")
    subtask = _get(inst, i, Subtask, "subtask.cancel")
    trap_if(subtask.resolve_delivered(), "`subtask.cancel`: the subtask already resolved")
    trap_if(subtask.cancellation_requested, "`subtask.cancel`: cancellation already requested")
    trap_if(
        subtask.in_waitable_set() and not async_,
        "`subtask.cancel`: a synchronous cancel of a subtask in a waitable set",
    )
    if subtask.resolved():
        assert subtask.has_pending_event(), "resolution left an event"
    else:
        subtask.request_cancellation(inst)
        if not subtask.resolved():
            if not async_:
                # Until it resolves: an earlier progress event (``STARTED``) may be pending
                # already. (The reference waits for any event and then fails its own
                # ``assert(subtask.resolve_delivered())``; the differential tests note it.)
                return then(subtask.wait_for_pending_event_w(thread, subtask.resolved),
                            partial(_cancelled_state, subtask, i))
            else:
                return BLOCKED
    return _cancelled_state(subtask, i, None)


def _cancelled_state(subtask: Subtask, i: int, _: None) -> int:
    code, index, payload = subtask.get_pending_event()
    assert code == EventCode.SUBTASK and index == i and payload == subtask.state, "its event"
    assert subtask.resolve_delivered(), "the event delivered the resolution"
    return int(subtask.state)


def subtask_drop(inst: AsyncInstanceState, i: int) -> None:
    _check_may_leave(inst, "subtask.drop")
    _get(inst, i, Subtask, "subtask.drop").drop()
    inst.handles.remove(i)


# Streams and futures


def stream_new(inst: AsyncInstanceState, stream_t: t.StreamType) -> int:
    """``stream.new``: both ends; the readable end's index in the low 32 bits."""
    _check_may_leave(inst, "stream.new")
    shared = SharedStream(stream_t.payload)
    ri = inst.handles.add(ReadableStreamEnd(shared))
    wi = inst.handles.add(WritableStreamEnd(shared))
    return ri | (wi << 32)


def future_new(inst: AsyncInstanceState, future_t: t.FutureType) -> int:
    _check_may_leave(inst, "future.new")
    shared = SharedFuture(future_t.payload)
    ri = inst.handles.add(ReadableFutureEnd(shared))
    wi = inst.handles.add(WritableFutureEnd(shared))
    return ri | (wi << 32)


def _begin_copy(
    thread: Thread,
    end_t: type[E],
    vt: t.Type | None,
    opts: CopyOptions,
    i: int,
    name: str,
) -> E:
    inst = thread.task.inst
    _check_may_leave(inst, name)
    e = _get(inst, i, end_t, name)
    assert isinstance(e, CopyEnd), "copies go through stream and future ends"
    _check_end(e, vt, i, name)
    if e.state != CopyState.IDLE:
        trap(f"`{name}`: handle index {i} is {e.state.name.lower()}, expected idle")
    trap_if(
        e.in_waitable_set() and not opts.async_,
        f"`{name}`: a synchronous copy of a waitable in a waitable set",
    )
    return e


def _end_copy(thread: Thread, e: CopyEnd, async_: bool, code: EventCode, i: int
              ) -> int | Waiting[int]:
    if not e.has_pending_event():
        if not async_:
            return then(e.wait_for_pending_event_w(thread), partial(_copy_event, e, code, i))
        else:
            return BLOCKED
    return _copy_event(e, code, i, None)


def _copy_event(e: CopyEnd, code: EventCode, i: int, _: None) -> int:
    got, index, payload = e.get_pending_event()
    assert got == code and index == i and payload != BLOCKED, "the copy's own event"
    return payload


def _noop() -> None:
    return None


def _stream_copy(
    end_t: type[ReadableStreamEnd] | type[WritableStreamEnd],
    buffer_t: type[WritableGuestBuffer] | type[ReadableGuestBuffer],
    code: EventCode,
    name: str,
    thread: Thread,
    stream_t: t.StreamType,
    opts: CopyOptions,
    i: int,
    ptr: int,
    n: int,
) -> int | Waiting[int]:
    e = _begin_copy(thread, end_t, stream_t.payload, opts, i, name)
    buffer = buffer_t(stream_t.payload, opts.memory, opts.codec, ptr, n)

    def stream_event(result: CopyResult, reclaim_buffer: Callable[[], None]) -> Event:
        reclaim_buffer()
        assert e.copying(), "an event ends a copy in progress"
        e.state = CopyState.DONE if result == CopyResult.DROPPED else CopyState.IDLE
        assert buffer.progress <= MAX_BUFFER_LENGTH, "progress fits in 28 bits"
        return (code, i, int(result) | (buffer.progress << 4))

    def on_copy(reclaim_buffer: Callable[[], None]) -> None:
        e.set_pending_event(partial(stream_event, CopyResult.COMPLETED, reclaim_buffer))

    def on_copy_done(result: CopyResult) -> None:
        e.set_pending_event(partial(stream_event, result, _noop))

    e.state = CopyState.COPYING
    e.copy(thread.task.inst, buffer, on_copy, on_copy_done)
    return _end_copy(thread, e, opts.async_, code, i)


def _finished(fn: Callable[..., int | Waiting[int]]) -> Callable[..., int]:
    """``fn`` with its waits run on the current stack (``scheduler.finish``)."""

    def call(*args: Any) -> int:
        return finish(fn(*args))

    return call


#: ``stream.read_w(thread, stream_t, opts, i, ptr, n)``: up to ``n`` elements into ``ptr``;
#: ``result | (count << 4)``, or ``BLOCKED``; split at its wait (``scheduler.Waiting``).
stream_read_w = partial(
    _stream_copy, ReadableStreamEnd, WritableGuestBuffer, EventCode.STREAM_READ, "stream.read"
)
#: ``stream.write_w(thread, stream_t, opts, i, ptr, n)``: up to ``n`` elements from ``ptr``.
stream_write_w = partial(
    _stream_copy, WritableStreamEnd, ReadableGuestBuffer, EventCode.STREAM_WRITE, "stream.write"
)
stream_read = _finished(stream_read_w)
stream_write = _finished(stream_write_w)


def _future_copy(
    end_t: type[ReadableFutureEnd] | type[WritableFutureEnd],
    buffer_t: type[WritableGuestBuffer] | type[ReadableGuestBuffer],
    code: EventCode,
    name: str,
    thread: Thread,
    future_t: t.FutureType,
    opts: CopyOptions,
    i: int,
    ptr: int,
) -> int | Waiting[int]:
    e = _begin_copy(thread, end_t, future_t.payload, opts, i, name)
    buffer = buffer_t(future_t.payload, opts.memory, opts.codec, ptr, 1)

    def future_event(result: CopyResult) -> Event:
        assert (buffer.remain() == 0) == (result == CopyResult.COMPLETED), "one value or none"
        assert e.copying(), "an event ends a copy in progress"
        if result in (CopyResult.DROPPED, CopyResult.COMPLETED):
            e.state = CopyState.DONE
        else:
            e.state = CopyState.IDLE
        return (code, i, int(result))

    def on_copy_done(result: CopyResult) -> None:
        assert result != CopyResult.DROPPED or code == EventCode.FUTURE_WRITE, "writers drop"
        e.set_pending_event(partial(future_event, result))

    e.state = CopyState.COPYING
    e.copy(thread.task.inst, buffer, on_copy_done)
    return _end_copy(thread, e, opts.async_, code, i)


#: ``future.read(thread, future_t, opts, i, ptr)``: the value into ``ptr``; a ``CopyResult``,
#: or ``BLOCKED``.
future_read_w = partial(
    _future_copy, ReadableFutureEnd, WritableGuestBuffer, EventCode.FUTURE_READ, "future.read"
)
#: ``future.write(thread, future_t, opts, i, ptr)``: the value from ``ptr``.
future_write_w = partial(
    _future_copy, WritableFutureEnd, ReadableGuestBuffer, EventCode.FUTURE_WRITE, "future.write"
)
future_read = _finished(future_read_w)
future_write = _finished(future_write_w)


def _cancel_copy(
    end_t: type[CopyEnd],
    code: EventCode,
    name: str,
    thread: Thread,
    ty: t.StreamType | t.FutureType,
    async_: bool,
    i: int,
) -> int | Waiting[int]:
    inst = thread.task.inst
    _check_may_leave(inst, name)
    e = _get(inst, i, end_t, name)
    _check_end(e, ty.payload, i, name)
    trap_if(e.state != CopyState.COPYING, f"`{name}`: no copy in progress to cancel")
    trap_if(e.has_sync_waiter, f"`{name}`: a synchronous copy waits on the end")
    trap_if(
        e.in_waitable_set() and not async_,
        f"`{name}`: a synchronous cancel of a waitable in a waitable set",
    )
    e.state = CopyState.CANCELLING_COPY
    if not e.has_pending_event():
        e.shared.cancel()
        if not e.has_pending_event():
            if not async_:
                return then(e.wait_for_pending_event_w(thread),
                            partial(_cancel_event, e, code, i))
            else:
                return BLOCKED
    return _cancel_event(e, code, i, None)


def _cancel_event(e: CopyEnd, code: EventCode, i: int, _: None) -> int:
    got, index, payload = e.get_pending_event()
    assert not e.copying() and got == code and index == i, "the copy's own event"
    return payload


#: ``{stream,future}.cancel-{read,write}(thread, type, async_, i)``: a ``CopyResult`` with the
#: progress made, or ``BLOCKED``.
stream_cancel_read_w = partial(
    _cancel_copy, ReadableStreamEnd, EventCode.STREAM_READ, "stream.cancel-read"
)
stream_cancel_write_w = partial(
    _cancel_copy, WritableStreamEnd, EventCode.STREAM_WRITE, "stream.cancel-write"
)
future_cancel_read_w = partial(
    _cancel_copy, ReadableFutureEnd, EventCode.FUTURE_READ, "future.cancel-read"
)
future_cancel_write_w = partial(
    _cancel_copy, WritableFutureEnd, EventCode.FUTURE_WRITE, "future.cancel-write"
)
stream_cancel_read = _finished(stream_cancel_read_w)
stream_cancel_write = _finished(stream_cancel_write_w)
future_cancel_read = _finished(future_cancel_read_w)
future_cancel_write = _finished(future_cancel_write_w)


def _drop(
    end_t: type[CopyEnd], name: str, inst: AsyncInstanceState, ty: t.StreamType | t.FutureType,
    i: int,
) -> None:
    _check_may_leave(inst, name)
    e = _get(inst, i, end_t, name)
    _check_end(e, ty.payload, i, name)
    e.drop()
    inst.handles.remove(i)


#: ``{stream,future}.drop-{readable,writable}(inst, type, i)``.
stream_drop_readable = partial(_drop, ReadableStreamEnd, "stream.drop-readable")
stream_drop_writable = partial(_drop, WritableStreamEnd, "stream.drop-writable")
future_drop_readable = partial(_drop, ReadableFutureEnd, "future.drop-readable")
future_drop_writable = partial(_drop, WritableFutureEnd, "future.drop-writable")


def _lift_async_value(
    end_t: type[ReadableStreamEnd] | type[ReadableFutureEnd],
    inst: AsyncInstanceState,
    i: int,
    vt: t.Type | None,
) -> SharedStream | SharedFuture:
    name = f"lift {end_t.what}"
    e = _get(inst, i, end_t, name)
    _check_end(e, vt, i, name)
    if e.state != CopyState.IDLE:
        trap(f"`{name}`: handle index {i} is {e.state.name.lower()}, expected idle")
    trap_if(e.in_waitable_set(), f"`{name}`: a waitable in a waitable set cannot move")
    inst.handles.remove(i)
    return e.shared


def lift_stream(inst: AsyncInstanceState, i: int, vt: t.Type | None) -> SharedStream:
    """Lifting a ``stream<vt>`` moves its readable end out of the table."""
    shared = _lift_async_value(ReadableStreamEnd, inst, i, vt)
    assert isinstance(shared, SharedStream), "a stream end shares a stream"
    return shared


def lift_future(inst: AsyncInstanceState, i: int, vt: t.Type | None) -> SharedFuture:
    shared = _lift_async_value(ReadableFutureEnd, inst, i, vt)
    assert isinstance(shared, SharedFuture), "a future end shares a future"
    return shared


def lower_stream(inst: AsyncInstanceState, shared: SharedStream) -> int:
    """Lowering a stream gives the receiver a new readable end."""
    return inst.handles.add(ReadableStreamEnd(shared))


def lower_future(inst: AsyncInstanceState, shared: SharedFuture) -> int:
    return inst.handles.add(ReadableFutureEnd(shared))


# Error contexts


def error_context_new(
    inst: AsyncInstanceState, load_string: Callable[[int, int], str], ptr: int, units: int
) -> int:
    """``error-context.new``: ``load_string(ptr, tagged_code_units)`` lifts the message (the
    spec lets the host keep it or not; this keeps it)."""
    _check_may_leave(inst, "error-context.new")
    return inst.handles.add(ErrorContext(load_string(ptr, units)))


def error_context_debug_message(
    inst: AsyncInstanceState, store_string: Callable[[str, int], None], i: int, ptr: int
) -> None:
    """``error-context.debug-message``: ``store_string(message, ptr)`` lowers it."""
    _check_may_leave(inst, "error-context.debug-message")
    e = _get(inst, i, ErrorContext, "error-context.debug-message")
    store_string(e.debug_message, ptr)


def error_context_drop(inst: AsyncInstanceState, i: int) -> None:
    _check_may_leave(inst, "error-context.drop")
    _remove(inst, i, ErrorContext, "error-context.drop")
