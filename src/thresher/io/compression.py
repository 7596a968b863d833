"""Compression detection (by magic bytes) and streaming decompression of byte ranges.

- :func:`detect_compression` reads the first bytes of a file: gzip ``1f 8b``, zstd ``28 b5 2f fd``
  (or a skippable frame), bz2 ``BZh``, xz ``fd 37 7a 58 5a 00``; anything else is ``"none"``.
  The suffix is never trusted alone (a ``.gz`` holding plain text is read as plain text).
- gzip is inflated with ISA-L (the ``isal`` package) when it is installed, else with zlib.
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

try:  # optional: ISA-L inflate (package ``isal``) reads gzip ~2.5x faster than zlib, same results
    from isal import isal_zlib as _inflate
except ImportError:  # pragma: no cover - depends on the environment
    _inflate = zlib  # type: ignore[assignment]

#: exceptions a decompressor raises on undecodable data.
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    zlib.error,
    _inflate.error,
    zstandard.ZstdError,
    OSError,
    EOFError,
    lzma.LZMAError,
)

Compression = Literal["none", "gzip", "zstd", "bz2", "xz"]

#: bytes read from the file per call while decompressing.
READ_SIZE = 4 << 20
#: compressed bytes handed to a decompressor per call (see iter_decompressed).
FEED_SIZE = 128 << 10
#: decompressed bytes gathered before a chunk is yielded.
OUT_CHUNK = 1 << 20

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
        return _inflate.decompressobj(wbits=31)
    if compression == "zstd":
        return zstandard.ZstdDecompressor().decompressobj(write_size=1 << 20)
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


def _is_zero_padding(data: bytes | memoryview) -> bool:
    return not bytes(data).strip(b"\x00")


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
    offset = start  # compressed offset of the next byte to feed
    fed = False  # has the current decompressor received any input?
    outs: list[bytes] = []
    out_len = 0
    for data in iter_raw(fh, start, end, read_size):
        view = memoryview(data)
        pos = 0
        # Feed small pieces: at a member end the decompressor copies the rest of its input into
        # ``unused_data``; with whole 4 MB reads and small members (WARC.gz: one per record) that
        # copy would dominate. Output is gathered and yielded in ~1 MB chunks.
        while pos < len(data):
            piece = view[pos : pos + FEED_SIZE]
            if not fed and compression == "gzip" and piece[0] == 0 and _is_zero_padding(piece):
                pos += len(piece)  # zero padding after the last gzip member (written by some tools)
                offset += len(piece)
                continue
            fed = True
            try:
                out = dec.decompress(piece)
            except _DECODE_ERRORS as exc:
                if outs:
                    yield b"".join(outs)
                raise StreamError(
                    "corrupt_stream",
                    f"The {compression} data at byte {member_start} cannot be decoded ({exc}).",
                    member_start,
                ) from exc
            if out:
                outs.append(out)
                out_len += len(out)
            if dec.eof:
                used = len(piece) - len(dec.unused_data)
                pos += used
                offset += used
                member_start = offset
                dec = new_decompressor(compression)
                fed = False
            else:
                pos += len(piece)
                offset += len(piece)
            if out_len >= OUT_CHUNK:
                yield outs[0] if len(outs) == 1 else b"".join(outs)
                outs, out_len = [], 0
    if outs:
        yield outs[0] if len(outs) == 1 else b"".join(outs)
    if fed and not dec.eof:
        try:
            out = dec.flush() if compression == "gzip" else b""
        except _DECODE_ERRORS:
            out = b""
        if out:
            yield out
        raise StreamError(
            "truncated_stream",
            f"The {compression} stream ends in the middle of the member that starts at byte "
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
