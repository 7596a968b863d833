"""Keep rules: deciding one document at a time and a whole signal table at once give the same verdicts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from thresher.filters.c4 import C4Quality
from thresher.filters.fineweb import FineWebQuality
from thresher.filters.gopher_quality import GopherQuality
from thresher.filters.gopher_repetition import GopherRepetition
from thresher.filters.language import LanguageFilter
from thresher.filters.url import URLFilter
from thresher.steps.base import Filter
from thresher.steps.rules import NO_THRESHOLD, Rule, SignalColumns, first_failure, first_failure_many

FILTERS: list[tuple[type[Filter], dict[str, Any]]] = [
    (GopherQuality, {}),
    (GopherQuality, {"min_doc_words": 0, "max_avg_word_length": None, "min_stop_words": 3}),
    (FineWebQuality, {}),
    (FineWebQuality, {"compat": "fineweb2024"}),
    (FineWebQuality, {"line_punct_exclude_zero": True, "line_punct_thr": 0.3}),
    (GopherRepetition, {}),
    (GopherRepetition, {"dup_line_frac": None, "top_n_grams": [[3, 0.1]], "dup_n_grams": {6: 0.2}}),
    (LanguageFilter, {"languages": ["en", "de"], "min_score": 0.5}),
    (LanguageFilter, {"languages": None}),
    (LanguageFilter, {"languages": ["en"], "label_only": True}),
    (URLFilter, {"soft_banned_words": ["casino", "poker"], "soft_word_threshold": 2}),
    (C4Quality, {}),
    (C4Quality, {"min_num_sentences": -1}),
]


def _random_table(filt: Filter, rng: np.random.Generator, n: int = 3000) -> SignalColumns:
    """Signals around each rule's threshold: equal to it, just either side, 0, NaN, or not computed."""
    rules = filt.keep_rules() or []
    names = sorted({name for rule in rules for name in rule.names} | {"unrelated"})
    values, nulls = {}, {}
    for name in names:
        limits = [r.threshold for r in rules if name in r.names and isinstance(r.threshold, (int, float))]
        t = float(limits[0]) if limits else 1.0
        choices = np.array([t, t * 0.999, t * 1.001, 0.0, math.nan, 2 * t + 1])
        col = np.where(rng.random(n) < 0.5, choices[rng.integers(0, len(choices), n)], rng.random(n) * 2 * t)
        values[name] = np.where(rng.random(n) < 0.3, 0.0, col)
        nulls[name] = rng.random(n) < 0.08
        values[name][nulls[name]] = math.nan
    return SignalColumns(n, values, nulls)


@pytest.mark.parametrize(("cls", "params"), FILTERS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_a_table_is_decided_as_each_document_alone(cls: type[Filter], params: dict[str, Any]) -> None:
    filt = cls(**params)
    columns = _random_table(filt, np.random.default_rng(7))
    reasons, missing = filt.keep_table(columns)
    for r in range(columns.n):
        try:
            verdict = filt.keep(columns.row(r))
        except KeyError:
            assert missing[r], r
            assert reasons[r] is None
            continue
        assert not missing[r], r
        assert reasons[r] == (None if verdict is None else verdict[0]), (r, columns.row(r))
    # the table covers both outcomes: some documents pass, some fail
    if filt.keep_rules():
        assert any(x is None for x in reasons) and any(x is not None for x in reasons)


def test_a_document_fails_the_first_rule_in_order_with_its_details() -> None:
    gq = GopherQuality()
    assert gq.keep({"n_words": 20, "avg_word_length": 4.0}) == (
        "gopher_short_doc", {"value": 20, "threshold": 50}
    )
    signals = {"n_words": 300, "avg_word_length": 4.5, "hash_ratio": 0.0, "ellipsis_ratio": 0.0,
               "bullet_lines_ratio": 0.95, "ellipsis_lines_ratio": 0.5, "alpha_words_ratio": 0.5, "stop_words": 0}
    assert gq.keep(signals) == ("gopher_too_many_bullets", {"value": 0.95, "threshold": 0.9})
    # a document without words has no mean word length (datatrove: NaN): neither length rule fires
    assert GopherQuality(min_doc_words=0).keep(dict(signals, n_words=0, avg_word_length=0.0))[0] \
        == "gopher_too_many_bullets"
    url = URLFilter(banned_words=["casino"])
    assert url.keep({"has_url": 1, "banned_words": 1}) == ("banned_word", {"value": 1})
    assert url.keep({"has_url": 0}) is None  # not computed: counts as 0
    assert GopherRepetition().keep({"n_chars": 0}) == ("empty", {"value": 0, "threshold": None})


def test_a_signal_that_was_not_computed_makes_a_document_undecidable() -> None:
    rep = GopherRepetition()
    # score stopped at the repeated-lines rules: the n-gram signals were never computed
    stopped = {"n_chars": 900, "dup_para_frac": 0.0, "dup_para_char_frac": 0.0, "dup_line_frac": 0.5,
               "dup_line_char_frac": 0.4}
    assert rep.keep(stopped)[0] == "dup_line_frac"
    with pytest.raises(KeyError):
        GopherRepetition(dup_line_frac=0.9, dup_line_char_frac=0.9).keep(stopped)
    # a document with fewer words than n has a NaN top n-gram signal: the rule does not apply
    full = dict(stopped, dup_line_frac=0.0, dup_line_char_frac=0.0, top_2_gram_char_frac=0.1,
                top_3_gram_char_frac=math.nan, top_4_gram_char_frac=math.nan,
                **{f"dup_{n}_gram_char_frac": 0.0 for n in range(5, 11)})
    assert rep.keep(full) is None


def test_rules_of_the_table_path_report_missing_only_where_the_rule_is_reached() -> None:
    rules = [
        Rule("short", lambda v: v["words"] < 10, "words", 10),
        Rule("odd", lambda v: v["odd"] != 0, "odd", defaults={"odd": 0}),
        Rule("late", lambda v: v["late"] > 1, "late", 1),
    ]
    words = np.array([5.0, 50.0, 50.0, 50.0, math.nan])
    late = np.array([math.nan, math.nan, 3.0, 0.0, 0.0])
    cols = SignalColumns(5, {"words": words, "late": late},
                         {"words": np.isnan(words), "late": np.isnan(late)})
    failed, missing = first_failure_many(rules, cols)
    # row 0 fails before needing "late"; row 1 reaches "late" without it; row 4 lacks "words"
    assert failed.tolist() == [0, -1, 2, -1, -1]
    assert missing.tolist() == [False, True, False, False, True]
    assert first_failure(rules, {"words": 50, "late": 3}) == ("late", {"value": 3, "threshold": 1})
    assert rules[1].details({"odd": 2}) == {"value": 2} and rules[1].threshold is NO_THRESHOLD
