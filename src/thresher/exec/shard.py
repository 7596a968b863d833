"""The work of one shard in one stage, and of one decide task: what a worker process runs.

:class:`StageRunner` is built once per worker from the recipe; it holds the instantiated steps and
runs ``(stage, shard)`` jobs: read -> [corpus apply] -> document steps -> [corpus collect] -> write.
All outputs of a job are written under temporary names and renamed when complete, so a job that
dies leaves nothing that looks finished; the executor records the job done only after it returns.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from thresher.document import Document
from thresher.exec.layout import RunLayout
from thresher.exec.stages import Stage, split_stages
from thresher.io.base import BadRecord, ReaderOptions, ShardSpec
from thresher.io.readers import read_shard
from thresher.io.writers import ShardWriter, write_bad_records
from thresher.pipeline import Chain, text_bytes
from thresher.recipe import Recipe
from thresher.report.signals import SignalWriter, signal_file
from thresher.stats import ShardStats, StepStats
from thresher.steps.base import Batch, CorpusContext

#: BadRecord reasons starting with this are records deliberately not read (e.g. non-HTML WARC
#: responses): counted as skipped, not as bad input.
SKIPPED_PREFIX = "skipped_"

ProgressFn = Callable[[int, int], None]


def batched(items: Iterable[Document], size: int) -> Iterator[Batch]:
    """Group documents into lists of at most ``size``."""
    it = iter(items)
    while batch := list(itertools.islice(it, size)):
        yield batch


class StageRunner:
    """Runs shard jobs and decide tasks of one recipe in one process."""

    def __init__(self, recipe: Recipe, layout: RunLayout, n_shards: int) -> None:
        self.recipe = recipe
        self.layout = layout
        self.n_shards = n_shards
        self.stages: list[Stage] = split_stages(recipe.build_steps())

    # -- contexts ----------------------------------------------------------------------------------

    def corpus_context(self, stage: int) -> CorpusContext:
        """Context of the corpus step collected at the end of ``stage``."""
        step = self.stages[stage].collect_step
        assert step is not None
        return CorpusContext(self.layout.corpus_work(stage, step.name), self.n_shards, self.recipe.seed)

    def work_spec(self, stage: int, shard: int, subdir: str = "") -> ShardSpec:
        """The intermediate file a stage wrote for a shard, as a reader spec."""
        folder = self.layout.stage_work(stage) / subdir if subdir else self.layout.stage_work(stage)
        return ShardSpec(path=str(folder / f"part-{shard:05d}.jsonl.zst"), format="jsonl", compression="zstd")

    # -- shard jobs --------------------------------------------------------------------------------

    def run_shard(
        self, stage_index: int, shard: int, spec: ShardSpec, progress: ProgressFn | None = None
    ) -> ShardStats:
        """Process one shard through one stage; return its statistics."""
        stage = self.stages[stage_index]
        stats = ShardStats()
        bad: list[BadRecord] = []
        if stage_index == 0:
            source = read_shard(spec, self.recipe.reader.options())
        else:
            source = read_shard(self.work_spec(stage_index - 1, shard), ReaderOptions())

        def documents() -> Iterator[Document]:
            for item in source:
                if isinstance(item, BadRecord):
                    if item.reason.startswith(SKIPPED_PREFIX):
                        stats.skipped[item.reason[len(SKIPPED_PREFIX):]] += 1
                    else:
                        stats.bad[item.reason] += 1
                        bad.append(item)
                    continue
                stats.docs_read += 1
                yield item

        def counted(batches: Iterable[Batch]) -> Iterator[Batch]:
            for batch in batches:
                size = text_bytes(batch)
                stats.bytes_read += size
                if progress is not None:
                    progress(len(batch), size)
                yield batch

        out_writer, rejected_writer = self._open_writers(stage, shard)
        signal_writer = self._signal_writer(stage, shard)
        try:
            batches: Iterable[Batch] = counted(batched(documents(), self.recipe.batch_size))
            if stage.apply_step is not None:
                apply_stats = StepStats(stage.apply_step.name)
                stats.steps.append(apply_stats)
                ctx = self.corpus_context(stage_index - 1)
                batches = _split_rejected(
                    _measured(stage.apply_step.apply(ctx, shard, batches), apply_stats), apply_stats, rejected_writer,
                    stats, signal_writer,
                )
            chain = Chain(stage.doc_steps)
            batches = _chain_batches(chain, batches, rejected_writer, stats, signal_writer, stage.is_last)
            batches = _written(batches, out_writer, stats)
            if stage.collect_step is not None:
                stage.collect_step.collect(self.corpus_context(stage_index), shard, batches)
            for _ in batches:  # whatever the collector did not consume
                pass
            stats.steps.extend(chain.take_stats())
            out_writer.commit()
            if rejected_writer is not None:
                rejected_writer.commit()
            signal_writer.commit()
        except BaseException:
            out_writer.abort()
            if rejected_writer is not None:
                rejected_writer.abort()
            signal_writer.abort()
            raise
        if stage_index == 0 and bad:
            write_bad_records(self.layout.bad_file(shard), bad)
        return stats

    def _open_writers(self, stage: Stage, shard: int) -> tuple[ShardWriter, ShardWriter | None]:
        writer_opts = self.recipe.writer
        if stage.is_last:
            out = ShardWriter(self.layout.outdir, shard, writer_opts.format, writer_opts.compression)
        else:
            out = ShardWriter(self.layout.stage_work(stage.index), shard, "jsonl", "zstd")
        rejected = None
        if writer_opts.rejected:
            if stage.is_last:
                rejected = ShardWriter(
                    self.layout.outdir, shard, writer_opts.format, writer_opts.compression, subdir="rejected"
                )
                # the rejected documents of earlier stages come first, in stage order
                for earlier in range(stage.index):
                    spec = self.work_spec(earlier, shard, subdir="rejected")
                    if Path(spec.path).exists():
                        docs = (d for d in read_shard(spec, ReaderOptions()) if isinstance(d, Document))
                        rejected.write(docs)
            else:
                rejected = ShardWriter(self.layout.stage_work(stage.index), shard, "jsonl", "zstd", subdir="rejected")
        return out, rejected

    def _signal_writer(self, stage: Stage, shard: int) -> SignalWriter:
        """The signal rows of a shard: a stage that is not the last keeps the rows of the documents
        it dropped in its work folder; the last stage writes the final file, earlier stages' rows first."""
        order = [spec.name for spec in self.recipe.steps]
        if not stage.is_last:
            return SignalWriter(signal_file(self.layout.stage_work(stage.index), shard), order)
        earlier = [signal_file(self.layout.stage_work(k), shard) for k in range(stage.index)]
        return SignalWriter(signal_file(self.layout.outdir, shard), order, earlier)

    # -- decide tasks ------------------------------------------------------------------------------

    def decide_phases(self, stage_index: int) -> list[tuple[str, int]]:
        """Decide phases of the corpus step collected at the end of a stage."""
        step = self.stages[stage_index].collect_step
        return step.decide_phases(self.corpus_context(stage_index)) if step is not None else []

    def run_decide(self, stage_index: int, phase: str, task: int) -> None:
        """Run one decide task of the corpus step collected at the end of a stage."""
        step = self.stages[stage_index].collect_step
        assert step is not None
        step.decide(self.corpus_context(stage_index), phase, task)


def _measured(batches: Iterable[Batch], stats: StepStats) -> Iterator[Batch]:
    for batch in batches:
        stats.docs_in += len(batch)
        stats.bytes_in += text_bytes(batch)
        yield batch


def _split_rejected(
    batches: Iterable[Batch], step_stats: StepStats, rejected: ShardWriter | None, stats: ShardStats,
    signals: SignalWriter,
) -> Iterator[Batch]:
    for batch in batches:
        kept = [doc for doc in batch if doc.drop is None]
        dropped = [doc for doc in batch if doc.drop is not None]
        for doc in dropped:
            step_stats.dropped[doc.drop.reason] += 1  # type: ignore[union-attr]
        step_stats.docs_out += len(kept)
        step_stats.bytes_out += text_bytes(kept)
        _reject(dropped, rejected, stats)
        signals.add(dropped)
        if kept:
            yield kept


def _chain_batches(
    chain: Chain, batches: Iterable[Batch], rejected: ShardWriter | None, stats: ShardStats,
    signals: SignalWriter, last_stage: bool,
) -> Iterator[Batch]:
    for batch in batches:
        position = {id(doc): i for i, doc in enumerate(batch)} if last_stage else None
        kept, dropped = chain.process(batch)
        _reject(dropped, rejected, stats)
        if position is not None:  # every document's row, in the order the batch came in
            end = len(position)
            signals.add(sorted(kept + dropped, key=lambda d: position.get(id(d), end)))
        else:  # the kept ones get their row in the last stage
            signals.add(dropped)
        if kept:
            yield kept


def _reject(docs: Batch, rejected: ShardWriter | None, stats: ShardStats) -> None:
    if not docs:
        return
    stats.docs_rejected += len(docs)
    if rejected is not None:
        rejected.write(docs, with_drop=True)


def _written(batches: Iterable[Batch], writer: ShardWriter, stats: ShardStats) -> Iterator[Batch]:
    for batch in batches:
        writer.write(batch)
        stats.docs_written += len(batch)
        yield batch
