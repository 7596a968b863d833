"""MinHash dedup speed and memory: Thresher's ``minhash`` step vs datatrove's 4-stage MinhashDedup.

Both sides read the same JSONL shards (real pages from ``shared/data/webcorpus/pages-000.jsonl.gz``,
cut to ``--max-chars`` and replicated with perturbations: exact copies, near copies with a few words
changed or a boilerplate line added, and heavily rewritten pages that are not duplicates), use the
same shingles (word 5-grams over datatrove's ``simplify_text`` + spaCy English words), the same
112 permutations (seed 1) and 14 bands x 8 rows, and write the kept documents back to JSONL. Each
side runs in its own subprocess (one process each, so figures are per core); wall time and peak
RSS (``VmHWM`` from /proc, reset between Thresher's phases to get each phase's peak) are printed
with documents/s, the speed ratio and the agreement of the two duplicate clusterings.

Both wall time and **CPU time** (``time.process_time`` of the side's process, per phase) are
reported: on a machine shared with other jobs the wall time of a run depends on the load while it
ran, the CPU time much less, so linear cost in corpus size is checked on CPU-microseconds per
document (``--sweep``). Speed ratios are given for both.

datatrove's shingling runs spaCy (~100 docs/s per core on 5 KB pages), so a 200k-document run of
it takes most of an hour: ``--dt-docs M`` runs datatrove (and Thresher again) on the first M
documents only, and the datatrove time for the full size is then *extrapolated* linearly from that
run (printed as such). Use ``--dt-docs 0`` to run datatrove on the full size.

``--memory-sweep 100000,250000`` checks the memory bound without storing a corpus: documents of
~5 KB are generated on the fly, shard by shard (``--shard-docs`` per shard; 10% of them near copies
of the previous one), and run through collect, every decide phase and apply, printing the peak
resident memory of each phase. Collect and apply hold one shard, a band task at most
``memory_mb``; per-phase peaks that stay flat from one size to the next show the bound.

Examples::

    python benchmarks/dedup_speed.py --docs 20000 --dt-docs 20000       # both sides, same corpus
    python benchmarks/dedup_speed.py --docs 200000 --dt-docs 10000 --sweep 50000,100000,200000
    python benchmarks/dedup_speed.py --docs 0 --memory-sweep 100000,250000 --shard-docs 25000
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PAGES = REPO.parent / "shared" / "data" / "webcorpus" / "pages-000.jsonl.gz"
CORPUS_VERSION = 2

# -- corpus ---------------------------------------------------------------------------------------------


def load_pages(path: Path, max_chars: int) -> list[str]:
    """Texts of the real pages, each cut to at most ``max_chars`` at a line or word boundary."""
    pages = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line)["text"]
            if len(text) > max_chars:
                cut = text.rfind("\n", 0, max_chars)
                if cut < max_chars // 2:
                    cut = text.rfind(" ", 0, max_chars)
                text = text[: max(cut, 1)]
            if len(text.split()) >= 20:
                pages.append(text)
    return pages


BOILERPLATE = [
    "Share this article on social media",
    "Subscribe to our newsletter for weekly updates",
    "Cookie settings | Privacy policy | Terms of use",
]


def make_doc(k: int, pages: list[str], vocab: list[str]) -> str:
    """Document ``k`` of the corpus (depends on ``k`` only, so smaller corpora are prefixes)."""
    n = len(pages)
    group = k // 4  # four consecutive documents come from the same page
    base = pages[group % n]
    if k % 4 == 0 and group < n:
        return base
    rng = random.Random(k)
    kind = rng.random()
    words = base.split(" ")
    if kind < 0.15:  # exact copy
        return base
    if kind < 0.40:  # near copy: 1-3% of the words replaced
        for _ in range(max(1, int(len(words) * rng.uniform(0.01, 0.03)))):
            words[rng.randrange(len(words))] = rng.choice(vocab)
        return " ".join(words)
    if kind < 0.50:  # same page with a boilerplate line added
        return base + "\n" + rng.choice(BOILERPLATE)
    # not a duplicate: about half the words replaced
    return " ".join(w if rng.random() < 0.5 else rng.choice(vocab) for w in words)


def build_corpus(folder: Path, docs: int, shards: int, pages_path: Path, max_chars: int) -> Path:
    """Write ``docs`` documents into ``shards`` JSONL files under ``folder`` (cached by parameters)."""
    target = folder / f"corpus-v{CORPUS_VERSION}-{docs}-{shards}-{max_chars}"
    if (target / "done").exists():
        return target
    pages = load_pages(pages_path, max_chars)
    vocab = sorted({w for p in pages[:500] for w in p.split() if w.isalpha()})
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    per = -(-docs // shards)
    for s in range(shards):
        with open(target / f"shard-{s:05d}.jsonl", "w", encoding="utf-8") as fh:
            for k in range(s * per, min(docs, (s + 1) * per)):
                fh.write(json.dumps({"id": f"d{k:08d}", "text": make_doc(k, pages, vocab)}) + "\n")
    (target / "done").write_text("ok")
    return target


# -- measuring ------------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_time() -> float:
    """CPU seconds (user + system) of this process and of any child process it waited for."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def reset_peak() -> None:
    """Reset VmHWM (Linux: writing 5 to clear_refs) so the next phase's peak is its own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


# -- Thresher side ------------------------------------------------------------------------------------------


def jsonl_batches(path: Path, size: int = 256):
    """Documents of one JSONL shard, in batches."""
    import orjson

    from thresher.document import Document

    batch = []
    with open(path, "rb") as fh:
        for line in fh:
            rec = orjson.loads(line)
            batch.append(Document(rec["id"], rec["text"]))
            if len(batch) == size:
                yield batch
                batch = []
    if batch:
        yield batch


def run_minhash(shards: list, batches, out: Path, on_kept=None) -> dict:
    """Run the ``minhash`` step over ``shards`` (``batches(shard)`` yields its documents), phase by phase.

    Returns wall time, CPU time (``time.process_time``) and peak RSS of each phase. ``on_kept(shard,
    docs)`` receives each applied batch (to write the kept documents).
    """
    from thresher.dedup.minhash import MinhashDedup
    from thresher.steps.base import CorpusContext

    step = MinhashDedup()
    ctx = CorpusContext(workdir=out / "work", n_shards=len(shards))
    phases: dict[str, dict] = {}

    def measure(name: str, fn) -> None:
        reset_peak()
        t, c = time.perf_counter(), time.process_time()
        fn()
        phases[name] = {"s": time.perf_counter() - t, "cpu_s": time.process_time() - c, "peak_mb": peak_rss_mb()}

    def collect() -> None:
        for s_, shard in enumerate(shards):
            step.collect(ctx, s_, batches(shard))

    def decide(phase: str, n: int) -> None:
        for task in range(n):
            step.decide(ctx, phase, task)

    def apply() -> None:
        for s_, shard in enumerate(shards):
            for batch in step.apply(ctx, s_, batches(shard)):
                if on_kept is not None:
                    on_kept(s_, batch)

    start, cpu0 = time.perf_counter(), time.process_time()
    measure("collect", collect)
    for phase, n in step.decide_phases(ctx):
        measure(f"decide:{phase}({n})", lambda: decide(phase, n))  # noqa: B023 (called at once)
    measure("apply", apply)
    return {
        "wall_s": time.perf_counter() - start,
        "cpu_s": time.process_time() - cpu0,
        "peak_mb": max(p["peak_mb"] for p in phases.values()),
        "phases": phases,
        "work_bytes": sum(p.stat().st_size for p in (out / "work").rglob("*") if p.is_file()),
        "stats": step.stats(ctx),
    }


def side_thresher(corpus: Path, out: Path) -> dict:
    import orjson

    files = sorted(corpus.glob("shard-*.jsonl"))
    clusters: dict[str, str] = {}
    removed = 0
    handles = {}

    def on_kept(shard: int, batch) -> None:
        nonlocal removed
        if shard not in handles:
            handles[shard] = open(out / f"kept-{shard:05d}.jsonl", "wb")
        fh = handles[shard]
        for doc in batch:
            if doc.drop is None:
                fh.write(orjson.dumps(doc.to_dict()) + b"\n")
                if doc.metadata.get("cluster_size", 1) > 1:
                    clusters[doc.id] = doc.id
            else:
                removed += 1
                clusters[doc.id] = doc.drop.details["duplicate_of"]

    result = run_minhash(files, jsonl_batches, out, on_kept)
    for fh in handles.values():
        fh.close()
    (out / "clusters.json").write_text(json.dumps(clusters))
    return {**result, "removed": removed}


# -- synthetic documents for the memory check (generated on the fly, never stored) --------------------


def synthetic_batches(spec: tuple[int, int, int], size: int = 256):
    """Documents ``first..first+count-1`` of the synthetic corpus (``spec = (shard, first, count)``).

    Document ``k`` has ~800 words (~5 KB) drawn from a 20,000-word vocabulary by a generator seeded
    with ``k``; one document in ten (``k % 10 == 1``) is a near copy of document ``k - 1`` (2% of its
    words replaced), so the decide phases have clusters to build.
    """
    import numpy as np

    from thresher.document import Document

    rng0 = np.random.default_rng(12345)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = np.array(["".join(rng0.choice(letters, size=int(n))) for n in rng0.integers(2, 11, size=20_000)])

    def words(k: int) -> np.ndarray:
        return vocab[np.random.default_rng(k).integers(0, len(vocab), size=800)]

    _, first, count = spec
    batch = []
    for k in range(first, first + count):
        if k % 10 == 1:
            w = words(k - 1).copy()
            rng = np.random.default_rng(k)
            w[rng.integers(0, len(w), size=16)] = vocab[rng.integers(0, len(vocab), size=16)]
        else:
            w = words(k)
        lines = [" ".join(w[i : i + 16]) + "." for i in range(0, len(w), 16)]
        batch.append(Document(f"s{k:09d}", "\n".join(lines)))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def side_synthetic(n_docs: int, shard_docs: int, out: Path) -> dict:
    shards = [(s, lo, min(shard_docs, n_docs - lo)) for s, lo in enumerate(range(0, n_docs, shard_docs))]
    return run_minhash(shards, synthetic_batches, out)


# -- datatrove side ----------------------------------------------------------------------------------------


def side_datatrove(corpus: Path, out: Path) -> dict:
    import logging

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.hashing import HashConfig
    from loguru import logger

    logger.remove()
    logging.disable(logging.CRITICAL)
    config = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8, seed=1, hash_config=HashConfig(64, "xxhash"))
    work = out / "work"

    def reader():
        return JsonlReader(str(corpus), glob_pattern="shard-*.jsonl", compression=None)

    stages = {
        "1 signatures": ([reader(), MinhashDedupSignature(output_folder=str(work / "sigs"), config=config)], 1),
        "2 buckets": (
            [MinhashDedupBuckets(input_folder=str(work / "sigs"), output_folder=str(work / "buckets"), config=config)],
            config.num_buckets,
        ),
        "3 cluster": (
            [MinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "remove"),
                                 config=config, save_cluster_id=True)],
            1,
        ),
        "4 filter": (
            [
                reader(),
                MinhashDedupFilter(
                    input_folder=str(work / "remove"),
                    load_cluster_ids=True,
                    exclusion_writer=JsonlWriter(str(out / "removed"), compression=None),
                ),
                JsonlWriter(str(out / "kept"), compression=None),
            ],
            1,
        ),
    }
    phases = {}
    start, cpu0 = time.perf_counter(), cpu_time()
    for name, (pipeline, tasks) in stages.items():
        reset_peak()
        t, c = time.perf_counter(), cpu_time()
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=str(work / "logs" / name),
                              skip_completed=False).run()
        phases[name] = {"s": time.perf_counter() - t, "cpu_s": cpu_time() - c, "peak_mb": peak_rss_mb()}
    wall = time.perf_counter() - start
    # cluster membership: kept representatives and removed documents share minhash_cluster_id
    by_cluster: dict[int, list[tuple[bool, str]]] = {}
    removed = 0
    for folder, is_removed in ((out / "kept", False), (out / "removed", True)):
        for path in sorted(folder.glob("*.jsonl")):
            for line in open(path, "rb"):
                rec = json.loads(line)
                removed += is_removed
                cid = rec["metadata"].get("minhash_cluster_id", -1)
                if cid != -1:
                    by_cluster.setdefault(cid, []).append((is_removed, rec["id"]))
    clusters = {}
    for members in by_cluster.values():
        rep = next((i for r, i in members if not r), min(i for _, i in members))
        for _, doc_id in members:
            clusters[doc_id] = rep
    (out / "clusters.json").write_text(json.dumps(clusters))
    return {"wall_s": wall, "cpu_s": cpu_time() - cpu0, "peak_mb": max(p["peak_mb"] for p in phases.values()),
            "phases": phases, "removed": removed}


# -- comparing -------------------------------------------------------------------------------------------------


def partition(clusters: dict[str, str]) -> dict[str, frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for doc_id, rep in clusters.items():
        groups.setdefault(rep, {rep}).add(doc_id)
    return {d: frozenset(g) for g in groups.values() for d in g}


def agreement(a_path: Path, b_path: Path, n_docs: int) -> dict:
    a, b = partition(json.loads(a_path.read_text())), partition(json.loads(b_path.read_text()))
    members_a, members_b = set(a), set(b)
    union = members_a | members_b
    same = sum(1 for d in union if a.get(d, frozenset([d])) == b.get(d, frozenset([d])))
    return {
        "docs_in_clusters": [len(members_a), len(members_b)],
        "duplicate_members_jaccard": len(members_a & members_b) / len(union) if union else 1.0,
        "same_cluster_all_docs": (n_docs - len(union) + same) / n_docs,
        "same_cluster_clustered_docs": same / len(union) if union else 1.0,
    }


def run_side(side: str, corpus: Path, out: Path, extra: tuple[str, ...] = ()) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, __file__, "--_side", side, "--_corpus", str(corpus), "--_out", str(out), *extra]
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-5000:])
        raise SystemExit(f"{side} side failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def count_docs(corpus: Path) -> int:
    return sum(sum(1 for _ in open(p, "rb")) for p in corpus.glob("shard-*.jsonl"))


def show_side(name: str, r: dict, n: int) -> None:
    print(f"  {name:<9} wall {r['wall_s']:8.1f} s  {n / r['wall_s']:7.1f} docs/s | CPU {r['cpu_s']:8.1f} s "
          f"{n / r['cpu_s']:7.1f} docs/CPU-s | peak {r['peak_mb']:6.0f} MB | removed {r.get('removed', '-')}")
    for phase, p in r["phases"].items():
        print(f"      {phase:<22} wall {p['s']:8.1f} s   CPU {p['cpu_s']:8.1f} s   peak {p['peak_mb']:7.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=200_000, help="documents in the main run (default 200000; 0: none)")
    ap.add_argument("--dt-docs", type=int, default=10_000,
                    help="run datatrove on the first N documents only and extrapolate (0: on all --docs)")
    ap.add_argument("--sweep", default="", help="comma-separated sizes for a Thresher-only linearity sweep")
    ap.add_argument("--memory-sweep", default="", help="comma-separated sizes of synthetic on-the-fly corpora")
    ap.add_argument("--shard-docs", type=int, default=25_000, help="documents per shard of the synthetic corpora")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--max-chars", type=int, default=5000, help="cut pages to about this many characters")
    ap.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    ap.add_argument("--workdir", type=Path, default=None, help="where corpora and outputs go (default: a temp dir)")
    ap.add_argument("--_side", help=argparse.SUPPRESS)
    ap.add_argument("--_corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--_out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--_n", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args._side == "synthetic":
        print(json.dumps(side_synthetic(args._n, args.shard_docs, args._out)))
        return
    if args._side:
        fn = side_thresher if args._side == "thresher" else side_datatrove
        print(json.dumps(fn(args._corpus, args._out)))
        return
    if not args.pages.exists():
        raise SystemExit(f"{args.pages} not found: pass --pages pointing at shared/data/webcorpus/pages-000.jsonl.gz")
    base = args.workdir or Path(tempfile.mkdtemp(prefix="thresher-dedup-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"# dedup speed: Thresher minhash vs datatrove MinhashDedup (1 process each), work folder {base}")
    print(f"# load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(wall times depend on the load; CPU times much less)")

    results: dict[int, dict] = {}
    if args.docs:
        dt_docs = args.docs if args.dt_docs in (0, None) or args.dt_docs >= args.docs else args.dt_docs
        sizes = [dt_docs] + ([args.docs] if args.docs != dt_docs else [])
        for n in sizes:
            t = time.perf_counter()
            corpus = build_corpus(base, n, args.shards, args.pages, args.max_chars)
            n_real = count_docs(corpus)
            mb = sum(p.stat().st_size for p in corpus.glob("*.jsonl")) / 2**20
            built = time.perf_counter() - t
            print(f"\n## {n_real} documents ({mb:.0f} MB JSONL, {args.shards} shards; built in {built:.0f} s)")
            out = base / f"out-{n}"
            shutil.rmtree(out, ignore_errors=True)
            th = run_side("thresher", corpus, out / "thresher")
            show_side("thresher", th, n_real)
            res = {"thresher": th, "n": n_real}
            if n == dt_docs:
                dt = run_side("datatrove", corpus, out / "datatrove")
                show_side("datatrove", dt, n_real)
                agree = agreement(out / "thresher" / "clusters.json", out / "datatrove" / "clusters.json", n_real)
                res["datatrove"] = dt
                res["agreement"] = agree
                print(f"  speed ratio datatrove / thresher: wall {dt['wall_s'] / th['wall_s']:.1f}x, "
                      f"CPU {dt['cpu_s'] / th['cpu_s']:.1f}x; "
                      f"peak memory {th['peak_mb']:.0f} MB vs {dt['peak_mb']:.0f} MB")
                print(f"  agreement: same cluster for {agree['same_cluster_all_docs']:.4%} of all documents, "
                      f"{agree['same_cluster_clustered_docs']:.4%} of clustered ones; duplicate-member Jaccard "
                      f"{agree['duplicate_members_jaccard']:.4f}; docs in clusters {agree['docs_in_clusters']}")
            results[n] = res
        if args.docs != dt_docs:
            sub, full = results[dt_docs], results[args.docs]
            for label, key in (("wall", "wall_s"), ("CPU", "cpu_s")):
                rate = sub["n"] / sub["datatrove"][key]
                est = full["n"] / rate
                print(f"\n## {full['n']} documents, {label}: datatrove EXTRAPOLATED linearly from its "
                      f"{sub['n']}-document run ({rate:.1f} docs/s): ~{est:.0f} s; "
                      f"Thresher MEASURED {full['thresher'][key]:.0f} s "
                      f"-> ratio ~{est / full['thresher'][key]:.1f}x")

    if args.sweep:
        print("\n## Thresher sweep (linear cost check: CPU us/doc should stay flat)")
        print(f"  {'docs':>8}  {'wall s':>8} {'docs/s':>8}  {'CPU s':>8} {'docs/CPU-s':>10} {'CPU us/doc':>10} "
              f"{'vs first':>8}  {'peak MB':>7}  {'work B/doc':>10}")
        first = None
        for n in [int(x) for x in args.sweep.split(",") if x]:
            corpus = build_corpus(base, n, args.shards, args.pages, args.max_chars)
            if n in results:
                th = results[n]["thresher"]
            else:
                out = base / f"out-{n}"
                shutil.rmtree(out, ignore_errors=True)
                th = run_side("thresher", corpus, out / "thresher")
            n_real = count_docs(corpus)
            per_doc = th["cpu_s"] / n_real * 1e6
            first = first or per_doc
            print(f"  {n_real:>8}  {th['wall_s']:8.1f} {n_real / th['wall_s']:8.1f}  {th['cpu_s']:8.1f} "
                  f"{n_real / th['cpu_s']:10.1f} {per_doc:10.0f} {per_doc / first:8.2f}  {th['peak_mb']:7.0f}  "
                  f"{th['work_bytes'] / n_real:10.0f}")
            for phase, p in th["phases"].items():
                print(f"  {'':>8}    {phase:<22} CPU {p['cpu_s'] / n_real * 1e6:7.0f} us/doc   "
                      f"peak {p['peak_mb']:6.0f} MB")

    if args.memory_sweep:
        print(f"\n## memory check: synthetic ~5 KB documents generated on the fly, {args.shard_docs} per shard")
        for n in [int(x) for x in args.memory_sweep.split(",") if x]:
            out = base / f"synthetic-{n}"
            shutil.rmtree(out, ignore_errors=True)
            r = run_side("synthetic", Path("-"), out, ("--_n", str(n), "--shard-docs", str(args.shard_docs)))
            print(f"  {n} documents: wall {r['wall_s']:.0f} s, CPU {r['cpu_s']:.0f} s "
                  f"({n / r['cpu_s']:.0f} docs/CPU-s, generation included), "
                  f"work files {r['work_bytes'] / 2**20:.0f} MB "
                  f"({r['work_bytes'] / n:.0f} B/doc), duplicates {r['stats'].get('duplicates')}")
            for phase, p in r["phases"].items():
                print(f"      {phase:<22} CPU {p['cpu_s']:8.1f} s   peak RSS {p['peak_mb']:7.0f} MB")
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
