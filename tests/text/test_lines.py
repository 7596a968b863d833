"""Cached line splits: the str.split versions give exactly the regex splits they replace."""

from __future__ import annotations

import random
import re

from thresher.document import Document
from thresher.text.lines import line_runs, paragraphs, split_newline_runs


def test_split_newline_runs_equals_the_regex_split() -> None:
    cases = ["", "\n", "\n\n\n", "a", "a\n", "\na", "a\nb", "\n\na\n\n\nb \n c\n", "x\n\n"]
    rng = random.Random(5)
    cases += ["".join(rng.choice("ab \n\r") for _ in range(rng.randint(0, 14))) for _ in range(3000)]
    for text in cases:
        assert split_newline_runs(text) == re.split("\n+", text), repr(text)


def test_paragraphs_and_line_runs_of_a_document() -> None:
    doc = Document("d", "\n\nFirst para\nsame para.\n\n\nSecond para.\n \nthird\n\n")
    assert paragraphs(doc) == ["First para\nsame para.", "Second para.\n \nthird"]
    assert line_runs(doc) == ["", "First para", "same para.", "Second para.", " ", "third", ""]
    assert paragraphs(Document("e", "  one paragraph\nonly  ")) == ["one paragraph\nonly"]


def test_split_paragraphs_equals_the_regex_split() -> None:
    from thresher.text.lines import split_paragraphs

    rng = random.Random(9)
    cases = ["a", "a\n\nb", "a\n\n\nb", "a\n\n\n\n\nb\n\nc", "a\n \n\nb"]
    cases += ["".join(rng.choice("ab \n\n\r") for _ in range(rng.randint(1, 16))).strip() for _ in range(5000)]
    for text in cases:
        expected = re.split("\n{2,}", text) if "\n\n" in text else [text]
        assert split_paragraphs(text) == expected, repr(text)
