"""Parity with datatrove: same keep/drop decision on the same documents, filter by filter.

Runs each of datatrove 0.10's quality filters and the matching Thresher step on the same real
pages (``../shared/data/webcorpus/pages-000.jsonl.gz``, field ``text``; English pages by default,
as datatrove runs these filters behind a language filter) and prints, per filter: documents,
agreement (share of identical keep/drop decisions), agreement on the drop reason, and the
disagreements grouped by cause with an example of each. It also checks the word splitter
(Thresher's ``split_words`` against datatrove's spaCy ``split_into_words``) and the whole FineWeb
chain (Gopher repetition -> Gopher quality -> C4 without the terminal-punctuation rule ->
FineWeb), including the text the C4 step leaves behind.

    python benchmarks/parity_datatrove.py [--limit N] [--all-languages] [--data PATH]
    python benchmarks/parity_datatrove.py --export-assets   # regenerate the spaCy/datatrove data

Needs the ``bench`` extra (datatrove[processing]==0.10.1, spacy). Runs offline: datatrove's C4
bad-words filter is pointed at Thresher's shipped copy of the same LDNOOBW list.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "webcorpus" / "pages-000.jsonl.gz"
ASSETS = REPO / "src" / "thresher" / "assets"


# -- the data exported from spaCy / datatrove (see thresher/text/spacy_en.py) ---------------------


def export_spacy_en_rules() -> dict[str, Any]:
    """The data that defines spaCy's blank English tokenizer and sentencizer, as plain JSON."""
    import spacy
    from spacy.pipeline.sentencizer import Sentencizer

    nlp = spacy.blank("en")
    tok = nlp.tokenizer
    defaults = nlp.Defaults
    rules = {key: [sub[65] for sub in subs] for key, subs in tok.rules.items()}  # 65 = ORTH
    return {
        "source": f"spaCy {spacy.__version__} spacy.blank('en') (MIT licence, (c) ExplosionAI GmbH)",
        "prefixes": [p for p in defaults.prefixes if p.strip()],
        "suffixes": [s for s in defaults.suffixes if s.strip()],
        "infixes": [i for i in defaults.infixes if i.strip()],
        "url_match": tok.url_match.__self__.pattern if tok.url_match else None,
        "token_match": tok.token_match.__self__.pattern if tok.token_match else None,
        "special_cases": dict(sorted(rules.items())),
        "sentence_punct_chars": sorted(Sentencizer.default_punct_chars),
    }


def export_datatrove_punctuation() -> dict[str, Any]:
    """datatrove's punctuation sets (Gopher's symbol words, FineWeb's terminal punctuation)."""
    from importlib.metadata import version

    from datatrove.utils.text import PUNCTUATION, TERMINAL_PUNCTUATION

    return {
        "source": f"datatrove {version('datatrove')} src/datatrove/utils/text.py (Apache-2.0)",
        "punctuation": PUNCTUATION,
        "terminal_punctuation": "".join(sorted(TERMINAL_PUNCTUATION)),
    }


def check_assets(write: bool = False) -> list[str]:
    """Compare (or rewrite) the shipped assets with what the installed spaCy/datatrove define."""
    problems = []
    for name, data in (
        ("spacy_en_tokenizer.json", export_spacy_en_rules()),
        ("punctuation.json", export_datatrove_punctuation()),
    ):
        path = ASSETS / name
        if write:
            path.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
            continue
        shipped = json.loads(path.read_text("utf-8"))
        for key in data:
            if key != "source" and shipped.get(key) != data[key]:
                problems.append(f"{name}: {key} differs from the installed library ({data['source']})")
    return problems


# -- data ----------------------------------------------------------------------------------------


def load_pages(path: Path, limit: int | None = None, english_only: bool = True) -> list[dict[str, Any]]:
    """Pages of the shared corpus as ``{"id", "text", "lang"}`` (English only unless told otherwise)."""
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if english_only and rec.get("lang") != "en":
                continue
            out.append({"id": rec["id"], "text": rec["text"] or "", "lang": rec.get("lang")})
            if limit and len(out) >= limit:
                break
    return out


# -- the filter pairs ----------------------------------------------------------------------------


def _patch_datatrove_badwords() -> None:
    """Make datatrove read the LDNOOBW list from Thresher's assets instead of downloading it."""
    import datatrove.pipeline.filters.c4_filters as c4f

    def local_asset(remote_path: str, *args: Any, **kwargs: Any) -> str:
        lang = remote_path.rstrip("/").rsplit("/", 1)[-1]
        path = ASSETS / "badwords" / f"{lang}.txt"
        if not path.exists():
            raise FileNotFoundError(f"no shipped bad-words list for {lang!r}")
        return str(path)

    c4f.cached_asset_path_or_download = local_asset


def filter_pairs() -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """name -> (datatrove filter factory, Thresher step factory), all with published defaults."""
    from datatrove.pipeline.filters import (
        C4BadWordsFilter,
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    from thresher.filters.c4 import C4BadWords, C4Quality
    from thresher.filters.fineweb import FineWebQuality
    from thresher.filters.gopher_quality import GopherQuality
    from thresher.filters.gopher_repetition import GopherRepetition

    _patch_datatrove_badwords()
    return {
        "gopher_repetition": (GopherRepetitionFilter, GopherRepetition),
        "gopher_quality": (GopherQualityFilter, GopherQuality),
        "c4": (C4QualityFilter, C4Quality),
        "c4 (no terminal punct)": (
            lambda: C4QualityFilter(filter_no_terminal_punct=False),
            lambda: C4Quality(filter_no_terminal_punct=False),
        ),
        "c4_badwords": (C4BadWordsFilter, C4BadWords),
        "fineweb_quality": (FineWebQualityFilter, FineWebQuality),
    }


CHAIN = ("gopher_repetition", "gopher_quality", "c4 (no terminal punct)", "fineweb_quality")


def _dt_decide(flt: Any, doc: Any) -> tuple[bool, str | None]:
    try:
        res = flt.filter(doc)
    except Exception as exc:  # datatrove raises on some inputs (e.g. lone surrogates in spaCy)
        return False, f"raised {type(exc).__name__}"
    if isinstance(res, tuple):
        return bool(res[0]), res[1]
    return bool(res), None


def _th_decide(step: Any, doc: Any) -> tuple[bool, str | None]:
    step.process([doc])
    return (doc.drop is None), (doc.drop.reason if doc.drop else None)


# datatrove's reason for each Thresher reason where the names differ
REASON_ALIASES = {"badwords": "document_removed_with_badwords"}


def run_parity(
    pages: list[dict[str, Any]], names: Iterable[str] | None = None, chain: bool = True
) -> dict[str, dict[str, Any]]:
    """Run the filter pairs (all by default) and the FineWeb chain over the pages; return the
    per-filter comparison (plus ``"words"``, the word-splitter check, and ``"chain"``)."""
    from datatrove.data import Document as DtDocument

    from thresher.document import Document
    from thresher.text.words import split_words

    pairs = filter_pairs()
    names = list(names or pairs)
    dt = {name: pairs[name][0]() for name in names}
    th = {name: pairs[name][1]() for name in names}
    chain_dt = [pairs[name][0]() for name in CHAIN]
    chain_th = [pairs[name][1]() for name in CHAIN]
    results: dict[str, dict[str, Any]] = {
        name: {"docs": 0, "agree": 0, "same_reason": 0, "causes": Counter(), "examples": {}} for name in names
    }
    words = {"docs": 0, "agree": 0, "examples": []}
    chain_result = {"docs": 0, "agree": 0, "same_text": 0, "causes": Counter(), "examples": {}}

    from datatrove.utils.text import split_into_words

    for page in pages:
        text, meta = page["text"], {"language": "en"}
        # word splitter
        try:
            ref_words = split_into_words(text, "en")
        except Exception:
            ref_words = None
        words["docs"] += 1
        mine = split_words(text)
        if ref_words == mine:
            words["agree"] += 1
        elif len(words["examples"]) < 5:
            words["examples"].append((page["id"], _first_diff(ref_words or [], mine)))
        for name in names:
            keep_dt, why_dt = _dt_decide(dt[name], DtDocument(text=text, id=page["id"], metadata=dict(meta)))
            keep_th, why_th = _th_decide(th[name], Document(page["id"], text, dict(meta)))
            r = results[name]
            r["docs"] += 1
            if keep_dt == keep_th:
                r["agree"] += 1
                if REASON_ALIASES.get(why_th, why_th) == why_dt:
                    r["same_reason"] += 1
            else:
                cause = f"datatrove {why_dt or 'keep'} / thresher {why_th or 'keep'}"
                r["causes"][cause] += 1
                r["examples"].setdefault(cause, page["id"])
        if chain:
            dt_doc = DtDocument(text=text, id=page["id"], metadata=dict(meta))
            th_doc = Document(page["id"], text, dict(meta))
            dt_keep, dt_why = True, None
            for name, flt in zip(CHAIN, chain_dt):
                dt_keep, dt_why = _dt_decide(flt, dt_doc)
                if not dt_keep:
                    dt_why = f"{name}:{dt_why}"
                    break
            th_keep, th_why = True, None
            for name, step in zip(CHAIN, chain_th):
                step.process([th_doc])
                if th_doc.drop is not None:
                    th_keep, th_why = False, f"{name}:{th_doc.drop.reason}"
                    break
            c = chain_result
            c["docs"] += 1
            if dt_keep == th_keep:
                c["agree"] += 1
                if not dt_keep or dt_doc.text == th_doc.text:
                    c["same_text"] += 1
                else:
                    c["causes"]["kept by both, different text"] += 1
                    c["examples"].setdefault("kept by both, different text", page["id"])
            else:
                cause = f"datatrove {dt_why or 'keep'} / thresher {th_why or 'keep'}"
                c["causes"][cause] += 1
                c["examples"].setdefault(cause, page["id"])
    if chain:
        results["chain"] = chain_result
    results["words"] = words
    return results


def _first_diff(a: list[str], b: list[str]) -> str:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return f"at word {i}: datatrove {a[i:i + 4]!r} / thresher {b[i:i + 4]!r}"


def print_report(results: dict[str, dict[str, Any]], seconds: float) -> None:
    """Print the per-filter table and the disagreements."""
    w = results.get("words")
    if w:
        print(
            f"word splitter: {w['agree']}/{w['docs']} documents with identical word lists "
            f"({100 * w['agree'] / max(w['docs'], 1):.2f}%)"
        )
        for doc_id, diff in w["examples"]:
            print(f"    {doc_id}: {diff}")
    print()
    print(f"{'filter':<26}{'docs':>7}{'agree':>9}{'%':>9}{'same reason %':>15}")
    for name, r in results.items():
        if name == "words":
            continue
        pct = 100 * r["agree"] / max(r["docs"], 1)
        extra = r.get("same_reason", r.get("same_text", 0))
        print(f"{name:<26}{r['docs']:>7}{r['agree']:>9}{pct:>9.2f}{100 * extra / max(r['docs'], 1):>15.2f}")
    print("(chain: last column = kept by both with identical final text, or dropped by both)")
    for name, r in results.items():
        if name == "words" or not r["causes"]:
            continue
        print(f"\n{name}: disagreements by cause")
        for cause, n in r["causes"].most_common():
            print(f"    {n:>5}  {cause}   e.g. {r['examples'][cause]}")
    print(f"\n({seconds:.1f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="first N (English) pages only")
    parser.add_argument("--all-languages", action="store_true", help="every page, not only English ones")
    parser.add_argument("--filters", nargs="*", default=None, help="only these filters")
    parser.add_argument("--export-assets", action="store_true", help="rewrite the spaCy/datatrove data assets")
    args = parser.parse_args(argv)
    if args.export_assets:
        check_assets(write=True)
        print(f"wrote {ASSETS / 'spacy_en_tokenizer.json'} and {ASSETS / 'punctuation.json'}")
        return 0
    problems = check_assets()
    for p in problems:
        print("WARNING:", p)
    if not args.data.exists():
        print(f"data not found: {args.data} (pass --data)", file=sys.stderr)
        return 2
    pages = load_pages(args.data, args.limit, english_only=not args.all_languages)
    t0 = time.perf_counter()
    results = run_parity(pages, args.filters)
    print(f"{len(pages)} pages from {args.data.name}" + ("" if args.all_languages else " (lang == en)"))
    print_report(results, time.perf_counter() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

