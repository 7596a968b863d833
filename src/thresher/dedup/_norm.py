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

Non-ASCII lookups go through lazily filled translation tables, so no table of the whole Unicode
range is built up front.
"""

from __future__ import annotations

import re
import unicodedata

# -- datatrove simplify_text ----------------------------------------------------------------------

# datatrove's PUNCTUATION string (src/datatrove/utils/text.py) plus the C0/C1 control characters it
# appends (0-8, 11-12, 13-31, 127-159): each becomes a space. Listed here as data, for parity.
_DT_PUNCT = "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»" + "".join(
    chr(c) for lo, hi in ((0, 9), (11, 13), (13, 32), (127, 160)) for c in range(lo, hi)
)
_DT_PUNCT_TABLE = str.maketrans(_DT_PUNCT, " " * len(_DT_PUNCT))
# datatrove: regex r"\p{Nd}+([.,،٫⎖⎗⎘]{1}\p{Nd}+)?" -> "0". Python's re ``\d`` on str is \p{Nd}.
_DT_NUMBERS = re.compile(r"\d+(?:[.,،٫⎖⎗⎘]\d+)?")
_WHITESPACE = re.compile(r"\s+")


class _LazyTable(dict):
    """A ``str.translate`` table filled on first sight of each code point from its Unicode category."""

    def __init__(self, categories: tuple[str, ...], replacement: str | None) -> None:
        super().__init__()
        self._categories = categories
        self._replacement = replacement

    def __missing__(self, cp: int) -> str | int | None:
        hit = unicodedata.category(chr(cp)).startswith(self._categories)
        value = self._replacement if hit else cp
        self[cp] = value
        return value


_MN_TABLE = _LazyTable(("Mn",), None)  # combining marks removed after NFD


def simplify_text(text: str) -> str:
    """datatrove's ``simplify_text`` with the default ``TextNormConfig`` (see module docstring)."""
    text = text.lower()
    text = _DT_NUMBERS.sub("0", text)
    text = text.translate(_DT_PUNCT_TABLE)
    text = _WHITESPACE.sub(" ", text.strip())
    if not text.isascii():
        text = unicodedata.normalize("NFD", text).translate(_MN_TABLE)
    return text.strip()


# -- exact-duplicate key ----------------------------------------------------------------------------

_PUNCT_TO_SPACE = _LazyTable(("P",), " ")


def normalize_exact(text: str) -> str:
    """NFKC, case-folded, Unicode punctuation (``P*``) to spaces, whitespace runs to one space."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.casefold().translate(_PUNCT_TO_SPACE)
    return " ".join(text.split())


# -- CCNet line normalisation ----------------------------------------------------------------------

_DIGIT = re.compile(r"\d")
_CCNET_REMOVE = _LazyTable(("P", "S", "C"), None)


def normalize_line(line: str) -> str:
    """CCNet's ``normalize_for_dedup`` of one line (see module docstring)."""
    line = line.strip()
    if not line:
        return line
    line = _DIGIT.sub("0", line.lower())
    return line.translate(_CCNET_REMOVE)
