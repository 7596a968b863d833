"""C4 filters (Raffel et al. 2020, "Exploring the Limits of Transfer Learning", section 2.2), as datatrove.

Two steps with datatrove 0.10's decisions (``datatrove/pipeline/filters/c4_filters.py``, itself
following TensorFlow Datasets' ``c4_utils.py``):

``c4`` (datatrove's ``C4QualityFilter``): each line (``str.splitlines``) is stripped, then removed
when it breaks a line rule, in this order (rule names are those recorded in
``metadata["removed_lines"]``):

1. ``too_long_word``: a whitespace-separated word longer than ``max_word_length`` (1000);
2. wikipedia-style citations (``[1]``, ``[edit]``, ``[citation needed]``) are cut from the line;
3. ``no_terminal_punct``: the line does not end in ``. ? ! " '`` or ends in ``...``
   (``filter_no_terminal_punct``; FineWeb turns this rule off);
4. ``too_few_words``: fewer than ``min_words_per_line`` (3) whitespace-separated words;
5. the document is dropped (``lorem_ipsum``) when a remaining line contains "lorem ipsum";
6. ``javascript``: the line contains "javascript";
7. the document is dropped (``curly_bracket``) when a remaining line contains ``{``;
8. ``policy``: the line contains a cookie / terms-of-use / privacy-policy phrase.

The document is then dropped (``too_few_sentences``) when its kept lines hold fewer than
``min_num_sentences`` (5) sentences (spaCy's rule-based sentencizer, re-implemented in
:mod:`thresher.text.spacy_en`); otherwise its text becomes the kept lines joined by newlines, as
datatrove does (so the lines are stripped and citations cut even when no line is removed).

``c4_badwords`` (datatrove's ``C4BadWordsFilter``): drop documents containing a word of the
"List of Dirty, Naughty, Obscene, and Otherwise Bad Words" (LDNOOBW) for the document's language
(``metadata["language"]``, default ``en``), matched in lower case between non-word characters.
Lists ship in ``thresher/assets/badwords/`` (LDNOOBW, CC-BY-4.0, the commit datatrove pins for
English: 25e679f03d96baa721cde20db9944649e8d0a844); only English is shipped, other languages are
kept and counted (``missing_language``) or raise, per ``fail_on_missing_language``.
"""

from __future__ import annotations

import re
from functools import cache
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from thresher.document import Document
from thresher.steps.base import Batch, Filter, Step, register
from thresher.steps.rules import Rule, below
from thresher.text.lines import splitlines
from thresher.text.spacy_en import (
    CLASS_OTHER_PUNCT,
    CLASS_SENTENCE_PUNCT,
    CLASS_WORD,
    english_tokenizer,
    sentences_in_classes,
)
from thresher.text.vocab import doc_chunk_ids, doc_token_ids, vocabulary

# datatrove c4_filters.py / TFDS c4_utils.py
CITATION_REGEX = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
END_PUNCTUATION = (".", "?", "!", '"', "'")
ELLIPSIS = "..."
POLICY_SUBSTRINGS = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)

_POLICY_RE = re.compile("|".join(re.escape(p) for p in POLICY_SUBSTRINGS))


def _has_policy(lower_line: str) -> bool:
    """A policy phrase is in the (lower-cased) line; every phrase contains "polic" or "cookie" or
    is "terms of use", so most lines are decided by three substring tests."""
    if "polic" in lower_line or "cookie" in lower_line or "terms of use" in lower_line:
        return _POLICY_RE.search(lower_line) is not None
    return False


# line status codes of C4Quality.apply (verdict codes drop the whole document)
_KEPT, _TOO_LONG, _NO_TERMINAL_PUNCT, _TOO_FEW_WORDS, _LOREM, _JAVASCRIPT, _CURLY, _POLICY = range(8)
_RULE_NAMES = {
    _TOO_LONG: "too_long_word",
    _NO_TERMINAL_PUNCT: "no_terminal_punct",
    _TOO_FEW_WORDS: "too_few_words",
    _JAVASCRIPT: "javascript",
    _POLICY: "policy",
}
_Q, _P, _W = CLASS_OTHER_PUNCT, CLASS_SENTENCE_PUNCT, CLASS_WORD
_CLASS_CHARS = {_Q: "Q", _P: "P", _W: "W"}

_ASSETS = Path(__file__).resolve().parents[1] / "assets" / "badwords"
# datatrove removes these allow-listed words from every list (common sub-words in ja / zh)
_BADWORDS_ALLOWLIST = frozenset({"sm", "グロ", "女の子", "性"})
# languages written without spaces: match anywhere (datatrove / TFDS)
_NO_SPACE_LANGUAGES = ("ja", "th", "zh")


@register
class C4Quality(Filter):
    """C4's line rules (remove lines) and document rules (drop documents).

    A filter that also edits the text: ``process`` removes the failing lines of the documents it
    keeps. Its signals (``lines``, ``lines_removed``, ``sentences`` of the kept lines, and the
    ``lorem_ipsum`` / ``curly_bracket`` flags of the document rules) decide the drops, so
    ``min_num_sentences`` is a threshold ``thresher refilter`` can change; the line rules change the
    text and need a rerun."""

    name = "c4"
    keep_params = frozenset({"min_num_sentences"})

    def __init__(
        self,
        remove_citations: bool = True,
        filter_no_terminal_punct: bool = True,
        min_num_sentences: int = 5,
        min_words_per_line: int = 3,
        max_word_length: int = 1000,
        filter_lorem_ipsum: bool = True,
        filter_javascript: bool = True,
        filter_curly_bracket: bool = True,
        filter_policy: bool = True,
        language: str = "en",
    ) -> None:
        """Defaults are C4's (as datatrove's); ``-1`` disables the numeric rules, as in datatrove."""
        super().__init__()
        if language != "en":
            raise ValueError(f"c4 counts sentences for language 'en' only, got {language!r}")
        self.remove_citations = remove_citations
        self.filter_no_terminal_punct = filter_no_terminal_punct
        self.min_num_sentences = min_num_sentences
        self.min_words_per_line = min_words_per_line
        self.max_word_length = max_word_length
        self.filter_lorem_ipsum = filter_lorem_ipsum
        self.filter_javascript = filter_javascript
        self.filter_curly_bracket = filter_curly_bracket
        self.filter_policy = filter_policy
        self.language = language

    def apply(
        self, doc: Document
    ) -> tuple[list[str], dict[int, str], tuple[str, str] | None, int | None, int | None]:
        """Run the rules: kept lines, removed line index -> rule, document verdict, sentence count
        (None when ``min_num_sentences`` is -1: not counted), and the number of words of the kept
        lines when they were split (to count sentences).

        Rules are evaluated for all lines at once (numpy masks; substring rules only when the
        document's lower-cased text contains the substring at all), and sentences are counted on
        the document's word ids (:mod:`thresher.text.vocab`): a line holds ``1 +`` the number of
        word tokens whose last non-punctuation predecessor on the line is sentence punctuation.
        """
        lines = splitlines(doc)
        n = len(lines)
        stripped = list(map(str.strip, lines))
        n_chunks = np.fromiter(map(len, map(str.split, stripped)), dtype=np.int64, count=n)
        cur = stripped  # the lines as they would be kept (citations cut)
        changed: dict[int, str] = {}  # line index -> text after cutting citations
        too_long = np.zeros(n, dtype=bool)
        if self.max_word_length != -1:
            lengths = np.fromiter(map(len, stripped), dtype=np.int64, count=n)
            for i in np.flatnonzero(lengths > self.max_word_length).tolist():
                too_long[i] = any(len(w) > self.max_word_length for w in stripped[i].split())
        if self.remove_citations and "[" in doc.text:
            for i, line in enumerate(stripped):
                if "[" in line and not too_long[i]:
                    new = CITATION_REGEX.sub("", line)
                    if new != line:
                        changed[i] = new
            if changed:
                cur = list(stripped)
                for i, new in changed.items():
                    cur[i] = new
        # rule codes in datatrove's order; the first rule that fires decides the line
        conditions = [too_long]
        codes = [_TOO_LONG]
        if self.filter_no_terminal_punct:
            ends = np.fromiter(map(str.endswith, cur, repeat(END_PUNCTUATION)), dtype=bool, count=n)
            dots = np.fromiter(map(str.endswith, cur, repeat(ELLIPSIS)), dtype=bool, count=n)
            conditions.append(~ends | dots)
            codes.append(_NO_TERMINAL_PUNCT)
        conditions.append(n_chunks < self.min_words_per_line)
        codes.append(_TOO_FEW_WORDS)
        lower_text = doc.text.lower()
        lowers: list[str] | None = None  # lower-cased lines, made when a rule needs them
        for enabled, needle, code, lowered in (
            (self.filter_lorem_ipsum, "lorem ipsum", _LOREM, True),
            (self.filter_javascript, "javascript", _JAVASCRIPT, True),
            (self.filter_curly_bracket, "{", _CURLY, False),
            (self.filter_policy, None, _POLICY, True),
        ):
            if not enabled:
                continue
            # a line can only match when the lower-cased text does (lower() is per character and no
            # substring spans a line break), unless cutting a citation joined it
            if needle is None:
                present = any(p in lower_text for p in POLICY_SUBSTRINGS)
            else:
                present = needle in lower_text  # lower() neither makes nor removes "{"
            if not present and not changed:
                continue
            if lowered and lowers is None:
                lowers = list(map(str.lower, cur))
            texts = lowers if lowered else cur
            assert texts is not None
            if needle is None:
                hit = np.fromiter(map(_has_policy, texts), dtype=bool, count=n)
            else:
                hit = np.fromiter(map(str.__contains__, texts, repeat(needle)), dtype=bool, count=n)
            conditions.append(hit)
            codes.append(code)
        status = np.select(conditions, codes, default=_KEPT) if n else np.zeros(0, dtype=np.int64)
        verdict: tuple[str, str] | None = None
        verdict_at = np.flatnonzero((status == _LOREM) | (status == _CURLY))
        if len(verdict_at):
            v = int(verdict_at[0])
            verdict = ("lorem_ipsum" if status[v] == _LOREM else "curly_bracket", lines[v][:200])
            status = status[:v]
        removed = {i: _RULE_NAMES[c] for i, c in enumerate(status.tolist()) if c != _KEPT}
        kept_mask = status == _KEPT
        kept = [cur[i] for i in np.flatnonzero(kept_mask).tolist()]
        if self.min_num_sentences == -1:
            return kept, removed, verdict, None, None
        n_sentences, n_words = self._sentences(doc, kept_mask, n_chunks, changed)
        return kept, removed, verdict, n_sentences, (None if verdict else n_words)

    def _sentences(
        self, doc: Document, kept_mask: np.ndarray, n_chunks: np.ndarray, changed: dict[int, str]
    ) -> tuple[int, int]:
        """Sentences and words of the kept lines (``kept_mask`` covers a prefix of the lines)."""
        vocab = vocabulary()
        cids = doc_chunk_ids(doc)  # the chunks of the text are the chunks of its lines, in order
        tids = doc_token_ids(doc)
        if len(cids) != int(n_chunks.sum()):  # cannot happen (line breaks are whitespace); be safe
            chunks = [c for line in splitlines(doc) for c in line.split()]
            cids = vocab.chunk_ids(chunks, may_reset=False)
            tids = vocab.chunk_tokens(cids)
        classes = vocab.feature("sentence_class", english_tokenizer().token_class_code)
        n = len(kept_mask)
        kept_plain = kept_mask.copy()
        for i in changed:
            if i < n:
                kept_plain[i] = False
        line_of_chunk = np.repeat(np.arange(len(n_chunks)), n_chunks)
        tok_counts = vocab.chunk_token_counts(cids)
        line_of_token = np.repeat(line_of_chunk, tok_counts)
        sel = line_of_token < n
        sel[sel] = kept_plain[line_of_token[sel]]
        n_words = int(np.count_nonzero(sel))
        cls = classes[tids[sel]]
        lines_of = line_of_token[sel]
        marked = cls != _Q
        c, ln = cls[marked], lines_of[marked]
        breaks = int(np.count_nonzero((c[1:] == _W) & (c[:-1] == _P) & (ln[1:] == ln[:-1])))
        n_sentences = int(np.count_nonzero(kept_plain)) + breaks
        for i, line in changed.items():
            if i < n and kept_mask[i]:
                ids = vocab.chunk_tokens(vocab.chunk_ids(line.split(), may_reset=False))
                line_cls = vocab.feature("sentence_class", english_tokenizer().token_class_code)[ids]
                n_sentences += sentences_in_classes("".join(_CLASS_CHARS[k] for k in line_cls.tolist()))
                n_words += len(ids)
        return n_sentences, n_words

    def keep_rules(self) -> list[Rule]:
        """The document rules in C4's order: a lorem-ipsum line, a curly bracket (each flagged
        where its line rule is on), then fewer than ``min_num_sentences`` sentences (``-1``: off)."""
        rules = [
            Rule("lorem_ipsum", lambda v: v["lorem_ipsum"] != 0, "lorem_ipsum", None),
            Rule("curly_bracket", lambda v: v["curly_bracket"] != 0, "curly_bracket", None),
        ]
        if self.min_num_sentences != -1:
            limit = self.min_num_sentences
            rules.append(Rule("too_few_sentences", below("sentences", limit), "sentences", limit))
        return rules

    @staticmethod
    def _signals(n_lines: int, removed: dict[int, str], verdict: tuple[str, str] | None,
                 n_sentences: int | None) -> dict[str, float]:
        reason = verdict[0] if verdict else None
        signals: dict[str, float] = {
            "lines": n_lines,
            "lines_removed": len(removed),
            "lorem_ipsum": int(reason == "lorem_ipsum"),
            "curly_bracket": int(reason == "curly_bracket"),
        }
        if n_sentences is not None:
            signals["sentences"] = n_sentences
        return signals

    def score(self, doc: Document) -> dict[str, float]:
        """The signals of ``doc`` (the text is left as it is; :meth:`process` also removes lines)."""
        _, removed, verdict, n_sentences, _ = self.apply(doc)
        return self._signals(len(splitlines(doc)), removed, verdict, n_sentences)

    def process(self, batch: Batch) -> Batch:
        for doc in batch:
            lines = splitlines(doc)
            kept, removed, verdict, n_sentences, n_words = self.apply(doc)
            signals = self._signals(len(lines), removed, verdict, n_sentences)
            doc.set_signals(self.name, signals)
            failed = self.keep(signals)
            if failed is not None:
                reason, details = failed
                if verdict is not None:  # a document rule: show the line that fired it
                    details = {"value": verdict[1], "threshold": None}
                doc.reject(self.name, reason, **details)
                continue
            for rule in removed.values():
                self.count(f"lines_removed_{rule}")
            doc.record_removed_lines(self.name, lines, removed)
            new_text = "\n".join(kept).strip()
            if new_text != doc.text:
                doc.text = new_text
                if n_words is not None:
                    # the new text's words are its lines' words (no word spans a line break)
                    doc.cache["word_count"] = n_words
        return batch


@cache
def load_badwords(language: str) -> frozenset[str] | None:
    """The shipped bad-word list of ``language`` (minus datatrove's allow-list), or ``None``."""
    path = _ASSETS / f"{language}.txt"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as f:
        words = {line.strip() for line in f}
    return frozenset(words - _BADWORDS_ALLOWLIST)


@cache
def badwords_regex(language: str) -> re.Pattern[str] | None:
    """The matcher of ``language``'s bad words: flanked by non-word characters (or anywhere for ja/th/zh).

    Built as a prefix tree so the regex engine does not try every word at every position; it
    accepts exactly the strings of datatrove's flat alternation.
    """
    words = load_badwords(language)
    if words is None:
        return None
    body = _trie_pattern(sorted(words))
    if language in _NO_SPACE_LANGUAGES:
        return re.compile("(" + body + ")")
    return re.compile(r"(?:\W|^)(" + body + r")(?:\W|$)")


def _trie_pattern(words: list[str]) -> str:
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        end = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch != ""]
        if not branches:
            return ""
        inner = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            return "(?:" + inner + ")?"
        return inner

    return build(trie)


@register
class C4BadWords(Step):
    """Drop documents containing a word from the LDNOOBW list of their language."""

    name = "c4_badwords"

    def __init__(
        self,
        keep_fraction: float = 0.0,
        fail_on_missing_language: bool = True,
        seed: int | None = None,
        default_language: str = "en",
    ) -> None:
        """``keep_fraction``: share of matching documents kept anyway.

        The draw is a hash of ``seed`` and the document id (datatrove draws from one random stream
        per worker), so the same documents are kept whatever the number of workers.
        """
        super().__init__()
        if not 0.0 <= keep_fraction <= 1.0:
            raise ValueError(f"keep_fraction must be between 0 and 1, got {keep_fraction!r}")
        self.keep_fraction = keep_fraction
        self.fail_on_missing_language = fail_on_missing_language
        self.seed = seed
        self.default_language = default_language

    def _uniform(self, doc: Document) -> float:
        return xxhash.xxh64_intdigest(f"{self.seed}\x00{doc.id}") / 2.0**64

    def process(self, batch: Batch) -> Batch:
        for doc in batch:
            lang = doc.metadata.get("language") or self.default_language
            regex = badwords_regex(lang)
            if regex is None:
                if self.fail_on_missing_language:
                    raise ValueError(
                        f"no bad-words list for language {lang!r} (shipped: "
                        f"{', '.join(sorted(p.stem for p in _ASSETS.glob('*.txt')))}); "
                        "set fail_on_missing_language: false to keep such documents"
                    )
                self.count(f"missing_language_{lang}")
                continue
            found = regex.search(doc.text.lower())
            doc.set_signals(self.name, {"has_badword": int(found is not None)})
            if found is None:
                continue
            if self.keep_fraction > 0.0 and self._uniform(doc) < self.keep_fraction:
                self.count("kept_with_badwords")
                continue
            doc.reject(self.name, "badwords", value=found.group(1), threshold=None)
        return batch
