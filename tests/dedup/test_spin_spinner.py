"""The content-farm spinner: deterministic, exact substitution rate, thesauri, templates."""

from __future__ import annotations

import re

import pytest

from thresher.dedup.spinner import farm_template, load_thesaurus, near_copy, spin, spin_with_report

TEXT = (
    "The government announced a new plan to improve public transport in the capital. "
    "Officials said the project would create thousands of jobs and reduce traffic.\n"
    "Critics argued that the cost was too high and that the money should go to schools instead."
)


def test_deterministic() -> None:
    assert spin(TEXT, rate=0.3, seed=7) == spin(TEXT, rate=0.3, seed=7)
    assert spin(TEXT, rate=0.3, seed=7) != spin(TEXT, rate=0.3, seed=8)
    assert near_copy(TEXT, seed=1) == near_copy(TEXT, seed=1)


def test_substitution_rate_is_exact() -> None:
    for rate in (0.0, 0.2, 0.4, 1.0):
        _, report = spin_with_report(TEXT, rate=rate, seed=1, phrase_rate=0.0, boilerplate=False)
        assert report.eligible > 10
        assert report.substituted == round(rate * report.eligible)
    unchanged, _ = spin_with_report(TEXT, rate=0.0, seed=1, phrase_rate=0.0, boilerplate=False)
    assert unchanged == TEXT


def test_grammar_words_never_replaced() -> None:
    out, _ = spin_with_report(TEXT, rate=1.0, seed=3, phrase_rate=0.0, boilerplate=False)

    def grammar(s: str) -> list[str]:
        return [w for w in re.findall(r"[A-Za-z]+", s.lower()) if w in {"the", "a", "to", "and", "of", "that"}]

    # every grammar word of the input is still there (synonym phrases may add more)
    for word in set(grammar(TEXT)):
        assert grammar(out).count(word) >= grammar(TEXT).count(word)


def test_thesauri_differ_and_load() -> None:
    wordnet, moby = load_thesaurus("wordnet"), load_thesaurus("moby")
    assert len(wordnet) > 5000 and len(moby) > 5000
    assert "global" in wordnet["international"] or "external" in wordnet["international"]
    assert set(wordnet["say"]) != set(moby["say"])
    with pytest.raises(ValueError, match="unknown thesaurus"):
        load_thesaurus("roget")
    assert spin(TEXT, rate=0.5, seed=1, thesaurus="wordnet") != spin(TEXT, rate=0.5, seed=1, thesaurus="moby")


def test_template_shared_by_a_farm_and_sentence_edits() -> None:
    header, footer, _ = farm_template(2)
    page = spin(TEXT, rate=0.3, seed=5, farm=2)
    assert page.startswith(header) and page.endswith(footer)
    assert farm_template(2) == farm_template(2) != farm_template(3)
    _, report = spin_with_report(TEXT * 5, rate=0.1, seed=2, drop_rate=0.3, swap_rate=0.3, boilerplate=False)
    assert report.dropped_sentences > 0 and report.swapped_sentences > 0
    with pytest.raises(ValueError, match="rate"):
        spin(TEXT, rate=1.5)
