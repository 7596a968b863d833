"""Reading the training and evaluation pages for the line cleaner (used by the train command).

Data sources (never shipped with the package; only learned weights are):

- ``shared/data/webcorpus/pages-*.jsonl.gz``: real web pages gathered from public extraction
  benchmarks and extractor test suites (see that folder's README for every source, its repository,
  commit and licence; research/testing use). The 2,005 pages with a ground-truth ``main_text``
  are the training set: their ``text`` (Resiliparse full-page text) is turned into WET-like lines
  and labelled by aligning each line with ``main_text`` (:func:`labels.derive_line_labels`).
- ``shared/data/extraction-bench/dev.jsonl.gz``: 105 pages of the Zyte article-extraction
  benchmark (MIT) with per-line labels; only its "tune" part is used to choose the threshold, its
  "holdout" part only to report figures. It is disjoint from the webcorpus by construction.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from thresher.extract.cleaner.labels import derive_line_labels


@dataclass
class Page:
    """One labelled page: its id, WET-like lines (stripped, non-empty) and 0/1 labels."""

    id: str
    lines: list[str]
    labels: list[int]
    #: per-line training weight (None: all 1); 0 for a line whose label is unknown
    weights: list[float] | None = None


def _stable_hash(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def wet_lines(text: str, keep_bullets: bool) -> list[str]:
    """Resiliparse full-page text as WET-like lines: stripped, empty lines dropped, and (unless
    ``keep_bullets``) the ``•`` list bullets removed, as in the extraction benchmark's page text."""
    out = []
    for line in text.split("\n"):
        line = line.strip()
        if not keep_bullets and line.startswith("\u2022"):
            line = line[1:].strip()
        if line:
            out.append(line)
    return out


def read_webcorpus(folder: Path, limit: int | None = None) -> Iterator[Page]:
    """Labelled training pages from the webcorpus shards in ``folder`` (pages with a ``main_text``).

    Half of the pages (by a hash of the id) keep their list bullets, so the model sees both WET
    styles."""
    count = 0
    for rec in _records(folder):
        main = rec.get("main_text")
        if not main or not rec.get("text"):
            continue
        lines = wet_lines(rec["text"], keep_bullets=_stable_hash(rec["id"]) % 2 == 0)
        if not lines:
            continue
        yield Page(rec["id"], lines, derive_line_labels(lines, main))
        count += 1
        if limit is not None and count >= limit:
            return


def _records(folder: Path) -> Iterator[dict]:
    """The records of the webcorpus shards in ``folder``, in shard order."""
    for shard in sorted(folder.glob("pages-*.jsonl.gz")):
        with gzip.open(shard, "rt", encoding="utf-8") as fh:
            for raw in fh:
                yield json.loads(raw)


#: a page is pseudo-labelled only when the HTML model's score reaches at least this share of its lines
_PSEUDO_MIN_MATCHED = 0.5
#: pages with more HTML than this are left out (rendering cost)
_PSEUDO_MAX_HTML = 3_000_000


def read_webcorpus_pseudo(folder: Path, limit: int | None = None) -> Iterator[Page]:
    """The webcorpus pages *without* a ground truth, labelled by the HTML line model (pseudo-labels).

    The HTML model (:mod:`thresher.extract.html_model`, fitted on the bench's tune pages only) sees where
    each line sits in the page, which the text cleaner cannot; its score of each WET-like line
    (:func:`thresher.extract.joint.scores_for_lines`) gives the label (content when it reaches the
    model's own cut). Lines whose words are not found in the rendered HTML get weight 0; pages where
    fewer than half the lines are found are left out. These pages (news in German, Spanish, French,
    Chinese, Japanese... from the trafilatura, htmldate, fundus, postlight, goose3 and gne test sets)
    widen what the text model has seen beyond the mostly English labelled pages."""
    import numpy as np

    from thresher.extract.joint import html_scores_for_lines

    count = 0
    for rec in _records(folder):
        html = rec.get("html")
        if rec.get("main_text") or not rec.get("text") or not html or len(html) > _PSEUDO_MAX_HTML:
            continue
        lines = wet_lines(rec["text"], keep_bullets=_stable_hash(rec["id"]) % 2 == 0)
        if not lines:
            continue
        try:
            scores = html_scores_for_lines(html, lines)
        except ValueError:  # nested too deep, or no text in the HTML
            continue
        known = ~np.isnan(scores)
        if known.mean() < _PSEUDO_MIN_MATCHED:
            continue
        labels = (np.nan_to_num(scores, nan=0.0) >= 0.5).astype(int).tolist()
        yield Page("pseudo:" + rec["id"], lines, labels, known.astype(float).tolist())
        count += 1
        if limit is not None and count >= limit:
            return


def read_bench(path: Path) -> Iterator[Page]:
    """Pages of the extraction benchmark with their shipped line labels."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for raw in fh:
            rec = json.loads(raw)
            yield Page(rec["id"], rec["page_text"].split("\n"), list(rec["line_labels"]))


def bench_split(page_id: str) -> str:
    """``"tune"`` or ``"holdout"`` for a benchmark page: the evaluation harness's split when it is
    available (so figures are comparable), else a 50/50 split by a hash of the id."""
    try:
        from thresher.extract.evaluate import split_of  # type: ignore[attr-defined]
    except ImportError:
        return "tune" if _stable_hash(page_id) % 2 == 0 else "holdout"
    return str(split_of(page_id))
