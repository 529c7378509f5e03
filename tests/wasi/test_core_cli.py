"""``wasm-component run``: wasmtime run's flags and exit codes, ``--invoke`` names inside
interfaces, the compiled-component cache and its progress note."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from wasm_component import Component, Engine
from wasm_component import run as run_mod

from ._build import TRAPPED, c_component
from .test_core_c import ARGS_ENV

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict[str, str] | None = None, stdin: bytes = b""
        ) -> subprocess.CompletedProcess[bytes]:
    e = dict(os.environ, PYTHONPATH=str(ROOT / "src"), **(env or {}))
    return subprocess.run([sys.executable, "-m", "wasm_component", "run", *args], input=stdin,
                          capture_output=True, env=e, timeout=300, cwd=ROOT)


@pytest.fixture(scope="module")
def prog() -> str:
    return str(c_component(ARGS_ENV, "args_env"))


def test_args_env_and_exit_codes(prog: str) -> None:
    r = cli("--env", "GREETING=hello", "--env", "FROM_HOST", "--env", "UNSET_HERE", prog,
            "x", "--not-ours", env={"FROM_HOST": "inherited"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == [
        "argc=3", f"argv[0]={prog}", "argv[1]=x", "argv[2]=--not-ours",
        "env GREETING=hello", "env FROM_HOST=inherited", "GREETING=hello"]
    assert r.stderr == b"to stderr\n"
    assert cli(prog, "fail").returncode == 1
    assert cli(prog, "exit", "0").returncode == 0
    trapped = cli(prog, "abort")
    assert trapped.returncode == TRAPPED and b"error: " in trapped.stderr


def test_invoke_inside_interfaces(prog: str) -> None:
    for call in ("wasi:cli/run@0.2.12#run()", "wasi:cli/run@0.2.0#run()",
                 "wasi:cli/run@0.2.12.run()"):
        r = cli("--invoke", call, prog)
        assert (r.returncode, r.stdout.splitlines()[-1]) == (0, b"ok"), (call, r.stderr)
    bad = cli("--invoke", "wasi:cli/run@0.2.0#nope()", prog)
    assert bad.returncode == 1
    assert b"no function export `wasi:cli/run@0.2.0#nope`" in bad.stderr
    assert b"  wasi:cli/run@0.2.12#run" in bad.stderr  # the list of what there is


def test_plain_exports_and_the_older_argument_order() -> None:
    assert cli("--invoke", "add(40, 2)", "examples/greeter.wat").stdout == b"42\n"
    assert cli("examples/greeter.wat", "--invoke", "add(1, 2)").stdout == b"3\n"
    none = cli("examples/greeter.wat")
    assert none.returncode == 1 and b"exports no `wasi:cli/run`" in none.stderr


def test_dir_reaches_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    ns = run_mod._parse_args(["--dir", "/tmp::/sandbox", "--dir", "data", "f.wasm", "a"])
    config = run_mod._config(ns)
    assert [(p.host, p.guest, p.readonly) for p in config.preopens] == [
        ("/tmp", "/sandbox", False), ("data", "data", False)]
    assert config.argv == ["f.wasm", "a"]


def test_cache(prog: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WASM_COMPONENT_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("WASM_COMPONENT_NO_CACHE", raising=False)
    engine = Engine()
    monkeypatch.setattr(run_mod, "_SLOW_COMPILE_S", 0.0)
    first = run_mod.load_component(engine, prog, progress=True)
    entries = list(tmp_path.glob("*.cwasm"))
    assert len(entries) == 1
    err = capsys.readouterr().err
    assert "compiling" in err and "compiled in" in err  # the note on a terminal
    compiled: list[int] = []
    real_new = Component.new

    def counting_new(*a: Any, **k: Any) -> Component:
        compiled.append(1)
        return real_new(*a, **k)

    monkeypatch.setattr(Component, "new", staticmethod(counting_new))
    again = run_mod.load_component(engine, prog, progress=True)
    assert not compiled and capsys.readouterr().err == ""  # from the cache, silently
    assert again.component_type().exports == first.component_type().exports
    run_mod.load_component(engine, prog, cache=False, progress=False)
    monkeypatch.setenv("WASM_COMPONENT_NO_CACHE", "1")
    run_mod.load_component(engine, prog, progress=False)
    assert len(compiled) == 2
    entries[0].write_bytes(b"damaged")
    monkeypatch.delenv("WASM_COMPONENT_NO_CACHE")
    run_mod.load_component(engine, prog, progress=False)  # recompiled, not an error
    assert len(compiled) == 3
    # A bit flipped inside a compiled core module (wasmtime's deserializer, unchecked, can
    # abort the process on one): the entry's CRC-32 fails, so it is compiled again.
    raw = bytearray(entries[0].read_bytes())
    raw[len(raw) // 2] ^= 0x10
    entries[0].write_bytes(bytes(raw))
    run_mod.load_component(engine, prog, progress=False)
    assert len(compiled) == 4
    run_mod.load_component(engine, prog, progress=False)  # (the entry written again is good)
    assert len(compiled) == 4


def test_cli_no_cache_flag(prog: str, tmp_path: Path) -> None:
    r = cli("--no-cache", prog, env={"WASM_COMPONENT_CACHE_DIR": str(tmp_path)})
    assert r.returncode == 0 and not list(tmp_path.iterdir())
    r = cli(prog, env={"WASM_COMPONENT_CACHE_DIR": str(tmp_path)})
    assert r.returncode == 0 and len(list(tmp_path.glob("*.cwasm"))) == 1


FILES = r"""
#include <stdio.h>
int main(void) {
  FILE *f = fopen("/data/in.txt", "r");
  if (!f) { perror("open /data/in.txt"); return 2; }
  char buf[100]; size_t n = fread(buf, 1, sizeof buf - 1, f); buf[n] = 0; fclose(f);
  printf("read: %s", buf);
  FILE *o = fopen("/data/out.txt", "w");
  if (!o) { perror("open /data/out.txt"); return 3; }
  fprintf(o, "written\n");
  fclose(o);
  return 0;
}
"""


def test_dir_preopens_a_host_directory(tmp_path: Path) -> None:
    prog = str(c_component(FILES, "files"))
    (tmp_path / "in.txt").write_text("file content\n")
    r = cli("--dir", f"{tmp_path}::/data", prog)
    assert (r.returncode, r.stdout) == (0, b"read: file content\n"), r.stderr
    assert (tmp_path / "out.txt").read_text() == "written\n"
    denied = cli(prog)  # no --dir: nothing to open
    # (the adapter turns main's 2 into exit(err): code 1)
    assert denied.returncode == 1 and b"open /data/in.txt" in denied.stderr


BROKEN_PIPE = r"""
IMPORT("wasi:cli/stdout@0.2.12", "get-stdout") int32_t get_stdout(void);
IMPORT("wasi:io/streams@0.2.12", "[method]output-stream.blocking-write-and-flush")
void write_and_flush(int32_t stream, const uint8_t *data, int32_t len, uint8_t *ret);

/* stdout's blocking-write-and-flush, twice: "ok", or which stream-error */
static const char *outcome(int32_t out) {
    static uint8_t ret[12] __attribute__((aligned(4)));
    memset(ret, 0xff, sizeof ret);
    write_and_flush(out, (const uint8_t *)"x\n", 2, ret);
    return ret[0] == 0 ? "ok" : ret[4] == 1 ? "closed" : "last-operation-failed";
}

int main(int argc, char **argv) {
    int32_t out = get_stdout();
    fprintf(stderr, "first %s\n", outcome(out));
    fprintf(stderr, "again %s\n", outcome(out));
    return 0;
}
"""


def _stdout_outcomes(stdout: str) -> dict[str, tuple[int, list[str]]]:
    """BROKEN_PIPE's exit code and stderr lines on both CLIs, its stdout a pipe without a
    reader (``"no reader"``) or a closed descriptor (``"closed"``)."""
    from ._build import c_component_importing, wasmtime_cli

    source = (Path(__file__).parent / "conformance" / "conf.h").read_text()
    prog = str(c_component_importing("#define CONF_DIRECT 1\n" + source + BROKEN_PIPE,
                                     "broken_pipe", ["wasi:cli/stdout@0.2.12",
                                                     "wasi:io/streams@0.2.12"]))
    said = {}
    for side, cmd in (("ours", [sys.executable, "-m", "wasm_component", "run", prog]),
                      ("wasmtime", [wasmtime_cli(), "run", prog])):
        r, w = os.pipe()
        os.close(r)  # before the guest starts: its first write finds no reader
        try:
            p = subprocess.run(cmd, stdout=w, stderr=subprocess.PIPE, timeout=300, cwd=ROOT,
                               env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
                               preexec_fn=(lambda: os.close(1)) if stdout == "closed" else None)
        finally:
            os.close(w)
        said[side] = (p.returncode, p.stderr.decode().splitlines())
    return said


def test_a_stdout_nobody_reads_is_closed() -> None:
    # A stdout pipe whose reader has gone (EPIPE): the WIT's `closed` ("no more input will be
    # accepted by the stream"), as wasmtime answers (a Rust guest then reports the error
    # wasmtime's does, not EPIPE); and "a closed output-stream will return this error on all
    # future operations", where wasmtime 49 answers the next write `ok`.
    said = _stdout_outcomes("no reader")
    assert said["ours"] == (0, ["first closed", "again closed"])
    assert said["wasmtime"][0] == 0 and said["wasmtime"][1][0] == "first closed"


def test_a_closed_stdout_takes_writes() -> None:
    # Started with descriptor 1 closed (`>&-`; Python's sys.stdout is None): the writes
    # succeed and go nowhere, as wasmtime's (Rust's stdio takes EBADF so); was an internal
    # error of `wasm-component run`.
    said = _stdout_outcomes("closed")
    assert said["ours"] == said["wasmtime"] == (0, ["first ok", "again ok"])
