"""Build and run WebAssembly/wasi-testsuite's Rust (WASI preview1) tests, ours vs wasmtime.

Nothing of the suite is kept in this repository: fetch its ``tests/rust`` sources yourself
into ``ROOT/tests/rust`` (``src/lib.rs``, ``src/config.rs``, ``src/bin/*.rs`` and any
``src/bin/*.json``; the suite's newer layout keeps them under ``tests/rust/wasm32-wasip1/``,
copy that ``src`` there), then::

    python tests/tools/wasi_testsuite.py ROOT                # build all, run all
    python tests/tools/wasi_testsuite.py ROOT -k readlink    # only tests whose name has it
    python tests/tools/wasi_testsuite.py ROOT --json out.json

Building needs a ``rustc`` with the ``wasm32-wasi`` standard library (Debian bookworm:
``apt-get install rustc libstd-rust-dev-wasm32``; ``--rustc`` picks it, default the first of
``/usr/bin/rustc`` and ``rustc`` on ``PATH`` that has one). The tests depend on the crates
``wasi`` (0.11, the raw preview1 bindings; the newer tests name it ``wasip1``), ``libc`` and
``once_cell``: ``wasi`` and ``libc`` are taken from the target's own standard library (the
same crates std is built on, reached with ``RUSTC_BOOTSTRAP=1`` and
``feature(rustc_private)``), ``once_cell::sync::Lazy`` is a few lines written here. Each test
is a core module adapted into a command component with ``wasm-tools component new --adapt``
and jco's preview1 command adapter (as the C conformance tests do), cached in ``ROOT/build``.

``--vfs`` adds a third side, ``ours-vfs``: the test run through the API with every preopen
an empty in-memory directory (``vfs.MemoryDirectory``) instead of a host one.

A test's ``.json`` (if there) says what it gets (the suite's format): ``dirs`` (preopened
under their own name) or ``root`` (preopened as ``/``), ``args``, ``env``, ``exit_code``,
``stdout``. Without one, a test that looks for the preopen ``/`` (``root_directory()``, the
newer tests) gets a fresh directory as ``/``, any other ``fs-tests.dir`` preopened and passed as its argument (the suite's default
for its Rust tests). Each run gets a fresh copy of the directory, on both sides.

Every test runs under ``wasm-component run`` (this checkout's ``src``, or ``--src``) and under
the ``wasmtime`` CLI (``--wasmtime``, default the test extra's binary); a table of
pass/fail per side ends the output, with the first lines of a failure's stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

ONCE_CELL = """
pub mod sync {
    use std::cell::UnsafeCell;
    use std::sync::Once;
    pub struct Lazy<T, F = fn() -> T> { once: Once, init: F, value: UnsafeCell<Option<T>> }
    unsafe impl<T: Sync + Send, F: Sync> Sync for Lazy<T, F> {}
    impl<T, F> Lazy<T, F> {
        pub const fn new(init: F) -> Self {
            Lazy { once: Once::new(), init, value: UnsafeCell::new(None) }
        }
    }
    impl<T, F: Fn() -> T> std::ops::Deref for Lazy<T, F> {
        type Target = T;
        fn deref(&self) -> &T {
            self.once.call_once(|| unsafe { *self.value.get() = Some((self.init)()) });
            unsafe { (*self.value.get()).as_ref().unwrap() }
        }
    }
}
"""


#: ``open_scratch_directory``, which the suite's older tests import from its ``lib.rs`` and its
#: newer ``lib.rs`` no longer has (the index holds files of both): the preopened directory
#: named ``path``, opened again (written here from what the older tests expect of it).
SCRATCH = """
pub fn open_scratch_directory(path: &str) -> Result<wasi::Fd, String> {
    unsafe {
        for fd in 3.. {
            let stat = match wasi::fd_prestat_get(fd) { Ok(s) => s, Err(_) => break };
            if stat.tag != wasi::PREOPENTYPE_DIR.raw() { continue; }
            let mut name = Vec::with_capacity(stat.u.dir.pr_name_len);
            if wasi::fd_prestat_dir_name(fd, name.as_mut_ptr(), name.capacity()).is_err() {
                continue;
            }
            name.set_len(stat.u.dir.pr_name_len);
            if name == path.as_bytes() {
                // (no rights asked for: the suite's newer helpers ask for none either)
                return Ok(wasi::path_open(fd, 0, ".", wasi::OFLAGS_DIRECTORY, 0, 0, 0)
                    .expect("failed to open the scratch directory"));
            }
        }
        Err(format!("no preopened directory named {}", path))
    }
}
"""


#: ``--vfs``: a test run through the API (``tests.wasi._build.run_ours``) with each preopen
#: an empty in-memory directory (``vfs.MemoryDirectory``) instead of a host one.
VFS_DRIVER = """
import json, sys
from pathlib import Path
from tests.wasi._build import Inputs, run_ours
from wasm_component.wasi.vfs import MemoryDirectory
path, spec = sys.argv[1], json.loads(sys.argv[2])
dirs = [(MemoryDirectory(), d) for d in spec.get("dirs", [])]
if "root" in spec:
    dirs.append((MemoryDirectory(), "/"))
out = run_ours(Path(path), Inputs(args=[path, *map(str, spec.get("args", []))],
                                  env=list(spec.get("env", {}).items()), dirs=dirs))
sys.stdout.buffer.write(out.stdout)
sys.stderr.buffer.write(out.stderr)
sys.exit(out.code)
"""


def find_rustc(explicit: str | None) -> str:
    from tests.wasi._build import RUST_HINT, wasm32_wasi_rustc

    rustc = explicit or wasm32_wasi_rustc()
    if rustc is None:
        sys.exit(f"no rustc with the wasm32-wasi standard library ({RUST_HINT})")
    return rustc


class Builder:
    def __init__(self, root: Path, rustc: str) -> None:
        from tests.wasi._build import adapter

        self.root, self.rustc = root, rustc
        self.out = root / "build"
        self.out.mkdir(exist_ok=True)
        self.libdir = Path(subprocess.run(
            [rustc, "--print", "target-libdir", "--target", "wasm32-wasi"],
            capture_output=True, text=True, check=True).stdout.strip())
        self.adapter = adapter()
        self.env = dict(os.environ, RUSTC_BOOTSTRAP="1")
        version = subprocess.run([rustc, "-vV"], capture_output=True, text=True).stdout
        self.stamp = hashlib.sha256((version + self.adapter.read_bytes().hex()[:64]
                                     + SCRATCH).encode())

    def _sysroot_crate(self, name: str) -> str:
        return str(next(self.libdir.glob(f"lib{name}-*.rlib")))

    def _rustc(self, *args: str) -> None:
        r = subprocess.run([self.rustc, "--edition", "2021", "--target", "wasm32-wasi",
                            "-C", "opt-level=1", "-C", "strip=debuginfo",
                            "-Z", "crate-attr=feature(rustc_private)", "--cap-lints", "allow",
                            *args], capture_output=True, text=True, env=self.env)
        if r.returncode != 0:
            raise RuntimeError(r.stderr[-3000:])

    def library(self) -> list[str]:
        """The ``wasi_tests`` rlib (and its dependencies); the ``--extern`` flags for a test."""
        src = self.root / "tests" / "rust" / "src"
        once = self.out / "libonce_cell.rlib"
        if not once.exists():
            (self.out / "once_cell.rs").write_text(ONCE_CELL)
            self._rustc("--crate-type", "lib", "--crate-name", "once_cell",
                        str(self.out / "once_cell.rs"), "-o", str(once))
        wasi = self._sysroot_crate("wasi")
        externs = ["--extern", f"wasi={wasi}", "--extern", f"wasip1={wasi}",
                   "--extern", f"libc={self._sysroot_crate('libc')}"]
        lib = self.out / "libwasi_tests.rlib"
        lib_rs = src / "lib.rs"
        text = lib_rs.read_text()
        if "fn open_scratch_directory" not in text:
            # (compiled from a copy beside the suite's ``lib.rs``: its ``mod config`` resolves)
            lib_rs = src / "lib_with_scratch.rs"
            lib_rs.write_text(text + SCRATCH)
        self._rustc("--crate-type", "lib", "--crate-name", "wasi_tests", *externs,
                    "--extern", f"once_cell={once}", str(lib_rs), "-o", str(lib))
        return [*externs, "--extern", f"wasi_tests={lib}", "-L", str(self.out)]

    def component(self, source: Path, externs: list[str]) -> Path:
        h = self.stamp.copy()
        h.update(source.read_bytes())
        h.update((self.root / "tests" / "rust" / "src" / "lib.rs").read_bytes())
        out = self.out / f"{source.stem}-{h.hexdigest()[:12]}.component.wasm"
        if out.exists():
            return out
        core = self.out / f"{source.stem}.wasm"
        self._rustc(*externs, str(source), "-o", str(core))
        subprocess.run(["wasm-tools", "component", "new", str(core), "--adapt",
                        f"wasi_snapshot_preview1={self.adapter}", "-o", str(out)],
                       check=True, capture_output=True)
        return out


def spec_of(source: Path) -> dict[str, Any]:
    js = source.with_suffix(".json")
    spec: dict[str, Any] = json.loads(js.read_text()) if js.exists() else {}
    text = source.read_text()
    wants_root = "root_directory()" in text or 'find_first_preopened_fd("/")' in text
    if wants_root and "root" not in spec:
        # (a ``.json`` of the older generation, naming ``dirs``, beside a newer test)
        spec.pop("dirs", None)
    if "dirs" not in spec and "root" not in spec:
        if wants_root:
            spec["root"] = "fs-tests.dir"
            spec.setdefault("args", [])
        else:
            spec["dirs"] = ["fs-tests.dir"]
            spec.setdefault("args", ["fs-tests.dir"])
    return spec


def run_side(side: str, component: Path, spec: dict[str, Any], src: Path, wasmtime: str,
             timeout: float) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        maps: list[tuple[Path, str]] = []
        for name in spec.get("dirs", []):
            (t / name).mkdir()
            maps.append((t / name, name))
        if "root" in spec:
            (t / spec["root"]).mkdir()
            maps.append((t / spec["root"], "/"))
        flags: list[str] = []
        for host, guest in maps:
            flags += ["--dir", f"{host}::{guest}"]
        for k, v in spec.get("env", {}).items():
            flags += ["--env", f"{k}={v}"]
        if side == "ours":
            cmd = [sys.executable, "-m", "wasm_component", "run", *flags, str(component)]
            env = dict(os.environ, PYTHONPATH=str(src))
        elif side == "ours-vfs":
            cmd = [sys.executable, "-c", VFS_DRIVER, str(component), json.dumps(spec)]
            env = dict(os.environ, PYTHONPATH=os.pathsep.join((str(src), str(REPO))))
        else:
            cmd = [wasmtime, "run", *flags, str(component)]
            env = dict(os.environ)
        if side != "ours-vfs":
            cmd += [str(a) for a in spec.get("args", [])]
        try:
            r = subprocess.run(cmd, capture_output=True, env=env, timeout=timeout,
                               stdin=subprocess.DEVNULL, cwd=t)
        except subprocess.TimeoutExpired:
            return False, f"timed out after {timeout}s"
        want = spec.get("exit_code", 0)
        ok = r.returncode == want
        why = "" if ok else f"exit {r.returncode} (want {want}): "
        if ok and "stdout" in spec and r.stdout.decode(errors="replace") != spec["stdout"]:
            ok, why = False, "stdout differs: "
        err = r.stderr.decode(errors="replace").strip()
        panic = err.find("panicked at")  # a Rust test's assertion: say it, not the backtrace
        return ok, why + (err[panic:panic + 600] if panic >= 0 else err[-600:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("-k", default="", help="only tests whose name contains this")
    ap.add_argument("--rustc")
    ap.add_argument("--src", type=Path, default=REPO / "src", help="our `src` to run")
    ap.add_argument("--wasmtime", help="the wasmtime CLI (default: the test extra's)")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VAL",
                    help="also give every test this variable (e.g. ERRNO_MODE_UNIX=1, the "
                         "suite's stricter errno expectations)")
    ap.add_argument("--json", type=Path, help="write every outcome here")
    ap.add_argument("--vfs", action="store_true",
                    help="also run ours through the API with in-memory preopens (`ours-vfs`)")
    a = ap.parse_args()
    lib = a.root / "tests" / "rust" / "src" / "lib.rs"
    if not lib.is_file():
        sys.exit(f"wasi_testsuite: no suite sources at {a.root}: expected {lib} (see --help)")
    if a.wasmtime is None:
        from tests.wasi._build import wasmtime_cli

        a.wasmtime = wasmtime_cli()
    builder = Builder(a.root, find_rustc(a.rustc))
    externs = builder.library()
    results: dict[str, dict[str, Any]] = {}
    sides = ("ours", "wasmtime", *(("ours-vfs",) if a.vfs else ()))
    for source in sorted((a.root / "tests" / "rust" / "src" / "bin").glob("*.rs")):
        name = source.stem
        if a.k not in name:
            continue
        try:
            comp = builder.component(source, externs)
        except (RuntimeError, subprocess.CalledProcessError) as e:
            results[name] = {"build": False, "why": str(e)[-600:]}
            print(f"{name}: build failed\n{str(e)[-600:]}", flush=True)
            continue
        spec = spec_of(source)
        spec["env"] = {**spec.get("env", {}), **dict(e.partition("=")[::2] for e in a.env)}
        row: dict[str, Any] = {"build": True}
        for side in sides:
            ok, why = run_side(side, comp, spec, a.src, a.wasmtime, a.timeout)
            row[side], row[f"{side}_why"] = ok, why
        results[name] = row
        print(f"{name}: " + ", ".join(f"{side} {'pass' if row[side] else 'FAIL'}"
                                      for side in sides), flush=True)
    print("\n| test | " + " | ".join(sides) + " |\n|---|" + "---|" * len(sides))
    for name, row in results.items():
        cells = (("pass" if row[side] else "FAIL") if row["build"] else "build failed"
                 for side in sides)
        print(f"| {name} | " + " | ".join(cells) + " |")
    built = [r for r in results.values() if r["build"]]
    print("\n" + ", ".join(f"{side} {sum(r[side] for r in built)}/{len(built)}" for side in sides)
          + f" ({len(results) - len(built)} did not build)")
    for name, row in results.items():
        for side in sides:
            if row["build"] and not row[side]:
                tail = "\n    ".join(row[f"{side}_why"].splitlines()[-6:])
                print(f"\n{name} [{side}]:\n    {tail}")
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
