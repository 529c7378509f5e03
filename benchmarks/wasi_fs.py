"""``wasi:filesystem`` benchmark rows for ``run.py``: a C command component (wasi-libc and
the preview1 adapter, ``tests/wasi/programs/fs_bulk.c``) writes 64 MiB to a preopened host
directory in 64 KiB ``write()`` calls, or reads it back in 64 KiB ``read()`` calls. One
iteration is a whole run: new store, instantiate, ``wasi:cli/run``. Both sides run the same
component bytes; ours through ``Linker.add_wasip2()``, the peer through wasmtime's.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MIB_TOTAL = 64
CHUNK = 64 * 1024
WANT = f"{MIB_TOTAL << 20} bytes".encode()

_BUILT: dict[str, bytes] = {}
_DIRS: list[Any] = []  # temporary directories kept for the process


class Unavailable(Exception):
    pass


def fs_bulk_bytes() -> bytes:
    """The component, built (and cached on disk) with the tests' helper."""
    if "fs_bulk" not in _BUILT:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        try:
            from tests.wasi._build import c_component
        except ImportError as e:
            raise Unavailable(f"tests/wasi/_build.py is needed to build fs_bulk: {e}") from None
        source = (ROOT / "tests" / "wasi" / "programs" / "fs_bulk.c").read_text()
        try:
            path = c_component(source, "fs_bulk")
        except BaseException as e:  # pytest.skip when clang/wasm-tools/npm are missing
            raise Unavailable(f"cannot build fs_bulk: {e}") from None
        _BUILT["fs_bulk"] = path.read_bytes()
    return _BUILT["fs_bulk"]


def _run_iface(names: Any) -> str:
    for n in names:
        if n.startswith("wasi:cli/run@0.2"):
            return str(n)
    raise RuntimeError("fs_bulk exports no `wasi:cli/run`")


def _runner(side: Any) -> Any:
    """``run(args, host_dir) -> stdout bytes`` for one side."""
    blob = fs_bulk_bytes()
    if side.label == "wasm-component":
        from wasm_component import Linker, Ok, Store
        from wasm_component.wasi import WasiConfig

        component = side.compile(blob)
        iface = _run_iface(n for n, _ in component.component_type().exports)
        linker = Linker(side.engine)
        linker.add_wasip2()
        pre = linker.instantiate_pre(component)

        def run_ours(args: list[str], host_dir: str) -> bytes:
            out: list[bytes] = []
            store = Store(side.engine)
            store.set_wasi(WasiConfig().args("fs_bulk", *args).stdout(out.append)
                           .preopen_dir(host_dir, "/d"))  # fmt: skip
            inst = pre.instantiate(store)
            run = inst.get_func(store, inst.get_export_index(
                store, "run", inst.get_export_index(store, iface)))
            if not isinstance(run(store), Ok):
                raise RuntimeError("fs_bulk failed")
            return b"".join(out)

        return run_ours
    import wasmtime
    import wasmtime.component as wc

    component = wc.Component(side.engine, blob)
    peer_iface = _run_iface(component.type.exports(side.engine))
    linker = wc.Linker(side.engine)
    linker.add_wasip2()

    def run_peer(args: list[str], host_dir: str) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            config = wasmtime.WasiConfig()
            config.argv = ["fs_bulk", *args]
            config.stdout_file = f"{tmp}/out"
            config.preopen_dir(host_dir, "/d")
            store = wasmtime.Store(side.engine)
            store.set_wasi(config)
            inst = linker.instantiate(store, component)
            run = inst.get_func(store, inst.get_export_index(
                store, "run", inst.get_export_index(store, peer_iface)))
            if getattr(run(store), "tag", "err") != "ok":
                raise RuntimeError("fs_bulk failed")
            return Path(f"{tmp}/out").read_bytes()

    return run_peer


def _dir() -> str:
    d = tempfile.TemporaryDirectory(prefix="wasi-fs-bench-")
    _DIRS.append(d)
    return d.name


def _check(out: bytes) -> None:
    if not out.startswith(WANT):
        raise RuntimeError(f"fs_bulk printed {out[:60]!r}, expected {WANT!r}...")


def op_write(side: Any, job: Any) -> Any:
    run, host = _runner(side), _dir()
    args = ["write", "/d/big", str(MIB_TOTAL), str(CHUNK)]
    _check(run(args, host))

    def timed(_: Any, n: int) -> None:
        for _ in range(n):
            run(args, host)

    return job(timed)


def op_read(side: Any, job: Any) -> Any:
    run, host = _runner(side), _dir()
    _check(run(["write", "/d/big", str(MIB_TOTAL), str(CHUNK)], host))
    args = ["read", "/d/big", str(CHUNK)]
    _check(run(args, host))

    def timed(_: Any, n: int) -> None:
        for _ in range(n):
            run(args, host)

    return job(timed)
