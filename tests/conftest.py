"""Suite-wide settings: Hypothesis profiles, the ``slow`` marker, the full profile.

Hypothesis profiles (``HYPOTHESIS_PROFILE`` picks one by name):

- ``ci`` (chosen when the ``CI`` environment variable is set): derandomized, so a run is
  reproducible from the commit alone; no example database; no deadline (a loaded machine is not
  a failure); health checks stay on;
- ``dev`` (otherwise): random, with the local example database, no deadline.

Each test's ``max_examples`` is a fixed number (see ``tests/suite.py`` for the ones that grow in
the full profile). Tests marked ``slow`` run only with ``WASM_COMPONENT_TESTS=full`` and are
reported as skipped, with that reason, otherwise.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests.suite import FULL

settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI")
                                                               else "dev"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: minutes-long; runs only with WASM_COMPONENT_TESTS=full")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if FULL:
        return
    skip = pytest.mark.skip(reason="slow: runs with WASM_COMPONENT_TESTS=full")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)
