"""``clean_lines`` rules on top of the model: reader comments and related-story lists under the story,
detached small blocks of kept lines."""

from __future__ import annotations

import numpy as np

from thresher.document import Document
from thresher.extract.cleaner.features import line_features
from thresher.extract.lines import CleanLines, LineCleaner, _word_ids

STORY = [
    "The harbour authority confirmed on Tuesday that the old ferry pier will close at the end of the "
    "month, after engineers found cracks in two of its main supports.",
    "Ferry operators will move their services to the new terminal on the east quay, which adds about "
    "ten minutes to the crossing for foot passengers.",
    "Residents of the island said they were worried about older passengers who cannot manage the "
    "longer walk from the bus stop to the new terminal.",
    "The authority said it would run a free shuttle between the town centre and the east quay until "
    "the end of the year, and review the service in the spring.",
]
COMMENTS = [
    "12 Comments",
    "Milan Griffes on September 12, 2018 at 4:47 pm said:",
    "Any update on whether the shuttle will also run at weekends, when most of the visitors come over "
    "to the island for the market and the beaches? It would make a big difference to the shops.",
    "Catherine on September 13, 2018 at 5:23 pm said:",
    "We have not heard anything yet, but the council meets again next week and the shuttle is on the "
    "agenda, so we hope to have an answer for you and the other readers who asked by Friday.",
    "Alex says:",
    "November 2, 2018 at 8:01 am",
    "Thanks for keeping us posted on this, it has been a long wait for everyone who lives on the island.",
]
NAV = ["Home", "News", "Sport", "Weather", "Travel", "Culture", "Contact"]


def comment_section(lines: list[str]) -> list[bool]:
    return LineCleaner._comment_section(lines, line_features(lines)).tolist()


def test_comment_section_starts_at_the_first_header_below_the_story() -> None:
    lines = ["Home", *STORY, *COMMENTS, "Privacy Policy"]
    start = 1 + len(STORY) + 1  # the first "... said:" line
    assert comment_section(lines) == [False] * start + [True] * (len(lines) - start)


def test_a_quote_introduced_with_said_is_not_a_comment_header() -> None:
    quote = [
        "Mr Jones said:",
        "“We cannot ask people to walk on a structure we know is failing, and we will not do so.”",
        "The harbour master said:",
        "“The new terminal is ready and the crossing will only take ten minutes longer than before.”",
    ]
    assert not any(comment_section([*STORY, *quote, *STORY]))


def test_a_forum_thread_whose_posts_start_with_headers_is_left_alone() -> None:
    thread = COMMENTS[1:]  # header, post, header, post, header, date, post: a header before any prose
    assert not any(comment_section(["Forum", "Ferry pier", *thread]))
    assert not any(comment_section([*STORY, *COMMENTS[:3]]))  # one header only: not a comment section


def test_comments_under_a_story_are_removed_with_their_rule() -> None:
    text = "\n".join([*NAV, "Harbour pier to close after storm damage", *STORY, *COMMENTS, *NAV])
    (doc,) = CleanLines(keep_title=False).process([Document("d", text)])
    assert doc.text.split("\n") == STORY
    rules = {e["text"]: e["rule"] for e in doc.metadata["removed_lines"]}
    assert rules[COMMENTS[2]] == "comments" and rules[COMMENTS[-1]] == "comments"
    (kept,) = CleanLines(keep_title=False, cut_comments=False).process([Document("d", text)])
    assert "comments" not in {e["rule"] for e in kept.metadata["removed_lines"]}


def test_small_detached_blocks_of_kept_lines_are_dropped_unless_the_model_is_sure() -> None:
    cleaner = LineCleaner(min_block_share=0.4)
    teaser = "Five things to do in the city this weekend, from markets to a night of open studios."
    lines = ["Home", *STORY, "Related", "News", "Sport", "Weather", teaser, "About us"]
    keep = np.array([False, True, True, True, True, False, False, False, False, True, False])
    unsure = np.where(keep, 0.7, 0.1)
    assert cleaner._detached(lines, keep, unsure).tolist() == [False] * 9 + [True, False]
    sure = np.where(keep, 0.95, 0.1)
    assert not cleaner._detached(lines, keep, sure).any()
    # kept lines two dropped lines apart are one block; a block of comparable weight stays
    keep2 = np.array([False, True, True, False, False, True, True, False, False, False, False])
    assert not cleaner._detached(lines, keep2, np.where(keep2, 0.7, 0.1)).any()
    assert not LineCleaner(min_block_share=0.0)._detached(lines, keep, unsure).any()


def test_rules_keep_the_step_deterministic_and_batch_independent() -> None:
    texts = [
        "\n".join([*NAV, *STORY, *COMMENTS]),
        "\n".join([*COMMENTS, *STORY, *NAV]),
        "\n".join(NAV),
    ]
    step = CleanLines()
    together = [d.text for d in step.process([Document(str(i), t) for i, t in enumerate(texts)])]
    alone = [CleanLines().process([Document("x", t)])[0].text for t in texts]
    assert together == alone


def related_lists(lines: list[str]) -> list[bool]:
    return LineCleaner._related_lists(lines, line_features(lines)).tolist()


RELATED = [
    "More from UK",
    "Council approves budget for new bus lanes in the city centre",
    "Five things to do this weekend",
    "Local school wins national chess title",
]


def test_a_list_of_related_stories_below_the_story_is_cut_up_to_the_next_sentence() -> None:
    lines = ["Home", *STORY[:2], *RELATED, *STORY[2:]]
    assert related_lists(lines) == [False] * 3 + [True] * len(RELATED) + [False] * 2


def test_related_headings_inside_content_or_above_it_are_left_alone() -> None:
    # above the first prose line: a navigation column, which the model handles
    assert not any(related_lists([*RELATED, *STORY]))
    # a heading followed by fewer than three lines before the next sentence
    assert not any(related_lists([*STORY[:2], "Related coverage", "Pier closure map", *STORY[2:]]))
    # "more" inside an ordinary heading is not a related-stories heading
    assert not any(related_lists([*STORY[:2], "More than a ferry", "Timetable", "Fares", "Parking", *STORY[2:]]))


def test_related_lists_are_removed_with_their_rule_and_can_be_kept() -> None:
    text = "\n".join([*NAV, *STORY, *RELATED, "About us", "Privacy Policy"])
    (doc,) = CleanLines(keep_title=False).process([Document("d", text)])
    assert doc.text.split("\n") == STORY
    rules = {e["text"]: e["rule"] for e in doc.metadata["removed_lines"]}
    assert rules["More from UK"] == "related_list" and rules[RELATED[1]] == "related_list"
    (kept,) = CleanLines(keep_title=False, cut_related=False).process([Document("d", text)])
    assert "related_list" not in {e["rule"] for e in kept.metadata["removed_lines"]}


RESULTS = [
    "Pos.\t\tDriver\t\tPoints\t\tWins",
    "1\t\tKyle Busch\t\t5040\t\t5",
    "2\t\tMartin Truex Jr.\t\t5035\t\t7",
    "3\t\tKevin Harvick\t\t5033\t\t4",
    "4\t\tDenny Hamlin\t\t5027\t\t6",
]


def test_a_table_under_kept_content_is_kept_whole() -> None:
    lines = ["Home", *STORY, "Final standings after 36 races:", *RESULTS, "Share", "About us"]
    n = len(lines)
    keep = np.zeros(n, bool)
    keep[1 : 1 + len(STORY) + 2] = True  # the story, its intro line and the table's header row
    p = np.where(keep, 0.8, 0.1)
    rows = slice(len(STORY) + 2, len(STORY) + 2 + len(RESULTS))
    p[rows] = [0.56, 0.44, 0.41, 0.39, 0.38]  # the model loses the rows of names and numbers
    tables = LineCleaner._tables(lines, keep, p)
    assert tables.tolist() == [i in range(n)[rows] for i in range(n)]
    # a table the model does not believe in, or one not attached to kept lines, stays out
    assert not LineCleaner._tables(lines, keep, np.where(keep, 0.8, 0.1)).any()
    alone = np.zeros(n, bool)
    assert not LineCleaner._tables(lines, alone, p).any()
    # two tab lines are no table
    assert not LineCleaner._tables(["intro", *RESULTS[:2]], np.array([True, False, False]), np.full(3, 0.5)).any()


def test_the_table_rule_in_the_decision_and_its_switch() -> None:
    lines = [*NAV, *STORY, "Final standings after 36 races:", *RESULTS, *NAV]
    rows = list(range(len(NAV) + len(STORY) + 1, len(NAV) + len(STORY) + 1 + len(RESULTS)))
    p = np.full(len(lines), 0.1)
    p[len(NAV) : rows[0]] = 0.9
    p[rows] = [0.56, 0.44, 0.41, 0.39, 0.38]
    f = line_features(lines)
    ad = np.zeros(len(lines), bool)

    def decide(keep_tables: bool) -> tuple[np.ndarray, dict[int, str]]:
        cleaner = LineCleaner(threshold=0.5, stages=[None, None], keep_title=False, keep_tables=keep_tables)  # type: ignore[list-item]
        keep, _, rules = cleaner._decide(lines, f, p, ad)
        return keep, rules

    keep, rules = decide(True)
    assert keep[rows].all() and not any(i in rules for i in rows)
    assert not keep[: len(NAV)].any()
    keep, rules = decide(False)
    assert keep[rows].tolist() == [True, False, False, False, False]
    assert rules[rows[1]] == "model:0.44"


TOUR = [
    "June 9 -- Coral Sky Amphitheatre, West Palm Beach, FL",
    "June 10 -- Credit Union Amphitheatre, Tampa, FL",
    "June 14 -- Bank Amphitheatre, Alpharetta, GA",
    "June 17 -- Bridgestone Arena, Nashville, TN",
]


def test_a_list_introduced_by_a_kept_line_is_kept_whole() -> None:
    lines = [*NAV, *STORY, "The tour dates:", *TOUR, "Share this:", "Facebook", "Twitter", "Email"]
    start = len(NAV) + len(STORY)
    items = list(range(start + 1, start + 1 + len(TOUR)))
    keep = np.zeros(len(lines), bool)
    keep[len(NAV) : start + 2] = True  # the story, the intro line and the first item
    p = np.where(keep, 0.8, 0.1)
    p[items] = [0.6, 0.26, 0.37, 0.39]
    out = LineCleaner._lists(lines, keep, p)
    assert np.flatnonzero(out).tolist() == items
    # the share links under "Share this:" are no list of the content: that line is not kept
    assert not out[start + 1 + len(TOUR) :].any()
    # items the model does not believe in stay out, and so does a list under a line it dropped
    assert not LineCleaner._lists(lines, keep, np.where(keep, 0.8, 0.1)).any()
    keep[start] = False
    assert not LineCleaner._lists(lines, keep, p).any()


def test_list_items_must_share_one_shape() -> None:
    lines = ["The tour dates:", TOUR[0], TOUR[1], "More news", "Sport", "Weather"]
    keep = np.array([True, True, False, False, False, False])
    p = np.array([0.8, 0.6, 0.4, 0.4, 0.4, 0.4])
    assert not LineCleaner._lists(lines, keep, p).any()  # two items of the date shape only
    assert not CleanLines(keep_lists=False).cleaner.keep_lists


def test_a_hidden_one_line_copy_of_the_story_below_it_is_a_repeated_copy() -> None:
    copy = " ".join(STORY)  # a schema.org articleBody rendered as one line, as in a WET file
    lines = [*NAV, "Ferry pier to close", *STORY, "Share this:", copy, *NAV]
    keep = np.zeros(len(lines), bool)
    keep[len(NAV) : len(NAV) + 1 + len(STORY)] = True
    keep[lines.index(copy)] = True
    out = LineCleaner._copies(lines, keep)
    assert np.flatnonzero(out).tolist() == [lines.index(copy)]
    # above the paragraphs, the one-line copy goes too: the paragraphs keep the text's structure
    lines = [*NAV, copy, "Ferry pier to close", *STORY]
    keep = np.ones(len(lines), bool)
    keep[: len(NAV)] = False
    assert np.flatnonzero(LineCleaner._copies(lines, keep)).tolist() == [len(NAV)]
    # a long line that only shares a part of its text with the paragraphs is no copy
    longer = copy + " " + copy.replace("ferry", "bridge").replace("harbour", "county").replace("quay", "road")
    lines = [*STORY, longer]
    assert not LineCleaner._copies(lines, np.ones(len(lines), bool)).any()


def test_copies_are_found_the_same_way_on_pages_with_very_long_words() -> None:
    # a word over 64 characters (a base64 blob in a kept line) switches the word numbering from a
    # numpy string sort to a dict; the verdicts must not change
    blob = "QUJD" * 40
    copy = " ".join(STORY)
    lines = [*STORY, copy, f"The attachment {blob} was sent with the notice to every resident of the town."]
    keep = np.ones(len(lines), bool)
    assert np.flatnonzero(LineCleaner._copies(lines, keep)).tolist() == [len(STORY)]
    assert np.flatnonzero(LineCleaner._copies(lines[:-1], keep[:-1])).tolist() == [len(STORY)]
    ids, n = _word_ids([["a", "b"], ["b", blob, "a"]])
    assert n == 3 and ids[0] == ids[4] and ids[1] == ids[2] and len(set(ids.tolist())) == 3
    ids_short, n_short = _word_ids([["a", "b"], ["b", "c", "a"]])
    assert n_short == 3 and (ids_short == ids_short[[0, 1, 1, 3, 0]]).all()


def test_only_kept_sentence_length_lines_repeating_kept_text_are_copies() -> None:
    heading = "How much will the new shuttle between the town and the quay cost?"
    lines = [heading, *STORY, heading, STORY[1], STORY[2]]
    keep = np.ones(len(lines), bool)
    out = LineCleaner._copies(lines, keep)
    # the repeated heading is under 16 words: never judged; the repeated paragraphs are copies
    assert np.flatnonzero(out).tolist() == [len(lines) - 2, len(lines) - 1]
    # text the cleaner dropped above does not make a kept line a copy
    keep[1:3] = False
    assert np.flatnonzero(LineCleaner._copies(lines, keep)).tolist() == [len(lines) - 1]
    # a paragraph sharing a phrase with the story is no copy of it
    other = (
        "The harbour authority confirmed on Tuesday that it has chosen a builder for the new pier, "
        "and that work will start in the summer once the money from the county has arrived."
    )
    assert not LineCleaner._copies([*STORY, other], np.ones(len(STORY) + 1, bool)).any()


def test_the_copy_rule_in_the_decision_and_its_switch() -> None:
    copy = " ".join(STORY)
    lines = [*NAV, *STORY, copy, *NAV]
    p = np.full(len(lines), 0.1)
    p[len(NAV) : len(NAV) + len(STORY) + 1] = 0.9
    f = line_features(lines)
    ad = np.zeros(len(lines), bool)
    for drop_copies in (True, False):
        cleaner = LineCleaner(threshold=0.5, stages=[None, None], keep_title=False, drop_copies=drop_copies)  # type: ignore[list-item]
        keep, _, rules = cleaner._decide(lines, f, p, ad)
        assert keep[len(NAV) : len(NAV) + len(STORY)].all()
        assert keep[lines.index(copy)] == (not drop_copies)
        assert rules.get(lines.index(copy)) == ("repeated_copy" if drop_copies else None)
    assert not CleanLines(drop_copies=False).cleaner.drop_copies


def test_clean_lines_keeps_the_paragraphs_and_explains_the_dropped_copy() -> None:
    copy = " ".join(STORY)
    for page in (
        [*NAV, "Ferry pier to close at the end of the month", *STORY, copy, "Share this article", *NAV],
        [*NAV, "Ferry pier to close at the end of the month", copy, *STORY, "Share this article", *NAV],
    ):
        doc = Document("copy", "\n".join(page), {"format": "text"})
        CleanLines().process([doc])
        assert doc.text.split("\n")[1:] == STORY
        removed = {r["line"]: r["rule"] for r in doc.metadata["removed_lines"]}
        assert removed[page.index(copy)] == "repeated_copy"
        kept_all = Document("copy", "\n".join(page), {"format": "text"})
        CleanLines(drop_copies=False).process([kept_all])
        assert copy in kept_all.text.split("\n")
