"""Fixtures for the Canonical ABI tests."""

from __future__ import annotations

import pytest

from .support import ENCODINGS


@pytest.fixture(params=ENCODINGS)
def encoding(request: pytest.FixtureRequest) -> str:
    return str(request.param)
