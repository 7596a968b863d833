"""Gopher quality and repetition: each rule on both sides of its threshold, on hand-written pages."""

from __future__ import annotations

import pickle

import pytest

from thresher.document import Document
from thresher.filters.gopher_quality import GopherQuality
from thresher.filters.gopher_repetition import GopherRepetition

PROSE = (
    "The history of the harbour town is closely tied to the sea and to the families that have lived "
    "there with their boats for many generations. Fishing was the main trade until the railway came, "
    "and with it a steady stream of visitors who wanted to see the cliffs and to walk along the "
    "beach. Today the old warehouses have been turned into small shops and cafes, and the harbour "
    "is busy with sailing boats during the summer months."
)


def run(step, text: str) -> Document:
    doc = Document("d", text)
    step.process([doc])
    return doc


def reason(step, text: str) -> str | None:
    doc = run(step, text)
    return doc.drop.reason if doc.drop else None


# -- Gopher quality --------------------------------------------------------------------------------


def test_prose_passes_and_signals_are_recorded() -> None:
    doc = run(GopherQuality(), PROSE)
    assert doc.drop is None
    signals = doc.metadata["signals"]
    assert signals["gopher_quality.n_words"] > 50
    assert 3 <= signals["gopher_quality.avg_word_length"] <= 10
    assert signals["gopher_quality.stop_words"] >= 2


def test_word_count_bounds() -> None:
    short = " ".join(PROSE.split()[:49])  # 49 words, no punctuation word removed
    assert reason(GopherQuality(), short) == "gopher_short_doc"
    assert reason(GopherQuality(min_doc_words=40), short) is None
    assert reason(GopherQuality(max_doc_words=60), PROSE) == "gopher_long_doc"


def test_mean_word_length() -> None:
    tiny = " ".join(["a bb of to the"] * 20)
    assert reason(GopherQuality(), tiny) == "gopher_below_avg_threshold"
    long_words = " ".join(["internationalisation characteristically the and"] * 20)
    assert reason(GopherQuality(), long_words) == "gopher_above_avg_threshold"
    assert reason(GopherQuality(max_avg_word_length=None), long_words) is None


def test_hash_and_ellipsis_ratios() -> None:
    words = PROSE.split()
    hashes = " ".join(w if i % 5 else "#" + w for i, w in enumerate(words))  # ~20% hashtags
    assert reason(GopherQuality(), hashes) == "gopher_too_many_hashes"
    few = " ".join(w if i % 20 else "#" + w for i, w in enumerate(words))  # ~5%
    assert reason(GopherQuality(), few) is None
    dots = " ".join(w if i % 4 else w + "..." for i, w in enumerate(words))
    assert reason(GopherQuality(), dots) == "gopher_too_many_ellipsis"


def test_bullet_and_end_ellipsis_lines() -> None:
    sentences = [s.strip() + "." for s in PROSE.split(".") if s.strip()]
    bullets = "\n".join("- " + s for s in sentences)
    assert reason(GopherQuality(), bullets) == "gopher_too_many_bullets"
    assert reason(GopherQuality(), "Intro line here.\n" + bullets) is None or len(sentences) >= 10
    trailing = "\n".join(s[:-1] + " and so on…" if i % 2 else s for i, s in enumerate(sentences))
    assert reason(GopherQuality(), trailing) == "gopher_too_many_end_ellipsis"
    assert reason(GopherQuality(max_ellipsis_lines_ratio=0.6), trailing) is None


def test_alpha_words_ratio() -> None:
    numbers = PROSE + " " + " ".join(str(1000 + i) for i in range(40))
    assert reason(GopherQuality(), numbers) == "gopher_below_alpha_threshold"
    assert reason(GopherQuality(max_non_alpha_words_ratio=0.5), numbers) is None


def test_stop_words_distinct_vs_fineweb2024_occurrences() -> None:
    text = " ".join(["the harbour looked calm"] * 20)  # one distinct stop word, 20 occurrences
    assert reason(GopherQuality(), text) == "gopher_enough_stop_words"
    assert reason(GopherQuality(compat="fineweb2024"), text) is None
    drop = run(GopherQuality(), text).drop
    assert drop.details == {"value": 1, "threshold": 2}


def test_gopher_quality_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="compat"):
        GopherQuality(compat="fineweb")  # type: ignore[arg-type]


# -- Gopher repetition -----------------------------------------------------------------------------


def test_repetition_keeps_prose() -> None:
    doc = run(GopherRepetition(), PROSE)
    assert doc.drop is None
    assert doc.metadata["signals"]["gopher_repetition.dup_line_frac"] == 0


def test_duplicate_paragraphs_and_lines() -> None:
    paras = [PROSE[i : i + 80] for i in range(0, 400, 80)]
    text = "\n\n".join(paras + paras[:3])  # 3 of 8 paragraphs repeat
    assert reason(GopherRepetition(), text) == "dup_para_frac"
    assert reason(GopherRepetition(dup_para_frac=0.5), text) == "dup_para_char_frac"
    lines = "\n".join(paras + paras[:3])
    assert reason(GopherRepetition(), lines) == "dup_line_frac"
    assert reason(GopherRepetition(dup_line_frac=None), lines) == "dup_line_char_frac"


def test_top_and_duplicated_ngrams() -> None:
    spam = PROSE + " " + " ".join(["buy cheap shoes"] * 30)
    assert reason(GopherRepetition(), spam) == "top_2_gram"
    assert reason(GopherRepetition(top_n_grams=[]), spam).startswith("duplicated_")
    block = "one two three four five six seven eight nine ten eleven twelve"
    other = "Something entirely different is said here about the weather and the road north."
    rep = PROSE + " " + block + " " + other + " " + block
    value = run(GopherRepetition(top_n_grams=[]), rep).metadata["signals"]
    assert 0 < value["gopher_repetition.dup_10_gram_char_frac"] < 0.1
    assert reason(GopherRepetition(), rep) is None


def test_empty_text_is_dropped_like_datatrove() -> None:
    assert reason(GopherRepetition(), "") == "empty"


def test_steps_pickle() -> None:
    for step in (GopherQuality(), GopherRepetition()):
        assert pickle.loads(pickle.dumps(step)).name == step.name


BAD = [
    "",
    "   \n\n\t  ",
    "!!! ??? ### ... ---",
    "\ud800\udfff lone surrogates \ud83d here",
    "混合 mixed スクリプト text Ελληνικά العربية",
    "word " * 100_000,
    "x" * 2_000_000,
]


@pytest.mark.parametrize("text", BAD)
def test_bad_input_gets_a_decision(text: str) -> None:
    for step in (GopherQuality(), GopherRepetition(), GopherQuality(min_doc_words=None)):
        doc = run(step, text)
        assert doc.drop is None or isinstance(doc.drop.reason, str)


def test_repetition_stops_at_the_first_failing_rule_like_datatrove() -> None:
    lines = "\n".join([PROSE[:90]] * 4 + [PROSE[90:200], PROSE[200:300]])
    doc = run(GopherRepetition(), lines)
    assert doc.drop.reason == "dup_line_frac"
    signals = doc.metadata["signals"]
    assert signals["gopher_repetition.dup_line_frac"] == 0.5
    assert not any("gram" in key for key in signals)  # words were never split
    spam = PROSE + " " + " ".join(["buy cheap shoes"] * 30)
    signals = run(GopherRepetition(), spam).metadata["signals"]
    assert "gopher_repetition.top_2_gram_char_frac" in signals
    assert "gopher_repetition.top_3_gram_char_frac" not in signals
    # sizes out of order: everything is computed, keep() still picks datatrove's first failing rule
    step = GopherRepetition(top_n_grams=[[3, 0.18], [2, 0.2]])
    doc = run(step, spam)
    assert doc.drop.reason == "top_3_gram" and "gopher_repetition.dup_10_gram_char_frac" in doc.metadata["signals"]


def test_stop_words_distinct_or_occurrences() -> None:
    text = PROSE + " the the the"
    distinct = run(GopherQuality(), text).metadata["signals"]["gopher_quality.stop_words"]
    words = text.replace(".", " ").replace(",", " ").split()
    expected = {w for w in words if w in ("the", "be", "to", "of", "and", "that", "have", "with")}
    assert distinct == len(expected)
    occurrences = run(GopherQuality(compat="fineweb2024"), text).metadata["signals"]["gopher_quality.stop_words"]
    assert occurrences == sum(w in expected for w in words)
    many = [f"w{i}" for i in range(70)] + ["the", "harbour"]  # more stop words than a bit mask holds
    assert run(GopherQuality(stop_words=many), text).metadata["signals"]["gopher_quality.stop_words"] == 2
    few = run(GopherQuality(stop_words=["harbour", "boats"], compat="fineweb2024"), text)
    assert few.metadata["signals"]["gopher_quality.stop_words"] == 4  # harbour x2, boats x2
