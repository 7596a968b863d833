"""Repeated-line removal across the corpus (step ``repeated_lines``), after CCNet.

CCNet (Wenzek et al. 2020, "CCNet: Extracting High Quality Monolingual Datasets from Web Crawl
Data", §3.2; facebookresearch/cc_net ``cc_net/dedup.py``) removes the paragraphs (lines) that occur
in other documents of the crawl: navigation, cookie banners, legal footers, share buttons. Lines
are compared after CCNet's ``normalize_for_dedup`` (:func:`thresher.dedup._norm.normalize_line`:
lower case, digits to 0, punctuation/symbols/control characters removed) and only their 64-bit
hash is stored, never the text.

A line is removed from every document when it occurs in more than ``max_docs`` documents (a line
repeated inside one document counts once). ``max_docs=1`` is CCNet's rule: cc_net ``dedup.py``
counts a line hash as duplicate once it is added by a second document (``HashesCollector``, a
``FlatHashSet`` whose value turns to 1 on the second ``add``) and ``DuplicatesRemover`` then drops
it from **every** document, the first occurrence included (``deduplicate_two_pass``: "even
removing the first occurrence. This is what is done in the paper, and in mine.py"). Raise
``max_docs`` to keep lines shared by a few documents (quotes, headings).

Where we differ from cc_net, on purpose: (1) cc_net also drops a line's later repeats *inside* one
document (``finalize_doc`` keeps the first occurrence); we leave a document's own repeats alone
(a chorus, a table row) unless the line is repeated across documents. (2) Lines that normalise to
nothing (blank, punctuation only) are never counted nor removed here; cc_net hashes them too, so
its output loses blank lines (paragraph breaks). (3) cc_net compares lines within a group of
``hash_in_mem`` crawl shards (``mine.py``), we over the whole input: with ``max_docs=1`` a larger
corpus removes more.

**Per-site variant** (``max_site_docs``, off by default): a line that occurs in more than
``max_site_docs`` documents *of one site* is removed from that site's documents (rule
``repeated_site_line``). The site is the registered domain of ``metadata["url"]`` (the host for
IP addresses; documents without a URL have no site). This removes a site's template (navigation,
footer, sign-in and newsletter text) while a higher ``max_docs`` keeps lines that recur across
unrelated sites (quotations, common headings); e.g. ``max_docs: 20, max_site_docs: 2``.

- ``collect`` (per shard): each document's distinct line hashes, split into ``partitions`` files
  by hash; with ``max_site_docs`` also the same hashes mixed with the document's site hash
  (``site-*.npy``: one key per (site, line)).
- ``decide`` phase ``count`` (one task per partition): count the documents of each hash, write
  the sorted hashes whose count exceeds ``max_docs`` (and the site keys whose count exceeds
  ``max_site_docs``). Memory: ~24 bytes per (document, distinct line) pair of the partition.
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


def document_site(doc: Document) -> str:
    """The site of a document: registered domain of ``metadata["url"]`` (the host if it has none),
    ``""`` without a URL."""
    url = doc.metadata.get("url")
    if not url or not isinstance(url, str):
        return ""
    from thresher.filters.url import registered_domain, url_host

    host = url_host(url)
    return registered_domain(host) or host


def site_keys(hashes: np.ndarray, site: str) -> np.ndarray:
    """One key per (site, line): the line hashes XOR a 64-bit hash of the site (a bijection per site)."""
    return hashes ^ np.uint64(xxhash.xxh3_64_intdigest(site.encode("utf-8"), _SITE_SEED))


_SITE_SEED = 7


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

    def __init__(self, max_docs: int = 1, partitions: int = 8, max_site_docs: int | None = None) -> None:
        if max_docs < 1:
            raise UsageError(f"repeated_lines: max_docs must be >= 1 (got {max_docs})")
        if max_site_docs is not None and max_site_docs < 1:
            raise UsageError(f"repeated_lines: max_site_docs must be >= 1 or null (got {max_site_docs})")
        if partitions < 1:
            raise UsageError(f"repeated_lines: partitions must be >= 1 (got {partitions})")
        self.max_docs = max_docs
        self.partitions = partitions
        self.max_site_docs = max_site_docs
        self._repeated: dict[tuple[Path, str], np.ndarray] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_repeated"] = {}
        return state

    def collect(self, ctx: CorpusContext, shard: int, batches: Iterable[Batch]) -> None:
        parts: list[np.ndarray] = []
        site_parts: list[np.ndarray] = []
        n_docs = 0
        for batch in batches:
            for doc in batch:
                _, hashes = _doc_line_hashes(doc)
                distinct = np.unique(hashes[hashes != 0])
                parts.append(distinct)
                if self.max_site_docs is not None:
                    site = document_site(doc)
                    if site:
                        site_parts.append(site_keys(distinct, site))
                n_docs += 1
        out = ctx.shard_dir(shard)
        hashes = self._save_partitioned(out, "lines", parts)
        meta = {"docs": n_docs, "line_keys": len(hashes), "partitions": self.partitions}
        if self.max_site_docs is not None:
            meta["site_keys"] = len(self._save_partitioned(out, "site", site_parts))
        save_json(out / "meta.json", meta)

    def _save_partitioned(self, folder: Path, name: str, parts: list[np.ndarray]) -> np.ndarray:
        hashes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
        part = hashes % np.uint64(self.partitions)
        for p in range(self.partitions):
            save_npy(folder / f"{name}-{p:03d}.npy", np.sort(hashes[part == p]))
        return hashes

    def decide_phases(self, ctx: CorpusContext) -> list[tuple[str, int]]:
        return [("count", self.partitions)]

    def decide(self, ctx: CorpusContext, phase: str, task: int) -> None:
        if phase != "count":
            raise ValueError(f"repeated_lines has no decide phase {phase!r}")
        rules = [("lines", "repeated", self.max_docs)]
        if self.max_site_docs is not None:
            rules.append(("site", "site-repeated", self.max_site_docs))
        for name, result, limit in rules:
            parts = [load_npy(ctx.shard_dir(s) / f"{name}-{task:03d}.npy") for s in range(ctx.n_shards)]
            hashes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
            values, counts = np.unique(hashes, return_counts=True)
            save_npy(ctx.phase_dir("count") / f"{result}-{task:03d}.npy", values[counts > limit])

    def _repeated_hashes(self, ctx: CorpusContext, result: str = "repeated") -> np.ndarray:
        cached = self._repeated.get((ctx.workdir, result))
        if cached is None:
            folder = ctx.workdir / "decide" / "count"
            parts = [load_npy(folder / f"{result}-{p:03d}.npy") for p in range(self.partitions)]
            cached = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.uint64)
            self._repeated[(ctx.workdir, result)] = cached
        return cached

    def apply(self, ctx: CorpusContext, shard: int, batches: Iterable[Batch]) -> Iterator[Batch]:
        repeated = self._repeated_hashes(ctx)
        site_repeated = self._repeated_hashes(ctx, "site-repeated") if self.max_site_docs is not None else repeated[:0]
        for batch in batches:
            for doc in batch:
                lines, hashes = _doc_line_hashes(doc)
                if not len(hashes) or not (len(repeated) or len(site_repeated)):
                    continue
                hit = _member(repeated, hashes) & (hashes != 0)
                site_hit = np.zeros(len(hashes), dtype=bool)
                if len(site_repeated):
                    site = document_site(doc)
                    if site:
                        site_hit = _member(site_repeated, site_keys(hashes, site)) & (hashes != 0) & ~hit
                if not hit.any() and not site_hit.any():
                    continue
                removed = {int(i): "repeated_line" for i in np.flatnonzero(hit)}
                removed.update({int(i): "repeated_site_line" for i in np.flatnonzero(site_hit)})
                kept = [line for i, line in enumerate(lines) if i not in removed]
                doc.record_removed_lines(self.name, lines, removed)
                if any(line.strip() for line in kept):
                    doc.text = "\n".join(kept)
                else:
                    doc.reject(self.name, "all_lines_repeated", lines_removed=len(removed))
            yield batch

    def stats(self, ctx: CorpusContext) -> dict[str, Any]:
        out = {"repeated_line_hashes": int(len(self._repeated_hashes(ctx)))}
        if self.max_site_docs is not None:
            out["repeated_site_line_keys"] = int(len(self._repeated_hashes(ctx, "site-repeated")))
        return out


def _member(sorted_values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Whether each value of ``x`` is in the sorted array ``sorted_values``."""
    if not len(sorted_values):
        return np.zeros(len(x), dtype=bool)
    idx = np.minimum(np.searchsorted(sorted_values, x), len(sorted_values) - 1)
    return sorted_values[idx] == x
