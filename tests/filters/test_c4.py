"""C4 line rules, document rules and bad words on hand-written pages."""

from __future__ import annotations

import pytest

from thresher.document import Document
from thresher.filters.c4 import C4BadWords, C4Quality, badwords_regex

GOOD = [
    "The museum opened its new wing to the public on Saturday morning.",
    "Visitors queued for an hour to see the restored paintings.",
    "The curator said the work had taken three years to complete.",
    "Entry is free for children under twelve.",
    "The wing will stay open late on Fridays during the summer.",
]


def run(step, text: str, **meta) -> Document:
    doc = Document("d", text, dict(meta))
    step.process([doc])
    return doc


def test_clean_page_is_kept_and_stripped() -> None:
    text = "\n".join("  " + line + "  " for line in GOOD)
    doc = run(C4Quality(), text)
    assert doc.drop is None
    assert doc.text == "\n".join(GOOD)
    assert doc.metadata["signals"]["c4.sentences"] == 5
    assert "removed_lines" not in doc.metadata


def test_line_rules_remove_lines_and_record_them() -> None:
    lines = GOOD + [
        "Share this page",  # no terminal punctuation
        "Read more.",  # too few words
        "Please enable JavaScript to view the comments.",
        "This site uses cookies to improve your experience.",
        "A very " + "x" * 1001 + " long word.",
        "Paris is the capital of France.[1] It has many museums[citation needed].",
    ]
    doc = run(C4Quality(), "\n".join(lines))
    assert doc.drop is None
    rules = {entry["line"]: entry["rule"] for entry in doc.metadata["removed_lines"]}
    assert rules == {5: "no_terminal_punct", 6: "too_few_words", 7: "javascript", 8: "policy", 9: "too_long_word"}
    assert doc.text.splitlines()[-1] == "Paris is the capital of France. It has many museums."
    assert doc.metadata["signals"]["c4.lines_removed"] == 5


def test_terminal_punct_rule_can_be_disabled_like_fineweb() -> None:
    text = "\n".join(GOOD + ["Share this page with friends"])
    assert run(C4Quality(filter_no_terminal_punct=False), text).text.endswith("with friends")
    assert run(C4Quality(), text + "\nWait for it...").text.endswith("summer.")


def test_document_rules() -> None:
    assert run(C4Quality(), "\n".join(GOOD[:4])).drop.reason == "too_few_sentences"
    assert run(C4Quality(min_num_sentences=4), "\n".join(GOOD[:4])).drop is None
    lorem = run(C4Quality(), "\n".join(GOOD + ["Lorem ipsum dolor sit amet."]))
    assert lorem.drop.reason == "lorem_ipsum"
    assert lorem.drop.details == {"value": "Lorem ipsum dolor sit amet.", "threshold": None}
    assert lorem.text.startswith("The museum")  # a dropped page keeps its text
    # the document rules are signals too, so refilter can replay them
    assert lorem.metadata["signals"]["c4.lorem_ipsum"] == 1
    assert lorem.metadata["signals"]["c4.curly_bracket"] == 0
    few = run(C4Quality(), "\n".join(GOOD[:4])).drop
    assert few.details == {"value": 4, "threshold": 5}
    # with the sentence rule off, sentences are not counted (not 0: a later threshold cannot be judged)
    assert "c4.sentences" not in run(C4Quality(min_num_sentences=-1), "\n".join(GOOD[:4])).metadata["signals"]
    assert run(C4Quality(), "\n".join(GOOD + ["Use the function f(x) { return x; }."])).drop.reason == "curly_bracket"
    # a curly bracket on a line that a line rule removed first does not drop the page
    assert run(C4Quality(), "\n".join(GOOD + ["{menu}"])).drop is None
    assert run(C4Quality(filter_curly_bracket=False), "\n".join(GOOD + ["It costs {5} euros today."])).drop is None


def test_sentences_count_like_the_sentencizer() -> None:
    text = "One. Two! Three? Four. Five here."
    assert run(C4Quality(), text).drop is None
    assert run(C4Quality(), "One. Two! Three? Four... five here.").drop.reason == "too_few_sentences"


def test_badwords() -> None:
    clean = "\n".join(GOOD)
    assert run(C4BadWords(), clean).drop is None
    doc = run(C4BadWords(), clean + "\nWhat a load of Bullshit, he said.")
    assert doc.drop.reason == "badwords" and doc.drop.details["value"] == "bullshit"
    # only whole words (flanked by non-word characters) count, multi-word entries too
    assert run(C4BadWords(), "a classic glass assessment").drop is None
    assert run(C4BadWords(), "the 2 girls 1 cup video").drop is not None
    assert run(C4BadWords(), "Scunthorpe is a town").drop is None


def test_badwords_languages_and_keep_fraction() -> None:
    text = "this is shit"
    with pytest.raises(ValueError, match="fail_on_missing_language"):
        run(C4BadWords(), text, language="xx")
    assert run(C4BadWords(fail_on_missing_language=False), text, language="xx").drop is None
    kept = sum(run(C4BadWords(keep_fraction=0.5, seed=1), text).drop is None for _ in range(1))
    assert kept in (0, 1)
    docs = [Document(str(i), text) for i in range(400)]
    C4BadWords(keep_fraction=0.5, seed=3).process(docs)
    share = sum(d.drop is None for d in docs) / len(docs)
    assert 0.35 < share < 0.65
    again = [Document(str(i), text) for i in range(400)]
    C4BadWords(keep_fraction=0.5, seed=3).process(again)
    assert [d.drop is None for d in docs] == [d.drop is None for d in again]  # deterministic


def test_badwords_regex_is_linear_on_long_inputs() -> None:
    regex = badwords_regex("en")
    assert regex.search(("a" * 1000 + " ") * 2000) is None
    assert regex.search("s" * 2_000_000) is None


@pytest.mark.parametrize(
    "text",
    ["", "\n\n\n", "...!!!", "\ud800 lone surrogate line here.", "x" * 5_000_000, "{" * 10_000, "[" * 100_000 + "]"],
)
def test_bad_input_gets_a_decision(text: str) -> None:
    for step in (C4Quality(), C4BadWords()):
        doc = run(step, text)
        assert doc.drop is None or isinstance(doc.drop.reason, str)


def test_cut_citation_can_join_a_rule_word_and_lines_may_end_in_carriage_returns() -> None:
    # "java[1]script" becomes "javascript" once the citation is cut: the line goes (as datatrove)
    text = "\r\n".join(GOOD + ["Turn on java[1]script to see the map.", "Two more [2] sentences. Here they are."])
    doc = run(C4Quality(), text)
    assert doc.drop is None
    rules = {entry["line"]: entry["rule"] for entry in doc.metadata["removed_lines"]}
    assert rules == {5: "javascript"}
    assert doc.text.splitlines()[-1] == "Two more  sentences. Here they are."
    assert doc.metadata["signals"]["c4.sentences"] == 7


def test_sentences_stop_at_line_ends_and_counts_stop_before_a_dropping_line() -> None:
    # a sentence mark at the end of one line does not start a sentence on the next line
    lines = ["One two three four.", "Five six seven eight!", "Nine ten eleven twelve", "Xy zz. Ww qq."]
    doc = run(C4Quality(min_num_sentences=6, filter_no_terminal_punct=False), "\n".join(lines))
    assert doc.drop.reason == "too_few_sentences" and doc.drop.details["value"] == 5
    assert run(C4Quality(filter_no_terminal_punct=False), "\n".join(lines)).drop is None
    doc = run(C4Quality(), "\n".join(GOOD[:2] + ["Say {hello} to everyone here."] + GOOD[2:]))
    assert doc.drop.reason == "curly_bracket"
    assert doc.metadata["signals"]["c4.sentences"] == 2  # the kept lines before the dropping line
