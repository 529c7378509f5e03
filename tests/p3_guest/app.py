"""A p3 (component-model async) guest for tests/test_real_async_components.py."""

import componentize_py_async_support
import wit_world
from wit_world.imports import host


class WitWorld(wit_world.WitWorld):
    async def run(self, x: int) -> int:
        return await host.slow(x) + 1

    async def total(self, s: wit_world.ByteStreamReader) -> int:
        n = 0
        with s:
            while not s.writer_dropped:
                chunk = await s.read(1 << 20)
                n += sum(chunk[:16]) + len(chunk) * 1000
        return n

    async def produce(self, n: int) -> wit_world.ByteStreamReader:
        w, r = wit_world.byte_stream()

        async def feed() -> None:
            with w:
                left = n
                while left > 0:
                    k = min(left, 1 << 20)
                    await w.write_all(bytes([left % 251]) * k)
                    left -= k

        componentize_py_async_support.spawn(feed())
        return r

    async def later(self, x: int) -> wit_world.FutureReader[int]:
        w, r = wit_world.u32_future(lambda: 0)

        async def fill() -> None:
            with w:
                await w.write(await host.slow(x) * 2)

        componentize_py_async_support.spawn(fill())
        return r

    async def wait_for(self, f: wit_world.FutureReader[int]) -> int:
        with f:
            return await f.read() + 1

    async def sum_host(self, n: int) -> int:
        s = await host.numbers(n)
        total = 0
        with s:
            while not s.writer_dropped:
                total += sum(await s.read(1 << 16))
        return total
