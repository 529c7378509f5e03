"""Bad input only ever produces :class:`WitError`: truncated and mangled corpus files."""

from __future__ import annotations

import contextlib
import random

import pytest

from wasm_component.errors import WitError
from wasm_component.wit import Resolve

from .wit_corpus import CORPUS, MISSING


def _sources() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return [p.read_text() for p in sorted(CORPUS.rglob("*.wit"))]


def _try(text: str) -> None:
    with contextlib.suppress(WitError):
        Resolve().push_str(text, "mangled.wit")


@pytest.mark.skipif(not CORPUS.is_dir(), reason=MISSING)
def test_truncations_raise_only_wit_errors() -> None:
    for text in _sources():
        step = max(1, len(text) // 40)
        for cut in range(0, len(text), step):
            _try(text[:cut])


@pytest.mark.skipif(not CORPUS.is_dir(), reason=MISSING)
def test_mutations_raise_only_wit_errors() -> None:
    rng = random.Random(1234)
    alphabet = list("{}<>();:,.@/=-%_*\"' \nabz019")
    for text in _sources():
        if not text:
            continue
        for _ in range(15):
            chars = list(text)
            for _ in range(rng.randint(1, 4)):
                i = rng.randrange(len(chars))
                op = rng.randrange(3)
                if op == 0:
                    del chars[i]
                elif op == 1:
                    chars.insert(i, rng.choice(alphabet))
                else:
                    chars[i] = rng.choice(alphabet)
            _try("".join(chars))
