"""Validation rules for the async built-ins found by running the Component Model spec's own
test suite (``tests/tools/spec_suite.py``); each test is our own minimal component."""

from __future__ import annotations

import re

import pytest
import wasmtime

from wasm_component._binary.reader import decode_component
from wasm_component._validate import ValidatedComponent, validate
from wasm_component._validate.features import Features
from wasm_component.errors import ValidationError

ASYNC = Features.from_flags("cm-async")


def v(wat: str) -> ValidatedComponent:
    return validate(decode_component(bytes(wasmtime.wat2wasm(wat))), ASYNC)


@pytest.mark.parametrize("result", [
    "(borrow $r)",
    "(list (borrow $r))",
    "(option (tuple u8 (borrow $r)))",
])
def test_task_return_result_cannot_contain_borrow(result: str) -> None:
    wat = f"""(component
      (type $r (resource (rep i32)))
      (core func (canon task.return (result {result}))))"""
    with pytest.raises(ValidationError, match=re.escape("`task.return` result cannot contain a `borrow`")):
        v(wat)


def test_task_return_result_may_own_a_resource() -> None:
    v("""(component
      (type $r (resource (rep i32)))
      (type $t (record (field "a" (own $r)) (field "b" u32)))
      (core func (canon task.return (result $t))))""")
