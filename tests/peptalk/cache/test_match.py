"""The match decision on its own: order, function words, typos of non-words, names, inflections, every synonym
group, signs, and the guarantee that a miss asks for no vector (real wordfreq and lemminflect)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from peptalk.cache.canonical import CanonicalContent, canonical_item
from peptalk.cache.lexicon import IGNORABLE, SYNONYM_GROUPS
from peptalk.cache.match import (
    MatchPolicy,
    could_match,
    decide,
    item_difference,
    word_explained,
)
from peptalk.cache.names import lists_present, may_be_name
from peptalk.cache.words import (
    INTENDED_WORD_ZIPF,
    is_intended_word,
    is_typo,
    is_word,
    zipf,
)

BASE: dict[str, Any] = {"user_id": "lin", "today": "2026-12-01", "last_login": "2026-11-30", "completed_tasks": ["Walked the dog"],
        "focused_tasks": ["Prepare the board slides"], "rituals": ["Evening stretch"], "goals": ["Save for a bike"]}


def never(items: Sequence[str]) -> np.ndarray:
    raise AssertionError(f"a miss must not embed: {items}")


class Unit:
    """Vectors that are equal for every item: enough to check what decide asks for."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def __call__(self, items: Sequence[str]) -> np.ndarray:
        self.asked.append(list(items))
        return np.ones((len(items), 4)) / 2.0


def content(**change: Any) -> CanonicalContent:
    return CanonicalContent.of(BASE | change)


def served(stored: str, new: str) -> bool:
    """Whether a request whose focused task changed from `stored` to `new` is served the stored answer."""
    old, fresh = content(focused_tasks=[stored]), content(focused_tasks=[new])
    if old == fresh:
        return True
    return decide(old, fresh, Unit()).hit


MEANING_CHANGES = [
    ("word order: roles", "Text Priya, not Omar", "Text Omar, not Priya"),
    ("word order: places", "Drive from Leeds to York", "Drive from York to Leeds"),
    ("word order: money", "Move $200 from the joint account to the travel fund",
     "Move $200 from the travel fund to the joint account"),
    ("numbers attached to other words", "Swim 4 laps in 20 minutes", "Swim 20 laps in 4 minutes"),
    ("a crude stem", "Read the news site", "Read the new site"),
    ("start is not ship", "Start the podcast", "Ship the podcast"),
    ("wrap is not finish", "Wrap the gifts", "Finish the gifts"),
    ("a real word is no typo", "Bake the bread", "Bake the break"),
    ("a name is no typo", "Meet Julia for coffee", "Meet Julie for coffee"),
    ("a misspelt name may be another person", "Call Maria", "Call Mraia"),
    ("a surname SCOWL writes capitalised", "Lunch with Jackson", "Lunch with Jakson"),
    ("a first name only gender-guesser knows", "Text Siobhan the address", "Text Siobahn the address"),
    ("a slip between two names", "Call Kourtney", "Call Kortney"),
    ("a rare name no list knows", "Visit Ottoline", "Visit Ottolline"),
    ("before / after", "Stretch before the run", "Stretch after the run"),
    ("first / final", "Submit the final draft", "Submit the first draft"),
    ("currency", "Pay the £30 parking fine", "Pay the $30 parking fine"),
    ("done / not done", "Stretch 15 minutes ✅", "Stretch 15 minutes ❌"),
    ("plus / minus", "Weight +2 kg", "Weight -2 kg"),
    ("to / from", "Take the train to Bristol", "Take the train from Bristol"),
    ("with / without", "Coffee with sugar", "Coffee without sugar"),
    ("degree", "Finish the essay", "Almost finish the essay"),
    ("aspect", "Write the grant proposal", "Start writing the grant proposal"),
    ("quantifier", "Answer all the emails", "Answer some of the emails"),
    ("his / her", "Pick up his parcel", "Pick up her parcel"),
    ("negation", "Call the landlord", "Don't call the landlord"),
    ("another number", "Read 3 chapters", "Read 4 chapters"),
    ("a word added", "Clean the kitchen", "Clean the kitchen floor"),
    ("an auxiliary's tense", "Grandpa is in hospital", "Grandpa was in hospital"),
]


@pytest.mark.parametrize(("case", "stored", "new"), MEANING_CHANGES, ids=[case for case, _, _ in MEANING_CHANGES])
def test_a_meaning_change_is_a_miss_without_any_vector(case: str, stored: str, new: str) -> None:
    old, fresh = content(focused_tasks=[stored]), content(focused_tasks=[new])
    assert old != fresh, case
    match = decide(old, fresh, never)
    assert not match.hit and match.reason, case
    assert not could_match(old, fresh)


SAME_MEANING = [
    ("case and punctuation", "Email the landlord.", "email the LANDLORD!"),
    ("an article", "Book a table for the anniversary dinner", "Book table for anniversary dinner"),
    ("a possessive of one's own", "Water the tomatoes", "Water my tomatoes"),
    ("a slip that makes no word", "Renew the passport", "Renew the pasport"),
    ("a slip fixed", "Prepare the quarterly budegt", "Prepare the quarterly budget"),
    ("two slips in a long word", "Sort the subscriptions", "Sort the subscirptoins"),
    ("a slip of a word lemminflect lacks", "Clear the inbox", "Clear the inbxo"),
    ("a slip of a newer word", "Declutter the garage", "Delcutter the garage"),
    ("a slip of a compound nobody writes", "Update the deploy runbook", "Update the deploy runbok"),
    ("a slip of 'cannot'", "I cannot skip leg day", "I cannto skip leg day"),
    ("tense", "Finish the expense report", "Finished the expense report"),
    ("an irregular verb", "Run to the park", "Ran to the park"),
    ("number", "Repot the plant", "Repot the plants"),
    ("a synonym", "Call the plumber", "Phone the plumber"),
    ("a phrase synonym", "Review 2 pull requests", "Review 2 PRs"),
    ("a unit", "Cycle 20 kilometres", "Cycle 20 km"),
    ("a spelt number", "Drink two litres of water", "Drink 2 litres of water"),
]


@pytest.mark.parametrize(("case", "stored", "new"), SAME_MEANING, ids=[case for case, _, _ in SAME_MEANING])
def test_a_near_repeat_that_keeps_the_meaning_is_served(case: str, stored: str, new: str) -> None:
    assert served(stored, new), case


@pytest.mark.parametrize("group", SYNONYM_GROUPS, ids=[" ".join(group) for group in SYNONYM_GROUPS])
def test_every_synonym_group_substitutes_both_ways_and_nothing_else(group: tuple[str, ...]) -> None:
    for left in group:
        for right in group:
            assert served(f"Check the {left} today", f"Check the {right} today"), (left, right)
    outsider = "banana"
    assert not served(f"Check the {group[0]} today", f"Check the {outsider} today")


def test_degree_is_no_inflection_and_numbers_and_signs_are_only_ever_equal() -> None:
    assert word_explained("better", "good") is None and word_explained("more", "much") is None
    assert word_explained("finished", "finish") == "inflection"
    assert word_explained("5", "five") is None and word_explained("$", "€") is None
    assert item_difference("fly to paris", "fly from paris") == "'to' / 'from'"


def test_typos_are_non_words_one_edit_from_a_dictionary_word() -> None:
    assert is_typo("kicthen", "kitchen") and is_typo("budegt", "budget")
    assert not is_word("kicthen") and is_word("hostel") and is_word("maria")
    assert not is_typo("hostel", "hotel") and not is_typo("horse", "house")  # both words
    assert not is_typo("mraia", "maria")  # maria is a name, not a dictionary word
    assert not is_typo("kitchem", "kittens")  # more than one edit


def test_a_slip_may_stand_for_a_word_outside_lemminflect_but_never_for_a_name() -> None:
    assert lists_present(), "SCOWL (apt wamerican-insane) and gender-guesser: scripts/bootstrap.sh installs both"
    for typed, meant in [("inboox", "inbox"), ("runbbook", "runbook"), ("dcelutter", "declutter"),
                         ("onbboarding", "onboarding"), ("canont", "cannot"), ("maaketh", "maketh"),
                         ("fridgge", "fridge")]:
        assert is_typo(typed, meant) and is_typo(typed, meant) == is_intended_word(meant), (typed, meant)
    assert zipf("runbook") == 0.0 and is_intended_word("runbook")  # two common words run together
    assert zipf("declutter") >= INTENDED_WORD_ZIPF and not may_be_name("declutter")
    for name in ("maria", "mario", "jackson", "paris", "netflix"):  # SCOWL writes them capitalised
        assert may_be_name(name) and not is_intended_word(name), name
    for name in ("rahul", "siobhan", "caitlyn", "mariah"):  # first names no spelling list has
        assert may_be_name(name) and not is_intended_word(name), name
    assert not is_typo("jakson", "jackson") and not is_typo("rahull", "rahul") and not is_typo("caitlym", "caitlyn")
    assert not may_be_name("ottoline") and zipf("ottoline") < INTENDED_WORD_ZIPF  # rare: below the floor
    assert not is_typo("ottolline", "ottoline")
    assert not is_intended_word("zzqx") and not is_intended_word("runbbook")  # no compound of two common words


def test_the_ignorable_words_are_only_articles_and_own_possessives() -> None:
    assert IGNORABLE == {"a", "an", "the", "my", "our"}


def test_signs_are_content_and_punctuation_is_not() -> None:
    assert canonical_item("Pay the $50 fine") != canonical_item("Pay the €50 fine")
    assert canonical_item("Run 10 km ✅") != canonical_item("Run 10 km ❌") != canonical_item("Run 10 km")
    assert canonical_item("Weight -2 kg") == "weight \u2212 2 kg" and canonical_item("Weight +2 kg") == "weight + 2 kg"
    assert canonical_item("10-minute walk, Mon-Fri!") == "10 minute walk mon fri"
    assert canonical_item("Tom & Jerry") == "tom and jerry"
    assert canonical_item("Done ✔️") == canonical_item("done ✔")  # the emoji's variation selector goes
    assert content(focused_tasks=["Run 10 km ✅"]).digest() != content(focused_tasks=["Run 10 km ❌"]).digest()
    assert content(focused_tasks=["Run 10 km!"]).digest() == content(focused_tasks=["run 10 KM"]).digest()


def test_vectors_are_asked_for_only_for_a_hit_to_fill_the_evidence() -> None:
    stored = content(focused_tasks=["Prepare the board slides", "Renew the passport"])
    typo = content(focused_tasks=["Prepare the board slides", "Renew the pasport"])
    vectors = Unit()
    match = decide(stored, typo, vectors)
    assert match.hit and vectors.asked == [["renew the passport"], ["renew the pasport"]]
    assert [(pair.list_name, pair.stored, pair.new) for pair in match.pairs] == [
        ("focused_tasks", "renew the passport", "renew the pasport")]
    assert match.similarity == pytest.approx(1.0)
    payload = BASE | {"focused_tasks": ["Prepare the board slides", "Renew the passport"]}
    for change in ({"focused_tasks": ["Prepare the board slides", "Renew the visa"]},
                   {"focused_tasks": ["Prepare the board slides"]}, {"today": "2026-12-02"}, {"goals": ["Save for a car"]}):
        assert not decide(stored, CanonicalContent.of(payload | change), never).hit, change


def test_changed_items_pair_one_to_one_and_their_number_is_bounded() -> None:
    stored = content(focused_tasks=["Renew the passport", "Book the dentist"])
    both = content(focused_tasks=["Renew the pasport", "Book the dentsit"])
    assert decide(stored, both, Unit()).hit
    assert not decide(stored, both, never, MatchPolicy(max_changed_items=1)).hit
    one_explains_both = content(focused_tasks=["Renew the pasport", "Renew the passprot"])
    assert not decide(stored, one_explains_both, never).hit
    moved = CanonicalContent.of(BASE | {"completed_tasks": ["Walked the dog", "Prepare the board slides"],
                                        "focused_tasks": []})
    assert not decide(content(), moved, never).hit


def test_without_synonyms_a_synonym_is_a_miss() -> None:
    stored, new = content(focused_tasks=["Call the plumber"]), content(focused_tasks=["Phone the plumber"])
    assert decide(stored, new, Unit()).hit
    assert not decide(stored, new, never, MatchPolicy(synonyms=False)).hit


def test_the_pair_generators_use_neither_the_matcher_nor_its_word_lists() -> None:
    from tests.helpers import ROOT

    for path in ("scripts/make_cache_pairs.py", "scripts/make_external_cache_pairs.py", "scripts/cache_pairs_vocab.py"):
        text = (ROOT / path).read_text(encoding="utf-8")
        assert "peptalk.cache" not in text and "lexicon" not in text and "IGNORABLE" not in text, path


def test_without_the_proper_noun_list_every_word_outside_lemminflect_may_be_a_name(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A missing install step makes slips of such words misses (one model call each), never a served name."""
    from peptalk.cache import names

    monkeypatch.setattr(names, "PROPER_NOUNS_FILE", tmp_path / "no-such-list")
    names.proper_nouns.cache_clear()
    names.may_be_name.cache_clear()
    try:
        assert names.proper_nouns() is None and not names.lists_present()
        assert names.may_be_name("inbox") and names.may_be_name("declutter")
    finally:
        monkeypatch.undo()
        names.proper_nouns.cache_clear()
        names.may_be_name.cache_clear()
    assert not names.may_be_name("inbox") and names.may_be_name("maria")
