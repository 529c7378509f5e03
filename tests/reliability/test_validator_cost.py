"""Validation is near-linear in its input: deeply nested and widely shared types cost their
number of distinct types, not their tree size (issue 16: a 1.7 KB invalid component took
5.6-10 s to reject). The bound is on work -- type visits counted by
``_validate.typecheck.WORK`` -- never on wall time."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from wasm_component._binary.reader import decode_component
from wasm_component._runtime.core import wat2wasm
from wasm_component._validate import Features, typecheck, validate
from wasm_component.errors import ValidationError

WORK_PER_BYTE = 2  # type visits allowed per byte of input (measured: at most 0.4)


def _instance_chain(n: int, width: int) -> list[str]:
    lines = ['(type $i0 (instance (export "f" (func (param "x" u32)))))']
    for k in range(1, n + 1):
        ex = " ".join(f'(export "e{j}" (instance (type $i{k - 1})))' for j in range(width))
        lines.append(f"(type $i{k} (instance {ex}))")
    return lines


def _record_chain(n: int, width: int) -> list[str]:
    """Records each of ``width`` fields of the previous one (each imported, so named)."""
    lines = ['(type $r0 (record (field "x" u32)))', '(import "r0" (type $R0 (eq $r0)))']
    for k in range(1, n + 1):
        fs = " ".join(f'(field "f{j}" $R{k - 1})' for j in range(width))
        lines += [f"(type $r{k} (record {fs}))", f'(import "r{k}" (type $R{k} (eq $r{k})))']
    return lines


def imported_instance(n: int, width: int) -> str:
    return "\n".join(["(component", *_instance_chain(n, width),
                      f'(import "x" (instance (type $i{n}))))'])


def exported_instance_type(n: int, width: int) -> str:
    return "\n".join(["(component", *_instance_chain(n, width),
                      f'(import "x" (instance $x (type $i{n})))',
                      '(export "y" (instance $x)))'])


def instantiated_with_shared_type(n: int, width: int) -> str:
    """A nested component importing the deep type, instantiated with an import of it (a
    subtype check of two copies of the tree)."""
    return "\n".join(["(component", *_instance_chain(n, width),
                      f'(import "x" (instance $x (type $i{n})))',
                      "(component $c",
                      *_instance_chain(n, width),
                      f'  (import "y" (instance (type $i{n}))))',
                      '(instance (instantiate $c (with "y" (instance $x)))))'])


def function_of_deep_record(n: int, width: int) -> str:
    """Two imports of a function over a deep shared record, and a nested component whose
    import must match it (value types compared structurally)."""
    return "\n".join(["(component", *_record_chain(n, width),
                      f'(import "f" (func $f (param "p" $R{n})))',
                      "(component $c",
                      *["  " + x for x in _record_chain(n, width)],
                      f'  (import "g" (func (param "p" $R{n}))))',
                      '(instance (instantiate $c (with "g" (func $f))',
                      *[f'  (with "r{k}" (type $R{k}))' for k in range(n + 1)],
                      ")))"])


SHAPES: list[tuple[str, Callable[[int, int], str], list[tuple[int, int]]]] = [
    ("imported-instance", imported_instance, [(16, 2), (40, 2), (6, 8), (12, 8)]),
    ("exported-instance", exported_instance_type, [(16, 2), (40, 2), (6, 8)]),
    ("instantiated", instantiated_with_shared_type, [(16, 2), (30, 2), (6, 6)]),
    ("deep-record", function_of_deep_record, [(14, 2), (30, 2), (5, 8)]),
]


@pytest.mark.parametrize(("shape", "make", "sizes"), SHAPES, ids=[s[0] for s in SHAPES])
def test_work_is_linear_in_the_input(shape: str, make: Callable[[int, int], str],
                                     sizes: list[tuple[int, int]]) -> None:
    for n, width in sizes:
        binary = wat2wasm(make(n, width))
        before = typecheck.WORK[0]
        try:
            validate(decode_component(binary), Features.all())
        except ValidationError as e:
            # over the effective-type-size limit is the only acceptable rejection here
            assert "type size" in str(e), (shape, n, width, e)
        work = typecheck.WORK[0] - before
        assert work <= WORK_PER_BYTE * len(binary), (
            f"{shape} n={n} width={width}: {work} type visits for {len(binary)} bytes")
