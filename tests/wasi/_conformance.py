"""The data-driven WASI conformance comparison, shared by the C programs
(``test_conformance_c.py``, ``conformance/*.c``) and the Rust ones
(``test_conformance_rust.py``, ``conformance_rust/*.rs``): a program's header comment (its
first ``/* ... */``) says what it gets, the checks run it on our host and on
``wasmtime.component`` + ``add_wasip2`` over the same inputs (and over in-memory preopens)
and compare stdout, stderr, exit code and the files left behind. The header's directives are
listed in ``test_conformance_c.py``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ._build import Inputs, Outcome, memory_snapshot, run_ours, run_wasmtime, snapshot


@dataclass
class Case:
    name: str
    files: list[tuple[str, str]] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    symlinks: list[tuple[str, str]] = field(default_factory=list)
    ro_files: list[tuple[str, str]] = field(default_factory=list)
    outside: list[tuple[str, str]] = field(default_factory=list)
    runs: list[tuple[str, ...]] = field(default_factory=list)
    env: list[tuple[str, str]] = field(default_factory=list)
    stdin: bytes = b""
    wit: list[tuple[str, str, str]] = field(default_factory=list)
    expect: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)


def _text(s: str) -> str:
    return s.replace("\\n", "\n")


def parse(path: Path) -> Case:
    head = path.read_text().split("*/", 1)[0]
    case = Case(path.stem)
    for m in re.finditer(r"^\s*\*?\s*@([\w-]+):?\s*(.*?)\s*$", head, re.M):
        key, value = m.group(1), m.group(2)
        if key in ("file", "ro-file", "outside"):
            name, _, text = value.partition("=")
            {"file": case.files, "ro-file": case.ro_files, "outside": case.outside}[key].append(
                (name, _text(text)))
        elif key == "dir":
            case.dirs.append(value)
        elif key == "symlink":
            name, _, target = value.partition(" -> ")
            case.symlinks.append((name, target))
        elif key == "args":
            case.runs.append(tuple(value.split()))
        elif key == "env":
            k, _, v = value.partition("=")
            case.env.append((k, v))
        elif key == "stdin":
            case.stdin = _text(value).encode()
        elif key == "wit":
            theirs, _, rest = value.partition(" => ")
            ours, _, why = rest.partition(" | ")
            assert why, f"{path.name}: @wit needs a reason after ' | '"
            case.wit.append((theirs, ours, why))
        elif key == "expect":
            case.expect.append(value)
        elif key == "imports":
            case.imports += value.split()
        else:
            raise AssertionError(f"{path.name}: unknown directive @{key}")
    return case


def make_tree(case: Case, base: Path) -> list[tuple[str, str, bool]]:
    rw = base / "rw"
    rw.mkdir(parents=True)
    for d in case.dirs:
        (rw / d).mkdir(parents=True, exist_ok=True)
    for name, text in case.files:
        (rw / name).parent.mkdir(parents=True, exist_ok=True)
        (rw / name).write_text(text)
    for name, target in case.symlinks:
        os.symlink(target, rw / name)
    for name, text in case.outside:
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text(text)
    dirs = [(str(rw), "/rw", False)]
    if case.ro_files:
        ro = base / "ro"
        for name, text in case.ro_files:
            (ro / name).parent.mkdir(parents=True, exist_ok=True)
            (ro / name).write_text(text)
        dirs.append((str(ro), "/ro", True))
    return dirs


def _lines(text: str) -> list[str]:
    return [" ".join(ln.split()) for ln in text.splitlines()]


def the_wit_way(case: Case, wasmtime_stdout: bytes) -> list[str]:
    """wasmtime's stdout lines, each ``@wit`` line replaced by ours."""
    expected = _lines(wasmtime_stdout.decode())
    for wasmtime_line, our_line, _why in case.wit:
        wasmtime_line, our_line = " ".join(wasmtime_line.split()), " ".join(our_line.split())
        assert wasmtime_line in expected, f"@wit is stale: wasmtime no longer prints {wasmtime_line!r}"
        expected = [our_line if ln == wasmtime_line else ln for ln in expected]
    return expected


def memory_tree(case: Case) -> tuple[Any, Any]:
    """The case's /rw (and /ro) as in-memory directories."""
    from wasm_component.wasi import vfs

    rw, ro = vfs.MemoryDirectory(), vfs.MemoryDirectory()
    for d in case.dirs:
        rw.make_dirs(d)
    for name, text in case.files:
        rw.write_file(name, text.encode())
    for name, target in case.symlinks:
        rw.add_symlink(name, target)
    for name, text in case.ro_files:
        ro.write_file(name, text.encode())
    return rw, ro


def load(directory: Path, suffix: str) -> tuple[list[Case], list[Any]]:
    """The cases of ``directory/*suffix`` and their pytest parameters (one per ``@args``)."""
    cases = [parse(p) for p in sorted(directory.glob(f"*{suffix}"))]
    params = [pytest.param(c, run, id=f"{c.name}[{' '.join(run)}]" if len(c.runs) > 1 else c.name)
              for c in cases for run in (c.runs or [()])]
    return cases, params


def run_both(case: Case, args: tuple[str, ...], tmp: Path, path: Path) -> tuple[Outcome, Outcome]:
    outs = []
    for side, run in (("ours", run_ours), ("wasmtime", run_wasmtime)):
        inputs = Inputs(args=(case.name, *args), env=case.env, stdin=case.stdin,
                        dirs=make_tree(case, tmp / side))
        outs.append(run(path, inputs))
    return outs[0], outs[1]


def check_matches_wasmtime(case: Case, args: tuple[str, ...], tmp_path: Path,
                           path: Path) -> None:
    """``path`` (the case's program) prints what wasmtime prints (the WIT's way), exits and
    fails alike, and leaves the same files, in the preopens and beside them."""
    ours, theirs = run_both(case, args, tmp_path, path)
    expected = the_wit_way(case, theirs.stdout)
    got = _lines(ours.stdout.decode())
    assert got == expected
    assert (ours.stderr.decode(), ours.code) == (theirs.stderr.decode(), theirs.code)
    assert snapshot(tmp_path / "ours") == snapshot(tmp_path / "wasmtime")  # outside files too
    missing = [e for e in case.expect if " ".join(e.split()) not in got]
    assert not missing, f"our output lacks {missing}"


def check_on_memory_directories(case: Case, args: tuple[str, ...], tmp_path: Path,
                                path: Path) -> None:
    """The same program over in-memory preopens (vfs.MemoryDirectory) prints what wasmtime
    prints over host directories (the WIT's way), and leaves the same tree (the files beside
    the preopens aside: there are none in memory)."""

    rw, ro = memory_tree(case)
    dirs: list[tuple[Any, str, bool]] = [(rw, "/rw", False)]
    if case.ro_files:
        dirs.append((ro, "/ro", True))
    inputs = Inputs(args=(case.name, *args), env=case.env, stdin=case.stdin)
    ours = run_ours(path, Inputs(**{**inputs.__dict__, "dirs": dirs}))
    theirs = run_wasmtime(path, Inputs(**{**inputs.__dict__, "dirs": make_tree(case, tmp_path)}))
    assert _lines(ours.stdout.decode()) == the_wit_way(case, theirs.stdout)
    assert (ours.stderr, ours.code) == (theirs.stderr, theirs.code)
    assert memory_snapshot(rw) == snapshot(tmp_path / "rw")

