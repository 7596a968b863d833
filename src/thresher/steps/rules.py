"""Keep rules: a filter's thresholds as data, applied to one document or to a whole signal table.

A :class:`~thresher.steps.base.Filter` that lists its thresholds as :class:`Rule` objects
(``keep_rules``) gets both halves of its decision from that one list:

- :func:`first_failure` decides one document from its signals (the run: ``Filter.process``);
- :func:`first_failure_many` decides every row of a signal table at once with numpy
  (``thresher refilter``: hundreds of thousands of documents per second instead of a Python call
  per document).

The rules are tried in order and the first that fails drops the document, as a hand-written
``keep`` would. A rule's test (``fails``) is written once with operators that work on Python
numbers and on numpy arrays alike: comparisons, ``&`` and ``|`` between parenthesised comparisons,
never ``and``/``or``/``not`` (``tests/filters/test_keep_rules.py`` checks both paths give the same
verdicts on random tables).

A signal that was not computed for a document (absent from its signals, null in the table) takes
the rule's default when it has one; otherwise the document is *undecidable* by that rule (a
``KeyError`` for one document; the ``missing`` mask for a table), which ``refilter`` reports as
needing rescoring rather than guessing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: a ``Rule.threshold`` that leaves ``threshold`` out of the rejection details
NO_THRESHOLD: Any = type("NoThreshold", (), {"__repr__": lambda self: "NO_THRESHOLD"})()
_UNSET: Any = object()


@dataclass(frozen=True)
class Rule:
    """One keep rule: a document fails it (and is dropped with ``reason``) when ``fails`` is true.

    ``fails`` receives a mapping of the signals named in ``reads`` (and ``value``) to numbers, or to
    numpy arrays of one value per document. ``value`` names the signal reported as the rejection's
    ``value`` (``shown_value`` reports a constant instead) next to ``threshold``. ``defaults`` gives
    the number a signal takes where it was not computed."""

    reason: str
    fails: Callable[[Mapping[str, Any]], Any]
    value: str
    threshold: Any = NO_THRESHOLD
    reads: tuple[str, ...] = ()
    defaults: Mapping[str, float] = field(default_factory=dict)
    shown_value: Any = _UNSET

    @property
    def names(self) -> tuple[str, ...]:
        """Every signal the rule reads, ``value`` first."""
        return (self.value, *(n for n in self.reads if n != self.value))

    def details(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The rejection details of a document with these signal ``values``."""
        out = {"value": self.shown_value if self.shown_value is not _UNSET else values[self.value]}
        if self.threshold is not NO_THRESHOLD:
            out["threshold"] = self.threshold
        return out


def above(signal: str, limit: float, inclusive: bool = False) -> Callable[[Mapping[str, Any]], Any]:
    """The test of a maximum: ``signal > limit`` (``>=`` when ``inclusive``)."""
    if inclusive:
        return lambda v: v[signal] >= limit
    return lambda v: v[signal] > limit


def below(signal: str, limit: float, inclusive: bool = False) -> Callable[[Mapping[str, Any]], Any]:
    """The test of a minimum: ``signal < limit`` (``<=`` when ``inclusive``)."""
    if inclusive:
        return lambda v: v[signal] <= limit
    return lambda v: v[signal] < limit


def first_failure(rules: Sequence[Rule], signals: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """``None`` when the document with ``signals`` passes every rule, else the first failing rule's
    ``(reason, details)``. Raises ``KeyError`` naming a signal a rule needs that was not computed."""
    for rule in rules:
        values = {}
        for name in rule.names:
            value = signals.get(name)
            if value is None:
                if name not in rule.defaults:
                    raise KeyError(name)
                value = rule.defaults[name]
            values[name] = value
        if rule.fails(values):
            return rule.reason, rule.details(values)
    return None


@dataclass
class SignalColumns:
    """One filter's signals for ``n`` documents: ``values[name]`` (float64, NaN where null) and
    ``nulls[name]`` (True where the signal was not computed). A name absent from both is null for
    every document."""

    n: int
    values: dict[str, np.ndarray]
    nulls: dict[str, np.ndarray]

    def get(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The column ``name`` and its null mask."""
        if name not in self.values:
            return np.full(self.n, np.nan), np.ones(self.n, bool)
        return self.values[name], self.nulls[name]

    def take(self, rows: np.ndarray) -> SignalColumns:
        """The documents at ``rows`` (indices), in that order."""
        return SignalColumns(
            len(rows), {k: v[rows] for k, v in self.values.items()}, {k: v[rows] for k, v in self.nulls.items()}
        )

    def row(self, r: int) -> dict[str, float]:
        """The signals of document ``r`` as one document's mapping (nulls left out)."""
        return {k: float(v[r]) for k, v in self.values.items() if not self.nulls[k][r]}


def first_failure_many(rules: Sequence[Rule], columns: SignalColumns) -> tuple[np.ndarray, np.ndarray]:
    """:func:`first_failure` for every row of ``columns`` at once.

    Returns ``(failed, missing)``: per document the index in ``rules`` of the first rule it fails
    (-1: passes all), and whether a rule it reached needed a signal that was not computed (then
    ``failed`` is -1 and the document is undecidable)."""
    n = columns.n
    failed = np.full(n, -1, np.int64)
    missing = np.zeros(n, bool)
    open_ = np.ones(n, bool)
    for k, rule in enumerate(rules):
        values: dict[str, np.ndarray] = {}
        absent = np.zeros(n, bool)
        for name in rule.names:
            col, null = columns.get(name)
            if name in rule.defaults:
                col = np.where(null, rule.defaults[name], col)
            else:
                absent |= null
            values[name] = col
        missing |= open_ & absent
        open_ &= ~absent
        with np.errstate(invalid="ignore"):
            hit = np.broadcast_to(np.asarray(rule.fails(values), bool), (n,)) & open_
        failed[hit] = k
        open_ &= ~hit
    return failed, missing
