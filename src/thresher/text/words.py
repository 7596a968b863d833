"""Word splitting shared by every step: split once per document, cache in ``doc.cache``.

Stable API (other steps, e.g. MinHash shingles, rely on it):

``split_words(text, language="en") -> list[str]``
    The words of ``text`` exactly as datatrove's ``split_into_words(text, "en")`` returns them
    (spaCy's blank English tokenizer, whitespace tokens dropped), e.g.
    ``split_words("I don't know (really).")`` -> ``["I", "do", "n't", "know", "(", "really", ")", "."]``.
    Implemented without spaCy by :mod:`thresher.text.spacy_en`; measured identical to spaCy 3.8 on
    every page of the shared web corpus. Only ``"en"`` is supported; other languages raise
    :class:`ValueError`.

``words(doc) -> list[str]``
    ``split_words(doc.text)`` computed once per document and cached under ``doc.cache["words"]``
    (the cache is cleared when ``doc.text`` is assigned, so a step that edits the text, such as the
    C4 line filter, makes the next step split the new text).

``word_ids(doc) -> numpy.ndarray``
    Per-process integer ids (``int64``) of the document's words, one per word of ``words(doc)``;
    equal words have equal ids. This is the fast path: the text is split on whitespace and each
    chunk is looked up once in the chunk table of :mod:`thresher.text.vocab` (a new chunk is
    tokenized once per process), then the word ids are gathered with numpy, without building the
    word strings. Per-word numbers come from per-token feature arrays indexed by these ids:
    ``vocabulary().feature(name, fn)[word_ids(doc)]`` gives ``fn(word)`` for every word (``fn``
    runs once per distinct token), ``vocabulary().tokens[i]`` is the word of id ``i``. Ids are only
    valid within a vocabulary generation (the vocabulary is emptied between documents when it is
    full), so never keep them across documents; the cache under ``doc.cache["word_ids"]`` records
    its generation and is recomputed after a reset.

``word_count(doc) -> int``
    ``len(words(doc))``, counted from the chunk table without building the list (cached under
    ``doc.cache["word_count"]``).

``word_hashes(doc) -> numpy.ndarray``
    64-bit xxhash (xxh3) of each word (UTF-8; lone surrogates as ``surrogatepass``), as ``uint64``,
    cached under ``doc.cache["word_hashes"]``; hashed once per distinct token (a feature of the
    vocabulary), then gathered per word. Stable across processes and runs, unlike ``word_ids``.

``clear_caches()``
    Empty the tokenizer and vocabulary caches (for benchmarks that must start cold).

``count_sentences(text) -> int``
    Sentences in ``text`` as spaCy's rule-based ``sentencizer`` counts them (what datatrove's C4
    filter counts per line).

The returned lists are shared through the cache: treat them as read-only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from thresher.text.spacy_en import english_tokenizer
from thresher.text.vocab import doc_chunk_ids, doc_token_ids, vocabulary

if TYPE_CHECKING:
    from thresher.document import Document

__all__ = [
    "split_words",
    "words",
    "word_ids",
    "word_count",
    "word_hashes",
    "count_sentences",
    "SUPPORTED_LANGUAGES",
]

#: languages :func:`split_words` reproduces datatrove for.
SUPPORTED_LANGUAGES = ("en",)


def split_words(text: str, language: str = "en") -> list[str]:
    """The words of ``text`` as datatrove's ``split_into_words(text, language)`` (English only)."""
    if language != "en":
        raise ValueError(
            f"split_words supports language 'en' only (got {language!r}); "
            "use language='en' or split the text yourself"
        )
    return english_tokenizer().words(text)


def words(doc: Document) -> list[str]:
    """The document's words (:func:`split_words` of ``doc.text``), computed once and cached."""
    cached = doc.cache.get("words")
    if cached is None:
        ids = doc_token_ids(doc)
        cached = list(map(vocabulary().tokens.__getitem__, ids.tolist()))
        doc.cache["words"] = cached
    return cached


def word_ids(doc: Document) -> np.ndarray:
    """Per-process integer ids (``int64``) of the document's words, cached; see the module notes."""
    return doc_token_ids(doc)


def word_count(doc: Document) -> int:
    """Number of words of the document (``len(words(doc))``), cached."""
    cached = doc.cache.get("words")
    if cached is not None:
        return len(cached)
    count = doc.cache.get("word_count")
    if count is None:
        vocab = vocabulary()
        count = doc.cache["word_count"] = int(vocab.chunk_token_counts(doc_chunk_ids(doc)).sum())
    return count


def word_hashes(doc: Document) -> np.ndarray:
    """xxh3-64 hash of every word of the document as a ``uint64`` array (cached)."""
    cached = doc.cache.get("word_hashes")
    if cached is None:
        ids = doc_token_ids(doc)
        cached = vocabulary().feature("xxh3_64", _signed_xxh3)[ids].view(np.uint64)
        doc.cache["word_hashes"] = cached
    return cached


def _signed_xxh3(word: str) -> int:
    """xxh3-64 of ``word`` as a signed 64-bit integer (same bits as the unsigned hash)."""
    h = int(hash_strings([word])[0])
    return h - (1 << 64) if h >= 1 << 63 else h


def hash_strings(items: list[str]) -> np.ndarray:
    """xxh3-64 of each string (UTF-8, lone surrogates escaped) as a ``uint64`` array."""
    import xxhash

    h = xxhash.xxh3_64_intdigest
    out = np.empty(len(items), dtype=np.uint64)
    for i, s in enumerate(items):
        try:
            out[i] = h(s)
        except UnicodeEncodeError:
            out[i] = h(s.encode("utf-8", "surrogatepass"))
    return out


def clear_caches() -> None:
    """Empty the process-wide tokenizer and vocabulary caches (results never depend on them; for
    benchmarks that must include the cost of a cold start)."""
    tokenizer = english_tokenizer()
    tokenizer._cache.clear()
    tokenizer._chunk_classes.clear()
    tokenizer._token_class.clear()
    vocabulary()._reset()


def count_sentences(text: str) -> int:
    """Sentences in ``text`` by spaCy's rule-based sentencizer (at least 1)."""
    return english_tokenizer().count_sentences(text)
