"""The command line: every command's help, errors as `error: ...` without a traceback, exit
codes, and the ways a new user gets it wrong (wast on the wrong file, bindgen source text)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from wasm_component import Component, Engine, Linker, Store
from wasm_component.cli import main

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wasm_component", *args],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )


def test_inspect_names_resources() -> None:
    out = cli("inspect", "benchmarks/components/resources.wat")
    assert out.returncode == 0, out.stderr
    assert "export [constructor]counter: func(init: u32) -> own<counter>;" in out.stdout


def test_run_and_errors() -> None:
    ok = cli("run", "examples/greeter.wat", "--invoke", "add(40, 2)")
    assert (ok.returncode, ok.stdout) == (0, "42\n")
    bad = cli("run", "examples/greeter.wat", "--invoke", 'add(40, "x")')
    assert bad.returncode == 1 and bad.stderr.startswith("error: ") and "expected u32" in bad.stderr
    missing = cli("inspect", "does-not-exist.wasm")
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")
    unknown = cli("frobnicate")
    assert unknown.returncode == 2


def test_wast_counts_and_exit_status(tmp_path: Path) -> None:
    wast = tmp_path / "t.wast"
    wast.write_text('(component)\n(assert_invalid (component (export "a" (func 0))) "unknown")\n')
    out = cli("wast", str(wast))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().endswith("2 passed, 0 failed, 0 skipped")
    wast.write_text('(assert_invalid (component) "should have failed")\n')
    out = cli("wast", str(wast))
    assert out.returncode == 1
    assert out.stdout.strip().endswith("0 passed, 1 failed, 0 skipped")


# --- a command line that fails well (in process: quick) ------------------------------------

NEED_WASM_TOOLS = pytest.mark.skipif(shutil.which("wasm-tools") is None,
                                     reason="wasm-tools is not on PATH")


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.mark.parametrize("cmd", ["inspect", "wast", "wit", "bindgen", "compile"])
def test_every_command_has_help_with_examples(cmd: str, capsys: pytest.CaptureFixture[str]
                                              ) -> None:
    status, out, err = run_main(capsys, cmd, "--help")
    assert status == 0, err
    assert out.startswith(f"usage: wasm-component {cmd}") and "examples:" in out
    assert "error" not in err


def test_version_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_main(capsys, "--version")
    assert (status, out) == (0, f"wasm-component {metadata.version('wasm-component')}\n")
    status, out, _ = run_main(capsys, "--help")
    assert status == 0 and all(c in out for c in ("run", "inspect", "compile", "examples:"))
    status, _, err = run_main(capsys, "--bogus")
    assert status == 2 and "unknown option `--bogus`" in err


def test_errors_have_no_traceback_unless_verbose(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.wasm"
    junk.write_bytes(b"\x00asm\x0d\x00\x01\x00garbage")
    status, _, err = run_main(capsys, "inspect", str(junk))
    assert status == 1 and err.startswith("error: ") and "Traceback" not in err
    status, _, err = run_main(capsys, "-v", "inspect", str(junk))
    assert status == 1 and "Traceback" in err and "error: " in err


def test_inspect_json_and_it_compiles_nothing(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from wasm_component._runtime import core

    def refuse(*_: object) -> None:
        raise AssertionError("inspect compiled a core module")

    monkeypatch.setattr(core, "compile_module", refuse)
    path = str(ROOT / "benchmarks" / "components" / "resources.wat")
    status, out, err = run_main(capsys, "inspect", "--json", path)
    assert status == 0, err
    data = json.loads(out)
    exports = {e["name"]: e for e in data["exports"]}
    assert exports["counter"] == {"name": "counter", "kind": "resource"}
    ctor = exports["[constructor]counter"]
    assert ctor["kind"] == "func" and ctor["params"] == [{"name": "init", "type": "u32"}]
    assert ctor["result"] == "own<counter>"
    status, out, _ = run_main(capsys, "inspect", path)
    assert status == 0 and "export [constructor]counter: func(init: u32) -> own<counter>;" in out


def test_inspect_still_validates_core_modules(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.wat"
    bad.write_text("(component (core module (func (result i32))))")
    status, _, err = run_main(capsys, "inspect", str(bad))
    assert status == 1 and "invalid core module" in err and "type mismatch" in err


def test_compile_then_deserialize_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    out = tmp_path / "hello.cwasm"
    status, _, err = run_main(capsys, "compile", str(ROOT / "examples" / "hello.wat"), "-o",
                              str(out))
    assert status == 0, err
    engine = Engine()
    component = Component.deserialize_file(engine, out)
    linker = Linker(engine)
    linker.root().func_wrap("name", lambda store: "Cwasm")
    store = Store(engine, None)
    greet = linker.instantiate(store, component).get_func(store, "greet")
    assert greet is not None and greet(store) == "Hello, Cwasm!"
    src = tmp_path / "x.wat"
    src.write_text("(component)")
    assert run_main(capsys, "compile", str(src))[0] == 0
    assert (tmp_path / "x.cwasm").exists()
    status, _, err = run_main(capsys, "compile", str(tmp_path / "missing.wasm"))
    assert status == 1 and err.startswith("error: ") and "missing.wasm" in err


@pytest.mark.parametrize("host", ["does-not-exist", "README.md"])
def test_run_dir_that_is_not_a_directory_is_a_usage_error(
        host: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Refused where `--dir` is read, naming it: not an internal error at instantiation."""
    status, _, err = run_main(capsys, "run", "--dir", f"{ROOT / host}::/x", "--invoke",
                              "add(1, 2)", str(ROOT / "examples" / "greeter.wat"))
    assert status == 1
    assert "internal error" not in err and f"`--dir {ROOT / host}::/x`" in err
    assert "expected a host directory" in err


def test_run_takes_a_compiled_component(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    out = tmp_path / "greeter.cwasm"
    assert run_main(capsys, "compile", str(ROOT / "examples" / "greeter.wat"), "-o",
                    str(out))[0] == 0
    status, stdout, err = run_main(capsys, "run", "--no-cache", "--invoke", 'greet("World")',
                                   str(out))
    assert status == 0, err
    assert stdout.strip() == '"Hello, World!"'


def test_bindgen_takes_source_only_when_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import io

    src = "package a:b;\nworld w { export f: func(); }\n"
    # a file whose name starts like WIT source is a path
    named = tmp_path / "world w.wit"
    named.write_text(src)
    assert run_main(capsys, "bindgen", str(named), "-o", str(tmp_path / "o1"))[0] == 0
    assert (tmp_path / "o1" / "__init__.py").exists()
    status, _, err = run_main(capsys, "bindgen", "world w {}", "-o", str(tmp_path / "o2"))
    assert status == 1 and "does not exist" in err
    assert run_main(capsys, "bindgen", "--wit-source", src, "-o", str(tmp_path / "o3"))[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(src))
    assert run_main(capsys, "bindgen", "-", "-o", str(tmp_path / "o4"))[0] == 0
    assert (tmp_path / "o3" / "__init__.py").read_text() == \
        (tmp_path / "o4" / "__init__.py").read_text()
    status, _, err = run_main(capsys, "bindgen", "-o", str(tmp_path / "o5"))
    assert status == 2 and "one WIT input" in err


def test_wast_refuses_what_it_cannot_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    cases = {"missing.wast": None, "notes.txt": "hi", "module.wasm": "\x00asm"}
    for name, text in cases.items():
        if text is not None:
            (tmp_path / name).write_text(text)
    status, out, _ = run_main(capsys, "wast", str(tmp_path / "missing.wast"))
    assert status == 1 and "no such file or directory" in out and "0 passed, 1 failed" in out
    for name in ("notes.txt", "module.wasm"):
        status, out, _ = run_main(capsys, "wast", str(tmp_path / name))
        assert status == 1 and "expected a .wast file" in out and "JSON" not in out, out
    empty = tmp_path / "empty"
    empty.mkdir()
    status, out, _ = run_main(capsys, "wast", str(empty))
    assert status == 1 and "no test files" in out
    notjson = tmp_path / "test.json"
    notjson.write_text("garbage")
    status, out, _ = run_main(capsys, "wast", str(notjson))
    assert status == 1 and "is not a test.json" in out
    status, _, err = run_main(capsys, "wast", "--features", "bogus", str(notjson))
    assert status == 2 and "unknown feature `bogus`" in err
    # without wasm-tools a .wast cannot be converted: a failure that says so
    (tmp_path / "t.wast").write_text("(component)\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    status, out, _ = run_main(capsys, "wast", str(tmp_path / "t.wast"))
    assert status == 1 and "needs `wasm-tools`" in out


@NEED_WASM_TOOLS
def test_wast_garbage_and_failure_lines_name_the_wast(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "garbage.wast"
    garbage.write_text("this is not wast\n")
    status, out, _ = run_main(capsys, "wast", str(garbage))
    assert status == 1 and "cannot parse" in out and str(garbage) in out
    bad = tmp_path / "bad.wast"
    bad.write_text('(component)\n(assert_invalid (component) "should have failed")\n')
    status, out, _ = run_main(capsys, "wast", str(bad))
    assert status == 1
    assert f"FAIL  {bad} (1 passed, 1 failed, 0 skipped)" in out
    assert f"{bad}:2: assert_invalid: fail:" in out and "/tmp/wast-" not in out


@NEED_WASM_TOOLS
def test_wast_features_set_the_base(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "fixed.wast"
    path.write_text("(component (type (list u32 4)))\n")
    status, out, _ = run_main(capsys, "wast", str(path))
    assert status == 1 and "fixed-length lists" in out
    status, out, _ = run_main(capsys, "wast", "--features", "cm-fixed-length-lists", str(path))
    assert status == 0 and out.endswith("1 passed, 0 failed, 0 skipped\n")


VALUES_WAST = """(component
  (core module $m
    (func (export "rec") (param i32 f32) (result f32) local.get 1)
    (func (export "opt") (param i32 i32 i32) (result i32)
      (i32.add (i32.mul (local.get 0) (i32.const 10)) (local.get 1)))
    (func (export "res") (param i32 i32) (result i32) local.get 1)
    (func (export "var") (param i32 f64) (result f64) local.get 1)
    (func (export "flg") (param i32) (result i32) local.get 0)
    (func (export "tup") (param f32 i32) (result i32) local.get 1)
  )
  (core instance $i (instantiate $m))
  (type $r' (record (field "a" u32) (field "b-c" f32)))
  (export $r "r" (type $r'))
  (type $v' (variant (case "a" f64) (case "b")))
  (export $v "v" (type $v'))
  (type $f' (flags "p" "q" "r"))
  (export $f "f" (type $f'))
  (func (export "rec") (param "x" $r) (result f32) (canon lift (core func $i "rec")))
  (func (export "opt") (param "x" (option (option u32))) (result u32)
    (canon lift (core func $i "opt")))
  (func (export "res") (param "x" (result u32 (error f32))) (result u32)
    (canon lift (core func $i "res")))
  (func (export "var") (param "x" $v) (result f64) (canon lift (core func $i "var")))
  (func (export "flg") (param "x" $f) (result u32) (canon lift (core func $i "flg")))
  (func (export "tup") (param "x" (tuple f32 char)) (result char)
    (canon lift (core func $i "tup")))
)
(assert_return (invoke "rec" (record.const (field "a" u32.const 1) (field "b-c" f32.const 1.5)))
  (f32.const 1.5))
(assert_return (invoke "opt" (option.some (option.none))) (u32.const 10))
(assert_return (invoke "opt" (option.some (option.some (u32.const 3)))) (u32.const 11))
(assert_return (invoke "opt" (option.none)) (u32.const 0))
(assert_return (invoke "res" (result.err (f32.const 1.5))) (u32.const 1069547520))
(assert_return (invoke "res" (result.ok (u32.const 7))) (u32.const 7))
(assert_return (invoke "var" (variant.const "a" (f64.const -0.25))) (f64.const -0.25))
(assert_return (invoke "flg" (flags.const "p" "r")) (u32.const 5))
(assert_return (invoke "tup" (tuple.const (f32.const 2.5) (char.const "x"))) (char.const "x"))
"""


@NEED_WASM_TOOLS
def test_wast_decodes_every_value_form_at_any_depth(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Records, options of options, results, variants, flags and tuples as arguments, with
    floats (which json-from-wast writes as bit patterns) inside them."""
    path = tmp_path / "values.wast"
    path.write_text(VALUES_WAST)
    status, out, _ = run_main(capsys, "wast", str(path))
    assert status == 0, out
    assert out.endswith("10 passed, 0 failed, 0 skipped\n")
    # and a wrong expectation fails: the values are compared, not ignored
    path.write_text(VALUES_WAST.replace("(u32.const 1069547520)", "(u32.const 1069547521)")
                    .replace("(f32.const 1.5))\n(assert", "(f32.const 2.5))\n(assert", 1))
    status, out, _ = run_main(capsys, "wast", str(path))
    assert status == 1 and "8 passed, 2 failed" in out, out
    assert "expected 1069547521, got 1069547520" in out and "expected 2.5, got 1.5" in out


def test_json_values_of_every_form() -> None:
    from wasm_component._wast_support import json_value
    from wasm_component.values import Err, Ok, Record, Some, Variant

    f32 = {"type": "f32", "value": "1069547520"}  # 1.5
    f64 = {"type": "f64", "value": "13826050856027422720"}  # -0.5
    v = {"type": "list", "value": [
        {"type": "record", "value": [["a-b", f32], ["c", {"type": "tuple", "value": [f64]}]]},
        {"type": "result", "value": {"Ok": None}},
        {"type": "result", "value": {"Err": {"type": "option", "value": f32}}},
        {"type": "option", "value": {"type": "option", "value": None}},
        {"type": "variant", "value": {"case": "x", "payload": f64}},
        {"type": "flags", "value": ["p"]},
        {"type": "f64", "value": "nan:canonical"},
    ]}
    got = json_value(v)
    assert got[:6] == [Record({"a-b": 1.5, "c": (-0.5,)}), Ok(None), Err(1.5), Some(None),
                       Variant("x", -0.5), frozenset({"p"})]
    assert got[6] != got[6]  # NaN
    with pytest.raises(ValueError, match="unsupported wast value type `nope`"):
        json_value({"type": "nope", "value": 1})


def test_a_command_exiting_with_a_message_prints_it(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import wasm_component.compile as compile_cmd

    def bail(argv: list[str]) -> int:
        raise SystemExit("wasm-component compile: no way")

    monkeypatch.setattr(compile_cmd, "main", bail)
    status, _, err = run_main(capsys, "compile", "x")
    assert (status, err) == (1, "wasm-component compile: no way\n")
