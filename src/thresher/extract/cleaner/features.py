"""Per-line features for the line-level boilerplate cleaner, computed for a whole document at once.

A document is split into its non-empty lines; every line gets a row of numbers describing the
line itself (length, punctuation, stop words, boilerplate keywords, dates...) and its context:
neighbouring lines, windowed means, runs of short lines, distance to the nearest prose line and
to the document's main prose cluster (the idea of jusText's context-sensitive paragraph
classification, applied to lines: Pomikálek 2011, "Removing Boilerplate and Duplicate Content
from Web Corpora", ch. 3). Everything after the per-line pass is numpy over all lines.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from functools import lru_cache
from itertools import count, repeat

import numpy as np

#: bump when the feature layout changes; the shipped model records the version it was trained on.
FEATURE_VERSION = 3

_CLOSERS = "\"'”’»)]」』"
_SENT_END = frozenset(".!?…。！？")
_BULLET_CPS = np.array([ord(c) for c in "-–—•·*▪►▸●○◦‣+"], np.uint32)
_CLOSER_CPS = np.array([ord(c) for c in _CLOSERS], np.uint32)
_SENT_END_CPS = np.array([ord(c) for c in _SENT_END], np.uint32)
_URL = re.compile(r"://|www\.|@")

# character classes (bit flags) of every code point of the basic multilingual plane
_ALPHA, _DIGIT, _PUNCT, _CJK, _UPPER, _SEP, _SPACE, _DATESEP = 1, 2, 4, 8, 16, 32, 64, 128


@lru_cache(maxsize=1)
def _char_table() -> np.ndarray:
    """uint8 class flags for code points 0..0xFFFF (built once per process, ~0.1 s)."""
    table = np.zeros(0x10000, np.uint8)
    for c in range(0x10000):
        ch = chr(c)
        if ch.isalpha():
            table[c] = _ALPHA | (_UPPER if ch.isupper() else 0)
        elif ch.isdigit():
            table[c] = _DIGIT
        elif ch.isspace():
            table[c] = _SPACE
    for ch in ".,;:!?\u3001\u3002\uff0c\uff01\uff1f":
        table[ord(ch)] |= _PUNCT
    for ch in "|»›·•/>":
        table[ord(ch)] |= _SEP
    for ch in "./-:":
        table[ord(ch)] |= _DATESEP
    for lo, hi in ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xAC00, 0xD7AF)):
        table[lo : hi + 1] |= _CJK
    return table


#: punctuation turned into spaces before words are looked up in the keyword table
_WORD_PUNCT = re.compile(r"[^\w\s©@']+")

#: small function-word lists (en, de, fr, es, it, pt, nl): a language-light "is this prose" signal
_STOP = frozenset(
    """
    the a an of to in and or is are was were be been it its this that these those with for on at by
    from as not but if he she they we you i his her their our your has have had will would can
    could should which who what when where there than then so do does did no more also about into
    der die das und ist im in den dem des ein eine einer zu mit von nicht sich auf für es auch als
    an wie wird werden sind war dass oder aber noch nach bei aus um
    le la les et est un une des du de en que qui dans pour pas sur au aux ce il elle ne se sont avec
    el los las y es un una que en por con para del se lo como más pero sus su al
    il di che è per non una sono della nel con ma anche come
    o os as e é um uma que em para com não se do da dos das mais
    de het een en van is dat op te zijn niet met voor ook maar
    """.split()
)

_MONTHS = frozenset(
    """
    jan january feb february mar march apr april may jun june jul july aug august sep sept september
    oct october nov november dec december januar februar märz mai juni juli oktober dezember janvier
    février mars avril juin juillet août septembre octobre novembre décembre enero febrero marzo abril
    mayo junio julio agosto septiembre octubre noviembre diciembre
    """.split()
)

#: keyword groups (matched on lower-cased words and word pairs)
KEYWORD_GROUPS = (
    "ad", "legal", "social", "more", "account", "byline", "nav", "comments", "date", "time", "photo", "url",
)
_KW_WORDS: dict[str, tuple[str, ...]] = {
    "ad": ("advertisement", "advertisements", "advertising", "sponsored", "promoted", "anzeige", "werbung",
           "publicité", "publicidad", "pubblicità", "adchoices", "ad", "ads"),
    "legal": ("cookie", "cookies", "privacy", "copyright", "©", "datenschutz", "impressum", "gdpr", "consent",
              "disclaimer", "imprint", "reserved", "terms"),
    "social": ("share", "shares", "tweet", "facebook", "twitter", "instagram", "pinterest", "linkedin",
               "whatsapp", "reddit", "youtube", "telegram", "tiktok", "flipboard", "teilen", "email", "print"),
    "more": ("related", "recommended", "trending", "popular", "weiterlesen", "more"),
    "account": ("login", "logout", "subscribe", "subscription", "subscribers", "newsletter", "register",
                "password", "anmelden", "abonnieren", "signup"),
    "comments": ("comment", "comments", "reply", "replies", "kommentar", "kommentare", "commentaire",
                 "commentaires"),
    "time": ("ago", "yesterday", "today", "am", "pm", "uhr"),
    "photo": ("photo", "photos", "image", "credit", "getty", "reuters", "shutterstock", "caption", "foto",
              "bild", "picture", "images"),
}
_KW_PAIRS: dict[str, tuple[str, ...]] = {
    "more": ("read more", "continue reading", "read the", "see more", "load more", "show more", "view all",
             "view more", "click here", "more stories", "more news", "you may", "you might", "most read",
             "top stories", "lire la", "leer más", "next article", "previous article", "next post",
             "previous post", "also like", "see also"),
    "account": ("sign in", "sign up", "log in", "log out", "my account", "create account"),
    "legal": ("all rights", "terms of", "terms and"),
    "social": ("follow us", "email this", "print this"),
    "byline": ("posted on", "posted by", "posted in", "min read", "minute read", "minutes read", "reading time"),
}
_BYLINE_FIRST = frozenset("by von par por posted written published updated author autor auteur".split())
_NAV_LINES = frozenset(
    """home menu search close next previous prev top contact about faq help categories category tags tag
    archives archive startseite suche accueil inicio more login skip""".split()
) | frozenset(("skip to content", "skip to main content", "toggle navigation", "back to top", "contact us",
               "about us", "main menu", "sign in", "log in", "read more", "load more"))

_GROUP_BIT = {g: 1 << i for i, g in enumerate(KEYWORD_GROUPS)}
_STOP_BIT = 1 << len(KEYWORD_GROUPS)
_MONTH_BIT = _STOP_BIT << 1
_PAIR_FIRST_BIT = _MONTH_BIT << 1


def _build_word_codes() -> tuple[dict[str, int], dict[str, int]]:
    codes: dict[str, int] = {}
    for g, words in _KW_WORDS.items():
        for w in words:
            codes[w] = codes.get(w, 0) | _GROUP_BIT[g]
    for w in _STOP:
        codes[w] = codes.get(w, 0) | _STOP_BIT
    for w in _MONTHS:
        codes[w] = codes.get(w, 0) | _MONTH_BIT
    pairs: dict[str, int] = {}
    for g, phrases in _KW_PAIRS.items():
        for ph in phrases:
            pairs[ph] = pairs.get(ph, 0) | _GROUP_BIT[g]
            first = ph.split()[0]
            codes[first] = codes.get(first, 0) | _PAIR_FIRST_BIT
    return codes, pairs


_WORD_CODES, _PAIR_CODES = _build_word_codes()

#: per-line feature names (before context features)
BASE_NAMES = (
    "log_chars", "log_words", "alpha_frac", "digit_frac", "punct_frac", "cap_frac", "stop_frac",
    "ends_sentence", "ends_colon", "starts_bullet", "log_separators", "no_tokens", "log_dup",
    "avg_word_len", "log_commas", "n_tabs", "first_upper", "all_caps", "cjk_frac", "prose", "log_camel",
    *(f"kw_{g}" for g in KEYWORD_GROUPS), "kw_any",
)
_B = {name: i for i, name in enumerate(BASE_NAMES)}
#: column of each base feature in the feature matrix
BASE_INDEX = _B

#: base features whose neighbours (+-1, +-2) are features of a line
_NEIGHBOUR = ("log_chars", "ends_sentence", "stop_frac", "kw_any", "prose", "kw_date", "log_words",
              "no_tokens", "cap_frac")
#: base features averaged over windows of +-3 and +-10 lines
_WINDOW = ("log_chars", "prose", "ends_sentence", "stop_frac", "kw_any", "log_words", "kw_date", "kw_legal",
           "kw_comments", "kw_social", "kw_more", "no_tokens")
_STRUCT = (
    "rel_pos", "log_pos", "log_pos_from_end", "char_pos", "log_short_run", "log_dist_prev_prose",
    "log_dist_next_prose", "in_body_span", "log_before_body", "log_after_body", "cluster_mass",
    "in_main_cluster", "log_dist_main_cluster", "doc_log_lines", "doc_prose_frac", "doc_log_chars",
    "rel_chars_doc", "dup_in_body", "log_before_main", "log_after_main", "cluster_side", "log_n_clusters",
    "main_mass_frac", "log_chars_std~3", "main_char_pos", "cohesion_doc", "cohesion_near",
)


def feature_names() -> list[str]:
    """Names of the columns of :func:`line_features`, in order."""
    names = list(BASE_NAMES)
    for name in _NEIGHBOUR:
        names += [f"{name}@-2", f"{name}@-1", f"{name}@+1", f"{name}@+2"]
    for name in _WINDOW:
        names += [f"{name}~3", f"{name}~10"]
    names += list(_STRUCT)
    return names


N_FEATURES = len(feature_names())


def base_features(lines: list[str], layout: Layout | None = None) -> np.ndarray:
    """The per-line (context-free) features of non-empty, stripped ``lines``: shape (n, len(BASE_NAMES)).

    Character classes are counted with one table lookup over the document's code points; words,
    stop words and keywords with one lower-cased split per line and dictionary lookups. ``layout``
    says where documents start when ``lines`` holds a whole batch (default: one document)."""
    n = len(lines)
    f = np.zeros((n, len(BASE_NAMES)), np.float64)
    if n == 0:
        return f
    chars = np.fromiter(map(len, lines), np.int64, n)
    joined = "\n".join(lines)
    starts = np.concatenate(([0], np.cumsum(chars[:-1] + 1)))

    # -- character classes, vectorised over the document
    cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
    cls = np.where(cp < 0x10000, _char_table()[np.minimum(cp, 0xFFFF)], 0).astype(np.uint8)

    def per_line(mask: np.ndarray) -> np.ndarray:
        return np.add.reduceat(mask.astype(np.int64), starts).astype(np.float64)

    alpha_m = (cls & _ALPHA) > 0
    digit_m = (cls & _DIGIT) > 0
    alpha = per_line(alpha_m)
    digit = per_line(digit_m)
    punct = per_line((cls & _PUNCT) > 0)
    cjk = per_line((cls & _CJK) > 0)
    seps = per_line((cls & _SEP) > 0)
    upper_m = (cls & _UPPER) > 0
    caps = per_line(upper_m & ~np.concatenate(([False], alpha_m[:-1])))
    upper_letters = per_line(upper_m)
    # a lower-case letter directly followed by an upper-case one: joined teaser title + summary
    lower_m = alpha_m & ~upper_m & ((cls & _CJK) == 0)
    camel = per_line(np.concatenate(([False], lower_m[:-1] & upper_m[1:])))
    # digit, separator, digit (dates such as 12.05.2020, 2020-05-12, times such as 10:31)
    ds = np.zeros(len(cls), bool)
    if len(cls) > 2:
        ds[1:-1] = digit_m[:-2] & ((cls[1:-1] & _DATESEP) > 0) & digit_m[2:]
    numdate = per_line(ds)
    commas = per_line((cp == 44) | (cp == 0x3001))
    tabs = per_line(cp == 9)
    space_m = (cls & _SPACE) > 0
    words = per_line(~space_m & np.concatenate(([True], space_m[:-1])))

    # -- words and keywords: one lower-cased split of the whole text, words mapped back to lines
    low = _WORD_PUNCT.sub(" ", joined.lower())
    flat = low.split()
    lcp = np.frombuffer(low.encode("utf-32-le", "surrogatepass"), np.uint32)
    lspace = np.where(lcp < 0x10000, _char_table()[np.minimum(lcp, 0xFFFF)] & _SPACE, 0) > 0
    word_start = np.flatnonzero(~lspace & np.concatenate(([True], lspace[:-1])))
    line_of_char = np.cumsum(lcp == 10)
    word_line = line_of_char[word_start]
    if len(word_line) != len(flat) or (len(line_of_char) and line_of_char[-1] != n - 1):
        # lower() changed the text's shape (never seen in practice): split line by line
        split = [_WORD_PUNCT.sub(" ", line.lower()).split() for line in lines]
        flat = [w for ws in split for w in ws]
        word_line = np.repeat(np.arange(n), [len(ws) for ws in split])
    n_low = np.bincount(word_line, minlength=n)
    first_word = np.cumsum(n_low) - n_low
    codes = np.fromiter(map(_WORD_CODES.get, flat, repeat(0)), np.int64, len(flat))
    if layout is not None:
        layout.words = content_word_pairs(flat, word_line, codes)
    gi = {g: i for i, g in enumerate(KEYWORD_GROUPS)}
    kw = np.zeros((len(KEYWORD_GROUPS), n), np.float64)
    stop = np.zeros(n)
    month = np.zeros(n)
    if flat:
        word_doc = layout.doc[word_line] if layout is not None else np.zeros(len(flat), np.int64)
        for j in np.flatnonzero(codes & _PAIR_FIRST_BIT):
            if j + 1 < len(flat) and word_doc[j] == word_doc[j + 1]:
                codes[j] |= _PAIR_CODES.get(flat[j] + " " + flat[j + 1], 0)
        hit = np.flatnonzero(codes)
        hit_codes, hit_lines = codes[hit], word_line[hit]
        for g, bit in _GROUP_BIT.items():
            sel = (hit_codes & bit) > 0
            if sel.any():
                kw[gi[g]] = np.bincount(hit_lines[sel], minlength=n)
        stop = np.bincount(hit_lines[(hit_codes & _STOP_BIT) > 0], minlength=n).astype(np.float64)
        month = np.bincount(hit_lines[(hit_codes & _MONTH_BIT) > 0], minlength=n).astype(np.float64)
        with_words = np.flatnonzero(n_low > 0)
        kw[gi["byline"], with_words] += [flat[j] in _BYLINE_FIRST for j in first_word[with_words]]
        few = np.flatnonzero((n_low > 0) & (n_low <= 4))
        kw[gi["nav"], few] += [
            " ".join(flat[first_word[i] : first_word[i] + n_low[i]]) in _NAV_LINES for i in few
        ]
    kw[gi["date"]] += ((month > 0) & (digit > 0)).astype(np.float64) + (numdate >= 2)
    kw[gi["time"]] = np.where(digit > 0, kw[gi["time"]], 0.0) + (numdate == 1)
    url_pos = [m.start() for m in _URL.finditer(joined)]
    if url_pos:
        kw[gi["url"]] = np.bincount(np.searchsorted(starts, url_pos, side="right") - 1, minlength=n) > 0

    # last character of each line once closing quotes/brackets are stripped (-1 when nothing is left)
    ends = starts + chars - 1
    last = ends.copy()
    while True:
        closing = (last >= starts) & np.isin(cp[np.maximum(last, 0)], _CLOSER_CPS)
        if not closing.any():
            break
        last -= closing
    ends_sent = ((last >= starts) & np.isin(cp[np.maximum(last, 0)], _SENT_END_CPS)).astype(np.float64)
    ends_colon = (cp[ends] == 58).astype(np.float64)
    second = np.minimum(starts + 1, len(cls) - 1)
    bullet = np.isin(cp[starts], _BULLET_CPS) & (chars >= 2) & ((cls[second] & _SPACE) > 0)
    first_upper = (cls[starts] & _UPPER) > 0
    counts = Counter(lines)
    dup = np.fromiter(map(counts.__getitem__, lines), np.float64, n) - 1.0
    if layout is not None and len(layout.sizes) > 1 and dup.any():
        # repeats are counted within a document: recount the repeated lines per document
        rep = np.flatnonzero(dup > 0)
        doc_counts = Counter((int(layout.doc[i]), lines[i]) for i in rep)
        dup[rep] = [doc_counts[(int(layout.doc[i]), lines[i])] - 1 for i in rep]

    charsf = chars.astype(np.float64)
    safe_chars = np.maximum(charsf, 1.0)
    safe_words = np.maximum(words, 1.0)
    f[:, _B["log_chars"]] = np.log1p(charsf)
    f[:, _B["log_words"]] = np.log1p(words)
    f[:, _B["alpha_frac"]] = alpha / safe_chars
    f[:, _B["digit_frac"]] = digit / safe_chars
    f[:, _B["punct_frac"]] = punct / safe_chars
    f[:, _B["cap_frac"]] = np.minimum(caps / safe_words, 1.0)
    f[:, _B["stop_frac"]] = np.minimum(stop / safe_words, 1.0)
    f[:, _B["ends_sentence"]] = ends_sent
    f[:, _B["ends_colon"]] = ends_colon
    f[:, _B["starts_bullet"]] = bullet
    f[:, _B["log_separators"]] = np.log1p(seps)
    f[:, _B["no_tokens"]] = (alpha + digit) == 0
    f[:, _B["log_dup"]] = np.log1p(dup)
    f[:, _B["avg_word_len"]] = np.minimum(alpha / safe_words, 30.0)
    f[:, _B["log_commas"]] = np.log1p(commas)
    f[:, _B["n_tabs"]] = np.minimum(tabs, 20.0)
    f[:, _B["first_upper"]] = first_upper
    f[:, _B["all_caps"]] = (upper_letters == alpha) & (alpha >= 2)
    cjk_frac = cjk / safe_chars
    f[:, _B["cjk_frac"]] = cjk_frac
    long_enough = (words >= 10) | (cjk >= 25)
    f[:, _B["log_camel"]] = np.log1p(camel)
    f[:, _B["prose"]] = long_enough & ((ends_sent > 0) | (stop / safe_words > 0.25) | (cjk_frac > 0.5))
    for g, i in gi.items():
        f[:, _B[f"kw_{g}"]] = np.minimum(kw[i], 5.0)
    f[:, _B["kw_any"]] = np.minimum(kw[: gi["date"]].sum(axis=0), 5.0)
    return f


def content_word_pairs(flat: list[str], word_line: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (word, line) pairs of the content words of a batch, sorted by word then line.

    A content word has at least 4 characters, a letter, and is no stop word (``codes`` from the
    keyword table). Words are numbered in order of first appearance (``(word ids, line indices)``)."""
    if not flat:
        empty = np.zeros(0, np.int64)
        return empty, empty
    ids: defaultdict[str, int] = defaultdict(count().__next__)
    wid = np.fromiter(map(ids.__getitem__, flat), np.int64, len(flat))
    # word properties once per distinct word
    content = np.fromiter((len(w) >= 4 and w.isalpha() for w in ids), bool, len(ids))
    sel = content[wid] & ((codes & _STOP_BIT) == 0)
    n_lines = int(word_line.max()) + 1
    key = np.sort(wid[sel] * n_lines + word_line[sel])
    key = key[np.concatenate(([True], key[1:] != key[:-1]))] if len(key) else key
    return key // n_lines, key % n_lines


def _cohesion(words: tuple[np.ndarray, np.ndarray], layout: Layout, near: int | None,
              flag: np.ndarray | None = None) -> np.ndarray:
    """Per line, the share of its content words that also occur in another line of its document
    (within ``near`` lines when given; only in lines where ``flag`` is set when given); -1 for a
    line without content words. Lexical cohesion: the paragraphs of one article repeat its names
    and topic words, a list of teasers for other stories does not (Hearst 1997, "TextTiling")."""
    wid, line = words
    n = layout.n
    out = np.full(n, -1.0)
    if len(wid) == 0:
        return out
    doc = layout.doc[line]
    same = (wid[1:] == wid[:-1]) & (doc[1:] == doc[:-1])  # pair k and k+1: same word, same document
    if flag is not None:
        group = np.cumsum(np.concatenate(([True], ~same))) - 1
        on = flag[line].astype(np.float64)
        hit = (np.bincount(group, weights=on)[group] - on) > 0
    else:
        if near is not None:
            same = same & (line[1:] - line[:-1] <= near)
        hit = np.concatenate((same, [False])) | np.concatenate(([False], same))
    total = np.bincount(line, minlength=n)
    shared = np.bincount(line, weights=hit.astype(np.float64), minlength=n)
    has = total > 0
    out[has] = shared[has] / total[has]
    return out


class Layout:
    """Where each document's lines sit in a batch's concatenated line arrays."""

    def __init__(self, sizes: list[int] | np.ndarray) -> None:
        self.sizes = np.asarray(sizes, np.int64)
        ends = np.cumsum(self.sizes)
        starts = ends - self.sizes
        self.n = int(ends[-1]) if len(ends) else 0
        self.doc = np.repeat(np.arange(len(self.sizes)), self.sizes)
        self.start = starts[self.doc]
        self.end = ends[self.doc]
        self.idx = np.arange(self.n)
        self.pos = self.idx - self.start  # index of the line within its document
        self.n_doc = self.sizes[self.doc]
        self.is_start = self.pos == 0
        self.doc_starts = starts[self.sizes > 0]
        #: content-word incidence of the batch (set by :func:`base_features`, see
        #: :func:`content_word_pairs`); stage 2 uses it
        self.words: tuple[np.ndarray, np.ndarray] | None = None
        self._offsets: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def offset(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Index of the line k below each line (clipped into range) and whether it is in the same document."""
        if k not in self._offsets:
            src = self.idx + k
            valid = (src >= self.start) & (src < self.end)
            self._offsets[k] = (np.clip(src, 0, max(self.n - 1, 0)), valid)
        return self._offsets[k]

    def shift(self, a: np.ndarray, k: int, fill: float) -> np.ndarray:
        """Value of the line k above (k > 0) or below (k < 0) each line; ``fill`` past the document's ends."""
        src, valid = self.offset(-k)
        return np.where(valid, a[src], fill) if a.ndim == 1 else np.where(valid[:, None], a[src], fill)

    def window_mean(self, a: np.ndarray, r: int) -> np.ndarray:
        """Mean of ``a`` (1-d or 2-d by lines) over lines i-r..i+r of the same document.

        Values are summed as fixed-point integers (1/4096), so a line's value is exact and never
        depends on the other documents of the batch."""
        q = np.rint(np.asarray(a, np.float64) * 4096.0).astype(np.int64)
        c = np.cumsum(q, axis=0)
        c = np.concatenate((np.zeros((1,) + q.shape[1:], np.int64), c))
        lo = np.maximum(self.idx - r, self.start)
        hi = np.minimum(self.idx + r + 1, self.end)
        count = (hi - lo).astype(np.float64)
        total = (c[hi] - c[lo]).astype(np.float64) / 4096.0
        return total / (count if q.ndim == 1 else count[:, None])

    def dist_to_flag(self, flag: np.ndarray, forward: bool, cap: int = 1000) -> np.ndarray:
        """Distance in lines to the nearest flagged line above (below when ``forward``) in the same
        document, itself excluded; when there is none: the distance to just before the document's
        first line (above) or ``cap`` (below)."""
        big = self.n + cap + 1
        if not forward:
            pos = np.where(flag, self.idx, -big)
            last = np.maximum.accumulate(np.concatenate(([-big], pos[:-1])))
            d = np.where(last >= self.start, self.idx - last, self.pos + 1)
        else:
            pos = np.where(flag, self.idx, big)
            nxt = np.minimum.accumulate(np.concatenate((pos[1:], [big]))[::-1])[::-1]
            d = np.where(nxt < self.end, nxt - self.idx, cap)
        return np.minimum(d, cap).astype(np.float64)

    def per_doc_sum(self, a: np.ndarray) -> np.ndarray:
        """Per line, the sum of ``a`` over its document."""
        return np.bincount(self.doc, weights=a, minlength=len(self.sizes))[self.doc]

    def per_doc_cumsum(self, a: np.ndarray) -> np.ndarray:
        """Running sum of integer-valued ``a`` within each document (exact)."""
        c = np.cumsum(a.astype(np.int64))
        before = np.concatenate(([0], c))[self.start]
        return (c - before).astype(np.float64)


def line_features(lines: list[str]) -> np.ndarray:
    """All features (base, neighbours, windows, structure) of one document's non-empty stripped ``lines``."""
    return batch_features([lines])[0]


def batch_features(docs: list[list[str]]) -> tuple[np.ndarray, Layout]:
    """Features of every line of a batch of documents (each a list of non-empty stripped lines),
    computed over the whole batch at once; row order is the documents' lines in order."""
    layout = Layout([len(d) for d in docs])
    n = layout.n
    if n == 0:
        return np.zeros((0, N_FEATURES), np.float64), layout
    all_lines = [line for d in docs for line in d]
    base = base_features(all_lines, layout)
    cols = [base]
    nb = np.stack([base[:, _B[name]] for name in _NEIGHBOUR], axis=1)
    shifted = [layout.shift(nb, k, -1.0) for k in (2, 1, -1, -2)]
    cols.append(np.stack(shifted, axis=2).reshape(n, -1))
    wb = np.stack([base[:, _B[name]] for name in _WINDOW], axis=1)
    cols.append(np.stack([layout.window_mean(wb, 3), layout.window_mean(wb, 10)], axis=2).reshape(n, -1))

    idx = layout.pos.astype(np.float64)
    n_doc = layout.n_doc.astype(np.float64)
    chars = np.fromiter(map(len, all_lines), np.int64, n)
    charsf = chars.astype(np.float64)
    prose = base[:, _B["prose"]] > 0
    short = base[:, _B["log_words"]] < np.log1p(5)
    s = np.zeros((n, len(_STRUCT)), np.float64)
    S = {name: i for i, name in enumerate(_STRUCT)}
    s[:, S["rel_pos"]] = idx / np.maximum(n_doc - 1, 1)
    s[:, S["log_pos"]] = np.log1p(idx)
    s[:, S["log_pos_from_end"]] = np.log1p(n_doc - 1 - idx)
    total_chars = np.maximum(layout.per_doc_sum(charsf), 1.0)
    s[:, S["char_pos"]] = (layout.per_doc_cumsum(chars) - charsf / 2) / total_chars

    # length of the run of consecutive short lines each line belongs to (0 for longer lines)
    change = layout.is_start.copy()
    change[1:] |= short[1:] != short[:-1]
    run_id = np.cumsum(change)
    run_len = np.bincount(run_id)[run_id]
    s[:, S["log_short_run"]] = np.where(short, np.log1p(run_len), 0.0)
    s[:, S["log_dist_prev_prose"]] = np.log1p(layout.dist_to_flag(prose, forward=False))
    s[:, S["log_dist_next_prose"]] = np.log1p(layout.dist_to_flag(prose, forward=True))

    # prose span and clusters of prose lines (separated by at most 3 other lines) per document
    n_docs = len(docs)
    has_prose = np.bincount(layout.doc[prose], minlength=n_docs) > 0
    p_idx = np.flatnonzero(prose)
    big = n + 1
    first = np.full(n_docs, big)
    last_p = np.full(n_docs, -1)
    np.minimum.at(first, layout.doc[p_idx], p_idx)
    np.maximum.at(last_p, layout.doc[p_idx], p_idx)
    gidx = layout.idx
    dprose = has_prose[layout.doc]
    f_l, l_l = first[layout.doc], last_p[layout.doc]
    s[:, S["in_body_span"]] = dprose & (gidx >= f_l) & (gidx <= l_l)
    s[:, S["log_before_body"]] = np.where(dprose, np.log1p(np.maximum(f_l - gidx, 0)), np.log1p(n_doc - idx))
    s[:, S["log_after_body"]] = np.where(dprose, np.log1p(np.maximum(gidx - l_l, 0)), np.log1p(idx + 1))
    s[:, S["log_dist_main_cluster"]] = np.log1p(n_doc)
    if len(p_idx):
        p_doc = layout.doc[p_idx]
        new = np.ones(len(p_idx), bool)
        new[1:] = (np.diff(p_idx) > 4) | (p_doc[1:] != p_doc[:-1])
        cid = np.cumsum(new) - 1
        n_cl = int(cid[-1]) + 1
        mass = np.bincount(cid, weights=charsf[p_idx], minlength=n_cl)
        lo = p_idx[new]
        hi = np.concatenate((p_idx[np.flatnonzero(new)[1:] - 1], [p_idx[-1]]))
        cl_doc = p_doc[new]
        doc_max = np.zeros(n_docs)
        np.maximum.at(doc_max, cl_doc, mass)
        doc_sum = np.bincount(cl_doc, weights=mass, minlength=n_docs)
        n_clusters = np.bincount(cl_doc, minlength=n_docs)
        # main cluster of a document: the heaviest, the first one on ties
        is_max = mass == doc_max[cl_doc]
        main_of_doc = np.full(n_docs, -1)
        cand = np.flatnonzero(is_max)[::-1]
        main_of_doc[cl_doc[cand]] = cand
        # every line inside a cluster's span belongs to it
        mark = np.zeros(n + 1, np.int64)
        np.add.at(mark, lo, 1)
        np.add.at(mark, hi + 1, -1)
        inside = np.cumsum(mark)[:n] > 0
        started = np.full(n, -1)
        started[lo] = np.arange(n_cl)
        line_cluster = np.where(inside, np.maximum.accumulate(started), -1)
        main = main_of_doc[layout.doc]
        ok = dprose
        safe_main = np.maximum(main, 0)
        lo_m, hi_m = lo[safe_main], hi[safe_main]
        dmax = np.maximum(doc_max[layout.doc], 1e-9)
        s[:, S["cluster_mass"]] = np.where(inside, mass[np.maximum(line_cluster, 0)] / dmax, 0.0)
        s[:, S["in_main_cluster"]] = ok & (line_cluster == main)
        dist_main = np.maximum(np.maximum(lo_m - gidx, gidx - hi_m), 0)
        s[:, S["log_dist_main_cluster"]] = np.where(ok, np.log1p(dist_main), np.log1p(n_doc))
        s[:, S["log_before_main"]] = np.where(ok, np.log1p(np.maximum(lo_m - gidx, 0)), 0.0)
        s[:, S["log_after_main"]] = np.where(ok, np.log1p(np.maximum(gidx - hi_m, 0)), 0.0)
        s[:, S["cluster_side"]] = np.where(ok, (gidx > hi_m).astype(np.float64) - (gidx < lo_m), 0.0)
        s[:, S["log_n_clusters"]] = np.log1p(n_clusters[layout.doc])
        s[:, S["main_mass_frac"]] = np.where(ok, doc_max[layout.doc] / np.maximum(doc_sum[layout.doc], 1e-9), 0.0)
        span = np.maximum(hi_m - lo_m, 1)
        s[:, S["main_char_pos"]] = np.where(ok, np.clip((gidx - lo_m) / span, -1.0, 2.0), 0.0)
    s[:, S["doc_log_lines"]] = np.log1p(n_doc)
    s[:, S["doc_prose_frac"]] = layout.per_doc_sum(prose.astype(np.float64)) / n_doc
    s[:, S["doc_log_chars"]] = np.log1p(total_chars)
    max_chars = np.zeros(n_docs)
    np.maximum.at(max_chars, layout.doc, charsf)
    s[:, S["rel_chars_doc"]] = charsf / np.maximum(max_chars[layout.doc], 1.0)
    lc = base[:, _B["log_chars"]]
    var = layout.window_mean(lc**2, 3) - layout.window_mean(lc, 3) ** 2
    s[:, S["log_chars_std~3"]] = np.sqrt(np.maximum(var, 0.0))
    s[:, S["dup_in_body"]] = (base[:, _B["log_dup"]] > 0) & (s[:, S["in_body_span"]] > 0)
    assert layout.words is not None
    s[:, S["cohesion_doc"]] = _cohesion(layout.words, layout, None)
    s[:, S["cohesion_near"]] = _cohesion(layout.words, layout, 3)
    cols.append(s)
    out = np.concatenate(cols, axis=1)
    assert out.shape[1] == N_FEATURES
    return out, layout


def stage2_features(probs: np.ndarray, layout: Layout) -> np.ndarray:
    """Context of the first-stage probabilities: neighbours +-1..3, windowed means, distances to
    likely content, share of likely content before the line and in the document, and how much
    the line shares the vocabulary of the likely content. ``layout`` is the one
    :func:`batch_features` returned (it carries the batch's words).

    This second pass lets a line's decision depend on what the model thinks of its neighbours
    (a cheap stand-in for a sequence model)."""
    n = len(probs)
    if n == 0:
        return np.zeros((0, len(STAGE2_NAMES)), np.float64)
    cols = [probs]
    for k in (3, 2, 1, -1, -2, -3):
        cols.append(layout.shift(probs, k, -0.5))
    for r in (2, 5, 15):
        cols.append(layout.window_mean(probs, r))
    hi = probs > 0.5
    cols.append(np.log1p(layout.dist_to_flag(hi, forward=False)))
    cols.append(np.log1p(layout.dist_to_flag(hi, forward=True)))
    n_hi = layout.per_doc_sum(hi.astype(np.float64))
    cols.append(layout.per_doc_cumsum(hi) / np.maximum(n_hi, 1))
    cols.append(n_hi / layout.n_doc)
    if layout.words is None:
        raise ValueError("stage2_features needs the layout returned by batch_features (with its words)")
    # does the line talk about what the likely content talks about?
    cols.append(_cohesion(layout.words, layout, None, flag=hi))
    return np.stack(cols, axis=1)


STAGE2_NAMES = (
    "p", "p@-3", "p@-2", "p@-1", "p@+1", "p@+2", "p@+3", "p~2", "p~5", "p~15",
    "log_dist_prev_hi", "log_dist_next_hi", "hi_cum_frac", "doc_hi_frac", "cohesion_hi",
)
