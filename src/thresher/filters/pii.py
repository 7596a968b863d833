"""PII replacement: e-mail addresses, public IP addresses and (optionally) phone numbers.

Semantics follow datatrove 0.10's ``PIIFormatter`` (``datatrove/pipeline/formatters/pii.py``),
the step FineWeb applied to its released data ("anonymize email and public IP addresses",
FineWeb dataset card):

- **E-mail**: the RFC 5322-style pattern datatrove uses: a local part of ``[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]``
  runs separated by single dots, starting at a word boundary, ``@``, then either dot-separated
  host labels (alphanumeric at both ends, hyphens inside) or a bracketed IPv4 literal. Running
  that pattern through Python's backtracking regex engine is quadratic on long runs of local-part
  characters (10 KB of ``a!a!...`` takes seconds, 200 KB would take minutes), so the matcher
  here finds the same matches in linear time: it anchors on each ``@``, reads the local part
  backwards and the host forwards, and reproduces the leftmost-first choice of the regex.
  ``tests/filters/test_pii.py`` checks it against the regex on thousands of random strings.
- **IP**: dotted-quad IPv4 (no word boundaries, as in datatrove); a match is replaced only when
  :mod:`ipaddress` parses it and, with ``only_public_ips``, ``is_global`` is true. Each attempt
  of this pattern is bounded (15 characters), so it is linear as written.
- **Phone** (off by default, not in datatrove): international (``+CC ...``) and North-American
  style numbers with separators; plain digit runs, dates and version numbers are left alone.

Replacements cycle through the given tuple, restarting for every document (datatrove keeps one
counter across all documents a worker sees, which makes the output depend on how documents are
split across workers; restarting per document keeps output independent of that).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any

from thresher.document import Document
from thresher.steps.base import Batch, Step, register

# -- e-mail ---------------------------------------------------------------------------------------

#: characters allowed in a local-part run (datatrove's pattern: RFC 5322 atext).
_LOCAL_CHARS = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
#: a local-part run (atext and dots) read backwards from an '@' on the reversed text.
_LOCAL_RUN_REV = re.compile(f"[.{_LOCAL_CHARS}]*")
#: first position where a local part may start: a word boundary followed by an atext character.
_LOCAL_START = re.compile(rf"\b(?=[{_LOCAL_CHARS}])")
#: a host: alphanumerics, hyphens and dots (split into labels and checked below).
_HOST_RUN = re.compile(r"[A-Za-z0-9.-]*")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)"
#: the bracketed address-literal branch of the e-mail pattern, as datatrove writes it.
_HOST_LITERAL = re.compile(rf"\[(?:{_OCTET}\.){{3}}(?:{_OCTET}|[A-Za-z0-9-]*[A-Za-z0-9]:)\]")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def _host_end(text: str, start: int) -> int:
    """End of the host part matched at ``start`` (just after the '@'), or -1 when none matches.

    Mirrors ``(?:(?:A(?:[A-Za-z0-9-]*A)?\\.)+A(?:[A-Za-z0-9-]*A)?|\\[...\\])`` (A = alphanumeric):
    greedy over whole ``label.`` groups, then the longest prefix of the next label that starts and
    ends with an alphanumeric; if the next label cannot start one, the last whole label is used.
    """
    run_end = _HOST_RUN.match(text, start).end()
    if run_end > start:
        labels = text[start:run_end].split(".")
        valid = 0
        for label in labels[:-1]:
            if label and label[0] in _ALNUM and label[-1] in _ALNUM:
                valid += 1
            else:
                break
        groups = valid  # label+dot groups (at most len(labels) - 1, guaranteed by the slice above)
        if groups >= 1:
            upto = start + sum(len(label) + 1 for label in labels[:groups])
            following = labels[groups]
            if following and following[0] in _ALNUM:
                return upto + len(following.rstrip("-"))
            if groups >= 2:
                return upto - 1  # back off one group: the previous (valid) label is the last one
        return -1
    literal = _HOST_LITERAL.match(text, start)
    return literal.end() if literal else -1


def find_emails(text: str) -> list[tuple[int, int]]:
    """Spans of the e-mail addresses datatrove's pattern matches in ``text`` (leftmost-first, linear time)."""
    spans: list[tuple[int, int]] = []
    at = text.find("@")
    if at < 0:
        return spans
    reversed_text = text[::-1]
    n = len(text)
    last_end = 0
    while at >= 0:
        if at > last_end:
            run_len = _LOCAL_RUN_REV.match(reversed_text, n - at).end() - (n - at)
            lower = max(at - run_len, last_end)
            double_dot = text.rfind("..", lower, at)
            if double_dot >= 0:
                lower = double_dot + 2
            if lower < at and text[at - 1] != ".":
                start = _LOCAL_START.search(text, lower, at)
                if start is not None:
                    end = _host_end(text, at + 1)
                    if end >= 0:
                        spans.append((start.start(), end))
                        last_end = end
                        at = text.find("@", end)
                        continue
        at = text.find("@", at + 1)
    return spans


# -- IP and phone -----------------------------------------------------------------------------------

#: the leading lookahead changes no match; it lets the engine skip non-digits quickly (4x faster).
_IPV4 = re.compile(rf"(?=[0-9])(?:{_OCTET}\.){{3}}{_OCTET}")

#: phone numbers (our own, conservative): "+CC" followed by 2-5 digit groups, or a North-American
#: "(AAA) BBB-CCCC" / "AAA-BBB-CCCC" / "AAA.BBB.CCCC". Quantifiers are bounded (linear scan).
_PHONE = re.compile(
    r"(?=[+(0-9])(?<![\w+.-])(?:"
    r"\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{2,5}){2,5}"
    r"|(?:\(\d{3}\) ?|\d{3}[.-])\d{3}[.-]\d{4}"
    r")(?![\w.-]*\d)"
)

#: datatrove's defaults: example.com/org are reserved for examples (RFC 2606).
DEFAULT_EMAIL_REPLACEMENT = ("email@example.com", "firstname.lastname@example.org")
#: datatrove's defaults (addresses that did not answer a ping when its list was made).
DEFAULT_IP_REPLACEMENT = (
    "22.214.171.124",
    "126.96.36.199",
    "188.8.131.52",
    "184.108.40.206",
    "220.127.116.11",
    "18.104.22.168",
)
#: 555-0100..0199 are reserved for fiction in the North American Numbering Plan.
DEFAULT_PHONE_REPLACEMENT = ("555-0100",)


def _as_tuple(value: str | Sequence[str], what: str) -> tuple[str, ...]:
    out = (value,) if isinstance(value, str) else tuple(str(v) for v in value)
    if not out:
        raise ValueError(f"pii: {what} needs at least one replacement string (got an empty list)")
    return out


def _is_replaceable_ip(candidate: str, public_only: bool) -> bool:
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return address.is_global or not public_only


@register
class PIIStep(Step):
    """Replace e-mail addresses, public IPv4 addresses and (optionally) phone numbers.

    Signals: ``pii.emails``, ``pii.ips``, ``pii.phones`` (replacements in the document).
    Counters: ``emails``, ``ips``, ``phones`` (replacements) and ``docs_changed``.
    """

    name = "pii"

    def __init__(
        self,
        remove_emails: bool = True,
        remove_ips: bool = True,
        only_public_ips: bool = True,
        remove_phones: bool = False,
        email_replacement: str | list[str] = DEFAULT_EMAIL_REPLACEMENT,  # type: ignore[assignment]
        ip_replacement: str | list[str] = DEFAULT_IP_REPLACEMENT,  # type: ignore[assignment]
        phone_replacement: str | list[str] = DEFAULT_PHONE_REPLACEMENT,  # type: ignore[assignment]
    ) -> None:
        super().__init__()
        self.remove_emails = remove_emails
        self.remove_ips = remove_ips
        self.only_public_ips = only_public_ips
        self.remove_phones = remove_phones
        self.email_replacement = _as_tuple(email_replacement, "email_replacement")
        self.ip_replacement = _as_tuple(ip_replacement, "ip_replacement")
        self.phone_replacement = _as_tuple(phone_replacement, "phone_replacement")

    # -- the three replacers (pure functions of the text) -------------------------------------------

    def replace_emails(self, text: str) -> tuple[str, int]:
        """Text with e-mail addresses replaced, and the number replaced."""
        spans = find_emails(text)
        if not spans:
            return text, 0
        parts: list[str] = []
        pos = 0
        reps = self.email_replacement
        for i, (start, end) in enumerate(spans):
            parts.append(text[pos:start])
            parts.append(reps[i % len(reps)])
            pos = end
        parts.append(text[pos:])
        return "".join(parts), len(spans)

    def replace_ips(self, text: str) -> tuple[str, int]:
        """Text with (public) IPv4 addresses replaced, and the number replaced."""
        if text.count(".") < 3:
            return text, 0
        reps = self.ip_replacement
        done = 0

        def sub(match: re.Match[str]) -> str:
            nonlocal done
            found = match.group(0)
            if not _is_replaceable_ip(found, self.only_public_ips):
                return found
            out = reps[done % len(reps)]
            done += 1
            return out

        return _IPV4.sub(sub, text), done

    def replace_phones(self, text: str) -> tuple[str, int]:
        """Text with phone numbers replaced, and the number replaced."""
        reps = self.phone_replacement
        done = 0

        def sub(match: re.Match[str]) -> str:
            nonlocal done
            out = reps[done % len(reps)]
            done += 1
            return out

        return _PHONE.sub(sub, text), done

    def anonymize(self, text: str) -> tuple[str, dict[str, int]]:
        """Apply the enabled replacers (e-mails, then IPs, then phones, as datatrove orders the first two)."""
        counts: dict[str, int] = {}
        if self.remove_emails:
            text, counts["emails"] = self.replace_emails(text)
        if self.remove_ips:
            text, counts["ips"] = self.replace_ips(text)
        if self.remove_phones:
            text, counts["phones"] = self.replace_phones(text)
        return text, counts

    def process(self, batch: Batch) -> Batch:
        for doc in batch:
            self._process_one(doc)
        return batch

    def _process_one(self, doc: Document) -> None:
        text, counts = self.anonymize(doc.text)
        doc.set_signals(self.name, counts)
        total = 0
        for key, value in counts.items():
            if value:
                self.count(key, value)
                total += value
        if total:
            doc.text = text
            self.count("docs_changed")

    def __repr__(self) -> str:
        flags: dict[str, Any] = {
            "emails": self.remove_emails,
            "ips": self.remove_ips,
            "phones": self.remove_phones,
        }
        return f"PIIStep({flags})"
