"""WARC and WET reading (called by :func:`thresher.io.readers.read_shard`).

**WARC** (``spec.format == "warc"``): one document per HTML ``response`` record.

- ``id``: the ``WARC-Record-ID`` without its angle brackets (else ``<file name>/<record index>``).
- ``text``: the HTTP body as a str (the HTML, still to be extracted), after removing transfer and
  content encodings (FastWARC ``auto_decode="all"``). Charset: a UTF-8 BOM; else the one declared in
  the HTTP ``Content-Type`` header (WHATWG label mapping: ``ISO-8859-1`` reads as ``cp1252``) when it
  decodes the body; else UTF-8 when the body is valid UTF-8; else resiliparse
  ``detect_encoding(from_html_meta=True)`` (the page's meta charset, then uchardet) + ``bytes_to_str``.
- ``metadata``: ``url`` (WARC-Target-URI), ``date`` (WARC-Date), ``content_type`` (HTTP media type),
  ``warc_record_id``, ``http_status``, ``encoding`` (the charset used), ``format: "html"``,
  ``source`` (input path).
- Not documents, so skipped and counted through a ``BadRecord`` whose reason starts with
  ``skipped_`` (``raw=None``; the executor counts these as skipped, not bad): responses whose
  content is not HTML (``skipped_non_html``; HTML = a media type containing ``html``, or no media
  type and a body starting like HTML) and responses with a non-2xx HTTP status
  (``skipped_http_status``: redirects and error pages carry no page text). Records of other types
  (warcinfo, request, metadata, revisit) are ignored without a count.

**WET** (``spec.format == "wet"``): one document per ``conversion`` record: ``text`` = the record
content (UTF-8), ``metadata``: ``url``, ``date``, ``warc_record_id``, ``format: "text"``,
``content_languages`` (Common Crawl's ``WARC-Identified-Content-Language``, when present), ``source``.

Record framing (finding where each record starts and ends) is done here, from ``Content-Length``, so
that one broken record cannot stop the file: a header that does not parse gives a
``bad_warc_record`` and reading resumes at the next ``WARC/1.`` line; a stream that ends inside a
record gives ``truncated_stream`` after all complete records; a record whose content is over
``max_record_bytes`` gives ``record_too_large`` and is skipped without being held in memory. The
HTTP part of each response record is parsed by FastWARC. Positions read ``record 12 at offset
34567`` (decompressed offset, relative to the slice start for a slice).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

from thresher.document import Document
from thresher.io.base import BadRecord, ReaderOptions, ShardSpec
from thresher.io.compression import StreamError, iter_decompressed

RAW_KEEP = 65536
MAX_HEADER = 1 << 20
_RESYNC = b"WARC/1."


class _Stream:
    """A byte buffer over decompressed chunks: live data is ``buf[pos:]``, at absolute offset
    ``base + pos``. Consuming moves ``pos`` (no copy); the buffer is compacted only on refill."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buf = b""
        self.pos = 0
        self.base = 0  # absolute offset of buf[0]
        self.eof = False
        self.error: StreamError | None = None

    @property
    def avail(self) -> int:
        return len(self.buf) - self.pos

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def fill(self) -> bool:
        """Append the next chunk; False at the end of the data."""
        if self.eof:
            return False
        try:
            chunk = next(self.chunks)
        except StopIteration:
            self.eof = True
            return False
        except StreamError as exc:
            self.error = exc
            self.eof = True
            return False
        rest = self.buf[self.pos :] if self.pos < len(self.buf) else b""
        self.base += self.pos
        self.buf = rest + chunk if rest else chunk
        self.pos = 0
        return True

    def skip(self, n: int) -> bool:
        """Drop ``n`` bytes (reading more as needed, without keeping them); False if data ran out."""
        while self.avail < n:
            n -= self.avail
            self.base += len(self.buf)
            self.buf, self.pos = b"", 0
            if not self.fill():
                return False
        self.pos += n
        return True

    def need(self, n: int) -> bool:
        """Make at least ``n`` bytes available from ``pos``; False if the data ends first."""
        while self.avail < n:
            if not self.fill():
                return False
        return True


def _parse_warc_headers(block: bytes) -> dict[str, str] | None:
    lines = block.split(b"\r\n")
    if not lines[0].startswith(b"WARC/"):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            if line[:1] in (b" ", b"\t") and headers:
                continue  # folded continuation line: ignored
            return None
        headers[name.strip().decode("latin-1").lower()] = value.strip().decode("utf-8", "replace")
    return headers


def _is_html(content_type: str | None, body: bytes) -> bool:
    if content_type:
        return "html" in content_type.lower()
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def _decode_body(body: bytes, charset: str | None, html: bool = True) -> tuple[str, str]:
    """Decode an HTTP body: BOM, then the declared charset (WHATWG label mapping, so ISO-8859-1 reads
    as cp1252 like browsers do), then UTF-8, then resiliparse detection (HTML meta charset, uchardet)."""
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", "replace"), "utf-8"
    if charset:
        from resiliparse.parse.encoding import map_encoding_to_html5

        encoding = map_encoding_to_html5(charset)
        try:
            return body.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        from resiliparse.parse.encoding import bytes_to_str, detect_encoding

        encoding = detect_encoding(body, from_html_meta=html)
        return bytes_to_str(body, encoding), encoding


def _record_id(headers: dict[str, str]) -> str | None:
    rid = headers.get("warc-record-id")
    if not rid:
        return None
    return rid.strip("<>")


def read_warc(spec: ShardSpec, options: ReaderOptions) -> Iterator[Document | BadRecord]:
    """Yield the documents (and bad/skipped records) of a WARC or WET shard."""
    from fastwarc.warc import ArchiveIterator

    path = spec.path
    name = os.path.basename(path)
    wet = spec.format == "wet"
    wanted = "conversion" if wet else "response"
    sliced = spec.unit != "file"
    start = spec.start if sliced else 0
    end = spec.end if sliced else None
    max_bytes = options.max_record_bytes
    suffix = f" of the slice at byte {start}" if sliced else ""

    with open(path, "rb") as fh:
        stream = _Stream(iter_decompressed(fh, spec.compression, start, end))  # type: ignore[arg-type]
        index = 0
        while True:
            # skip blank lines between records
            while True:
                if not stream.avail and not stream.fill():
                    break
                buf, pos = stream.buf, stream.pos
                while pos < len(buf) and buf[pos] in (10, 13):
                    pos += 1
                stream.pos = pos
                if pos < len(buf):
                    break
            if not stream.avail:
                break
            position = f"record {index} at offset {stream.offset}{suffix}"
            # locate the header block
            while True:
                head_end = stream.buf.find(b"\r\n\r\n", stream.pos, stream.pos + MAX_HEADER)
                if head_end >= 0 or stream.avail >= MAX_HEADER or not stream.fill():
                    break
            headers = None
            length = None
            if head_end >= 0:
                headers = _parse_warc_headers(stream.buf[stream.pos : head_end])
            if headers is not None:
                try:
                    length = int(headers.get("content-length", ""))
                except ValueError:
                    length = None
            if headers is None or length is None or length < 0:
                if head_end < 0 and stream.eof:
                    yield _truncated(path, position, stream, stream.buf[stream.pos : stream.pos + RAW_KEEP])
                    return
                raw_end = head_end + 4 if head_end >= 0 else stream.pos + 4096
                yield BadRecord(
                    path,
                    position,
                    "bad_warc_record",
                    "The WARC record header cannot be parsed (no WARC/ line or no valid Content-Length); "
                    "reading goes on at the next record.",
                    stream.buf[stream.pos : min(raw_end, stream.pos + RAW_KEEP)],
                )
                index += 1
                # resync at the next "WARC/1." after this point
                stream.pos += 1
                while True:
                    found = stream.buf.find(_RESYNC, stream.pos)
                    if found >= 0:
                        stream.pos = found
                        break
                    stream.pos = max(len(stream.buf) - (len(_RESYNC) - 1), stream.pos)
                    if not stream.fill():
                        stream.pos = len(stream.buf)
                        break
                continue
            header_len = head_end + 4 - stream.pos
            rtype = headers.get("warc-type", "")
            if rtype != wanted or length > max_bytes:
                if rtype == wanted:
                    yield BadRecord(
                        path,
                        position,
                        "record_too_large",
                        f"The WARC record holds {length} bytes, over reader.max_record_bytes ({max_bytes}).",
                        None,
                    )
                if not stream.skip(header_len + length):
                    yield _truncated(path, position, stream, None)
                    return
                index += 1
                continue
            if not stream.need(header_len + length):
                yield _truncated(path, position, stream, stream.buf[stream.pos : stream.pos + RAW_KEEP])
                return
            p = stream.pos
            stop = p + header_len + length
            stream.pos = stop
            default_id = f"{name}/{index}" if not sliced else f"{name}@{start}/{index}"
            index += 1
            if wet:
                yield _wet_document(path, headers, stream.buf[p + header_len : stop], default_id)
                continue
            # the whole record as FastWARC expects it, in one copy when the trailer is in the buffer
            if stream.buf[stop : stop + 4] == b"\r\n\r\n":
                record_bytes = stream.buf[p : stop + 4]
            else:
                record_bytes = stream.buf[p:stop] + b"\r\n\r\n"
            yield _warc_document(path, headers, record_bytes, default_id, position, ArchiveIterator)


def _truncated(path: str, position: str, stream: _Stream, raw: bytes | None) -> BadRecord:
    error = stream.error
    if error is not None:
        return BadRecord(
            path,
            position,
            error.reason,
            error.message + " Records after this point are lost; records before it were read.",
            raw[:RAW_KEEP] if raw else None,
        )
    return BadRecord(
        path,
        position,
        "truncated_stream",
        "The file ends inside this WARC record (the file is truncated); records before it were read.",
        raw[:RAW_KEEP] if raw else None,
    )


def _wet_document(path: str, headers: dict[str, str], content: bytes, default_id: str) -> Document:
    text, encoding = _decode_body(content, "utf-8", html=False)
    metadata: dict[str, Any] = {
        "url": headers.get("warc-target-uri"),
        "date": headers.get("warc-date"),
        "warc_record_id": headers.get("warc-record-id"),
        "format": "text",
    }
    languages = headers.get("warc-identified-content-language")
    if languages:
        metadata["content_languages"] = languages
    if encoding != "utf-8":
        metadata["encoding"] = encoding
    metadata["source"] = path
    return Document(_record_id(headers) or default_id, text, metadata)


def _warc_document(
    path: str,
    headers: dict[str, str],
    record_bytes: bytes,
    default_id: str,
    position: str,
    archive_iterator: Any,
) -> Document | BadRecord:
    url = headers.get("warc-target-uri")
    try:
        records = archive_iterator(
            io.BytesIO(record_bytes),
            parse_http=True,
            auto_decode="all",
            stream_detect=False,
        )
        record = next(iter(records), None)
        if record is None:
            raise OSError("no record parsed")
        status = record.http_headers.status_code if record.http_headers is not None else None
        if record.is_http and status is None:
            raise OSError("no HTTP status line")
        content_type = record.http_content_type
        charset = record.http_charset
        body = record.reader.read()
    except Exception as exc:  # noqa: BLE001 - any parse failure is one bad record, not a stop
        return BadRecord(
            path,
            position,
            "bad_warc_record",
            f"The HTTP response in the WARC record for {url} cannot be parsed ({exc}).",
            record_bytes[:RAW_KEEP],
        )
    if status is not None and not 200 <= status < 300:
        return BadRecord(path, position, "skipped_http_status", f"Response for {url} has HTTP status {status}.", None)
    if not _is_html(content_type, body):
        return BadRecord(
            path, position, "skipped_non_html", f"Response for {url} is {content_type or 'not HTML'}.", None
        )
    text, encoding = _decode_body(body, charset)
    metadata: dict[str, Any] = {
        "url": url,
        "date": headers.get("warc-date"),
        "content_type": content_type,
        "warc_record_id": headers.get("warc-record-id"),
        "http_status": status,
        "format": "html",
        "encoding": encoding,
        "source": path,
    }
    return Document(_record_id(headers) or default_id, text, metadata)
