"""Counters of a run: per step documents in/out, bytes, time, drop reasons; merged across workers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StepStats:
    """What one step did to the documents of one or more shards."""

    name: str
    docs_in: int = 0
    docs_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    seconds: float = 0.0
    dropped: Counter[str] = field(default_factory=Counter)
    counters: Counter[str] = field(default_factory=Counter)

    def merge(self, other: StepStats) -> None:
        """Add ``other``'s counts into this one."""
        self.docs_in += other.docs_in
        self.docs_out += other.docs_out
        self.bytes_in += other.bytes_in
        self.bytes_out += other.bytes_out
        self.seconds += other.seconds
        self.dropped.update(other.dropped)
        self.counters.update(other.counters)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "docs_in": self.docs_in,
            "docs_out": self.docs_out,
            "docs_dropped": self.docs_in - self.docs_out,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "seconds": round(self.seconds, 3),
            "dropped": dict(sorted(self.dropped.items())),
            "counters": dict(sorted(self.counters.items())),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepStats:
        return cls(
            name=data["name"],
            docs_in=data["docs_in"],
            docs_out=data["docs_out"],
            bytes_in=data["bytes_in"],
            bytes_out=data["bytes_out"],
            seconds=data["seconds"],
            dropped=Counter(data.get("dropped", {})),
            counters=Counter(data.get("counters", {})),
        )


@dataclass
class ShardStats:
    """Counts for one shard in one stage of a run (what a done-marker stores)."""

    docs_read: int = 0
    bytes_read: int = 0
    docs_written: int = 0
    docs_rejected: int = 0
    bad: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    steps: list[StepStats] = field(default_factory=list)

    def merge(self, other: ShardStats) -> None:
        """Add ``other`` (same stage, so the same steps in the same order) into this one."""
        self.docs_read += other.docs_read
        self.bytes_read += other.bytes_read
        self.docs_written += other.docs_written
        self.docs_rejected += other.docs_rejected
        self.bad.update(other.bad)
        self.skipped.update(other.skipped)
        if not self.steps:
            self.steps = [StepStats(s.name) for s in other.steps]
        for mine, theirs in zip(self.steps, other.steps, strict=True):
            mine.merge(theirs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "docs_read": self.docs_read,
            "bytes_read": self.bytes_read,
            "docs_written": self.docs_written,
            "docs_rejected": self.docs_rejected,
            "bad": dict(sorted(self.bad.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "steps": [s.to_dict() for s in self.steps],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShardStats:
        return cls(
            docs_read=data["docs_read"],
            bytes_read=data["bytes_read"],
            docs_written=data["docs_written"],
            docs_rejected=data["docs_rejected"],
            bad=Counter(data.get("bad", {})),
            skipped=Counter(data.get("skipped", {})),
            steps=[StepStats.from_dict(s) for s in data.get("steps", [])],
        )
