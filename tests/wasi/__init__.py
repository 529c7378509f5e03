import pytest

# The shared checks' asserts show their operands when they fail, as a test module's do.
pytest.register_assert_rewrite("tests.wasi._conformance")
