"""Per-process token vocabulary: small integer ids for words and chunks, per-id features as numpy arrays.

A document's words are found in two lookups-free-of-Python-work steps: its text is split on
whitespace, each *chunk* (whitespace-free piece) is looked up once in a chunk table (chunk -> chunk
id; a new chunk is tokenized by :mod:`thresher.text.spacy_en` and its tokens entered in the token
table), and the word ids of the document are gathered with numpy from the chunk table's flat
token-id array (CSR layout: chunk id -> start and count). Steps that need numbers per word
(lengths, flags, n-gram keys, stop-word bits) then index per-token feature arrays
(:meth:`Vocabulary.feature`) instead of calling Python functions per word.

Ids are only meaningful inside one process and one vocabulary *generation*: the vocabulary is
emptied (between documents) when it grows past :data:`MAX_TOKENS` tokens or :data:`MAX_CHUNKS`
chunks, and cached ids of an older generation are recomputed, so no result depends on what other
documents were seen before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from thresher.document import Document

#: vocabulary size (tokens) at which it is emptied (between documents).
MAX_TOKENS = 2_000_000
#: chunk-table size at which the vocabulary is emptied (between documents).
MAX_CHUNKS = 2_000_000
#: chunks longer than this are tokenized at every occurrence and not kept as table keys.
MAX_CHUNK_KEY = 256

_EMPTY = np.empty(0, dtype=np.int64)


class _Ids(dict):
    def __init__(self, tokens: list[str]) -> None:
        super().__init__()
        self._tokens = tokens

    def __missing__(self, token: str) -> int:
        i = len(self._tokens)
        self._tokens.append(token)
        self[token] = i
        return i


class _ChunkIds(dict):
    """chunk -> chunk id; a new chunk is tokenized and its token ids appended to the flat array."""

    def __init__(self, vocab: Vocabulary) -> None:
        super().__init__()
        self._vocab = vocab
        # bound once: these lists live as long as this table (a reset makes new ones of both)
        self._token_id = vocab._ids.__getitem__
        self._start = vocab._chunk_start
        self._len = vocab._chunk_len
        self._flat = vocab._flat

    def __missing__(self, chunk: str) -> int:
        tokens = self._vocab._tokenize(chunk)
        flat = self._flat
        cid = len(self._start)
        self._start.append(len(flat))
        if len(tokens) == 1:
            flat.append(self._token_id(tokens[0]))
            self._len.append(1)
        else:
            flat.extend(map(self._token_id, tokens))
            self._len.append(len(tokens))
        if len(chunk) <= MAX_CHUNK_KEY:
            self[chunk] = cid
        return cid


class _Growing:
    """An int64 array filled from a Python list's new tail on demand (buffer grows by doubling)."""

    __slots__ = ("buf", "n")

    def __init__(self) -> None:
        self.buf = _EMPTY
        self.n = 0

    def sync(self, items: list[int]) -> np.ndarray:
        n = len(items)
        if self.n < n:
            if len(self.buf) < n:
                grown = np.empty(max(n, 2 * len(self.buf), 1024), dtype=np.int64)
                grown[: self.n] = self.buf[: self.n]
                self.buf = grown
            self.buf[self.n : n] = items[self.n : n]
            self.n = n
        return self.buf[:n]


class Vocabulary:
    """token -> id and chunk -> id, plus lazily extended per-token feature arrays."""

    def __init__(self) -> None:
        self.generation = 0
        self._tokenize: Callable[[str], tuple[str, ...]] | None = None
        self._reset()

    def _reset(self) -> None:
        self.tokens: list[str] = []
        self._ids = _Ids(self.tokens)
        self._features: dict[str, tuple[np.ndarray, int]] = {}
        self._chunk_start: list[int] = []
        self._chunk_len: list[int] = []
        self._flat: list[int] = []
        self._chunks = _ChunkIds(self)
        self._arrays = (_Growing(), _Growing(), _Growing())
        self.generation += 1

    def _maybe_reset(self) -> None:
        if len(self.tokens) > MAX_TOKENS or len(self._chunk_start) > MAX_CHUNKS:
            self._reset()

    def ids(self, words: list[str]) -> np.ndarray:
        """The ids of ``words`` (int64). May empty the vocabulary first when it is full."""
        self._maybe_reset()
        return np.fromiter(map(self._ids.__getitem__, words), dtype=np.int64, count=len(words))

    def chunk_ids(self, chunks: list[str], may_reset: bool = True) -> np.ndarray:
        """Chunk ids of whitespace-free ``chunks`` (int64). May empty the vocabulary first when full
        (unless ``may_reset`` is false: to look up more chunks of a document whose ids are held)."""
        if may_reset:
            self._maybe_reset()
        if self._tokenize is None:
            from thresher.text.spacy_en import english_tokenizer

            self._tokenize = english_tokenizer()._compute
        return np.fromiter(map(self._chunks.__getitem__, chunks), dtype=np.int64, count=len(chunks))

    def chunk_token_counts(self, chunk_ids: np.ndarray) -> np.ndarray:
        """Number of tokens (words) of each chunk id."""
        return self._arrays[1].sync(self._chunk_len)[chunk_ids]

    def chunk_tokens(self, chunk_ids: np.ndarray) -> np.ndarray:
        """Token ids of the chunks, concatenated in order (the words of the chunks' text)."""
        start_all = self._arrays[0].sync(self._chunk_start)
        len_all = self._arrays[1].sync(self._chunk_len)
        flat = self._arrays[2].sync(self._flat)
        counts = len_all[chunk_ids]
        starts = start_all[chunk_ids]
        total = int(counts.sum())
        if total == len(chunk_ids):  # one token per chunk (the common case)
            return flat[starts]
        ends = np.cumsum(counts)
        # position k of the output reads flat[starts[c] + k - (ends[c] - counts[c])] for its chunk c
        shift = np.repeat(starts - (ends - counts), counts)
        return flat[shift + np.arange(total)]

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


def doc_chunk_ids(doc: Document) -> np.ndarray:
    """Chunk ids of ``doc.text.split()`` in the current vocabulary generation, cached."""
    vocab = _VOCAB
    cached = doc.cache.get("chunk_ids")
    if cached is not None and cached[0] == vocab.generation:
        return cached[1]
    ids = vocab.chunk_ids(doc.text.split())
    doc.cache["chunk_ids"] = (vocab.generation, ids)
    return ids


def doc_token_ids(doc: Document) -> np.ndarray:
    """Token ids of the document's words (``thresher.text.words.words(doc)``), cached."""
    vocab = _VOCAB
    cached = doc.cache.get("word_ids")
    if cached is not None and cached[0] == vocab.generation:
        return cached[1]
    cids = doc_chunk_ids(doc)
    generation = vocab.generation  # doc_chunk_ids may have started a new one
    ids = vocab.chunk_tokens(cids)
    doc.cache["word_ids"] = (generation, ids)
    return ids


def doc_word_ids(doc: Document, words: list[str] | None = None) -> np.ndarray:
    """Ids of the document's words, cached (``words``, if given, must be
    ``thresher.text.words.words(doc)``; it is not needed)."""
    return doc_token_ids(doc)


def mix64(ids: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser of the ids: well-spread 64-bit keys for n-gram hashing."""
    x = ids.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return x
