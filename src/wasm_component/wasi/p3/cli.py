"""``wasi:cli@0.3.0``: the 0.2 hosts (:mod:`..cli`) over the same configuration, with stdio as
streams.

Arguments, environment, exit and terminals are 0.2's own classes (0.3 only renamed
``initial-cwd`` to ``get-initial-cwd``). ``stdin.read-via-stream`` hands the guest a
``stream<u8>`` fed from the context's one stdin stream; ``stdout``/``stderr``
``write-via-stream`` copy the guest's stream into the context's stdout/stderr, the same
objects the 0.2 ``get-stdout`` returns, so a component that writes through both versions
keeps its output in order.

Example::

    out = io.BytesIO()
    store.set_wasi(WasiConfig().stdout(out))     # the same config serves 0.2 and 0.3
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from .._bindings_p3.imports import wasi_cli_environment as _b_env
from .._bindings_p3.imports import wasi_cli_exit as _b_exit
from .._bindings_p3.imports import wasi_cli_stderr as _b_stderr
from .._bindings_p3.imports import wasi_cli_stdin as _b_stdin
from .._bindings_p3.imports import wasi_cli_stdout as _b_stdout
from .._bindings_p3.imports import wasi_cli_terminal_input as _b_tin
from .._bindings_p3.imports import wasi_cli_terminal_output as _b_tout
from .._bindings_p3.imports import wasi_cli_terminal_stderr as _b_tstderr
from .._bindings_p3.imports import wasi_cli_terminal_stdin as _b_tstdin
from .._bindings_p3.imports import wasi_cli_terminal_stdout as _b_tstdout
from .._bindings_p3.imports import wasi_cli_types as _b_types
from ..cli import EnvironmentHost as _EnvironmentHost02
from ..cli import ExitHost, register_terminals
from ..ctx import register
from ._async import ByteReader, stream_from, stream_into

if TYPE_CHECKING:
    from ..ctx import WasiCtx
    from ..io import IoError

__all__ = ["EnvironmentHost", "StderrHost", "StdinHost", "StdoutHost", "cli_error"]


def cli_error(e: IoError) -> str:
    """``wasi:cli/types.error-code`` for a failed stdio stream: ``pipe`` when the other end
    is gone (``EPIPE``), else ``io``."""
    return "pipe" if e.errno == errno.EPIPE else "io"


class EnvironmentHost(_EnvironmentHost02):
    """``wasi:cli/environment@0.3.0``."""

    get_initial_cwd = _EnvironmentHost02.initial_cwd


class StdinHost:
    """``wasi:cli/stdin@0.3.0``."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx

    def read_via_stream(self) -> tuple[Any, Any]:
        return stream_from(self._ctx, _b_stdin.INSTANCE_NAME, "read-via-stream",
                           self._ctx.stdio.stdin, cli_error)  # fmt: skip


class _WriteHost:
    """``wasi:cli/stdout@0.3.0`` and ``stderr``: the same call over a different stream."""

    def __init__(self, ctx: WasiCtx, which: str, interface: str) -> None:
        self._ctx = ctx
        self._sink = getattr(ctx.stdio, which)
        self._interface = interface

    def write_via_stream(self, data: ByteReader) -> Any:
        return stream_into(self._ctx, self._interface, "write-via-stream", data, self._sink,
                           cli_error)  # fmt: skip


class StdoutHost(_WriteHost):
    def __init__(self, ctx: WasiCtx) -> None:
        super().__init__(ctx, "stdout", _b_stdout.INSTANCE_NAME)


class StderrHost(_WriteHost):
    def __init__(self, ctx: WasiCtx) -> None:
        super().__init__(ctx, "stderr", _b_stderr.INSTANCE_NAME)


register(_b_types, lambda ctx: None)  # types only: no host object is ever asked for
register(_b_env, EnvironmentHost)
register(_b_exit, ExitHost)
register(_b_stdin, StdinHost)
register(_b_stdout, StdoutHost)
register(_b_stderr, StderrHost)
register_terminals(_b_tin, _b_tout, _b_tstdin, _b_tstdout, _b_tstderr)
