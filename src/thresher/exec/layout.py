"""Where a run keeps its files inside the output folder.

```
OUT/part-00000.jsonl.zst ...          kept documents, one part per input shard
OUT/rejected/part-00000.jsonl.zst     dropped documents with metadata.dropped (when enabled)
OUT/bad/part-00000.jsonl              records the reader could not read, with the reason
OUT/signals/part-00000.parquet        one row per document read: kept, dropped_by, reason, signals
OUT/stats.json                        counts merged over all shards and workers
OUT/.thresher/run.json                the plan and the recipe fingerprint (resume checks them), the recipe
OUT/.thresher/done/...                one marker per finished shard-stage and decide task
OUT/.thresher/work/...                intermediate stage files and dedup keys (removed at the end)
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunLayout:
    """Paths of one run's output folder."""

    outdir: Path

    @property
    def state(self) -> Path:
        return self.outdir / ".thresher"

    @property
    def run_file(self) -> Path:
        return self.state / "run.json"

    @property
    def work(self) -> Path:
        return self.state / "work"

    @property
    def signals_dir(self) -> Path:
        """Folder of the signal table (``thresher.report.signals``)."""
        return self.outdir / "signals"

    @property
    def stats_file(self) -> Path:
        return self.outdir / "stats.json"

    def stage_work(self, stage: int) -> Path:
        """Folder of the documents a stage hands to the next one."""
        return self.work / f"stage-{stage}"

    def corpus_work(self, stage: int, step_name: str) -> Path:
        """Work folder of the corpus step collected at the end of ``stage``."""
        return self.work / f"corpus-{stage}-{step_name}"

    def shard_marker(self, stage: int, shard: int) -> Path:
        return self.state / "done" / f"stage-{stage}" / f"shard-{shard:05d}.json"

    def decide_marker(self, stage: int, phase: str, task: int) -> Path:
        return self.state / "done" / f"decide-{stage}" / phase / f"task-{task:05d}.json"

    def corpus_stats_marker(self, stage: int) -> Path:
        """Corpus-wide figures of the corpus step collected at the end of ``stage``."""
        return self.state / "done" / f"decide-{stage}" / "stats.json"

    def bad_file(self, shard: int) -> Path:
        return self.outdir / "bad" / f"part-{shard:05d}.jsonl"
