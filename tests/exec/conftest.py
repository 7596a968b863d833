"""Fixtures for executor tests (test steps live in support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.exec.support import write_corpus


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Three input files (plain, gzip, gzip) of 120, 80 and 50 documents."""
    return write_corpus(tmp_path / "in")
