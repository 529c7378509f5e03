"""The fuzz targets of ``fuzz/`` on a small fixed budget (derandomized Hypothesis over input
seeds, so every run is the same), and the corpus of inputs that once found bugs, replayed.

Long runs are by hand: ``python -m fuzz TARGET --budget N`` (see ``fuzz/__init__.py``)."""

from __future__ import annotations

import random
import shutil

import pytest
from fuzz import targets as tg
from hypothesis import given, settings
from hypothesis import strategies as st

BUDGET = {"decode": 400, "instantiate": 40, "abi": 200, "wit": 200, "wave": 200, "vdiff": 60}

needs_corpora = pytest.mark.skipif(
    not tg.CORPORA.is_dir(), reason=f"conformance corpora not found at {tg.CORPORA}")


def _run(target: str, seed: int) -> None:
    tgt = tg.TARGETS[target]
    tgt.run(tgt.make(random.Random(seed)))  # raises Finding outside the contract


def _fuzz(target: str) -> None:
    @settings(max_examples=BUDGET[target], derandomize=True, database=None, deadline=None)
    @given(st.integers(0, 2**64))
    def run(seed: int) -> None:
        _run(target, seed)

    run()


@needs_corpora
@pytest.mark.parametrize("target", ["decode", "instantiate", "wit"])
def test_fuzz_seeded_target(target: str) -> None:
    _fuzz(target)


@pytest.mark.parametrize("target", ["abi", "wave"])
def test_fuzz_generated_target(target: str) -> None:
    _fuzz(target)


@pytest.mark.skipif(shutil.which("wasm-tools") is None, reason="needs wasm-tools")
def test_fuzz_validator_against_wasm_tools() -> None:
    _fuzz("vdiff")


CORPUS = [(target, p) for target in tg.TARGETS for p in tg.corpus(target)]


@pytest.mark.parametrize(("target", "path"), CORPUS, ids=[f"{t}/{p.name}" for t, p in CORPUS])
def test_corpus_regressions(target: str, path: object) -> None:
    from pathlib import Path

    assert isinstance(path, Path)
    if target == "vdiff" and shutil.which("wasm-tools") is None:
        pytest.skip("the vdiff corpus needs wasm-tools")
    tg.TARGETS[target].run(tg.load_input(target, path.read_bytes()))


def test_corpus_is_not_empty() -> None:
    assert CORPUS, "fuzz/corpus holds the inputs that found bugs"
