"""MinHash LSH: near copies found, unrelated documents kept, deterministic representatives."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import numpy as np
import pytest
import xxhash

from tests.dedup.support import ARTICLES, docs
from thresher.dedup._norm import simplify_text
from thresher.dedup._store import components
from thresher.dedup.minhash import (
    MinhashDedup,
    band_keys,
    minhash_signatures,
    minhash_words,
    ngram_hashes,
    ngram_hashes_batch,
    permutation_parameters,
    xxh64_spans,
)
from thresher.dedup.testing import dropped, kept, run_corpus_step_locally
from thresher.document import Document
from thresher.errors import UsageError
from thresher.steps.base import get_step_class


def near(text: str, k: int = 1) -> str:
    """A near copy: ``k`` words replaced and a short line appended (Jaccard of 5-grams ~0.9)."""
    words = text.split(" ")
    for i in range(1, k + 1):
        words[i * len(words) // (k + 1)] = "different"
    return " ".join(words) + "\nShare this article"


def test_simplify_text_follows_datatrove_rules() -> None:
    # lower case, numbers -> 0 (with decimal separators), punctuation -> space, accents removed
    assert simplify_text("Hello, World!  It's 3.5 or 1,000 km") == "hello world it s 0 or 0 km"
    assert simplify_text("Café «déjà» vu\t—\nnaïve") == "cafe deja vu naive"
    assert simplify_text("  ...  ") == ""


def test_signatures_equal_the_reference_formula() -> None:
    a, b = permutation_parameters(16, seed=1)
    rng = np.random.default_rng(3)
    shingles = [rng.integers(0, 2**64, size=n, dtype=np.uint64) for n in (0, 1, 7, 1500, 3)]
    got = minhash_signatures(shingles, a, b, chunk=64)  # chunks cut through documents
    p = (1 << 61) - 1
    for row, sh in zip(got, shingles):
        if not len(sh):
            assert (row == np.iinfo(np.uint64).max).all()
            continue
        expected = [min(((int(ai) * int(x) + int(bi)) % 2**64) % p for x in sh.tolist()) for ai, bi in zip(a, b)]
        assert row.tolist() == expected


def test_signatures_exact_where_the_mersenne_fold_reaches_the_prime() -> None:
    """(a*x + b) mod 2**64 = 2**64 - 1 folds to p + 7, which needs the final subtraction (value 7)."""
    a, b = permutation_parameters(16, seed=1)
    j = next(j for j, ai in enumerate(a.tolist()) if ai % 2)  # an odd a has an inverse mod 2**64
    x = ((2**64 - 1 - int(b[j])) * pow(int(a[j]), -1, 2**64)) % 2**64
    shingles = [np.array([x, 12345], dtype=np.uint64), np.array([12345], dtype=np.uint64)]
    got = minhash_signatures(shingles, a, b)
    p = (1 << 61) - 1
    assert int(got[0, j]) == 7
    for row, sh in zip(got, shingles):
        expected = [min(((int(ai) * int(v) + int(bi)) % 2**64) % p for v in sh.tolist()) for ai, bi in zip(a, b)]
        assert row.tolist() == expected


def test_ngram_hashes_count_and_order() -> None:
    words = "a b c d e f".split()
    h = ngram_hashes(words, 5)
    assert len(h) == 2 and h[0] != h[1]
    assert len(ngram_hashes(words[:4], 5)) == 0
    assert ngram_hashes(["x", "y"], 2)[0] == ngram_hashes(["x", "y", "z"], 2)[0]


def test_vectorised_xxh64_equals_xxhash_at_every_length() -> None:
    """Every branch of xxh64: 0-3 trailing bytes, a 4-byte word, 0-3 8-byte lanes, 0-40 stripes."""
    rng = random.Random(5)
    data = bytes(rng.randrange(256) for _ in range(4000))
    spans = sorted((rng.randrange(0, 2600), length) for length in [*range(0, 200), 1000, 1279, 1300, 1311])
    starts = np.array([s for s, _ in spans])
    lengths = np.array([n for _, n in spans])
    expected = [xxhash.xxh64_intdigest(data[s : s + n]) for s, n in spans]
    for chunk in (1, 13, 4096):  # chunks cut the spans anywhere
        got = xxh64_spans(np.frombuffer(data, dtype=np.uint8), starts, lengths, chunk=chunk)
        assert got.tolist() == expected
    order = np.random.default_rng(0).permutation(len(spans))  # spans in any order
    got = xxh64_spans(np.frombuffer(data, dtype=np.uint8), starts[order], lengths[order], chunk=50)
    assert got.tolist() == [expected[i] for i in order.tolist()]
    assert len(xxh64_spans(np.zeros(0, dtype=np.uint8), starts[:0], lengths[:0])) == 0


def test_batched_ngram_hashes_equal_the_per_document_ones() -> None:
    unicode = "Ünïcödé — 中文 日本語 and émojis 🙂🙂 in a few more words here"
    texts = [*ARTICLES, "", "one", "four words only here", unicode, near(ARTICLES[1], 3)]
    words = [minhash_words(t) for t in texts]
    for n in (1, 2, 5, 9):
        batched = ngram_hashes_batch(words, n)
        assert len(batched) == len(words)
        for w, got in zip(words, batched):
            assert got.dtype == np.uint64 and got.tolist() == ngram_hashes(w, n).tolist()
    assert [len(x) for x in ngram_hashes_batch([[], ["a"]], 2)] == [0, 0]
    # a "word" holding a space cannot be cut out of the joined text: the joined strings are hashed
    odd = [["a b", "c", "d"], ["x", "y"]]
    assert [x.tolist() for x in ngram_hashes_batch(odd, 2)] == [ngram_hashes(w, 2).tolist() for w in odd]


def test_signatures_bit_identical_to_datatrove(tmp_path: Path) -> None:
    """Same shingles, permutations and minimum as datatrove's MinhashDedupSignature (default config)."""
    pytest.importorskip("spacy")
    minhash = pytest.importorskip("datatrove.pipeline.dedup.minhash")
    theirs = minhash.MinhashDedupSignature(output_folder=str(tmp_path), config=minhash.MinhashConfig())
    texts = [*ARTICLES, near(ARTICLES[0], 2), "Ünïcödé — 中文 text, 3.5 km and 1,000 ﬁles (don't) « quoted » here now"]
    step = MinhashDedup()
    docs_ = [Document(str(i), t) for i, t in enumerate(texts)]
    ours = step.signatures(step.batch_shingles(docs_))
    for text, row in zip(texts, ours):
        expected = np.array(theirs.get_signature(theirs.get_shingles(text)), dtype=np.uint64).reshape(-1)
        assert row.tolist() == expected.tolist()


def test_near_copies_are_dropped_and_unrelated_documents_kept(tmp_path: Path) -> None:
    shard0 = docs(*((f"s0-{i}", t) for i, t in enumerate(ARTICLES)))
    shard1 = docs(("c0", near(ARTICLES[0])), ("c3", near(ARTICLES[3], 2)), ("u", "A short unrelated note."))
    out = run_corpus_step_locally(MinhashDedup(), [shard0, shard1], tmp_path)
    assert [d.id for d in kept(out)] == [f"s0-{i}" for i in range(len(ARTICLES))] + ["u"]
    by_id = {d.id: d for d in dropped(out)}
    assert by_id["c0"].drop.details["duplicate_of"] == "s0-0"  # type: ignore[union-attr]
    assert by_id["c3"].drop.details["duplicate_of"] == "s0-3"  # type: ignore[union-attr]
    assert 0.75 <= by_id["c0"].drop.details["similarity"] < 1.0  # type: ignore[union-attr]
    assert out[0][0].metadata["cluster_size"] == 2 and out[0][0].metadata["cluster_id"] == "s0-0"
    assert out[0][1].metadata["cluster_size"] == 1


def test_representative_is_smallest_shard_then_index(tmp_path: Path) -> None:
    text = ARTICLES[2]
    shards = [
        docs(("a0", ARTICLES[0]), ("a1", ARTICLES[1])),
        docs(("b0", near(text)), ("b1", ARTICLES[4])),
        docs(("c0", text), ("c1", near(text, 2))),
    ]
    out = run_corpus_step_locally(MinhashDedup(), shards, tmp_path)
    assert [d.id for d in kept(out)] == ["a0", "a1", "b0", "b1"]
    assert {d.id: d.drop.details["duplicate_of"] for d in dropped(out)} == {"c0": "b0", "c1": "b0"}  # type: ignore[union-attr]
    assert out[1][0].metadata["cluster_size"] == 3


def test_transitive_copies_form_one_cluster(tmp_path: Path) -> None:
    # A = first 90% of B, C = last 90% of B: A ~ B ~ C (Jaccard ~0.9), A and C further apart (~0.8)
    words = ARTICLES[5].split(" ")
    cut = len(words) // 10
    a, b, c = " ".join(words[:-cut]), " ".join(words), " ".join(words[cut:])
    out = run_corpus_step_locally(MinhashDedup(), [docs(("A", a)), docs(("B", b), ("C", c))], tmp_path)
    assert [d.id for d in kept(out)] == ["A"]
    assert out[0][0].metadata["cluster_size"] == 3


def test_documents_without_shingles_never_match_never_crash(tmp_path: Path) -> None:
    shard0 = docs(("e1", ""), ("w1", "word"), ("f1", "four words only here"), ("s1", "!!! ... ???"))
    shard1 = docs(("e2", ""), ("w2", "word"), ("f2", "four words only here"))
    out = run_corpus_step_locally(MinhashDedup(), [shard0, shard1, []], tmp_path)
    assert len(kept(out)) == 7
    assert all(d.metadata["cluster_size"] == 1 for d in kept(out))


def test_identical_documents_in_different_shards(tmp_path: Path) -> None:
    shards = [docs(("x", ARTICLES[1])), docs(("y", ARTICLES[1])), docs(("z", ARTICLES[1]))]
    out = run_corpus_step_locally(MinhashDedup(), shards, tmp_path)
    assert [d.id for d in kept(out)] == ["x"]
    assert all(d.drop.details == {"duplicate_of": "x", "similarity": 1.0} for d in dropped(out))  # type: ignore[union-attr]


def test_result_independent_of_partitioning(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    shards: list[list[Document]] = []
    for s in range(3):
        shard = []
        for i in range(12):
            base = ARTICLES[int(rng.integers(len(ARTICLES)))]
            text = near(base, int(rng.integers(1, 3))) if rng.random() < 0.7 else f"note {s} {i} " * 3
            shard.append(Document(f"{s}-{i}", text))
        shards.append(shard)
    reference = run_corpus_step_locally(MinhashDedup(), shards, tmp_path / "ref")
    step = MinhashDedup(memory_mb=16, cluster_tasks=3)
    step.ranges = lambda ctx: 3  # type: ignore[method-assign]  # force three hash ranges per band
    other = run_corpus_step_locally(step, shards, tmp_path / "split")
    assert [(d.id, d.drop, d.metadata) for s in reference for d in s] == [
        (d.id, d.drop, d.metadata) for s in other for d in s
    ]
    assert len(dropped(reference)) >= 20


def test_jaccard_verification_rejects_pairs_below_threshold(tmp_path: Path) -> None:
    shards = [docs(("a", ARTICLES[0]), ("b", near(ARTICLES[0])), ("c", ARTICLES[0] + " "))]
    loose = run_corpus_step_locally(MinhashDedup(), shards, tmp_path / "loose")
    strict = run_corpus_step_locally(MinhashDedup(jaccard_threshold=0.99), shards, tmp_path / "strict")
    assert [d.id for d in kept(loose)] == ["a"]
    assert [d.id for d in kept(strict)] == ["a", "b"]  # the near copy is ~0.9 similar, "c" is identical


def test_band_keys_group_equal_bands_only() -> None:
    sig = np.arange(24, dtype=np.uint64).reshape(2, 12)
    sig[1, :4] = sig[0, :4]
    keys = band_keys(sig, bands=3, rows=4)
    assert keys.shape == (3, 2)
    assert keys[0, 0] == keys[0, 1] and keys[1, 0] != keys[1, 1] and keys[2, 0] != keys[2, 1]


def test_components_match_a_plain_union_find() -> None:
    rng = np.random.default_rng(1)
    u = rng.integers(0, 300, size=250).astype(np.uint64) * np.uint64(1000)
    v = rng.integers(0, 300, size=250).astype(np.uint64) * np.uint64(1000)
    nodes, roots = components(u, v)
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b in zip(u.tolist(), v.tolist()):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    assert dict(zip(nodes.tolist(), roots.tolist())) == {n: find(n) for n in parent}


def test_step_is_registered_picklable_and_checks_parameters() -> None:
    assert get_step_class("minhash") is MinhashDedup
    step = pickle.loads(pickle.dumps(MinhashDedup(bands=20, rows=5)))
    assert step.num_perm == 100
    with pytest.raises(UsageError, match="bands"):
        MinhashDedup(bands=0)
    with pytest.raises(UsageError, match="jaccard_threshold"):
        MinhashDedup(jaccard_threshold=1.5)
