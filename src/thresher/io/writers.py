"""Write output shards (:class:`ShardWriter`) and bad-record files (:func:`write_bad_records`).

Usage::

    with ShardWriter(outdir, shard=7, fmt="jsonl", compression="zstd") as writer:
        writer.write(docs)                 # any iterable, streamed; may be called several times
        writer.write(rejected, with_drop=True)
    # on a normal exit the file is committed: outdir/part-00007.jsonl.zst
    # on an exception it is aborted: no file under the final name, the temporary file removed

or explicitly ``writer = ShardWriter(...); writer.write(...); path = writer.commit()`` /
``writer.abort()``. ``writer.path`` is the final path, ``writer.count`` the documents written.

File names (under ``outdir/subdir``): ``part-00000.jsonl.zst``, ``part-00000.jsonl.gz``,
``part-00000.jsonl``, ``part-00000.parquet``. The file is written under a temporary name in the same
folder (:func:`thresher.io.atomic.temp_name`), fsynced and renamed on :meth:`ShardWriter.commit`,
so a crash never leaves a partial file under the final name. A shard with no documents still
gives a valid empty file (an empty zstd frame, an empty gzip member, a 0-byte ``.jsonl``, or a
Parquet file with the schema and no rows), so the set of output files never depends on timing.

JSONL lines are ``orjson.dumps(doc.to_dict(with_drop))``, so :func:`thresher.io.readers.read_shard`
reads them back as equal Documents. Output is byte-identical for the same documents (zstd level 3
single-threaded, gzip with mtime 0). Lines are buffered and compressed in 8 MB blocks; a new zstd
frame starts every 64 MB and a new gzip member every 8 MB of uncompressed data, at a line boundary,
so a large output file can itself be split by :func:`thresher.io.plan.plan_shards` (at a cost well
under 0.1 % of compression ratio).

Parquet schema: ``id: string, text: string, metadata: string`` where ``metadata`` is the metadata dict
as a JSON string. Metadata is heterogeneous (``signals`` differ by recipe, ``removed_lines`` is a
list of objects, ``dropped`` appears only on rejected documents, datasets add their own fields), so
a struct column would need one schema across all row groups and all shards; a JSON column is
always valid and the reader parses it back. Row groups hold up to 64 MB of text (or 50,000
documents); the Parquet codec follows ``compression`` (zstd, gzip or none).
"""

from __future__ import annotations

import contextlib
import os
import zlib
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import orjson
import zstandard

from thresher.document import Document
from thresher.io.atomic import atomic_path, temp_name
from thresher.io.base import BadRecord

WriterCompression = Literal["zstd", "gzip", "none"]

#: uncompressed bytes buffered before a compress-and-write call.
BLOCK_BYTES = 8 << 20
#: uncompressed bytes per zstd frame / gzip member (lets the planner split the file; it looks for
#: boundaries only when the first frame/member ends early, see thresher.io.plan). deflate's window is
#: 32 KB, so 8 MB gzip members cost nothing in ratio; zstd level 3 has a 2 MB window.
MEMBER_BYTES = 64 << 20
GZIP_MEMBER_BYTES = 8 << 20
#: text bytes (or documents) per Parquet row group.
ROW_GROUP_BYTES = 64 << 20
ROW_GROUP_DOCS = 50_000

ZSTD_LEVEL = 3
GZIP_LEVEL = 6

_SUFFIX = {"zstd": ".jsonl.zst", "gzip": ".jsonl.gz", "none": ".jsonl"}


def _dumps_fallback(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS, default=str)


def dumps_document(doc: Document, with_drop: bool = False) -> bytes:
    """One JSON line (without the newline) for ``doc``; non-JSON values (numpy, sets) are converted."""
    record = doc.to_dict(with_drop)
    try:
        return orjson.dumps(record)
    except TypeError:
        return _dumps_fallback(record)


def output_name(shard: int, fmt: str, compression: str = "zstd") -> str:
    """The file name of output shard ``shard``: ``part-00007.jsonl.zst`` and so on."""
    if fmt == "parquet":
        return f"part-{shard:05d}.parquet"
    if fmt != "jsonl":
        raise ValueError(f"unknown output format {fmt!r}; use 'jsonl' or 'parquet'")
    if compression not in _SUFFIX:
        raise ValueError(f"unknown compression {compression!r}; use 'zstd', 'gzip' or 'none'")
    return f"part-{shard:05d}{_SUFFIX[compression]}"


class _JsonlSink:
    """Buffered, member-splitting JSONL writer over an open binary file."""

    def __init__(self, fh: Any, compression: str) -> None:
        self.fh = fh
        self.compression = compression
        self.buf: list[bytes] = []
        self.buf_len = 0
        self.member_len = 0
        self.member_open = False
        self._cctx = zstandard.ZstdCompressor(level=ZSTD_LEVEL) if compression == "zstd" else None
        self._zobj: Any = None

    def add(self, line: bytes) -> None:
        self.buf.append(line)
        self.buf_len += len(line) + 1
        if self.buf_len >= BLOCK_BYTES:
            self.flush_block()

    def flush_block(self) -> None:
        if not self.buf:
            return
        self.buf.append(b"")
        data = b"\n".join(self.buf)
        self.buf, self.buf_len = [], 0
        if self.compression == "none":
            self.fh.write(data)
            return
        if not self.member_open:
            self._open_member()
        self.fh.write(self._zobj.compress(data))
        self.member_len += len(data)
        if self.member_len >= (MEMBER_BYTES if self.compression == "zstd" else GZIP_MEMBER_BYTES):
            self._close_member()

    def _open_member(self) -> None:
        if self.compression == "zstd":
            self._zobj = self._cctx.compressobj()  # type: ignore[union-attr]
        else:
            self._zobj = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        self.member_open = True
        self.member_len = 0

    def _close_member(self) -> None:
        self.fh.write(self._zobj.flush())
        self.member_open = False
        self._zobj = None

    def close(self, wrote_anything: bool) -> None:
        self.flush_block()
        if self.member_open:
            self._close_member()
        elif not wrote_anything and self.compression != "none":
            self._open_member()  # an empty but valid stream
            self._close_member()


class _ParquetSink:
    """Row-group-batched Parquet writer with the ``id, text, metadata(JSON)`` schema."""

    def __init__(self, path: Path, compression: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.schema = pa.schema(
            [("id", pa.string()), ("text", pa.string()), ("metadata", pa.string())],
            metadata={b"thresher.metadata": b"json"},
        )
        codec = {"zstd": "zstd", "gzip": "gzip", "none": "none"}[compression]
        self.writer = pq.ParquetWriter(
            str(path), self.schema, compression=codec, use_dictionary=False, write_statistics=False
        )
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.metas: list[str] = []
        self.text_len = 0

    def add(self, doc: Document, with_drop: bool) -> None:
        record = doc.to_dict(with_drop)
        metadata = record["metadata"]
        try:
            meta = orjson.dumps(metadata)
        except TypeError:
            meta = _dumps_fallback(metadata)
        self.ids.append(record["id"])
        self.texts.append(record["text"])
        self.metas.append(meta.decode())
        self.text_len += len(record["text"])
        if self.text_len >= ROW_GROUP_BYTES or len(self.ids) >= ROW_GROUP_DOCS:
            self.flush()

    def flush(self) -> None:
        if not self.ids:
            return
        pa = self.pa
        table = pa.Table.from_arrays(
            [
                pa.array(self.ids, pa.string()),
                pa.array(self.texts, pa.string()),
                pa.array(self.metas, pa.string()),
            ],
            schema=self.schema,
        )
        self.writer.write_table(table, row_group_size=len(self.ids))
        self.ids, self.texts, self.metas, self.text_len = [], [], [], 0

    def close(self) -> None:
        self.flush()
        self.writer.close()


class ShardWriter:
    """Writes one output shard atomically (see the module docstring)."""

    def __init__(
        self,
        outdir: str | os.PathLike[str],
        shard: int,
        fmt: Literal["jsonl", "parquet"] = "jsonl",
        compression: WriterCompression = "zstd",
        subdir: str = "",
    ) -> None:
        folder = Path(outdir) / subdir if subdir else Path(outdir)
        self.fmt = fmt
        self.compression = compression
        self.path = folder / output_name(shard, fmt, compression)
        self.tmp = temp_name(self.path)
        self.count = 0
        self._closed = False
        folder.mkdir(parents=True, exist_ok=True)
        self._fh: Any = None
        self._jsonl: _JsonlSink | None = None
        self._parquet: _ParquetSink | None = None
        if fmt == "parquet":
            self._parquet = _ParquetSink(self.tmp, compression)
        else:
            self._fh = open(self.tmp, "wb", buffering=0)
            self._jsonl = _JsonlSink(self._fh, compression)

    def write(self, docs: Iterable[Document], with_drop: bool = False) -> int:
        """Append ``docs`` (streamed); ``with_drop`` adds ``metadata["dropped"]``. Returns how many."""
        if self._closed:
            raise RuntimeError(f"ShardWriter for {self.path} is already committed or aborted")
        n = 0
        if self._jsonl is not None:
            add = self._jsonl.add
            for doc in docs:
                add(dumps_document(doc, with_drop))
                n += 1
        else:
            assert self._parquet is not None
            for doc in docs:
                self._parquet.add(doc, with_drop)
                n += 1
        self.count += n
        return n

    def commit(self) -> Path:
        """Finish the file, fsync it and rename it to :attr:`path`; returns :attr:`path`."""
        if self._closed:
            raise RuntimeError(f"ShardWriter for {self.path} is already committed or aborted")
        try:
            if self._jsonl is not None:
                self._jsonl.close(self.count > 0)
                os.fsync(self._fh.fileno())
                self._fh.close()
            else:
                assert self._parquet is not None
                self._parquet.close()
                with open(self.tmp, "rb") as fh:
                    os.fsync(fh.fileno())
            os.replace(self.tmp, self.path)
            _fsync_dir(self.path.parent)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return self.path

    def abort(self) -> None:
        """Drop the temporary file; nothing appears under :attr:`path`. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            if self._fh is not None:
                self._fh.close()
        with contextlib.suppress(Exception):
            if self._parquet is not None:
                self._parquet.writer.close()
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.abort()
        elif not self._closed:
            self.commit()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bad_records(path: str | os.PathLike[str], records: Iterable[BadRecord]) -> int:
    """Write ``records`` as JSONL (``BadRecord.to_dict()`` per line) to ``path`` atomically.

    The file is compressed with zstd when ``path`` ends in ``.zst``, gzip for ``.gz``; otherwise
    plain. Returns the number of records written; with no records an empty (valid) file is written.
    """
    target = Path(path)
    name = target.name.lower()
    compression = "zstd" if name.endswith(".zst") else "gzip" if name.endswith(".gz") else "none"
    n = 0
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        sink = _JsonlSink(fh, compression)
        for record in records:
            sink.add(orjson.dumps(record.to_dict()))
            n += 1
        sink.close(n > 0)
        fh.flush()
    return n
