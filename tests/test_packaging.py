"""The package as a user gets it: ``python -m build`` makes a wheel and an sdist, with the
licence, classifiers and the pinned wasmtime; the wheel installs into a fresh virtual
environment (no source tree on its path) whose ``wasm-component`` runs the README's
command (calling one export) and whose Python runs the README's embedding example.

The virtual environment with the dependencies is made once (cached by the Python version and
the dependency pins, see ``tests/cache.py``); each run builds the wheel and reinstalls it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from .cache import cached_dir, content_key

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600,
                          cwd=cwd, env=env, check=False)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("build", "hatchling"):
        if importlib.util.find_spec(tool) is None:
            pytest.skip(f"`{tool}` is not installed (it is in the test extras)")
    out = tmp_path_factory.mktemp("dist")
    p = _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    return out


def _env() -> dict[str, str]:
    """This process's environment without anything that would put the source tree on the
    path of the fresh interpreter."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}


@pytest.fixture(scope="module")
def venv() -> Path:
    """A fresh venv with the package's dependencies only (not the package)."""
    deps = PROJECT["dependencies"]

    def build(d: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", str(d / "venv")], check=True,
                       capture_output=True)
        p = _run(d / "venv" / "bin" / "python", "-m", "pip", "install", "-q", *deps, env=_env())
        if p.returncode:
            raise RuntimeError(p.stderr)

    key = content_key(sys.version, *deps)
    try:
        return cached_dir("wheel-venv", key, build) / "venv"
    except RuntimeError as e:
        pytest.skip(f"cannot install {deps} into a fresh venv (no network or pip cache?): {e}")


def test_build_makes_a_wheel_and_an_sdist(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = z.read(meta_name).decode()
    assert "wasm_component/py.typed" in names and "wasm_component/cli.py" in names
    assert not any(n.startswith("tests/") for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert f"Version: {PROJECT['version']}" in meta
    assert "License-Expression: Apache-2.0" in meta
    assert "Classifier: Programming Language :: Python :: 3.13" in meta
    assert "Classifier: Typing :: Typed" in meta
    assert "Requires-Dist: wasmtime==" in meta and "Project-URL: " in meta
    with tarfile.open(sdist) as tar:
        members = {m.split("/", 1)[1] for m in tar.getnames() if "/" in m}
    assert {"LICENSE", "pyproject.toml", "README.md", "src/wasm_component/__init__.py",
            "examples/greeter.wat"} <= members
    assert "Apache License" in (ROOT / "LICENSE").read_text()


def test_the_wheel_runs_the_readme_in_a_fresh_venv(dist: Path, venv: Path, tmp_path: Path
                                                   ) -> None:
    (wheel,) = dist.glob("*.whl")
    py = venv / "bin" / "python"
    p = _run(py, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", "--no-index",
             wheel, env=_env())
    assert p.returncode == 0, p.stderr
    work = tmp_path / "user"
    shutil.copytree(ROOT / "examples", work / "examples")
    where = _run(py, "-c", "import wasm_component; print(wasm_component.__file__)", cwd=work,
                 env=_env())
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    # the README's command that calls one export, from the installed console script (the
    # Quick start's first command builds an 18 MB component with componentize-py first: it is
    # run by tests/test_readme.py)
    command = "wasm-component run --invoke 'greet(\"World\")' examples/greeter.wat"
    assert f"`{command}`" in README
    out = _run(venv / "bin" / "wasm-component", "run", "--invoke", 'greet("World")',
               "examples/greeter.wat", cwd=work, env=_env())
    assert (out.returncode, out.stdout.strip()) == (0, '"Hello, World!"'), out.stderr
    version = _run(venv / "bin" / "wasm-component", "--version", env=_env())
    assert version.stdout == f"wasm-component {PROJECT['version']}\n"
    # the README's Python examples
    for code in re.findall(r"```python\n(.*?)```", README, re.S):
        ran = _run(py, "-c", code, cwd=work, env=_env())
        assert ran.returncode == 0, code + ran.stderr


def _interpreters() -> list[str]:
    """Python 3.11, 3.12 and 3.13 interpreters on this machine (pyenv's versions, then PATH;
    only those that run: a pyenv shim for a version not selected does not)."""
    found = []
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in ("3.11", "3.12", "3.13"):
        cands = [str(c) for c in sorted(pyenv.glob(f"{minor}.*/bin/python{minor}"))[::-1]]
        cands += [c for c in [shutil.which(f"python{minor}")] if c is not None]
        for exe in cands:
            ok = subprocess.run([exe, "-c", "pass"], capture_output=True, check=False)
            if ok.returncode == 0:
                found.append(exe)
                break
    return found


API_TESTS = ["tests/test_api.py", "tests/test_values_pythonic.py", "tests/test_cli.py",
             "tests/abi", "tests/runtime", "tests/test_wave.py"]


@pytest.mark.slow
@pytest.mark.parametrize("python", _interpreters() or [pytest.param(
    "none", marks=pytest.mark.skip("no Python 3.11-3.13 interpreter found"))])
def test_api_tests_pass_on_each_python(python: str, dist: Path, tmp_path: Path) -> None:
    """The wheel installed into a fresh venv of each interpreter passes the API tests, run from
    a copy of the tests (no source tree on the path)."""
    (wheel,) = dist.glob("*.whl")
    deps = [*PROJECT["dependencies"], "pytest>=8", "hypothesis>=6"]

    def build(d: Path) -> None:
        subprocess.run([python, "-m", "venv", str(d / "venv")], check=True, capture_output=True)
        p = _run(d / "venv" / "bin" / "python", "-m", "pip", "install", "-q", *deps, env=_env())
        if p.returncode:
            raise RuntimeError(p.stderr)

    version = _run(python, "-c", "import sys; print(sys.version)").stdout
    try:
        venv = cached_dir("api-venv", content_key(version, *deps), build) / "venv"
    except RuntimeError as e:
        pytest.skip(f"cannot install {deps} for {python} (no network or pip cache?): {e}")
    py = venv / "bin" / "python"
    p = _run(py, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", "--no-index",
             wheel, env=_env())
    assert p.returncode == 0, p.stderr
    work = tmp_path / "proj"
    for part in ("tests", "examples", "benchmarks"):
        shutil.copytree(ROOT / part, work / part)
    shutil.copy(ROOT / "README.md", work / "README.md")
    ran = _run(py, "-m", "pytest", "-q", "-p", "no:cacheprovider", *API_TESTS, cwd=work,
               env=_env())
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    assert " passed" in ran.stdout.splitlines()[-1]
