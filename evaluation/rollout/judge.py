"""Judges the rollout's unjudged pairs at a sample rate, in both orders, within a call and dollar budget.

Each pair is shown twice, candidate first and primary first. The judge's choice is read by the shared
parser (`parse_choice`); an answer it cannot read is stored as unjudged with the reason, never guessed.
Both orders agreeing give the verdict; disagreeing orders (position bias) count as a tie, marked inconsistent;
each order's own reading is kept, so the evidence reports how often the first position wins.
An empty candidate answer is scored a loss without asking the judge (an empty primary answer, a win; both
empty, a tie), with the problem noted: an empty pep talk fails the user, and the gates must see it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select

from evaluation.errors import JudgeError
from evaluation.judges import JudgeClient, parse_choice
from evaluation.settings import eval_default
from peptalk.observability.prices import Prices
from peptalk.rollout.base import Outcome, Rollout, Verdict
from peptalk.rollout.evidence import EMPTY_ANSWER
from peptalk.rollout.store import RolloutStore, now_utc, utc
from peptalk.shadow.recorder import count_tokens
from peptalk.shadow.store import shadow_calls, shadow_pairs
from router.policies import unit_hash

log = logging.getLogger("evaluation.rollout")
PROMPT_VERSION = "pairwise-v1"
TIE_CHOICE = 3
PROMPT = """You compare two pep talks written for the same person from the same request.
Judge which one is better: specific to the tasks listed, accurate about them, warm, encouraging and concise.
Ignore the order in which they are shown and their length as such.

Request:
<request>
{prompt}
</request>

Pep talk 1:
<response>
{first}
</response>

Pep talk 2:
<response>
{second}
</response>

Give one short sentence of reasoning, then end with exactly one line:
Choice: 1 (pep talk 1 is better), Choice: 2 (pep talk 2 is better) or Choice: 3 (they are equally good)."""

Order = Literal["candidate_first", "primary_first"]


def pairwise_prompt(prompt: str, first: str, second: str) -> str:
    return PROMPT.format(prompt=prompt, first=first, second=second)


def outcome_of(choice: int, order: Order) -> Outcome:
    """The candidate's outcome when the judge chose `choice` with the responses in `order`."""
    if choice == TIE_CHOICE:
        return "tie"
    candidate_position = 1 if order == "candidate_first" else 2
    return "win" if choice == candidate_position else "loss"


def combine(first: Outcome, second: Outcome) -> tuple[Outcome, bool]:
    """The pair's verdict from both orders, and whether they agreed (disagreeing orders: a tie)."""
    return (first, True) if first == second else ("tie", False)


@dataclass(frozen=True)
class PendingPair:
    """A pair both models answered, waiting for the judge."""

    pair_id: str
    created_at: dt.datetime
    prompt: str
    candidate_text: str
    primary_text: str


@dataclass
class JudgeBudget:
    """At most `max_calls_per_hour` judge calls and `max_usd_per_day` dollars, over rolling windows, fleet-wide."""

    max_calls_per_hour: int
    max_usd_per_day: float

    def allows(self, store: RolloutStore, *, now: dt.datetime, calls: int, cost_usd: float) -> str | None:
        """None when `calls` more calls costing `cost_usd` fit; else why not."""
        hour_calls, _ = store.judge_spend(since=now - dt.timedelta(hours=1))
        if hour_calls + calls > self.max_calls_per_hour:
            return f"call budget: {hour_calls} of {self.max_calls_per_hour} judge calls used in the last hour"
        _, day_usd = store.judge_spend(since=now - dt.timedelta(days=1))
        if day_usd + cost_usd > self.max_usd_per_day:
            return f"dollar budget: ${day_usd:.4f} of ${self.max_usd_per_day:.2f} spent in the last 24 h"
        return None


@dataclass
class JudgeRun:
    """What one pass did."""

    judged: int = 0
    unparsed: int = 0
    failed: int = 0
    skipped_by_budget: int = 0
    stopped_by: str | None = None


class PairwiseJudgeWorker:
    """Judges one rollout's pairs with `client` (the judge model, any `backend:model`)."""

    def __init__(self, store: RolloutStore, client: JudgeClient, *, prices: Prices, max_output_tokens: int = eval_default("eval_judge_max_tokens"),
                 clock: Callable[[], dt.datetime] = now_utc) -> None:
        self.store = store
        self.client = client
        self.prices = prices
        self.max_output_tokens = max_output_tokens
        self.clock = clock

    def pending(self, rollout: Rollout, *, limit: int) -> list[PendingPair]:
        """Unjudged pairs of the rollout's two models with both answers, sampled by a hash of the pair id."""
        plan = rollout.plan
        query = (select(shadow_pairs.c.pair_id, shadow_pairs.c.created_at, shadow_pairs.c.prompt, shadow_calls.c.model,
                        shadow_calls.c.response, shadow_calls.c.error)
                 .join(shadow_calls, shadow_pairs.c.pair_id == shadow_calls.c.pair_id)
                 .where(shadow_pairs.c.created_at >= rollout.created_at,
                        shadow_calls.c.model.in_((plan.candidate, plan.primary)))
                 .order_by(shadow_pairs.c.created_at))
        found: dict[str, dict[str, Any]] = {}
        with self.store.engine.connect() as connection:
            for row in connection.execute(query):
                found.setdefault(row.pair_id, {"row": row})[row.model] = row
        judged = self.store.judged_pair_ids(plan.candidate, found)
        pairs = []
        for pair_id, entry in found.items():
            mine, theirs = entry.get(plan.candidate), entry.get(plan.primary)
            if pair_id in judged or mine is None or theirs is None:
                continue
            if mine.error is not None or theirs.error is not None:
                continue  # a failure is evidence of errors (counted on every call), not of quality
            if unit_hash("judge-sample", pair_id) >= plan.judge.sample_rate:
                continue
            pairs.append(PendingPair(pair_id, utc(entry["row"].created_at), entry["row"].prompt, mine.response or "",
                                     theirs.response or ""))
            if len(pairs) >= limit:
                break
        return pairs

    def estimate_usd(self, pair: PendingPair) -> float:
        """The most two judge calls on `pair` can cost: counted prompt tokens, the output cap."""
        prompt_tokens = count_tokens(pairwise_prompt(pair.prompt, pair.candidate_text, pair.primary_text))
        return 2 * self.prices.cost_usd(self.client.model, prompt_tokens, self.max_output_tokens)

    def empty_verdict(self, rollout: Rollout, pair: PendingPair) -> Verdict | None:
        """The verdict on a pair with an empty answer, without the judge; None when both answered."""
        mine, theirs = bool(pair.candidate_text.strip()), bool(pair.primary_text.strip())
        if mine and theirs:
            return None
        outcome: Outcome = "tie" if not mine and not theirs else "loss" if not mine else "win"
        problem = EMPTY_ANSWER if not mine else "empty primary answer"
        return Verdict(pair_id=pair.pair_id, candidate=rollout.plan.candidate, primary=rollout.plan.primary,
                       pair_created_at=pair.created_at, judged_at=self.clock(), outcome=outcome, consistent=True,
                       problem=problem, raw_candidate_first=None, raw_primary_first=None, judge_model="(none)",
                       prompt_version=PROMPT_VERSION, calls=0, cost_usd=0.0)

    async def judge_pair(self, rollout: Rollout, pair: PendingPair) -> Verdict:
        """Asks the judge in both orders and combines the answers; `JudgeError` when the judge cannot be called."""
        plan = rollout.plan
        empty = self.empty_verdict(rollout, pair)
        if empty is not None:
            return empty
        prompts = {"candidate_first": pairwise_prompt(pair.prompt, pair.candidate_text, pair.primary_text),
                   "primary_first": pairwise_prompt(pair.prompt, pair.primary_text, pair.candidate_text)}
        answers = {}
        cost = 0.0
        for order, prompt in prompts.items():
            answer = await self.client.ask(prompt, lambda raw: parse_choice(raw, count=3))
            answers[order] = answer
            cost += self.prices.cost_usd(self.client.model, count_tokens(prompt), count_tokens(answer.raw))
        outcomes: dict[str, Outcome] = {}
        problems = []
        for order, answer in answers.items():
            if answer.result.position is None:
                problems.append(f"{order}: {answer.result.problem}")
            else:
                outcomes[order] = outcome_of(answer.result.position, order)  # type: ignore[arg-type]
        outcome: Outcome | None = None
        consistent: bool | None = None
        if not problems:
            outcome, consistent = combine(outcomes["candidate_first"], outcomes["primary_first"])
        return Verdict(pair_id=pair.pair_id, candidate=plan.candidate, primary=plan.primary,
                       pair_created_at=pair.created_at, judged_at=self.clock(), outcome=outcome,
                       consistent=consistent, problem="; ".join(problems) or None,
                       raw_candidate_first=answers["candidate_first"].raw,
                       raw_primary_first=answers["primary_first"].raw, judge_model=self.client.model,
                       prompt_version=PROMPT_VERSION,
                       calls=sum(answer.attempts for answer in answers.values() if not answer.cached), cost_usd=cost,
                       candidate_first_outcome=outcomes.get("candidate_first"),
                       primary_first_outcome=outcomes.get("primary_first"))

    async def run_once(self, *, limit: int = 50) -> JudgeRun:
        """Judges up to `limit` pending pairs of the current rollout, stopping at the budget."""
        run = JudgeRun()
        rollout = await asyncio.to_thread(self.store.current)
        if rollout is None:
            run.stopped_by = "no rollout in progress"
            return run
        budget = JudgeBudget(rollout.plan.judge.max_calls_per_hour, rollout.plan.judge.max_usd_per_day)
        for pair in await asyncio.to_thread(self.pending, rollout, limit=limit):
            empty = self.empty_verdict(rollout, pair)
            if empty is not None:  # no judge call: nothing to budget
                await asyncio.to_thread(self.store.add_verdicts, [empty])
                run.judged += 1
                continue
            refusal = await asyncio.to_thread(budget.allows, self.store, now=self.clock(), calls=2,
                                              cost_usd=self.estimate_usd(pair))
            if refusal is not None:
                run.skipped_by_budget += 1
                run.stopped_by = refusal
                break
            try:
                verdict = await self.judge_pair(rollout, pair)
            except JudgeError as exc:
                run.failed += 1
                log.warning("judge call failed; the pair stays pending", extra={"pair_id": pair.pair_id,
                                                                                 "detail": str(exc)})
                continue
            await asyncio.to_thread(self.store.add_verdicts, [verdict])
            if verdict.outcome is None:
                run.unparsed += 1
            else:
                run.judged += 1
        await asyncio.to_thread(self.refresh_human_agreement, rollout)
        return run

    def refresh_human_agreement(self, rollout: Rollout) -> None:
        """Stores, on each verdict, the human pairwise ratings of the same pair (the plan may gate on their kappa)."""
        from sqlalchemy import inspect

        if not inspect(self.store.engine).has_table("rating_submissions"):
            return
        from evaluation.rollout.agreement import human_agreement

        verdicts = self.store.verdicts(rollout.plan.candidate, since=rollout.created_at)
        labels = human_agreement(self.store, verdicts)
        stored = {verdict.pair_id: verdict.human_labels for verdict in verdicts}
        changed = {pair_id: found for pair_id, found in labels.items() if stored.get(pair_id) != found}
        if changed:
            self.store.set_human_labels(rollout.plan.candidate, changed)

    async def run_forever(self, *, interval_s: float, limit: int = 50) -> None:
        """Judges in passes, `interval_s` apart; a failing pass is logged and retried."""
        while True:
            try:
                run = await self.run_once(limit=limit)
                if run.judged or run.unparsed or run.stopped_by:
                    log.info("judge pass", extra={"judged": run.judged, "unparsed": run.unparsed,
                                                  "failed": run.failed, "stopped_by": run.stopped_by})
            except Exception:
                log.exception("judge pass failed")
            await asyncio.sleep(interval_s)
