"""The per-process vocabulary: stable ids within a generation, recomputed after a reset."""

from __future__ import annotations

import random

from thresher.document import Document
from thresher.text import vocab
from thresher.text.words import words


def test_ids_features_and_generation_reset(monkeypatch) -> None:
    v = vocab.Vocabulary()
    ids = v.ids(["a", "bb", "a", "ccc"])
    assert ids.tolist()[0] == ids.tolist()[2] != ids.tolist()[1]
    assert v.feature("length", len)[ids].tolist() == [1, 2, 1, 3]
    monkeypatch.setattr(vocab, "MAX_TOKENS", 2)
    gen = v.generation
    again = v.ids(["ccc"])
    assert v.generation == gen + 1 and again.tolist() == [0]
    assert v.feature("length", len)[again].tolist() == [3]


def test_doc_ids_recomputed_for_a_new_generation(monkeypatch) -> None:
    monkeypatch.setattr(vocab, "_VOCAB", vocab.Vocabulary())
    doc = Document("d", "one two one")
    first = vocab.doc_word_ids(doc, words(doc))
    assert vocab.doc_word_ids(doc, words(doc)) is first
    vocab._VOCAB._reset()
    second = vocab.doc_word_ids(doc, words(doc))
    assert second is not first and second[0] == second[2]


def test_feature_grows_across_many_extensions() -> None:
    v = vocab.Vocabulary()
    assert v.feature("length", len).tolist() == []
    rng = random.Random(3)
    views = []
    for _ in range(60):  # enough new tokens to outgrow the feature buffer several times
        tokens = ["w" * rng.randint(1, 9) + str(rng.randint(0, 5000)) for _ in range(rng.randint(0, 400))]
        ids = v.ids(tokens)
        lengths = v.feature("length", len)
        assert lengths[ids].tolist() == [len(t) for t in tokens]
        assert lengths.tolist() == [len(t) for t in v.tokens]
        views.append(lengths)
    # arrays handed out earlier keep their values
    assert all(a.tolist() == [len(t) for t in v.tokens[: len(a)]] for a in views)


def test_chunk_table_gathers_the_words_of_a_document(monkeypatch) -> None:
    from thresher.text.words import split_words

    monkeypatch.setattr(vocab, "_VOCAB", vocab.Vocabulary())
    text = "Hello, world! (hello) world's well-known e.g. " + "x" * 300 + " x"
    doc = Document("d", text)
    ids = vocab.doc_token_ids(doc)
    assert [vocab._VOCAB.tokens[i] for i in ids.tolist()] == split_words(text)
    chunks = vocab.doc_chunk_ids(doc)
    assert len(chunks) == len(text.split())
    counts = vocab._VOCAB.chunk_token_counts(chunks)
    assert counts.tolist() == [len(split_words(c)) for c in text.split()]
    # the long chunk gets an id but is not kept as a key of the table
    assert ("x" * 300) not in vocab._VOCAB._chunks and "x" in vocab._VOCAB._chunks


def test_chunk_table_resets_between_documents(monkeypatch) -> None:
    monkeypatch.setattr(vocab, "_VOCAB", vocab.Vocabulary())
    monkeypatch.setattr(vocab, "MAX_CHUNKS", 3)
    first = Document("a", "one two three four five")
    ids_first = vocab.doc_token_ids(first)
    gen = vocab._VOCAB.generation
    second = Document("b", "five six")
    ids_second = vocab.doc_token_ids(second)
    assert vocab._VOCAB.generation == gen + 1  # the table was full: emptied before this document
    assert [vocab._VOCAB.tokens[i] for i in ids_second.tolist()] == ["five", "six"]
    again = vocab.doc_token_ids(first)  # cached ids of the old generation are recomputed
    assert again is not ids_first and [vocab._VOCAB.tokens[i] for i in again.tolist()] == [
        "one", "two", "three", "four", "five",
    ]
