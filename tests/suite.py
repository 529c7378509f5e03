"""Which profile the test suite runs in, and the budgets that depend on it.

- default: every behaviour is tested, with example budgets sized so that the README's test
  command stays well under 8 minutes on a loaded 2-core machine;
- ``WASM_COMPONENT_TESTS=full``: also the tests marked ``slow`` (minutes-long artefacts, such as
  the ``stress-export-elaborate`` worlds ``wasm-tools component new`` needs minutes for), and the
  larger differential budgets.

Hypothesis runs derandomized (a fixed sequence of examples, no example database) when ``CI`` is
set; see ``tests/conftest.py``.
"""

from __future__ import annotations

import os

FULL = os.environ.get("WASM_COMPONENT_TESTS", "") == "full"


def budget(default: int, full: int) -> int:
    """An example count: ``default`` normally, ``full`` in the full profile."""
    return full if FULL else default


#: Value cases the differential tests (``tests/differential``) run against wasmtime.component;
#: ``WASM_COMPONENT_DIFF_EXAMPLES`` overrides it, each file takes its documented share.
DIFF_EXAMPLES = int(os.environ.get("WASM_COMPONENT_DIFF_EXAMPLES") or budget(1000, 4000))
