"""WASI conformance for programs a Rust toolchain builds: every ``conformance_rust/NAME.rs``
(``conf.rs`` prepended) is a Rust std program built with a ``rustc`` that has the
``wasm32-wasi`` standard library (Debian: ``rustc`` + ``libstd-rust-dev-wasm32``; without
one these tests skip, saying so) into a command component (the preview1 command adapter, as
for the C programs, cached), then run on our host and on ``wasmtime.component`` +
``add_wasip2`` over the same inputs, and over in-memory preopens. Rust's std reaches WASI
through its own paths (std::fs's ``read_dir`` with cookies, ``metadata``, ``copy``,
``OpenOptions``, panics that abort), not wasi-libc's alone, so this covers what a Rust
guest does. The header directives are those of ``test_conformance_c.py``.

Adding a case is adding a file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ._build import rust_component
from ._conformance import Case, check_matches_wasmtime, check_on_memory_directories, load

HERE = Path(__file__).parent / "conformance_rust"
CASES, PARAMS = load(HERE, ".rs")
CASES = [c for c in CASES if c.name != "conf"]
PARAMS = [p for p in PARAMS if p.values[0].name != "conf"]
_BUILT: dict[str, Path] = {}


def component(case: Case) -> Path:
    hit = _BUILT.get(case.name)
    if hit is None:
        assert not case.imports, f"{case.name}: @imports is for C programs"
        source = (HERE / "conf.rs").read_text() + (HERE / f"{case.name}.rs").read_text()
        hit = _BUILT[case.name] = rust_component(source, case.name)
    return hit


@pytest.mark.parametrize(("case", "args"), PARAMS)
def test_conformance_matches_wasmtime(case: Case, args: tuple[str, ...], tmp_path: Path) -> None:
    check_matches_wasmtime(case, args, tmp_path, component(case))


@pytest.mark.parametrize(("case", "args"), PARAMS)
def test_conformance_on_memory_directories(case: Case, args: tuple[str, ...],
                                           tmp_path: Path) -> None:
    check_on_memory_directories(case, args, tmp_path, component(case))
