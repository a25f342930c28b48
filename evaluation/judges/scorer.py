"""The scorer: the judge reasons step by step about one response and gives it 0-10."""

from __future__ import annotations

from evaluation.errors import JudgeError
from evaluation.judges.base import Judge, JudgeVerdict
from evaluation.judges.parsing import parse_reason, parse_score


class ScoreJudge(Judge):
    """Absolute quality of one response to one prompt, on 0-10."""

    kind = "scorer"

    def prompt(self, prompt: str, response: str) -> str:
        return self.preset.template("scorer").format(prompt=prompt, response=self.judged(response))

    async def score(self, prompt: str, response: str) -> JudgeVerdict:
        try:
            answer = await self.client.ask(self.prompt(prompt, response), parse_score)
        except JudgeError as exc:
            return JudgeVerdict(problem="error", error=str(exc), attempts=self.client.max_attempts)
        return JudgeVerdict(score=answer.result.value, parsed=answer.result.parsed, problem=answer.result.problem,
                            raw=answer.raw, reason=parse_reason(answer.raw) if answer.result.parsed else None,
                            attempts=answer.attempts,
                            cached=answer.cached)
