"""What a word is, from two maintained packages that work offline: `wordfreq` (how often a word is written, on
the Zipf scale: 0 for a string nobody writes, 3-7 for ordinary words and names) and `lemminflect` (an English
lexicon of lemmas: "finished" -> "finish", "ran" -> "run", "plants" -> "plant"; no names), with the names lists of
`names.py` for the words the lexicon lacks.

All load their data on first use, never at import; `warm()` loads it ahead of the first lookup.
"""

from __future__ import annotations

from functools import lru_cache

from peptalk.cache.names import may_be_name
from peptalk.cache.names import warm as warm_names

# Below this Zipf frequency a string is not a written word: wordfreq gives 0.0 for keyboard slips
# ("budegt", "kicthen") and 3 or more for ordinary words and common names.
NON_WORD_ZIPF = 1.0
# A word lemminflect's lexicon lacks ("inbox", "declutter", "maketh", "gallery") may be what a slip stood for when
# no names list knows it and people write it at least this often (Zipf 2: once in ten million words). At 2.0, 25 of
# the 4,669 first names of the 1990 US census outside lemminflect are taken for words (bench/name_safety.py).
INTENDED_WORD_ZIPF = 2.0
# ... or when it is two common dictionary words run together ("runbook", "inbox"; wordfreq has not seen "runbook").
COMPOUND_PART_ZIPF = 4.0


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """wordfreq's Zipf frequency of `word` in English (0.0 for a string nobody writes)."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


# Closed-class words lemminflect's lexicon (open classes only) lacks: typos of them are excused too.
FUNCTION_WORDS = frozenset([
    "against", "although", "among", "amongst", "because", "beside", "besides", "during", "every", "into", "onto",
    "though", "throughout", "toward", "towards", "unless", "until", "upon", "whereas", "whilst",
])
INFLECTED = ("NOUN", "VERB")  # tense and number; never degree ("better" -> "good", "more" -> "much")


@lru_cache(maxsize=65536)
def _lemmas_by_pos(word: str) -> dict[str, tuple[str, ...]]:
    if not word.isalpha():
        return {}
    from lemminflect import getAllLemmas

    return {pos: tuple(lemma.lower() for lemma in found) for pos, found in getAllLemmas(word).items()}


def lemmas(word: str) -> frozenset[str]:
    """The noun and verb lemmas lemminflect's lexicon gives `word` (empty for names, slips and numbers, and for
    the auxiliaries be, have, do, will, can ...: their tense is the state's, "is sick" / "was sick", which no
    list gives)."""
    found = _lemmas_by_pos(word)
    if "AUX" in found:
        return frozenset()
    return frozenset(lemma for pos in INFLECTED for lemma in found.get(pos, ()))


def is_word(word: str) -> bool:
    """A string people write: frequent enough in wordfreq's lists, or in lemminflect's lexicon."""
    return not word.isalpha() or zipf(word) >= NON_WORD_ZIPF or is_dictionary_word(word)


def is_dictionary_word(word: str) -> bool:
    """An English word in lemminflect's lexicon, any part of speech (so not a name: "maria" and "mario" are not
    in it, whatever their frequency)."""
    return word in FUNCTION_WORDS or bool(_lemmas_by_pos(word))


def _is_compound(word: str) -> bool:
    """Two common dictionary words run together: "run" + "book", "in" + "box", "can" + "not"."""
    splits = ((word[:i], word[i:]) for i in range(2, len(word) - 1))
    return any(is_dictionary_word(head) and is_dictionary_word(tail) and zipf(head) >= COMPOUND_PART_ZIPF
               and zipf(tail) >= COMPOUND_PART_ZIPF for head, tail in splits)


@lru_cache(maxsize=65536)
def is_intended_word(word: str) -> bool:
    """A word a slip may stand for, never a name: in lemminflect's lexicon (which holds no names), or, outside it,
    named by neither names list (`names.may_be_name`: "maria", "mario", "jackson", "paris" are names) and either
    written often enough (`INTENDED_WORD_ZIPF`: "inbox", "declutter", "onboarding", "maketh") or two common
    dictionary words run together ("runbook")."""
    if is_dictionary_word(word):
        return True
    return (word.isalpha() and not may_be_name(word)
            and (zipf(word) >= INTENDED_WORD_ZIPF or _is_compound(word)))


def same_lemma(left: str, right: str) -> bool:
    """Two forms of one word ("finish" / "finished", "run" / "ran", "plant" / "plants")."""
    return bool(lemmas(left) & lemmas(right))


def edit_distance(left: str, right: str, limit: int = 2) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, capped at `limit + 1`."""
    if abs(len(left) - len(right)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(right) + 1))
    for i, char in enumerate(left, start=1):
        current = [i] + [0] * len(right)
        for j, other in enumerate(right, start=1):
            cost = 0 if char == other else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char == right[j - 2] and left[i - 2] == other:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def is_typo(typed: str, meant: str, *, dictionary: bool = True) -> bool:
    """`typed` is a keyboard slip for `meant`: `typed` is no word at all, `meant` is a word (`is_intended_word`,
    never a name: a misspelt name may be another person; `dictionary=False` where the caller knows `meant` is a word),
    both start with the same letter, and they are one edit apart (two when `meant` has eight letters or more;
    none below four letters)."""
    if not (typed.isalpha() and meant.isalpha()) or typed[:1] != meant[:1] or len(meant) < 4:
        return False
    allowed = 2 if len(meant) >= 8 else 1
    if abs(len(typed) - len(meant)) > allowed or is_word(typed) or (dictionary and not is_intended_word(meant)):
        return False  # the cached checks first: the distance is the dear one
    return edit_distance(typed, meant, allowed) <= allowed


def warm() -> None:
    """Load both packages' data and the names lists now (about a second), so the first lookup does not pay it."""
    zipf("warm")
    lemmas("warmed")
    warm_names()


__all__ = ["COMPOUND_PART_ZIPF", "FUNCTION_WORDS", "INFLECTED", "INTENDED_WORD_ZIPF", "NON_WORD_ZIPF", "edit_distance",
           "is_dictionary_word", "is_intended_word", "is_typo", "is_word", "lemmas", "same_lemma", "warm", "zipf"]
