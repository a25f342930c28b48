"""Realistic pep-talk users for Locust: a mix of invoke, batch and stream over the synthetic contexts.

    python -m locust -f loadtest/locustfile.py --headless -u 4 -r 4 -t 30s --host http://127.0.0.1:8000 \
        --repeat-share 0.9 --mix invoke=4,stream=4,batch=1

A stream is timed to its last byte (the `stream` row; Locust alone stops at the headers) and to its first
token (the `stream: first token` row, request type `SSE`). `peptalk loadtest run` passes every option.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, constant, events, task

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `loadtest` and `peptalk` without installing

from loadtest.payloads import PayloadSampler  # noqa: E402
from loadtest.scenarios import interleaved, parse_mix  # noqa: E402

FIRST_TOKEN = "stream: first token"
SSE = "SSE"

sampler: PayloadSampler | None = None
facts: Counter[str] = Counter()  # served models, cache hits and misses seen in answers


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--repeat-share", type=float, default=0.5, env_var="PEPTALK_LT_REPEAT_SHARE",
                        help="Share of requests that repeat an earlier payload exactly (cache hits).")
    parser.add_argument("--mix", default="invoke=4,stream=4,batch=1", env_var="PEPTALK_LT_MIX",
                        help="Weights of the endpoints, e.g. invoke=4,stream=4,batch=1.")
    parser.add_argument("--hot-set", type=int, default=20, env_var="PEPTALK_LT_HOT_SET",
                        help="How many distinct payloads repeats are drawn from.")
    parser.add_argument("--prefilled-hot-set", action="store_true", env_var="PEPTALK_LT_PREFILLED_HOT_SET",
                        help="Draw repeats from the whole hot set from the start (it was sent before the run).")
    parser.add_argument("--batch-size", type=int, default=2, env_var="PEPTALK_LT_BATCH_SIZE")
    parser.add_argument("--contexts", default="", env_var="PEPTALK_LT_CONTEXTS",
                        help="JSONL of PepTalkRequest payloads (default: data/contexts.jsonl).")
    parser.add_argument("--seed", type=int, default=8, env_var="PEPTALK_LT_SEED")
    parser.add_argument("--api-key", default="", env_var="PEPTALK_LT_API_KEY", help="Sent as X-API-Key.")
    parser.add_argument("--think-time", type=float, default=0.0, env_var="PEPTALK_LT_THINK_TIME",
                        help="Seconds each user waits between requests (0: closed loop).")
    parser.add_argument("--summary", default="", env_var="PEPTALK_LT_SUMMARY",
                        help="Write served models and cache hits seen to this JSON file at the end.")


@events.init.add_listener
def _configure(environment: Any, **_: Any) -> None:
    global sampler
    from peptalk.synthetic import DEFAULT_PATH, load_contexts

    options = environment.parsed_options
    if options is None:  # Locust as a library, without the command line
        return
    contexts = load_contexts(Path(options.contexts) if options.contexts else DEFAULT_PATH)
    sampler = PayloadSampler(contexts, repeat_share=options.repeat_share, seed=options.seed, hot_set=options.hot_set,
                             prefill=options.prefilled_hot_set)
    mix = parse_mix(options.mix)
    PepTalkUser.calls = interleaved(mix)
    PepTalkUser.wait_time = constant(options.think_time)
    # gevent's loop caches "now" and has not run since start-up: without this, `-t` is counted from before the
    # imports above (seconds on a busy machine), and a short run ends the moment its users start.
    gevent.get_hub().loop.update_now()


@events.quitting.add_listener
def _write_summary(environment: Any, **_: Any) -> None:
    options = environment.parsed_options
    if options is not None and options.summary and sampler is not None:
        summary = {"fresh_payloads": sampler.fresh_count, "repeated_payloads": sampler.repeat_count, **facts}
        Path(options.summary).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def _note(output: dict[str, Any]) -> None:
    if output.get("model"):
        facts[f"model:{output['model']}"] += 1
    hit = (output.get("metadata") or {}).get("cache_hit")
    if hit is not None:
        facts["cache_hits" if hit else "cache_misses"] += 1


def _next_payload() -> dict[str, Any]:
    assert sampler is not None, "the locustfile was not initialised from the command line"
    return sampler.next()[0]


def invoke(user: PepTalkUser) -> None:
    with user.client.post("/peptalk/invoke", json={"input": _next_payload()}, catch_response=True,
                          name="invoke") as response:
        if response.status_code != 200:
            response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
            return
        output = response.json().get("output") or {}
        if not output.get("text"):
            response.failure("the answer has no text")
            return
        _note(output)
        response.success()


def batch(user: PepTalkUser) -> None:
    inputs = [_next_payload() for _ in range(user.environment.parsed_options.batch_size)]
    with user.client.post("/peptalk/batch", json={"inputs": inputs}, catch_response=True, name="batch") as response:
        if response.status_code != 200:
            response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
            return
        outputs = response.json().get("output") or []
        if len(outputs) != len(inputs) or not all(output.get("text") for output in outputs):
            response.failure("the batch answered fewer texts than inputs")
            return
        for output in outputs:
            _note(output)
        response.success()


def stream(user: PepTalkUser) -> None:
    started = time.perf_counter()
    first_token: float | None = None
    error: str | None = None
    received = 0
    with user.client.post("/peptalk/stream", json={"input": _next_payload()}, stream=True, catch_response=True,
                          name="stream") as response:
        if response.status_code != 200:
            response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
            return
        try:
            event = "message"
            for line in response.iter_lines(decode_unicode=True):
                received += len(line) + 1
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "error":
                    error = line[5:].strip()[:200]
                elif line.startswith("data:") and event == "data":
                    chunk = json.loads(line[5:])
                    if isinstance(chunk, dict):
                        if chunk.get("model") or chunk.get("metadata"):
                            _note(chunk)
                        if first_token is None and chunk.get("text"):
                            first_token = time.perf_counter()
        except Exception as exc:  # a cut connection or a broken event: the stream failed
            error = f"{type(exc).__name__}: {exc}"
        finished = time.perf_counter()
        response.request_meta["response_time"] = (finished - started) * 1000  # to the last byte
        response.request_meta["response_length"] = received
        if error is not None:
            response.failure(f"stream error: {error}")
        elif first_token is None:
            response.failure("the stream sent no text")
        else:
            response.success()
            events.request.fire(request_type=SSE, name=FIRST_TOKEN, response_time=(first_token - started) * 1000,
                                response_length=0, exception=None, context={})


TASKS = {"invoke": invoke, "batch": batch, "stream": stream}


class PepTalkUser(HttpUser):
    """One app user asking for pep talks back to back (or after `--think-time`).

    Each user cycles through the weighted mix, starting at its own offset, so the shares are exact and even a
    short run with a few users covers every endpoint.
    """

    wait_time = constant(0)
    calls: list[str] = ["invoke", "stream", "batch"]
    started_users = 0

    def on_start(self) -> None:
        api_key = self.environment.parsed_options.api_key if self.environment.parsed_options else ""
        if api_key:
            self.client.headers["X-API-Key"] = api_key
        offset = PepTalkUser.started_users
        PepTalkUser.started_users += 1
        self._calls = itertools.islice(itertools.cycle(self.calls), offset % len(self.calls), None)

    @task
    def next_call(self) -> None:
        TASKS[next(self._calls)](self)
