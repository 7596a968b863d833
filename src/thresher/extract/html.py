"""HTML to text: the ``extract_html`` step.

Documents whose ``metadata["format"] == "html"`` (WARC records, JSONL read with ``--html-field``)
get their text replaced by the main content, one block element per line (the page title first when
``title=True`` and the page has one), and ``metadata["format"]`` set to ``"text"``. Other documents
pass through unchanged.

Backends (``backend=``):

- ``"thresher"`` (default): the page is parsed with Resiliparse's HTML5 parser (lexbor, C), rendered
  to lines by a small DOM walk that keeps, for each line, the cues of its place in the page (tag
  path, class/id words such as ``nav``/``footer``/``comment``, link density, the container holding
  most of the page's prose); a logistic model over those cues (:data:`_MODEL`, fitted on the
  *tune* part of the extraction bench only, see :mod:`thresher.extract.evaluate`) keeps the main
  content lines.
- ``"resiliparse"``: ``resiliparse.extract.html2text.extract_plain_text(main_content=True)``.
- ``"trafilatura"``: ``trafilatura.extract(favor_precision=...)`` (optional dependency).

Robustness (each case rejects the document with a reason instead of failing the run):

- ``binary_content``: raw bytes or decoded text that is mostly control characters / U+FFFD.
- ``too_large``: HTML larger than ``max_html_chars`` (checked before parsing).
- ``too_deep``: (``resiliparse``/``trafilatura`` backends) element nesting deeper than ``max_depth``
  (estimated from the tags before parsing): Resiliparse's extractor takes about 10 s on a 10,000-deep
  page, in C code no signal interrupts. The ``thresher`` backend walks the DOM iteratively and
  ignores content nested deeper than :data:`MAX_DEPTH` (512) elements instead.
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

import math
import re
import signal
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from thresher.document import Document
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


# -- DOM walk: lines with their cues ---------------------------------------------------------------

_SKIP_TAGS = frozenset(
    "script style noscript template svg math head iframe object embed canvas select textarea input "
    "option datalist map audio video picture source track title meta link base".split()
)
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset figcaption "
    "figure footer form frameset h1 h2 h3 h4 h5 h6 header hgroup hr html li main menu nav ol p pre "
    "section summary table tbody thead tfoot tr ul caption legend br".split()
)
_CELL_TAGS = frozenset(("td", "th"))
_HEADING_TAGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))

# Cue categories: bit flags set by an element's tag or by words in its class / id / role / itemprop.
_CUES = [
    # tags
    ("t_nav", None), ("t_header", None), ("t_footer", None), ("t_aside", None), ("t_form", None),
    ("t_article", None), ("t_main", None), ("t_li", None), ("t_heading", None), ("t_p", None),
    ("t_figure", None), ("t_table", None), ("t_blockquote", None), ("t_button", None), ("t_time", None),
    ("t_a", None), ("t_label", None), ("t_pre", None),
    # class / id words
    ("c_nav", r"nav|menu|breadcrumb|navbar|topbar|toolbar|pagination|pager|tabs?|masthead|skip"),
    ("c_footer", r"footer|copyright|colophon|legal|bottom"),
    ("c_header", r"header|banner|topnav"),
    ("c_side", r"sidebar|aside|widget|rail|secondary|sidebox"),
    ("c_comment", r"comments?|disqus|reply|replies|respond|discussion"),
    ("c_share", r"share|sharing|social|facebook|twitter|whatsapp|pinterest|linkedin|print|email|mail"),
    ("c_related", r"related|recommend\w*|more|promo|teaser|trending|popular|recirc\w*|outbrain|taboola|"
                  r"next|prev|latest|headlines|card|cards|tease|feed|carousel|slider|also|read"),
    ("c_ad", r"ad|ads|advert\w*|sponsor\w*|dfp|gpt|commercial|adslot|ad-\w+"),
    ("c_content", r"article\w*|content|post|entry|story|body|text|prose|blog|paragraph|richtext|copy"),
    ("c_caption", r"caption|credit|figure|photo|image|img|media|gallery|video|thumb\w*"),
    ("c_meta", r"byline|author|meta|date|time|dateline|published|timestamp|tags?|category|kicker|info"),
    ("c_hidden", r"hidden|hide|sr-only|visually-hidden|screen-reader\w*|offscreen|invisible"),
    ("c_subscribe", r"newsletter|subscribe|subscription|signup|sign-up|paywall|login|register|cookie\w*|"
                    r"consent|gdpr|modal|popup|overlay"),
    ("c_title", r"title|headline|heading|hed"),
    ("c_summary", r"summary|dek|standfirst|subtitle|intro|lede|description|excerpt|abstract|subhead"),
]
_CUE_BIT = {name: 1 << i for i, (name, _) in enumerate(_CUES)}
_CLASS_CUES = [(name, re.compile(rf"(?:^|[^a-z])(?:{pat})(?:$|[^a-z])")) for name, pat in _CUES if pat]
_TAG_CUE = {
    "nav": "t_nav", "header": "t_header", "footer": "t_footer", "aside": "t_aside", "form": "t_form",
    "article": "t_article", "main": "t_main", "li": "t_li", "figure": "t_figure", "figcaption": "t_figure",
    "table": "t_table", "blockquote": "t_blockquote", "button": "t_button", "time": "t_time", "a": "t_a",
    "label": "t_label", "pre": "t_pre", "p": "t_p", "dt": "t_li", "dd": "t_li",
    **{h: "t_heading" for h in _HEADING_TAGS},
}
_ROLE_CUE = {"navigation": "c_nav", "banner": "c_header", "contentinfo": "c_footer", "complementary": "c_side",
             "main": "t_main", "article": "t_article", "menu": "c_nav", "menubar": "c_nav"}


class _Ctx:
    """One element on the path from the root: tag, cue flags (own and inherited), parent."""

    __slots__ = ("tag", "own", "flags", "parent", "depth", "good")

    def __init__(self, tag: str, own: int, parent: _Ctx | None) -> None:
        self.tag = tag
        self.own = own
        self.parent = parent
        self.flags = own | (parent.flags if parent is not None else 0)
        self.depth = parent.depth + 1 if parent is not None else 0
        self.good = 0


class _Line:
    """A rendered line: its text, how much of it is link text, and its innermost element."""

    __slots__ = ("parts", "link_chars", "ctx", "text")

    def __init__(self, ctx: _Ctx) -> None:
        self.parts: list[str] = []
        self.link_chars = 0
        self.ctx = ctx
        self.text = ""


_WS_RE = re.compile(r"\s+")
_class_cache: dict[str, int] = {}


def _class_flags(words: str) -> int:
    flags = _class_cache.get(words)
    if flags is None:
        flags = 0
        low = words.lower().replace("_", "-")
        for name, rx in _CLASS_CUES:
            if rx.search(low):
                flags |= _CUE_BIT[name]
        if len(_class_cache) < 50000:
            _class_cache[words] = flags
    return flags


#: deepest element nesting the DOM walk descends into (deeper content is skipped).
MAX_DEPTH = 512


def render_lines(tree: Any) -> list[_Line]:
    """Walk a Resiliparse ``HTMLTree`` body and return its text lines with their cues (iterative)."""
    from resiliparse.parse.html import NodeType

    element, text_type = NodeType.ELEMENT, NodeType.TEXT
    body = tree.body
    if body is None:
        return []
    lines: list[_Line] = []
    root = _Ctx("body", 0, None)
    current = _Line(root)
    link_depth = 0

    def flush(ctx: _Ctx) -> _Line:
        nonlocal current
        if current.parts:
            text = "".join(current.parts)
            text = _WS_RE.sub(" ", text).strip()
            if text:
                current.text = text
                lines.append(current)
        current = _Line(ctx)
        return current

    # explicit stack of (node, ctx, entering) to survive arbitrarily deep nesting
    stack: list[tuple[Any, _Ctx, bool]] = []
    child = body.first_child
    kids = []
    while child is not None:
        kids.append(child)
        child = child.next
    for k in reversed(kids):
        stack.append((k, root, True))
    while stack:
        node, ctx, entering = stack.pop()
        if not entering:  # leaving an element
            tag = node.tag
            if tag == "a":
                link_depth -= 1
            if tag in _BLOCK_TAGS:
                flush(ctx.parent or ctx)
            elif tag in _CELL_TAGS:
                current.parts.append("\t")
            continue
        ntype = node.type
        if ntype == text_type:
            value = node.value
            if value:
                if not current.parts:
                    current.ctx = ctx
                current.parts.append(value)
                if link_depth:
                    current.link_chars += len(value.strip())
            continue
        if ntype != element:
            continue
        tag = node.tag
        if tag in _SKIP_TAGS or ctx.depth >= MAX_DEPTH:
            continue
        own = 0
        cue = _TAG_CUE.get(tag)
        if cue:
            own |= _CUE_BIT[cue]
        words = node.getattr("class") or ""
        ident = node.getattr("id")
        if ident:
            words = f"{words} {ident}"
        if words:
            own |= _class_flags(words)
        role = node.getattr("role")
        if role and role in _ROLE_CUE:
            own |= _CUE_BIT[_ROLE_CUE[role]]
        if node.getattr("hidden") is not None or node.getattr("aria-hidden") == "true":
            own |= _CUE_BIT["c_hidden"]
        else:
            style = node.getattr("style")
            if style and "none" in style and re.search(r"display\s*:\s*none|visibility\s*:\s*hidden", style):
                own |= _CUE_BIT["c_hidden"]
        new = _Ctx(tag, own, ctx)
        if tag in _BLOCK_TAGS:
            flush(new)
        if tag == "a":
            link_depth += 1
        stack.append((node, new, False))
        kids = []
        child = node.first_child
        while child is not None:
            kids.append(child)
            child = child.next
        for k in reversed(kids):
            stack.append((k, new, True))
    flush(root)
    return lines


# -- line features and the model ------------------------------------------------------------------

_TERMINAL = (".", "!", "?", '"', "'", "”", "’", "»", "。", "！", "？", ":", ")")
_WORD_RE = re.compile(r"[^\W_]+")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_PUNCT_RE = re.compile(r"[^\w\s]|_")
_DIGIT_RE = re.compile(r"\d")
#: a line counts as prose for the container search when it has at least this many words.
PROSE_MIN_WORDS = 10
#: levels above a line over which its prose is credited to ancestors (bounds the work on deep pages).
CREDIT_LEVELS = 60


def _n_words(text: str) -> int:
    cjk = len(_CJK_RE.findall(text))
    return len(_WORD_RE.findall(text)) + cjk // 2


def _main_container(lines: list[_Line], words: list[int], share: float) -> _Ctx | None:
    """Deepest element holding at least ``share`` of the page's prose characters."""
    total = 0
    for ctx in {id(line.ctx): line.ctx for line in lines}.values():
        ctx.good = 0
    credited: list[tuple[_Ctx, int]] = []
    for line, nw in zip(lines, words, strict=True):
        if nw >= PROSE_MIN_WORDS and line.link_chars < 0.3 * len(line.text):
            credited.append((line.ctx, len(line.text)))
            total += len(line.text)
    if not total:
        return None
    gains: dict[int, list[Any]] = {}
    for ctx, n in credited:
        node: _Ctx | None = ctx
        level = 0
        while node is not None and level < CREDIT_LEVELS:
            slot = gains.get(id(node))
            if slot is None:
                gains[id(node)] = [node, n]
            else:
                slot[1] += n
            node = node.parent
            level += 1
    best = None
    for node, g in gains.values():
        if g >= share * total and (best is None or node.depth > best.depth):
            best = node
    return best


def _inside(ctx: _Ctx, container: _Ctx | None) -> bool:
    node: _Ctx | None = ctx
    steps = 0
    while node is not None and steps < CREDIT_LEVELS + 5:
        if node is container:
            return True
        node = node.parent
        steps += 1
    return False


FEATURE_NAMES: list[str] = (
    ["bias", "log_chars", "log_words", "link_density", "terminal", "short3", "long20", "punct_ratio",
     "digit_ratio", "in_main50", "in_main80", "rel_pos", "repeated", "title_like", "upper_start",
     "commas", "all_upper"]
    + [f"any_{name}" for name, _ in _CUES]
    + [f"own_{name}" for name, _ in _CUES]
    + [f"up{k}_{what}" for k in (1, 2, 3, 5) for what in ("prose_share", "link_share", "log_chars", "lines")]
)
#: ancestor levels whose text statistics describe a line's surroundings.
_UP_LEVELS = (1, 2, 3, 5)
_N_BASE = len(FEATURE_NAMES)


def line_features(lines: list[_Line], title: str | None) -> list[list[float]]:
    """One feature vector per line (see :data:`FEATURE_NAMES`), before context features."""
    words = [_n_words(line.text) for line in lines]
    main50 = _main_container(lines, words, 0.5)
    main80 = _main_container(lines, words, 0.8)
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.text] = counts.get(line.text, 0) + 1
    # text statistics of each element up to 5 levels above each line: chars, prose chars, link chars
    stats: dict[int, list[float]] = {}
    for line, nw in zip(lines, words, strict=True):
        chars = len(line.text)
        prose = chars if nw >= PROSE_MIN_WORDS and line.link_chars < 0.3 * chars else 0
        node: _Ctx | None = line.ctx
        for _ in range(6):
            if node is None:
                break
            slot = stats.get(id(node))
            if slot is None:
                stats[id(node)] = [chars, prose, line.link_chars, 1]
            else:
                slot[0] += chars
                slot[1] += prose
                slot[2] += line.link_chars
                slot[3] += 1
            node = node.parent
    title_key = _WS_RE.sub(" ", unicodedata.normalize("NFKC", title or "")).strip().casefold()
    n = len(lines)
    feats = []
    for i, (line, nw) in enumerate(zip(lines, words, strict=True)):
        text = line.text
        chars = len(text)
        ctx = line.ctx
        flags = ctx.flags
        near = ctx.own | (ctx.parent.own if ctx.parent is not None else 0)
        punct = len(_PUNCT_RE.findall(text))
        digits = len(_DIGIT_RE.findall(text))
        low = text.casefold()
        v = [
            1.0,
            math.log1p(chars),
            math.log1p(nw),
            min(line.link_chars / chars, 1.0) if chars else 0.0,
            1.0 if text.rstrip().endswith(_TERMINAL) else 0.0,
            1.0 if nw <= 3 else 0.0,
            1.0 if nw >= 20 else 0.0,
            punct / chars if chars else 0.0,
            digits / chars if chars else 0.0,
            1.0 if main50 is not None and _inside(ctx, main50) else 0.0,
            1.0 if main80 is not None and _inside(ctx, main80) else 0.0,
            i / n,
            1.0 if counts[text] > 1 else 0.0,
            1.0 if title_key and len(low) > 15 and (low in title_key or title_key.startswith(low[:40]))
            else 0.0,
            1.0 if text[:1].isupper() else 0.0,
            min(text.count(",") / 5.0, 1.0),
            1.0 if chars > 3 and text.isupper() else 0.0,
        ]
        v.extend(1.0 if flags & _CUE_BIT[name] else 0.0 for name, _ in _CUES)
        v.extend(1.0 if near & _CUE_BIT[name] else 0.0 for name, _ in _CUES)
        ups = []
        node = ctx
        for level in range(1, 6):
            node = node.parent if node is not None else None
            if level in _UP_LEVELS:
                ups.append(node)
        for node in ups:
            st = stats.get(id(node)) if node is not None else None
            if st is None or not st[0]:
                v.extend((0.0, 0.0, 0.0, 0.0))
            else:
                v.extend((st[1] / st[0], min(st[2] / st[0], 1.0), math.log1p(st[0]) / 10, math.log1p(st[3]) / 5))
        feats.append(v)
    return feats


CONTEXT_NAMES = ["bias", "z", "z_prev", "z_next", "z_win2", "z_win5", "z_max_prev3", "z_max_next3"]


def context_features(z: list[float]) -> list[list[float]]:
    """Second-stage features: a line's first-stage score with the scores of its neighbours."""
    n = len(z)
    out = []
    for i in range(n):
        prev = z[i - 1] if i > 0 else -5.0
        nxt = z[i + 1] if i + 1 < n else -5.0
        w2 = z[max(0, i - 2): i + 3]
        w5 = z[max(0, i - 5): i + 6]
        mp = max(z[max(0, i - 3): i] or [-5.0])
        mn = max(z[i + 1: i + 4] or [-5.0])
        out.append([1.0, z[i], prev, nxt, sum(w2) / len(w2), sum(w5) / len(w5), mp, mn])
    return out


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))


# Model weights: fitted by L2-regularised logistic regression on the *tune* part of the extraction
# bench (thresher.extract.evaluate.split_of), lines rendered by render_lines and labelled by matching
# them to the bench's labelled page lines. Stage 1 over FEATURE_NAMES, stage 2 over CONTEXT_NAMES.
_MODEL: dict[str, Any] = {
    "stage1": [
        -2.9541, -0.4750, 0.3130, -1.2441, 0.5506, -1.0837, 1.2975, -1.2765, -0.9337, 1.3352,
        1.5022, -1.2293, -1.4739, -0.9506, -1.0647, 0.3684, 0.2997, -0.3095, -0.7871, -0.5731,
        -1.9047, -0.5881, 0.3776, 0.5236, -0.8236, 0.1840, 1.2320, -0.0240, 0.8691, 1.1320, -0.0010,
        -0.0794, 0.8131, 0.0000, 0.0000, -0.1462, -1.1370, -0.3566, 0.1443, -2.8547, -0.1989,
        -0.2759, -0.1106, 0.3648, -0.1325, 0.1269, -0.0357, -0.7687, -1.0133, 0.0075, -0.0098,
        -0.1763, -0.1979, 0.0899, -0.1021, -0.1695, -0.0010, 1.8293, 0.1854, -0.1473, -0.0000,
        0.0000, 1.1226, -0.0010, -0.0794, -0.2503, 0.0000, 0.0000, -0.5852, -0.6410, -0.2884,
        -0.5480, -1.5671, 0.0211, 0.3137, -0.1589, 0.2223, -1.2871, -2.1875, -0.2176, -0.1268,
        -0.9539, -0.4244, 0.0200, -1.3672, 1.2082, 2.0418, -0.4250, -0.7081, 0.3002, 0.8874,
        -0.1077, -0.6533, 0.1314, 0.8441, -0.3366, -1.0317, 0.2188, 0.4867,
    ],
    "stage2": [
        0.1362, 0.7847, 0.0740, 0.1184, 0.2004, 0.0334, -0.0084, -0.0338,
    ],
    "threshold": 0.5,
}
assert len(_MODEL["stage1"]) == len(FEATURE_NAMES) and len(_MODEL["stage2"]) == len(CONTEXT_NAMES)


def score_lines(lines: list[_Line], title: str | None, model: dict[str, Any] | None = None) -> list[float]:
    """Probability of each line being main content."""
    model = model or _MODEL
    feats = line_features(lines, title)
    import numpy as np

    z = (np.asarray(feats, dtype=np.float64) @ np.asarray(model["stage1"], dtype=np.float64)).tolist()
    ctx = np.asarray(context_features(z), dtype=np.float64) @ np.asarray(model["stage2"], dtype=np.float64)
    return [_sigmoid(x) for x in ctx.tolist()]


def extract_main_lines(html: str, model: dict[str, Any] | None = None) -> tuple[str | None, list[str]]:
    """The page title (or None) and the main-content lines of ``html`` (the ``thresher`` backend)."""
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(html)
    title = (tree.title or "").strip() or None
    lines = render_lines(tree)
    if not lines:
        return title, []
    probs = score_lines(lines, title, model)
    threshold = (model or _MODEL)["threshold"]
    kept = [line.text for line, p in zip(lines, probs, strict=True) if p >= threshold]
    if not kept:
        kept = _prose_fallback(lines)
    return title, kept


def _prose_fallback(lines: list[_Line]) -> list[str]:
    """Prose lines of the main container, for small pages where the model is unsure of every line.

    The model was fitted on full news pages; on a page with a handful of lines its cues are weak. A
    page with no prose at all (navigation only) still yields nothing.
    """
    words = [_n_words(line.text) for line in lines]
    main = _main_container(lines, words, 0.8)
    return [
        line.text
        for line, nw in zip(lines, words, strict=True)
        if nw >= PROSE_MIN_WORDS
        and line.link_chars < 0.3 * len(line.text)
        and line.text.rstrip().endswith(_TERMINAL)
        and (main is None or _inside(line.ctx, main))
    ]


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
    ``favor_precision`` (trafilatura only).
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
    ) -> None:
        super().__init__()
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

    def extract(self, html: str) -> tuple[str | None, list[str]]:
        """Title and main-content lines of one page with the configured backend (no checks)."""
        if self.backend == "thresher":
            return extract_main_lines(html)
        if self.backend == "resiliparse":
            return _extract_resiliparse(html)
        return _extract_trafilatura(html, self.favor_precision)

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
                title, lines = self.extract(html)
        except ExtractionTimeout:
            doc.reject(self.name, "timeout", seconds=self.timeout_s)
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
        doc.text = "\n".join(lines)
        doc.metadata["format"] = "text"
        doc.metadata["extractor"] = self.backend
        self.count("extracted")
