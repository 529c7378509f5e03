"""The checked-in ``wasi:http`` bindings are exactly what ``wasm-component bindgen --no-docs``
makes from the checked-in WIT (0.2.12's `proxy` and 0.3.0's `middleware`, which is `service` importing `handler` too), with every ``wasi:io``/``clocks``/``random``/``cli`` interface
mapped onto the WASI package's own bindings (one resource type per WASI resource, so a body's
stream is an ordinary WASI stream). Regenerate with the command in the failure message."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasm_component import bindgen

HTTP = Path(__file__).resolve().parents[2] / "src" / "wasm_component" / "http"


def _with(version: str, shared: list[str]) -> dict[str, str]:
    package = "_bindings" if version == "0.2.12" else "_bindings_p3"
    return {f"wasi:{i}": f"wasm_component.wasi.{package}.imports.wasi_" + i.replace("/", "_")
            .replace("-", "_") for i in shared}


#: (WIT folder, world, bindings package, the WASI interfaces mapped onto the WASI package's)
VERSIONS = [
    (HTTP / "wit" / "0.2.12" / "proxy", "proxy", "_bindings", _with("0.2.12", [
        "io/error", "io/poll", "io/streams", "clocks/monotonic-clock", "clocks/wall-clock",
        "random/random", "cli/stdout", "cli/stderr", "cli/stdin"])),
    (HTTP / "wit" / "0.3.0" / "service", "middleware", "_bindings_p3", _with("0.3.0", [
        "clocks/types", "clocks/monotonic-clock", "clocks/system-clock", "random/random",
        "random/insecure", "random/insecure-seed", "cli/types", "cli/stdout", "cli/stderr",
        "cli/stdin"])),
]


@pytest.mark.parametrize(("wit", "world", "package", "with_"), VERSIONS,
                         ids=["0.2.12", "0.3.0"])  # fmt: skip
def test_checked_in_bindings_are_current(wit: Path, world: str, package: str,
                                         with_: dict[str, str]) -> None:  # fmt: skip
    regen = (f"wasm-component bindgen {wit.relative_to(HTTP.parents[2])} --world {world} "
             "--no-docs " + " ".join(f"--with {k}={v}" for k, v in with_.items())
             + f" -o {(HTTP / package).relative_to(HTTP.parents[2])}")
    files = bindgen.generate(wit, world, docs=False, with_=with_)
    on_disk = {str(p.relative_to(HTTP / package)): p.read_text()
               for p in (HTTP / package).rglob("*.py")}
    assert sorted(files) == sorted(on_disk), f"stale file list; regenerate: {regen}"
    stale = [rel for rel, text in files.items() if on_disk[rel] != text]
    assert not stale, f"stale bindings {stale}; regenerate: {regen}"
    assert (wit.parent / "LICENSE.md").exists()


def test_shared_interfaces_are_not_duplicated() -> None:
    names = {p.name for p in (HTTP / "_bindings").rglob("*.py")}
    assert "wasi_http_types.py" in names
    assert not any(n.startswith(("wasi_io", "wasi_cli", "wasi_clocks", "wasi_random"))
                   for n in names)
    text = (HTTP / "_bindings" / "imports" / "wasi_http_types.py").read_text()
    assert "import wasm_component.wasi._bindings.imports.wasi_io_streams" in text
    assert (HTTP / "wit" / "0.2.12" / "LICENSE.md").exists()
