"""The seed page: a spun news story under a column of unrelated post titles with dates.

C4's line rules drop the navigation column but also the story's headline; ``clean_lines`` (run
through the ``boilerplate`` recipe's steps) must drop every nav title with its date, every ``-``
line and both ``Advertisement`` lines, and keep the headline and every sentence of the story.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from thresher.document import Document
from thresher.pipeline import Chain
from thresher.recipe import load_recipe

HEADLINE = "Russia has ‘never’ discussed transition with me: Syria’s Assad"

# Hand-written page with the seed's traits (a column of dated post titles separated by "-" lines,
# two "Advertisement" lines, a headline, a quote standfirst and a story), so the behaviour is
# tested on a fresh checkout without the shared folder.
NAV_TITLES = [
    "How to pick the right running shoes for flat feet - March 3, 2021",
    "6 simple ways to keep your garden green through summer - March 3, 2021",
    "Why every small bakery needs an online shop - March 2, 2021",
    "A beginner's guide to brewing coffee at home - February 27, 2021",
    "What to pack for a weekend in the mountains - February 25, 2021",
    "The best board games to play with teenagers - January 9, 2020",
    "Ten habits of people who never miss a deadline - December 18, 2019",
]
FIXTURE_HEADLINE = "Harbour council votes to close the old ferry pier after storm damage"
STORY = [
    "“We cannot ask people to walk on a structure we know is failing”, the mayor said.",
    "The council voted seven to two on Tuesday night to close the pier, which has carried foot "
    "passengers to the island since 1962.",
    "Engineers found that two of the pier's main supports were cracked during last month's storm, "
    "according to a report published by the harbour authority.",
    "Ferry operators will move their services to the new terminal on the east quay from next week, "
    "adding about ten minutes to the crossing.",
    "Residents of the island said they were worried about older passengers who cannot manage the "
    "longer walk from the bus stop to the new terminal.",
    "The authority said it would run a free shuttle between the town centre and the east quay until "
    "the end of the year.",
    "A decision on whether to repair or demolish the pier is expected in the spring, once the full "
    "survey has been completed and the costs are known.",
    "The pier was last repaired in 2009, when a section of its deck was replaced after a fishing "
    "boat struck one of the supports.",
]


def fixture_page() -> str:
    """The hand-written seed-like page (nav column, headline, standfirst, story with ads)."""
    lines: list[str] = []
    for title in NAV_TITLES:
        lines += ["-", title]
    lines += [FIXTURE_HEADLINE, STORY[0], "Advertisement", *STORY[1:5], "Advertisement", *STORY[5:]]
    return "\n".join(lines)


def run_recipe(texts: list[str]) -> list[Document]:
    """Run the ``boilerplate`` recipe's steps on documents in memory (no files)."""
    steps = load_recipe("boilerplate").build_steps()
    docs = [Document(f"doc-{i}", text) for i, text in enumerate(texts)]
    kept, rejected = Chain(steps).process(docs)  # type: ignore[arg-type]
    assert rejected == [], "the boilerplate recipe never drops a document"
    return kept


def output_lines(doc: Document) -> list[str]:
    return [line for line in doc.text.split("\n") if line.strip()]


def check_seed_like(text: str, headline: str, doc: Document) -> None:
    """The assertions shared by the real seed page and the hand-written fixture."""
    out = output_lines(doc)
    source = [line.strip() for line in text.split("\n")]
    nav = [line for line in source[: source.index(headline)] if line and line != "-"]
    assert nav, "the page must start with a navigation column"
    for title in nav:
        assert title not in out, f"navigation title kept: {title!r}"
    assert "-" not in out
    assert "Advertisement" not in out
    assert out[0] == headline, "the headline must be kept, as the first line"
    story = [line for line in source[source.index(headline) + 1 :] if line and line != "Advertisement"]
    assert out[1:] == story, "every sentence of the story must remain, in order"
    rules = {entry["text"]: entry["rule"] for entry in doc.metadata["removed_lines"]}
    assert rules["-"] == "no_text"
    assert rules["Advertisement"] == "advertisement"
    assert sum(1 for e in doc.metadata["removed_lines"] if e["text"] == "Advertisement") == 2


def test_fixture_page_through_the_recipe() -> None:
    text = fixture_page()
    (doc,) = run_recipe([text])
    check_seed_like(text, FIXTURE_HEADLINE, doc)


def test_seed_page_through_the_recipe(seed_page_path: Path) -> None:
    text = seed_page_path.read_text(encoding="utf-8")
    (doc,) = run_recipe([text])
    check_seed_like(text, HEADLINE, doc)


def test_seed_page_through_thresher_run(seed_page_path: Path, tmp_path: Path) -> None:
    """The same check through the public entry point (reader, executor, writer)."""
    import thresher

    if not hasattr(thresher, "run"):
        pytest.skip("thresher.run is not available yet")
    text = seed_page_path.read_text(encoding="utf-8")
    src = tmp_path / "in" / "seed.jsonl"
    src.parent.mkdir()
    src.write_text(json.dumps({"id": "seed", "text": text}) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    thresher.run([src], out, recipe="boilerplate", output_format="jsonl")
    files = [p for p in sorted(out.rglob("*.jsonl*")) if "rejected" not in p.parts and "rejected" not in p.name]
    assert files, f"no output written under {out}"
    records = []
    for path in files:
        if path.suffix == ".zst":
            import zstandard

            raw = zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read().decode("utf-8")
        else:
            raw = path.read_text(encoding="utf-8")
        records += [json.loads(line) for line in raw.splitlines() if line.strip()]
    (record,) = records
    doc = Document.from_dict(record)
    check_seed_like(text, HEADLINE, doc)
