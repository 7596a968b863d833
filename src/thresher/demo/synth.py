"""A small synthetic web crawl with known answers, for ``thresher demo`` and for tests.

:func:`generate_crawl` writes pages that look like a crawl rendered to text (one block per line, as
in Common Crawl WET files): a site template around each page (menus, cookie banners, link lists,
share buttons, advertisements, footers) and, on article pages, a main article of coherent English
paragraphs generated from the template grammar in :mod:`thresher.demo.words_en`. Mixed in are
exact copies of articles on other sites, near copies (small edits), spun copies (synonym
substitution on about 30% of words), German/French/Spanish pages, spam, very short pages and
navigation-only pages. The :class:`CrawlManifest` records, per page, what it is, what it copies and
which lines are its content, so a run of Thresher over the crawl can be checked line by line.

Output (all deterministic for a given ``n_pages`` and ``seed``, gzip headers with mtime 0)::

    outdir/crawl/pages-000.jsonl.gz ...   {"id", "text", "url", "date"} per line
    outdir/crawl/manifest.json            the CrawlManifest
    outdir/wet/sample.warc.wet.gz         the first pages again, as WARC/1.0 conversion records

Point a recipe at the shards (:meth:`CrawlManifest.input_paths`, or the glob
``outdir/crawl/pages-*.jsonl.gz``), not at the ``crawl`` folder: ``manifest.json`` is not a page.
The WET sample repeats pages of the first shard, so it lives in its own folder.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import random
import re
import unicodedata
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from thresher.demo import words_en as en
from thresher.demo import words_intl as intl
from thresher.document import Document
from thresher.io.atomic import atomic_write_bytes

#: manifest format version (bump when fields change meaning).
MANIFEST_VERSION = 2

KINDS = ("article", "exact_copy", "near_copy", "spun_copy", "foreign", "spam", "short", "nav_only")
#: share of each kind in a crawl (the rest of the rounding goes to articles).
MIX: dict[str, float] = {
    "article": 0.56, "exact_copy": 0.08, "near_copy": 0.08, "spun_copy": 0.06, "foreign": 0.09,
    "spam": 0.05, "short": 0.04, "nav_only": 0.04,
}
COPY_KINDS = ("exact_copy", "near_copy", "spun_copy")
#: share of eligible words (those the synonym table covers) a spun copy replaces with a synonym.
SPIN_RATE = 0.30
#: pages repeated as WARC/1.0 WET conversion records in ``sample.warc.wet.gz``.
WET_SAMPLE_PAGES = 40

_SMALL_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine"]
_CRAWL_START = datetime(2024, 11, 4, 0, 0, 0)
_SLOT = re.compile(r"\{(\w+)\}")
_A_AN = re.compile(r"\b([Aa]) (?=[aeiouAEIOU](?!ni|se|sa|su|ro|ne))")
_WORD = re.compile(r"[A-Za-z]+")


# -- manifest -------------------------------------------------------------------------------------------


@dataclass
class PageInfo:
    """What one synthetic page is, and where its content is.

    ``content_lines`` are indices into ``text.split("\\n")`` of the page's main text (article
    paragraphs, the body of a spam or short page; empty for navigation pages); ``title_line`` is
    the index of its headline. Every other line is site template (boilerplate).
    """

    id: str
    kind: str
    language: str
    site: str
    url: str
    shard: str
    n_lines: int
    title_line: int | None = None
    content_lines: list[int] = field(default_factory=list)
    #: for copies: id of the article page copied (always an ``article`` earlier in the crawl).
    copy_of: str | None = None
    #: article topic (``council``, ``science``...), spam style or short-page style.
    variant: str | None = None
    #: near copies: the edits applied; spun copies: the share of eligible words replaced.
    edits: list[str] = field(default_factory=list)
    spin_rate: float | None = None
    #: copies: Jaccard similarity of word 5-gram sets of the content, copy vs source.
    similarity: float | None = None
    #: WARC-Record-ID of this page in the WET sample, if it is in it.
    wet_record_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this page's entry in ``manifest.json``."""
        out = {name: getattr(self, name) for name in _PAGE_FIELDS}
        out["content_lines"] = list(self.content_lines)
        out["edits"] = list(self.edits)
        return out

    @property
    def boilerplate_lines(self) -> list[int]:
        """Indices of template lines (neither content nor headline)."""
        keep = set(self.content_lines)
        if self.title_line is not None:
            keep.add(self.title_line)
        return [i for i in range(self.n_lines) if i not in keep]


_PAGE_FIELDS = tuple(f.name for f in fields(PageInfo))


@dataclass
class CrawlManifest:
    """The answer key of a synthetic crawl: one :class:`PageInfo` per page id, in crawl order."""

    seed: int
    n_pages: int
    shards: list[str]
    pages: dict[str, PageInfo]
    #: path of the WET sample relative to :attr:`crawl_dir` (``../wet/sample.warc.wet.gz``), if written.
    wet_sample: str | None = None
    version: int = MANIFEST_VERSION
    #: the folder holding the shards and manifest (not saved; set by generate/load).
    crawl_dir: Path | None = field(default=None, compare=False, repr=False)
    _by_record: dict[str, str] | None = field(default=None, init=False, compare=False, repr=False)

    jsonl_glob = "pages-*.jsonl.gz"

    # -- queries --------------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Number of pages of each kind, in :data:`KINDS` order."""
        out = dict.fromkeys(KINDS, 0)
        for page in self.pages.values():
            out[page.kind] += 1
        return out

    def ids(self, kind: str | None = None) -> list[str]:
        """Page ids in crawl order, optionally only those of one kind."""
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown page kind {kind!r}; expected one of {', '.join(KINDS)}")
        return [pid for pid, p in self.pages.items() if kind is None or p.kind == kind]

    def expected_kept(self) -> list[str]:
        """Ids an ideal English pipeline keeps: the original articles (copies, foreign pages, spam,
        short and navigation pages all go)."""
        return self.ids("article")

    def input_paths(self) -> list[str]:
        """The shard files to give a recipe, in order (needs :attr:`crawl_dir`)."""
        if self.crawl_dir is None:
            raise ValueError("this manifest does not know its crawl folder; load it with CrawlManifest.load()")
        return [str(self.crawl_dir / shard) for shard in self.shards]

    def read_pages(self) -> Iterator[dict[str, Any]]:
        """Yield the JSONL records of the crawl, in crawl order (needs :attr:`crawl_dir`)."""
        if self.crawl_dir is None:
            raise ValueError("this manifest does not know its crawl folder; load it with CrawlManifest.load()")
        for shard in self.shards:
            with gzip.open(self.crawl_dir / shard, "rb") as fh:
                for line in fh:
                    yield orjson.loads(line)

    def page_id(self, doc_id: str) -> str | None:
        """The page id of a document id: a page id itself, or a WET record id (with or without ``<>``)."""
        if doc_id in self.pages:
            return doc_id
        if self._by_record is None:
            self._by_record = {p.wet_record_id.strip("<>"): p.id for p in self.pages.values() if p.wet_record_id}
        return self._by_record.get(doc_id.strip("<>"))

    def evaluate_output(self, output_dir: str | Path) -> dict[str, Any]:
        """:meth:`evaluate` on the ``part-*`` files a Thresher run wrote to ``output_dir``."""
        from thresher.io import plan_shards, read_shard
        from thresher.io.base import ReaderOptions

        parts = sorted(str(p) for p in Path(output_dir).glob("part-*") if not p.name.startswith("."))
        if not parts:
            raise FileNotFoundError(f"no part-* files in {output_dir}; is it the output folder of a run?")
        options = ReaderOptions()
        kept: dict[str, str] = {}
        for spec in plan_shards(parts, options):
            for doc in read_shard(spec, options):
                if isinstance(doc, Document):
                    kept[doc.id] = doc.text
        return self.evaluate(kept)

    def evaluate(self, kept: Mapping[str, str]) -> dict[str, Any]:
        """Score a pipeline's output against the answer key.

        ``kept`` maps the id of every document the pipeline kept (page id, or WET record id for
        pages read from the WET sample) to its final text; other ids are ignored. Returns, per
        kind, pages in the crawl and pages kept; and over the kept articles, the share of their
        content lines still present (``content_recall``) and the share of their template lines
        removed (``boilerplate_removed``), matching whole lines.
        """
        kept = {pid: text for doc_id, text in kept.items() if (pid := self.page_id(doc_id)) is not None}
        per_kind = {k: {"pages": 0, "kept": 0} for k in KINDS}
        content_total = content_found = boiler_total = boiler_removed = 0
        for record in self.read_pages():
            page = self.pages[record["id"]]
            per_kind[page.kind]["pages"] += 1
            if page.id not in kept:
                continue
            per_kind[page.kind]["kept"] += 1
            if page.kind != "article":
                continue
            lines = record["text"].split("\n")
            out_lines = {ln.strip() for ln in kept[page.id].split("\n")}
            for i in page.content_lines:
                content_total += 1
                content_found += lines[i].strip() in out_lines
            for i in page.boilerplate_lines:
                boiler_total += 1
                boiler_removed += lines[i].strip() not in out_lines
        return {
            "kinds": per_kind,
            "content_recall": round(content_found / content_total, 4) if content_total else None,
            "boilerplate_removed": round(boiler_removed / boiler_total, 4) if boiler_total else None,
        }

    # -- persistence ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON form saved as ``manifest.json`` (pages as a list in crawl order)."""
        return {
            "version": self.version,
            "seed": self.seed,
            "n_pages": self.n_pages,
            "jsonl_glob": self.jsonl_glob,
            "shards": list(self.shards),
            "wet_sample": self.wet_sample,
            "counts": self.counts(),
            "pages": [p.to_dict() for p in self.pages.values()],
        }

    def to_json(self) -> bytes:
        """``manifest.json`` bytes (stable key order, one page per line)."""
        data = self.to_dict()
        pages = data.pop("pages")
        head = json.dumps(data, ensure_ascii=False, indent=1)[:-2]  # without the closing "\n}"
        body = ",\n".join(json.dumps(p, ensure_ascii=False) for p in pages)
        return (head + ',\n "pages": [\n' + body + "\n ]\n}\n").encode("utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any], crawl_dir: Path | None = None) -> CrawlManifest:
        """Inverse of :meth:`to_dict`."""
        if data.get("version") != MANIFEST_VERSION:
            raise ValueError(
                f"manifest version {data.get('version')!r} is not supported (expected {MANIFEST_VERSION}); "
                "regenerate the crawl with this version of Thresher"
            )
        pages = {p["id"]: PageInfo(**p) for p in data["pages"]}
        return cls(seed=data["seed"], n_pages=data["n_pages"], shards=list(data["shards"]), pages=pages,
                   wet_sample=data.get("wet_sample"), crawl_dir=crawl_dir)

    @classmethod
    def load(cls, path: str | Path) -> CrawlManifest:
        """Load ``manifest.json`` (``path`` is the file or the crawl folder holding it)."""
        path = Path(path)
        if path.is_dir():
            path = path / "manifest.json"
        if not path.exists():
            raise FileNotFoundError(f"no crawl manifest at {path}; run generate_crawl() (or `thresher demo`) first")
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")), crawl_dir=path.parent)


# -- small helpers --------------------------------------------------------------------------------------


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _small(rng: random.Random) -> str:
    return rng.choice(_SMALL_WORDS)


def _fill(template: str, slots: Mapping[str, str]) -> str:
    """Fill ``{slot}`` fields (``{Slot}`` gives the value with a capital letter)."""

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key in slots:
            return slots[key]
        low = key[:1].lower() + key[1:]
        if low in slots:
            return _cap(slots[low])
        raise KeyError(f"template slot {{{key}}} has no value in: {template}")

    return _SLOT.sub(sub, template)


def _slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60]


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = text.lower().split()
    return set(zip(*(words[i:] for i in range(n))))


def _jaccard(a: str, b: str) -> float:
    sa, sb = _shingles(a), _shingles(b)
    if not sa and not sb:
        return 1.0
    return round(len(sa & sb) / len(sa | sb), 4)


def _format_date(d: datetime, lang: str, style: int) -> str:
    months = intl.MONTH_NAMES[lang]
    if lang == "de":
        return f"{d.day}. {months[d.month - 1]} {d.year}" if style % 2 else d.strftime("%d.%m.%Y")
    if lang == "fr":
        return f"{d.day} {months[d.month - 1]} {d.year}" if style % 2 else d.strftime("%d/%m/%Y")
    if lang == "es":
        return f"{d.day} de {months[d.month - 1]} de {d.year}" if style % 2 else d.strftime("%d/%m/%Y")
    return [f"{months[d.month - 1]} {d.day}, {d.year}", f"{d.day} {months[d.month - 1]} {d.year}",
            d.strftime("%d/%m/%Y"), d.strftime("%Y-%m-%d")][style % 4]


def _random_date(rng: random.Random, start: datetime, days: int) -> datetime:
    return start + timedelta(days=rng.randrange(days), minutes=rng.randrange(6 * 60, 22 * 60))


# -- stories (the main text of a page) ------------------------------------------------------------------


@dataclass
class _Story:
    title: str
    paragraphs: list[list[str]]  # sentences per paragraph
    language: str
    topic: str
    author: str
    date: datetime
    tags: list[str]
    slots: dict[str, str]

    @property
    def lines(self) -> list[str]:
        return [" ".join(p) for p in self.paragraphs]


class _People:
    """Resolves the ``{P1}``/``{p1_last}`` person slots: full name and role on first mention only."""

    def __init__(self, people: dict[str, tuple[str, str, str]]) -> None:
        self.people = people  # "1" -> (full name, surname, role)
        self.introduced: set[str] = set()

    def render(self, template: str, slots: Mapping[str, str], rng: random.Random, currency: str) -> str:
        """Fill one sentence; figure slots (:data:`_VOLATILE`) get fresh values for this sentence."""
        out: list[str] = []
        pos = 0
        local: dict[str, str] = {}
        for m in _SLOT.finditer(template):
            out.append(template[pos : m.start()])
            key = m.group(1)
            if key in _VOLATILE:
                if key not in local:
                    value = _number(rng, key, currency)
                    other = {"pct": "pct2", "pct2": "pct"}.get(key)
                    while other is not None and value == local.get(other):
                        value = _number(rng, key, currency)
                    local[key] = value
                out.append(local[key])
                pos = m.end()
                continue
            who = None
            if len(key) == 2 and key[0] == "P" and key[1] in self.people:
                who = key[1]
            elif key.endswith("_last") and key[1:2] in self.people and key[0] == "p":
                who = key[1]
            if who is None:
                out.append(_fill(m.group(0), slots))
            elif who in self.introduced:
                out.append(self.people[who][1])  # later mentions: the surname
            else:
                self.introduced.add(who)
                full, _, role = self.people[who]
                nxt = template[m.end() : m.end() + 1]
                out.append(f"{full}, {role}" + ("," if nxt == " " else ""))
            pos = m.end()
        out.append(template[pos:])
        text = _A_AN.sub(lambda m: m.group(1) + "n ", "".join(out))
        return _cap(text)


def _money(rng: random.Random, currency: str, big: bool) -> str:
    if big:
        return f"{currency}{rng.randint(12, 480) / 10:.1f} million"
    return f"{currency}{rng.randint(15, 950) * 1000:,}"


def _person(rng: random.Random, used: set[str]) -> tuple[str, str, bool]:
    female = rng.random() < 0.5
    first = rng.choice(en.FIRST_NAMES_F if female else en.FIRST_NAMES_M)
    last = rng.choice(en.SURNAMES)
    while last in used:
        last = rng.choice(en.SURNAMES)
    used.add(last)
    return f"{first} {last}", last, female


#: slots that name something particular to one article (a sentence using one is never shared).
_SPECIFIC = frozenset({"place", "place2", "street", "org", "org2", "org_short", "project", "issue", "issue2",
                       "P1", "P2", "P3", "p1_last", "p2_last", "p3_last", "money", "population", "score"})
_SPECIFIC_CACHE: dict[str, bool] = {}


def _is_specific(template: str) -> bool:
    hit = _SPECIFIC_CACHE.get(template)
    if hit is None:
        hit = _SPECIFIC_CACHE[template] = any(
            k in _SPECIFIC or k[:1].lower() + k[1:] in _SPECIFIC for k in _SLOT.findall(template))
    return hit


_DECISIONS = ["approved", "rejected", "delayed a decision on", "agreed to review", "set aside funding for"]


def _numbers(rng: random.Random, currency: str) -> dict[str, str]:
    """All the figure slots at once (for titles and the article-wide defaults)."""
    return {key: _number(rng, key, currency) for key in _VOLATILE}


def _number(rng: random.Random, key: str, currency: str) -> str:
    """A fresh value for one figure slot."""
    if key == "num":
        return f"{rng.randint(120, 4800):,}"
    if key == "num2":
        return str(rng.randint(12, 400))
    if key == "small":
        return _small(rng)
    if key in ("pct", "pct2"):
        return str(rng.randint(6, 69))
    if key == "money2":
        return _money(rng, currency, False)
    if key == "price":
        return f"{currency}{rng.randint(3, 28)}"
    return str(rng.randint(10, 18)) if rng.random() < 0.6 else _small(rng)  # months


#: figure slots drawn afresh in every sentence, so an article does not repeat one number everywhere.
_VOLATILE = ("num", "num2", "small", "pct", "pct2", "money2", "price", "months")


def _story_slots(rng: random.Random) -> tuple[en.Domain, dict[str, str], str, set[str]]:
    """Pick a topic and fill the per-article slots (places, organisations, project, issues)."""
    d = rng.choice(en.DOMAINS)
    place, place2 = rng.sample(en.PLACES, 2)
    currency = "£" if rng.random() < 0.75 else "$"
    s: dict[str, str] = {
        "place": place, "place2": place2, "street": rng.choice(en.STREETS),
        "surname_co": rng.choice(en.SURNAMES), "startup": rng.choice(en.STARTUP_NAMES),
        "year_found": str(rng.randint(1890, 1985)), **_numbers(rng, currency),
        "money": _money(rng, currency, True),
        "year": str(rng.randint(2025, 2028)), "year_past": str(rng.randint(2012, 2022)),
        "weekday": rng.choice(en.WEEKDAYS), "month": rng.choice(en.MONTHS), "season": rng.choice(en.SEASONS),
        "population": f"{rng.randint(12, 180) * 1000:,}", "ordinal": rng.choice(en.ORDINALS),
        "num_games": str(rng.randint(4, 12)), "decision": rng.choice(_DECISIONS),
    }
    goals = sorted(rng.sample(range(0, 5), 2), reverse=True)
    s["score"] = f"{goals[0]}-{goals[1]}"
    org, org2 = rng.sample(d.orgs, 2)
    s["org"], s["org2"] = _fill(org, s), _fill(org2, s)
    s["org_short"] = s["org"][4:] if s["org"].startswith("the ") else s["org"]
    s["project"] = _fill(rng.choice(d.projects), s)
    issue, issue2 = rng.sample(d.issues, 2)
    s["issue"], s["issue2"] = _fill(issue, s), _fill(issue2, s)
    s["public"], s["public2"] = rng.sample(d.public, 2)
    s["noun1"], s["noun2"], s["noun3"] = rng.sample(d.nouns, 3)
    return d, s, currency, {s["surname_co"]}


def _english_title(rng: random.Random) -> str:
    """A headline only (for link lists of unrelated stories)."""
    d, s, _, _ = _story_slots(rng)
    return _cap(_fill(rng.choice(d.titles), s))


def _english_story(rng: random.Random, date: datetime, seen: set[str] | None = None) -> _Story:
    """An English news article: a lede, five to eight paragraphs in varied order, what happens next.

    ``seen`` holds the paragraphs of earlier articles; no paragraph of this one repeats them.
    """
    d, s, currency, used = _story_slots(rng)
    people: dict[str, tuple[str, str, str]] = {}
    for key, roles in (("1", d.roles), ("2", d.critic_roles), ("3", d.expert_roles)):
        full, last, female = _person(rng, used)
        people[key] = (full, last, _fill(rng.choice(roles), s))
        s[f"p{key}_he"], s[f"p{key}_his"] = ("she", "her") if female else ("he", "his")
    s["reporter"] = _person(rng, used)[0]
    ppl = _People(people)

    civic = d.name in en.CIVIC_DOMAINS
    pools = {k: [t.lstrip("~") for t in v if civic or not t.startswith("~")] for k, v in en.GENERIC.items()}
    pools["domain"] = list(d.sentences)

    def take(pool: str, specific: bool = False) -> str:
        """Draw a sentence template (``specific``: one naming something of this article)."""
        for name in (pool, "domain", "detail", "background", "public", "expert", "concern", "quote"):
            src = pools[name]
            idx = [i for i, t in enumerate(src) if _is_specific(t)] if specific else range(len(src))
            if idx:
                return src.pop(rng.choice(idx))
        raise RuntimeError("sentence pools exhausted")  # cannot happen with the built-in material

    # lede, then a shuffled middle, then what happens next
    paragraphs: list[list[str]] = [[rng.choice(d.ledes), take("domain" if rng.random() < 0.5 else "detail")]]
    middle = ["quote", "domain", "background", "concern", "domain", "expert", "public", "detail", "quote"]
    rng.shuffle(middle)
    middle = middle[: rng.randint(5, 8)]
    if "quote" not in middle:
        middle[0] = "quote"
    for kind in middle:
        n = rng.choice((2, 2, 3, 3, 4)) if kind != "quote" else rng.choice((1, 2, 2, 3))
        # every paragraph names something of its own article, so no line repeats across articles
        sents = [take(kind, specific=True)]
        for _ in range(n - 1):
            sents.append(take(kind if rng.random() < 0.5 and pools[kind] else "domain"))
        rng.shuffle(sents)
        paragraphs.append(sents)
    paragraphs.append([take("next", specific=True), take("domain")])
    rendered = [[ppl.render(t, s, rng, currency) for t in para] for para in paragraphs]
    if seen is not None:  # a paragraph already used by another article gets one more sentence
        for para in rendered:
            while " ".join(para) in seen:
                para.append(ppl.render(take("domain", specific=True), s, rng, currency))
            seen.add(" ".join(para))
    title = _cap(_fill(rng.choice(d.titles), s))
    tags = [_fill(t, s) for t in d.tags]
    return _Story(title, rendered, "en", d.name, s["reporter"], date, tags, s)


def _foreign_numbers(rng: random.Random) -> dict[str, str]:
    return {"num": str(rng.randint(40, 900)), "num2": str(rng.randint(2, 60)), "small": str(rng.randint(3, 6)),
            "pct": str(rng.randint(5, 40)), "day": str(rng.randint(1, 28))}


def _foreign_story(rng: random.Random, lang: str, date: datetime) -> _Story:
    men, women, surnames = intl.NAMES[lang]
    city = rng.choice(intl.CITIES[lang])
    s = {
        "city": city, "mname": f"{rng.choice(men)} {rng.choice(surnames)}",
        "fname": f"{rng.choice(women)} {rng.choice(surnames)}", "num": str(rng.randint(40, 900)),
        "num2": str(rng.randint(2, 60)), "small": str(rng.randint(3, 6)), "pct": str(rng.randint(5, 40)),
        "weekday": rng.choice(intl.WEEKDAY_NAMES[lang]), "day": str(rng.randint(1, 28)),
        "month": rng.choice(intl.MONTH_NAMES[lang]),
    }
    pool = rng.sample(intl.SENTENCES[lang], len(intl.SENTENCES[lang]))
    paragraphs = []
    for _ in range(rng.randint(4, 6)):
        k = rng.randint(2, 4)
        paragraphs.append([_fill(t, {**s, **_foreign_numbers(rng)}) for t in pool[:k]])
        pool = pool[k:]
    author = f"{rng.choice(men + women)} {rng.choice(surnames)}"
    title = _fill(rng.choice(intl.TITLES[lang]), s)
    return _Story(title, paragraphs, lang, "news", author, date, [city], s)


def _near_copy(rng: random.Random, story: _Story) -> tuple[_Story, list[str]]:
    """A republished version with one to three small edits."""
    paras = [list(p) for p in story.paragraphs]
    edits: list[str] = []
    for op in rng.sample(["number", "drop_sentence", "update_line", "said"], rng.randint(1, 3)):
        if op == "number":
            cands = [(i, j) for i, p in enumerate(paras) for j, t in enumerate(p) if re.search(r"\d", t)]
            if cands:
                i, j = rng.choice(cands)
                paras[i][j] = re.sub(r"\d+", lambda m: str(int(m.group(0)) + rng.randint(1, 9)), paras[i][j], count=1)
                edits.append(op)
        elif op == "drop_sentence":
            cands = [i for i, p in enumerate(paras) if len(p) >= 3]
            if cands:
                i = rng.choice(cands)
                del paras[i][rng.randrange(1, len(paras[i]))]
                edits.append(op)
        elif op == "update_line":
            slots = dict(story.slots)
            paras.append([_fill(rng.choice(en.UPDATE_LINES), slots)])
            edits.append(op)
        else:
            cands = [(i, j) for i, p in enumerate(paras) for j, t in enumerate(p) if " said " in t]
            if cands:
                i, j = rng.choice(cands)
                paras[i][j] = paras[i][j].replace(" said ", " told reporters ", 1)
                edits.append(op)
    if not edits:  # always at least one edit
        paras.append([_fill(en.UPDATE_LINES[1], story.slots)])
        edits.append("update_line")
    return _Story(story.title, paras, story.language, story.topic, story.author, story.date, story.tags,
                  story.slots), edits


def _spin_text(rng: random.Random, text: str, rate: float) -> tuple[str, int, int]:
    """Replace ``rate`` of the eligible words of ``text`` (those the synonym table covers) with synonyms.

    Returns (text, replaced, eligible). The rate counts eligible content words, as the dedup issue and
    :mod:`thresher.dedup.spinner` define a spin rate ("30 % of eligible content words").
    """
    tokens = list(_WORD.finditer(text))
    cands = [i for i, m in enumerate(tokens) if m.group(0).lower() in en.SYNONYMS]
    k = round(rate * len(cands))
    chosen = set(rng.sample(cands, k))
    out: list[str] = []
    pos = 0
    for i, m in enumerate(tokens):
        if i in chosen:
            word = m.group(0)
            rep = rng.choice(en.SYNONYMS[word.lower()])
            out.append(text[pos : m.start()])
            out.append(_cap(rep) if word[0].isupper() else rep)
            pos = m.end()
    out.append(text[pos:])
    return "".join(out), k, len(cands)


def _spun_copy(rng: random.Random, story: _Story) -> tuple[_Story, float]:
    rate = rng.uniform(SPIN_RATE - 0.03, SPIN_RATE + 0.03)
    paras, replaced, total = [], 0, 0
    for p in story.paragraphs:
        text, r, t = _spin_text(rng, " ".join(p), rate)
        paras.append([text])
        replaced += r
        total += t
    title = _spin_text(rng, story.title, rate)[0]
    spun = _Story(title, paras, story.language, story.topic, story.author, story.date, story.tags, story.slots)
    return spun, round(replaced / total, 4) if total else 0.0


# -- site templates ------------------------------------------------------------------------------------


@dataclass
class _Site:
    name: str
    domain: str
    lang: str
    header: list[str]
    menu: list[str]
    menu_style: str  # "lines", or a separator to join items on one line
    cookie: list[str]
    cookie_at_top: bool
    trending: str | None
    trending_style: int
    date_style: int
    byline: str
    share: list[str]
    share_at_bottom: bool
    ad: str
    ad_every: int
    read_also: str | None
    continue_reading: str | None
    tags: str | None
    related: str | None
    newsletter: list[str]
    comments: list[str]
    footer: list[str]
    footer_style: str
    copyright: str
    bottom: list[str]

    def ui(self, key: str) -> list[str]:
        return intl.UI[self.lang][key]


def _pick(rng: random.Random, options: list[str]) -> str:
    """One of ``options``, the first (the most common wording on real sites) about half the time."""
    return options[0] if rng.random() < 0.4 else rng.choice(options)


def _make_site(rng: random.Random, name: str, lang: str) -> _Site:
    ui = intl.UI[lang]
    domain = "www." + _slugify(name.replace("'", "")).replace("-", "") + intl.TLD[lang]
    menu = [ui["menu"][0]] + rng.sample(ui["menu"][1:], rng.randint(5, 9))
    header = rng.sample(ui["header"], rng.randint(1, 3))
    header.insert(rng.randint(0, len(header)), name)
    if rng.random() < 0.5:
        header.append(rng.choice(intl.TAGLINES[lang]))
    share = rng.sample(ui["share"], rng.randint(2, 5)) if rng.random() < 0.7 else [rng.choice(ui["share_joined"])]
    cookie = [_pick(rng, ui["cookie"])] + rng.sample(ui["cookie_buttons"], rng.randint(1, 2))
    newsletter = ui["newsletter"][: rng.randint(2, len(ui["newsletter"]))] if rng.random() < 0.6 else []
    comments = rng.sample(ui["comments"], rng.randint(1, 2)) if rng.random() < 0.6 else []
    year = str(rng.choice((2023, 2024, 2024)))
    return _Site(
        name=name, domain=domain, lang=lang, header=header, menu=menu,
        menu_style=rng.choice(["lines", "lines", " | ", " · ", "  "]), cookie=cookie,
        cookie_at_top=rng.random() < 0.6,
        trending=rng.choice(ui["trending"]) if rng.random() < 0.8 else None,
        trending_style=rng.randrange(3), date_style=rng.randrange(4), byline=rng.choice(ui["byline"]),
        share=share, share_at_bottom=rng.random() < 0.4, ad=_pick(rng, ui["ads"]),
        ad_every=rng.choice((0, 2, 3, 3, 4)),
        read_also=rng.choice(ui["read_also"]) if rng.random() < 0.5 else None,
        continue_reading=_pick(rng, ui["continue"]) if rng.random() < 0.3 else None,
        tags=rng.choice(ui["tags"]) if rng.random() < 0.6 else None,
        related=_fill(rng.choice(ui["related"]), {"site": name}) if rng.random() < 0.7 else None,
        newsletter=newsletter, comments=comments,
        footer=rng.sample(ui["footer"], rng.randint(3, len(ui["footer"]))),
        footer_style=rng.choice(["lines", " | ", " · "]),
        copyright=_fill(_pick(rng, ui["copyright"]), {"site": name, "year": year}),
        bottom=rng.sample(ui["bottom"], rng.randint(0, min(2, len(ui["bottom"])))),
    )


class _Page:
    """Accumulates the lines of one page, remembering which are content."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.content: list[int] = []
        self.title: int | None = None

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def add_content(self, line: str) -> None:
        self.content.append(len(self.lines))
        self.lines.append(line)

    def add_title(self, line: str) -> None:
        self.title = len(self.lines)
        self.lines.append(line)


def _link_line(rng: random.Random, site: _Site, title: str) -> str:
    d = _format_date(_random_date(rng, datetime(2023, 1, 1), 640), site.lang, site.date_style)
    return [f"{title} - {d}", f"{title} ({d})", title][site.trending_style]


def _menu(page: _Page, site: _Site) -> None:
    if site.menu_style == "lines":
        page.add(*site.menu)
    else:
        page.add(site.menu_style.join(site.menu))


def _header(rng: random.Random, page: _Page, site: _Site) -> None:
    if site.cookie_at_top:
        page.add(*site.cookie)
    page.add(*site.header)
    _menu(page, site)


def _footer(rng: random.Random, page: _Page, site: _Site) -> None:
    if site.footer_style == "lines":
        page.add(*site.footer)
    else:
        page.add(site.footer_style.join(site.footer))
    page.add(site.copyright)
    page.add(*site.bottom)
    if not site.cookie_at_top:
        page.add(*site.cookie)


def _trending(rng: random.Random, page: _Page, site: _Site, titles: list[str], n: int) -> None:
    if site.trending is None:
        return
    page.add(site.trending)
    for t in rng.sample(titles, min(n, len(titles))):
        if site.trending_style == 2:
            page.add(t, _format_date(_random_date(rng, datetime(2023, 1, 1), 640), site.lang, site.date_style))
        else:
            page.add(_link_line(rng, site, t))


def _render_story(rng: random.Random, site: _Site, story: _Story, titles: list[str], url_date: datetime) -> _Page:
    page = _Page()
    _header(rng, page, site)
    trending_top = rng.random() < 0.5
    if trending_top:
        _trending(rng, page, site, titles, rng.randint(4, 10))
    page.add_title(story.title)
    date = _format_date(url_date, site.lang, site.date_style)
    page.add(_fill(site.byline, {"author": story.author, "date": date, "time": url_date.strftime("%H:%M")}))
    if not site.share_at_bottom:
        page.add(*site.share)
    lines = story.lines
    read_also_at = rng.randrange(2, len(lines)) if site.read_also and len(lines) > 3 else -1
    for i, line in enumerate(lines):
        page.add_content(line)
        if i == 0 and site.continue_reading:
            page.add(site.continue_reading)
        if i == read_also_at:
            page.add(_fill(site.read_also, {"title": rng.choice(titles)}))
        elif site.ad_every and i % site.ad_every == site.ad_every - 1 and i < len(lines) - 1:
            page.add(site.ad)
    if site.share_at_bottom:
        page.add(*site.share)
    if site.tags:
        page.add(_fill(site.tags, {"tags": ", ".join(story.tags)}))
    if site.related:
        page.add(site.related)
        for t in rng.sample(titles, min(rng.randint(3, 6), len(titles))):
            page.add(t)
    page.add(*site.newsletter)
    for c in site.comments:
        page.add(_fill(c, {"n": str(rng.randint(0, 240))}))
    if not trending_top:
        _trending(rng, page, site, titles, rng.randint(4, 10))
    _footer(rng, page, site)
    return page


def _render_nav(rng: random.Random, site: _Site, titles: list[str]) -> _Page:
    page = _Page()
    _header(rng, page, site)
    page.add(rng.choice(site.menu[1:]))
    for t in rng.sample(titles, min(rng.randint(15, 35), len(titles))):
        page.add(_link_line(rng, site, t) if site.trending_style != 2 else t)
    page.add(_fill(rng.choice(site.ui("load_more")), {"n": str(rng.randint(5, 80))}))
    if site.trending:
        _trending(rng, page, site, titles, rng.randint(3, 6))
    _footer(rng, page, site)
    return page


def _render_short(rng: random.Random, site: _Site, style: str, story: _Story) -> _Page:
    page = _Page()
    page.add(site.name)
    page.add(" | ".join(site.menu[:5]))
    if style == "not_found":
        nf = site.ui("not_found")
        page.add_title(nf[0])
        page.add_content(nf[1])
        page.add(nf[2])
    elif style == "paywall":
        page.add_title(story.title)
        page.add_content(story.paragraphs[0][0])
        page.add(*site.ui("paywall"))
    else:  # a brief: headline and one short paragraph
        page.add_title(story.title)
        page.add_content(story.paragraphs[0][0])
    page.add(site.copyright)
    return page


def _render_spam(rng: random.Random, domain: str) -> tuple[_Page, str]:
    page = _Page()
    kws = rng.choice(intl.SPAM_KEYWORDS)
    name = domain.split(".")[0].replace("-", " ").title()
    page.add(name, "Home | Deals | Top 10 | Contact", rng.choice(intl.SPAM_SHOUTS))
    style = rng.choice(["stuffing", "prices", "repeated", "links"])
    page.add_title(f"{_cap(kws[0])} - {_cap(kws[1])} - {_cap(kws[2])} {rng.randint(2023, 2025)}")
    if style == "stuffing":
        for _ in range(rng.randint(8, 16)):
            page.add_content(" ".join(rng.choice(kws) for _ in range(rng.randint(8, 20))))
            if rng.random() < 0.3:
                page.add_content(rng.choice(intl.SPAM_SHOUTS))
    elif style == "prices":
        for _ in range(rng.randint(20, 40)):
            product = rng.choice(intl.SPAM_PRODUCTS)
            page.add_content(f"{product} {rng.choice(intl.SPAM_COLOURS)} size {rng.randint(36, 46)} - "
                             f"${rng.randint(9, 199)}.{rng.choice(('99', '95', '49'))}")
            if rng.random() < 0.25:
                page.add_content(rng.choice(("Add to cart", "Buy now", "In stock", "Only 2 left!")))
    elif style == "repeated":
        blurb = _fill(rng.choice(intl.SPAM_BLURBS), {"kw": kws[0], "kw2": rng.choice(kws[1:])})
        shout = rng.choice(intl.SPAM_SHOUTS)
        for _ in range(rng.randint(6, 14)):
            page.add_content(blurb)
            page.add_content(shout)
    else:
        for _ in range(rng.randint(10, 25)):
            page.add_content(" | ".join(rng.sample(kws, min(len(kws), rng.randint(4, 7)))))
    page.add(rng.choice(intl.SPAM_SHOUTS), f"Copyright {rng.randint(2019, 2024)} {domain}")
    return page, style


# -- the crawl --------------------------------------------------------------------------------------------


def _plan_kinds(rng: random.Random, n_pages: int) -> list[str]:
    raw = {k: MIX[k] * n_pages for k in KINDS}
    counts = {k: int(v) for k, v in raw.items()}
    for k in sorted(KINDS, key=lambda k: (-(raw[k] - counts[k]), KINDS.index(k))):
        if sum(counts.values()) >= n_pages:
            break
        counts[k] += 1
    if n_pages >= 2 * len(KINDS):  # every kind present in any crawl of useful size
        for k in KINDS:
            if counts[k] == 0:
                counts[k] = 1
                counts["article"] -= 1
    kinds = [k for k in KINDS for _ in range(counts[k])]
    rng.shuffle(kinds)
    if "article" in kinds:  # copies need an earlier article: put one first
        first = kinds.index("article")
        kinds[0], kinds[first] = kinds[first], kinds[0]
    return kinds


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def _warc_record(headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = "WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return _gz(head.encode("utf-8") + body + b"\r\n\r\n")


def _sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def _record_id(seed: int, name: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'thresher-demo/{seed}/{name}')}>"


def generate_crawl(
    outdir: str | Path,
    n_pages: int = 600,
    seed: int = 0,
    *,
    shards: int | None = None,
    wet_sample: int = WET_SAMPLE_PAGES,
) -> CrawlManifest:
    """Write a synthetic crawl of ``n_pages`` pages under ``outdir/crawl/`` and return its manifest.

    ``shards`` is the number of ``pages-NNN.jsonl.gz`` files (default: one per 150 pages, 1 to 4);
    ``wet_sample`` the number of leading pages repeated in ``outdir/wet/sample.warc.wet.gz`` (0: none).
    The same ``n_pages``, ``seed``, ``shards`` and ``wet_sample`` give byte-identical files.
    """
    if n_pages < 1:
        raise ValueError(f"n_pages must be at least 1 (got {n_pages})")
    if shards is not None and shards < 1:
        raise ValueError(f"shards must be at least 1 (got {shards})")
    n_shards = min(n_pages, shards if shards is not None else max(1, min(4, math.ceil(n_pages / 150))))
    crawl = Path(outdir) / "crawl"
    rng = random.Random(seed)

    kinds = _plan_kinds(rng, n_pages)
    sites = {lang: [_make_site(rng, name, lang) for name in names] for lang, names in intl.SITE_NAMES.items()}
    foreign_langs = ["de", "fr", "es"]

    # headlines of unrelated stories, for link lists (a pool independent of the pages' own stories)
    headline_rng = random.Random(rng.getrandbits(64))
    en_titles = [_english_title(headline_rng) for _ in range(120)]
    intl_titles = {lang: [_fill(t, {"city": c}) for t in intl.TITLES[lang] for c in intl.CITIES[lang][:4]]
                   for lang in foreign_langs}

    stories: dict[int, _Story] = {}
    seen_paragraphs: set[str] = set()
    story_sites: dict[int, _Site] = {}
    article_idx: list[int] = []
    records: list[bytes] = []
    infos: list[PageInfo] = []
    texts: list[str] = []
    per_shard = math.ceil(n_pages / n_shards)
    shard_names = [f"pages-{i:03d}.jsonl.gz" for i in range(n_shards)]

    for i, kind in enumerate(kinds):
        pid = f"page-{i:05d}"
        pub = _random_date(rng, datetime(2024, 1, 1), 300)
        crawl_time = _CRAWL_START + timedelta(seconds=rng.randrange(14 * 86400))
        info = PageInfo(id=pid, kind=kind, language="en", site="", url="", shard=shard_names[i // per_shard],
                        n_lines=0)
        if kind == "article":
            story = _english_story(rng, pub, seen_paragraphs)
            site = rng.choice(sites["en"])
            stories[i], story_sites[i] = story, site
            article_idx.append(i)
            page = _render_story(rng, site, story, en_titles, pub)
            info.variant = story.topic
            slug = _slugify(story.title)
        elif kind in COPY_KINDS:
            src = rng.choice(article_idx)
            source = stories[src]
            site = rng.choice([s for s in sites["en"] if s is not story_sites[src]])
            if kind == "exact_copy":
                story = source
            elif kind == "near_copy":
                story, info.edits = _near_copy(rng, source)
            else:
                story, info.spin_rate = _spun_copy(rng, source)
            pub = source.date + timedelta(days=rng.randint(0, 20), minutes=rng.randint(5, 600))
            page = _render_story(rng, site, story, en_titles, pub)
            info.copy_of = f"page-{src:05d}"
            info.variant = source.topic
            info.similarity = _jaccard("\n".join(source.lines), "\n".join(story.lines))
            slug = _slugify(story.title)
        elif kind == "foreign":
            lang = rng.choice(foreign_langs)
            story = _foreign_story(rng, lang, pub)
            site = rng.choice(sites[lang])
            page = _render_story(rng, site, story, intl_titles[lang], pub)
            info.language, info.variant = lang, "news"
            slug = _slugify(story.title)
        elif kind == "spam":
            domain = rng.choice(intl.SPAM_SITES)
            page, info.variant = _render_spam(rng, domain)
            info.site, info.url = domain, f"http://{domain}/?p={rng.randint(100, 9999)}"
            slug = ""
        elif kind == "short":
            site = rng.choice(sites["en"])
            style = rng.choice(["brief", "not_found", "paywall"])
            story = _english_story(rng, pub, seen_paragraphs)
            page = _render_short(rng, site, style, story)
            info.variant = style
            slug = "page-not-found" if style == "not_found" else _slugify(story.title)
        else:  # nav_only
            lang = "en" if rng.random() < 0.75 else rng.choice(foreign_langs)
            site = rng.choice(sites[lang])
            page = _render_nav(rng, site, en_titles if lang == "en" else intl_titles[lang])
            info.language, info.variant = lang, "section"
            slug = ""
        if kind != "spam":
            info.site = site.domain
            section = _slugify(site.menu[1 + i % (len(site.menu) - 1)])
            info.url = (f"https://{site.domain}/{section}/{pub:%Y/%m}/{slug}-{i}" if slug
                        else f"https://{site.domain}/{section}/page/{i}/")
        info.n_lines = len(page.lines)
        info.title_line = page.title
        info.content_lines = page.content
        text = "\n".join(page.lines)
        texts.append(text)
        infos.append(info)
        records.append(orjson.dumps({"id": pid, "text": text, "url": info.url,
                                     "date": crawl_time.strftime("%Y-%m-%dT%H:%M:%SZ")}) + b"\n")

    manifest = CrawlManifest(seed=seed, n_pages=n_pages, shards=shard_names,
                             pages={p.id: p for p in infos}, crawl_dir=crawl)
    for k, name in enumerate(shard_names):
        atomic_write_bytes(crawl / name, _gz(b"".join(records[k * per_shard : (k + 1) * per_shard])))
    if wet_sample > 0:
        manifest.wet_sample = "../wet/sample.warc.wet.gz"
        wet_bytes = _wet_bytes(seed, infos[:wet_sample], texts, records)
        atomic_write_bytes(crawl.parent / "wet" / "sample.warc.wet.gz", wet_bytes)
    atomic_write_bytes(crawl / "manifest.json", manifest.to_json())
    return manifest


def _wet_bytes(seed: int, infos: list[PageInfo], texts: list[str], records: list[bytes]) -> bytes:
    """A WET file (WARC/1.0, one gzip member per record): a warcinfo record, then conversions."""
    info_body = (
        b"software: thresher-demo\r\n"
        b"format: WARC File Format 1.0\r\n"
        b"description: synthetic crawl for `thresher demo`; page ids in manifest.json (wet_record_id)\r\n"
    )
    out = [_warc_record([
        ("WARC-Type", "warcinfo"), ("WARC-Date", _CRAWL_START.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("WARC-Filename", "sample.warc.wet.gz"), ("WARC-Record-ID", _record_id(seed, "warcinfo")),
        ("WARC-Block-Digest", _sha1_b32(info_body)), ("Content-Type", "application/warc-fields"),
    ], info_body)]
    for k, info in enumerate(infos):
        body = texts[k].encode("utf-8")
        info.wet_record_id = _record_id(seed, info.id)
        date = orjson.loads(records[k])["date"]
        out.append(_warc_record([
            ("WARC-Type", "conversion"), ("WARC-Target-URI", info.url), ("WARC-Date", date),
            ("WARC-Record-ID", info.wet_record_id), ("WARC-Refers-To", _record_id(seed, info.id + "/response")),
            ("WARC-Block-Digest", _sha1_b32(body)), ("Content-Type", "text/plain"),
        ], body))
    return b"".join(out)
