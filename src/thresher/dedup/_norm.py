"""Text normalisation for deduplication keys (exact hashes, MinHash shingles, CCNet line hashes).

Three normalisations, each matching a published pipeline where parity matters:

- :func:`normalize_exact`: Unicode NFKC, case folding, punctuation to spaces, whitespace collapsed.
  Two documents with the same result are exact duplicates.
- :func:`simplify_text`: datatrove's ``simplify_text`` with its default ``TextNormConfig``
  (datatrove ``src/datatrove/utils/text.py``): lower case, numbers to ``0``, datatrove's punctuation
  set to spaces, whitespace collapsed, NFD with combining marks (``Mn``) removed. MinHash shingles
  are built from it so our signatures equal datatrove's ``MinhashDedupSignature`` ones.
- :func:`normalize_line`: CCNet's ``normalize_for_dedup`` (Wenzek et al. 2020,
  facebookresearch/cc_net ``cc_net/dedup.py``): strip, lower case, digits to ``0``, Unicode
  punctuation, symbols and control characters (``\\p{P}\\p{S}\\p{C}``) removed.

Unicode category classes are regex character classes built once per process (on first use) from
``unicodedata``; pure-ASCII text takes shorter ASCII-only patterns with the same result.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache, lru_cache

import numpy as np

# -- Unicode category classes ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def _categories() -> np.ndarray:
    """The two-letter Unicode category of every code point, as a ``(0x110000, 2)`` uint8 array."""
    cats = "".join(map(unicodedata.category, map(chr, range(sys.maxunicode + 1))))
    return np.frombuffer(cats.encode("ascii"), dtype=np.uint8).reshape(-1, 2)


@cache
def category_class(prefixes: tuple[str, ...]) -> str:
    """A regex character class (``[...]``) of every code point whose Unicode category starts with one
    of ``prefixes`` (``"P"`` or two letters such as ``"Mn"``), built once per process from ``unicodedata``."""
    cats = _categories()
    hit = np.zeros(len(cats), dtype=bool)
    for prefix in prefixes:
        sel = cats[:, 0] == ord(prefix[0])
        if len(prefix) > 1:
            sel &= cats[:, 1] == ord(prefix[1])
        hit |= sel
    edges = np.diff(np.concatenate([[0], hit.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    parts = [
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        for lo, hi in zip(starts.tolist(), ends.tolist())
    ]
    return "[" + "".join(parts) + "]"


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# -- datatrove simplify_text ----------------------------------------------------------------------

# datatrove's PUNCTUATION string (src/datatrove/utils/text.py) plus the C0/C1 control characters it
# appends (0-8, 11-12, 13-31, 127-159): each becomes a space. Listed here as data, for parity.
_DT_PUNCT = "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»" + "".join(
    chr(c) for lo, hi in ((0, 9), (11, 13), (13, 32), (127, 160)) for c in range(lo, hi)
)
# datatrove: regex r"\p{Nd}+([.,،٫⎖⎗⎘]{1}\p{Nd}+)?" -> "0". Python's re ``\d`` on str is \p{Nd}.
_DT_NUMBERS = re.compile(r"\d+(?:[.,،٫⎖⎗⎘]\d+)?")


def simplify_text(text: str) -> str:
    """datatrove's ``simplify_text`` with the default ``TextNormConfig`` (see module docstring)."""
    text = _DT_NUMBERS.sub("0", text.lower())
    if text.isascii():
        return " ".join(text.translate(_DT_PUNCT_ASCII).split())
    # punctuation to spaces, then NFD and combining marks removed, on UTF-32 code point arrays
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).copy()
    cps[_dt_punct_mask()[cps]] = 32
    text = unicodedata.normalize("NFD", cps.tobytes().decode("utf-32-le", "surrogatepass"))
    if not text.isascii():
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        text = cps[~_marks_mask()[cps]].tobytes().decode("utf-32-le", "surrogatepass")
    return " ".join(text.split())


_DT_PUNCT_ASCII = str.maketrans({c: " " for c in _DT_PUNCT if ord(c) < 128})


@lru_cache(maxsize=1)
def _dt_punct_mask() -> np.ndarray:
    mask = np.zeros(sys.maxunicode + 1, dtype=bool)
    mask[[ord(c) for c in _DT_PUNCT]] = True
    return mask


@lru_cache(maxsize=1)
def _marks_mask() -> np.ndarray:
    cats = _categories()
    return (cats[:, 0] == ord("M")) & (cats[:, 1] == ord("n"))


# -- exact-duplicate key ----------------------------------------------------------------------------


@lru_cache(maxsize=8)
def category_mask(letters: str) -> np.ndarray:
    """Boolean mask over all code points: True where the Unicode category's first letter is in ``letters``."""
    first = _categories()[:, 0]
    return np.isin(first, np.frombuffer(letters.encode("ascii"), dtype=np.uint8))


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _from_code_points(cps: np.ndarray) -> str:
    return cps.tobytes().decode("utf-32-le", "surrogatepass")


def normalize_exact(text: str) -> str:
    """NFKC, case-folded, Unicode punctuation (``P*``) to spaces, whitespace runs to one space."""
    if text.isascii():
        return " ".join(_compiled(r"[!-#%-*,-/:;?@\[-\]_{}]").sub(" ", text.lower()).split())
    cps = _code_points(unicodedata.normalize("NFKC", text).casefold()).copy()
    cps[category_mask("P")[cps]] = 32
    return " ".join(_from_code_points(cps).split())


# -- CCNet line normalisation ----------------------------------------------------------------------

_DIGIT = re.compile(r"\d")
# ASCII punctuation, symbols and control characters except the newline that separates lines
_ASCII_PSC = re.compile(r"[!-/:-@\[-`{-~\x00-\x09\x0b-\x1f\x7f]+")


def normalize_lines(lines: list[str]) -> list[str]:
    """CCNet's ``normalize_for_dedup`` of each line (see module docstring), done on the joined text."""
    text = _DIGIT.sub("0", "\n".join(line.strip() for line in lines).lower())
    if text.isascii():
        text = _ASCII_PSC.sub("", text)
    else:
        cps = _code_points(text)
        text = _from_code_points(cps[~category_mask("PSC")[cps] | (cps == 10)])
    return text.split("\n")


def normalize_line(line: str) -> str:
    """CCNet's ``normalize_for_dedup`` of one line (a line break inside counts as a separator)."""
    return " ".join(normalize_lines(line.split("\n"))) if "\n" in line else normalize_lines([line])[0]
