"""The README's examples run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_quick_start_commands_are_two_and_the_first_runs_an_example() -> None:
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block is not None
    lines = [ln for ln in block.group(1).splitlines() if ln.strip()]
    assert len(lines) == 2
    steps = lines[0].split(" && ")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert lines[1] in ci, ".ci/run runs exactly the README's test command"
    # it builds the example app with componentize-py and runs it with `wasm-component run`
    build = "componentize-py -d src/wasm_component/wasi/wit/0.2.12 -w command componentize " \
            "-p examples/wasi_hello app -o hello.wasm"
    assert steps[-2] == build
    assert steps[-1] == "wasm-component run --env GREETING=Hello hello.wasm World"
    from tests.wasi._build import componentize_py_command

    # the same build (cached on disk by the tests' builder)
    wasm = componentize_py_command((ROOT / "examples" / "wasi_hello" / "app.py").read_text())
    out = subprocess.run(
        [sys.executable, "-m", "wasm_component", "run", "--env", "GREETING=Hello", str(wasm),
         "World"],
        cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert out.stdout.startswith("Hello, World! (CPython 3."), out.stdout
    assert "16 random bytes: " in out.stdout
    greeter = subprocess.run(
        [sys.executable, "-m", "wasm_component", "run", "--invoke", 'greet("World")',
         "examples/greeter.wat"],
        cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert greeter.stdout.strip() == '"Hello, World!"'
    assert "`wasm-component run --invoke 'greet(\"World\")' examples/greeter.wat`" in README


def test_python_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for code in blocks:
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
