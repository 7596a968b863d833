"""The Python API: ``thresher.run(inputs, outdir, recipe=...)``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from thresher.errors import UsageError
from thresher.exec.local import ProgressCallback, RunResult, run_local
from thresher.recipe import Recipe, load_recipe


def with_overrides(
    recipe: Recipe,
    *,
    output_format: str | None = None,
    rejected: bool | None = None,
    reader: dict[str, Any] | None = None,
) -> Recipe:
    """A copy of ``recipe`` with the writer format, rejected output or reader options replaced."""
    writer = recipe.writer.model_copy(
        update={k: v for k, v in {"format": output_format, "rejected": rejected}.items() if v is not None}
    )
    reader_model = recipe.reader.model_copy(update={k: v for k, v in (reader or {}).items() if v is not None})
    return recipe.model_copy(update={"writer": writer, "reader": reader_model})


def run(
    inputs: Iterable[str | Path] | str | Path,
    outdir: str | Path,
    recipe: str | Path | Recipe | None = None,
    *,
    workers: int | None = None,
    output_format: str | None = None,
    rejected: bool | None = None,
    reader: dict[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    executor: str = "local",
    ray_address: str | None = None,
) -> RunResult:
    """Run a recipe (built-in name, YAML path or :class:`Recipe`; default ``default``) on ``inputs``.

    Rerunning the same call after an interruption resumes where it stopped. ``executor="ray"`` runs
    the same tasks on Ray (:mod:`thresher.exec.ray`): a local Ray instance with ``workers`` CPUs, or
    the cluster at ``ray_address`` (``"auto"`` joins the cluster of this machine); the output is
    byte-identical to a local run.
    Returns the output folder and the merged statistics (also written to ``outdir/stats.json``).
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    loaded = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    loaded = with_overrides(loaded, output_format=output_format, rejected=rejected, reader=reader)
    factory = None
    if executor == "ray":
        from functools import partial

        from thresher.exec.ray import RayExecutor

        factory = partial(RayExecutor, address=ray_address)
    elif executor != "local":
        raise UsageError(f"unknown executor {executor!r}: use 'local' or 'ray'")
    return run_local(list(inputs), outdir, loaded, workers=workers, progress=progress, executor_factory=factory)
