"""PII step: e-mail / IP / phone replacement, datatrove parity, adversarial inputs."""

from __future__ import annotations

import gzip
import json
import pickle
import random
from itertools import islice

import pytest

from thresher.document import Document
from thresher.filters.pii import DEFAULT_EMAIL_REPLACEMENT, DEFAULT_IP_REPLACEMENT, PIIStep, find_emails
from thresher.steps.base import get_step_class

LETTER = """Dear Ms. Novak,

thanks for your note. Please write to j.novak+press@mail.example-news.co.uk or to
desk@newsroom.org (not desk@localhost, which is only our test box). The upload server is at
8.8.4.4, the staging box at 192.168.1.20 and the old one at 10.0.0.7; version 1.2.3.4000 of
the tool is unrelated. Call +44 20 7946 0958 or (555) 123-4567 between 9 and 5.
Best regards, o'brien@example.com
"""


def _doc(text: str, i: int = 0) -> Document:
    return Document(f"d{i}", text, {})


def test_registered_as_pii() -> None:
    assert get_step_class("pii") is PIIStep


def test_emails_and_public_ips_replaced_private_kept() -> None:
    step = PIIStep()
    doc = _doc(LETTER)
    step.process([doc])
    text = doc.text
    for gone in ("j.novak+press@mail.example-news.co.uk", "desk@newsroom.org", "o'brien@example.com", "8.8.4.4"):
        assert gone not in text
    # desk@localhost has no dot in its host: not an e-mail for this pattern
    assert "desk@localhost" in text
    # private addresses are not PII (datatrove only_remove_public_ips=True)
    assert "192.168.1.20" in text and "10.0.0.7" in text
    # phone numbers are off by default
    assert "+44 20 7946 0958" in text
    # "1.2.3.4000" holds the public address 1.2.3.40: datatrove's pattern has no word boundaries
    assert "version 1.2.3.4000" not in text and "00 of" in text
    assert doc.metadata["signals"] == {"pii.emails": 3, "pii.ips": 2}
    counters = step.take_counters()
    assert counters["emails"] == 3 and counters["ips"] == 2 and counters["docs_changed"] == 1


def test_replacements_cycle_and_restart_per_document() -> None:
    step = PIIStep()
    docs = [_doc("a@b.cc and c@d.ee and e@f.gg", 0), _doc("x@y.zz", 1)]
    step.process(docs)
    first, second = DEFAULT_EMAIL_REPLACEMENT
    assert docs[0].text == f"{first} and {second} and {first}"
    assert docs[1].text == first  # restarts: output does not depend on the batch a document is in


def test_custom_replacements_and_private_ips() -> None:
    step = PIIStep(email_replacement="<EMAIL>", ip_replacement=["<IP>"], only_public_ips=False)
    doc = _doc("mail ops@corp.example.com from 10.1.2.3 or 8.8.8.8")
    step.process([doc])
    assert doc.text == "mail <EMAIL> from <IP> or <IP>"


def test_ip_validator_semantics() -> None:
    step = PIIStep(ip_replacement="IP")
    # no word boundaries in datatrove's pattern: "1.2.3.256" matches "1.2.3.25"
    assert step.replace_ips("host 1.2.3.256 up") == ("host IP6 up", 1)
    # reserved/private/loopback/documentation ranges stay (is_global is False)
    for kept in ("127.0.0.1", "192.168.0.1", "10.0.0.1", "0.0.0.0", "192.0.2.1"):
        assert step.replace_ips(kept) == (kept, 0)
    # leading zeros do not parse as an address: kept, not counted, and the scan resumes after the
    # whole match (the "8.8.8.8" inside is not tried again), as with datatrove's re.sub
    assert step.replace_ips("08.8.8.8") == ("08.8.8.8", 0)
    assert step.replace_ips("010.010.010.010") == ("010.010.010.010", 0)


def test_phones_only_when_enabled() -> None:
    text = "Call +44 20 7946 0958, (555) 123-4567 or 555.123.4567. Born 2021-05-12, v1.2.3, id 12345678."
    off = PIIStep(remove_emails=False, remove_ips=False)
    assert off.anonymize(text) == (text, {})
    on = PIIStep(remove_emails=False, remove_ips=False, remove_phones=True, phone_replacement="<PHONE>")
    out, counts = on.anonymize(text)
    assert counts == {"phones": 3}
    assert out == "Call <PHONE>, <PHONE> or <PHONE>. Born 2021-05-12, v1.2.3, id 12345678."


def test_empty_replacement_list_is_an_error() -> None:
    with pytest.raises(ValueError, match="email_replacement"):
        PIIStep(email_replacement=[])


def test_bad_input_never_raises() -> None:
    step = PIIStep(remove_phones=True)
    texts = [
        "",
        "   \n\t ",
        "@@@@ .... ---- [[[]]]",
        "\ud800 lone surrogate a@b.cc \udfff",
        "混合 scripts: почта user@пример.рф и mail@example.com 中文",
        "x" * 1_000_000,
    ]
    docs = [_doc(t, i) for i, t in enumerate(texts)]
    step.process(docs)
    assert docs[3].text == "\ud800 lone surrogate email@example.com \udfff"
    # only ASCII hosts match (datatrove's pattern): the Cyrillic address stays
    assert docs[4].text == "混合 scripts: почта user@пример.рф и email@example.com 中文"


@pytest.mark.parametrize(
    "text",
    [
        "a@a.a@" * 40_000,  # 240 KB of chained addresses
        "a!" * 100_000,  # quadratic for the backtracking regex: every '!' starts a local part
        "a." * 100_000 + "@",
        "a@" + "a-" * 100_000,
        "1." * 100_000,  # digits and dots
        "x@" + "a." * 100_000 + "-",
        "+1 23 " * 40_000,
    ],
)
def test_adversarial_inputs_are_linear(text: str) -> None:
    # each of these takes minutes with datatrove's regex (quadratic); here well under a second
    out, counts = PIIStep(remove_phones=True).anonymize(text)
    assert isinstance(out, str) and counts["emails"] >= 0


def test_chained_addresses_matched_like_the_regex() -> None:
    assert find_emails("a@a.a@a.a") == [(0, 5)]
    assert find_emails("me@mail.example.com.") == [(0, 19)]
    # "foo-" cannot end a host label, so the first '@' has no host; "foo-.bar" is the next local part
    assert find_emails("x@foo-.bar@baz.com") == [(2, 18)]
    assert find_emails("x@[1.2.3.4] and y@[1.2.3.256]") == [(0, 11)]


def test_pickles() -> None:
    step = PIIStep(email_replacement="E")
    clone = pickle.loads(pickle.dumps(step))
    assert clone.anonymize("a@b.cc")[0] == "E"


# -- parity with datatrove ---------------------------------------------------------------------------


def _datatrove_email_regex():
    pii = pytest.importorskip("datatrove.pipeline.formatters.pii")
    return pii.PIIFormatter().emails_replacer.regex


@pytest.mark.parametrize("alphabet", ["ab1.-@_!é [ ]9:2.5", "aaab.@-.", "aB9.@@-x!é", "a.@[]1.2.3.4:-"])
def test_email_matcher_equals_datatrove_regex_on_random_strings(alphabet: str) -> None:
    regex = _datatrove_email_regex()
    rng = random.Random(alphabet)
    for _ in range(8_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 28)))
        assert find_emails(text) == [m.span() for m in regex.finditer(text)], text


def test_parity_with_datatrove_on_real_pages(webcorpus_path) -> None:
    pii = pytest.importorskip("datatrove.pipeline.formatters.pii")
    with gzip.open(webcorpus_path, "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in islice(fh, 400)]
    # pages with an '@' (datatrove's regex is slow on long pages: keep the slice small)
    texts = [t for t in texts if "@" in t and len(t) < 20_000][:50]
    ours = PIIStep()
    changed = 0
    for text in texts:
        expected = pii.PIIFormatter().format(text)  # fresh: its replacement counter restarts too
        got, _ = ours.anonymize(text)
        assert got == expected
        changed += got != text
    assert changed >= 5  # the slice does exercise replacements


def test_defaults_are_datatrove_defaults() -> None:
    pii = pytest.importorskip("datatrove.pipeline.formatters.pii")
    theirs = pii.PIIFormatter()
    assert theirs.emails_replacer.replacements == DEFAULT_EMAIL_REPLACEMENT
    assert theirs.ip_replacer.replacements == DEFAULT_IP_REPLACEMENT
