"""The canon built-ins as one typed table: one :class:`Trampoline` per ``canon`` form.

As wasmtime's ``Trampoline`` enum (``environ/component/dfg.rs``), every built-in core function
a component can define is named here once; the inliner turns a ``canon`` definition into an
``FBuiltin`` step carrying its member, and the runtime looks its maker up in one table keyed by
it (``_runtime.calls.BUILTINS``), checked complete by a test. Nothing dispatches on the spelling
of a built-in's name.
"""

from __future__ import annotations

import enum

__all__ = ["Trampoline"]


class Trampoline(enum.Enum):
    """A ``canon`` built-in (its value the spec's name, as ``ast.Canon.kind`` spells it)."""

    RESOURCE_NEW = "resource.new"
    RESOURCE_DROP = "resource.drop"
    RESOURCE_REP = "resource.rep"
    BACKPRESSURE_SET = "backpressure.set"
    BACKPRESSURE_INC = "backpressure.inc"
    BACKPRESSURE_DEC = "backpressure.dec"
    TASK_RETURN = "task.return"
    TASK_CANCEL = "task.cancel"
    CONTEXT_GET = "context.get"
    CONTEXT_SET = "context.set"
    SUBTASK_DROP = "subtask.drop"
    SUBTASK_CANCEL = "subtask.cancel"
    STREAM_NEW = "stream.new"
    STREAM_READ = "stream.read"
    STREAM_WRITE = "stream.write"
    STREAM_CANCEL_READ = "stream.cancel-read"
    STREAM_CANCEL_WRITE = "stream.cancel-write"
    STREAM_DROP_READABLE = "stream.drop-readable"
    STREAM_DROP_WRITABLE = "stream.drop-writable"
    FUTURE_NEW = "future.new"
    FUTURE_READ = "future.read"
    FUTURE_WRITE = "future.write"
    FUTURE_CANCEL_READ = "future.cancel-read"
    FUTURE_CANCEL_WRITE = "future.cancel-write"
    FUTURE_DROP_READABLE = "future.drop-readable"
    FUTURE_DROP_WRITABLE = "future.drop-writable"
    ERROR_CONTEXT_NEW = "error-context.new"
    ERROR_CONTEXT_DEBUG_MESSAGE = "error-context.debug-message"
    ERROR_CONTEXT_DROP = "error-context.drop"
    WAITABLE_SET_NEW = "waitable-set.new"
    WAITABLE_SET_WAIT = "waitable-set.wait"
    WAITABLE_SET_POLL = "waitable-set.poll"
    WAITABLE_SET_DROP = "waitable-set.drop"
    WAITABLE_JOIN = "waitable.join"
    THREAD_INDEX = "thread.index"
    THREAD_NEW_INDIRECT = "thread.new-indirect"
    THREAD_RESUME_LATER = "thread.resume-later"
    THREAD_SUSPEND = "thread.suspend"
    THREAD_YIELD = "thread.yield"
    THREAD_SUSPEND_THEN_RESUME = "thread.suspend-then-resume"
    THREAD_YIELD_THEN_RESUME = "thread.yield-then-resume"
    THREAD_SUSPEND_THEN_PROMOTE = "thread.suspend-then-promote"
    THREAD_YIELD_THEN_PROMOTE = "thread.yield-then-promote"
    THREAD_SPAWN_REF = "thread.spawn-ref"
    THREAD_SPAWN_INDIRECT = "thread.spawn-indirect"
    THREAD_AVAILABLE_PARALLELISM = "thread.available-parallelism"

    @property
    def sync(self) -> bool:
        """Whether the sync runtime implements it (the rest wait for the async runtime)."""
        return self in _SYNC

    @property
    def local(self) -> bool:
        """Whether its code only touches the calling instance (so calling it never enters
        another: ``resource.drop`` may run a destructor elsewhere)."""
        return self in _LOCAL

    @property
    def checks_may_leave(self) -> bool:
        """Whether the spec's definition begins with ``trap_if(not inst.may_leave)``."""
        return self not in _NO_LEAVE_CHECK


_SYNC = frozenset({Trampoline.RESOURCE_NEW, Trampoline.RESOURCE_DROP, Trampoline.RESOURCE_REP})
_LOCAL = frozenset({Trampoline.RESOURCE_NEW, Trampoline.RESOURCE_REP})
_NO_LEAVE_CHECK = frozenset({
    Trampoline.CONTEXT_GET, Trampoline.CONTEXT_SET, Trampoline.BACKPRESSURE_SET,
    Trampoline.BACKPRESSURE_INC, Trampoline.BACKPRESSURE_DEC,
    Trampoline.THREAD_AVAILABLE_PARALLELISM,
})
