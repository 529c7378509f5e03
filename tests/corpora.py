"""Where the shared conformance corpora live, for every corpus-driven test.

The corpora sit in the repository's sibling folder ``../shared/corpora`` (never copied into the
repo). ``WASM_COMPONENT_CORPORA=DIR`` points elsewhere (a git worktree whose sibling folder has
no ``shared``). Tests that need a corpus skip, naming the path, when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("WASM_COMPONENT_CORPORA") or ROOT.parent / "shared" / "corpora")
