"""read_shard on JSONL, Parquet and .txt: field options, metadata, and every kind of bad input."""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from thresher.document import Document
from thresher.io.base import BadRecord, ReaderOptions
from thresher.io.plan import plan_shards
from thresher.io.readers import read_shard

NEWS = (
    "Council approves new bike lanes\n"
    "The city council voted 7-2 on Tuesday to add protected bike lanes on Main Street.\n"
    "Construction starts in spring and should take about four months."
)


def read_path(path: Path, options: ReaderOptions | None = None) -> list[Document | BadRecord]:
    options = options or ReaderOptions()
    return [item for spec in plan_shards([str(path)], options) for item in read_shard(spec, options)]


def docs_of(items: list) -> list[Document]:
    return [x for x in items if isinstance(x, Document)]


def bad_of(items: list) -> list[BadRecord]:
    return [x for x in items if isinstance(x, BadRecord)]


def compress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.compress(data, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor(level=3).compress(data)
    if compression == "bz2":
        return bz2.compress(data)
    if compression == "xz":
        return lzma.compress(data)
    return data


SUFFIX = {"none": ".jsonl", "gzip": ".jsonl.gz", "zstd": ".jsonl.zst", "bz2": ".jsonl.bz2", "xz": ".jsonl.xz"}


# -- JSONL fields and metadata ---------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd", "bz2", "xz"])
def test_jsonl_fields_metadata_and_source(tmp_path: Path, compression: str) -> None:
    lines = [
        {"id": "n1", "text": NEWS, "url": "https://news.example/bikes", "lang": "en"},
        {"id": 42, "text": "Short note.", "metadata": {"url": "https://b.example/", "score": 0.5}, "lang": "de"},
        {"text": "No id here.", "tags": ["a", "b"]},
        {"id": None, "text": "Null id.", "url": "https://n.example/"},
    ]
    path = tmp_path / f"in{SUFFIX[compression]}"
    path.write_bytes(compress(b"\n".join(orjson.dumps(x) for x in lines) + b"\n", compression))
    docs = docs_of(read_path(path))
    assert [d.id for d in docs] == ["n1", "42", f"{path.name}/2", f"{path.name}/3"]
    assert docs[0].text == NEWS
    assert docs[0].metadata == {"url": "https://news.example/bikes", "lang": "en", "source": str(path)}
    assert docs[1].metadata == {"lang": "de", "url": "https://b.example/", "score": 0.5, "source": str(path)}
    assert docs[2].metadata == {"tags": ["a", "b"], "source": str(path)}
    assert docs[3].metadata == {"url": "https://n.example/", "source": str(path)}


def test_jsonl_custom_text_id_and_html_fields(tmp_path: Path) -> None:
    rec = {"doc_key": "k1", "content": NEWS, "html": "<html><body><p>Hi</p></body></html>", "url": "u"}
    path = tmp_path / "custom.jsonl"
    path.write_bytes(orjson.dumps(rec) + b"\n")
    (doc,) = docs_of(read_path(path, ReaderOptions(text_field="content", id_field="doc_key")))
    assert (doc.id, doc.text) == ("k1", NEWS)
    assert doc.metadata["doc_key"] == "k1"  # a custom id field also stays in metadata
    assert "content" not in doc.metadata and doc.metadata["html"].startswith("<html>")
    (html_doc,) = docs_of(read_path(path, ReaderOptions(html_field="html", id_field="doc_key")))
    (no_text,) = docs_of(read_path(path, ReaderOptions(html_field="html", text_field="content")))
    assert no_text.text == rec["html"] and "content" not in no_text.metadata and no_text.id == "custom.jsonl/0"
    assert html_doc.text == rec["html"]
    assert html_doc.metadata["format"] == "html"
    assert "html" not in html_doc.metadata and html_doc.metadata["content"] == NEWS


def test_document_to_dict_reads_back_equal(tmp_path: Path) -> None:
    doc = Document("x/1", NEWS, {"source": "orig.warc.gz", "url": "https://e/", "signals": {"gopher.words": 31}})
    doc.reject("gopher_quality", "too_short", words=31)
    rejected = Document.from_dict(doc.to_dict(with_drop=True))
    path = tmp_path / "stage.jsonl.zst"
    lines = [orjson.dumps(d.to_dict()) for d in (doc, rejected)]
    path.write_bytes(compress(b"\n".join(lines) + b"\n", "zstd"))
    back = docs_of(read_path(path))
    assert back == [doc, rejected]
    assert back[0].metadata["source"] == "orig.warc.gz"  # the original input path is kept
    assert back[1].metadata["dropped"] == {"step": "gopher_quality", "reason": "too_short", "words": 31}


# -- bad input -------------------------------------------------------------------------------------


def test_bad_lines_are_reported_in_place_and_good_ones_kept(tmp_path: Path) -> None:
    good = [orjson.dumps({"id": f"g{i}", "text": f"good {i}"}) for i in range(4)]
    lines = [
        good[0],
        b'{"id": "broken", "text": "unterminated',  # line 2
        good[1],
        b'{"id": "latin", "text": "caf\xe9"}',  # line 4: invalid UTF-8
        b'{"id": "nt", "title": "no text"}',  # line 5
        b'{"id": "num", "text": 12}',  # line 6
        b"[1, 2, 3]",  # line 7: JSON but not an object
        b"",  # blank line: ignored
        good[2],
        b'{"id": "big", "text": "' + b"x" * 500 + b'"}',  # line 10
        good[3],
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    items = read_path(path, ReaderOptions(max_record_bytes=400))
    summary = [x.id if isinstance(x, Document) else (x.reason, x.position) for x in items]
    assert summary == [
        "g0",
        ("invalid_json", "line 2"),
        "g1",
        ("invalid_utf8", "line 4"),
        ("missing_text", "line 5"),
        ("missing_text", "line 6"),
        ("invalid_json", "line 7"),
        "g2",
        ("record_too_large", "line 10"),
        "g3",
    ]
    for bad in bad_of(items):
        assert bad.source == str(path)
        assert bad.message and bad.message.endswith(".")
        assert bad.raw is not None and len(bad.raw) <= 65536
        assert isinstance(bad.to_dict()["raw"], str)
    assert bad_of(items)[0].raw == lines[1]


def test_byte_order_mark_and_crlf_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "windows.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": "w1", "text": "first"}\r\n{"id": "w2", "text": "second"}\r\n')
    assert [(d.id, d.text) for d in read_path(path)] == [("w1", "first"), ("w2", "second")]


def test_oversized_line_spanning_chunks_is_skipped_without_losing_neighbours(tmp_path: Path) -> None:
    huge = b'{"id": "huge", "text": "' + b"y" * (9 << 20) + b'"}'  # longer than one 4 MB read
    path = tmp_path / "huge.jsonl"
    path.write_bytes(b'{"id": "a", "text": "before"}\n' + huge + b'\n{"id": "b", "text": "after"}\n')
    items = read_path(path, ReaderOptions(max_record_bytes=1 << 20))
    summary = [x.id if isinstance(x, Document) else x.reason for x in items]
    assert summary == ["a", "record_too_large", "b"]
    assert len(bad_of(items)[0].raw or b"") == 65536


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_truncated_stream_keeps_every_complete_record(tmp_path: Path, compression: str) -> None:
    rng = random.Random(7)
    words = NEWS.split()
    lines = [
        orjson.dumps({"id": f"t{i}", "text": " ".join(rng.choice(words) for _ in range(120))}) for i in range(1000)
    ]
    data = compress(b"\n".join(lines) + b"\n", compression)
    path = tmp_path / f"cut{SUFFIX[compression]}"
    path.write_bytes(data[: len(data) * 2 // 3])
    items = read_path(path)
    docs = docs_of(items)
    assert len(docs) > 50
    assert [d.id for d in docs] == [f"t{i}" for i in range(len(docs))]
    assert [d.text for d in docs] == [orjson.loads(line)["text"] for line in lines[: len(docs)]]
    (bad,) = bad_of(items)
    assert items[-1] is bad and bad.reason == "truncated_stream"
    assert "truncated" in bad.message
    assert bad.raw and lines[len(docs)].startswith(bad.raw[:20])  # the cut record's beginning


def test_corrupt_member_after_good_ones(tmp_path: Path) -> None:
    first = gzip.compress(b'{"id": "ok", "text": "fine"}\n', mtime=0)
    broken = bytearray(gzip.compress(b'{"id": "no", "text": "bad crc"}\n' * 50, mtime=0))
    broken[-8] ^= 0xFF  # wrong CRC32
    path = tmp_path / "crc.jsonl.gz"
    path.write_bytes(first + bytes(broken))
    items = read_path(path)
    assert isinstance(items[0], Document) and items[0].id == "ok"
    assert isinstance(items[-1], BadRecord) and items[-1].reason == "corrupt_stream"


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.jsonl.gz", "empty.txt", "empty.parquet"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    (bad,) = read_path(path)
    assert isinstance(bad, BadRecord) and bad.reason == "empty_file" and name in bad.message


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_empty_compressed_stream_yields_nothing(tmp_path: Path, compression: str) -> None:
    path = tmp_path / f"e{SUFFIX[compression]}"
    path.write_bytes(compress(b"", compression))
    assert read_path(path) == []


# -- Parquet and text ------------------------------------------------------------------------------


def test_parquet_foreign_columns_go_to_metadata(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["p0", None, "p2"],
            "text": [NEWS, "second page", None],
            "url": ["https://a/", "https://b/", "https://c/"],
            "score": [0.9, 0.1, 0.5],
        }
    )
    path = tmp_path / "foreign.parquet"
    pq.write_table(table, path)
    items = read_path(path)
    assert [x.id if isinstance(x, Document) else (x.reason, x.position) for x in items] == [
        "p0",
        "foreign.parquet/1",
        ("missing_text", "row 2"),
    ]
    assert items[0].metadata == {"url": "https://a/", "score": 0.9, "source": str(path)}


def test_parquet_without_text_column(tmp_path: Path) -> None:
    path = tmp_path / "notext.parquet"
    pq.write_table(pa.table({"body": ["x"]}), path)
    (bad,) = read_path(path)
    assert isinstance(bad, BadRecord) and bad.reason == "missing_text" and "body" in bad.message
    (doc,) = read_path(path, ReaderOptions(text_field="body"))
    assert isinstance(doc, Document) and doc.text == "x"


def test_corrupt_parquet_is_one_bad_record(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 100)
    (bad,) = read_path(path)
    assert isinstance(bad, BadRecord) and bad.reason == "bad_parquet"


def test_txt_files_one_document_each(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(NEWS, encoding="utf-8")
    (tmp_path / "b.txt.gz").write_bytes(gzip.compress("Grüße aus Köln.\n".encode("cp1252")))
    docs = docs_of(read_path(tmp_path))
    assert [d.id for d in docs] == ["a.txt", "b.txt.gz"]
    assert docs[0].text == NEWS and docs[0].metadata["format"] == "text"
    assert docs[0].metadata["source"] == str(tmp_path / "a.txt")
    assert docs[1].text.startswith("Gr") and "Köln" in docs[1].text  # decoded via detect_encoding


def test_webcorpus_first_records(webcorpus_path: Path) -> None:
    from itertools import islice

    options = ReaderOptions()
    specs = plan_shards([str(webcorpus_path)], options)
    assert specs[0].compression == "gzip" and specs[0].format == "jsonl"
    first = list(islice(read_shard(specs[0], options), 25))
    assert all(isinstance(x, Document) for x in first)
    assert len({d.id for d in first}) == 25
    assert all(d.text.strip() for d in first)
    assert all("html" in d.metadata and "lang" in d.metadata for d in first)
    assert first[0].id == "gne/readhub/readhub" and first[0].metadata["source"] == "gne"  # dataset's own field
    html = list(islice(read_shard(specs[0], ReaderOptions(html_field="html")), 5))
    assert all(d.metadata["format"] == "html" and d.text.lstrip().startswith("<") for d in html)
    assert all("text" not in d.metadata for d in html)


@pytest.mark.parametrize("inflate", ["default", "zlib"])
def test_gzip_reading_is_the_same_with_the_zlib_fallback(tmp_path: Path, monkeypatch, inflate: str) -> None:
    import zlib

    import thresher.io.compression as compression

    if inflate == "zlib":
        monkeypatch.setattr(compression, "_inflate", zlib)  # as when the optional isal package is absent
    lines = [orjson.dumps({"id": f"m{i}", "text": f"member line {i} " * (i % 13)}) for i in range(400)]
    data = b"".join(gzip.compress(b"\n".join(lines[i : i + 7]) + b"\n", mtime=0) for i in range(0, 400, 7))
    path = tmp_path / "members.jsonl.gz"
    path.write_bytes(data[:-25])  # the last member is cut
    items = read_path(path)
    assert [d.id for d in docs_of(items)] == [f"m{i}" for i in range(399)]  # all but the cut last member
    assert [b.reason for b in bad_of(items)] == ["truncated_stream"]


def test_hand_made_spec_needs_no_compression(tmp_path: Path) -> None:
    from thresher.io.base import ShardSpec

    path = tmp_path / "work.jsonl.zst"
    path.write_bytes(compress(orjson.dumps({"id": "w", "text": NEWS}) + b"\n", "zstd"))
    (doc,) = list(read_shard(ShardSpec(str(path), "jsonl"), ReaderOptions()))
    assert isinstance(doc, Document) and doc.text == NEWS


def test_txt_ids_stay_unique_across_folders(tmp_path: Path) -> None:
    for site in ("site-a", "site-b"):
        (tmp_path / site).mkdir()
        (tmp_path / site / "index.txt").write_text(f"Front page of {site}.\n", encoding="utf-8")
    (tmp_path / "top.txt").write_text(NEWS, encoding="utf-8")
    docs = docs_of(read_path(tmp_path))
    assert sorted(d.id for d in docs) == ["site-a/index.txt", "site-b/index.txt", "top.txt"]
    assert {d.id: d.text for d in docs}["site-b/index.txt"] == "Front page of site-b.\n"
