"""Spin-robust near-duplicate removal (step ``minhash_spin``): finds content-farm rewrites.

Content farms republish articles after replacing words with synonyms ("Russia" -> "Russian
Federation", "international" -> "global"), rewriting a few phrases, dropping or swapping sentences
and wrapping the text in their own page template (see :mod:`thresher.dedup.spinner`). Each
replaced word breaks up to five word 5-grams, so plain MinHash (step ``minhash``) loses such copies:
with 30% of the eligible words replaced, datatrove's 14 x 8 bands catch 1% of them (table below).

Approach
--------
Spinners change *content* words; the grammar words between them are what DSpin (Zhang et al.,
NDSS 2014) calls "immutables", and SpotSigs (Theobald et al., SIGIR 2008) anchors its signatures on
stop words for the same reason: they mark running text and survive rewording. This step therefore
represents a document by its **stop-word skeleton**:

1. **prose lines only**: a line counts if it has at least 8 words, 3 stop words and a stop-word
   density of 0.2 (the stop-word-density test of jusText, Pomikálek 2011, made more lenient because
   our list holds closed-class words only). Menus, related-post lists, bylines and copyright lines
   drop out, so neither the farm's template nor the publisher's weighs on the similarity;
2. **skeleton tokens**: each closed-class word (articles, pronouns, prepositions, conjunctions,
   auxiliaries; hand-written lists for English and German under ``thresher/assets/spin/``, the list
   with more hits is used) and each number stays as it is; each run of other words becomes one gap
   token, so a one-word synonym replaced by a phrase ("Russia" -> "Russian Federation") changes
   nothing;
3. **shingles**: xxh64 of each run of ``n_grams`` (6) skeleton tokens; MinHash signatures, bands and
   clusters are those of :class:`~thresher.dedup.minhash.MinhashDedup` (this class only overrides
   :meth:`shingles`), with more, shorter bands (``40 x 3``: a pair of skeleton Jaccard 0.45 is a
   candidate with probability ``1 - (1 - 0.45**3)**40 ~= 0.98``);
4. **verification** of every candidate pair before any merge. A pair is merged if one of:

   a. *plain duplicate*: word 5-gram Jaccard >= ``plain_threshold`` (0.7, about the LSH threshold
      of datatrove's 14 x 8 bands; estimated from a 128-value MinHash signature of the page's
      lower-case words): what plain ``minhash`` merges;
   b. *containment*: one page has at least ``containment_threshold`` (0.8) of its words in lines
      that the other page holds word for word (an article and the same article inside a site
      template, a feed copy of a page);
   c. *spun copy*: the lines the two pages hold word for word are set aside (a skeleton shingle
      stays if it occurs in a line the other page lacks) and the exact Jaccard of what remains of
      the two skeletons is at least ``skeleton_threshold`` (0.4) **and** the Jaccard of the two
      pages' content-word sets (every non-stop word of the page, estimated from a 128-value
      MinHash signature) is at least ``content_threshold`` (0.45); a remaining-skeleton Jaccard
      of ``strong_skeleton_threshold`` (0.75) needs only ``min_content`` (0.3).

   Setting verbatim lines aside is the **precision guard**: two pages of one site share the site's
   own prose word for word (sign-in dialog, buyer protection, cookie and newsletter text), which
   gives them a high skeleton *and* content-word similarity; a spinner rewrites nearly every line,
   so a spun copy keeps its similarity once shared lines are gone, and two template pages keep
   none of theirs (etsy.com listings of two mugs: skeleton Jaccard 0.51, 0.02 without the shared
   lines). Text shared word for word only merges two pages through tests a and b, the standards
   of plain near-duplicate detection. A corpus-wide document-frequency cut of skeleton shingles
   was not used: it cannot tell two pages of a two-page site from a duplicate pair (both shingle
   sets have a document frequency of 2), and it would strip the text of every large cluster of
   copies. LSH buckets give star edges (the bucket's first document against each other); a member
   that fails against the first document is also tried against up to 8 members already accepted,
   then against up to 8 earlier members that were not
   (:meth:`~thresher.dedup.minhash.MinhashDedup.verify_edges`), so a spun copy is not lost because
   its source page, or a page of neither, heads the bucket.

Documents with fewer than ``min_shingles`` (20) skeleton shingles, or whose prose lines hold less
than ``min_prose_fraction`` (0.3) of their words (listings, boilerplate-heavy pages whose only prose
is a cookie banner, languages without a list) fall back to plain word 5-gram shingles, and are
only merged with other fallback documents whose exact 5-gram Jaccard is at least
``plain_threshold``. Fallback documents with fewer than ``min_fallback_shingles`` (100) distinct
5-grams (near-empty pages: a site template and a line or two) get no key and are never merged,
nor are empty documents.

Measurements (final code; 2-core machine shared with other jobs)
----------------------------------------------------------------
``.venv/bin/python benchmarks/dedup_quality.py --show-false``: all 4,308 pages of
``shared/data/webcorpus`` plus, for each of 11 copy kinds, 80 article pages framed in a publisher
template (originals) and one copy each; truth by content (see the benchmark's docstring). Cells are
the recall per copy kind (the precision per kind is 1.00 in every cell); ``all-P`` is the precision
over all merged pairs, real pages included, and (false) the number of false pairs; sec: wall time
of the step on 6,068 documents::

    recall           exact  near  wn-10 wn-20 wn-30 wn-40  moby-10 moby-20 moby-30 moby-40  reord-30  all-P (false)  sec
    exact_dedup       1.00  0.00   0.00  0.00  0.00  0.00     0.00    0.00    0.00    0.00      0.00  1.0000  (0)    19
    minhash 14x8      1.00  1.00   0.16  0.01  0.01  0.00     0.15    0.03    0.00    0.00      0.00  0.9773 (13)    96
    minhash_spin      1.00  1.00   1.00  0.99  0.99  0.95     1.00    1.00    0.99    0.96      0.97  0.9960 (10)   165

(``wn``/``moby``-N: N% of the eligible words replaced with the wordnet / moby thesaurus, phrase
rewrites on; ``reord-30``: wn-30 plus 10% of sentences dropped and 10% swapped. wn-40 was 0.94
before bucket members rejected by the head were also paired with each other: one more spun copy,
the same 10 false pairs; times vary with the machine's load.) No merged pair
involving an injected page is false. ``minhash_spin`` merges 136 true pairs of real pages; its 10
false ones, read one by one: one is the same medium.com article saved twice (one save lost the
spaces between some words, so the truth's 5-gram rule misses it); the other 9 are template-dominated
pages of one site whose distinct content is a small part of the page (QS rankings of two subjects,
three glossier.com category pages, yeti.com 20 oz / 30 oz tumblers, two syracuse.com, two
lifebuzz.com and three 163.com articles), 7 of which plain ``minhash`` merges too: they pass test
a or b, the plain standards, and only a main-content extraction before deduplication avoids them.
The previous version of this step (skeleton and content tests on whole pages) also merged two
etsy.com listings and an allenedmonds.com / shoebank.com pair through their shared site prose.

Built on the public extension points of :class:`~thresher.dedup.minhash.MinhashDedup`:
``shingles`` (the LSH shingles), ``collect_keys``/``save_keys`` (the per-document keys below, written
as ``spin_*.npy`` in each shard's collect folder), ``store_shingle_sets`` (off: fallback documents keep
their 5-gram sets in ``spin_fallback.npy``, skeleton documents need none), ``verifies_candidates``
and ``pair_matcher`` (the tests a-c; bucket retries come from the base's ``verify_edges``) and
``fingerprint``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from thresher.dedup._store import load_npy, save_npy, split_pos
from thresher.dedup.minhash import (
    MinhashDedup,
    Ragged,
    minhash_signatures,
    minhash_words,
    ngram_hashes,
    permutation_parameters,
    save_ragged,
    set_jaccard,
)
from thresher.document import Document
from thresher.errors import UsageError
from thresher.steps.base import CorpusContext, register

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "spin"
STOPWORD_LANGUAGES = ("en", "de")
_WORD = re.compile(r"\w+")
#: skeleton token standing for a run of content words
_GAP = "_"
#: kinds of key a document gets
KIND_SKELETON = 1
KIND_FALLBACK = 2
#: xxh64 seeds: each kind of hash in its own domain (0 is plain word n-grams, as in ``minhash``)
_SEED_SKELETON, _SEED_CONTENT, _SEED_LINE = 1, 2, 3
#: documents per signature batch in ``collect``
_SIG_BATCH = 512
#: the per-document keys written by ``collect`` (ragged arrays; see ``save_keys``)
_RAGGED_KEYS = (
    ("spin_tagged", np.uint64),
    ("spin_tag_lines", np.uint32),
    ("spin_line_hashes", np.uint64),
    ("spin_line_words", np.uint32),
    ("spin_fallback", np.uint64),
)

# prose-line test (after jusText's stop-word density classification, Pomikálek 2011, "Removing
# Boilerplate and Duplicate Content from Web Corpora", ch. 3; its thresholds are 0.30/0.32 over a
# full stop list, ours is closed-class only, hence lower).
PROSE_MIN_WORDS = 8
PROSE_MIN_STOPWORDS = 3
PROSE_MIN_DENSITY = 0.2


@cache
def stopwords(language: str) -> frozenset[str]:
    """The closed-class word list of ``language`` (``en`` or ``de``) shipped under ``assets/spin``."""
    if language not in STOPWORD_LANGUAGES:
        raise ValueError(f"no stop-word list for {language!r}; available: {', '.join(STOPWORD_LANGUAGES)}")
    path = ASSETS / f"stopwords.{language}.txt"
    with open(path, encoding="utf-8") as fh:
        return frozenset(w.strip() for w in fh if w.strip() and not w.startswith("#"))


def _choose_stopwords(words: list[str]) -> frozenset[str]:
    best, best_hits = stopwords("en"), -1
    for lang in STOPWORD_LANGUAGES:
        stop = stopwords(lang)
        hits = sum(1 for w in words if w in stop)
        if hits > best_hits:
            best, best_hits = stop, hits
    return best


def is_prose(words: Sequence[str], stop: frozenset[str]) -> bool:
    """The prose-line test on one line's lower-case words (see module docstring)."""
    if len(words) < PROSE_MIN_WORDS:
        return False
    hits = sum(1 for w in words if w in stop)
    return hits >= PROSE_MIN_STOPWORDS and hits >= PROSE_MIN_DENSITY * len(words)


def prose_lines(lines: Iterable[list[str]], stop: frozenset[str]) -> list[list[str]]:
    """The lines (as lower-case word lists) that pass the prose test (see module docstring)."""
    return [words for words in lines if is_prose(words, stop)]


@dataclass(frozen=True)
class Analysis:
    """What the step reads from one text (all words lower case)."""

    #: skeleton tokens of the prose lines, in order (stop words and numbers kept, gaps as ``"_"``)
    tokens: list[str]
    #: for each token, the index (in :attr:`line_hashes`) of the line it comes from
    token_lines: list[int]
    #: xxh64 of each non-empty line's words joined by spaces (verbatim-line identity)
    line_hashes: list[int]
    #: number of words of each non-empty line
    line_words: list[int]
    #: every word of the text
    words: list[str]
    #: the words of the text that are neither stop words nor numbers
    content: list[str]
    #: share of the text's words that are in prose lines
    prose_fraction: float


def analyse(text: str) -> Analysis:
    """Split ``text`` into lines and words once and derive the skeleton, content words and line ids."""
    lines = [words for words in (_WORD.findall(line) for line in text.lower().split("\n")) if words]
    words = [w for line in lines for w in line]
    stop = _choose_stopwords(words)
    tokens: list[str] = []
    token_lines: list[int] = []
    prose_words = 0
    for index, line in enumerate(lines):
        if not is_prose(line, stop):
            continue
        prose_words += len(line)
        for w in line:
            if w in stop or w.isdigit():
                tokens.append(w)
                token_lines.append(index)
            elif not tokens or tokens[-1] != _GAP:
                tokens.append(_GAP)
                token_lines.append(index)
    line_hashes = [xxhash.xxh64_intdigest(" ".join(line), _SEED_LINE) for line in lines]
    content = [w for w in words if w not in stop and not w.isdigit()]
    fraction = prose_words / len(words) if words else 0.0
    return Analysis(tokens, token_lines, line_hashes, [len(line) for line in lines], words, content, fraction)


def skeleton(text: str) -> tuple[list[str], list[str], float]:
    """``(skeleton tokens of the prose lines, content words of the whole text, prose fraction)``.

    Skeleton: stop words and numbers kept, each run of other words collapsed to ``"_"`` (all lower
    case); the prose fraction is the share of the text's words that are in prose lines.
    """
    a = analyse(text)
    return a.tokens, a.content, a.prose_fraction


def _hash_strings(items: Iterable[str], seed: int) -> np.ndarray:
    return np.fromiter((xxhash.xxh64_intdigest(s, seed) for s in items), dtype=np.uint64)


def skeleton_shingles(tokens: list[str], n: int) -> np.ndarray:
    """xxh64 (seed 1, a domain apart from plain word shingles) of each run of ``n`` skeleton tokens."""
    count = len(tokens) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    return _hash_strings(map(" ".join, zip(*(tokens[i : i + count] for i in range(n)))), _SEED_SKELETON)


@dataclass(frozen=True)
class SpinKeys:
    """The keys of one document (see :meth:`SpinRobustMinhashDedup.keys`)."""

    kind: int
    #: LSH shingles: skeleton ``n_grams`` (skeleton kind) or word ``fallback_n_grams`` (fallback kind)
    shingles: np.ndarray
    #: skeleton kind: the distinct ``(shingle, line)`` pairs, line = index of the prose line the
    #: shingle starts in (sorted by shingle); empty for the fallback kind
    tagged: np.ndarray
    tag_lines: np.ndarray
    #: xxh64 and word count of each non-empty line (skeleton kind)
    line_hashes: np.ndarray
    line_words: np.ndarray
    #: distinct content-word hashes of the whole page (skeleton kind)
    content: np.ndarray
    #: word 5-gram hashes of the whole page (plain-duplicate test), simple lower-case words
    plain: np.ndarray


def _tag(shingles: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``(shingle, line)`` pairs sorted by shingle then line."""
    if not len(shingles):
        return shingles, lines.astype(np.uint32)
    order = np.lexsort((lines, shingles))
    s, ln = shingles[order], lines[order]
    first = np.ones(len(s), dtype=bool)
    first[1:] = (s[1:] != s[:-1]) | (ln[1:] != ln[:-1])
    return s[first], ln[first].astype(np.uint32)


@dataclass(frozen=True)
class Comparison:
    """How two skeleton documents relate once the lines they share word for word are set aside."""

    #: Jaccard of the residual skeleton sets (shingles that occur in a line the other text lacks)
    residual_jaccard: float
    #: share of each document's words that are in lines the other document holds word for word
    coverage_a: float
    coverage_b: float


def compare_skeletons(a: SpinKeys, b: SpinKeys) -> Comparison:
    """Compare two skeleton-kind documents (see :class:`Comparison` and the module docstring)."""
    common = np.intersect1d(a.line_hashes, b.line_hashes)
    if len(common):
        shared_a = np.isin(a.line_hashes, common)
        shared_b = np.isin(b.line_hashes, common)
        rest_a = np.unique(a.tagged[~shared_a[a.tag_lines]])
        rest_b = np.unique(b.tagged[~shared_b[b.tag_lines]])
        cover_a = float(a.line_words[shared_a].sum()) / max(1, int(a.line_words.sum()))
        cover_b = float(b.line_words[shared_b].sum()) / max(1, int(b.line_words.sum()))
    else:
        rest_a, rest_b = np.unique(a.tagged), np.unique(b.tagged)
        cover_a = cover_b = 0.0
    inter = len(np.intersect1d(rest_a, rest_b, assume_unique=True))
    union = len(rest_a) + len(rest_b) - inter
    return Comparison(inter / union if union else 0.0, cover_a, cover_b)


@register
class SpinRobustMinhashDedup(MinhashDedup):
    """Drop near-duplicates including synonym-spun copies (stop-word skeleton MinHash + verification)."""

    name = "minhash_spin"

    def __init__(
        self,
        n_grams: int = 6,
        bands: int = 40,
        rows: int = 3,
        seed: int = 1,
        skeleton_threshold: float = 0.4,
        content_threshold: float = 0.45,
        strong_skeleton_threshold: float = 0.75,
        min_content: float = 0.3,
        plain_threshold: float = 0.7,
        containment_threshold: float = 0.8,
        fallback_n_grams: int = 5,
        min_shingles: int = 20,
        min_prose_fraction: float = 0.3,
        min_fallback_shingles: int = 100,
        content_permutations: int = 128,
        memory_mb: int = 1024,
        cluster_tasks: int = 4,
    ) -> None:
        for label, value in (
            ("skeleton_threshold", skeleton_threshold),
            ("content_threshold", content_threshold),
            ("strong_skeleton_threshold", strong_skeleton_threshold),
            ("min_content", min_content),
            ("plain_threshold", plain_threshold),
            ("containment_threshold", containment_threshold),
            ("min_prose_fraction", min_prose_fraction),
        ):
            if not 0.0 < value <= 1.0:
                raise UsageError(f"minhash_spin: {label} must be in (0, 1] (got {value})")
        for label, value in (
            ("min_shingles", min_shingles),
            ("min_fallback_shingles", min_fallback_shingles),
            ("fallback_n_grams", fallback_n_grams),
            ("content_permutations", content_permutations),
        ):
            if value < 1:
                raise UsageError(f"minhash_spin: {label} must be >= 1 (got {value})")
        super().__init__(
            n_grams=n_grams, bands=bands, rows=rows, seed=seed, memory_mb=memory_mb, cluster_tasks=cluster_tasks
        )
        self.skeleton_threshold = skeleton_threshold
        self.content_threshold = content_threshold
        self.strong_skeleton_threshold = strong_skeleton_threshold
        self.min_content = min_content
        self.plain_threshold = plain_threshold
        self.containment_threshold = containment_threshold
        self.fallback_n_grams = fallback_n_grams
        self.min_shingles = min_shingles
        self.min_prose_fraction = min_prose_fraction
        self.min_fallback_shingles = min_fallback_shingles
        self.content_permutations = content_permutations

    # -- keys ----------------------------------------------------------------------------------------

    def keys(self, doc: Document) -> SpinKeys:
        """The document's :class:`SpinKeys`, cached in ``doc.cache``."""
        cached = doc.cache.get("minhash_spin.keys")
        params = (
            self.n_grams,
            self.min_shingles,
            self.min_prose_fraction,
            self.min_fallback_shingles,
            self.fallback_n_grams,
        )
        if cached is not None and cached[0] == params:
            return cached[1]
        a = analyse(doc.text)
        shingles = skeleton_shingles(a.tokens, self.n_grams)
        plain = ngram_hashes(a.words, 5)
        empty = np.zeros(0, dtype=np.uint64)
        if a.prose_fraction >= self.min_prose_fraction and len(np.unique(shingles)) >= self.min_shingles:
            starts = np.asarray(a.token_lines[: len(shingles)], dtype=np.uint32)
            tagged, tag_lines = _tag(shingles, starts)
            result = SpinKeys(
                KIND_SKELETON,
                shingles,
                tagged,
                tag_lines,
                np.asarray(a.line_hashes, dtype=np.uint64),
                np.asarray(a.line_words, dtype=np.uint32),
                np.unique(_hash_strings(a.content, _SEED_CONTENT)),
                plain,
            )
        else:
            words = ngram_hashes(minhash_words(doc.text), self.fallback_n_grams)
            if len(np.unique(words)) < self.min_fallback_shingles:  # near-empty: a template and a line
                words = words[:0]
            no_lines = empty.astype(np.uint32)
            result = SpinKeys(KIND_FALLBACK, words, empty, no_lines, empty, no_lines, empty, plain)
        doc.cache["minhash_spin.keys"] = (params, result)
        return result

    def shingles(self, doc: Document) -> np.ndarray:
        """Skeleton 6-gram hashes, or plain word 5-gram hashes for non-prose documents."""
        return self.keys(doc).shingles

    # -- collect: kinds, signatures, line-tagged shingles and fallback sets (base class hooks) ---------

    def store_shingle_sets(self) -> bool:
        return False  # fallback documents' sets go to spin_fallback.npy; skeleton ones need none

    def collect_keys(self, doc: Document, shingles: np.ndarray) -> dict[str, np.ndarray]:
        keys = self.keys(doc)
        fallback = np.unique(shingles) if keys.kind == KIND_FALLBACK else shingles[:0]
        return {
            "spin_kind": np.array([keys.kind], dtype=np.uint8),
            "content": keys.content,
            "plain": keys.plain,
            "spin_tagged": keys.tagged,
            "spin_tag_lines": keys.tag_lines,
            "spin_line_hashes": keys.line_hashes,
            "spin_line_words": keys.line_words,
            "spin_fallback": fallback,
        }

    def save_keys(self, folder: Path, keys: dict[str, list[np.ndarray]], n: int) -> None:
        kinds = keys.get("spin_kind", [])
        save_npy(folder / "spin_kind.npy", np.concatenate(kinds) if kinds else np.zeros(0, dtype=np.uint8))
        for name, seed in (("content", self.seed + 1), ("plain", self.seed + 2)):
            a, b = permutation_parameters(self.content_permutations, seed)
            arrays = keys.get(name, [])
            parts = [minhash_signatures(arrays[i : i + _SIG_BATCH], a, b) for i in range(0, len(arrays), _SIG_BATCH)]
            sigs = np.concatenate(parts) if parts else np.zeros((0, self.content_permutations), np.uint64)
            save_npy(folder / f"spin_{name}_sig.npy", sigs)
        for name, dtype in _RAGGED_KEYS:
            save_ragged(folder, name, keys.get(name, []), dtype)

    def fingerprint(self) -> dict[str, Any]:
        return {
            **super().fingerprint(),
            "spin": [
                3,  # key format version
                self.min_shingles,
                self.min_prose_fraction,
                self.min_fallback_shingles,
                self.fallback_n_grams,
                self.content_permutations,
            ],
        }

    # -- decide: verification of candidate pairs -----------------------------------------------------

    def verifies_candidates(self) -> bool:
        return True

    def pair_matcher(self, ctx: CorpusContext, nodes: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """Tests a-c of the module docstring on pairs of candidate documents (see :meth:`_match`)."""
        keys = _SpinKeys(ctx)
        fallback = Ragged(ctx, "spin_fallback")
        kinds, content_sig, plain_sig = keys.rows(nodes)
        node_list, kind_list = nodes.tolist(), kinds.tolist()

        def match(i: np.ndarray, j: np.ndarray) -> np.ndarray:
            i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
            content = (content_sig[i] == content_sig[j]).mean(axis=1).tolist() if len(i) else []
            plain = (plain_sig[i] == plain_sig[j]).mean(axis=1).tolist() if len(i) else []
            return np.fromiter(
                (
                    self._match(keys, fallback, node_list[x], node_list[y], kind_list[x], kind_list[y], c, p)
                    for x, y, c, p in zip(i.tolist(), j.tolist(), content, plain)
                ),
                dtype=bool,
                count=len(i),
            )

        return match

    def _match(
        self,
        keys: _SpinKeys,
        fallback: Ragged,
        u: int,
        v: int,
        kind_u: int,
        kind_v: int,
        content: float,
        plain: float,
    ) -> bool:
        """Whether documents ``u`` and ``v`` (positions) are duplicates; ``content``, ``plain``: estimates."""
        if kind_u == KIND_FALLBACK and kind_v == KIND_FALLBACK:
            return set_jaccard(fallback.get(u), fallback.get(v)) >= self.plain_threshold
        if plain >= self.plain_threshold:
            return True  # the same text up to small edits: what plain MinHash merges
        if kind_u != kind_v or content < self.min_content:
            return False
        c = compare_skeletons(keys.lines(u), keys.lines(v))
        return (
            max(c.coverage_a, c.coverage_b) >= self.containment_threshold
            or c.residual_jaccard >= self.strong_skeleton_threshold
            or (c.residual_jaccard >= self.skeleton_threshold and content >= self.content_threshold)
        )


class _SpinKeys:
    """Per-position kinds, signatures and line-tagged shingles, from each shard's ``spin_*.npy`` files."""

    def __init__(self, ctx: CorpusContext) -> None:
        self._ctx = ctx
        self._rows: dict[int, tuple[np.ndarray, ...]] = {}
        self._lines: dict[int, tuple[tuple[np.ndarray, np.ndarray], ...]] = {}

    def _shard_rows(self, shard: int) -> tuple[np.ndarray, ...]:
        if shard not in self._rows:
            folder = self._ctx.shard_dir(shard)
            self._rows[shard] = (
                load_npy(folder / "vidx.npy"),
                load_npy(folder / "spin_kind.npy"),
                load_npy(folder / "spin_content_sig.npy", mmap=True),
                load_npy(folder / "spin_plain_sig.npy", mmap=True),
            )
        return self._rows[shard]

    def rows(self, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(kinds, content signatures, plain signatures)`` of the documents at ``pos``."""
        shards, idx = split_pos(np.asarray(pos, dtype=np.uint64))
        kinds = np.zeros(len(pos), dtype=np.uint8)
        content: np.ndarray | None = None
        plain: np.ndarray | None = None
        for shard in np.unique(shards):
            vidx, kind, csig, psig = self._shard_rows(int(shard))
            sel = np.flatnonzero(shards == shard)
            rows = np.searchsorted(vidx, idx[sel])
            kinds[sel] = kind[rows]
            if content is None or plain is None:
                content = np.zeros((len(pos), csig.shape[1]), dtype=np.uint64)
                plain = np.zeros((len(pos), psig.shape[1]), dtype=np.uint64)
            content[sel] = csig[rows]
            plain[sel] = psig[rows]
        if content is None or plain is None:
            content = plain = np.zeros((0, 0), dtype=np.uint64)
        return kinds, content, plain

    def lines(self, pos: int) -> SpinKeys:
        """The line-tagged shingles and line hashes of the document at ``pos`` (other fields empty)."""
        shard, idx = split_pos(pos)
        if shard not in self._lines:
            folder = self._ctx.shard_dir(shard)
            self._lines[shard] = tuple(
                (load_npy(folder / f"{name}.npy", mmap=True), load_npy(folder / f"{name}_offsets.npy"))
                for name in ("spin_tagged", "spin_tag_lines", "spin_line_hashes", "spin_line_words")
            )
        row = int(np.searchsorted(self._shard_rows(shard)[0], idx))
        tagged, tag_lines, hashes, words = (
            np.asarray(flat[off[row] : off[row + 1]]) for flat, off in self._lines[shard]
        )
        empty = np.zeros(0, dtype=np.uint64)
        return SpinKeys(KIND_SKELETON, empty, tagged, tag_lines, hashes, words, empty, empty)


__all__ = [
    "SpinKeys",
    "SpinRobustMinhashDedup",
    "Analysis",
    "Comparison",
    "analyse",
    "compare_skeletons",
    "skeleton",
    "skeleton_shingles",
    "stopwords",
]
