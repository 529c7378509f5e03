"""The documentation site: every Python code block of every page runs (a page's blocks in order,
in one namespace, from the repository root), and ``mkdocs build --strict`` (warnings are errors:
broken links, missing pages, docstrings mkdocstrings cannot render) succeeds."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "```python" in p.read_text(encoding="utf-8"))


def test_every_guide_has_running_examples() -> None:
    names = {p.relative_to(DOCS).as_posix() for p in PAGES}
    assert {"getting-started.md", "guides/embedding.md", "guides/values.md",
            "guides/resources.md", "guides/bindgen.md", "guides/wasi.md", "guides/http.md",
            "guides/limits.md", "guides/async.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_code_blocks_run(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    assert blocks
    monkeypatch.chdir(ROOT)
    module = types.ModuleType(f"docs_{page.stem}")  # a real module: dataclasses look it up
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for i, code in enumerate(blocks):
        exec(compile(code, f"{page.relative_to(ROOT)}[block {i + 1}]", "exec"), module.__dict__)


def test_site_builds_strict(tmp_path: Path) -> None:
    for mod in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        if importlib.util.find_spec(mod.split(".")[0]) is None:
            pytest.skip(f"`{mod}` is not installed (mkdocs-material and mkdocstrings[python] "
                        "are in the test extras)")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    p = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f",
                        str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                       capture_output=True, text=True, env=env, check=False, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    api = (tmp_path / "site" / "reference" / "api" / "index.html").read_text()
    for name in ("deserialize_file", "func_wrap", "Record", "ResourceTable", "Trap",
                 "WasiConfig", "MemoryDirectory", "asgi_app", "HttpConfig"):
        assert name in api, f"the API reference lacks `{name}`"
    assert (tmp_path / "site" / "assets" / "ratios.png").exists()


def test_readme_and_docs_show_the_chart() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "benchmarks/results/ratios.png" in readme
    assert "assets/ratios.png" in (DOCS / "index.md").read_text(encoding="utf-8")
