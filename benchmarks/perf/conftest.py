"""Shared settings of the performance suites in ``benchmarks/perf`` (pytest-benchmark)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "memory: runs a whole live benchmark in a subprocess to measure its peak memory "
        "(deselect with -m 'not memory')",
    )
