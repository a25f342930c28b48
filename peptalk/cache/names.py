"""Which strings may be names, from two maintained lists that work offline:

- SCOWL's largest American spelling list (Debian's `wamerican-insane`, installed by `scripts/bootstrap.sh`), where
  proper nouns (people, places, brands: "Maria", "Mario", "Jackson", "Paris", "Netflix") are written capitalised;
- gender-guesser's dictionary of about 40,000 first names from many countries (`nam_dict.txt` in its wheel), for the
  first names a spelling list leaves out ("Mariah", "Caitlyn", "Rahul").

A name is never taken as the word a slip stood for: a misspelt name may be another person. Where a list cannot be
read, every word outside lemminflect's lexicon may be a name (the safe side: a slip of it is a miss).
Both lists load on first use, never at import (`warm()`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

PROPER_NOUNS_FILE = Path("/usr/share/dict/american-english-insane")


@lru_cache(maxsize=1)
def proper_nouns() -> frozenset[str] | None:
    """SCOWL's capitalised entries, lower-cased (about 150,000), or None where the list is not installed."""
    try:
        text = PROPER_NOUNS_FILE.read_text(encoding="utf-8")
    except OSError:
        return None
    return frozenset(entry.lower() for entry in text.split("\n") if entry[:1].isupper())


@lru_cache(maxsize=1)
def _first_names() -> Callable[[str], str] | None:
    """gender-guesser's look-up ("unknown" for a string that is no first name), or None where it is missing."""
    try:
        from gender_guesser.detector import Detector
    except ImportError:
        return None
    gender: Callable[[str], str] = Detector(case_sensitive=False).get_gender
    return gender


def is_first_name(word: str) -> bool:
    """A first name in gender-guesser's dictionary ("maria", "mario", "rahul"; also a few words that are names
    somewhere, "than", "geek")."""
    gender = _first_names()
    return gender is None or gender(word) != "unknown"


@lru_cache(maxsize=65536)
def may_be_name(word: str) -> bool:
    """Whether `word` (lower case) may be a name: SCOWL writes it capitalised, or it is a first name, or a list is
    missing."""
    nouns = proper_nouns()
    return nouns is None or word in nouns or is_first_name(word)


def lists_present() -> bool:
    """Whether both lists could be read (a missing install step otherwise only makes slips of rare words misses)."""
    return proper_nouns() is not None and _first_names() is not None


def warm() -> None:
    """Load both lists now (about 0.3 s)."""
    proper_nouns()
    _first_names()


__all__ = ["PROPER_NOUNS_FILE", "is_first_name", "lists_present", "may_be_name", "proper_nouns", "warm"]
