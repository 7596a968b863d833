"""Joint decisions of the HTML line model and the text cleaner (extract_html, clean_lines html_field)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.extract.test_html import ARTICLE
from thresher.document import Document
from thresher.extract.html import ExtractHtml
from thresher.extract.html_render import render
from thresher.extract.joint import combine, scores_for_lines
from thresher.extract.lines import CleanLines, LineCleaner

COMMENTS = """<section id="comments" class="comments-area"><h3 class="comments-title">3 thoughts on this</h3>
<ol class="comment-list">
<li class="comment"><div class="comment-body"><p>I have taken the old bus to the mainland every week
for years and an extra ferry would make a real difference to the older people living on the islands.</p>
</div></li>
<li class="comment"><div class="comment-body"><p>The fishermen have a point, because nobody has studied
what the construction work will do to the crabs in the bay during the breeding season.</p></div></li>
<li class="comment"><div class="comment-body"><p>Four crossings a day is not enough in summer, when the
tourists arrive and the queues at the bridge already stretch back to the town centre.</p></div></li>
</ol></section>"""
WITH_COMMENTS = ARTICLE.replace("</article>", "</article>" + COMMENTS)
STORY_START = "The harbour council voted on Tuesday"
COMMENT_START = "I have taken the old bus"


def test_scores_follow_the_words_to_the_rendered_lines() -> None:
    rendered = ["Share", "Home", "News", "The cat sat on the mat all day.", "Share"]
    scores = np.array([0.1, 0.2, 0.4, 0.9, 0.7])
    lines = ["Share", "Home News", "THE CAT sat on the mat", "Not on the page", "---", "Share"]
    got = scores_for_lines(rendered, scores, lines)
    assert got[0] == pytest.approx(0.1)  # the first "Share"...
    assert got[1] == pytest.approx(0.3)  # two rendered lines joined in the text: their mean
    assert got[2] == pytest.approx(0.9)  # a run inside a longer line, case and punctuation aside
    assert np.isnan(got[3]) and np.isnan(got[4])  # unknown words, no words
    assert got[5] == pytest.approx(0.7)  # ...and the second one, found in reading order


def test_combine_is_a_weighted_mean_that_falls_back_to_the_text() -> None:
    text = np.array([0.8, 0.2, 0.6])
    html = np.array([0.0, 1.0, np.nan])
    assert combine(text, html, 0.6).tolist() == pytest.approx([0.32, 0.68, 0.6])
    assert combine(text, html, 0.0).tolist() == pytest.approx(text.tolist())


def test_html_path_drops_an_advert_inside_the_article_only_with_the_text_rules() -> None:
    page = ARTICLE.replace("<p>Local businesses", "<p>Advertisement</p><p>Local businesses")
    joint = Document("a", page, {"format": "html"})
    step = ExtractHtml()
    step.process([joint])
    counters = step.take_counters()
    assert counters["removed_advertisement"] == 1 and counters["removed_model"] >= 5
    assert counters["lines_removed"] == len(joint.metadata["removed_lines"]) < counters["lines_in"]
    alone = Document("b", page, {"format": "html"})
    ExtractHtml(html_weight=1.0).process([alone])
    # the advert sits inside <article>: the HTML model alone keeps it, the joint decision applies the rule
    assert "Advertisement" in alone.text.split("\n")
    assert "Advertisement" not in joint.text.split("\n")
    for doc in (joint, alone):
        assert doc.text.split("\n")[0] == "Harbour Council Approves New Ferry Route"
        assert STORY_START in doc.text and "Contact us" not in doc.text
    rules = {r["text"]: r["rule"] for r in joint.metadata["removed_lines"]}
    assert rules["Advertisement"] == "advertisement"
    contact = rules["Contact us"]
    assert contact.startswith("model:") and "(text " in contact and "html " in contact
    assert all(r["step"] == "extract_html" for r in joint.metadata["removed_lines"])
    assert all(r["rule"].startswith("model:") and r["rule"].endswith("(html)") for r in alone.metadata["removed_lines"])


def test_text_with_its_html_drops_reader_comments_the_text_alone_keeps() -> None:
    wet = "\n".join(render(WITH_COMMENTS).texts)
    text_only = Document("t", wet, {})
    CleanLines().process([text_only])
    step = CleanLines(html_field="html")
    joint = Document("j", wet, {"html": WITH_COMMENTS, "url": "https://example.org/a"})
    step.process([joint])
    assert COMMENT_START in text_only.text  # long prose without a "Jane said:" header
    assert COMMENT_START not in joint.text
    kept = joint.text.split("\n")
    assert kept[0] == "Harbour council approves new ferry route"  # the headline rule still applies
    assert sum(line.startswith(STORY_START[:20]) for line in kept) == 1 and len(kept) == 5
    reason = next(r["rule"] for r in joint.metadata["removed_lines"] if r["text"].startswith(COMMENT_START))
    assert reason.startswith("model:") and "html 0.0" in reason
    # the HTML was input, not output; the rest of the metadata stays
    assert "html" not in joint.metadata and joint.metadata["url"] == "https://example.org/a"
    assert step.take_counters()["html_scored"] == 1


def test_unusable_html_falls_back_to_the_text_with_a_reason() -> None:
    wet = "\n".join(render(WITH_COMMENTS).texts)
    reference = Document("r", wet, {})
    CleanLines().process([reference])
    deep = "<div>" * 10_000 + "<p>x</p>" + "</div>" * 10_000
    docs = [
        Document("deep", wet, {"html": deep}),
        Document("big", wet, {"html": WITH_COMMENTS}),
        Document("none", wet, {"html": None}),
        Document("nav", wet, {"html": "<html><body><script>var a = 1;</script></body></html>"}),
    ]
    step = CleanLines(html_field="html")
    step.process([docs[0], *docs[2:]])
    small = CleanLines(html_field="html", max_html_chars=len(WITH_COMMENTS) - 1)
    small.process([docs[1]])
    for doc in docs:
        assert doc.text == reference.text, doc.id
        assert "html" not in doc.metadata
    assert "nested too deep" in docs[0].metadata["html_unusable"]
    assert "max_html_chars" in docs[1].metadata["html_unusable"]
    assert "html_unusable" not in docs[2].metadata  # no HTML at all is not an error
    assert "no text" in docs[3].metadata["html_unusable"]
    assert step.take_counters()["html_unusable"] == 2 and small.take_counters()["html_unusable"] == 1


def test_html_weight_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="html_weight must be between 0 and 1"):
        ExtractHtml(html_weight=1.5)
    with pytest.raises(ValueError, match="html_weight must be between 0 and 1"):
        CleanLines(html_weight=-0.1)
    with pytest.raises(ValueError, match="html_weight must be between 0 and 1"):
        LineCleaner(html_weight=2.0)


def test_joint_paths_on_the_held_out_bench_pages(extraction_bench_path: Path) -> None:
    from thresher.extract import evaluate as E

    result = E.evaluate_boilerplate(
        extraction_bench_path, methods=["thresher_text", "thresher_text+html", "thresher_html", "resiliparse"],
        split="holdout",
    )
    res = {name: r["holdout"] for name, r in result["results"].items()}
    # measured (README): text+html 0.960 / 0.967, text 0.906 / 0.944, html 0.812 / 0.984, resiliparse
    # 0.680 / 0.922; these floors catch a broken combination, not noise
    assert res["thresher_text+html"]["f1_lines"] > res["thresher_text"]["f1_lines"] + 0.03
    assert res["thresher_text+html"]["f1_chars"] > res["thresher_text"]["f1_chars"] + 0.01
    assert res["thresher_html"]["f1_chars"] > 0.97
    assert res["thresher_html"]["f1_lines"] > res["resiliparse"]["f1_lines"] + 0.08


def test_clean_lines_leaves_pages_the_html_path_already_cleaned() -> None:
    joint = Document("j", WITH_COMMENTS, {"format": "html"})
    alone = Document("a", WITH_COMMENTS, {"format": "html"})
    ExtractHtml().process([joint])
    ExtractHtml(html_weight=1.0).process([alone])
    assert joint.metadata["lines_cleaned"] == "extract_html" and "lines_cleaned" not in alone.metadata
    wet = Document("w", "\n".join(render(WITH_COMMENTS).texts), {})
    before = joint.text, len(joint.metadata["removed_lines"])
    step = CleanLines()
    step.process([joint, alone, wet])
    assert (joint.text, len(joint.metadata["removed_lines"])) == before
    assert any(r["step"] == "clean_lines" for r in wet.metadata["removed_lines"])
    assert COMMENT_START in wet.text  # the text alone still keeps the comments (see above)
    assert step.take_counters()["already_cleaned"] == 1


def test_weight_table_from_out_of_fold_probabilities(extraction_bench_path: Path, tmp_path: Path) -> None:
    from thresher.extract.cleaner.data import bench_split, read_bench
    from thresher.extract.joint_weight import WEIGHTS, weight_table

    # a stand-in for `cleaner.crossval --save`: the shipped model's probabilities on 12 tune pages
    tune = [p for p in read_bench(extraction_bench_path) if bench_split(p.id) == "tune"][:12]
    cleaner = LineCleaner(keep_title=False)
    oof = tmp_path / "oof.jsonl"
    with oof.open("w", encoding="utf-8") as f:
        for page, (_, probs, _) in zip(tune, cleaner.classify_many([p.lines for p in tune])):
            f.write(json.dumps({"id": page.id, "lines": page.lines, "labels": page.labels, "p": probs.tolist()}) + "\n")
    table = weight_table(oof, extraction_bench_path)
    assert set(table) == set(WEIGHTS)
    assert all(0.5 < m["f1_chars"] <= 1.0 for m in table.values())
    # weight 0 is the text cleaner alone: the same decisions as clean_lines on these pages
    from thresher.extract.cleaner.evaluation import evaluate_pages

    alone = evaluate_pages(LineCleaner(keep_title=False), tune)
    assert table[0.0]["f1_lines"] == pytest.approx(alone["line_f1"])
    assert table[0.0]["f1_chars"] == pytest.approx(alone["char_f1"])
    # a file of other pages is refused with a pointer to the right command
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "nope", "lines": ["a"], "labels": [1], "p": [0.9]}) + "\n")
    with pytest.raises(ValueError, match="cleaner.crossval --save"):
        weight_table(bad, extraction_bench_path)


def test_boilerplate_recipe_uses_a_records_html_field(tmp_path: Path) -> None:
    import thresher

    wet = "\n".join(render(WITH_COMMENTS).texts)
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "with-html", "text": wet, "html": WITH_COMMENTS, "url": "https://example.org/a"}) + "\n"
        + json.dumps({"id": "text-only", "text": wet}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    thresher.run([src], out, recipe="boilerplate", output_format="jsonl", workers=1)
    import zstandard

    records = {}
    for path in sorted(out.rglob("*.jsonl*")):
        if "rejected" in path.parts or "rejected" in path.name:
            continue
        raw = path.read_bytes()
        if path.suffix == ".zst":
            raw = zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read()
        records.update({r["id"]: r for r in map(json.loads, raw.decode("utf-8").splitlines()) if r})
    joint, alone = records["with-html"], records["text-only"]
    assert COMMENT_START not in joint["text"] and COMMENT_START in alone["text"]
    assert STORY_START in joint["text"] and STORY_START in alone["text"]
    assert "html" not in joint["metadata"] and joint["metadata"]["url"] == "https://example.org/a"
    assert any("html " in r["rule"] for r in joint["metadata"]["removed_lines"])
    assert not any("html" in r["rule"] for r in alone["metadata"]["removed_lines"])


def test_far_lines_are_found_only_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    from thresher.extract import joint

    monkeypatch.setattr(joint, "SEARCH_WINDOW", 50)
    filler = [f"Filler line number {n} of the rendered page." for n in range(40)]
    rendered = ["Closing remarks of the article here.", *filler, "Share"]
    scores = np.array([0.9] + [0.4] * 40 + [0.1])
    got = scores_for_lines(rendered, scores, ["Share", "Closing remarks of the article here.", "remarks of the"])
    assert got[0] == pytest.approx(0.1)  # whole line, far away: found by the lookup
    assert got[1] == pytest.approx(0.9)  # whole line, behind the cursor: found by the lookup
    assert np.isnan(got[2])  # part of a line outside the window: not searched
