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

How it is fast: the texts are processed as arrays of code points (UTF-32) with numpy; every
character test is a lookup in one ``uint8`` table of flags over all code points (:class:`_Flags`).
The table is filled **lazily**: ASCII at import, any other code point the first time a text holds
it (``unicodedata`` / ``str`` methods on that character), so no process pays for the 1.1 million
code points of Unicode (building a full category table took 0.2-0.5 s of CPU, 1-3 s on a loaded
machine, in every worker process). The flags come from the same Python functions the regular
expressions and ``str`` methods use (``\\d`` is ``str.isdecimal``, ``str.split()`` splits on
``str.isspace``), and the tests check the results against plain per-character references.
"""

from __future__ import annotations

import sys
import unicodedata

import numpy as np

# -- per-code-point flags, filled lazily ----------------------------------------------------------------

DIGIT = 1  # str.isdecimal: what ``\d`` of Python's re matches in str patterns (\p{Nd})
SPACE = 2  # str.isspace: what str.split() / str.strip() / ``\s`` treat as whitespace
MARK = 4  # Unicode category Mn (non-spacing combining mark)
DT_PUNCT = 8  # datatrove's PUNCTUATION set (replaced by spaces in simplify_text)
DT_SEP = 16  # decimal separators of datatrove's number pattern
PUNCT = 32  # Unicode category P* (normalize_exact)
PSC = 64  # Unicode category P*, S* or C* (CCNet normalize_for_dedup)
_KNOWN = 128

# datatrove's PUNCTUATION string (src/datatrove/utils/text.py) plus the C0/C1 control characters it
# appends (0-8, 11-12, 13-31, 127-159): each becomes a space. Listed here as data, for parity.
_DT_PUNCT = "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»" + "".join(
    chr(c) for lo, hi in ((0, 9), (11, 13), (13, 32), (127, 160)) for c in range(lo, hi)
)
# datatrove's number pattern r"\p{Nd}+([.,،٫⎖⎗⎘]{1}\p{Nd}+)?" -> "0": these are its separators.
_DT_SEPARATORS = ".,،٫⎖⎗⎘"
_DT_PUNCT_SET = frozenset(_DT_PUNCT)


def _flags_of(c: str) -> int:
    cat = unicodedata.category(c)
    flags = _KNOWN
    if c.isdecimal():
        flags |= DIGIT
    if c.isspace():
        flags |= SPACE
    if cat == "Mn":
        flags |= MARK
    if c in _DT_PUNCT_SET:
        flags |= DT_PUNCT
    if c in _DT_SEPARATORS:
        flags |= DT_SEP
    if cat[0] == "P":
        flags |= PUNCT
    if cat[0] in "PSC":
        flags |= PSC
    return flags


class _Flags:
    """The flags of every code point (``uint8``, 1.1 MB), computed the first time a code point is seen."""

    def __init__(self) -> None:
        self.table = np.zeros(sys.maxunicode + 1, dtype=np.uint8)
        self._fill(np.arange(128, dtype=np.uint32))
        self._fill(np.array([ord(c) for c in _DT_PUNCT + _DT_SEPARATORS], dtype=np.uint32))

    def _fill(self, cps: np.ndarray) -> None:
        new = np.unique(cps)
        self.table[new] = np.fromiter((_flags_of(chr(c)) for c in new.tolist()), dtype=np.uint8, count=len(new))

    def __call__(self, cps: np.ndarray) -> np.ndarray:
        """The flags of each code point of ``cps`` (a uint32 array)."""
        flags = self.table[cps]
        if not flags.all():  # a code point never seen before (every known one has the _KNOWN bit)
            self._fill(cps[flags == 0])
            flags = self.table[cps]
        return flags


_flags = _Flags()


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _from_code_points(cps: np.ndarray) -> str:
    return cps.tobytes().decode("utf-32-le", "surrogatepass")


def _collapse_spaces(cps: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """``" ".join(text.split())`` on code points: whitespace runs to one space, none at the ends."""
    space = (flags & SPACE) != 0
    if not space.any():
        return cps
    keep = ~space
    keep[1:] |= ~space[:-1]  # the first whitespace character of a run, unless the text starts with it
    out = cps[keep]
    out[space[keep]] = 32
    return out[:-1] if len(out) and out[-1] == 32 else out


def _numbers_to_zero(cps: np.ndarray, flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """datatrove's ``\\p{Nd}+([.,،٫⎖⎗⎘]\\p{Nd}+)?`` -> ``0`` on code points (leftmost, non-overlapping).

    Runs of digits joined by exactly one separator pair up left to right: ``1.2.3`` is the number
    ``1.2``, a ``.`` and the number ``3`` (``0.0``), as the regular expression scans it.
    """
    digit = (flags & DIGIT).view(bool)
    edges = np.diff(digit.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # runs [start, end)
    if not len(starts):
        return cps, flags
    keep = ~digit
    keep[starts] = True  # each run's first digit stays, as "0"; the number's other characters go
    if len(starts) > 1:
        linked = np.zeros(len(starts), dtype=bool)  # run j continues run j-1 after one separator
        linked[1:] = (starts[1:] == ends[:-1] + 1) & ((flags[ends[:-1]] & DT_SEP) != 0)
        if linked.any():
            chain_first = np.flatnonzero(~linked)
            place = np.arange(len(starts)) - chain_first[np.cumsum(~linked) - 1]
            tail = linked & (place % 2 == 1)  # the second run of a number "d+ sep d+"
            keep[starts[tail]] = False
            keep[starts[tail] - 1] = False  # its separator
    cps = np.where(digit, np.uint32(48), cps)
    flags = np.where(digit, _flags.table[48], flags)  # "１" is a digit and in datatrove's punctuation
    return cps[keep], flags[keep]


# -- datatrove simplify_text ----------------------------------------------------------------------


def simplify_text(text: str) -> str:
    """datatrove's ``simplify_text`` with the default ``TextNormConfig`` (see module docstring)."""
    cps = _code_points(text.lower())
    flags = _flags(cps)
    if (flags & DIGIT).any():
        cps, flags = _numbers_to_zero(cps, flags)
    punct = (flags & DT_PUNCT) != 0
    cps = np.where(punct, np.uint32(32), cps)
    if len(cps) and cps.max() >= 128:  # NFD, then combining marks removed
        cps = _code_points(unicodedata.normalize("NFD", _from_code_points(cps)))
        flags = _flags(cps)
        mark = (flags & MARK) != 0
        if mark.any():
            cps, flags = cps[~mark], flags[~mark]
    else:
        flags = _flags.table[cps]
    return _from_code_points(_collapse_spaces(cps, flags))


# -- exact-duplicate key ----------------------------------------------------------------------------


def normalize_exact(text: str) -> str:
    """NFKC, case-folded, Unicode punctuation (``P*``) to spaces, whitespace runs to one space."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    cps = _code_points(text.casefold())
    flags = _flags(cps)
    punct = (flags & PUNCT) != 0
    if punct.any():
        cps = np.where(punct, np.uint32(32), cps)
        flags = np.where(punct, _flags.table[32], flags)
    return _from_code_points(_collapse_spaces(cps, flags))


# -- CCNet line normalisation ----------------------------------------------------------------------


def normalize_lines(lines: list[str]) -> list[str]:
    """CCNet's ``normalize_for_dedup`` of each line (see module docstring), done on the joined text."""
    cps = _code_points("\n".join(line.strip() for line in lines).lower())
    flags = _flags(cps)
    digit = (flags & DIGIT) != 0
    drop = ((flags & PSC) != 0) & (cps != 10)
    if digit.any():
        cps = np.where(digit, np.uint32(48), cps)  # CCNet: re.sub(r"\d", "0", line)
        drop &= ~digit  # a digit became "0", which is kept
    if drop.any():
        cps = cps[~drop]
    return _from_code_points(cps).split("\n")


def normalize_line(line: str) -> str:
    """CCNet's ``normalize_for_dedup`` of one line (a line break inside counts as a separator)."""
    return " ".join(normalize_lines(line.split("\n"))) if "\n" in line else normalize_lines([line])[0]
