"""Joint line scores: the HTML line model and the text line cleaner decide together.

The two models see different evidence. The HTML model (:mod:`thresher.extract.html_model`) knows
where a line sits in the page (``<nav>``, ``class="comment"``, link density, the element holding the
prose); the text cleaner (:mod:`thresher.extract.lines`) knows what the line says and what surrounds
it in reading order (dates, share notices, teaser lists, the headline above the story). Where both are
available, the content probability of a line is their weighted mean, and the cleaner's rules (ads,
comments, related lists, detached blocks, copies...) then decide on that probability.

Two uses:

- **HTML path** (``extract_html`` with ``backend="thresher"``): both models score the lines the
  renderer produces from the HTML.
- **Text plus its HTML** (``clean_lines`` with ``html_field``): the lines of an already-extracted
  text (a WET record) are scored by the text cleaner, and the HTML model's score of the same words in
  the page's HTML is found by token runs (:func:`scores_for_lines`). The decisions stay on the
  document's own lines, with a reason for each removed one.

The weight is chosen by ``python -m thresher.extract.joint_weight``: text-plus-HTML decisions on the
extraction bench's tune pages, with out-of-fold probabilities of both models (held-out pages never
read). Cross-validated F1 by lines / characters: HTML weight 0 (text alone) 0.934 / 0.972, 0.3
0.950 / 0.978, **0.5 0.960 / 0.984**, 0.6 0.955 / 0.980, 0.8 0.955 / 0.980, 1 (HTML alone) 0.953 /
0.979. So the two models weigh the same (:data:`HTML_WEIGHT`).
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

import numpy as np

from thresher.extract.evaluate import normalize_tokens_many as _line_tokens

if TYPE_CHECKING:
    from thresher.extract.html_render import Rendered

#: weight of the HTML model's probability in the joint score (the text cleaner's is ``1 - HTML_WEIGHT``);
#: the best cross-validated weight on the tune pages of the extraction bench (module docstring)
HTML_WEIGHT = 0.5

_SEP = "\x00"


def check_weight(html_weight: float, step: str) -> float:
    """``html_weight`` as a float, or a ValueError naming ``step`` when it is outside [0, 1]."""
    if not 0.0 <= html_weight <= 1.0:
        raise ValueError(f"{step}: html_weight must be between 0 and 1, got {html_weight}")
    return float(html_weight)


def shift_to_cut(probs: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """HTML model probabilities shifted so that the model's own threshold ``cut`` falls at 0.5."""
    return np.clip(probs - cut + 0.5, 0.0, 1.0)


def html_scores(page: Rendered, model: dict[str, Any]) -> np.ndarray:
    """The HTML model's content probability of each rendered line, shifted so that its own threshold
    (one for lines of at most 3 words, one for the others) falls at 0.5 (:func:`shift_to_cut`)."""
    from thresher.extract.html_model import score_page

    return shift_to_cut(*score_page(page, model))


def html_scores_for_lines(html: str, lines: list[str]) -> np.ndarray:
    """The shipped HTML model's score of each of ``lines`` (another text of the page ``html``; NaN where
    its words are not found). Raises ValueError when the page is nested too deep or has no text."""
    from thresher.extract.html_model import load_model
    from thresher.extract.html_render import render

    page = render(html)
    if page.too_deep or not page.texts:
        raise ValueError("nested too deep" if page.too_deep else "no text in the HTML")
    return scores_for_lines(page.texts, html_scores(page, load_model()), lines)


def combine(text_probs: np.ndarray, html_probs: np.ndarray, html_weight: float = HTML_WEIGHT) -> np.ndarray:
    """Weighted mean of the two probabilities per line; where the HTML one is NaN (the line's words
    were not found in the HTML) the text probability stands alone."""
    html_probs = np.where(np.isnan(html_probs), text_probs, html_probs)
    return (1.0 - html_weight) * text_probs + html_weight * html_probs


#: characters of the rendered text searched after the previous match for a line's words; past it only
#: whole rendered lines are looked up (by a dict), so a page of unmatched lines costs linear time
SEARCH_WINDOW = 20_000


def scores_for_lines(rendered_texts: list[str], rendered_scores: np.ndarray, lines: list[str]) -> np.ndarray:
    """Carry the scores of rendered lines over to other lines of the same page (a WET text's).

    Each line's token sequence is looked up as a contiguous run in the rendered lines' tokens within
    :data:`SEARCH_WINDOW` characters after the previous line's match (the texts run in the same order),
    else as a whole rendered line anywhere on the page; its score is the mean score of the rendered lines
    the run covers. A line without tokens or not found gets NaN.
    """
    tokens: list[str] = []
    owner: list[int] = []
    whole: dict[str, int] = {}  # a rendered line's tokens -> haystack offset of the first line with them
    offset = 0
    for i, found in enumerate(_line_tokens(rendered_texts)):
        if found:
            key = _SEP.join(found)
            whole.setdefault(key, offset)
            offset += len(key) + 1
        tokens += found
        owner += [i] * len(found)
    haystack = _SEP + _SEP.join(tokens) + _SEP
    starts = np.cumsum([1] + [len(t) + 1 for t in tokens])[:-1].tolist()  # offset of each token
    out = np.full(len(lines), np.nan)
    cursor = 0
    for j, found in enumerate(_line_tokens(lines)):
        if not found:
            continue
        key = _SEP.join(found)
        needle = _SEP + key + _SEP
        at = haystack.find(needle, cursor, cursor + SEARCH_WINDOW + len(needle))
        if at < 0:
            if key not in whole:
                continue
            at = whole[key]
        first = bisect.bisect_left(starts, at + 1)
        covered = sorted(set(owner[first : first + len(found)]))
        out[j] = float(rendered_scores[covered].mean())
        cursor = at + len(needle) - 1
    return out


def extract_joint(
    html: str, cleaner: Any, model_file: str | None = None
) -> tuple[str | None, list[str], list[str], dict[int, str]]:
    """The HTML path with both models: the page title (or None), the kept lines, all rendered lines and
    the reason for each removed one (by index in the rendered lines).

    ``cleaner`` is a :class:`thresher.extract.lines.LineCleaner` (its ``html_weight`` sets the mix; at 1.0
    the text model is not run). A page where nothing is kept falls back to the prose of its main
    container (:func:`thresher.extract.html_model.prose_fallback`). Raises
    :class:`thresher.extract.html_model.PageTooDeep` for pages nested deeper than
    ``html_render.MAX_DEPTH``.
    """
    from thresher.extract.html_model import PageTooDeep, load_model, prose_fallback
    from thresher.extract.html_render import MAX_DEPTH, render

    page = render(html)
    if page.too_deep:
        raise PageTooDeep(f"elements nested deeper than {MAX_DEPTH}")
    texts = page.texts
    if not texts:
        return page.title, [], [], {}
    scores = html_scores(page, load_model(model_file))
    if cleaner.html_weight >= 1.0:
        keep = scores >= 0.5
        rules = {int(i): f"model:{scores[i]:.2f} (html)" for i in np.flatnonzero(~keep)}
    else:
        keep, _, rules = cleaner.classify_many([texts], [scores])[0]
    if not keep.any():
        for i in prose_fallback(page):
            keep[i] = True
            rules.pop(i, None)
    return page.title, [t for t, k in zip(texts, keep) if k], texts, rules
