"""``clean_lines``: line-level boilerplate removal for text that is already extracted (WET).

Most crawl text reaches curators with everything on the page in it: menus, link lists, dates,
share and cookie notices, ``Advertisement``, teasers, footers. This step decides for every line
whether it is content, from the line and its context (neighbours, position, the document's
main prose cluster), with a small boosted-tree model shipped in
``thresher/assets/cleaner/model.npz`` (numpy-only inference; trained by
``python -m thresher.extract.cleaner.train``), plus a few explicit rules:

- ``no_text``: a line without any letter or digit (``-``, ``|``, ``***``);
- ``advertisement``: a line that is only an advertisement label;
- ``dated_title``: a short line ending in `` - <date>`` (a list of posts with their dates);
- ``model:<p>``: the model's content probability ``p`` was below the threshold;
- a headline (and a standfirst sentence) directly above the start of the content is kept
  (``keep_title``), passing over ads, dates and bylines in between.

Removed lines go to ``metadata["removed_lines"]`` with their rule; the step never drops a
document: a page that is all boilerplate comes out with empty text and
``metadata["empty_reason"]``.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from thresher.extract.cleaner.features import (
    BASE_INDEX,
    FEATURE_VERSION,
    N_FEATURES,
    batch_features,
    stage2_features,
)
from thresher.extract.cleaner.model import TreeEnsemble
from thresher.steps.base import Batch, Step, register

_B = BASE_INDEX
#: lines longer than this are cut for feature computation only (a 10 MB line costs as much as 100k chars)
_FEATURE_LINE_CAP = 100_000
#: rows per tree-ensemble call (bounds memory on a 100k-line page)
_CHUNK = 256

#: a line that is only an advertisement label; matched over many lines joined by "\n" at once
_AD_LINE = re.compile(
    r"^[^\w\n]*(?:advertisements?|advertising|sponsored|anzeige|werbung|publicité|publicidad|pubblicità"
    r"|ads?|ad choices|story continues below advertisement|continue reading below)[^\w\n]*$",
    re.IGNORECASE | re.MULTILINE,
)


#: a post title followed by its date ("Tips for boxers - November 6, 2020"): lists of posts
_DATED_TITLE = re.compile(
    r"\s[-–—|•·,]\s*(?:\w+\.? \d{1,2},? \d{4}|\d{1,2}\.? \w+\.? \d{4}|\d{1,4}[./-]\d{1,2}[./-]\d{2,4})$"
)


def _model_path() -> Path:
    return Path(str(resources.files("thresher") / "assets" / "cleaner" / "model.npz"))


@lru_cache(maxsize=4)
def load_model(path: str) -> tuple[list[TreeEnsemble], float]:
    """The stages and tuned threshold of a model file (cached per process)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(
            f"line-cleaner model {p} not found; reinstall thresher or train one with "
            "`python -m thresher.extract.cleaner.train`"
        )
    with np.load(p) as z:
        version = int(z["feature_version"][0])
        n_feat = int(z["n_features"][0])
        if version != FEATURE_VERSION or n_feat != N_FEATURES:
            raise ValueError(
                f"line-cleaner model {p} was trained on feature layout v{version} ({n_feat} features) but "
                f"this code computes v{FEATURE_VERSION} ({N_FEATURES}); retrain it with "
                "`python -m thresher.extract.cleaner.train`"
            )
        stages = [TreeEnsemble.from_arrays(z, "s0_"), TreeEnsemble.from_arrays(z, "s1_")]
        threshold = float(z["threshold"][0])
    return stages, threshold


def _predict(model: TreeEnsemble, x: np.ndarray) -> np.ndarray:
    if len(x) <= _CHUNK:
        return model.predict_proba(x)
    return np.concatenate([model.predict_proba(x[i : i + _CHUNK]) for i in range(0, len(x), _CHUNK)])


def _ad_lines(lines: list[str], candidate: np.ndarray) -> np.ndarray:
    """Which ``lines`` are advertisement labels, testing only the ``candidate`` lines (one regex scan
    over the candidates joined by newlines)."""
    out = np.zeros(len(lines), bool)
    cand = np.flatnonzero(candidate)
    if len(cand) == 0:
        return out
    sub = [lines[i] for i in cand]
    starts = np.cumsum([0] + [len(line) + 1 for line in sub[:-1]])
    hits = [m.start() for m in _AD_LINE.finditer("\n".join(sub))]
    if hits:
        out[cand[np.searchsorted(starts, hits, side="right") - 1]] = True
    return out


class LineCleaner:
    """Classifies the lines of documents as content or boilerplate (the engine behind ``clean_lines``)."""

    def __init__(
        self,
        threshold: float | None = None,
        keep_title: bool = True,
        model_path: str | None = None,
        stages: list[TreeEnsemble] | None = None,
    ) -> None:
        if stages is None:
            stages, tuned = load_model(model_path or str(_model_path()))
            threshold = tuned if threshold is None else threshold
        self.stages = stages
        self.threshold = 0.5 if threshold is None else float(threshold)
        self.keep_title = keep_title

    def classify_many(self, docs_lines: list[list[str]]) -> list[tuple[np.ndarray, np.ndarray, dict[int, str]]]:
        """For each document (its stripped non-empty lines): keep mask, probabilities, removal rules.

        Features and both model stages run over the whole batch at once."""
        cap = _FEATURE_LINE_CAP
        capped = [
            lines if max(map(len, lines), default=0) <= cap else [line[:cap] for line in lines]
            for lines in docs_lines
        ]
        x1, layout = batch_features(capped)
        if layout.n == 0:
            return [(np.zeros(0, bool), np.zeros(0), {}) for _ in docs_lines]
        p1 = _predict(self.stages[0], x1)
        x2 = np.concatenate([x1, stage2_features(p1, layout)], axis=1)
        p2 = _predict(self.stages[1], x2)
        ad = _ad_lines([line for lines in docs_lines for line in lines], x1[:, _B["log_words"]] < np.log1p(8))
        bounds = np.cumsum(layout.sizes)[:-1]
        return [
            self._decide(lines, f, p, a)
            for lines, f, p, a in zip(docs_lines, np.split(x1, bounds), np.split(p2, bounds), np.split(ad, bounds))
        ]

    def _decide(
        self, lines: list[str], f: np.ndarray, p: np.ndarray, ad: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
        keep = p >= self.threshold
        rules: dict[int, str] = {}
        no_text = f[:, _B["no_tokens"]] > 0
        dated = np.zeros(len(lines), bool)
        for i in np.flatnonzero((f[:, _B["kw_date"]] > 0) & (f[:, _B["log_words"]] < np.log1p(30))):
            dated[i] = _DATED_TITLE.search(lines[i][-40:]) is not None
        forced = no_text | ad | dated
        keep &= ~forced
        if self.keep_title and keep.any():
            for i in self._lead_in(lines, f, p, keep, forced):
                keep[i] = True
        for i in np.flatnonzero(~keep):
            if no_text[i]:
                rules[int(i)] = "no_text"
            elif ad[i]:
                rules[int(i)] = "advertisement"
            elif dated[i]:
                rules[int(i)] = "dated_title"
            else:
                rules[int(i)] = f"model:{p[i]:.2f}"
        return keep, p, rules

    @staticmethod
    def _lead_in(lines: list[str], f: np.ndarray, p: np.ndarray, keep: np.ndarray, forced: np.ndarray) -> list[int]:
        """The headline (and a standfirst sentence under it) right above the start of the content.

        From the first kept line that starts a run of kept lines, walk up at most 6 lines, passing
        over ads, symbol lines and short dates, bylines or share/photo lines; keep a standfirst
        (one sentence line the model half believes in) and stop at the headline: a title-like
        line of 3-30 words without final full stop or boilerplate keywords."""
        kept = np.flatnonzero(keep)
        start = int(kept[0])
        for k in kept:
            if k + 2 < len(keep) and (keep[k + 1] or keep[k + 2]):
                start = int(k)
                break
        boiler_kw = ("kw_nav", "kw_social", "kw_account", "kw_legal", "kw_more", "kw_ad", "kw_comments", "kw_url")
        passable_kw = ("kw_byline", "kw_date", "kw_time", "kw_social", "kw_photo")
        out: list[int] = []
        standfirst_done = False
        for i in range(start - 1, max(start - 7, -1), -1):
            if keep[i]:
                break
            row = f[i]
            n_words = float(np.expm1(row[_B["log_words"]]))
            if forced[i] or (n_words <= 8 and any(row[_B[k]] > 0 for k in passable_kw)):
                continue
            ends_sentence = row[_B["ends_sentence"]] > 0 and not lines[i].endswith(("?", "!"))
            cjk = row[_B["cjk_frac"]] > 0.3
            if any(row[_B[k]] > 0 for k in boiler_kw):
                break
            if ends_sentence:
                if standfirst_done or not (5 <= n_words <= 60 or cjk) or p[i] < 0.3:
                    break
                out.append(i)
                standfirst_done = True
                continue
            if 3 <= n_words <= 30 or (cjk and len(lines[i]) >= 6):
                out.append(i)
            break
        return out


def split_lines(text: str) -> tuple[list[str], list[int], list[bool]]:
    """The document's lines: stripped non-empty lines, their index among all lines, and for each one
    whether a blank line precedes it."""
    stripped = [raw.strip() for raw in text.split("\n")]
    index = [i for i, line in enumerate(stripped) if line]
    out = [stripped[i] for i in index]
    # a blank line precedes a line when its index is more than one past the previous kept line's
    gaps = np.diff(np.asarray([-1] + index)) > 1
    blank_before = gaps.tolist()
    return out, index, blank_before


@register
class CleanLines(Step):
    """Remove boilerplate lines (menus, link lists, dates, ads, share/cookie notices, teasers,
    footers) from already-extracted text, keeping the content and its headline."""

    name = "clean_lines"

    def __init__(self, threshold: float | None = None, keep_title: bool = True, model_path: str | None = None) -> None:
        """``threshold``: content probability below which a line goes (default: the value tuned
        with the shipped model); ``keep_title``: keep the headline above the content;
        ``model_path``: another model file trained by ``thresher.extract.cleaner.train``."""
        super().__init__()
        self.threshold = threshold
        self.keep_title = keep_title
        self.model_path = model_path
        self._cleaner: LineCleaner | None = None

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state["_cleaner"] = None
        return state

    @property
    def cleaner(self) -> LineCleaner:
        """The line classifier (built on first use)."""
        if self._cleaner is None:
            self._cleaner = LineCleaner(self.threshold, self.keep_title, self.model_path)
        return self._cleaner

    def process(self, batch: Batch) -> Batch:
        split = [split_lines(doc.text) for doc in batch]
        results = self.cleaner.classify_many([s[0] for s in split])
        for doc, (lines, index, blank_before), (keep, _, rules) in zip(batch, split, results):
            self.count("documents")
            self.count("lines_in", len(lines))
            if not lines:
                if doc.text:
                    doc.text = ""  # white space only
                continue
            kept_parts: list[str] = []
            for k in np.flatnonzero(keep):
                if kept_parts and blank_before[k]:
                    kept_parts.append("")
                kept_parts.append(lines[k])
            n_kept = int(keep.sum())
            self.count("lines_removed", len(lines) - n_kept)
            for rule, k in Counter(rule.partition(":")[0] for rule in rules.values()).items():
                self.count(f"removed_{rule}", k)
            if rules:
                all_lines = doc.text.split("\n")
                doc.record_removed_lines(self.name, all_lines, {index[i]: r for i, r in rules.items()})
            doc.text = "\n".join(kept_parts)
            if n_kept == 0:
                self.count("documents_emptied")
                doc.metadata["empty_reason"] = f"{self.name}: all {len(lines)} lines are boilerplate"
        return batch
