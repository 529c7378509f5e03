"""The checked-in WASI bindings are exactly what ``wasm-component bindgen --no-docs`` makes
from the checked-in WASI 0.2.12 WIT (regenerate with the command in the failure message)."""

from __future__ import annotations

from pathlib import Path

from wasm_component import bindgen

WASI = Path(__file__).resolve().parents[2] / "src" / "wasm_component" / "wasi"
WIT = WASI / "wit" / "0.2.12"
REGEN = (f"wasm-component bindgen {WIT.relative_to(WASI.parents[2])} --world command "
         f"--features network-error-code --no-docs "
         f"-o {(WASI / '_bindings').relative_to(WASI.parents[2])}")
#: the `@unstable` features the WASI host implements (each linked only when enabled)
FEATURES = ["network-error-code"]


def test_checked_in_bindings_are_current() -> None:
    files = bindgen.generate(WIT, "command", docs=False, features=FEATURES)
    on_disk = {str(p.relative_to(WASI / "_bindings")): p.read_text()
               for p in (WASI / "_bindings").rglob("*.py")}
    assert sorted(files) == sorted(on_disk), f"stale file list; regenerate: {REGEN}"
    stale = [rel for rel, text in files.items() if on_disk[rel] != text]
    assert not stale, f"stale bindings {stale}; regenerate: {REGEN}"


def test_no_doc_comments_and_the_licence_is_kept() -> None:
    text = (WASI / "_bindings" / "imports" / "wasi_io_streams.py").read_text()
    assert "Perform a non-blocking read from the stream" not in text  # a WIT doc comment
    assert "def blocking_read(" in text
    assert (WASI / "wit" / "0.2.12" / "LICENSE.md").exists()


def test_docs_option_keeps_comments_by_default() -> None:
    files = bindgen.generate(WIT, "command")
    assert "Perform a non-blocking read" in files["imports/wasi_io_streams.py"]
