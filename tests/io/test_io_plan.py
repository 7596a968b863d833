"""plan_shards: input expansion, format/compression detection, deterministic slicing."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from thresher.document import Document
from thresher.errors import UsageError
from thresher.io.base import BadRecord, ReaderOptions, ShardSpec
from thresher.io.plan import plan_shards
from thresher.io.readers import read_shard


def record_lines(n: int, width: int = 7) -> list[bytes]:
    """Real-looking JSONL lines of varied length (some long, some short, non-ASCII text)."""
    words = ["crawl", "página", "文本", "text", "Straße", "news", "the", "über", "model", "data"]
    out = []
    for i in range(n):
        body = " ".join(words[(i * 7 + k) % len(words)] for k in range(1 + (i * 37) % 60 * width // 7))
        out.append(orjson.dumps({"id": f"doc-{i}", "text": f"Title {i}\n{body}", "url": f"https://ex.org/{i}"}))
    return out


def read_all(specs: list[ShardSpec], options: ReaderOptions) -> list[Document | BadRecord]:
    return [item for spec in specs for item in read_shard(spec, options)]


def ids(items: list) -> list[str]:
    assert all(isinstance(x, Document) for x in items), [x for x in items if not isinstance(x, Document)][:3]
    return [x.id for x in items]


# -- inputs ----------------------------------------------------------------------------------------


def test_expand_files_folders_globs_sorted_and_deduplicated(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "deep").mkdir()
    for rel in ["a.jsonl", "b/c.jsonl", "b/deep/d.jsonl", "b/.hidden.jsonl", "b/_SUCCESS", "z.jsonl"]:
        (tmp_path / rel).write_bytes(b'{"text": "x"}\n')
    specs = plan_shards(
        [str(tmp_path / "z.jsonl"), str(tmp_path / "b"), str(tmp_path / "*.jsonl"), str(tmp_path / "a.jsonl")],
        ReaderOptions(),
    )
    names = [os.path.relpath(s.path, tmp_path) for s in specs]
    assert names == ["a.jsonl", "b/c.jsonl", "b/deep/d.jsonl", "z.jsonl"]
    assert plan_shards([str(tmp_path / "**" / "*.jsonl")], ReaderOptions()) == specs


@pytest.mark.parametrize("name", ["nothere.jsonl", "nothere/*.jsonl"])
def test_missing_path_or_empty_glob_is_a_usage_error_naming_it(tmp_path: Path, name: str) -> None:
    target = str(tmp_path / name)
    with pytest.raises(UsageError) as err:
        plan_shards([target], ReaderOptions())
    assert target in str(err.value)
    assert str(err.value).count(".") >= 1 and "\n" not in str(err.value)


def test_empty_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="contains no files"):
        plan_shards([str(tmp_path / "empty")], ReaderOptions())


# -- detection -------------------------------------------------------------------------------------


def test_compression_comes_from_magic_bytes_not_suffix(tmp_path: Path) -> None:
    lines = b"\n".join(record_lines(20)) + b"\n"
    (tmp_path / "really-zstd.jsonl.gz").write_bytes(zstandard.ZstdCompressor().compress(lines))
    (tmp_path / "really-gzip.jsonl").write_bytes(gzip.compress(lines))
    (tmp_path / "really-plain.jsonl.zst").write_bytes(lines)
    specs = plan_shards([str(tmp_path)], ReaderOptions())
    assert [(Path(s.path).name, s.compression) for s in specs] == [
        ("really-gzip.jsonl", "gzip"),
        ("really-plain.jsonl.zst", "none"),
        ("really-zstd.jsonl.gz", "zstd"),
    ]
    for spec in specs:
        assert ids(list(read_shard(spec, ReaderOptions()))) == [f"doc-{i}" for i in range(20)]


def test_format_from_suffix_then_content(tmp_path: Path) -> None:
    (tmp_path / "a.ndjson").write_bytes(b'{"text": "x"}\n')
    (tmp_path / "noext").write_bytes(gzip.compress(b'  {"text": "x"}\n'))
    (tmp_path / "notes").write_bytes("Just some words, ünïcode.\n".encode())
    pq.write_table(pa.table({"text": ["a"]}), tmp_path / "table.bin")
    (tmp_path / "crawl.dat").write_bytes(
        gzip.compress(b"WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: 2\r\n\r\nhi\r\n\r\n")
    )
    formats = {Path(s.path).name: s.format for s in plan_shards([str(tmp_path)], ReaderOptions())}
    assert formats == {
        "a.ndjson": "jsonl",
        "noext": "jsonl",
        "notes": "txt",
        "table.bin": "parquet",
        "crawl.dat": "wet",
    }
    forced = plan_shards([str(tmp_path / "notes")], ReaderOptions(format="jsonl"))
    assert forced[0].format == "jsonl"


def test_binary_file_of_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 10)
    with pytest.raises(UsageError, match="blob.bin"):
        plan_shards([str(tmp_path / "blob.bin")], ReaderOptions())


# -- slicing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shard_bytes", [1, 97, 1000, 4096, 50_000, 10**9])
def test_plain_jsonl_slices_union_is_the_whole_file(tmp_path: Path, shard_bytes: int) -> None:
    lines = record_lines(300)
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    options = ReaderOptions(shard_bytes=shard_bytes)
    specs = plan_shards([str(path)], options)
    size = path.stat().st_size
    if shard_bytes >= size:
        assert [s.unit for s in specs] == ["file"]
    else:
        assert len(specs) == -(-size // shard_bytes)
        assert all(s.unit == "bytes" for s in specs)
        assert [s.start for s in specs[1:]] == [s.end for s in specs[:-1]]
    assert ids(read_all(specs, options)) == [f"doc-{i}" for i in range(300)]


def test_plain_jsonl_slice_boundary_exactly_at_line_start_and_no_trailing_newline(tmp_path: Path) -> None:
    lines = [b'{"id": "a", "text": "1234"}', b'{"id": "b", "text": "5678"}', b'{"id": "c", "text": "9"}']
    path = tmp_path / "exact.jsonl"
    path.write_bytes(b"\n".join(lines))  # no final newline
    width = len(lines[0]) + 1  # a boundary falls exactly at the start of line 2
    options = ReaderOptions(shard_bytes=width)
    specs = plan_shards([str(path)], options)
    per_slice = [ids(list(read_shard(s, options))) for s in specs]
    assert per_slice[0] == ["a"] and per_slice[1] == ["b"]
    assert sum(per_slice, []) == ["a", "b", "c"]


def write_members(path: Path, lines: list[bytes], member_bytes: int, compression: str) -> None:
    """Several gzip members / zstd frames; members are cut every ``member_bytes`` even mid-line."""
    data = b"\n".join(lines) + b"\n"
    with open(path, "wb") as fh:
        for i in range(0, len(data), member_bytes):
            piece = data[i : i + member_bytes]
            if compression == "gzip":
                fh.write(gzip.compress(piece, mtime=0))
            else:
                fh.write(zstandard.ZstdCompressor(level=3).compress(piece))


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
@pytest.mark.parametrize("member_bytes", [333, 5000, 10**7])
@pytest.mark.parametrize("shard_bytes", [2000, 20_000])
def test_multi_member_slices_union_is_the_whole_file(
    tmp_path: Path, compression: str, member_bytes: int, shard_bytes: int
) -> None:
    lines = record_lines(400)
    path = tmp_path / ("data.jsonl.gz" if compression == "gzip" else "data.jsonl.zst")
    write_members(path, lines, member_bytes, compression)
    options = ReaderOptions(shard_bytes=shard_bytes)
    specs = plan_shards([str(path)], options)
    if member_bytes >= 10**7:
        assert [s.unit for s in specs] == ["file"]  # one stream: cannot be entered mid-way
    else:
        assert len(specs) > 3 and all(s.unit == "members" for s in specs)
        assert [s.start for s in specs[1:]] == [s.end for s in specs[:-1]]
        if member_bytes == 333:
            assert any(s.extra.get("starts_mid_line") for s in specs)
    assert ids(read_all(specs, options)) == [f"doc-{i}" for i in range(400)]
    # the plan depends only on the file and shard_bytes
    assert plan_shards([str(path)], options) == specs


def test_parquet_slices_by_row_groups(tmp_path: Path) -> None:
    n = 1000
    table = pa.table({"id": [f"r{i}" for i in range(n)], "text": [f"row number {i} " * 20 for i in range(n)]})
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=100)
    meta = pq.ParquetFile(path).metadata
    group_bytes = meta.row_group(0).total_byte_size
    options = ReaderOptions(shard_bytes=group_bytes * 3)
    specs = plan_shards([str(path)], options)
    assert [(s.unit, s.start, s.end) for s in specs] == [
        ("row_groups", 0, 3),
        ("row_groups", 3, 6),
        ("row_groups", 6, 9),
        ("row_groups", 9, 10),
    ]
    assert ids(read_all(specs, options)) == [f"r{i}" for i in range(n)]


def test_spec_round_trips_through_json(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl.gz"
    write_members(path, record_lines(200), 500, "gzip")
    for spec in plan_shards([str(path)], ReaderOptions(shard_bytes=3000)):
        assert ShardSpec.from_dict(orjson.loads(orjson.dumps(spec.to_dict()))) == spec


def test_zstd_skippable_and_empty_frames_do_not_break_slices(tmp_path: Path) -> None:
    import struct

    data = b"\n".join(record_lines(300)) + b"\n"
    skippable = struct.pack("<II", 0x184D2A50, 4) + b"seek"
    path = tmp_path / "frames.jsonl.zst"
    with open(path, "wb") as fh:
        for i in range(0, len(data), 700):  # frames cut mid-line, each followed by junk frames
            fh.write(zstandard.ZstdCompressor().compress(data[i : i + 700]))
            fh.write(skippable + zstandard.ZstdCompressor().compress(b""))
    options = ReaderOptions(shard_bytes=4000)
    specs = plan_shards([str(path)], options)
    assert len(specs) > 3
    assert ids(read_all(specs, options)) == [f"doc-{i}" for i in range(300)]
