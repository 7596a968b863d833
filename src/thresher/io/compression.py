"""Compression detection (by magic bytes) and streaming decompression of byte ranges.

- :func:`detect_compression` reads the first bytes of a file: gzip ``1f 8b``, zstd ``28 b5 2f fd``
  (or a skippable frame), bz2 ``BZh``, xz ``fd 37 7a 58 5a 00``; anything else is ``"none"``.
  The suffix is never trusted alone (a ``.gz`` holding plain text is read as plain text).
- :func:`iter_decompressed` yields the decompressed bytes of the compressed range ``[start, end)``
  of a file. The range must begin at a member/frame start; every member/frame (gzip members,
  zstd frames, bz2 streams, xz streams) found in it is decompressed in order. A stream cut short
  raises :class:`StreamError` (``truncated_stream``) *after* every byte decoded before the cut has
  been yielded; undecodable data raises :class:`StreamError` (``corrupt_stream``).
"""

from __future__ import annotations

import bz2
import lzma
import os
import zlib
from collections.abc import Iterator
from typing import IO, Any, Literal

import zstandard

Compression = Literal["none", "gzip", "zstd", "bz2", "xz"]

#: bytes read from the file per call while decompressing.
READ_SIZE = 4 << 20

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZ2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"

_SUFFIXES: dict[str, Compression] = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".zst": "zstd",
    ".zstd": "zstd",
    ".bz2": "bz2",
    ".xz": "xz",
}


class StreamError(Exception):
    """A compressed stream could not be read to its end.

    ``reason`` is ``truncated_stream`` or ``corrupt_stream``; ``offset`` is the compressed byte
    offset of the member/frame where the problem was found.
    """

    def __init__(self, reason: str, message: str, offset: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.offset = offset


def compression_from_magic(head: bytes) -> Compression:
    """The compression whose magic number starts ``head`` (``"none"`` when none matches)."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if len(head) >= 4 and head[1:4] == b"\x2a\x4d\x18" and (head[0] & 0xF0) == 0x50:
        return "zstd"  # a zstd skippable frame (e.g. a seek table) first
    if head.startswith(BZ2_MAGIC) and len(head) >= 4 and head[3:4].isdigit():
        return "bz2"
    if head.startswith(XZ_MAGIC):
        return "xz"
    return "none"


def detect_compression(path: str | os.PathLike[str]) -> Compression:
    """Compression of the file at ``path``, from its first bytes (not from its suffix)."""
    with open(path, "rb") as fh:
        return compression_from_magic(fh.read(8))


def strip_compression_suffix(name: str) -> str:
    """``name`` without a trailing compression suffix (``a.jsonl.gz`` -> ``a.jsonl``)."""
    lower = name.lower()
    for suffix in _SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def new_decompressor(compression: Compression) -> Any:
    """A fresh one-member decompressor with ``decompress``, ``eof`` and ``unused_data``."""
    if compression == "gzip":
        return zlib.decompressobj(wbits=31)
    if compression == "zstd":
        return zstandard.ZstdDecompressor().decompressobj()
    if compression == "bz2":
        return bz2.BZ2Decompressor()
    if compression == "xz":
        return lzma.LZMADecompressor()
    raise ValueError(f"no decompressor for compression {compression!r}")


def iter_raw(fh: IO[bytes], start: int, end: int | None, read_size: int = READ_SIZE) -> Iterator[bytes]:
    """Yield the raw bytes of ``[start, end)`` (``end=None``: to the end of the file)."""
    fh.seek(start)
    remaining = None if end is None else end - start
    while remaining is None or remaining > 0:
        data = fh.read(read_size if remaining is None else min(read_size, remaining))
        if not data:
            return
        if remaining is not None:
            remaining -= len(data)
        yield data


def _is_zero_padding(data: bytes) -> bool:
    return not data.strip(b"\x00")


def iter_decompressed(
    fh: IO[bytes],
    compression: Compression,
    start: int = 0,
    end: int | None = None,
    read_size: int = READ_SIZE,
) -> Iterator[bytes]:
    """Yield the decompressed content of the compressed range ``[start, end)`` of ``fh``.

    ``compression="none"`` yields the raw bytes. Raises :class:`StreamError` at the end when the
    last member/frame is incomplete (``truncated_stream``) or when the data cannot be decoded
    (``corrupt_stream``); all output decoded before the problem has been yielded by then.
    """
    if compression == "none":
        yield from iter_raw(fh, start, end, read_size)
        return
    dec = new_decompressor(compression)
    member_start = start  # compressed offset of the member being decoded
    consumed = start  # compressed bytes handed to decompressors so far (absolute offset)
    fed = False  # has the current decompressor received any input?
    for data in iter_raw(fh, start, end, read_size):
        consumed += len(data)
        while data:
            if compression == "gzip" and not fed and _is_zero_padding(data):
                data = b""  # zero padding after the last gzip member (written by some tools)
                break
            fed = True
            try:
                out = dec.decompress(data)
            except (zlib.error, zstandard.ZstdError, OSError, EOFError, lzma.LZMAError) as exc:
                raise StreamError(
                    "corrupt_stream",
                    f"the {compression} data at byte {member_start} cannot be decoded ({exc}).",
                    member_start,
                ) from exc
            if out:
                yield out
            if dec.eof:
                data = dec.unused_data
                member_start = consumed - len(data)
                dec = new_decompressor(compression)
                fed = False
            else:
                data = b""
    if fed and not dec.eof:
        try:
            out = dec.flush() if compression == "gzip" else b""
        except zlib.error:
            out = b""
        if out:
            yield out
        raise StreamError(
            "truncated_stream",
            f"the {compression} stream ends in the middle of the member that starts at byte "
            f"{member_start} (the file is truncated).",
            member_start,
        )


def open_decompressed_reader(path: str, compression: Compression) -> IO[bytes]:
    """A readable binary file object over the whole decompressed file (for sniffing and tools)."""
    if compression == "none":
        return open(path, "rb")
    if compression == "gzip":
        import gzip

        return gzip.open(path, "rb")  # type: ignore[return-value]
    if compression == "zstd":
        fh = open(path, "rb")
        return zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True, closefd=True)
    if compression == "bz2":
        return bz2.open(path, "rb")  # type: ignore[return-value]
    return lzma.open(path, "rb")  # type: ignore[return-value]


def read_head(path: str, compression: Compression, n: int = 65536) -> bytes:
    """Up to ``n`` decompressed bytes from the start of the file (b"" if they cannot be decoded)."""
    out = bytearray()
    try:
        with open(path, "rb") as fh:
            for chunk in iter_decompressed(fh, compression, 0, None, read_size=65536):
                out += chunk
                if len(out) >= n:
                    break
    except StreamError:
        pass
    return bytes(out[:n])
