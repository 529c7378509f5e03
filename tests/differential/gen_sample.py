"""Print one generated echo component (WAT) for debugging the differential test's generator.

Usage::

    python tests/differential/gen_sample.py [SEED] [--validate] [--count N]

``SEED`` picks the sample (default 0). ``--validate`` also runs ``wasm-tools validate`` on it
(``--count N`` validates N consecutive seeds and prints only a summary).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

# the repository root: this script imports the test package's generator
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hyp_seed
from hypothesis import strategies as st

from tests.differential import _diffgen as g


def sample(seed: int) -> tuple[g.Signature, tuple[object, ...]]:
    """A deterministic (signature, args) pair for ``seed``."""
    out: list[tuple[g.Signature, tuple[object, ...]]] = []

    # Hypothesis starts with the simplest examples: draw a few and keep the last.
    @hyp_seed(seed)
    @settings(max_examples=8, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), deadline=None)
    @given(st.data())
    def pick(data: st.DataObject) -> None:
        sig = data.draw(g.signatures())
        out.append((sig, data.draw(g.arg_values(sig))))

    pick()
    return out[-1]


def validate(wat: str) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "c.wat")
        with open(path, "w") as f:
            f.write(wat)
        p = subprocess.run(["wasm-tools", "validate", "--features", "all", path],
                           capture_output=True, text=True)
        return p.returncode == 0, p.stderr


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("seed", nargs="?", type=int, default=0)
    ap.add_argument("--validate", action="store_true")
    ap.add_argument("--count", type=int, default=1)
    a = ap.parse_args()
    if a.count > 1:
        bad = 0
        shapes: dict[str, int] = {}
        for s in range(a.seed, a.seed + a.count):
            sig, _ = sample(s)
            shapes[g.shape(sig)] = shapes.get(g.shape(sig), 0) + 1
            if a.validate:
                ok, err = validate(g.component_wat(sig))
                if not ok:
                    bad += 1
                    print(f"seed {s}: {sig.functype}\n{err}", file=sys.stderr)
        print(f"{a.count} samples, {bad} invalid; shapes: {shapes}")
        return 1 if bad else 0
    sig, args = sample(a.seed)
    wat = g.component_wat(sig)
    print(f";; echo: {sig.functype}")
    print(f";; shape: {g.shape(sig)}")
    print(f";; args: {args!r}")
    print(wat)
    if a.validate:
        ok, err = validate(wat)
        print(";; wasm-tools validate: " + ("ok" if ok else "FAILED\n" + err))
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
