"""``python -m fuzz TARGET --budget N``: run a fuzz target by hand (see :mod:`fuzz`).

The inputs run in a worker process that reports its position through a file, so a crash of the
process (a Rust panic, a segfault) is caught, reported with the index that caused it, and the
run goes on from the next input. Findings (exceptions outside the contract) are written to
``fuzz/findings/``; copy the ones worth keeping into ``fuzz/corpus/<target>/``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _rng(seed: int, i: int) -> random.Random:
    return random.Random(seed * 1_000_003 + i)


def worker(target: str, seed: int, start: int, count: int, progress: str, out: str) -> int:
    from . import targets as tg

    tgt = tg.TARGETS[target]
    fd = os.open(progress, os.O_RDWR | os.O_CREAT, 0o644)
    stats: Counter[str] = Counter()
    findings: list[dict[str, object]] = []
    t0 = time.time()
    last = t0
    for i in range(start, start + count):
        os.pwrite(fd, i.to_bytes(8, "little"), 0)
        case = tgt.make(_rng(seed, i))
        before = tg.WORST["per_kb"]
        try:
            stats[tgt.run(case)] += 1
            if tg.WORST["per_kb"] > before:
                tg.WORST["index"] = i
                (HERE / "findings").mkdir(exist_ok=True)
                (HERE / "findings" / f"{target}-{seed}-slowest.bin").write_bytes(
                    tgt.to_bytes(case))
        except tg.Finding as f:
            stats["FINDING"] += 1
            (HERE / "findings").mkdir(exist_ok=True)
            path = HERE / "findings" / f"{target}-{seed}-{i}.bin"
            path.write_bytes(tgt.to_bytes(case))
            findings.append({"index": i, "message": str(f), "input": str(path),
                             "trace": traceback.format_exception(f.__cause__ or f)[-3:]})
        now = time.time()
        if now - last > 30:
            last = now
            done = i - start + 1
            print(f"[{target}] {done}/{count} in {now - t0:.0f}s ({done / (now - t0):.0f}/s) "
                  f"{dict(stats)}", file=sys.stderr, flush=True)
    os.pwrite(fd, (start + count).to_bytes(8, "little"), 0)
    os.close(fd)
    report = {"stats": dict(stats), "findings": findings, "seconds": time.time() - t0,
              "worst_validation": tg.WORST if target == "decode" else None}
    Path(out).write_text(json.dumps(report, indent=1, default=str))
    return 0


def diff(budget: int) -> int:
    """The differential target: the differential tests against ``wasmtime.component``
    (``tests/differential``: random component types and values, lifted and lowered both ways)
    at ``budget`` value cases, through their own environment knob."""
    env = dict(os.environ, WASM_COMPONENT_DIFF_EXAMPLES=str(budget),
               WASM_COMPONENT_DIFF_NO_SHRINK="1")
    root = HERE.parent
    env["PYTHONPATH"] = os.pathsep.join([str(root / "src"), env.get("PYTHONPATH", "")])
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "tests/differential"], cwd=root, env=env)


def _from_bytes(target: str, data: bytes) -> object:
    """A coverage-guided (atheris) input in the target's form: the bytes themselves where the
    target takes bytes (a component binary, a WIT document), else a seed for its generator."""
    from . import targets as tg

    if target == "decode":
        return (data, len(data) % len(tg.FEATURES))
    if target == "wit":
        return data
    return tg.TARGETS[target].make(random.Random(data))


def run_atheris(target: str, libfuzzer_args: list[str]) -> int:
    """``python -m fuzz TARGET --atheris [libFuzzer options]``: coverage-guided, by hand. The
    corpus seeds (component binaries, WIT files) are written to a directory libFuzzer starts
    from; an exception outside the contract is reported as a crash with its input saved."""
    import atheris  # optional: pip install atheris

    from . import targets as tg

    tgt = tg.TARGETS[target]
    seeds = Path(f"/tmp/fuzz-atheris-{target}")
    if not seeds.exists():
        seeds.mkdir()
        src: tuple[bytes, ...] = (tg.component_seeds() if target in ("decode", "instantiate")
                                  else tuple(x.encode() for x in tg.wit_seeds())
                                  if target == "wit" else ())
        for i, b in enumerate(src):
            (seeds / f"seed-{i}").write_bytes(b)
    atheris.instrument_all()

    def one(data: bytes) -> None:
        tgt.run(_from_bytes(target, data))

    atheris.Setup([sys.argv[0], *libfuzzer_args, str(seeds)], one)
    atheris.Fuzz()
    return 0


def main(argv: list[str] | None = None) -> int:
    from .targets import TARGETS

    ap = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("target", choices=[*sorted(TARGETS), "diff"])
    ap.add_argument("--budget", type=int, default=10_000, help="number of inputs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="index of the first input")
    ap.add_argument("--report", default=None, help="write the JSON report here")
    ap.add_argument("--atheris", nargs=argparse.REMAINDER, default=None,
                    help="run coverage-guided with atheris; the rest are libFuzzer options")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--progress", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.target == "diff":
        return diff(a.budget)
    if a.atheris is not None:
        return run_atheris(a.target, a.atheris)
    tag = f"{a.target}-{a.seed}-{os.getpid()}"
    progress = a.progress or f"/tmp/fuzz-progress-{tag}"
    out = a.report or f"/tmp/fuzz-report-{tag}.json"
    if a.worker:
        return worker(a.target, a.seed, a.start, a.budget, progress, out)
    # supervise: restart the worker after a crash, from the input after the one that killed it
    start, end = a.start, a.start + a.budget
    crashes: list[dict[str, object]] = []
    total: Counter[str] = Counter()
    findings: list[object] = []
    worst = None
    seconds = 0.0
    while start < end:
        part = f"{out}.part"
        Path(progress).write_bytes(start.to_bytes(8, "little"))
        cmd = [sys.executable, "-m", "fuzz", a.target, "--worker", "--seed", str(a.seed),
               "--start", str(start), "--budget", str(end - start), "--progress", progress,
               "--report", part]
        rc = subprocess.call(cmd, cwd=HERE.parent)
        if rc == 0 and Path(part).exists():
            rep = json.loads(Path(part).read_text())
            total.update(rep["stats"])
            findings += rep["findings"]
            worst = rep["worst_validation"]
            seconds += rep["seconds"]
            break
        at = int.from_bytes(Path(progress).read_bytes()[:8], "little")
        crashes.append({"index": at, "returncode": rc})
        print(f"[{a.target}] worker died (rc={rc}) at input {at}", file=sys.stderr, flush=True)
        total["CRASH"] += 1
        start = at + 1
    report = {"target": a.target, "seed": a.seed, "inputs": a.budget, "stats": dict(total),
              "findings": findings, "crashes": crashes, "worst_validation": worst,
              "seconds": seconds}
    text = json.dumps(report, indent=1, default=str)
    Path(out).write_text(text)
    print(text)
    return 1 if findings or crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
