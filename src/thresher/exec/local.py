"""Run a recipe on this machine with N worker processes, resumably.

The unit of work is an input shard (a file or a fixed slice of one). Each stage runs every shard
not yet marked done; corpus steps then run their decide phases as parallel tasks. A shard's
outputs are renamed into place before its done-marker is written, so after a crash or Ctrl-C the
same command skips finished work and redoes the rest: no document is lost or written twice.
Output names and contents depend only on the input plan and the recipe, never on worker count.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from thresher.errors import ThresherError, UsageError
from thresher.exec.layout import RunLayout
from thresher.exec.shard import StageRunner
from thresher.io.atomic import TEMP_MARK, atomic_write_bytes
from thresher.io.base import ShardSpec
from thresher.io.plan import plan_shards
from thresher.recipe import Recipe
from thresher.stats import ShardStats
from thresher.steps.base import CorpusStep


@dataclass
class Progress:
    """What the progress display is told: stage label and counts so far."""

    stage: str
    total_tasks: int
    done_tasks: int = 0
    docs: int = 0
    bytes: int = 0
    total_bytes: int | None = None


ProgressCallback = Callable[[Progress], None]


@dataclass
class RunResult:
    """What :func:`run_local` returns: where the output went and the merged statistics."""

    outdir: Path
    stats: dict[str, Any]


# -- worker process state --------------------------------------------------------------------------

_RUNNER: StageRunner | None = None
_QUEUE: Any = None


def _init_worker(recipe: Recipe, layout: RunLayout, n_shards: int, progress_queue: Any) -> None:
    global _RUNNER, _QUEUE
    _RUNNER = StageRunner(recipe, layout, n_shards)
    _QUEUE = progress_queue


def _report(docs: int, nbytes: int) -> None:
    if _QUEUE is not None:
        _QUEUE.put((docs, nbytes))


def _shard_job(stage: int, shard: int, spec: ShardSpec) -> dict[str, Any]:
    assert _RUNNER is not None
    return _RUNNER.run_shard(stage, shard, spec, _report).to_dict()


def _decide_job(stage: int, phase: str, task: int) -> None:
    assert _RUNNER is not None
    _RUNNER.run_decide(stage, phase, task)


# -- the executor ----------------------------------------------------------------------------------


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


class LocalExecutor:
    """Runs the stages of a recipe over a shard plan with a pool of worker processes."""

    def __init__(
        self,
        recipe: Recipe,
        outdir: Path,
        plan: list[ShardSpec],
        workers: int,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.recipe = recipe
        self.layout = RunLayout(outdir)
        self.plan = plan
        self.workers = max(1, workers)
        self.progress = progress
        self.runner = StageRunner(recipe, self.layout, len(plan))
        self._pool: ProcessPoolExecutor | None = None
        self._queue: Any = None

    # -- pool ------------------------------------------------------------------------------------

    def _submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        if self.workers == 1:
            fut: Future = Future()
            try:
                if fn is _shard_job:
                    fut.set_result(self.runner.run_shard(*args, self._local_progress).to_dict())
                else:
                    self.runner.run_decide(*args)
                    fut.set_result(None)
            except Exception as exc:  # noqa: BLE001 - re-raised by the caller through the future
                fut.set_exception(exc)
            return fut
        if self._pool is None:
            ctx = mp.get_context("fork")
            self._queue = ctx.Queue()
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(self.recipe, self.layout, len(self.plan), self._queue),
            )
        return self._pool.submit(fn, *args)

    def _local_progress(self, docs: int, nbytes: int) -> None:
        if self._state is not None:
            self._state.docs += docs
            self._state.bytes += nbytes
            self._emit(force=False)

    def _drain_queue(self) -> None:
        if self._queue is None or self._state is None:
            return
        while True:
            try:
                docs, nbytes = self._queue.get_nowait()
            except queue.Empty:
                break
            self._state.docs += docs
            self._state.bytes += nbytes

    _state: Progress | None = None
    _last_emit = 0.0

    def _emit(self, force: bool = True) -> None:
        if self.progress is None or self._state is None:
            return
        now = time.monotonic()
        if force or now - self._last_emit > 0.2:
            self._last_emit = now
            self.progress(self._state)

    def close(self) -> None:
        """Stop the worker pool (kills workers still running)."""
        if self._pool is not None:
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                if proc.is_alive():
                    proc.terminate()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    # -- run -------------------------------------------------------------------------------------

    def _run_tasks(self, label: str, tasks: list[tuple[Callable[..., Any], tuple, Path]],
                   total_bytes: int | None = None) -> None:
        """Run tasks whose marker is missing; write each marker when its task returns."""
        todo = [t for t in tasks if not t[2].exists()]
        self._state = Progress(label, len(tasks), len(tasks) - len(todo), total_bytes=total_bytes)
        self._emit()
        pending: dict[Future, Path] = {}
        it = iter(todo)
        limit = self.workers * 2
        try:
            while True:
                while len(pending) < limit:
                    nxt = next(it, None)
                    if nxt is None:
                        break
                    fn, args, marker = nxt
                    pending[self._submit(fn, *args)] = marker
                if not pending:
                    break
                done, _ = wait(list(pending), timeout=0.2, return_when=FIRST_COMPLETED)
                self._drain_queue()
                for fut in done:
                    marker = pending.pop(fut)
                    result = fut.result()
                    atomic_write_bytes(marker, orjson.dumps(result or {}))
                    self._state.done_tasks += 1
                self._emit(force=bool(done))
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
        self._drain_queue()
        self._emit()

    def run(self) -> dict[str, Any]:
        """Run every stage and decide phase; return the merged statistics."""
        stages = self.runner.stages
        input_bytes = sum(_spec_size(s) for s in self.plan) or None
        try:
            for stage in stages:
                label = f"stage {stage.index + 1}/{len(stages)}: {stage.describe()}"
                tasks = [
                    (_shard_job, (stage.index, i, spec), self.layout.shard_marker(stage.index, i))
                    for i, spec in enumerate(self.plan)
                ]
                self._run_tasks(label, tasks, input_bytes if stage.index == 0 else None)
                if stage.collect_step is not None:
                    for phase, n_tasks in self.runner.decide_phases(stage.index):
                        tasks = [
                            (_decide_job, (stage.index, phase, t), self.layout.decide_marker(stage.index, phase, t))
                            for t in range(n_tasks)
                        ]
                        self._run_tasks(f"{stage.collect_step.name}: {phase}", tasks)
                    marker = self.layout.corpus_stats_marker(stage.index)
                    if not marker.exists():
                        corpus_stats = stage.collect_step.stats(self.runner.corpus_context(stage.index))
                        atomic_write_bytes(marker, orjson.dumps(corpus_stats))
        finally:
            self.close()
        return self._merge_stats()

    def _merge_stats(self) -> dict[str, Any]:
        stages = self.runner.stages
        per_stage: list[ShardStats] = []
        for stage in stages:
            merged = ShardStats()
            for i in range(len(self.plan)):
                data = orjson.loads(self.layout.shard_marker(stage.index, i).read_bytes())
                merged.merge(ShardStats.from_dict(data))
            per_stage.append(merged)
        first, last = per_stage[0], per_stage[-1]
        steps = [s.to_dict() for st in per_stage for s in st.steps]
        dropped_by: dict[str, int] = {}
        for s in steps:
            for reason, n in s["dropped"].items():
                dropped_by[f"{s['name']}/{reason}"] = dropped_by.get(f"{s['name']}/{reason}", 0) + n
        corpus = {}
        for stage in stages:
            if isinstance(stage.collect_step, CorpusStep):
                marker = self.layout.corpus_stats_marker(stage.index)
                corpus[stage.collect_step.name] = orjson.loads(marker.read_bytes())
        return {
            "recipe": self.recipe.name,
            "recipe_fingerprint": self.recipe.fingerprint(),
            "shards": len(self.plan),
            "documents": {
                "read": first.docs_read,
                "bytes_read": first.bytes_read,
                "kept": last.docs_written,
                "dropped": sum(st.docs_rejected for st in per_stage),
                "bad_records": sum(first.bad.values()),
                "skipped_records": sum(first.skipped.values()),
            },
            "dropped_by_reason": dict(sorted(dropped_by.items())),
            "bad_records": dict(sorted(first.bad.items())),
            "skipped_records": dict(sorted(first.skipped.items())),
            "steps": steps,
            "corpus_steps": corpus,
        }


def _spec_size(spec: ShardSpec) -> int:
    if spec.unit == "bytes" and spec.end is not None:
        return spec.end - spec.start
    if spec.unit == "file":
        try:
            return Path(spec.path).stat().st_size
        except OSError:
            return 0
    return 0


# -- entry point -----------------------------------------------------------------------------------


def _remove_stale_temp_files(layout: RunLayout) -> None:
    """Delete temporary files a killed writer left behind (never a finished file: those were renamed)."""
    for folder in (layout.outdir, layout.outdir / "rejected", layout.outdir / "bad", layout.signals_dir):
        if folder.is_dir():
            for path in folder.glob(f".*{TEMP_MARK}*"):
                path.unlink(missing_ok=True)


def recipe_spec(recipe: Recipe) -> dict[str, Any]:
    """The recipe as a mapping :func:`thresher.recipe.parse_recipe` reads back (stored in run.json, so
    ``thresher refilter`` knows what the run did)."""
    return {
        "name": recipe.name,
        "description": recipe.description,
        "reader": recipe.reader.model_dump(),
        "steps": [{spec.name: spec.params} for spec in recipe.steps],
        "writer": recipe.writer.model_dump(),
        "seed": recipe.seed,
        "batch_size": recipe.batch_size,
    }


def _check_run_state(layout: RunLayout, recipe: Recipe, plan: list[ShardSpec]) -> None:
    state = {"recipe": recipe.fingerprint(), "plan": [s.to_dict() for s in plan]}
    if layout.run_file.exists():
        previous = orjson.loads(layout.run_file.read_bytes())
        # the fingerprint and the plan decide; the stored recipe text is for `thresher refilter`
        if {k: previous.get(k) for k in state} != state:
            raise UsageError(
                f"output folder {layout.outdir} holds a run with other inputs or another recipe; "
                "use a new output folder (or delete this one) to start over"
            )
        _remove_stale_temp_files(layout)
        return
    if layout.outdir.exists() and any(layout.outdir.iterdir()):
        raise UsageError(
            f"output folder {layout.outdir} is not empty and holds no Thresher run; choose an empty or new folder"
        )
    state["recipe_spec"] = recipe_spec(recipe)
    atomic_write_bytes(layout.run_file, orjson.dumps(state, option=orjson.OPT_INDENT_2, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


def run_local(
    inputs: Iterable[str | Path],
    outdir: str | Path,
    recipe: Recipe,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    executor_factory: Callable[..., LocalExecutor] | None = None,
) -> RunResult:
    """Run ``recipe`` on ``inputs`` into ``outdir``; resume where a previous identical run stopped.

    ``executor_factory`` (default :class:`LocalExecutor`) is called like ``LocalExecutor``'s
    constructor; :mod:`thresher.exec.ray` passes its Ray executor here.
    """
    outdir = Path(outdir)
    plan = plan_shards([str(p) for p in inputs], recipe.reader.options())
    if not plan:
        raise UsageError("no input files found; give files, folders or globs that match some")
    layout = RunLayout(outdir)
    _check_run_state(layout, recipe, plan)
    if layout.stats_file.exists():
        # the same run already finished: its outputs are final, nothing to redo
        shutil.rmtree(layout.work, ignore_errors=True)
        return RunResult(outdir, orjson.loads(layout.stats_file.read_bytes()))
    executor = (executor_factory or LocalExecutor)(recipe, outdir, plan, workers or default_workers(), progress)
    try:
        stats = executor.run()
    except ThresherError:
        raise
    except Exception as exc:
        from concurrent.futures.process import BrokenProcessPool

        if isinstance(exc, BrokenProcessPool):
            raise ThresherError(
                "a worker process died (killed or out of memory); finished shards are kept: "
                "rerun the same command to resume"
            ) from exc
        raise
    atomic_write_bytes(layout.stats_file, orjson.dumps(stats, option=orjson.OPT_INDENT_2))
    shutil.rmtree(layout.work, ignore_errors=True)
    return RunResult(outdir, stats)
