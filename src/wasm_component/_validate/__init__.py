"""The validator: turns a decoded component into a :class:`ValidatedComponent` or raises
:class:`~wasm_component.errors.ValidationError` (lower-case message, offending offset).

Public surface:

- ``validate(component, features=Features.default()) -> ValidatedComponent``
- :class:`Features` — proposal gates named after wasm-tools' ``-f`` flags
- :class:`ValidatedComponent`, :class:`Entry`, :class:`CanonInfo`, :class:`ResourceInfo`,
  :class:`CoreInstanceType`, :class:`CoreGcType` — what the translator reads.
- ``check_embedder_restrictions(vc)`` — what wasmtime refuses at ``Component::new`` although
  the component is valid (root component imports/exports, re-exported imported functions).
"""

from __future__ import annotations

from .._binary import ast
from .component import Validator
from .features import Features
from .model import CanonInfo, CoreGcType, CoreInstanceType, Entry, ResourceInfo, ValidatedComponent
from .restrictions import check_embedder_restrictions

__all__ = [
    "CanonInfo",
    "CoreGcType",
    "CoreInstanceType",
    "Entry",
    "Features",
    "ResourceInfo",
    "ValidatedComponent",
    "check_embedder_restrictions",
    "validate",
]


def validate(component: ast.Component, features: Features | None = None) -> ValidatedComponent:
    """Validate ``component`` (and its nested components) under ``features``."""
    return Validator(features if features is not None else Features.default()).component(
        component, None)
