"""``wasm-component serve`` on the hand-written hello-world proxy
(``examples/http_hello.wat``): the URL is the first line of stderr, a port-0 address gets a free port, concurrent requests on
many connections each get a fresh instance, and bad arguments fail clearly."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ._serve import ROOT, Server, wat_hello
from .conftest import built

httpx = pytest.importorskip("httpx", reason="httpx is part of the test extras")
pytest.importorskip("uvicorn", reason="uvicorn is part of the test extras")


@pytest.fixture(scope="module")
def app_wasm() -> Path:
    return built(wat_hello)


def test_url_first_on_stderr_and_a_free_port(server: Server) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert int(server.url.rsplit(":", 1)[1]) > 0
    r = httpx.get(server.url + "/anything?x=1")
    assert (r.status_code, r.text) == (200, "hello world")


def test_concurrent_requests(server: Server) -> None:
    def one(i: int) -> Any:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            return [c.post(f"/{i}/{j}", content=b"ignored").text for j in range(5)]

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(16)))
    assert results == [["hello world"] * 5] * 16


def test_bad_addr_is_an_error(app_wasm: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "wasm_component", "serve", str(app_wasm), "--addr",
                        "nowhere"], capture_output=True, text=True, timeout=60,
                       env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""})
    assert r.returncode == 2
    assert "`--addr`: expected HOST:PORT, got `nowhere`" in r.stderr
