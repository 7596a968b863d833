"""Baselines the boilerplate harness measures Thresher against (benchmark-only code paths).

- ``c4_lines``: the line rules of C4 (Raffel et al. 2020, https://jmlr.org/papers/v21/20-074.html,
  section 2.2), as datatrove implements them in ``C4QualityFilter``
  (``src/datatrove/pipeline/filters/c4_filters.py``, datatrove 0.10.1), applied as a *line filter* to
  the page's plain text. Only the per-line rules are applied; C4's page-level rules (fewer than 5
  sentences, "lorem ipsum", curly brackets) drop whole pages and are not boilerplate removal, so they
  are left out here.
- ``justext``: jusText 3 with the English stop list and its default parameters on the raw HTML.
- ``trafilatura``: ``trafilatura.extract(html, favor_precision=True, include_comments=False,
  deduplicate=True)``, the settings FineWeb uses through datatrove's ``Trafilatura`` extractor
  (``src/datatrove/pipeline/extractors/trafilatura.py``).
- ``resiliparse``: ``extract_plain_text(html, main_content=True)`` (Resiliparse's own main-content
  heuristics, other options at their defaults).

Heavy imports stay inside functions (this package is scanned for steps).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from thresher.extract.evaluate import Method

from thresher.filters.c4 import CITATION_REGEX, ELLIPSIS, END_PUNCTUATION, POLICY_SUBSTRINGS

# C4 line rules, values from datatrove c4_filters.py (after the C4 paper / tensorflow-datasets c4_utils.py).
C4_MIN_WORDS_PER_LINE = 3  # "only retained lines that contained at least 3 words"
C4_MAX_WORD_LENGTH = 1000  # tfds c4_utils: lines with a word over 1000 characters are dropped


def c4_line_rule(line: str) -> str | None:
    """The C4 rule that removes ``line``, or ``None`` when C4 keeps it."""
    line = line.strip()
    words = line.split()
    if any(len(w) > C4_MAX_WORD_LENGTH for w in words):
        return "too_long_word"
    line = CITATION_REGEX.sub("", line)
    if not line.endswith(END_PUNCTUATION) or line.endswith(ELLIPSIS):
        return "no_terminal_punctuation"
    if len(words) < C4_MIN_WORDS_PER_LINE:
        return "too_few_words"
    lowered = line.lower()
    if "javascript" in lowered:
        return "javascript"
    if any(p in lowered for p in POLICY_SUBSTRINGS):
        return "policy"
    return None


def c4_lines(text: str) -> str:
    """Keep the lines of ``text`` that pass the C4 line rules (lines unchanged, in order)."""
    return "\n".join(line for line in text.split("\n") if c4_line_rule(line) is None)


def justext_extract(html: str, language: str = "English") -> str:
    """jusText's non-boilerplate paragraphs of ``html``, one per line."""
    import justext

    paragraphs = justext.justext(html, justext.get_stoplist(language))
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def trafilatura_extract(html: str) -> str:
    """Trafilatura with FineWeb's settings (favor_precision, no comments, deduplicate)."""
    import trafilatura

    return (
        trafilatura.extract(html, favor_precision=True, include_comments=False, deduplicate=True) or ""
    )


def resiliparse_extract(html: str) -> str:
    """Resiliparse's main-content extraction with its default options."""
    from resiliparse.extract.html2text import extract_plain_text

    return extract_plain_text(html, main_content=True)


def baseline_methods() -> list[Method]:
    """The baselines as harness methods, in report order."""
    from thresher.extract.evaluate import Method

    def on_html(fn: Any) -> Any:
        return lambda page: fn(page["html"])

    return [
        Method("c4_lines", "line_filter", lambda p: c4_lines(p["page_text"]), "C4 line rules on page_text"),
        Method("justext", "extractor", on_html(justext_extract), "jusText, English stop list", ("html",)),
        Method("resiliparse", "extractor", on_html(resiliparse_extract), "Resiliparse main_content=True",
               ("html",)),
        Method("trafilatura", "extractor", on_html(trafilatura_extract), "trafilatura favor_precision=True",
               ("html",)),
    ]
