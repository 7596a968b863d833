"""Choose the joint decision's weight honestly: ``python -m thresher.extract.joint_weight --text-oof FILE``.

Both models were fitted on the extraction bench's tune pages, so their probabilities on those pages are
optimistic. This command scores the text-plus-HTML decision (:mod:`thresher.extract.joint`) on the tune
pages with out-of-fold probabilities of *both* models:

- the text cleaner's, from ``python -m thresher.extract.cleaner.crossval --save FILE`` (about 32 minutes);
- the HTML line model's, fitted here in ``--folds`` folds exactly as ``python -m thresher.extract.html_train``
  does (seconds), shifted by its shipped threshold so that 0.5 is its cut.

It prints the cross-validated F1 by lines and by characters for each HTML weight, with the clean_lines
rules applied and the headline rule off, as in the evaluation harness. The held-out pages are never read.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

#: HTML weights tried
WEIGHTS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)


def oof_html_scores(bench: Path, folds: int) -> dict[str, tuple[list[str], np.ndarray]]:
    """Per tune page: its rendered lines and their out-of-fold HTML scores (0.5 = the model's cut)."""
    from thresher.extract import html_train as HT
    from thresher.extract.html_model import load_model
    from thresher.extract.joint import shift_to_cut

    model = load_model()
    pages = HT.bench_pages(bench, "tune")
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    for f in range(folds):
        w1, w2 = HT.fit_model([p for i, p in enumerate(pages) if i % folds != f], 1.0, 0.3)
        for i, p in enumerate(pages):
            if i % folds == f:
                cut = np.where(p.x[:, HT._SHORT] > 0, model["threshold_short"], model["threshold"])
                out[p.page_id] = (p.texts, shift_to_cut(HT.predict(p, w1, w2), cut))
    return out


def weight_table(text_oof: Path, bench: Path, folds: int = 4) -> dict[float, dict[str, float]]:
    """Cross-validated F1 (``f1_lines``, ``f1_chars``) of the joint decision at each of :data:`WEIGHTS`."""
    from thresher.extract.evaluate import Counts, score_page
    from thresher.extract.joint import scores_for_lines
    from thresher.extract.lines import LineCleaner

    html = oof_html_scores(bench, folds)
    records = [json.loads(line) for line in text_oof.read_text(encoding="utf-8").splitlines() if line.strip()]
    missing = [r["id"] for r in records if r["id"] not in html]
    if missing:
        raise ValueError(f"{len(missing)} pages of {text_oof} are not tune pages of {bench} with HTML "
                         f"(first: {missing[0]}); pass the file written by `cleaner.crossval --save`")
    mapped = [scores_for_lines(*html[r["id"]], r["lines"]) for r in records]  # the same for every weight
    cleaner = LineCleaner(threshold=0.5, stages=[None, None], keep_title=False)  # type: ignore[list-item]
    table: dict[float, dict[str, float]] = {}
    for weight in WEIGHTS:
        cleaner.html_weight = weight
        total = Counts()
        for r, scores in zip(records, mapped):
            keep, _, _ = cleaner.decide(r["lines"], np.asarray(r["p"]), scores)
            total = total + score_page(r["lines"], r["labels"], keep.tolist())
        table[weight] = total.metrics()
    return table


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see ``--help``)."""
    shared = Path(os.environ.get("THRESHER_SHARED", Path(__file__).resolve().parents[4] / "shared"))
    ap = argparse.ArgumentParser(prog="python -m thresher.extract.joint_weight", description=__doc__.split("\n")[0])
    ap.add_argument("--text-oof", type=Path, required=True,
                    help="out-of-fold text probabilities: `python -m thresher.extract.cleaner.crossval --save FILE`")
    ap.add_argument("--bench", type=Path, default=shared / "data" / "extraction-bench" / "dev.jsonl.gz")
    ap.add_argument("--folds", type=int, default=4)
    args = ap.parse_args(argv)
    table = weight_table(args.text_oof, args.bench, args.folds)
    best = max(table, key=lambda w: (round(table[w]["f1_lines"], 3), table[w]["f1_chars"]))
    for weight, m in table.items():
        mark = "  <- best" if weight == best else ""
        print(f"html_weight {weight:.1f}: cross-validated F1 lines {m['f1_lines']:.4f} chars {m['f1_chars']:.4f}{mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
