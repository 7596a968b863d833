"""I/O throughput: Thresher's reader and writer against the bare floor of the same file.

Builds a JSONL.zst and a Parquet file from the shared webcorpus (``text`` plus a few metadata fields,
records replicated with new ids up to ``--mb`` MB of JSON), in a temporary folder, then measures:

- ``floor read``: decompress + ``orjson.loads`` of every line (JSONL), or ``iter_batches`` +
  ``to_pylist`` of every column (Parquet): the least any JSON/Parquet reader must do;
- ``thresher read``: ``read_shard`` yielding Documents;
- ``floor read+write``: the read floor plus ``orjson.dumps`` + zstd level 3 of every record (JSONL),
  or ``pyarrow.Table`` + ``ParquetWriter`` (Parquet);
- ``thresher read+write``: ``read_shard`` -> ``ShardWriter`` (same format, zstd);
- ``warc.gz read`` (``--mb``/4 MB of webcorpus HTML as a Common-Crawl-style WARC.gz): FastWARC's
  ``ArchiveIterator`` reading and decoding every response body (floor) against ``read_shard``
  (MB/s of HTML).

MB/s are uncompressed JSON megabytes per CPU-second (process time, steadier than wall time on a shared
machine; the wall-time overhead is printed too); ``overhead`` is Thresher's time over the matching floor
minus one (target: under 30%). Each figure is the best of ``--repeat`` runs, floor and Thresher
alternating.

Run from the repository root::

    .venv/bin/python benchmarks/io_throughput.py [--mb 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from thresher.io.base import ReaderOptions
from thresher.io.plan import plan_shards
from thresher.io.readers import read_shard
from thresher.io.writers import ShardWriter

WEBCORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "webcorpus" / "pages-000.jsonl.gz"
KEEP = ("url", "lang", "source")


def build_inputs(folder: Path, mb: int) -> tuple[Path, Path, int]:
    """Write ``bench.jsonl.zst`` and ``bench.parquet`` (same records); return paths and JSON bytes."""
    base = []
    with gzip.open(WEBCORPUS, "rb") as fh:
        for line in fh:
            rec = orjson.loads(line)
            base.append({"text": rec["text"], "metadata": {k: rec.get(k) for k in KEEP}, "id": rec["id"]})
    target = mb * 1_000_000
    lines: list[bytes] = []
    total = 0
    copy = 0
    while total < target:
        for rec in base:
            line = orjson.dumps({"id": f"{rec['id']}#{copy}", "text": rec["text"], "metadata": rec["metadata"]})
            lines.append(line)
            total += len(line) + 1
            if total >= target:
                break
        copy += 1
    jsonl = folder / "bench.jsonl.zst"
    cctx = zstandard.ZstdCompressor(level=3)
    with open(jsonl, "wb") as out, cctx.stream_writer(out) as writer:
        for i in range(0, len(lines), 10_000):
            writer.write(b"\n".join(lines[i : i + 10_000]) + b"\n")
    recs = [orjson.loads(line) for line in lines]
    table = pa.table(
        {
            "id": [r["id"] for r in recs],
            "text": [r["text"] for r in recs],
            "url": [r["metadata"]["url"] for r in recs],
            "lang": [r["metadata"]["lang"] for r in recs],
            "source": [r["metadata"]["source"] for r in recs],
        }
    )
    parquet = folder / "bench.parquet"
    pq.write_table(table, parquet, compression="zstd", row_group_size=20_000)
    return jsonl, parquet, total


def build_warc(folder: Path, mb: int) -> tuple[Path, int]:
    """Write ``bench.warc.gz`` (webcorpus HTML as HTTP responses, one gzip member per record, like
    Common Crawl) holding about ``mb`` MB of HTML; return its path and the HTML bytes."""
    path = folder / "bench.warc.gz"
    total = 0
    with gzip.open(WEBCORPUS, "rb") as fh, open(path, "wb") as out:
        for i, line in enumerate(fh):
            rec = orjson.loads(line)
            body = rec["html"].encode()
            http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n" % len(
                body
            )
            block = http + body
            header = (
                f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {rec.get('url') or 'http://x/'}\r\n"
                f"WARC-Date: 2024-01-01T00:00:00Z\r\nWARC-Record-ID: <urn:uuid:{i}>\r\n"
                f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(block)}\r\n\r\n"
            ).encode()
            out.write(gzip.compress(header + block + b"\r\n\r\n", compresslevel=6, mtime=0))
            total += len(body)
            if total >= mb * 1_000_000:
                break
    return path, total


def floor_warc_read(path: Path) -> int:
    """FastWARC's own iteration: every HTML response's body read and decoded."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    n = 0
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=True, auto_decode="all"):
            record.http_content_type  # noqa: B018 - the floor inspects the type like a reader must
            record.reader.read().decode("utf-8", "replace")
            n += 1
    return n


def floor_jsonl_read(path: Path, write: bool, out: Path) -> int:
    n = 0
    dctx = zstandard.ZstdDecompressor()
    loads = orjson.loads
    dumps = orjson.dumps
    cobj = zstandard.ZstdCompressor(level=3).compressobj() if write else None
    sink = open(out / "floor.jsonl.zst", "wb") if write else None
    pending = b""
    with open(path, "rb") as fh:
        reader = dctx.stream_reader(fh, read_across_frames=True)
        while True:
            chunk = reader.read(4 << 20)
            if not chunk:
                break
            parts = (pending + chunk).split(b"\n")
            pending = parts.pop()
            if write:
                buf = [dumps(loads(line)) for line in parts if line]
                n += len(buf)
                buf.append(b"")
                sink.write(cobj.compress(b"\n".join(buf)))  # type: ignore[union-attr]
            else:
                for line in parts:
                    if line:
                        loads(line)
                        n += 1
    if sink is not None:
        sink.write(cobj.flush())  # type: ignore[union-attr]
        sink.close()
    return n


def floor_parquet_read(path: Path, write: bool, out: Path) -> int:
    n = 0
    pf = pq.ParquetFile(path)
    writer = None
    for batch in pf.iter_batches(batch_size=4096, use_threads=False):
        cols = [c.to_pylist() for c in batch.columns]
        n += batch.num_rows
        if write:
            ids, texts = cols[0], cols[1]
            metas = [orjson.dumps({"url": u, "lang": la, "source": s}).decode() for u, la, s in zip(*cols[2:])]
            table = pa.table({"id": ids, "text": texts, "metadata": metas})
            if writer is None:
                writer = pq.ParquetWriter(str(out / "floor.parquet"), table.schema, compression="zstd")
            writer.write_table(table)
    if writer is not None:
        writer.close()
    return n


def thresher_run(path: Path, write: bool, out: Path, fmt: str) -> int:
    options = ReaderOptions()
    n = 0
    for i, spec in enumerate(plan_shards([str(path)], options)):
        docs = (x for x in read_shard(spec, options) if not hasattr(x, "reason"))
        if write:
            with ShardWriter(out, i, fmt, "zstd") as writer:  # type: ignore[arg-type]
                n += writer.write(docs)
        else:
            for _ in docs:
                n += 1
    return n


def best_pair(floor: Callable[[], int], ours: Callable[[], int], repeat: int) -> tuple[float, float, float, float, int]:
    """Run the floor and Thresher alternately ``repeat`` times (so both see the same machine load);
    return their best CPU and wall times and the document count (checked equal)."""
    cpu: dict[int, list[float]] = {0: [], 1: []}
    wall: dict[int, list[float]] = {0: [], 1: []}
    counts = set()
    for _ in range(repeat):
        for k, fn in enumerate((floor, ours)):
            c0, t0 = time.process_time(), time.perf_counter()
            counts.add(fn())
            cpu[k].append(time.process_time() - c0)
            wall[k].append(time.perf_counter() - t0)
    assert len(counts) == 1, counts
    return min(cpu[0]), min(wall[0]), min(cpu[1]), min(wall[1]), counts.pop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="MB of JSON to build (default 200)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the best is kept")
    args = parser.parse_args()
    if not WEBCORPUS.exists():
        print(f"webcorpus not found at {WEBCORPUS}; set up ../shared/data first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="thresher-io-bench-") as tmp:
        folder = Path(tmp)
        jsonl, parquet, total = build_inputs(folder, args.mb)
        mb = total / 1e6
        print(
            f"input: {mb:.0f} MB of JSON; {jsonl.name} {os.path.getsize(jsonl) / 1e6:.0f} MB, "
            f"{parquet.name} {os.path.getsize(parquet) / 1e6:.0f} MB; best of {args.repeat}; "
            f"{os.cpu_count()} cores (shared machine)"
        )
        rows = []
        for label, path, floor_fn, fmt in (
            ("jsonl.zst", jsonl, floor_jsonl_read, "jsonl"),
            ("parquet", parquet, floor_parquet_read, "parquet"),
        ):
            for write in (False, True):
                out = folder / f"out-{label}-{write}"
                out.mkdir()
                cf, wf, ct, wt, nt = best_pair(
                    lambda p=path, w=write, o=out, f=floor_fn: f(p, w, o),
                    lambda p=path, w=write, o=out, f=fmt: thresher_run(p, w, o, f),
                    args.repeat,
                )
                rows.append((label, "read+write" if write else "read", nt, mb / cf, mb / ct, ct / cf - 1, wt / wf - 1))
        warc, html_bytes = build_warc(folder, max(args.mb // 4, 1))
        cf, wf, ct, wt, nt = best_pair(
            lambda: floor_warc_read(warc), lambda: thresher_run(warc, False, folder, "jsonl"), args.repeat
        )
        html_mb = html_bytes / 1e6
        rows.append(("warc.gz", "read", nt, html_mb / cf, html_mb / ct, ct / cf - 1, wt / wf - 1))
        read_floor = {r[0]: r[3] for r in rows if r[1] == "read"}
        print()
        print("MB/s = MB of JSON per CPU-second (process time; the machine is shared, wall time is noisier)")
        print(
            f"{'file':<10} {'task':<11} {'docs':>7} {'floor MB/s':>11} {'thresher MB/s':>14} "
            f"{'overhead':>9} {'(wall)':>7}"
        )
        for label, task, n, floor, ours, overhead, wall_overhead in rows:
            print(
                f"{label:<10} {task:<11} {n:>7} {floor:>11.0f} {ours:>14.0f} {overhead:>+9.0%} {wall_overhead:>+7.0%}"
            )
        print()
        for label, task, _n, _floor, ours, _o, _w in rows:
            if task == "read+write":
                ratio = read_floor[label] / ours
                print(f"{label}: Thresher read+write costs {ratio:.2f}x the decompress+parse floor of reading alone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
