"""``wasi:cli``: arguments, environment, initial directory, exit, stdio and terminals.

Stdio is configured on :class:`~wasm_component.wasi.WasiConfig` (inherit, bytes, a binary
file-like object, a callback, or your own stream); ``exit``/``exit-with-code`` raise
:class:`~wasm_component.wasi.WasiExit` out of the guest call, carrying the code.

Example::

    out = io.BytesIO()
    store.set_wasi(WasiConfig().args("app").stdout(out))
    try:
        run(store)
    except WasiExit as e:
        print("exited with", e.exit_code)
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..values import Ok
from ._bindings.imports import wasi_cli_environment as _b_env
from ._bindings.imports import wasi_cli_exit as _b_exit
from ._bindings.imports import wasi_cli_stderr as _b_stderr
from ._bindings.imports import wasi_cli_stdin as _b_stdin
from ._bindings.imports import wasi_cli_stdout as _b_stdout
from ._bindings.imports import wasi_cli_terminal_input as _b_tin
from ._bindings.imports import wasi_cli_terminal_output as _b_tout
from ._bindings.imports import wasi_cli_terminal_stderr as _b_tstderr
from ._bindings.imports import wasi_cli_terminal_stdin as _b_tstdin
from ._bindings.imports import wasi_cli_terminal_stdout as _b_tstdout
from ._bindings.imports import wasi_io_streams as _b_streams
from .config import INHERIT
from .ctx import WasiExit, register
from .io import (
    BytesInputStream,
    CallbackInputStream,
    CallbackOutputStream,
    ClosedInputStream,
    FileInputStream,
    FileOutputStream,
    InputStream,
    OutputStream,
    SinkOutputStream,
    StdioOutputStream,
)

if TYPE_CHECKING:
    from ..resources import Resource
    from .config import WasiConfig
    from .ctx import WasiCtx

__all__ = ["Stdio", "make_input", "make_output", "make_stdio", "register_terminals"]


@dataclass
class Stdio:
    """The context's three streams, and whether each is a terminal."""

    stdin: InputStream
    stdout: OutputStream
    stderr: OutputStream
    tty: tuple[bool, bool, bool]


def make_input(spec: Any, *, path: bool = False) -> tuple[InputStream, bool]:
    """A stdin stream from a :meth:`WasiConfig.stdin` setting; and whether it is a terminal."""
    import sys

    if isinstance(spec, InputStream):
        return spec, False
    if path:
        return FileInputStream(open(spec, "rb")), False
    if isinstance(spec, str) and spec == INHERIT:
        if sys.stdin is None:  # no stdin at all (pythonw, some services)
            return ClosedInputStream(), False
        f: Any = sys.stdin.buffer if getattr(sys.stdin, "buffer", None) is not None else sys.stdin
        try:
            fd = f.fileno()
        except (AttributeError, OSError, ValueError):
            return FileInputStream(f), False
        import os

        return FileInputStream(fd), os.isatty(fd)
    if isinstance(spec, (bytes, bytearray, memoryview)):
        return BytesInputStream(bytes(spec)), False
    if isinstance(spec, int):
        return FileInputStream(spec), False
    if hasattr(spec, "read"):
        return FileInputStream(spec), False
    if callable(spec):
        return CallbackInputStream(spec), False
    raise TypeError(f"`WasiConfig.stdin`: expected inherit, bytes, a binary file, a callback or "
                    f"an InputStream, got {type(spec).__name__}")


def make_output(spec: Any, name: str, path: str | None = None) -> tuple[OutputStream, bool]:
    """A stdout/stderr stream from a :meth:`WasiConfig.stdout` setting; and whether it is a
    terminal."""
    if path is not None:
        return FileOutputStream(open(path, "wb")), False
    if spec is None:
        return SinkOutputStream(), False
    if isinstance(spec, OutputStream):
        return spec, False
    if isinstance(spec, str) and spec == INHERIT:
        s = StdioOutputStream(name)
        return s, s.isatty()
    if hasattr(spec, "write"):
        return FileOutputStream(spec), False
    if callable(spec):
        return CallbackOutputStream(spec), False
    raise TypeError(f"`WasiConfig.{name}`: expected inherit, a binary file, a callback, an "
                    f"OutputStream or None, got {type(spec).__name__}")


def make_stdio(config: WasiConfig) -> Stdio:
    stdin, tin = make_input(config._stdin, path=config._stdin_is_file)
    stdout, tout = make_output(config._stdout, "stdout", config._stdout_file)
    stderr, terr = make_output(config._stderr, "stderr", config._stderr_file)
    return Stdio(stdin, stdout, stderr, (tin, tout, terr))


class EnvironmentHost:
    """``wasi:cli/environment``."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._env = list(ctx.config._env.items())
        self._args = list(ctx.config._argv)
        self._cwd = ctx.config.initial_cwd

    def get_environment(self) -> list[tuple[str, str]]:
        return list(self._env)

    def get_arguments(self) -> list[str]:
        return list(self._args)

    def initial_cwd(self) -> str | None:
        return self._cwd


class ExitHost:
    """``wasi:cli/exit``: both calls unwind the guest with :class:`WasiExit`."""

    def __init__(self, ctx: WasiCtx) -> None:
        pass

    def exit(self, status: Any) -> None:
        raise WasiExit(0 if isinstance(status, Ok) else 1)

    def exit_with_code(self, status_code: int) -> None:
        raise WasiExit(status_code)


class _StdioHost:
    """``wasi:cli/std{in,out,err}``: each call hands out a new handle to the one stream."""

    def __init__(self, ctx: WasiCtx, which: str, rt: Any) -> None:
        self._ctx = ctx
        self._stream = getattr(ctx.stdio, which)
        self._rt = rt

    def _get(self) -> Resource[Any]:
        return self._ctx.push(self._stream, self._rt)

    get_stdin = get_stdout = get_stderr = _get


class TerminalInput:
    """The object behind a ``terminal-input`` handle."""


class TerminalOutput:
    """The object behind a ``terminal-output`` handle."""


class _Drop:
    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx

    def drop(self, rep: Resource[Any]) -> None:
        self._ctx.delete(rep)


class TerminalInputHost:
    def __init__(self, ctx: WasiCtx) -> None:
        self.terminal_input = _Drop(ctx)


class TerminalOutputHost:
    def __init__(self, ctx: WasiCtx) -> None:
        self.terminal_output = _Drop(ctx)


class _TerminalHost:
    """``wasi:cli/terminal-std{in,out,err}``: a terminal handle when that stream is one."""

    def __init__(self, ctx: WasiCtx, index: int, cls: type, rt: Any) -> None:
        self._ctx = ctx
        self._is_tty = ctx.stdio.tty[index]
        self._cls = cls
        self._rt = rt

    def _get(self) -> Resource[Any] | None:
        return self._ctx.push(self._cls(), self._rt) if self._is_tty else None

    get_terminal_stdin = get_terminal_stdout = get_terminal_stderr = _get


register(_b_env, EnvironmentHost)
register(_b_exit, ExitHost)
register(_b_stdin, lambda ctx: _StdioHost(ctx, "stdin", _b_streams._RT_InputStream))
register(_b_stdout, lambda ctx: _StdioHost(ctx, "stdout", _b_streams._RT_OutputStream))
register(_b_stderr, lambda ctx: _StdioHost(ctx, "stderr", _b_streams._RT_OutputStream))
def register_terminals(tin: ModuleType, tout: ModuleType, tstdin: ModuleType,
                       tstdout: ModuleType, tstderr: ModuleType) -> None:  # fmt: skip
    """Register the ``terminal-*`` hosts for one WASI version's bindings (the same in 0.2 and
    0.3: a handle when that stream is a terminal)."""
    register(tin, TerminalInputHost)
    register(tout, TerminalOutputHost)
    rt_in, rt_out = tin._RT_TerminalInput, tout._RT_TerminalOutput
    register(tstdin, lambda ctx: _TerminalHost(ctx, 0, TerminalInput, rt_in))
    register(tstdout, lambda ctx: _TerminalHost(ctx, 1, TerminalOutput, rt_out))
    register(tstderr, lambda ctx: _TerminalHost(ctx, 2, TerminalOutput, rt_out))


register_terminals(_b_tin, _b_tout, _b_tstdin, _b_tstdout, _b_tstderr)
