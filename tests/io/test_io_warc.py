"""WARC and WET reading on hand-built archives: HTML responses, charsets, skips, broken records, slices."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from thresher.document import Document
from thresher.io.base import BadRecord, ReaderOptions
from thresher.io.plan import plan_shards
from thresher.io.readers import read_shard

PAGE = """<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>{title}</title></head>
<body><nav>Home | News | Contact</nav>
<article><h1>{title}</h1><p>{body}</p></article>
<footer>© 2024 Example Media</footer></body></html>
"""


def warc_record(
    rtype: str, uri: str, block: bytes, rid: str, content_type: str = "application/http; msgtype=response"
) -> bytes:
    header = (
        "WARC/1.0\r\n"
        f"WARC-Type: {rtype}\r\n"
        f"WARC-Target-URI: {uri}\r\n"
        "WARC-Date: 2024-03-01T12:30:00Z\r\n"
        f"WARC-Record-ID: <urn:uuid:{rid}>\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(block)}\r\n\r\n"
    ).encode()
    return header + block + b"\r\n\r\n"


def http_response(body: bytes, content_type: str | None, status: str = "200 OK", extra: str = "") -> bytes:
    head = f"HTTP/1.1 {status}\r\nServer: nginx\r\n{extra}"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def page(title: str, body: str, charset: str = "utf-8") -> bytes:
    return PAGE.format(title=title, body=body, charset=charset).encode(charset, "xmlcharrefreplace")


def sample_records() -> list[bytes]:
    """A small crawl: warcinfo, request, 3 HTML pages (utf-8, latin-1, undeclared cp1252), an image, a 404."""
    info = b"software: hand-built test crawl\r\nformat: WARC File Format 1.0\r\n"
    return [
        warc_record("warcinfo", "", info, "info-0", "application/warc-fields"),
        warc_record("request", "https://news.example/a", b"GET /a HTTP/1.1\r\nHost: news.example\r\n\r\n", "req-1"),
        warc_record(
            "response",
            "https://news.example/a",
            http_response(
                page("Bike lanes approved", "The council voted 7–2 for new lanes."), "text/html; charset=utf-8"
            ),
            "resp-1",
        ),
        warc_record(
            "response",
            "https://zeitung.example/b",
            http_response(
                page("Café eröffnet", "Das Café am Markt öffnet wieder.", "iso-8859-1"),
                "text/html; charset=ISO-8859-1",
            ),
            "resp-2",
        ),
        warc_record(
            "response",
            "https://img.example/logo.png",
            http_response(b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png"),
            "resp-3",
        ),
        warc_record(
            "response",
            "https://shop.example/c",
            http_response(page("Prix réduits", "Économisez 20 % cette semaine — offres limitées.", "cp1252"), None),
            "resp-4",
        ),
        warc_record(
            "response",
            "https://news.example/missing",
            http_response(b"<html><body>Not found</body></html>", "text/html", "404 Not Found"),
            "resp-5",
        ),
    ]


def read_path(path: Path, options: ReaderOptions | None = None) -> list[Document | BadRecord]:
    options = options or ReaderOptions()
    return [item for spec in plan_shards([str(path)], options) for item in read_shard(spec, options)]


def summary(items: list) -> list:
    return [x.id if isinstance(x, Document) else x.reason for x in items]


EXPECTED = ["urn:uuid:resp-1", "urn:uuid:resp-2", "skipped_non_html", "urn:uuid:resp-4", "skipped_http_status"]


@pytest.mark.parametrize("layout", ["plain", "gzip-per-record", "gzip-single"])
def test_warc_html_responses(tmp_path: Path, layout: str) -> None:
    records = sample_records()
    if layout == "plain":
        path, data = tmp_path / "crawl.warc", b"".join(records)
    elif layout == "gzip-per-record":
        path, data = tmp_path / "crawl.warc.gz", b"".join(gzip.compress(r, mtime=0) for r in records)
    else:
        path, data = tmp_path / "crawl.warc.gz", gzip.compress(b"".join(records), mtime=0)
    path.write_bytes(data)
    items = read_path(path)
    assert summary(items) == EXPECTED
    docs = [x for x in items if isinstance(x, Document)]
    first, latin, undeclared = docs
    assert first.text == page("Bike lanes approved", "The council voted 7–2 for new lanes.").decode()
    assert first.metadata == {
        "url": "https://news.example/a",
        "date": "2024-03-01T12:30:00Z",
        "content_type": "text/html",
        "warc_record_id": "<urn:uuid:resp-1>",
        "http_status": 200,
        "format": "html",
        "encoding": "utf-8",
        "source": str(path),
    }
    assert "Das Café am Markt öffnet wieder." in latin.text and latin.metadata["encoding"] == "cp1252"
    assert "Économisez 20 % cette semaine — offres limitées." in undeclared.text
    assert undeclared.metadata["content_type"] is None
    skipped = [x for x in items if isinstance(x, BadRecord)]
    assert all(x.raw is None and x.reason.startswith("skipped_") for x in skipped)
    assert "image/png" in skipped[0].message


def test_chunked_and_gzip_encoded_body_is_decoded(tmp_path: Path) -> None:
    html = page("Encoded", "Body sent chunked and gzipped.")
    packed = gzip.compress(html, mtime=0)
    chunked = b"".join(
        b"%x\r\n%s\r\n" % (len(packed[i : i + 50]), packed[i : i + 50]) for i in range(0, len(packed), 50)
    )
    block = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Encoding: gzip\r\n\r\n" + chunked + b"0\r\n\r\n"
    )
    path = tmp_path / "enc.warc"
    path.write_bytes(warc_record("response", "https://e.example/", block, "enc-1"))
    (doc,) = read_path(path)
    assert isinstance(doc, Document) and doc.text == html.decode()


def test_broken_header_is_reported_and_reading_continues(tmp_path: Path) -> None:
    records = sample_records()
    broken = b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: twelve\r\n\r\n<html>lost</html>\r\n\r\n"
    garbage = b"this is not a WARC header at all\r\n\r\n"
    for name, data in {
        "broken.warc": records[2] + broken + records[3] + garbage + records[5],
        "broken.warc.gz": b"".join(
            gzip.compress(r, mtime=0) for r in (records[2], broken, records[3], garbage, records[5])
        ),
    }.items():
        (tmp_path / name).write_bytes(data)
        items = read_path(tmp_path / name)
        assert summary(items) == [
            "urn:uuid:resp-1",
            "bad_warc_record",
            "urn:uuid:resp-2",
            "bad_warc_record",
            "urn:uuid:resp-4",
        ], name
        assert items[1].raw.startswith(b"WARC/1.0") and items[1].position.startswith("record 1 at offset")


def test_unparsable_http_in_a_response_is_a_bad_record(tmp_path: Path) -> None:
    records = sample_records()
    path = tmp_path / "http.warc"
    path.write_bytes(records[2] + warc_record("response", "https://x.example/", b"\x00\x01 not http", "x") + records[3])
    assert summary(read_path(path)) == ["urn:uuid:resp-1", "bad_warc_record", "urn:uuid:resp-2"]


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_warc_keeps_complete_records(tmp_path: Path, compress: bool) -> None:
    records = sample_records()
    if compress:
        data = b"".join(gzip.compress(r, mtime=0) for r in records[:4])
        path = tmp_path / "cut.warc.gz"
    else:
        data = b"".join(records[:4])
        path = tmp_path / "cut.warc"
    path.write_bytes(data[:-30])
    items = read_path(path)
    assert summary(items) == ["urn:uuid:resp-1", "truncated_stream"]
    assert "truncated" in items[-1].message


def test_record_too_large_is_skipped_without_stopping(tmp_path: Path) -> None:
    records = sample_records()
    big = warc_record(
        "response", "https://big.example/", http_response(b"<html>" + b"x" * 5000 + b"</html>", "text/html"), "big"
    )
    path = tmp_path / "big.warc"
    path.write_bytes(records[2] + big + records[3])
    items = read_path(path, ReaderOptions(max_record_bytes=2000))
    assert summary(items) == ["urn:uuid:resp-1", "record_too_large", "urn:uuid:resp-2"]


def wet_record(uri: str, text: str, rid: str, languages: str | None = "eng") -> bytes:
    block = text.encode()
    header = (
        "WARC/1.0\r\nWARC-Type: conversion\r\n"
        f"WARC-Target-URI: {uri}\r\nWARC-Date: 2024-03-01T12:30:00Z\r\n"
        f"WARC-Record-ID: <urn:uuid:{rid}>\r\nWARC-Refers-To: <urn:uuid:r{rid}>\r\n"
        "WARC-Block-Digest: sha1:AAAA\r\n"
        + (f"WARC-Identified-Content-Language: {languages}\r\n" if languages else "")
        + f"Content-Type: text/plain\r\nContent-Length: {len(block)}\r\n\r\n"
    ).encode()
    return header + block + b"\r\n\r\n"


def test_wet_conversion_records(tmp_path: Path) -> None:
    info = warc_record("warcinfo", "", b"isPartOf: CC-MAIN-2024-10\r\n", "info", "application/warc-fields")
    texts = [
        "Bike lanes approved\nThe council voted 7–2 for new lanes on Main Street.",
        "Café eröffnet\nDas Café am Markt öffnet wieder.",
    ]
    data = b"".join(
        gzip.compress(r, mtime=0)
        for r in (
            info,
            wet_record("https://a.example/", texts[0], "w1"),
            wet_record("https://b.example/", texts[1], "w2", "deu"),
        )
    )
    path = tmp_path / "CC-MAIN-20240301-00000.warc.wet.gz"
    path.write_bytes(data)
    specs = plan_shards([str(path)], ReaderOptions())
    assert [s.format for s in specs] == ["wet"]
    docs = read_path(path)
    assert [d.text for d in docs] == texts
    assert docs[1].id == "urn:uuid:w2"
    assert docs[1].metadata == {
        "url": "https://b.example/",
        "date": "2024-03-01T12:30:00Z",
        "warc_record_id": "<urn:uuid:w2>",
        "format": "text",
        "content_languages": "deu",
        "source": str(path),
    }


@pytest.mark.parametrize("compress", [False, True])
def test_warc_slices_union_is_the_whole_file(tmp_path: Path, compress: bool) -> None:
    records = []
    for i in range(60):
        body = page(f"Story {i}", " ".join(["The council met again to discuss the budget."] * (1 + i % 9)))
        records.append(warc_record("response", f"https://news.example/{i}", http_response(body, "text/html"), f"s{i}"))
        if i % 7 == 0:
            records.append(warc_record("request", f"https://news.example/{i}", b"GET / HTTP/1.1\r\n\r\n", f"q{i}"))
    if compress:
        path = tmp_path / "many.warc.gz"
        path.write_bytes(b"".join(gzip.compress(r, mtime=0) for r in records))
    else:
        path = tmp_path / "many.warc"
        path.write_bytes(b"".join(records))
    whole = read_path(path)
    options = ReaderOptions(shard_bytes=3000)
    specs = plan_shards([str(path)], options)
    assert len(specs) > 5 and all(s.unit == ("members" if compress else "bytes") for s in specs)
    sliced = [x for s in specs for x in read_shard(s, options)]
    assert [d.id for d in sliced] == [d.id for d in whole] == [f"urn:uuid:s{i}" for i in range(60)]
    assert [d.text for d in sliced] == [d.text for d in whole]


def test_charset_from_html_meta_when_http_header_has_none(tmp_path: Path) -> None:
    html = page("ニュース", "市議会は火曜日に新しい自転車レーンを承認しました。", "shift_jis")
    path = tmp_path / "sjis.warc"
    path.write_bytes(warc_record("response", "https://jp.example/", http_response(html, "text/html"), "jp"))
    (doc,) = read_path(path)
    assert "市議会は火曜日に新しい自転車レーンを承認しました。" in doc.text
    assert doc.metadata["encoding"] == "shift_jis"
