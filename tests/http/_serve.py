"""Build the test proxy components (cached on disk) and run ``wasm-component serve`` on them.

- :func:`componentize_py_app` builds ``guest/app.py`` for ``wasi:http/proxy@0.2.12`` (the WIT
  the package ships) with componentize-py, cached under
  ``~/.cache/wasm-component-tests/http-proxy-py-<hash>/``.
- :class:`Server` starts ``wasm-component serve FILE --addr 127.0.0.1:0`` as a subprocess,
  reads the URL from the first line of its stderr and keeps the rest of stderr for the tests.

Shared by the tests and ``benchmarks/http_load.py``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parents[2]
WIT = ROOT / "src" / "wasm_component" / "http" / "wit" / "0.2.12" / "proxy"
GUEST = Path(__file__).resolve().parent / "guest"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wasm-component-tests"


class Missing(Exception):
    """A tool the build needs is not installed."""


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _cached(name: str, parts: list[bytes], build: Callable[[Path], Path]) -> Path:
    """``build(workdir)``'s component, made once per content (``parts`` plus the package's
    WIT) under ``CACHE/name-<hash>/``."""
    wit = b"".join(p.read_bytes() for p in sorted(WIT.rglob("*.wit")))
    out = CACHE / f"{name}-{_digest(*parts, wit)}"
    wasm = out / "component.wasm"
    if wasm.exists():
        return wasm
    work = out / "build"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.replace(build(work), wasm)
    return wasm


def componentize_py_app(source: Path = GUEST / "app.py") -> Path:
    """``source`` built into a ``wasi:http/proxy`` component (cached); :class:`Missing`
    without componentize-py."""
    exe = shutil.which("componentize-py")
    if exe is None:
        raise Missing("componentize-py is not installed (it is part of the test extras)")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout

    def build(work: Path) -> Path:
        shutil.copytree(WIT, work / "wit")
        shutil.copy(source, work / "app.py")
        subprocess.run([exe, "-d", "wit", "-w", "wasi:http/proxy@0.2.12", "componentize",
                        "app", "-o", "app.wasm"], cwd=work, check=True, capture_output=True)
        return work / "app.wasm"

    return _cached("http-proxy-py", [source.read_bytes(), version.encode()], build)


def wat_hello(source: Path = ROOT / "examples" / "http_hello.wat") -> Path:
    """The hand-written hello-world proxy (``examples/http_hello.wat``, a core module made a
    component against the package's WIT with ``wasm-tools component embed`` + ``new``; cached)."""
    exe = shutil.which("wasm-tools")
    if exe is None:
        raise Missing("wasm-tools is not installed (it is part of the test extras)")

    def build(work: Path) -> Path:
        core, emb, wasm = work / "core.wasm", work / "embedded.wasm", work / "hello.wasm"
        subprocess.run([exe, "parse", str(source), "-o", str(core)], check=True,
                       capture_output=True)
        subprocess.run([exe, "component", "embed", str(WIT), "--world",
                        "wasi:http/proxy@0.2.12", str(core), "-o", str(emb)], check=True,
                       capture_output=True)
        subprocess.run([exe, "component", "new", str(emb), "-o", str(wasm)], check=True,
                       capture_output=True)
        return wasm

    return _cached("http-proxy-wat", [source.read_bytes()], build)


COMPONENTIZE_JS = "@bytecodealliance/componentize-js@0.23.0"
#: the wasi:http version StarlingMonkey in that componentize-js exports `handle` at
JS_WASI_VERSION = "0.2.10"
JS_BUILD = """
import { componentize } from '@bytecodealliance/componentize-js';
import { readFile, writeFile } from 'node:fs/promises';
const source = await readFile('app.js', 'utf8');
const { component } = await componentize(source, { witPath: 'wit', worldName: 'app' });
await writeFile('app.wasm', component);
"""


def componentize_js_app(source: Path = GUEST / "app.js") -> Path:
    """``source`` (a fetch-event app) built with componentize-js for ``wasi:http/proxy``
    (cached). Its engine exports ``wasi:http/incoming-handler@0.2.10``, so it builds against
    the package's 0.2.12 WIT relabelled 0.2.10 (the interfaces are the same); the linker then
    serves those 0.2.10 imports with the 0.2.12 host, semver-compatibly."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        raise Missing("node and npm are needed to build a componentize-js component")
    modules = CACHE / "componentize-js-0.23.0"
    if not (modules / "node_modules" / "@bytecodealliance" / "componentize-js").exists():
        modules.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--silent", "--prefix", str(modules), COMPONENTIZE_JS],
                       check=True, capture_output=True, timeout=900)

    def build(work: Path) -> Path:
        (work / "wit").mkdir()
        shutil.copytree(WIT / "deps", work / "wit" / "deps")
        (work / "wit" / "deps" / "http").mkdir()
        for f in WIT.glob("*.wit"):
            shutil.copy(f, work / "wit" / "deps" / "http" / f.name)
        for f in (work / "wit").rglob("*.wit"):
            f.write_text(f.read_text().replace("0.2.12", JS_WASI_VERSION)
                         .replace("0.2.11", JS_WASI_VERSION))
        (work / "wit" / "world.wit").write_text(
            f"package local:app;\n\nworld app {{\n  include wasi:http/proxy@{JS_WASI_VERSION};\n}}\n")
        shutil.copy(source, work / "app.js")
        (work / "build.mjs").write_text(JS_BUILD)
        (work / "node_modules").symlink_to(modules / "node_modules")
        subprocess.run([node, "build.mjs"], cwd=work, check=True, capture_output=True,
                       timeout=900)
        return work / "app.wasm"

    return _cached("http-proxy-js", [source.read_bytes(), JS_BUILD.encode()], build)


class ServedProcess:
    """A server in a subprocess at ``url``: waiting for it to answer, its RSS, stopping it
    (``with ... as s``). :class:`Server` is ours; ``benchmarks/http_load.py`` runs the peer."""

    proc: subprocess.Popen[Any]
    url: str

    def _log_tail(self) -> str:
        return ""

    def _wait_ready(self, timeout: float, what: str) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(self.url + "/", timeout=timeout)
                return
            except httpx.TransportError as e:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"{what} did not come up: {self._log_tail()}") from e
                time.sleep(0.2)

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Server(ServedProcess):
    """``wasm-component serve`` on ``wasm`` in a subprocess (``with Server(...) as s``)."""

    def __init__(self, wasm: Path, *args: str, timeout: float = 300.0) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wasm_component", "serve", str(wasm), "--addr",
             "127.0.0.1:0", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=env, text=True)
        assert self.proc.stderr is not None
        self.url = self.proc.stderr.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            rest = self.proc.stderr.read()
            self.proc.kill()
            raise RuntimeError(f"serve did not print its URL first: {self.url!r} {rest[-2000:]}")
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._wait_ready(timeout, "serve")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def _log_tail(self) -> str:
        return "".join(self.lines[-20:])

    def stderr_text(self) -> str:
        return "".join(self.lines)


def check_disconnect_mid_response(server: Server, client: Any) -> None:
    """A client that stops reading a long response and goes away: the server says so in its
    log and keeps serving."""
    import httpx

    before = server.stderr_text().count("client disconnected mid-response")
    with httpx.Client(base_url=server.url, timeout=60) as c, \
            c.stream("GET", "/stream?n=20000") as r:  # 320 MiB: never read to the end
        it = r.iter_raw()
        next(it)
        next(it)
    deadline = time.monotonic() + 30
    while server.stderr_text().count("client disconnected mid-response") == before:
        assert time.monotonic() < deadline, server.stderr_text()[-3000:]
        time.sleep(0.1)
    assert client.get("/hello").text == "hello world"


def check_disconnect_mid_request_body(server: Server, client: Any) -> None:
    """A client that goes away mid request body: later requests are served."""
    host, port = server.url.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)))
    s.sendall(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000\r\n\r\n" + b"x" * 1000)
    time.sleep(0.5)
    s.close()
    for _ in range(3):
        assert client.get("/hello").text == "hello world"
    assert client.post("/echo", content=b"after").content == b"after"
