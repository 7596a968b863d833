"""A pure-Python re-implementation of spaCy's blank English tokenizer (``spacy.blank("en")``).

datatrove (and so FineWeb, and the Gopher/C4 filters as run through datatrove) splits English text
into words with spaCy's tokenizer. To give the same keep/drop decisions, Thresher must cut words at
the same places, without importing spaCy. This module implements spaCy's tokenization *algorithm*
(whitespace chunks; special cases; iterative prefix/suffix stripping; URL match; infix splitting;
the special-case re-matching pass) in our own code, driven by the *rule data* exported from spaCy
into ``thresher/assets/spacy_en_tokenizer.json`` (affix regexes, URL pattern, special cases and the
sentencizer's punctuation; spaCy is MIT-licensed, (c) ExplosionAI GmbH; the export is regenerated
and checked by ``benchmarks/parity_datatrove.py --export-tokenizer-rules``).

Differences from spaCy are deliberate and confined to pathological input:

- every step of the affix loop looks at a bounded window of the chunk, so the work per chunk is
  linear in its length (spaCy re-scans the whole chunk after each stripped affix, which is
  quadratic on e.g. ``"(((((...)))))"``); the result is identical except for runs of dots or
  affixes longer than the window where spaCy itself would take minutes;
- the URL pattern (which can backtrack quadratically) is only tried on chunks up to
  :data:`MAX_URL_CHUNK` characters.

Speed comes from four things: results are cached per whitespace-delimited chunk (here a bounded
dict; the filters use the chunk table of :mod:`thresher.text.vocab`; web text repeats most of its
chunks), plain words skip the rules entirely, the most common shapes (``"word,"``,
``("well-known").``, ``and/or``, ``Bryan's``, ``16:50,``, ``worry—you``) go through a regex-free
version of the affix loop (:meth:`SpacyEnglishTokenizer._fast_affixes`, checked against the general
path on every chunk of the shared corpus and on random chunks in the tests), and the affix searches
of the general path are memoised on the few characters they can depend on (every affix rule but
runs of dots is at most a few characters long, look-arounds included; see :func:`_affix_key_length`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from itertools import chain, islice
from pathlib import Path

#: longest chunk on which the URL pattern is tried (it backtracks quadratically on long strings).
MAX_URL_CHUNK = 4096
#: suffix search window: longer than any suffix rule except runs of dots (handled by widening).
_SUFFIX_WINDOW = 16
#: chunk-cache size; the cache is cleared when full (results never depend on the cache).
_CACHE_MAX = 300_000


# affixes peeled by the fast path: each of these characters alone is always a one-character prefix
# and suffix match of spaCy's English rules ("." only a suffix, and only after a lower-case letter or
# one of _DOT_AFTER, by its lookbehind); the fast path applies to chunks made of these, ASCII
# letters and the joiners "-" and "/", without ".." (ellipsis rule) or "'s" (suffix rule).
_FAST_PREFIXES = frozenset("(),:;!?\"'“”‘’")
# one-character suffixes after a plain ASCII word (see SpacyEnglishTokenizer._compute)
_WORD_END = frozenset(",.;:!?)\"”’")
_FAST_SUFFIXES = _FAST_PREFIXES | {"."}
_DOT_AFTER = _FAST_PREFIXES
_FAST_EXCLUDED = re.compile(r"\.\.")
_POSSESSIVE = re.compile(r"['’][sS]")
_FAST_CHUNK = re.compile(r"(?:[^\W_]|[\-/(),:;!?\"'“”‘’.–—~])+")
# ASCII words joined by one infix character (spaCy's hyphen, comma and [:<>=/] infix rules between
# letters split them all)
_JOINED_WORDS = re.compile(r"[A-Za-z]+(?:[-/–—~,:][A-Za-z]+)+")
_JOINERS = re.compile(r"([-/–—~,:])")
# single tokens: no prefix, suffix or infix rule applies inside these (numbers with separators,
# and ASCII letters and digits ending in a digit, so no unit suffix such as "km" can follow one)
_NUMBER = re.compile(r"[0-9]+(?:[.,:/][0-9]+)*|[A-Za-z0-9]*[0-9]")


class _ChunkCache(dict):
    """chunk -> tokens; computes missing entries, cleared when it reaches :data:`_CACHE_MAX`."""

    def __init__(self, compute: Callable[[str], tuple[str, ...]]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, chunk: str) -> tuple[str, ...]:
        result = self._compute(chunk)
        if len(chunk) <= 256:
            if len(self) >= _CACHE_MAX:
                # forget the older half (frequent chunks come back at once)
                for key in list(islice(self, len(self) // 2)):
                    del self[key]
            self[chunk] = result
        return result


_SENTENCE_BREAK = re.compile("PQ*W")


class _TokenClasses(dict):
    """token -> ``"P"`` (sentence punctuation), ``"Q"`` (other punctuation) or ``"W"``, memoised."""

    def __init__(self, sentence_punct: frozenset[str]) -> None:
        super().__init__()
        self._punct = sentence_punct

    def __missing__(self, token: str) -> str:
        cls = "P" if token in self._punct else "Q" if is_punct(token) else "W"
        if len(self) < _CACHE_MAX:
            self[token] = cls
        return cls


class _ChunkClasses(dict):
    """chunk -> the class string of its tokens, memoised."""

    def __init__(self, tokenizer: SpacyEnglishTokenizer) -> None:
        super().__init__()
        self._tokens = tokenizer._cache
        self._classes = tokenizer._token_class

    def __missing__(self, chunk: str) -> str:
        cls = "".join(map(self._classes.__getitem__, self._tokens[chunk]))
        if len(chunk) <= 256:
            if len(self) >= _CACHE_MAX:
                for key in list(islice(self, len(self) // 2)):
                    del self[key]
            self[chunk] = cls
        return cls


class SpacyEnglishTokenizer:
    """Tokenizes like ``spacy.blank("en").tokenizer``; :meth:`words` returns the non-space tokens."""

    def __init__(self, rules: dict) -> None:
        self.source = rules.get("source", "")
        # prefix rules are anchored at the position given to .match (spaCy prepends "^" to each)
        self._prefix = re.compile("|".join(f"(?:{p})" for p in rules["prefixes"]))
        self._suffix = re.compile("|".join(s + "$" for s in rules["suffixes"]))
        self._infix = re.compile("|".join(rules["infixes"]))
        self._url = re.compile(rules["url_match"]).match if rules.get("url_match") else None
        self._specials: dict[str, tuple[str, ...]] = {
            k: tuple(v) for k, v in rules["special_cases"].items()
        }
        self._max_special = max(len(k) for k in self._specials)
        # affix results depend on a few characters only (rules are short, apart from runs of dots):
        # memoised on those characters, see _affix_key_length
        self._prefix_key_len = _affix_key_length(rules["prefixes"], lookaround=1)
        self._suffix_key_len = _affix_key_length(rules["suffixes"], lookaround=-1)
        self._prefix_memo: dict[str, int] = {}
        self._suffix_memo: dict[tuple[str, bool], int] = {}
        self.sentence_punct: frozenset[str] = frozenset(rules["sentence_punct_chars"])
        self._cache = _ChunkCache(self._compute)
        self._token_class = _TokenClasses(self.sentence_punct)
        self._chunk_classes = _ChunkClasses(self)
        self._build_matcher()

    # -- affix search ------------------------------------------------------------------------------

    def _find_prefix(self, s: str, start: int, end: int) -> int:
        key_len = self._prefix_key_len
        if key_len:
            key = s[start : min(end, start + key_len)]
            if not key.startswith(".."):
                found = self._prefix_memo.get(key)
                if found is None:
                    m = self._prefix.match(key)
                    found = m.end() if m else 0
                    if len(self._prefix_memo) >= _CACHE_MAX:
                        self._prefix_memo.clear()
                    self._prefix_memo[key] = found
                return found
        m = self._prefix.match(s, start, end)
        return m.end() - start if m else 0

    def _find_suffix(self, s: str, start: int, end: int) -> int:
        """Length of spaCy's suffix match on ``s[start:end]`` (leftmost match that ends at ``end``)."""
        if start >= end:
            return 0
        key_len = self._suffix_key_len
        if key_len:
            lo = end - key_len
            key = s[max(start, lo) : end]
            if not key.endswith(".."):
                memo_key = (key, lo <= start)
                found = self._suffix_memo.get(memo_key)
                if found is None:
                    # every bounded rule's match and lookbehind lie within the key, so searching the
                    # key alone is exact (and a short key is spaCy's own slice)
                    m = self._suffix.search(key)
                    found = len(key) - m.start() if m else 0
                    if len(self._suffix_memo) >= _CACHE_MAX:
                        self._suffix_memo.clear()
                    self._suffix_memo[memo_key] = found
                return found
        return self._search_suffix(s, start, end)

    def _search_suffix(self, s: str, start: int, end: int) -> int:
        width = _SUFFIX_WINDOW
        while True:
            lo = max(start, end - width)
            m = self._suffix.search(s, lo, end)
            if m is None:
                return 0
            if m.start() == lo and lo > start:
                width *= 4  # a longer match (a run of dots) may start further left
                continue
            break
        if m.start() < start + 2:
            # lookbehinds must not see characters before `start` (spaCy searches a slice)
            m2 = self._suffix.search(s[start:end])
            return (end - start - m2.start()) if m2 else 0
        return end - m.start()

    # -- core algorithm ----------------------------------------------------------------------------

    def _special(self, s: str, start: int, end: int) -> tuple[str, ...] | None:
        if end - start > self._max_special:
            return None
        return self._specials.get(s[start:end])

    def _tokenize_chunk(self, chunk: str, with_specials: bool = True) -> list[str]:
        """Tokens of one whitespace-free chunk."""
        if with_specials:
            sp = self._specials.get(chunk)
            if sp is not None:
                return list(sp)
        prefixes: list[str] = []
        suffixes: list[str] = []
        start, end = 0, len(chunk)
        last_size = -1
        while start < end and end - start != last_size:
            if with_specials and self._special(chunk, start, end) is not None:
                break
            last_size = end - start
            pre_len = self._find_prefix(chunk, start, end)
            if pre_len:
                if (
                    with_specials
                    and start + pre_len < end
                    and self._special(chunk, start + pre_len, end) is not None
                ):
                    prefixes.append(chunk[start : start + pre_len])
                    start += pre_len
                    break
            suf_len = self._find_suffix(chunk, start + pre_len, end)
            if suf_len:
                if (
                    with_specials
                    and end - suf_len > start
                    and self._special(chunk, start, end - suf_len) is not None
                ):
                    suffixes.append(chunk[end - suf_len : end])
                    end -= suf_len
                    break
            if pre_len and suf_len and pre_len + suf_len <= end - start:
                prefixes.append(chunk[start : start + pre_len])
                suffixes.append(chunk[end - suf_len : end])
                start += pre_len
                end -= suf_len
            elif pre_len:
                prefixes.append(chunk[start : start + pre_len])
                start += pre_len
            elif suf_len:
                suffixes.append(chunk[end - suf_len : end])
                end -= suf_len
        tokens = prefixes
        if start < end:
            rest = chunk[start:end]
            sp = self._specials.get(rest) if with_specials else None
            if sp is not None:
                tokens.extend(sp)
            elif self._url is not None and len(rest) <= MAX_URL_CHUNK and self._url(rest):
                tokens.append(rest)
            else:
                tokens.extend(self._split_infixes(rest))
        tokens.extend(reversed(suffixes))
        return tokens

    def _split_infixes(self, s: str) -> list[str]:
        out: list[str] = []
        begin = 0
        for m in self._infix.finditer(s):
            i0, i1 = m.start(), m.end()
            if i0 == 0:  # spaCy skips an infix at the very start of the string
                continue
            if i0 != begin:
                out.append(s[begin:i0])
            if i0 != i1:
                out.append(s[i0:i1])
            begin = i1
        if begin < len(s):
            out.append(s[begin:])
        return out

    # -- special-case re-matching (spaCy's PhraseMatcher pass) ---------------------------------------

    def _build_matcher(self) -> None:
        """Special cases that affix rules would split are re-joined after tokenization, as spaCy does."""
        patterns: dict[tuple[str, ...], str] = {}
        for key in self._specials:
            if " " in key or any(c.isspace() for c in key):
                continue  # whitespace specials never occur inside a whitespace-free chunk
            n = len(key)
            if self._find_prefix(key, 0, n) or self._find_suffix(key, 0, n) or self._infix.search(key):
                patterns[tuple(self._tokenize_chunk(key, with_specials=False))] = key
        self._patterns = patterns
        # first token -> the lengths of the patterns starting with it (longest first)
        lengths: dict[str, set[int]] = {}
        for p in patterns:
            lengths.setdefault(p[0], set()).add(len(p))
        self._pattern_first = {tok: sorted(ls, reverse=True) for tok, ls in lengths.items()}

    def _rematch(self, tokens: list[str]) -> list[str]:
        first = self._pattern_first
        if first.keys().isdisjoint(tokens):
            return tokens
        n = len(tokens)
        matches: list[tuple[int, int]] = []
        patterns = self._patterns
        for i, tok in enumerate(tokens):
            lengths = first.get(tok)
            if lengths is None:
                continue
            for length in lengths:
                if i + length <= n and tuple(tokens[i : i + length]) in patterns:
                    matches.append((i, i + length))
        if not matches:
            return tokens
        # longest first, then the earlier start first (spaCy's len_start_cmp, walked from the end)
        matches.sort(key=lambda se: (se[0] - se[1], se[0]))
        seen: set[int] = set()
        chosen: dict[int, int] = {}
        for s, e in matches:
            if s not in seen and (e - 1) not in seen:
                chosen[s] = e
            seen.update(range(s, e))
        out: list[str] = []
        i = 0
        while i < n:
            e = chosen.get(i)
            if e is None:
                out.append(tokens[i])
                i += 1
            else:
                out.extend(self._specials["".join(tokens[i:e])])
                i = e
        return out

    # -- public ------------------------------------------------------------------------------------

    def chunk_tokens(self, chunk: str) -> tuple[str, ...]:
        """Tokens of one whitespace-free chunk (cached)."""
        return self._cache[chunk]

    def words(self, text: str) -> list[str]:
        """The non-whitespace tokens of ``text``, in order (datatrove's ``split_into_words`` for en)."""
        return list(chain.from_iterable(map(self._cache.__getitem__, text.split())))

    def _compute(self, chunk: str) -> tuple[str, ...]:
        specials = self._specials
        if chunk in specials:
            return specials[chunk]
        if chunk.isalpha() or (chunk.isascii() and chunk.isdigit()):
            # letters only (any script) or ASCII digits: no affix, infix or URL rule can apply
            return (chunk,)
        last = chunk[-1]
        if last in _WORD_END and len(chunk) > 1:
            stem = chunk[:-1]
            if stem.isascii() and stem.isalpha() and (last != "." or "a" <= stem[-1] <= "z"):
                # the commonest shape, "word," or "word.": spaCy strips the one-character suffix
                # (a special stem stops the loop with the same split) and the stem is one token
                return tuple(self._rematch([*specials.get(stem, (stem,)), last]))
        fast = self._fast_affixes(chunk)
        if fast is not None:
            return tuple(self._rematch(fast))
        return tuple(self._rematch(self._tokenize_chunk(chunk)))

    def _fast_affixes(self, chunk: str) -> list[str] | None:
        """The common shapes (``"word,"``, ``("well-known").``, ``and/or``) without any regex, or ``None``.

        Runs spaCy's affix loop with character tests instead of the affix regexes, for affixes made
        of characters that are always one-character prefixes and suffixes (``( ) , : ; ! ?`` and
        quotes; ``.`` as a suffix after a lower-case letter or one of those), around a core of
        ASCII letters joined by single ``-`` or ``/`` (split by the infix rules). Anything else
        returns ``None`` and takes the general path; ``tests/text`` checks both paths agree.
        """
        if not _FAST_CHUNK.fullmatch(chunk) or _FAST_EXCLUDED.search(chunk):
            return None
        possessives = _POSSESSIVE.findall(chunk)
        if len(possessives) > 1:
            return None
        specials = self._specials
        prefixes: list[str] = []
        suffixes: list[str] = []
        start, end = 0, len(chunk)
        while start < end:
            if end - start <= self._max_special and chunk[start:end] in specials:
                break
            pre = 1 if chunk[start] in _FAST_PREFIXES else 0
            if pre and start + 1 < end and end - start - 1 <= self._max_special:
                if chunk[start + 1 : end] in specials:
                    prefixes.append(chunk[start])
                    start += 1
                    break
            suf = 0
            last = chunk[end - 1]
            if end - 1 > start + pre and last in _FAST_SUFFIXES:
                before = chunk[end - 2]
                if last != "." or before in _DOT_AFTER or ("a" <= before <= "z") or ("0" <= before <= "9"):
                    suf = 1
                    if end - 1 - start <= self._max_special and chunk[start : end - 1] in specials:
                        suffixes.append(last)
                        end -= 1
                        break
            if pre and suf and end - start >= 2:
                prefixes.append(chunk[start])
                suffixes.append(last)
                start += 1
                end -= 1
            elif pre:
                prefixes.append(chunk[start])
                start += 1
            elif suf:
                suffixes.append(last)
                end -= 1
            else:
                break
        if start >= end:
            return None  # only punctuation: emoticons and the like take the general path
        if possessives and len(prefixes) > len(suffixes):
            return None  # spaCy would strip "'s" in an iteration that also strips a prefix
        core = chunk[start:end]
        if ("–" in chunk or "—" in chunk) and not _JOINED_WORDS.fullmatch(core):
            return None  # dashes are affixes too: only handled between the letters of a core
        tokens = prefixes
        if start < end:
            special = specials.get(core)
            if special is not None:
                tokens.extend(special)
            elif possessives:
                # "'s" is a two-character suffix rule: only handled as the end of a core of ASCII
                # letters, stripped in spaCy's loop after every one-character suffix and in no
                # iteration that also strips a prefix (where spaCy would test other specials)
                stem = core[:-2]
                if not (core[-2:] == possessives[0] and stem.isascii() and stem.isalpha()):
                    return None
                tokens.extend(specials.get(stem, (stem,)))
                tokens.append(possessives[0])
            elif core.isalpha() or (core.isascii() and core.isdigit()):
                # letters of any script, or ASCII digits: no affix, infix or URL rule splits them
                tokens.append(core)
            elif _JOINED_WORDS.fullmatch(core):
                tokens.extend(_JOINERS.split(core))
            elif _NUMBER.fullmatch(core):
                tokens.append(core)
            else:
                return None
        tokens.extend(reversed(suffixes))
        return tokens

    def count_words(self, text: str) -> int:
        """``len(self.words(text))`` without building the list."""
        return sum(map(len, map(self._cache.__getitem__, text.split())))

    def token_classes(self, text: str) -> str:
        """One character per word of ``text``: ``P`` sentence punctuation, ``Q`` other
        punctuation, ``W`` anything else (cached per chunk)."""
        return "".join(map(self._chunk_classes.__getitem__, text.split()))

    def chunk_classes(self, chunks: list[str]) -> str:
        """:meth:`token_classes` of a text already split on whitespace (``chunks = text.split()``)."""
        return "".join(map(self._chunk_classes.__getitem__, chunks))

    def count_sentences(self, text: str) -> int:
        """Number of sentences spaCy's rule-based ``sentencizer`` finds in ``text`` (at least 1).

        A new sentence starts at the first token that is neither punctuation nor a sentence
        punctuation character after a token that is one of the sentence punctuation characters
        (other punctuation in between keeps the pending break): with the tokens classed by
        :meth:`token_classes`, one sentence per match of ``PQ*W``. Whitespace tokens, which
        :meth:`words` drops, only move a break, never add one.
        """
        return sentences_in_classes(self.token_classes(text))

    def token_class_code(self, token: str) -> int:
        """The sentencizer class of a token as an integer: :data:`CLASS_SENTENCE_PUNCT` (``P``),
        :data:`CLASS_OTHER_PUNCT` (``Q``) or :data:`CLASS_WORD` (``W``)."""
        if token.isalnum():  # no punctuation character
            return CLASS_WORD
        if token in self.sentence_punct:
            return CLASS_SENTENCE_PUNCT
        return CLASS_OTHER_PUNCT if is_punct(token) else CLASS_WORD

    def count_sentences_in(self, tokens: list[str]) -> int:
        """:meth:`count_sentences` for a token list (from :meth:`words`)."""
        return sentences_in_classes("".join(map(self._token_class.__getitem__, tokens)))


def _affix_key_length(patterns: list[str], lookaround: int) -> int:
    """How many characters an affix search must see to decide, or 0 when unbounded.

    For prefixes (``lookaround=1``): the longest match plus lookahead, read from the start; for
    suffixes (``lookaround=-1``): the longest match plus lookbehind, read back from the end. The
    rule ``\\.\\.+`` (runs of dots) is the one unbounded rule; callers never memoise a key that
    starts (prefix) or ends (suffix) with two dots, where it could apply. Any other unbounded rule,
    or a look-around in the other direction, turns memoisation off (0).
    """
    try:
        from re import _constants as sre_c
        from re import _parser as sre_p
    except ImportError:  # Python 3.10
        import sre_constants as sre_c  # type: ignore[no-redef]
        import sre_parse as sre_p  # type: ignore[no-redef]

    def around(tree: object, direction: int) -> int:
        width = 0
        for op, av in tree:  # type: ignore[attr-defined]
            if op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
                if av[0] != direction:
                    return -1  # look-around the other way: not handled
                width = max(width, av[1].getwidth()[1])
            elif op == sre_c.SUBPATTERN:
                inner = around(av[-1], direction)
                width = -1 if inner < 0 or width < 0 else max(width, inner)
            elif op == sre_c.BRANCH:
                for branch in av[1]:
                    inner = around(branch, direction)
                    width = -1 if inner < 0 or width < 0 else max(width, inner)
            elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
                inner = around(av[2], direction)
                width = -1 if inner < 0 or width < 0 else max(width, inner)
        return width

    longest = 0
    for pattern in patterns:
        if pattern == r"\.\.+":
            continue
        tree = sre_p.parse(pattern)
        width = tree.getwidth()[1]
        extra = around(tree, -1 if lookaround < 0 else 1)
        if width >= 1 << 16 or extra < 0 or (lookaround > 0 and around(tree, -1) > 0):
            return 0
        longest = max(longest, width + extra)
    return longest


#: sentence classes of a token as integers (:meth:`SpacyEnglishTokenizer.token_class_code`)
CLASS_OTHER_PUNCT, CLASS_SENTENCE_PUNCT, CLASS_WORD = 0, 1, 2


def sentences_in_classes(classes: str) -> int:
    """Sentences in a token class string (see :meth:`SpacyEnglishTokenizer.token_classes`)."""
    if "P" not in classes:
        return 1
    return 1 + len(_SENTENCE_BREAK.findall(classes))


def is_punct(token: str) -> bool:
    """spaCy's ``is_punct``: every character is in a Unicode punctuation category (P*)."""
    return all(unicodedata.category(c)[0] == "P" for c in token)


@lru_cache(maxsize=1)
def english_tokenizer() -> SpacyEnglishTokenizer:
    """The process-wide English tokenizer (rules loaded once from the package assets)."""
    path = Path(__file__).resolve().parents[1] / "assets" / "spacy_en_tokenizer.json"
    return SpacyEnglishTokenizer(json.loads(path.read_text("utf-8")))
