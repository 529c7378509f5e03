"""A per-request loop on the real component (componentize-py's 18 MB CPython): new store,
instantiate, call, drop, ``REQUESTS`` times; prints the time per request and the peak RSS
growth over the loop, for ours and for ``wasmtime.component``.

    python benchmarks/request_rss.py
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import run as B


def loop(side: object, n: int) -> tuple[float, float]:
    component, linker = B._real(side, stubs=True)
    for _ in range(5):  # warm up: caches, the allocator's arenas
        store = side.real_store(stubs=True)  # type: ignore[attr-defined]
        side.func(side.instantiate(linker, store, component), store, "greet")(store, "x")  # type: ignore[attr-defined]
        del store
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    for _ in range(n):
        store = side.real_store(stubs=True)  # type: ignore[attr-defined]
        side.func(side.instantiate(linker, store, component), store, "greet")(store, "x")  # type: ignore[attr-defined]
        del store
    per = (time.perf_counter() - t) / n
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    return per * 1e3, grown / 1024


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "ours"
    side = B.Ours() if which == "ours" else B.Peer()
    ms, mib = loop(side, B.REQUESTS)
    print(f"{which}: {B.REQUESTS} requests: {ms:.2f} ms per request, peak RSS growth "
          f"{mib:.1f} MiB")
