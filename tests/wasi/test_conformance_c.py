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

from pathlib import Path

import pytest

from ._build import c_component, c_component_importing
from ._conformance import Case, check_matches_wasmtime, check_on_memory_directories, load

HERE = Path(__file__).parent / "conformance"
CASES, PARAMS = load(HERE, ".c")
_BUILT: dict[str, Path] = {}


def component(case: Case) -> Path:
    hit = _BUILT.get(case.name)
    if hit is None:
        source = (HERE / "conf.h").read_text() + (HERE / f"{case.name}.c").read_text()
        hit = _BUILT[case.name] = (
            c_component_importing("#define CONF_DIRECT 1\n" + source, case.name, case.imports)
            if case.imports else c_component(source, case.name))
    return hit


@pytest.mark.parametrize(("case", "args"), PARAMS)
def test_conformance_matches_wasmtime(case: Case, args: tuple[str, ...], tmp_path: Path) -> None:
    check_matches_wasmtime(case, args, tmp_path, component(case))


@pytest.mark.parametrize(("case", "args"), PARAMS)
def test_conformance_on_memory_directories(case: Case, args: tuple[str, ...],
                                           tmp_path: Path) -> None:
    check_on_memory_directories(case, args, tmp_path, component(case))
