"""Sustained RPS of peptalk's cache-hit path against a bare FastAPI echo app, same Locust load, same run.

    .venv/bin/python bench/throughput_ratio.py --users 8 --duration 30

Each target gets the same users, mix and payloads. With `--path cache` (the default) peptalk runs with the
semantic cache: the hot set is sent once to fill it, then every Locust request repeats one of its payloads.
`--path upstream` turns the cache off and serves GPT-4 through an instant OpenAI-protocol upstream
(`tests/doubles/openai_canned.py`), i.e. the whole service minus the model. Target: ratio >= 0.8.

peptalk runs first. The echo then answers with as many words as peptalk's answers had, so Locust (which
shares the machine and parses every stream event) reads as many bytes and events from both targets.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest.payloads import PayloadSampler  # noqa: E402
from loadtest.runner import RunConfig, exit_on_sigterm, run, started_app  # noqa: E402
from loadtest.scenarios import SCENARIOS  # noqa: E402
from peptalk.cache.layer import word_chunks  # noqa: E402
from peptalk.synthetic import load_contexts  # noqa: E402
from tests.helpers import free_port, python, running  # noqa: E402

HOT_SET = 10


def totals(stats: Path) -> tuple[int, int, float, dict[str, float]]:
    """Requests, failures and RPS over the HTTP rows, and each row's p95 in ms."""
    with stats.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["Type"] in ("POST", "GET")]
    return (sum(int(row["Request Count"]) for row in rows), sum(int(row["Failure Count"]) for row in rows),
            sum(float(row["Requests/s"]) for row in rows), {row["Name"]: float(row["95%"]) for row in rows})


def load(name: str, url: str, args: argparse.Namespace, out: Path) -> tuple[int, int, float, dict[str, float]]:
    config = RunConfig(scenario=SCENARIOS["cache-hit-heavy"], users=args.users, duration_s=args.duration,
                       out_dir=out / name, url=url, repeat_share=1.0, hot_set=HOT_SET, prefilled_hot_set=True,
                       warm_up=False, mix={"invoke": 4, "stream": 4, "batch": 1})
    result = run(config)
    return totals(result.stats_csv)


def warm_cache(url: str) -> list[str]:
    """Sends each hot payload once (filling the cache, if any); returns the answers."""
    sampler = PayloadSampler(load_contexts(), repeat_share=1.0, hot_set=HOT_SET, prefill=True)
    texts = []
    for payload in sampler.sent:
        response = httpx.post(f"{url}/peptalk/invoke", json={"input": payload}, timeout=600)
        response.raise_for_status()
        texts.append(response.json()["output"]["text"])
    return texts


def answer_words(texts: list[str]) -> int:
    """The mean number of streamed pieces (words) in the answers."""
    return max(1, round(sum(len(word_chunks(text)) for text in texts) / len(texts)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench-throughput")
    parser.add_argument("--path", choices=["cache", "upstream"], default="cache",
                        help="cache: hits of the semantic cache; upstream: the service over an instant upstream.")
    args = parser.parse_args()
    exit_on_sigterm()

    env = {**SCENARIOS["cache-hit-heavy"].env(), "PEPTALK_DATA_DIR": str(args.out / "app-data")}
    if args.path == "cache":
        path = "cache hit (semantic cache over the embedded model)"
        with started_app(env, log=args.out / "app.log") as url:
            words = answer_words(warm_cache(url))
            peptalk = load("peptalk", url, args, args.out)
    else:
        path = "GPT-4 through an instant OpenAI-protocol upstream, cache off (the service minus model and cache)"
        upstream_port = free_port()
        upstream_cmd = [python(), "-m", "tests.doubles.openai_canned", "--port", str(upstream_port)]
        with running(upstream_cmd, f"http://127.0.0.1:{upstream_port}/v1/models", log=args.out / "upstream.log"):
            env |= {"PEPTALK_CACHE_ENABLED": "false", "PEPTALK_BACKENDS": "openai", "PEPTALK_DEFAULT_MODEL": "openai:gpt-4",
                    "PEPTALK_OPENAI_MODELS": "gpt-4", "PEPTALK_OPENAI_API_KEY": "bench",
                    "PEPTALK_OPENAI_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1"}
            with started_app(env, log=args.out / "app.log") as url:
                words = answer_words(warm_cache(url))
                peptalk = load("peptalk", url, args, args.out)

    # The echo answers with as many words as the pep talks did, so Locust reads as much from both.
    echo_port = free_port()
    echo_cmd = [python(), "-m", "uvicorn", "bench.echo_app:app", "--port", str(echo_port), "--log-level", "warning",
                "--no-access-log"]
    with running(echo_cmd, f"http://127.0.0.1:{echo_port}/healthz", log=args.out / "echo.log",
                 env={"ECHO_ANSWER_WORDS": str(words)}):
        echo = load("echo", f"http://127.0.0.1:{echo_port}", args, args.out)

    print(f"peptalk path: {path}; answers of {words} words from both")
    for name, (requests, failures, rps, p95) in (("echo", echo), ("peptalk", peptalk)):
        p95_text = ", ".join(f"{row} {ms:.0f} ms" for row, ms in p95.items())
        print(f"{name:8s} {requests} requests, {failures} failures, {rps:.1f} req/s; p95: {p95_text}")
    print(f"throughput ratio peptalk/echo: {peptalk[2] / echo[2]:.3f} (target >= 0.8; "
          f"{args.users} users, {args.duration} s each, mix invoke=4,stream=4,batch=1)")


if __name__ == "__main__":
    main()
