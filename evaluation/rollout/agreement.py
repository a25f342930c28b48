"""Judge reliability: the human pairwise ratings (the rating UI) of the pairs the judge judged; the evidence turns
them into Cohen's kappa between judge and humans."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from evaluation.rating.store import submissions_table
from peptalk.rollout.base import Outcome, Verdict
from peptalk.rollout.store import RolloutStore
from peptalk.shadow.store import shadow_pairs

TIE = "tie"


def human_outcome(preference: str | None, *, candidate: str, primary: str) -> Outcome | None:
    """A rater's pairwise preference as the candidate's outcome; None when it is about other models."""
    if preference == TIE:
        return "tie"
    if preference == candidate:
        return "win"
    if preference == primary:
        return "loss"
    return None


def human_agreement(store: RolloutStore, verdicts: Sequence[Verdict]) -> dict[str, tuple[Outcome, ...]]:
    """Per judged pair id: the human raters' outcomes for the candidate against the primary, sorted.

    The rating UI names an item by the pair id (dataset items) or by the request id (shadow export rows);
    a pairwise unit is `<prompt_id>|<model>|<model>`, and only units of exactly these two models count.
    """
    judged = {verdict.pair_id: verdict for verdict in verdicts if verdict.outcome is not None}
    if not judged:
        return {}
    with store.engine.connect() as connection:
        request_ids = dict(connection.execute(select(shadow_pairs.c.request_id, shadow_pairs.c.pair_id)
                                              .where(shadow_pairs.c.pair_id.in_(list(judged)))).all())
        names = list(judged) + list(request_ids)
        rows = connection.execute(select(submissions_table.c.prompt_id, submissions_table.c.unit_id,
                                         submissions_table.c.preference)
                                  .where(submissions_table.c.mode == "pairwise",
                                         submissions_table.c.prompt_id.in_(names))).all()
    found: dict[str, list[Outcome]] = {}
    for prompt_id, unit_id, preference in rows:
        pair_id = prompt_id if prompt_id in judged else request_ids.get(prompt_id)
        if pair_id is None:
            continue
        verdict = judged[pair_id]
        if set(unit_id.split("|")[1:]) != {verdict.candidate, verdict.primary}:
            continue
        outcome = human_outcome(preference, candidate=verdict.candidate, primary=verdict.primary)
        if outcome is None:
            continue
        found.setdefault(pair_id, []).append(outcome)
    return {pair_id: tuple(sorted(outcomes)) for pair_id, outcomes in found.items()}
