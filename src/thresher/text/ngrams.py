"""Duplicate and top n-gram statistics over hashed words (Gopher repetition signals), vectorised.

Words are mapped to 64-bit ids (Python's string hash, cached on the string objects, so it is
nearly free for words coming out of the tokenizer cache); an n-gram id is a polynomial
combination of its word ids, built incrementally for n = 2, 3, ... with numpy. Ids never leave
the process, so the per-process hash seed does not affect any result (only a 64-bit collision
could, which is negligible). An (n+1)-gram can only repeat where its n-gram prefix repeats, so
after each size only the positions of repeated n-grams are carried on: the cost falls quickly
with n.

Semantics follow datatrove's ``gopher_repetition_filter.py`` exactly:

- top n-gram: the most frequent n-gram (ties: the one seen first) times the length of its
  space-joined text;
- duplicated n-grams: a left-to-right walk that adds the characters of an n-gram already seen and
  then jumps over it (n positions), otherwise remembers it and moves one word on; computed on the
  positions of repeated n-grams only.

One documented difference: datatrove keys the duplicate walk by the n-gram's words joined
*without* a separator, so two different word sequences with the same concatenation (``"ab c"``
and ``"a bc"``) count as the same n-gram there and as different ones here.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable

import numpy as np

_MULT = np.uint64(0x9E3779B97F4A7C15)


def word_ids(words: list[str]) -> np.ndarray:
    """Per-process 64-bit ids of the words (``hash(word)`` as ``uint64``)."""
    return np.fromiter(map(hash, words), dtype=np.int64, count=len(words)).view(np.uint64)


def word_lengths_cumsum(words: list[str]) -> np.ndarray:
    """``c[i] = sum(len(w) for w in words[:i])`` as int64, length ``len(words) + 1``."""
    out = np.zeros(len(words) + 1, dtype=np.int64)
    if words:
        np.cumsum(np.fromiter(map(len, words), dtype=np.int64, count=len(words)), out=out[1:])
    return out


def ngram_repetition(
    words: list[str] | None,
    top_sizes: Iterable[int],
    dup_sizes: Iterable[int],
    ids: np.ndarray | None = None,
    lengths: np.ndarray | None = None,
    stop: Callable[[str, int, int], bool] | None = None,
) -> tuple[dict[int, int], dict[int, int]]:
    """Top n-gram characters (``count * len(" ".join(gram))``) for each n in ``top_sizes`` and
    duplicated n-gram characters for each n in ``dup_sizes``.

    ``ids`` (64-bit keys, equal for equal words) and ``lengths`` (word lengths) may be given when
    already known (see :mod:`thresher.text.vocab`); they are computed from ``words`` otherwise.
    ``words`` may be ``None`` when both are given.

    ``stop(kind, n, chars)`` (``kind`` is ``"top"`` or ``"dup"``), when given, is called after each
    value in increasing ``n``; when it returns true the computation ends there and the sizes not
    computed yet are absent from both results (a filter that stops at its first failing rule).
    A size with no n-gram (fewer than n words) is absent from the top result (datatrove skips the
    rule) and 0 in the duplicate result.
    """
    top_sizes, dup_sizes = set(top_sizes), set(dup_sizes)
    top: dict[int, int] = {}
    dup: dict[int, int] = {n: 0 for n in dup_sizes}
    if not top_sizes and not dup_sizes:
        return top, dup
    max_n = max(top_sizes | dup_sizes)
    if words is None:
        if ids is None or lengths is None:
            raise ValueError("ngram_repetition needs the words, or both their ids and their lengths")
        n_words = len(ids)
    else:
        n_words = len(words)
    if ids is None:
        ids = word_ids(words)
    if lengths is None:
        cum = word_lengths_cumsum(words)
    else:
        cum = np.zeros(n_words + 1, dtype=np.int64)
        np.cumsum(lengths, out=cum[1:])
    pos = np.arange(n_words)  # start positions still carried (their (n-1)-gram repeats)
    grams = ids
    for n in range(1, max_n + 1):
        m = n_words - n + 1
        if m <= 0:
            break
        if n > 1:
            valid = pos < m
            pos = pos[valid]
            with np.errstate(over="ignore"):
                grams = grams[valid] * _MULT + ids[pos + n - 1]
        if n not in top_sizes and n not in dup_sizes and n > 1:
            continue
        if len(pos) == 0:  # every n-gram occurs once: the top one is the first
            if n in top_sizes:
                top[n] = int(cum[n] - cum[0]) + n - 1
                if stop is not None and stop("top", n, top[n]):
                    return top, _computed(dup, n)
            if n in dup_sizes and stop is not None and stop("dup", n, 0):
                return top, _computed(dup, n)
            continue
        if n == 1 and n not in top_sizes and n not in dup_sizes:
            continue
        first_idx, inverse, counts = _unique(grams)
        if n in top_sizes:
            best = int(counts.max())
            at = int(pos[first_idx[counts == best]].min()) if best > 1 else 0
            top[n] = best * (int(cum[at + n] - cum[at]) + n - 1)
            if stop is not None and stop("top", n, top[n]):
                return top, _computed(dup, n)
        repeated = counts[inverse] > 1
        if n in dup_sizes:
            first_pos = pos[first_idx[inverse]]
            later = repeated & (first_pos != pos)
            dup[n] = _walk(pos[later], inverse[later], first_pos[later], cum, n)
            if stop is not None and stop("dup", n, dup[n]):
                return top, _computed(dup, n)
        pos = pos[repeated]
        grams = grams[repeated]
    return top, dup


def _computed(dup: dict[int, int], n: int) -> dict[int, int]:
    """The duplicate results of sizes up to ``n`` (those computed before stopping)."""
    return {k: v for k, v in dup.items() if k <= n}


def _unique(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(keys, return_index, return_inverse, return_counts)`` without the keys, on an
    unstable sort (faster): first index = smallest index of each group."""
    order = np.argsort(keys)
    ordered = keys[order]
    starts = np.empty(len(keys), dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    group_starts = np.flatnonzero(starts)
    first_idx = np.minimum.reduceat(order, group_starts)
    counts = np.diff(np.append(group_starts, len(keys)))
    inverse = np.empty(len(keys), dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    return first_idx, inverse, counts


def _walk(cand: np.ndarray, keys: np.ndarray, firsts: np.ndarray, cum: np.ndarray, n: int) -> int:
    """datatrove's skip-ahead duplicate walk, visiting only the later occurrences of repeated n-grams.

    ``cand``: positions (ascending) whose n-gram occurred before; ``keys``: their n-gram ids;
    ``firsts``: the position of each one's first occurrence. After a duplicate at ``c`` the walk
    resumes at the first candidate at or after ``c + n`` (found for all candidates at once with
    ``searchsorted``), so candidates it jumps over cost nothing.
    """
    if len(cand) == 0:
        return 0
    resume = np.searchsorted(cand, cand + n).tolist()  # next candidate index after a jump
    chars = (cum[cand + n] - cum[cand]).tolist()
    cand_l, keys_l, firsts_l = cand.tolist(), keys.tolist(), firsts.tolist()
    repeated = 0
    skip_starts: list[int] = []  # skipped ranges [s, s + n - 1), in order
    added: set[int] = set()  # n-gram ids remembered at later occurrences
    i, m = 0, len(cand_l)
    while i < m:
        key = keys_l[i]
        if key in added:
            seen = True
        elif skip_starts:
            # the first occurrence was remembered unless the walk jumped over it
            f = firsts_l[i]
            k = bisect_right(skip_starts, f) - 1
            seen = k < 0 or f >= skip_starts[k] + n - 1
        else:
            seen = True
        if seen:
            repeated += chars[i]
            if n > 1:
                skip_starts.append(cand_l[i] + 1)
            i = resume[i]
        else:
            added.add(key)
            i += 1
    return repeated


def find_duplicates(items: list[str]) -> tuple[int, int]:
    """Number of items equal to an earlier one, and their total length (datatrove semantics).

    Every occurrence after the first of a distinct item is a duplicate, so both figures are the
    totals over all items minus the totals over the distinct ones.
    """
    distinct = set(items)
    return len(items) - len(distinct), sum(map(len, items)) - sum(map(len, distinct))
