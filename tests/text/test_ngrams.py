"""Vectorised n-gram statistics against a direct transcription of the published definitions."""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter
from pathlib import Path

from thresher.text.ngrams import find_duplicates, ngram_repetition
from thresher.text.words import split_words


def _top_reference(words: list[str], n: int) -> int | None:
    grams = [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return None
    gram, count = max(Counter(grams).items(), key=lambda kv: kv[1])  # first seen wins ties
    return len(gram) * count


def _dup_reference(words: list[str], n: int) -> int:
    seen: set[tuple[str, ...]] = set()
    idx = repeated = 0
    while idx < len(words) - n + 1:
        gram = tuple(words[idx : idx + n])
        if gram in seen:
            repeated += sum(map(len, gram))
            idx += n
        else:
            seen.add(gram)
            idx += 1
    return repeated


def test_matches_reference_on_random_repetitive_texts() -> None:
    rng = random.Random(7)
    vocab = ["a", "bb", "ccc", "the", "of", "x", "yy"]
    for trial in range(300):
        length = rng.randint(0, 60)
        words = [rng.choice(vocab[: rng.randint(1, len(vocab))]) for _ in range(length)]
        if trial % 3 == 0 and words:  # paste repeated blocks
            words = (words[: rng.randint(1, 12)] * rng.randint(2, 5))[:80]
        top, dup = ngram_repetition(words, [2, 3, 4], range(5, 11))
        for n in (2, 3, 4):
            assert top.get(n) == _top_reference(words, n), (words, n)
        for n in range(5, 11):
            assert dup[n] == _dup_reference(words, n), (words, n)


def test_walk_when_first_occurrences_are_jumped_over() -> None:
    # periodic texts make the walk jump over the first occurrence of later n-grams (the case the
    # vectorised walk has to look up its skipped ranges for)
    rng = random.Random(11)
    for _ in range(300):
        period = [rng.choice("abcd") for _ in range(rng.randint(1, 7))]
        words = (period * 30)[: rng.randint(0, 120)]
        for _ in range(rng.randint(0, 4)):  # break the period here and there
            if words:
                words[rng.randrange(len(words))] = rng.choice("abcdz")
        _, dup = ngram_repetition(words, [], range(1, 11))
        for n in range(1, 11):
            assert dup[n] == _dup_reference(words, n), (words, n)


def test_matches_reference_on_real_pages(webcorpus_path: Path) -> None:
    pages = 0
    with gzip.open(webcorpus_path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec.get("lang") != "en" or not rec.get("text"):
                continue
            words = split_words(rec["text"])
            top, dup = ngram_repetition(words, [2, 3, 4], range(5, 11))
            for n in (2, 3, 4):
                assert top.get(n) == _top_reference(words, n), (rec["id"], n)
            for n in range(5, 11):
                assert dup[n] == _dup_reference(words, n), (rec["id"], n)
            pages += 1
            if pages == 40:
                break
    assert pages == 40


def test_find_duplicates_counts_items_and_characters() -> None:
    assert find_duplicates(["a", "bb", "a", "", "", "bb"]) == (3, 3)
    assert find_duplicates([]) == (0, 0)


def test_stop_ends_the_computation_at_the_first_failing_size() -> None:
    words = ("a b c d e f g " * 20).split()
    top, dup = ngram_repetition(words, [2, 3, 4], range(5, 11))
    calls: list[tuple[str, int]] = []

    def stop(kind: str, n: int, chars: int) -> bool:
        calls.append((kind, n))
        assert chars == (top[n] if kind == "top" else dup[n])
        return kind == "dup" and n == 6

    top2, dup2 = ngram_repetition(words, [2, 3, 4], range(5, 11), stop=stop)
    assert calls == [("top", 2), ("top", 3), ("top", 4), ("dup", 5), ("dup", 6)]
    assert top2 == top and dup2 == {5: dup[5], 6: dup[6]}


def test_find_duplicates_counts_later_occurrences() -> None:
    assert find_duplicates(["ab", "c", "ab", "ab", "d", "c"]) == (3, 5)
    assert find_duplicates([]) == (0, 0)
