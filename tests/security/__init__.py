"""Regressions from outside probes: each test names the finding it guards (issue 8 onwards)."""
