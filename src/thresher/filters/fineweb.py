"""FineWeb quality filter (Penedo et al. 2024, "The FineWeb Datasets"), as datatrove.

Same decisions as datatrove 0.10's ``FineWebQualityFilter``
(``datatrove/pipeline/filters/fineweb_quality_filter.py``) with ``compat="datatrove"`` (default),
or as the filter that produced the FineWeb release (datatrove of April-June 2024) with
``compat="fineweb2024"``. Rules in order, first failing one is the reason:

====================  ========================================================  ==============
reason                signal                                                    default
====================  ========================================================  ==============
``empty``             no line with a non-space character                        (drop)
``line_punct_ratio``  lines ending in terminal punctuation / lines              < 0.12
``short_line_ratio``  lines of at most ``short_line_length`` (30) chars / lines  > 0.67
``char_dup_ratio``    characters of lines equal to an earlier line /            > 0.01
                      characters of the text without newlines
``list_ratio``        newlines / words                                          > 0.3
====================  ========================================================  ==============

What ``fineweb2024`` changes (datatrove's code at the FineWeb release): lines are ``text.split("\\n")``
*including empty lines* for the first two ratios (duplicates are still counted on non-empty lines);
terminal punctuation is ``. ' " ! ?`` only; comparisons are inclusive (``<= 0.12``, ``>= 0.67``,
``>= 0.01``); and words came from NLTK's ``word_tokenize``, not spaCy's tokenizer. Thresher does
not re-implement NLTK: with ``compat="fineweb2024"`` the list ratio uses ``word_splitter``, which
is ``"spacy"`` (Thresher's spaCy-identical splitter, the only one built in) unless set to
``"nltk"`` (needs the optional ``nltk`` package and its ``punkt`` data). The two splitters rarely
move the list ratio across 0.3 (it only counts words), see the parity notes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import Any, Literal

from thresher.document import Document
from thresher.steps.base import Filter, register
from thresher.steps.rules import Rule, above
from thresher.text.lines import newline_lines, terminal_punctuation
from thresher.text.ngrams import find_duplicates
from thresher.text.words import word_count

Compat = Literal["datatrove", "fineweb2024"]
# datatrove at the FineWeb release: stop_chars = (".", "'", '"', "!", "?")
FINEWEB2024_STOP_CHARS = (".", "'", '"', "!", "?")


def _nltk_words(text: str) -> list[str]:
    try:
        from nltk.tokenize import word_tokenize
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "word_splitter 'nltk' needs the nltk package: pip install nltk, then "
            "python -m nltk.downloader punkt (or use word_splitter: spacy)"
        ) from exc
    return [t.strip() for t in word_tokenize(text, language="english") if t.strip()]


@register
class FineWebQuality(Filter):
    """Drop documents with few punctuated lines, many short or duplicated lines, or list-like layout."""

    name = "fineweb_quality"
    #: thresholds read only by ``keep`` (``thresher refilter`` may change them without rescoring)
    keep_params = frozenset({
        "line_punct_thr", "line_punct_exclude_zero", "short_line_thr", "char_duplicates_ratio", "new_line_ratio",
    })

    def __init__(
        self,
        line_punct_thr: float = 0.12,
        line_punct_exclude_zero: bool = False,
        stop_chars: Sequence[str] | None = None,
        short_line_thr: float = 0.67,
        short_line_length: int = 30,
        char_duplicates_ratio: float = 0.01,
        new_line_ratio: float = 0.3,
        compat: Compat = "datatrove",
        word_splitter: Literal["spacy", "nltk"] = "spacy",
        language: str = "en",
    ) -> None:
        """FineWeb's thresholds. ``stop_chars`` defaults to datatrove's terminal punctuation set
        (``compat="datatrove"``) or ``. ' " ! ?`` (``compat="fineweb2024"``)."""
        super().__init__()
        if compat not in ("datatrove", "fineweb2024"):
            raise ValueError(f"compat must be 'datatrove' or 'fineweb2024', got {compat!r}")
        if word_splitter not in ("spacy", "nltk"):
            raise ValueError(f"word_splitter must be 'spacy' or 'nltk', got {word_splitter!r}")
        if language != "en":
            raise ValueError(f"fineweb_quality splits words for language 'en' only, got {language!r}")
        self.line_punct_thr = line_punct_thr
        self.line_punct_exclude_zero = line_punct_exclude_zero
        if stop_chars is None:
            stop_chars = FINEWEB2024_STOP_CHARS if compat == "fineweb2024" else terminal_punctuation()
        self.stop_chars = tuple(stop_chars)
        self.short_line_thr = short_line_thr
        self.short_line_length = short_line_length
        self.char_duplicates_ratio = char_duplicates_ratio
        self.new_line_ratio = new_line_ratio
        self.compat = compat
        self.word_splitter = word_splitter
        self.language = language

    def score(self, doc: Document) -> dict[str, float]:
        text = doc.text
        all_lines = newline_lines(doc)
        lines = [line for line in all_lines if line.strip() != ""]
        if not lines:
            return {"lines": 0}
        ratio_lines = all_lines if self.compat == "fineweb2024" else lines
        n = len(ratio_lines)
        stop_chars = self.stop_chars
        punct = sum(map(str.endswith, ratio_lines, repeat(stop_chars))) / n
        short = sum(map(self.short_line_length.__ge__, map(len, ratio_lines))) / n
        n_chars = len(text) - len(all_lines) + 1  # len(text.replace("\n", ""))
        dup = find_duplicates(lines)[1] / n_chars if n_chars else 0.0
        if self.word_splitter == "nltk":
            n_words = len(_nltk_words(text))
        else:
            n_words = word_count(doc)
        newlines = len(all_lines) - 1
        return {
            "lines": len(lines),
            "line_punct_ratio": punct,
            "short_line_ratio": short,
            "char_dup_ratio": dup,
            "list_ratio": newlines / n_words if n_words else 0.0,
        }

    def keep_rules(self) -> list[Rule]:
        """FineWeb's thresholds in datatrove's order (``fineweb2024``: ``<=`` / ``>=`` where datatrove
        0.10 has ``<`` / ``>``)."""
        inclusive = self.compat == "fineweb2024"
        punct_thr, short_thr, dup_thr = self.line_punct_thr, self.short_line_thr, self.char_duplicates_ratio
        exclude_zero, list_thr = self.line_punct_exclude_zero, self.new_line_ratio

        def punct_fails(v: Mapping[str, Any]) -> Any:
            p = v["line_punct_ratio"]
            below = (p <= punct_thr) if inclusive else (p < punct_thr)
            return (below & (p != 0)) if exclude_zero else below

        return [
            Rule("empty", lambda v: v["lines"] == 0, "lines", None, defaults={"lines": 0}, shown_value=0),
            Rule("line_punct_ratio", punct_fails, "line_punct_ratio", punct_thr),
            Rule("short_line_ratio", above("short_line_ratio", short_thr, inclusive), "short_line_ratio", short_thr),
            Rule("char_dup_ratio", above("char_dup_ratio", dup_thr, inclusive), "char_dup_ratio", dup_thr),
            Rule("list_ratio", above("list_ratio", list_thr), "list_ratio", list_thr),
        ]
