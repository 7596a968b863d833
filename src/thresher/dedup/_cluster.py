"""The ``apply`` half shared by the cluster-based dedup steps (exact and MinHash).

Both steps end their decide phases with pos-sorted decision files (see :mod:`thresher.dedup._store`).
``apply`` marks every document whose cluster representative is another document as a duplicate
(``duplicate_of`` = the representative's id, ``similarity`` = the step's estimate) and annotates
kept documents with ``cluster_id`` (the representative's id, its own) and ``cluster_size`` (how many
input documents the cluster stands for, counting an earlier dedup step's ``cluster_size``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from thresher.dedup._store import DECISION_DTYPE, IdLookup, positions, read_shard_decisions, split_pos
from thresher.document import Document
from thresher.steps.base import Batch, CorpusContext, CorpusStep


def doc_weight(doc: Document) -> int:
    """How many input documents ``doc`` already stands for (an earlier dedup step's cluster size)."""
    value = doc.metadata.get("cluster_size", 1)
    return value if isinstance(value, int) and value >= 1 else 1


class ClusterDedupStep(CorpusStep):
    """Base of corpus steps whose decision is "keep one document per cluster"."""

    def decision_files(self, ctx: CorpusContext) -> list[Path]:
        """The pos-sorted decision files written by the last decide phase."""
        raise NotImplementedError

    def similarities(self, ctx: CorpusContext, shard: int, rows: np.ndarray) -> np.ndarray:
        """Similarity estimate between each duplicate row's document and its representative."""
        return np.ones(len(rows), dtype=np.float64)

    def apply(self, ctx: CorpusContext, shard: int, batches: Iterable[Batch]) -> Iterator[Batch]:
        rows = read_shard_decisions(self.decision_files(ctx), shard)
        dup_rows = rows[rows["rep"] != rows["pos"]]
        sims = self.similarities(ctx, shard, dup_rows)
        rep_ids = IdLookup(ctx.shard_dir).get(dup_rows["rep"]) if len(dup_rows) else []
        _, dup_idx = split_pos(dup_rows["pos"])
        dropped = {int(i): (rid, float(s)) for i, rid, s in zip(dup_idx, rep_ids, sims)}
        kept_rows = rows[rows["rep"] == rows["pos"]]
        _, kept_idx = split_pos(kept_rows["pos"])
        sizes = {int(i): int(s) for i, s in zip(kept_idx, kept_rows["size"])}
        index = 0
        for batch in batches:
            for doc in batch:
                hit = dropped.get(index)
                if hit is not None:
                    rep_id, sim = hit
                    doc.metadata["cluster_id"] = rep_id
                    doc.reject(self.name, "duplicate", duplicate_of=rep_id, similarity=round(sim, 4))
                else:
                    doc.metadata["cluster_id"] = doc.id
                    doc.metadata["cluster_size"] = sizes.get(index, doc_weight(doc))
                index += 1
            yield batch

    def stats(self, ctx: CorpusContext) -> dict[str, Any]:
        clusters = duplicates = 0
        for path in self.decision_files(ctx):
            if path.exists():
                rows = np.load(path, mmap_mode="r")
                kept = int(np.count_nonzero(rows["rep"] == rows["pos"]))
                clusters += kept
                duplicates += len(rows) - kept
        return {"clusters": clusters, "duplicates": duplicates}


__all__ = ["ClusterDedupStep", "DECISION_DTYPE", "doc_weight", "positions"]
