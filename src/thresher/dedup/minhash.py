"""MinHash LSH near-duplicate removal (step ``minhash``).

Parameters and their published defaults
---------------------------------------
Shingles are word ``n_grams`` (5), each hashed with 64-bit xxh64 of the words joined by a space
(computed for a batch of documents at once by a numpy implementation of xxh64, :func:`ngram_hashes_batch`);
the words are those datatrove uses: its ``simplify_text`` (see :mod:`thresher.dedup._norm`) then
spaCy's English tokenizer (:mod:`thresher.text`, a spaCy-compatible re-implementation). A signature
has ``bands * rows`` permutations, ``h(x) = ((a*x + b) mod 2**64) mod (2**61 - 1)``, with ``a, b``
drawn from ``numpy.random.RandomState(seed)`` exactly as datatrove's ``MinhashDedupSignature``
does; ``bands=14``, ``rows=8``, ``seed=1`` are datatrove's ``MinhashConfig`` defaults
(``src/datatrove/pipeline/dedup/minhash.py``; FineWeb's setting): the LSH threshold is about
``(1/14)**(1/8) ~= 0.72`` and a pair of Jaccard similarity 0.8 is caught with probability
``1 - (1 - 0.8**8)**14 ~= 0.92``. With the same words, our signatures equal datatrove's.

Phases and files (``W`` = the step's work folder)
-------------------------------------------------
``collect`` (per shard ``s``; memory bounded by the shard): shingles -> signatures, computed in
fixed-size chunks of shingles (vectorised numpy, no per-permutation Python loop). Writes
``W/collect/shard-s/``: ``sig.npy`` (m x bands*rows uint64, documents with shingles only),
``vidx.npy`` (their index in the shard), ``bands.npy`` (bands x m: one 64-bit key per band, a mix
of the band's ``rows`` values; band-major so a band task reads one contiguous row), ``weights.npy``,
``ids.arrow``, ``meta.json``; with ``jaccard_threshold`` also each document's sorted shingle set.

``decide``:

1. ``bands``: ``bands * R`` tasks, one per (band, hash range). ``R`` is chosen from the number of
   collected documents so that one task holds at most ``memory_mb`` (about 48 bytes per document).
   A task reads its band's keys from every shard, keeps those in its hash range, sorts by
   ``(key, position)`` and writes, for each bucket of two or more documents, the star edges
   ``(first, other)``: ``k - 1`` edges for a bucket of ``k`` (never all pairs). With
   ``jaccard_threshold`` an edge is kept only if the true Jaccard similarity of the two shingle sets
   reaches it (a member rejected by the bucket's first document is also tried against up to 8
   other members, see :meth:`MinhashDedup.verify_edges`).
2. ``cluster``: ``cluster_tasks`` tasks; task ``c`` takes the edge files ``t`` with
   ``t % cluster_tasks == c`` and runs union-find (vectorised hook-and-shortcut, see
   :func:`thresher.dedup._store.components`) on them, writing only a spanning forest: one edge
   ``(node, smallest node of its component)`` per non-root node. The same pair found in 14 bands, or
   a bucket of 1,000 copies seen in every band, collapses to at most one edge per document here.
3. ``merge``: one task unions the forests (each at most one edge per duplicate document, so its
   input is bounded by ``cluster_tasks x duplicates``, not by candidate pairs) and writes the
   decision file: for every document of a cluster of 2+, the smallest position of the cluster (the
   kept document: input shard, then place in shard) and the cluster size.

``apply`` (per shard): marks duplicates with ``duplicate_of`` and ``similarity`` (the fraction of
equal signature values with the kept document, the MinHash estimate of their Jaccard similarity);
kept documents get ``cluster_id`` and ``cluster_size``.

Every file is written with write-then-rename and depends only on the task's inputs, so rerunning any
task (after a crash) gives byte-identical files. Documents with fewer than ``n_grams`` words have no
shingles: they get no signature and are never matched.

Extension points for subclasses (e.g. the spin-robust mode, :mod:`thresher.dedup.spin`), all public:

- :meth:`MinhashDedup.shingles` (one document -> 1-D uint64 array; signatures, bands and clusters
  only see those arrays), :meth:`MinhashDedup.batch_shingles` (what ``collect`` calls: the batch's
  documents hashed together, or :meth:`~MinhashDedup.shingles` per document when a subclass
  overrides it) and :meth:`MinhashDedup.signatures`;
- :meth:`MinhashDedup.collect_keys` (per-document extra keys, called once per document with
  shingles, in input order) and :meth:`MinhashDedup.save_keys` (writes them per shard; default:
  ragged arrays read back with :class:`Ragged`); :meth:`MinhashDedup.store_shingle_sets` (whether
  ``shingles.npy`` is written);
- :meth:`MinhashDedup.verifies_candidates`, :meth:`MinhashDedup.verify_edges` (a band task's star
  edges in, verified edges out; by default each star edge through
  :meth:`MinhashDedup.pair_matcher`, and a member rejected by its bucket's head tried against up
  to ``bucket_retries`` other members) and :meth:`MinhashDedup.pair_matcher` (the pairwise test);
- :meth:`MinhashDedup.fingerprint` (parameters recorded in ``meta.json`` and checked by the decide
  phases).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import xxhash

from thresher.dedup._cluster import ClusterDedupStep, doc_weight
from thresher.dedup._norm import simplify_text
from thresher.dedup._store import (
    IdLookup,
    components,
    decisions_from_groups,
    load_json,
    load_npy,
    save_ids,
    save_json,
    save_npy,
    split_pos,
)
from thresher.document import Document
from thresher.errors import UsageError
from thresher.steps.base import Batch, CorpusContext, register
from thresher.text.words import split_words

MERSENNE_61 = np.uint64((1 << 61) - 1)
_SHIFT_61 = np.uint64(61)
_MAX64 = np.uint64(0xFFFFFFFFFFFFFFFF)
#: bytes a band task holds per document of its range (key + position + sort index + copies).
BAND_BYTES_PER_DOC = 48
#: shingles hashed per signature chunk: (chunk x permutations) uint64 buffers stay cache-sized.
SIGNATURE_CHUNK = 512
#: documents whose n-grams are hashed together in ``collect`` (:meth:`MinhashDedup.batch_shingles`)
SHINGLE_BATCH_DOCS = 128
#: shingles gathered before a signature batch is computed in ``collect``
SIGNATURE_BATCH_SHINGLES = 64 * SIGNATURE_CHUNK


# -- word splitting ----------------------------------------------------------------------------------


def minhash_words(text: str) -> list[str]:
    """The words datatrove's MinHash shingles are made of: ``simplify_text`` then spaCy's English words.

    datatrove's ``MinhashDedupSignature`` tokenizes with ``load_word_tokenizer("en")`` (spaCy) whatever
    the document's language; :func:`thresher.text.words.split_words` gives the same words.
    """
    return split_words(simplify_text(text))


def ngram_hashes(words: Sequence[str], n: int) -> np.ndarray:
    """xxh64 of each word n-gram joined by single spaces (datatrove's shingle hash), as uint64."""
    count = len(words) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    grams = map(" ".join, zip(*(words[i : i + count] for i in range(n))))
    return np.fromiter(map(xxhash.xxh64_intdigest, grams), dtype=np.uint64, count=count)


# -- n-gram hashing, vectorised -----------------------------------------------------------------------
#
# xxh64 (seed 0) of many byte strings at once, written with numpy from the published algorithm
# (Cyan4973/xxHash, ``XXH64``; the strings are the UTF-8 n-grams of a batch of documents, so the
# results equal ``xxhash.xxh64_intdigest(gram)`` bit for bit, as the tests check). Every n-gram is
# a slice ``(start, length)`` of one buffer holding the batch's words joined by single spaces. The
# 8-byte lanes are read from ``words64``, the buffer's unaligned 64-bit words copied to an aligned
# array (``words64[i]`` = bytes ``i .. i+7``), so each read is one aligned gather. Inputs differ in
# length, so each step of the algorithm runs on all n-grams of a chunk and a mask keeps the result
# where the step applies (an xor/and/xor blend: numpy's masked copies are slower); scratch arrays
# are reused from chunk to chunk (fresh ones of this size cost page faults).

_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P3 = np.uint64(0x165667B19E3779F9)
_P4 = np.uint64(0x85EBCA77C2B2AE63)
_P5 = np.uint64(0x27D4EB2F165667C5)
_S = [np.uint64(i) for i in range(65)]
_LOW32 = np.uint64(0xFFFFFFFF)
_LOW8 = np.uint64(0xFF)
_ACC_INIT = np.array(
    [(0x9E3779B185EBCA87 + 0xC2B2AE3D27D4EB4F) % 2**64, 0xC2B2AE3D27D4EB4F, 0, 2**64 - 0x9E3779B185EBCA87],
    dtype=np.uint64,
).reshape(4, 1)
_ACC_ROT = np.array([1, 7, 12, 18], dtype=np.uint64).reshape(4, 1)
_ACC_ROT_BACK = np.uint64(64) - _ACC_ROT
_OFF4 = np.array([0, 8, 16, 24], dtype=np.int64).reshape(4, 1)
_OFF3 = np.array([0, 8, 16], dtype=np.int64).reshape(3, 1)
_BYTE_SHIFT3 = np.array([0, 8, 16], dtype=np.uint64).reshape(3, 1)
#: n-grams hashed together by :func:`xxh64_spans` (its scratch arrays of this many uint64 stay cache-sized)
XXH_CHUNK = 8192


class _Scratch:
    """Reusable work arrays of one thread for :func:`xxh64_spans` (``rows`` n-grams per chunk)."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.u = np.empty((7, rows), dtype=np.uint64)  # h, nh, tmp, mask, k, w, rem
        self.m3 = np.empty((2, 3, rows), dtype=np.uint64)  # up to 3 lanes or bytes at once
        self.pos = np.empty(rows, dtype=np.int64)
        self.idx = np.empty((3, rows), dtype=np.int64)
        self.words = np.empty(0, dtype=np.uint64)

    def words64(self, data: np.ndarray) -> np.ndarray:
        """``out[i]`` = the little-endian 64-bit word at byte ``i`` of ``data`` (zero-padded), aligned."""
        n = len(data) + 24
        if len(self.words) < n:
            self.words = np.empty(max(n, 2 * len(self.words)), dtype=np.uint64)
        padded = np.zeros(n + 8, dtype=np.uint8)
        padded[: len(data)] = data
        out = self.words[:n]
        np.copyto(out, np.ndarray((n,), dtype="<u8", buffer=padded, strides=(1,)))
        return out


_scratch = threading.local()


def _rotl(x: np.ndarray, r: int, tmp: np.ndarray) -> None:
    np.right_shift(x, _S[64 - r], out=tmp)
    np.left_shift(x, _S[r], out=x)
    np.bitwise_or(x, tmp, out=x)


def _round0(k: np.ndarray, tmp: np.ndarray) -> None:
    """``k = rotl(k * P2, 31) * P1`` in place (xxh64's round with a zero accumulator)."""
    np.multiply(k, _P2, out=k)
    _rotl(k, 31, tmp)
    np.multiply(k, _P1, out=k)


def xxh64_spans(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, chunk: int = XXH_CHUNK) -> np.ndarray:
    """xxh64 (seed 0) of ``data[starts[i] : starts[i] + lengths[i]]`` for every ``i``, as uint64.

    ``data`` is a uint8 array. Spans are taken in chunks of ``chunk``; each chunk copies the stretch
    of ``data`` its spans cover, so spans in text order (as n-grams are) keep that copy small.
    """
    m = len(starts)
    out = np.empty(m, dtype=np.uint64)
    if m == 0:
        return out
    scratch = getattr(_scratch, "value", None)
    if scratch is None or scratch.rows < chunk:
        scratch = _scratch.value = _Scratch(chunk)
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    for lo in range(0, m, chunk):
        hi = min(m, lo + chunk)
        first = int(starts[lo:hi].min())
        last = int((starts[lo:hi] + lengths[lo:hi]).max())
        words = scratch.words64(data[first:last])
        _xxh64_chunk(scratch, words, starts[lo:hi] - first, lengths[lo:hi], out[lo:hi])
    return out


def _blend(h: np.ndarray, new: np.ndarray, mask: np.ndarray, tmp: np.ndarray) -> None:
    """``h = new`` where ``mask`` is all ones, unchanged where it is zero."""
    np.bitwise_xor(h, new, out=tmp)
    np.bitwise_and(tmp, mask, out=tmp)
    np.bitwise_xor(h, tmp, out=h)


def _set_mask(mask: np.ndarray, active: np.ndarray) -> None:
    np.subtract(_S[0], active.view(np.uint8), out=mask, dtype=np.uint64)


def _xxh64_chunk(sc: _Scratch, words: np.ndarray, start: np.ndarray, length: np.ndarray, out: np.ndarray) -> None:
    c = len(start)
    h, nh, tmp, mask, k, w, rem = (sc.u[j, :c] for j in range(7))
    pos = sc.pos[:c]
    h.fill(_P5)
    long_ = np.flatnonzero(length >= 32)
    if len(long_):
        h[long_] = _stripes(words, start[long_], length[long_] >> 5)
    np.add(h, length.view(np.uint64), out=h)
    lv = length.view(np.uint64)
    np.bitwise_and(lv, _S[31], out=rem)  # bytes left after the stripes
    np.subtract(length, rem.view(np.int64), out=pos)
    np.add(pos, start, out=pos)  # where they start
    np.right_shift(rem, _S[3], out=w)  # 8-byte lanes left (0-3)
    lanes = int(w.max())
    if lanes:
        idx = sc.idx[:lanes, :c]
        np.add(pos, _OFF3[:lanes], out=idx)
        kk = sc.m3[0, :lanes, :c]
        np.take(words, idx, out=kk, mode="clip")
        t3 = sc.m3[1, :lanes, :c]
        _round0(kk, t3)
        for t in range(lanes):
            _set_mask(mask, w > _S[t])
            np.bitwise_xor(h, kk[t], out=nh)
            _rotl(nh, 27, tmp)
            np.multiply(nh, _P1, out=nh)
            np.add(nh, _P4, out=nh)
            _blend(h, nh, mask, tmp)
    np.left_shift(w, _S[3], out=w)
    np.add(pos, w.view(np.int64), out=pos)
    np.take(words, pos, out=w, mode="clip")  # the last 0-7 bytes, in the low bytes of one word
    np.bitwise_and(rem, _S[7], out=rem)
    four = rem >= _S[4]
    if four.any():
        _set_mask(mask, four)
        np.bitwise_and(w, _LOW32, out=k)
        np.multiply(k, _P1, out=k)
        np.bitwise_xor(h, k, out=nh)
        _rotl(nh, 23, tmp)
        np.multiply(nh, _P2, out=nh)
        np.add(nh, _P3, out=nh)
        _blend(h, nh, mask, tmp)
        np.bitwise_and(mask, _S[32], out=k)
        np.right_shift(w, k, out=w)
    np.bitwise_and(rem, _S[3], out=rem)
    nbytes = int(rem.max())
    if nbytes:
        bb = sc.m3[0, :nbytes, :c]
        np.right_shift(w, _BYTE_SHIFT3[:nbytes], out=bb)
        np.bitwise_and(bb, _LOW8, out=bb)
        np.multiply(bb, _P5, out=bb)
        for i in range(nbytes):
            _set_mask(mask, rem > _S[i])
            np.bitwise_xor(h, bb[i], out=nh)
            _rotl(nh, 11, tmp)
            np.multiply(nh, _P1, out=nh)
            _blend(h, nh, mask, tmp)
    # avalanche
    np.right_shift(h, _S[33], out=tmp)
    np.bitwise_xor(h, tmp, out=h)
    np.multiply(h, _P2, out=h)
    np.right_shift(h, _S[29], out=tmp)
    np.bitwise_xor(h, tmp, out=h)
    np.multiply(h, _P3, out=h)
    np.right_shift(h, _S[32], out=tmp)
    np.bitwise_xor(h, tmp, out=out)


def _stripes(words: np.ndarray, start: np.ndarray, stripes: np.ndarray) -> np.ndarray:
    """The xxh64 state of inputs of 32 bytes or more after their 32-byte stripes (4 accumulators
    merged), for inputs starting at ``start`` with ``stripes`` stripes each."""
    n = len(start)
    top = int(stripes.max())
    order = None
    if top > 1:  # longest first, so that the inputs still running are a prefix
        key = top - stripes
        order = np.argsort(key.astype(np.uint8) if top < 256 else key, kind="stable")
        start, stripes = start[order], stripes[order]
        running = np.searchsorted(-stripes, -np.arange(1, top + 1), side="right")
    acc = np.repeat(_ACC_INIT, n, axis=1)
    tmp = np.empty((4, n), dtype=np.uint64)
    lane = np.empty((4, n), dtype=np.uint64)
    idx = np.empty((4, n), dtype=np.int64)
    for s in range(top):
        c = n if s == 0 else int(running[s])
        np.add(start[:c], _OFF4 + 32 * s, out=idx[:, :c])
        np.take(words, idx[:, :c], out=lane[:, :c], mode="clip")
        np.multiply(lane[:, :c], _P2, out=lane[:, :c])
        a = acc[:, :c]
        np.add(a, lane[:, :c], out=a)
        _rotl(a, 31, tmp[:, :c])
        np.multiply(a, _P1, out=a)
    np.left_shift(acc, _ACC_ROT, out=lane)
    np.right_shift(acc, _ACC_ROT_BACK, out=tmp)
    np.bitwise_or(lane, tmp, out=lane)
    h = np.add.reduce(lane, axis=0)
    _round0(acc, tmp)
    for j in range(4):
        np.bitwise_xor(h, acc[j], out=h)
        np.multiply(h, _P1, out=h)
        np.add(h, _P4, out=h)
    if order is None:
        return h
    out = np.empty(n, dtype=np.uint64)
    out[order] = h
    return out


def ngram_hashes_batch(word_lists: Sequence[Sequence[str]], n: int) -> list[np.ndarray]:
    """:func:`ngram_hashes` of each word list (same values), computed for the whole batch at once.

    The words are joined by single spaces and encoded once (UTF-8, so a lone surrogate raises
    ``UnicodeEncodeError`` as in :func:`ngram_hashes`); each n-gram is the span from its first word's
    start to its last word's end, hashed by :func:`xxh64_spans`.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1 (got {n})")
    counts = np.fromiter(map(len, word_lists), dtype=np.int64, count=len(word_lists))
    grams = np.maximum(counts - n + 1, 0)
    if not grams.any():
        return [np.zeros(0, dtype=np.uint64) for _ in word_lists]
    raw = b" ".join([" ".join(w).encode("utf-8") for w in word_lists if w])
    data = np.frombuffer(raw, dtype=np.uint8)
    spaces = np.flatnonzero(data == 32)
    total_words = int(counts.sum())
    if len(spaces) != total_words - 1:  # a word holding a space: hash the joined strings instead
        return [ngram_hashes(w, n) for w in word_lists]
    word_start = np.empty(total_words, dtype=np.int64)
    word_start[0] = 0
    word_start[1:] = spaces + 1
    word_end = np.empty(total_words, dtype=np.int64)
    word_end[:-1] = spaces
    word_end[-1] = len(raw)
    word_off = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=word_off[1:])
    gram_off = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(grams, out=gram_off[1:])
    first = np.arange(int(gram_off[-1]), dtype=np.int64) + np.repeat(word_off - gram_off[:-1], grams)
    start = word_start[first]
    hashes = xxh64_spans(data, start, word_end[first + (n - 1)] - start)
    return np.split(hashes, gram_off[1:-1])


# -- signatures --------------------------------------------------------------------------------------


def permutation_parameters(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``a`` and ``b`` of each permutation, drawn as datatrove's ``MinhashDedupSignature`` draws them."""
    gen = np.random.RandomState(seed)
    a = gen.randint(1, MERSENNE_61, dtype=np.uint64, size=(1, num_perm))
    b = gen.randint(0, MERSENNE_61, dtype=np.uint64, size=(1, num_perm))
    return a.reshape(-1), b.reshape(-1)


def minhash_signatures(
    shingles: Sequence[np.ndarray], a: np.ndarray, b: np.ndarray, chunk: int = SIGNATURE_CHUNK
) -> np.ndarray:
    """MinHash signatures ``(len(shingles), len(a))`` of a batch of shingle arrays.

    Each value is ``min over shingles x of ((a*x + b) mod 2**64) mod (2**61 - 1)``. The batch's
    shingles are concatenated and processed in chunks of ``chunk`` rows whatever the documents'
    sizes (memory ``2 x chunk x len(a) x 8`` bytes); the Mersenne modulus is a shift-and-add fold
    instead of a division. (Measured alternatives that were not faster on 5 KB pages: shingle-major
    buffers with ``reduceat`` along axis 0, chunks of 256/1024/2048 rows, de-duplicating each
    document's shingles first: 4% of them repeat.) Documents without shingles get all-ones rows (never used).
    """
    n, k = len(shingles), len(a)
    out = np.full((n, k), _MAX64, dtype=np.uint64)
    lengths = np.fromiter((len(s) for s in shingles), dtype=np.int64, count=n)
    total = int(lengths.sum())
    if total == 0:
        return out
    flat = np.concatenate([np.asarray(s, dtype=np.uint64).reshape(-1) for s in shingles])
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    docs = np.flatnonzero(lengths > 0)
    starts, ends = offsets[docs], offsets[docs + 1]
    rows = min(chunk, total)
    # permutation-major buffers (k x rows): every numpy loop runs over contiguous shingles; a and b
    # are repeated along the rows once, since same-shape operands run faster than a column broadcast
    a_full = np.repeat(a.reshape(-1, 1), rows, axis=1)
    b_full = np.repeat(b.reshape(-1, 1), rows, axis=1)
    x_buf = np.empty((k, rows), dtype=np.uint64)
    t_buf = np.empty((k, rows), dtype=np.uint64)
    for lo in range(0, total, chunk):
        hi = min(lo + chunk, total)
        x, t = x_buf[:, : hi - lo], t_buf[:, : hi - lo]
        np.multiply(a_full[:, : hi - lo], flat[lo:hi], out=x)  # wraps mod 2**64, like datatrove's numpy code
        x += b_full[:, : hi - lo]
        np.bitwise_and(x, MERSENNE_61, out=t)  # x mod (2**61-1) = (x & p) + (x >> 61), then one
        x >>= _SHIFT_61  # conditional subtraction of p, needed only where that sum reaches p (a
        x += t  # chance of ~8 / 2**61 per value): checked with one max() instead of two passes
        if x.max() >= MERSENNE_61:
            np.subtract(x, MERSENNE_61, out=t)  # min(y, y - p) in wrapping arithmetic
            np.minimum(x, t, out=x)
        i0 = int(np.searchsorted(ends, lo, side="right"))
        i1 = int(np.searchsorted(starts, hi, side="left"))
        seg = np.maximum(starts[i0:i1], lo) - lo
        mins = np.minimum.reduceat(x, seg, axis=1).T
        target = docs[i0:i1]
        out[target] = np.minimum(out[target], mins)
    return out


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per band: a multiply-xorshift mix of the band's ``rows`` values, ``(bands, n)``."""
    sig = signatures.reshape(len(signatures), bands, rows)
    key = np.full((len(signatures), bands), np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64)
    mult = np.uint64(0xBF58476D1CE4E5B9)
    for j in range(rows):
        key ^= sig[:, :, j]
        key *= mult
        key ^= key >> np.uint64(31)
    return np.ascontiguousarray(key.T)


# -- the step ----------------------------------------------------------------------------------------


@register
class MinhashDedup(ClusterDedupStep):
    """Drop near-duplicate documents found by MinHash LSH, keeping the first of each cluster."""

    name = "minhash"
    #: bucket members a candidate rejected by its bucket's head is also compared with (:meth:`verify_edges`)
    bucket_retries: ClassVar[int] = 8
    #: whether those retries also pair the candidate with members the head rejected
    retry_rejected: ClassVar[bool] = True

    def __init__(
        self,
        n_grams: int = 5,
        bands: int = 14,
        rows: int = 8,
        seed: int = 1,
        jaccard_threshold: float | None = None,
        memory_mb: int = 1024,
        cluster_tasks: int = 4,
    ) -> None:
        for label, value in (("n_grams", n_grams), ("bands", bands), ("rows", rows)):
            if value < 1:
                raise UsageError(f"minhash: {label} must be >= 1 (got {value})")
        if jaccard_threshold is not None and not 0.0 < jaccard_threshold <= 1.0:
            raise UsageError(f"minhash: jaccard_threshold must be in (0, 1] or null (got {jaccard_threshold})")
        if memory_mb < 16:
            raise UsageError(f"minhash: memory_mb must be at least 16 (got {memory_mb})")
        if cluster_tasks < 1:
            raise UsageError(f"minhash: cluster_tasks must be >= 1 (got {cluster_tasks})")
        self.n_grams = n_grams
        self.bands = bands
        self.rows = rows
        self.seed = seed
        self.jaccard_threshold = jaccard_threshold
        self.memory_mb = memory_mb
        self.cluster_tasks = cluster_tasks
        self._params: tuple[np.ndarray, np.ndarray] | None = None
        self._plan: dict[Path, int] = {}

    @property
    def num_perm(self) -> int:
        """Permutations per signature (``bands * rows``)."""
        return self.bands * self.rows

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_params"] = None
        state["_plan"] = {}
        return state

    # -- shingles and signatures (override points) ------------------------------------------------------

    def shingles(self, doc: Document) -> np.ndarray:
        """The document's shingle hashes (1-D uint64): xxh64 of its word ``n_grams``. Override to change."""
        return ngram_hashes(minhash_words(doc.text), self.n_grams)

    def batch_shingles(self, docs: Sequence[Document]) -> list[np.ndarray]:
        """:meth:`shingles` of each document of a batch (what ``collect`` calls). When :meth:`shingles`
        is not overridden, the batch's n-grams are hashed together (:func:`ngram_hashes_batch`, same
        values, about twice as fast); a subclass that overrides :meth:`shingles` gets it per document."""
        if type(self).shingles is not MinhashDedup.shingles:
            return [self.shingles(doc) for doc in docs]
        out: list[np.ndarray] = []
        for lo in range(0, len(docs), SHINGLE_BATCH_DOCS):
            group = docs[lo : lo + SHINGLE_BATCH_DOCS]
            out.extend(ngram_hashes_batch([minhash_words(doc.text) for doc in group], self.n_grams))
        return out

    def signatures(self, shingles: Sequence[np.ndarray]) -> np.ndarray:
        """Signatures ``(len(shingles), num_perm)`` of a batch of shingle arrays."""
        if self._params is None:
            self._params = permutation_parameters(self.num_perm, self.seed)
        return minhash_signatures(shingles, *self._params)

    # -- collect ------------------------------------------------------------------------------------------

    def collect(self, ctx: CorpusContext, shard: int, batches: Iterable[Batch]) -> None:
        sig_parts: list[np.ndarray] = []
        valid: list[int] = []
        weights: list[int] = []
        ids: list[str] = []
        sets: list[np.ndarray] | None = [] if self.store_shingle_sets() else None
        extra: dict[str, list[np.ndarray]] = {}
        pending: list[np.ndarray] = []
        pending_rows = 0
        for batch in batches:
            batch = batch if isinstance(batch, list) else list(batch)
            for doc, sh in zip(batch, self.batch_shingles(batch)):
                if len(sh):
                    valid.append(len(ids))
                    pending.append(sh)
                    pending_rows += len(sh)
                    if sets is not None:
                        sets.append(np.unique(sh))
                    keys = self.collect_keys(doc, sh)
                    if keys:
                        if extra and keys.keys() != extra.keys():
                            raise ValueError(f"{self.name}: collect_keys must return the same names for every document")
                        for key, value in keys.items():
                            extra.setdefault(key, []).append(value)
                ids.append(doc.id)
                weights.append(doc_weight(doc))
                if pending_rows >= SIGNATURE_BATCH_SHINGLES:
                    sig_parts.append(self.signatures(pending))
                    pending, pending_rows = [], 0
        if pending:
            sig_parts.append(self.signatures(pending))
        sigs = np.concatenate(sig_parts) if sig_parts else np.zeros((0, self.num_perm), dtype=np.uint64)
        out = ctx.shard_dir(shard)
        save_npy(out / "sig.npy", sigs)
        save_npy(out / "vidx.npy", np.array(valid, dtype=np.uint32))
        save_npy(out / "bands.npy", band_keys(sigs, self.bands, self.rows))
        save_npy(out / "weights.npy", np.array(weights, dtype=np.uint32))
        if sets is not None:
            save_ragged(out, "shingles", sets, np.uint64)
        self.save_keys(out, extra, len(valid))
        save_ids(out / "ids.arrow", ids)
        save_json(out / "meta.json", {"docs": len(ids), "with_shingles": len(valid), **self.fingerprint()})

    def store_shingle_sets(self) -> bool:
        """Whether ``collect`` writes each document's sorted shingle set (``shingles.npy``, read by
        :meth:`pair_matcher`). Default: with ``jaccard_threshold``. A subclass that keeps its own keys
        for verification returns False and saves the disk space."""
        return self.jaccard_threshold is not None

    def collect_keys(self, doc: Document, shingles: np.ndarray) -> dict[str, np.ndarray]:
        """Extra per-document keys for a subclass's verification: ``{name: 1-D array}``.

        Called by ``collect`` once per document that has shingles, in input order (row ``i`` of
        the shard's ``vidx.npy``), with the document's shingles; every call must return the same
        names. The arrays are gathered per name and handed to :meth:`save_keys`. Default: none.
        """
        return {}

    def save_keys(self, folder: Path, keys: dict[str, list[np.ndarray]], n: int) -> None:
        """Write the gathered :meth:`collect_keys` of one shard (``n`` documents with shingles) into
        ``folder``. Default: each name as a ragged array (``<name>.npy`` + ``<name>_offsets.npy``,
        read back with :class:`Ragged`). Override to transform keys first (e.g. into signatures)."""
        for key, arrays in keys.items():
            save_ragged(folder, key, arrays, arrays[0].dtype if arrays else np.uint64)

    def fingerprint(self) -> dict[str, Any]:
        """The parameters the collected keys depend on: recorded in ``meta.json`` by ``collect`` and
        checked by the decide phases (a subclass adds its own with ``{**super().fingerprint(), ...}``)."""
        return {
            "n_grams": self.n_grams,
            "bands": self.bands,
            "rows": self.rows,
            "seed": self.seed,
            "jaccard": self.jaccard_threshold is not None,
        }

    # -- decide -------------------------------------------------------------------------------------------

    def ranges(self, ctx: CorpusContext) -> int:
        """Hash ranges per band, so that one band task holds at most ``memory_mb`` (read from collect)."""
        cached = self._plan.get(ctx.workdir)
        if cached is not None:
            return cached
        total = 0
        expected = self.fingerprint()
        for shard in range(ctx.n_shards):
            meta_path = ctx.workdir / "collect" / f"shard-{shard:05d}" / "meta.json"
            if not meta_path.exists():
                raise FileNotFoundError(f"minhash: {meta_path} is missing; run collect for shard {shard} first")
            meta = load_json(meta_path)
            if any(meta.get(k) != v for k, v in expected.items()):
                raise UsageError(
                    f"minhash: {meta_path} was collected with other parameters; "
                    f"delete the work folder {ctx.workdir} and run again"
                )
            total += meta["with_shingles"]
        n_ranges = max(1, math.ceil(total * BAND_BYTES_PER_DOC / (self.memory_mb * 2**20)))
        self._plan[ctx.workdir] = n_ranges
        return n_ranges

    def decide_phases(self, ctx: CorpusContext) -> list[tuple[str, int]]:
        n_edge_files = self.bands * self.ranges(ctx)
        return [("bands", n_edge_files), ("cluster", min(self.cluster_tasks, n_edge_files)), ("merge", 1)]

    def decide(self, ctx: CorpusContext, phase: str, task: int) -> None:
        if phase == "bands":
            self._decide_band(ctx, task)
        elif phase == "cluster":
            self._decide_cluster(ctx, task)
        elif phase == "merge":
            self._decide_merge(ctx)
        else:
            raise ValueError(f"minhash has no decide phase {phase!r}")

    def _decide_band(self, ctx: CorpusContext, task: int) -> None:
        n_ranges = self.ranges(ctx)
        band, part = divmod(task, n_ranges)
        keys_parts, pos_parts = [], []
        for shard in range(ctx.n_shards):
            folder = ctx.shard_dir(shard)
            keys = np.array(load_npy(folder / "bands.npy", mmap=True)[band])
            pos = (np.uint64(shard) << np.uint64(32)) | load_npy(folder / "vidx.npy").astype(np.uint64)
            if n_ranges > 1:
                sel = keys % np.uint64(n_ranges) == np.uint64(part)
                keys, pos = keys[sel], pos[sel]
            keys_parts.append(keys)
            pos_parts.append(pos)
        keys = np.concatenate(keys_parts) if keys_parts else np.zeros(0, dtype=np.uint64)
        pos = np.concatenate(pos_parts) if pos_parts else np.zeros(0, dtype=np.uint64)
        order = np.lexsort((pos, keys))
        keys, pos = keys[order], pos[order]
        same = keys[1:] == keys[:-1]
        # star edges: each document that shares the previous one's key joins its bucket's first document
        first = np.maximum.accumulate(np.where(np.concatenate([[True], ~same]), np.arange(len(keys)), 0))
        members = np.flatnonzero(np.concatenate([[False], same]))
        edges = np.stack([pos[first[members]], pos[members]], axis=1) if len(members) else np.zeros((0, 2), np.uint64)
        if self.verifies_candidates() and len(edges):
            edges = self.verify_edges(ctx, edges)
        save_npy(ctx.phase_dir("bands") / f"edges-{task:05d}.npy", edges.astype(np.uint64))

    # -- verification of candidate pairs (override points) ------------------------------------------------

    def verifies_candidates(self) -> bool:
        """Whether band tasks pass their candidate edges through :meth:`verify_edges` (default: with
        ``jaccard_threshold``)."""
        return self.jaccard_threshold is not None

    def verify_edges(self, ctx: CorpusContext, edges: np.ndarray) -> np.ndarray:
        """The verified edges of one band task: the candidate pairs judged duplicates, ``(m, 2)`` uint64.

        ``edges`` (``(k, 2)`` uint64 positions) are the star edges of the task's LSH buckets: for each
        bucket, consecutive rows ``(head, member)``, the head being the bucket's first document (a
        document is in one bucket per band, so the head identifies the bucket and the rows show all
        of its members). Every star edge is tested with :meth:`pair_matcher` and kept if it passes.
        A member the head rejects is then compared with up to ``bucket_retries`` members already
        accepted into the head's cluster (in order): if one matches, its star edge is kept. If none
        does (and ``retry_rejected``), it is compared with up to ``bucket_retries`` earlier members
        of the bucket that were not accepted: a match gives the edge ``(earlier member, member)``.
        So a bucket headed by a page that is no duplicate of its members (a site's template page,
        the source of a spun copy) does not hide the true pairs among them.
        """
        nodes, inverse = np.unique(edges.reshape(-1), return_inverse=True)
        pairs = inverse.reshape(-1, 2)
        match = self.pair_matcher(ctx, nodes)
        keep = np.asarray(match(pairs[:, 0], pairs[:, 1]), dtype=bool)
        extra: list[tuple[int, int]] = []
        retries = self.bucket_retries
        if retries >= 1 and not keep.all():
            heads = pairs[:, 0]
            bounds = np.append(np.flatnonzero(np.concatenate([[True], heads[1:] != heads[:-1]])), len(pairs))
            for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
                if keep[lo:hi].all():
                    continue
                accepted = pairs[lo:hi, 1][keep[lo:hi]].tolist()
                rejected: list[int] = []
                for e in range(lo, hi):
                    if keep[e]:
                        continue
                    member = int(pairs[e, 1])
                    if accepted and self._any_match(match, member, accepted[:retries]) is not None:
                        keep[e] = True
                        accepted.append(member)
                        continue
                    if self.retry_rejected and rejected:
                        other = self._any_match(match, member, rejected[:retries])
                        if other is not None:
                            extra.append((other, member))
                    rejected.append(member)
        kept = nodes[pairs[keep]].reshape(-1, 2)
        if extra:
            kept = np.concatenate([kept, nodes[np.array(extra, dtype=np.int64)]])
        return kept.astype(np.uint64)

    @staticmethod
    def _any_match(match: Callable[[np.ndarray, np.ndarray], np.ndarray], member: int, others: list[int]) -> int | None:
        """The first of ``others`` that ``match`` pairs with ``member`` (all tested in one call), or None."""
        hits = np.asarray(match(np.full(len(others), member, dtype=np.int64), np.array(others, dtype=np.int64)))
        return others[int(np.argmax(hits))] if hits.any() else None

    def pair_matcher(self, ctx: CorpusContext, nodes: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """The pairwise test of :meth:`verify_edges` for one band task.

        ``nodes`` are the sorted positions of the task's candidate documents; the returned function
        takes two equal-length integer arrays ``i, j`` (indices into ``nodes``) and returns a bool
        array: whether documents ``nodes[i[k]]`` and ``nodes[j[k]]`` are duplicates. It must be a pure
        function of the two documents' keys. Default: the exact Jaccard similarity of the two
        shingle sets reaches ``jaccard_threshold``.
        """
        sets = ShingleSets(ctx)
        threshold = self.jaccard_threshold if self.jaccard_threshold is not None else 0.0
        node_list = nodes.tolist()

        def match(i: np.ndarray, j: np.ndarray) -> np.ndarray:
            out = np.zeros(len(i), dtype=bool)
            for k, (x, y) in enumerate(zip(np.asarray(i).tolist(), np.asarray(j).tolist())):
                out[k] = set_jaccard(sets.get(node_list[x]), sets.get(node_list[y])) >= threshold
            return out

        return match

    def _decide_cluster(self, ctx: CorpusContext, task: int) -> None:
        n_files = self.bands * self.ranges(ctx)
        n_tasks = min(self.cluster_tasks, n_files)
        folder = ctx.workdir / "decide" / "bands"
        parts = [load_npy(folder / f"edges-{t:05d}.npy") for t in range(task, n_files, n_tasks)]
        edges = np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.uint64)
        nodes, roots = components(edges[:, 0], edges[:, 1])
        child = nodes != roots
        forest = np.stack([nodes[child], roots[child]], axis=1)
        save_npy(ctx.phase_dir("cluster") / f"forest-{task:03d}.npy", forest)

    def _decide_merge(self, ctx: CorpusContext) -> None:
        n_tasks = min(self.cluster_tasks, self.bands * self.ranges(ctx))
        folder = ctx.workdir / "decide" / "cluster"
        parts = [load_npy(folder / f"forest-{t:03d}.npy") for t in range(n_tasks)]
        edges = np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.uint64)
        nodes, roots = components(edges[:, 0], edges[:, 1])
        order = np.lexsort((nodes, roots))
        nodes, roots = nodes[order], roots[order]
        start = np.ones(len(nodes), dtype=bool)
        start[1:] = roots[1:] != roots[:-1]
        weights = np.ones(len(nodes), dtype=np.uint32)
        shards, idx = split_pos(nodes)
        for shard in np.unique(shards):
            sel = shards == shard
            weights[sel] = load_npy(ctx.shard_dir(int(shard)) / "weights.npy", mmap=True)[idx[sel]]
        save_npy(ctx.phase_dir("merge") / "clusters.npy", decisions_from_groups(nodes, start, weights))

    # -- apply ----------------------------------------------------------------------------------------------

    def decision_files(self, ctx: CorpusContext) -> list[Path]:
        return [ctx.workdir / "decide" / "merge" / "clusters.npy"]

    def similarities(self, ctx: CorpusContext, shard: int, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros(0, dtype=np.float64)
        sigs = _Signatures(ctx)
        a = sigs.get(rows["pos"])
        b = sigs.get(rows["rep"])
        return (a == b).mean(axis=1)

    def stats(self, ctx: CorpusContext) -> dict[str, Any]:
        out = super().stats(ctx)
        folder = ctx.workdir / "decide" / "bands"
        out["candidate_edges"] = sum(len(np.load(p, mmap_mode="r")) for p in sorted(folder.glob("edges-*.npy")))
        out["band_ranges"] = self.ranges(ctx)
        return out


class _Signatures:
    """Signature rows by position, read from each shard's memory-mapped ``sig.npy``."""

    def __init__(self, ctx: CorpusContext) -> None:
        self._ctx = ctx
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def get(self, pos: np.ndarray) -> np.ndarray:
        shards, idx = split_pos(np.asarray(pos, dtype=np.uint64))
        out: np.ndarray | None = None
        for shard in np.unique(shards):
            if shard not in self._cache:
                folder = self._ctx.shard_dir(int(shard))
                self._cache[shard] = (load_npy(folder / "vidx.npy"), load_npy(folder / "sig.npy", mmap=True))
            vidx, sig = self._cache[shard]
            sel = np.flatnonzero(shards == shard)
            rows = sig[np.searchsorted(vidx, idx[sel])]
            if out is None:
                out = np.zeros((len(pos), sig.shape[1]), dtype=np.uint64)
            out[sel] = rows
        assert out is not None
        return out


def save_ragged(folder: Path, name: str, arrays: Sequence[np.ndarray], dtype: Any) -> None:
    """Write a list of 1-D arrays as ``<name>.npy`` (concatenated, ``dtype``) and ``<name>_offsets.npy``."""
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in arrays], out=offsets[1:])
    flat = np.concatenate(arrays).astype(dtype, copy=False) if len(arrays) else np.zeros(0, dtype=dtype)
    save_npy(folder / f"{name}.npy", flat)
    save_npy(folder / f"{name}_offsets.npy", offsets)


def set_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted arrays of distinct values (0 if both are empty)."""
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return inter / union if union else 0.0


class Ragged:
    """Per-position rows of ragged arrays saved with :func:`save_ragged` in each shard's collect folder.

    Row ``r`` of a shard is its ``r``-th document with shingles (the order of ``vidx.npy``);
    :meth:`get` takes a position and finds the row by binary search in ``vidx.npy``.
    """

    def __init__(self, ctx: CorpusContext, name: str) -> None:
        self._ctx = ctx
        self._name = name
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def get(self, pos: int) -> np.ndarray:
        """The array stored for the document at position ``pos``."""
        shard, idx = split_pos(pos)
        if shard not in self._cache:
            folder = self._ctx.shard_dir(shard)
            self._cache[shard] = (
                load_npy(folder / "vidx.npy"),
                load_npy(folder / f"{self._name}_offsets.npy"),
                load_npy(folder / f"{self._name}.npy", mmap=True),
            )
        vidx, offsets, flat = self._cache[shard]
        row = int(np.searchsorted(vidx, idx))
        return np.asarray(flat[offsets[row] : offsets[row + 1]])


class ShingleSets(Ragged):
    """Sorted shingle sets by position (collected when :meth:`MinhashDedup.store_shingle_sets`)."""

    def __init__(self, ctx: CorpusContext) -> None:
        super().__init__(ctx, "shingles")


# IdLookup is re-exported for subclasses that annotate with ids in their own apply.
__all__ = [
    "IdLookup",
    "MinhashDedup",
    "Ragged",
    "ShingleSets",
    "band_keys",
    "minhash_signatures",
    "minhash_words",
    "ngram_hashes",
    "save_ragged",
    "set_jaccard",
]
