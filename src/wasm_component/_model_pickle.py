"""The validated model of a component as bytes, for :meth:`Component.serialize`.

``Component.deserialize`` would otherwise decode and validate the whole component again (on
componentize-py's 18 MB component that is most of the time it takes). The model is a graph of
frozen dataclasses, pickled with two rules of our own:

- each dataclass is rebuilt by calling its class with its field values (about twice as fast
  to load as pickle's default for slotted frozen dataclasses), and ``derived`` (the plans and
  generated code later layers cache on a :class:`ValidatedComponent`) is left out; equal
  plain values (``_VALUES``) are stored once;
- resource types are generative, and the validator numbers abstract ones from a process-wide
  counter. A number from the process that serialized means nothing in the one that loads, so
  every such number is replaced, once per distinct number, by a new one drawn from this
  process's counter while loading: two loads of the same bytes share no resource type, and a
  loaded type never equals one made by another component.

The bytes carry a schema (each class's field names) and a keyed digest; a model that does not
match the running code, or is damaged, is not used (the caller validates the binary instead).
As with the compiled core code next to it, load only bytes you made.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import io
import operator
import pickle
import sys
from typing import Any

from . import types as t
from ._binary import ast
from ._validate import ValidatedComponent

__all__ = ["dump_model", "load_model"]

_FORMAT = b"wasm-component model 1"
_DIGEST = 32


def _stamp() -> bytes:
    return _FORMAT + f" py{sys.version_info[0]}.{sys.version_info[1]}".encode()


class _FreshKey:
    """Stands for one resource number while pickling; loads as a new number."""

    __slots__ = ("__weakref__",)


def _fresh_key() -> int:
    return next(t._resource_ids)


_FIELDS: dict[type, tuple[str, ...] | None] = {}

#: Plain values that a component repeats thousands of times (one per core import, export and
#: function type): equal ones are stored once and shared when loaded.
_VALUES = frozenset({ast.Sort, ast.SortIdx, ast.CoreFuncRef, ast.CoreGlobalType,
                     ast.CoreFuncTypeDef, ast.CoreSubType, t.CoreGlobalType, t.CoreFuncType})
_same = operator.itemgetter(0)


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


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, protocol=5)
        self.keys: dict[int, _FreshKey] = {}
        self.schema: dict[type, tuple[str, ...]] = {}
        self.values: dict[object, object] = {}

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
        if cls in _VALUES:
            try:
                first = self.values.setdefault(obj, obj)
            except TypeError:  # (holds something unhashable: stored as it is)
                first = obj
            if first is not obj:
                return (_same, ((first,),))
        if cls is ValidatedComponent:
            return (cls, tuple([{} if n == "derived" else getattr(obj, n) for n in names]))
        return (cls, tuple([getattr(obj, n) for n in names]))


def dump_model(validated: ValidatedComponent) -> bytes:
    """``validated`` as bytes for :func:`load_model`; empty when it cannot be pickled (the
    loader then validates the binary)."""
    body = io.BytesIO()
    p = _Pickler(body)
    try:
        p.dump(validated)
    except (pickle.PicklingError, TypeError, AttributeError):
        return b""
    schema = pickle.dumps(sorted((c.__module__, c.__qualname__, n) for c, n in p.schema.items()))
    payload = len(schema).to_bytes(8, "little") + schema + body.getvalue()
    digest = hashlib.blake2b(payload, digest_size=_DIGEST, key=_stamp()).digest()
    return digest + payload


def load_model(data: bytes | memoryview) -> ValidatedComponent | None:
    """The model :func:`dump_model` wrote, or ``None`` when ``data`` is empty, damaged, or was
    written by a different version of the code."""
    view = memoryview(data)
    if len(view) < _DIGEST + 8:
        return None
    payload = view[_DIGEST:]
    if hashlib.blake2b(payload, digest_size=_DIGEST, key=_stamp()).digest() != view[:_DIGEST]:
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
            model = pickle.loads(payload[8 + n :])
        finally:
            if enabled:
                gc.enable()
    except Exception:  # a model the running code cannot rebuild: validate instead
        return None
    return model if isinstance(model, ValidatedComponent) else None
