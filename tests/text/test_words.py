"""The English word splitter: spaCy's token boundaries, without spaCy, on hand-written cases."""

from __future__ import annotations

import time

import pytest
import xxhash

from thresher.document import Document
from thresher.text.spacy_en import english_tokenizer
from thresher.text.words import count_sentences, split_words, word_hashes, words

# (text, words as spacy.blank("en") + datatrove's strip_strings give them)
CASES = [
    ("I don't know (really).", ["I", "do", "n't", "know", "(", "really", ")", "."]),
    ("e.g. U.S. a.m. etc.", ["e.g.", "U.S.", "a.m.", "etc", "."]),
    ("See https://x.com/a?b=1. Now", ["See", "https://x.com/a?b=1", ".", "Now"]),
    ("10km $5 C'mon.", ["10", "km", "$", "5", "C'm", "on", "."]),
    ("word/e.g. and x):*", ["word", "/", "e.g.", "and", "x", "):", "*"]),
    ("well-known, state-of-the-art...", ["well", "-", "known", ",", "state", "-", "of", "-", "the", "-", "art", "..."]),
    ("\"Quoted\" 'single' dogs' it's", ['"', "Quoted", '"', "'", "single", "'", "dogs", "'", "it", "'s"]),
    ("tabs\tand\nnew  lines\u00a0nbsp", ["tabs", "and", "new", "lines", "nbsp"]),
    ("Hello.World end.Of 3.5 A. AB.", ["Hello", ".", "World", "end", ".", "Of", "3.5", "A.", "AB", "."]),
    ("", []),
    ("   \n\t ", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_split_words_matches_spacy_boundaries(text: str, expected: list[str]) -> None:
    assert split_words(text) == expected


def test_words_are_cached_per_document_and_reset_on_new_text() -> None:
    doc = Document("d", "One two three.")
    first = words(doc)
    assert first == ["One", "two", "three", "."]
    assert words(doc) is first
    hashes = word_hashes(doc)
    assert hashes.dtype.name == "uint64" and len(hashes) == 4 and hashes[0] != hashes[1]
    doc.text = "Four five"
    assert words(doc) == ["Four", "five"]


def test_split_words_rejects_other_languages() -> None:
    with pytest.raises(ValueError, match="'en' only"):
        split_words("Guten Tag", language="de")


def test_count_sentences_like_the_spacy_sentencizer() -> None:
    assert count_sentences("One sentence here") == 1
    assert count_sentences("First one. Second one! Third?") == 3
    assert count_sentences("Ends with dots... and goes on.") == 1  # "..." is not a sentence mark
    assert count_sentences("Quote.\" Then more.") == 2  # the closing quote stays in the sentence


def test_bad_input_never_raises() -> None:
    for text in ["\ud800 lone \udfff surrogates", "😀😀 混合 スクリプト mixed", "\x00\x01\x02", "####", "…" * 50]:
        assert isinstance(split_words(text), list)
    assert split_words("a\ud800b") == ["a\ud800b"]


@pytest.mark.parametrize(
    "chunk",
    ["(" * 20_000, ")" * 20_000, "." * 50_000, "a." * 20_000, "-a" * 20_000, "'" * 20_000, "a:" * 20_000,
     "http://" + "a" * 30_000 + ".com", "1" + "+1" * 20_000, ":" * 20_000 + "a"],
)
def test_adversarial_chunks_stay_linear(chunk: str) -> None:
    tok = english_tokenizer()
    start = time.perf_counter()
    out = tok._compute(chunk)  # uncached, one whitespace-free chunk
    elapsed = time.perf_counter() - start
    assert "".join(out) == chunk  # tokens always cover the chunk
    assert elapsed < 20  # a quadratic scan of these would take minutes; loose bound for a loaded machine


def test_single_long_line_of_text() -> None:
    text = "word " * 200_000 + "end."
    assert len(split_words(text)) == 200_002


def test_fast_path_agrees_with_the_general_algorithm() -> None:
    """The regex-free fast path must give exactly what spaCy's affix loop gives (random chunks)."""
    import random

    tok = english_tokenizer()
    rng = random.Random(1)
    alphabet = list("(\"'“‘,;:!?)\"'”’.-/aBzQ") + ["don't", "e.g", "U.S", "and", "n't", "'s", "Mr", "a.m", "ca"]
    fast = 0
    for _ in range(20_000):
        chunk = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7)))
        quick = tok._fast_affixes(chunk)
        if quick is None:
            continue
        fast += 1
        assert tok._rematch(quick) == tok._rematch(tok._tokenize_chunk(chunk)), chunk
    assert fast > 2_000


def test_extended_fast_paths_agree_with_the_general_algorithm() -> None:
    """Numbers, letters of other scripts, dashes between words and possessives ("Bryan's") take
    regex-free paths; they must give exactly what spaCy's affix loop gives."""
    import random

    tok = english_tokenizer()
    rng = random.Random(11)
    alphabet = list("(\"'“‘,;:!?)\"'”’.-/aBzQ09–—~é") + [
        "don't", "e.g", "U.S", "n't", "'s", "’S", "'S", "Mr", "a.m", "12", "3.5", "km", "Café", "ß", "Let",
    ]
    fast = 0
    for _ in range(40_000):
        chunk = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7)))
        general = tuple(tok._rematch(tok._tokenize_chunk(chunk)))
        assert tok._compute(chunk) == general, chunk
        quick = tok._fast_affixes(chunk)
        if quick is not None:
            fast += 1
            assert tuple(tok._rematch(quick)) == general, chunk
    assert fast > 5_000
    for chunk, tokens in [
        ("Bryan’s", ("Bryan", "’s")),
        ("(one's)", ("(", "one", "'s", ")")),
        ("16:50:11,", ("16:50:11", ",")),
        ("worry—you", ("worry", "—", "you")),
        ("COVID19.", ("COVID19", ".")),
        ("10km", ("10", "km")),
        ("word,", ("word", ",")),
        ("AB.", ("AB", ".")),
    ]:
        assert tok._compute(chunk) == tokens


def test_affix_memo_gives_the_unmemoised_answer() -> None:
    """Prefix and suffix searches are memoised on the few characters they depend on."""
    import random

    from thresher.text.spacy_en import SpacyEnglishTokenizer

    tok = english_tokenizer()
    plain = SpacyEnglishTokenizer.__new__(SpacyEnglishTokenizer)
    plain.__dict__.update(tok.__dict__)
    plain._prefix_key_len = plain._suffix_key_len = 0  # memo off: direct regex searches
    assert tok._prefix_key_len > 0 and tok._suffix_key_len > 0
    rng = random.Random(5)
    alphabet = list("$£+-.…'’sS°Fc9aZ(),:%#_") + ["km", "US$", "..", "mph", "’s"]
    for _ in range(20_000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9)))
        start = rng.randint(0, len(s) - 1)
        end = rng.randint(start + 1, len(s))
        assert tok._find_prefix(s, start, end) == plain._find_prefix(s, start, end), (s, start, end)
        assert tok._find_suffix(s, start, end) == plain._find_suffix(s, start, end), (s, start, end)


def test_word_ids_count_and_hashes_come_from_the_chunk_table() -> None:
    from thresher.text.words import word_count, word_ids

    text = "Bryan’s dog (and   cat) met well-known\tfriends. Bryan’s dog again!"
    doc = Document("d", text)
    assert word_count(doc) == len(split_words(text))
    ids = word_ids(doc)
    assert len(ids) == len(split_words(text))
    assert ids[0] == ids[13] and ids[1] == ids[14]  # the same word, the same id
    assert words(doc) == split_words(text)
    expected = [xxhash.xxh3_64_intdigest(w) for w in split_words(text)]
    assert word_hashes(doc).tolist() == expected

