"""Every ``*.wit.json`` golden of wit-parser: our resolve, serialized, must equal it exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wasm_component.wit import Resolve, to_json

from .wit_corpus import FEATURES, golden_cases, params

XFAIL: dict[str, str] = {}  # every golden matches, binary-encoded packages included


@pytest.mark.parametrize(("name", "inp", "golden"), params(golden_cases(), XFAIL))
def test_golden(name: str, inp: Path, golden: Path) -> None:
    resolve = Resolve(features=set(FEATURES))
    resolve.push_path(inp)
    assert to_json(resolve) == json.loads(golden.read_text()), name
