"""Fit the ``thresher`` HTML backend's line model: ``python -m thresher.extract.html_train``.

Training data (never the bench's held-out pages):

- the *tune* part of the extraction bench (:func:`thresher.extract.evaluate.split_of`): each rendered
  line takes the label of the bench's ``page_text`` line with the same normalised tokens (matched in
  page order; rendered lines that match no bench line are left out);
- optionally (``--webcorpus N``) the first ``N`` webcorpus pages that ship a ground-truth ``main_text``
  (disjoint from the bench by construction, see the webcorpus README): each rendered line is labelled
  against ``main_text`` by a simplified form of the bench's labelling rule (:func:`label_against_truth`).

The model is two L2-regularised logistic regressions fitted by Newton's method (numpy only): stage 1
over :data:`~thresher.extract.html_model.FEATURE_NAMES`, stage 2 over the stage-1 scores of each line and
its neighbours (:data:`~thresher.extract.html_model.CONTEXT_NAMES`), fitted on out-of-fold stage-1 scores.
The thresholds (one for all lines, a possibly higher one for lines of at most 3 words) are the pair that
maximises F1 by lines (ties: by characters) of the bench's tune pages in cross-validation, scored with
the harness's own mapping rule. Everything is deterministic (folds by page
order, no random numbers), so the same data and options give the same file.

    python -m thresher.extract.html_train                      # writes the shipped model file
    python -m thresher.extract.html_train --webcorpus 600 --out /tmp/model.npz --bench dev.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from thresher.extract.evaluate import (
    Counts,
    load_bench,
    map_output_to_lines,
    normalize_tokens,
    score_page,
    split_of,
)
from thresher.extract.html_model import (
    CONTEXT_NAMES,
    FEATURE_NAMES,
    context_features,
    line_features,
    line_groups,
    model_path,
)
from thresher.extract.html_render import render


@dataclass
class TrainPage:
    """One page's features and labels (-1 = unlabelled, left out of the fit)."""

    page_id: str
    x: np.ndarray
    y: np.ndarray
    texts: list[str]
    source: str
    groups: np.ndarray
    lines: list[str] | None = None  # bench pages: page_text lines and labels, to score thresholds
    labels: list[int] | None = None


# -- labels ---------------------------------------------------------------------------------------------


def label_from_bench(texts: list[str], page_lines: list[str], page_labels: list[int]) -> np.ndarray:
    """Labels of rendered lines from the bench's labelled ``page_text`` lines (same tokens, page order)."""
    keys = [tuple(normalize_tokens(line)) for line in page_lines]
    best: dict[tuple[str, ...], int] = {}
    for k, lab in zip(keys, page_labels):
        best[k] = max(best.get(k, 0), lab)
    out = np.full(len(texts), -1, dtype=np.int64)
    ptr = 0
    for i, text in enumerate(texts):
        k = tuple(normalize_tokens(text))
        if not k:
            continue
        j = ptr
        limit = min(len(keys), ptr + 80)
        while j < limit and keys[j] != k:
            j += 1
        if j < limit:
            out[i] = page_labels[j]
            ptr = j + 1
        elif k in best:
            out[i] = best[k]
    return out


def label_against_truth(texts: list[str], main_text: str) -> np.ndarray:
    """Labels of lines against a ground-truth main text (a simplified form of the bench's rule).

    Lines of 4+ tokens are 1 when at least 80 % of their token bigrams occur in the ground truth; lines of
    1-3 tokens are 1 when they occur contiguously in the ground truth and a neighbouring line (up to 3
    away) of 4+ tokens is 1; lines without tokens are unlabelled (-1).
    """
    gt = normalize_tokens(main_text)
    bigrams = set(zip(gt, gt[1:]))
    joined = "\x00" + "\x00".join(gt) + "\x00"
    toks = [normalize_tokens(t) for t in texts]
    n = len(texts)
    out = np.full(n, -1, dtype=np.int64)
    long_pos = np.zeros(n, dtype=bool)
    for i, tk in enumerate(toks):
        if len(tk) >= 4:
            bg = list(zip(tk, tk[1:]))
            hit = sum(1 for b in bg if b in bigrams)
            out[i] = 1 if hit >= 0.8 * len(bg) else 0
            long_pos[i] = out[i] == 1
    for i, tk in enumerate(toks):
        if 1 <= len(tk) <= 3:
            near = long_pos[max(0, i - 3): i + 4].any()
            out[i] = 1 if near and ("\x00" + "\x00".join(tk) + "\x00") in joined else 0
    return out


# -- data --------------------------------------------------------------------------------------------------


def bench_pages(path: Path, split: str = "tune") -> list[TrainPage]:
    """The bench pages of ``split`` with features and labels."""
    out = []
    for page in load_bench(path):
        if split != "all" and split_of(page["id"]) != split:
            continue
        rendered = render(page["html"])
        if not rendered.texts:
            continue
        lines = page["page_text"].split("\n")
        y = label_from_bench(rendered.texts, lines, page["line_labels"])
        out.append(TrainPage(page["id"], line_features(rendered), y, rendered.texts, "bench",
                             line_groups(rendered), lines, page["line_labels"]))
    return out


def _iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        for raw in f:
            if raw.strip():
                yield orjson.loads(raw)


def webcorpus_pages(folder: Path, limit: int) -> list[TrainPage]:
    """The first ``limit`` webcorpus pages with a ``main_text``, features and labels against it."""
    out: list[TrainPage] = []
    if limit <= 0:
        return out
    for shard in sorted(folder.glob("pages-*.jsonl*")):
        for rec in _iter_jsonl(shard):
            if not rec.get("main_text") or not rec.get("html"):
                continue
            rendered = render(rec["html"])
            if not rendered.texts:
                continue
            y = label_against_truth(rendered.texts, rec["main_text"])
            if (y == 1).sum() == 0:
                continue
            out.append(TrainPage(rec["id"], line_features(rendered), y, rendered.texts, "webcorpus",
                                 line_groups(rendered)))
            if len(out) >= limit:
                return out
    return out


# -- fitting -------------------------------------------------------------------------------------------------


def solve_spd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``a @ x = b`` for a symmetric positive definite ``a`` (Cholesky, numpy row operations).

    Used instead of ``np.linalg.solve``: on a small matrix (~100 x 100) multithreaded LAPACK can be
    hundreds of times slower than one thread when the cores are busy, and this costs well under 1 ms.
    """
    n = len(a)
    low = np.zeros_like(a)
    for j in range(n):
        d = a[j, j] - low[j, :j] @ low[j, :j]
        low[j, j] = np.sqrt(max(d, 1e-12))
        if j + 1 < n:
            low[j + 1:, j] = (a[j + 1:, j] - low[j + 1:, :j] @ low[j, :j]) / low[j, j]
    y = np.zeros(n)
    for i in range(n):
        y[i] = (b[i] - low[i, :i] @ y[:i]) / low[i, i]
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        x[i] = (y[i] - low[i + 1:, i] @ x[i + 1:]) / low[i, i]
    return x


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float, iters: int = 25) -> np.ndarray:
    """Weighted L2-regularised logistic regression by Newton's method (bias column not penalised)."""
    beta = np.zeros(x.shape[1])
    reg = np.full(x.shape[1], l2)
    reg[0] = 1e-6
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -30, 30)))
        grad = x.T @ (w * (p - y)) + reg * beta
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + np.diag(reg)
        step = solve_spd(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-7:
            break
    return beta


def _stack(pages: list[TrainPage], web_weight: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.vstack([p.x for p in pages])
    y = np.concatenate([p.y for p in pages])
    w = np.concatenate([np.full(len(p.y), 1.0 if p.source == "bench" else web_weight) for p in pages])
    m = y >= 0
    return x[m], y[m].astype(np.float64), w[m]


def fit_model(pages: list[TrainPage], l2: float, web_weight: float, folds: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Stage-1 weights on all ``pages``; stage-2 weights on out-of-fold stage-1 scores (folds by page order)."""
    w1 = fit_logistic(*_stack(pages, web_weight), l2=l2)
    z_out: list[tuple[TrainPage, np.ndarray]] = []
    folds = max(2, min(folds, len(pages)))
    for f in range(folds):
        w1f = fit_logistic(*_stack([p for i, p in enumerate(pages) if i % folds != f], web_weight), l2=l2)
        z_out.extend((p, p.x @ w1f) for i, p in enumerate(pages) if i % folds == f)
    x2 = np.vstack([context_features(z, p.groups) for p, z in z_out])
    y2 = np.concatenate([p.y for p, _ in z_out])
    w2 = np.concatenate([np.full(len(p.y), 1.0 if p.source == "bench" else web_weight) for p, _ in z_out])
    m = y2 >= 0
    return w1, fit_logistic(x2[m], y2[m].astype(np.float64), w2[m], l2=l2)


def predict(page: TrainPage, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """Content probabilities of a training page's lines."""
    z = page.x @ w1
    return 1.0 / (1.0 + np.exp(-np.clip(context_features(z, page.groups) @ w2, -30, 30)))


_SHORT = FEATURE_NAMES.index("short3")


def harness_counts(pages: list[TrainPage], probs: list[np.ndarray], thresholds: tuple[float, float]) -> Counts:
    """The harness's counts (token-run rule) of the bench pages' kept lines at ``(threshold,
    threshold_short)`` (the second applies to lines of at most 3 words)."""
    total = Counts()
    for page, pr in zip(pages, probs):
        assert page.lines is not None and page.labels is not None
        cut = np.where(page.x[:, _SHORT] > 0, thresholds[1], thresholds[0])
        out = "\n".join(t for t, q, c in zip(page.texts, pr, cut) if q >= c)
        total = total + score_page(page.lines, page.labels, map_output_to_lines(page.lines, out))
    return total


#: threshold pairs tried: (threshold, threshold for lines of at most 3 words). A short line that is kept
#: makes every boilerplate line with the same words count as kept (the harness's token-run rule), so it
#: may deserve a higher bar.
THRESHOLDS = tuple(
    (round(t, 2), round(t + d, 2)) for t in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
    for d in (0.0, 0.1, 0.2, 0.3)
)


def cross_validate(bench: list[TrainPage], extra: list[TrainPage], l2: float, web_weight: float,
                   folds: int = 4) -> dict[tuple[float, float], dict[str, float]]:
    """F1 of the bench pages at each threshold, each page scored by a model fitted without it."""
    probs: list[np.ndarray | None] = [None] * len(bench)
    folds = min(folds, len(bench))
    for f in range(folds):
        train = [p for i, p in enumerate(bench) if i % folds != f] + extra
        w1, w2 = fit_model(train, l2, web_weight)
        for i, p in enumerate(bench):
            if i % folds == f:
                probs[i] = predict(p, w1, w2)
    done = [p for p in probs if p is not None]
    return {t: harness_counts(bench, done, t).metrics() for t in THRESHOLDS}


def save(path: Path, w1: np.ndarray, w2: np.ndarray, thresholds: tuple[float, float], info: str) -> None:
    """Write the weights (and their feature names) to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(
        tmp,
        stage1=np.round(w1, 6),
        stage2=np.round(w2, 6),
        threshold=np.array([thresholds[0]]),
        threshold_short=np.array([thresholds[1]]),
        feature_names=np.array(FEATURE_NAMES),
        context_names=np.array(CONTEXT_NAMES),
        info=np.array([info]),
    )
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """Command line: fit on the bench's tune pages (and webcorpus pages) and write the model file."""
    shared = Path(os.environ.get("THRESHER_SHARED", Path(__file__).resolve().parents[4] / "shared"))
    ap = argparse.ArgumentParser(prog="python -m thresher.extract.html_train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=shared / "data" / "extraction-bench" / "dev.jsonl.gz",
                    help="extraction bench file (only its tune pages are used)")
    ap.add_argument("--webcorpus", type=int, default=0, metavar="N",
                    help="also train on the first N webcorpus pages with main_text (default 0)")
    ap.add_argument("--webcorpus-dir", type=Path, default=shared / "data" / "webcorpus")
    ap.add_argument("--web-weight", type=float, default=0.3, help="weight of a webcorpus line (bench: 1)")
    ap.add_argument("--l2", type=float, default=1.0, help="L2 penalty of the logistic stages")
    ap.add_argument("--threshold", type=float, nargs=2, default=None, metavar=("ALL", "SHORT"),
                    help="fix the thresholds (all lines, lines of at most 3 words) instead of tuning them")
    ap.add_argument("--out", type=Path, default=None, help="model file (default: the shipped one)")
    args = ap.parse_args(argv)
    if not args.bench.exists():
        print(f"error: bench file {args.bench} not found; pass --bench or set THRESHER_SHARED", file=sys.stderr)
        return 2
    started = time.perf_counter()
    bench = bench_pages(args.bench, "tune")
    extra = webcorpus_pages(args.webcorpus_dir, args.webcorpus) if args.webcorpus else []
    n_lab = sum(int((p.y >= 0).sum()) for p in bench)
    n_all = sum(len(p.y) for p in bench)
    print(f"bench tune pages: {len(bench)} ({n_lab}/{n_all} rendered lines matched to labels); "
          f"webcorpus pages: {len(extra)}; {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if not bench:
        print("error: no tune pages with HTML in the bench file", file=sys.stderr)
        return 2
    thresholds: tuple[float, float] = tuple(args.threshold) if args.threshold else (0.5, 0.5)  # type: ignore
    if args.threshold is None and len(bench) >= 4:
        cv = cross_validate(bench, extra, args.l2, args.web_weight)
        thresholds = max(cv, key=lambda t: (round(cv[t]["f1_lines"], 3), cv[t]["f1_chars"], -abs(t[0] - 0.5)))
        for t, m in cv.items():
            mark = " <-" if t == thresholds else ""
            print(f"cv thresholds {t[0]:.2f} / short {t[1]:.2f}: F1 lines {m['f1_lines']:.3f} "
                  f"chars {m['f1_chars']:.3f}{mark}", file=sys.stderr)
    w1, w2 = fit_model(bench + extra, args.l2, args.web_weight)
    out = args.out or model_path()
    info = (f"bench tune pages {len(bench)}, webcorpus pages {len(extra)}, web_weight {args.web_weight}, "
            f"l2 {args.l2}, thresholds {thresholds}")
    save(out, w1, w2, thresholds, info)
    print(f"wrote {out} ({info})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
