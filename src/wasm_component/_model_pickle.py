"""The validated model of a component as bytes, for :meth:`Component.serialize`.

``Component.deserialize`` would otherwise decode and validate the whole component again (on
componentize-py's 18 MB component that is most of the time it takes). The model is a graph of
frozen dataclasses, pickled with rules of our own:

- each dataclass instance loads as an empty object (pickle's ``NEWOBJ``: no ``__init__``
  call) and its fields are stored per class, one tuple per field ("columns"); once the
  graph is built every slot is filled by ``map`` over the field's slot descriptor, a loop
  in C. A frozen dataclass's ``__init__`` (a Python frame and an ``object.__setattr__`` per
  field) was half the load of the 10,000 objects of a large component. Objects that must be
  whole while the graph is still being built (dict keys and set members, which are hashed,
  and what they hold) and classes with a ``__post_init__`` are rebuilt by calling their class
  with their field values instead, as is the :class:`ValidatedComponent` itself, whose
  ``derived`` (the plans and generated code later layers cache on it) is left out;
- equal plain values (``_VALUES``) are stored once;
- resource types are generative, and the validator numbers abstract ones from a process-wide
  counter. A number from the process that serialized means nothing in the one that loads, so
  every such number is replaced, once per distinct number, by a new one drawn from this
  process's counter while loading: two loads of the same bytes share no resource type, and a
  loaded type never equals one made by another component.

The bytes carry a schema (each class's field names) and a CRC-32 of everything after it,
seeded with the format and Python version; a model that does not match the running code, or
is damaged, is not used (the caller validates the binary instead). The check is against
damage, not tampering: as with the compiled core code next to it, load only bytes you made.
"""

from __future__ import annotations

import collections
import copyreg
import dataclasses
import gc
import io
import operator
import pickle
import sys
import types
import zlib
from collections.abc import Callable
from typing import Any

from . import types as t
from ._binary import ast
from ._validate import ValidatedComponent

__all__ = ["dump_model", "load_model"]

_FORMAT = b"wasm-component model 2"
_CHECK = 4  # bytes of CRC-32


def _stamp() -> bytes:
    return _FORMAT + f" py{sys.version_info[0]}.{sys.version_info[1]}".encode()


def _check(payload: bytes | memoryview) -> bytes:
    return zlib.crc32(payload, zlib.crc32(_stamp())).to_bytes(_CHECK, "little")


class _FreshKey:
    """Stands for one resource number while pickling; loads as a new number."""

    __slots__ = ("__weakref__",)


def _fresh_key() -> int:
    return next(t._resource_ids)


_FIELDS: dict[type, tuple[str, ...] | None] = {}
_SETTERS: dict[type, tuple[Callable[[Any, Any], None], ...] | None] = {}

#: Plain values that a component repeats thousands of times (one per core import, export and
#: function type): equal ones are stored once and shared when loaded.
_VALUES = frozenset({ast.Sort, ast.SortIdx, ast.CoreFuncRef, ast.CoreGlobalType,
                     ast.CoreFuncTypeDef, ast.CoreSubType, t.CoreGlobalType, t.CoreFuncType})
_same = operator.itemgetter(0)
_ATOMS = frozenset({str, int, bool, float, bytes, type(None)})  # (hold nothing: not walked)
_PLAIN = _ATOMS - {str}  # (and are stored as they are)


def _fields(cls: type) -> tuple[str, ...] | None:
    try:
        return _FIELDS[cls]
    except KeyError:
        fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else None
        # (a field its ``__init__`` does not take would be lost: such a class pickles as usual)
        names = (tuple(f.name for f in fields)
                 if fields is not None and all(f.init for f in fields) else None)
        _FIELDS[cls] = names
        return names


def _setters(cls: type) -> tuple[Callable[[Any, Any], None], ...] | None:
    """The ``__set__`` of each field's slot descriptor, in field order; ``None`` when ``cls``
    is not filled slot by slot (no slots, or a ``__post_init__`` that would not run)."""
    try:
        return _SETTERS[cls]
    except KeyError:
        names = _fields(cls)
        # (a model and a resource type are made by their class: see ``reducer_override``)
        slots: list[Any] = ([] if names is None or cls is ValidatedComponent
                            or cls is t.ResourceType or hasattr(cls, "__post_init__")
                            else [getattr(cls, n, None) for n in names])
        setters = (tuple(d.__set__ for d in slots)
                   if slots and all(isinstance(d, types.MemberDescriptorType) for d in slots)
                   else None)
        _SETTERS[cls] = setters
        return setters


def _children(x: Any) -> Any:
    """What ``x`` holds, as pickled (a model's ``derived`` is not)."""
    cls = type(x)
    if cls is tuple or cls is list or cls is frozenset or cls is set:
        return x
    if cls is dict:
        return (*x.keys(), *x.values())
    names = _fields(cls)
    if names is None:
        return ()
    return [getattr(x, n) for n in names if n != "derived" or cls is not ValidatedComponent]


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, protocol=5)
        self.keys: dict[int, _FreshKey] = {}
        self.schema: dict[type, tuple[str, ...]] = {}
        self.values: dict[object, object] = {}
        self.firsts: dict[int, object] = {}  # id of a ``_VALUES`` object -> ``values`` entry
        self.strings: dict[str, str] = {}
        self.filled: set[int] = set()  # ids of the objects loaded empty, filled afterwards

    def plan(self, root: object) -> tuple[tuple[type, tuple[Any, ...], tuple[Any, ...]], ...]:
        """Walk the graph under ``root``, choose the objects loaded empty and return their
        fields as columns: ``(class, its objects, one tuple per field)`` per class."""
        seen: set[int] = set()
        rows: dict[type, tuple[list[Any], list[list[Any]]]] = {}  # the filled: objects, fields
        hashed: list[Any] = []  # dict keys and set members (hashed while loading)
        stack: list[Any] = [root]
        while stack:
            x = stack.pop()
            if id(x) in seen:
                continue
            seen.add(id(x))
            cls = type(x)
            if cls is dict:
                # (its string keys are pickled as they are: equal strings elsewhere share them)
                self.strings.update({k: k for k in x if type(k) is str and k not in self.strings})
                hashed += [k for k in x if type(k) not in _ATOMS]
                stack += [v for v in x.values() if type(v) not in _ATOMS]
                continue
            if cls is frozenset or cls is set:
                hashed += [k for k in x if type(k) not in _ATOMS]
                continue
            if cls in _VALUES:
                first = self.canonical(x)
                if first is not x:  # (loads as ``first``)
                    stack.append(first)
                    continue
            kids = _children(x)
            stack += [k for k in kids if type(k) not in _ATOMS]
            if _setters(cls) is not None:
                objs, fields = rows.setdefault(cls, ([], []))
                objs.append(x)
                fields.append(kids)
        whole = self.whole(hashed)
        tuples: dict[int, tuple[Any, ...]] = {}
        out = []
        for cls, (objs, fields) in rows.items():
            if whole:
                keep = [i for i, o in enumerate(objs) if id(o) not in whole]
                objs, fields = [objs[i] for i in keep], [fields[i] for i in keep]
            self.filled.update(map(id, objs))
            columns = tuple(tuple([v if type(v) in _PLAIN else self.canonical_value(v, tuples)
                                   for v in column])
                            for column in zip(*fields, strict=True))
            if objs:
                out.append((cls, tuple(objs), columns))
        return tuple(out)

    def whole(self, hashed: list[Any]) -> set[int]:
        """The ids of ``hashed`` and of all they hold (for a ``_VALUES`` object, also of the
        equal one it loads as)."""
        whole: set[int] = set()
        stack = hashed
        while stack:
            x = stack.pop()
            if id(x) not in whole:
                whole.add(id(x))
                stack += [k for k in _children(x) if type(k) not in _ATOMS]
                stack.append(self.canonical(x))
        return whole

    def canonical_value(self, x: Any, tuples: dict[int, tuple[Any, ...]]) -> Any:
        """``x`` with each ``_VALUES`` object and string in it (through tuples) replaced by
        the first equal one (the loader gets it without a call or a decoding); ``tuples``: the
        tuples made so far, by the id of the original (one stays one)."""
        return self.canonical_tuple(x, tuples) if type(x) is tuple else self.canonical(x)

    def canonical_tuple(self, x: tuple[Any, ...], tuples: dict[int, tuple[Any, ...]]) -> Any:
        done = tuples.get(id(x))
        if done is None:
            value = self.canonical_value
            items = tuple([y if type(y) in _PLAIN else value(y, tuples) for y in x])
            done = tuples[id(x)] = x if all(map(operator.is_, items, x)) else items
        return done

    def canonical(self, obj: Any) -> Any:
        """The first of the objects equal to ``obj`` for a ``_VALUES`` class or a string (a
        name repeats thousands of times: pickle stores one object once, not one value),
        else ``obj``."""
        if type(obj) is str:
            return self.strings.setdefault(obj, obj)
        if type(obj) not in _VALUES:
            return obj
        first = self.firsts.get(id(obj))  # (by identity first: hashing one walks all it holds)
        if first is None:
            try:
                first = self.values.setdefault(obj, obj)
            except TypeError:  # (holds something unhashable: stored as it is)
                first = obj
            self.firsts[id(obj)] = first
        return first

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        if cls is _FreshKey:
            return (_fresh_key, ())
        if cls is t.ResourceType and obj.kind != "host" and isinstance(obj.key, int):
            key = self.keys.get(obj.key)
            if key is None:
                key = self.keys[obj.key] = _FreshKey()
            return (t.ResourceType, (obj.kind, key, obj.name))
        if isinstance(obj, type):
            return NotImplemented
        names = _fields(cls)
        if names is None:
            return NotImplemented
        self.schema[cls] = names
        first = self.canonical(obj)
        if first is not obj:
            return (_same, ((first,),))
        if id(obj) in self.filled:
            return (copyreg.__newobj__, (cls,))  # type: ignore[attr-defined]
        if cls is ValidatedComponent:
            return (cls, tuple([{} if n == "derived" else getattr(obj, n) for n in names]))
        return (cls, tuple([getattr(obj, n) for n in names]))


def dump_model(validated: ValidatedComponent) -> bytes:
    """``validated`` as bytes for :func:`load_model`; empty when it cannot be pickled (the
    loader then validates the binary)."""
    body = io.BytesIO()
    p = _Pickler(body)
    try:
        p.dump((validated, p.plan(validated)))
    except (pickle.PicklingError, TypeError, AttributeError):
        return b""
    schema = pickle.dumps(sorted((c.__module__, c.__qualname__, n) for c, n in p.schema.items()))
    payload = len(schema).to_bytes(8, "little") + schema + body.getvalue()
    return _check(payload) + payload


def load_model(data: bytes | memoryview) -> ValidatedComponent | None:
    """The model :func:`dump_model` wrote, or ``None`` when ``data`` is empty, damaged, or was
    written by a different version of the code."""
    view = memoryview(data)
    if len(view) < _CHECK + 8:
        return None
    payload = view[_CHECK:]
    if _check(payload) != view[:_CHECK]:
        return None
    n = int.from_bytes(payload[:8], "little")
    try:
        schema = pickle.loads(payload[8 : 8 + n])
        for module, qualname, names in schema:
            cls: Any = sys.modules[module]
            for part in qualname.split("."):
                cls = getattr(cls, part)
            if _fields(cls) != tuple(names):
                return None
        # (the loader makes ten thousand objects and no garbage: collecting would only walk them)
        enabled = gc.isenabled()
        gc.disable()
        try:
            model, columns = pickle.loads(payload[8 + n :])
            for cls, objs, values in columns:
                setters = _setters(cls)
                if setters is None or len(values) != len(setters):
                    return None
                for fill, column in zip(setters, values, strict=True):
                    if len(column) != len(objs):
                        return None
                    collections.deque(map(fill, objs, column), 0)
        finally:
            if enabled:
                gc.enable()
    except Exception:  # a model the running code cannot rebuild: validate instead
        return None
    return model if isinstance(model, ValidatedComponent) else None
