"""Builders shared by the rollout tests: plans, stored pairs and verdicts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from evaluation.records import CallRecord, ShadowExportRow
from peptalk.rollout.base import CallTally, Outcome, Verdict
from peptalk.rollout.plan import RolloutPlan, parse_plan
from peptalk.rollout.store import RolloutStore
from peptalk.shadow import SqlShadowStore

CANDIDATE = "ollama:starling-lm:7b"
PRIMARY = "openai:gpt-4"


def plan_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "candidate": CANDIDATE, "primary": PRIMARY, "evaluation_interval_s": 0.5, "window_s": 60, "mirror_rate": 1.0,
        "judge": {"model": "openai:judge", "sample_rate": 1.0, "max_calls_per_hour": 1000, "max_usd_per_day": 5},
        "gates": {"delta": 0.05, "consistency_min": 0.5, "error_rate_max": 0.05, "timeout_rate_max": 0.05,
                  "empty_answer_rate_max": 0.05, "unjudgeable_rate_max": 0.5, "min_calls": 3},
        "stages": [{"name": "shadow", "share": 0.0, "min_judged_pairs": 4, "min_duration_s": 0},
                   {"name": "canary-5", "share": 0.05, "min_judged_pairs": 4, "min_duration_s": 0},
                   {"name": "25", "share": 0.25, "min_judged_pairs": 4, "min_duration_s": 0},
                   {"name": "50", "share": 0.5, "min_judged_pairs": 4, "min_duration_s": 0},
                   {"name": "all", "share": 1.0, "min_judged_pairs": 4, "min_duration_s": 0}],
    }
    data.update(overrides)
    return data


def make_plan(**overrides: Any) -> RolloutPlan:
    return parse_plan(plan_data(**overrides))


def call(model: str, *, error: str | None = None, latency_s: float = 1.0, at: dt.datetime | None = None,
         text: str = "Go get it.") -> CallRecord:
    return CallRecord(model=model, response=None if error else text, error=error, latency_s=latency_s,
                      ttft_s=latency_s / 4, input_tokens=100, output_tokens=20, started_at=at, source="shadow")


def store_pair(shadow: SqlShadowStore, *, at: dt.datetime, candidate_error: str | None = None,
               candidate_latency_s: float = 1.0, primary_latency_s: float = 1.0, candidate_served: bool = False) -> str:
    """Writes one pair of the candidate and the primary; returns its id."""
    mine = call(CANDIDATE, error=candidate_error, latency_s=candidate_latency_s, at=at, text=f"cand {uuid.uuid4()}")
    theirs = call(PRIMARY, latency_s=primary_latency_s, at=at, text=f"prim {uuid.uuid4()}")
    served, other = (mine, theirs) if candidate_served else (theirs, mine)
    pair_id = uuid.uuid4().hex
    shadow.write([ShadowExportRow(pair_id=pair_id, request_id=pair_id, created_at=at, user_id="u", request={},
                                  prompt="Tasks: run", primary=served, candidates=[other])])
    return pair_id


def store_verdict(store: RolloutStore, pair_id: str, *, at: dt.datetime, outcome: Outcome | None,
                  consistent: bool | None = True, first: Outcome | None = None, second: Outcome | None = None) -> None:
    """A verdict; `first`/`second`: the candidate-first and primary-first readings (default: the outcome)."""
    store.add_verdicts([Verdict(pair_id=pair_id, candidate=CANDIDATE, primary=PRIMARY, pair_created_at=at,
                                judged_at=at, outcome=outcome, consistent=consistent, problem=None,
                                candidate_first_outcome=first or outcome, primary_first_outcome=second or outcome,
                                raw_candidate_first="Choice: 3", raw_primary_first="Choice: 3",
                                judge_model="openai:judge", prompt_version="pairwise-v1", calls=2, cost_usd=0.01)])


def judged_pairs(shadow: SqlShadowStore, store: RolloutStore, count: int, *, at: dt.datetime,
                 outcome: Outcome = "tie", **pair: Any) -> None:
    for _ in range(count):
        store_verdict(store, store_pair(shadow, at=at, **pair), at=at, outcome=outcome)


def store_tally(store: RolloutStore, *, at: dt.datetime, calls: int, errors: int = 0, timeouts: int = 0,
                empty_answers: int = 0) -> None:
    """One flush of counted candidate calls."""
    store.add_tally(CallTally(CANDIDATE, at, calls, errors, timeouts, empty_answers))
