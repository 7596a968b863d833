"""Extraction throughput per core: Thresher's text and HTML paths beside trafilatura and resiliparse.

One process, one core, the same pages for every method, measured in the same run:

- ``thresher_text``: the ``clean_lines`` step on the page's plain text (input MB = text bytes);
- ``thresher_text+html``: ``clean_lines`` on the plain text with the page's HTML as evidence
  (``html_field``; input MB = text plus HTML bytes);
- ``thresher_html``: the ``extract_html`` step (default backend: HTML model and text cleaner jointly)
  on the raw HTML;
- ``thresher_html_model``: ``extract_html`` with the HTML line model alone (``html_weight=1``);
- ``resiliparse``: ``extract_plain_text(main_content=True)``;
- ``trafilatura``: ``trafilatura.extract(favor_precision=True)`` (FineWeb's settings).

Pages come from ``shared/data/webcorpus/pages-000.jsonl.gz`` (``html`` and ``text`` fields) and
``shared/data/extraction-bench/dev.jsonl.gz`` (``html`` and ``page_text``). MB/s counts UTF-8 bytes of
each method's *input* (HTML for the HTML methods, text for the text path).

    .venv/bin/python benchmarks/extraction_speed.py --pages 300
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("THRESHER_SHARED", REPO.parent / "shared"))


def load_pages(n_web: int, n_bench: int) -> list[tuple[str, str, str]]:
    """``(id, html, text)`` of the first pages of the webcorpus and of the extraction bench."""
    out: list[tuple[str, str, str]] = []
    web = SHARED / "data" / "webcorpus" / "pages-000.jsonl.gz"
    bench = SHARED / "data" / "extraction-bench" / "dev.jsonl.gz"
    for path, text_key, limit in ((web, "text", n_web), (bench, "page_text", n_bench)):
        if not path.exists():
            print(f"note: {path} not found, skipped", file=sys.stderr)
            continue
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for i, line in enumerate(f):
                if i >= limit:
                    break
                rec = json.loads(line)
                out.append((rec["id"], rec["html"], rec[text_key]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=300, help="webcorpus pages (default 300)")
    ap.add_argument("--bench-pages", type=int, default=105, help="extraction-bench pages (default all 105)")
    ap.add_argument(
        "--methods",
        default="thresher_text,thresher_text+html,thresher_html,thresher_html_model,resiliparse,trafilatura",
    )
    args = ap.parse_args()

    from resiliparse.extract.html2text import extract_plain_text

    from thresher.document import Document
    from thresher.extract.baselines import trafilatura_extract
    from thresher.extract.html import ExtractHtml
    from thresher.steps.base import get_step_class

    pages = load_pages(args.pages, args.bench_pages)
    if not pages:
        sys.exit("no pages found: set THRESHER_SHARED to the shared folder")
    html_mb = sum(len(h.encode("utf-8")) for _, h, _ in pages) / 1e6
    text_mb = sum(len(t.encode("utf-8")) for _, _, t in pages) / 1e6
    try:
        cleaner = get_step_class("clean_lines")()
        cleaner.process([Document("probe", "A probe line of text.\nHome", {"format": "text"})])
    except Exception as exc:  # the text path is another helper's step; measure what exists
        print(f"note: clean_lines unavailable ({exc}); text path skipped", file=sys.stderr)
        cleaner = None
    with_html = get_step_class("clean_lines")(html_field="html") if cleaner is not None else None
    extractor = ExtractHtml()
    html_model = ExtractHtml(html_weight=1.0)

    def thresher_text(page: tuple[str, str, str]) -> None:
        cleaner.process([Document(page[0], page[2], {"format": "text"})])  # type: ignore[union-attr]

    def thresher_html(page: tuple[str, str, str]) -> None:
        extractor.process([Document(page[0], page[1], {"format": "html"})])

    def thresher_text_html(page: tuple[str, str, str]) -> None:
        with_html.process([Document(page[0], page[2], {"format": "text", "html": page[1]})])  # type: ignore[union-attr]

    def thresher_html_model(page: tuple[str, str, str]) -> None:
        html_model.process([Document(page[0], page[1], {"format": "html"})])

    methods: dict[str, tuple[Callable[[tuple[str, str, str]], object], float]] = {
        "thresher_text": (thresher_text, text_mb),
        "thresher_text+html": (thresher_text_html, text_mb + html_mb),
        "thresher_html": (thresher_html, html_mb),
        "thresher_html_model": (thresher_html_model, html_mb),
        "resiliparse": (lambda p: extract_plain_text(p[1], main_content=True), html_mb),
        "trafilatura": (lambda p: trafilatura_extract(p[1]), html_mb),
    }
    chosen = [m for m in args.methods.split(",") if m]
    if cleaner is None:
        chosen = [m for m in chosen if m not in ("thresher_text", "thresher_text+html")]
    print(f"{len(pages)} pages, {html_mb:.1f} MB HTML, {text_mb:.1f} MB text; one process, one core")
    print(f"{'method':<22} {'seconds':>8} {'pages/s':>9} {'MB/s':>7}   input")
    rates: dict[str, float] = {}
    for name in chosen:
        fn, mb = methods[name]
        fn(pages[0])  # warm-up: imports, model load
        started = time.process_time()
        for page in pages:
            fn(page)
        elapsed = time.process_time() - started
        rates[name] = len(pages) / elapsed
        kind = {"thresher_text": "text", "thresher_text+html": "text + HTML"}.get(name, "HTML")
        print(f"{name:<22} {elapsed:>8.2f} {rates[name]:>9.1f} {mb / elapsed:>7.2f}   {kind}")
    for ref in ("trafilatura", "resiliparse"):
        if ref in rates:
            ratios = ", ".join(f"{n} {r / rates[ref]:.2f}x" for n, r in rates.items() if n != ref)
            print(f"pages/s relative to {ref}: {ratios}")
    print("times are CPU seconds of this process (time.process_time), robust to other load on the machine")


if __name__ == "__main__":
    main()
