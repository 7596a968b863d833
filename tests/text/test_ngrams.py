"""Vectorised n-gram statistics against a direct transcription of the published definitions."""

from __future__ import annotations

import random
from collections import Counter

from thresher.text.ngrams import find_duplicates, ngram_repetition


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


def test_find_duplicates_counts_items_and_characters() -> None:
    assert find_duplicates(["a", "bb", "a", "", "", "bb"]) == (3, 3)
    assert find_duplicates([]) == (0, 0)
