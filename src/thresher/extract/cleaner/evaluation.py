"""Quick scoring of the line cleaner on labelled pages (harness rule, see :func:`labels.score_lines`).

``python -m thresher.extract.cleaner.evaluation`` prints tune/holdout F1 by lines and by chars on
the extraction benchmark and the cleaner's speed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from thresher.extract.cleaner.data import Page, bench_split, read_bench
from thresher.extract.cleaner.labels import f1_from_counts, score_lines


def _f1(tp: float, fp: float, fn: float) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def evaluate_pages(cleaner: Any, pages: Sequence[Page], batch_size: int = 64) -> dict[str, float]:
    """Micro-averaged F1 by lines and by chars of ``cleaner`` (a :class:`LineCleaner`) on ``pages``.

    ``line_f1``/``char_f1`` count the lines the cleaner kept (the harness rule for line filters,
    :func:`thresher.extract.evaluate.map_filtered_lines`: output lines are input lines); the
    ``tok_`` figures use the looser extractor rule (a line counts as kept when its token sequence
    occurs anywhere in the output, so a dropped "News" line counts as kept if "news" is in the text).
    """
    total = dict.fromkeys(("tp", "fp", "fn", "ctp", "cfp", "cfn"), 0)
    tok = dict.fromkeys(("tp", "fp", "fn", "ctp", "cfp", "cfn"), 0)
    for start in range(0, len(pages), batch_size):
        chunk = pages[start : start + batch_size]
        results = cleaner.classify_many([p.lines for p in chunk])
        for page, (keep, _, _) in zip(chunk, results):
            for line, lab, k in zip(page.lines, page.labels, keep):
                c = len(line)
                key = "tp" if (k and lab) else "fp" if k else "fn" if lab else None
                if key:
                    total[key] += 1
                    total["c" + key] += c
            output = "\n".join(line for line, k in zip(page.lines, keep) if k)
            for key, value in score_lines(page.lines, page.labels, output).items():
                tok[key] += value
    return {
        "line_f1": _f1(total["tp"], total["fp"], total["fn"]),
        "char_f1": _f1(total["ctp"], total["cfp"], total["cfn"]),
        "tok_line_f1": f1_from_counts(tok),
        "tok_char_f1": f1_from_counts(tok, "c"),
        **total,
    }


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    from thresher.extract.cleaner.train import DEFAULT_SHARED
    from thresher.extract.lines import LineCleaner

    ap = argparse.ArgumentParser(description="Score the line cleaner on the extraction benchmark.")
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--no-title", action="store_true", help="do not keep the headline")
    ap.add_argument("--speed-webcorpus", type=int, default=0,
                    help="also time the step on the first N webcorpus pages (their full text)")
    args = ap.parse_args(argv)
    pages = list(read_bench(args.shared / "data" / "extraction-bench" / "dev.jsonl.gz"))
    cleaner = LineCleaner(threshold=args.threshold, keep_title=not args.no_title)
    for part in ("tune", "holdout", "all"):
        sub = [p for p in pages if part == "all" or bench_split(p.id) == part]
        res = evaluate_pages(cleaner, sub)
        print(
            f"{part:8s} pages {len(sub):4d}  F1 lines {res['line_f1']:.4f}  chars {res['char_f1']:.4f}"
            f"   (token rule: lines {res['tok_line_f1']:.4f}  chars {res['tok_char_f1']:.4f})"
        )
    print("bench pages:", end=" ")
    speed(pages)
    if args.speed_webcorpus:
        import gzip
        import json

        from thresher.extract.cleaner.data import wet_lines

        web: list[Page] = []
        with gzip.open(args.shared / "data" / "webcorpus" / "pages-000.jsonl.gz", "rt", encoding="utf-8") as fh:
            for raw in fh:
                rec = json.loads(raw)
                web.append(Page(rec["id"], wet_lines(rec.get("text") or "", keep_bullets=True), []))
                if len(web) >= args.speed_webcorpus:
                    break
        print(f"{len(web)} webcorpus pages:", end=" ")
        speed(web, reps=1)


def speed(pages: Sequence[Page], reps: int = 3, batch_size: int = 100) -> None:
    """Print the ``clean_lines`` step's throughput on ``pages`` (documents built from their lines)."""
    from thresher.document import Document
    from thresher.extract.lines import CleanLines

    step = CleanLines()
    texts = ["\n".join(p.lines) for p in pages]
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    step.process([Document("warm-up", texts[0])])
    t0 = time.perf_counter()
    for _ in range(reps):
        for start in range(0, len(texts), batch_size):
            step.process([Document(str(i), t) for i, t in enumerate(texts[start : start + batch_size])])
    dt = (time.perf_counter() - t0) / reps
    print(f"speed of the clean_lines step: {len(texts) / dt:.0f} pages/s, {n_bytes / dt / 1e6:.2f} MB/s "
          f"(one process, batches of {batch_size})")


if __name__ == "__main__":
    main()
