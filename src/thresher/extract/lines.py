"""``clean_lines``: line-level boilerplate removal for text that is already extracted (WET).

Most crawl text reaches curators with everything on the page in it: menus, link lists, dates,
share and cookie notices, ``Advertisement``, teasers, footers. This step decides for every line
whether it is content, from the line and its context (neighbours, position, the document's
main prose cluster), with a small boosted-tree model shipped in
``thresher/assets/cleaner/model.npz`` (numpy-only inference; trained by
``python -m thresher.extract.cleaner.train``), plus a few explicit rules:

- ``no_text``: a line without any letter or digit (``-``, ``|``, ``***``);
- ``advertisement``: a line that is only an advertisement label;
- ``dated_title``: a short line ending in `` - <date>`` (a list of posts with their dates);
- ``model:<p>``: the model's content probability ``p`` was below the threshold (never for a
  document of one line: with no context, only the other rules judge it); with the page's HTML
  (``html_field``), ``model:<p> (text <t>, html <h>)``: ``p`` is the joint probability of the text
  model's ``t`` and the HTML line model's ``h`` (:mod:`thresher.extract.joint`), and the rules below
  decide on ``p``;
- ``comments``: the reader comments under the content (from the first of at least two comment
  headers such as "Jane on May 3, 2019 at 4:47 pm said:" below the first prose line);
- ``related_list``: a list of other stories under a heading such as "More from UK" or "You may
  also like", below the first prose line (up to the next sentence);
- ``detached_block:<p>``: the line was kept by the model but sits in a small block of kept lines
  away from the main one (less than ``min_block_share`` of its characters): a teaser or comment;
- a table (three or more consecutive lines with tab-separated cells) is one unit: when the line
  above it or one of its rows is kept and its rows' mean probability is at least
  ``_TABLE_MIN_P``, every row is kept (``keep_tables``);
- the items of a list that a kept line introduces with a colon ("The tour dates:") are kept
  whole when they share one shape and their mean probability is at least ``_LIST_MIN_P``
  (``keep_lists``);
- ``repeated_copy``: a kept line of 16 words or more that repeats other kept content: a long
  line made of several shorter kept lines (a hidden one-line ``articleBody`` copy of the
  paragraphs) wherever it stands, otherwise every copy after the first in page order (a
  standfirst printed twice) (``drop_copies``);
- a headline (and a standfirst sentence) directly above the start of the content is kept
  (``keep_title``), passing over ads, dates and bylines in between.

Removed lines go to ``metadata["removed_lines"]`` with their rule; the step never drops a
document: a page that is all boilerplate comes out with empty text and
``metadata["empty_reason"]``.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from importlib import resources
from itertools import chain
from pathlib import Path

import numpy as np

from thresher.document import Document
from thresher.extract.cleaner.features import (
    BASE_INDEX,
    FEATURE_VERSION,
    N_FEATURES,
    STAGE2_NAMES,
    batch_features,
    stage2_features,
)
from thresher.extract.cleaner.model import TreeEnsemble
from thresher.extract.joint import HTML_WEIGHT, check_weight, combine, html_scores_for_lines
from thresher.steps.base import Batch, Step, register

_B = BASE_INDEX
#: lines longer than this are cut for feature computation only (a 10 MB line costs as much as 100k chars)
_FEATURE_LINE_CAP = 100_000
#: rows per tree-ensemble call (bounds memory on a 100k-line page)
_CHUNK = 256
#: kept lines at most this many lines apart belong to one block (see ``LineCleaner._detached``)
_BLOCK_GAP = 3
#: a detached block whose mean content probability reaches this stays (chosen on the tune pages)
_BLOCK_SURE = 0.85
#: a table is at least this many consecutive tab-separated lines, kept whole when its rows' mean
#: probability reaches _TABLE_MIN_P (chosen on cross-validated probabilities of the tune pages)
_TABLE_MIN_ROWS = 3
_TABLE_MIN_P = 0.35
#: a list under a kept line ending in ":" is at least this many lines of one shape (of at most
#: _LIST_MAX_WORDS words), kept whole when their mean probability reaches _LIST_MIN_P (chosen on
#: cross-validated probabilities of the tune pages: it added no false positive there)
_LIST_MIN_ROWS = 3
_LIST_MAX_WORDS = 25
_LIST_MIN_P = 0.3
#: a kept line of at least _COPY_MIN_WORDS words is a repeated copy when at least _COPY_SHARE of its
#: word 4-grams occur in the other kept text (see ``LineCleaner._copies``); headings and short list
#: items are never judged. On the 2,005 labelled webcorpus pages the rule removes 367 lines: 214
#: boilerplate (teasers repeating the standfirst...), 127 second copies of the article and 26 lines
#: whose text the ground truth itself holds twice (templated paragraphs: "IVPN supports the
#: WireGuard protocol..." then "Mullvad supports..."). With the previous model, a share of 0.8 instead
#: of 0.95 took 124 content lines instead of 41.
_COPY_MIN_WORDS = 16
_COPY_SHARE = 0.95
_COPY_GRAM = 4
#: longest word numbered through a numpy string array in ``_word_ids`` (wider ones use a dict)
_ID_MAX_CHARS = 64
_WORD = re.compile(r"\w+")
#: the separators whose presence makes up a list item's shape ("June 9 -- Arena, City")
_LIST_SEPARATORS = (" -- ", " – ", " — ", " - ", ": ", "\t", ", ", " | ")

#: a line that is only an advertisement label; matched over many lines joined by "\n" at once
_AD_LINE = re.compile(
    r"^[^\w\n]*(?:advertisements?|advertising|sponsored|anzeige|werbung|publicité|publicidad|pubblicità"
    r"|ads?|ad choices|story continues below advertisement|continue reading below)[^\w\n]*$",
    re.IGNORECASE | re.MULTILINE,
)


#: a post title followed by its date ("Tips for boxers - November 6, 2020"): lists of posts
_DATED_TITLE = re.compile(
    r"\s[-–—|•·,]\s*(?:\w+\.? \d{1,2},? \d{4}|\d{1,2}\.? \w+\.? \d{4}|\d{1,4}[./-]\d{1,2}[./-]\d{2,4})$"
)


#: the header of a reader comment: "Jane on May 3, 2019 at 4:47 pm said:", "Bob says:", "Ann wrote:";
#: counted only on lines of at most 16 words with a date on them or on the next line (a forum's quote
#: header, "Bob wrote:" or "16 minutes ago, Bob said:", has none)
_COMMENT_AUTHOR = re.compile(
    r"^[^\n]{0,160}?\b(?:said|says|wrote|writes|replied|commented|sagt|schrieb|dit|a écrit|dice|escribió)"
    r"\s*:[^\w\n]*$",
    re.IGNORECASE | re.MULTILINE,
)


#: the heading of a list of other stories ("More from UK", "Most read in world news", "You may also like")
_RELATED_HEADING = re.compile(
    r"^\W*(?:related|recommended|trending|popular|most (?:read|popular|viewed|shared|commented)"
    r"|more (?:from|in|on|stories|news|articles|like this|to read|to explore|videos|posts)"
    r"|you (?:may|might) (?:also )?(?:like|enjoy|be interested)|read next|what to read next|top stories"
    r"|latest (?:news|stories|articles|posts|headlines)|recent (?:posts|articles|stories)|further reading"
    r"|see also|also read|read also|editor'?s picks)\b",
    re.IGNORECASE,
)


def _model_path() -> Path:
    return Path(str(resources.files("thresher") / "assets" / "cleaner" / "model.npz"))


@lru_cache(maxsize=4)
def load_model(path: str) -> tuple[list[TreeEnsemble], float]:
    """The stages and tuned threshold of a model file (cached per process)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(
            f"line-cleaner model {p} not found; reinstall thresher or train one with "
            "`python -m thresher.extract.cleaner.train`"
        )
    with np.load(p) as z:
        version = int(z["feature_version"][0])
        n_feat = int(z["n_features"][0])
        if version != FEATURE_VERSION or n_feat != N_FEATURES:
            raise ValueError(
                f"line-cleaner model {p} was trained on feature layout v{version} ({n_feat} features) but "
                f"this code computes v{FEATURE_VERSION} ({N_FEATURES}); retrain it with "
                "`python -m thresher.extract.cleaner.train`"
            )
        widths = (N_FEATURES, N_FEATURES + len(STAGE2_NAMES))
        missing = [f"s{k}_" for k in range(len(widths)) if f"s{k}_feature" not in z.files]
        if missing or f"s{len(widths)}_feature" in z.files:
            raise ValueError(
                f"line-cleaner model {p} does not have exactly the {len(widths)} stages this code runs "
                f"(stage 1 on the line features, stage 2 adding the stage-1 context); retrain it with "
                "`python -m thresher.extract.cleaner.train`"
            )
        stages = [TreeEnsemble.from_arrays(z, f"s{k}_") for k in range(len(widths))]
        for k, (stage, width) in enumerate(zip(stages, widths)):
            if stage.feature.size and int(stage.feature.max()) >= width:
                raise ValueError(
                    f"line-cleaner model {p}: stage {k + 1} reads feature {int(stage.feature.max())} but its "
                    f"input has {width} columns; retrain it with `python -m thresher.extract.cleaner.train`"
                )
        threshold = float(z["threshold"][0])
    return stages, threshold


def _predict(model: TreeEnsemble, x: np.ndarray) -> np.ndarray:
    if len(x) <= _CHUNK:
        return model.predict_proba(x)
    return np.concatenate([model.predict_proba(x[i : i + _CHUNK]) for i in range(0, len(x), _CHUNK)])


def _ad_lines(lines: list[str], candidate: np.ndarray) -> np.ndarray:
    """Which ``lines`` are advertisement labels, testing only the ``candidate`` lines (one regex scan
    over the candidates joined by newlines)."""
    out = np.zeros(len(lines), bool)
    cand = np.flatnonzero(candidate)
    if len(cand) == 0:
        return out
    sub = [lines[i] for i in cand]
    starts = np.cumsum([0] + [len(line) + 1 for line in sub[:-1]])
    hits = [m.start() for m in _AD_LINE.finditer("\n".join(sub))]
    if hits:
        out[cand[np.searchsorted(starts, hits, side="right") - 1]] = True
    return out


class LineCleaner:
    """Classifies the lines of documents as content or boilerplate (the engine behind ``clean_lines``)."""

    def __init__(
        self,
        threshold: float | None = None,
        keep_title: bool = True,
        model_path: str | None = None,
        stages: list[TreeEnsemble] | None = None,
        min_block_share: float = 0.3,
        cut_comments: bool = True,
        cut_related: bool = True,
        keep_tables: bool = True,
        keep_lists: bool = True,
        drop_copies: bool = True,
        html_weight: float = HTML_WEIGHT,
    ) -> None:
        self.html_weight = check_weight(html_weight, "LineCleaner")
        if stages is None:
            stages, tuned = load_model(model_path or str(_model_path()))
            threshold = tuned if threshold is None else threshold
        self.stages = stages
        self.threshold = 0.5 if threshold is None else float(threshold)
        self.keep_title = keep_title
        self.min_block_share = float(min_block_share)
        self.cut_comments = cut_comments
        self.cut_related = cut_related
        self.keep_tables = keep_tables
        self.keep_lists = keep_lists
        self.drop_copies = drop_copies

    def classify_many(
        self, docs_lines: list[list[str]], html_probs: list[np.ndarray | None] | None = None
    ) -> list[tuple[np.ndarray, np.ndarray, dict[int, str]]]:
        """For each document (its stripped non-empty lines): keep mask, probabilities, removal rules.

        Features and both model stages run over the whole batch at once. ``html_probs`` gives, per
        document, the HTML model's probability of each of its lines (NaN where unknown) or None: where
        given, the rules decide on the joint probability (:func:`thresher.extract.joint.combine`,
        weight ``self.html_weight``) and a ``model`` reason shows both parts."""
        cap = _FEATURE_LINE_CAP
        capped = [
            lines if max(map(len, lines), default=0) <= cap else [line[:cap] for line in lines]
            for lines in docs_lines
        ]
        x1, layout = batch_features(capped)
        if layout.n == 0:
            return [(np.zeros(0, bool), np.zeros(0), {}) for _ in docs_lines]
        p1 = _predict(self.stages[0], x1)
        x2 = np.concatenate([x1, stage2_features(p1, layout)], axis=1)
        p2 = _predict(self.stages[1], x2)
        ad = _ad_lines([line for lines in docs_lines for line in lines], x1[:, _B["log_words"]] < np.log1p(8))
        bounds = np.cumsum(layout.sizes)[:-1]
        per_doc = html_probs if html_probs is not None else [None] * len(docs_lines)
        if len(per_doc) != len(docs_lines):
            raise ValueError(f"html_probs has {len(per_doc)} entries for {len(docs_lines)} documents")
        return [
            self._decide(lines, f, p, a, h)
            for lines, f, p, a, h in zip(
                docs_lines, np.split(x1, bounds), np.split(p2, bounds), np.split(ad, bounds), per_doc
            )
        ]

    def decide(
        self, lines: list[str], probs: np.ndarray, html_probs: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
        """The rules' decision on one document's lines given content probabilities computed elsewhere
        (for example out-of-fold ones, to choose a rule's parameter without retraining): keep mask,
        the probabilities the rules used, removal reasons. ``html_probs`` as in :meth:`classify_many`."""
        capped = [line[:_FEATURE_LINE_CAP] for line in lines]
        x1, _ = batch_features([capped])
        ad = _ad_lines(lines, x1[:, _B["log_words"]] < np.log1p(8))
        return self._decide(lines, x1, np.asarray(probs, dtype=np.float64), ad, html_probs)

    def _decide(
        self, lines: list[str], f: np.ndarray, p: np.ndarray, ad: np.ndarray, html: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
        text_p = p
        if html is not None:
            if len(html) != len(lines):
                raise ValueError(f"{len(html)} HTML probabilities for {len(lines)} lines")
            p = combine(text_p, html, self.html_weight)
        # a document of one line has no context to judge it by (the model learnt from pages of
        # many lines): only the rules below decide, e.g. for text flattened to one line per document
        # (the HTML's evidence is context enough)
        keep = p >= self.threshold if len(lines) > 1 or html is not None else np.ones(len(lines), bool)
        rules: dict[int, str] = {}
        no_text = f[:, _B["no_tokens"]] > 0
        dated = np.zeros(len(lines), bool)
        for i in np.flatnonzero((f[:, _B["kw_date"]] > 0) & (f[:, _B["log_words"]] < np.log1p(30))):
            dated[i] = _DATED_TITLE.search(lines[i][-40:]) is not None
        comments = self._comment_section(lines, f) if self.cut_comments else np.zeros(len(lines), bool)
        related = self._related_lists(lines, f) if self.cut_related else np.zeros(len(lines), bool)
        forced = no_text | ad | dated | comments | related
        keep &= ~forced
        detached = self._detached(lines, keep, p) if self.min_block_share > 0 else np.zeros(len(lines), bool)
        keep &= ~detached
        if self.keep_tables:
            keep |= self._tables(lines, keep, p) & ~forced
        if self.keep_lists:
            keep |= self._lists(lines, keep, p) & ~forced
        if self.keep_title and keep.any():
            for i in self._lead_in(lines, f, p, keep, forced):
                keep[i] = True
        copies = self._copies(lines, keep) if self.drop_copies else np.zeros(len(lines), bool)
        keep &= ~copies
        for i in np.flatnonzero(~keep):
            if no_text[i]:
                rules[int(i)] = "no_text"
            elif ad[i]:
                rules[int(i)] = "advertisement"
            elif dated[i]:
                rules[int(i)] = "dated_title"
            elif comments[i]:
                rules[int(i)] = "comments"
            elif related[i]:
                rules[int(i)] = "related_list"
            elif detached[i]:
                rules[int(i)] = f"detached_block:{p[i]:.2f}"
            elif copies[i]:
                rules[int(i)] = "repeated_copy"
            elif html is not None and not np.isnan(html[i]):
                rules[int(i)] = f"model:{p[i]:.2f} (text {text_p[i]:.2f}, html {html[i]:.2f})"
            else:
                rules[int(i)] = f"model:{p[i]:.2f}"
        return keep, p, rules

    @staticmethod
    def _comment_section(lines: list[str], f: np.ndarray) -> np.ndarray:
        """The reader comments under the content: every line from the first comment header
        ("Jane on May 3, 2019 at 4:47 pm said:") that follows a prose line of 15 words or more,
        when at least two such headers follow it and none precedes it (a forum thread, whose first
        post starts with a header, is left alone)."""
        n = len(lines)
        out = np.zeros(n, bool)
        words = np.expm1(f[:, _B["log_words"]])
        prose = np.flatnonzero(words >= 14.5)
        if len(prose) == 0:
            return out
        dated = f[:, _B["kw_date"]] > 0
        dated_next = np.concatenate((dated[1:], [False]))
        cand = [
            int(i)
            for i in np.flatnonzero((words <= 16) & (dated | dated_next))
            if ":" in lines[i][-4:] and len(lines[i]) <= 200
        ]
        heads = [i for i in cand if _COMMENT_AUTHOR.match(lines[i])]
        if heads and heads[0] > prose[0] and len(heads) >= 2:
            out[heads[0] :] = True
        return out

    @staticmethod
    def _related_lists(lines: list[str], f: np.ndarray) -> np.ndarray:
        """Lists of other stories below the start of the content: a heading of at most 6 words such
        as "More from UK" or "You may also like" after the first prose line, and the lines under it
        up to the next sentence of 12 words or more, when they are at least three."""
        n = len(lines)
        out = np.zeros(n, bool)
        prose = np.flatnonzero(f[:, _B["prose"]] > 0)
        if len(prose) == 0:
            return out
        words = np.expm1(f[:, _B["log_words"]])
        sentence = np.flatnonzero((f[:, _B["ends_sentence"]] > 0) & (words >= 11.5))
        for h in np.flatnonzero((words <= 6.5) & (np.arange(n) > prose[0])):
            if not _RELATED_HEADING.match(lines[h]):
                continue
            k = np.searchsorted(sentence, h, side="right")
            end = int(sentence[k]) if k < len(sentence) else n
            if end - h - 1 >= 3:
                out[h:end] = True
        return out

    def _detached(self, lines: list[str], keep: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Kept lines in a small block detached from the main one.

        The kept lines are grouped into blocks (consecutive kept lines at most ``_BLOCK_GAP`` lines
        apart); a block whose characters are fewer than ``min_block_share`` times those of the
        heaviest block, and whose mean content probability (weighted by characters) is below
        ``_BLOCK_SURE``, is dropped: a teaser summary or a comment the model half believed in, far
        from the article. (The article is one region of the page, as content extractors assume when
        they pick one main node: e.g. Readability.js' top candidate, Mozilla readability
        ``Readability.js`` ``_grabArticle``.)"""
        out = np.zeros(len(lines), bool)
        idx = np.flatnonzero(keep)
        if len(idx) < 2:
            return out
        block = np.concatenate(([0], np.cumsum(np.diff(idx) > _BLOCK_GAP)))
        chars = np.fromiter((len(lines[i]) for i in idx), np.float64, len(idx))
        mass = np.bincount(block, weights=chars)
        # a block the model is sure of stays (an article split by a gallery or an ad column)
        belief = np.bincount(block, weights=chars * p[idx]) / np.maximum(mass, 1.0)
        out[idx] = (mass[block] < self.min_block_share * mass.max()) & (belief[block] < _BLOCK_SURE)
        return out

    @staticmethod
    def _tables(lines: list[str], keep: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Rows of tables that belong to the content: a run of at least ``_TABLE_MIN_ROWS`` lines
        with tab-separated cells (the WET rendering of a table row) is decided as one unit, kept
        whole when the line above it or one of its rows is kept and the rows' mean probability is
        at least ``_TABLE_MIN_P`` (the model judges rows of numbers and names one by one and loses
        the middle of a results table; HTML extractors keep a table of the main content whole, e.g.
        trafilatura ``main_extractor.py``, ``handle_table``)."""
        out = np.zeros(len(lines), bool)
        tab = np.fromiter(("\t" in line for line in lines), bool, len(lines))
        if tab.sum() < _TABLE_MIN_ROWS:
            return out
        edges = np.flatnonzero(np.diff(np.concatenate(([0], tab.astype(np.int8), [0]))))
        for a, b in zip(edges[::2], edges[1::2]):
            if b - a < _TABLE_MIN_ROWS or p[a:b].mean() < _TABLE_MIN_P:
                continue
            if (a > 0 and keep[a - 1]) or keep[a:b].any():
                out[a:b] = True
        return out

    @staticmethod
    def _lists(lines: list[str], keep: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Items of a list that a kept line introduces with a colon ("The tour dates:"): the run of
        at least ``_LIST_MIN_ROWS`` following lines of one shape (first character's class and the
        separators they use, at most ``_LIST_MAX_WORDS`` words each) is kept whole when the items'
        mean probability is at least ``_LIST_MIN_P``; the model judges short items one by one and
        drops most of a list of dates and places."""
        out = np.zeros(len(lines), bool)
        for i in np.flatnonzero(keep[:-1]):
            if not lines[i].endswith(":"):
                continue
            shape = _item_shape(lines[i + 1])
            j = i + 1
            while (
                j < len(lines)
                and _item_shape(lines[j]) == shape
                and len(lines[j].split()) <= _LIST_MAX_WORDS
                and not lines[j].endswith(":")
            ):
                j += 1
            if j - i - 1 >= _LIST_MIN_ROWS and p[i + 1 : j].mean() >= _LIST_MIN_P:
                out[i + 1 : j] = True
        return out

    @staticmethod
    def _copies(lines: list[str], keep: np.ndarray) -> np.ndarray:
        """Kept lines that repeat other kept content: a line of at least ``_COPY_MIN_WORDS`` words
        whose word ``_COPY_GRAM``-grams (case-folded) occur at least ``_COPY_SHARE`` in the other
        kept text. A corpus wants each text once (Gopher's repetition rules would otherwise reject
        the whole page: Rae et al. 2021, "Scaling Language Models", table A1).

        Which copy stays: first, a long line that is the text of several kept lines of at most half
        its length put together (a hidden one-line ``articleBody`` copy of the paragraphs) goes,
        wherever it stands, so the paragraphs keep their structure; then, among the other lines, the
        first copy in page order stays and later ones go (a standfirst printed twice). All grams
        of the kept text are numbered at once (numpy), grams across line breaks included."""
        out = np.zeros(len(lines), bool)
        kept = np.flatnonzero(keep)
        words = [_WORD.findall(lines[i].casefold()) for i in kept]
        size = np.fromiter(map(len, words), np.int64, len(words))
        g = _COPY_GRAM
        if size.max(initial=0) < _COPY_MIN_WORDS:
            return out
        ids, n_words = _word_ids(words)
        m = len(ids) - g + 1
        line_of = np.repeat(np.arange(len(kept)), size)
        if n_words < 1 << 16:  # four word numbers fit in one 64-bit key: a flat sort
            key = np.zeros(m, np.uint64)
            for k in range(g):
                key = (key << np.uint64(16)) | ids[k : k + m].astype(np.uint64)
            _, gram = np.unique(key, return_inverse=True)
        else:
            _, gram = np.unique(np.stack([ids[k : k + m] for k in range(g)], axis=1), axis=0, return_inverse=True)
        gram = gram.ravel()
        first, last = line_of[:m], line_of[g - 1 :]
        inside = first == last  # the gram lies inside one line
        touched = np.maximum(size[first], size[last])  # words of the longest line the gram touches
        # 1. lines made of shorter lines: the shortest line holding each gram
        shortest = np.full(gram.max() + 1, np.iinfo(np.int64).max)
        np.minimum.at(shortest, gram, touched)
        judged = inside & (size[first] >= 3 * _COPY_MIN_WORDS)
        share = _share_per_line(first[judged], shortest[gram[judged]] <= size[first[judged]] // 2, len(kept))
        made_of_parts = share >= _COPY_SHARE
        # 2. the other lines: grams that first occur before the line starts (the aggregates left out)
        pos = np.arange(m)
        allowed = ~made_of_parts[first] & ~made_of_parts[last]
        first_pos = np.full(gram.max() + 1, m)
        np.minimum.at(first_pos, gram[allowed], pos[allowed])
        line_start = np.concatenate(([0], np.cumsum(size)[:-1]))
        judged = inside & allowed & (size[first] >= _COPY_MIN_WORDS)
        share = _share_per_line(first[judged], first_pos[gram[judged]] < line_start[first[judged]], len(kept))
        out[kept[made_of_parts | (share >= _COPY_SHARE)]] = True
        return out

    @staticmethod
    def _lead_in(lines: list[str], f: np.ndarray, p: np.ndarray, keep: np.ndarray, forced: np.ndarray) -> list[int]:
        """The headline (and a standfirst sentence under it) right above the start of the content.

        From the first kept line that starts a run of kept lines, walk up at most 6 lines, passing
        over ads, symbol lines and short dates, bylines or share/photo lines; keep a standfirst
        (one sentence line the model half believes in) and stop at the headline: a title-like
        line of 3-30 words without final full stop or boilerplate keywords."""
        kept = np.flatnonzero(keep)
        start = int(kept[0])
        for k in kept:
            if k + 2 < len(keep) and (keep[k + 1] or keep[k + 2]):
                start = int(k)
                break
        boiler_kw = ("kw_nav", "kw_social", "kw_account", "kw_legal", "kw_more", "kw_ad", "kw_comments", "kw_url")
        passable_kw = ("kw_byline", "kw_date", "kw_time", "kw_social", "kw_photo")
        out: list[int] = []
        standfirst_done = False
        for i in range(start - 1, max(start - 7, -1), -1):
            if keep[i]:
                break
            row = f[i]
            n_words = float(np.expm1(row[_B["log_words"]]))
            if forced[i] or (n_words <= 8 and any(row[_B[k]] > 0 for k in passable_kw)):
                continue
            ends_sentence = row[_B["ends_sentence"]] > 0 and not lines[i].endswith(("?", "!"))
            cjk = row[_B["cjk_frac"]] > 0.3
            if any(row[_B[k]] > 0 for k in boiler_kw):
                break
            if ends_sentence:
                if standfirst_done or not (5 <= n_words <= 60 or cjk) or p[i] < 0.3:
                    break
                out.append(i)
                standfirst_done = True
                continue
            if 3 <= n_words <= 30 or (cjk and len(lines[i]) >= 6):
                out.append(i)
            break
        return out


def _word_ids(words: list[list[str]]) -> tuple[np.ndarray, int]:
    """Each word of ``words`` (flattened) numbered by its distinct value, and the number of distinct
    values. Words are compared as numpy fixed-width strings (one C sort instead of a Python dict
    lookup per word); a word longer than ``_ID_MAX_CHARS`` (a base64 blob) would make that array
    wide, so such pages number their words with a dict."""
    flat = list(chain.from_iterable(words))
    if max(map(len, flat), default=0) <= _ID_MAX_CHARS:
        uniq, ids = np.unique(np.array(flat, dtype=str), return_inverse=True)
        return ids.ravel().astype(np.int64), len(uniq)
    vocab: dict[str, int] = {}
    ids = np.fromiter((vocab.setdefault(w, len(vocab)) for w in flat), np.int64, len(flat))
    return ids, len(vocab)


def _share_per_line(line: np.ndarray, hit: np.ndarray, n_lines: int) -> np.ndarray:
    """Per line, the share of its judged grams (``line`` gives each one's line) that are ``hit``
    (0 for a line without judged grams)."""
    total = np.bincount(line, minlength=n_lines)
    return np.bincount(line, weights=hit, minlength=n_lines) / np.maximum(total, 1)


def _item_shape(line: str) -> tuple[str, ...]:
    """The shape of a list item: the class of its first character and which separators it uses."""
    c = line[:1]
    kind = "digit" if c.isdigit() else "upper" if c.isupper() else "lower" if c.islower() else "other"
    return (kind, *(sep for sep in _LIST_SEPARATORS if sep in line))


def count_removals(step: Step, rules: dict[int, str]) -> None:
    """Count ``step``'s removed lines per rule (``removed_<rule>``, the part of a reason before ``:``)."""
    for rule, n in Counter(reason.partition(":")[0] for reason in rules.values()).items():
        step.count(f"removed_{rule}", n)


def split_lines(text: str) -> tuple[list[str], list[int], list[bool]]:
    """The document's lines: stripped non-empty lines, their index among all lines, and for each one
    whether a blank line precedes it."""
    stripped = [raw.strip() for raw in text.split("\n")]
    index = [i for i, line in enumerate(stripped) if line]
    out = [stripped[i] for i in index]
    # a blank line precedes a line when its index is more than one past the previous kept line's
    gaps = np.diff(np.asarray([-1] + index)) > 1
    blank_before = gaps.tolist()
    return out, index, blank_before


@register
class CleanLines(Step):
    """Remove boilerplate lines (menus, link lists, dates, ads, share/cookie notices, teasers,
    footers) from already-extracted text, keeping the content and its headline."""

    name = "clean_lines"

    def __init__(
        self,
        threshold: float | None = None,
        keep_title: bool = True,
        model_path: str | None = None,
        min_block_share: float = 0.3,
        cut_comments: bool = True,
        cut_related: bool = True,
        keep_tables: bool = True,
        keep_lists: bool = True,
        drop_copies: bool = True,
        html_field: str | None = None,
        html_weight: float = HTML_WEIGHT,
        max_html_chars: int = 10_000_000,
    ) -> None:
        """``threshold``: content probability below which a line goes (default: the value tuned
        with the shipped model); ``keep_title``: keep the headline above the content;
        ``model_path``: another model file trained by ``thresher.extract.cleaner.train``;
        ``min_block_share``: drop kept blocks lighter than this share of the main block (0: off);
        ``cut_comments``: drop the reader comments under the content; ``cut_related``: drop the
        lists of related stories below the start of the content; ``keep_tables``: keep a table of
        the content whole; ``keep_lists``: keep the items of a list a content line introduces;
        ``drop_copies``: drop a line that repeats other kept content (rule ``repeated_copy``);
        ``html_field``: metadata field holding the page's HTML (a WET record joined with its WARC
        record, a dataset that ships both): where present, the HTML line model's score of each line
        joins the decision (:mod:`thresher.extract.joint`, weight ``html_weight``), and the field is
        removed from the metadata after use; pages over ``max_html_chars`` characters, nested too
        deep or unparsable are cleaned from the text alone (counted as ``html_unusable``)."""
        super().__init__()
        self.html_weight = check_weight(html_weight, self.name)
        self.threshold = threshold
        self.keep_title = keep_title
        self.model_path = model_path
        self.min_block_share = min_block_share
        self.cut_comments = cut_comments
        self.cut_related = cut_related
        self.keep_tables = keep_tables
        self.keep_lists = keep_lists
        self.drop_copies = drop_copies
        self.html_field = html_field
        self.max_html_chars = max_html_chars
        self._cleaner: LineCleaner | None = None

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state["_cleaner"] = None
        return state

    @property
    def cleaner(self) -> LineCleaner:
        """The line classifier (built on first use)."""
        if self._cleaner is None:
            self._cleaner = LineCleaner(
                self.threshold,
                self.keep_title,
                self.model_path,
                min_block_share=self.min_block_share,
                cut_comments=self.cut_comments,
                cut_related=self.cut_related,
                keep_tables=self.keep_tables,
                keep_lists=self.keep_lists,
                drop_copies=self.drop_copies,
                html_weight=self.html_weight,
            )
        return self._cleaner

    def _html_scores(self, doc: Document, lines: list[str]) -> np.ndarray | None:
        """The HTML model's score of each line, from the HTML in ``metadata[html_field]`` (None: no HTML)."""
        html = doc.metadata.pop(self.html_field, None) if self.html_field else None
        if not isinstance(html, str) or not html.strip() or not lines:
            return None
        try:
            if len(html) > self.max_html_chars:
                raise ValueError(f"{len(html)} characters of HTML, over max_html_chars={self.max_html_chars}")
            scores = html_scores_for_lines(html, lines)
        except Exception as exc:  # hostile HTML: clean from the text alone, say why
            self.count("html_unusable")
            doc.metadata["html_unusable"] = f"{type(exc).__name__}: {exc}"[:200]
            return None
        self.count("html_scored")
        return scores

    def process(self, batch: Batch) -> Batch:
        todo = [doc for doc in batch if not doc.metadata.get("lines_cleaned")]
        if len(todo) < len(batch):
            # extract_html decided these lines jointly with this cleaner's model and rules already;
            # a second pass only loses true lines (measured on the extraction bench's held-out pages:
            # F1 0.812 -> 0.806 by lines, 0.984 -> 0.978 by characters)
            self.count("already_cleaned", len(batch) - len(todo))
        self._clean(todo)
        return batch

    def _clean(self, batch: Batch) -> None:
        split = [split_lines(doc.text) for doc in batch]
        html = [self._html_scores(doc, s[0]) for doc, s in zip(batch, split)] if self.html_field else None
        results = self.cleaner.classify_many([s[0] for s in split], html)
        for doc, (lines, index, blank_before), (keep, _, rules) in zip(batch, split, results):
            self.count("documents")
            self.count("lines_in", len(lines))
            if not lines:
                if doc.text:
                    doc.text = ""  # white space only
                continue
            kept_parts: list[str] = []
            for k in np.flatnonzero(keep):
                if kept_parts and blank_before[k]:
                    kept_parts.append("")
                kept_parts.append(lines[k])
            n_kept = int(keep.sum())
            self.count("lines_removed", len(lines) - n_kept)
            count_removals(self, rules)
            if rules:
                all_lines = doc.text.split("\n")
                doc.record_removed_lines(self.name, all_lines, {index[i]: r for i, r in rules.items()})
            doc.text = "\n".join(kept_parts)
            if n_kept == 0:
                self.count("documents_emptied")
                doc.metadata["empty_reason"] = f"{self.name}: all {len(lines)} lines are boilerplate"
