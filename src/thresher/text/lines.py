"""Cached line splits and the punctuation sets of the published quality filters.

Each filter splits lines its own way (``str.splitlines`` for Gopher quality and C4, ``"\\n"`` for
FineWeb, runs of newlines for Gopher repetition); each split is computed once per document and
cached in ``doc.cache`` under its own key, so steps that use the same split share it.

The punctuation sets are datatrove's (``datatrove/utils/text.py``, Apache-2.0), shipped as data in
``thresher/assets/punctuation.json``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from thresher.document import Document

_ASSETS = Path(__file__).resolve().parents[1] / "assets"
_PARAGRAPHS = re.compile(r"\n{2,}")


def splitlines(doc: Document) -> list[str]:
    """``doc.text.splitlines()`` (every Unicode line boundary), cached."""
    out = doc.cache.get("splitlines")
    if out is None:
        out = doc.cache["splitlines"] = doc.text.splitlines()
    return out


def newline_lines(doc: Document) -> list[str]:
    """``doc.text.split("\\n")``, cached."""
    out = doc.cache.get("newline_lines")
    if out is None:
        out = doc.cache["newline_lines"] = doc.text.split("\n")
    return out


def line_runs(doc: Document) -> list[str]:
    """The text split on runs of ``\\n`` (Gopher repetition's lines), cached."""
    out = doc.cache.get("line_runs")
    if out is None:
        out = doc.cache["line_runs"] = split_newline_runs(doc.text)
    return out


def split_newline_runs(text: str) -> list[str]:
    """``re.split("\\n+", text)`` with ``str.split`` (empty items only at the ends, as the regex)."""
    parts = text.split("\n")
    if "\n\n" not in text:
        return parts
    out = list(filter(None, parts))
    if text.startswith("\n"):
        out.insert(0, "")
    if text.endswith("\n"):
        out.append("")
    return out


def paragraphs(doc: Document) -> list[str]:
    """The stripped text split on two or more ``\\n`` (Gopher repetition's paragraphs), cached."""
    out = doc.cache.get("paragraphs")
    if out is None:
        out = doc.cache["paragraphs"] = split_paragraphs(doc.text.strip())
    return out


def split_paragraphs(text: str) -> list[str]:
    """``re.split("\\n{2,}", text)`` for a stripped ``text``, with ``str.split``.

    Splitting on ``"\\n\\n"`` leaves, for a run of k newlines, ``k // 2 - 1`` empty items and
    (k odd) one newline at the start of the next item; dropping both gives the regex's items
    (a stripped text neither starts nor ends with a newline, so the regex makes no empty item).
    """
    if "\n\n" not in text:
        return [text]
    if "\n\n\n" not in text:
        return text.split("\n\n")
    return [p for p in (q.lstrip("\n") for q in text.split("\n\n")) if p]


@lru_cache(maxsize=1)
def _punctuation() -> dict[str, str]:
    return json.loads((_ASSETS / "punctuation.json").read_text("utf-8"))


@lru_cache(maxsize=1)
def punctuation_set() -> frozenset[str]:
    """datatrove's ``PUNCTUATION_SET``: ASCII/CJK punctuation, control characters, terminal marks."""
    data = _punctuation()
    return frozenset(data["punctuation"]) | frozenset(data["terminal_punctuation"])


@lru_cache(maxsize=1)
def terminal_punctuation() -> tuple[str, ...]:
    """datatrove's ``TERMINAL_PUNCTUATION`` (sentence-ending marks of many scripts), as a tuple."""
    return tuple(_punctuation()["terminal_punctuation"])
