"""Run a recipe on a Ray cluster: the same shard and decide tasks as the local executor, scheduled by Ray.

:class:`RayExecutor` changes one thing in :class:`~thresher.exec.local.LocalExecutor`: where a task
runs. Every task (one input shard through one stage, or one decide task of a corpus step) becomes a
Ray task; the driver keeps the plan, waits on the tasks' futures and writes each task's done marker
when its result arrives, exactly as the local executor does. So outputs, resume and statistics are
the same, and the output is byte-identical to a local run with any number of workers (each task
writes its own files, named by shard or task, atomically).

Requirements: ``pip install 'thresher[ray]'`` on the driver and every node; the run folder (and the
inputs) on a file system every node sees at the same path (NFS, a mounted bucket, or a single
machine). ``address=None`` starts a local Ray instance on this machine (handy for testing);
``address="auto"`` joins the cluster this machine belongs to; ``"ray://host:10001"`` connects a
client. A task that dies with its node is retried by Ray (``max_retries``); its half-written files
carry temporary names and never replace finished ones, and the next run deletes them.

Progress is reported per finished task (workers do not stream document counts back).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from thresher.errors import UsageError
from thresher.exec.layout import RunLayout
from thresher.exec.local import LocalExecutor, _shard_job
from thresher.exec.shard import StageRunner
from thresher.io.base import ShardSpec
from thresher.recipe import Recipe

#: attempts Ray makes for a task whose worker or node died.
MAX_RETRIES = 3

#: per worker process: the StageRunner of each (run folder, recipe) it has served.
_RUNNERS: dict[tuple[str, str], StageRunner] = {}


def _runner(recipe: Recipe, outdir: str, n_shards: int) -> StageRunner:
    key = (outdir, recipe.fingerprint())
    runner = _RUNNERS.get(key)
    if runner is None:
        runner = _RUNNERS[key] = StageRunner(recipe, RunLayout(Path(outdir)), n_shards)
    return runner


def _no_progress(docs: int, nbytes: int) -> None:
    """Workers on other machines do not report document counts while a task runs."""


def run_task(recipe: Recipe, outdir: str, n_shards: int, kind: str, args: tuple) -> dict[str, Any] | None:
    """Body of one Ray task: a shard through a stage (``kind="shard"``) or one decide task."""
    runner = _runner(recipe, outdir, n_shards)
    if kind == "shard":
        stage, shard, spec = args
        return runner.run_shard(stage, shard, spec, _no_progress).to_dict()
    runner.run_decide(*args)
    return None


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise UsageError(
            "the Ray executor needs Ray: install it with pip install 'thresher[ray]' (on every node)"
        ) from exc
    return ray


class RayExecutor(LocalExecutor):
    """:class:`LocalExecutor` whose tasks run as Ray tasks (see the module docstring)."""

    def __init__(
        self,
        recipe: Recipe,
        outdir: Path,
        plan: list[ShardSpec],
        workers: int,
        progress: Callable[..., Any] | None = None,
        address: str | None = None,
    ) -> None:
        super().__init__(recipe, outdir, plan, workers, progress)
        self.address = address
        self._remote: Any = None
        self._recipe_ref: Any = None
        self._started_ray = False

    def _connect(self) -> None:
        ray = _ray()
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if self.address is None:
                kwargs["num_cpus"] = self.workers
            ray.init(address=self.address, **kwargs)
            self._started_ray = True
        self._remote = ray.remote(max_retries=MAX_RETRIES)(run_task)
        self._recipe_ref = ray.put(self.recipe)

    def _submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        if self._remote is None:
            self._connect()
        kind = "shard" if fn is _shard_job else "decide"
        outdir = str(self.layout.outdir.resolve())
        ref = self._remote.remote(self._recipe_ref, outdir, len(self.plan), kind, args)
        return ref.future()

    def close(self) -> None:
        super().close()
        if self._started_ray:
            _ray().shutdown()
            self._started_ray = False
        self._remote = None
