"""Assignment: every unit gets its raters, spread evenly, never twice to one rater, deterministically."""

from __future__ import annotations

from collections import Counter

import pytest

from evaluation.rating import choose_units, plan_assignments

UNITS = [f"u{index:02d}" for index in range(12)]


@pytest.mark.parametrize(("raters", "per_item", "per_rater"), [(6, 3, 6), (4, 2, 6), (10, 3, 4), (3, 1, 5)])
def test_enough_capacity_gives_every_unit_exactly_its_raters(raters: int, per_item: int, per_rater: int) -> None:
    names = [f"rater{index}" for index in range(raters)]
    plan = plan_assignments(names, UNITS, raters_per_item=per_item, items_per_rater=per_rater)
    load = Counter(unit for units in plan.values() for unit in units)
    assert raters * per_rater >= len(UNITS) * per_item
    assert load == Counter({unit: per_item for unit in UNITS})
    for units in plan.values():
        assert len(units) == len(set(units)) <= per_rater  # never the same unit twice, never over the cap


def test_too_little_capacity_spreads_units_evenly() -> None:
    plan = plan_assignments(["a", "b", "c"], UNITS, raters_per_item=3, items_per_rater=5)
    load = Counter(unit for units in plan.values() for unit in units)
    counts = [load.get(unit, 0) for unit in UNITS]
    assert sum(counts) == 15
    assert max(counts) - min(counts) <= 1
    assert all(len(units) == 5 for units in plan.values())


def test_assignment_is_deterministic_and_raters_get_different_units() -> None:
    first = plan_assignments(["a", "b"], UNITS, raters_per_item=1, items_per_rater=6)
    assert first == plan_assignments(["a", "b"], UNITS, raters_per_item=1, items_per_rater=6)
    assert not set(first["a"]) & set(first["b"])
    assert first["a"] != UNITS[:6]  # not simply the dataset order


def test_signing_in_again_tops_up_without_repeats() -> None:
    load = Counter({"u00": 1, "u01": 1})
    added = choose_units("a", UNITS, load=load, already=["u00", "u01"], raters_per_item=2, items_per_rater=5)
    assert len(added) == 3 and not {"u00", "u01"} & set(added)
    assert choose_units("a", UNITS, load=load, already=UNITS[:5], raters_per_item=2, items_per_rater=5) == []


def test_full_units_are_never_assigned() -> None:
    load = Counter({unit: 2 for unit in UNITS[:10]})
    assert sorted(choose_units("z", UNITS, load=load, already=[], raters_per_item=2, items_per_rater=5)) == UNITS[10:]
