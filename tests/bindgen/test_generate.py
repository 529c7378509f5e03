"""Static generation: every world of the wit-parser corpus generates bindings that import and
pass ``mypy --strict`` (one mypy run over all of them); the CLI; generator options."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpora import CORPORA
from wasm_component import bindgen
from wasm_component import types as t
from wasm_component.bindgen.cli import main as cli_main
from wasm_component.bindgen.generator import generate_world
from wasm_component.wit import Resolve
from wasm_component.wit.to_types import function_type, wit_type_to_type

ROOT = Path(__file__).resolve().parents[2]
CORPUS = CORPORA / "wit-parser" / "ui"
EX = ROOT / "examples" / "bindgen"


def _corpus_inputs() -> list[Path]:
    return [p for p in sorted(CORPUS.iterdir())
            if p.name != "parse-fail" and p.suffix not in (".json", ".wat", ".md")]


def _write_corpus(out: Path) -> list[str]:
    pkgs = []
    for p in _corpus_inputs():
        r = Resolve(features={"active"})
        try:
            r.push_path(p)
        except Exception as e:  # e.g. binary-encoded deps: not bindgen's concern
            if "binary-encoded" in str(e):
                continue
            raise
        for wid, w in enumerate(r.worlds):
            name = "w_" + "".join(c if c.isalnum() else "_" for c in f"{p.stem}_{wid}_{w.name}")
            for rel, text in generate_world(r, wid).items():
                f = out / name / rel
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_text(text, encoding="utf-8")
            pkgs.append(name)
    return pkgs


def test_corpus_bindings_import_and_typecheck(tmp_path: Path) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"wit-parser corpus not found at {CORPUS} (expected the repo's sibling "
                    "../shared)")
    pkgs = _write_corpus(tmp_path)
    assert len(pkgs) > 80
    sys.path.insert(0, str(tmp_path))
    try:
        for name in pkgs:
            mod = importlib.import_module(name)
            assert hasattr(mod, "add_to_linker") and hasattr(mod, "Bindings")
            for sub in (tmp_path / name / "exports").glob("*.py"):
                importlib.import_module(f"{name}.exports.{sub.stem}")
            for sub in (tmp_path / name / "imports").glob("*.py"):
                importlib.import_module(f"{name}.imports.{sub.stem}")
    finally:
        sys.path.remove(str(tmp_path))
        for k in [k for k in sys.modules if k.startswith("w_")]:
            del sys.modules[k]
    res = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version",
         "3.11", "--cache-dir", str(tmp_path / ".mypy"), "."],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-2000:]


def test_cli_writes_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rtb"
    assert cli_main([str(EX / "roundtrip.wit"), "--world", "roundtrip", "-o", str(out)]) == 0
    assert (out / "__init__.py").is_file()
    assert (out / "exports" / "test_bg_api.py").is_file()
    assert "test_bg_host.py" in capsys.readouterr().out
    assert cli_main([str(tmp_path / "missing.wit"), "-o", str(out)]) == 1
    assert cli_main([str(EX / "roundtrip.wit"), "-o", str(out), "--with", "bad"]) == 2
    from wasm_component.cli import main as top

    assert top(["bindgen", str(EX / "roundtrip.wit"), "-o", str(tmp_path / "x")]) == 0


WIT = """
package a:b;
interface i {
  /// A documented record.
  record r { a-b: u32, %type: string }
  resource res { constructor(); }
  enum e { none, some }
  f: func(x: r) -> e;
  @unstable(feature = fancy)
  g: func();
}
world w {
  use i.{r};
  import i;
  export i;
  export run: func(x: list<r>) -> option<r>;
}
"""


def test_runtime_form_and_options() -> None:
    m = bindgen.load(WIT, "w", decorators=["typing:final"], bases=["collections.abc:Hashable"])
    iface = m.imports.a_b_i
    r = iface.R(1, "x")
    assert (r.a_b, r.type) == (1, "x")
    assert iface.R.__doc__ == "A documented record."
    assert iface.R.__final__ is True and iface.E.__final__ is True
    assert issubclass(iface.R, __import__("collections.abc").abc.Hashable)
    assert iface.E.NONE.value == "none"
    assert not hasattr(iface.Host, "g"), "@unstable items are off by default"
    m2 = bindgen.load(WIT, "w", features=["fancy"],
                      with_={"a:b/i/res": "collections:OrderedDict"})
    assert hasattr(m2.imports.a_b_i.Host, "g")
    assert m2.imports.a_b_i.Res is __import__("collections").OrderedDict
    assert m.exports.a_b_i.R is not iface.R, "import and export sides have their own classes"
    files = bindgen.generate(WIT, "w", with_={"a:b/i": "somewhere.else"})
    assert "imports/a_b_i.py" not in files
    assert "import somewhere.else as _mi_a_b_i" in files["__init__.py"]


def test_to_types() -> None:
    r = Resolve()
    r.push_str("""
    package a:b;
    interface i {
      resource res;
      record p { x: u8, y: list<u8> }
      type alias = p;
      variant v { a, b(alias) }
      f: func(a: borrow<res>, b: own<res>, c: option<v>, d: result<_, string>,
              e: tuple<char, flags-t>, m: list<alias, 2>) -> enum-t;
      flags flags-t { x, y }
      enum enum-t { q }
    }
    """)
    iface = r.interfaces[0]
    rt = t.ResourceType.host(object, "res")
    res = {iface.types["res"]: rt}
    p = t.RecordType((("x", t.U8), ("y", t.ListType(t.U8))))
    assert wit_type_to_type(r, iface.types["alias"], res) == p
    ft = function_type(r, iface.functions["f"], res)
    assert ft == t.FuncType((
        ("a", t.BorrowType(rt)), ("b", t.OwnType(rt)),
        ("c", t.OptionType(t.VariantType((("a", None), ("b", p))))),
        ("d", t.ResultType(None, t.STRING)),
        ("e", t.TupleType((t.CHAR, t.FlagsType(("x", "y"))))),
        ("m", t.ListType(p, 2)),
    ), t.EnumType(("q",)))
    fresh: dict[int, t.ResourceType] = {}
    ft2 = function_type(r, iface.functions["f"], fresh)
    assert list(fresh) == [iface.types["res"]]
    assert ft2.params[0][1] == t.BorrowType(fresh[iface.types["res"]])


def test_static_example_runs_and_typechecks(tmp_path: Path) -> None:
    out = tmp_path / "roundtrip_bindings"
    assert cli_main([str(EX / "roundtrip.wit"), "--world", "roundtrip", "-o", str(out),
                     "--with", "test:bg/host/logger=mylog:Log"]) == 0
    env_path = f"{tmp_path}:{EX}"
    import os

    env = {**os.environ, "PYTHONPATH": env_path, "MYPYPATH": env_path}
    run = subprocess.run([sys.executable, str(EX / "app.py")], capture_output=True, text=True,
                         env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["world", "ShapeCircle(value=2.0) Err('no exec')", "7", "1"]
    res = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
         str(tmp_path / ".mypy"), str(EX / "app.py")],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )
    assert res.returncode == 0, res.stdout[-3000:]
