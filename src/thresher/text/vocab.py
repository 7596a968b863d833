"""Per-process token vocabulary: small integer ids for words, and per-id features as numpy arrays.

Steps that need numbers per word (lengths, flags, n-gram keys) look a document's words up once
(``doc.cache["word_ids"]``) and then index feature arrays with numpy, instead of calling Python
functions per word. Ids are only meaningful inside one process and one vocabulary *generation*:
the vocabulary is emptied when it grows past :data:`MAX_TOKENS`, and cached ids of an older
generation are recomputed, so no result depends on what other documents were seen before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from thresher.document import Document

#: vocabulary size at which it is emptied (between documents).
MAX_TOKENS = 2_000_000


class _Ids(dict):
    def __init__(self, tokens: list[str]) -> None:
        super().__init__()
        self._tokens = tokens

    def __missing__(self, token: str) -> int:
        i = len(self._tokens)
        self._tokens.append(token)
        self[token] = i
        return i


class Vocabulary:
    """token -> id, plus lazily extended per-id feature arrays."""

    def __init__(self) -> None:
        self.generation = 0
        self._reset()

    def _reset(self) -> None:
        self.tokens: list[str] = []
        self._ids = _Ids(self.tokens)
        self._features: dict[str, tuple[np.ndarray, int]] = {}
        self.generation += 1

    def ids(self, words: list[str]) -> np.ndarray:
        """The ids of ``words`` (int64). May empty the vocabulary first when it is full."""
        if len(self.tokens) > MAX_TOKENS:
            self._reset()
        return np.fromiter(map(self._ids.__getitem__, words), dtype=np.int64, count=len(words))

    def feature(self, name: str, fn: Callable[[str], int]) -> np.ndarray:
        """Array ``a`` with ``a[id] = fn(token)`` for every id so far (int64), extended on demand.

        Values live in a buffer that grows by doubling (so extending costs amortised O(new
        tokens), not a copy of the whole array per document); the result is a view of its first
        ``len(tokens)`` entries, and entries once written never change.
        """
        buf, have = self._features.get(name, (None, 0))
        n = len(self.tokens)
        if have < n:
            new = np.fromiter(map(fn, self.tokens[have:n]), dtype=np.int64, count=n - have)
            if buf is None or len(buf) < n:
                grown = np.empty(max(n, 2 * (0 if buf is None else len(buf)), 1024), dtype=np.int64)
                grown[:have] = buf[:have] if buf is not None else grown[:0]
                buf = grown
            buf[have:n] = new
            self._features[name] = (buf, n)
        if buf is None:
            return np.empty(0, dtype=np.int64)
        return buf[:n]


_VOCAB = Vocabulary()


def vocabulary() -> Vocabulary:
    """The process-wide vocabulary."""
    return _VOCAB


def doc_word_ids(doc: Document, words: list[str]) -> np.ndarray:
    """Ids of the document's words (``words`` must be ``thresher.text.words.words(doc)``), cached."""
    cached = doc.cache.get("word_ids")
    vocab = _VOCAB
    if cached is not None and cached[0] == vocab.generation:
        return cached[1]
    ids = vocab.ids(words)
    doc.cache["word_ids"] = (vocab.generation, ids)
    return ids


def mix64(ids: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser of the ids: well-spread 64-bit keys for n-gram hashing."""
    x = ids.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return x
