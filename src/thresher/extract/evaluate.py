"""Boilerplate-removal evaluation harness (``thresher eval boilerplate FILE``).

The benchmark format is the one of ``shared/data/extraction-bench/dev.jsonl.gz``: one JSON object per
page with ``id``, ``html``, ``page_text`` (the full WET-like text, one block per line) and
``line_labels`` (one 0/1 label per line of ``page_text``; 1 = main content).

Public API (stable, also used by the line cleaner's author):

- :func:`split_of` ``(page_id) -> "tune" | "holdout"``: the deterministic 70/30 division of the bench
  pages (first 8 bytes of ``sha256(page_id)`` as a big-endian integer, modulo 100, below 70 is
  ``"tune"``). Tune rules and thresholds on ``"tune"`` pages only; ``"holdout"`` is for reporting.
- :func:`normalize_tokens` ``(text) -> list[str]``: the bench's normalisation (NFKC, casefold, tokens
  are maximal runs of letters/digits ``[^\\W_]+``, each CJK ideograph or kana one token).
- :func:`map_output_to_lines` ``(lines, output_text) -> list[bool]``: the one rule mapping an HTML
  extractor's output back to the page lines: a line counts as kept when its token sequence occurs
  as a contiguous run in the normalised output (lines without tokens are never kept).
- :func:`map_filtered_lines` ``(lines, output_text) -> list[bool]``: for *line filters* (output is a
  subsequence of the input lines): exact in-order matching of lines; falls back to
  :func:`map_output_to_lines` when the filter changed lines.
- :func:`score_page` ``(lines, labels, kept) -> Counts`` and :class:`Counts` (``tp/fp/fn`` by lines
  and by characters, ``+`` to micro-average, :meth:`Counts.metrics` for precision/recall/F1).
- :func:`load_bench` ``(path) -> list[dict]``, :func:`evaluate_boilerplate` and :func:`format_table`.

Methods: ``thresher_text`` (``clean_lines`` on ``page_text``, a line filter), ``thresher_text+html``
(``clean_lines`` on ``page_text`` with the page's HTML as evidence, ``html_field``: still a line filter,
its decisions are on the page's own lines), ``thresher_html`` (``extract_html``, title off since the
bench's ground truth has no headlines; the HTML model and the text cleaner decide jointly on the
rendered lines, :mod:`thresher.extract.joint`), ``thresher_html_model`` (the same with the HTML model
alone, ``html_weight=1``), the baselines of :mod:`thresher.extract.baselines`, and ``labels_ceiling``
(the labelled lines themselves as an extractor output).

**The ceiling of the token-run rule.** The rule is applied to the whole output as one token sequence, so
a boilerplate line of 1-3 tokens ("Politics", "Share", "May", "Facebook") counts as kept whenever those
words occur next to each other anywhere in the article. Feeding the true labelled lines back as an
extractor's output (row ``labels_ceiling``) therefore has recall 1.0 but precision by lines of only
0.833 (tune) / 0.733 (holdout): F1 by lines 0.909 / 0.846, by characters 0.996 / 0.994. On the holdout
pages 193 of its 199 false positives are such short lines (6 are long teaser/headline copies of article
sentences). Checked three ways (``shared`` bench, 105 pages):

- applying the rule per output line instead of over the whole output changes nothing (0.909 / 0.846);
- no subset of a page's own lines does much better: a greedy search that drops true lines whenever that
  removes more false positives than true positives reaches only 0.916 / 0.859 (and loses characters);
- the only way past it would be an output that leaves out article words, which no extractor should do.

So an F1 by lines of 0.90 on the holdout pages is out of reach for *any* HTML extractor under this rule
(the target is reachable on the tune pages, whose ceiling is 0.909). Line filters (``thresher_text``,
``c4_lines``) are mapped by exact in-order line matching (:func:`map_filtered_lines`), which has no
such ceiling, so their rows by lines are not comparable with the extractors' rows; by characters the
short lines weigh little and the rows compare fairly.

Figures are **micro-averaged**: true/false positives and false negatives are summed over all pages of a
split before precision, recall and F1 are computed (long pages weigh more). "By characters" weighs each
line by its length in characters (``len(line)``).
"""

from __future__ import annotations

import gzip
import hashlib
import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

Split = Literal["tune", "holdout"]
SplitChoice = Literal["tune", "holdout", "all"]

#: share of pages (percent) in the tuning part of the split.
TUNE_PERCENT = 70

# -- split -----------------------------------------------------------------------------------------


def split_of(page_id: str) -> Split:
    """Which part of the bench a page belongs to: ``"tune"`` (about 70 %) or ``"holdout"`` (about 30 %).

    Deterministic: the first 8 bytes of ``sha256(page_id.encode("utf-8"))`` read as a big-endian
    integer, modulo 100; values below :data:`TUNE_PERCENT` are ``"tune"``.
    """
    digest = hashlib.sha256(page_id.encode("utf-8")).digest()
    return "tune" if int.from_bytes(digest[:8], "big") % 100 < TUNE_PERCENT else "holdout"


# -- normalisation -----------------------------------------------------------------------------------

# CJK ideographs (unified, extensions A, compatibility), hiragana, katakana (incl. phonetic extensions
# and half-width forms) are one token each, as the bench README says.
_CJK = (
    "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0002fa1f"
)
_TOKEN_RE = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_])+")


def normalize_tokens(text: str) -> list[str]:
    """The bench's token sequence of ``text``: NFKC, casefold, letter/digit runs, CJK chars one each."""
    return _TOKEN_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def normalize_tokens_many(lines: list[str]) -> list[list[str]]:
    """:func:`normalize_tokens` of each line, with one normalisation pass over all of them."""
    joined = unicodedata.normalize("NFKC", "\n".join(lines)).casefold().split("\n")
    if len(joined) != len(lines):  # a line held a line break: normalise one by one
        return [normalize_tokens(line) for line in lines]
    return [_TOKEN_RE.findall(line) for line in joined]


_SEP = "\x00"


def _joined(tokens: list[str]) -> str:
    return _SEP + _SEP.join(tokens) + _SEP


def map_output_to_lines(lines: list[str], output_text: str) -> list[bool]:
    """For each page line, whether its token sequence occurs as a contiguous run in ``output_text``.

    This is the single rule used for every HTML extractor. Lines without any token are never kept.
    """
    haystack = _joined(normalize_tokens(output_text))
    kept = []
    for line in lines:
        tokens = normalize_tokens(line)
        kept.append(bool(tokens) and _joined(tokens) in haystack)
    return kept


def map_filtered_lines(lines: list[str], output_text: str) -> list[bool]:
    """Kept mask for a line filter whose output lines are an in-order subset of ``lines``.

    Each output line is matched to the next equal input line (after stripping white space). When an
    output line matches no remaining input line (the filter rewrote lines), the page falls back to
    :func:`map_output_to_lines`.
    """
    kept = [False] * len(lines)
    if not output_text.strip():
        return kept
    stripped = [line.strip() for line in lines]
    pos = 0
    for out in output_text.split("\n"):
        out = out.strip()
        if not out:
            continue
        while pos < len(stripped) and stripped[pos] != out:
            pos += 1
        if pos == len(stripped):
            return map_output_to_lines(lines, output_text)
        kept[pos] = True
        pos += 1
    return kept


# -- scoring -------------------------------------------------------------------------------------------


@dataclass
class Counts:
    """True positives, false positives and false negatives, by lines and by characters."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tp_chars: int = 0
    fp_chars: int = 0
    fn_chars: int = 0
    pages: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.tp + other.tp,
            self.fp + other.fp,
            self.fn + other.fn,
            self.tp_chars + other.tp_chars,
            self.fp_chars + other.fp_chars,
            self.fn_chars + other.fn_chars,
            self.pages + other.pages,
        )

    def metrics(self) -> dict[str, float]:
        """Precision, recall and F1 by lines and by characters (micro-averaged over the pages summed)."""

        def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
            p = tp / (tp + fp) if tp + fp else 0.0
            r = tp / (tp + fn) if tp + fn else 0.0
            f = 2 * p * r / (p + r) if p + r else 0.0
            return p, r, f

        p, r, f = prf(self.tp, self.fp, self.fn)
        pc, rc, fc = prf(self.tp_chars, self.fp_chars, self.fn_chars)
        return {
            "precision_lines": p,
            "recall_lines": r,
            "f1_lines": f,
            "precision_chars": pc,
            "recall_chars": rc,
            "f1_chars": fc,
        }


def score_page(lines: list[str], labels: list[int], kept: list[bool]) -> Counts:
    """Count one page's true/false positives and false negatives of kept lines against the labels."""
    if not (len(lines) == len(labels) == len(kept)):
        raise ValueError(
            f"score_page: {len(lines)} lines, {len(labels)} labels and {len(kept)} kept flags differ; "
            "pass one label and one flag per line of page_text"
        )
    c = Counts(pages=1)
    for line, label, k in zip(lines, labels, kept, strict=True):
        n = len(line)
        if k and label:
            c.tp += 1
            c.tp_chars += n
        elif k:
            c.fp += 1
            c.fp_chars += n
        elif label:
            c.fn += 1
            c.fn_chars += n
    return c


# -- bench loading ---------------------------------------------------------------------------------------


def load_bench(path: Path | str) -> list[dict[str, Any]]:
    """Read a bench file (JSON Lines, optionally gzip) and check each page's labels match its lines."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    pages = []
    with opener(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                page = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"{path}: line {n} is not valid JSON ({exc}); is this a bench file?") from exc
            missing = [k for k in ("id", "page_text", "line_labels") if k not in page]
            if missing:
                raise ValueError(
                    f"{path}: line {n} lacks {', '.join(missing)}; a bench page needs id, page_text, "
                    "line_labels (and html for HTML extractors)"
                )
            if len(page["page_text"].split("\n")) != len(page["line_labels"]):
                raise ValueError(
                    f"{path}: page {page['id']} has {len(page['page_text'].split(chr(10)))} lines but "
                    f"{len(page['line_labels'])} labels; line_labels needs one label per line"
                )
            pages.append(page)
    return pages


# -- methods ------------------------------------------------------------------------------------------


@dataclass
class Method:
    """A method to evaluate: a name, what it reads (``"html"`` or ``"text"``) and a function.

    ``run(page) -> str`` returns the kept text. ``kind`` says how the output is mapped to lines:
    ``"extractor"`` (token-run rule, :func:`map_output_to_lines`) or ``"line_filter"``
    (:func:`map_filtered_lines`).
    """

    name: str
    kind: Literal["extractor", "line_filter"]
    run: Callable[[dict[str, Any]], str]
    description: str = ""
    needs: tuple[str, ...] = field(default_factory=tuple)


def available_methods() -> dict[str, Method]:
    """All methods the harness knows, in report order (Thresher's paths first, then the baselines)."""
    from thresher.extract import baselines

    methods: dict[str, Method] = {}
    for m in _thresher_methods() + baselines.baseline_methods():
        methods[m.name] = m
    methods["labels_ceiling"] = Method(
        "labels_ceiling",
        "extractor",
        _labelled_lines,
        "the labelled lines themselves, mapped by the token-run rule: the best any extractor can score",
    )
    return methods


def _labelled_lines(page: dict[str, Any]) -> str:
    """The page's lines labelled 1, as an extractor output (the ceiling of the token-run rule).

    The token-run rule counts a short boilerplate line ("Politics", "Share") as kept whenever its
    words occur in the extracted article, so even a perfect extractor has false positives by lines.
    """
    lines = page["page_text"].split("\n")
    return "\n".join(line for line, label in zip(lines, page["line_labels"], strict=True) if label)


DEFAULT_METHODS = [
    "thresher_text",
    "thresher_text+html",
    "thresher_html",
    "thresher_html_model",
    "c4_lines",
    "justext",
    "resiliparse",
    "trafilatura",
    "labels_ceiling",
]


_CLEANER_PROBLEM: list[str] = []


def _clean_lines_step() -> Any | None:
    """The ``clean_lines`` step (headline kept off, as the bench's ground truth has no headlines),
    or ``None`` when it cannot be imported or run (the reason goes to the report's ``skipped``)."""
    from thresher.document import Document

    _CLEANER_PROBLEM.clear()
    try:
        from thresher.steps.base import get_step_class, step_parameters

        cls = get_step_class("clean_lines")
        params = {"keep_title": False} if "keep_title" in step_parameters(cls) else {}
        step = cls(**params)
        step.process([Document("probe", "A probe line of text.\nHome", {"format": "text"})])
        return step
    except Exception as exc:
        _CLEANER_PROBLEM.append(f"clean_lines unavailable: {type(exc).__name__}: {exc}"[:300])
        return None


def _run_clean_lines(step: Any, page_id: str, text: str, html: str | None = None) -> str:
    from thresher.document import Document

    doc = Document(page_id, text, {"format": "text"} if html is None else {"format": "text", "html": html})
    out = step.process([doc])
    if not out or out[0].drop is not None:
        return ""
    return out[0].text


def _thresher_methods() -> list[Method]:
    methods = []
    cleaner = _clean_lines_step()
    if cleaner is not None:
        methods.append(
            Method(
                "thresher_text",
                "line_filter",
                lambda page: _run_clean_lines(cleaner, page["id"], page["page_text"]),
                "clean_lines on page_text (text path)",
            )
        )
        with_html = type(cleaner)(keep_title=False, html_field="html")
        methods.append(
            Method(
                "thresher_text+html",
                "line_filter",
                lambda page: _run_clean_lines(with_html, page["id"], page["page_text"], page["html"]),
                "clean_lines on page_text with the page's HTML (html_field)",
                ("html",),
            )
        )

    def html_path(page: dict[str, Any], html_weight: float | None) -> str:
        from thresher.document import Document
        from thresher.extract.html import ExtractHtml

        step = ExtractHtml(title=False) if html_weight is None else ExtractHtml(title=False, html_weight=html_weight)
        doc = Document(page["id"], page["html"], {"format": "html"})
        step.process([doc])
        if doc.drop is not None:
            return ""
        return doc.text

    methods.append(
        Method(
            "thresher_html", "extractor", lambda p: html_path(p, None), "extract_html (title off)", ("html",)
        )
    )
    methods.append(
        Method(
            "thresher_html_model",
            "extractor",
            lambda p: html_path(p, 1.0),
            "extract_html with the HTML line model alone (html_weight=1, title off)",
            ("html",),
        )
    )
    return methods


# -- the harness -------------------------------------------------------------------------------------------


def _select(pages: Iterable[dict[str, Any]], split: SplitChoice) -> list[dict[str, Any]]:
    if split == "all":
        return list(pages)
    return [p for p in pages if split_of(p["id"]) == split]


def evaluate_boilerplate(
    path: Path,
    methods: list[str] | None = None,
    split: SplitChoice | None = None,
) -> dict[str, Any]:
    """Score each method on the bench file at ``path``.

    ``methods`` defaults to every available method of :data:`DEFAULT_METHODS`; ``split`` restricts the
    report to one part (``"tune"``, ``"holdout"`` or ``"all"``); by default all three are reported.
    Returns ``{"file", "pages", "splits": {split: n_pages}, "averaging": "micro",
    "results": {method: {split: metrics + counts, "seconds": s}}, "skipped": {method: reason}}``.
    """
    pages = load_bench(path)
    known = available_methods()
    skipped: dict[str, str] = {}
    if methods is None:
        names = [m for m in DEFAULT_METHODS if m in known]
        for m in DEFAULT_METHODS:
            if m not in known:
                skipped[m] = _CLEANER_PROBLEM[0] if _CLEANER_PROBLEM else "not available"
    else:
        unknown = [m for m in methods if m not in known]
        if unknown:
            raise ValueError(
                f"unknown method(s) {', '.join(unknown)}; choose among {', '.join(known)}"
            )
        names = list(methods)
    splits: list[SplitChoice] = [split] if split else ["tune", "holdout", "all"]
    per_page_split = {p["id"]: split_of(p["id"]) for p in pages}
    results: dict[str, Any] = {}
    for name in names:
        method = known[name]
        totals = {s: Counts() for s in ("tune", "holdout", "all")}
        failures = 0
        started = time.perf_counter()
        for page in _select(pages, split or "all"):
            if "html" in method.needs and not page.get("html"):
                continue
            lines = page["page_text"].split("\n")
            try:
                output = method.run(page) or ""
            except Exception:  # a method failing on one page counts as extracting nothing
                failures += 1
                output = ""
            if method.kind == "line_filter":
                kept = map_filtered_lines(lines, output)
            else:
                kept = map_output_to_lines(lines, output)
            counts = score_page(lines, page["line_labels"], kept)
            totals["all"] = totals["all"] + counts
            totals[per_page_split[page["id"]]] = totals[per_page_split[page["id"]]] + counts
        elapsed = time.perf_counter() - started
        results[name] = {
            s: {**totals[s].metrics(), **totals[s].__dict__} for s in splits
        }
        results[name]["seconds"] = round(elapsed, 3)
        results[name]["failed_pages"] = failures
        results[name]["description"] = method.description
    return {
        "file": str(path),
        "pages": len(pages),
        "splits": {s: sum(1 for p in pages if s == "all" or per_page_split[p["id"]] == s) for s in splits},
        "averaging": "micro",
        "results": results,
        "skipped": skipped,
    }


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table of :func:`evaluate_boilerplate`'s result: P/R/F1 by lines and by chars."""
    splits = list(result["splits"])
    out = [
        f"Boilerplate removal on {result['file']} ({result['pages']} pages; "
        + ", ".join(f"{s}: {n} pages" for s, n in result["splits"].items())
        + "); micro-averaged over lines / characters of main content"
    ]
    header = f"{'method':<22} {'split':<8} {'P lines':>8} {'R lines':>8} {'F1 lines':>9} " \
        f"{'P chars':>8} {'R chars':>8} {'F1 chars':>9} {'sec':>7}"
    out.append(header)
    out.append("-" * len(header))
    for name, res in result["results"].items():
        for s in splits:
            m = res[s]
            out.append(
                f"{name:<22} {s:<8} {m['precision_lines']:>8.3f} {m['recall_lines']:>8.3f} "
                f"{m['f1_lines']:>9.3f} {m['precision_chars']:>8.3f} {m['recall_chars']:>8.3f} "
                f"{m['f1_chars']:>9.3f} {res['seconds']:>7.1f}"
            )
    for name, res in result["results"].items():
        if res.get("failed_pages"):
            out.append(f"{name}: raised on {res['failed_pages']} page(s), counted as extracting nothing")
    for name, why in result.get("skipped", {}).items():
        out.append(f"{name}: skipped, {why}")
    return "\n".join(out)
