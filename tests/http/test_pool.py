"""``InstancePool``: reuse up to a number of requests, a bound on requests per instance at
once (more make a new instance), retirement of used-up and broken instances."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from wasm_component.http.pool import InstancePool

from ..wasi.p3_fakes import run


def pool(per_instance: int, max_reuse: int) -> InstancePool[int]:
    counter = itertools.count()

    async def make() -> int:
        await asyncio.sleep(0)
        return next(counter)

    return InstancePool(make, per_instance=per_instance, max_reuse=max_reuse)


def test_concurrent_requests_fill_an_instance_then_open_another() -> None:
    p = pool(per_instance=2, max_reuse=100)

    async def go() -> list[int]:
        slots = [await p.acquire() for _ in range(5)]
        return [s.instance for s in slots]

    assert run(go()) == [0, 0, 1, 1, 2]
    assert p.made == 3


def test_sequential_requests_reuse_one_instance_until_used_up() -> None:
    p = pool(per_instance=4, max_reuse=3)

    async def go() -> list[int]:
        out = []
        for _ in range(7):
            s = await p.acquire()
            out.append(s.instance)
            p.release(s)
        return out

    assert run(go()) == [0, 0, 0, 1, 1, 1, 2]
    assert [s.instance for s in p.slots] == [2]  # the used-up ones were retired


def test_a_broken_instance_serves_no_more_and_goes_when_idle() -> None:
    p = pool(per_instance=4, max_reuse=100)

    async def go() -> list[int]:
        a, b = await p.acquire(), await p.acquire()
        a.broken = True  # (a trap in one request)
        c = await p.acquire()  # not given the broken instance
        p.release(a)
        assert len(p.slots) == 2  # still serving b
        p.release(b)
        p.release(c)
        return [a.instance, b.instance, c.instance, *(s.instance for s in p.slots)]

    assert run(go()) == [0, 0, 1, 1]


def test_concurrent_acquires_make_one_instance_at_a_time() -> None:
    p = pool(per_instance=10, max_reuse=100)

    async def go() -> list[int]:
        slots = await asyncio.gather(*(p.acquire() for _ in range(10)))
        return sorted({s.instance for s in slots})

    assert run(go()) == [0] and p.made == 1


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="expected positive bounds"):
        pool(per_instance=0, max_reuse=1)
