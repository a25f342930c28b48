"""The prompt templates (`slam`, the paper's; `slam-recorded`, the study's records'; `hardened`) on the embedded model.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/prompt_templates.py --contexts 3 --max-tokens 1024

For every shipped context: prompt tokens of each template (the model's own tokenizer); then (none with
`--contexts 0`), for the first `--contexts` contexts, one greedy answer per template through the chain at the service's token limit: answer
tokens, finish reason (a `length` answer was cut), and seconds. Templates alternate so load hits both alike.
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

from peptalk.chain import build_chain  # noqa: E402
from peptalk.prompt import TEMPLATE_IDS, render_prompt  # noqa: E402
from peptalk.schema import PepTalkRequest  # noqa: E402
from peptalk.settings import Settings  # noqa: E402
from peptalk.synthetic import load_contexts  # noqa: E402
from router import build_router  # noqa: E402


async def main(count: int, max_tokens: int) -> None:
    settings = Settings(_env_file=None, max_tokens=max_tokens, temperature=0.0, log_level="WARNING",
                        request_timeout_s=1800, first_token_timeout_s=1800, request_deadline_s=3600)
    router = build_router(settings)
    await router.start()
    llama = router.backends["embedded"].runtime._llama  # the loaded model's tokenizer
    contexts = load_contexts()
    for template in TEMPLATE_IDS:
        tokens = [len(llama.tokenize(render_prompt(PepTalkRequest.model_validate(c), template).encode()))
                  for c in contexts]
        print(f"{template}: prompt tokens over {len(tokens)} contexts: mean {statistics.mean(tokens):.0f}, "
              f"min {min(tokens)}, max {max(tokens)}")
    chains = {template: build_chain(router, template=template) for template in TEMPLATE_IDS}
    results: dict[str, list[tuple[int, str, float]]] = {template: [] for template in TEMPLATE_IDS}
    try:
        for context in contexts[:count]:
            for template, chain in chains.items():
                started = time.perf_counter()
                output = await chain.ainvoke(context)
                seconds = time.perf_counter() - started
                usage = output.get("metadata", {}).get("usage", {})
                results[template].append((int(usage.get("output_tokens", 0)),
                                          str(output["metadata"].get("finish_reason")), seconds))
    finally:
        await router.aclose()
    for name, rows in results.items():
        if not rows:
            continue
        print(f"{name}: {len(rows)} answers, output tokens {[row[0] for row in rows]}, "
              f"finish {[row[1] for row in rows]}, mean {statistics.mean(row[2] for row in rows):.1f} s")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contexts", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=1024)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.contexts, arguments.max_tokens))
