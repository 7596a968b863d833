"""Exact deduplication on a normalised text hash (step ``exact_dedup``).

- ``collect`` (per shard): hash each document's :func:`~thresher.dedup._norm.normalize_exact` text
  with 128-bit xxh3 and write ``(hash, position, weight)`` rows, split into ``partitions`` files by
  hash, so that each decide task reads only its share of the corpus.
- ``decide`` phase ``groups`` (one task per hash partition): sort the partition's rows by
  ``(hash, position)``; every run of equal hashes is a cluster whose first (smallest position:
  input shard, then place in shard) document is kept. Writes pos-sorted decision rows.
- ``apply`` (per shard): see :class:`~thresher.dedup._cluster.ClusterDedupStep`.

Documents whose normalised text is empty are never matched (a filter's job, not dedup's).
Memory of a decide task: ~32 bytes per document of its partition.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import xxhash

from thresher.dedup._cluster import ClusterDedupStep, doc_weight
from thresher.dedup._norm import normalize_exact
from thresher.dedup._store import (
    decisions_from_groups,
    load_npy,
    positions,
    save_ids,
    save_json,
    save_npy,
)
from thresher.errors import UsageError
from thresher.steps.base import Batch, CorpusContext, register

KEY_DTYPE = np.dtype([("hi", "<u8"), ("lo", "<u8"), ("pos", "<u8"), ("w", "<u4")])


def exact_key(text: str) -> tuple[int, int] | None:
    """The 128-bit key ``(hi, lo)`` of a text's normalised form, or ``None`` if it normalises to empty."""
    norm = normalize_exact(text)
    if not norm:
        return None
    digest = xxhash.xxh3_128_intdigest(norm.encode("utf-8"))
    return digest >> 64, digest & 0xFFFFFFFFFFFFFFFF


@register
class ExactDedup(ClusterDedupStep):
    """Drop documents whose normalised text (case, whitespace, punctuation, NFKC) was seen before."""

    name = "exact_dedup"

    def __init__(self, partitions: int = 8) -> None:
        if partitions < 1:
            raise UsageError(f"exact_dedup: partitions must be >= 1 (got {partitions}); use e.g. 8")
        self.partitions = partitions

    # -- collect ---------------------------------------------------------------------------------------

    def collect(self, ctx: CorpusContext, shard: int, batches: Iterable[Batch]) -> None:
        his: list[int] = []
        los: list[int] = []
        weights: list[int] = []
        keyed: list[int] = []
        ids: list[str] = []
        for batch in batches:
            for doc in batch:
                key = doc.cache.get("dedup.exact_key")
                if key is None:
                    key = exact_key(doc.text) or ()
                    doc.cache["dedup.exact_key"] = key
                if key:
                    keyed.append(len(ids))
                    his.append(key[0])
                    los.append(key[1])
                    weights.append(doc_weight(doc))
                ids.append(doc.id)
        rows = np.zeros(len(keyed), dtype=KEY_DTYPE)
        rows["hi"] = np.array(his, dtype=np.uint64)
        rows["lo"] = np.array(los, dtype=np.uint64)
        rows["pos"] = positions(shard, len(ids))[np.array(keyed, dtype=np.int64)]
        rows["w"] = np.array(weights, dtype=np.uint32)
        out = ctx.shard_dir(shard)
        part = rows["lo"] % np.uint64(self.partitions)
        for p in range(self.partitions):
            save_npy(out / f"keys-{p:03d}.npy", rows[part == p])
        save_ids(out / "ids.arrow", ids)
        save_json(out / "meta.json", {"docs": len(ids), "keyed": len(keyed), "partitions": self.partitions})

    # -- decide ----------------------------------------------------------------------------------------

    def decide_phases(self, ctx: CorpusContext) -> list[tuple[str, int]]:
        return [("groups", self.partitions)]

    def decide(self, ctx: CorpusContext, phase: str, task: int) -> None:
        if phase != "groups":
            raise ValueError(f"exact_dedup has no decide phase {phase!r}")
        parts = [load_npy(ctx.shard_dir(s) / f"keys-{task:03d}.npy") for s in range(ctx.n_shards)]
        rows = np.concatenate(parts) if parts else np.zeros(0, dtype=KEY_DTYPE)
        rows = rows[np.lexsort((rows["pos"], rows["lo"], rows["hi"]))]
        start = np.ones(len(rows), dtype=bool)
        if len(rows) > 1:
            start[1:] = (rows["hi"][1:] != rows["hi"][:-1]) | (rows["lo"][1:] != rows["lo"][:-1])
        decisions = decisions_from_groups(rows["pos"], start, rows["w"])
        save_npy(ctx.phase_dir("groups") / f"part-{task:03d}.npy", decisions)

    def decision_files(self, ctx: CorpusContext) -> list[Path]:
        folder = ctx.workdir / "decide" / "groups"
        return [folder / f"part-{p:03d}.npy" for p in range(self.partitions)]
