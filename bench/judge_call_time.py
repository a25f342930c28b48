"""Seconds per judge call (slam preset) with the embedded SmolLM2 judge, for BENCHMARKS' full-run estimate.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/judge_call_time.py --calls 6 --max-tokens 64

Each call is a distinct slam scorer prompt (a rendered production prompt of data/contexts.jsonl and a ~270-token
pep talk), so neither the judge cache nor llama.cpp's prefix cache answers it. Prints the mean, min and max
seconds per call, the prompt's length in words, and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.judges import JudgeClient, ScoreJudge, get_preset  # noqa: E402
from evaluation.judges.parsing import parse_score  # noqa: E402
from peptalk.prompt import render_prompt  # noqa: E402
from peptalk.schema import PepTalkRequest  # noqa: E402
from peptalk.settings import Settings  # noqa: E402
from peptalk.synthetic import load_contexts  # noqa: E402
from router import build_router  # noqa: E402

ANSWER = ("Great job wrapping up {done} on your last login! Today you are focusing on {focus}, and these tasks "
          "line up well with your goal to {goal}. " * 6).strip()


async def main(calls: int, max_tokens: int) -> None:
    # Generous timeouts: on a shared, loaded machine one call can take minutes; the bench measures, not gates.
    settings = Settings(_env_file=None, max_tokens=max_tokens, temperature=1.0, log_level="WARNING",
                        request_timeout_s=1800, first_token_timeout_s=1800, request_deadline_s=3600)
    router = build_router(settings)
    await router.start()
    client = JudgeClient(router, model=settings.default_model, cache=None, temperature=1.0, max_tokens=max_tokens,
                         max_attempts=1)
    judge = ScoreJudge(client, preset=get_preset("slam"))
    times: list[float] = []
    words = 0
    parsed = 0
    try:
        for context in load_contexts()[:calls]:
            request = PepTalkRequest.model_validate(context)
            answer = ANSWER.format(done=", ".join(request.completed_tasks) or "your tasks",
                                   focus=", ".join(request.focused_tasks) or "your plan",
                                   goal=(request.goals or ["grow"])[0])
            prompt = judge.prompt(render_prompt(request, "slam"), answer)
            words = max(words, len(prompt.split()))
            started = time.perf_counter()
            raw, _ = await client.answer(prompt)
            times.append(time.perf_counter() - started)
            parsed += parse_score(raw).parsed
    finally:
        await router.aclose()
    print(f"{len(times)} slam scorer calls, max_tokens {max_tokens}, prompt up to {words} words: "
          f"mean {statistics.mean(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s; "
          f"{parsed} parsed; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=64)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.calls, arguments.max_tokens))
