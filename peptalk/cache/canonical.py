"""Canonical forms of a request's items: what case, spacing, punctuation and order never change.

Signs are content, not punctuation: "$50" and "€50", "Run 10 km ✅" and "Run 10 km ❌", "+5" and "-5" differ.
Two requests with the same canonical content are the same request for the cache (an exact hit), so
reordered items, another case or punctuation never reach the semantic comparison. Digits keep their
separators where they carry meaning ("9:30", "2.5"); "10,000" and "10000" are the same number.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from peptalk.schema import LIST_FIELDS

_APOSTROPHES = re.compile(r"(?<=\w)['\u2019\u2018`](?=\w)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_MINUS = re.compile(r"(?<![\w.])-(?=\d)")  # "-5 kg": a sign; "10-minute" and "Mon-Fri" keep a hyphen
_TOKEN = re.compile(r"\d+(?:[.:]\d+)*|[^\W\d_]+|[^\w\s]")
SYMBOL_CATEGORIES = ("Sc", "Sm", "So")  # currency, maths and other signs: $ € + − = ✅ ❌ ★ ° ...
SEPARATORS = frozenset("|")  # signs used as punctuation between words

NUMBER_WORDS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
                "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
                "fifteen": "15", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100",
                "once": "1", "twice": "2", "half": "0.5", "dozen": "12"}
TOKEN_ALIASES = {"%": "percent", "k": "000", "&": "and", "\u2796": "\u2212", "\u2795": "+"}


def _kept(token: str) -> bool:
    """Words, numbers and signs; punctuation goes (".", ",", "!", "?", "'", "-" between words, brackets ...)."""
    if token[:1].isalnum() or token in TOKEN_ALIASES:  # "9:30" and "2.5" too
        return True
    return len(token) == 1 and token not in SEPARATORS and unicodedata.category(token) in SYMBOL_CATEGORIES


def tokens(text: str) -> list[str]:
    """Lower-case word, number and sign tokens; number words become digits ("two" -> "2"), "%" "percent", a minus
    sign before a number "−" (U+2212), and signs such as $ € + ✅ ❌ stay, each one token."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _MINUS.sub("\u2212", _THOUSANDS.sub("", _APOSTROPHES.sub("", text)))
    found = [TOKEN_ALIASES.get(token, token) for token in _TOKEN.findall(text) if _kept(token)]
    merged: list[str] = []
    for token in found:  # "10k" -> "10" "000" -> "10000"; "five hundred" -> "500"
        if token in ("000", "100") and merged and merged[-1].isdigit():
            merged[-1] = str(int(merged[-1]) * (1000 if token == "000" else 100))
            continue
        merged.append(NUMBER_WORDS.get(token, token))
    return merged


def canonical_item(text: str) -> str:
    """The item with case, spacing, punctuation and number spelling normalised."""
    return " ".join(tokens(text))


@dataclass(frozen=True)
class CanonicalContent:
    """Each list as a sorted tuple of canonical items (a multiset), plus the two dates."""

    today: str
    last_login: str
    lists: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, request: Mapping[str, object]) -> CanonicalContent:
        lists = []
        for name in LIST_FIELDS:
            raw = request.get(name) or []
            assert isinstance(raw, Sequence)
            lists.append(tuple(sorted(canonical_item(str(item)) for item in raw)))
        return cls(today=str(request["today"]), last_login=str(request["last_login"]), lists=tuple(lists))

    def text(self) -> str:
        return "\n".join([f"last login {self.last_login}", f"today {self.today}",
                          *(f"{name}: " + "\x1e".join(items) for name, items in zip(LIST_FIELDS, self.lists, strict=True))])

    def digest(self) -> str:
        """The exact-hit hash: equal for requests that differ only in case, spacing, punctuation or order."""
        return hashlib.sha256(self.text().encode()).hexdigest()

    def items(self) -> list[str]:
        """Every distinct canonical item (what the per-item vectors are stored for)."""
        return sorted({item for items in self.lists for item in items})


__all__ = ["CanonicalContent", "canonical_item", "tokens"]
