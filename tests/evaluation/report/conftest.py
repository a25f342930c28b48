"""A small hand-made study: four models, two automated evaluators, two human raters, and timed calls."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from pathlib import Path

import pytest

# Each model's true quality on 0-1, mean output length, and per-token seconds.
MODELS = {
    "openai:gpt-4": (0.80, 120, 0.030),
    "ollama:starling-lm:7b": (0.76, 110, 0.020),
    "ollama:mistral:7b-instruct-q2_K": (0.64, 90, 0.015),
    "embedded:smollm2-135m": (0.35, 60, 0.012),
}
PROMPTS = [f"p{index:02d}" for index in range(8)]


@pytest.fixture(scope="session")
def study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scores.jsonl, humans.csv and calls.jsonl for `MODELS`, seeded so every run is the same."""
    rng = random.Random(7)
    folder = tmp_path_factory.mktemp("study")
    scores, calls = [], []
    for model, (quality, length, per_token) in MODELS.items():
        for prompt in PROMPTS:
            judged = min(10.0, max(0.0, round(10 * quality + rng.gauss(0, 0.8))))
            scores.append({"evaluator": "scorer", "prompt_id": prompt, "model": model, "score": judged,
                           "scale": "0-10", "parsed": True, "raw": f"Score: {judged}"})
            similarity = min(1.0, max(0.0, quality + rng.gauss(0, 0.05)))
            scores.append({"evaluator": "sem-bleu", "prompt_id": prompt, "model": model, "score": similarity,
                           "scale": "0-1", "parsed": True, "raw": None})
            for repeat in range(3):
                # Smollm's length varies wildly (rambling or cut short); the others' barely do.
                if model.startswith("embedded"):
                    tokens = rng.choice([6, 15, 40, 60, 150, 300])
                else:
                    tokens = int(length * (1 + rng.uniform(-0.1, 0.1)))
                ttft = 0.2 + rng.random() * 0.1
                started = dt.datetime(2026, 11, 2, tzinfo=dt.UTC) + dt.timedelta(hours=rng.randrange(24))
                calls.append({"model": model, "response": "...", "latency_s": ttft + per_token * (tokens - 1),
                              "ttft_s": ttft, "input_tokens": 300, "output_tokens": tokens,
                              "started_at": started.isoformat(), "prompt_id": prompt, "repeat": repeat,
                              "source": "generator"})
        scores.append({"evaluator": "scorer", "prompt_id": "p99", "model": model, "score": None, "scale": "0-10",
                       "parsed": False, "raw": "Score: 11"})
    calls.append({"model": "ollama:starling-lm:7b", "error": "ConnectError: refused", "source": "generator"})
    (folder / "scores.jsonl").write_text("".join(json.dumps(row) + "\n" for row in scores))
    (folder / "calls.jsonl").write_text("".join(json.dumps(row) + "\n" for row in calls))
    with (folder / "humans.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["prompt_id", "model", "rater", "score"])
        for model, (quality, _, _) in MODELS.items():
            for prompt in PROMPTS:
                for rater in ("ann", "bob"):
                    writer.writerow([prompt, model, rater, min(10, max(0, round(10 * quality + rng.gauss(0, 1))))])
    return folder
