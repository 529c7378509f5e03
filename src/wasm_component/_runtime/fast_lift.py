"""The host's ``call_async`` of a ``callback``-lifted export, its common case in one generated
frame per function type.

The general path (``tasks.call_async`` -> ``AsyncLift.__call__`` -> ``_thread_func`` ->
``_body`` ...) runs the spec's ``canon_lift`` for every case: backpressure, the exclusive lock,
fibers, callbacks that ``WAIT`` or ``YIELD``, cancellation. Most calls are none of that: the
task enters at once, the core function calls ``task.return`` and answers ``EXIT`` in its first
run. For a function lifted ``async`` with a ``callback``, without ``borrow`` parameters (one
shared context), in a store without fibers, :func:`make_fast_call_async` generates a coroutine
function doing exactly what the general path does for that case (the same objects, the same
checks in the same order: enter the instance, the task and its implicit thread registered and
holding the lock, the arguments lowered, the core call inline as ``core.InlineCall`` says, the
thread's exit), and nothing else.

It leaves to the general path the moment anything else holds:

- before entering (an instance of the entering set trapped earlier or is on the stack, there
  is backpressure, the lock is held, tasks wait to enter): the whole call is the general one;
- after the first run (the callback code is not ``EXIT``): the general ``_after_callback``
  goes on with the same task and thread (parking it), and the general driver waits for it;
- arguments that do not lower, traps, a thread table that is full: as the general path does
  (the task abandoned without guest code; the instance poisoned; the same errors).

:func:`make_task_return` is the ``task.return`` built-in's common case the same way, one
generated frame per result type: the task of the current thread found, the checks that depend
only on the task's options, function type and resources made once (at the first return of a
task of that lift, by the general built-in) and then one identity test, the result lifted
inline, and ``Task.return_`` inline; anything else (no current task, another lift's task,
``may_leave`` cleared) is the general built-in's, which traps as the spec says. The generated
function is the host function's trampoline itself (``core.new_host_func_from``): the flat
arguments read from wasmtime's array in the same frame, no trampoline calling it.

The generated source is registered with ``linecache`` (tracebacks show it) and dumped with the
rest when ``WASM_COMPONENT_DUMP_CODEGEN`` is set (see ``_abi.codegen``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from .. import types as t
from .._abi.codegen import CodeGen
from .._abi.context import StringEncoding
from .._abi.func import lower_arg_names, pack_args_lines
from .._abi.layout import PtrType
from .._abi.lift import LiftGen
from .._abi.lower import LowerGen
from .core import HostEntry

__all__ = ["FAST_CALL_PARAMS", "TASK_RETURN_PARAMS", "make_fast_call_async", "make_task_return"]

#: The parameters of the generated factory: the lift and its scheduler, its instance and the
#: entering set (``states``: one name per instance, ``s0`` first, is the callee's), the shared
#: context, the task's static pieces, the pieces of ``core.InlineCall``, and the helpers of the
#: general path it leaves to.
FAST_CALL_PARAMS = (
    "lift, sched, inst, root, states, cx, static_ft, opts, resources, tbl, "
    "view, pack, unpack, call_, ctx, faddr, aaddr, n, trap_out, trap_flag, fail, keep, "
    "normalize, params, nparams, struct_error, "
    "general, drive, resolver, new, LiftTask, GuestThread, STARTED, RESOLVED, never_started, "
    "trap, partial, cancelled_error, name, Trap, delivered")


@lru_cache(maxsize=512)
def _factory(ft: t.FuncType, enc: StringEncoding, pt: PtrType, params_spilled: bool,
             nstates: int) -> Callable[..., Any]:
    lo = LowerGen(enc, pt)
    lo.indent = 4
    lo.emit("m = None")
    flat = lower_arg_names(lo, ft, pt, params_spilled)
    ss = [f"s{i}" for i in range(nstates)]
    # the entering set: not poisoned (one root), none on the stack
    enterable = " or ".join(f"not {s}.may_enter" for s in ss)
    result = "result[0]" if ft.result is not None else "None"
    g = CodeGen()
    g.label = str(ft)
    g.ns.update(lo.ns)
    g.lines = [
        f"    {', '.join(ss)}, = states",
        "    entered = sched.entered",
        "    array, free = tbl.array, tbl.free",
        "    async def call_async(args):",
        "        # the common case only: nothing to wait for before entering (else the general",
        "        # path, which waits or traps as the spec says)",
        f"        if (root.poisoned or {enterable} or inst.backpressure > 0",
        "                or inst.exclusive_thread is not None or inst.num_waiting_to_enter > 0):",
        "            return await general(lift, args)",
        *(f"        {s}.may_enter = False" for s in ss),
        "        entered.extend(states)" if nstates > 1 else "        entered.append(s0)",
        "        # the task (``LiftTask.__init__``, inline), started",
        "        task = new(LiftTask)",
        "        task.inst = inst",
        "        task.ft = static_ft",
        "        task.opts = opts",
        "        task.num_borrows = 0",
        "        task.resolved = False",
        "        task.host_lenders = None",
        "        task.on_start = never_started",
        "        box = []",
        "        task.on_resolve = box.append",
        "        task.state = STARTED",
        "        task._exclusive = True",
        "        task.resources = resources",
        "        # its implicit thread (``GuestThread.__init__``, inline)",
        "        thread = new(GuestThread)",
        "        thread.task = task",
        "        thread.scheduler = sched",
        "        thread.storage = [0, 0]",
        "        thread.cancellable = False",
        "        thread.ready_func = None",
        "        thread.cont = None",
        "        thread.parks = 0",
        "        thread.wset = None",
        "        thread.resume_with = None",
        "        task.implicit_thread = thread",
        "        task.threads = [thread]",
        "        prev = sched.current",
        "        sched.current = thread",
        "        inst.exclusive_thread = thread  # (the lock: a callback lift's)",
        "        bad = None",
        "        packed = 0",
        "        try:",
        "            if free:  # (``tbl.add(thread)``, inline)",
        "                i = free.pop()",
        "                array[i] = thread",
        "            else:",
        "                i = tbl.add(thread)",
        "            thread.index = i",
        "            where = ''",
        "            try:",
        *lo.lines,
        "            except (TypeError, ValueError, OverflowError) as e:",
        "                # the host's fault: no guest code ran (the task is undone, no poison)",
        "                lift._abandon(task, thread)",
        "                bad = type(e)(f\"`{name}`: {e}\")",
        "            else:",
        *pack_args_lines(flat, 4),
        "                err = call_(ctx, faddr, aaddr, n, trap_out)",
        "                if err or trap_flag.value:",
        "                    raise fail(err)",
        "                packed = unpack(view)[0]",
        "                if packed:",
        "                    # not EXIT at once: the general path goes on with this task",
        "                    wait = []",
        "                    task.on_resolve = resolver(box, wait)",
        "                    lift._after_callback(task, thread, packed)",
        "                else:",
        "                    # ``task.exit_implicit_thread()`` of the task's only thread, inline",
        "                    threads = task.threads",
        "                    if len(threads) == 1 and threads[0] is thread:",
        "                        threads.clear()",
        "                        if task.state is not RESOLVED:",
        "                            trap('task exited without returning a value (`task.return`) '",
        "                                 'or cancelling')",
        "                        if array[i] is thread:",
        "                            array[i] = None",
        "                            free.append(i)",
        "                        else:",
        "                            tbl.remove(i)",
        "                        thread.index = None",
        "                        inst.exclusive_thread = None",
        "                    else:",
        "                        task.exit_implicit_thread()",
        "        except BaseException as e:",
        "            inst.poison()",
        "            if not (isinstance(e, Trap) and delivered(e, box)):",
        "                raise",
        "            packed = 0  # (the value was delivered before the deadlock: it stands)",
        "        finally:",
        "            sched.current = prev",
        *((f"            del entered[-{nstates}:]",) if nstates > 1 else
          ("            del entered[-1]",)),
        *(f"            {s}.may_enter = True" for s in ss),
        "        if bad is not None:",
        "            raise bad from None",
        "        if packed:",
        "            return await drive(lift, box, wait, partial(lift._on_cancel, task))",
        "        task.implicit_thread = None  # (the task and its thread: no cycle left behind)",
        "        if sched.host_done or sched._woken_q or sched.candidates:  # (``may_progress``)",
        "            sched.notify()  # (the store's other ready work: another driver or the loop)",
        "        result = box[0]",
        "        if result is None:",
        "            raise cancelled_error()",
        f"        return {result}",
        "    call_async.keep = keep  # (what the inline call's pointers point into)",
        "    return call_async",
    ]
    return g.finish("make_call_async", FAST_CALL_PARAMS, [])


def make_fast_call_async(ft: t.FuncType, enc: StringEncoding, pt: PtrType,
                         params_spilled: bool, nstates: int, **pieces: Any
                         ) -> Callable[..., Any]:
    """The fast ``call_async(args)`` coroutine function of one lift (see the module
    docstring): the factory generated for ``ft`` (and the size of the entering set), given
    the lift's pieces (:data:`FAST_CALL_PARAMS`, by name)."""
    make = _factory(ft, enc, pt, params_spilled, nstates)
    fn: Callable[..., Any] = make(**pieces)
    return fn


#: The parameters of the generated ``task.return`` factory: the store's scheduler, the
#: built-in's own context (its options, the instance, its resources), ``ok`` (the one
#: ``(options, function type, resources)`` of tasks known to pass the static checks, or
#: ``None``s), the general built-in, the generated ``lift_params_host`` (spilled results), the
#: trap helper and the resolved state, and the pieces of ``core.HostEntry`` (the function is
#: the host function's trampoline itself: its flat arguments read from wasmtime's array).
TASK_RETURN_PARAMS = "sched, cx, ok, general, lift, trap, RESOLVED, unpack, views, view_of, raised"


@lru_cache(maxsize=512)
def _task_return_factory(result: t.Type | None, enc: StringEncoding, pt: PtrType, nflat: int,
                         spilled: bool) -> Callable[..., Any]:
    names = [f"a{i}" for i in range(nflat)]
    args = ", ".join(names)
    g = LiftGen(enc, pt, True)
    g.label = "task.return" if result is None else f"task.return {result.wit()}"
    g.indent = 3
    if result is None:
        value = "[]"
    elif spilled:  # (one pointer to the result: the lifted function, called)
        value = f"lift(cx, ({args},))"
    else:
        value = f"[{g.flat(result, names)}]"
    lifted = g.lines
    pro = ([g.view_line()] if g.uses_memory else []) + g.fuel_prologue()
    g.lines = [
        "    def task_return(env, caller, args_, nargs):",
        "        try:",
        "            view = views.get(args_)",
        "            if view is None:",
        "                view = view_of(args_)",
        *([f"            {args}, = unpack(view)"] if nflat else []),
        "            thread = sched.current",
        "            if thread is None:",
        f"                general({args})",
        "                return 0",
        "            task = thread.task",
        "            # the checks of the task's options, type and resources: done once for these",
        "            if (task.opts is not ok[0] or task.ft is not ok[1]",
        "                    or task.resources is not ok[2] or not task.inst.may_leave):",
        f"                general({args})",
        "                return 0",
        *(f"            {line}" for line in pro),
        *lifted,
        f"            value = {value}",
        "            # ``Task.return_``, inline",
        "            if task.state is RESOLVED:",
        "                trap('task already returned or cancelled')",
        "            if task.num_borrows > 0:",
        "                trap('borrowed handle not dropped before the task returned')",
        "            task.on_resolve(value)",
        "            task.state = RESOLVED",
        "            task.resolved = True",
        "            return 0",
        "        except BaseException as e:",
        "            return raised(e)",
        "    return task_return",
    ]
    return CodeGen.finish(g, "make_task_return", TASK_RETURN_PARAMS, [])


def make_task_return(result: t.Type | None, enc: StringEncoding, pt: PtrType, nflat: int,
                     spilled: bool, entry: HostEntry, **pieces: Any) -> Callable[..., int]:
    """The ``task.return`` built-in's fast form (see the module docstring) for a result of
    type ``result`` given as ``nflat`` flat values (``spilled``: one pointer to it): the
    trampoline of its host function (``entry``: see ``core.new_host_func_from``), bound to
    ``pieces`` (the rest of :data:`TASK_RETURN_PARAMS`, by name)."""
    make = _task_return_factory(result, enc, pt, nflat, spilled)
    fn: Callable[..., int] = make(**pieces, **entry._asdict())
    return fn
