"""An async host import's first step runs at once on the running loop (``_run_first_step``):
one that returns at once resolves with no loop turn; one that raises becomes a failed future;
one that waits goes on (``_go_on``) as an asyncio task would run it, cancellation included."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from wasm_component._runtime.tasks import _run_first_step


def _run(coro_fn: Any) -> Any:
    return asyncio.run(coro_fn())


def test_a_coroutine_that_returns_at_once_gives_its_value() -> None:
    async def pong() -> int:
        return 42

    async def main() -> Any:
        return _run_first_step(pong())

    assert _run(main) == 42


def test_without_a_running_loop_the_coroutine_is_left_alone() -> None:
    async def pong() -> int:
        return 42

    coro = pong()
    assert _run_first_step(coro) is coro
    coro.close()


def test_a_coroutine_that_raises_at_once_gives_a_failed_future() -> None:
    async def pong() -> int:
        raise ValueError("no pong")

    async def main() -> Any:
        return _run_first_step(pong())

    fut = _run(main)
    assert isinstance(fut, asyncio.Future)
    with pytest.raises(ValueError, match="no pong"):
        fut.result()


def test_a_coroutine_that_waits_goes_on_where_it_stopped() -> None:
    seen: list[str] = []

    async def pong() -> int:
        seen.append("first")
        await asyncio.sleep(0)
        f: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(f.set_result, 5)
        got = await f
        seen.append("after")
        return got * 2

    async def main() -> Any:
        r = _run_first_step(pong())
        assert seen == ["first"]
        return await asyncio.ensure_future(r)

    assert _run(main) == 10 and seen == ["first", "after"]


def test_cancelling_the_rest_cancels_what_the_coroutine_waits_for() -> None:
    got: list[str] = []

    async def pong() -> int:
        try:
            await asyncio.get_running_loop().create_future()  # never set
        except asyncio.CancelledError:
            got.append("cancelled")
            return -1
        return 0

    async def main() -> Any:
        task = asyncio.ensure_future(_run_first_step(pong()))
        await asyncio.sleep(0)
        task.cancel()
        return await task

    assert _run(main) == -1 and got == ["cancelled"]


def test_coroutines_waiting_on_one_future_each_go_on() -> None:
    async def main() -> Any:
        gate: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def pong(k: int) -> int:
            return k + await gate

        rest = [_run_first_step(pong(k)) for k in range(3)]  # (each yields the same future)
        gate.set_result(10)
        return await asyncio.gather(*rest)

    assert _run(main) == [10, 11, 12]


def test_the_first_step_runs_as_its_own_task() -> None:
    async def main() -> Any:
        outer = asyncio.current_task()
        seen: list[Any] = []

        async def pong() -> int:
            seen.append(asyncio.current_task())
            async with asyncio.timeout(0.001):  # binds to the host call's own task
                await asyncio.sleep(1)
            return 0

        r = _run_first_step(pong())
        assert isinstance(r, asyncio.Task) and seen == [r] and r is not outer
        with pytest.raises(TimeoutError):
            await r
        assert asyncio.current_task() is outer and not outer.cancelling()  # type: ignore[union-attr]
        return True

    assert _run(main)


only_311 = pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ runs eager tasks")


@only_311
def test_first_steps_that_return_at_once_share_one_task() -> None:
    async def main() -> Any:
        seen: list[Any] = []

        async def pong(k: int) -> int:
            seen.append(asyncio.current_task())
            return k

        before = len(asyncio.all_tasks())
        assert [_run_first_step(pong(k)) for k in range(3)] == [0, 1, 2]
        assert len(asyncio.all_tasks()) == before + 1  # (one task not yet started, not three)
        assert seen[0] is seen[1] is seen[2] and seen[0] is not asyncio.current_task()
        await asyncio.sleep(0)  # (the loop starts it: it ends, with nothing to go on with)
        assert seen[0].done() and seen[0].result() is None
        return True

    assert _run(main)


@only_311
def test_a_shared_task_goes_on_with_the_step_that_waits() -> None:
    async def main() -> Any:
        seen: list[Any] = []

        async def quick() -> int:
            seen.append(asyncio.current_task())
            return 1

        async def slow() -> int:
            seen.append(asyncio.current_task())
            await asyncio.sleep(0)
            seen.append(asyncio.current_task())
            return 2

        assert _run_first_step(quick()) == 1
        r = _run_first_step(slow())
        assert r is seen[0] is seen[1]  # (the spare task, claimed)
        assert await r == 2 and seen[2] is r
        # the claimed task is nobody's spare: the next first step gets a new one
        assert _run_first_step(quick()) == 1 and seen[3] is not r
        return True

    assert _run(main)


@only_311
def test_a_task_whose_cancellation_was_asked_is_not_shared() -> None:
    async def main() -> Any:
        seen: list[Any] = []

        async def rude() -> int:
            task = asyncio.current_task()
            seen.append(task)
            task.cancel()  # type: ignore[union-attr]
            task.uncancel()  # type: ignore[union-attr]
            return 1

        async def quick() -> int:
            seen.append(asyncio.current_task())
            return 2

        assert _run_first_step(rude()) == 1 and _run_first_step(quick()) == 2
        assert seen[0] is not seen[1]
        await asyncio.sleep(0)
        assert seen[0].cancelled()
        return True

    assert _run(main)


def test_a_nested_first_step_runs_as_a_task_of_its_own() -> None:
    async def main() -> Any:
        seen: list[Any] = []

        async def inner() -> int:
            seen.append(asyncio.current_task())
            await asyncio.sleep(0)
            return 1

        async def outer() -> int:
            seen.append(asyncio.current_task())
            r = _run_first_step(inner())
            assert asyncio.current_task() is seen[0]  # (the outer step's task again)
            got: int = await r
            return got + 1

        r = _run_first_step(outer())
        assert isinstance(r, asyncio.Task) and seen[0] is r and seen[1] is not r
        return await r

    assert _run(main) == 2
