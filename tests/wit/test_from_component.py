"""Component -> WIT (``wit.from_component``) and the ``wasm-component wit`` command.

Test inputs are real components built by ``wasm-tools component embed --dummy | component new``
from the wit-parser corpus: every world of the corpus packages, plus two synthesized worlds per
package (``wc-all-imports``/``wc-all-exports``: import, resp. export, every interface of the
package), so the rich type-only packages (``types``, ``resources``, ``functions``, ``wasi``...) are
covered too. Each decoded component is checked two ways:

- **exactly** against the oracle: our resolve serialized with ``to_json`` must equal
  ``wasm-tools component wit --json`` id for id (the wasm-tools version is pinned by the project);
- **structurally** against the WIT it came from, independent of ids and of ordering: the world's
  import/export keys must be the same, every function (world functions and interface functions)
  must have the same kind, parameter names and types and result, and every named type we decoded
  must exist in the original with the same definition. Types are compared by their *origin* (the
  interface and name where the definition lives, after following ``use``/alias chains), so a
  ``use`` that turned into a copy, or the reverse, is caught. Interfaces may lose types the
  component does not use (wit-component drops unused imported types), so decoded types are a
  subset, and an imported interface with no functions may be left out entirely (when nothing
  uses its types); functions are never lost.

WIT packages encoded as components (``wasm-tools component wit --wasm``) are decoded and must
equal what ``wasm-tools component wit --json`` decodes from the same binary, id for id (docs and
stability, which travel in the ``package-docs`` custom section, are not decoded and are ignored).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from wasm_component.wit import (
    KType,
    Resolve,
    WorldItemFunction,
    WorldItemInterface,
    WorldItemType,
    to_json,
)
from wasm_component.wit.cli import main as wit_main
from wasm_component.wit.from_component import (
    component_to_resolve,
    decode_wit_package,
    is_wit_package,
)
from wasm_component.wit.json import _kind
from wasm_component.wit.lexer import KEYWORDS

from ..cache import cached_dir, content_key, tool_version, wasm_tools
from ..suite import FULL
from .wit_corpus import CORPUS, FEATURES, MISSING

WASM_TOOLS = wasm_tools()
NEED_TOOLS = pytest.mark.skipif(WASM_TOOLS is None, reason="wasm-tools is not on PATH")
NEED_CORPUS = pytest.mark.skipif(not CORPUS.is_dir(), reason=MISSING)

# Corpus packages whose worlds we build (the richest ones, and every kind of construct:
# resources, use chains, foreign deps, includes, async, maps, streams...).
PACKAGES = [
    "async",
    "complex-include",
    "cross-package-resource",
    "diamond1",
    "disambiguate-diamond",
    "error-context",
    "feature-gates",
    "foreign-deps",
    "foreign-deps-union",
    "functions",
    "gated-include",
    "import-export-overlap1",
    "include-reps",
    "maps",
    "multi-package-gated-include",
    "name-both-resource-and-type",
    "resources",
    "resources-multiple",
    "resources-multiple-returns-own",
    "resources-return-own",
    "resources1",
    "same-name-import-export",
    "shared-types",
    "since-and-unstable",
    "streams-and-futures",
    "stress-export-elaborate",
    "types",
    "use",
    "versions",
    "wasi",
    "with-resource-as",
    "world-diamond",
    "world-implicit-import1",
    "world-implicit-import2",
    "world-top-level-funcs",
    "world-top-level-resources",
    "worlds-with-types",
]

SYNTH = ("wc-all-imports", "wc-all-exports")

# `wasm-tools component new` needs minutes (8 on a loaded 2-core machine) for these packages'
# worlds: only in the full profile (`WASM_COMPONENT_TESTS=full`, see tests/suite.py)
SLOW_PACKAGES = frozenset({"stress-export-elaborate"})


def _source(name: str) -> Path | None:
    for cand in (CORPUS / f"{name}.wit", CORPUS / name):
        if cand.exists():
            return cand
    return None


def _id(name: str) -> str:
    return f"%{name}" if name in KEYWORDS else name


def _prepare(name: str, root: Path) -> tuple[Path, Resolve, int, list[str]]:
    """Copy the package into ``root``, add the synthesized worlds; resolve it."""
    src = _source(name)
    assert src is not None
    dest = root / name
    if src.is_dir():
        shutil.copytree(src, dest)
    else:
        dest.mkdir()
        shutil.copy(src, dest / "main.wit")
    base = Resolve(features=set(FEATURES))
    pid = base.push_path(dest)
    ifaces = [_id(n) for n in base.packages[pid].interfaces]
    if (ifaces and not (dest / "main.wit").exists()) or ifaces:
        imports = "".join(f"  import {i};\n" for i in ifaces)
        exports = "".join(f"  export {i};\n" for i in ifaces)
        (dest / "zz-wc-synth.wit").write_text(
            f"world {SYNTH[0]} {{\n{imports}}}\nworld {SYNTH[1]} {{\n{exports}}}\n"
        )
    resolve = Resolve(features=set(FEATURES))
    pid = resolve.push_path(dest)
    return dest, resolve, pid, list(resolve.packages[pid].worlds)


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    assert WASM_TOOLS is not None
    return subprocess.run([WASM_TOOLS, *args], input=stdin, capture_output=True, check=False)


def _build(pkg_dir: Path, world: str, out: Path) -> None:
    """Build a dummy component for ``world`` into ``out`` (``component.wasm`` and wasm-tools'
    ``oracle.json`` for it), or ``error.txt`` if wasm-tools refuses."""
    emb = _run("component", "embed", "--features", ",".join(FEATURES), "--dummy", str(pkg_dir),
               "-w", world)
    if _ok(emb, out):
        new = _run("component", "new", "-o", str(out / "component.wasm"), "-", stdin=emb.stdout)
        if _ok(new, out):
            _oracle(out / "component.wasm")


def _ok(p: subprocess.CompletedProcess[bytes], out: Path) -> bool:
    """Whether a wasm-tools step succeeded; if not, its message goes to ``out/error.txt``."""
    if p.returncode:
        (out / "error.txt").write_bytes(p.stderr)
    return p.returncode == 0


def _oracle(wasm: Path) -> None:
    """``oracle.json`` beside ``wasm``: what ``wasm-tools component wit --json`` decodes."""
    ref = _run("component", "wit", "--json", str(wasm))
    if ref.returncode == 0:
        (wasm.parent / "oracle.json").write_bytes(ref.stdout)


def _cached_build(pkg_dir: Path, world: str) -> Path:
    """:func:`_build`, once per content: keyed by the package's files, the world, the features
    and the wasm-tools version (see ``tests/cache.py``)."""
    assert WASM_TOOLS is not None
    key = content_key(tool_version(WASM_TOOLS), ",".join(sorted(FEATURES)), world, pkg_dir)
    return cached_dir("from-component", key, lambda out: _build(pkg_dir, world, out))


class Built:
    def __init__(self, name: str, world: str, path: Path | None, error: str | None,
                 source: Resolve, source_world: int, oracle: dict[str, Any] | None) -> None:
        self.name = name
        self.world = world
        self.path = path
        self.error = error
        self.source = source
        self.source_world = source_world
        self.oracle = oracle


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    if WASM_TOOLS is None or not CORPUS.is_dir():
        return {}
    root = tmp_path_factory.mktemp("from-component")
    jobs: list[tuple[str, str, Path, Resolve, int]] = []
    for name in PACKAGES:
        if _source(name) is None or (name in SLOW_PACKAGES and not FULL):
            continue
        pkg_dir, resolve, pid, worlds = _prepare(name, root)
        for w in worlds:
            jobs.append((name, w, pkg_dir, resolve, resolve.packages[pid].worlds[w]))

    def one(job: tuple[str, str, Path, Resolve, int]) -> Built:
        name, w, pkg_dir, resolve, wid = job
        out = _cached_build(pkg_dir, w)
        if (out / "error.txt").exists():
            err = (out / "error.txt").read_text(errors="replace")
            return Built(name, w, None, err, resolve, wid, None)
        oracle_path = out / "oracle.json"
        oracle = json.loads(oracle_path.read_bytes()) if oracle_path.exists() else None
        return Built(name, w, out / "component.wasm", None, resolve, wid, oracle)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, jobs))
    return {f"{b.name}/{b.world}": b for b in results}


# --- structural canonical form ------------------------------------------------------------------


class _Canon:
    def __init__(self, r: Resolve) -> None:
        self.r = r

    def owner(self, tid: int) -> str:
        o = self.r.types[tid].owner
        if o is None:
            return "<anon>"
        if o[0] == "world":
            return "world"
        iface = self.r.interfaces[o[1]]
        return self.r.id_of(o[1]) or f"<inline>{iface.name}"

    def origin(self, tid: int) -> tuple[str, str]:
        """Where a named type's definition lives, following alias/``use`` chains."""
        while True:
            k = self.r.types[tid].kind
            if isinstance(k, KType) and isinstance(k.ty, int) and \
                    self.r.types[k.ty].name is not None:
                tid = k.ty
                continue
            name = self.r.types[tid].name
            assert name is not None
            return (self.owner(tid), name)

    def ty(self, t: Any) -> Any:
        if t is None or isinstance(t, str):
            return t
        td = self.r.types[t]
        if td.name is not None:
            return ("named", *self.origin(t))
        return self.shape(_kind(td.kind))

    def shape(self, k: Any) -> Any:
        """A JSON kind (see ``wit.json``) with type references made canonical, docs dropped."""
        if not isinstance(k, dict):
            return k  # "resource"
        (tag, v), = k.items()
        ty = self.ty
        if tag in ("type", "list", "option", "future", "stream"):
            return {tag: ty(v)}
        if tag == "handle":
            (hk, rid), = v.items()
            return {tag: {hk: ty(rid)}}
        if tag == "result":
            return {tag: {"ok": ty(v["ok"]), "err": ty(v["err"])}}
        if tag == "tuple":
            return {tag: [ty(x) for x in v["types"]]}
        if tag == "fixed-length-list":
            return {tag: [ty(v[0]), v[1]]}
        if tag == "map":
            return {tag: [ty(v[0]), ty(v[1])]}
        if tag == "record":
            return {tag: [(f["name"], ty(f["type"])) for f in v["fields"]]}
        if tag == "variant":
            return {tag: [(c["name"], ty(c["type"])) for c in v["cases"]]}
        if tag == "enum":
            return {tag: [c["name"] for c in v["cases"]]}
        if tag == "flags":
            return {tag: [f["name"] for f in v["flags"]]}
        raise AssertionError(k)

    def typedef(self, tid: int) -> Any:
        k = self.r.types[tid].kind
        if isinstance(k, KType) and isinstance(k.ty, int) and self.r.types[k.ty].name is not None:
            return ("alias", *self.origin(k.ty))
        return self.shape(_kind(k))

    def func(self, f: Any) -> Any:
        res = None if f.resource is None else self.origin(f.resource)
        return (f.name, f.kind, res, [(n, self.ty(t)) for n, t in f.params], self.ty(f.result))

    def world(self, wid: int) -> dict[tuple[str, str], Any]:
        w = self.r.worlds[wid]
        out: dict[tuple[str, str], Any] = {}
        for side, items in (("import", w.imports), ("export", w.exports)):
            for key, item in items.items():
                name = (side, self.r.name_world_key(key))
                if isinstance(item, WorldItemInterface):
                    iface = self.r.interfaces[item.id]
                    out[name] = {
                        "types": {n: self.typedef(t) for n, t in iface.types.items()},
                        "functions": {n: self.func(f) for n, f in iface.functions.items()},
                    }
                elif isinstance(item, WorldItemFunction):
                    out[name] = {"function": self.func(item.func)}
                elif isinstance(item, WorldItemType):
                    out[name] = {"type": self.typedef(item.id)}
        return out


def assert_same_world(decoded: Resolve, dwid: int, source: Resolve, swid: int) -> None:
    got = _Canon(decoded).world(dwid)
    want = _Canon(source).world(swid)
    # wit-component leaves out imported interfaces that have no functions and whose types
    # nothing uses; everything else must be there
    assert set(got) <= set(want), sorted(set(got) - set(want))
    for key in set(want) - set(got):
        assert "types" in want[key] and not want[key]["functions"], key
    for key, g in got.items():
        w = want[key]
        if "types" in g:
            assert g["functions"] == w["functions"], key
            for tname, tdef in g["types"].items():
                assert tname in w["types"], (key, tname)
                assert tdef == w["types"][tname], (key, tname)
        else:
            assert g == w, key


def _cases() -> list[Any]:
    if WASM_TOOLS is None or not CORPUS.is_dir():
        return [pytest.param("none", marks=pytest.mark.skip("wasm-tools or the corpus missing"))]
    out = []
    for name in PACKAGES:
        src = _source(name)
        if src is None:
            continue
        r = Resolve(features=set(FEATURES))
        pid = r.push_path(src)
        for w in [*r.packages[pid].worlds, *(SYNTH if r.packages[pid].interfaces else ())]:
            marks = [pytest.mark.slow] if name in SLOW_PACKAGES else []
            out.append(pytest.param(f"{name}/{w}", id=f"{name}/{w}", marks=marks))
    return out


@NEED_TOOLS
@NEED_CORPUS
@pytest.mark.parametrize("key", _cases())
def test_component_world(built: dict[str, Built], key: str) -> None:
    b = built[key]
    if b.error is not None:
        pytest.skip(f"wasm-tools cannot build this world: {b.error.strip().splitlines()[0]}")
    assert b.path is not None
    resolve, wid = component_to_resolve(b.path.read_bytes())
    # 1. exactly what wasm-tools decodes, id for id
    assert b.oracle is not None
    assert to_json(resolve) == b.oracle
    # 2. structurally the world it was built from
    assert_same_world(resolve, wid, b.source, b.source_world)


def test_enough_worlds_built(built: dict[str, Built]) -> None:
    if not built:
        pytest.skip("wasm-tools or the corpus missing")
    ok = [k for k, b in built.items() if b.error is None]
    assert len(ok) >= 60, sorted(k for k, b in built.items() if b.error)


# --- WIT packages encoded as components ------------------------------------------------------


def _strip(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if k not in ("docs", "stability")}
    if isinstance(x, list):
        return [_strip(v) for v in x]
    return x


@NEED_TOOLS
@NEED_CORPUS
@pytest.mark.parametrize("name", PACKAGES)
def test_wit_package_roundtrip(name: str) -> None:
    src = _source(name)
    if src is None:
        pytest.skip(f"{name} not in the corpus")
    out = _cached_package(src)
    if (out / "error.txt").exists():
        msg = (out / "error.txt").read_text(errors="replace").strip().splitlines()[0]
        pytest.skip(f"wasm-tools cannot encode: {msg}")
    data = (out / "pkg.wasm").read_bytes()
    if not is_wit_package(data):
        pytest.skip("the encoded package is empty (wasm-tools reads it as an empty component)")
    assert (out / "oracle.json").exists(), "wasm-tools cannot decode the package it encoded"
    got, pid = decode_wit_package(data)
    src_resolve = Resolve(features=set(FEATURES))
    main = src_resolve.push_path(src)
    assert got.packages[pid].name == src_resolve.packages[main].name
    assert _strip(to_json(got)) == _strip(json.loads((out / "oracle.json").read_bytes()))


def _cached_package(src: Path) -> Path:
    """``pkg.wasm`` (``component wit --wasm`` of ``src``) and its ``oracle.json`` (``component
    wit --json`` of that), or ``error.txt``; cached by content like :func:`_cached_build`."""
    assert WASM_TOOLS is not None

    def build(out: Path) -> None:
        p = _run("component", "wit", "--features", ",".join(FEATURES), "--wasm", str(src), "-o",
                 str(out / "pkg.wasm"))
        if _ok(p, out):
            _oracle(out / "pkg.wasm")

    key = content_key(tool_version(WASM_TOOLS), ",".join(sorted(FEATURES)), "wit --wasm", src)
    return cached_dir("wit-package", key, build)


# --- hand-written components (no wasm-tools needed) -------------------------------------------

USE_WAT = """
(component
  (type (instance
    (export "r" (type (sub resource)))
    (type (record (field "x" u32)))
    (export "point" (type (eq 1)))
    (type (own 0))
    (type (func (param "p" 2) (result 3)))
    (export "[constructor]r" (func (type 4)))
  ))
  (import "a:b/types@1.0.0" (instance $t (type 0)))
  (alias export $t "point" (type $point))
  (type (instance
    (alias outer 1 $point (type))
    (export "point" (type (eq 0)))
    (type (list 1))
    (type (func (param "ps" 2)))
    (export "f" (func (type 3)))
  ))
  (import "a:b/uses@1.0.0" (instance (type 2)))
  (type (enum "a" "b"))
  (import "e" (type (eq 3)))
  (type (func (param "x" 4) (result string)))
  (import "g" (func (type 5)))
)
"""


def test_use_edges_from_wat() -> None:
    resolve, wid = component_to_resolve(USE_WAT)
    w = resolve.worlds[wid]
    assert resolve.packages[w.package or 0].name.namespace == "root"
    names = [resolve.name_world_key(k) for k in w.imports]
    assert names == ["a:b/types@1.0.0", "a:b/uses@1.0.0", "e", "g"]
    uses = resolve.interfaces[resolve.packages[resolve.package_names[
        next(n for n in resolve.package_names if n.namespace == "a")]].interfaces["uses"]]
    point = resolve.types[uses.types["point"]]
    assert isinstance(point.kind, KType)  # `use types.{point}`
    target = point.kind.ty
    assert isinstance(target, int) and resolve.types[target].name == "point"
    assert resolve.types[target].owner is not None
    text = _print(resolve, wid)
    assert "use types.{point};" in text
    assert "import g: func(x: e) -> string;" in text
    assert "constructor(p: point);" in text


def _print(resolve: Resolve, wid: int) -> str:
    from wasm_component.wit import print_resolve

    return print_resolve(resolve, resolve.worlds[wid].package)


def test_rejects_unnamed_record() -> None:
    from wasm_component.errors import WitError

    wat = """(component
      (type (record (field "x" u32)))
      (type (func (param "p" 0)))
      (import "f" (func (type 1))))"""
    with pytest.raises(WitError, match="no name"):
        component_to_resolve(wat)


def test_accepts_component_object() -> None:
    from wasm_component import Component, Engine

    c = Component.new(Engine(), USE_WAT)
    r1, _ = component_to_resolve(c)
    r2, _ = component_to_resolve(USE_WAT)
    assert to_json(r1) == to_json(r2)


def test_package_from_wat() -> None:
    wat = '(component (type $x (component (export "a:b/x" (instance)))) (export "x" (type $x)))'
    assert is_wit_package(wat)
    r, pid = decode_wit_package(wat)
    assert str(r.packages[pid].name) == "a:b"
    assert list(r.packages[pid].interfaces) == ["x"]


# --- the command ---------------------------------------------------------------------------------


def test_cli_component(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.wat"
    path.write_text(USE_WAT)
    assert wit_main([str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("package root:component;\n")
    assert "world root {" in out and "package a:b@1.0.0 {" in out
    assert wit_main(["--json", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == to_json(component_to_resolve(USE_WAT)[0])


def test_cli_wit_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.wit"
    path.write_text("package a:b;\ninterface i {\n  @unstable(feature = x)\n  f: func();\n}\n")
    assert wit_main([str(path)]) == 0
    assert "f: func" not in capsys.readouterr().out
    assert wit_main(["--features", "x", str(path)]) == 0
    assert "f: func();" in capsys.readouterr().out
    assert wit_main(["--all-features", "--json", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data["interfaces"][0]["functions"]) == ["f"]


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.wit"
    bad.write_text("package a:b;\ninterface {")
    assert wit_main([str(bad)]) == 1
    assert capsys.readouterr().err.startswith("error: ")
    assert wit_main([str(tmp_path / "missing.wasm")]) == 1
    assert capsys.readouterr().err.startswith("error: ")
    junk = tmp_path / "junk.wasm"
    junk.write_bytes(b"\x00asm\x01\x00\x00\x00")
    assert wit_main([str(junk)]) == 1
    assert capsys.readouterr().err.startswith("error: ")
    assert wit_main([]) == 1
    assert wit_main(["--bogus", "x"]) == 1


@NEED_CORPUS
def test_cli_package_wat(capsys: pytest.CaptureFixture[str]) -> None:
    assert wit_main([str(CORPUS / "simple-wasm-text.wat")]) == 0
    assert capsys.readouterr().out == "package a:b;\n\ninterface x {\n}\n"
