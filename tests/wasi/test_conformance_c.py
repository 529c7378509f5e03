"""WASI conformance, data-driven: every ``conformance/NAME.c`` (``conf.h`` prepended) is
built once into a command component (wasi-libc + the preview1 command adapter, cached) and run
on our host and on ``wasmtime.component`` + ``add_wasip2`` over the same inputs; stdout,
stderr, exit code and every file left in the preopen must agree.

The cases follow what WebAssembly/wasi-testsuite checks (its test names are in each file's
header). A program's first comment says what it gets, one ``@key: value`` a line:

- ``@file: PATH=TEXT`` / ``@dir: PATH`` / ``@symlink: PATH -> TARGET``: made in ``/rw``
  before the run (``TEXT`` takes ``\\n``);
- ``@ro-file: PATH=TEXT``: a second, read-only preopen ``/ro`` holding it;
- ``@outside: PATH=TEXT``: a file beside the preopens, which no guest may reach (every file
  beside them is compared after the run too);
- ``@args: A B``: a run with these arguments (after ``argv[0]``); one case per ``@args``;
- ``@env: K=V``, ``@stdin: TEXT``;
- ``@imports: IFACE...``: the program also calls these WASI 0.2 interfaces itself (a world
  importing them is embedded; ``conf.h``'s ``CONF_DIRECT`` part gives it ``IMPORT`` and the
  entry point);
- ``@wit: WASMTIME => OURS | WHY``: where wasmtime departs from the WIT (and we follow the
  WIT, or POSIX where the WIT says "similar to ... in POSIX"), a line of wasmtime's stdout
  and the line we print instead; the test checks wasmtime still prints ``WASMTIME`` (so a
  stale note fails) and that we print ``OURS`` there;
- ``@expect: LINE``: a line our output must hold (so a run that stops early cannot pass).

Adding a case is adding a file.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ._build import WASI_WIT, Inputs, Outcome, c_component, run_ours, run_wasmtime

HERE = Path(__file__).parent / "conformance"


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


CASES = [parse(p) for p in sorted(HERE.glob("*.c"))]
PARAMS = [pytest.param(c, run, id=f"{c.name}[{' '.join(run)}]" if len(c.runs) > 1 else c.name)
          for c in CASES for run in (c.runs or [()])]
_BUILT: dict[str, Path] = {}


def component(case: Case) -> Path:
    hit = _BUILT.get(case.name)
    if hit is None:
        source = (HERE / "conf.h").read_text() + (HERE / f"{case.name}.c").read_text()
        if not case.imports:
            hit = c_component(source, case.name)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                wit = Path(tmp)
                lines = "".join(f"  import {i};\n" for i in case.imports)
                (wit / "world.wit").write_text(f"package test:conformance;\n\nworld guest {{\n{lines}}}\n")
                shutil.copytree(WASI_WIT / "deps", wit / "deps")
                hit = c_component("#define CONF_DIRECT 1\n" + source, case.name,
                                  ["-mexec-model=reactor"], wit=(wit, "guest"))
        _BUILT[case.name] = hit
    return hit


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


def snapshot(root: Path) -> dict[str, object]:
    """Every path below ``root``: a file's bytes, a symlink's target, or ``"dir"``."""
    out: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = p.read_bytes()
    return out


def run_both(case: Case, args: tuple[str, ...], tmp: Path) -> tuple[Outcome, Outcome]:
    path = component(case)
    outs = []
    for side, run in (("ours", run_ours), ("wasmtime", run_wasmtime)):
        inputs = Inputs(args=(case.name, *args), env=case.env, stdin=case.stdin,
                        dirs=make_tree(case, tmp / side))
        outs.append(run(path, inputs))
    return outs[0], outs[1]


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


@pytest.mark.parametrize(("case", "args"), PARAMS)
def test_conformance_matches_wasmtime(case: Case, args: tuple[str, ...], tmp_path: Path) -> None:
    ours, theirs = run_both(case, args, tmp_path)
    expected = the_wit_way(case, theirs.stdout)
    got = _lines(ours.stdout.decode())
    assert got == expected
    assert (ours.stderr.decode(), ours.code) == (theirs.stderr.decode(), theirs.code)
    assert snapshot(tmp_path / "ours") == snapshot(tmp_path / "wasmtime")  # outside files too
    missing = [e for e in case.expect if " ".join(e.split()) not in got]
    assert not missing, f"our output lacks {missing}"


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


@pytest.mark.parametrize(("case", "args"), PARAMS)
def test_conformance_on_memory_directories(case: Case, args: tuple[str, ...],
                                           tmp_path: Path) -> None:
    # The same programs over in-memory preopens (vfs.MemoryDirectory) print what wasmtime
    # prints over host directories (the WIT's way), and leave the same tree (the files beside
    # the preopens aside: there are none in memory).
    from .test_filesystem_c import memory_snapshot

    rw, ro = memory_tree(case)
    dirs: list[tuple[Any, str, bool]] = [(rw, "/rw", False)]
    if case.ro_files:
        dirs.append((ro, "/ro", True))
    inputs = Inputs(args=(case.name, *args), env=case.env, stdin=case.stdin)
    ours = run_ours(component(case), Inputs(**{**inputs.__dict__, "dirs": dirs}))
    theirs = run_wasmtime(component(case), Inputs(**{**inputs.__dict__,
                                                     "dirs": make_tree(case, tmp_path)}))
    assert _lines(ours.stdout.decode()) == the_wit_way(case, theirs.stdout)
    assert (ours.stderr, ours.code) == (theirs.stderr, theirs.code)
    assert memory_snapshot(rw) == snapshot(tmp_path / "rw")
