"""Runtime items: what fills the index spaces of a component instance while it runs.

A component-level function is an :class:`RFunc` (a lifted guest function or a host function),
an instance an :class:`RInstance` (exports by name), a type a concrete ``types.Type`` (resource
types are concrete: host types, or guest types made fresh per defining instance), a component an
:class:`RComponent` (validated component plus the environment its outer aliases see), a core
module an :class:`RModule`. Core items are ``core.CoreExtern`` objects.

Every call into a component function goes through :meth:`RFunc.call` with Python values, which
is how guest->guest calls compose (the lowering trampoline of the caller lifts, calls, lowers).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import types as t
from . import core

if TYPE_CHECKING:
    from .._validate import ValidatedComponent

__all__ = ["RComponent", "RFunc", "RInstance", "RModule", "RValue"]


class RFunc:
    """A component function at runtime. ``ty`` uses concrete resource types."""

    __slots__ = ("call", "name", "ty")

    def __init__(self, ty: t.FuncType, name: str) -> None:
        self.ty = ty
        self.name = name
        # Call with Python values; returns the Python result (``None`` without a result).
        # Each kind of function installs its own call path, specialised when it is created.
        self.call: Callable[[Sequence[Any]], Any] = _uncallable

    def prepared_call(self) -> Callable[[Sequence[Any]], Any]:
        """``call``, built now if it is built lazily: for callers that keep it (a reference to
        a not-yet-built ``call`` would rebuild the call path at every call)."""
        return self.call

    def prepared_host_call(self) -> Callable[[Sequence[Any]], Any]:
        """``call`` for the host: results as the host takes them (strings as plain ``str``,
        where ``call`` keeps what another component's lowering needs)."""
        return self.prepared_call()

    def call_in(self, store: Any) -> Callable[[Sequence[Any]], Any]:
        """:meth:`prepared_call` for a caller in ``store`` (a host function, shared by the
        stores it is instantiated in, is given the store it is called in)."""
        return self.prepared_call()

    def host_call_in(self, store: Any) -> Callable[[Sequence[Any]], Any]:
        """:meth:`prepared_host_call` for a caller in ``store`` (see :meth:`call_in`)."""
        return self.prepared_host_call()


def _uncallable(args: Sequence[Any]) -> Any:
    raise AssertionError("every RFunc installs its call path at creation")


@dataclass
class RInstance:
    exports: dict[str, Any] = field(default_factory=dict)
    ty: t.InstanceType | None = None


@dataclass
class RModule:
    """A compiled core module and its import declarations (anything with ``module`` and
    ``name``), whose names only a module instantiated at run time (one the root imports)
    needs: read when first asked for (a large component's modules declare thousands)."""

    module: core.CoreModule
    declared: Sequence[Any]

    @functools.cached_property
    def imports(self) -> tuple[tuple[str, str], ...]:
        """``(module, name)`` of each import, in order."""
        return tuple((i.module, i.name) for i in self.declared)


@dataclass
class RComponent:
    validated: ValidatedComponent
    modules: dict[int, RModule]  # by section offset
    outer: Any  # the Env of the defining component (for outer aliases), or None


@dataclass
class RValue:
    value: Any
    ty: t.Type

