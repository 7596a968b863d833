"""Honest figures for the line cleaner: ``python -m thresher.extract.cleaner.crossval``.

The shipped model trains on the "tune" pages of the extraction benchmark (with the webcorpus
pages), so its score on them is optimistic, and the "holdout" pages are only 33. This command
estimates how the cleaner does on benchmark pages it has not seen, using the tune pages alone:
they are split in ``--folds`` parts by a hash of their id; for each part a model is trained
exactly as :mod:`thresher.extract.cleaner.train` does (webcorpus plus the other parts) and scored
on that part. The pooled F1 by lines and by characters is printed for several thresholds (the
clean_lines rules included, headline rule off as in the evaluation harness). The holdout pages
are never read. Takes about 4 minutes per fold on one core.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from thresher.extract.cleaner.data import Page, _stable_hash, bench_split, read_bench
from thresher.extract.cleaner.evaluation import evaluate_pages
from thresher.extract.cleaner.labels import f1_from_counts
from thresher.extract.cleaner.train import _subset_words, add_model_args, fit_stages, page_features, training_pages
from thresher.extract.lines import LineCleaner

THRESHOLDS = (0.4, 0.45, 0.5, 0.55, 0.6)
_KEYS = ("tp", "fp", "fn", "ctp", "cfp", "cfn")


def cross_validate(
    web: list[Page],
    tune: list[Page],
    args: argparse.Namespace,
    probs: dict[str, list[float]] | None = None,
    web_weight: np.ndarray | None = None,
) -> dict[float, dict[str, float]]:
    """Pooled counts and F1 per threshold over ``args.folds`` folds of the ``tune`` pages; the
    out-of-fold content probability of every line goes to ``probs`` (by page id) when given.
    ``web_weight``: page weights of the ``web`` pages (default 1)."""
    pages = web + tune
    if web_weight is None:
        web_weight = np.ones(len(web))
    page_weight = np.concatenate([web_weight, np.full(len(tune), args.bench_weight)])
    x1, words = page_features(pages)
    sizes = np.array([len(p.lines) for p in pages])
    page_of_line = np.repeat(np.arange(len(pages)), sizes)
    fold = np.array([-1] * len(web) + [_stable_hash(p.id + "cv") % args.folds for p in tune])
    totals = {t: dict.fromkeys(_KEYS, 0) for t in THRESHOLDS}
    for f in range(args.folds):
        t0 = time.time()
        train_pages = fold != f
        rows = train_pages[page_of_line]
        chosen = [p for p, keep in zip(pages, train_pages) if keep]
        weight = page_weight[train_pages]
        stages = fit_stages(chosen, x1[rows], _subset_words(words, rows), weight, args)
        test = [p for p, g in zip(pages, fold) if g == f]
        if probs is not None:
            results = LineCleaner(stages=stages, keep_title=False).classify_many([p.lines for p in test])
            probs.update({p.id: [round(float(v), 4) for v in r[1]] for p, r in zip(test, results)})
        for t in THRESHOLDS:
            res = evaluate_pages(LineCleaner(threshold=t, stages=stages, keep_title=False), test)
            for k in _KEYS:
                totals[t][k] += res[k]
        print(f"fold {f + 1}/{args.folds}: {len(test)} pages scored ({time.time() - t0:.0f}s)", flush=True)
    for c in totals.values():
        c["line_f1"] = f1_from_counts(c)
        c["char_f1"] = f1_from_counts(c, "c")
    return totals


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (see ``--help``)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_args(ap)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--save", type=Path, default=None,
                    help="write the out-of-fold probabilities (JSON lines: id, lines, labels, p) for error "
                         "analysis; the rules can then be re-tried on them without training")
    args = ap.parse_args(argv)
    web, web_weight = training_pages(args)
    bench = read_bench(args.shared / "data" / "extraction-bench" / "dev.jsonl.gz")
    tune = [p for p in bench if bench_split(p.id) == "tune"]
    print(f"{len(web)} webcorpus pages, {len(tune)} tune pages in {args.folds} folds", flush=True)
    probs: dict[str, list[float]] = {}
    for t, c in cross_validate(web, tune, args, probs if args.save else None, web_weight).items():
        print(f"threshold {t:.2f}: cross-validated F1 lines {c['line_f1']:.4f} chars {c['char_f1']:.4f}")
    if args.save:
        with open(args.save, "w", encoding="utf-8") as fh:
            for page in tune:
                record = {"id": page.id, "lines": page.lines, "labels": page.labels, "p": probs[page.id]}
                fh.write(json.dumps(record) + "\n")
        print(f"out-of-fold probabilities: {args.save}")


if __name__ == "__main__":
    main()
