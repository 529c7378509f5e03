"""Validator verdicts that a differential fuzz run against ``wasm-tools validate`` (generated
type sections, ``python -m fuzz vdiff``) found to disagree, fixed to agree (issue 16).

- An import may not be bounded by a type the component knows only as one of its exports
  (``(export "e" (type 0)) (import "x" (type (eq 1)))``); function, instance and component
  types keep one identity across imports and exports, value types and resources get a new one.
- An import may not refer to a resource the component defines itself."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from wasm_component import Component, Engine, ValidationError

CASES = [
    ('(type (list u64)) (import "x" (type (eq 0)))', None),
    ('(type (list u64)) (export "e" (type 0)) (import "x" (type (eq 0)))', None),
    ('(type (list u64)) (export "e" (type 0)) (import "x" (type (eq 1)))', "not valid"),
    ('(type (list u64)) (export "e" (type 0)) (type (list 1)) (import "x" (type (eq 2)))', None),
    ('(type (list u8)) (import "y" (type (eq 0))) (export "e" (type 1)) '
     '(import "x" (type (eq 2)))', "not valid"),
    ('(type (record (field "a" u8))) (export "e" (type 0)) (import "x" (type (eq 1)))',
     "not valid"),
    ('(type (func)) (export "e" (type 0)) (import "x" (type (eq 0)))', "not valid"),
    ('(type (func)) (export "e" (type 0)) (import "x" (type (eq 1)))', "not valid"),
    ('(type (func)) (import "y" (type (eq 0))) (export "e" (type 0)) '
     '(import "x" (type (eq 2)))', None),
    ('(type (func)) (import "y" (type (eq 0))) (export "e" (type 1)) '
     '(import "x" (type (eq 2)))', None),
    ('(type (instance)) (export "e" (type 0)) (import "x" (type (eq 0)))', "not valid"),
    ('(type (component)) (export "e" (type 0)) (import "x" (type (eq 0)))', "not valid"),
    ('(import "y" (type (sub resource))) (export "e" (type 0)) (import "x" (type (eq 1)))',
     "not valid"),
    ('(type (resource (rep i32))) (import "x1" (type (eq 0)))', "local resource"),
    ('(type (resource (rep i32))) (type (own 0)) (import "f" (func (param "x" 1)))',
     "local resource"),
]


@pytest.mark.parametrize(("body", "error"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_verdict(body: str, error: str | None) -> None:
    text = f"(component {body})"
    if error is None:
        Component.new(Engine(), text, embedder_restrictions=False)
    else:
        with pytest.raises(ValidationError, match=error):
            Component.new(Engine(), text, embedder_restrictions=False)


@pytest.mark.skipif(shutil.which("wasm-tools") is None, reason="needs wasm-tools")
@pytest.mark.parametrize(("body", "error"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_wasm_tools_agrees(body: str, error: str | None, tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    wat = tmp_path / "c.wat"
    wat.write_text(f"(component {body})")
    r = subprocess.run(["wasm-tools", "validate", "--features", "all", str(wat)],
                       capture_output=True, text=True)
    assert (r.returncode == 0) == (error is None), r.stderr
