"""FineWeb quality rules, datatrove 0.10 and FineWeb-2024 semantics."""

from __future__ import annotations

import pytest

from thresher.document import Document
from thresher.filters.fineweb import FineWebQuality

LINES = [
    "The new bridge over the river was opened by the mayor on Monday.",
    "It took four years to build and cost more than planned.",
    "Cyclists and walkers can now cross without a long detour.",
    "The old ferry will keep running on weekends for tourists.",
]


def reason(step: FineWebQuality, text: str) -> str | None:
    doc = Document("d", text)
    step.process([doc])
    return doc.drop.reason if doc.drop else None


def test_prose_passes() -> None:
    assert reason(FineWebQuality(), "\n".join(LINES)) is None


def test_line_punct_ratio() -> None:
    nav = [f"Section heading number {i} of the site menu" for i in range(30)]
    assert reason(FineWebQuality(), "\n".join(LINES[:3] + nav)) == "line_punct_ratio"
    assert reason(FineWebQuality(line_punct_thr=0.05), "\n".join(LINES[:3] + nav)) is None


def test_short_line_ratio() -> None:
    short = [f"Item {i}." for i in range(12)]
    assert reason(FineWebQuality(), "\n".join(LINES + short)) == "short_line_ratio"
    assert reason(FineWebQuality(short_line_thr=0.8), "\n".join(LINES + short)) is None


def test_char_dup_ratio() -> None:
    assert reason(FineWebQuality(), "\n".join(LINES + LINES[:1])) == "char_dup_ratio"
    assert reason(FineWebQuality(char_duplicates_ratio=0.5), "\n".join(LINES + LINES[:1])) is None


def test_list_ratio() -> None:
    items = [f"Point {i} is a long enough line to pass the short line rule." for i in range(8)]
    listy = "\n".join(f"{w}." for w in "alpha beta gamma delta epsilon zeta eta theta iota kappa".split())
    assert reason(FineWebQuality(short_line_thr=1.0), listy) == "list_ratio"
    assert reason(FineWebQuality(), "\n".join(items)) is None


def test_empty_is_dropped() -> None:
    assert reason(FineWebQuality(), "") == "empty"
    assert reason(FineWebQuality(), " \n\t\n") == "empty"


def test_fineweb2024_semantics() -> None:
    # empty lines count in the 2024 ratios: 4 prose lines + 9 empty ones -> 9/13 short lines
    text = "\n\n\n\n".join(LINES)
    assert reason(FineWebQuality(), text) is None
    assert reason(FineWebQuality(compat="fineweb2024"), text) == "short_line_ratio"
    # inclusive comparison in 2024: a ratio exactly at the threshold drops
    assert reason(FineWebQuality(compat="fineweb2024", short_line_thr=9 / 13), text) == "short_line_ratio"
    assert reason(FineWebQuality(short_line_thr=9 / 13, line_punct_thr=0.0), text) is None
    # terminal punctuation: datatrove 0.10 accepts e.g. the ideographic full stop, 2024 did not
    cjk = "\n".join(line.rstrip(".") + "。" for line in LINES)
    assert reason(FineWebQuality(), cjk) is None
    assert reason(FineWebQuality(compat="fineweb2024"), cjk) == "line_punct_ratio"
    with pytest.raises(ValueError, match="compat"):
        FineWebQuality(compat="2024")  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "\ud800\n\udfff", "!!!\n???", "a\n" * 200_000, "y" * 3_000_000])
def test_bad_input_gets_a_decision(text: str) -> None:
    for compat in ("datatrove", "fineweb2024"):
        r = reason(FineWebQuality(compat=compat), text)
        assert r is None or isinstance(r, str)
