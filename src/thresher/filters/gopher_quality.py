"""Gopher quality filter (Rae et al. 2021, "Scaling Language Models", section A.1.1), as datatrove.

Same decisions as datatrove 0.10's ``GopherQualityFilter``
(``datatrove/pipeline/filters/gopher_quality_filter.py``); rules in its order, datatrove's reason
names, first failing rule is the reason:

==============================  =====================================================  ===========
reason                          signal                                                 default
==============================  =====================================================  ===========
``gopher_short_doc``            words with a non-punctuation character                 < 50
``gopher_long_doc``             same                                                   > 100,000
``gopher_below_avg_threshold``  mean length of those words                             < 3
``gopher_above_avg_threshold``  same                                                   > 10
``gopher_too_many_hashes``      ``#`` count / words                                    > 0.1
``gopher_too_many_ellipsis``    (``...`` + ``…`` count) / words                        > 0.1
``gopher_too_many_bullets``     lines starting with ``•`` or ``-`` / lines             > 0.9
``gopher_too_many_end_ellipsis`` lines ending with ``...`` or ``…`` / lines            > 0.3
``gopher_below_alpha_threshold`` words with an alphabetic character / words            < 0.8
``gopher_enough_stop_words``    stop words (the, be, to, of, and, that, have, with)    < 2
==============================  =====================================================  ===========

``compat`` chooses between datatrove 0.10 (``"datatrove"``: the stop-word rule counts *distinct*
stop words present) and the FineWeb release of April 2024 (``"fineweb2024"``: it counts stop-word
*occurrences*, as datatrove did then). Words are datatrove's English words
(:func:`thresher.text.words.words`), shared with the other filters; datatrove's later English
splitter is spaCy's and FineWeb-2024's was NLTK's, see :mod:`thresher.filters.fineweb`.

Where datatrove divides by zero (no words, no lines: only possible with ``min_doc_words`` off),
the ratio is 0 here and the document is judged on the other rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from typing import Literal

import numpy as np

from thresher.document import Document
from thresher.steps.base import Filter, register
from thresher.steps.rules import Rule, above, below
from thresher.text.lines import punctuation_set, splitlines
from thresher.text.vocab import doc_token_ids, vocabulary
from thresher.text.words import words as doc_words

# Gopher paper A.1.1 / datatrove's STOP_WORDS
DEFAULT_STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")
Compat = Literal["datatrove", "fineweb2024"]


class _WordFlags:
    """``len(word) << 2 | alpha << 1 | non_symbol`` of a word (non_symbol: has a character outside
    datatrove's punctuation set; alpha: has an alphabetic character)."""

    def __init__(self, punct: frozenset[str]) -> None:
        self._table = {ord(c): None for c in punct}

    def __call__(self, word: str) -> int:
        if word.isalpha():  # letters: alphabetic, and never in the punctuation set
            return (len(word) << 2) | 3
        alpha = 2 if any(c.isalpha() for c in word) else 0
        return (len(word) << 2) | alpha | (1 if word.translate(self._table) else 0)


_FLAGS: _WordFlags | None = None


def _word_flags() -> _WordFlags:
    global _FLAGS
    if _FLAGS is None:
        _FLAGS = _WordFlags(punctuation_set())
    return _FLAGS


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


@register
class GopherQuality(Filter):
    """Drop documents failing Gopher's quality heuristics (length, word shape, symbols, stop words)."""

    name = "gopher_quality"
    #: thresholds read only by ``keep`` (``thresher refilter`` may change them without rescoring)
    keep_params = frozenset({
        "min_doc_words", "max_doc_words", "min_avg_word_length", "max_avg_word_length",
        "max_symbol_word_ratio", "max_bullet_lines_ratio", "max_ellipsis_lines_ratio",
        "max_non_alpha_words_ratio", "min_stop_words",
    })

    def __init__(
        self,
        min_doc_words: int | None = 50,
        max_doc_words: int | None = 100_000,
        min_avg_word_length: float | None = 3,
        max_avg_word_length: float | None = 10,
        max_symbol_word_ratio: float | None = 0.1,
        max_bullet_lines_ratio: float | None = 0.9,
        max_ellipsis_lines_ratio: float | None = 0.3,
        max_non_alpha_words_ratio: float | None = 0.8,
        min_stop_words: int | None = 2,
        stop_words: Sequence[str] | None = None,
        compat: Compat = "datatrove",
        language: str = "en",
    ) -> None:
        """Thresholds as datatrove's; ``None`` (or 0) disables a rule.

        ``max_non_alpha_words_ratio`` is, as in datatrove, the *minimum* share of words that
        contain an alphabetic character (the name is datatrove's).
        """
        super().__init__()
        if compat not in ("datatrove", "fineweb2024"):
            raise ValueError(f"compat must be 'datatrove' or 'fineweb2024', got {compat!r}")
        if language != "en":
            raise ValueError(f"gopher_quality splits words for language 'en' only, got {language!r}")
        self.min_doc_words = min_doc_words
        self.max_doc_words = max_doc_words
        self.min_avg_word_length = min_avg_word_length
        self.max_avg_word_length = max_avg_word_length
        self.max_symbol_word_ratio = max_symbol_word_ratio
        self.max_bullet_lines_ratio = max_bullet_lines_ratio
        self.max_ellipsis_lines_ratio = max_ellipsis_lines_ratio
        self.max_non_alpha_words_ratio = max_non_alpha_words_ratio
        self.min_stop_words = min_stop_words
        self.stop_words = frozenset(DEFAULT_STOP_WORDS if stop_words is None else stop_words)
        # per-token feature: bit k set for the k-th stop word (sorted), 0 for other words
        self._stop_index = {w: 1 << k for k, w in enumerate(sorted(self.stop_words))}
        self._stop_feature = "gopher_stop:" + "\x00".join(sorted(self.stop_words))
        self.compat = compat
        self.language = language

    def score(self, doc: Document) -> dict[str, float]:
        text = doc.text
        ids = doc_token_ids(doc)
        vocab = vocabulary()
        n_words = len(ids)
        packed = vocab.feature("gopher_flags", _word_flags())[ids]
        non_symbol = packed & 1
        n_non_symbol = int(non_symbol.sum())
        n_alpha = int(((packed >> 1) & 1).sum())
        avg_len = _ratio(int(((packed >> 2) * non_symbol).sum()), n_non_symbol)
        lines = splitlines(doc)
        n_lines = len(lines)
        bullets = sum(map(str.startswith, map(str.lstrip, lines), repeat(("•", "-"))))
        ellipsis_lines = sum(map(str.endswith, map(str.rstrip, lines), repeat(("...", "…"))))
        stop = self._stop_words(doc, ids)
        return {
            "n_words": n_non_symbol,
            "avg_word_length": avg_len,
            "hash_ratio": _ratio(text.count("#"), n_words),
            "ellipsis_ratio": _ratio(text.count("...") + text.count("…"), n_words),
            "bullet_lines_ratio": _ratio(bullets, n_lines),
            "ellipsis_lines_ratio": _ratio(ellipsis_lines, n_lines),
            "alpha_words_ratio": _ratio(n_alpha, n_words),
            "stop_words": stop,
        }

    def _stop_words(self, doc: Document, ids: np.ndarray) -> int:
        """Stop words of the document: distinct ones (``datatrove``) or occurrences (``fineweb2024``)."""
        if len(self.stop_words) > 62:  # more than fit in a bit mask: count on the words
            words = doc_words(doc)
            if self.compat == "fineweb2024":
                return sum(1 for w in words if w in self.stop_words)
            return len(self.stop_words.intersection(words))
        bits = vocabulary().feature(self._stop_feature, self._stop_bit)[ids]
        if self.compat == "fineweb2024":
            return int(np.count_nonzero(bits))
        return int(np.bitwise_or.reduce(bits)).bit_count() if len(bits) else 0

    def _stop_bit(self, word: str) -> int:
        return self._stop_index.get(word, 0)

    def keep_rules(self) -> list[Rule]:
        """Gopher's thresholds in datatrove's order; a threshold of 0 or None turns its rule off."""
        t = self
        # (reason, signal, threshold, the signal must stay below it)
        table = [
            ("gopher_short_doc", "n_words", t.min_doc_words, False),
            ("gopher_long_doc", "n_words", t.max_doc_words, True),
            ("gopher_below_avg_threshold", "avg_word_length", t.min_avg_word_length, False),
            ("gopher_above_avg_threshold", "avg_word_length", t.max_avg_word_length, True),
            ("gopher_too_many_hashes", "hash_ratio", t.max_symbol_word_ratio, True),
            ("gopher_too_many_ellipsis", "ellipsis_ratio", t.max_symbol_word_ratio, True),
            ("gopher_too_many_bullets", "bullet_lines_ratio", t.max_bullet_lines_ratio, True),
            ("gopher_too_many_end_ellipsis", "ellipsis_lines_ratio", t.max_ellipsis_lines_ratio, True),
            ("gopher_below_alpha_threshold", "alpha_words_ratio", t.max_non_alpha_words_ratio, False),
            ("gopher_enough_stop_words", "stop_words", t.min_stop_words, False),
        ]
        rules = []
        for reason, signal, limit, is_max in table:
            if not limit:
                continue
            fails = above(signal, limit) if is_max else below(signal, limit)
            if signal == "avg_word_length":
                # datatrove's mean word length of no words is NaN: both comparisons are False
                rules.append(Rule(reason, lambda v, f=fails: (v["n_words"] > 0) & f(v), signal, limit, ("n_words",)))
            else:
                rules.append(Rule(reason, fails, signal, limit))
        return rules
