"""Blinding: the order a rater sees is a keyed shuffle that tells nothing about the model behind a position."""

from __future__ import annotations

from collections import Counter

from scipy.stats import chisquare

from evaluation.rating import Blinder, build_units
from tests.evaluation.rating.conftest import MODELS, make_items

RATERS = [f"rater{index}" for index in range(1500)]


def test_each_position_holds_each_model_equally_often_across_raters() -> None:
    blinder = Blinder(b"test-secret")
    unit = build_units(make_items(1), "score")[0]
    by_position = [Counter() for _ in MODELS]
    for rater in RATERS:
        for position, model in enumerate(blinder.order(rater, unit)):
            by_position[position][model] += 1
    for counts in by_position:
        observed = [counts[model] for model in MODELS]
        assert sum(observed) == len(RATERS)
        assert chisquare(observed).pvalue > 0.001, observed  # uniform: about 500 each


def test_pairwise_label_a_is_either_model_equally_often() -> None:
    blinder = Blinder(b"test-secret")
    unit = build_units(make_items(1), "pairwise")[0]
    first = Counter(blinder.slots(rater, unit, pairwise=True)[0].model for rater in RATERS)
    assert set(first) == set(unit.models)
    assert chisquare(list(first.values())).pvalue > 0.001, first


def test_the_order_is_stable_for_a_rater_and_varies_between_raters_and_items() -> None:
    blinder = Blinder(b"test-secret")
    units = build_units(make_items(2), "score")
    assert blinder.order("ann", units[0]) == blinder.order("ann", units[0])
    orders = {tuple(blinder.order(rater, units[0])) for rater in RATERS[:60]}
    assert len(orders) == 6  # every permutation of three models shows up
    per_item = {tuple(blinder.order("ann", unit)) for unit in build_units(make_items(40), "score")}
    assert len(per_item) > 1


def test_slot_and_task_ids_are_opaque_and_per_rater() -> None:
    blinder = Blinder(b"test-secret")
    unit = build_units(make_items(1), "score")[0]
    ann, bob = blinder.slots("ann", unit, pairwise=False), blinder.slots("bob", unit, pairwise=False)
    ann_ids = {slot.model: slot.slot_id for slot in ann}
    bob_ids = {slot.model: slot.slot_id for slot in bob}
    assert all(ann_ids[model] != bob_ids[model] for model in MODELS)
    for slot in ann:
        assert all(part not in slot.slot_id for part in ("gpt", "ollama", "embedded"))
    assert blinder.task_id("ann", unit.unit_id) != blinder.task_id("bob", unit.unit_id)
    assert unit.item.prompt_id not in blinder.task_id("ann", unit.unit_id)
    other = Blinder(b"another-secret")
    assert [slot.slot_id for slot in other.slots("ann", unit, pairwise=False)] != [slot.slot_id for slot in ann]
