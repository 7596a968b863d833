"""A chain of document steps applied to batches: read -> steps -> write, one direction only.

:class:`Chain` runs document steps over a batch, moves documents a step rejected out of the flow
(they go to the rejected output, never back into the steps) and keeps per-step statistics.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from thresher.document import Document
from thresher.stats import StepStats
from thresher.steps.base import Batch, Step


def text_bytes(batch: Batch) -> int:
    """UTF-8 size of the texts of a batch (surrogates counted as their escaped size)."""
    return sum(len(doc.text.encode("utf-8", "surrogatepass")) for doc in batch)


class Chain:
    """Apply document steps in order; rejected documents leave the flow after the step that rejected them."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps
        self.stats = [StepStats(step.name) for step in steps]

    def process(self, batch: Batch) -> tuple[Batch, Batch]:
        """Return ``(kept, rejected)`` for one batch."""
        rejected: Batch = []
        for step, stats in zip(self.steps, self.stats, strict=True):
            if not batch:
                break
            stats.docs_in += len(batch)
            stats.bytes_in += text_bytes(batch)
            start = time.perf_counter()
            batch = step.process(batch)
            stats.seconds += time.perf_counter() - start
            stats.counters.update(step.take_counters())
            kept = []
            for doc in batch:
                if doc.drop is None:
                    kept.append(doc)
                else:
                    stats.dropped[doc.drop.reason] += 1
                    rejected.append(doc)
            batch = kept
            stats.docs_out += len(batch)
            stats.bytes_out += text_bytes(batch)
        return batch, rejected

    def run(self, batches: Iterable[Batch], rejected_sink: list[Document] | None = None) -> Iterator[Batch]:
        """Process a stream of batches; rejected documents are appended to ``rejected_sink`` if given."""
        for batch in batches:
            kept, rejected = self.process(batch)
            if rejected_sink is not None:
                rejected_sink.extend(rejected)
            if kept:
                yield kept

    def take_stats(self) -> list[StepStats]:
        """Return the statistics gathered so far and start new ones."""
        out = self.stats
        self.stats = [StepStats(step.name) for step in self.steps]
        return out
