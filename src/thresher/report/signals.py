"""The signal table: one row per document that entered the pipeline, kept or dropped.

Every run writes ``OUT/signals/part-NNNNN.parquet`` for input shard NNNNN, with the columns

- ``id`` (string), ``kept`` (bool), ``dropped_by`` (step name, null if kept), ``reason`` (null if
  kept), ``language`` (string) and ``language_score`` (float64), null where no step set them;
- one float64 column per signal, named ``step.signal`` (``gopher_quality.n_words``), null where the
  document never reached that step (or the step did not compute that signal for it).

Rows are built column by column per batch (:class:`SignalRows`) and written once per shard under a
temporary name, renamed when the shard's outputs are committed (same discipline as the outputs, so
a resumed run neither duplicates nor loses rows). When corpus steps cut the run into stages, a
stage that is not the last writes the rows of the documents *it dropped* to its work folder; the
last stage writes the final file: the earlier stages' rows (in stage order), then a row for every
document that entered the last stage, in batch order. Signal columns are ordered by the step's
position in the recipe, then by first appearance.

Shards may hold different signal columns (a shard where no document reached a step has none of
its columns): :func:`read_signal_table` unions the schemas (missing columns are null). Other
readers need the same option (duckdb ``union_by_name=true``, polars ``how="diagonal"``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thresher.document import Document
from thresher.errors import UsageError
from thresher.io.atomic import atomic_path

if TYPE_CHECKING:
    import pyarrow as pa

# pyarrow is imported inside the functions: `import thresher` (and the CLI's start) stays fast

#: the columns every signal file starts with, in this order (types: string, bool, string x3, float64).
FIXED_COLUMNS = ("id", "kept", "dropped_by", "reason", "language", "language_score")
SIGNALS_DIR = "signals"


def fixed_schema() -> pa.Schema:
    """The Arrow schema of :data:`FIXED_COLUMNS`."""
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("kept", pa.bool_()),
            ("dropped_by", pa.string()),
            ("reason", pa.string()),
            ("language", pa.string()),
            ("language_score", pa.float64()),
        ]
    )


def signal_file(folder: Path, shard: int) -> Path:
    """The signal file of one shard inside ``folder``."""
    return folder / SIGNALS_DIR / f"part-{shard:05d}.parquet"


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)):  # bool is an int: True -> 1.0
        return float(value)
    try:  # numpy scalars
        return float(value) if value is not None and not isinstance(value, (str, bytes)) else None
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class SignalRows:
    """Collects signal-table rows for one shard, one Arrow record batch per document batch.

    ``step_order`` (the recipe's step names, in order) fixes the order of the signal columns.
    """

    def __init__(self, step_order: Sequence[str] = ()) -> None:
        self.step_rank = {name: i for i, name in enumerate(step_order)}
        self.batches: list[pa.RecordBatch] = []
        self.count = 0

    def add(self, docs: Sequence[Document]) -> None:
        """Add one row per document (kept if ``doc.drop`` is None)."""
        if not docs:
            return
        import pyarrow as pa

        n = len(docs)
        ids, kept, step, reason, lang, lang_score = [], [], [], [], [], []
        columns: dict[str, list[float | None]] = {}
        for i, doc in enumerate(docs):
            meta = doc.metadata
            ids.append(doc.id)
            drop = doc.drop
            kept.append(drop is None)
            step.append(None if drop is None else drop.step)
            reason.append(None if drop is None else drop.reason)
            lang.append(_text(meta.get("language")))
            lang_score.append(_number(meta.get("language_score")))
            signals = meta.get("signals")
            if not isinstance(signals, dict):
                continue
            for key, value in signals.items():
                col = columns.get(key)
                if col is None:
                    col = columns[key] = [None] * n
                col[i] = _number(value)
        arrays = [
            pa.array(ids, pa.string()),
            pa.array(kept, pa.bool_()),
            pa.array(step, pa.string()),
            pa.array(reason, pa.string()),
            pa.array(lang, pa.string()),
            pa.array(lang_score, pa.float64()),
        ]
        names = list(FIXED_COLUMNS)
        for key, col in columns.items():
            if key in FIXED_COLUMNS:
                continue
            names.append(str(key))
            arrays.append(pa.array(col, pa.float64()))
        self.batches.append(pa.RecordBatch.from_arrays(arrays, names=names))
        self.count += n

    def table(self) -> pa.Table:
        """All rows so far as one table (columns unioned over the batches)."""
        import pyarrow as pa

        return unify([pa.Table.from_batches([b]) for b in self.batches], self.step_rank)


def unify(tables: Iterable[pa.Table], step_rank: dict[str, int] | None = None) -> pa.Table:
    """Concatenate tables whose signal columns differ; missing values are null.

    Signal columns are ordered by ``step_rank`` of their step (the part before the first dot; steps
    not in ``step_rank`` come last), then by first appearance.
    """
    import pyarrow as pa

    fixed = fixed_schema()
    tables = [t for t in tables if t.num_columns]
    if not tables:
        return fixed.empty_table()
    seen: dict[str, int] = {}
    for t in tables:
        for name in t.column_names:
            if name not in FIXED_COLUMNS:
                seen.setdefault(name, len(seen))
    rank = step_rank or {}
    signal_names = sorted(seen, key=lambda c: (rank.get(c.split(".", 1)[0], len(rank)), seen[c]))
    schema = pa.schema(list(fixed) + [pa.field(c, pa.float64()) for c in signal_names])
    aligned = []
    for t in tables:
        cols = []
        for field in schema:
            if field.name in t.column_names:
                cols.append(t.column(field.name).cast(field.type))
            else:
                cols.append(pa.nulls(t.num_rows, field.type))
        aligned.append(pa.Table.from_arrays(cols, schema=schema))
    return pa.concat_tables(aligned)


class SignalWriter:
    """Rows of one shard, written atomically to ``path`` on :meth:`commit` (after ``earlier`` files).

    ``earlier``: signal files of earlier stages (rows of documents they dropped), put first; missing
    files are skipped.
    """

    def __init__(self, path: Path, step_order: Sequence[str], earlier: Sequence[Path] = ()) -> None:
        self.path = path
        self.rows = SignalRows(step_order)
        self.earlier = list(earlier)

    def add(self, docs: Sequence[Document]) -> None:
        """Add one row per document."""
        self.rows.add(docs)

    def commit(self) -> Path:
        """Write the file (temporary name, fsync, rename); returns its path."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        tables = [pq.read_table(p) for p in self.earlier if p.exists()]
        tables += [pa.Table.from_batches([b]) for b in self.rows.batches]
        table = unify(tables, self.rows.step_rank)
        with atomic_path(self.path) as tmp:
            pq.write_table(table, tmp, compression="zstd")
        return self.path

    def abort(self) -> None:
        """Forget the rows (nothing was written under the final name)."""
        self.rows = SignalRows()


# -- reading -----------------------------------------------------------------------------------------


def signal_files(run_dir: str | Path) -> list[Path]:
    """The signal files of a run folder, in shard order; a clear error when there are none."""
    folder = Path(run_dir) / SIGNALS_DIR
    files = sorted(folder.glob("part-*.parquet"))
    if not files:
        raise UsageError(
            f"{run_dir} has no signal table ({folder}/part-*.parquet): give the output folder of a finished "
            "`thresher run` (runs made before the signal table existed must be rerun)"
        )
    return files


def read_signal_table(run_dir: str | Path, columns: Sequence[str] | None = None) -> pa.Table:
    """The whole signal table of a run (all shards, in shard order, schemas unioned)."""
    import pyarrow.parquet as pq

    tables = []
    for path in signal_files(run_dir):
        table = pq.read_table(path)
        tables.append(table)
    table = unify(tables)
    if columns is not None:
        table = table.select([c for c in columns if c in table.column_names])
    return table


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def run_step_order(run_dir: str | Path) -> list[str]:
    """The step names of a run's recipe, in order (empty if the run folder does not store it)."""
    import orjson

    run_file = Path(run_dir) / ".thresher" / "run.json"
    try:
        spec = orjson.loads(run_file.read_bytes()).get("recipe_spec") or {}
    except (OSError, ValueError):
        return []
    return [name for step in spec.get("steps", []) for name in step]


def summarize(table: pa.Table, step_order: Sequence[str] = ()) -> dict[str, Any]:
    """Per-signal count and quantiles, and per-step drop counts by reason (steps in ``step_order``
    first), from a signal table."""
    import pyarrow as pa
    import pyarrow.compute as pc

    signals: dict[str, dict[str, Any]] = {}
    for name in table.column_names:
        if name in FIXED_COLUMNS and name != "language_score":
            continue
        col = table.column(name)
        values = pc.drop_null(col)
        if len(values):
            values = pc.filter(values, pc.invert(pc.is_nan(values)))
        row: dict[str, Any] = {"count": len(values)}
        if len(values):
            qs = pc.quantile(values, q=list(QUANTILES), interpolation="linear").to_pylist()
            mm = pc.min_max(values).as_py()
            row.update({"min": mm["min"], **{f"p{round(q * 100):02d}": v for q, v in zip(QUANTILES, qs)},
                        "max": mm["max"]})
        signals[name] = row
    drops: dict[str, dict[str, int]] = {}
    dropped = table.filter(pc.invert(table.column("kept")))
    if dropped.num_rows:
        counts = dropped.group_by(["dropped_by", "reason"]).aggregate([("id", "count")])
        for step, reason, n in zip(
            counts.column("dropped_by").to_pylist(), counts.column("reason").to_pylist(),
            counts.column("id_count").to_pylist(), strict=True,
        ):
            drops.setdefault(str(step), {})[str(reason)] = n
    rank = {name: i for i, name in enumerate(step_order)}
    drops = dict(sorted(drops.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))
    kept = pc.sum(table.column("kept").cast(pa.int64())).as_py() or 0
    return {
        "documents": table.num_rows,
        "kept": kept,
        "dropped": table.num_rows - kept,
        "dropped_by": {s: dict(sorted(r.items())) for s, r in drops.items()},
        "signals": signals,
    }


def format_number(value: Any) -> str:
    """Short display of a quantile (integers without decimals, small ratios with 3 significant digits)."""
    if value is None:
        return "-"
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:.3g}"
