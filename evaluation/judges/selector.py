"""The multi-choice selector: the judge picks the best of n responses, in several orders to expose position bias."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Iterator

from pydantic import BaseModel

from evaluation.errors import JudgeError
from evaluation.judges.base import Judge, JudgeVerdict
from evaluation.judges.parsing import parse_choice, parse_reason


class SelectorPick(BaseModel):
    """The judge's pick when the responses were shown in `order` (model names, position 1 first)."""

    order: list[str]
    position: int | None = None  # 1-based position picked
    model: str | None = None  # the model at that position
    verdict: JudgeVerdict


class SelectorResult(BaseModel):
    """Every order's pick for one prompt, and whether the orders agree."""

    evaluator: str
    prompt_id: str
    picks: list[SelectorPick]

    @property
    def parsed_models(self) -> list[str]:
        return [pick.model for pick in self.picks if pick.model is not None]

    @property
    def agreement(self) -> bool | None:
        """True when every order that parsed picked the same model; None with fewer than two parsed orders."""
        models = self.parsed_models
        return None if len(models) < 2 else len(set(models)) == 1

    @property
    def agreement_rate(self) -> float | None:
        """The share of parsed orders that picked the most-picked model."""
        models = self.parsed_models
        return None if not models else Counter(models).most_common(1)[0][1] / len(models)

    def win_share(self, model: str) -> float | None:
        """The share of parsed orders that picked `model` (None when no order parsed)."""
        models = self.parsed_models
        return None if not models else models.count(model) / len(models)


def orders_for(models: list[str], count: int, *, seed: str) -> list[list[str]]:
    """`count` distinct orders (at most n!): as given, reversed, then seeded shuffles."""
    limit = min(count, math.factorial(len(models)))
    orders: list[list[str]] = []
    candidates = itertools.chain([list(models), list(reversed(models))], _shuffles(models, seed))
    for order in candidates:
        if order not in orders:
            orders.append(order)
        if len(orders) == limit:
            break
    return orders


def _shuffles(models: list[str], seed: str) -> Iterator[list[str]]:
    rng = random.Random(seed)
    while True:
        order = list(models)
        rng.shuffle(order)
        yield order


class SelectJudge(Judge):
    """Best of n responses, asked once per order."""

    kind = "selector"

    def prompt(self, prompt: str, responses: list[str]) -> str:
        if self.preset.name == "slam":
            numbered = "\n\n".join(f"Response {index}:\n{text}" for index, text in enumerate(responses, start=1))
        else:
            numbered = "\n\n".join(f"Pep talk {index}:\n<response>\n{self.judged(text)}\n</response>"
                                   for index, text in enumerate(responses, start=1))
        return self.preset.template("selector").format(prompt=prompt, responses=numbered, count=len(responses),
                                                       num_responses=len(responses))

    async def _pick(self, prompt: str, order: list[str], responses: dict[str, str]) -> SelectorPick:
        try:
            answer = await self.client.ask(self.prompt(prompt, [responses[model] for model in order]),
                                           lambda raw: parse_choice(raw, count=len(order),
                                                                    label=self.preset.choice_label))
        except JudgeError as exc:
            return SelectorPick(order=order, verdict=JudgeVerdict(problem="error", error=str(exc),
                                                                  attempts=self.client.max_attempts))
        position = answer.result.position
        verdict = JudgeVerdict(score=None if position is None else float(position), parsed=answer.result.parsed,
                               problem=answer.result.problem, raw=answer.raw,
                               reason=parse_reason(answer.raw) if answer.result.parsed else None,
                               attempts=answer.attempts, cached=answer.cached)
        return SelectorPick(order=order, position=position, model=None if position is None else order[position - 1],
                            verdict=verdict)

    async def select(self, prompt_id: str, prompt: str, responses: dict[str, str], *, orders: int,
                     seed: int = 0) -> SelectorResult:
        """The pick in each of `orders` orders of `responses`."""
        picks = [await self._pick(prompt, order, responses)
                 for order in orders_for(list(responses), orders, seed=f"{seed}:{prompt_id}")]
        return SelectorResult(evaluator=self.evaluator, prompt_id=prompt_id, picks=picks)
