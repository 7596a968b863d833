"""Repeated-line removal (CCNet): lines in more than K documents go, others stay, removals recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dedup.support import ARTICLES
from thresher.dedup._norm import normalize_line
from thresher.dedup.lines import RepeatedLines
from thresher.dedup.testing import kept, run_corpus_step_locally
from thresher.document import Document
from thresher.errors import UsageError

NAV = "Home | News | Sport | Contact"
COOKIE = "We use cookies to improve your experience. Accept all cookies?"


def page(i: int, *extra: str) -> Document:
    body = ARTICLES[i % len(ARTICLES)].split("\n")[0]
    return Document(f"p{i}", "\n".join([NAV, body, *extra, f"Copyright 20{10 + i} Example Media Ltd."]))


def test_ccnet_line_normalisation() -> None:
    assert normalize_line("  Copyright 2019, Example Media Ltd.  ") == "copyright 0000 example media ltd"
    assert normalize_line("HOME | NEWS") == normalize_line("home  news")
    assert normalize_line("Préféré ★ 5/5") == "préféré  00"  # CCNet keeps the spaces
    assert normalize_line(" --- ") == ""


def test_lines_in_more_than_k_documents_are_removed(tmp_path: Path) -> None:
    shards = [[page(0, COOKIE), page(1)], [page(2, COOKIE), page(3)], [page(4, COOKIE.upper())]]
    out = run_corpus_step_locally(RepeatedLines(max_docs=2), shards, tmp_path)
    texts = [d.text for s in out for d in s]
    # NAV is in 5 documents, the cookie line (case aside) in 3, the copyright line differs by its
    # digits only (normalised to 0): all above K=2 are removed; the article lines stay
    for i, text in enumerate(texts):
        assert NAV not in text and "cookies" not in text.lower() and "Copyright" not in text
        assert text == ARTICLES[i % len(ARTICLES)].split("\n")[0]
    first = out[0][0]
    assert [(r["step"], r["rule"], r["line"]) for r in first.metadata["removed_lines"]] == [
        ("repeated_lines", "repeated_line", 0),
        ("repeated_lines", "repeated_line", 2),
        ("repeated_lines", "repeated_line", 3),
    ]
    assert first.metadata["removed_lines"][0]["text"] == NAV


def test_lines_at_or_below_k_are_kept(tmp_path: Path) -> None:
    shards = [[page(0, COOKIE), page(1)], [page(2, COOKIE), page(3)], [page(4)]]
    out = run_corpus_step_locally(RepeatedLines(max_docs=2), shards, tmp_path)
    texts = [d.text for s in out for d in s]
    assert sum(COOKIE in t for t in texts) == 2  # in exactly K=2 documents: kept
    assert not any(NAV in t for t in texts)
    assert "removed_lines" in out[1][0].metadata


def test_repeats_inside_one_document_count_once(tmp_path: Path) -> None:
    doc = Document("a", "\n".join(["Back to top", "one line of text", "Back to top", "Back to top"]))
    other = Document("b", "Something else entirely\nBack to top")
    out = run_corpus_step_locally(RepeatedLines(max_docs=2), [[doc, other]], tmp_path)
    assert out[0][0].text == doc.text and "removed_lines" not in out[0][0].metadata
    out = run_corpus_step_locally(RepeatedLines(max_docs=1), [[doc, other]], tmp_path / "k1")
    assert out[0][0].text == "one line of text"
    assert out[0][1].text == "Something else entirely"


def test_document_left_empty_is_rejected_with_its_text(tmp_path: Path) -> None:
    a = Document("a", NAV + "\n\n" + COOKIE)
    b = Document("b", NAV + "\n" + COOKIE + "\nA real sentence about gardens.")
    c = Document("c", "  \n")
    out = run_corpus_step_locally(RepeatedLines(), [[a], [b, c]], tmp_path)
    assert out[0][0].drop is not None and out[0][0].drop.reason == "all_lines_repeated"
    assert out[0][0].text == a.text
    assert [d.id for d in kept(out)] == ["b", "c"]
    assert out[1][0].text == "A real sentence about gardens."


def test_whole_text_normalisation_equals_ccnet_per_line_reference() -> None:
    import re
    import unicodedata

    from thresher.dedup._norm import normalize_lines

    def reference(line: str) -> str:  # CCNet normalize_for_dedup, one line at a time
        line = line.strip()
        if not line:
            return line
        line = re.sub(r"\d", "0", line.lower())
        return "".join(c for c in line if unicodedata.category(c)[0] not in "PSC")

    lines = [
        "  Grüße aus Köln – «Straße» №5, ½ Preis!  ",
        "東京都の人口は１３９６万人です。（２０２３年）",
        "\t© 2024 Ǆemal’s café — All rights reserved.\r",
        "",
        "   ",
        "Menu ☰ | Search 🔍 | Login",
        NAV,
    ]
    assert normalize_lines(lines) == [reference(x) for x in lines]


def site_page(i: int, url: str | None, *lines: str) -> Document:
    body = ARTICLES[i % len(ARTICLES)].split("\n")[0]
    return Document(f"s{i}", "\n".join([*lines, body]), {"url": url} if url else {})


def test_site_rule_removes_a_sites_template_and_keeps_lines_shared_across_sites(tmp_path: Path) -> None:
    template = "Sign in to Example News to save articles and get the newsletter"
    quote = "To be, or not to be, that is the question"
    shards = [
        [
            site_page(0, "https://www.example-news.co.uk/a", template, quote),
            site_page(1, "http://sport.example-news.co.uk/b", template),
        ],
        [
            site_page(2, "https://example-news.co.uk/c", template),
            site_page(3, "https://other.org/x", quote),
            site_page(4, "https://third.net/y", quote, template),
            site_page(5, None, template),
        ],
    ]
    step = RepeatedLines(max_docs=10, max_site_docs=2)
    out = [d for s in run_corpus_step_locally(step, shards, tmp_path) for d in s]
    by_id = {d.id: d for d in out}
    # example-news.co.uk (three hosts, one registered domain) shows the template on 3 pages: removed there
    for i in (0, 1, 2):
        assert template not in by_id[f"s{i}"].text
        assert by_id[f"s{i}"].metadata["removed_lines"][0]["rule"] == "repeated_site_line"
    # the same line once on another site, or on a page without a URL, stays; so does the quote (3 sites)
    assert template in by_id["s4"].text and template in by_id["s5"].text
    assert all(quote in by_id[i].text for i in ("s0", "s3", "s4"))


def test_site_rule_is_off_by_default_and_checked(tmp_path: Path) -> None:
    template = "Sign in to Example News to save articles and get the newsletter"
    docs_ = [site_page(i, f"https://example-news.com/{i}", template) for i in range(4)]
    out = run_corpus_step_locally(RepeatedLines(max_docs=10), [docs_], tmp_path)
    assert all(template in d.text for d in out[0])
    with pytest.raises(UsageError, match="max_site_docs"):
        RepeatedLines(max_site_docs=0)
