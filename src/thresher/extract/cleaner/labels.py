"""Token normalisation, line labels derived from a ground-truth main text, and a quick line scorer.

Used by the training command (:mod:`thresher.extract.cleaner.train`) and by tests; the cleaner
itself (:mod:`thresher.extract.lines`) never needs a ground truth.

Normalisation follows the extraction benchmark's convention (``shared/data/extraction-bench``
README, "Labeling rule"): Unicode NFKC, casefold, tokens are maximal runs of letters/digits, and
each CJK ideograph or kana character is one token.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Sequence

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")


def tokens(text: str) -> list[str]:
    """Normalised tokens of ``text`` (NFKC, casefold, letter/digit runs, one token per CJK char)."""
    return _TOKEN_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def token_string(text: str) -> str:
    """Tokens joined by single spaces with a space at both ends, for contiguous-run lookups."""
    toks = tokens(text)
    return " " + " ".join(toks) + " " if toks else ""


# -- line labels from a ground truth ---------------------------------------------------------------


def _char_to_token_index(g: str) -> list[int]:
    """For every char offset of a token string, the index of the token starting at or after it."""
    out = [0] * (len(g) + 1)
    k = 0
    for i, ch in enumerate(g):
        if ch == " " and i > 0:
            k += 1
        out[i] = k
    out[len(g)] = k
    return out


def derive_line_labels(lines: Sequence[str], main_text: str) -> list[int]:
    """Label each line 1 (main content) or 0 (boilerplate) by aligning it with ``main_text``.

    A simplified version of the extraction benchmark's labelling rule (see its README):

    1. a line of >= 4 tokens matches when its token sequence occurs contiguously in the ground
       truth, or when >= 80 % of its token bigrams occur in it (small edits, merged hover text);
    2. the matched long lines form the chain, in page order, with non-decreasing ground-truth
       position and the most matched tokens; up to two more chains found the same way among the
       other matches join it when each covers >= 50 % of the ground truth (a second complete copy
       of the article, such as a hidden ``articleBody``: content, though ``clean_lines`` drops it
       as ``repeated_copy``); lines off the chains are repeats (headline copies, teasers) and get 0
       unless they have >= 8 tokens and mostly cover ground truth no chain line
       covers;
    3. a line of 1-3 tokens gets 1 only when it occurs contiguously in the ground truth right after
       the previous labelled line (within 8 tokens, at most 4 lines above) or right before the next
       labelled long line (within 8 tokens, at most 4 lines below);
    4. lines without tokens get 0.
    """
    g_tokens = tokens(main_text)
    n_lines = len(lines)
    labels = [0] * n_lines
    if not g_tokens:
        return labels
    g = " " + " ".join(g_tokens) + " "
    c2t = _char_to_token_index(g)
    bigram_pos: dict[tuple[str, str], int] = {}
    for i in range(len(g_tokens) - 1):
        bigram_pos.setdefault((g_tokens[i], g_tokens[i + 1]), i)
    line_tokens = [tokens(line) for line in lines]

    # 1. long-line matches: (line, gt start, gt end, weight)
    matches: list[tuple[int, int, int, int]] = []
    for i, toks in enumerate(line_tokens):
        n = len(toks)
        if n < 4:
            continue
        s = " " + " ".join(toks) + " "
        pos = g.find(s)
        if pos >= 0:
            start = c2t[pos]
            matches.append((i, start, start + n - 1, n))
            continue
        hits = [bigram_pos[b] for b in zip(toks, toks[1:]) if b in bigram_pos]
        if len(hits) >= 0.8 * (n - 1):
            hits.sort()
            start = hits[len(hits) // 2] - len(hits) // 2
            start = max(0, start)
            matches.append((i, start, start + n - 1, len(hits) + 1))

    # 2. heaviest chain with non-decreasing gt start; then up to two more complete copies of the
    # article (>= 50 % of the ground truth, e.g. a hidden schema.org articleBody on one line), as the
    # benchmark's labelling rule does (its README, "Order and duplicates")
    chain = _heaviest_chain(matches, set())
    for _ in range(2):
        extra = _heaviest_chain(matches, chain)
        if sum(_covered(matches, extra, len(g_tokens))) < 0.5 * len(g_tokens):
            break
        chain |= extra
    covered = _covered(matches, chain, len(g_tokens))
    span_of: dict[int, tuple[int, int]] = {}
    for k, (i, st, en, _) in enumerate(matches):
        if k in chain:
            labels[i] = 1
            span_of[i] = (st, en)
        elif en - st + 1 >= 8:
            lo_t, hi_t = max(0, st), min(en + 1, len(g_tokens))
            overlap = sum(covered[lo_t:hi_t])
            if overlap <= 0.5 * (hi_t - lo_t):
                labels[i] = 1
                span_of[i] = (st, en)

    # 3. short lines near a labelled neighbour, in page order
    long_labelled = sorted(span_of)
    prev_line, prev_end = -10, -1
    nxt_idx = 0
    for i, toks in enumerate(line_tokens):
        if i in span_of:
            prev_line, prev_end = i, span_of[i][1]
            continue
        n = len(toks)
        if n == 0 or n >= 4:
            continue
        while nxt_idx < len(long_labelled) and long_labelled[nxt_idx] <= i:
            nxt_idx += 1
        nxt = long_labelled[nxt_idx] if nxt_idx < len(long_labelled) else None
        s = " " + " ".join(toks) + " "
        # first occurrence after the previous labelled line's end
        lo_char = _token_to_char(prev_end + 1, c2t) if prev_line >= 0 else 0
        pos = g.find(s, lo_char)
        ok = False
        if pos >= 0:
            start = c2t[pos]
            end = start + n - 1
            if nxt is not None and end >= span_of[nxt][0] + 1:
                pos = -1
            elif prev_line >= 0 and i - prev_line <= 4 and start - prev_end - 1 <= 8:
                ok = True
            elif nxt is not None and nxt - i <= 4 and span_of[nxt][0] - end - 1 <= 8:
                ok = True
        if ok:
            labels[i] = 1
            prev_line, prev_end = i, c2t[pos] + n - 1
    return labels


def _heaviest_chain(matches: list[tuple[int, int, int, int]], exclude: set[int]) -> set[int]:
    """Indices of the matches (line, gt start, gt end, weight) outside ``exclude`` forming the chain
    of the most weight whose gt starts never go back by more than 2 tokens of overlap."""
    ids = [k for k in range(len(matches)) if k not in exclude]
    best = [0] * len(ids)
    prev = [-1] * len(ids)
    for a, ka in enumerate(ids):
        best[a] = matches[ka][3]
        for b in range(max(0, a - 400), a):  # bounded look-back keeps huge pages near-linear
            if matches[ids[b]][2] - 2 <= matches[ka][1] and best[b] + matches[ka][3] > best[a]:
                best[a] = best[b] + matches[ka][3]
                prev[a] = b
    chain: set[int] = set()
    if ids:
        a = max(range(len(ids)), key=lambda k: (best[k], -k))
        while a >= 0:
            chain.add(ids[a])
            a = prev[a]
    return chain


def _covered(matches: list[tuple[int, int, int, int]], chosen: set[int], n_tokens: int) -> bytearray:
    """1 for every ground-truth token inside the span of one of the ``chosen`` matches."""
    out = bytearray(n_tokens + 1)
    for a in chosen:
        _, st, en, _ = matches[a]
        lo, hi = max(0, st), min(en + 1, n_tokens)
        out[lo:hi] = b"\x01" * max(0, hi - lo)
    return out


def _token_to_char(tok: int, c2t: list[int]) -> int:
    """Char offset (in the token string) of the space before token ``tok``."""
    return bisect.bisect_left(c2t, tok)


# -- quick scorer (harness rule) ------------------------------------------------------------------


def score_lines(lines: Sequence[str], labels: Sequence[int], output: str) -> dict[str, float]:
    """Counts for F1 by lines and by chars: a line counts as kept when its normalised token
    sequence occurs in the normalised output (the extraction harness rule). Lines without tokens
    are ignored."""
    out = token_string(output)
    tp = fp = fn = 0
    ctp = cfp = cfn = 0
    for line, lab in zip(lines, labels):
        s = token_string(line)
        if not s:
            continue
        kept = bool(out) and s in out
        c = len(line)
        if kept and lab:
            tp += 1
            ctp += c
        elif kept:
            fp += 1
            cfp += c
        elif lab:
            fn += 1
            cfn += c
    return {"tp": tp, "fp": fp, "fn": fn, "ctp": ctp, "cfp": cfp, "cfn": cfn}


def f1_from_counts(c: dict[str, float], prefix: str = "") -> float:
    """F1 from summed ``tp/fp/fn`` counts (``prefix="c"`` for the char counts)."""
    tp, fp, fn = c[prefix + "tp"], c[prefix + "fp"], c[prefix + "fn"]
    if tp == 0:
        return 0.0
    p, r = tp / (tp + fp), tp / (tp + fn)
    return 2 * p * r / (p + r)


def mean_page_f1(per_page: Sequence[dict[str, float]], prefix: str = "") -> float:
    """Mean over pages of the per-page F1 (pages with no positive and no kept line count as 1)."""
    vals = []
    for c in per_page:
        if c[prefix + "tp"] + c[prefix + "fp"] + c[prefix + "fn"] == 0:
            vals.append(1.0)
        else:
            vals.append(f1_from_counts(c, prefix))
    return sum(vals) / len(vals) if vals else math.nan
