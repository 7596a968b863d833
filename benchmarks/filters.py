"""Speed of the FineWeb quality chain: Thresher vs datatrove, one process, same pages, one run.

The chain is FineWeb's (``datatrove/examples/fineweb.py``): Gopher repetition -> Gopher quality ->
C4 quality without the terminal-punctuation rule -> FineWeb quality, all with published defaults,
on the English pages of ``../shared/data/webcorpus/pages-000.jsonl.gz``. Each side runs on a
single core in this process (datatrove's filters chained through their ``run`` generators, as its
executor does; Thresher's steps on batches, dropped documents leaving the batch after each step).
Prints wall and CPU seconds, documents/s and MB/s (UTF-8 bytes of the input texts) on CPU time
(steadier than wall time on a shared machine), the ratio, whether both sides kept the
same documents with the same final text, and the peak Python heap of each side (tracemalloc, on a
separate pass over the first ``--memory-docs`` pages, because tracing slows everything down).

    python benchmarks/filters.py [--limit N] [--batch-size 1000] [--memory-docs 200] [--thresher-only]

Thresher's word splitter caches the tokenization of whitespace-separated chunks (and the per-token
features the filters use); the run starts with empty caches, so their cost is included. Figures depend on machine load.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from parity_datatrove import DEFAULT_DATA, load_pages  # noqa: E402


def datatrove_chain() -> list[Any]:
    """datatrove's filters of the FineWeb chain, published defaults."""
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    return [
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(filter_no_terminal_punct=False),
        FineWebQualityFilter(),
    ]


def thresher_chain() -> list[Any]:
    """Thresher's steps of the same chain."""
    from thresher.filters.c4 import C4Quality
    from thresher.filters.fineweb import FineWebQuality
    from thresher.filters.gopher_quality import GopherQuality
    from thresher.filters.gopher_repetition import GopherRepetition

    return [GopherRepetition(), GopherQuality(), C4Quality(filter_no_terminal_punct=False), FineWebQuality()]


def run_datatrove(pages: list[dict[str, Any]]) -> dict[str, str]:
    """Run datatrove's chain; return kept id -> final text."""
    from datatrove.data import Document

    data: Any = (Document(text=p["text"], id=p["id"], metadata={}) for p in pages)
    for step in datatrove_chain():
        data = step.run(data)
    return {doc.id: doc.text for doc in data}


def run_thresher(pages: list[dict[str, Any]], batch_size: int) -> dict[str, str]:
    """Run Thresher's chain; return kept id -> final text."""
    from thresher.document import Document

    steps = thresher_chain()
    kept: dict[str, str] = {}
    for start in range(0, len(pages), batch_size):
        batch = [Document(p["id"], p["text"], {}) for p in pages[start : start + batch_size]]
        for step in steps:
            batch = [doc for doc in step.process(batch) if doc.drop is None]
        kept.update((doc.id, doc.text) for doc in batch)
    return kept


def _peak(fn: Any, *args: Any) -> int:
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="first N English pages only")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--memory-docs", type=int, default=200, help="pages for the tracemalloc pass (0: skip)")
    parser.add_argument("--thresher-only", action="store_true",
                        help="time Thresher's chain only (for profiling; no datatrove run, no ratio)")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"data not found: {args.data} (pass --data)", file=sys.stderr)
        return 2
    pages = load_pages(args.data, args.limit)
    mb = sum(len(p["text"].encode("utf-8", "surrogatepass")) for p in pages) / 1e6
    print(f"{len(pages)} English pages, {mb:.1f} MB of text; chain: gopher_repetition -> gopher_quality -> "
          "c4 (no terminal punct) -> fineweb_quality")

    warm = [{"id": "warm", "text": "Warm up the libraries. " * 20}]
    run_thresher(warm, 1)  # loads the tokenizer rules (not the chunk cache)
    from thresher.text.words import clear_caches

    clear_caches()  # start cold: the cost of tokenizing every distinct chunk is included
    if not args.thresher_only:
        run_datatrove(warm)  # loads spaCy

    t0, c0 = time.perf_counter(), time.process_time()
    th_kept = run_thresher(pages, args.batch_size)
    th_s, th_cpu = time.perf_counter() - t0, time.process_time() - c0
    if args.thresher_only:
        print(f"thresher: {th_s:.2f} wall s, {th_cpu:.2f} cpu s, {len(pages) / th_cpu:.1f} docs/s, "
              f"{mb / th_cpu:.3f} MB/s, kept {len(th_kept)}")
        return 0
    t0, c0 = time.perf_counter(), time.process_time()
    dt_kept = run_datatrove(pages)
    dt_s, dt_cpu = time.perf_counter() - t0, time.process_time() - c0

    same_ids = set(th_kept) == set(dt_kept)
    same_text = same_ids and all(th_kept[k] == dt_kept[k] for k in th_kept)
    print(f"{'':<12}{'wall s':>9}{'cpu s':>9}{'docs/s':>9}{'MB/s':>8}{'kept':>6}   (rates on CPU time)")
    for name, secs, cpu, kept in (("datatrove", dt_s, dt_cpu, dt_kept), ("thresher", th_s, th_cpu, th_kept)):
        print(f"{name:<12}{secs:>9.2f}{cpu:>9.2f}{len(pages) / cpu:>9.1f}{mb / cpu:>8.3f}{len(kept):>6}")
    print(f"speed ratio (thresher / datatrove): {dt_cpu / th_cpu:.1f}x per core on CPU time "
          f"({dt_s / th_s:.1f}x on wall time)")
    print(f"same kept documents: {same_ids}; same final texts: {same_text}")
    if not same_ids:
        only_dt, only_th = set(dt_kept) - set(th_kept), set(th_kept) - set(dt_kept)
        print(f"  kept only by datatrove: {len(only_dt)} {sorted(only_dt)[:3]}")
        print(f"  kept only by thresher: {len(only_th)} {sorted(only_th)[:3]}")
    if args.memory_docs:
        sub = pages[: args.memory_docs]
        clear_caches()
        th_peak = _peak(run_thresher, sub, args.batch_size)
        dt_peak = _peak(run_datatrove, sub)
        print(f"peak Python heap on {len(sub)} pages (tracemalloc): datatrove {dt_peak / 1e6:.1f} MB, "
              f"thresher {th_peak / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
