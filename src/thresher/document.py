"""The unit of data: a document with an id, its text and free-form metadata.

On disk a document is the schema used by datatrove and Hugging Face datasets:
``{"id": str, "text": str, "metadata": {...}}``.

Metadata keys used across steps (all optional):

- ``url``, ``source`` (input file), ``date``, ``content_type``
- ``language``, ``language_score``
- ``signals``: ``{"<step>.<signal>": number}``, every value a step computed
- ``removed_lines``: ``[{"step", "rule", "line", "text"}]``, one entry per line a step removed
- ``cluster_id``, ``cluster_size``, ``duplicate_of``, ``similarity`` (deduplication)
- ``empty_reason``: why a step left the text empty (e.g. every line was boilerplate)

A step that rejects a document sets :attr:`Document.drop`; the pipeline then moves the document
to the rejected output, with ``metadata["dropped"]`` holding the step, the reason and the value
that crossed the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: longest excerpt of a removed line kept in ``removed_lines`` (the explanation, not a copy).
REMOVED_LINE_EXCERPT = 200


@dataclass(slots=True)
class Drop:
    """Why a step rejected a document: the step's name, a short rule id and the values involved."""

    step: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written to ``metadata["dropped"]`` of a rejected document."""
        return {"step": self.step, "reason": self.reason, **self.details}


class Document:
    """A document flowing through the pipeline.

    ``text`` is a property: assigning a new text clears the per-document feature cache
    (:attr:`cache`, used by :mod:`thresher.text` to share lines, words and hashes between steps).
    """

    __slots__ = ("id", "_text", "metadata", "drop", "cache")

    def __init__(self, id: str, text: str, metadata: dict[str, Any] | None = None) -> None:
        self.id = id
        self._text = text
        self.metadata: dict[str, Any] = metadata if metadata is not None else {}
        self.drop: Drop | None = None
        self.cache: dict[str, Any] = {}

    @property
    def text(self) -> str:
        """The document text."""
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self._text = value
        self.cache.clear()

    # -- annotations -------------------------------------------------------------------------------

    def reject(self, step: str, reason: str, **details: Any) -> None:
        """Mark the document as dropped by ``step`` for ``reason`` (first rejection wins)."""
        if self.drop is None:
            self.drop = Drop(step, reason, details)

    def set_signals(self, step: str, values: dict[str, Any]) -> None:
        """Store the signal values a step computed, as ``signals["<step>.<name>"]``."""
        signals = self.metadata.setdefault("signals", {})
        for name, value in values.items():
            signals[f"{step}.{name}"] = value

    def record_removed_lines(self, step: str, lines: list[str], removed: dict[int, str]) -> None:
        """Record lines removed by ``step``: ``removed`` maps a line index (in ``lines``) to a rule."""
        if not removed:
            return
        out = self.metadata.setdefault("removed_lines", [])
        for idx in sorted(removed):
            out.append(
                {"step": step, "rule": removed[idx], "line": idx, "text": lines[idx][:REMOVED_LINE_EXCERPT]}
            )

    # -- serialisation -----------------------------------------------------------------------------

    def to_dict(self, with_drop: bool = False) -> dict[str, Any]:
        """The on-disk form ``{"id", "text", "metadata"}``; ``with_drop`` adds ``metadata["dropped"]``."""
        metadata = self.metadata
        if with_drop and self.drop is not None:
            metadata = {**metadata, "dropped": self.drop.to_dict()}
        return {"id": self.id, "text": self._text, "metadata": metadata}

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Document:
        """Inverse of :meth:`to_dict`."""
        return cls(str(record["id"]), record["text"], dict(record.get("metadata") or {}))

    def __repr__(self) -> str:
        preview = self._text[:40].replace("\n", " ")
        return f"Document(id={self.id!r}, text={preview!r}..., drop={self.drop})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Document):
            return NotImplemented
        return (self.id, self._text, self.metadata) == (other.id, other._text, other.metadata)

    __hash__ = None  # type: ignore[assignment]
