"""Read the documents of one shard: :func:`read_shard`.

Usage::

    for item in read_shard(spec, options):
        if isinstance(item, BadRecord):
            if item.reason.startswith("skipped_"):
                ...  # not an error: a record that is not a document (e.g. a WARC image response)
            else:
                ...  # write it to the bad-records file, count it, go on
        else:
            ...  # a Document

Order is deterministic (file order). Bad input never stops a shard and never hides the good
records around it: each unreadable record becomes one :class:`BadRecord` in its place, and the
reader carries on with the next record. Reasons (``BadRecord.reason``):

============================ =========================================================================
``empty_file``               the file has 0 bytes (a valid compressed stream or Parquet file with no
                             records yields nothing, so empty outputs of a previous stage read cleanly)
``truncated_stream``         a gzip/zstd/bz2/xz stream ends inside a member; every complete record
                             before the cut is yielded first; ``raw`` holds the incomplete tail
``corrupt_stream``           compressed data that cannot be decoded (bad CRC, garbage)
``invalid_json``             a JSONL line that is not JSON, or not a JSON object
``invalid_utf8``             a JSONL line that is not valid UTF-8
``missing_text``             no text field, or a text that is not a string
``record_too_large``         a line/row/record over ``options.max_record_bytes`` (only 64 KB of it kept)
``bad_warc_record``          a WARC record whose header cannot be parsed (reading goes on after it)
``bad_parquet``              a Parquet file or row group that cannot be read
``skipped_non_html``         (skip, not an error) a WARC response whose content is not HTML
``skipped_http_status``      (skip, not an error) a WARC response with a non-2xx HTTP status
``skipped_...``              any reason starting with ``skipped_`` marks a record that is not a
                             document (``raw`` is None); count it as skipped, not as bad
============================ =========================================================================

Formats (``spec.format``):

- **jsonl** (plain, gzip, zstd, bz2, xz): ``text = record[options.text_field]`` (or
  ``record[options.html_field]`` when set, then ``metadata["format"] = "html"`` and the text field is
  dropped), ``id = record[options.id_field]`` (converted to ``str``). Every other field goes into
  metadata, and a nested ``"metadata"`` object is merged in, so ``Document.to_dict()`` written as a
  line reads back as an equal Document. A custom ``id_field`` (not ``"id"``) also stays in metadata.
  Blank lines are ignored; a UTF-8 byte order mark and CRLF line ends are accepted.
- **parquet**: the same rules per row, read in batches of about 32 MB (``iter_batches``); a string
  column named ``metadata`` (how :class:`~thresher.io.writers.ShardWriter` stores metadata) is parsed
  as JSON; struct columns arrive as dicts.
- **warc**: HTML ``response`` records (see :mod:`thresher.io.warc`).
- **wet**: ``conversion`` records (see :mod:`thresher.io.warc`).
- **txt**: the whole file is one document, id = the file name.

Every document's metadata gets ``source`` = the input path, unless the record already has a
``source`` (a Thresher output read back keeps the original input path; a dataset's own
``source`` field is kept too).

Ids of records without one: ``<file name>/<record index>`` (0-based line / row index in the file).
For a JSONL slice of a split file the absolute index is unknown without reading the whole file, so
the id is ``<file name>@<slice start>/<index in slice>``; it is still deterministic for the same
file and ``shard_bytes``. Parquet row indices are always absolute. Positions follow the same rule:
``line 17``, ``line 17 of the slice at byte 268435456``, ``row 1234``, ``record 3 at offset 5678``.

Memory is bounded: compressed input is read 1-4 MB at a time, only the current line/record (at most
``max_record_bytes``) is held whole, and nothing is accumulated across records.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from thresher.document import Document
from thresher.io.base import BadRecord, ReaderOptions, ShardSpec
from thresher.io.compression import StreamError, detect_compression, iter_decompressed

#: raw bytes kept in a BadRecord.
RAW_KEEP = 65536
#: uncompressed bytes per Parquet batch (rows per batch = this / average row size, 16..4096).
BATCH_BYTES = 32 << 20

Item = Document | BadRecord


def read_shard(spec: ShardSpec, options: ReaderOptions) -> Iterator[Document | BadRecord]:
    """Yield the documents of ``spec`` in file order, and a :class:`BadRecord` for each bad record.

    Never raises for bad data (an unreadable file gives a BadRecord); raises ``OSError`` only when
    the file cannot be opened at all (missing after planning, no permission). For a whole-file spec
    the compression is taken from the file's magic bytes, so ``ShardSpec(path, "jsonl")`` reads a
    ``.jsonl.zst`` work file correctly.
    """
    if spec.start == 0 and os.path.getsize(spec.path) == 0:
        yield BadRecord(
            spec.path,
            "file",
            "empty_file",
            f"The input file {spec.path} is empty (0 bytes); it holds no records.",
        )
        return
    if spec.unit == "file" and spec.format != "parquet":
        actual = detect_compression(spec.path)  # a hand-made spec need not state the compression
        if actual != spec.compression:
            spec = dataclasses.replace(spec, compression=actual)
    if spec.format == "jsonl":
        yield from _read_jsonl(spec, options)
    elif spec.format == "parquet":
        yield from _read_parquet(spec, options)
    elif spec.format in ("warc", "wet"):
        from thresher.io.warc import read_warc

        yield from read_warc(spec, options)
    elif spec.format == "txt":
        yield from _read_txt(spec, options)
    else:
        raise ValueError(f"unknown input format {spec.format!r} in shard {spec.label}")


# -- shared record conversion ----------------------------------------------------------------------


class _Converter:
    """Turns one decoded record (a dict, consumed) into a Document, or a missing-text message."""

    __slots__ = ("path", "text_key", "id_key", "pop_id", "html", "drop_key")

    def __init__(self, path: str, options: ReaderOptions) -> None:
        self.path = path
        self.html = options.html_field is not None
        self.text_key = options.html_field if options.html_field is not None else options.text_field
        self.drop_key = options.text_field if self.html else None  # the text field is not kept with html
        self.id_key = options.id_field
        self.pop_id = options.id_field == "id"

    def convert(self, rec: dict[str, Any], default_id: Callable[[], str]) -> Document | str:
        """The Document for ``rec``; a str (the BadRecord message) when the text is missing."""
        text = rec.pop(self.text_key, None)
        if type(text) is not str:
            what = "has no" if text is None else f"has a non-string ({type(text).__name__})"
            return f"The record {what} {self.text_key!r} field; set reader.text_field to the field holding the text."
        did = rec.pop(self.id_key, None) if self.pop_id else rec.get(self.id_key)
        nested = rec.pop("metadata", None)
        if nested is not None:
            if isinstance(nested, dict):
                rec.update(nested)
            else:
                rec["metadata"] = nested
        if self.html:
            rec["format"] = "html"
            rec.pop(self.drop_key, None)
        if "source" not in rec:
            rec["source"] = self.path
        if did is None:
            did = default_id()
        elif type(did) is not str:
            did = str(did)
        return Document(did, text, rec)


# -- JSONL -----------------------------------------------------------------------------------------


def _json_error(path: str, line: bytes, position: str, exc: Exception) -> BadRecord:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as uexc:
        return BadRecord(
            path,
            position,
            "invalid_utf8",
            f"The line is not valid UTF-8 (byte {uexc.start}); re-encode the file as UTF-8.",
            line[:RAW_KEEP],
        )
    return BadRecord(path, position, "invalid_json", f"The line is not valid JSON ({exc}).", line[:RAW_KEEP])


def _read_jsonl(spec: ShardSpec, options: ReaderOptions) -> Iterator[Item]:
    path = spec.path
    name = os.path.basename(path)
    conv = _Converter(path, options)
    max_bytes = options.max_record_bytes
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    sliced = spec.unit != "file"
    start = spec.start if sliced else 0
    end = spec.end if sliced else None
    where = "byte" if spec.compression == "none" else "compressed byte"
    text_key = conv.text_key
    simple = options.html_field is None and options.id_field == "id"  # the inlined fast path applies

    def ident(index: int) -> tuple[str, str]:
        if sliced:
            return f"{name}@{start}/{index}", f"line {index + 1} of the slice at {where} {start}"
        return f"{name}/{index}", f"line {index + 1}"

    with open(path, "rb") as fh:
        if sliced and spec.compression == "none" and start > 0:
            fh.seek(start - 1)
            skipping = fh.read(1) != b"\n"
        else:
            skipping = sliced and start > 0 and bool(spec.extra.get("starts_mid_line"))
        chunks = iter_decompressed(fh, spec.compression, start, end)  # type: ignore[arg-type]
        index = 0  # index of the next line in this shard
        pend: list[bytes] = []  # pieces of the current partial line
        pend_len = 0
        discarding = False  # inside a line already reported as too large
        stream_error: StreamError | None = None

        def too_large(data: bytes, index: int) -> BadRecord:
            return BadRecord(
                path,
                ident(index)[1],
                "record_too_large",
                f"The line is longer than reader.max_record_bytes ({max_bytes} bytes); raise the limit "
                "to keep such records.",
                data[:RAW_KEEP],
            )

        def handle(line: bytes, index: int) -> Item | None:
            if len(line) > max_bytes:
                return too_large(line, index)
            try:
                rec = loads(line)
            except decode_error as exc:
                if not line.strip():
                    return None
                if line.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark (Windows exports)
                    return handle(line[3:], index)
                return _json_error(path, line, ident(index)[1], exc)
            if type(rec) is not dict:
                return BadRecord(
                    path,
                    ident(index)[1],
                    "invalid_json",
                    f"The line is JSON but not an object ({type(rec).__name__}).",
                    line[:RAW_KEEP],
                )
            item = conv.convert(rec, lambda: ident(index)[0])
            if type(item) is str:
                return BadRecord(path, ident(index)[1], "missing_text", item, line[:RAW_KEEP])
            return item  # type: ignore[return-value]

        try:
            for chunk in chunks:
                if skipping:
                    cut = chunk.find(b"\n")
                    if cut < 0:
                        continue
                    chunk = chunk[cut + 1 :]
                    skipping = False
                if discarding:
                    cut = chunk.find(b"\n")
                    if cut < 0:
                        continue
                    chunk = chunk[cut + 1 :]
                    discarding = False
                    index += 1
                if not chunk:
                    continue
                if chunk.find(b"\n") < 0:
                    pend.append(chunk)
                    pend_len += len(chunk)
                    if pend_len > max_bytes:
                        yield too_large(b"".join(pend), index)
                        pend, pend_len, discarding = [], 0, True
                    continue
                if pend:
                    pend.append(chunk)
                    chunk = b"".join(pend)
                    pend, pend_len = [], 0
                lines = chunk.split(b"\n")
                tail = lines.pop()
                for line in lines:
                    if line:
                        # fast path (a good record), inlined; anything unusual goes to handle()
                        rec = None
                        if len(line) <= max_bytes:
                            try:
                                rec = loads(line)
                            except decode_error:
                                pass
                        if type(rec) is dict and type(rec.get(text_key)) is str and simple:
                            text = rec.pop(text_key)
                            did = rec.pop("id", None)
                            nested = rec.pop("metadata", None)
                            if type(nested) is dict:
                                rec.update(nested)
                            elif nested is not None:
                                rec["metadata"] = nested
                            if "source" not in rec:
                                rec["source"] = path
                            if type(did) is not str:
                                did = ident(index)[0] if did is None else str(did)
                            yield Document(did, text, rec)
                        else:
                            item = handle(line, index)
                            if item is not None:
                                yield item
                    index += 1
                if tail:
                    pend, pend_len = [tail], len(tail)
        except StreamError as exc:
            stream_error = exc

        if pend and stream_error is None and end is not None and not discarding:
            # the last line started in this slice: finish it from the data after ``end``
            try:
                for chunk in iter_decompressed(fh, spec.compression, end, None):  # type: ignore[arg-type]
                    cut = chunk.find(b"\n")
                    if cut >= 0:
                        pend.append(chunk[:cut])
                        break
                    pend.append(chunk)
                    pend_len += len(chunk)
                    if pend_len > max_bytes:
                        break
            except StreamError as exc:
                stream_error = exc
        if pend and not discarding:
            line = b"".join(pend)
            if stream_error is None:
                item = handle(line, index)
                if item is not None:
                    yield item
            else:
                stream_error.tail = line  # type: ignore[attr-defined]
        if stream_error is not None:
            tail = getattr(stream_error, "tail", None)
            yield BadRecord(
                path,
                f"compressed byte {stream_error.offset}",
                stream_error.reason,
                stream_error.message + " Records after this point are lost; records before it were read.",
                tail[:RAW_KEEP] if tail else None,
            )


# -- Parquet ---------------------------------------------------------------------------------------


def _read_parquet(spec: ShardSpec, options: ReaderOptions) -> Iterator[Item]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = spec.path
    name = os.path.basename(path)
    conv = _Converter(path, options)
    try:
        pf = pq.ParquetFile(path)
        meta = pf.metadata
    except Exception as exc:  # noqa: BLE001 - any unreadable file becomes one bad record
        yield BadRecord(path, "file", "bad_parquet", f"The file cannot be read as Parquet ({exc}).")
        return
    if spec.unit == "row_groups":
        groups = list(range(spec.start, spec.end if spec.end is not None else meta.num_row_groups))
    else:
        groups = list(range(meta.num_row_groups))
    if not groups:
        return
    row = sum(meta.row_group(i).num_rows for i in range(groups[0]))
    names = pf.schema_arrow.names
    text_key = conv.text_key
    if text_key not in names:
        yield BadRecord(
            path,
            "file",
            "missing_text",
            f"The Parquet file has no {text_key!r} column (columns: {', '.join(names)}); set reader.text_field.",
        )
        return
    max_bytes = options.max_record_bytes
    for group in groups:
        try:
            info = meta.row_group(group)
            row_bytes = max(info.total_byte_size // max(info.num_rows, 1), 1)
            batch_rows = max(16, min(4096, BATCH_BYTES // row_bytes))  # bounded memory for big rows
            batches = pf.iter_batches(batch_size=batch_rows, row_groups=[group], use_threads=False)
            for batch in batches:
                cols: dict[str, list[Any]] = {}
                meta_col = None
                for field_name, column in zip(batch.schema.names, batch.columns, strict=False):
                    json_column = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
                    if field_name == "metadata" and json_column:
                        meta_col = column.to_pylist()
                    else:
                        cols[field_name] = column.to_pylist()
                keys = list(cols)
                values = list(cols.values())
                for r in range(batch.num_rows):
                    rec = {k: v[r] for k, v in zip(keys, values, strict=False)}
                    position = f"row {row}"
                    text = rec.get(text_key)
                    if type(text) is str and len(text) > max_bytes and len(text.encode()) > max_bytes:
                        yield BadRecord(
                            path,
                            position,
                            "record_too_large",
                            f"The row's text is longer than reader.max_record_bytes ({max_bytes} bytes).",
                            text[:RAW_KEEP].encode(),
                        )
                        row += 1
                        continue
                    if meta_col is not None:
                        raw_meta = meta_col[r]
                        if raw_meta is not None:
                            try:
                                parsed = orjson.loads(raw_meta)
                            except orjson.JSONDecodeError:
                                parsed = raw_meta
                            rec["metadata"] = parsed
                    item = conv.convert(rec, lambda: f"{name}/{row}")  # noqa: B023 - called at once
                    if type(item) is str:
                        yield BadRecord(path, position, "missing_text", item)
                    else:
                        yield item  # type: ignore[misc]
                    row += 1
        except Exception as exc:  # noqa: BLE001 - a broken row group must not stop the shard
            yield BadRecord(path, f"row group {group}", "bad_parquet", f"Row group {group} cannot be read ({exc}).")
            row = sum(meta.row_group(i).num_rows for i in range(group + 1))


# -- plain text ------------------------------------------------------------------------------------


def _read_txt(spec: ShardSpec, options: ReaderOptions) -> Iterator[Item]:
    path = spec.path
    data = bytearray()
    error: StreamError | None = None
    with open(path, "rb") as fh:
        try:
            for chunk in iter_decompressed(fh, spec.compression, 0, None):  # type: ignore[arg-type]
                data += chunk
                if len(data) > options.max_record_bytes:
                    yield BadRecord(
                        path,
                        "file",
                        "record_too_large",
                        f"The text file is larger than reader.max_record_bytes ({options.max_record_bytes} bytes).",
                        bytes(data[:RAW_KEEP]),
                    )
                    return
        except StreamError as exc:
            error = exc
    if error is not None:
        yield BadRecord(path, f"compressed byte {error.offset}", error.reason, error.message, bytes(data[:RAW_KEEP]))
        return
    metadata: dict[str, Any] = {"source": path}
    try:
        text = data.decode("utf-8-sig")
        metadata["encoding"] = "utf-8"
    except UnicodeDecodeError:
        from resiliparse.parse.encoding import bytes_to_str, detect_encoding

        encoding = detect_encoding(bytes(data))
        text = bytes_to_str(bytes(data), encoding)
        metadata["encoding"] = encoding
    metadata["format"] = "text"
    yield Document(spec.extra.get("id") or os.path.basename(path), text, metadata)


__all__ = ["read_shard"]
