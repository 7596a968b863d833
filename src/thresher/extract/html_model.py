"""The ``thresher`` HTML backend's line model: features over rendered lines, weights, scoring.

:func:`line_features` turns a :class:`~thresher.extract.html_render.Rendered` page into one row of
numbers per line, with numpy over whole pages (no per-element Python work):

- the line's text: length, words, link density, terminal punctuation, share of punctuation / digits /
  capitals (character classes are looked up in one table for the whole page's text at once);
- its place in the DOM: cue bits of its element and of all ancestors (``nav``, ``footer``,
  ``comment``, ``content``...), whether it lies inside the deepest element that holds half / 80 % of
  the page's prose, and text statistics (share of prose, of link text, size) of its ancestors 1, 2, 3
  and 5 levels up;
- its neighbourhood (second stage, :func:`context_features`): the first-stage scores of the lines
  around it.

Weights live in ``thresher/assets/html/model.npz`` (two logistic-regression stages and two thresholds:
one for lines of at most 3 words, one for the others),
written by ``python -m thresher.extract.html_train`` from the *tune* part of the extraction bench (and
the webcorpus pages that ship a ground truth); the file records its feature names and the loader
refuses a file whose layout differs from this code.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from thresher.extract.html_render import CUE_BIT, CUES, MAX_DEPTH, Rendered, render

#: a line counts as prose for the container search when it has at least this many words.
PROSE_MIN_WORDS = 10
#: levels above a line over which its prose is credited to ancestors (bounds the work on deep pages).
CREDIT_LEVELS = 40
#: ancestor levels whose text statistics describe a line's surroundings.
UP_LEVELS = (1, 2, 3, 5)
_TERMINAL = frozenset(".!?\"'”’»。！？:)")

FEATURE_NAMES: list[str] = (
    ["bias", "log_chars", "log_words", "link_density", "terminal", "short3", "long20", "punct_ratio",
     "digit_ratio", "upper_ratio", "in_main50", "in_main80", "rel_pos", "repeated", "title_like",
     "upper_start", "commas", "all_upper", "log_depth", "is_link_line", "has_pipe_or_bullet",
     "in_span80", "after_span80", "log_dist_span80", "in_span50"]
    + [f"any_{name}" for name, _ in CUES]
    + [f"own_{name}" for name, _ in CUES]
    + [f"up{k}_{what}" for k in UP_LEVELS for what in ("prose_share", "link_share", "log_chars", "lines")]
)
CONTEXT_NAMES = ["bias", "z", "z_prev", "z_next", "z_win2", "z_win5", "z_max_prev3", "z_max_next3",
                 "z_page_mean", "z_prev2", "z_next2", "z_group1", "z_group2", "z_group3", "log_group2"]
#: ancestor levels whose lines form the groups of :func:`context_features` (mean score per group).
GROUP_LEVELS = (1, 2, 3)

# -- character classes ---------------------------------------------------------------------------------

_ALNUM, _DIGIT, _PUNCT, _UPPER, _CJK, _COMMA = 1, 2, 4, 8, 16, 32


@lru_cache(maxsize=1)
def _char_table() -> np.ndarray:
    """Class bits of every code point of the Basic Multilingual Plane (built once per process)."""
    table = np.zeros(0x10000, dtype=np.uint8)
    for cp in range(0x10000):
        cat = unicodedata.category(chr(cp))
        c0 = cat[0]
        bits = 0
        if c0 in "LN":
            bits |= _ALNUM
            if cat == "Nd":
                bits |= _DIGIT
            if cat == "Lu":
                bits |= _UPPER
        elif c0 in "PS":
            bits |= _PUNCT
        table[cp] = bits
    for lo, hi in ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF)):
        table[lo: hi + 1] |= _CJK
    table[ord(",")] |= _COMMA
    table[0xFF0C] |= _COMMA
    table[0x3001] |= _COMMA
    return table


def text_counts(texts: list[str]) -> dict[str, np.ndarray]:
    """Per line: characters, words, punctuation, digits, capitals, commas and CJK characters."""
    n = len(texts)
    joined = "\n".join(texts)
    codes = np.frombuffer(joined.encode("utf-32-le", errors="replace"), dtype=np.uint32)
    cls = _char_table()[np.minimum(codes, 0xFFFF)]
    cls = np.where(codes > 0xFFFF, np.uint8(_ALNUM), cls)  # astral planes: mostly letters / ideographs
    line_id = np.cumsum(codes == 10) if len(codes) else np.zeros(0, dtype=np.int64)
    alnum = (cls & _ALNUM) > 0
    starts = alnum.copy()
    if len(starts) > 1:
        starts[1:] &= ~alnum[:-1]

    def per_line(mask: np.ndarray) -> np.ndarray:
        return np.bincount(line_id[mask], minlength=n).astype(np.float64)[:n]

    cjk = per_line((cls & _CJK) > 0)
    return {
        "chars": np.array([len(t) for t in texts], dtype=np.float64),
        "words": per_line(starts) + np.floor(cjk / 2),
        "punct": per_line((cls & _PUNCT) > 0),
        "digits": per_line((cls & _DIGIT) > 0),
        "upper": per_line((cls & _UPPER) > 0),
        "commas": per_line((cls & _COMMA) > 0),
        "alnum": per_line(alnum),
    }


# -- DOM statistics ----------------------------------------------------------------------------------


def _ancestors(parent: np.ndarray, start: np.ndarray, levels: int) -> np.ndarray:
    """``(len(start), levels + 1)`` matrix: each line's element and its ancestors (-1 above the root)."""
    out = np.full((len(start), levels + 1), -1, dtype=np.int64)
    cur = start.copy()
    out[:, 0] = cur
    ext = np.append(parent, -1)  # index -1 maps to -1
    for k in range(1, levels + 1):
        cur = ext[cur]
        out[:, k] = cur
        if (cur < 0).all():
            break
    return out


def _container(anc: np.ndarray, prose: np.ndarray, depth: np.ndarray, share: float) -> int:
    """Deepest element holding at least ``share`` of the prose characters (-1 when there is no prose)."""
    total = prose.sum()
    if total <= 0:
        return -1
    n_nodes = len(depth)
    valid = anc >= 0
    weights = np.broadcast_to(prose[:, None], anc.shape)[valid]
    gain = np.bincount(anc[valid], weights=weights, minlength=n_nodes)
    ok = np.flatnonzero(gain >= share * total)
    if not len(ok):
        return -1
    return int(ok[np.argmax(depth[ok])])


def line_features(page: Rendered) -> np.ndarray:
    """``(n_lines, len(FEATURE_NAMES))`` first-stage features of a rendered page."""
    texts = page.texts
    n = len(texts)
    tc = text_counts(texts)
    chars = tc["chars"]
    safe = np.maximum(chars, 1.0)
    words = tc["words"]
    link = page.link_chars.astype(np.float64)
    link_density = np.minimum(link / safe, 1.0)
    prose = np.where((words >= PROSE_MIN_WORDS) & (link < 0.3 * chars), chars, 0.0)

    anc = _ancestors(page.parent, page.line_node, CREDIT_LEVELS)
    m50 = _container(anc, prose, page.depth, 0.5)
    m80 = _container(anc, prose, page.depth, 0.8)
    in50 = (anc == m50).any(axis=1) if m50 >= 0 else np.zeros(n, dtype=bool)
    in80 = (anc == m80).any(axis=1) if m80 >= 0 else np.zeros(n, dtype=bool)

    # text statistics of the elements up to 5 levels above each line
    n_nodes = len(page.parent)
    sub = anc[:, : max(UP_LEVELS) + 1]
    valid = sub >= 0
    idx = sub[valid]

    def node_sum(values: np.ndarray) -> np.ndarray:
        return np.bincount(idx, weights=np.broadcast_to(values[:, None], sub.shape)[valid], minlength=n_nodes)

    s_chars, s_prose, s_link = node_sum(chars), node_sum(prose), node_sum(link)
    s_lines = np.bincount(idx, minlength=n_nodes).astype(np.float64)

    counts: dict[str, int] = {}
    for t in texts:
        counts[t] = counts.get(t, 0) + 1
    title_key = " ".join(unicodedata.normalize("NFKC", page.title or "").split()).casefold()
    title_like = np.zeros(n)
    if title_key:
        for i, t in enumerate(texts):
            if len(t) > 15:
                low = t.casefold()
                if low in title_key or title_key.startswith(low[:40]):
                    title_like[i] = 1.0

    def span(inside: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lines between the first and last prose line of a container, lines after it, log distance."""
        rows = np.flatnonzero(inside & (prose > 0))
        pos = np.arange(n)
        if not len(rows):
            return np.zeros(n), np.zeros(n), np.full(n, np.log1p(n) / 5)
        lo, hi = rows[0], rows[-1]
        dist = np.where(pos < lo, lo - pos, np.where(pos > hi, pos - hi, 0))
        return ((pos >= lo) & (pos <= hi)).astype(np.float64), (pos > hi).astype(np.float64), np.log1p(dist) / 5

    span80, after80, dist80 = span(in80)
    span50 = span(in50)[0]

    cols: list[np.ndarray] = [
        np.ones(n),
        np.log1p(chars),
        np.log1p(words),
        link_density,
        np.array([1.0 if t[-1] in _TERMINAL else 0.0 for t in texts]),
        (words <= 3).astype(np.float64),
        (words >= 20).astype(np.float64),
        tc["punct"] / safe,
        tc["digits"] / safe,
        tc["upper"] / np.maximum(tc["alnum"], 1.0),
        in50.astype(np.float64),
        in80.astype(np.float64),
        np.arange(n) / max(n, 1),
        np.array([1.0 if counts[t] > 1 else 0.0 for t in texts]),
        title_like,
        np.array([1.0 if t[0].isupper() else 0.0 for t in texts]),
        np.minimum(tc["commas"] / 5.0, 1.0),
        np.array([1.0 if len(t) > 3 and t.isupper() else 0.0 for t in texts]),
        np.log1p(page.depth[page.line_node]) / 4,
        (link_density > 0.8).astype(np.float64),
        np.array([1.0 if ("|" in t or "•" in t or "»" in t) and len(t) < 200 else 0.0 for t in texts]),
        span80,
        after80,
        dist80,
        span50,
    ]
    flags = page.flags[page.line_node]
    node = page.line_node
    par = np.append(page.parent, -1)[node]
    near = page.own[node] | np.where(par >= 0, page.own[np.maximum(par, 0)], 0)
    for name, _ in CUES:
        cols.append(((flags & CUE_BIT[name]) > 0).astype(np.float64))
    for name, _ in CUES:
        cols.append(((near & CUE_BIT[name]) > 0).astype(np.float64))
    for k in UP_LEVELS:
        up = anc[:, k]
        ok = up >= 0
        u = np.maximum(up, 0)
        c = np.where(ok, s_chars[u], 0.0)
        cs = np.maximum(c, 1.0)
        cols.append(np.where(ok & (c > 0), s_prose[u] / cs, 0.0))
        cols.append(np.where(ok & (c > 0), np.minimum(s_link[u] / cs, 1.0), 0.0))
        cols.append(np.where(ok, np.log1p(c) / 10, 0.0))
        cols.append(np.where(ok, np.log1p(s_lines[u]) / 5, 0.0))
    return np.column_stack(cols) if n else np.zeros((0, len(FEATURE_NAMES)))


def line_groups(page: Rendered) -> np.ndarray:
    """``(n_lines, len(GROUP_LEVELS))``: each line's ancestor element at those levels (-1 above the root)."""
    anc = _ancestors(page.parent, page.line_node, max(GROUP_LEVELS))
    return anc[:, list(GROUP_LEVELS)]


def context_features(z: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Second-stage features: a line's first-stage score with the scores of its neighbours in the text
    and of the other lines under the same ancestor element (``groups``, from :func:`line_groups`)."""
    n = len(z)
    pad = np.concatenate([np.full(5, -5.0), z, np.full(5, -5.0)])

    def shift(k: int) -> np.ndarray:
        return pad[5 + k: 5 + k + n]

    def window_mean(r: int) -> np.ndarray:
        csum = np.concatenate([[0.0], np.cumsum(z)])
        lo = np.maximum(np.arange(n) - r, 0)
        hi = np.minimum(np.arange(n) + r + 1, n)
        return (csum[hi] - csum[lo]) / (hi - lo)

    group_cols = []
    size2 = np.ones(n)
    for j in range(groups.shape[1]):
        g = groups[:, j]
        _, inv, cnt = np.unique(g, return_inverse=True, return_counts=True)
        sums = np.bincount(inv, weights=z)
        group_cols.append(np.where(g >= 0, sums[inv] / cnt[inv], z))
        if j == 1:
            size2 = cnt[inv].astype(np.float64)
    max_prev3 = np.max(np.column_stack([shift(-1), shift(-2), shift(-3)]), axis=1)
    max_next3 = np.max(np.column_stack([shift(1), shift(2), shift(3)]), axis=1)
    return np.column_stack([
        np.ones(n), z, shift(-1), shift(1), window_mean(2), window_mean(5), max_prev3, max_next3,
        np.full(n, z.mean() if n else 0.0), shift(-2), shift(2), *group_cols, np.log1p(size2) / 5,
    ])


# -- the model -------------------------------------------------------------------------------------------


def model_path() -> Path:
    """Where the shipped weights are."""
    return Path(str(resources.files("thresher") / "assets" / "html" / "model.npz"))


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> dict[str, Any]:
    """The weights at ``path`` (default: the shipped ones), checked against this code's feature layout."""
    p = Path(path) if path else model_path()
    if not p.exists():
        raise FileNotFoundError(
            f"HTML line model {p} not found; reinstall thresher or train one with "
            "`python -m thresher.extract.html_train --out <path>`"
        )
    with np.load(p, allow_pickle=False) as z:
        names1 = [str(x) for x in z["feature_names"]]
        names2 = [str(x) for x in z["context_names"]]
        if names1 != FEATURE_NAMES or names2 != CONTEXT_NAMES:
            raise ValueError(
                f"HTML line model {p} was trained on another feature layout ({len(names1)}+{len(names2)} "
                f"features, this code computes {len(FEATURE_NAMES)}+{len(CONTEXT_NAMES)}); retrain it with "
                "`python -m thresher.extract.html_train`"
            )
        return {
            "stage1": z["stage1"].astype(np.float64),
            "stage2": z["stage2"].astype(np.float64),
            "threshold": float(z["threshold"][0]),
            "threshold_short": float(z["threshold_short"][0]),
        }


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))


_SHORT = FEATURE_NAMES.index("short3")


def score_page(page: Rendered, model: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Probability of each line of ``page`` being main content, and the threshold that applies to it
    (``threshold_short`` for lines of at most 3 words, ``threshold`` for the others)."""
    if not page.texts:
        return np.zeros(0), np.zeros(0)
    x = line_features(page)
    z = x @ model["stage1"]
    probs = _sigmoid(context_features(z, line_groups(page)) @ model["stage2"])
    return probs, np.where(x[:, _SHORT] > 0, model["threshold_short"], model["threshold"])


def prose_fallback(page: Rendered) -> list[int]:
    """Indices of the prose lines of the main container, for small pages where the model is unsure of
    every line.

    A page with no prose at all (navigation only) still yields nothing.
    """
    texts = page.texts
    tc = text_counts(texts)
    link = page.link_chars.astype(np.float64)
    prose = np.where((tc["words"] >= PROSE_MIN_WORDS) & (link < 0.3 * tc["chars"]), tc["chars"], 0.0)
    anc = _ancestors(page.parent, page.line_node, CREDIT_LEVELS)
    main = _container(anc, prose, page.depth, 0.8)
    inside = (anc == main).any(axis=1) if main >= 0 else np.ones(len(texts), dtype=bool)
    return [i for i, (t, p, ins) in enumerate(zip(texts, prose, inside)) if p > 0 and ins and t[-1] in _TERMINAL]


class PageTooDeep(ValueError):
    """The page nests elements deeper than :data:`thresher.extract.html_render.MAX_DEPTH`."""


def extract_main_lines(html: str, model_file: str | None = None) -> tuple[str | None, list[str]]:
    """The page title (or None) and the main-content lines of ``html`` (the ``thresher`` backend).

    Raises :class:`PageTooDeep` for pages nested deeper than ``html_render.MAX_DEPTH``.
    """
    model = load_model(model_file)
    page = render(html)
    if page.too_deep:
        raise PageTooDeep(f"elements nested deeper than {MAX_DEPTH}")
    if not page.texts:
        return page.title, []
    probs, cut = score_page(page, model)
    kept = [t for t, p, c in zip(page.texts, probs, cut) if p >= c]
    if not kept:
        kept = [page.texts[i] for i in prose_fallback(page)]
    return page.title, kept
