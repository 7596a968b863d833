"""Shared fixtures: the real-data folder ``../shared/data`` (skipped cleanly where absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("THRESHER_SHARED", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """Path inside the shared folder, or skip the test with a message when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real-data check skipped: {path} not found (set THRESHER_SHARED to the shared folder)")
    return path


@pytest.fixture
def webcorpus_path() -> Path:
    """``shared/data/webcorpus/pages-000.jsonl.gz`` (4,308 real pages with html and text)."""
    return shared_path("data", "webcorpus", "pages-000.jsonl.gz")


@pytest.fixture
def extraction_bench_path() -> Path:
    """``shared/data/extraction-bench/dev.jsonl.gz`` (105 pages with line labels)."""
    return shared_path("data", "extraction-bench", "dev.jsonl.gz")


@pytest.fixture
def seed_page_path() -> Path:
    """``shared/seed/000_86037a317f7069c3.txt``, the spun news page with a navigation column."""
    return shared_path("seed", "000_86037a317f7069c3.txt")
