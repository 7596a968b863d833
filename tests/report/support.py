"""A small hand-written web corpus for the signal-table and refilter tests, and table helpers."""

from __future__ import annotations

from pathlib import Path

import orjson

from thresher.report.signals import read_signal_table

#: five filters, no corpus step: every decision can be redone from the signal table
FILTERS = """
description: signal table test
batch_size: 8
steps:
  - language: {languages: [en]}
  - url_filter: {soft_banned_words: [casino, poker, dice]}
  - gopher_repetition
  - gopher_quality
  - fineweb_quality
"""

#: dedup cuts the run in two stages: documents dropped in stage 0 must still get their row
STAGED = """
description: staged signal table test
batch_size: 8
steps:
  - gopher_quality
  - exact_dedup
  - fineweb_quality
"""

SENTENCES = [
    "The city council met on Tuesday evening to discuss the new budget for public libraries.",
    "Residents asked why the opening hours had been cut at the branch near the river.",
    "A spokesperson said that the decision would be reviewed before the end of the year.",
    "Volunteers have started a reading club for children who cannot travel to the centre.",
    "The club meets every Saturday morning and borrows books from a neighbouring school.",
    "Local businesses donated chairs, tables and a small heater for the winter months.",
    "Several parents wrote letters explaining how much their families rely on the service.",
    "The mayor promised to publish the full figures so that everyone can check the numbers.",
    "Critics argue that the savings are small compared with the cost of the new car park.",
    "Supporters of the plan say the money will be spent on digital services instead.",
    "An independent report found that visits had fallen by a third over the last decade.",
    "However, the same report noted a sharp rise in the number of online loans.",
    "Librarians told the meeting that many older readers still prefer printed books.",
    "They also warned that closing early would leave students without a quiet place to study.",
    "The council will vote on the final budget at its next meeting in March.",
    "Until then, the branch near the river will keep its current opening hours.",
    "Gardeners in the northern district reported an early harvest of apples this autumn.",
    "Warm weather in September helped the fruit ripen two weeks earlier than usual.",
    "The community orchard now sells its juice at the weekly farmers market.",
    "Profits from the sales pay for new trees and for lessons on pruning and grafting.",
]

PRODUCTS = [
    "Blue ceramic mug with a wide handle and the shop logo",
    "Set of four linen napkins in green and white stripes",
    "Oak chopping board with a groove for the juice",
    "Cast iron pan with a long handle and a lid",
    "Glass teapot with a steel filter and the matching cups",
    "Wool blanket in grey and yellow for the sofa",
    "Bamboo tray with two handles and a raised edge",
    "Copper kettle with a whistle and a wooden grip",
    "Stoneware bowl set in sand and the deep sea blue",
    "Cotton apron with a front pocket and long ties",
]
MENU = ["Home", "About us", "Products", "Contact", "Careers", "Press", "Blog", "Login", "Sign up", "Help"]
FRENCH = (
    "Le conseil municipal s'est réuni mardi soir pour discuter du nouveau budget des bibliothèques. "
    "Les habitants ont demandé pourquoi les horaires d'ouverture avaient été réduits. "
    "Une porte-parole a déclaré que la décision serait revue avant la fin de l'année."
)


def _article(i: int, n_sentences: int, shift: int) -> str:
    picked = [SENTENCES[(i * 3 + shift + k) % len(SENTENCES)] for k in range(n_sentences)]
    lines = [" ".join(picked[k : k + 2]) for k in range(0, len(picked), 2)]
    return f"Library news {i}\n" + "\n".join(lines)


def make_docs(n: int, prefix: str) -> list[dict]:
    """``n`` documents of several kinds: articles of 2-13 sentences (about 30-200 words), menus,
    catalogues (lines without punctuation), repetitive pages, French pages and pages whose URL holds
    block-listed words."""
    docs = []
    for i in range(n):
        kind = i % 10
        url = f"https://news.example.org/{prefix}/{i}"
        if kind == 7:
            text = "\n".join(MENU[(i + k) % len(MENU)] for k in range(8)) + "\n" + SENTENCES[i % len(SENTENCES)]
        elif kind == 8:
            text = "\n".join([SENTENCES[i % len(SENTENCES)]] * (3 + i % 4) + [SENTENCES[(i + 1) % len(SENTENCES)]])
        elif kind == 6 and i % 20 == 6:  # a catalogue: many words, no line ends with punctuation
            text = "\n".join(PRODUCTS[(i + k) % len(PRODUCTS)] for k in range(4 + i % 7))
        elif kind == 9 and i % 20 == 9:
            text = FRENCH
        else:
            text = _article(i, 2 + (i * 5) % 12, shift=len(prefix) * 7 + ord(prefix[0]))
            if i % 13 == 4:
                url = f"https://casino-poker.example.com/{prefix}/{i}"
            elif i % 11 == 3:
                url = f"https://dice-games.example.com/{prefix}/{i}"
        docs.append({"id": f"{prefix}-{i}", "text": text, "url": url})
    return docs


def write_corpus(folder: Path, copies: bool = False) -> Path:
    """Two JSONL files of 40 and 30 documents; with ``copies``, the second also holds exact copies
    of some documents of the first (for dedup)."""
    folder.mkdir(parents=True, exist_ok=True)
    first = make_docs(40, "a")
    second = make_docs(30, "b")
    if copies:
        second += [dict(d, id=f"copy-{d['id']}") for d in first[::6]]
    for name, docs in (("a.jsonl", first), ("b.jsonl", second)):
        (folder / name).write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in docs))
    return folder


def input_ids(folder: Path) -> list[str]:
    """The ids of every input document, file by file."""
    files = sorted(folder.glob("*.jsonl"))
    return [orjson.loads(line)["id"] for path in files for line in path.read_bytes().splitlines()]


def signal_rows(outdir: Path) -> list[dict]:
    """Every row of a run's signal table, shard by shard (columns unioned over the shards)."""
    return read_signal_table(outdir).to_pylist()


def signal_bytes(outdir: Path) -> dict[str, bytes]:
    """The signal files of a run, by name."""
    return {p.name: p.read_bytes() for p in sorted((outdir / "signals").glob("*"))}
