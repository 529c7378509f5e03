"""The stream/poll base (``wasi/io.py``), the context's limits and the stdio settings, tested
on the host side and, where a guest is needed, with a small C program."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.exports import export_func, export_index
from wasm_component import Component, Err, Linker, Ok, Store, Trap
from wasm_component.wasi import (
    InputStream,
    Pollable,
    StreamClosed,
    WasiConfig,
    WasiCtx,
    poll,
)
from wasm_component.wasi.clocks import SystemClock, Timer, VirtualClock
from wasm_component.wasi.io import (
    BytesInputStream,
    CallbackInputStream,
    FdPollable,
    FileInputStream,
    FileOutputStream,
    OutputStream,
    ReadyPollable,
    StreamFailed,
)

from ._build import Inputs, c_component, ours_compiled, run_ours
from .test_core_c import ARGS_ENV, STDIN

STREAMS = "wasi:io/streams@0.2.12"


def test_poll_blocks_on_a_pipe_without_spinning() -> None:
    r, w = os.pipe()
    try:
        timer = threading.Timer(0.3, os.write, (w, b"x"))
        timer.start()
        cpu0, t0 = time.process_time(), time.monotonic()
        ready = poll([FdPollable(r), Timer(SystemClock(), time.monotonic_ns() + 10**10)])
        waited, cpu = time.monotonic() - t0, time.process_time() - cpu0
        assert ready == [0] and waited >= 0.25
        assert cpu < 0.1, f"poll used {cpu:.3f}s of CPU while waiting {waited:.3f}s"
    finally:
        os.close(r)
        os.close(w)


def test_poll_wakes_at_the_earliest_deadline() -> None:
    clock = SystemClock()
    now = time.monotonic_ns()
    late, soon = Timer(clock, now + 10**9), Timer(clock, now + 50_000_000)
    t0 = time.monotonic()
    assert poll([late, soon]) == [1]
    assert 0.04 <= time.monotonic() - t0 < 0.9
    assert poll([ReadyPollable(), soon]) == [0, 1]  # every ready index


def test_virtual_time_jumps_and_never_ready_traps() -> None:
    clock = VirtualClock()
    assert poll([Timer(clock, 10**12)]) == [0] and clock.now_ns() == 10**12
    with pytest.raises(Trap, match="can ever become ready"):
        poll([Pollable()])


def test_stream_defaults() -> None:
    s = BytesInputStream(b"abcdef")
    assert s.read(2) == b"ab" and s.skip(2) == 2 and s.blocking_read(10) == b"ef"
    with pytest.raises(StreamClosed):
        s.read(1)
    chunks = [b"12", b"3"]
    cb = CallbackInputStream(lambda n: chunks.pop(0) if chunks else b"")
    assert cb.read(5) == b"12" and cb.blocking_read(5) == b"3"
    with pytest.raises(StreamClosed):
        cb.read(5)
    r, w = os.pipe()
    try:
        pipe = FileInputStream(r)
        assert pipe.read(4) == b""  # nothing there yet: non-blocking
        assert not pipe.pollable().ready()
        os.write(w, b"data")
        assert pipe.pollable().ready() and pipe.read(10) == b"data"
    finally:
        os.close(r)
        os.close(w)


class _Slow(OutputStream):
    """Accepts 3 bytes per check-write, and records what it got."""

    def __init__(self) -> None:
        self.got = b""

    def check_write(self) -> int:
        return 3

    def write(self, data: bytes) -> None:
        assert len(data) <= 3
        self.got += data


def _ctx(config: WasiConfig | None = None) -> tuple[WasiCtx, Any]:
    ctx = WasiCtx(config or WasiConfig())
    from wasm_component.wasi import load_hosts

    load_hosts()
    return ctx, ctx.hosts[STREAMS]


def test_output_defaults_and_the_host_enforces_permits() -> None:
    slow = _Slow()
    slow.blocking_write_and_flush(b"hello world")
    assert slow.got == b"hello world"
    ctx, host = _ctx()
    h = ctx.push(_Slow())
    assert host.output_stream.check_write(h) == Ok(3)
    assert host.output_stream.write(h, b"abc") == Ok(None)
    with pytest.raises(Trap, match="expected at most 0 bytes"):
        host.output_stream.write(h, b"d")
    with pytest.raises(Trap, match="expected at most 4096 bytes"):
        host.output_stream.blocking_write_and_flush(h, bytes(4097))


def test_reads_are_bounded_and_end_as_closed() -> None:
    ctx, host = _ctx(WasiConfig().limits(max_read_chunk=1000))
    h = ctx.push(BytesInputStream(bytes(5000)))
    r = host.input_stream.read(h, 2**32)  # a guest asking for 4 GiB
    assert isinstance(r, Ok) and len(r.value) == 1000
    assert host.input_stream.skip(h, 2**40) == Ok(1000)
    host.input_stream.blocking_read(h, 10**9)
    host.input_stream.blocking_read(h, 10**9)
    host.input_stream.blocking_read(h, 10**9)
    r = host.input_stream.read(h, 1)
    assert isinstance(r, Err) and type(r.value).__name__ == "StreamErrorClosed"


def test_a_full_table_traps_clearly() -> None:
    ctx = WasiCtx(WasiConfig().limits(max_resources=2))
    ctx.push(object())
    ctx.push(object())
    with pytest.raises(Trap, match=r"resource table is full \(2 handles"):
        ctx.push(object())


#: `grab(n)`: subscribes to `n` timers and keeps every pollable (WASI handles it holds)
GRABBER = """(component
  (import "wasi:io/poll@0.2.0" (instance $poll (export "pollable" (type (sub resource)))))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
    (export "pollable" (type (eq $pollable)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $pollable))))))
  (core func $sub (canon lower (func $clock "subscribe-duration")))
  (core module $m
    (import "h" "sub" (func $sub (param i64) (result i32)))
    (func (export "grab") (param $n i32) (result i32) (local $k i32)
      (block $done
        (loop $l
          (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
          (drop (call $sub (i64.const 0)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $l)))
      (local.get $n)))
  (core instance $i (instantiate $m (with "h" (instance (export "sub" (func $sub))))))
  (func (export "grab") (param "n" u32) (result u32) (canon lift (core func $i "grab"))))
"""


def test_the_handle_cap_is_per_instance() -> None:
    """`max_resources` bounds the handles each component instance holds, not the store's
    total: two instances in one store each get the whole budget (issue 13)."""
    from wasm_component import Engine

    engine = Engine()
    component = Component.new(engine, GRABBER)
    linker = Linker(engine)
    linker.add_wasip2()
    store = Store(engine)
    store.set_wasi(WasiConfig().limits(max_resources=3))
    a = linker.instantiate(store, component).get_func(store, "grab")
    b = linker.instantiate(store, component).get_func(store, "grab")
    assert a is not None and b is not None
    assert a(store, 3) == 3
    assert b(store, 3) == 3, "the other instance's handles do not count against this one"
    with pytest.raises(Trap, match=r"resource table is full \(3 handles per component instance"):
        a(store, 1)
    assert len(store.wasi.table) == 6
    assert store.calling_instance is None, "no host function is running"
    # the host's own pushes (outside any call) have a budget of their own, freed by deletes
    ctx = store.wasi
    mine = [ctx.push(object()) for _ in range(3)]
    ctx.delete(mine[0])
    ctx.push(object())
    with pytest.raises(Trap, match="resource table is full"):
        ctx.push(object())


def _args_env_run(config: WasiConfig | None) -> tuple[Store, Any]:
    """The C args/env program instantiated with ``config`` (``None``: no WASI context), and
    its ``wasi:cli/run`` function."""
    engine, component = ours_compiled(c_component(ARGS_ENV, "args_env"))
    linker = Linker(engine)
    linker.add_wasip2()
    linker.define_unknown_imports_as_traps(component)
    store = Store(engine)
    if config is not None:
        store.set_wasi(config)
    inst = linker.instantiate(store, component)
    return store, export_func(inst, store, export_index(inst, store, "wasi:cli/run@0.2.12", "run"))


def test_a_guest_holding_too_many_handles_traps() -> None:
    store, run = _args_env_run(WasiConfig().limits(max_resources=1))
    with pytest.raises(Trap, match="resource table is full"):
        run(store)


def test_a_dropped_stream_with_a_live_pollable_traps() -> None:
    ctx, host = _ctx()
    h = ctx.push(BytesInputStream(b""))
    p = host.input_stream.subscribe(h)
    with pytest.raises(Trap, match="still alive"):
        host.input_stream.drop(h)
    ctx.hosts["wasi:io/poll@0.2.12"].pollable.drop(p)
    host.input_stream.drop(h)
    assert len(ctx.table) == 0


@pytest.mark.parametrize("how", ["bytes", "file", "callback", "stream", "path"])
def test_stdin_forms(how: str, tmp_path: Path) -> None:
    data = b"line one\nline two\n"
    chunks = [data[:5], data[5:]]
    src: Any = {
        "bytes": data, "file": io.BytesIO(data),
        "callback": lambda n: chunks.pop(0) if chunks else b"",
        "stream": BytesInputStream(data),
    }.get(how)
    config = WasiConfig()
    if how == "path":
        (tmp_path / "in").write_bytes(data)
        config.stdin_file = tmp_path / "in"
    else:
        config.stdin(src)
    out = run_ours(c_component(STDIN, "stdin"), Inputs(("prog",), (), data), config=config)
    assert out.stdout == data.upper() + f"\ntotal={len(data)} eof=1\n".encode()


def test_stdout_forms(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    got: list[bytes] = []
    to_file = WasiConfig()
    to_file.stdout_file = tmp_path / "out"
    for config in (WasiConfig().stdout(got.append),
                   WasiConfig().inherit_stdout().inherit_stderr(), to_file):
        store, run = _args_env_run(config.args("prog"))
        assert run(store) == Ok(None)
    assert b"".join(got).startswith(b"argc=1\n")
    captured = capfd.readouterr()
    assert captured.out.startswith("argc=1\n") and captured.err == "to stderr\n"
    assert (tmp_path / "out").read_bytes().startswith(b"argc=1\n")


def test_config_misuse_names_the_method() -> None:
    with pytest.raises(TypeError, match=r"`WasiConfig.args`"):
        WasiConfig().args("a", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"`WasiConfig.env`"):
        WasiConfig().env("A=B", "c")
    with pytest.raises(TypeError, match=r"`WasiConfig.env`: expected a name and value"):
        WasiConfig().env(5)  # type: ignore[arg-type]  # the misuse under test
    with pytest.raises(TypeError, match=r"`WasiConfig.env`: expected str pairs"):
        WasiConfig().env([("A",)])  # type: ignore[list-item]  # the misuse under test
    with pytest.raises(ValueError, match=r"`WasiConfig.limits`"):
        WasiConfig().limits(max_resources=0)
    with pytest.raises(TypeError, match=r"`WasiConfig.stdin`"):
        WasiCtx(WasiConfig().stdin(3.5))
    with pytest.raises(TypeError, match=r"`Store.set_wasi`"):
        Store(ours_compiled(c_component(ARGS_ENV, "args_env"))[0]).set_wasi(object())
    assert WasiConfig().env({"A": "1"}).env([("B", "2")]).environ == {"A": "1", "B": "2"}
    c = WasiConfig()
    c.argv = ["x", "y"]
    assert c.argv == ["x", "y"]
    c.env = [("A", "1")]  # wasmtime-py's spelling replaces them all
    assert c.env("B", "2") is c and c.env == {"A": "1", "B": "2"}
    c.env = {"C": "3"}
    assert c.environ == {"C": "3"}
    got: list[bytes] = []
    c.stdout_custom = got.append
    assert c.stdout_custom == got.append


def test_no_wasi_context_is_a_clear_trap() -> None:
    store, run = _args_env_run(None)
    with pytest.raises(Trap, match=r"store.set_wasi"):
        run(store)


def test_component_type_is_unchanged() -> None:
    # the fixtures compile through the on-disk cache: the result is a real Component
    assert isinstance(ours_compiled(c_component(ARGS_ENV, "args_env"))[1], Component)


def test_input_stream_base_needs_read() -> None:
    with pytest.raises(NotImplementedError):
        InputStream().read(1)


def test_terminals_only_for_inherited_ttys(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from wasm_component.wasi import load_hosts

    load_hosts()
    leader, follower = os.openpty()
    try:
        tty = open(follower, "w", closefd=False)  # noqa: SIM115
        monkeypatch.setattr(sys, "stdout", tty)
        ctx = WasiCtx(WasiConfig().inherit_stdout())
        term = ctx.hosts["wasi:cli/terminal-stdout@0.2.12"].get_terminal_stdout()
        assert term is not None and term.owned
        assert ctx.hosts["wasi:cli/terminal-stderr@0.2.12"].get_terminal_stderr() is None
        piped = WasiCtx(WasiConfig().stdout(io.BytesIO()))
        assert piped.hosts["wasi:cli/terminal-stdout@0.2.12"].get_terminal_stdout() is None
        ctx.hosts["wasi:cli/terminal-output@0.2.12"].terminal_output.drop(term)
        assert len(ctx.table) == 0
    finally:
        os.close(leader)
        os.close(follower)


def test_poll_and_block_on_a_bad_handle_trap_saying_why() -> None:
    """The hot paths (one pollable) read the table directly; a wrong handle still traps with
    what is wrong, as every other WASI call does."""
    ctx, _ = _ctx()
    poll_host = ctx.hosts["wasi:io/poll@0.2.12"]
    stream = ctx.push(BytesInputStream(b""))
    with pytest.raises(Trap, match=r"is a BytesInputStream, expected a Pollable"):
        poll_host.poll([stream])
    with pytest.raises(Trap, match=r"is a BytesInputStream, expected a Pollable"):
        poll_host.pollable.block(stream)
    gone = ctx.push(Timer(SystemClock(), 0))
    ctx.delete(gone)
    with pytest.raises(Trap, match=r"unknown handle 1 \(expected a Pollable\)"):
        poll_host.poll([gone])
    with pytest.raises(Trap, match=r"unknown handle 1"):
        poll_host.pollable.block(gone)
    timer = ctx.push(Timer(SystemClock(), 0))
    # (a sequence of the ready indices: one shared tuple when the one pollable is ready)
    assert list(poll_host.poll([timer])) == [0]
    poll_host.pollable.block(timer)


def test_an_output_pipe_without_a_reader_is_closed() -> None:
    # EPIPE: `closed` (the WIT: "no more input will be accepted"), for every later call too;
    # any other OS error stays the failed operation's own `last-operation-failed`.
    r, w = os.pipe()
    os.close(r)
    with os.fdopen(w, "wb", buffering=0) as f:
        s = FileOutputStream(f)
        with pytest.raises(StreamClosed):
            s.write(b"x")
        with pytest.raises(StreamClosed):
            s.flush()
    with (os.fdopen(os.open(os.devnull, os.O_RDONLY), "wb", buffering=0) as f,
          pytest.raises(StreamFailed)):  # EBADF
        FileOutputStream(f).write(b"x")
