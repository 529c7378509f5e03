"""Resource handles as the host holds them: the runtime's half of CanonicalABI.md's
``lift_own``/``lift_borrow``/``lower_own``/``lower_borrow``.

:mod:`wasm_component._abi.handles` moves handles in and out of a guest's table and yields the
``rep``; this module turns that ``rep`` into the host's value and back. A handle of a
host-defined type lifts to a :class:`~wasm_component.resources.Resource`, one of a
guest-defined type to a :class:`~wasm_component.resources.ResourceAny` (an owned one's ``drop``
runs the guest's destructor, :func:`~._runtime.calls.host_drop_call`). Lowering takes the
``rep`` back out: an owned handle moves (using it again is a ``ValueError``), a borrowed one is
only read.

One function per shape (own or borrow, lift or lower), each with its common case inline; every
instance of a store shares the store's :class:`HostHandles` (``ComponentInstanceState`` binds
its four methods).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import types as t
from .._abi.layout import DEFAULT_HOSTCALL_FUEL
from ..resources import Resource, ResourceAny
from .calls import host_drop_call, owned_handle_class

if TYPE_CHECKING:
    from ..engine import Store

__all__ = ["HostHandles", "lower_borrow", "lower_own"]

_lifted = Resource._lifted
_new_object = object.__new__


class HostHandles:
    """The host-side forms of one store's handles (the store keeps it; no cycle through it)."""

    __slots__ = ("_owned", "_owner", "caller", "handle_limit", "hostcall_fuel",
                 "lower_borrow", "lower_own")

    def __init__(self, store: Store) -> None:
        self._owner = weakref.ref(store)
        #: the component instance whose call to a host function is running (``None``: none)
        self.caller: object = None
        #: per resource type, the class of its owned handles (``owned_handle_class``) and
        #: their host-side drop call (``host_drop_call``)
        self._owned: dict[t.ResourceType, tuple[type[ResourceAny],
                                                Callable[[Any, int], bool] | None]] = {}
        #: guest handles per component instance made from now on (``Store.set_handle_limit``)
        self.handle_limit: int | None = None
        #: bytes of lists and strings one lift may build (``Store.set_hostcall_fuel``), read by
        #: every lift when it starts, so a change applies to the next one
        self.hostcall_fuel = DEFAULT_HOSTCALL_FUEL
        self.lower_own = lower_own  # (the functions themselves: no frame in between)
        self.lower_borrow = lower_borrow

    def lift_own(self, rt: t.ResourceType, rep: int) -> Any:
        """An owned handle moved out to the host: ``Resource`` or an owned ``ResourceAny``."""
        if rt.kind == "host":
            return _lifted(rep, rt, True)
        made = self._owned.get(rt)
        if made is None:
            made = self.owned_class(rt)
        cls, drop = made
        return cls(rt, rep, True, drop, self._owner)

    def owned_class(self, rt: t.ResourceType
                    ) -> tuple[type[ResourceAny], Callable[[Any, int], bool] | None]:
        """The class of the owned ``rt`` handles (:func:`.calls.owned_handle_class`) and
        their host-side drop call (:func:`.calls.host_drop_call`), made once."""
        made = self._owned.get(rt)
        if made is None:
            store = self._owner()
            assert store is not None, "handles are lifted while their store is alive"
            drop = host_drop_call(store, rt, self)
            made = self._owned[rt] = (owned_handle_class(store, rt, self, ResourceAny), drop)
        return made

    def drop_call(self, rt: t.ResourceType) -> Callable[[Any, int], bool] | None:
        """The host-side drop call of an owned ``rt`` handle (the one :meth:`owned_class`
        keeps)."""
        return self.owned_class(rt)[1]

    def clear(self) -> None:
        """Let go of the drop calls (the store is being freed). An owned handle's class is in
        a reference cycle (as every class is), so it loses its own ``drop`` (which refers to
        the core store) rather than wait for the cyclic GC: a handle still held drops as
        ``ResourceAny`` does, refused now its store is gone."""
        for cls, _ in self._owned.values():
            if cls is not ResourceAny:
                del cls.drop, cls._keep  # type: ignore[attr-defined]
        self._owned.clear()

    def lift_borrow(self, rt: t.ResourceType, rep: int) -> Any:
        """A handle lent to the host for one call."""
        if rt.kind == "host":
            # ``Resource._lifted(rep, rt, False)`` inline (one frame per borrow fewer: the
            # hot path of every method call into a host resource)
            r = _new_object(Resource)
            r._rep = rep
            r._rt = rt
            r._owned = False
            r._moved = False
            r._origin = None
            return r
        return ResourceAny(rt, rep, False, None, self._owner)


def _check_type(rt: t.ResourceType, value: Resource[Any] | ResourceAny) -> None:
    if value.resource_type != rt:
        raise TypeError(f"expected a handle to `{rt.name}`, got one to "
                        f"`{value.resource_type.name}`")


def _not_a_handle(rt: t.ResourceType, value: Any) -> TypeError:
    return TypeError(f"expected a Resource or ResourceAny for `{rt.name}`, got "
                     f"{type(value).__name__}")


def lower_own(rt: t.ResourceType, value: Any) -> int:
    """The rep of host-side handle ``value`` passed where an ``own<rt>`` is expected; the
    handle moves (it is consumed: passing it again raises ``ValueError``)."""
    if isinstance(value, Resource):
        if value._rt is not rt:
            _check_type(rt, value)
        if not value._owned:
            raise TypeError(f"expected an owned `{rt.name}` handle, got a borrowed one")
        src = value._origin or value
        if src._moved:
            raise ValueError(f"the owned `{rt.name}` handle (rep {value._rep}) was already "
                             "passed to a guest, which owns it now")
        src._moved = True
        return value._rep
    if isinstance(value, ResourceAny):
        _check_type(rt, value)
        if not value._owned:
            raise TypeError(f"expected an owned `{rt.name}` handle, got a borrowed one")
        if value._dropped:
            raise ValueError(f"the `{rt.name}` handle was already dropped or moved")
        return value._take()
    raise _not_a_handle(rt, value)


def lower_borrow(rt: t.ResourceType, value: Any) -> int:
    """The rep of host-side handle ``value`` lent where a ``borrow<rt>`` is expected."""
    if isinstance(value, Resource):
        if value._rt is not rt:
            _check_type(rt, value)
        return value._rep
    if isinstance(value, ResourceAny):
        _check_type(rt, value)
        if value._dropped:
            raise ValueError(f"the `{rt.name}` handle was already dropped or moved")
        return value._rep
    raise _not_a_handle(rt, value)
