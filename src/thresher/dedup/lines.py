"""Repeated-line removal across the corpus (step ``repeated_lines``), after CCNet.

CCNet (Wenzek et al. 2020, "CCNet: Extracting High Quality Monolingual Datasets from Web Crawl
Data", §3.2; facebookresearch/cc_net ``cc_net/dedup.py``) removes the paragraphs (lines) that occur
in other documents of the crawl: navigation, cookie banners, legal footers, share buttons. Lines
are compared after CCNet's ``normalize_for_dedup`` (:func:`thresher.dedup._norm.normalize_line`:
lower case, digits to 0, punctuation/symbols/control characters removed) and only their 64-bit
hash is stored, never the text.

A line is removed from every document when it occurs in more than ``max_docs`` documents (a line
repeated inside one document counts once). ``max_docs=1`` is CCNet's rule (every line found in
two or more documents goes); raise it to keep lines shared by a few documents (quotes, headings).
Lines that normalise to nothing (blank, punctuation only) are never counted nor removed.

- ``collect`` (per shard): each document's distinct line hashes, split into ``partitions`` files
  by hash.
- ``decide`` phase ``count`` (one task per partition): count the documents of each hash, write
  the sorted hashes whose count exceeds ``max_docs``. Memory: ~24 bytes per (document, distinct
  line) pair of the partition.
- ``apply`` (per shard): drop the lines whose hash is repeated, recording each in
  ``metadata["removed_lines"]`` (rule ``repeated_line``); a document left with no text is rejected
  (``all_lines_repeated``) with its text kept for inspection.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from thresher.dedup._norm import normalize_lines
from thresher.dedup._store import load_npy, save_json, save_npy
from thresher.document import Document
from thresher.errors import UsageError
from thresher.steps.base import Batch, CorpusContext, CorpusStep, register


def line_hashes(lines: list[str]) -> np.ndarray:
    """64-bit hash of each line's CCNet-normalised form; 0 for lines that normalise to nothing."""
    out = np.zeros(len(lines), dtype=np.uint64)
    for i, norm in enumerate(normalize_lines(lines)):
        if norm:
            out[i] = xxhash.xxh3_64_intdigest(norm.encode("utf-8")) or 1
    return out


def _doc_line_hashes(doc: Document) -> tuple[list[str], np.ndarray]:
    cached = doc.cache.get("dedup.line_hashes")
    if cached is None:
        lines = doc.text.split("\n")
        cached = (lines, line_hashes(lines))
        doc.cache["dedup.line_hashes"] = cached
    return cached


@register
class RepeatedLines(CorpusStep):
    """Remove lines that occur in more than ``max_docs`` documents of the corpus (CCNet)."""

    name = "repeated_lines"

    def __init__(self, max_docs: int = 1, partitions: int = 8) -> None:
        if max_docs < 1:
            raise UsageError(f"repeated_lines: max_docs must be >= 1 (got {max_docs})")
        if partitions < 1:
            raise UsageError(f"repeated_lines: partitions must be >= 1 (got {partitions})")
        self.max_docs = max_docs
        self.partitions = partitions
        self._repeated: dict[Path, np.ndarray] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_repeated"] = {}
        return state

    def collect(self, ctx: CorpusContext, shard: int, batches: Iterable[Batch]) -> None:
        parts: list[np.ndarray] = []
        n_docs = 0
        for batch in batches:
            for doc in batch:
                _, hashes = _doc_line_hashes(doc)
                parts.append(np.unique(hashes[hashes != 0]))
                n_docs += 1
        hashes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
        part = hashes % np.uint64(self.partitions)
        out = ctx.shard_dir(shard)
        for p in range(self.partitions):
            save_npy(out / f"lines-{p:03d}.npy", np.sort(hashes[part == p]))
        save_json(out / "meta.json", {"docs": n_docs, "line_keys": len(hashes), "partitions": self.partitions})

    def decide_phases(self, ctx: CorpusContext) -> list[tuple[str, int]]:
        return [("count", self.partitions)]

    def decide(self, ctx: CorpusContext, phase: str, task: int) -> None:
        if phase != "count":
            raise ValueError(f"repeated_lines has no decide phase {phase!r}")
        parts = [load_npy(ctx.shard_dir(s) / f"lines-{task:03d}.npy") for s in range(ctx.n_shards)]
        hashes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
        values, counts = np.unique(hashes, return_counts=True)
        save_npy(ctx.phase_dir("count") / f"repeated-{task:03d}.npy", values[counts > self.max_docs])

    def _repeated_hashes(self, ctx: CorpusContext) -> np.ndarray:
        cached = self._repeated.get(ctx.workdir)
        if cached is None:
            folder = ctx.workdir / "decide" / "count"
            parts = [load_npy(folder / f"repeated-{p:03d}.npy") for p in range(self.partitions)]
            cached = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.uint64)
            self._repeated[ctx.workdir] = cached
        return cached

    def apply(self, ctx: CorpusContext, shard: int, batches: Iterable[Batch]) -> Iterator[Batch]:
        repeated = self._repeated_hashes(ctx)
        for batch in batches:
            for doc in batch:
                lines, hashes = _doc_line_hashes(doc)
                if not len(repeated) or not len(hashes):
                    continue
                idx = np.minimum(np.searchsorted(repeated, hashes), len(repeated) - 1)
                hit = (repeated[idx] == hashes) & (hashes != 0)
                if not hit.any():
                    continue
                removed = {int(i): "repeated_line" for i in np.flatnonzero(hit)}
                kept = [line for i, line in enumerate(lines) if i not in removed]
                doc.record_removed_lines(self.name, lines, removed)
                if any(line.strip() for line in kept):
                    doc.text = "\n".join(kept)
                else:
                    doc.reject(self.name, "all_lines_repeated", lines_removed=len(removed))
            yield batch

    def stats(self, ctx: CorpusContext) -> dict[str, Any]:
        return {"repeated_line_hashes": int(len(self._repeated_hashes(ctx)))}
