"""The checked-in ``wasi:http`` bindings are exactly what ``wasm-component bindgen --no-docs``
makes from the checked-in WIT, with every ``wasi:io``/``clocks``/``random``/``cli`` interface
mapped onto the WASI package's own bindings (one resource type per WASI resource, so a body's
stream is an ordinary WASI stream). Regenerate with the command in the failure message."""

from __future__ import annotations

from pathlib import Path

from wasm_component import bindgen

HTTP = Path(__file__).resolve().parents[2] / "src" / "wasm_component" / "http"
WIT = HTTP / "wit" / "0.2.12" / "proxy"
SHARED = ["io/error", "io/poll", "io/streams", "clocks/monotonic-clock", "clocks/wall-clock",
          "random/random", "cli/stdout", "cli/stderr", "cli/stdin"]
WITH = {f"wasi:{i}": "wasm_component.wasi._bindings.imports.wasi_" + i.replace("/", "_")
        .replace("-", "_") for i in SHARED}
REGEN = (f"wasm-component bindgen {WIT.relative_to(HTTP.parents[2])} --world proxy --no-docs "
         + " ".join(f"--with {k}={v}" for k, v in WITH.items())
         + f" -o {(HTTP / '_bindings').relative_to(HTTP.parents[2])}")


def test_checked_in_bindings_are_current() -> None:
    files = bindgen.generate(WIT, "proxy", docs=False, with_=WITH)
    on_disk = {str(p.relative_to(HTTP / "_bindings")): p.read_text()
               for p in (HTTP / "_bindings").rglob("*.py")}
    assert sorted(files) == sorted(on_disk), f"stale file list; regenerate: {REGEN}"
    stale = [rel for rel, text in files.items() if on_disk[rel] != text]
    assert not stale, f"stale bindings {stale}; regenerate: {REGEN}"


def test_shared_interfaces_are_not_duplicated() -> None:
    names = {p.name for p in (HTTP / "_bindings").rglob("*.py")}
    assert "wasi_http_types.py" in names
    assert not any(n.startswith(("wasi_io", "wasi_cli", "wasi_clocks", "wasi_random"))
                   for n in names)
    text = (HTTP / "_bindings" / "imports" / "wasi_http_types.py").read_text()
    assert "import wasm_component.wasi._bindings.imports.wasi_io_streams" in text
    assert (HTTP / "wit" / "0.2.12" / "LICENSE.md").exists()
