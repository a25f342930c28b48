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
        reference, candidate = self.judged(reference), self.judged(candidate)
        return self.preset.template(name).format(prompt=prompt, reference=reference, candidate=candidate,
                                                  reference_response=reference, target_response=candidate)

    @property
    def sample(self) -> str | None:
        """A cache-key tag that keeps the reason variant's answers apart when both variants send the same prompt."""
        shared = self.preset.template("comparer") == self.preset.template("comparer_reason")
        return self.kind if self.with_reason and shared else None

    async def compare(self, prompt: str, reference: str, candidate: str) -> JudgeVerdict:
        label = self.preset.score_label
        try:
            answer = await self.client.ask(self.prompt(prompt, reference, candidate),
                                           lambda raw: parse_score(raw, label=label), sample=self.sample)
        except JudgeError as exc:
            return JudgeVerdict(problem="error", error=str(exc), attempts=self.client.max_attempts)
        return JudgeVerdict(score=answer.result.value, parsed=answer.result.parsed, problem=answer.result.problem,
                            raw=answer.raw,
                            reason=parse_reason(answer.raw) if self.with_reason and answer.result.parsed else None,
                            attempts=answer.attempts, cached=answer.cached)
