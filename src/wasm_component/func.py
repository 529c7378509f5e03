"""``Func`` and ``TypedFunc``: component functions as the host calls them.

``Func.__call__(store, *args)`` takes and returns plain Python values (see
:mod:`wasm_component.values`); ``Func.call(store, params, results)`` is the ``Val`` form that
mirrors wasmtime. Argument checking and conversion are specialised per function type once, when
the function is created; post-return runs automatically after each call.

Example::

    add = instance.get_func(store, "add")
    assert add(store, 1, 2) == 3
    typed = instance.get_typed_func(store, "add", Callable[[int, int], int])
    assert typed(store, 1, 2) == 3          # mypy: (Store, int, int) -> int
    typed = instance.get_typed_func(store, "add", (types.U32, types.U32), types.U32)
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Self, TypeVar

from . import types as t
from ._runtime.items import RFunc
from .errors import LinkError, NotSupported
from .values import Val

if TYPE_CHECKING:
    from .engine import Store

__all__ = ["Func", "TypedFunc"]

P = ParamSpec("P")
R = TypeVar("R")


class Func:
    """A component function exported by an instance. Not constructed by users."""

    __slots__ = ("_acall", "_call", "_enter", "_f", "_leave", "_lock", "_store", "name")

    def __init__(self, f: RFunc, store: Store, name: str) -> None:
        self._f = f
        self._store = store
        self._lock = store._lock  # one thread in the store at a time (see ``engine``)
        # (the lock's own methods: explicit calls cost less than ``with`` on the hot path)
        self._enter, self._leave = self._lock.acquire, self._lock.release
        self.name = name
        self._call: Callable[[Sequence[Any]], Any] | None = None  # made at the first call
        #: ``call_async``'s ``acall(args) -> coroutine``, made at its first call
        self._acall: Callable[[Sequence[Any]], Coroutine[Any, Any, Any]] | None = None

    def _host_call(self) -> Callable[[Sequence[Any]], Any]:
        call = self._call
        if call is None:
            with self._lock:  # building the call path touches the store's state too
                call = self._call = self._f.host_call_in(self._store)
        return call

    @property
    def type(self) -> t.FuncType:
        return self._f.ty

    def params(self) -> list[tuple[str, t.Type]]:
        """Parameter names and types."""
        return list(self._f.ty.params)

    def results(self) -> list[t.Type]:
        """Result types (zero or one)."""
        r = self._f.ty.result
        return [] if r is None else [r]

    def _check_store(self, store: Store) -> None:
        if store is not self._store:
            from . import engine

            if not isinstance(store, engine.Store):
                raise TypeError(f"`{self.name}`: expected a Store, got {type(store).__name__}")
            raise ValueError(f"`{self.name}`: the function belongs to a different store")

    def __call__(self, store: Store, *args: Any) -> Any:
        """Call with Python values; returns the result value (``None`` when there is none)."""
        if store is not self._store:
            self._check_store(store)
        call = self._call
        if call is None:
            call = self._host_call()
        self._enter()
        try:
            return call(args)
        finally:
            self._leave()

    def call_async(self, store: Store, *args: Any) -> Coroutine[Any, Any, Any]:
        """Call as a component-model async task on the running asyncio loop: ``await
        f.call_async(store, *args)`` gives the result value. Several calls into one instance
        run concurrently as asyncio tasks (each a guest task); cancelling the awaiting task
        requests the guest task's cancellation and raises ``CancelledError`` once it resolved.
        A function of a store without async features is called as :meth:`__call__` does."""
        if store is not self._store:
            self._check_store(store)
        acall = self._acall
        if acall is None:
            acall = self._async_call()
        return acall(args)

    def _async_call(self) -> Callable[[Sequence[Any]], Coroutine[Any, Any, Any]]:
        call = self._host_call()
        lift = getattr(self._f, "_async_lift", None)
        if lift is None:  # (a store without async features)
            acall: Callable[[Sequence[Any]], Coroutine[Any, Any, Any]] = partial(
                _now, self._lock, call)
        elif lift.host:
            acall = lift.host_call_async
        else:  # (a lift made for another component's calls: the general path)
            from ._runtime.tasks import call_async

            acall = partial(call_async, lift)
        self._acall = acall
        return acall

    def call(self, store: Store, params: Sequence[Val], results: list[Val]) -> None:
        """wasmtime's form: ``params`` as :class:`Val`s; ``results`` is filled in place."""
        self._check_store(store)
        ty = self._f.ty
        if len(params) != len(ty.params):
            raise TypeError(
                f"`{self.name}`: expected {len(ty.params)} parameters, got {len(params)}"
            )
        nres = 0 if ty.result is None else 1
        if len(results) != nres:
            raise TypeError(f"`{self.name}`: expected room for {nres} results, got {len(results)}")
        args = []
        for (pname, pty), v in zip(ty.params, params, strict=True):
            if not isinstance(v, Val):
                raise TypeError(f"`{self.name}`: parameter `{pname}`: expected Val, got "
                                f"{type(v).__name__}")
            if v.type != pty:
                raise TypeError(f"`{self.name}`: parameter `{pname}`: expected {pty.wit()}, got "
                                f"{v.type.wit()}")
            args.append(v.value)
        with self._lock:
            out = self._host_call()(args)
        if ty.result is not None:
            results[0] = Val(ty.result, out)

    def post_return(self, store: Store) -> None:
        """Kept for wasmtime parity: post-return already ran at the end of the call."""

    def typed(self, params: Sequence[t.Type], result: t.Type | None) -> TypedFunc[..., Any]:
        """This function checked against component types (``LinkError`` on a mismatch)."""
        return TypedFunc(self, tuple(params), result)

    def __repr__(self) -> str:
        return f"<Func {self.name}: {self._f.ty}>"


async def _now(lock: Any, call: Callable[[Sequence[Any]], Any], args: Sequence[Any]) -> Any:
    with lock:
        return call(args)


class TypedFunc(Generic[P, R]):
    """A :class:`Func` whose type was checked once against the caller's: from Python
    annotations, ``TypedFunc[[int, int], int]`` (so mypy checks each call's arguments and
    knows its result type), or from component types. Calls cost what ``Func.__call__`` does;
    values of the user's own classes (dataclasses, enums, flags: see :mod:`.typed`) are lifted
    and lowered by code generated for this function once.

    Example::

        add = instance.get_typed_func(store, "add", Callable[[int, int], int])
        total: int = add(store, 40, 2)
    """

    __slots__ = ("_call", "_enter", "_leave", "_lock", "func", "type")

    def __init__(self, func: Func, params: Sequence[t.Type], result: t.Type | None) -> None:
        ty = func.type
        got = tuple(p for _, p in ty.params)
        if got != tuple(params) or ty.result != result:
            want = t.FuncType(tuple((f"p{i}", p) for i, p in enumerate(params)), result)
            raise LinkError(f"`{func.name}`: expected type {want}, got {ty}")
        self._setup(func, ty)

    def _setup(self, func: Func, mapped: t.FuncType) -> None:
        self.func = func
        #: the function type the calls are generated for (the export's, with the user's
        #: classes mapped in where the annotations name them)
        self.type = mapped
        self._call = func._host_call() if not _is_mapped_func(mapped) else _mapped_call(func,
                                                                                        mapped)
        self._lock = func._lock
        self._enter, self._leave = func._enter, func._leave

    @classmethod
    def _of(cls, func: Func, mapped: t.FuncType) -> Self:
        tf = object.__new__(cls)
        tf._setup(func, mapped)
        return tf

    if TYPE_CHECKING:

        def __call__(self, store: Store[Any], *args: P.args, **kwargs: P.kwargs) -> R: ...

    else:

        def __call__(self, store, *args):
            if store is not self.func._store:
                self.func._check_store(store)
            self._enter()
            try:
                return self._call(args)
            finally:
                self._leave()

    def __repr__(self) -> str:
        return f"<TypedFunc {self.func.name}: {self.func.type}>"


class _NamedTypedFunc(TypedFunc[P, R]):
    """A typed function made from a signature with parameter names: arguments may also be
    given by keyword (bound to positions, off the positional fast path)."""

    __slots__ = ("_names",)
    _names: tuple[str, ...]

    if not TYPE_CHECKING:

        def __call__(self, store, *args, **kwargs):
            if kwargs:
                args = self._bind(args, kwargs)
            if store is not self.func._store:
                self.func._check_store(store)
            with self._lock:
                return self._call(args)

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        names = self._names
        out = list(args)
        for name in names[len(args):]:
            if name not in kwargs:
                raise TypeError(f"`{self.func.name}`: missing argument `{name}`")
            out.append(kwargs.pop(name))
        if kwargs:
            raise TypeError(f"`{self.func.name}`: unexpected argument `{next(iter(kwargs))}`")
        return tuple(out)


def _is_mapped_func(ft: t.FuncType) -> bool:
    from ._abi.mapped import is_mapped

    return any(is_mapped(u) for _, u in ft.params) or (
        ft.result is not None and is_mapped(ft.result))


def _mapped_call(func: Func, mapped: t.FuncType) -> Callable[[Sequence[Any]], Any]:
    """The host call path of ``func`` lifting and lowering by ``mapped`` (its type with the
    user's classes in it)."""
    from ._runtime.calls import LiftedFunc

    rf = func._f
    if not isinstance(rf, LiftedFunc):  # (validation refuses re-exporting an imported func)
        raise NotSupported(f"`{func.name}`: a typed function with classes of yours over a "
                           f"{type(rf).__name__} (call it untyped)")
    with func._lock:
        return rf.host_call_as(mapped)
