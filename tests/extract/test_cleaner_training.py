"""Training and cross-validation code of the line cleaner, on small hand-made pages."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

from thresher.extract.cleaner.crossval import THRESHOLDS, cross_validate
from thresher.extract.cleaner.data import Page
from thresher.extract.cleaner.train import add_model_args, fit_stages, page_features
from thresher.extract.lines import LineCleaner

SENTENCES = [
    "The council voted on Tuesday to extend the tram line to the university campus by the end of next year.",
    "Engineers expect the works to close two streets in the old town for about six months this summer.",
    "Shop owners in the old town said they were worried about losing customers during the closures.",
    "The mayor promised a fund to help the businesses that lose the most trade while the streets are shut.",
    "A public meeting about the plans will be held in the town hall on the first Monday of next month.",
    "Students welcomed the decision, saying the buses to the campus are full every morning of the week.",
    "The extension will cost about ninety million euros, most of it paid by the regional government.",
    "Work on the new stops is due to start in the spring, once the last permits have been granted.",
]
BOILER = ["Home", "News", "Sport", "Weather", "Share on Facebook", "Subscribe", "Sign in", "Contact us",
          "Privacy policy", "© 2024 The Courier", "Advertisement", "Most read", "Cookie settings"]


def make_page(i: int) -> Page:
    rng = random.Random(i)
    head = rng.sample(BOILER, 5)
    body = rng.sample(SENTENCES, 5)
    tail = rng.sample(BOILER, 4)
    return Page(f"page-{i}", head + body + tail, [0] * 5 + [1] * 5 + [0] * 4)


def model_args(*extra: str) -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    add_model_args(ap)
    return ap.parse_args(["--trees", "8", "--trees2", "6", "--depth", "3", "--row-subsample", "0.9", *extra])


def test_both_training_schemes_learn_to_keep_the_story() -> None:
    pages = [make_page(i) for i in range(30)]
    x1, words = page_features(pages)
    assert len(x1) == sum(len(p.lines) for p in pages)
    assert words[1].max() < len(x1)
    test = make_page(99)
    for flag in ("--stack", "--no-stack"):
        stages = fit_stages(pages, x1, words, np.ones(len(pages)), model_args(flag))
        (keep, p, _), = LineCleaner(threshold=0.5, stages=stages, keep_title=False).classify_many([test.lines])
        labels = np.array(test.labels, bool)
        assert p[labels].min() > p[~labels].max(), flag
        assert keep.tolist() == test.labels, flag


def test_cross_validation_scores_every_tune_page_once() -> None:
    web = [make_page(i) for i in range(20)]
    tune = [make_page(100 + i) for i in range(9)]
    args = model_args("--no-stack")
    args.folds = 3
    probs: dict[str, list[float]] = {}
    totals = cross_validate(web, tune, args, probs)
    assert sorted(probs) == sorted(p.id for p in tune)  # out-of-fold: every tune page, no web page
    assert all(len(probs[p.id]) == len(p.lines) for p in tune)
    positives = sum(sum(p.labels) for p in tune)
    assert set(totals) == set(THRESHOLDS)
    for counts in totals.values():
        # every content line of every tune page is either found or missed, exactly once
        assert counts["tp"] + counts["fn"] == positives
        assert 0.0 <= counts["line_f1"] <= 1.0


def test_crossval_command_saves_out_of_fold_probabilities(tmp_path: Path) -> None:
    import gzip
    import json

    from thresher.extract.cleaner import crossval
    from thresher.extract.evaluate import split_of

    web_dir = tmp_path / "data" / "webcorpus"
    bench_dir = tmp_path / "data" / "extraction-bench"
    web_dir.mkdir(parents=True)
    bench_dir.mkdir(parents=True)
    with gzip.open(web_dir / "pages-000.jsonl.gz", "wt", encoding="utf-8") as fh:
        for i in range(16):
            page = make_page(i)
            main = "\n".join(line for line, y in zip(page.lines, page.labels) if y)
            fh.write(json.dumps({"id": page.id, "text": "\n".join(page.lines), "main_text": main}) + "\n")
    bench = [make_page(200 + i) for i in range(12)]
    with gzip.open(bench_dir / "dev.jsonl.gz", "wt", encoding="utf-8") as fh:
        for page in bench:
            fh.write(json.dumps({"id": page.id, "page_text": "\n".join(page.lines), "line_labels": page.labels}) + "\n")
    out = tmp_path / "oof.jsonl"
    crossval.main(["--shared", str(tmp_path), "--trees", "6", "--trees2", "4", "--depth", "3",
                   "--no-stack", "--folds", "2", "--save", str(out)])
    saved = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in saved] == [p.id for p in bench if split_of(p.id) == "tune"]
    assert all(len(r["p"]) == len(r["lines"]) == len(r["labels"]) for r in saved)


def test_lines_of_weight_zero_teach_nothing() -> None:
    good = [make_page(i) for i in range(30)]
    # the same kind of pages with every label flipped, but of weight 0: they must not count
    flipped = [make_page(200 + i) for i in range(30)]
    for p in flipped:
        p.labels = [1 - y for y in p.labels]
        p.weights = [0.0] * len(p.lines)
    pages = good + flipped
    x1, words = page_features(pages)
    stages = fit_stages(pages, x1, words, np.ones(len(pages)), model_args())
    test = make_page(99)
    (keep, _, _), = LineCleaner(threshold=0.5, stages=stages, keep_title=False).classify_many([test.lines])
    assert keep.tolist() == test.labels


def test_pseudo_labels_come_from_the_html_model(tmp_path: Path) -> None:
    import gzip
    import json

    from tests.extract.test_html import ARTICLE
    from thresher.extract.cleaner.data import read_webcorpus_pseudo
    from thresher.extract.html_render import render

    wet = "\n".join(["Harbour News logo", *render(ARTICLE).texts])  # the first line is not in the HTML
    records = [
        {"id": "a/with-truth", "html": ARTICLE, "text": wet, "main_text": "The harbour council voted"},
        {"id": "b/no-truth", "html": ARTICLE, "text": wet},
        {"id": "c/other-page", "html": ARTICLE, "text": "\n".join(SENTENCES)},  # words not in the HTML
        {"id": "d/no-html", "text": wet},
    ]
    with gzip.open(tmp_path / "pages-000.jsonl.gz", "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    pages = list(read_webcorpus_pseudo(tmp_path))
    assert [p.id for p in pages] == ["pseudo:b/no-truth"]
    page = pages[0]
    label = dict(zip(page.lines, page.labels))
    weight = dict(zip(page.lines, page.weights or []))
    assert weight["Harbour News logo"] == 0.0 and label["Harbour News logo"] == 0
    assert label["Home"] == 0 and label["Contact us"] == 0 and label["Bridge closed for repairs"] == 0
    story = [line for line in page.lines if line.startswith(("The harbour council voted", "Councillors said"))]
    assert len(story) == 2 and all(label[line] == 1 and weight[line] == 1.0 for line in story)
