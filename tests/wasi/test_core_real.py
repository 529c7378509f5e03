"""Real command components from real toolchains (a componentize-py app, ~18 MB, and a
componentize-js app, ~14 MB), built in the tests (cached on disk), run through our API and
through ``wasm-component run``, compared with ``wasmtime.component`` + ``add_wasip2`` on the
same inputs: stdout, stderr and exit code. The apps print, read args, env and stdin, read the
wall and monotonic clocks, sleep, and draw random bytes; `fail` makes them fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ._build import (
    Inputs,
    componentize_js_command,
    componentize_py_command,
    run_ours,
    run_wasmtime,
)

PY_APP = '''
import os
import sys
import time

from componentize_py_types import Err
from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        print("hello from python")
        print("args", sys.argv[1:])
        print("GREETING", os.environ.get("GREETING"))
        print("wall", time.time() > 1.6e9)
        t0 = time.monotonic()
        time.sleep(0.02)
        print("slept", time.monotonic() - t0 >= 0.02)
        print("random", len(os.urandom(16)), os.urandom(16) != os.urandom(16))
        print("stdin", repr(sys.stdin.read()))
        sys.stderr.write("to stderr\\n")
        sys.stdout.flush()
        if sys.argv[1:2] == ["fail"]:
            raise Err(None)
'''

JS_APP = '''
import { getEnvironment, getArguments } from 'wasi:cli/environment@0.2.12';
export const run = {
  run() {
    console.log("hello from js");
    console.log("args " + JSON.stringify(getArguments().slice(1)));
    const env = Object.fromEntries(getEnvironment());
    console.log("GREETING " + env.GREETING);
    console.log("wall " + (Date.now() > 1.6e12));
    const a = new Uint8Array(16), b = new Uint8Array(16);
    crypto.getRandomValues(a); crypto.getRandomValues(b);
    console.log("random " + a.length + " " + a.some((x, i) => x !== b[i]));
    console.error("to stderr");
    if (getArguments()[1] === "fail") throw new Error("failing");
  }
};
'''

CASES = [
    Inputs(("app", "a", "b c"), (("GREETING", "hi"),), b"some input"),
    Inputs(("app", "fail"), (), b""),
]
IDS = ["ok", "fail"]


@pytest.fixture(scope="module")
def py_app() -> Path:
    return componentize_py_command(PY_APP)


@pytest.fixture(scope="module")
def js_app() -> Path:
    return componentize_js_command(JS_APP)


@pytest.mark.parametrize("inputs", CASES, ids=IDS)
def test_componentize_py_matches_wasmtime(py_app: Path, inputs: Inputs) -> None:
    ours = run_ours(py_app, inputs)
    assert ours == run_wasmtime(py_app, inputs)
    assert ours.stdout.startswith(b"hello from python\n")
    assert b"slept True\nrandom 16 True\n" in ours.stdout
    assert ours.code == (1 if "fail" in inputs.args else 0)


@pytest.mark.parametrize("inputs", CASES, ids=IDS)
def test_componentize_js_matches_wasmtime(js_app: Path, inputs: Inputs) -> None:
    ours = run_ours(js_app, inputs)
    assert ours == run_wasmtime(js_app, inputs)
    assert ours.stderr == b"to stderr\n" and ours.code == (1 if "fail" in inputs.args else 0)
    assert ours.stdout.startswith(b"hello from js\n") and b"random 16 true\n" in ours.stdout


def _cli(app: Path, inputs: Inputs) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    flags = [f"--env={k}={v}" for k, v in inputs.env]
    return subprocess.run(
        [sys.executable, "-m", "wasm_component", "run", *flags, str(app), *inputs.args[1:]],
        input=inputs.stdin, capture_output=True, env=env, timeout=600)


@pytest.mark.parametrize("inputs", CASES, ids=IDS)
def test_cli_runs_the_componentize_py_app(py_app: Path, inputs: Inputs) -> None:
    run_ours(py_app, inputs)  # compiles into the shared on-disk cache first
    r = _cli(py_app, inputs)
    theirs = run_wasmtime(py_app, Inputs((str(py_app), *inputs.args[1:]), inputs.env,
                                         inputs.stdin))
    assert (r.stdout, r.stderr, r.returncode) == (theirs.stdout, theirs.stderr, theirs.code)


def test_cli_runs_the_componentize_js_app(js_app: Path) -> None:
    inputs = CASES[0]
    run_ours(js_app, inputs)
    r = _cli(js_app, inputs)
    theirs = run_wasmtime(js_app, Inputs((str(js_app), *inputs.args[1:]), inputs.env))
    assert (r.stdout, r.stderr, r.returncode) == (theirs.stdout, theirs.stderr, theirs.code)
