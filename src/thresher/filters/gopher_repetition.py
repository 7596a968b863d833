"""Gopher repetition filter (Rae et al. 2021, "Scaling Language Models", table A1), as datatrove.

Same decisions as datatrove 0.10's ``GopherRepetitionFilter``
(``datatrove/pipeline/filters/gopher_repetition_filter.py``); rules are checked in its order and
the first that fires is the drop reason (datatrove's reason names):

=====================  ==========================================================  =========
reason                 signal                                                      default
=====================  ==========================================================  =========
``dup_para_frac``      paragraphs (split on 2+ newlines) equal to an earlier one   > 0.30
``dup_para_char_frac`` characters of those paragraphs / characters of the text     > 0.20
``dup_line_frac``      lines (split on newline runs) equal to an earlier one       > 0.30
``dup_line_char_frac`` characters of those lines / characters of the text          > 0.20
``top_{n}_gram``       count x length of the most frequent word n-gram / chars     n=2: 0.20,
                                                                                   3: 0.18,
                                                                                   4: 0.16
``duplicated_{n}_n_grams`` characters in repeated n-grams / chars                  n=5: 0.15
                                                                                   ... 10: 0.10
=====================  ==========================================================  =========

Words are datatrove's English words (as ids, :func:`thresher.text.words.word_ids`), shared with the
other filters through the document cache. An empty text is dropped with reason ``empty`` (as
datatrove). Like datatrove, the filter stops at the first failing rule: a document dropped for
repeated paragraphs or lines is not split into words, and n-gram sizes after the first failing one
are not computed (their signals are then absent from ``metadata["signals"]``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from thresher.document import Document
from thresher.steps.base import Filter, register
from thresher.steps.rules import Rule, above
from thresher.text import ngrams
from thresher.text.lines import line_runs, paragraphs
from thresher.text.vocab import doc_token_ids, mix64, vocabulary

# Gopher paper, table A1 (as datatrove's defaults)
DEFAULT_TOP_N_GRAMS: tuple[tuple[int, float], ...] = ((2, 0.2), (3, 0.18), (4, 0.16))
DEFAULT_DUP_N_GRAMS: tuple[tuple[int, float], ...] = (
    (5, 0.15),
    (6, 0.14),
    (7, 0.13),
    (8, 0.12),
    (9, 0.11),
    (10, 0.10),
)


def _pairs(value: Sequence[Sequence[float]] | dict[int, float] | None) -> tuple[tuple[int, float], ...]:
    if value is None:
        return ()
    items = value.items() if isinstance(value, dict) else value
    out = []
    for item in items:
        n, frac = item
        if int(n) < 1:
            raise ValueError(f"n-gram sizes must be >= 1, got {n!r}")
        out.append((int(n), float(frac)))
    return tuple(out)


@register
class GopherRepetition(Filter):
    """Drop documents with too many repeated lines, paragraphs or word n-grams (Gopher, table A1)."""

    name = "gopher_repetition"
    #: thresholds read only by ``keep`` (``score`` stops at the first failing rule, so a looser
    #: threshold can need signals a dropped document never got: refilter reports those as undecidable)
    keep_params = frozenset({"dup_line_frac", "dup_para_frac", "dup_line_char_frac", "dup_para_char_frac"})

    def __init__(
        self,
        dup_line_frac: float | None = 0.3,
        dup_para_frac: float | None = 0.3,
        dup_line_char_frac: float | None = 0.2,
        dup_para_char_frac: float | None = 0.2,
        top_n_grams: Sequence[Sequence[float]] | dict[int, float] | None = DEFAULT_TOP_N_GRAMS,
        dup_n_grams: Sequence[Sequence[float]] | dict[int, float] | None = DEFAULT_DUP_N_GRAMS,
        language: str = "en",
    ) -> None:
        """Thresholds are maxima (a value above drops); ``None`` (or 0) disables a rule.

        ``top_n_grams`` / ``dup_n_grams`` are ``[[n, max_fraction], ...]`` (or ``{n: fraction}``).
        """
        super().__init__()
        if language != "en":
            raise ValueError(f"gopher_repetition splits words for language 'en' only, got {language!r}")
        self.dup_line_frac = dup_line_frac
        self.dup_para_frac = dup_para_frac
        self.dup_line_char_frac = dup_line_char_frac
        self.dup_para_char_frac = dup_para_char_frac
        self.top_n_grams = _pairs(top_n_grams)
        self.dup_n_grams = _pairs(dup_n_grams)
        # n-grams are computed for increasing n: stopping at the first failing size gives keep()'s
        # verdict only when keep() checks the sizes in that same order
        sizes = [n for n, _ in self.top_n_grams] + [n for n, _ in self.dup_n_grams]
        self._stop_early = sizes == sorted(set(sizes))
        self.language = language

    def score(self, doc: Document) -> dict[str, float]:
        """The signals in rule order, up to the first rule that fails (as datatrove, which returns
        at the first failing rule): a document dropped for repeated lines is never split into words."""
        text = doc.text
        n_chars = len(text)
        if n_chars == 0:
            return {"n_chars": 0}
        paras = paragraphs(doc)
        para_dups, para_dup_chars = ngrams.find_duplicates(paras)
        signals: dict[str, float] = {
            "n_chars": n_chars,
            "dup_para_frac": para_dups / len(paras),
            "dup_para_char_frac": para_dup_chars / n_chars,
        }
        if self._line_rule_fails(signals, ("dup_para_frac", "dup_para_char_frac")):
            return signals
        lines = line_runs(doc)
        line_dups, line_dup_chars = ngrams.find_duplicates(lines)
        signals["dup_line_frac"] = line_dups / len(lines)
        signals["dup_line_char_frac"] = line_dup_chars / n_chars
        if self._line_rule_fails(signals, ("dup_line_frac", "dup_line_char_frac")):
            return signals
        ids = doc_token_ids(doc)
        lengths = vocabulary().feature("length", len)[ids]
        top_max = dict(self.top_n_grams)
        dup_max = dict(self.dup_n_grams)

        def stop(kind: str, n: int, chars: int) -> bool:
            limit = top_max.get(n) if kind == "top" else dup_max.get(n)
            return limit is not None and chars / n_chars > limit

        top, dup = ngrams.ngram_repetition(
            None,
            top_max,
            dup_max,
            mix64(ids),
            lengths,
            stop=stop if self._stop_early else None,
        )
        for n, chars in sorted(top.items()):
            signals[f"top_{n}_gram_char_frac"] = chars / n_chars
        for n, _ in self.top_n_grams:
            if n > len(ids):  # no n-gram at all: datatrove skips the rule (NaN fails no comparison)
                signals[f"top_{n}_gram_char_frac"] = math.nan
        for n, chars in sorted(dup.items()):
            signals[f"dup_{n}_gram_char_frac"] = chars / n_chars
        return signals

    def _line_rule_fails(self, signals: dict[str, float], names: tuple[str, ...]) -> bool:
        return any(getattr(self, name) and signals[name] > getattr(self, name) for name in names)

    def keep_rules(self) -> list[Rule]:
        """Gopher's repetition thresholds in datatrove's order. ``score`` stops at the first failing
        rule, so a signal it did not compute makes a looser threshold undecidable (refilter reports
        it); a ``top_n_gram`` signal of a document with fewer than n words is NaN and fails nothing."""
        rules = [Rule("empty", lambda v: v["n_chars"] == 0, "n_chars", None, defaults={"n_chars": 0}, shown_value=0)]
        for reason in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"):
            threshold = getattr(self, reason)
            if threshold:
                rules.append(Rule(reason, above(reason, threshold), reason, threshold))
        for n, frac in self.top_n_grams:
            name = f"top_{n}_gram_char_frac"
            rules.append(Rule(f"top_{n}_gram", above(name, frac), name, frac))
        for n, frac in self.dup_n_grams:
            name = f"dup_{n}_gram_char_frac"
            rules.append(Rule(f"duplicated_{n}_n_grams", above(name, frac), name, frac))
        return rules
