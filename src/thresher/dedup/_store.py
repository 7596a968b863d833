"""Key files shared by the dedup steps: positions, atomic ``.npy``/id files, decisions, union-find.

A document's **position** is ``(shard << 32) | index`` (uint64): the deterministic total order
"input shard, then place in the shard" in which the first document of a cluster is kept.

A **decision file** is a ``.npy`` array of :data:`DECISION_DTYPE` rows sorted by ``pos``, one row per
document that belongs to a cluster of two or more: ``rep`` is the position of the document kept
for its cluster (``rep == pos`` for the kept one), ``size`` the number of input documents the
cluster stands for. ``apply`` reads the rows of its own shard by binary search on a memory map.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from thresher.io.atomic import atomic_path, atomic_write_bytes

SHARD_SHIFT = np.uint64(32)
INDEX_MASK = np.uint64(0xFFFFFFFF)
DECISION_DTYPE = np.dtype([("pos", "<u8"), ("rep", "<u8"), ("size", "<u4")])


def positions(shard: int, n: int) -> np.ndarray:
    """Positions of the ``n`` documents of ``shard``."""
    return (np.uint64(shard) << SHARD_SHIFT) | np.arange(n, dtype=np.uint64)


def split_pos(pos: np.ndarray | int) -> tuple[Any, Any]:
    """``(shard, index)`` of positions (arrays or one int)."""
    if isinstance(pos, (int, np.integer)):
        return int(pos) >> 32, int(pos) & 0xFFFFFFFF
    return (pos >> SHARD_SHIFT).astype(np.int64), (pos & INDEX_MASK).astype(np.int64)


def save_npy(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` atomically (write-then-rename)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, np.ascontiguousarray(array), allow_pickle=False)


def load_npy(path: Path, mmap: bool = False) -> np.ndarray:
    """Read an array written by :func:`save_npy` (memory-mapped with ``mmap``)."""
    return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)


def save_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON atomically."""
    atomic_write_bytes(path, json.dumps(data, sort_keys=True).encode())


def load_json(path: Path) -> dict[str, Any]:
    """Read a JSON file written by :func:`save_json`."""
    return json.loads(Path(path).read_bytes())


def save_ids(path: Path, ids: Sequence[str]) -> None:
    """Write document ids as an Arrow IPC file (memory-mappable, read by position)."""
    table = pa.table({"id": pa.array(list(ids), type=pa.string())})
    with atomic_path(path) as tmp, pa.OSFile(str(tmp), "wb") as sink:
        with ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)


class IdLookup:
    """Document ids by position, reading each shard's ``ids.arrow`` through a memory map on demand."""

    def __init__(self, shard_dir: Any) -> None:
        self._shard_dir = shard_dir  # callable shard -> Path
        self._tables: dict[int, pa.ChunkedArray] = {}

    def _column(self, shard: int) -> pa.ChunkedArray:
        col = self._tables.get(shard)
        if col is None:
            source = pa.memory_map(str(self._shard_dir(shard) / "ids.arrow"), "r")
            col = ipc.open_file(source).read_all().column("id")
            self._tables[shard] = col
        return col

    def get(self, pos: np.ndarray) -> list[str]:
        """Ids of the documents at ``pos`` (any shards), in the order given."""
        out: list[str] = [""] * len(pos)
        shards, idx = split_pos(np.asarray(pos, dtype=np.uint64))
        for shard in np.unique(shards):
            sel = np.flatnonzero(shards == shard)
            values = self._column(int(shard)).take(pa.array(idx[sel])).to_pylist()
            for i, v in zip(sel.tolist(), values):
                out[i] = v
        return out


def shard_rows(decisions: np.ndarray, shard: int) -> np.ndarray:
    """The rows of a pos-sorted decision array that belong to ``shard`` (a copy)."""
    lo = np.uint64(shard) << SHARD_SHIFT
    hi = np.uint64(shard + 1) << SHARD_SHIFT
    pos = decisions["pos"]
    start, end = np.searchsorted(pos, [lo, hi])
    return np.array(decisions[start:end])


def read_shard_decisions(files: Iterable[Path], shard: int) -> np.ndarray:
    """The decision rows of ``shard`` gathered from several pos-sorted decision files, sorted by pos."""
    parts = [shard_rows(load_npy(f, mmap=True), shard) for f in files if f.exists()]
    if not parts:
        return np.zeros(0, dtype=DECISION_DTYPE)
    rows = np.concatenate(parts)
    return rows[np.argsort(rows["pos"], kind="stable")]


def decisions_from_groups(pos: np.ndarray, group_start: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Decision rows for documents grouped in runs.

    ``pos`` is grouped so that each group is contiguous and sorted ascending inside it (first = kept);
    ``group_start`` marks the first row of each group; only groups of 2+ produce rows.
    """
    n = len(pos)
    if n == 0:
        return np.zeros(0, dtype=DECISION_DTYPE)
    gid = np.cumsum(group_start) - 1
    counts = np.bincount(gid)
    member = counts[gid] > 1
    starts = np.flatnonzero(group_start)
    rep = pos[starts][gid]
    size = np.bincount(gid, weights=weights.astype(np.float64))[gid]
    out = np.zeros(int(member.sum()), dtype=DECISION_DTYPE)
    out["pos"] = pos[member]
    out["rep"] = rep[member]
    out["size"] = size[member].astype(np.uint32)
    return out[np.argsort(out["pos"], kind="stable")]


# -- connected components (union-find on arrays) ----------------------------------------------------


def components(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of the graph with edges ``(u[i], v[i])`` (uint64 node labels).

    Returns ``(nodes, roots)``: every node that appears in an edge (sorted) and the smallest node of
    its component. Vectorised hook-and-shortcut union-find: each round hooks the larger root of
    every edge under the smaller one, then flattens the trees by pointer jumping; parents only
    decrease, so the final root of a component is its smallest node (a deterministic representative).
    """
    if len(u) == 0:
        empty = np.zeros(0, dtype=np.uint64)
        return empty, empty
    nodes, inverse = np.unique(np.concatenate([u, v]), return_inverse=True)
    a = inverse[: len(u)].astype(np.int64)
    b = inverse[len(u) :].astype(np.int64)
    parent = np.arange(len(nodes), dtype=np.int64)
    while True:
        pa_, pb = parent[a], parent[b]
        differ = pa_ != pb
        if not differ.any():
            break
        lo = np.minimum(pa_[differ], pb[differ])
        hi = np.maximum(pa_[differ], pb[differ])
        np.minimum.at(parent, hi, lo)
        while True:  # pointer jumping until every node points at a root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return nodes, nodes[parent]
