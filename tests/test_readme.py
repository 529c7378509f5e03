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
    run = lines[0].split("&& ")[-1]
    assert run.startswith("wasm-component run ")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert lines[1] in ci, ".ci/run runs exactly the README's test command"
    args = ["run", "examples/greeter.wat", "--invoke", 'greet("World")']
    assert run == "wasm-component " + " ".join(
        a if "(" not in a else f"'{a}'" for a in args
    )
    out = subprocess.run(
        [sys.executable, "-m", "wasm_component", *args],
        cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert out.stdout.strip() == '"Hello, World!"'


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
