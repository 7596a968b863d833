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


#: :attr:`_Flags.stripped` of a code point that NFD + mark removal deletes (a mark, or marks only)
STRIP_DELETED = np.uint32(0xFFFFFFFF)
#: :attr:`_Flags.stripped` of a code point that the per-character shortcut cannot handle
STRIP_COMPLEX = np.uint32(0xFFFFFFFE)


def _stripped_of(c: str) -> int:
    """What NFD then removal of ``Mn`` marks leaves of ``c``, as one code point (see :class:`_Flags`)."""
    rest = [x for x in unicodedata.normalize("NFD", c) if unicodedata.category(x) != "Mn"]
    if not rest:
        return int(STRIP_DELETED)
    if len(rest) > 1 or unicodedata.combining(rest[0]) or rest[0].isspace() != c.isspace():
        return int(STRIP_COMPLEX)  # several characters (e.g. Hangul), or a non-mark that NFD may reorder
    return ord(rest[0])


class _Flags:
    """The flags of every code point (``uint8``, 1.1 MB), computed the first time a code point is seen.

    ``stripped`` (``uint32``, filled at the same time) is what NFD then removal of ``Mn`` marks leaves
    of the code point alone: one code point, :data:`STRIP_DELETED`, or :data:`STRIP_COMPLEX`. NFD
    decomposes each character on its own and then only reorders runs of non-starters (canonical
    combining class > 0); once the ``Mn`` marks are gone, a text whose other characters are all
    starters is therefore the concatenation of its characters' ``stripped`` values: no call to
    ``unicodedata.normalize`` on the whole text (see :func:`simplify_text`).
    """

    def __init__(self) -> None:
        self.table = np.zeros(sys.maxunicode + 1, dtype=np.uint8)
        self.stripped = np.zeros(sys.maxunicode + 1, dtype=np.uint32)
        self._fill(np.arange(128, dtype=np.uint32))
        self._fill(np.array([ord(c) for c in _DT_PUNCT + _DT_SEPARATORS], dtype=np.uint32))

    def _fill(self, cps: np.ndarray) -> None:
        new = np.unique(cps)
        chars = [chr(c) for c in new.tolist()]
        self.table[new] = np.fromiter(map(_flags_of, chars), dtype=np.uint8, count=len(new))
        self.stripped[new] = np.fromiter(map(_stripped_of, chars), dtype=np.uint32, count=len(new))

    def __call__(self, cps: np.ndarray) -> np.ndarray:
        """The flags of each code point of ``cps`` (a uint32 array)."""
        flags = self.table.take(cps)  # take: several times faster than fancy indexing here
        if not flags.all():  # a code point never seen before (every known one has the _KNOWN bit)
            self._fill(cps[flags == 0])
            flags = self.table.take(cps)
        return flags


_flags = _Flags()


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _from_code_points(cps: np.ndarray) -> str:
    return cps.tobytes().decode("utf-32-le", "surrogatepass")


def _collapse_spaces(cps: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """``" ".join(text.split())`` on code points: whitespace runs to one space, none at the ends."""
    return _collapse(cps, (flags & SPACE) != 0)


def _collapse(cps: np.ndarray, space: np.ndarray, drop: np.ndarray | None = None) -> np.ndarray:
    """:func:`_collapse_spaces` with the whitespace mask given; ``drop`` (optional) marks characters
    removed at the same time, which must never stand between two whitespace characters or at
    either end of the kept text (true of the digits and separators :func:`_number_drops` removes:
    each removed stretch follows a kept digit)."""
    keep = ~space
    keep[1:] |= ~space[:-1]  # the first whitespace character of a run, unless the text starts with it
    if drop is not None:
        keep &= ~drop
    if keep.all():
        out, space = cps.copy(), space
    else:
        out, space = cps[keep], space[keep]
    np.putmask(out, space, np.uint32(32))
    return out[:-1] if len(out) and out[-1] == 32 else out


def _number_drops(flags: np.ndarray, digit: np.ndarray) -> np.ndarray:
    """Where datatrove's ``\\p{Nd}+([.,،٫⎖⎗⎘]\\p{Nd}+)?`` -> ``0`` removes a character (leftmost,
    non-overlapping matches): every digit after the first of its run, and for each number
    ``d+ sep d+`` its separator and the second run. Runs joined by single separators pair up left to
    right: ``1.2.3`` is the number ``1.2``, a ``.`` and the number ``3`` (``0.0``), as the regular
    expression scans it. The kept digits become ``0`` (done by the caller)."""
    drop = np.zeros(len(digit), dtype=bool)
    np.logical_and(digit[1:], digit[:-1], out=drop[1:])
    if len(digit) < 3:
        return drop
    mid = (flags[1:-1] & DT_SEP) != 0  # a separator with a digit on each side
    mid &= digit[:-2]
    mid &= digit[2:]
    if mid.any():
        seps = np.flatnonzero(mid) + 1
        # separator j continues the number chain of separator j-1 when only digits lie between them
        non_digits = np.cumsum(~digit)
        chained = np.zeros(len(seps), dtype=bool)
        chained[1:] = non_digits[seps[1:] - 1] == non_digits[seps[:-1]]
        chain_first = np.flatnonzero(~chained)
        place = np.arange(len(seps)) - chain_first[np.cumsum(~chained) - 1]
        taken = seps[place % 2 == 0]  # links 0, 2, 4, ... of a chain make numbers
        drop[taken] = True
        drop[taken + 1] = True  # the first digit of the number's second run
    return drop


# -- datatrove simplify_text ----------------------------------------------------------------------


def simplify_text(text: str) -> str:
    """datatrove's ``simplify_text`` with the default ``TextNormConfig`` (see module docstring)."""
    cps = _code_points(text.lower())
    flags = _flags(cps)
    punct = (flags & DT_PUNCT) != 0
    out = cps.copy()
    drop = None
    if (flags & DIGIT).any():
        digit = (flags & DIGIT) != 0
        punct &= ~digit  # "１" is a digit and in datatrove's punctuation: numbers are replaced first
        np.putmask(out, digit, np.uint32(48))
        drop = _number_drops(flags, digit)
    np.putmask(out, punct, np.uint32(32))
    space = (flags & SPACE) != 0
    space |= punct
    if len(out) and out.max() >= 128:  # NFD, then combining marks removed
        stripped = _flags.stripped.take(out)  # every code point of ``out`` is known to the tables
        if (stripped == STRIP_COMPLEX).any():  # NFD of the whole text
            if drop is not None:
                out = out[~drop]
            out = _code_points(unicodedata.normalize("NFD", _from_code_points(out)))
            flags = _flags(out)
            keep = (flags & MARK) == 0
            return _from_code_points(_collapse(out[keep], (flags[keep] & SPACE) != 0))
        # per character (see _Flags); whitespace stays whitespace and the rest stays non-space
        out = stripped
        deleted = stripped == STRIP_DELETED
        if deleted.any():  # a removed mark can join two whitespace runs: remove, then collapse
            keep = ~deleted if drop is None else ~(deleted | drop)
            return _from_code_points(_collapse(out[keep], space[keep]))
    return _from_code_points(_collapse(out, space, drop))


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
