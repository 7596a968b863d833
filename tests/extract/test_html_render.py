"""The thresher HTML backend's renderer and line model: lines, cues, features, model file checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from thresher.extract import html_model as M
from thresher.extract import html_render as R

PAGE = """<html><head><title> Council  votes </title><script>var x = "no";</script></head><body>
<div id="top-navigation" class="site_header"><ul><li><a href="/">Home</a></li><li><a href="/n">News</a></li></ul></div>
<div class="commentlist"><p>Great post, thanks!</p></div>
<main><article class="article-body">
<h1>Council votes on the new bridge</h1>
<p>The council voted <b>on Tuesday</b> to build a bridge, <a href="/x">said the mayor</a>.<br>Work starts in May.</p>
<table><tr><td>Cost</td><td>12 million</td></tr></table>
<p style="display: none">A hidden paragraph.</p>
<style>.a{}</style><button>Share</button>
</article></main></body></html>"""


def test_render_lines_one_block_per_line_with_cues() -> None:
    page = R.render(PAGE)
    assert page.title == "Council votes"
    assert page.texts == [
        "Home",
        "News",
        "Great post, thanks!",
        "Council votes on the new bridge",
        "The council voted on Tuesday to build a bridge, said the mayor.",
        "Work starts in May.",
        "Cost 12 million",  # cells of a row on one line
        "A hidden paragraph.",
    ]
    assert not page.too_deep
    flags = {t: int(page.flags[n]) for t, n in zip(page.texts, page.line_node)}
    bit = R.CUE_BIT
    assert flags["Home"] & bit["c_nav"] and flags["Home"] & bit["c_header"] and flags["Home"] & bit["t_li"]
    assert flags["Great post, thanks!"] & bit["c_comment"]  # "commentlist": a compound class name
    assert flags["Council votes on the new bridge"] & bit["t_heading"]
    body = flags["The council voted on Tuesday to build a bridge, said the mayor."]
    assert body & bit["c_content"] and body & bit["t_article"] and body & bit["t_main"]
    assert not body & bit["c_nav"]
    assert flags["A hidden paragraph."] & bit["c_hidden"]
    links = dict(zip(page.texts, page.link_chars.tolist()))
    assert links["Home"] == 4 and links["Cost 12 million"] == 0
    assert links["The council voted on Tuesday to build a bridge, said the mayor."] == len("said the mayor")
    # the element arrays describe a tree rooted at <body>
    assert page.parent[0] == -1 and (page.parent[1:] >= 0).all()
    assert (page.parent[1:] < np.arange(1, len(page.parent))).all()
    assert (page.depth[1:] == page.depth[page.parent[1:]] + 1).all()


def test_class_bits_words_prefixes_and_pairs() -> None:
    bit = R.CUE_BIT
    assert R.class_bits("article-body") & bit["c_content"]
    assert R.class_bits("navigation") & bit["c_nav"]
    assert R.class_bits("sr-only") & bit["c_hidden"]
    assert not R.class_bits("address") & bit["c_ad"]  # "ad" matches whole words only
    assert R.class_bits("ad-slot") & bit["c_ad"]
    assert R.class_bits("wrapper") == 0


def test_render_empty_and_bodyless_pages() -> None:
    for html in ("", "   ", "<!-- only a comment -->", "<html><head><title>T</title></head></html>"):
        page = R.render(html)
        assert page.texts == [] and len(page.parent) >= 1


def test_text_counts_per_line() -> None:
    tc = M.text_counts(["Hello, world 42!", "東京タワー", "UPPER case"])
    assert tc["words"].tolist() == [3.0, 3.0, 2.0]  # 1 run of kana+kanji: 1 start + 5 CJK // 2
    assert tc["digits"].tolist() == [2.0, 0.0, 0.0]
    assert tc["commas"].tolist() == [1.0, 0.0, 0.0]
    assert tc["punct"].tolist() == [2.0, 0.0, 0.0]
    assert tc["upper"].tolist() == [1.0, 0.0, 5.0]


def test_features_shape_and_context() -> None:
    page = R.render(PAGE)
    x = M.line_features(page)
    assert x.shape == (len(page.texts), len(M.FEATURE_NAMES))
    assert np.isfinite(x).all()
    col = {name: i for i, name in enumerate(M.FEATURE_NAMES)}
    home = page.texts.index("Home")
    assert x[home, col["link_density"]] == 1.0 and x[home, col["short3"]] == 1.0
    z = np.linspace(-2, 2, len(page.texts))
    c = M.context_features(z, M.line_groups(page))
    assert c.shape == (len(page.texts), len(M.CONTEXT_NAMES))
    assert c[0, M.CONTEXT_NAMES.index("z_prev")] == -5.0 and c[1, M.CONTEXT_NAMES.index("z_prev")] == z[0]


def test_shipped_model_loads_and_keeps_the_article() -> None:
    model = M.load_model()
    assert model["stage1"].shape == (len(M.FEATURE_NAMES),)
    title, kept = M.extract_main_lines(PAGE)
    assert title == "Council votes"
    assert "The council voted on Tuesday to build a bridge, said the mayor." in kept
    assert "Home" not in kept and "News" not in kept


def test_model_file_with_other_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.npz"
    np.savez(path, stage1=np.zeros(3), stage2=np.zeros(2), threshold=np.array([0.5]),
             threshold_short=np.array([0.5]), feature_names=np.array(["a", "b", "c"]),
             context_names=np.array(["x", "y"]))
    with pytest.raises(ValueError, match="retrain it with"):
        M.load_model(str(path))
    with pytest.raises(FileNotFoundError, match="html_train"):
        M.load_model(str(tmp_path / "missing.npz"))
