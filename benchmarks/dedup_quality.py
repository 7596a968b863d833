"""Duplicate-detection quality: exact, plain MinHash and spin-robust MinHash on real pages.

Corpus (built in memory, nothing written to the repository):

- **background**: every page of ``shared/data/webcorpus/pages-000.jsonl.gz`` (field ``text``, with
  its navigation and footers); it holds natural duplicates (52 groups of identical text, pages
  saved twice under one URL);
- **sources**: English pages whose ``main_text`` (the article) has at least 150 words in lines of
  12 words or more on average (article-like, what content farms copy). For each source, an
  **original** is added: the article framed in one of 20 publisher templates
  (:func:`thresher.dedup.spinner.frame`), and one **copy** of one kind:

  - ``exact``: the original again; ``near``: the original with 3 words edited and a line added;
  - ``spin-<thesaurus>-<rate>``: the article spun by :func:`thresher.dedup.spinner.spin` (synonyms
    at ``rate`` of the eligible words, phrase rewrites at 0.5) in one of 5 farm templates, with the
    ``wordnet`` or the ``moby`` thesaurus (the detector uses neither);
  - ``reorder-wordnet-30``: as ``spin-wordnet-30`` plus 10% of sentences dropped and 10% swapped.

Truth: two documents are duplicates if they come from the same page (the page's ``text``, its
original and its copy) or from two pages that are **the same page by content**: identical ``text``,
or the same main content, i.e. the word 5-gram Jaccard of their main contents is at least 0.5 or
the smaller one has at least 80% of its 5-grams in the other. The main content of a page is the
dataset's ground-truth ``main_text`` where the record has one, else what trafilatura extracts from
its ``html`` (``favor_precision``, no comments; computed only for pages in merged pairs). A URL is
never enough: the corpus holds pages saved at different times under one URL whose content changed.

How the truth was improved (first version: same text, same URL, or word 5-gram Jaccard of the
*full* ``text`` >= 0.5): reading every merged pair of two real pages on which the two disagreed
showed the full-text rule wrong both ways. (a) Pages of one site share so much template that their
full texts pass 0.5 while their main contents share nothing (``wcxb/dev/4331``/``wcxb/test/5208``,
QS rankings of two subjects, full-text Jaccard 0.87, main text 0.02; three glossier.com category
pages; two youbeauty.com and two lifebuzz.com articles): those are now false. (b) One article saved
twice with two different templates (postlight ``www.bloomberg.com`` and
``www.bloomberg.com/1481135708958``, ``readability/medicalnewstoday`` and
``trafilatura/eval/medicalnewstoday.com.318674.html``...) has a full-text Jaccard of 0.3-0.45:
those are now true when their main contents match.

Per kind: **recall** = copies put in the same cluster as their original; **precision** = among the
merged pairs that involve a copy of that kind, the fraction that are true. ``all-P`` is the
precision over **all** merged pairs (real-page pairs included), with the number of false pairs;
``--show-false`` prints each false pair with its similarities, to be read.

Run (figures in the report were taken on a loaded 2-core machine)::

    .venv/bin/python benchmarks/dedup_quality.py --show-false    # full: 80 sources per kind
    .venv/bin/python benchmarks/dedup_quality.py --per-kind 20   # quick
    .venv/bin/python benchmarks/dedup_quality.py --study         # compare candidate representations
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import xxhash

from thresher.dedup.exact import ExactDedup
from thresher.dedup.minhash import MinhashDedup, minhash_words, ngram_hashes
from thresher.dedup.spin import SpinRobustMinhashDedup, skeleton, skeleton_shingles, stopwords
from thresher.dedup.spinner import frame, near_copy, spin
from thresher.dedup.testing import run_corpus_step_locally
from thresher.document import Document
from thresher.steps.base import CorpusStep

SHARED = Path(os.environ.get("THRESHER_SHARED", Path(__file__).resolve().parents[2] / "shared"))
CORPUS = SHARED / "data" / "webcorpus" / "pages-000.jsonl.gz"
_URL = re.compile(r"^https?://(www\.)?")
#: two pages are the same page if their main contents have this word 5-gram Jaccard similarity...
MAIN_JACCARD = 0.5
#: ... or the smaller main content has this share of its 5-grams in the other
MAIN_CONTAINED = 0.8


@dataclass
class Item:
    doc: Document
    origin: str  # the page it comes from
    kind: str  # "background", "original" or the copy kind
    url: str | None = None


def load_pages(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def article_like(text: str) -> bool:
    lines = [line for line in text.split("\n") if line.strip()]
    words = sum(len(line.split()) for line in lines)
    return words >= 150 and words / max(1, len(lines)) >= 12


def copy_kinds(quick: bool = False) -> list[tuple[str, dict]]:
    """The copy kinds and their spinner arguments."""
    kinds: list[tuple[str, dict]] = [("exact", {}), ("near", {})]
    rates = (0.2, 0.3, 0.4) if quick else (0.1, 0.2, 0.3, 0.4)
    for thesaurus in ("wordnet", "moby"):
        for rate in rates:
            kinds.append((f"spin-{thesaurus}-{int(rate * 100)}", {"rate": rate, "thesaurus": thesaurus}))
    kinds.append(("reorder-wordnet-30", {"rate": 0.3, "thesaurus": "wordnet", "drop_rate": 0.1, "swap_rate": 0.1}))
    return kinds


def build_corpus(pages: list[dict], per_kind: int, seed: int = 0, quick: bool = False) -> list[Item]:
    """Background pages plus, per copy kind, ``per_kind`` originals and their copies."""
    items = [Item(Document(p["id"], p["text"]), p["id"], "background", p.get("url")) for p in pages]
    sources = [p for p in pages if p.get("main_text") and p.get("lang") == "en" and article_like(p["main_text"])]
    random.Random(seed).shuffle(sources)
    kinds = copy_kinds(quick)
    need = per_kind * len(kinds)
    if len(sources) < need:
        raise SystemExit(f"only {len(sources)} article-like sources for {need} copies; lower --per-kind")
    k = 0
    for kind, args in kinds:
        for _ in range(per_kind):
            page = sources[k]
            article = page["main_text"]
            original = frame(article, 100 + k % 20, k)
            items.append(Item(Document(f"orig/{page['id']}", original), page["id"], "original"))
            if kind == "exact":
                copy = original
            elif kind == "near":
                copy = near_copy(original, seed=k)
            else:
                copy = spin(article, seed=k, farm=k % 5, **args)
            items.append(Item(Document(f"copy/{kind}/{page['id']}", copy), page["id"], kind))
            k += 1
    return items


def norm_url(url: str | None) -> str | None:
    return _URL.sub("", url).rstrip("/") if url else None


def plain_jaccard(a: str, b: str) -> float:
    x = set(ngram_hashes(minhash_words(a), 5).tolist())
    y = set(ngram_hashes(minhash_words(b), 5).tolist())
    return len(x & y) / max(1, len(x | y))


class Truth:
    """Whether two pages of the corpus are the same page by content (see the module docstring)."""

    def __init__(self, pages: list[dict]) -> None:
        self.pages = {p["id"]: p for p in pages}
        self._main: dict[str, tuple[str, set[int]]] = {}
        self._pairs: dict[tuple[str, str], tuple[bool, str]] = {}

    def main_content(self, page_id: str) -> tuple[str, set[int]]:
        """``(source, word 5-gram set)`` of a page's main content: ``main_text`` or trafilatura's."""
        if page_id not in self._main:
            page = self.pages[page_id]
            if page.get("main_text"):
                source, text = "main_text", page["main_text"]
            else:
                from thresher.extract.baselines import trafilatura_extract

                source, text = "trafilatura", trafilatura_extract(page.get("html") or "") or page["text"]
            self._main[page_id] = (source, set(ngram_hashes(minhash_words(text), 5).tolist()))
        return self._main[page_id]

    def same(self, a: str, b: str) -> tuple[bool, str]:
        """``(same page, basis)`` for two page ids; the basis says which rule decided."""
        if a == b:
            return True, "same page"
        key = (a, b) if a < b else (b, a)
        if key not in self._pairs:
            if self.pages[a]["text"] == self.pages[b]["text"]:
                self._pairs[key] = (True, "same text")
            else:
                (sa, x), (sb, y) = self.main_content(a), self.main_content(b)
                inter = len(x & y)
                jaccard = inter / max(1, len(x | y))
                contained = inter / max(1, min(len(x), len(y)))
                basis = f"main content ({'+'.join(sorted({sa, sb}))}) J={jaccard:.2f} C={contained:.2f}"
                self._pairs[key] = (jaccard >= MAIN_JACCARD or contained >= MAIN_CONTAINED, basis)
        return self._pairs[key]


def evaluate(items: list[Item], step: CorpusStep, truth: Truth, shards: int = 4) -> dict:
    """Run ``step`` and score its clusters against the truth."""
    docs = [it.doc for it in items]
    size = -(-len(docs) // shards)
    parts = [docs[i : i + size] for i in range(0, len(docs), size)]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        out = run_corpus_step_locally(step, parts, work)
    seconds = time.perf_counter() - t0
    flat = [d for part in out for d in part]
    cluster_of = {d.id: d.metadata.get("cluster_id", d.id) for d in flat}
    members: dict[str, list[int]] = defaultdict(list)
    for i, it in enumerate(items):
        members[cluster_of[it.doc.id]].append(i)
    orig_index = {it.origin: i for i, it in enumerate(items) if it.kind == "original"}
    recall: dict[str, list[bool]] = defaultdict(list)
    for it in items:
        if it.kind not in ("background", "original"):
            recall[it.kind].append(cluster_of[it.doc.id] == cluster_of[items[orig_index[it.origin]].doc.id])
    pair_true: dict[str, list[bool]] = defaultdict(list)
    total = {"true": 0, "false": 0, "bg_true": 0, "bg_false": 0}
    false_examples: list[str] = []
    for group in members.values():
        for i, j in combinations(group, 2):
            a, b = items[i], items[j]
            same, basis = truth.same(a.origin, b.origin)
            both_bg = a.kind == "background" and b.kind == "background"
            total[("bg_" if both_bg else "") + ("true" if same else "false")] += 1
            if not same:
                plain = plain_jaccard(a.doc.text, b.doc.text)
                false_examples.append(f"{a.doc.id} <> {b.doc.id} (full text J={plain:.2f}; {basis})")
            for it in (a, b):
                if it.kind not in ("background", "original"):
                    pair_true[it.kind].append(same)
    return {
        "recall": {k: float(np.mean(v)) for k, v in recall.items()},
        "precision": {k: float(np.mean(v)) if v else 1.0 for k, v in pair_true.items()},
        "total": total,
        "false_examples": false_examples,
        "seconds": seconds,
    }


# -- candidate representations for --study ---------------------------------------------------------------


class RepresentationDedup(MinhashDedup):
    """MinHash LSH over any shingle function, candidates confirmed by exact Jaccard (study only)."""

    name = "study_representation"

    def __init__(self, fn: Callable[[str], np.ndarray], threshold: float, bands: int = 40, rows: int = 3):
        super().__init__(n_grams=5, bands=bands, rows=rows, jaccard_threshold=threshold)
        self.fn = fn

    def shingles(self, doc: Document) -> np.ndarray:
        return self.fn(doc.text)


def _h(items: list[str]) -> np.ndarray:
    return np.fromiter((xxhash.xxh64_intdigest(s) for s in items), dtype=np.uint64)


def rep_spotsigs(text: str) -> np.ndarray:
    """SpotSigs-style: each stop word with the next 2 content words (Theobald et al. 2008)."""
    stop = stopwords("en")
    words = re.findall(r"\w+", text.lower())
    sigs = []
    for i, w in enumerate(words):
        if w in stop:
            chain = [x for x in words[i + 1 : i + 8] if x not in stop][:2]
            if len(chain) == 2:
                sigs.append(w + ":" + " ".join(chain))
    return _h(sigs)


def rep_stopchain(text: str, n: int = 8) -> np.ndarray:
    """Chains of ``n`` consecutive stop words, content words skipped."""
    stop = stopwords("en")
    s = [w for w in re.findall(r"\w+", text.lower()) if w in stop]
    return _h([" ".join(s[i : i + n]) for i in range(len(s) - n + 1)])


def rep_skeleton_all_lines(text: str) -> np.ndarray:
    """Skeleton 6-grams over every line (no prose test)."""
    stop = stopwords("en")
    tokens: list[str] = []
    for w in re.findall(r"\w+", text.lower()):
        if w in stop or w.isdigit():
            tokens.append(w)
        elif not tokens or tokens[-1] != "_":
            tokens.append("_")
    return skeleton_shingles(tokens, 6)


def rep_skeleton_prose(text: str) -> np.ndarray:
    return skeleton_shingles(skeleton(text)[0], 6)


def rep_content(text: str) -> np.ndarray:
    return np.unique(_h(skeleton(text)[1]))


def rep_plain(text: str) -> np.ndarray:
    return ngram_hashes(minhash_words(text), 5)


def candidates() -> list[tuple[str, Callable[[], CorpusStep]]]:
    return [
        ("plain 5-gram, 14x8 (datatrove)", lambda: MinhashDedup()),
        ("plain 5-gram, 40x3, J>=0.2", lambda: RepresentationDedup(rep_plain, 0.2)),
        ("SpotSigs stop+2 content, J>=0.3", lambda: RepresentationDedup(rep_spotsigs, 0.3)),
        ("stop-word chains 8, J>=0.4", lambda: RepresentationDedup(rep_stopchain, 0.4)),
        ("skeleton 6, all lines, J>=0.4", lambda: RepresentationDedup(rep_skeleton_all_lines, 0.4)),
        ("skeleton 6, prose lines, J>=0.4", lambda: RepresentationDedup(rep_skeleton_prose, 0.4)),
        ("content-word set, J>=0.45", lambda: RepresentationDedup(rep_content, 0.45)),
        ("minhash_spin (skeleton+content)", lambda: SpinRobustMinhashDedup()),
    ]


def print_table(title: str, results: list[tuple[str, dict]], kinds: list[str]) -> None:
    print(f"\n{title}")
    short = [k.replace("spin-", "").replace("wordnet", "wn").replace("reorder-", "reord-") for k in kinds]
    width = max(len(name) for name, _ in results)
    head = " ".join(f"{s:>10s}" for s in short)
    print(f"{'method':{width}s}  {head}  injected-P false | bg true false |  all-P false | sec")
    for name, res in results:
        cells = " ".join(f"{res['recall'].get(k, 0):.2f}/{res['precision'].get(k, 1):.2f}".rjust(10) for k in kinds)
        tot = res["total"]
        merged = tot["true"] + tot["false"]
        prec = tot["true"] / merged if merged else 1.0
        all_true, all_false = tot["true"] + tot["bg_true"], tot["false"] + tot["bg_false"]
        all_prec = all_true / (all_true + all_false) if all_true + all_false else 1.0
        print(
            f"{name:{width}s}  {cells}  {prec:10.4f} {tot['false']:5d} | {tot['bg_true']:7d} {tot['bg_false']:5d} | "
            f"{all_prec:.4f} {all_false:5d} | {res['seconds']:.0f}"
        )
    print(
        "cells: recall/precision per copy kind. injected-P: precision over the merged pairs that involve an\n"
        "injected document (original or copy), false: such pairs that are wrong. bg: merged pairs of two real\n"
        "pages, true (same page by content) and false. all-P: precision over all merged pairs, and how many are false."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--per-kind", type=int, default=80, help="sources (original + copy) per copy kind")
    parser.add_argument("--study", action="store_true", help="compare candidate representations")
    parser.add_argument("--background", type=int, default=None, help="use only the first N pages (dev)")
    parser.add_argument("--show-false", action="store_true", help="print falsely merged pairs")
    parser.add_argument("--skeleton-threshold", type=float, default=None, help="minhash_spin override")
    parser.add_argument("--content-threshold", type=float, default=None, help="minhash_spin override")
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 1
    pages = load_pages(args.corpus)
    background = pages if args.background is None else pages[: args.background]
    t0 = time.perf_counter()
    items = build_corpus(pages, args.per_kind, quick=args.study)
    if args.background is not None:
        keep = {p["id"] for p in background}
        items = [it for it in items if it.kind != "background" or it.doc.id in keep]
    kinds = [k for k, _ in copy_kinds(args.study)]
    n_bg = sum(it.kind == "background" for it in items)
    print(
        f"corpus: {n_bg} background pages + {args.per_kind} originals and copies for each of {len(kinds)} "
        f"kinds = {len(items)} documents (built in {time.perf_counter() - t0:.0f}s)"
    )
    spin_args = {
        k: v
        for k, v in (("skeleton_threshold", args.skeleton_threshold), ("content_threshold", args.content_threshold))
        if v is not None
    }
    if args.study:
        methods = candidates()
    else:
        methods = [
            ("exact_dedup", lambda: ExactDedup()),
            ("minhash (14x8, datatrove)", lambda: MinhashDedup()),
            ("minhash_spin", lambda: SpinRobustMinhashDedup(**spin_args)),
        ]
    truth = Truth(pages)
    results = []
    for name, factory in methods:
        res = evaluate(items, factory(), truth)
        results.append((name, res))
        print(f"  ran {name} in {res['seconds']:.0f}s", flush=True)
        if args.show_false:
            for line in res["false_examples"]:
                print(f"    false: {line}")
    print_table("recall/precision of duplicate detection", results, kinds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
