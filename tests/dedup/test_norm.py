"""The code-point-array normalisations equal plain per-character references (regex + unicodedata)."""

from __future__ import annotations

import gzip
import json
import random
import re
import unicodedata
from pathlib import Path

from thresher.dedup._norm import normalize_exact, normalize_lines, simplify_text

_DT_PUNCT = "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»" + "".join(
    chr(c) for lo, hi in ((0, 9), (11, 13), (13, 32), (127, 160)) for c in range(lo, hi)
)
_DT_TRANS = str.maketrans(_DT_PUNCT, " " * len(_DT_PUNCT))


def ref_simplify(text: str) -> str:
    """datatrove's simplify_text steps, one after the other, on str."""
    text = re.sub(r"\d+(?:[.,،٫⎖⎗⎘]\d+)?", "0", text.lower())
    text = unicodedata.normalize("NFD", text.translate(_DT_TRANS))
    return " ".join("".join(c for c in text if unicodedata.category(c) != "Mn").split())


def ref_exact(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join("".join(" " if unicodedata.category(c)[0] == "P" else c for c in text).split())


def ref_line(line: str) -> str:  # CCNet normalize_for_dedup
    line = re.sub(r"\d", "0", line.strip().lower())
    return "".join(c for c in line if unicodedata.category(c)[0] not in "PSC")


# digits of several scripts (１ is also in datatrove's punctuation), separators, Unicode spaces,
# combining marks, characters whose lower case or decomposition changes length, controls, a surrogate
ALPHABET = list(
    "aZ09 .,،٫⎖⎗⎘-_\t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000İıßẞÉé\u0301\u0308ñ٣١۴१１２¼²③«»“”’…—–|€$©®™🙂"
    "中文日本語한국어ǅﬁ\x00\x07\x7f\x9f\ud800"
)


def fuzz(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30))) for _ in range(n)]


def test_simplify_text_numbers_pair_left_to_right() -> None:
    assert simplify_text("1.2.3 and 4,5 6..7 ٣٫١ x１２y") == "0 0 and 0 0 0 0 x0y"
    assert simplify_text("v1.2.3.4") == "v0 0"
    assert simplify_text("İstanbul — Ñandú") == "istanbul nandu"


def test_fast_normalisations_equal_references_on_fuzzed_strings() -> None:
    for text in fuzz(3000):
        assert simplify_text(text) == ref_simplify(text), repr(text)
        assert normalize_exact(text) == ref_exact(text), repr(text)
        lines = text.split("\n")
        assert normalize_lines(lines) == [ref_line(x) for x in lines], repr(text)


def test_simplify_text_numbers_and_marks_equal_the_reference_on_dense_strings() -> None:
    """Chains of numbers and separators (pairing left to right), marks in NFD and precomposed text."""
    rng = random.Random(7)
    alphabet = list("0123456789" + "0123456789" + ".,،٫⎖⎗⎘" + " a١٣１\u0301é\u0323ṩ-\t")
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert simplify_text(text) == ref_simplify(text), repr(text)
    assert simplify_text("192.168.0.1, 3.14 and 1,000,000") == "0 0 0 and 0 0"
    assert simplify_text("e\u0301te\u0301 ete\u0301") == simplify_text("été eté") == "ete ete"


def test_simplify_text_per_character_nfd_shortcut_and_its_fallback() -> None:
    """Accents, marks only, singletons (Å, Ω), and what needs the whole-text NFD: Hangul syllables,
    a spacing mark with a combining class (U+1D165), marks to reorder."""
    for text in [
        "Ça déjà vu, naïve Ångström \u212b \u2126 x\u0301\u0323y",
        "\u0301\u0308 alone",
        "한국어 café",
        "a\U0001d165\u0301b\U0001d165c e\u0323\u0301 \u1e69",
        "\u2000\u2001 spaces\u3000here",
    ]:
        assert simplify_text(text) == ref_simplify(text), repr(text)


def test_fast_normalisations_equal_references_on_real_pages(webcorpus_path: Path) -> None:
    with gzip.open(webcorpus_path, "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for _, line in zip(range(400), fh)]
    for text in texts:
        assert simplify_text(text) == ref_simplify(text)
        assert normalize_exact(text) == ref_exact(text)
        lines = text.split("\n")
        assert normalize_lines(lines) == [ref_line(x) for x in lines]
