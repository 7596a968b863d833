"""Exact dedup: normalised-text copies across shards, first copy kept, empty texts never matched."""

from __future__ import annotations

from pathlib import Path

from tests.dedup.support import ARTICLES, docs
from thresher.dedup._norm import normalize_exact
from thresher.dedup.exact import ExactDedup
from thresher.dedup.testing import dropped, kept, run_corpus_step_locally


def test_normalisation_covers_case_whitespace_punctuation_and_nfkc() -> None:
    assert normalize_exact("Hello,   World!\n") == "hello world"
    assert normalize_exact("HELLO world") == "hello world"
    assert normalize_exact("ｈｅｌｌｏ　ｗｏｒｌｄ！") == "hello world"  # full-width forms, ideographic space
    assert normalize_exact("« Straße » — ok") == normalize_exact("strasse ok")  # casefold, Unicode punct
    assert normalize_exact("Hello world") != normalize_exact("Hello word")
    assert normalize_exact(" \n\t ...") == ""


def test_copies_with_case_space_and_punctuation_changes_are_dropped(tmp_path: Path) -> None:
    text = ARTICLES[0]
    shard0 = docs(("a", text), ("b", ARTICLES[1]))
    shard1 = docs(
        ("c", text.upper()),
        ("d", "  " + text.replace(" ", "\n  ") + "\n"),
        ("e", text.replace(".", " ;").replace(",", "")),
        ("f", ARTICLES[2]),
    )
    out = run_corpus_step_locally(ExactDedup(partitions=3), [shard0, shard1], tmp_path)
    assert [d.id for d in kept(out)] == ["a", "b", "f"]
    for doc in dropped(out):
        assert doc.drop is not None and doc.drop.reason == "duplicate"
        assert doc.drop.details == {"duplicate_of": "a", "similarity": 1.0}
    first = out[0][0]
    assert first.metadata["cluster_id"] == "a" and first.metadata["cluster_size"] == 4
    assert out[0][1].metadata["cluster_size"] == 1


def test_first_copy_in_shard_order_is_kept_whatever_the_partitions(tmp_path: Path) -> None:
    text = ARTICLES[3]
    shards = [docs(("x0", ARTICLES[4]), ("x1", text)), docs(("y0", text)), docs(("z0", text), ("z1", text))]
    for partitions in (1, 2, 7):
        out = run_corpus_step_locally(ExactDedup(partitions=partitions), shards, tmp_path / str(partitions))
        assert [d.id for d in kept(out)] == ["x0", "x1"]
        assert {d.drop.details["duplicate_of"] for d in dropped(out)} == {"x1"}  # type: ignore[union-attr]


def test_empty_and_punctuation_only_documents_are_never_matched(tmp_path: Path) -> None:
    shard = docs(("e1", ""), ("e2", ""), ("p1", "..."), ("p2", " !! "), ("w1", "hello"), ("w2", "Hello!"))
    out = run_corpus_step_locally(ExactDedup(), [shard], tmp_path)
    assert [d.id for d in kept(out)] == ["e1", "e2", "p1", "p2", "w1"]
    assert dropped(out)[0].drop.details["duplicate_of"] == "w1"  # type: ignore[union-attr]


def test_empty_corpus_and_empty_shards(tmp_path: Path) -> None:
    out = run_corpus_step_locally(ExactDedup(), [[], docs(("a", "x y")), []], tmp_path)
    assert [[d.id for d in s] for s in out] == [[], ["a"], []]


MIXED = [
    "Grüße aus Köln – «Straße» №5, ½ Preis!",
    "東京都の人口は１３９６万人です。（２０２３年）",
    "Ǆemal’s café—naïve “quotes” & ‘apostrophes’ … done",
    "Ελληνικά: ΣΊΣΥΦΟΣ; русский текст — «кавычки»",
    "tab\there\u00a0nbsp\u2028line sep \u200bzero width",
]


def test_fast_normalisation_equals_per_character_reference() -> None:
    import unicodedata

    def reference(text: str) -> str:
        text = unicodedata.normalize("NFKC", text).casefold()
        text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
        return " ".join(text.split())

    for text in MIXED + ARTICLES[:2]:
        assert normalize_exact(text) == reference(text), text
