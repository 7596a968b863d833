"""Unicode repair with ftfy: mojibake, HTML entities left in text, control characters, bad surrogates.

The defaults are datatrove 0.10's ``FTFYFormatter`` (``datatrove/pipeline/formatters/ftfy.py``):
repair encodings and strip terminal escapes and control characters, but do not normalise the
text (no NFC/NFKC, no ligature, full-width or curly-quote folding, no line-break rewriting), so a
model still sees the characters real text uses.

ftfy is an optional dependency (``pip install thresher[fix]``); it is imported when the step is
built, so a recipe that uses ``unicode_fix`` without it fails before any data is read.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from thresher.document import Document
from thresher.errors import UsageError
from thresher.steps.base import Batch, Step, register

#: ASCII characters some enabled fix may touch: '&' (HTML entities), control characters and ESC
#: (terminal escapes). ASCII text without them goes through ftfy unchanged (checked by a test), so
#: it skips the call.
_ASCII_SUSPECT = re.compile(r"[&\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII_SUSPECT_CR = re.compile(r"[&\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: a lone (unpaired) surrogate; ftfy replaces these with U+FFFD, this is the fallback if it left any.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _import_ftfy() -> Any:
    try:
        import ftfy
    except ImportError as exc:  # pragma: no cover - exercised with ftfy hidden in a test
        raise UsageError(
            "step 'unicode_fix' needs the optional package ftfy, which is not installed: "
            "run `pip install thresher[fix]` (or `pip install ftfy`), or remove the step from the recipe"
        ) from exc
    return ftfy


@register
class UnicodeFix(Step):
    """Repair broken Unicode with ftfy (datatrove's FTFYFormatter settings by default).

    Signals: ``unicode_fix.changed`` (1 if the text changed) and ``unicode_fix.length_delta``
    (characters added, negative when removed). Counter: ``docs_changed``.
    """

    name = "unicode_fix"

    def __init__(
        self,
        unescape_html: bool | Literal["auto"] = "auto",
        remove_terminal_escapes: bool = True,
        fix_encoding: bool = True,
        restore_byte_a0: bool = True,
        replace_lossy_sequences: bool = True,
        decode_inconsistent_utf8: bool = True,
        fix_c1_controls: bool = True,
        fix_latin_ligatures: bool = False,
        fix_character_width: bool = False,
        uncurl_quotes: bool = False,
        fix_line_breaks: bool = False,
        fix_surrogates: bool = True,
        remove_control_chars: bool = True,
        normalization: Literal["NFC", "NFD", "NFKC", "NFKD"] | None = None,
    ) -> None:
        super().__init__()
        if normalization not in (None, "NFC", "NFD", "NFKC", "NFKD"):
            raise UsageError(
                f"unicode_fix: normalization must be one of NFC, NFD, NFKC, NFKD or null, got {normalization!r}"
            )
        self.options: dict[str, Any] = {
            "unescape_html": unescape_html,
            "remove_terminal_escapes": remove_terminal_escapes,
            "fix_encoding": fix_encoding,
            "restore_byte_a0": restore_byte_a0,
            "replace_lossy_sequences": replace_lossy_sequences,
            "decode_inconsistent_utf8": decode_inconsistent_utf8,
            "fix_c1_controls": fix_c1_controls,
            "fix_latin_ligatures": fix_latin_ligatures,
            "fix_character_width": fix_character_width,
            "uncurl_quotes": uncurl_quotes,
            "fix_line_breaks": fix_line_breaks,
            "fix_surrogates": fix_surrogates,
            "remove_control_chars": remove_control_chars,
            "normalization": normalization,
        }
        self._ascii_suspect = _ASCII_SUSPECT_CR if fix_line_breaks else _ASCII_SUSPECT
        _import_ftfy()  # fail at recipe load, not on the first batch
        self._config: Any = None

    def _fixer_config(self) -> Any:
        if self._config is None:
            self._config = _import_ftfy().TextFixerConfig(**self.options)
        return self._config

    def fix(self, text: str) -> str:
        """The repaired text (unchanged text is returned as the same object)."""
        if text.isascii() and self._ascii_suspect.search(text) is None:
            return text
        fixed = _import_ftfy().fix_text(text, config=self._fixer_config())
        if self.options["fix_surrogates"] and _LONE_SURROGATE.search(fixed):
            fixed = _LONE_SURROGATE.sub("\ufffd", fixed)
        return fixed

    def process(self, batch: Batch) -> Batch:
        for doc in batch:
            self._process_one(doc)
        return batch

    def _process_one(self, doc: Document) -> None:
        old = doc.text
        new = self.fix(old)
        changed = new != old
        doc.set_signals(self.name, {"changed": int(changed), "length_delta": len(new) - len(old)})
        if changed:
            doc.text = new
            self.count("docs_changed")

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_config"] = None
        return state
