"""Crash and rerun: every task output is atomic and depends only on its inputs; the recipe chain."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

import thresher.dedup._store as store
from tests.dedup.support import ARTICLES, perturb
from thresher.dedup.exact import ExactDedup
from thresher.dedup.lines import RepeatedLines
from thresher.dedup.minhash import MinhashDedup
from thresher.dedup.testing import apply_all, collect_all, decide_all, run_corpus_step_locally
from thresher.document import Document
from thresher.steps.base import CorpusContext, CorpusStep, get_step_class

RECIPE = Path(__file__).resolve().parents[2] / "src" / "thresher" / "recipes" / "dedup.yaml"


def corpus() -> list[list[Document]]:
    shards = []
    for s in range(3):
        shard = []
        for i, text in enumerate(ARTICLES):
            variant = [text, perturb(text, 60), text.upper(), "Menu\n" + text][(s + i) % 4]
            shard.append(Document(f"{s}-{i}", "Home | About | Contact\n" + variant + "\nAll rights reserved."))
        shards.append(shard)
    return shards


def files_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def snapshot(out: list[list[Document]]) -> list[tuple]:
    return [(d.id, d.text, d.metadata, d.drop) for s in out for d in s]


@pytest.mark.parametrize("make_step", [ExactDedup, MinhashDedup, RepeatedLines])
def test_rerunning_any_task_gives_identical_files_and_output(tmp_path: Path, make_step: type) -> None:
    step: CorpusStep = make_step()
    shards = corpus()
    reference = run_corpus_step_locally(step, shards, tmp_path / "ref")
    ref_files = files_digest(tmp_path / "ref")
    # rerun everything in the same folder (as after a crash before the run was marked done)
    again = run_corpus_step_locally(step, shards, tmp_path / "ref")
    assert files_digest(tmp_path / "ref") == ref_files
    assert snapshot(again) == snapshot(reference)
    # delete every decide output, rerun the phases only: the same decisions
    for path in (tmp_path / "ref" / "decide").rglob("*.npy"):
        path.unlink()
    ctx = CorpusContext(tmp_path / "ref", n_shards=len(shards))
    decide_all(step, ctx)
    assert files_digest(tmp_path / "ref") == ref_files
    assert snapshot(apply_all(step, ctx, corpus(), 4)) == snapshot(reference)


def test_crash_inside_a_decide_task_leaves_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    step = MinhashDedup(cluster_tasks=2)
    shards = corpus()
    reference = snapshot(run_corpus_step_locally(step, shards, tmp_path / "ref"))
    ctx = CorpusContext(tmp_path / "crash", n_shards=len(shards))
    collect_all(step, ctx, corpus(), 5)
    phases = step.decide_phases(ctx)
    for phase, n in phases[:1]:
        for t in range(n):
            step.decide(ctx, phase, t)
    real_save = store.save_npy

    def dying_save(path, array):  # the write fails half-way, after the temporary file exists
        with store.atomic_path(path) as tmp:
            tmp.write_bytes(b"partial")
            raise OSError("disk on fire")

    monkeypatch.setattr("thresher.dedup.minhash.save_npy", dying_save)
    with pytest.raises(OSError):
        step.decide(ctx, "cluster", 0)
    assert not (ctx.workdir / "decide" / "cluster" / "forest-000.npy").exists()
    assert not list((ctx.workdir / "decide" / "cluster").glob(".*tmp*"))
    monkeypatch.setattr("thresher.dedup.minhash.save_npy", real_save)
    decide_all(step, ctx)  # the rerun redoes every task, finished ones included
    assert snapshot(apply_all(step, ctx, corpus(), 3)) == reference


def test_dedup_recipe_chain(tmp_path: Path) -> None:
    recipe = yaml.safe_load(RECIPE.read_text())
    names = [next(iter(item)) for item in recipe["steps"]]
    assert names == ["exact_dedup", "minhash", "repeated_lines"]
    shards = corpus()
    for n, item in enumerate(recipe["steps"]):
        (name, params), = item.items()
        step = get_step_class(name)(**(params or {}))
        out = run_corpus_step_locally(step, shards, tmp_path / f"{n}-{name}")
        shards = [[d for d in s if d.drop is None] for s in out]
    docs = [d for s in shards for d in s]
    # one document per article survives (exact copies, near copies), boilerplate lines removed
    assert len(docs) == len(ARTICLES)
    assert sorted(d.metadata["cluster_size"] for d in docs) == [3] * len(ARTICLES)
    assert all("Home | About" not in d.text and "All rights reserved" not in d.text for d in docs)
    # lines are counted over the documents that reach the step: a line left in one document stays
    assert sum(d.text.startswith("Menu\n") for d in docs) >= 1
