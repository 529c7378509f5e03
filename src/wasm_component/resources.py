"""Resources as the host sees them: ``Resource`` (host-defined), ``ResourceAny`` (any resource,
typically guest-defined), and ``ResourceTable`` (where hosts keep the objects behind handles).

Resource types are generative (see :class:`~wasm_component.types.ResourceType`): a host resource
type is ``ResourceType.host(cls)``; each guest component instance defines its own types.

Example::

    >>> from wasm_component import ResourceTable, Resource
    >>> table = ResourceTable()
    >>> class File: ...
    >>> r = table.push(File())
    >>> isinstance(table.get(r), File), r.owned
    (True, True)
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .errors import ComponentError
from .types import ResourceType

if TYPE_CHECKING:
    from .engine import Store

__all__ = [
    "Full",
    "HasChildren",
    "NotPresent",
    "Resource",
    "ResourceAny",
    "ResourceTable",
    "ResourceTableError",
    "ResourceType",
    "WrongType",
]

T = TypeVar("T")
_new_object = object.__new__


class Resource(Generic[T]):
    """A handle to a host-defined resource: its type, its ``rep`` (the host's own key for the
    object, typically a :class:`ResourceTable` index) and whether it is owned or borrowed.

    Create owned handles with :meth:`new_own` (or :meth:`ResourceTable.push`). Passing an owned
    handle to a guest moves it there: the handle is consumed, and using it again (to pass it
    once more) raises ``ValueError`` -- else the guest could drop one resource twice, running
    the host destructor twice (and with a :class:`ResourceTable`, deleting whatever newer entry
    reused the index).
    """

    __slots__ = ("_moved", "_origin", "_owned", "_rep", "_rt")

    def __init__(self, rep: int, rt: ResourceType, owned: bool) -> None:
        # (``int`` and ``ResourceType`` by class: the common case is two identity tests)
        if (rep.__class__ is not int or not 0 <= rep < 2**32) and (
                not isinstance(rep, int) or isinstance(rep, bool) or not 0 <= rep < 2**32):
            raise ValueError(f"`Resource`: expected a u32 rep, got {rep!r}")
        if rt.__class__ is not ResourceType and not isinstance(rt, ResourceType):
            raise TypeError(f"`Resource`: expected a ResourceType, got {type(rt).__name__}")
        self._rep = rep
        self._rt = rt
        self._owned = owned
        self._moved = False
        self._origin: Resource[Any] | None = None  # the handle a retyped one stands for

    @staticmethod
    def _lifted(rep: int, rt: ResourceType, owned: bool) -> Resource[Any]:
        """The handle the runtime lifts for the host: ``__init__`` without its checks (``rep``
        is a u32 and ``rt`` a ``ResourceType`` there)."""
        r: Resource[Any] = _new_object(Resource)
        r._rep = rep
        r._rt = rt
        r._owned = owned
        r._moved = False
        r._origin = None
        return r

    @staticmethod
    def new_own(rep: int, rt: ResourceType | type) -> Resource[Any]:
        return Resource(rep, rt if isinstance(rt, ResourceType) else ResourceType.host(rt), True)

    @staticmethod
    def new_borrow(rep: int, rt: ResourceType | type) -> Resource[Any]:
        return Resource(rep, rt if isinstance(rt, ResourceType) else ResourceType.host(rt), False)

    @property
    def rep(self) -> int:
        return self._rep

    @property
    def owned(self) -> bool:
        return self._owned

    @property
    def resource_type(self) -> ResourceType:
        return self._rt

    @property
    def moved(self) -> bool:
        """Whether this owned handle was passed to a guest (and may not be used again)."""
        return (self._origin or self)._moved

    def retyped(self, rt: ResourceType) -> Resource[T]:
        """The same handle as a resource of type ``rt`` (bindings re-type host handles for an
        imported resource); moving either moves both. From then on a :class:`ResourceTable`
        entry of this handle's type also takes handles of ``rt`` (the guest hands them back)."""
        r: Resource[T] = Resource(self._rep, rt, self._owned)
        r._origin = self._origin or self
        if rt is not self._rt:
            aliases = _ALIASES.get(self._rt)
            if aliases is None:
                aliases = _ALIASES[self._rt] = set()
            aliases.add(rt)
        return r

    @staticmethod
    def try_from_resource_any(
        resource: ResourceAny, store: Store, rt: ResourceType | type | None = None
    ) -> Resource[Any]:
        """The :class:`Resource` a host-typed :class:`ResourceAny` stands for (wasmtime's
        ``Resource::try_from_resource_any``); an owned one is moved into the result. With
        ``rt`` (a ``ResourceType`` or host class) the type must be that one.
        ``TypeError`` for a guest-defined resource or another type.

        Example::

            r = Resource.try_from_resource_any(any_handle, store, File)
            table.get(r)
        """
        if not isinstance(resource, ResourceAny):
            raise TypeError(f"`Resource.try_from_resource_any`: expected a ResourceAny, got "
                            f"{type(resource).__name__} {resource!r}")
        return resource._into_resource(store, rt, "Resource.try_from_resource_any")

    def try_into_resource_any(self, store: Store) -> ResourceAny:
        """This handle as a :class:`ResourceAny` (wasmtime's ``Resource::try_into_resource_any``),
        for APIs that take any resource; an owned handle is moved into it, and dropping the
        result runs the destructor the linker defined for its type.

        Example::

            any_handle = table.push(File()).try_into_resource_any(store)
        """
        _check_store(store, None, "Resource.try_into_resource_any")
        src = self._origin or self
        if self._owned:
            if src._moved:
                raise ValueError(f"`Resource.try_into_resource_any`: the owned `{self._rt.name}` "
                                 f"handle (rep {self._rep}) was already moved")
            src._moved = True
        dtor = store._host_handles.drop_call(self._rt) if self._owned else None
        return ResourceAny(self._rt, self._rep, self._owned, dtor, weakref.ref(store))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Resource)
            and self._rep == other._rep
            and self._rt == other._rt
            and self._owned == other._owned
        )

    def __hash__(self) -> int:
        return hash((self._rep, self._owned))

    def __repr__(self) -> str:
        kind = "own" if self._owned else "borrow"
        return f"Resource({kind}<{self._rt.name}>, rep={self._rep})"


class ResourceAny:
    """A resource of any type held by the host, most often one a guest defined and returned.

    An owned one should be dropped with :meth:`drop` (running the guest's destructor) or passed
    back to a guest. Not constructed by users.
    """

    __slots__ = ("_dropped", "_dtor", "_owned", "_rep", "_rt", "_store", "num_lends")

    def __init__(self, rt: ResourceType, rep: int, owned: bool, dtor: Any = None,
                 store: weakref.ref[Store] | None = None) -> None:
        self._rt = rt
        self._rep = rep
        self._owned = owned
        self._dtor = dtor if owned else None  # dropping a borrow runs nothing
        self._dropped = False
        self._store = store
        #: how many calls in progress it is lent to (as a ``borrow`` argument)
        self.num_lends = 0

    @property
    def resource_type(self) -> ResourceType:
        return self._rt

    @property
    def owned(self) -> bool:
        return self._owned

    @property
    def rep(self) -> int:
        return self._rep

    def try_into_resource(self, store: Store, rt: ResourceType | type | None = None
                          ) -> Resource[Any]:
        """The :class:`Resource` this handle is, when its type is a host type (wasmtime's
        ``ResourceAny::try_into_resource``); see :meth:`Resource.try_from_resource_any`."""
        return self._into_resource(store, rt, "ResourceAny.try_into_resource")

    @staticmethod
    def try_from_resource(resource: Resource[Any], store: Store) -> ResourceAny:
        """``resource.try_into_resource_any(store)`` (wasmtime's
        ``ResourceAny::try_from_resource``)."""
        if not isinstance(resource, Resource):
            raise TypeError(f"`ResourceAny.try_from_resource`: expected a Resource, got "
                            f"{type(resource).__name__} {resource!r}")
        return resource.try_into_resource_any(store)

    def _into_resource(self, store: Store, rt: ResourceType | type | None, api: str
                       ) -> Resource[Any]:
        _check_store(store, self._store, api)
        if self._rt.kind != "host":
            raise TypeError(f"`{api}`: `{self._rt.name}` is a guest-defined resource, not a host "
                            "type")
        if rt is not None:
            want = rt if isinstance(rt, ResourceType) else ResourceType.host(rt)
            if want != self._rt:
                raise TypeError(f"`{api}`: expected a handle to `{want.name}`, got one to "
                                f"`{self._rt.name}`")
        if self._dropped:
            raise ValueError(f"`{api}`: resource {self._rt.name} was already dropped or moved")
        rep = self._take()
        return Resource(rep, self._rt, self._owned)

    def _take(self) -> int:
        """Give up ownership (passing the handle on); the rep to pass."""
        if self._dropped:
            raise ValueError(f"`ResourceAny`: resource {self._rt.name} was already dropped")
        if self._owned:
            if self.num_lends:
                raise ValueError(f"`ResourceAny`: the `{self._rt.name}` handle is lent to a call "
                                 "in progress and cannot be moved")
            self._dropped = True
        return self._rep

    def drop(self, store: Store) -> None:
        """Drop an owned handle, running the resource's destructor (no-op for a borrow).

        As the spec's ``resource.drop``: the handle must belong to ``store`` and not be lent to
        a call in progress. It counts as dropped once the destructor has run: one that traps
        leaves the handle as it was (and its instance poisoned, so trying again traps too).
        """
        dtor = self._dtor
        if dtor is None or self._dropped or self.num_lends:
            self._drop_checked(store)
            return
        if not dtor(store, self._rep):  # checks the store, enters it, runs the destructor
            self._check_drop_store(store)  # (False: another store, which this explains)
        self._dropped = True

    def _drop_checked(self, store: Store) -> None:
        """:meth:`drop` with each check made in the spec's order (store, dropped, lent)."""
        owner = self._store() if self._store is not None else None
        if store is not owner:
            self._check_drop_store(store)
        if self._dropped:
            raise ValueError(f"`ResourceAny.drop`: resource {self._rt.name} was already dropped")
        if self.num_lends:
            raise ValueError(f"`ResourceAny.drop`: the `{self._rt.name}` handle is lent to a call "
                             "in progress and cannot be dropped")
        dtor = self._dtor
        if dtor is not None and not dtor(store, self._rep):
            self._check_drop_store(store)
        self._dropped = True

    def _check_drop_store(self, store: object) -> None:
        """Raise the error saying why ``store`` is not this handle's."""
        from .engine import Store

        if not isinstance(store, Store):
            raise TypeError(f"`ResourceAny.drop`: expected a Store, got {type(store).__name__}")
        if self._store is not None:
            raise ValueError(f"`ResourceAny.drop`: the `{self._rt.name}` handle belongs to a "
                             "different store")

    def __enter__(self) -> ResourceAny:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._dropped:
            return
        store = self._store() if self._store is not None else None
        if store is None and self._store is not None:
            self._dropped = True  # its store is gone, and with it the instance to run a dtor in
        else:
            self.drop(store)  # type: ignore[arg-type]  # None: a handle made without a store

    def __repr__(self) -> str:
        kind = "own" if self._owned else "borrow"
        return f"ResourceAny({kind}<{self._rt.name}>, rep={self._rep})"


def _check_store(store: object, owner: weakref.ref[Store] | None, api: str) -> None:
    from .engine import Store

    if not isinstance(store, Store):
        raise TypeError(f"`{api}`: expected a Store, got {type(store).__name__}")
    if owner is not None and owner() is not store:
        raise ValueError(f"`{api}`: the handle belongs to a different store")


class ResourceTableError(ComponentError):
    """Base of the :class:`ResourceTable` errors."""


class Full(ResourceTableError):
    """The table has no room for another entry."""


class NotPresent(ResourceTableError):
    """No entry at that index (never pushed, or already deleted)."""


class WrongType(ResourceTableError):
    """The entry exists but holds a value of another type than asked for."""


class HasChildren(ResourceTableError):
    """The entry cannot be deleted while child entries still refer to it."""


class _Entry:
    __slots__ = ("children", "parent", "rt", "value")

    def __init__(self, value: Any, parent: int | None, rt: ResourceType) -> None:
        self.value = value
        self.parent = parent
        self.rt = rt
        self.children: set[int] = set()


#: ``ResourceType.host(object)``: an entry of this type takes any class-keyed host handle
_ANY_HOST = ResourceType.host(object)

#: host resource type -> the types its handles were re-typed as (:meth:`Resource.retyped`):
#: bindings re-type a handle of the host's class as the imported resource's marker type, and
#: the guest hands it back as one of those.
_ALIASES: dict[ResourceType, set[ResourceType]] = {}


def _holds(rt: ResourceType, e: _Entry) -> bool:
    """Whether a handle of ``rt`` may name entry ``e`` (pushed as type ``e.rt``, by default
    ``ResourceType.host(type(value))``): a handle of that type, of ``ResourceType.host(D)`` for
    a subclass ``D`` of its ``host(C)`` (so ``host(object)`` takes any class-keyed handle), or
    of a type its handles were re-typed as."""
    ert = e.rt
    if rt == ert:
        return True
    c, d = ert.key, rt.key
    if (ert.kind == rt.kind == "host" and isinstance(c, type) and isinstance(d, type)
            and issubclass(d, c)):
        return True
    aliases = _ALIASES.get(ert)
    return aliases is not None and rt in aliases


def _capacity(where: str, n: object) -> int:
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"`{where}`: expected an int for `max_capacity`, got "
                        f"{type(n).__name__} {n!r}")
    if not 0 <= n <= 2**32 - 1:
        raise ValueError(f"`{where}`: expected `max_capacity` in [0, 2**32 - 1], got {n}")
    return n


class ResourceTable:
    """Host objects behind resource handles: ``push`` an object, get an owned :class:`Resource`
    whose ``rep`` is its index; ``get``/``delete`` by that resource. Children (``push_child``)
    keep their parent from being deleted, as wasmtime's table does (e.g. a stream of a file).
    """

    __slots__ = ("_entries", "_free", "_max")

    def __init__(self, max_capacity: int = 2**32 - 1) -> None:
        self._entries: list[_Entry | None] = []
        self._free: list[int] = []
        self._max = _capacity("ResourceTable", max_capacity)

    def set_max_capacity(self, n: int) -> None:
        """At most ``n`` entries (pushing one more raises :class:`Full`)."""
        self._max = _capacity("ResourceTable.set_max_capacity", n)

    def _alloc(self, entry: _Entry) -> int:
        if self._free:
            i = self._free.pop()
            self._entries[i] = entry
            return i
        if len(self._entries) - len(self._free) >= self._max or len(self._entries) >= 2**32:
            raise Full("`ResourceTable.push`: the table is full")
        self._entries.append(entry)
        return len(self._entries) - 1

    def push(self, value: T, rt: ResourceType | None = None) -> Resource[T]:
        """Store ``value``; an owned handle of ``ResourceType.host(type(value))`` (or ``rt``).
        :meth:`get` and :meth:`delete` refuse handles of other types (:class:`WrongType`;
        ``rt=ResourceType.host(object)`` makes an entry that takes any host handle)."""
        self._check_rt("push", rt)
        rt = rt or ResourceType.host(type(value))
        i = self._alloc(_Entry(value, None, rt))
        return Resource(i, rt, True)

    @staticmethod
    def _check_rt(what: str, rt: ResourceType | None) -> None:
        if rt is not None and not isinstance(rt, ResourceType):
            raise TypeError(f"`ResourceTable.{what}`: expected a ResourceType for `rt`, got "
                            f"{type(rt).__name__} {rt!r}")

    def push_child(self, value: T, parent: Resource[Any], rt: ResourceType | None = None) -> Resource[T]:
        """Like :meth:`push`, recording ``parent`` (which can't be deleted before this child)."""
        if not isinstance(parent, Resource):
            raise TypeError(f"`ResourceTable.push_child`: expected a Resource for `parent`, got "
                            f"{type(parent).__name__} {parent!r}")
        pe = self._entry(parent, "push_child")
        self._check_rt("push_child", rt)
        rt = rt or ResourceType.host(type(value))
        i = self._alloc(_Entry(value, parent.rep, rt))
        pe.children.add(i)
        return Resource(i, rt, True)

    def _index(self, r: object, what: str) -> int:
        if isinstance(r, Resource):
            return r.rep
        if isinstance(r, int) and not isinstance(r, bool):
            return r
        raise TypeError(f"`ResourceTable.{what}`: expected a Resource or an int index, got "
                        f"{type(r).__name__} {r!r}")

    def _entry(self, r: Resource[Any] | int, what: str = "get") -> _Entry:
        i = self._index(r, what)
        e = self._entries[i] if 0 <= i < len(self._entries) else None
        if e is None:
            raise NotPresent(f"`ResourceTable.{what}`: no entry at index {i}")
        if isinstance(r, Resource) and not _holds(r._rt, e):
            raise WrongType(f"`ResourceTable.{what}`: expected a handle to "
                            f"`{e.rt.name}` for entry {i}, got a handle to "
                            f"`{r._rt.name}`")
        return e

    def get(self, r: Resource[T] | int, expected: type | None = None) -> T:
        """The object behind ``r`` (a handle of the type it was pushed as, or a bare index);
        :class:`WrongType` if it is not an ``expected``."""
        if r.__class__ is Resource:  # the common case inline: a handle of the entry's type
            try:
                e = self._entries[r._rep]  # (a handle's rep is a u32: never negative)
            except IndexError:
                e = None
            if e is not None:
                ert, rt = e.rt, r._rt
                # its own type, or an entry of `host(object)` and a class-keyed host handle
                if ert is rt or (ert is _ANY_HOST and rt.key.__class__ is type
                                 and rt.kind == "host"):
                    v = e.value
                    if expected is None or isinstance(v, expected):
                        return v  # type: ignore[no-any-return]
        v = self._entry(r, "get").value
        if expected is not None and not isinstance(v, expected):
            raise WrongType(
                f"`ResourceTable.get`: expected {expected.__name__}, got {type(v).__name__}"
            )
        return v  # type: ignore[no-any-return]

    def delete(self, r: Resource[T] | int) -> T:
        """Remove and return the object behind ``r`` (:class:`HasChildren` if it has any)."""
        e = self._entry(r, "delete")
        i = self._index(r, "delete")
        if e.children:
            raise HasChildren(f"`ResourceTable.delete`: entry {i} still has children")
        if e.parent is not None:
            pe = self._entries[e.parent]
            if pe is not None:
                pe.children.discard(i)
        self._entries[i] = None
        self._free.append(i)
        return e.value  # type: ignore[no-any-return]

    def children(self, r: Resource[Any] | int) -> list[int]:
        return sorted(self._entry(r, "children").children)

    def __len__(self) -> int:
        return sum(1 for e in self._entries if e is not None)

