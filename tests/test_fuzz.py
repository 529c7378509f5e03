"""Robustness: decoding and validating mutated corpus components may only ever fail with
``DecodeError`` or ``ValidationError``.

Every component binary of the wasm-tools and wasmtime conformance corpora (``../shared/corpora``)
is a seed; Hypothesis truncates it and applies random byte mutations (flip, insert, delete,
overwrite with LEB128-ish values), then runs ``decode_component`` + ``validate`` (+ the embedder
restrictions). Any other exception (IndexError, KeyError, struct.error, RecursionError,
AssertionError, ...) is a bug.

The default budget keeps this around 30 s; set ``WASM_COMPONENT_FUZZ_EXAMPLES`` (e.g. 20000) for a
longer run.
"""

from __future__ import annotations

import os

import pytest
from fuzz.targets import CORPORA, component_seeds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasm_component._binary.reader import decode_component
from wasm_component._validate import Features, validate
from wasm_component._validate.restrictions import check_embedder_restrictions
from wasm_component.errors import DecodeError, ValidationError

EXAMPLES = int(os.environ.get("WASM_COMPONENT_FUZZ_EXAMPLES", "1500"))


def _seeds() -> list[bytes]:
    return list(component_seeds())


SEEDS = _seeds()
# all features on, so the validator's proposal paths are reached too, and the defaults
FEATURES = (Features.all(), Features.default())

pytestmark = pytest.mark.skipif(
    not SEEDS, reason=f"no corpus component binaries under {CORPORA} (../shared/corpora "
    "relative to the repo root); fuzz seeds unavailable")


def _leb(draw: st.DrawFn) -> bytes:
    """A LEB128-ish byte run: small values, boundary values, over-long and unterminated ones."""
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return bytes([draw(st.integers(0, 0x7F))])
    if choice == 1:  # unterminated continuation bytes
        return b"\x80" * draw(st.integers(1, 12))
    if choice == 2:  # huge value
        return b"\xff" * draw(st.integers(1, 10)) + b"\x0f"
    n = draw(st.sampled_from([0x7F, 0x80, 0xFF, 0x3FFF, 0x4000, 0xFFFF, 2**31 - 1, 2**32 - 1,
                              2**32, 2**63, draw(st.integers(0, 2**35))]))
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, int]:
    seed = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "overwrite", "leb"]))
        n = len(seed)
        pos = draw(st.integers(8 if n > 8 else 0, max(n, 1)))
        if op == "truncate":
            del seed[pos:]
        elif op == "flip" and pos < n:
            seed[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            seed[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del seed[pos:pos + draw(st.integers(1, 8))]
        elif op == "overwrite" and pos < n:
            b = draw(st.binary(min_size=1, max_size=4))
            seed[pos:pos + len(b)] = b
        elif op == "leb":
            b = _leb(draw)
            seed[pos:pos + draw(st.integers(0, len(b)))] = b
    return bytes(seed), draw(st.integers(0, len(FEATURES) - 1))


def check(data: bytes, feats: Features) -> None:
    try:
        vc = validate(decode_component(data), feats)
        check_embedder_restrictions(vc)
    except (DecodeError, ValidationError):
        pass


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_mutated_components_fail_cleanly(case: tuple[bytes, int]) -> None:
    data, fi = case
    check(data, FEATURES[fi])


def test_seeds_truncated_everywhere_small() -> None:
    """Every prefix of the small seeds (deterministic, complements the random search)."""
    for seed in SEEDS:
        if len(seed) <= 160:
            for n in range(len(seed)):
                check(seed[:n], FEATURES[0])
