"""URL filter: drop documents whose URL is on a block list (datatrove's ``URLFilter`` semantics).

Rules, in the order datatrove 0.10 applies them (``datatrove/pipeline/filters/url_filter.py``);
the first that fires is the drop reason:

1. ``domain``: the registered domain (one label above the ICANN public suffix: ``bbc.co.uk`` for
   ``news.bbc.co.uk``) is in the domain list;
2. ``subdomain``: the full host name is in the domain list (so an entry ``news.bbc.co.uk`` blocks
   that host but not ``bbc.co.uk``; datatrove does not test intermediate names either);
3. ``url``: the whole URL is in the URL list;
4. ``banned_word``: a URL word (the URL split on runs of non-alphanumerics) is a banned word;
5. ``soft_banned_words``: at least ``soft_word_threshold`` distinct URL words are soft-banned;
6. ``banned_subword``: a banned sub-word occurs anywhere in the URL with every non-alphanumeric
   removed (``2girls1cup`` in ``.../2-girls-1-cup...``).

List words and sub-words are normalised as datatrove does (non-alphanumerics removed, lower
case). URL words keep their case by default, as in datatrove, so ``/Casino/`` does not match a
``casino`` entry (``lowercase_url_words: true`` catches it; FineWeb ran without). Two deliberate
differences: host names are compared in lower case (datatrove keeps the host's case, so
``Example.COM`` escapes an ``example.com`` entry; host names are case-insensitive), and a
document without a URL is kept and counted (``no_url``) where datatrove stops on an assertion.
List entries that normalise to nothing (``日本``, ``--``) are ignored; in datatrove such an entry
matches the empty "word" of every URL that ends with ``/``.

Registered domains come from the Public Suffix List shipped in the ``publicsuffixlist`` package
(ICANN section only, like tldextract's default that datatrove uses), so nothing is fetched at run
time. Lists are given inline and/or as files (one entry per line, ``#`` comments, ``.gz``
allowed); files are read on first use in each worker, not pickled with the step.

Thresher ships no default lists. FineWeb used datatrove's integrated lists (the UT1 blacklist
``adult`` category for domains and URLs, plus datatrove's banned word files); point the
``*_files`` parameters at copies of those (or your own) to reproduce it.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from thresher.document import Document
from thresher.errors import UsageError
from thresher.steps.base import Batch, Filter, register
from thresher.steps.rules import Rule, above

_NON_ALNUM = re.compile(r"[^a-zA-Z0-9]+")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def normalize_word(text: str) -> str:
    """datatrove's word normalisation: drop every non-alphanumeric character, lower-case the rest."""
    return _NON_ALNUM.sub("", text).lower()


def url_host(url: str) -> str:
    """The host of a URL-like string, lower-cased, without user info, port or trailing dots.

    Lenient like tldextract (which datatrove uses): a string without a scheme (``example.com/a``)
    or with a ``//`` but no scheme still yields its host.
    """
    slashes = url.find("//")
    if slashes == 0:
        url = url[2:]
    elif slashes >= 2 and url[slashes - 1] == ":" and set(url[: slashes - 1]) <= _SCHEME_CHARS:
        url = url[slashes + 2 :]
    authority = url.partition("/")[0].partition("?")[0].partition("#")[0]
    host = authority.rpartition("@")[2]
    if host.startswith("["):  # IPv6 literal
        literal, bracket, _ = host.partition("]")
        if bracket:
            return (literal + "]").lower()
    host = host.partition(":")[0].strip().translate(_DOTS)
    return host.rstrip(".").lower()


@lru_cache(maxsize=1)
def _suffix_list() -> Any:
    try:
        from publicsuffixlist import PublicSuffixList
    except ImportError as exc:
        raise UsageError(
            "step 'url_filter' needs the package publicsuffixlist (it ships the Public Suffix List): "
            "run `pip install publicsuffixlist`"
        ) from exc
    return PublicSuffixList(only_icann=True, accept_unknown=False)


@lru_cache(maxsize=65536)
def registered_domain(host: str) -> str:
    """The registered domain of a lower-case host (``bbc.co.uk`` for ``news.bbc.co.uk``), or ``""``.

    ``""`` for IP addresses, bare public suffixes (``co.uk``) and unknown top-level domains, as
    tldextract's ``registered_domain``.
    """
    if not host or host.startswith("["):
        return ""
    if ".." in host:  # empty labels: only the part after the last one can hold a domain
        host = host.rsplit("..", 1)[1]
    return _suffix_list().privatesuffix(host) or ""


def _as_list(value: Iterable[str] | str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _check_file(path: str, parameter: str) -> Path:
    file = Path(path).expanduser()
    if not file.is_file():
        raise UsageError(f"url_filter: {parameter} names {path!r}, which is not a file: fix the path")
    return file


def _read_entries(path: str, parameter: str) -> Iterable[str]:
    file = _check_file(path, parameter)
    opener = gzip.open if file.suffix == ".gz" else open
    with opener(file, "rt", encoding="utf-8", errors="replace") as handle:
        yield from handle


def _clean(entries: Iterable[str], mode: str) -> set[str]:
    """Block-list entries without blanks and ``#`` comments; ``mode``: ``word``, ``host`` or ``url``."""
    out: set[str] = set()
    for raw in entries:
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        if mode == "word":
            entry = normalize_word(entry)
        elif mode == "host":
            entry = entry.lower()
        if entry:
            out.add(entry)
    return out


@register
class URLFilter(Filter):
    """Drop documents whose URL (``metadata["url"]``) is block-listed; see the module docstring.

    Signals: ``url_filter.has_url`` (0/1), ``url_filter.soft_words`` (distinct soft-banned words in
    the URL). Counter: ``no_url`` (documents kept because they have no URL).
    """

    name = "url_filter"
    #: read only by ``keep``: `thresher refilter` re-decides them from the signal table
    keep_params = frozenset({"soft_word_threshold"})

    def __init__(
        self,
        domains: list[str] | None = None,
        domain_files: list[str] | str | None = None,
        urls: list[str] | None = None,
        url_files: list[str] | str | None = None,
        banned_words: list[str] | None = None,
        banned_word_files: list[str] | str | None = None,
        soft_banned_words: list[str] | None = None,
        soft_banned_word_files: list[str] | str | None = None,
        banned_subwords: list[str] | None = None,
        banned_subword_files: list[str] | str | None = None,
        soft_word_threshold: int = 2,  # datatrove URLFilter default, used by FineWeb
        lowercase_url_words: bool = False,
    ) -> None:
        super().__init__()
        self.lowercase_url_words = lowercase_url_words
        if soft_word_threshold < 1:
            raise UsageError(f"url_filter: soft_word_threshold must be at least 1, got {soft_word_threshold}")
        self.soft_word_threshold = soft_word_threshold
        # list name -> (inline entries, files, parameter naming the files, normalisation mode)
        self._sources: dict[str, tuple[list[str], list[str], str, str]] = {
            "domains": (_as_list(domains), _as_list(domain_files), "domain_files", "host"),
            "urls": (_as_list(urls), _as_list(url_files), "url_files", "url"),
            "banned_words": (
                _as_list(banned_words),
                _as_list(banned_word_files),
                "banned_word_files",
                "word",
            ),
            "soft_banned_words": (
                _as_list(soft_banned_words),
                _as_list(soft_banned_word_files),
                "soft_banned_word_files",
                "word",
            ),
            "banned_subwords": (
                _as_list(banned_subwords),
                _as_list(banned_subword_files),
                "banned_subword_files",
                "word",
            ),
        }
        for _inline, files, parameter, _mode in self._sources.values():
            for path in files:
                _check_file(path, parameter)
        self._lists: dict[str, Any] | None = None

    # -- lists ---------------------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        if self._lists is None:
            lists: dict[str, Any] = {}
            for key, (inline, files, parameter, mode) in self._sources.items():
                entries = _clean(inline, mode)
                for path in files:
                    entries |= _clean(_read_entries(path, parameter), mode)
                lists[key] = entries
            lists["banned_subwords"] = tuple(sorted(lists["banned_subwords"]))
            self._lists = lists
        return self._lists

    @property
    def has_lists(self) -> bool:
        """Whether any block list is configured (a filter without lists keeps everything)."""
        return any(inline or files for inline, files, _p, _m in self._sources.values())

    # -- score and keep ------------------------------------------------------------------------------

    #: rule name -> signal, in datatrove's order of precedence.
    RULES = (
        ("domain", "domain_listed"),
        ("subdomain", "host_listed"),
        ("url", "url_listed"),
        ("banned_word", "banned_words"),
        ("soft_banned_words", "soft_words"),
        ("banned_subword", "banned_subwords"),
    )

    def score(self, doc: Document) -> dict[str, float]:
        return self.match(doc.metadata.get("url"))[0]

    def match(self, url: Any) -> tuple[dict[str, float], dict[str, str]]:
        """Signals for one URL, and the block-list entry each rule matched (first in sorted order).

        Signals: ``has_url`` (0/1); ``domain_listed``, ``host_listed``, ``url_listed`` (0/1);
        ``banned_words``, ``soft_words`` (distinct listed words in the URL) and ``banned_subwords``
        (0/1: any listed sub-word found).
        """
        signals: dict[str, float] = {"has_url": 0}
        found: dict[str, str] = {}
        if not url or not isinstance(url, str):
            return signals, found
        lists = self._load()
        signals["has_url"] = 1
        domains = lists["domains"]
        if domains:
            host = url_host(url)
            domain = registered_domain(host)
            signals["domain_listed"] = int(bool(domain) and domain in domains)
            signals["host_listed"] = int(bool(domain) and host in domains)
            if signals["domain_listed"]:
                found["domain"] = domain
            if signals["host_listed"]:
                found["subdomain"] = host
        if lists["urls"]:
            signals["url_listed"] = int(url in lists["urls"])
            if signals["url_listed"]:
                found["url"] = url
        if lists["banned_words"] or lists["soft_banned_words"]:
            words = set(_NON_ALNUM.split(url.lower() if self.lowercase_url_words else url))
            hard = words & lists["banned_words"]
            soft = words & lists["soft_banned_words"]
            signals["banned_words"] = len(hard)
            signals["soft_words"] = len(soft)
            if hard:
                found["banned_word"] = min(hard)
            if soft:
                found["soft_banned_words"] = " ".join(sorted(soft))
        if lists["banned_subwords"]:
            flat = normalize_word(url)
            hit = next((sub for sub in lists["banned_subwords"] if sub in flat), None)
            signals["banned_subwords"] = int(hit is not None)
            if hit is not None:
                found["banned_subword"] = hit
        return signals, found

    def keep_rules(self) -> list[Rule]:
        """One rule per list, in ``RULES`` order: a listed domain, host or URL, or a banned word or
        subword drops; soft-banned words drop from ``soft_word_threshold`` on. A signal that was not
        computed (a document without URL) counts as 0."""
        rules = []
        for reason, signal in self.RULES:
            if signal == "soft_words":
                t = self.soft_word_threshold
                rules.append(Rule(reason, above(signal, t, inclusive=True), signal, t, defaults={signal: 0}))
            else:
                rules.append(Rule(reason, lambda v, s=signal: v[s] != 0, signal, defaults={signal: 0}))
        return rules

    def check(self, url: str | None) -> tuple[str, dict[str, Any]] | None:
        """``None`` to keep a document with this URL, else ``(reason, details)`` (details name the entry)."""
        signals, found = self.match(url)
        verdict = self.keep(signals)
        if verdict is not None:
            verdict[1]["match"] = found[verdict[0]]
        return verdict

    def process(self, batch: Batch) -> Batch:
        for doc in batch:
            signals, found = self.match(doc.metadata.get("url"))
            doc.set_signals(self.name, signals)
            if not signals["has_url"]:
                self.count("no_url")
                continue
            verdict = self.keep(signals)
            if verdict is not None:
                reason, details = verdict
                doc.reject(self.name, reason, match=found[reason], **details)
        return batch

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_lists"] = None  # re-read from the files in each worker
        return state
