"""ShardWriter and write_bad_records: round trips, atomicity, empty shards, determinism."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import orjson
import pyarrow.parquet as pq
import pytest
import zstandard

import thresher.io.writers as writers
from thresher.document import Document
from thresher.errors import UsageError
from thresher.io.base import BadRecord, ReaderOptions
from thresher.io.plan import plan_shards
from thresher.io.readers import read_shard
from thresher.io.writers import ShardWriter, write_bad_records

FORMATS = [("jsonl", "zstd"), ("jsonl", "gzip"), ("jsonl", "none"), ("parquet", "zstd"), ("parquet", "none")]
NAMES = {
    ("jsonl", "zstd"): "part-00003.jsonl.zst",
    ("jsonl", "gzip"): "part-00003.jsonl.gz",
    ("jsonl", "none"): "part-00003.jsonl",
    ("parquet", "zstd"): "part-00003.parquet",
    ("parquet", "none"): "part-00003.parquet",
}


def sample_docs(n: int = 120) -> list[Document]:
    docs = []
    for i in range(n):
        meta = {
            "source": "crawl/CC-MAIN-2024-10.warc.gz",
            "url": f"https://site{i % 9}.example/page/{i}",
            "signals": {"gopher.word_count": 100 + i, "c4.lines": i % 5},
            "removed_lines": [{"step": "c4", "rule": "javascript", "line": 2, "text": "enable JS"}] if i % 3 else [],
        }
        if i % 4 == 0:
            meta["language"] = "de"
        docs.append(Document(f"doc-{i}", f"Überschrift {i}\nDer Rat stimmte zu. 市议会 {i}\n\n" * (1 + i % 4), meta))
    return docs


def read_back(path: Path, options: ReaderOptions | None = None) -> list:
    options = options or ReaderOptions()
    return [x for spec in plan_shards([str(path)], options) for x in read_shard(spec, options)]


@pytest.mark.parametrize(("fmt", "compression"), FORMATS)
def test_round_trip_and_names(tmp_path: Path, fmt: str, compression: str) -> None:
    docs = sample_docs()
    with ShardWriter(tmp_path, 3, fmt, compression, subdir="kept") as writer:  # type: ignore[arg-type]
        assert writer.write(docs[:50]) == 50
        writer.write(iter(docs[50:]))
    assert writer.path == tmp_path / "kept" / NAMES[(fmt, compression)]
    assert writer.count == len(docs)
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == [NAMES[(fmt, compression)]]
    assert read_back(writer.path) == docs


@pytest.mark.parametrize(("fmt", "compression"), FORMATS)
def test_empty_shard_is_a_valid_empty_file(tmp_path: Path, fmt: str, compression: str) -> None:
    path = ShardWriter(tmp_path, 0, fmt, compression).commit()  # type: ignore[arg-type]
    assert path.exists()
    if fmt == "parquet":
        table = pq.read_table(path)
        assert table.num_rows == 0 and table.schema.names == ["id", "text", "metadata"]
    elif compression == "zstd":
        assert path.stat().st_size > 0 and zstandard.ZstdDecompressor().decompress(path.read_bytes()) == b""
    elif compression == "gzip":
        assert gzip.decompress(path.read_bytes()) == b""
    else:
        assert path.read_bytes() == b""
    if path.stat().st_size:
        assert read_back(path) == []


def test_exception_inside_context_aborts_and_leaves_nothing(tmp_path: Path) -> None:
    def failing_docs():
        yield from sample_docs(10)
        raise RuntimeError("step crashed")

    with pytest.raises(RuntimeError), ShardWriter(tmp_path, 1, "jsonl") as writer:
        writer.write(failing_docs())
    assert list(tmp_path.iterdir()) == []


def test_uncommitted_file_never_appears_under_final_name(tmp_path: Path) -> None:
    writer = ShardWriter(tmp_path, 2, "jsonl", "gzip")
    writer.write(sample_docs(30))
    assert not writer.path.exists()  # still under the temporary name
    assert writer.tmp.exists() and writer.tmp.name.startswith(".")
    with pytest.raises(UsageError):  # a half-written temporary file is never taken as an input
        plan_shards([str(tmp_path)], ReaderOptions())
    writer.abort()
    writer.abort()  # idempotent
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError):
        writer.write(sample_docs(1))


def test_with_drop_writes_the_reason(tmp_path: Path) -> None:
    doc = sample_docs(1)[0]
    doc.reject("gopher_quality", "too_few_words", value=12, threshold=50)
    with ShardWriter(tmp_path, 0, "parquet") as writer:
        writer.write([doc], with_drop=True)
    (back,) = read_back(writer.path)
    assert back.metadata["dropped"] == {
        "step": "gopher_quality",
        "reason": "too_few_words",
        "value": 12,
        "threshold": 50,
    }
    assert "dropped" not in doc.metadata


def test_output_is_byte_identical_across_runs(tmp_path: Path) -> None:
    for fmt, compression in FORMATS:
        first = ShardWriter(tmp_path / "a", 0, fmt, compression)  # type: ignore[arg-type]
        first.write(sample_docs())
        second = ShardWriter(tmp_path / "b", 0, fmt, compression)  # type: ignore[arg-type]
        second.write(sample_docs())
        assert first.commit().read_bytes() == second.commit().read_bytes(), (fmt, compression)


def test_large_output_is_written_in_members_that_plan_can_split(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(writers, "BLOCK_BYTES", 2000)
    monkeypatch.setattr(writers, "MEMBER_BYTES", 6000)
    monkeypatch.setattr(writers, "GZIP_MEMBER_BYTES", 6000)
    docs = sample_docs(300)
    for compression in ("zstd", "gzip"):
        with ShardWriter(tmp_path, 0, "jsonl", compression) as writer:  # type: ignore[arg-type]
            writer.write(docs)
        options = ReaderOptions(shard_bytes=20_000)
        specs = plan_shards([str(writer.path)], options)
        assert len(specs) >= 3 and all(s.unit == "members" for s in specs)
        assert not any(s.extra.get("starts_mid_line") for s in specs)  # members end at line ends
        assert [x for s in specs for x in read_shard(s, options)] == docs


def test_numpy_values_and_non_string_keys_are_serialised(tmp_path: Path) -> None:
    doc = Document("np", "text", {"score": np.float32(0.5), "counts": {1: np.int64(3)}, "source": "s"})
    with ShardWriter(tmp_path, 0, "jsonl", "none") as writer:
        writer.write([doc])
    assert orjson.loads(writer.path.read_bytes())["metadata"] == {"score": 0.5, "counts": {"1": 3}, "source": "s"}


@pytest.mark.parametrize("name", ["bad.jsonl", "bad.jsonl.zst", "bad.jsonl.gz"])
def test_write_bad_records(tmp_path: Path, name: str) -> None:
    records = [
        BadRecord("in.jsonl", "line 3", "invalid_json", "The line is not valid JSON.", b'{"a": '),
        BadRecord("in.jsonl", "line 9", "invalid_utf8", "The line is not valid UTF-8.", b"caf\xe9"),
        BadRecord("in.warc.gz", "record 2 at offset 10", "truncated_stream", "Cut.", None),
    ]
    path = tmp_path / "out" / name
    assert write_bad_records(path, records) == 3
    items = read_back(path, ReaderOptions(text_field="message", id_field="position"))
    assert [(d.id, d.metadata["reason"], d.metadata["raw"]) for d in items] == [
        ("line 3", "invalid_json", '{"a": '),
        ("line 9", "invalid_utf8", "caf\\xe9"),
        ("record 2 at offset 10", "truncated_stream", None),
    ]
    assert [p.name for p in path.parent.iterdir()] == [name]
    assert write_bad_records(tmp_path / "none.jsonl", []) == 0
    assert (tmp_path / "none.jsonl").read_bytes() == b""
