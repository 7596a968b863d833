"""What the signal table buys: re-deciding thresholds with ``refilter`` vs rerunning the filters.

Builds ``--docs`` documents from the English pages of ``../shared/data/webcorpus`` (each page cut
into chunks of about ``--chunk`` characters at line breaks, with distinct ids, repeated as needed),
runs the FineWeb filter chain on them once (language -> Gopher repetition -> Gopher quality -> C4
without the punctuation rule -> FineWeb quality; published defaults), then changes three
thresholds two ways, in one process run:

- ``refilter``: new decisions from the run's signal table (:mod:`thresher.report.refilter`);
- a full rerun of the chain with the new thresholds into a new folder.

Prints wall and CPU seconds of each, documents/s, the ratio, the peak memory of refilter in a
process of its own, and whether refilter's decisions are the rerun's, document by document (they
must be). No peer tool has a signal table, so the
comparison is with Thresher's own rerun.

    python benchmarks/refilter_speed.py [--docs 200000] [--chunk 1500] [--workers 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parent))

from parity_datatrove import DEFAULT_DATA, load_pages  # noqa: E402

RECIPE = """
description: FineWeb filter chain (refilter benchmark)
steps:
  - language: {languages: [en], min_score: 0.65}
  - gopher_repetition
  - gopher_quality
  - c4: {filter_no_terminal_punct: false}
  - fineweb_quality
"""
#: documents per zstd frame of the input (a crawl file is many gzip members or zstd frames)
FRAME_DOCS = 10_000
#: the thresholds changed for the second pass (all read by ``keep`` only)
SETTINGS = ["language.min_score=0.8", "gopher_quality.min_doc_words=80", "fineweb_quality.line_punct_thr=0.2"]


def write_corpus(path: Path, n_docs: int, chunk: int) -> int:
    """``n_docs`` documents of about ``chunk`` characters from the webcorpus pages; returns bytes written."""
    pieces: list[str] = []
    for page in load_pages(DEFAULT_DATA):
        buf: list[str] = []
        size = 0
        for line in page["text"].split("\n"):
            buf.append(line)
            size += len(line) + 1
            if size >= chunk:
                pieces.append("\n".join(buf))
                buf, size = [], 0
        if size >= chunk // 3:
            pieces.append("\n".join(buf))
    if not pieces:
        raise SystemExit(f"no English pages in {DEFAULT_DATA}")
    total = 0
    with open(path, "wb") as raw, zstandard.ZstdCompressor(level=3).stream_writer(raw) as out:
        for i in range(n_docs):
            line = orjson.dumps({"id": f"d{i:08d}", "text": pieces[i % len(pieces)]}) + b"\n"
            total += out.write(line)
            if i % FRAME_DOCS == FRAME_DOCS - 1:
                out.flush(zstandard.FLUSH_FRAME)  # independent frames: the planner cuts the file in shards
    return total


def refilter_peak_mb(root: Path) -> float:
    """Peak resident memory of a separate process that runs refilter as the CLI does (decisions
    written to ``root/decided``, not kept in memory)."""
    code = (
        "import resource, sys\n"
        "from thresher.report.refilter import refilter\n"
        f"refilter({str(root / 'run')!r}, settings={SETTINGS!r}, out={str(root / 'decided')!r}, keep_decisions=False)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1]) / 1024  # ru_maxrss is in KiB on Linux


def timed(fn):  # type: ignore[no-untyped-def]
    """``(result, wall seconds, CPU seconds of this process)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=200_000)
    ap.add_argument("--chunk", type=int, default=1500, help="characters per document, about")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    args = ap.parse_args()
    if not DEFAULT_DATA.exists():
        raise SystemExit(f"{DEFAULT_DATA} not found: this benchmark needs ../shared/data/webcorpus")

    from thresher import parse_recipe, run
    from thresher.report.refilter import apply_settings, refilter
    from thresher.report.signals import read_signal_table

    root = args.keep or Path(tempfile.mkdtemp(prefix="thresher-refilter-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        corpus = root / "in.jsonl.zst"
        size = write_corpus(corpus, args.docs, args.chunk)
        print(f"{args.docs:,} documents, {size / 1e6:.0f} MB of JSON, {args.workers} worker(s)")
        recipe = parse_recipe(RECIPE)
        _, w0, c0 = timed(lambda: run([corpus], root / "run", recipe, workers=args.workers))
        print(f"first run (scores and decides):        wall {w0:7.1f} s  CPU {c0:7.1f} s  "
              f"{args.docs / w0:10,.0f} docs/s")
        result, w1, c1 = timed(lambda: refilter(root / "run", settings=SETTINGS))
        print(f"refilter {', '.join(SETTINGS)}:")
        print(f"  from the signal table:               wall {w1:7.1f} s  CPU {c1:7.1f} s  "
              f"{args.docs / w1:10,.0f} docs/s")
        print(f"  peak memory of refilter alone, decisions streamed to a file: {refilter_peak_mb(root):,.0f} MB")
        new = apply_settings(recipe, SETTINGS)
        _, w2, c2 = timed(lambda: run([corpus], root / "rerun", new, workers=args.workers))
        print(f"  full rerun:                          wall {w2:7.1f} s  CPU {c2:7.1f} s  "
              f"{args.docs / w2:10,.0f} docs/s")
        print(f"  refilter is {w2 / w1:.1f}x faster than the rerun (wall)")
        assert result.decisions is not None
        mine = {r["id"]: (r["kept"], r["dropped_by"], r["reason"]) for r in result.decisions.to_pylist()}
        rows = read_signal_table(root / "rerun", columns=["id", "kept", "dropped_by", "reason"]).to_pylist()
        rerun = {r["id"]: (r["kept"], r["dropped_by"], r["reason"]) for r in rows}
        same = sum(mine.get(k) == v for k, v in rerun.items())
        print(f"  kept before {result.kept_before:,}, after {result.kept_after:,}; undecidable "
              f"{sum(result.undecidable.values()):,}; decisions equal to the rerun's: {same:,} of {len(rerun):,}")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
