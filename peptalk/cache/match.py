"""The match decision: may an answer cached for one request be served for another under the same exact key?

Lists are compared item by item, never as whole texts:

1. Each list must hold as many items as before, so an added, dropped or moved item is a miss.
2. Items equal in canonical form (case, spacing, punctuation, number spelling) pair up at once.
3. The remaining items are paired one-to-one (the assignment with the highest total similarity), and each
   pair must pass every guard: the same polarity and status words ("not", "skipped", "cancelled" ...), the same
   numbers, times and people, and no content word on one side that the other side does not explain by a typo,
   a shared stem or a synonym; then MiniLM's cosine of the two items must reach `item_threshold`.

The decision is a `Match`: a hit with its evidence (the changed pairs and their similarities), or a miss
with its reason. The defaults are the ones `bench/cache_quality.py` measured (BENCHMARKS.md).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from peptalk.cache.canonical import NUMBER_WORDS, CanonicalContent, tokens
from peptalk.cache.lexicon import FILLER, PEOPLE, POLARITY, SYNONYMS, TIME
from peptalk.cache.settings import cache_default
from peptalk.schema import LIST_FIELDS

ItemVectors = Callable[[Sequence[str]], np.ndarray]  # canonical items -> one unit vector per item


@dataclass(frozen=True)
class MatchPolicy:
    """The knobs of the decision (`PEPTALK_CACHE_ITEM_THRESHOLD`, `..._REWORD_THRESHOLD`, `..._MAX_CHANGED_ITEMS`)."""

    item_threshold: float = cache_default("cache_item_threshold")  # a changed item whose every word is accounted for
    reword_threshold: float = cache_default("cache_reword_threshold")  # ... with words no typo, stem or synonym explains
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


def stem(word: str) -> str:
    """A crude English stem: enough for "reviewing" / "review", "plants" / "plant", "called" / "call"."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


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


def is_typo(left: str, right: str) -> bool:
    """A slip of the keyboard: one edit in a word of five letters or more (a letter dropped from one of five
    leaves four), two in one of eight or more; never the first letter, never a number."""
    if left.isdigit() or right.isdigit() or left[:1] != right[:1]:
        return False
    shorter, longer = sorted((len(left), len(right)))
    allowed = 2 if shorter >= 8 else 1 if shorter >= 5 or (shorter == 4 and longer == 5) else 0
    return allowed > 0 and edit_distance(left, right, allowed) <= allowed


def _guarded(words: list[str], vocabulary: frozenset[str]) -> Counter[str]:
    return Counter(word for word in words if word in vocabulary)


def _numbers(words: list[str]) -> Counter[str]:
    return Counter(word for word in words if word[:1].isdigit())


KNOWN = POLARITY | TIME | PEOPLE | frozenset(NUMBER_WORDS)


def _typos_fixed(words: list[str], others: list[str]) -> list[str]:
    """`words` with each word that is a typo of one in `others` replaced by it (two known words are not typos).

    A typo of a number word ("tree" for "three") becomes that number when `others` has it.
    """
    present = set(others)
    fixed = []
    for word in words:
        if word not in present:
            word = next((other for other in others if other not in words and not (word in KNOWN and other in KNOWN)
                         and is_typo(word, other)), word)
        if word not in present and word.isalpha():
            word = next((digits for spelled, digits in NUMBER_WORDS.items() if digits in present
                         and word not in KNOWN and is_typo(word, spelled)), word)
        fixed.append(word)
    return fixed


@dataclass(frozen=True)
class Verdict:
    """What the guards found for one pair of items."""

    hard: str | None  # a difference that always means something else (polarity, time, person, number)
    unexplained: tuple[str, ...] = ()  # content words on one side only, explained by no typo, stem or synonym
    typos_only: bool = False  # the same words once typos are fixed: MiniLM's cosine says nothing more


def guard(stored: str, new: str, *, synonyms: bool = True) -> Verdict:
    """Why two items cannot mean the same thing (`hard`), and which words only a high similarity may excuse."""
    left = tokens(stored)
    right = _typos_fixed(tokens(new), left)
    left = _typos_fixed(left, right)  # a typo fixed: the stored request had it
    for name, vocabulary in (("polarity", POLARITY), ("time", TIME), ("person", PEOPLE)):
        if _guarded(left, vocabulary) != _guarded(right, vocabulary):
            return Verdict(name)
    if _numbers(left) != _numbers(right):
        return Verdict("number")
    content_left = {word for word in left if word not in FILLER and not word[:1].isdigit()}
    content_right = {word for word in right if word not in FILLER and not word[:1].isdigit()}
    unexplained = [word for words, others in ((content_left - content_right, content_right),
                                              (content_right - content_left, content_left))
                   for word in sorted(words) if not any(_explains(word, other, synonyms=synonyms) for other in others)]
    return Verdict(None, tuple(unexplained), typos_only=left == right)


def _explains(word: str, other: str, *, synonyms: bool) -> bool:
    if stem(word) == stem(other) or is_typo(word, other):
        return True
    return synonyms and (other in SYNONYMS.get(word, ()) or stem(other) in SYNONYMS.get(stem(word), ()))


def decide(stored: CanonicalContent, new: CanonicalContent, vectors: ItemVectors,
           policy: MatchPolicy = MatchPolicy()) -> Match:
    """Whether the answer cached for `stored` may be served for `new` (same exact key assumed)."""
    if (stored.today, stored.last_login) != (new.today, new.last_login):
        return Match(False, 0.0, reason="dates")
    leftovers: list[tuple[str, list[str], list[str]]] = []
    changed = 0
    for name, old_items, new_items in zip(LIST_FIELDS, stored.lists, new.lists, strict=True):
        if len(old_items) != len(new_items):
            return Match(False, 0.0, reason=f"{name}: {len(old_items)} items before, {len(new_items)} now")
        old_left = list((Counter(old_items) - Counter(new_items)).elements())
        new_left = list((Counter(new_items) - Counter(old_items)).elements())
        changed += len(new_left)
        if new_left:
            leftovers.append((name, old_left, new_left))
    if changed > policy.max_changed_items:
        return Match(False, 0.0, reason=f"{changed} items changed")
    pairs: list[ItemPair] = []
    for name, old_left, new_left in leftovers:
        verdicts = [[guard(old, fresh, synonyms=policy.synonyms) for fresh in new_left] for old in old_left]
        allowed = np.array([[verdict.hard is None for verdict in row] for row in verdicts])
        if not allowed.any(axis=1).all():
            row = int(np.flatnonzero(~allowed.any(axis=1))[0])
            return Match(False, 0.0, reason=f"{name}: {old_left[row]!r}: {verdicts[row][0].hard}")
        needed = np.array([[policy.reword_threshold if verdict.unexplained else
                            -1.0 if verdict.typos_only else policy.item_threshold for verdict in row] for row in verdicts])
        similarity = vectors(old_left) @ vectors(new_left).T
        chosen = _assign(np.where(allowed, similarity - needed, -4.0))
        for row, column in chosen:
            score, verdict = float(similarity[row, column]), verdicts[row][column]
            if verdict.hard is not None or score < needed[row, column]:
                why = verdict.hard or (f"similarity {score:.3f}" + (f", words {', '.join(verdict.unexplained)}"
                                                                      if verdict.unexplained else ""))
                return Match(False, score, reason=f"{name}: {old_left[row]!r} / {new_left[column]!r}: {why}")
            pairs.append(ItemPair(name, old_left[row], new_left[column], min(score, 1.0)))
    return Match(True, min((pair.similarity for pair in pairs), default=1.0), pairs)


def _assign(scores: np.ndarray) -> list[tuple[int, int]]:
    """The one-to-one pairing with the highest total score (square: both sides have as many leftovers)."""
    size = scores.shape[0]
    if size <= 4:  # at most 24 orders: cheaper than importing scipy on the event loop
        best = max(itertools.permutations(range(size)),
                   key=lambda order: sum(scores[row, column] for row, column in enumerate(order)))
        return list(enumerate(best))
    from scipy.optimize import linear_sum_assignment

    rows, columns = linear_sum_assignment(scores, maximize=True)
    return list(zip(rows.tolist(), columns.tolist(), strict=True))


__all__ = ["ItemPair", "ItemVectors", "Match", "MatchPolicy", "Verdict", "decide", "edit_distance", "guard", "is_typo", "stem"]
