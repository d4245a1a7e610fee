"""Parley's tests. The helpers shared by several test modules live in tests/support (any kind of
test) and in the non-test modules of tests/e2e (browser pages, axe, media sessions)."""

import pytest

# pytest rewrites the asserts of test modules and conftest files only; the shared helpers assert
# too (a status, a probe's answer), and their failures should show the values, as a test's do.
# Outside a pytest run (bench/ imports tests.support) this marks nothing.
pytest.register_assert_rewrite("tests.support", "tests.e2e")
