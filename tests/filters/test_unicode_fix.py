"""unicode_fix: ftfy repairs with datatrove's settings, the ASCII shortcut, missing-ftfy error."""

from __future__ import annotations

import gzip
import json
import random
import sys
from itertools import islice

import pytest

from thresher.document import Document
from thresher.errors import UsageError
from thresher.steps.base import get_step_class

ftfy = pytest.importorskip("ftfy")

from thresher.filters.unicode_fix import UnicodeFix  # noqa: E402


def _fix(text: str, **params) -> str:
    return UnicodeFix(**params).fix(text)


def test_registered_as_unicode_fix() -> None:
    assert get_step_class("unicode_fix") is UnicodeFix


def test_repairs_mojibake_entities_and_escapes() -> None:
    assert _fix("The cafÃ© serves crÃ¨me brÃ»lÃ©e") == "The café serves crème brûlée"
    assert _fix("Fish &amp; chips &lt;3") == "Fish & chips <3"  # no '<' in the text: unescaped ("auto")
    assert _fix("\x1b[31mred\x1b[0m alert") == "red alert"
    assert _fix("bell\x07 and nul\x00 gone") == "bell and nul gone"


def test_keeps_what_datatrove_keeps() -> None:
    # no normalisation: curly quotes, ligatures, full-width forms and CRLF stay as written
    for text in ("“quoted” ‘text’", "ﬁne oﬃce", "ＡＢＣ，全角。", "line\r\nbreak", "e\u0301 (decomposed)"):
        assert _fix(text) == text
    assert _fix("“quoted”", uncurl_quotes=True) == '"quoted"'
    assert _fix("e\u0301", normalization="NFC") == "é"


def test_lone_surrogates_become_replacement_characters() -> None:
    assert _fix("a\ud800b \ud83d\ude00") == "a\ufffdb 😀"
    assert _fix("\udfff") == "\ufffd"


def test_signals_and_counters() -> None:
    step = UnicodeFix()
    docs = [Document("a", "plain ascii text", {}), Document("b", "cafÃ©", {})]
    step.process(docs)
    assert docs[0].text == "plain ascii text"
    assert docs[0].metadata["signals"] == {"unicode_fix.changed": 0, "unicode_fix.length_delta": 0}
    assert docs[1].text == "café"
    assert docs[1].metadata["signals"] == {"unicode_fix.changed": 1, "unicode_fix.length_delta": -1}
    assert step.take_counters()["docs_changed"] == 1


def test_ascii_shortcut_changes_nothing_ftfy_would_change() -> None:
    # the shortcut skips ftfy for ASCII text without '&' or control characters: check on random text
    # that ftfy would indeed have returned it unchanged, and that text with them still goes to ftfy
    step = UnicodeFix()
    config = step._fixer_config()
    rng = random.Random(7)
    alphabet = "".join(chr(c) for c in range(128))
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert step.fix(text) == ftfy.fix_text(text, config=config), repr(text)


def test_bad_input_never_raises() -> None:
    step = UnicodeFix()
    texts = ["", "   \n ", "!!!###$$$", "ÐŸÑ€Ð¸Ð²ÐµÑ‚ mixed 中文 русский", "é" * 200_000]
    docs = [Document(str(i), t, {}) for i, t in enumerate(texts)]
    step.process(docs)
    assert docs[3].text.startswith("Привет")
    assert len(docs[4].text) == 200_000


def test_bad_normalization_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="normalization"):
        UnicodeFix(normalization="NFX")  # type: ignore[arg-type]


def test_missing_ftfy_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ftfy", None)  # makes `import ftfy` raise ImportError
    with pytest.raises(UsageError, match=r"pip install thresher\[fix\]"):
        UnicodeFix()


def test_parity_with_datatrove_ftfy_formatter(webcorpus_path) -> None:
    formatter = pytest.importorskip("datatrove.pipeline.formatters.ftfy")
    theirs = formatter.FTFYFormatter()
    ours = UnicodeFix()
    with gzip.open(webcorpus_path, "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"][:6_000] for line in islice(fh, 60)]
    texts += ["cafÃ© &amp; bar", "\x1b[1mbold\x1b[0m", "â€œsmartâ€\x9d quotes"]
    for text in texts:
        assert ours.fix(text) == theirs.format(text)
