"""HTML page to text lines with the cues of their place in the DOM (the ``thresher`` backend's front end).

One pass over the page, almost all of it in C:

- the page is parsed by libxml2's HTML parser through lxml (``huge_tree`` so deep nesting does not stop
  it; comments and processing instructions are dropped at parse time);
- :func:`render` walks the tree with ``lxml.etree.iterwalk`` (a C iterator: about a microsecond per
  element, several times cheaper than walking Resiliparse's or any other Python-object DOM node by node)
  and cuts the text into lines at block elements, as a browser's text rendering (and Resiliparse's
  ``extract_plain_text``, which made the bench's ``page_text``) does: one block element per line, table
  cells of a row on one line;
- for every element it keeps only integers: its parent, its depth and a bit mask of cues from its tag and
  from the words of its ``class`` / ``id`` / ``role`` attributes (``nav``, ``footer``, ``comment``,
  ``share``, ``content``...). Everything after that (:mod:`thresher.extract.html_model`) is numpy over
  these arrays.

Content nested deeper than :data:`MAX_DEPTH` elements is skipped and the page marked ``too_deep`` (a
guard against hostile pages; the parse itself is linear).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

#: deepest element nesting the walk accepts; a deeper page is marked ``too_deep`` (libxml2 itself stops
#: building the tree at depth 2048 and drops what follows, so such a page cannot be rendered faithfully).
MAX_DEPTH = 1000

_SKIP_TAGS = frozenset(
    "script style noscript template svg math head iframe object embed canvas select textarea input "
    "option datalist map audio video picture source track title meta link base button".split()
)
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset figcaption "
    "figure footer form frameset h1 h2 h3 h4 h5 h6 header hgroup hr html li main menu nav ol p pre "
    "section summary table tbody thead tfoot tr ul caption legend br".split()
)
_CELL_TAGS = frozenset(("td", "th"))
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")

#: cue categories: bit flags set by an element's tag or by words in its class / id / role.
CUES: list[tuple[str, str | None]] = [
    # tags
    ("t_nav", None), ("t_header", None), ("t_footer", None), ("t_aside", None), ("t_form", None),
    ("t_article", None), ("t_main", None), ("t_li", None), ("t_heading", None), ("t_p", None),
    ("t_figure", None), ("t_table", None), ("t_blockquote", None), ("t_time", None),
    ("t_a", None), ("t_label", None), ("t_pre", None), ("t_strong", None),
    # class / id words
    ("c_nav", r"nav|navigation|menu|breadcrumbs?|navbar|topbar|toolbar|pagination|pager|tabs?|masthead|skip"),
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
    ("c_list", r"list|items?|links|tags|topics"),
]
CUE_BIT: dict[str, int] = {name: 1 << i for i, (name, _) in enumerate(CUES)}
_TAG_BITS: dict[str, int] = {
    tag: CUE_BIT[cue]
    for tag, cue in {
        "nav": "t_nav", "header": "t_header", "footer": "t_footer", "aside": "t_aside", "form": "t_form",
        "article": "t_article", "main": "t_main", "li": "t_li", "figure": "t_figure",
        "figcaption": "t_figure", "table": "t_table", "blockquote": "t_blockquote", "time": "t_time",
        "a": "t_a", "label": "t_label", "pre": "t_pre", "p": "t_p", "dt": "t_li", "dd": "t_li",
        "strong": "t_strong", "b": "t_strong", **{h: "t_heading" for h in _HEADING_TAGS},
    }.items()
}
_ROLE_BITS: dict[str, int] = {
    role: CUE_BIT[cue]
    for role, cue in {
        "navigation": "c_nav", "banner": "c_header", "contentinfo": "c_footer", "complementary": "c_side",
        "main": "t_main", "article": "t_article", "menu": "c_nav", "menubar": "c_nav",
    }.items()
}
_HIDDEN_BIT = CUE_BIT["c_hidden"]
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden")

#: first halves of the cue words written with a hyphen (``sr-only``, ``sign-up``, ``ad-slot``): only after
#: one of these can two runs joined by ``-`` match a cue that neither run matches alone
_PAIR_HEADS = frozenset(
    alt.split("-")[0] for _, pat in CUES if pat for alt in pat.split("|") if "-" in alt
)
#: entries per cache below (class / id values, their words); a full cache is emptied, not frozen
_CACHE_SIZE = 100_000
_class_cache: dict[str, int] = {}
_word_cache: dict[str, int] = {}
_CLASS_WORD_RE = re.compile(r"[a-z]+")
# alternatives longest first, so that ``match`` finds the longest prefix (``navigation`` before ``nav``)
_WORD_CUES = [
    (CUE_BIT[name], re.compile("|".join(sorted(pat.split("|"), key=len, reverse=True))))
    for name, pat in CUES
    if pat
]


def _word_bits(word: str) -> int:
    bits = _word_cache.get(word)
    if bits is None:
        bits = 0
        for bit, rx in _WORD_CUES:
            # a whole word, or a prefix of 4+ letters of a compound (``commentlist``, ``sharebar``)
            m = rx.fullmatch(word) or rx.match(word)
            if m and (m.end() == len(word) or m.end() >= 4):
                bits |= bit
        if len(_word_cache) >= _CACHE_SIZE:  # a long run meets endless unique ids: start afresh
            _word_cache.clear()
        _word_cache[word] = bits
    return bits


def class_bits(words: str) -> int:
    """Cue bits of a ``class`` / ``id`` attribute value.

    The value is cut into lower-case letter runs; a cue matches a whole run (``article-body`` gives
    ``article`` and ``body``), the start (4+ letters) of a run (``commentlist``, ``navigation``), or two
    runs joined by ``-`` (``sign-up``, ``sr-only``). Both the
    attribute values and the words are cached (sites repeat their class names).
    """
    bits = _class_cache.get(words)
    if bits is None:
        bits = 0
        runs = _CLASS_WORD_RE.findall(words.lower())
        prev = ""
        for run in runs:
            bits |= _word_bits(run)
            if prev in _PAIR_HEADS:
                bits |= _word_bits(f"{prev}-{run}")
            prev = run
        if len(_class_cache) >= _CACHE_SIZE:
            _class_cache.clear()
        _class_cache[words] = bits
    return bits


@dataclass
class Rendered:
    """A page as lines plus the element tree reduced to integer arrays.

    ``texts[i]`` is line ``i`` (white space collapsed, never empty); ``line_node[i]`` is the element
    whose text opened the line; ``link_chars[i]`` the characters of it inside ``<a>``. Per element
    ``e`` (0 is the root, ``<body>``): ``parent[e]`` (-1 for the root), ``depth[e]``, ``own[e]`` (its
    own cue bits) and ``flags[e]`` (its own and all its ancestors' bits).
    """

    title: str | None
    texts: list[str]
    line_node: np.ndarray
    link_chars: np.ndarray
    parent: np.ndarray
    depth: np.ndarray
    own: np.ndarray
    flags: np.ndarray
    too_deep: bool = False


def parse(html: str) -> Any:
    """The lxml root element of ``html`` (``None`` for a page without any element)."""
    from lxml import etree

    parser = etree.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True, no_network=True
    )
    data = html.encode("utf-8", errors="replace")
    if not data.strip():
        return None
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError:  # libxml2 found nothing it could build a tree from
        return None


def page_title(root: Any) -> str | None:
    """The text of the page's ``<title>`` (white space collapsed) or ``None``."""
    if root is None:
        return None
    el = root.find("head/title")
    if el is None:
        el = root.find(".//title")
    if el is None:
        return None
    title = " ".join("".join(el.itertext()).split())
    return title or None


def render(html: str) -> Rendered:
    """Parse ``html`` and render its ``<body>`` as lines with their DOM cues (see :class:`Rendered`)."""
    from lxml import etree

    root = parse(html)
    title = page_title(root)
    texts: list[str] = []
    line_node: list[int] = []
    link_list: list[int] = []
    body = root.find("body") if root is not None else None
    if body is None:
        empty = np.zeros(0, dtype=np.int64)
        one = np.zeros(1, dtype=np.int64)
        return Rendered(title, texts, empty, empty, np.full(1, -1, dtype=np.int64), one, one, one)

    parts: list[str] = []
    part_node = 0
    part_link = 0

    def flush() -> None:
        nonlocal part_link
        if parts:
            text = " ".join("".join(parts).split())
            if text:
                texts.append(text)
                line_node.append(part_node)
                link_list.append(part_link)
            parts.clear()
        part_link = 0

    # stack of (element id, depth, inherited cue bits); id -1 marks a skipped element
    stack: list[tuple[int, int, int]] = [(0, 0, 0)]
    records: list[tuple[int, int, int, int]] = [(-1, 0, 0, 0)]  # parent, depth, own bits, flags
    link_depth = 0
    walker = etree.iterwalk(body, events=("start", "end"))
    skip_tags, block_tags, cell_tags, tag_bits = _SKIP_TAGS, _BLOCK_TAGS, _CELL_TAGS, _TAG_BITS
    too_deep = False
    events = iter(walker)
    _, el = next(events)  # <body> itself is element 0
    if el.text:
        parts.append(el.text)
    for event, el in events:
        tag = el.tag
        if event == "start":
            here, hd, hf = stack[-1]  # never a skipped element: their children are not visited
            d = hd + 1
            if tag in skip_tags or d >= MAX_DEPTH or not isinstance(tag, str):
                too_deep = too_deep or d >= MAX_DEPTH
                stack.append((-1, d, hf))
                walker.skip_subtree()
                continue
            bits = tag_bits.get(tag, 0)
            if el.attrib:
                get = el.get
                words = get("class")
                ident = get("id")
                if ident:
                    words = f"{words} {ident}" if words else ident
                if words:
                    bits |= class_bits(words)
                role = get("role")
                if role and role in _ROLE_BITS:
                    bits |= _ROLE_BITS[role]
                if get("hidden") is not None or get("aria-hidden") == "true":
                    bits |= _HIDDEN_BIT
                else:
                    style = get("style")
                    if style and ("none" in style or "hidden" in style) and _HIDDEN_STYLE_RE.search(style):
                        bits |= _HIDDEN_BIT
            node = len(records)
            fl = bits | hf
            records.append((here, d, bits, fl))
            stack.append((node, d, fl))
            if tag in block_tags:
                flush()
            elif tag == "a":
                link_depth += 1
            text = el.text
            if text:
                if not parts:
                    part_node = node
                parts.append(text)
                if link_depth:
                    part_link += len(text.strip())
            continue
        # end of an element
        if stack.pop()[0] >= 0:
            if tag in block_tags:
                flush()
            elif tag == "a":
                link_depth -= 1
            elif tag in cell_tags:
                parts.append("\t")
        tail = el.tail
        if tail and stack:
            if not parts:
                part_node = stack[-1][0]
            parts.append(tail)
            if link_depth:
                part_link += len(tail.strip())
    flush()
    table = np.array(records, dtype=np.int64)
    return Rendered(
        title,
        texts,
        np.array(line_node, dtype=np.int64),
        np.array(link_list, dtype=np.int64),
        table[:, 0].copy(),
        table[:, 1].copy(),
        table[:, 2].copy(),
        table[:, 3].copy(),
        too_deep,
    )
