"""``thresher refilter``: new keep/drop decisions from a run's signal table, without rescoring.

A filter is ``score`` (signals, costly, stored in the signal table) plus ``keep`` (thresholds,
cheap). When a new recipe differs from the run's recipe only in parameters read by ``keep``
(:attr:`thresher.steps.base.Filter.keep_params`), the new decisions follow from the stored signals:
walk the steps in order and apply each filter's new thresholds to the documents still in play. A
filter that lists its thresholds as rules (:mod:`thresher.steps.rules`, every built-in filter)
decides a whole signal file at once with numpy; another filter's ``keep`` is called per document.

What can be decided:

- only the steps before the first corpus step (dedup): which documents dedup drops depends on the
  set that reaches it, so dedup must be rerun on the new set (the output says so);
- a document that now passes a step it never reached in the run (it was dropped earlier) has no
  signals for the later steps: it is reported as *undecidable: needs rescoring*, never silently
  kept or dropped;
- a step that is not a filter (text editing, extraction) keeps its original outcome for the
  documents that reached it. ``c4`` edits text but is a filter: its drops are decided from its
  signals, and only ``min_num_sentences`` may change (its line rules change the text).

Any other difference (steps added, removed or reordered, a parameter that changes signals or text,
the reader, a changed filter after a corpus step) is refused with the list of differences: that
needs a full rerun.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from thresher.errors import RecipeError, ThresherError, UsageError
from thresher.io.atomic import atomic_path
from thresher.recipe import Recipe, load_recipe, parse_recipe
from thresher.report.signals import signal_files
from thresher.steps.base import CorpusStep, Filter, get_step_class, step_parameters
from thresher.steps.rules import SignalColumns


def _ngram_sizes(value: Any) -> list[int]:
    if not value:
        return []
    items = value.keys() if isinstance(value, dict) else (item[0] for item in value)
    return sorted(int(n) for n in items)


#: parameters that are keep-only under a condition: ``(step, parameter) -> test(old, new)``. The
#: n-gram thresholds of gopher_repetition are keep-only when the sizes stay the same (``score``
#: computes one signal per size; ``keep`` compares it with the fraction).
KEEP_ONLY_IF: dict[tuple[str, str], Callable[[Any, Any], bool]] = {
    ("gopher_repetition", "top_n_grams"): lambda old, new: _ngram_sizes(old) == _ngram_sizes(new),
    ("gopher_repetition", "dup_n_grams"): lambda old, new: _ngram_sizes(old) == _ngram_sizes(new),
}

NEEDS_RESCORING = "needs_rescoring"
PASSED = "(passed)"


def keep_params_of(cls: type) -> frozenset[str]:
    """The keep-only parameters of a step class (empty for anything but a :class:`Filter`)."""
    if not (isinstance(cls, type) and issubclass(cls, Filter)):
        return frozenset()
    return frozenset(getattr(cls, "keep_params", frozenset()))


# -- the run's recipe and the new one -----------------------------------------------------------------


def _run_state(run_dir: Path) -> dict[str, Any]:
    run_file = run_dir / ".thresher" / "run.json"
    if not run_file.exists():
        raise UsageError(
            f"{run_dir} is not a Thresher output folder (no .thresher/run.json); give the -o folder of a run"
        )
    return orjson.loads(run_file.read_bytes())


def run_recipe(run_dir: str | Path) -> Recipe:
    """The recipe a run used, as stored in ``.thresher/run.json``."""
    run_dir = Path(run_dir)
    state = _run_state(run_dir)
    spec = state.get("recipe_spec")
    if spec is None:
        raise UsageError(
            f"{run_dir} was made by a Thresher version that did not store its recipe; rerun it to refilter"
        )
    return parse_recipe(orjson.dumps(spec).decode(), source=str(run_dir / ".thresher" / "run.json"),
                        name=spec.get("name", "run"))


def apply_settings(recipe: Recipe, settings: Sequence[str]) -> Recipe:
    """``recipe`` with ``step.param=value`` settings applied (values parsed as YAML) and revalidated."""
    if not settings:
        return recipe
    from thresher.exec.local import recipe_spec

    spec = recipe_spec(recipe)
    steps: list[dict[str, dict[str, Any]]] = [{name: dict(params)} for s in spec["steps"] for name, params in s.items()]
    for setting in settings:
        key, sep, raw = setting.partition("=")
        step, dot, param = key.strip().partition(".")
        if not sep or not dot or not step or not param:
            raise UsageError(
                f"--set {setting!r}: write step.parameter=value, e.g. --set gopher_quality.min_doc_words=80"
            )
        matches = [s for s in steps if step in s]
        if not matches:
            names = ", ".join(next(iter(s)) for s in steps)
            raise UsageError(f"--set {setting!r}: the recipe has no step {step!r}; its steps: {names}")
        if len(matches) > 1:
            raise UsageError(
                f"--set {setting!r}: step {step!r} appears {len(matches)} times; edit a recipe file instead"
            )
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        matches[0][step][param] = value
    spec["steps"] = steps
    return parse_recipe(orjson.dumps(spec).decode(), source="--set", name=recipe.name)


def _normalised(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value, default=lambda v: sorted(v, key=str) if isinstance(v, (set, frozenset))
                                     else repr(v)))


def _effective(cls: type, params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, p in step_parameters(cls).items():
        out[name] = params[name] if name in params else (None if p.default is p.empty else p.default)
    return {k: _normalised(v) for k, v in out.items()}


@dataclass
class Change:
    """One keep-only parameter that differs between the run's recipe and the new one."""

    step: str
    param: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.step}.{self.param}: {self.old!r} -> {self.new!r}"


def compare_recipes(old: Recipe, new: Recipe) -> tuple[list[Change], int]:
    """The keep-only changes from ``old`` to ``new``, and the index of the first corpus step
    (``len(steps)`` if none). Raises :class:`UsageError` listing every difference refilter cannot handle."""
    old_names = [s.name for s in old.steps]
    new_names = [s.name for s in new.steps]
    rerun = "a full rerun is needed (thresher run ... -o NEW_FOLDER)"
    if old_names != new_names:
        raise UsageError(
            f"the steps differ from the run's (added, removed or reordered): run {' -> '.join(old_names) or 'none'}; "
            f"new {' -> '.join(new_names) or 'none'}; refilter only re-decides thresholds: {rerun}"
        )
    problems: list[str] = []
    old_reader, new_reader = old.reader.model_dump(), new.reader.model_dump()
    for key in old_reader:
        if old_reader[key] != new_reader[key]:
            problems.append(f"reader.{key}: {old_reader[key]!r} -> {new_reader[key]!r} (the input would be read "
                            "differently; copy the run's reader section into the new recipe)")
    classes = [get_step_class(name) for name in old_names]
    first_corpus = next((i for i, c in enumerate(classes) if issubclass(c, CorpusStep)), len(classes))
    changes: list[Change] = []
    for i, (cls, o, n) in enumerate(zip(classes, old.steps, new.steps, strict=True)):
        eo, en = _effective(cls, o.params), _effective(cls, n.params)
        for param in eo:
            if eo[param] == en[param]:
                continue
            where = f"{o.name}.{param}: {eo[param]!r} -> {en[param]!r}"
            keep_only = param in keep_params_of(cls) or (
                (o.name, param) in KEEP_ONLY_IF and KEEP_ONLY_IF[(o.name, param)](eo[param], en[param])
            )
            if not keep_only:
                if issubclass(cls, CorpusStep):
                    why = f"corpus step {o.name!r} decides over the whole corpus, not from signals"
                elif issubclass(cls, Filter):
                    why = f"a parameter of filter {o.name!r} that changes its signals, not a threshold read by keep"
                else:
                    why = f"step {o.name!r} is not a filter: it edits text or computes what later steps see"
                problems.append(f"{where} ({why})")
            elif i > first_corpus:
                problems.append(f"{where} (this filter runs after corpus step {old_names[first_corpus]!r}, whose "
                                "decisions depend on the documents that reach it)")
            else:
                changes.append(Change(o.name, param, eo[param], en[param]))
    if problems:
        raise UsageError("refilter cannot re-decide this from the signal table: " + "; ".join(problems) + f"; {rerun}")
    prefix = old_names[:first_corpus]
    repeated = sorted({n for n in prefix if prefix.count(n) > 1})
    if repeated:
        raise UsageError(f"step(s) {', '.join(repeated)} appear more than once before the first corpus step; their "
                         f"signals share one column, so refilter cannot tell them apart: {rerun}")
    return changes, first_corpus


# -- deciding --------------------------------------------------------------------------------------------


@dataclass
class RefilterResult:
    """What :func:`refilter` found. Counts are keyed by ``(step, reason)``; ``(PASSED, corpus step or "")``
    counts documents that pass every decided step."""

    run_dir: Path
    steps: list[str]
    corpus_step: str | None
    changes: list[Change]
    documents: int
    before: Counter[tuple[str, str]] = field(default_factory=Counter)
    after: Counter[tuple[str, str]] = field(default_factory=Counter)
    undecidable: Counter[str] = field(default_factory=Counter)
    #: documents that passed the decided steps in the run and were dropped by a later step, by step
    dropped_later: Counter[str] = field(default_factory=Counter)
    decisions: pa.Table | None = None

    @property
    def kept_before(self) -> int:
        return sum(n for (step, _), n in self.before.items() if step == PASSED)

    @property
    def kept_after(self) -> int:
        return sum(n for (step, _), n in self.after.items() if step == PASSED)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary."""
        def table(counter: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
            out: dict[str, dict[str, int]] = {}
            for (step, reason), n in sorted(counter.items()):
                out.setdefault(step, {})[reason] = n
            return out

        return {
            "run": str(self.run_dir),
            "documents": self.documents,
            "changes": [str(c) for c in self.changes],
            "decided_steps": self.steps,
            "corpus_step": self.corpus_step,
            "passed_before": self.kept_before,
            "passed_after": self.kept_after,
            "dropped_before": table(Counter({k: v for k, v in self.before.items() if k[0] != PASSED})),
            "dropped_after": table(Counter({k: v for k, v in self.after.items() if k[0] != PASSED})),
            "undecidable": dict(sorted(self.undecidable.items())),
            "dropped_later_in_run": dict(sorted(self.dropped_later.items())),
        }


def _check_finished(run_dir: Path) -> None:
    state = _run_state(run_dir)
    n_shards = len(state.get("plan", []))
    files = sorted((run_dir / "signals").glob("part-*.parquet"))
    if not (run_dir / "stats.json").exists() or (files and len(files) != n_shards):
        raise UsageError(
            f"the run in {run_dir} is not finished ({len(files)} of {n_shards} signal files); rerun the same "
            "`thresher run` command to finish it, then refilter"
        )
    signal_files(run_dir)  # a finished run without a signal table: made before it existed


def _build_filters(recipe: Recipe, first_corpus: int, names: set[str]) -> dict[int, Filter]:
    """The filters named in ``names`` among the steps before the first corpus step, by position."""
    filters: dict[int, Filter] = {}
    for i, spec in enumerate(recipe.steps[:first_corpus]):
        cls = get_step_class(spec.name)
        if spec.name in names and issubclass(cls, Filter):
            try:
                filters[i] = cls(**spec.params)
            except (ValueError, TypeError, FileNotFoundError) as exc:
                raise RecipeError(f"{recipe.source}:{spec.line}: step {spec.name!r}: {exc}") from None
    return filters


#: a document's new outcome (``_decide``): kept, dropped by a step, or undecidable at a step
PASS, DROP, MISSING = 0, 1, 2


def _decide(
    prefix: list[str],
    filters: dict[int, Filter],
    columns: dict[int, SignalColumns],
    stops: np.ndarray,
    recorded: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walk every document through the decided steps, all documents of a step at once (see the
    module docstring): ``filters`` (by position) decide with their rules, every other step keeps the
    run's outcome. ``stops``: the step each document stopped at in the run (``len(prefix)``: passed
    them all); ``recorded``: the run's drop reasons. Returns per document its outcome
    (``PASS``/``DROP``/``MISSING``), the index of the step that dropped it or could not decide it
    (-1 when it passed), and the drop reason (None otherwise)."""
    n = len(stops)
    kind = np.full(n, PASS, np.int8)
    step = np.full(n, -1, np.int64)
    reason = np.full(n, None, object)
    open_ = np.ones(n, bool)
    for i in range(len(prefix)):
        unreached = open_ & (stops < i)  # the document never reached this step: no signals for it
        kind[unreached], step[unreached] = MISSING, i
        open_ &= ~unreached
        filt = filters.get(i)
        if filt is not None:
            rows = np.flatnonzero(open_)
            why, missing = filt.keep_table(columns[i].take(rows))
            undecided = rows[missing]
            kind[undecided], step[undecided] = MISSING, i
            fails = np.not_equal(why, None) & ~missing
            dropped = rows[fails]
            kind[dropped], step[dropped], reason[dropped] = DROP, i, why[fails]
            open_[undecided] = False
            open_[dropped] = False
        else:  # not a filter: the run's outcome stands
            here = open_ & (stops == i)
            kind[here], step[here], reason[here] = DROP, i, recorded[here]
            open_ &= ~here
    return kind, step, reason


def _signal_columns(table: pa.Table, step: str) -> SignalColumns:
    """The signals of ``step`` (columns ``step.*``) as float64 arrays with their null masks."""
    head = f"{step}."
    values: dict[str, np.ndarray] = {}
    nulls: dict[str, np.ndarray] = {}
    for name in table.column_names:
        if name.startswith(head):
            col = table.column(name)
            nulls[name[len(head):]] = col.is_null().to_numpy(zero_copy_only=False)
            values[name[len(head):]] = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
    return SignalColumns(table.num_rows, values, nulls)


#: the columns of ``decisions.parquet``
DECISIONS_SCHEMA = pa.schema(
    [("id", pa.string()), ("kept", pa.bool_()), ("dropped_by", pa.string()), ("reason", pa.string())]
)


def refilter(
    run_dir: str | Path,
    recipe: str | Path | Recipe | None = None,
    settings: Sequence[str] = (),
    out: str | Path | None = None,
    keep_decisions: bool = True,
) -> RefilterResult:
    """Re-decide keep/drop for a finished run with ``recipe`` (default: the run's own) and ``settings``
    (``step.param=value``), from the signal table alone. With ``out``, write ``out/decisions.parquet``.

    Before deciding with the new thresholds, the run's own thresholds are replayed on the table: a filter
    whose replay does not give the run's decisions (its ``process`` decides on more than its signals) is
    refused rather than trusted. The table is read one signal file (shard) at a time, so memory is
    bounded by the largest shard, not the run; ``keep_decisions=False`` does not keep the decisions in
    ``result.decisions`` either (for runs of many millions of documents, with ``out``)."""
    run_dir = Path(run_dir)
    old = run_recipe(run_dir)
    if recipe is None:
        new = old
    elif isinstance(recipe, Recipe):
        new = recipe
    else:
        new = load_recipe(recipe)
    new = apply_settings(new, settings)
    changes, first_corpus = compare_recipes(old, new)
    _check_finished(run_dir)

    prefix = [s.name for s in new.steps[:first_corpus]]
    corpus_step = new.steps[first_corpus].name if first_corpus < len(new.steps) else None
    # only the filters whose thresholds changed are decided again: at every other step a document
    # that reaches it reached it in the run too (else it is undecidable), so the run's outcome stands
    changed = {c.step for c in changes}
    new_filters = _build_filters(new, first_corpus, changed)
    old_filters = _build_filters(old, first_corpus, changed) if changes else new_filters
    result = RefilterResult(run_dir, prefix, corpus_step, changes, 0)
    parts: list[pa.Table] = []
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(atomic_path(Path(out) / "decisions.parquet")) if out is not None else None
        writer = stack.enter_context(pq.ParquetWriter(tmp, DECISIONS_SCHEMA, compression="zstd")) if tmp else None
        for path in signal_files(run_dir):
            # only the columns the decision reads: the signals of the filters decided again
            heads = tuple(f"{prefix[i]}." for i in new_filters)
            wanted = ["id", "dropped_by", "reason", *(c for c in pq.read_schema(path).names if c.startswith(heads))]
            table = pq.read_table(path, columns=wanted)
            decisions = _refilter_part(table, path.name, prefix, old_filters, new_filters, result)
            if writer is not None:
                writer.write_table(decisions)
            if keep_decisions:
                parts.append(decisions)
    result.decisions = pa.concat_tables(parts) if keep_decisions else None
    return result


def _refilter_part(
    table: pa.Table,
    part: str,
    prefix: list[str],
    old_filters: dict[int, Filter],
    new_filters: dict[int, Filter],
    result: RefilterResult,
) -> pa.Table:
    """Replay and re-decide the rows of one signal file; counts go to ``result``; returns its decisions."""
    n = table.num_rows
    result.documents += n
    # the run's outcome as codes into the few distinct step names and reasons (no Python object per row)
    step_code, step_values = _codes(table.column("dropped_by"))
    reason_code, reason_values = _codes(table.column("reason"))
    position = {name: i for i, name in enumerate(prefix)}
    # the last decided step each document reached in the run (len(prefix): passed them all)
    stop_of = np.array([position.get(v, len(prefix)) for v in step_values] + [len(prefix)], np.int64)
    stops = stop_of[step_code]
    recorded = np.array([*reason_values, None], dtype=object)[reason_code]
    columns = {i: _signal_columns(table, prefix[i]) for i in new_filters}

    decided = stops < len(prefix)
    passed_key = (PASSED, result.corpus_step or "")
    for (s, r), k in _pair_counts(step_code[decided], reason_code[decided]).items():
        result.before[(step_values[s], reason_values[r])] += k
    result.before[passed_key] += int(n - decided.sum())
    later = ~decided & (step_code >= 0)
    for s, k in zip(*np.unique(step_code[later], return_counts=True), strict=True):
        result.dropped_later[step_values[s]] += int(k)

    kind, step, reason = _decide(prefix, old_filters, columns, stops, recorded)
    names = np.array([*prefix, None], dtype=object)  # step -1 -> None
    expected_kind = np.where(decided, DROP, PASS)
    expected_step = np.where(decided, stops, -1)
    expected_reason = np.where(decided, recorded, None)
    wrong_rows = np.flatnonzero((kind != expected_kind) | (step != expected_step) | (reason != expected_reason))
    if len(wrong_rows):
        run_step = [*step_values, None]
        wrong = Counter(str(names[step[r]] or run_step[step_code[r]]) for r in wrong_rows)
        detail = ", ".join(f"{name}: {k:,} documents" for name, k in wrong.most_common())
        absent = [f"{prefix[i]}.{name}" for i, filt in old_filters.items() if prefix[i] in wrong
                  for rule in (filt.keep_rules() or []) for name in rule.names
                  if name not in columns[i].values and name not in rule.defaults]
        if absent:
            raise ThresherError(
                f"the signal table has no column {', '.join(dict.fromkeys(absent))} ({detail} in {part}): the run "
                "was made by an earlier Thresher version that did not store it; rerun to change these thresholds"
            )
        raise ThresherError(
            f"replaying the run's own thresholds on its signal table does not give the run's decisions ({detail} "
            f"in {part}): these steps decide on more than the signals they store, so refilter cannot be trusted; "
            "rerun instead"
        )

    if new_filters is not old_filters:
        kind, step, reason = _decide(prefix, new_filters, columns, stops, recorded)
    drop, missing = kind == DROP, kind == MISSING
    reason_out = pa.array(reason, pa.string())
    new_code, new_values = _codes(reason_out)
    for (s, r), k in _pair_counts(step[drop], new_code[drop]).items():
        result.after[(prefix[s], new_values[r])] += k
    result.after[passed_key] += int((kind == PASS).sum())
    for s, k in zip(*np.unique(step[missing], return_counts=True), strict=True):
        result.undecidable[prefix[s]] += int(k)
    rescoring = np.array([f"{NEEDS_RESCORING}:{name}" for name in prefix] + [None], dtype=object)
    out_reason = np.where(missing, rescoring[step], reason)
    out_step = np.where(drop, step, -1)
    return pa.table(
        {
            "id": table.column("id").cast(pa.string()),
            "kept": pa.array(np.where(missing, None, kind == PASS), pa.bool_()),
            "dropped_by": pa.array(names[out_step], pa.string()),
            "reason": pa.array(out_reason, pa.string()),
        },
        schema=DECISIONS_SCHEMA,
    )


def _codes(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, list[Any]]:
    """Each row's index into the column's distinct values (-1 where null), and those values."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries() if encoded.num_chunks > 1 else encoded
        dictionary = encoded.chunk(0).dictionary if encoded.num_chunks else pa.array([], pa.string())
        indices = pa.chunked_array([c.indices for c in encoded.chunks], pa.int32())
    else:
        dictionary, indices = encoded.dictionary, encoded.indices
    codes = pc.fill_null(indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, dictionary.to_pylist()


def _pair_counts(a: np.ndarray, b: np.ndarray) -> dict[tuple[int, int], int]:
    """How many times each pair ``(a[i], b[i])`` of non-negative codes occurs."""
    if len(a) == 0:
        return {}
    width = int(b.max()) + 1
    keys, counts = np.unique(a.astype(np.int64) * width + b, return_counts=True)
    return {(int(k // width), int(k % width)): int(c) for k, c in zip(keys, counts, strict=True)}
