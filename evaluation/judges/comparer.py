"""The comparer: how close a target response is to the reference (GPT-4's) in meaning and objective, 0-10."""

from __future__ import annotations

from evaluation.errors import JudgeError
from evaluation.judges.base import Judge, JudgeVerdict
from evaluation.judges.client import JudgeClient
from evaluation.judges.presets import HARDENED, JudgePreset
from evaluation.judges.parsing import parse_reason, parse_score


class CompareJudge(Judge):
    """Closeness to the reference; `with_reason` asks for a written reason too, which is stored."""

    def __init__(self, client: JudgeClient, *, with_reason: bool = False, preset: JudgePreset = HARDENED) -> None:
        super().__init__(client, preset=preset)
        self.with_reason = with_reason
        self.kind = "comparer-reason" if with_reason else "comparer"

    def prompt(self, prompt: str, reference: str, candidate: str) -> str:
        name = "comparer_reason" if self.with_reason else "comparer"
        # str.format ignores unused fields: the slam comparer's template has no {prompt}, so it never sees one.
        return self.preset.template(name).format(prompt=prompt, reference=self.judged(reference),
                                                  candidate=self.judged(candidate))

    async def compare(self, prompt: str, reference: str, candidate: str) -> JudgeVerdict:
        try:
            answer = await self.client.ask(self.prompt(prompt, reference, candidate), parse_score)
        except JudgeError as exc:
            return JudgeVerdict(problem="error", error=str(exc), attempts=self.client.max_attempts)
        return JudgeVerdict(score=answer.result.value, parsed=answer.result.parsed, problem=answer.result.problem,
                            raw=answer.raw,
                            reason=parse_reason(answer.raw) if self.with_reason and answer.result.parsed else None,
                            attempts=answer.attempts, cached=answer.cached)
