"""Same keep/drop decisions as datatrove on real pages (needs the bench extra and the shared data)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
#: real English pages compared (datatrove's spaCy side takes most of the time)
N_PAGES = 100


@pytest.fixture(scope="module")
def parity(request: pytest.FixtureRequest) -> dict:
    pytest.importorskip("datatrove")
    pytest.importorskip("spacy")
    from tests.conftest import shared_path

    path = shared_path("data", "webcorpus", "pages-000.jsonl.gz")
    sys.path.insert(0, str(BENCH))
    try:
        import parity_datatrove
    finally:
        sys.path.remove(str(BENCH))
    pages = parity_datatrove.load_pages(path, limit=N_PAGES)
    # the chain already runs C4 without the terminal-punctuation rule: not repeated on its own
    names = ["gopher_repetition", "gopher_quality", "c4", "c4_badwords", "fineweb_quality"]
    return parity_datatrove.run_parity(pages, names)


def test_assets_match_the_installed_spacy_and_datatrove() -> None:
    pytest.importorskip("datatrove")
    pytest.importorskip("spacy")
    sys.path.insert(0, str(BENCH))
    try:
        import parity_datatrove
    finally:
        sys.path.remove(str(BENCH))
    assert parity_datatrove.check_assets() == []


def test_word_splitter_identical(parity: dict) -> None:
    words = parity["words"]
    assert words["agree"] == words["docs"] == N_PAGES, words["examples"]


@pytest.mark.parametrize(
    "name",
    ["gopher_repetition", "gopher_quality", "c4", "c4_badwords", "fineweb_quality", "chain"],
)
def test_agreement_at_least_99_5_percent(parity: dict, name: str) -> None:
    result = parity[name]
    assert result["docs"] == N_PAGES
    assert result["agree"] / result["docs"] >= 0.995, dict(result["causes"])
