"""A real p3 (component-model async) guest: componentize-py 0.25 builds ``tests/p3_guest``
(CPython in wasm plus an app of `async def` exports, see its WIT), and the host drives it on
asyncio: its exports await an `async def` host import, streams of bytes go both ways (as an
export's argument and result, and as an import's result), futures come back from the guest and
go into it. The component is built once per content and its compiled form cached
(tests/cache.py); no binary is checked in."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from wasm_component import (
    ByteStreamReader,
    Component,
    Engine,
    FutureReader,
    Linker,
    Store,
    future,
    stream,
)
from wasm_component import types as t
from wasm_component.engine import EngineConfig
from wasm_component.wasi import WasiConfig

from .cache import cached_dir, content_key, tool_version

GUEST = Path(__file__).resolve().parent / "p3_guest"


@pytest.fixture(scope="module")
def p3_wasm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = shutil.which("componentize-py")
    if exe is None:
        pytest.skip("componentize-py is not installed (it is part of the test extras)")

    def build(out: Path) -> None:
        d = tmp_path_factory.mktemp("p3")
        shutil.copytree(GUEST / "wit", d / "wit")
        shutil.copy(GUEST / "app.py", d / "app.py")
        subprocess.run([exe, "-d", "wit", "-w", "app", "componentize", "app", "-o",
                        str(out / "app.wasm")], cwd=d, check=True, capture_output=True)

    key = content_key(tool_version(exe), GUEST / "wit", GUEST / "app.py")
    return cached_dir("componentize-py-p3", key, build) / "app.wasm"


@pytest.fixture(scope="module")
def p3(p3_wasm: Path) -> tuple[Engine, Component]:
    from wasm_component.component import _SER_MAGIC

    engine = Engine(EngineConfig(cranelift_opt_level="none"))

    def build(out: Path) -> None:
        (out / "app.cwasm").write_bytes(Component.from_file(engine, p3_wasm).serialize())

    key = content_key(p3_wasm, metadata.version("wasmtime"), _SER_MAGIC, "opt-level=none")
    path = cached_dir("compiled", key, build) / "app.cwasm"
    return engine, Component.deserialize_file(engine, path)


class Host:
    """The `test:p3/host` imports, as `async def`s: `slow` answers after a loop turn; the
    `numbers` stream is written by a host task."""

    def __init__(self) -> None:
        self.slow_calls: list[int] = []
        self.feeders: list[asyncio.Task[None]] = []

    async def slow(self, store: Store, x: int) -> int:
        self.slow_calls.append(x)
        await asyncio.sleep(0.001)
        return x * 10

    async def numbers(self, store: Store, n: int) -> ByteStreamReader:
        r, w = stream(t.U8)

        async def feed() -> None:
            async with w:
                await w.write(bytes(k % 256 for k in range(n)))

        self.feeders.append(asyncio.ensure_future(feed()))
        assert isinstance(r, ByteStreamReader)
        return r


def _instance(p3: tuple[Engine, Component]) -> tuple[Store, Any, Host]:
    engine, component = p3
    host = Host()
    linker: Linker[Any] = Linker(engine)
    linker.add_wasip2()
    li = linker.instance("test:p3/host")
    li.func_wrap_async("slow", host.slow)
    li.func_wrap_async("numbers", host.numbers)
    store: Store[Any] = Store(engine)
    store.set_wasi(WasiConfig())
    return store, linker.instantiate(store, component), host


def _funcs(store: Store, inst: Any, *names: str) -> list[Any]:
    out = []
    for name in names:
        f = inst.get_func(store, name)
        assert f is not None, name
        out.append(f)
    return out


def test_exports_are_async_and_await_host_imports(p3: tuple[Engine, Component]) -> None:
    store, inst, host = _instance(p3)
    (run,) = _funcs(store, inst, "run")
    assert run.type.is_async

    async def main() -> list[Any]:
        one = await run.call_async(store, 4)
        many = await asyncio.gather(*(run.call_async(store, x) for x in (1, 2, 3)))
        return [one, *many]

    assert asyncio.run(main()) == [41, 11, 21, 31]
    assert sorted(host.slow_calls) == [1, 2, 3, 4]
    assert run(store, 7) == 71  # a plain call runs the host import on a private loop


def test_bytes_stream_from_host_to_guest(p3: tuple[Engine, Component]) -> None:
    store, inst, _ = _instance(p3)
    (total,) = _funcs(store, inst, "total")

    async def main() -> int:
        r, w = stream(t.U8)

        async def feed() -> None:
            async with w:
                await w.write(bytes([1]) * 10 + bytes(3 << 20))
                await w.write(memoryview(b"\x02" * 100))

        task = asyncio.ensure_future(feed())
        n = int(await total.call_async(store, r))
        await task
        return n

    # 1000 per byte, plus the sum of the first 16 bytes of each chunk the guest read: the first
    # chunk starts with ten 1s, and later chunks start inside the zeros or the 2s
    n = asyncio.run(main())
    size = 10 + (3 << 20) + 100
    assert n // 1000 == size and n % 1000 in (10, 10 + 32)


def test_bytes_stream_from_guest_to_host(p3: tuple[Engine, Component]) -> None:
    store, inst, _ = _instance(p3)
    (produce,) = _funcs(store, inst, "produce")
    n = (2 << 20) + 7

    async def main() -> bytes:
        r = await produce.call_async(store, n)
        assert isinstance(r, ByteStreamReader)
        return await r.read_all()

    data = asyncio.run(main())
    assert len(data) == n
    # the guest wrote chunks of 1 MiB, each of one byte value: bytes left mod 251
    assert data[0] == n % 251 and data[1 << 20] == (n - (1 << 20)) % 251 and data[-1] == 7


def test_guest_stream_consumed_as_chunks(p3: tuple[Engine, Component]) -> None:
    store, inst, _ = _instance(p3)
    (produce,) = _funcs(store, inst, "produce")

    async def main() -> list[int]:
        r = await produce.call_async(store, 300_000)
        return [len(c) async for c in r]

    sizes = asyncio.run(main())
    assert sum(sizes) == 300_000 and len(sizes) > 1


def test_bytes_stream_returned_by_a_host_import(p3: tuple[Engine, Component]) -> None:
    store, inst, host = _instance(p3)
    (sum_host,) = _funcs(store, inst, "sum-host")
    n = 200_000

    async def main() -> int:
        got = int(await sum_host.call_async(store, n))
        await asyncio.gather(*host.feeders)
        return got

    assert asyncio.run(main()) == sum(k % 256 for k in range(n))


def test_guest_returns_a_future(p3: tuple[Engine, Component]) -> None:
    store, inst, host = _instance(p3)
    (later,) = _funcs(store, inst, "later")

    async def main() -> tuple[int, int]:
        fr = await later.call_async(store, 6)
        assert isinstance(fr, FutureReader) and fr.type == t.FutureType(t.U32)
        value = await fr
        return value, await fr

    assert asyncio.run(main()) == (120, 120)
    assert host.slow_calls == [6]


def test_host_future_into_the_guest(p3: tuple[Engine, Component]) -> None:
    store, inst, _ = _instance(p3)
    (wait_for,) = _funcs(store, inst, "wait-for")

    async def main() -> list[int]:
        fr, fw = future(t.U32)
        call = asyncio.ensure_future(wait_for.call_async(store, fr))
        await asyncio.sleep(0.01)
        assert not call.done()  # the guest awaits the host's future
        fw.write(41)
        first = int(await call)
        # a writer dropped unwritten gives the guest the default (0 for u32)
        fr2, fw2 = future(t.U32)
        call2 = asyncio.ensure_future(wait_for.call_async(store, fr2))
        await asyncio.sleep(0.01)
        fw2.close()
        return [first, int(await call2)]

    assert asyncio.run(main()) == [42, 1]
