"""Where the wit-parser conformance corpus lives, and how its cases are enumerated.

The corpus sits in the repository's sibling folder ``../shared`` (never copied into the repo);
when it is absent every corpus-driven test collects a single case that skips, saying why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpora import CORPORA

CORPUS = CORPORA / "wit-parser" / "ui"
MISSING = f"wit-parser corpus not found at {CORPUS} (expected the repo's sibling ../shared)"

#: Features the wit-parser test-suite enables when producing the goldens.
FEATURES = frozenset({"active"})


def golden_cases() -> list[tuple[str, Path, Path]]:
    """(name, input path, golden path) for every ``*.wit.json``."""
    if not CORPUS.is_dir():
        return []
    out = []
    for golden in sorted(CORPUS.glob("*.wit.json")):
        base = golden.name[: -len(".wit.json")]
        for cand in (CORPUS / f"{base}.wit", CORPUS / base, CORPUS / f"{base}.wat"):
            if cand.exists():
                out.append((base, cand, golden))
                break
    return out


def parse_fail_cases() -> list[tuple[str, Path, Path]]:
    """(name, input path, expected-error path) for every parse-fail case with an input."""
    root = CORPUS / "parse-fail"
    if not root.is_dir():
        return []
    out = []
    for result in sorted(root.glob("*.wit.result")):
        base = result.name[: -len(".wit.result")]
        for cand in (root / f"{base}.wit", root / base):
            if cand.exists():
                out.append((base, cand, result))
                break
    return out


def params(cases: list[tuple[str, Path, Path]], xfails: dict[str, str]) -> list[object]:
    """pytest params (one per case, id = case name); unknown corpus -> one skipping case."""
    if not cases:
        return [
            pytest.param(None, None, None, id="corpus-missing", marks=pytest.mark.skip(MISSING))
        ]
    out: list[object] = []
    for name, inp, exp in cases:
        marks = [pytest.mark.xfail(strict=True, reason=xfails[name])] if name in xfails else []
        out.append(pytest.param(name, inp, exp, id=name, marks=marks))
    return out
