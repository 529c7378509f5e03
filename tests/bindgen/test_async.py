"""bindgen for component-model async: ``async def`` for ``async`` WIT functions (import
Protocols, their linker glue, export wrappers) and ``StreamReader[T]``/``FutureReader[T]``/
``ErrorContext`` for the async value types. The generated files are compared with snapshots in
``tests/bindgen/golden/`` (``UPDATE_GOLDEN=1`` rewrites them), type-check with ``mypy --strict``
together with a typed host program, and that program runs against the callback-lifted guest of
``benchmarks/components/async_streams.wat`` through the bindings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from wasm_component.bindgen.generator import generate_world
from wasm_component.wit import Resolve

ROOT = Path(__file__).resolve().parents[2]
WIT = Path(__file__).resolve().parent / "async_wit"
GOLDEN = Path(__file__).resolve().parent / "golden"
WORLDS = {"shapes": WIT / "shapes.wit", "streams": WIT / "streams.wit",
          "app": ROOT / "tests" / "p3_guest" / "wit"}


def _generate(world: str) -> dict[str, str]:
    r = Resolve()
    r.push_path(WORLDS[world])
    wid = next(i for i, w in enumerate(r.worlds) if w.name == world)
    return generate_world(r, wid)


def _write(out: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        f = out / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("world", sorted(WORLDS))
def test_generated_async_bindings_match_the_snapshots(world: str) -> None:
    files = _generate(world)
    snap = GOLDEN / world
    if os.environ.get("UPDATE_GOLDEN"):
        _write(snap, files)
    got = {rel: text for rel, text in files.items() if text}
    want = {p.relative_to(snap).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(snap.rglob("*.py")) if p.stat().st_size}
    assert sorted(got) == sorted(want)
    for rel in got:
        assert got[rel] == want[rel], f"{world}/{rel} differs from its snapshot"


def test_async_functions_and_types_in_the_output() -> None:
    files = _generate("shapes")
    host = files["imports/test_shapes_api.py"]
    assert "    async def numbers(self, s: _StreamReader[int]) -> _FutureReader[str | None]:" in host
    assert "    async def points(self, s: _StreamReader[_Any]) -> _StreamReader[bytes]:" in host
    assert ("    def ticks(self, s: _StreamReader[tuple[()]], done: _FutureReader[None]) -> "
            "_ErrorContext:") in host
    assert "    inst.func_wrap_async('numbers', " in host
    assert "    inst.func_wrap('plain', " in host
    exports = files["exports/test_shapes_api.py"]
    assert "    async def numbers(self, s: _StreamReader[int]) -> _FutureReader[str | None]:" in exports
    assert "await self._f_numbers.call_async(self._store, s)" in exports
    assert "r: int = self._f_plain(self._store, x)" in exports
    root = files["__init__.py"]
    assert "    async def go(self) -> _StreamReader[str]:" in root


PROGRAM = '''
"""A typed host of the `streams` world (checked with mypy --strict, then run)."""
import asyncio
from pathlib import Path

from wasm_component import ByteStreamReader, Component, Engine, Linker, Store, stream, types

import streams_bindings as b


class Host:
    def __init__(self) -> None:
        self.calls = 0

    async def pong(self, x: int) -> int:
        self.calls += 1
        await asyncio.sleep(0)
        return x * 2


async def main() -> None:
    engine = Engine()
    store: Store[Host] = Store(engine, Host())
    linker: Linker[Host] = Linker(engine)
    b.add_to_linker(linker, lambda s: s.data)
    component = Component.new(engine, Path(WAT).read_text())
    app = b.Streams.instantiate(store, component, linker)
    pings = await asyncio.gather(app.ping(1), app.ping(2))
    r, w = stream(types.U8)
    assert isinstance(r, ByteStreamReader)

    async def feed() -> None:
        async with w:
            await w.write(b"abc" * 1000)

    task = asyncio.ensure_future(feed())
    total = await app.total(r)
    await task
    out = await app.produce(100_000)
    data = await out.read_all()
    print(pings, store.data.calls, total, len(data), data[:4])


asyncio.run(main())
'''


def test_bindings_typecheck_and_drive_an_async_guest(tmp_path: Path) -> None:
    _write(tmp_path / "streams_bindings", _generate("streams"))
    _write(tmp_path / "app_bindings", _generate("app"))
    _write(tmp_path / "shapes_bindings", _generate("shapes"))
    wat = ROOT / "benchmarks" / "components" / "async_streams.wat"
    (tmp_path / "host.py").write_text(f"WAT = {str(wat)!r}\n{PROGRAM}", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT / "src")]),
           "MYPYPATH": str(ROOT / "src")}
    run = subprocess.run([sys.executable, str(tmp_path / "host.py")], capture_output=True,
                         text=True, env=env, check=False, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    # (`produce` writes the guest's memory from 0, where `total` read the host's "abc"s)
    assert run.stdout.split("\n")[0] == "[3, 5] 2 3000 100000 b'abca'"
    res = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version",
         "3.11", "--cache-dir", str(tmp_path / ".mypy"), "host.py", "streams_bindings",
         "app_bindings", "shapes_bindings"],
        cwd=tmp_path, capture_output=True, text=True, env=env, check=False, timeout=600,
    )
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-2000:]
