"""Turn input paths into the sorted list of shards the executor runs.

Usage::

    from thresher.io.base import ReaderOptions
    from thresher.io.plan import plan_shards

    specs = plan_shards(["data/", "extra/*.jsonl.zst"], ReaderOptions())
    # specs[i] is the unit of work whose output is part-{i:05d}; spec.to_dict() is JSON-safe.

Inputs are files, folders (walked recursively; names starting with ``.`` or ``_`` such as
``.DS_Store`` or ``_SUCCESS`` are ignored) or globs (``**`` works). A missing path, a glob that
matches nothing or a folder without files raises :class:`thresher.errors.UsageError`. Files are
de-duplicated and sorted by path; the slices of one file follow each other in file order.

Format: ``options.format``, else from the suffix (after any ``.gz``/``.zst``/``.bz2``/``.xz``):
``.jsonl .json .ndjson`` -> jsonl, ``.parquet .pq`` -> parquet, ``.warc`` -> warc, ``.wet`` -> wet,
``.txt`` -> txt, else from the content (``PAR1`` -> parquet, ``WARC/`` -> warc, or wet when the
first records are ``conversion`` records, ``{`` -> jsonl, other UTF-8 text -> txt). Compression
always comes from the magic bytes (:mod:`thresher.io.compression`), never from the suffix alone.

Slicing (the split depends only on the file's bytes and ``options.shard_bytes``, never on the
number of workers; a file whose (estimated uncompressed) size is at most ``shard_bytes`` is one
shard with ``unit="file"``):

- **plain JSONL** (``unit="bytes"``): fixed byte ranges ``[k*shard_bytes, (k+1)*shard_bytes)``. A
  record belongs to the slice where its line *starts*: a reader skips the partial line at its
  start and finishes its last line past ``end``. No scan is needed to plan.
- **multi-member gzip / multi-frame zstd JSONL, WARC.gz, WET.gz, WARC.zst** (``unit="members"``):
  slices start at member (frame) offsets, about ``shard_bytes`` of estimated uncompressed data
  apart. Members carry no index, so near each target offset planning looks for the magic number
  and accepts a match only when the member behind it is complete: a gzip member must decompress
  to its end with a valid CRC (a false match would need a CRC collision too), a zstd frame must
  walk block by block to its end and be followed by another frame. The slice then starts at the
  *next* member, whose preceding byte is known: ``extra["starts_mid_line"]`` tells a JSONL reader
  that the boundary falls inside a line (BGZF-style files), so the same line-start rule as plain
  JSONL applies. For WARC/WET the next member must begin with ``WARC/``. Common Crawl WARC/WET
  files (one gzip member per record), BGZF files and Thresher's own outputs split this way.
- **single-stream gzip/zstd, bz2, xz**: one shard. Such a stream cannot be entered in the middle;
  slicing by record ranges would make every worker decompress everything before its slice
  (quadratic work), which costs more than it gains. A file counts as single-stream when its first
  gzip member does not end within 8 MB (zstd frame: 64 MB) of compressed data, so planning never
  scans such a file. Recompress as multi-member (``bgzip``, ``zstd`` with several frames, or
  Thresher's own writers, which start a new member/frame at a record boundary every 8 MB for gzip
  and 64 MB for zstd) to spread one big file over workers.
- **plain WARC/WET** (``unit="bytes"``): slices start at record offsets found by walking the
  record headers (``Content-Length``), one header read per record.
- **Parquet** (``unit="row_groups"``): consecutive row groups, cut when their uncompressed size
  reaches ``shard_bytes`` (row groups are Parquet's own unit of independent reading).
- **.txt**: always one shard (one document).

For compressed files the uncompressed size is estimated from the compression ratio of the file's
first 256 KB (deterministic). Planning cost: stat + a small sniff per file; for a file large enough
to split, plain JSONL needs nothing more, gzip/zstd one member decompressed near each boundary
(plus the first member, or 8 MB of it), plain WARC one header read per record. A spec's ``start``/``end``
are in ``unit`` (bytes of the file for ``bytes`` and ``members``, row-group indices for
``row_groups``); ``end=None`` with ``unit="file"`` means the whole file.
"""

from __future__ import annotations

import dataclasses
import glob
import mmap
import os
import zlib
from collections.abc import Callable

import zstandard

from thresher.errors import UsageError
from thresher.io.base import InputFormat, ReaderOptions, ShardSpec
from thresher.io.compression import (
    GZIP_MAGIC,
    Compression,
    detect_compression,
    iter_decompressed,
    read_head,
    strip_compression_suffix,
)

#: finds a split point in a window of a compressed file (see :func:`_split_points`)
_MemberFinder = Callable[[mmap.mmap, int, int, int, InputFormat], "tuple[int | None, bytes] | None"]

_FORMAT_SUFFIXES: dict[str, InputFormat] = {
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".warc": "warc",
    ".wet": "wet",
    ".txt": "txt",
}

#: a file is split only if its first gzip member / zstd frame ends within this many compressed bytes
#: (otherwise it is taken as one stream that cannot be entered in the middle). Thresher's writers
#: keep members below these sizes (8 MB gzip members, 64 MB zstd frames, uncompressed).
FIRST_MEMBER_BUDGET = 8 << 20
FIRST_FRAME_BUDGET = 64 << 20
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


# -- input expansion -------------------------------------------------------------------------------


def _has_magic(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def _ignored(name: str) -> bool:
    return name.startswith((".", "_"))


def _walk(folder: str) -> list[str]:
    out = []
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not _ignored(d))
        out.extend(os.path.join(root, f) for f in files if not _ignored(f))
    return out


def expand_inputs(inputs: list[str]) -> list[str]:
    """The sorted, de-duplicated input files named by ``inputs`` (files, folders or globs)."""
    if not inputs:
        raise UsageError("No input was given; pass at least one file, folder or glob.")
    found: set[str] = set()
    for item in inputs:
        item = os.fspath(item)
        if item.startswith(("s3://", "gs://", "http://", "https://", "hf://")):
            raise UsageError(f"Remote input {item} is not supported yet; copy it to a local folder first.")
        if _has_magic(item) and not os.path.exists(item):
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                raise UsageError(f"The input pattern {item} matches no file; check the path and the quotes.")
            for match in matches:
                found.update(_walk(match) if os.path.isdir(match) else [match])
            continue
        if not os.path.exists(item):
            raise UsageError(f"The input path {item} does not exist; check the spelling or the current folder.")
        if os.path.isdir(item):
            files = _walk(item)
            if not files:
                raise UsageError(f"The input folder {item} contains no files; point to a folder with data.")
            found.update(files)
        else:
            found.add(item)
    return sorted(os.path.normpath(p) for p in found)


# -- format detection ------------------------------------------------------------------------------


def _warc_or_wet(head: bytes) -> InputFormat:
    if b"WARC-Type: conversion" in head and b"WARC-Type: response" not in head:
        return "wet"
    return "warc"


def detect_format(path: str, compression: Compression) -> InputFormat:
    """The input format of ``path``: from its suffix, else from its first decompressed bytes."""
    name = strip_compression_suffix(os.path.basename(path)).lower()
    suffix = os.path.splitext(name)[1]
    fmt = _FORMAT_SUFFIXES.get(suffix)
    if fmt is not None and fmt not in ("warc", "wet"):
        return fmt
    head = read_head(path, compression, 65536)
    if fmt == "wet":
        return "wet"
    if fmt == "warc" or head.startswith(b"WARC/"):
        return _warc_or_wet(head)
    if head.startswith(b"PAR1"):
        return "parquet"
    stripped = head.lstrip()
    if stripped.startswith(b"{"):
        return "jsonl"
    if not head:
        return "jsonl"  # empty file: the reader reports it as empty_file
    try:
        head.decode("utf-8")
        return "txt"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and len(head) == 65536:
            return "txt"  # a character cut by the 64 KB window
    raise UsageError(
        f"Cannot tell the format of {path}; give it a known suffix (.jsonl, .parquet, .warc, .wet, .txt) "
        "or set reader.format in the recipe."
    )


# -- slicing ---------------------------------------------------------------------------------------


def _ratio(path: str, compression: Compression) -> float:
    """Decompressed/compressed size ratio measured on the first 256 KB of the file (deterministic)."""
    out = 0
    probe = 256 << 10
    with open(path, "rb") as fh:
        try:
            for chunk in iter_decompressed(fh, compression, 0, probe, read_size=probe):
                out += len(chunk)
        except Exception:  # noqa: BLE001 - a probe cut inside a member ends "truncated"; expected
            pass
    size = min(probe, os.path.getsize(path))
    return max(out / max(size, 1), 1.0)


def _whole(path: str, fmt: InputFormat, compression: Compression) -> list[ShardSpec]:
    return [ShardSpec(path=path, format=fmt, compression=compression)]


def _slices(
    path: str,
    fmt: InputFormat,
    compression: Compression,
    unit: str,
    bounds: list[int],
    size: int,
    extras: list[dict] | None = None,
) -> list[ShardSpec]:
    """Specs for the ranges ``[0, b1), [b1, b2), ..., [bn, size)``."""
    if not bounds:
        return _whole(path, fmt, compression)
    starts = [0, *bounds]
    ends = [*bounds, size]
    extras = extras or [{} for _ in starts]
    return [
        ShardSpec(path=path, format=fmt, compression=compression, start=s, end=e, unit=unit, extra=x)  # type: ignore[arg-type]
        for s, e, x in zip(starts, ends, extras, strict=False)
    ]


def _plain_jsonl(path: str, size: int, options: ReaderOptions) -> list[ShardSpec]:
    step = max(int(options.shard_bytes), 1)
    bounds = list(range(step, size, step))
    return _slices(path, "jsonl", "none", "bytes", bounds, size)


def _plain_warc_bounds(path: str, size: int, step: int) -> list[int]:
    """Record start offsets, one at or after each multiple of ``step`` (walks record headers)."""
    bounds: list[int] = []
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        pos = 0
        target = step
        while pos < size:
            if mm[pos : pos + 5] != b"WARC/":
                break  # malformed from here: the rest stays in the last slice
            head_end = mm.find(b"\r\n\r\n", pos, pos + (1 << 20))
            if head_end < 0:
                break
            length = None
            for line in mm[pos:head_end].split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    try:
                        length = int(line[15:].strip())
                    except ValueError:
                        length = None
            if length is None:
                break
            nxt = head_end + 4 + length
            while nxt < size and mm[nxt : nxt + 1] in (b"\r", b"\n"):
                nxt += 1
            if nxt >= size:
                break
            if nxt >= target:
                bounds.append(nxt)
                target = nxt + step
            pos = nxt
    return bounds


def _zstd_frame_end(mm: mmap.mmap, pos: int, size: int, budget: int) -> int | None:
    """End offset of the zstd frame (data or skippable) starting at ``pos``, walking its block
    headers; None if it is not a well-formed frame or does not end within ``budget`` bytes."""
    magic = mm[pos : pos + 4]
    if len(magic) < 4:
        return None
    if magic[1:4] == b"\x2a\x4d\x18" and (magic[0] & 0xF0) == 0x50:
        end = pos + 8 + int.from_bytes(mm[pos + 4 : pos + 8], "little")
        return end if end <= size else None
    if magic != ZSTD_MAGIC or pos + 5 > size:
        return None
    fhd = mm[pos + 4]
    if fhd & 0x08:
        return None  # reserved bit set: not a frame header
    single = (fhd >> 5) & 1
    checksum = (fhd >> 2) & 1
    p = pos + 5 + (0 if single else 1) + (0, 1, 2, 4)[fhd & 3] + (1 if single else 0, 2, 4, 8)[fhd >> 6]
    limit = min(size, pos + budget)
    while True:
        if p + 3 > limit:
            return None
        header = int.from_bytes(mm[p : p + 3], "little")
        btype = (header >> 1) & 3
        if btype == 3 or (header >> 3) > (1 << 17):
            return None  # reserved block type, or a block over the 128 KB maximum
        p += 3 + (1 if btype == 1 else header >> 3)
        if header & 1:
            break
    p += 4 if checksum else 0
    return p if p <= size else None


def _next_data_frame(mm: mmap.mmap, pos: int, size: int) -> int | None:
    """``pos`` moved past skippable frames; None at the end of the file or on a malformed frame."""
    while pos < size:
        if mm[pos : pos + 4] == ZSTD_MAGIC:
            return pos
        end = _zstd_frame_end(mm, pos, size, 1 << 20)
        if end is None:
            return None
        pos = end
    return None


def _last_byte_of_member(mm: mmap.mmap, start: int, end: int, compression: Compression) -> bytes:
    """The last decompressed byte of the member/frame stored in ``[start, end)``."""
    if compression == "gzip":
        dec = zlib.decompressobj(wbits=31)
    else:
        dec = zstandard.ZstdDecompressor().decompressobj()
    last = b""
    step = 1 << 20
    for off in range(start, end, step):
        out = dec.decompress(mm[off : min(off + step, end)])
        if out:
            last = out[-1:]
    return last


def _first_member_ends(mm: mmap.mmap, size: int, compression: Compression) -> bool:
    """Whether the file's first gzip member / zstd frame ends early enough for splitting to pay.

    A single-stream file (one member for the whole file) cannot be split; this check keeps
    planning from scanning such a file for boundaries that do not exist.
    """
    if compression == "zstd":
        pos = _next_data_frame(mm, 0, size)
        end = None if pos is None else _zstd_frame_end(mm, pos, size, FIRST_FRAME_BUDGET)
        return end is not None and end < size
    probe = _probe_gzip_member(mm, 0, size, FIRST_MEMBER_BUDGET)
    return probe is not None and probe[0] < size


def _split_points(
    path: str, size: int, fmt: InputFormat, step: int, compression: Compression, find: _MemberFinder
) -> tuple[list[int], list[dict]]:
    """Member (gzip) or frame (zstd) starts near each multiple of ``step``, found by ``find`` in the
    window ``[target, target + step)``; a JSONL slice records whether it starts mid-line."""
    bounds: list[int] = []
    extras: list[dict] = [{}]
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        if not _first_member_ends(mm, size, compression):
            return [], []
        target = step
        while target < size:
            found = find(mm, target, min(size, target + step), size, fmt)
            if found is None:
                target += step
                continue
            start, last = found
            if start is None:
                break  # the member found is the file's last one
            extra: dict = {}
            if fmt == "jsonl":
                extra["starts_mid_line"] = last != b"\n"
            bounds.append(start)
            extras.append(extra)
            target = start + step
    return bounds, extras


def _find_zstd_frame(mm: mmap.mmap, pos: int, hi: int, size: int, fmt: InputFormat) -> tuple[int | None, bytes] | None:
    """The first frame in ``[pos, hi)`` whose magic number is real: the whole frame walks to its
    end and another frame (or the end of the file) follows. ``(next frame start, last byte)``."""
    while pos < hi:
        cand = mm.find(ZSTD_MAGIC, pos, hi)
        if cand < 0:
            return None
        end = _zstd_frame_end(mm, cand, size, FIRST_FRAME_BUDGET)
        nxt = _next_data_frame(mm, end, size) if end is not None and end < size else None
        if end is not None and (end >= size or nxt is not None):
            last = _last_byte_of_member(mm, cand, end, "zstd")
            if last or end >= size:
                return nxt, last
            pos = end  # an empty frame says nothing about the line: look further
            continue
        pos = cand + 1
    return None


def _probe_gzip_member(mm: mmap.mmap, start: int, size: int, budget: int = 256 << 20) -> tuple[int, bytes] | None:
    """If a complete gzip member (valid CRC) starts at ``start``: ``(its end, its last byte)``."""
    flags = mm[start + 3] if start + 3 < size else 0xFF
    if flags & 0xE0:
        return None
    dec = zlib.decompressobj(wbits=31)
    pos = start
    last = b""
    step = 1 << 16
    limit = min(size, start + budget)
    try:
        while pos < limit and not dec.eof:
            chunk = mm[pos : min(pos + step, limit)]
            out = dec.decompress(chunk)
            if out:
                last = out[-1:]
            if dec.eof:
                return pos + len(chunk) - len(dec.unused_data), last
            pos += len(chunk)
            step = min(step * 2, 1 << 22)
    except zlib.error:
        return None
    return None


def _find_gzip_member(mm: mmap.mmap, pos: int, hi: int, size: int, fmt: InputFormat) -> tuple[int | None, bytes] | None:
    """The first complete gzip member starting in ``[pos, hi)`` that another member follows (a WARC
    record's, for WARC/WET): ``(the next member's start, the member's last byte)``."""
    while pos < hi:
        cand = mm.find(GZIP_MAGIC + b"\x08", pos, hi)
        if cand < 0:
            return None
        probe = _probe_gzip_member(mm, cand, size)
        if probe is not None and not probe[1] and probe[0] < size:
            pos = probe[0]  # an empty member says nothing about the line: look further
            continue
        if probe is not None:
            end, last = probe
            if end >= size or mm[end : end + 3] != GZIP_MAGIC + b"\x08":
                return None  # the member runs to the end of the file (or trailing padding)
            if fmt in ("warc", "wet"):
                head = zlib.decompressobj(wbits=31).decompress(mm[end : end + 256])
                if not head.startswith(b"WARC/"):
                    pos = end
                    continue
            return end, last
        pos = cand + 1
    return None


def _parquet_slices(path: str, options: ReaderOptions) -> list[ShardSpec]:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception:  # noqa: BLE001 - unreadable file: one shard, the reader reports it
        return _whole(path, "parquet", "none")
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    total = sum(g.total_byte_size for g in groups)
    if total <= options.shard_bytes or len(groups) < 2:
        return _whole(path, "parquet", "none")
    bounds: list[int] = []
    acc = 0
    for i, group in enumerate(groups):
        if acc >= options.shard_bytes:
            bounds.append(i)
            acc = 0
        acc += group.total_byte_size
    return _slices(path, "parquet", "none", "row_groups", bounds, len(groups))


def plan_file(path: str, options: ReaderOptions) -> list[ShardSpec]:
    """The shards of one input file (see the module docstring for the slicing rules)."""
    size = os.path.getsize(path)
    if size == 0:
        fmt = options.format if options.format != "auto" else detect_format(path, "none")
        return _whole(path, fmt, "none")
    compression = detect_compression(path)
    fmt: InputFormat = options.format if options.format != "auto" else detect_format(path, compression)  # type: ignore[assignment]
    if fmt == "txt":
        return _whole(path, fmt, compression)
    if fmt == "parquet":
        return _parquet_slices(path, options)
    step = max(int(options.shard_bytes), 1)
    if compression == "none":
        if size <= step:
            return _whole(path, fmt, compression)
        if fmt == "jsonl":
            return _plain_jsonl(path, size, options)
        return _slices(path, fmt, compression, "bytes", _plain_warc_bounds(path, size, step), size)
    if compression not in ("gzip", "zstd"):
        return _whole(path, fmt, compression)
    if size * 64 <= step:
        return _whole(path, fmt, compression)  # too small to exceed shard_bytes at any usual ratio
    ratio = _ratio(path, compression)
    if size * ratio <= step:
        return _whole(path, fmt, compression)
    compressed_step = max(int(step / ratio), 1)
    if compression == "zstd":
        bounds, extras = _split_points(path, size, fmt, compressed_step, "zstd", _find_zstd_frame)
    else:
        bounds, extras = _split_points(path, size, fmt, compressed_step, "gzip", _find_gzip_member)
    return _slices(path, fmt, compression, "members", bounds, size, extras)


def plan_shards(inputs: list[str], options: ReaderOptions) -> list[ShardSpec]:
    """The shards of all ``inputs``, in a deterministic order (sorted files, slices in file order).

    Raises :class:`~thresher.errors.UsageError` for a missing path, a glob matching nothing, an
    empty folder or a file whose format cannot be told.
    """
    specs: list[ShardSpec] = []
    for path in expand_inputs([os.fspath(p) for p in inputs]):
        specs.extend(plan_file(path, options))
    _name_text_documents(specs)
    return specs


def _name_text_documents(specs: list[ShardSpec]) -> None:
    """Give each ``.txt`` document a unique id: its path relative to the folder all text inputs share.

    Files in one folder keep their file name as id (``a.txt``); files from several folders get the
    folders too (``site1/index.txt``, ``site2/index.txt``), so ids never collide within a run.
    """
    texts = [i for i, spec in enumerate(specs) if spec.format == "txt"]
    if not texts:
        return
    root = os.path.commonpath([os.path.dirname(os.path.abspath(specs[i].path)) for i in texts])
    for i in texts:
        name = os.path.relpath(os.path.abspath(specs[i].path), root).replace(os.sep, "/")
        specs[i] = dataclasses.replace(specs[i], extra={**specs[i].extra, "id": name})


__all__ = ["plan_shards", "plan_file", "expand_inputs", "detect_format"]
