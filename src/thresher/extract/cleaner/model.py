"""A small gradient-boosted tree ensemble: numpy-only inference, trained with LightGBM.

Trees are complete binary trees of a fixed depth stored as arrays, so prediction for all lines of
a batch is ``depth`` vectorised steps over a (trees x lines) index array:

- ``feature[t, k]``, ``threshold[t, k]``: internal node ``k`` (heap order) sends a row left when
  ``x[feature] <= threshold`` (a node that does not split has threshold ``+inf``);
- ``leaf[t, j]``: the value added by leaf ``j``; the score is ``base + sum of leaves`` (log-odds).

Training uses LightGBM (the ``train`` extra; only :mod:`thresher.extract.cleaner.train` needs it),
whose trees :func:`from_lightgbm` converts to this layout; running the cleaner needs numpy alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class TreeEnsemble:
    """Arrays of a boosted ensemble of complete binary trees (see the module docstring)."""

    feature: np.ndarray  # (T, 2**D - 1) int32
    threshold: np.ndarray  # (T, 2**D - 1) float32
    leaf: np.ndarray  # (T, 2**D) float32
    base: float

    @property
    def depth(self) -> int:
        """Depth of every tree."""
        return int(np.log2(self.leaf.shape[1]))

    def decision(self, x: np.ndarray) -> np.ndarray:
        """Log-odds for every row of ``x`` (shape (n, n_features))."""
        n = x.shape[0]
        if n == 0:
            return np.zeros(0, np.float64)
        n_trees, n_internal = self.feature.shape
        n_leaves = self.leaf.shape[1]
        xf = np.ascontiguousarray(x, dtype=np.float32).ravel()
        feat = self.feature.ravel()
        thr = self.threshold.ravel()
        tree_off = np.arange(n_trees, dtype=np.intp) * n_internal
        row_off = (np.arange(n, dtype=np.intp) * x.shape[1])[:, None]
        # the root level needs no node lookup: one gather of every tree's root feature
        node = 1 + (xf.take(row_off + self.feature[:, 0], mode="clip") > self.threshold[:, 0])
        for _ in range(self.depth - 1):
            k = node + tree_off
            # indices are in range by construction: mode="clip" skips numpy's bounds error path
            go = xf.take(row_off + feat.take(k, mode="clip"), mode="clip") > thr.take(k, mode="clip")
            node = 2 * node + 1 + go
        leaves = node - n_internal + np.arange(n_trees, dtype=np.intp) * n_leaves
        return self.base + self.leaf.ravel().take(leaves, mode="clip").sum(axis=1, dtype=np.float64)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probability of the positive class for every row of ``x``."""
        return 1.0 / (1.0 + np.exp(-self.decision(x)))

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The arrays to save in an ``.npz`` file under ``prefix``."""
        return {
            f"{prefix}feature": self.feature.astype(np.int16),
            f"{prefix}threshold": self.threshold.astype(np.float32),
            f"{prefix}leaf": self.leaf.astype(np.float32),
            f"{prefix}base": np.array([self.base], np.float64),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray] | np.lib.npyio.NpzFile, prefix: str) -> TreeEnsemble:
        """Inverse of :meth:`to_arrays`."""
        return cls(
            feature=np.asarray(arrays[f"{prefix}feature"], np.intp),
            threshold=np.asarray(arrays[f"{prefix}threshold"], np.float32),
            leaf=np.asarray(arrays[f"{prefix}leaf"], np.float32),
            base=float(arrays[f"{prefix}base"][0]),
        )


# -- training (LightGBM, used by the train command only) -----------------------------------------


def train_gbdt(
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    n_trees: int = 200,
    depth: int = 6,
    learning_rate: float = 0.1,
    l2: float = 1.0,
    min_child_hess: float = 1.0,
    row_subsample: float = 0.5,
    col_subsample: float = 0.7,
    max_bins: int = 64,
    seed: int = 0,
) -> TreeEnsemble:
    """Fit a boosted ensemble of trees of depth at most ``depth`` to binary labels ``y`` (0/1) with
    LightGBM (the ``train`` extra), and convert it to a :class:`TreeEnsemble` that predicts the
    same log-odds with numpy alone.

    Deterministic for a given ``seed``: one thread, LightGBM's ``deterministic`` mode."""
    try:
        import lightgbm
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "training the line cleaner needs LightGBM: pip install 'thresher[train]'"
        ) from exc
    x32 = np.ascontiguousarray(x, dtype=np.float32)  # the values inference compares, exactly
    params = {
        "objective": "binary",
        "max_depth": depth,
        "num_leaves": 2**depth,
        "learning_rate": learning_rate,
        "lambda_l2": l2,
        "min_sum_hessian_in_leaf": min_child_hess,
        "min_data_in_leaf": 1,
        "bagging_fraction": row_subsample,
        "bagging_freq": 1 if row_subsample < 1 else 0,
        "feature_fraction": col_subsample,
        "max_bin": max_bins,
        "use_missing": False,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "verbosity": -1,
    }
    data = lightgbm.Dataset(x32, label=np.asarray(y, np.float64), weight=weight, free_raw_data=True)
    booster = lightgbm.train(params, data, num_boost_round=n_trees)
    return from_lightgbm(booster.dump_model(), depth)


def from_lightgbm(dump: dict, depth: int) -> TreeEnsemble:
    """The :class:`TreeEnsemble` of a LightGBM model dump (``Booster.dump_model()``) whose trees are
    at most ``depth`` deep. A leaf above the last level becomes a chain of nodes that never split
    (threshold ``+inf``) down to the last level. LightGBM folds its initial score into the first
    tree, so ``base`` is 0."""
    trees = dump["tree_info"]
    n_internal = 2**depth - 1
    feature = np.zeros((len(trees), n_internal), np.int64)
    threshold = np.full((len(trees), n_internal), np.inf, np.float32)
    leaf = np.zeros((len(trees), 2**depth), np.float32)

    def fill(t: int, node: dict, k: int, level: int) -> None:
        if "leaf_value" in node:
            first = (k + 1) * 2 ** (depth - level) - 1 - n_internal  # leftmost last-level descendant
            leaf[t, first : first + 2 ** (depth - level)] = node["leaf_value"]
            return
        if level >= depth:
            raise ValueError(f"tree {t} is deeper than {depth}")
        if node.get("decision_type", "<=") != "<=":
            raise ValueError(f"tree {t} has a {node['decision_type']!r} split; only '<=' converts")
        thr = float(node["threshold"])
        thr32 = np.float32(thr)
        # the largest float32 not above the threshold gives LightGBM's decision (made in float64) for
        # every float32 input; compared as float64 here (numpy compares a float32 with a float in float32)
        if float(thr32) > thr:
            thr32 = np.nextafter(thr32, np.float32(-np.inf))
        feature[t, k] = node["split_feature"]
        threshold[t, k] = thr32
        fill(t, node["left_child"], 2 * k + 1, level + 1)
        fill(t, node["right_child"], 2 * k + 2, level + 1)

    for t, tree in enumerate(trees):
        fill(t, tree["tree_structure"], 0, 0)
    return TreeEnsemble(feature, threshold, leaf, 0.0)


def average(ensembles: list[TreeEnsemble]) -> TreeEnsemble:
    """One ensemble whose log-odds are the mean of ``ensembles``' (trees of one depth): their
    trees side by side, every leaf divided by their number."""
    k = len(ensembles)
    return TreeEnsemble(
        feature=np.concatenate([e.feature for e in ensembles]),
        threshold=np.concatenate([e.threshold for e in ensembles]),
        leaf=np.concatenate([e.leaf for e in ensembles]) / np.float32(k),
        base=sum(e.base for e in ensembles) / k,
    )


def save_model(path: Path, stages: list[TreeEnsemble], meta: dict[str, np.ndarray]) -> None:
    """Write the ensembles (``s0_``, ``s1_``...) and metadata arrays to a compressed ``.npz``."""
    arrays: dict[str, np.ndarray] = dict(meta)
    for i, stage in enumerate(stages):
        arrays.update(stage.to_arrays(f"s{i}_"))
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)
