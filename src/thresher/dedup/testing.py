"""A tiny in-process driver for corpus steps, for tests and benchmarks (not the real executor).

It runs the :class:`~thresher.steps.base.CorpusStep` protocol in its plain order: ``collect`` for
every shard, each ``decide`` phase's tasks one after the other, then ``apply`` for every shard. The
lead's executor does the same with processes (or Ray) and resume markers; results must not differ.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

from thresher.document import Document
from thresher.steps.base import Batch, CorpusContext, CorpusStep


def _batches(docs: list[Document], batch_size: int) -> Iterator[Batch]:
    for start in range(0, len(docs), batch_size):
        yield docs[start : start + batch_size]


def collect_all(step: CorpusStep, ctx: CorpusContext, shards: list[list[Document]], batch_size: int) -> None:
    """Run ``collect`` for every shard, in order."""
    for shard, docs in enumerate(shards):
        step.collect(ctx, shard, _batches(docs, batch_size))


def decide_all(step: CorpusStep, ctx: CorpusContext) -> None:
    """Run every task of every decide phase, phases in order."""
    for phase, n_tasks in step.decide_phases(ctx):
        for task in range(n_tasks):
            step.decide(ctx, phase, task)


def apply_all(
    step: CorpusStep, ctx: CorpusContext, shards: list[list[Document]], batch_size: int
) -> list[list[Document]]:
    """Run ``apply`` for every shard and return the documents it yields (kept and marked)."""
    out: list[list[Document]] = []
    for shard, docs in enumerate(shards):
        result: list[Document] = []
        for batch in step.apply(ctx, shard, _batches(docs, batch_size)):
            result.extend(batch)
        out.append(result)
    return out


def run_corpus_step_locally(
    step: CorpusStep,
    shards: list[list[Document]],
    workdir: str | Path,
    *,
    batch_size: int = 64,
    copy_docs: bool = True,
    seed: int = 0,
) -> list[list[Document]]:
    """Run ``step`` over ``shards`` (one list of documents per input shard) in one process.

    Returns, per shard, the documents ``apply`` yielded: duplicates are still present but marked
    (``doc.drop`` set), kept ones annotated. With ``copy_docs`` (default) the input documents are
    deep-copied first, so the caller's lists are left untouched and the function can be rerun.
    ``workdir`` must be private to this step (two steps must not share one).
    """
    if copy_docs:
        shards = [[copy.deepcopy(d) for d in docs] for docs in shards]
    ctx = CorpusContext(workdir=Path(workdir), n_shards=len(shards), seed=seed)
    collect_all(step, ctx, shards, batch_size)
    decide_all(step, ctx)
    return apply_all(step, ctx, shards, batch_size)


def kept(shards: list[list[Document]]) -> list[Document]:
    """The documents not marked as dropped, in order (flattened across shards)."""
    return [d for docs in shards for d in docs if d.drop is None]


def dropped(shards: list[list[Document]]) -> list[Document]:
    """The documents marked as dropped, in order (flattened across shards)."""
    return [d for docs in shards for d in docs if d.drop is not None]
