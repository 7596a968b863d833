"""The HTML model's training command on a tiny bench: it runs, is deterministic, and its model works."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from thresher.extract import html_model as M
from thresher.extract import html_train as T
from thresher.extract.evaluate import split_of

TOPICS = [
    ("harbour", "ferry", "The harbour council approved a new ferry route linking the old town with the islands."),
    ("school", "library", "The village school opened a library that lends books to every family in the valley."),
    ("river", "bridge", "Engineers inspected the river bridge after the spring floods and found it safe to use."),
    ("market", "farmers", "The farmers' market moved to the square, where forty stalls sell vegetables and bread."),
    ("museum", "paintings", "The museum received two paintings from a collector who grew up in the town."),
    ("railway", "station", "The railway company will rebuild the station and add a lift to every platform."),
]


def make_page(i: int, topic: tuple[str, str, str]) -> tuple[str, list[str], list[int]]:
    """A news page: navigation, an article of four paragraphs, related links, a footer."""
    word, other, lead = topic
    nav = "".join(f'<li><a href="/{s}">{s.title()}</a></li>' for s in ("news", "sport", "weather", "opinion"))
    paras = [
        lead,
        f"Residents said the {word} plan had been discussed for years, and most of them welcomed the news.",
        f"Critics warned that the {other} would cost more than expected, since prices rose again this spring.",
        f"The council will publish the full report on the {word} next month, after a public consultation.",
    ]
    related = "".join(f'<li><a href="/r{k}">Another story about the {word} number {k}</a></li>' for k in range(3))
    html = (
        f"<html><head><title>{word.title()} news</title></head><body>"
        f"<header class='site-header'><nav class='menu'><ul>{nav}</ul></nav></header>"
        f"<main><article class='story-body'><h1>{lead[:30]}</h1>"
        + "".join(f"<p>{p}</p>" for p in paras)
        + f"</article><aside class='related'><h3>Related</h3><ul>{related}</ul></aside></main>"
        f"<footer class='footer'><p>Copyright 2024 Town Paper {i}</p></footer></body></html>"
    )
    page = M.render(html)
    labels = [1 if line in paras else 0 for line in page.texts]
    return html, page.texts, labels


def tune_ids(n: int) -> list[str]:
    ids = []
    k = 0
    while len(ids) < n:
        if split_of(f"tiny-page-{k}") == "tune":
            ids.append(f"tiny-page-{k}")
        k += 1
    return ids


@pytest.fixture
def tiny_bench(tmp_path: Path) -> Path:
    path = tmp_path / "bench.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for i, (pid, topic) in enumerate(zip(tune_ids(len(TOPICS)), TOPICS)):
            html, lines, labels = make_page(i, topic)
            f.write(json.dumps({"id": pid, "html": html, "page_text": "\n".join(lines), "line_labels": labels}) + "\n")
        # a holdout page must never reach the training data
        hold = next(f"hold-{k}" for k in range(1000) if split_of(f"hold-{k}") == "holdout")
        f.write(json.dumps({"id": hold, "html": "<p>x</p>", "page_text": "x", "line_labels": [1]}) + "\n")
    return path


def test_training_command_runs_deterministically(tiny_bench: Path, tmp_path: Path) -> None:
    out_a, out_b = tmp_path / "a.npz", tmp_path / "b.npz"
    assert T.main(["--bench", str(tiny_bench), "--out", str(out_a)]) == 0
    assert T.main(["--bench", str(tiny_bench), "--out", str(out_b)]) == 0
    with np.load(out_a) as a, np.load(out_b) as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            assert np.array_equal(a[key], b[key]), key
        assert "bench tune pages 6" in str(a["info"][0])
    # the fitted model separates this kind of page: article kept, navigation and footer dropped
    html, _, _ = make_page(9, ("harbour", "ferry", TOPICS[0][2]))
    title, kept = M.extract_main_lines(html, str(out_a))
    assert title == "Harbour news"
    assert TOPICS[0][2] in kept
    assert not any(line in ("News", "Sport", "Weather") or line.startswith("Copyright") for line in kept)


def test_training_pages_come_from_the_tune_split_only(tiny_bench: Path) -> None:
    pages = T.bench_pages(tiny_bench, "tune")
    assert len(pages) == len(TOPICS)
    assert all(split_of(p.page_id) == "tune" for p in pages)
    assert all((p.y >= 0).all() for p in pages)  # rendered lines all matched to bench lines


def test_missing_bench_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert T.main(["--bench", str(tmp_path / "nope.jsonl.gz"), "--out", str(tmp_path / "m.npz")]) == 2
    assert "not found" in capsys.readouterr().err


def test_label_helpers() -> None:
    texts = ["Home", "The cat sat on the warm mat all day.", "Share", "It slept.", "Menu", "Login", "About",
             "News"]
    y = T.label_against_truth(texts, "The cat sat on the warm mat all day. It slept. Then news came.")
    # "Home"/"Share" are not in the truth; "It slept." is short but next to a matched long line;
    # "News" occurs in the truth but is too far from the article lines
    assert y.tolist() == [0, 1, 0, 1, 0, 0, 0, 0]
    page_lines = ["Menu", "The cat sat on the warm mat all day.", "Footer"]
    got = T.label_from_bench(["menu", "The cat sat on the warm mat, all day", "Unmatched line", "!!"],
                             page_lines, [0, 1, 0])
    assert got.tolist() == [0, 1, -1, -1]
