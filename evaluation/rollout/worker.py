"""Runs the pairwise judge worker against the configured router (`peptalk rollout judge`)."""

from __future__ import annotations

from evaluation.judges import JudgeClient
from evaluation.rollout.judge import JudgeRun, PairwiseJudgeWorker
from evaluation.routing import open_router
from evaluation.settings import EvalSettings, get_eval_settings
from peptalk.observability.prices import load_prices
from peptalk.rollout.errors import RolloutStateError
from peptalk.rollout.store import RolloutStore


async def judge_passes(store: RolloutStore, *, once: bool, interval_s: float, limit: int,
                       settings: EvalSettings | None = None) -> JudgeRun | None:
    """One pass (returns what it did) or passes forever, with the current rollout's judge model."""
    settings = settings or get_eval_settings()
    rollout = store.current()
    if rollout is None:
        raise RolloutStateError("no rollout in progress: nothing to judge")
    model = rollout.plan.judge.model
    async with open_router(settings, models=[model]) as router:
        client = JudgeClient(router, model=model, cache=None, temperature=settings.eval_judge_temperature,
                             max_tokens=settings.eval_judge_max_tokens, max_attempts=settings.eval_judge_max_attempts)
        worker = PairwiseJudgeWorker(store, client, prices=load_prices(settings.price_table),
                                     max_output_tokens=settings.eval_judge_max_tokens)  # the judge's own cap
        if once:
            return await worker.run_once(limit=limit)
        await worker.run_forever(interval_s=interval_s, limit=limit)
    return None
