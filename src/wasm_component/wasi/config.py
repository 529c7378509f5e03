"""``WasiConfig``: what a guest's WASI world looks like (arguments, environment, stdio, clocks,
randomness, preopened directories, network policy), built the way wasmtime users know.

Nothing is granted by default: no arguments or environment, an empty stdin, stdout and stderr
discarded, no directories, no network. Methods return the config, so calls chain; the
wasmtime-py spellings (``config.argv = [...]``, ``config.inherit_stdout()``,
``config.stdout_file = path``) work too.

Example::

    from wasm_component.wasi import WasiConfig

    config = (WasiConfig()
              .args("app.wasm", "--verbose")
              .env("LANG", "C.UTF-8")
              .stdin(b"input text")
              .stdout(lambda data: print(data.decode(), end=""))
              .inherit_stderr())
    store.set_wasi(config)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["INHERIT", "Preopen", "WasiConfig"]

#: The stdio setting "the host process's own stream".
INHERIT = "inherit"

StdinSpec = Any  # INHERIT | bytes | str path (stdin_file) | IO[bytes] | Callable[[int], bytes] | InputStream
StdoutSpec = Any  # INHERIT | IO[bytes] | Callable[[bytes], object] | OutputStream | None


@dataclass(frozen=True)
class Preopen:
    """A host directory (or a virtual one) the guest sees at ``guest`` (wasi-fs implements it)."""

    host: Any  # a path, or an object implementing wasi-fs's directory Protocol
    guest: str
    readonly: bool = False
    #: explicit permissions (``filesystem.DirPerms``/``FilePerms``), overriding ``readonly``
    dir_perms: Any = None
    file_perms: Any = None


class _Env(dict[str, str]):
    """``WasiConfig.env``: the variables set so far; calling it sets more."""

    def __init__(self, config: WasiConfig) -> None:
        super().__init__(config._env)
        self._config = config

    def __call__(self, name: str | Mapping[str, str] | Iterable[tuple[str, str]],
                 value: str | None = None) -> WasiConfig:
        config = self._config
        if isinstance(name, str):
            if not isinstance(value, str):
                raise TypeError(f"`WasiConfig.env`: expected a str value for `{name}`, "
                                f"got {value!r}")
            config._set_env(name, value)
            return config
        items = name.items() if isinstance(name, Mapping) else name
        if not isinstance(items, Iterable):
            raise TypeError(f"`WasiConfig.env`: expected a name and value, a mapping or pairs, "
                            f"got {type(name).__name__} {name!r}")
        for pair in items:
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise TypeError(f"`WasiConfig.env`: expected str pairs, got {pair!r}")
            k, v = pair
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(f"`WasiConfig.env`: expected str pairs, got {pair!r}")
            config._set_env(k, v)
        return config


class WasiConfig:
    """A builder for the WASI context of a store (see the module docstring)."""

    def __init__(self) -> None:
        self._argv: list[str] = []
        self._env: dict[str, str] = {}
        self.initial_cwd: str | None = None
        self._stdin: StdinSpec = b""
        self._stdout: StdoutSpec = None
        self._stderr: StdoutSpec = None
        self._stdin_is_file = False
        self._stdout_file: str | None = None
        self._stderr_file: str | None = None
        #: simulated clocks (see :meth:`virtual_clock`), or ``None`` for the host's clocks
        self.monotonic_clock_impl: Any = None
        self.wall_clock_impl: Any = None
        self.seed: int | None = None
        #: handles each component instance may hold at once before it traps
        self.max_resources = 1 << 16
        #: the most bytes one read gives the guest (a guest asking for 4 GiB gets this)
        self.max_read_chunk = 1 << 20
        #: the most bytes an exact-size request (random bytes) may ask for before it traps
        self.max_alloc = 1 << 26
        self.preopens: list[Preopen] = []
        self.sockets_policy: Any = None  # wasi-sockets' section

    # -- arguments and environment ---------------------------------------------------------------

    @property
    def argv(self) -> list[str]:
        return list(self._argv)

    @argv.setter
    def argv(self, value: Iterable[str]) -> None:
        self.args(*value)

    def args(self, *args: str) -> WasiConfig:
        """The guest's arguments (the first is the program name, as in C's ``argv``)."""
        for a in args:
            if not isinstance(a, str):
                raise TypeError(f"`WasiConfig.args`: expected str arguments, got {a!r}")
        self._argv = list(args)
        return self

    def arg(self, value: str) -> WasiConfig:
        """Append one argument."""
        if not isinstance(value, str):
            raise TypeError(f"`WasiConfig.arg`: expected a str, got {value!r}")
        self._argv.append(value)
        return self

    def inherit_argv(self) -> WasiConfig:
        import sys

        self._argv = list(sys.argv)
        return self

    @property
    def environ(self) -> dict[str, str]:
        return dict(self._env)

    @property
    def env(self) -> _Env:
        """Call it to set variables (``config.env("K", "V")``, ``config.env({...})``, pairs;
        it returns the config) or assign to replace them all (``config.env = [("K", "V")]``,
        as in wasmtime-py)."""
        return _Env(self)

    @env.setter
    def env(self, value: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        self._env = {}
        _Env(self)(value)

    def _set_env(self, k: str, v: str) -> None:
        if not k or "=" in k or "\0" in k or "\0" in v:
            raise ValueError(f"`WasiConfig.env`: invalid variable name or value {k!r}")
        self._env[k] = v

    def inherit_env(self) -> WasiConfig:
        """Give the guest this process's environment."""
        self._env.update(os.environ)
        return self

    def cwd(self, path: str | None) -> WasiConfig:
        """What ``wasi:cli/environment.initial-cwd`` returns."""
        self.initial_cwd = path
        return self

    # -- stdio -----------------------------------------------------------------------------------

    def stdin(self, source: StdinSpec) -> WasiConfig:
        """``INHERIT``, bytes (or str, UTF-8), a binary file-like object, a file descriptor,
        a callback ``fn(n) -> bytes`` (``b""`` ends it) or an :class:`~.io.InputStream`."""
        if isinstance(source, str) and source != INHERIT:
            source = source.encode()
        self._stdin = source
        self._stdin_is_file = False
        return self

    def stdout(self, sink: StdoutSpec) -> WasiConfig:
        """``INHERIT``, a binary file-like object, a callback ``fn(data)``, an
        :class:`~.io.OutputStream`, or ``None`` (discard)."""
        self._stdout = sink
        self._stdout_file = None
        return self

    def stderr(self, sink: StdoutSpec) -> WasiConfig:
        """Like :meth:`stdout`."""
        self._stderr = sink
        self._stderr_file = None
        return self

    def stdin_bytes(self, data: bytes) -> WasiConfig:
        return self.stdin(bytes(data))

    def inherit_stdin(self) -> WasiConfig:
        return self.stdin(INHERIT)

    def inherit_stdout(self) -> WasiConfig:
        return self.stdout(INHERIT)

    def inherit_stderr(self) -> WasiConfig:
        return self.stderr(INHERIT)

    def inherit_stdio(self) -> WasiConfig:
        return self.inherit_stdin().inherit_stdout().inherit_stderr()

    @property
    def stdin_file(self) -> str | None:
        return self._stdin if self._stdin_is_file else None

    @stdin_file.setter
    def stdin_file(self, path: str | os.PathLike[str]) -> None:
        self._stdin = os.fspath(path)
        self._stdin_is_file = True

    @property
    def stdout_file(self) -> str | None:
        return self._stdout_file

    @stdout_file.setter
    def stdout_file(self, path: str | os.PathLike[str]) -> None:
        self._stdout = None
        self._stdout_file = os.fspath(path)

    @property
    def stderr_file(self) -> str | None:
        return self._stderr_file

    @stderr_file.setter
    def stderr_file(self, path: str | os.PathLike[str]) -> None:
        self._stderr = None
        self._stderr_file = os.fspath(path)

    @property
    def stdout_custom(self) -> Any:
        return self._stdout if callable(self._stdout) else None

    @stdout_custom.setter
    def stdout_custom(self, callback: Any) -> None:
        """wasmtime-py's spelling of ``stdout(callback)``."""
        self.stdout(callback)

    @property
    def stderr_custom(self) -> Any:
        return self._stderr if callable(self._stderr) else None

    @stderr_custom.setter
    def stderr_custom(self, callback: Any) -> None:
        self.stderr(callback)

    # -- clocks and randomness -------------------------------------------------------------------

    def virtual_clock(self, wall_start_ns: int = 0, monotonic_start_ns: int = 0) -> WasiConfig:
        """Simulated time for tests: the clocks start at the given instants, stand still unless
        advanced (``store.wasi.monotonic_clock.advance(ns)``), and a guest that sleeps moves
        them forward at once instead of waiting."""
        from .clocks import VirtualClock

        clock = VirtualClock(monotonic_start_ns, wall_start_ns)
        self.monotonic_clock_impl = clock
        self.wall_clock_impl = clock
        return self

    def clocks(self, monotonic: Any = None, wall: Any = None) -> WasiConfig:
        """Your own clocks (objects like :class:`~.clocks.SystemClock`)."""
        self.monotonic_clock_impl = monotonic
        self.wall_clock_impl = wall
        return self

    def random_seed(self, seed: int) -> WasiConfig:
        """Deterministic randomness for tests: ``wasi:random`` (secure and insecure) and the
        insecure seed all derive from ``seed``. Never use this in production."""
        if not isinstance(seed, int):
            raise TypeError(f"`WasiConfig.random_seed`: expected an int, got {seed!r}")
        self.seed = seed
        return self

    # -- limits ----------------------------------------------------------------------------------

    def limits(self, *, max_resources: int | None = None, max_read_chunk: int | None = None,
               max_alloc: int | None = None) -> WasiConfig:
        """Bounds on what a guest can make the host hold (handles, bytes per read, bytes of
        one exact-size allocation)."""
        for name, v in (("max_resources", max_resources), ("max_read_chunk", max_read_chunk),
                        ("max_alloc", max_alloc)):
            if v is not None:
                if not isinstance(v, int) or v < 1:
                    raise ValueError(f"`WasiConfig.limits`: expected a positive `{name}`, "
                                     f"got {v!r}")
                setattr(self, name, v)
        return self

    # -- filesystem (wasi-fs implements these preopens) -------------------------------------------

    def preopen_dir(self, host: Any, guest: str | None = None, readonly: bool = False, *,
                    dir_perms: Any = None, file_perms: Any = None) -> WasiConfig:
        """Let the guest see host directory ``host`` (a path, or any object implementing
        :class:`~.vfs.Directory`, such as a :class:`~.vfs.MemoryDirectory`) at ``guest``
        (default: the same path), read-write unless ``readonly``. ``dir_perms`` and
        ``file_perms`` (:class:`~.filesystem.DirPerms`, :class:`~.filesystem.FilePerms`) set
        the permissions exactly, as wasmtime's ``preopened_dir`` does::

            config.preopen_dir("site", "/site", dir_perms=DirPerms.READ,
                               file_perms=FilePerms.READ | FilePerms.WRITE)
        """
        from .filesystem import DirPerms, FilePerms
        from .vfs import Directory

        g = guest if guest is not None else os.fspath(host)
        if not isinstance(g, str) or not g:
            raise ValueError(f"`WasiConfig.preopen_dir`: expected a guest path, got {g!r}")
        if isinstance(host, (str, os.PathLike)):
            h = os.fspath(host)
            if not os.path.isdir(h):  # (as wasmtime's `preopened_dir`, refused at the call)
                why = "not a directory" if os.path.exists(h) else "no such directory"
                raise ValueError(f"`WasiConfig.preopen_dir`: expected a host directory, got "
                                 f"{h!r} ({why})")
        elif isinstance(host, Directory):
            h = host
        else:
            raise TypeError(f"`WasiConfig.preopen_dir`: expected a path or a `vfs.Directory`, "
                            f"got {type(host).__name__}")
        for name, v, cls in (("dir_perms", dir_perms, DirPerms),
                             ("file_perms", file_perms, FilePerms)):
            if v is not None and not isinstance(v, cls):
                raise TypeError(f"`WasiConfig.preopen_dir`: expected `{name}` to be a "
                                f"{cls.__name__}, got {v!r}")
        self.preopens.append(Preopen(h, g, bool(readonly), dir_perms, file_perms))
        return self

    # -- sockets (wasi-sockets' section) --------------------------------------------------------
    # Everything is denied until allowed. Rules add up: an address is allowed when any rule
    # matches or the callback says so. `create-tcp-socket`/`create-udp-socket` answer
    # `access-denied` while nothing at all is allowed for that protocol (as wasmtime does).

    def _sockets(self) -> Any:
        from .sockets_net import SocketPolicy

        if self.sockets_policy is None:
            self.sockets_policy = SocketPolicy()
        return self.sockets_policy

    def allow_tcp(self, address: str, ports: Any = None, *, uses: Any = None) -> WasiConfig:
        """Let the guest bind and connect TCP sockets to ``address`` (an IP or a CIDR such as
        ``"127.0.0.0/8"``), on ``ports`` (an int, a ``range`` or an inclusive ``(low, high)``
        pair; all ports, including 0 for "any free port", when None). ``uses`` narrows it to
        some of ``SocketAddrUse.TCP_BIND``/``TCP_CONNECT``.

        Example: ``WasiConfig().allow_tcp("127.0.0.1").allow_tcp("::1", 8080)``
        """
        self._sockets().allow("tcp", address, ports, uses=uses)
        return self

    def allow_udp(self, address: str, ports: Any = None, *, uses: Any = None) -> WasiConfig:
        """Like :meth:`allow_tcp` for UDP (bind, `stream` to a peer, outgoing datagrams)."""
        self._sockets().allow("udp", address, ports, uses=uses)
        return self

    def socket_addr_check(self, check: Any) -> WasiConfig:
        """``check(ip, port, use) -> bool`` decides for addresses no rule allows (``ip`` an
        ``ipaddress`` object, ``use`` a ``SocketAddrUse``), like wasmtime's
        ``socket_addr_check``."""
        if not callable(check):
            raise TypeError(f"`WasiConfig.socket_addr_check`: expected a callable, got {check!r}")
        self._sockets().check = check
        return self

    def inherit_network(self) -> WasiConfig:
        """Allow every address (the host's whole network, as wasmtime's ``inherit_network``)."""
        self._sockets().all_addresses = True
        return self

    def allow_ip_name_lookup(self, enabled: bool = True, *, names: Iterable[str] | None = None
                             ) -> WasiConfig:
        """Let `ip-name-lookup` resolve names (only ``names``, e.g. ``["localhost"]``, when
        given). IP literals are answered without a lookup either way."""
        pol = self._sockets()
        pol.ip_name_lookup = bool(enabled)
        pol.lookup_names = (None if names is None
                            else frozenset(n.lower().rstrip(".") for n in names))
        return self
