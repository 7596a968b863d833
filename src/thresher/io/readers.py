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
``skipped_...``              any reason starting with ``skipped_`` is a count of records that are not
                             documents; the executor counts them as skipped, not as bad
============================ =========================================================================

Formats (``spec.format``):

- **jsonl** (plain, gzip, zstd, bz2, xz): ``text = record[options.text_field]`` (or
  ``record[options.html_field]`` when set, then ``metadata["format"] = "html"`` and the text field is
  dropped), ``id = record[options.id_field]`` (converted to ``str``). Every other field goes into
  metadata, and a nested ``"metadata"`` object is merged in, so ``Document.to_dict()`` written as a
  line reads back as an equal Document. A custom ``id_field`` (not ``"id"``) also stays in metadata.
- **parquet**: the same rules per row, read in batches (``iter_batches``); a string column named
  ``metadata`` (how :class:`~thresher.io.writers.ShardWriter` stores metadata) is parsed as JSON.
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
``line 17``, ``line 17 of the slice at byte 268435456``, ``row 1234``, ``record at offset 5678``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import orjson

from thresher.document import Document
from thresher.io.base import BadRecord, ReaderOptions, ShardSpec
from thresher.io.compression import StreamError, iter_decompressed, iter_raw

#: raw bytes kept in a BadRecord.
RAW_KEEP = 65536

Item = Document | BadRecord


def read_shard(spec: ShardSpec, options: ReaderOptions) -> Iterator[Document | BadRecord]:
    """Yield the documents of ``spec`` in file order, and a :class:`BadRecord` for each bad record.

    Never raises for bad data (an unreadable file gives a BadRecord); raises ``OSError`` only when
    the file cannot be opened at all (missing after planning, no permission).
    """
    if spec.start == 0 and os.path.getsize(spec.path) == 0:
        yield BadRecord(
            spec.path,
            "file",
            "empty_file",
            f"The input file {spec.path} is empty (0 bytes); it holds no records.",
        )
        return
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
    """Turns one decoded record (a dict) into a Document or a BadRecord."""

    __slots__ = ("path", "text_key", "id_key", "pop_id", "html")

    def __init__(self, path: str, options: ReaderOptions) -> None:
        self.path = path
        self.html = options.html_field is not None
        self.text_key = options.html_field if options.html_field is not None else options.text_field
        self.id_key = options.id_field
        self.pop_id = options.id_field == "id"

    def convert(self, rec: dict[str, Any], default_id: str, position: str, raw: bytes | None) -> Item:
        text = rec.pop(self.text_key, None)
        if type(text) is not str:
            what = "has no" if text is None else f"has a non-string ({type(text).__name__})"
            return BadRecord(
                self.path,
                position,
                "missing_text",
                f"The record {what} {self.text_key!r} field; "
                "set reader.text_field to the field holding the text.",
                raw,
            )
        did = rec.pop(self.id_key, None) if self.pop_id else rec.get(self.id_key)
        nested = rec.pop("metadata", None)
        if nested is not None:
            if isinstance(nested, dict):
                rec.update(nested)
            else:
                rec["metadata"] = nested
        if self.html:
            rec["format"] = "html"
            rec.pop("text", None)
        if "source" not in rec:
            rec["source"] = self.path
        if did is None:
            did = default_id
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
                return _json_error(path, line, ident(index)[1], exc)
            if type(rec) is not dict:
                return BadRecord(
                    path,
                    ident(index)[1],
                    "invalid_json",
                    f"The line is JSON but not an object ({type(rec).__name__}).",
                    line[:RAW_KEEP],
                )
            did, pos = ident(index) if (conv.id_key not in rec) else (None, None)
            item = conv.convert(rec, did or "", pos or "", None)
            if type(item) is BadRecord:
                item.position = ident(index)[1]
                item.raw = line[:RAW_KEEP]
            return item

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
            f"The Parquet file has no {text_key!r} column (columns: {', '.join(names)}); "
            "set reader.text_field.",
        )
        return
    max_bytes = options.max_record_bytes
    for group in groups:
        try:
            batches = pf.iter_batches(batch_size=4096, row_groups=[group], use_threads=False)
            for batch in batches:
                cols: dict[str, list[Any]] = {}
                meta_col = None
                for field_name, column in zip(batch.schema.names, batch.columns, strict=False):
                    if (
                        field_name == "metadata"
                        and pa.types.is_string(column.type)
                        or (field_name == "metadata" and pa.types.is_large_string(column.type))
                    ):
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
                    item = conv.convert(rec, f"{name}/{row}", position, None)
                    yield item
                    row += 1
        except Exception as exc:  # noqa: BLE001 - a broken row group must not stop the shard
            yield BadRecord(
                path, f"row group {group}", "bad_parquet", f"Row group {group} cannot be read ({exc})."
            )
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
                        "The text file is larger than reader.max_record_bytes "
                        f"({options.max_record_bytes} bytes).",
                        bytes(data[:RAW_KEEP]),
                    )
                    return
        except StreamError as exc:
            error = exc
    if error is not None:
        yield BadRecord(
            path, f"compressed byte {error.offset}", error.reason, error.message, bytes(data[:RAW_KEEP])
        )
        return
    metadata: dict[str, Any] = {"source": path}
    try:
        text = data.decode("utf-8")
        metadata["encoding"] = "utf-8"
    except UnicodeDecodeError:
        from resiliparse.parse.encoding import bytes_to_str, detect_encoding

        encoding = detect_encoding(bytes(data))
        text = bytes_to_str(bytes(data), encoding)
        metadata["encoding"] = encoding
    metadata["format"] = "text"
    yield Document(os.path.basename(path), text, metadata)


__all__ = ["read_shard", "iter_raw"]
