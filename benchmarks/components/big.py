"""Generator of the large component for the compile benchmark (not kept as a file: ~10 MiB).

``big_component_wat()`` returns the WAT of a component whose core module has ``FUNCS`` distinct
functions (each a short arithmetic chain, reachable through a table from the exported ``run``)
and an active data segment of ``DATA_BYTES`` bytes; ``big_component()`` assembles it with
wasmtime's ``wat2wasm``. The binary is a little over 10 MiB: the code is what compilers work on,
the data segment is what makes the size (decoders, validators and copies must still walk it).

``python benchmarks/components/big.py OUT.wasm`` writes the binary (e.g. to check it with
``wasm-tools validate``).
"""

from __future__ import annotations

import sys

FUNCS = 4000
DATA_BYTES = 10 * 1024 * 1024
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _data(n: int) -> str:
    # deterministic pseudo-random printable bytes (no escapes needed in the WAT string)
    chunk = "".join(_ALPHABET[(i * 7919 + (i >> 3)) % len(_ALPHABET)] for i in range(65536))
    reps = n // len(chunk) + 1
    return (chunk * reps)[:n]


def big_component_wat(funcs: int = FUNCS, data_bytes: int = DATA_BYTES) -> str:
    pages = data_bytes // 65536 + 2
    out: list[str] = [
        "(component",
        "  (core module $m",
        f'    (memory (export "memory") {pages})',
        f"    (table {funcs} funcref)",
        "    (type $t (func (param i32) (result i32)))",
    ]
    for k in range(funcs):
        out.append(
            f"    (func $f{k} (param $x i32) (result i32) (local $y i32)"
            f" (local.set $y (i32.mul (local.get $x) (i32.const {k * 2 + 1})))"
            f" (local.set $y (i32.xor (local.get $y) (i32.const {(k * 2654435761) & 0x7FFFFFFF})))"
            f" (local.set $y (i32.rotl (local.get $y) (i32.const {k % 31 + 1})))"
            f" (if (i32.and (local.get $y) (i32.const 1))"
            f" (then (local.set $y (i32.add (local.get $y) (i32.load8_u (i32.and (local.get $x) (i32.const 0xffff)))))))"
            f" (i32.add (local.get $y) (i32.const {k})))"
        )
    out.append("    (elem (i32.const 0) func " + " ".join(f"$f{k}" for k in range(funcs)) + ")")
    out.append(
        '    (func (export "run") (param $i i32) (result i32)'
        f" (call_indirect (type $t) (local.get $i) (i32.rem_u (local.get $i) (i32.const {funcs}))))"
    )
    out.append(f'    (data (i32.const 65536) "{_data(data_bytes)}"))')
    out.append("  (core instance $i (instantiate $m))")
    out.append(
        '  (func (export "run") (param "i" u32) (result u32) (canon lift (core func $i "run")))'
    )
    out.append(")")
    return "\n".join(out)


def big_component(funcs: int = FUNCS, data_bytes: int = DATA_BYTES) -> bytes:
    import wasmtime

    return bytes(wasmtime.wat2wasm(big_component_wat(funcs, data_bytes)))


if __name__ == "__main__":
    blob = big_component()
    if len(sys.argv) > 1:
        with open(sys.argv[1], "wb") as f:
            f.write(blob)
    print(f"{len(blob)} bytes ({len(blob) / 2**20:.2f} MiB)")
