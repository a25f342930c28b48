"""The match decision: may an answer cached for one request be served for another under the same exact key?

It is lexical and order-aware; an embedding never excuses a word (MiniLM scores "Gym before work" / "Gym after
work" and "Call mom, not dad" / "Call dad, not mom" at 0.9 or more). MiniLM and FAISS only find the candidates.

1. Each list must hold as many items as before, so an added, dropped or moved item is a miss; at most
   `max_changed_items` items may differ from the stored ones (after canonical forms).
2. The changed items of a list must pair one-to-one with the stored items they replace, each pair *explained*:
   the two items read as token sequences, articles and "my"/"our" left out (`lexicon.IGNORABLE`), must line up
   position by position (so swapped words, swapped places and numbers attached to other words are misses), and
   every position that differs must be
   - a slip of the keyboard: one side is no word at all, the other a dictionary word one edit away, never a name
     (`words.is_typo`);
   - another form of the same word, tense or number ("finish" / "finished", "plant" / "plants": the list says the
     status; `words.same_lemma`, lemminflect);
   - or a reviewed synonym (`lexicon.SYNONYM_GROUPS`, which may also replace a phrase: "pr" / "pull request").
   Numbers, symbols ($ € + − ✅ ❌) and every other word must be equal.
3. Only then, for a hit, are the items' vectors asked for, to report each changed pair's similarity.

`could_match` runs steps 1-2 alone. **`decide` calls `vectors` only after every lexical check passed**, so a miss
needs no embedding at all.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from peptalk.cache.canonical import NUMBER_WORDS, CanonicalContent
from peptalk.cache.lexicon import IGNORABLE, SYNONYM_GROUPS, SYNONYMS
from peptalk.cache.settings import cache_default
from peptalk.cache.words import is_typo, lemmas, same_lemma
from peptalk.schema import LIST_FIELDS

ItemVectors = Callable[[Sequence[str]], np.ndarray]  # canonical items -> one unit vector per item


@dataclass(frozen=True)
class MatchPolicy:
    """The knobs of the decision (`PEPTALK_CACHE_MAX_CHANGED_ITEMS`; the synonym table can be switched off)."""

    max_changed_items: int = cache_default("cache_max_changed_items")  # more is another day, whatever they say
    synonyms: bool = True


@dataclass(frozen=True)
class ItemPair:
    """One stored item paired with a new one that differs from it (after canonical forms)."""

    list_name: str
    stored: str
    new: str
    similarity: float


@dataclass
class Match:
    """A hit (with the changed pairs) or a miss (with the reason)."""

    hit: bool
    similarity: float = 1.0  # the lowest similarity of a changed pair (1.0 when none changed)
    pairs: list[ItemPair] = field(default_factory=list)
    reason: str | None = None


def content_tokens(item: str) -> list[str]:
    """A canonical item's tokens in order, the ignorable words left out."""
    return [token for token in item.split(" ") if token and token not in IGNORABLE]


def _forms(word: str) -> frozenset[str]:
    return frozenset({word}) | lemmas(word)


def _synonyms(left: str, right: str) -> bool:
    """Members of one reviewed group, as written or through a form of one ("minutes" / "mins")."""
    return any(other in SYNONYMS.get(form, ()) for form in _forms(left) for other in _forms(right))


def _phrase_forms(words: list[str]) -> set[str]:
    """A phrase as written and with its last word's lemmas ("pull requests" -> "pull request"); a single
    "prs" also as "pr" (an abbreviation's plural, which no lexicon lists)."""
    last = words[-1]
    endings = {last} | lemmas(last) | ({last[:-1]} if last.endswith("s") and len(last) > 2 else set())
    return {" ".join([*words[:-1], ending]) for ending in endings}


PHRASE_TOKENS = frozenset(token for group in SYNONYM_GROUPS if any(" " in member for member in group)
                          for member in group for token in member.split(" "))


def _phrase_possible(words: list[str]) -> bool:
    """Whether `words` hold a member of a group with a phrase in it (only then can an alignment explain more)."""
    return any(word in PHRASE_TOKENS or word[:-1] in PHRASE_TOKENS or lemmas(word) & PHRASE_TOKENS for word in words)


def _phrase_synonyms(left: list[str], right: list[str]) -> bool:
    return any(other in SYNONYMS.get(form, ()) for form in _phrase_forms(left) for other in _phrase_forms(right))


def _slipped_number(typed: str, digits: str) -> bool:
    """`typed` is a slip of the spelling of the number `digits` ("threee", "twuce" for 3 and 2; never "tree")."""
    return typed.isalpha() and any(value == digits and is_typo(typed, spelled, dictionary=False)
                                   for spelled, value in NUMBER_WORDS.items())


@lru_cache(maxsize=65536)
def word_explained(left: str, right: str, *, synonyms: bool = True) -> str | None:
    """Why one word may stand for the other (`typo`, `inflection`, `synonym`), or None."""
    if left == right:
        return "same"
    if left[:1].isdigit() or right[:1].isdigit():  # a number only ever equals itself, or its slipped spelling
        return "typo" if _slipped_number(left, right) or _slipped_number(right, left) else None
    if not (left.isalpha() and right.isalpha()):
        return None  # signs only ever equal
    if is_typo(left, right) or is_typo(right, left):
        return "typo"
    if same_lemma(left, right):
        return "inflection"
    if synonyms and _synonyms(left, right):
        return "synonym"
    return None


def item_difference(stored: str, new: str, *, synonyms: bool = True) -> str | None:
    """None when `new` says what `stored` says (in order, word for word up to the explanations above); otherwise
    the first difference nothing explains, e.g. "'before' / 'after'" or "'not' added"."""
    left, right = content_tokens(stored), content_tokens(new)
    if len(left) == len(right):
        unexplained = next(((a, b) for a, b in zip(left, right, strict=True)
                            if word_explained(a, b, synonyms=synonyms) is None), None)
        if unexplained is None:
            return None
    if not (synonyms and _phrase_possible(left) and _phrase_possible(right)):  # the alignment could change nothing
        at = next((i for i, (a, b) in enumerate(zip(left, right)) if word_explained(a, b, synonyms=synonyms) is None),
                  min(len(left), len(right)))
        return (f"{left[at]!r} / {right[at]!r}" if at < min(len(left), len(right)) else
                f"{' '.join(left[at:] or right[at:])!r} {'dropped' if len(left) > len(right) else 'added'}")
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for operation, i1, i2, j1, j2 in matcher.get_opcodes():
        if operation == "equal":
            continue
        old, fresh = " ".join(left[i1:i2]), " ".join(right[j1:j2])
        if operation == "delete":
            return f"{old!r} dropped"
        if operation == "insert":
            return f"{fresh!r} added"
        if i2 - i1 == j2 - j1 and all(word_explained(a, b, synonyms=synonyms) is not None
                                      for a, b in zip(left[i1:i2], right[j1:j2], strict=True)):
            continue
        if synonyms and _phrase_synonyms(left[i1:i2], right[j1:j2]):  # "pull requests" / "prs"
            continue
        return f"{old!r} / {fresh!r}"
    return None


def _pairing(explained: list[list[bool]]) -> list[int] | None:
    """A perfect one-to-one pairing of rows with columns over the explained cells (Kuhn's augmenting paths), as
    `column for each row`, or None."""
    size = len(explained)
    owner: list[int | None] = [None] * size

    def place(row: int, seen: set[int]) -> bool:
        for column in range(size):
            if explained[row][column] and column not in seen:
                seen.add(column)
                holder = owner[column]
                if holder is None or place(holder, seen):
                    owner[column] = row
                    return True
        return False

    if not all(place(row, set()) for row in range(size)):
        return None
    chosen = [0] * size
    for column, row in enumerate(owner):
        assert row is not None
        chosen[row] = column
    return chosen


@dataclass
class LexicalMatch:
    """The lexical part of the decision: the explained pairs `(list, stored, new)` of a would-be hit, or a reason."""

    pairs: list[tuple[str, str, str]] | None
    reason: str | None = None


def lexical_match(stored: CanonicalContent, new: CanonicalContent, policy: MatchPolicy = MatchPolicy()) -> LexicalMatch:
    """Steps 1 and 2 of the decision: every check that needs no vector."""
    if (stored.today, stored.last_login) != (new.today, new.last_login):
        return LexicalMatch(None, "dates")
    leftovers: list[tuple[str, list[str], list[str]]] = []
    for name, old_items, new_items in zip(LIST_FIELDS, stored.lists, new.lists, strict=True):
        if old_items == new_items:
            continue
        if len(old_items) != len(new_items):
            return LexicalMatch(None, f"{name}: {len(old_items)} items before, {len(new_items)} now")
        old_left = list((Counter(old_items) - Counter(new_items)).elements())
        new_left = list((Counter(new_items) - Counter(old_items)).elements())
        if new_left:
            leftovers.append((name, old_left, new_left))
    changed = sum(len(new_left) for _, _, new_left in leftovers)
    if changed > policy.max_changed_items:
        return LexicalMatch(None, f"{changed} items changed")
    pairs: list[tuple[str, str, str]] = []
    for name, old_left, new_left in leftovers:
        differences = [[item_difference(old, fresh, synonyms=policy.synonyms) for fresh in new_left] for old in old_left]
        chosen = _pairing([[difference is None for difference in row] for row in differences])
        if chosen is None:
            row = next((row for row, found in enumerate(differences) if all(found)), 0)
            column = next((column for column, found in enumerate(differences[row]) if found), 0)
            return LexicalMatch(None, f"{name}: {old_left[row]!r} / {new_left[column]!r}: {differences[row][column]}")
        pairs.extend((name, old_left[row], new_left[column]) for row, column in enumerate(chosen))
    return LexicalMatch(pairs)


def could_match(stored: CanonicalContent, new: CanonicalContent, policy: MatchPolicy = MatchPolicy()) -> bool:
    """Whether `decide` would serve `stored`'s answer for `new`, decided without any vector."""
    return lexical_match(stored, new, policy).pairs is not None


def decide(stored: CanonicalContent, new: CanonicalContent, vectors: ItemVectors,
           policy: MatchPolicy = MatchPolicy()) -> Match:
    """Whether the answer cached for `stored` may be served for `new` (same exact key assumed).

    Guarantee: `vectors` is called only after every lexical check passed, i.e. only for a hit, to fill each
    changed pair's similarity (evidence, never a reason). A miss never calls it.
    """
    lexical = lexical_match(stored, new, policy)
    if lexical.pairs is None:
        return Match(False, 0.0, reason=lexical.reason)
    if not lexical.pairs:
        return Match(True, 1.0)
    left = vectors([old for _, old, _ in lexical.pairs])
    right = vectors([fresh for _, _, fresh in lexical.pairs])
    similarities = np.einsum("ij,ij->i", np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64))
    pairs = [ItemPair(name, old, fresh, min(float(score), 1.0))
             for (name, old, fresh), score in zip(lexical.pairs, similarities, strict=True)]
    return Match(True, min(pair.similarity for pair in pairs), pairs)


__all__ = ["ItemPair", "ItemVectors", "LexicalMatch", "Match", "MatchPolicy", "content_tokens", "could_match",
           "decide", "item_difference", "lexical_match", "word_explained"]
