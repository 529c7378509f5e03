"""wit-parser's ``parse-fail`` cases: each must raise :class:`WitError` naming the same problem.

"The same problem" means the first line of our message appears in the expected ``.wit.result``
text, or our error points at the same file and line as the expected ``--> file:line:col``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wasm_component.errors import WitError
from wasm_component.wit import Resolve

from .wit_corpus import FEATURES, params, parse_fail_cases

XFAIL: dict[str, str] = {}


@pytest.mark.parametrize(("name", "inp", "result"), params(parse_fail_cases(), XFAIL))
def test_parse_fail(name: str, inp: Path, result: Path) -> None:
    expected = result.read_text()
    resolve = Resolve(features=set(FEATURES))
    with pytest.raises(WitError) as info:
        resolve.push_path(inp)
    err = info.value
    first = err.message.splitlines()[0]
    if first in expected:
        return
    loc = re.search(r"--> (\S+?):(\d+):(\d+)", expected)
    assert loc is not None, f"{name}: {first!r} not in expected {expected!r}"
    assert err.file is not None and err.line == int(loc.group(2)), (name, str(err), expected)
    assert Path(err.file).name == Path(loc.group(1)).name, (name, str(err), expected)
