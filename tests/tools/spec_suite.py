"""Convert and run an external ``.wast`` suite (e.g. the Component Model spec's ``test/``).

Nothing of the suite is kept in this repository: fetch its files yourself into
``ROOT/wast/<dir>/<name>.wast`` (for the spec: the ``test/`` tree of
``WebAssembly/component-model``, e.g. ``git clone --depth 1`` it and copy ``test/*``), then::

    python tests/tools/spec_suite.py ROOT            # convert every .wast, run them all
    python tests/tools/spec_suite.py ROOT async      # only ROOT/wast/async
    python tests/tools/spec_suite.py ROOT -f cm-async,cm-async-builtins

Each ``ROOT/wast/<rel>.wast`` is converted with ``wasm-tools json-from-wast`` into
``ROOT/json/<rel>/test.json`` (its modules beside it, the layout of
``shared/corpora/*/json``). Each file then runs in its own process (``--timeout`` seconds,
default 120, so a hang or crash costs only that file) through ``wasm_component.wast.run_file``
with the base features given by ``-f`` (default ``DEFAULT_FEATURES``, see there); the runner
maps ``json/<rel>/test.json`` back to ``wast/<rel>.wast`` for the file's own ``;; RUN:`` /
``;;!`` feature lines. ``--src DIR`` runs another checkout's ``src`` (e.g. ``git archive`` of
``main`` unpacked somewhere) on the same converted tree, for before/after numbers::

    python tests/tools/spec_suite.py ROOT --no-convert --src /tmp/base/src --json before.json

Files gated behind other proposals need their flag added to ``-f`` (e.g.
``validation/attributes.wast`` needs ``cm-implements``).

Conversion uses ``WAST_STRICT_COMPONENT_INDICES=0``: the spec's tests still write export
references as ``(memory $i "name")``, which wasm-tools 1.262 rejects unless told to accept the
legacy syntax. A file wasm-tools cannot convert at all is reported as such and left out.
A summary per directory (files passed/failed, commands passed/failed/skipped) ends the output;
``--json OUT`` writes every outcome for comparing runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The spec's test/README.md runs `wasmtime wast -W component-model-async=y`; its tests also use
# stackful (`async` without `callback`) lifts, the `thread.*` built-ins and error contexts,
# while `reject-gated-features.wast` expects the async built-ins (`cm-async-builtins`) off.
DEFAULT_FEATURES = "cm-async,cm-async-stackful,cm-threading,cm-error-context"


def convert(root: Path, only: list[str]) -> dict[str, str]:
    """Convert ``root/wast/**.wast`` into ``root/json``; the files that failed, with why."""
    failed: dict[str, str] = {}
    env = dict(os.environ, WAST_STRICT_COMPONENT_INDICES="0")
    for wast in sorted((root / "wast").rglob("*.wast")):
        rel = wast.relative_to(root / "wast").with_suffix("")
        if only and rel.parts[0] not in only:
            continue
        out = root / "json" / rel
        out.mkdir(parents=True, exist_ok=True)
        for old in out.iterdir():
            old.unlink()
        proc = subprocess.run(
            ["wasm-tools", "json-from-wast", str(wast), "-o", str(out / "test.json"),
             "--wasm-dir", str(out)],
            capture_output=True, text=True, check=False, env=env)
        if proc.returncode != 0:
            failed[str(rel)] = proc.stderr.strip().splitlines()[0] if proc.stderr else "failed"
            for old in out.iterdir():
                old.unlink()
            out.rmdir()
    return failed


_ONE = """
import json, sys
from pathlib import Path
from wasm_component.wast import run_file
res = run_file(Path(sys.argv[1]), base_flags=sys.argv[2])
print(json.dumps({"error": res.error, "outcomes": [
    {"status": o.status, "line": o.line, "command": o.command, "detail": o.detail}
    for o in res.outcomes]}))
"""


def run(root: Path, only: list[str], features: str, timeout: float, src: Path
        ) -> list[dict[str, object]]:
    """Run the converted files one by one, each in its own process (a file that hangs or
    crashes costs only itself: it counts as one failure)."""
    env = dict(os.environ, PYTHONPATH=str(src))
    results: list[dict[str, object]] = []
    for test in sorted((root / "json").rglob("test.json")):
        rel = test.parent.relative_to(root / "json")
        if only and rel.parts[0] not in only:
            continue
        entry: dict[str, object] = {"file": str(rel), "error": None, "outcomes": []}
        try:
            proc = subprocess.run([sys.executable, "-c", _ONE, str(test), features],
                                  capture_output=True, text=True, check=False, env=env,
                                  timeout=timeout)
            if proc.returncode == 0:
                entry.update(json.loads(proc.stdout.strip().splitlines()[-1]))
            else:
                entry["error"] = "runner crashed: " + (proc.stderr.strip().splitlines() or
                                                       ["?"])[-1]
        except subprocess.TimeoutExpired:
            entry["error"] = f"timed out after {timeout:g}s"
        results.append(entry)
    return results


def summarize(results: list[dict[str, object]], conversion: dict[str, str]) -> None:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for r in results:
        d = str(r["file"]).split("/")[0]
        outcomes = r["outcomes"]
        assert isinstance(outcomes, list)
        st = [o["status"] for o in outcomes]
        bad = r["error"] is not None or "fail" in st
        per[d][1 if bad else 0] += 1
        per[d][3] += st.count("pass")
        per[d][4] += st.count("fail") + (1 if r["error"] else 0)
        per[d][5] += st.count("skip")
        if bad:
            print(f"FAIL {r['file']}" + (f": {r['error']}" if r["error"] else ""))
            for o in outcomes:
                if o["status"] == "fail":
                    print(f"     line {o['line']}: {o['command']}: {o['detail']}")
    for rel, why in conversion.items():
        per[rel.split("/")[0]][2] += 1
        print(f"NOT CONVERTED {rel}: {why}")
    print(f"\n{'dir':<14}{'files ok':>9}{'failed':>8}{'unconv':>8}"
          f"{'cmds ok':>9}{'failed':>8}{'skipped':>9}")
    for d in sorted(per):
        a = per[d]
        print(f"{d:<14}{a[0]:>9}{a[1]:>8}{a[2]:>8}{a[3]:>9}{a[4]:>8}{a[5]:>9}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path, help="directory holding wast/ (json/ is written)")
    ap.add_argument("dirs", nargs="*", help="only these subdirectories of wast/")
    ap.add_argument("-f", "--features", default=DEFAULT_FEATURES, help="base feature flags")
    ap.add_argument("--no-convert", action="store_true", help="reuse json/")
    ap.add_argument("--json", type=Path, help="write every outcome here")
    ap.add_argument("--src", type=Path, default=REPO / "src",
                    help="the wasm_component to run (e.g. another checkout's src, to compare)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds a file may take")
    ns = ap.parse_args()
    conversion = {} if ns.no_convert else convert(ns.root, ns.dirs)
    results = run(ns.root, ns.dirs, ns.features, ns.timeout, ns.src)
    if ns.json:
        ns.json.write_text(json.dumps({"conversion": conversion, "results": results}, indent=1))
    summarize(results, conversion)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
