"""The step protocols: document steps, filters (score + keep) and corpus steps (collect/decide/apply).

A **document step** is a pure function of its parameters and a batch: ``process(batch) -> batch``.
It annotates documents (metadata, ``text``) and marks rejected ones with :meth:`Document.reject`;
the pipeline moves marked documents to the rejected output and counts them. A step never reads or
writes files, never calls the executor and holds no process-local state other than caches that
can be rebuilt (so it can be pickled to another process or a Ray worker).

A **filter** splits the work in two halves: :meth:`Filter.score` computes named signals (costly)
and :meth:`Filter.keep` compares them with thresholds (cheap). Signals go to
``metadata["signals"]`` so a later re-filter needs no recompute.

A **corpus step** (deduplication) needs to see the whole corpus. The executor runs it in phases:

1. ``collect``: per input shard, the step writes compact keys (hashes, signatures) for the shard's
   documents into ``ctx.shard_dir(shard)``; documents pass through unchanged.
2. ``decide``: a list of phases, each a number of independent tasks run in parallel (locally or on
   Ray); each task reads keys and writes decisions into the work folder.
3. ``apply``: per shard, the step marks documents to drop (or edits them) from the decisions.

Every file a phase writes must be written under a temporary name and renamed when complete
(:func:`thresher.io.atomic.atomic_path`), so that a rerun after a crash may redo a task but never
reads half a file. Output must depend only on the input and the parameters (never on timing or
on the number of workers).
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from thresher.document import Document
from thresher.steps.rules import Rule, SignalColumns, first_failure, first_failure_many

Batch = list[Document]
_UNBUILT = object()


class Step(ABC):
    """A document step: one job, applied to a batch of documents.

    Subclasses set ``name`` (used in recipes, stats and drop reasons) and implement :meth:`process`.
    Extra counters (e.g. ``lines_removed``) go through :meth:`count`; the pipeline collects them
    into ``stats.json`` under the step's name.
    """

    name: ClassVar[str] = ""

    def __init__(self) -> None:
        self._counters: Counter[str] = Counter()

    @abstractmethod
    def process(self, batch: Batch) -> Batch:
        """Annotate the batch, mark rejected documents, return the documents (kept and marked)."""

    def count(self, key: str, n: int = 1) -> None:
        """Add ``n`` to the step counter ``key`` (merged across workers into ``stats.json``)."""
        self._counters[key] += n

    def take_counters(self) -> Counter[str]:
        """Return the counters gathered since the last call and reset them (used by the pipeline)."""
        out, self._counters = self._counters, Counter()
        return out

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_counters"] = Counter()
        return state


class Filter(Step):
    """A document filter with separate ``score`` (signals) and ``keep`` (thresholds) halves.

    A filter lists its thresholds as :class:`~thresher.steps.rules.Rule` objects in
    :meth:`keep_rules`; :meth:`keep` (one document) and :meth:`keep_table` (a signal table, for
    ``thresher refilter``) both follow from that list. A filter may instead override :meth:`keep`
    alone; :meth:`keep_table` then calls it once per document."""

    #: constructor parameters read only by :meth:`keep` (thresholds): changing them changes no
    #: signal, so ``thresher refilter`` can re-decide from the signal table without rescoring.
    keep_params: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def score(self, doc: Document) -> dict[str, float]:
        """Compute this filter's signals for one document."""

    def keep_rules(self) -> Sequence[Rule] | None:
        """This filter's thresholds as rules, tried in order (``None``: :meth:`keep` is written by hand)."""
        return None

    def _rules(self) -> Sequence[Rule] | None:
        """:meth:`keep_rules`, built at the first decision (thresholds are constructor parameters:
        to decide with others, build another filter)."""
        rules = self.__dict__.get("_keep_rules", _UNBUILT)
        if rules is _UNBUILT:
            rules = self.__dict__["_keep_rules"] = self.keep_rules()
        return rules

    def keep(self, signals: dict[str, float]) -> tuple[str, dict[str, Any]] | None:
        """Return ``None`` to keep, or ``(reason, details)`` naming the rule and the value that failed."""
        rules = self._rules()
        if rules is None:
            raise NotImplementedError(f"{type(self).__name__} defines neither keep_rules() nor keep()")
        return first_failure(rules, signals)

    def keep_table(self, columns: SignalColumns) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`keep` for every row of ``columns``: the drop reason of each document (an object
        array, ``None``: kept) and a mask of the documents that cannot be decided (a signal a rule
        needs was not computed)."""
        rules = self._rules()
        if rules is None:
            reasons = np.full(columns.n, None, object)
            missing = np.zeros(columns.n, bool)
            for r in range(columns.n):
                try:
                    verdict = self.keep(columns.row(r))
                except (KeyError, TypeError):  # a signal the filter needs was never computed
                    missing[r] = True
                    verdict = None
                if verdict is not None:
                    reasons[r] = verdict[0]
            return reasons, missing
        failed, missing = first_failure_many(rules, columns)
        names = np.array([None, *(rule.reason for rule in rules)], dtype=object)
        return names[failed + 1], missing

    def process(self, batch: Batch) -> Batch:
        for doc in batch:
            signals = self.score(doc)
            doc.set_signals(self.name, signals)
            verdict = self.keep(signals)
            if verdict is not None:
                reason, details = verdict
                doc.reject(self.name, reason, **details)
        return batch

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_keep_rules", None)  # rules hold lambdas; rebuilt on first use
        return state


@dataclass(frozen=True)
class CorpusContext:
    """Where a corpus step keeps its work files, and how many input shards the run has."""

    workdir: Path
    n_shards: int
    seed: int = 0

    def shard_dir(self, shard: int) -> Path:
        """Folder for the keys collected from one input shard."""
        path = self.workdir / "collect" / f"shard-{shard:05d}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def phase_dir(self, phase: str) -> Path:
        """Folder for the output of one decide phase."""
        path = self.workdir / "decide" / phase
        path.mkdir(parents=True, exist_ok=True)
        return path


class CorpusStep(ABC):
    """A step that decides over the whole corpus (deduplication). See the module docstring."""

    name: ClassVar[str] = ""

    @abstractmethod
    def collect(self, ctx: CorpusContext, shard: int, batches: Iterable[Batch]) -> None:
        """Write the keys of one shard's documents (in order) into ``ctx.shard_dir(shard)``."""

    @abstractmethod
    def decide_phases(self, ctx: CorpusContext) -> list[tuple[str, int]]:
        """The decide phases as ``(phase name, number of independent tasks)``, run in order."""

    @abstractmethod
    def decide(self, ctx: CorpusContext, phase: str, task: int) -> None:
        """Run one task of one decide phase; write its result atomically under ``ctx.phase_dir``."""

    @abstractmethod
    def apply(self, ctx: CorpusContext, shard: int, batches: Iterable[Batch]) -> Iterable[Batch]:
        """Yield the shard's batches with duplicates marked (``Document.reject``) and annotated."""

    def stats(self, ctx: CorpusContext) -> dict[str, Any]:
        """Corpus-wide figures for ``stats.json`` (clusters, pairs...), read after ``decide``."""
        return {}


# -- registry ------------------------------------------------------------------------------------

StepClass = type[Step] | type[CorpusStep]
_REGISTRY: dict[str, StepClass] = {}
_LAZY: dict[str, str] = {}


def register(cls: StepClass) -> StepClass:
    """Class decorator: make a step available to recipes under its ``name``."""
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} needs a non-empty `name` to be registered")
    _REGISTRY[cls.name] = cls
    return cls


def register_lazy(name: str, module: str) -> None:
    """Declare that step ``name`` is defined (and registered) in ``module``, imported on first use."""
    _LAZY[name] = module


#: packages whose modules define steps; every module in them is imported on the first lookup, so a
#: new step needs no central list. Modules must keep heavy imports (trafilatura...) inside functions.
STEP_PACKAGES = ("thresher.extract", "thresher.filters", "thresher.dedup", "thresher.steps")
_discovered = False


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    import importlib
    import pkgutil

    for package_name in STEP_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            importlib.import_module(info.name)
    _discovered = True


def get_step_class(name: str) -> StepClass:
    """Look up a registered step class by its recipe name."""
    if name not in _REGISTRY and name in _LAZY:
        __import__(_LAZY[name])
    if name not in _REGISTRY:
        _discover()
    if name not in _REGISTRY:
        known = ", ".join(sorted(available_steps()))
        raise KeyError(f"unknown step {name!r}; known steps: {known}")
    return _REGISTRY[name]


def available_steps() -> list[str]:
    """Names of every step a recipe may use."""
    _discover()
    return sorted(set(_REGISTRY) | set(_LAZY))


def step_parameters(cls: StepClass) -> dict[str, inspect.Parameter]:
    """The keyword parameters a step's constructor accepts (what a recipe may set)."""
    sig = inspect.signature(cls.__init__)
    return {
        name: p
        for name, p in sig.parameters.items()
        if name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }


StepFactory = Callable[[], Step | CorpusStep]
