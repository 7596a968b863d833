"""HTML to text: the ``extract_html`` step.

Documents whose ``metadata["format"] == "html"`` (WARC records, JSONL read with ``--html-field``)
get their text replaced by the main content, one block element per line (the page title first when
``title=True`` and the page has one), and ``metadata["format"]`` set to ``"text"``. Other documents
pass through unchanged.

Backends (``backend=``):

- ``"thresher"`` (default): the page is parsed by libxml2 (lxml) and rendered to lines by one walk of
  the tree in C (:mod:`thresher.extract.html_render`), keeping for each line the cues of its place in
  the page (tag path, class/id words such as ``nav``/``footer``/``comment``, link density, the
  container holding most of the page's prose); a two-stage logistic model over those cues
  (:mod:`thresher.extract.html_model`, weights in ``thresher/assets/html/model.npz``, fitted by
  ``python -m thresher.extract.html_train`` on the *tune* part of the extraction bench only, see
  :mod:`thresher.extract.evaluate`) keeps the main content lines.
- ``"resiliparse"``: ``resiliparse.extract.html2text.extract_plain_text(main_content=True)``.
- ``"trafilatura"``: ``trafilatura.extract(favor_precision=...)`` (optional dependency).

Robustness (each case rejects the document with a reason instead of failing the run):

- ``binary_content``: raw bytes or decoded text that is mostly control characters / U+FFFD.
- ``too_large``: HTML larger than ``max_html_chars`` (checked before parsing).
- ``too_deep``: element nesting deeper than ``max_depth``. For the ``resiliparse``/``trafilatura``
  backends it is estimated from the tags before parsing: Resiliparse's extractor takes about 10 s on a
  10,000-deep page, in C code no signal interrupts. The ``thresher`` backend parses with libxml2 (linear
  in the depth, but it stops building the tree at depth 2048 and drops what follows) and rejects the
  page when its walk meets an element deeper than ``html_render.MAX_DEPTH`` (1000).
- ``timeout``: extraction took longer than ``timeout_s``. Trafilatura has no time limit of its own.
  The choice made here: a size cap before parsing bounds the C parsers (lexbor and libxml2 are
  linear and fast), and the Python part is bounded by ``signal.setitimer(ITIMER_REAL)`` + a
  ``SIGALRM`` handler, installed only when the step runs in the *main thread* of its process (the
  case for the local executor's worker processes and for the CLI). Elsewhere (threads) only the size
  cap applies; no helper process is spawned per page, which would cost more than the extraction.
  Any previous alarm handler and timer are restored afterwards.
- ``parse_error``: the parser raised (the message is kept in the drop details).
- ``empty_extraction``: the extractor found no main content (no body, navigation only...).

Encoding: documents normally arrive as ``str`` decoded by the reader. If ``text`` is ``bytes``, valid
UTF-8 is taken as such; otherwise the charset is detected with Resiliparse's ``detect_encoding``
(uchardet, which does not trust a wrong ``<meta charset>``) and decoded with ``bytes_to_str``.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from thresher.document import Document
from thresher.extract.joint import HTML_WEIGHT, check_weight, extract_joint
from thresher.extract.lines import LineCleaner, count_removals
from thresher.steps.base import Batch, Step, register

Backend = Literal["thresher", "resiliparse", "trafilatura"]


class ExtractionTimeout(Exception):
    """Raised inside an extraction that ran past its time budget."""


# -- time budget --------------------------------------------------------------------------------------


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise :class:`ExtractionTimeout` in the block after ``seconds`` (main thread only, else no-op).

    Uses ``SIGALRM`` through ``setitimer`` so that it also works in worker processes; the previous
    handler and any pending timer are restored on exit.
    """
    usable = (
        seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise ExtractionTimeout(f"extraction exceeded {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    prev_delay, prev_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if prev_delay > 0:  # an outer timer was pending: give it back what is left of its delay
            left = max(prev_delay - (time.monotonic() - started), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, prev_interval)


# -- decoding and sanity checks ------------------------------------------------------------------------


def decode_html(data: bytes | str) -> str:
    """Text of an HTML page given as bytes (UTF-8 if valid, else detected charset) or already as str."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    return bytes_to_str(data, detect_encoding(data))


_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
_CONTROL_BYTES_RE = re.compile(b"[\x00-\x08\x0b\x0e-\x1f\x7f]")
#: share of control characters / U+FFFD in the first 64 K characters above which a page is binary.
BINARY_SHARE = 0.05


def looks_binary(data: bytes | str) -> bool:
    """Whether a page labelled HTML is really binary (images, archives, PDF...)."""
    if isinstance(data, bytes):
        head = data[:65536]
        if not head:
            return False
        if b"\x00" in head[:4096]:
            return True
        # control bytes only: bytes in another charset than UTF-8 are not binary
        return len(_CONTROL_BYTES_RE.findall(head)) / len(head) > BINARY_SHARE
    head = data[:65536]
    if not head:
        return False
    return len(_CONTROL_RE.findall(head)) / len(head) > BINARY_SHARE


_TAG_RE = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
# void elements and elements whose end tag may be omitted do not count towards the nesting estimate
_NO_DEPTH_TAGS = frozenset(
    b"area base br col embed hr img input link meta source track wbr p li td th tr dt dd option "
    b"tbody thead tfoot colgroup rp rt optgroup caption".split()
)


def nesting_depth(html: str, stop_at: int) -> int:
    """Estimated element nesting depth from the tags (stops counting once ``stop_at`` is reached).

    A naive open/close count that ignores void elements and elements with optional end tags; used
    to refuse pathological pages before C extractors whose run time grows with the square of the depth.
    """
    depth = deepest = 0
    for m in _TAG_RE.finditer(html.encode("utf-8", errors="ignore")):
        if m.group(3) or m.group(2).lower() in _NO_DEPTH_TAGS:
            continue
        if m.group(1):
            depth = max(depth - 1, 0)
        else:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest >= stop_at:
                    break
    return deepest


_WS_RE = re.compile(r"\s+")


# -- backends ----------------------------------------------------------------------------------------


def _normalise_lines(text: str) -> list[str]:
    """One block per line: collapse white space inside lines, drop empty lines."""
    out = []
    for line in text.split("\n"):
        line = _WS_RE.sub(" ", line).strip()
        if line:
            out.append(line)
    return out


def _html_title(html: str) -> str | None:
    from resiliparse.parse.html import HTMLTree

    title = HTMLTree.parse(html[:200_000]).title
    return title.strip() or None if title else None


def _extract_resiliparse(html: str) -> tuple[str | None, list[str]]:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(html)
    title = (tree.title or "").strip() or None
    text = extract_plain_text(tree, preserve_formatting=True, main_content=True, list_bullets=False)
    return title, _normalise_lines(text)


def _extract_trafilatura(html: str, favor_precision: bool) -> tuple[str | None, list[str]]:
    try:
        import trafilatura
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "extract_html backend 'trafilatura' needs trafilatura: pip install 'thresher[html]'"
        ) from exc
    text = trafilatura.extract(
        html, favor_precision=favor_precision, include_comments=False, deduplicate=True
    )
    return _html_title(html), _normalise_lines(text or "")


# -- the step --------------------------------------------------------------------------------------------


@register
class ExtractHtml(Step):
    """Replace HTML documents' text with their main content, one block per line (title first).

    Parameters: ``backend`` (``thresher``, ``resiliparse`` or ``trafilatura``), ``title`` (keep the
    page title as the first line), ``timeout_s`` (time budget per page), ``max_html_chars`` (larger
    pages are rejected before parsing), ``max_depth`` (deeper pages are rejected before parsing,
    except by the ``thresher`` backend), ``min_chars`` (shorter extractions are rejected as empty),
    ``favor_precision`` (trafilatura only), ``html_weight`` (``thresher`` only: weight of the HTML
    line model against the text cleaner in the joint decision, :mod:`thresher.extract.joint`; 1.0
    runs the HTML model alone).

    With the ``thresher`` backend the rendered lines that were not kept go to
    ``metadata["removed_lines"]`` with their reason (``line`` indexes the page's rendered lines), and
    when the text cleaner took part (``html_weight < 1``) ``metadata["lines_cleaned"]`` is set, so a
    ``clean_lines`` step later in the recipe does not clean the lines a second time.
    """

    name = "extract_html"

    def __init__(
        self,
        backend: Backend = "thresher",
        title: bool = True,
        timeout_s: float = 10.0,
        max_html_chars: int = 10_000_000,
        max_depth: int = 1000,
        min_chars: int = 1,
        favor_precision: bool = True,
        html_weight: float = HTML_WEIGHT,
    ) -> None:
        super().__init__()
        self.html_weight = check_weight(html_weight, self.name)
        if backend not in ("thresher", "resiliparse", "trafilatura"):
            raise ValueError(
                f"extract_html: unknown backend {backend!r}; use 'thresher', 'resiliparse' or 'trafilatura'"
            )
        self.backend = backend
        self.title = title
        self.timeout_s = timeout_s
        self.max_html_chars = max_html_chars
        self.max_depth = max_depth
        self.min_chars = min_chars
        self.favor_precision = favor_precision
        self._cleaner: Any = None

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state["_cleaner"] = None
        return state

    def extract(self, html: str) -> tuple[str | None, list[str]]:
        """Title and main-content lines of one page with the configured backend (no checks)."""
        return self._extract(html)[:2]

    def _extract(self, html: str) -> tuple[str | None, list[str], list[str], dict[int, str]]:
        """Title, kept lines, and for the ``thresher`` backend the rendered lines with removal reasons."""
        if self.backend == "thresher":
            if self._cleaner is None:
                self._cleaner = LineCleaner(keep_title=False, html_weight=self.html_weight)
            return extract_joint(html, self._cleaner)
        if self.backend == "resiliparse":
            return (*_extract_resiliparse(html), [], {})
        return (*_extract_trafilatura(html, self.favor_precision), [], {})

    def process(self, batch: Batch) -> Batch:
        for doc in batch:
            if doc.drop is not None or doc.metadata.get("format") != "html":
                continue
            self._process_one(doc)
        return batch

    def _process_one(self, doc: Document) -> None:
        raw: Any = doc.text
        self.count("html_pages")
        if looks_binary(raw):
            doc.reject(self.name, "binary_content")
            return
        try:
            html = decode_html(raw)
        except (UnicodeError, LookupError) as exc:
            doc.reject(self.name, "undecodable", message=str(exc)[:200])
            return
        if len(html) > self.max_html_chars:
            doc.reject(self.name, "too_large", chars=len(html), limit=self.max_html_chars)
            return
        if self.backend != "thresher" and nesting_depth(html, self.max_depth + 1) > self.max_depth:
            doc.reject(self.name, "too_deep", limit=self.max_depth)
            return
        try:
            with time_budget(self.timeout_s):
                title, lines, rendered, removed = self._extract(html)
        except ExtractionTimeout:
            doc.reject(self.name, "timeout", seconds=self.timeout_s)
            return
        except ValueError as exc:
            if type(exc).__name__ != "PageTooDeep":
                doc.reject(self.name, "parse_error", message=f"{type(exc).__name__}: {exc}"[:200])
                return
            doc.reject(self.name, "too_deep", limit=self.max_depth)
            return
        except ImportError:
            raise
        except Exception as exc:  # parser failures on hostile input: reject the page, keep the run
            doc.reject(self.name, "parse_error", message=f"{type(exc).__name__}: {exc}"[:200])
            return
        body_chars = sum(len(line) for line in lines)
        if body_chars < self.min_chars:
            doc.reject(self.name, "empty_extraction", chars=body_chars)
            return
        if self.title and title:
            title = _WS_RE.sub(" ", title).strip()
            if title and (not lines or lines[0] != title):
                lines = [title, *lines]
        doc.record_removed_lines(self.name, rendered, removed)
        if rendered:
            self.count("lines_in", len(rendered))
            self.count("lines_removed", len(removed))
            count_removals(self, removed)
        doc.text = "\n".join(lines)
        doc.metadata["format"] = "text"
        doc.metadata["extractor"] = self.backend
        if self.backend == "thresher" and self.html_weight < 1.0:
            doc.metadata["lines_cleaned"] = self.name  # clean_lines leaves it alone
        self.count("extracted")
