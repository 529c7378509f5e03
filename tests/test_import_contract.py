"""The layers run one way, and only ``_runtime/core.py`` touches wasmtime.

decode (``_binary``) -> validate (``_validate``) -> translate (``_translate``) -> runtime
(``_runtime``): no layer imports one after it. ``_abi`` (the Canonical ABI) sits below translate
and runtime (the validator may use its layout rules). ``wit/`` and ``bindgen/`` never import
``_runtime``; importing ``wasm_component.wit`` loads neither the runtime nor wasmtime.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "wasm_component"

#: each package -> the packages of ``wasm_component`` it must never import
FORBIDDEN = {
    "_binary": {"_validate", "_translate", "_runtime", "_abi", "wit", "bindgen"},
    "_validate": {"_translate", "_runtime", "wit", "bindgen"},
    "_abi": {"_translate", "_runtime", "_validate", "wit", "bindgen"},
    "_translate": {"_runtime", "wit", "bindgen"},
    "wit": {"_runtime", "_translate"},
    "bindgen": {"_runtime", "_translate"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports (absolute names), with its line."""
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.append((node.lineno, name))
            out += [(node.lineno, f"{name}.{a.name}") for a in node.names]
    return out


def _sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_only_the_core_module_imports_wasmtime() -> None:
    bad = [f"{p.relative_to(SRC)}:{line}" for p in _sources() for line, name in _imports(p)
           if (name == "wasmtime" or name.startswith("wasmtime."))
           and p != SRC / "_runtime" / "core.py"]
    assert not bad, bad


#: host interfaces on the public API (they may use ctypes for the OS, never for wasmtime)
HOSTS = ("wasi", "http")


def test_only_the_core_module_handles_c_objects() -> None:
    """The boundary is sealed: below the host interfaces, ``ctypes`` (C functions, pointers,
    ``byref``s) only in ``_runtime/core.py``."""
    bad = [f"{p.relative_to(SRC)}:{line}" for p in _sources() for line, name in _imports(p)
           if name.split(".")[0] == "ctypes" and p != SRC / "_runtime" / "core.py"
           and p.relative_to(SRC).parts[0] not in HOSTS]
    assert not bad, bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_only_downwards(package: str) -> None:
    bad = []
    for p in sorted((SRC / package).rglob("*.py")):
        for line, name in _imports(p):
            parts = name.split(".")
            if parts[0] == "wasm_component" and len(parts) > 1 and parts[1] in FORBIDDEN[package]:
                bad.append(f"{p.relative_to(SRC)}:{line}: {name}")
    assert not bad, bad


def test_importing_wit_loads_neither_the_runtime_nor_wasmtime() -> None:
    code = ("import sys, wasm_component.wit, wasm_component.types; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'wasmtime' "
            "or m.startswith('wasm_component._runtime')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(SRC.parent)}).stdout
    assert out.strip() == "[]", out
