"""How long parsing and resolving a WASI 0.2-sized WIT package set takes (best of 7).

Run from the repository root: ``python benchmarks/wit_resolve.py``. The set is the synthetic one
``tests/wit/test_perf.py`` checks for completeness (7 packages, 49 interfaces, ~6,000 lines).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.wit.synth_wasi import write_tree

from wasm_component.wit import Resolve


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wit = write_tree(Path(tmp))
        lines = sum(len(p.read_text().splitlines()) for p in wit.rglob("*.wit"))
        best = float("inf")
        for _ in range(7):
            start = time.perf_counter()
            resolve = Resolve()
            resolve.push_path(wit)
            best = min(best, time.perf_counter() - start)
    print(f"WASI-sized set: {lines} lines, {len(resolve.interfaces)} interfaces, "
          f"{len(resolve.types)} types resolved in {best * 1000:.1f} ms (best of 7)")


if __name__ == "__main__":
    main()
