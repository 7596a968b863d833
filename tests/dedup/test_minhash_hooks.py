"""The public extension hooks of ``MinhashDedup``: verification with bucket retries, extra keys, fingerprint."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import xxhash

from thresher.dedup.minhash import MinhashDedup, Ragged
from thresher.dedup.spin import SpinRobustMinhashDedup
from thresher.dedup.testing import kept, run_corpus_step_locally
from thresher.document import Document
from thresher.errors import UsageError
from thresher.steps.base import CorpusContext

from .support import ARTICLES, docs, perturb


class RelationDedup(MinhashDedup):
    """Verification by a fixed relation on positions (what a subclass's pair test would decide)."""

    def __init__(self, pairs: set[tuple[int, int]], retries: int = 8) -> None:
        super().__init__()
        self.pairs = pairs
        self.bucket_retries = retries  # type: ignore[misc]
        self.calls: list[tuple[int, int]] = []

    def verifies_candidates(self) -> bool:
        return True

    def pair_matcher(self, ctx: CorpusContext, nodes: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        def match(i: np.ndarray, j: np.ndarray) -> np.ndarray:
            out = []
            for x, y in zip(nodes[i].tolist(), nodes[j].tolist()):
                self.calls.append((x, y))
                out.append((x, y) in self.pairs or (y, x) in self.pairs)
            return np.array(out, dtype=bool)

        return match


def edges(*rows: tuple[int, int]) -> np.ndarray:
    return np.array(rows, dtype=np.uint64).reshape(-1, 2)


def verified(step: MinhashDedup, tmp_path: Path, *rows: tuple[int, int]) -> list[tuple[int, int]]:
    return [tuple(e) for e in step.verify_edges(CorpusContext(tmp_path, 1), edges(*rows)).tolist()]


def test_member_rejected_by_head_is_kept_through_an_accepted_member(tmp_path: Path) -> None:
    # bucket headed by 1: 1~2 and 1~4 match, 3 matches only 2, 5 matches nobody; bucket headed by 10: 10~11
    step = RelationDedup({(1, 2), (1, 4), (2, 3), (10, 11)})
    assert verified(step, tmp_path, (1, 2), (1, 3), (1, 4), (1, 5), (10, 11)) == [(1, 2), (1, 3), (1, 4), (10, 11)]


def test_retries_use_members_accepted_by_earlier_retries_and_respect_the_limit(tmp_path: Path) -> None:
    chain = {(1, 2), (2, 3), (3, 4)}  # 3 reaches the bucket through 2, 4 through 3 (accepted by a retry)
    star = ((1, 2), (1, 3), (1, 4))
    assert verified(RelationDedup(chain), tmp_path, *star) == [(1, 2), (1, 3), (1, 4)]
    assert verified(RelationDedup(chain, retries=0), tmp_path, *star) == [(1, 2)]
    # with one retry, a member is only compared with the first accepted member (2), so 4 is lost
    assert verified(RelationDedup(chain, retries=1), tmp_path, *star) == [(1, 2), (1, 3)]


def test_members_rejected_by_the_head_are_paired_with_each_other(tmp_path: Path) -> None:
    # the head (1) is nobody's duplicate; 2~4 and 3~5 are two true pairs among its members
    step = RelationDedup({(2, 4), (3, 5)})
    assert verified(step, tmp_path, (1, 2), (1, 3), (1, 4), (1, 5)) == [(2, 4), (3, 5)]
    step.retry_rejected = False  # type: ignore[misc]
    assert verified(step, tmp_path, (1, 2), (1, 3), (1, 4), (1, 5)) == []


def test_retries_only_run_for_buckets_with_a_rejection(tmp_path: Path) -> None:
    step = RelationDedup({(1, 2), (1, 3)})
    assert verified(step, tmp_path, (1, 2), (1, 3)) == [(1, 2), (1, 3)]
    assert step.calls == [(1, 2), (1, 3)]


class AllCandidates(MinhashDedup):
    """Every document in one LSH bucket per band: verification alone decides."""

    def signatures(self, shingles):  # type: ignore[no-untyped-def]
        return np.zeros((len(shingles), self.num_perm), dtype=np.uint64)


def test_jaccard_verification_reaches_a_member_through_an_accepted_one(tmp_path: Path) -> None:
    """Exact-Jaccard mode end to end: ``b`` is too far from the bucket's head but close to ``a``."""
    head = ARTICLES[0]
    a = head + " The mayor welcomed the decision in a short statement on the council website."
    b = a + " Residents can send comments about the detailed plans until the end of next month."
    step = AllCandidates(jaccard_threshold=0.9)
    sets = [np.unique(step.shingles(Document("x", t))) for t in (head, a, b)]
    jac = lambda x, y: len(np.intersect1d(x, y)) / len(np.union1d(x, y))  # noqa: E731
    assert jac(sets[0], sets[1]) >= 0.9 > jac(sets[0], sets[2]) and jac(sets[1], sets[2]) >= 0.9
    out = run_corpus_step_locally(step, [docs(("head", head), ("a", a), ("b", b))], tmp_path)
    assert [d.id for d in kept(out)] == ["head"]
    assert kept(out)[0].metadata["cluster_size"] == 3


def test_jaccard_verification_pairs_two_copies_behind_an_unrelated_head(tmp_path: Path) -> None:
    shards = [docs(("head", ARTICLES[3]), ("a", ARTICLES[1]), ("b", ARTICLES[1] + " Serve warm."))]
    out = run_corpus_step_locally(AllCandidates(jaccard_threshold=0.9), shards, tmp_path)
    assert [d.id for d in kept(out)] == ["head", "a"]
    assert kept(out)[1].metadata["cluster_size"] == 2


class KeysDedup(MinhashDedup):
    def collect_keys(self, doc: Document, shingles: np.ndarray) -> dict[str, np.ndarray]:
        return {"first_word": np.array([len(doc.text.split()[0])], dtype=np.uint32), "head": shingles[:3]}


def test_collect_keys_are_saved_per_document_with_shingles_and_read_by_position(tmp_path: Path) -> None:
    shard = docs(("a", ARTICLES[0]), ("short", "too short"), ("b", ARTICLES[2]))
    step = KeysDedup()
    run_corpus_step_locally(step, [shard], tmp_path)
    ctx = CorpusContext(tmp_path, 1)
    folder = ctx.shard_dir(0)
    assert np.load(folder / "first_word.npy").tolist() == [3, 11]  # "The", "Astronomers"; "short" has no shingles
    head = Ragged(ctx, "head")
    assert head.get(0).tolist() == step.shingles(shard[0])[:3].tolist()
    assert head.get(2).tolist() == step.shingles(shard[2])[:3].tolist()
    assert not (folder / "shingles.npy").exists()  # no jaccard_threshold: no shingle sets


def test_spin_mode_keeps_its_own_keys_and_no_shingle_sets(tmp_path: Path) -> None:
    shard = docs(("a", ARTICLES[0]), ("b", perturb(ARTICLES[0])))
    run_corpus_step_locally(SpinRobustMinhashDedup(), [shard], tmp_path)
    folder = CorpusContext(tmp_path, 1).shard_dir(0)
    assert not (folder / "shingles.npy").exists()
    assert (folder / "spin_kind.npy").exists() and (folder / "spin_content_sig.npy").exists()
    assert np.load(folder / "spin_content_sig.npy").shape == (2, 128)


def test_fingerprint_guards_decide_against_keys_of_other_parameters(tmp_path: Path) -> None:
    shard = docs(("a", ARTICLES[0]))
    run_corpus_step_locally(SpinRobustMinhashDedup(), [shard], tmp_path)
    other = SpinRobustMinhashDedup(min_shingles=30)
    assert other.fingerprint() != SpinRobustMinhashDedup().fingerprint()
    with pytest.raises(UsageError, match="other parameters"):
        other.decide_phases(CorpusContext(tmp_path, 1))


class WordShingles(MinhashDedup):
    """Overrides ``shingles`` (one hash per distinct lower-cased word): ``collect`` must use it."""

    def shingles(self, doc: Document) -> np.ndarray:
        return np.unique(np.array([xxhash.xxh64_intdigest(w) for w in doc.text.lower().split()], dtype=np.uint64))


def test_batch_shingles_equal_per_document_shingles_and_follow_an_override(tmp_path: Path) -> None:
    batch = docs(("a", ARTICLES[0]), ("e", ""), ("s", "too short"), ("b", ARTICLES[3] + " Ünïcödé ✓"))
    plain = MinhashDedup()
    assert [x.tolist() for x in plain.batch_shingles(batch)] == [plain.shingles(d).tolist() for d in batch]
    override = WordShingles()
    assert [x.tolist() for x in override.batch_shingles(batch)] == [override.shingles(d).tolist() for d in batch]
    # a shuffled copy shares every word with its source: only the override's shingles see them as equal
    words = ARTICLES[1].split(" ")
    random.Random(0).shuffle(words)
    shard = docs(("x", ARTICLES[1]), ("y", " ".join(words)))
    assert len(kept(run_corpus_step_locally(MinhashDedup(), [shard], tmp_path / "plain"))) == 2
    assert [d.id for d in kept(run_corpus_step_locally(WordShingles(), [shard], tmp_path / "words"))] == ["x"]
