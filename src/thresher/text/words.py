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

``word_count(doc) -> int``
    ``len(words(doc))``, from the cached words when present, else counted without building the
    list (cached under ``doc.cache["word_count"]``).

``word_hashes(doc) -> numpy.ndarray``
    64-bit xxhash (xxh3) of each word, as ``uint64``, cached under ``doc.cache["word_hashes"]``; the
    input to vectorised n-gram counting (:mod:`thresher.text.ngrams`).

``count_sentences(text) -> int``
    Sentences in ``text`` as spaCy's rule-based ``sentencizer`` counts them (what datatrove's C4
    filter counts per line).

The returned lists are shared through the cache: treat them as read-only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from thresher.text.spacy_en import english_tokenizer

if TYPE_CHECKING:
    from thresher.document import Document

__all__ = ["split_words", "words", "word_count", "word_hashes", "count_sentences", "SUPPORTED_LANGUAGES"]

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
        cached = english_tokenizer().words(doc.text)
        doc.cache["words"] = cached
    return cached


def word_count(doc: Document) -> int:
    """Number of words of the document (``len(words(doc))``), cached."""
    cached = doc.cache.get("words")
    if cached is not None:
        return len(cached)
    count = doc.cache.get("word_count")
    if count is None:
        count = doc.cache["word_count"] = english_tokenizer().count_words(doc.text)
    return count


def word_hashes(doc: Document) -> np.ndarray:
    """xxh3-64 hash of every word of the document as a ``uint64`` array (cached)."""
    cached = doc.cache.get("word_hashes")
    if cached is None:
        cached = hash_strings(words(doc))
        doc.cache["word_hashes"] = cached
    return cached


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


def count_sentences(text: str) -> int:
    """Sentences in ``text`` by spaCy's rule-based sentencizer (at least 1)."""
    return english_tokenizer().count_sentences(text)
