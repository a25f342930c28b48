"""Assignment of units to raters: every unit gets its set number of raters, spread evenly, never twice to one rater.

A rater is assigned when signing in: they get the units that have the fewest raters so far, up to
`items_per_rater`, skipping units they already have and units that already have `raters_per_item` raters.
Ties break on a hash of (rater, unit), so two raters signing in one after the other get different units, and the
same sign-in order always gives the same assignment.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence


def tie_break(rater: str, unit_id: str) -> str:
    """A stable, rater-specific order among units with the same load."""
    return hashlib.sha256(f"{rater}\x00{unit_id}".encode()).hexdigest()


def choose_units(rater: str, unit_ids: Sequence[str], *, load: Mapping[str, int], already: Iterable[str],
                 raters_per_item: int, items_per_rater: int) -> list[str]:
    """The units to add for `rater`: least-rated first, none they already have, none already full."""
    have = set(already)
    wanted = items_per_rater - len(have & set(unit_ids))
    if wanted <= 0:
        return []
    open_units = [unit for unit in unit_ids if unit not in have and load.get(unit, 0) < raters_per_item]
    open_units.sort(key=lambda unit: (load.get(unit, 0), tie_break(rater, unit)))
    return open_units[:wanted]


def plan_assignments(raters: Sequence[str], unit_ids: Sequence[str], *, raters_per_item: int,
                     items_per_rater: int) -> dict[str, list[str]]:
    """The assignment when `raters` sign in in this order (what the app does, without a database)."""
    load: Counter[str] = Counter()
    plan: dict[str, list[str]] = {}
    for rater in raters:
        chosen = choose_units(rater, unit_ids, load=load, already=plan.get(rater, []),
                              raters_per_item=raters_per_item, items_per_rater=items_per_rater)
        plan.setdefault(rater, []).extend(chosen)
        load.update(chosen)
    return plan
