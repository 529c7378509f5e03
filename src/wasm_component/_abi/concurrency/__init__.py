"""Component-model concurrency as pure state machines: tasks, waitables, streams and futures.

The async half of CanonicalABI.md without its stack switching, so that it can be tested (and
checked against the spec's Python reference) without wasmtime:

- :mod:`.scheduler`: :class:`Thread` and the :class:`Scheduler` protocol the runtime implements
  to park a guest stack (``block``/``wake``), and :class:`SyncDriver`, a stackless one for tests;
- :mod:`.task`: :class:`Task` (states, backpressure, the exclusive lock, cancellation) and
  :class:`AsyncInstanceState`;
- :mod:`.waitable`: :class:`Waitable`, :class:`WaitableSet`, :class:`EventCode`,
  :class:`Subtask`;
- :mod:`.copy`: guest and host buffers, :class:`CopyResult`, the shared state of streams and
  futures and their ends;
- :mod:`.builtins`: one function per async ``canon`` built-in.

Everything lives in the instance's one handle table (:class:`~..handles.Table`), beside its
resources, as the spec's single ``handles`` table: the indices guests see are shared.
"""

from .builtins import BLOCKED, CopyOptions
from .copy import (
    CopyEnd,
    CopyResult,
    CopyState,
    ElemCodec,
    GuestBuffer,
    ReadableBytesBuffer,
    ReadableFutureEnd,
    ReadableGuestBuffer,
    ReadableStreamEnd,
    ReadableValuesBuffer,
    SharedFuture,
    SharedStream,
    WritableBytesBuffer,
    WritableFutureEnd,
    WritableGuestBuffer,
    WritableStreamEnd,
    WritableValuesBuffer,
    copy_elements,
    elem_codec,
    none_or_number_type,
)
from .scheduler import Cancelled, Scheduler, SyncDriver, Thread
from .task import AsyncInstanceState, CallbackCode, Task, unpack_callback_result
from .waitable import Event, EventCode, Subtask, Waitable, WaitableSet

__all__ = [
    "BLOCKED",
    "AsyncInstanceState",
    "CallbackCode",
    "Cancelled",
    "CopyEnd",
    "CopyOptions",
    "CopyResult",
    "CopyState",
    "ElemCodec",
    "Event",
    "EventCode",
    "GuestBuffer",
    "ReadableBytesBuffer",
    "ReadableFutureEnd",
    "ReadableGuestBuffer",
    "ReadableStreamEnd",
    "ReadableValuesBuffer",
    "Scheduler",
    "SharedFuture",
    "SharedStream",
    "Subtask",
    "SyncDriver",
    "Task",
    "Thread",
    "Waitable",
    "WaitableSet",
    "WritableBytesBuffer",
    "WritableFutureEnd",
    "WritableGuestBuffer",
    "WritableStreamEnd",
    "WritableValuesBuffer",
    "copy_elements",
    "elem_codec",
    "none_or_number_type",
    "unpack_callback_result",
]
