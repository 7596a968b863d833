"""The extract_html step: hand-written pages, encodings and hostile input."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from thresher.document import Document
from thresher.extract import html as H
from thresher.extract.html import ExtractHtml, decode_html, looks_binary, time_budget

ARTICLE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Harbour Council Approves New Ferry Route</title>
<style>.x{color:red}</style><script>var tracking = "do not extract me";</script></head>
<body>
<header class="site-header"><nav class="main-nav"><ul>
  <li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
  <li><a href="/weather">Weather</a></li><li><a href="/contact">Contact us</a></li></ul></nav></header>
<main><article class="article-body">
  <h1>Harbour council approves new ferry route</h1>
  <p class="byline">By Jane Smith, 12 March 2021</p>
  <p>The harbour council voted on Tuesday to approve a new ferry route linking the old town with the
  northern islands, ending a decade of debate about how residents should reach the mainland.</p>
  <p>Councillors said the service, which will run four times a day from May, would cut the journey by
  almost an hour and relieve pressure on the single road bridge that serves the area.</p>
  <p>Local businesses welcomed the decision, although several fishermen warned that the new pier
  could disturb the breeding grounds of the crabs on which their livelihoods depend.</p>
  <p>The operator expects to carry about two hundred thousand passengers in its first full year,
  and says that tickets will cost the same as the current bus fare to encourage people to switch.</p>
</article>
<aside class="sidebar related-stories"><h3>Related stories</h3><ul>
  <li><a href="/a">Bridge closed for repairs</a></li><li><a href="/b">Islanders protest fare rise</a></li>
</ul></aside></main>
<footer class="site-footer"><p>Copyright 2021 Harbour News. All rights reserved.</p>
<p><a href="/privacy">Privacy policy</a> | <a href="/terms">Terms of use</a></p></footer>
</body></html>"""


def run(html: object, **params: object) -> Document:
    doc = Document("p1", html, {"format": "html", "url": "https://example.org/a"})  # type: ignore[arg-type]
    ExtractHtml(**params).process([doc])
    return doc


@pytest.mark.parametrize("backend", ["thresher", "resiliparse", "trafilatura"])
def test_article_title_first_one_block_per_line(backend: str) -> None:
    doc = run(ARTICLE, backend=backend)
    assert doc.drop is None
    lines = doc.text.split("\n")
    assert lines[0] == "Harbour Council Approves New Ferry Route"
    # each paragraph is one line, white space inside it collapsed
    assert any(line.startswith("The harbour council voted on Tuesday") and line.endswith("mainland.")
               for line in lines)
    assert all(line == line.strip() and "  " not in line and line for line in lines)
    assert "do not extract me" not in doc.text and "color:red" not in doc.text
    assert doc.metadata["format"] == "text"
    assert doc.metadata["extractor"] == backend


def test_thresher_backend_drops_navigation_and_footer() -> None:
    doc = run(ARTICLE, title=False)
    lines = doc.text.split("\n")
    assert len([line for line in lines if "ferry" in line or "passengers" in line or "fishermen" in line]) >= 3
    for boiler in ("Home", "Weather", "Contact us", "Bridge closed for repairs", "All rights reserved"):
        assert not any(boiler in line for line in lines), boiler


def test_title_can_be_left_out() -> None:
    doc = run(ARTICLE, title=False)
    assert not doc.text.startswith("Harbour Council Approves New Ferry Route")


def test_plain_text_documents_pass_through() -> None:
    doc = Document("t", "<p>not html, says the reader</p>", {"format": "text"})
    ExtractHtml().process([doc])
    assert doc.text == "<p>not html, says the reader</p>" and doc.drop is None
    doc2 = Document("t2", "no format key at all", {})
    ExtractHtml().process([doc2])
    assert doc2.text == "no format key at all"


def test_non_utf8_bytes_are_decoded() -> None:
    page = ("<html><head><meta charset='windows-1252'><title>Caf\u00e9 cr\u00e8me</title></head><body>"
            + "<p>Le caf\u00e9 de la gare sert une cr\u00e8me br\u00fbl\u00e9e tr\u00e8s appr\u00e9ci\u00e9e "
              "des voyageurs qui attendent le train de nuit pour Marseille, \u00e0 ce qu'on dit.</p>" * 5
            + "</body></html>")
    raw = page.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "crème brûlée" in decode_html(raw)
    doc = run(raw, backend="resiliparse")
    assert doc.drop is None
    assert doc.text.startswith("Café crème")
    assert "crème brûlée" in doc.text


def test_wrong_charset_header_utf8_bytes() -> None:
    # the page claims ISO-8859-1 but its bytes are UTF-8: valid UTF-8 wins over the label
    page = ("<html><head><meta charset='iso-8859-1'><title>Zürich</title></head><body>"
            "<p>Die Straßenbahn in Zürich fährt jetzt öfter, sagen die Verkehrsbetriebe der Stadt am "
            "Montag in einer Mitteilung an alle Fahrgäste.</p></body></html>")
    doc = run(page.encode("utf-8"), backend="resiliparse")
    assert doc.drop is None
    assert "Straßenbahn in Zürich fährt" in doc.text
    assert "Ã" not in doc.text


def test_no_body_is_empty_extraction() -> None:
    for page in ("<html><head><title></title></head></html>", "", "<!-- nothing -->"):
        doc = run(page)
        assert doc.drop is not None and doc.drop.reason == "empty_extraction", page


def test_navigation_only_page_is_rejected() -> None:
    items = "".join(f'<li><a href="/s{i}">Section {i}</a></li>' for i in range(40))
    page = f"<html><body><nav class='menu'><ul>{items}</ul></nav><footer>© 2020</footer></body></html>"
    doc = run(page, title=False)
    assert doc.drop is not None and doc.drop.reason == "empty_extraction"


def test_binary_labelled_html_is_rejected() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40
    assert looks_binary(png)
    doc = run(png)
    assert doc.drop is not None and doc.drop.reason == "binary_content"
    # the same bytes decoded by a lenient reader as latin-1 text
    doc2 = run(png.decode("latin-1"))
    assert doc2.drop is not None and doc2.drop.reason == "binary_content"
    assert not looks_binary(ARTICLE)


def test_huge_page_rejected_before_parsing() -> None:
    para = "<p>" + "word " * 200 + "</p>"
    page = "<html><body>" + para * (20_000_000 // len(para) + 1) + "</body></html>"
    assert len(page) > 20_000_000
    doc = run(page)
    assert doc.drop is not None and doc.drop.reason == "too_large"
    assert doc.drop.details["chars"] == len(page)


def test_deep_nesting_is_rejected_quickly() -> None:
    depth = 10_000
    page = ("<html><body>" + "<div>" * depth + "<p>Deep text that sits below ten thousand divs and "
            "still reads as a sentence of prose for the extractor.</p>" + "</div>" * depth
            + "<p>A second paragraph written at the top level of the page body, long enough to count "
              "as prose, with commas, clauses and a full stop.</p></body></html>")
    assert H.nesting_depth(page, 20_000) == depth + 2  # html, body and the 10,000 divs
    # every backend refuses the page instead of losing what follows the deep part or stalling in C code
    for backend in ("thresher", "resiliparse", "trafilatura"):
        doc = run(page, backend=backend, title=False)
        assert doc.drop is not None and doc.drop.reason == "too_deep", backend
    # moderately deep pages (here 300 levels) are extracted whole by the thresher backend
    page = page.replace("<div>" * depth, "<div>" * 300).replace("</div>" * depth, "</div>" * 300)
    doc = run(page, title=False)
    assert doc.drop is None
    assert "second paragraph" in doc.text and "Deep text" in doc.text


def test_nesting_estimate_ignores_void_and_optional_end_tags() -> None:
    page = "<div><p>a<p>b<br><img src=x><ul><li>c<li>d</ul><input/></div>" * 50
    assert H.nesting_depth(page, 100) == 2


def test_timeout_rejects_slow_extraction(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(html: str, cleaner: object, model_file: object = None) -> tuple:
        end = time.monotonic() + 5
        while time.monotonic() < end:  # pure-Python busy work, interruptible
            pass
        return None, ["never"], ["never"], {}

    monkeypatch.setattr(H, "extract_joint", slow)
    started = time.monotonic()
    doc = run(ARTICLE, timeout_s=0.2)
    assert doc.drop is not None and doc.drop.reason == "timeout"
    assert time.monotonic() - started < 4


def test_time_budget_restores_previous_alarm() -> None:
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with time_budget(2.0):
            pass
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0  # the outer timer is still pending
        time.sleep(0.7)
        assert fired == [1]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_time_budget_is_noop_outside_main_thread() -> None:
    out = []

    def work() -> None:
        with time_budget(0.01):
            time.sleep(0.05)
        out.append("done")

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert out == ["done"]


def test_step_is_picklable_and_deterministic() -> None:
    import pickle

    step = pickle.loads(pickle.dumps(ExtractHtml(backend="thresher")))
    a = Document("a", ARTICLE, {"format": "html"})
    b = Document("b", ARTICLE, {"format": "html"})
    step.process([a])
    ExtractHtml().process([b])
    assert a.text == b.text


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown backend"):
        ExtractHtml(backend="lynx")  # type: ignore[arg-type]


def test_webcorpus_pages_extract(webcorpus_path) -> None:  # type: ignore[no-untyped-def]
    import gzip
    import json

    docs = []
    with gzip.open(webcorpus_path, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            docs.append(Document(rec["id"], rec["html"], {"format": "html"}))
            if len(docs) == 30:
                break
    ExtractHtml().process(docs)
    extracted = [d for d in docs if d.drop is None]
    assert len(extracted) >= 25
    assert all(d.metadata["format"] == "text" and d.text for d in extracted)
