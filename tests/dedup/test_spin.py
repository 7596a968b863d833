"""Spin-robust MinHash (step ``minhash_spin``): spun copies caught, template pages and empty pages kept."""

from __future__ import annotations

import gzip
import json
import pickle
import random
from pathlib import Path

import numpy as np
import pytest

from thresher.dedup.minhash import MinhashDedup
from thresher.dedup.spin import KIND_FALLBACK, KIND_SKELETON, SpinRobustMinhashDedup, compare_skeletons, skeleton
from thresher.dedup.spinner import frame, spin
from thresher.dedup.testing import dropped, kept, run_corpus_step_locally
from thresher.document import Document
from thresher.errors import UsageError
from thresher.steps.base import get_step_class

ARTICLE = """The city council voted on Tuesday night to extend the riverside bike lane by another four kilometres, ending a debate that had dragged on for most of the year.
Supporters packed the public gallery, many of them wearing yellow vests from the cycling club that first proposed the route in 2019.
Council member Sarah Okafor said the extension would connect two neighbourhoods that currently have no safe way to reach the station without a car.
Opponents argued that the plan removes more than two hundred parking spaces along Mill Street and that local shop owners were never properly consulted.
The final vote was seven to four. Construction is expected to begin in early spring and to last about nine months, during which the street will be closed to through traffic on weekdays.
The council also approved a small fund to help affected businesses with signage and delivery arrangements while the work is carried out."""  # noqa: E501

# spun by hand the way the seed page was: about a third of the content words swapped for synonyms
# (one-word and multi-word), "an" left before a consonant, one phrase rewritten, farm template around
SPUN = """DailyBuzzHub
Home News Business Tech Health Lifestyle Sports Travel
By Admin - March 3, 2021
The municipal council voted on Tuesday evening to lengthen the riverside cycle lane by another four kilometres, ending a argument that had dragged on for most of the twelvemonth.
Backers crammed the public gallery, many of them wearing yellow waistcoats from the bicycling club that initially proposed the path in 2019.
Council member Sarah Okafor stated the expansion would link two neighbourhoods that presently have no secure way to reach the terminal without a automobile.
Opponents contended that the scheme removes over two hundred parking spots along Mill Street and that local store owners were never properly consulted.
The concluding vote was seven to four. Building is anticipated to start in early spring and to endure about nine months, during which the road will be shut to through traffic on weekdays.
The council also approved a little fund to assist affected businesses with signs and delivery arrangements while the work is carried out.
Related Posts
7 Tips for a Healthy Morning Routine
Copyright © 2021 DailyBuzzHub. All rights reserved."""  # noqa: E501

OTHER_ARTICLE = """Astronomers using a radio telescope in the Chilean desert have detected water vapour in the disc of gas and dust surrounding a young star about four hundred light years away.
The discovery suggests that the building blocks of oceans may already be present at the stage when planets begin to form.
The team measured the faint emission lines of heavy water, in which one hydrogen atom is replaced by deuterium, and compared their strength with the ratio found in comets of our own solar system.
The values were remarkably similar, which supports the idea that some of the water on Earth is older than the Sun itself.
The researchers caution that the disc is still evolving and that much of the ice could be destroyed before any planet is assembled.
Further observations are planned for next year with a more sensitive receiver."""  # noqa: E501


def run(step, docs: list[Document], tmp_path: Path, name: str = "w") -> list[Document]:
    return [d for part in run_corpus_step_locally(step, [docs], tmp_path / name) for d in part]


def test_hand_spun_copy_missed_by_plain_minhash_caught_by_spin_mode(tmp_path: Path) -> None:
    docs = [Document("original", ARTICLE), Document("spun", SPUN), Document("other", OTHER_ARTICLE)]
    plain = run(MinhashDedup(), docs, tmp_path, "plain")
    assert dropped([plain]) == []
    out = run(SpinRobustMinhashDedup(), docs, tmp_path, "spin")
    assert [d.id for d in dropped([out])] == ["spun"]
    spun = out[1]
    assert spun.drop is not None and spun.drop.details["duplicate_of"] == "original"
    assert spun.metadata["cluster_id"] == "original"
    assert out[0].metadata["cluster_size"] == 2
    assert out[2].drop is None and out[2].metadata["cluster_id"] == "other"


def test_spun_copies_from_both_thesauri_caught(tmp_path: Path) -> None:
    docs = [Document("a", frame(ARTICLE, 101, 1)), Document("b", frame(OTHER_ARTICLE, 102, 2))]
    for i, thesaurus in enumerate(("wordnet", "moby")):
        docs.append(Document(f"a-{thesaurus}", spin(ARTICLE, rate=0.3, seed=10 + i, thesaurus=thesaurus, farm=i)))
        docs.append(Document(f"b-{thesaurus}", spin(OTHER_ARTICLE, rate=0.3, seed=20 + i, thesaurus=thesaurus)))
    out = run(SpinRobustMinhashDedup(), docs, tmp_path)
    clusters = {d.id: d.metadata["cluster_id"] for d in out}
    assert clusters == {"a": "a", "b": "b", "a-wordnet": "a", "b-wordnet": "b", "a-moby": "a", "b-moby": "b"}


def test_unrelated_articles_in_the_same_farm_template_not_merged(tmp_path: Path) -> None:
    # same site template (menu, byline pattern, related posts, copyright), different articles
    docs = [Document("one", frame(ARTICLE, 3, 1)), Document("two", frame(OTHER_ARTICLE, 3, 2))]
    # near-empty pages of that site: the template and one short line each
    docs += [Document("empty-1", frame("Page not found.", 3, 3)), Document("empty-2", frame("No results.", 3, 4))]
    out = run(SpinRobustMinhashDedup(), docs, tmp_path)
    assert kept([out]) == out
    assert all(d.metadata["cluster_id"] == d.id for d in out)


def test_boilerplate_prose_alone_does_not_merge(tmp_path: Path) -> None:
    # two shop pages share a long cookie / newsletter text (prose) but list different products
    legal = (
        "With our cookies we would like to offer you the best shopping experience possible with everything "
        "that goes with it, and you can withdraw your consent at any time via the cookie settings.\n"
        "Subscribe to the newsletter and with a bit of luck win one of 50 vouchers that are worth a lot to you.\n"
        "By clicking on the button you agree to receiving e-mail advertising and you can unsubscribe at any time.\n"
    )
    words_a = "studio closed open back ohm wireless bluetooth noise cancelling over ear monitor bass".split()
    words_b = "electric acoustic guitar maple rosewood neck sunburst black fender string humbucker".split()
    rng = random.Random(0)
    shop_a = legal + "\n".join(" ".join(rng.sample(words_a, 6)) + f" {i}" for i in range(30))
    shop_b = legal + "\n".join(" ".join(rng.sample(words_b, 6)) + f" {i}" for i in range(30))
    out = run(SpinRobustMinhashDedup(), [Document("a", shop_a), Document("b", shop_b)], tmp_path)
    assert dropped([out]) == []


# a shop whose product pages carry a lot of the site's own prose (sign-in dialog, buyer protection,
# returns, cookies, newsletter), as etsy.com or allenedmonds.com pages do in shared/data/webcorpus
SHOP_HEADER = """Potter's Lane
Home Shop Mugs Bowls Plates Vases Gift Cards About Contact
Sign in
Cart (0)"""

SHOP_PROSE = """Enter your email address to sign in or to create a new account with us.
We will keep you signed in on this device, so use this option only on your personal devices.
If you have already placed an order with us, you can track it from the orders page of your account.
Your order should arrive by the date shown if you buy today, because we look at the carrier's latest delivery times.
Buyers are responsible for return shipping costs, and an item that is not returned in its original condition may lose value.
Every purchase on Potter's Lane is covered by our buyer protection if something goes wrong with an order.
Please contact the maker directly if you have a question about an item before you report a problem to us.
We take intellectual property concerns very seriously, and many of these problems can be resolved by the parties involved.
Your payment information is kept secure, and the makers in our shop never receive your card details.
Buyers are responsible for any customs and import taxes that may apply to an order from another country.
We use cookies and similar technologies to give you a better experience, to show you relevant offers and to analyse traffic.
Some of the technologies we use are necessary for critical functions like security and the preferences of your account.
Without these technologies, things like your basket, your language or your saved items may not work correctly.
Sign up for our newsletter and be the first to hear about new makers, limited editions and seasonal sales.
You can unsubscribe at any time with the link at the bottom of every email that we send to you."""  # noqa: E501

SHOP_FOOTER = """Shop Help Centre Privacy Terms Accessibility
© 2024 Potter's Lane Ltd."""

MUG = """Speckled stoneware mug - 350 ml
£28.00
This mug is thrown on the wheel in my garden studio from a speckled buff clay that I dig and blend myself.
The glaze is a soft oatmeal white that breaks to a warm brown where it thins over the rim and the handle.
Each piece is fired twice, the second time to stoneware temperature, so it is strong enough for daily use.
It holds a generous cup of coffee and feels heavy and steady in the hand without being clumsy.
Because every mug is made by hand, the size and the pattern of the speckles will vary a little from the photographs."""  # noqa: E501

BEAKER = """Cobalt porcelain beaker - 250 ml
£34.00
A tall handleless beaker cast in translucent porcelain, for tea, water or a short glass of wine at the table.
The outside carries a band of cobalt blue brushed on by hand before a clear celadon glaze is poured over it.
When you hold it up to a window, the thin walls glow and show the faint lines of the throwing marks.
It is fired once in a reduction kiln, which gives the porcelain its cool grey tone and the blue its depth.
The beaker is safe in the dishwasher and the microwave, although washing by hand will keep the glaze bright for longer."""  # noqa: E501


def shop_page(item: str) -> str:
    return "\n".join([SHOP_HEADER, item, SHOP_PROSE, SHOP_FOOTER])


def test_same_site_prose_alone_does_not_merge(tmp_path: Path) -> None:
    # two product pages of one shop: most of their prose is the shop's own text, word for word; the
    # items differ. Both pages are prose pages (skeleton kind), their skeleton Jaccard is above 0.4 and
    # their content words (template vocabulary) overlap: the verbatim-shared lines must not count.
    mug, beaker = shop_page(MUG), shop_page(BEAKER)
    step = SpinRobustMinhashDedup()
    keys_mug, keys_beaker = step.keys(Document("m", mug)), step.keys(Document("b", beaker))
    assert keys_mug.kind == keys_beaker.kind == KIND_SKELETON
    whole = len(np.intersect1d(keys_mug.tagged, keys_beaker.tagged)) / len(
        np.union1d(keys_mug.tagged, keys_beaker.tagged)
    )
    assert whole >= 0.4  # the skeletons alone would merge them
    comparison = compare_skeletons(keys_mug, keys_beaker)
    assert comparison.residual_jaccard < 0.1
    assert max(comparison.coverage_a, comparison.coverage_b) < 0.8
    # the mug page saved again after a price change and with a review: still the same page
    resaved = mug.replace("£28.00", "£30.00") + "\nLovely mug, it arrived well packed and keeps my tea hot for ages."
    docs = [Document("mug", mug), Document("beaker", beaker), Document("mug-resaved", resaved)]
    out = run(step, docs, tmp_path)
    assert {d.id: d.metadata["cluster_id"] for d in out} == {"mug": "mug", "beaker": "beaker", "mug-resaved": "mug"}


def test_article_republished_word_for_word_and_its_spun_copy(tmp_path: Path) -> None:
    # the source page (article in its template), the bare article with a republication note (a feed
    # or syndication copy: 90% of its words are lines of the source, but no plain near-duplicate),
    # and a spun copy: one cluster; an unrelated article in the same template stays apart
    note = "This article first appeared in the Riverside Gazette and is republished with the permission of the author."
    source, republished = frame(ARTICLE, 3, 0), ARTICLE + "\n" + note
    step = SpinRobustMinhashDedup()
    a, b = step.keys(Document("a", source)), step.keys(Document("b", republished))
    plain = len(np.intersect1d(a.plain, b.plain)) / len(np.union1d(a.plain, b.plain))
    comparison = compare_skeletons(a, b)
    assert plain < step.plain_threshold and comparison.residual_jaccard < step.skeleton_threshold
    assert comparison.coverage_b >= step.containment_threshold
    docs = [
        Document("source", source),
        Document("republished", republished),
        Document("other", frame(OTHER_ARTICLE, 3, 2)),
        Document("spun", spin(ARTICLE, rate=0.3, seed=5, farm=2)),
    ]
    out = run(step, docs[:3], tmp_path, "without-spun")
    assert {d.id: d.metadata["cluster_id"] for d in out} == {
        "source": "source",
        "republished": "source",
        "other": "other",
    }
    out = run(step, docs, tmp_path)
    clusters = {d.id: d.metadata["cluster_id"] for d in out}
    assert clusters == {"source": "source", "republished": "source", "spun": "source", "other": "other"}


def test_empty_and_tiny_documents(tmp_path: Path) -> None:
    docs = [
        Document("empty", ""),
        Document("blank", "  \n\n \t"),
        Document("empty-again", ""),
        Document("word", "Home"),
        Document("article", ARTICLE),
    ]
    out = run(SpinRobustMinhashDedup(), docs, tmp_path)
    # no shingles: never matched (identical empty texts are exact_dedup's job)
    assert dropped([out]) == []
    step = SpinRobustMinhashDedup()
    assert len(step.shingles(Document("e", ""))) == 0
    assert skeleton("") == ([], [], 0.0)


def test_non_prose_documents_fall_back_to_word_shingles(tmp_path: Path) -> None:
    vocab = "gigabyte asrock sapphire radeon geforce gaming oc nitro challenger eagle windforce pulse".split()
    rng = random.Random(1)
    listing = "\n".join(" ".join(rng.sample(vocab, 7)) + f" 16GB GDDR6 ${400 + i}.99" for i in range(40))
    step = SpinRobustMinhashDedup()
    assert step.keys(Document("l", listing)).kind == KIND_FALLBACK
    assert step.keys(Document("a", ARTICLE)).kind == KIND_SKELETON
    near_listing = listing.replace("$405.99", "$399.99") + "\nfree shipping"
    out = run(step, [Document("l", listing), Document("l2", near_listing), Document("a", ARTICLE)], tmp_path)
    assert [d.id for d in dropped([out])] == ["l2"]


def test_deterministic_and_picklable(tmp_path: Path) -> None:
    docs = [Document("original", ARTICLE), Document("spun", SPUN), Document("other", OTHER_ARTICLE)]
    docs += [Document(f"copy-{i}", spin(ARTICLE, rate=0.3, seed=i, farm=i)) for i in range(3)]
    first = run(SpinRobustMinhashDedup(), docs, tmp_path, "one")
    second = run(pickle.loads(pickle.dumps(SpinRobustMinhashDedup())), docs, tmp_path, "two")
    assert [d.to_dict(with_drop=True) for d in first] == [d.to_dict(with_drop=True) for d in second]
    files_one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.npy"))
    files_two = sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*.npy"))
    assert files_one == files_two
    for rel in files_one:
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes(), rel


def test_registered_and_parameters_checked() -> None:
    assert get_step_class("minhash_spin") is SpinRobustMinhashDedup
    with pytest.raises(UsageError, match="skeleton_threshold"):
        SpinRobustMinhashDedup(skeleton_threshold=0)
    with pytest.raises(UsageError, match="min_shingles"):
        SpinRobustMinhashDedup(min_shingles=0)


def test_skeleton_ignores_synonyms_and_menus() -> None:
    a = skeleton("Home\nNews Sport\nThe government is proposing a new military pact with Russia against rebels.")
    b = skeleton(
        "Menu\nThe administration is proposing a fresh armed forces pact with Russian Federation against rebels."
    )
    a, b = a[0], b[0]
    assert a == b == ["the", "_", "is", "_", "a", "_", "with", "_", "against", "_"]


def test_real_articles_spun_at_30_percent(webcorpus_path: Path, tmp_path: Path) -> None:
    """30 real articles and their spun copies (both thesauri) among 60 other real pages."""
    pages = []
    with gzip.open(webcorpus_path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            pages.append(rec)
            if len(pages) >= 400:
                break
    articles = [p for p in pages if p.get("main_text") and p["lang"] == "en" and len(p["main_text"].split()) >= 300]
    articles = articles[:30]
    others = [p for p in pages if p not in articles][:60]
    docs = [Document(p["id"], p["text"]) for p in others]
    for k, p in enumerate(articles):
        docs.append(Document(f"orig/{k}", frame(p["main_text"], 100 + k % 7, k)))
        thesaurus = "moby" if k % 2 else "wordnet"
        docs.append(Document(f"copy/{k}", spin(p["main_text"], rate=0.3, seed=k, thesaurus=thesaurus, farm=k % 3)))
    out = run(SpinRobustMinhashDedup(), docs, tmp_path)
    cluster = {d.id: d.metadata["cluster_id"] for d in out}
    caught = sum(cluster[f"copy/{k}"] == cluster[f"orig/{k}"] for k in range(len(articles)))
    assert caught >= 0.9 * len(articles)
    # no copy or original is merged with anything but its own pair
    for k in range(len(articles)):
        members = {i for i, c in cluster.items() if c == cluster[f"orig/{k}"]}
        assert members <= {f"orig/{k}", f"copy/{k}"} | {p["id"] for p in others if p["id"] == articles[k]["id"]}
