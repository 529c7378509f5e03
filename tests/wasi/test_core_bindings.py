"""The checked-in WASI bindings are exactly what ``wasm-component bindgen --no-docs`` makes
from the checked-in WASI 0.2.12 and 0.3.0 WIT (regenerate with the command in the failure
message)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasm_component import bindgen

WASI = Path(__file__).resolve().parents[2] / "src" / "wasm_component" / "wasi"
WIT = WASI / "wit" / "0.2.12"
#: (WIT version, bindings package, the `@unstable` features the host implements: each linked
#: only when enabled) for each WASI version the host serves
VERSIONS = [("0.2.12", "_bindings", ["network-error-code"]), ("0.3.0", "_bindings_p3", [])]


@pytest.mark.parametrize(("version", "package", "features"), VERSIONS)
def test_checked_in_bindings_are_current(version: str, package: str,
                                         features: list[str]) -> None:  # fmt: skip
    wit, out = WASI / "wit" / version, WASI / package
    regen = (f"wasm-component bindgen {wit.relative_to(WASI.parents[2])} --world command "
             + "".join(f"--features {f} " for f in features)
             + f"--no-docs -o {out.relative_to(WASI.parents[2])}")
    files = bindgen.generate(wit, "command", docs=False, features=features)
    on_disk = {str(p.relative_to(out)): p.read_text() for p in out.rglob("*.py")}
    assert sorted(files) == sorted(on_disk), f"stale file list; regenerate: {regen}"
    stale = [rel for rel, text in files.items() if on_disk[rel] != text]
    assert not stale, f"stale bindings {stale}; regenerate: {regen}"
    assert (wit / "LICENSE.md").exists()


def test_no_doc_comments_and_the_licence_is_kept() -> None:
    text = (WASI / "_bindings" / "imports" / "wasi_io_streams.py").read_text()
    assert "Perform a non-blocking read from the stream" not in text  # a WIT doc comment
    assert "def blocking_read(" in text
    assert (WASI / "wit" / "0.2.12" / "LICENSE.md").exists()


def test_docs_option_keeps_comments_by_default() -> None:
    files = bindgen.generate(WIT, "command")
    assert "Perform a non-blocking read" in files["imports/wasi_io_streams.py"]
