"""The reader and writer contracts the executor relies on.

- :func:`thresher.io.plan.plan_shards` turns input paths/globs into a sorted list of
  :class:`ShardSpec` (an input file, or a fixed slice of a large one).
- :func:`thresher.io.readers.read_shard` yields the :class:`~thresher.document.Document` objects of
  one shard, in a deterministic order, and a :class:`BadRecord` in place of each record it could not
  read (the run goes on).
- :class:`thresher.io.writers.ShardWriter` writes the documents of one output shard under a
  temporary name and renames the file on :meth:`commit`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

InputFormat = Literal["jsonl", "parquet", "warc", "wet", "txt"]
OutputFormat = Literal["jsonl", "parquet"]


@dataclass(frozen=True)
class ReaderOptions:
    """How to read the inputs (the ``reader`` section of a recipe)."""

    format: Literal["auto", "jsonl", "parquet", "warc", "wet", "txt"] = "auto"
    text_field: str = "text"
    id_field: str = "id"
    #: JSONL/Parquet field holding raw HTML; the document text is then the HTML (to be extracted).
    html_field: str | None = None
    #: split files larger than this many bytes (uncompressed estimate) into several shards.
    shard_bytes: int = 256 * 1024 * 1024
    #: records larger than this are set aside as bad records instead of processed.
    max_record_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class ShardSpec:
    """One unit of work: a file, or the slice ``[start, end)`` of it, in ``unit`` (bytes, records...).

    Specs are JSON-serialisable (``to_dict``/``from_dict``) and their order in the plan is the order
    of the output parts: ``part-NNNNN`` belongs to the shard of index NNNNN.
    """

    path: str
    format: InputFormat
    compression: Literal["none", "gzip", "zstd", "bz2", "xz"] = "none"
    start: int = 0
    end: int | None = None
    unit: Literal["file", "bytes", "records", "row_groups", "members"] = "file"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShardSpec:
        return cls(**data)

    @property
    def label(self) -> str:
        """Short human-readable name: ``path`` or ``path[start:end]``."""
        if self.unit == "file":
            return self.path
        return f"{self.path}[{self.unit} {self.start}:{self.end}]"


@dataclass(slots=True)
class BadRecord:
    """A record the reader could not turn into a document, with why and where."""

    source: str
    position: str  # e.g. "line 17", "record at offset 12345", "row 3"
    reason: str  # short rule id, e.g. "invalid_json", "invalid_utf8", "truncated_stream"
    message: str = ""  # one sentence for a human
    raw: bytes | None = None  # the raw bytes if they are worth keeping (truncated to 64 KB)

    def to_dict(self) -> dict[str, Any]:
        raw = None
        if self.raw is not None:
            raw = self.raw[:65536].decode("utf-8", errors="backslashreplace")
        return {
            "source": self.source,
            "position": self.position,
            "reason": self.reason,
            "message": self.message,
            "raw": raw,
        }
