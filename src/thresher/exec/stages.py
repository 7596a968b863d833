"""Split a recipe's steps into stages at each corpus step.

A recipe ``[d1, d2, C, d3, D, d4]`` (lower case: document steps, upper case: corpus steps) runs as

- stage 0: read input shard -> d1 -> d2 -> ``C.collect`` (and the documents go to a work file)
- decide phases of ``C`` (parallel tasks)
- stage 1: read stage-0 work file -> ``C.apply`` -> d3 -> ``D.collect``
- decide phases of ``D``
- stage 2: read stage-1 work file -> ``D.apply`` -> d4 -> final output

Every stage processes every shard independently, so shards spread over workers (or Ray tasks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from thresher.steps.base import CorpusStep, Step


@dataclass
class Stage:
    """One pass over all shards."""

    index: int
    apply_step: CorpusStep | None = None
    doc_steps: list[Step] = field(default_factory=list)
    collect_step: CorpusStep | None = None

    def describe(self, width: int = 40) -> str:
        """Short label for progress displays, e.g. ``minhash.apply, pii, exact_dedup.collect``."""
        names = [f"{self.apply_step.name}.apply"] if self.apply_step else []
        names += [s.name for s in self.doc_steps]
        names += [f"{self.collect_step.name}.collect"] if self.collect_step else []
        text = ", ".join(names) or "copy"
        return text if len(text) <= width else text[: width - 1] + "…"

    @property
    def is_last(self) -> bool:
        return self.collect_step is None


def split_stages(steps: list[Step | CorpusStep]) -> list[Stage]:
    """Group steps into stages; see the module docstring."""
    stages = [Stage(0)]
    for step in steps:
        if isinstance(step, CorpusStep):
            stages[-1].collect_step = step
            stages.append(Stage(len(stages), apply_step=step))
        else:
            stages[-1].doc_steps.append(step)
    return stages
