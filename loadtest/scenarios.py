"""Named load-test scenarios: the traffic shape, and the settings the app is started with."""

from __future__ import annotations

from dataclasses import dataclass, field

# Every scenario keeps the protection middleware on (its cost is part of what is measured) with limits no
# load generator on one address reaches: per-key limits apply to the client address in dev mode.
COMMON_APP_ENV = {
    "PEPTALK_RATE_LIMIT_PER_KEY_PER_MINUTE": "10000000",
    "PEPTALK_RATE_LIMIT_PER_USER_PER_MINUTE": "10000000",
    "PEPTALK_LOG_LEVEL": "WARNING",
}


@dataclass(frozen=True)
class Scenario:
    """One kind of traffic: repeat share, endpoint mix, and the `PEPTALK_*` settings of the app under test."""

    name: str
    description: str
    repeat_share: float
    mix: dict[str, int] = field(default_factory=lambda: {"invoke": 4, "stream": 4, "batch": 1})
    app_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**COMMON_APP_ENV, **self.app_env}


SCENARIOS: dict[str, Scenario] = {
    "cache-hit-heavy": Scenario(
        name="cache-hit-heavy",
        description="90% exact repeats of 20 hot payloads: the semantic cache answers most calls.",
        repeat_share=0.9,
        app_env={"PEPTALK_CACHE_ENABLED": "true"},
    ),
    "all-miss": Scenario(
        name="all-miss",
        description="Every payload is new (a fresh user id): every call is a cache miss served by the model.",
        repeat_share=0.0,
        app_env={"PEPTALK_CACHE_ENABLED": "true"},
    ),
    "shadow-on": Scenario(
        name="shadow-on",
        description="Half repeats, with every request mirrored to a shadow candidate (the embedded model by default).",
        repeat_share=0.5,
        app_env={"PEPTALK_CACHE_ENABLED": "true", "PEPTALK_SHADOW_CANDIDATES": "embedded:smollm2-135m",
                 "PEPTALK_SHADOW_SAMPLE_RATE": "1.0"},
    ),
}


def parse_mix(text: str) -> dict[str, int]:
    """`invoke=4,stream=4,batch=1` -> weights; `ValueError` naming the bad part."""
    mix: dict[str, int] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, sep, weight = part.partition("=")
        if not sep or name.strip() not in ("invoke", "stream", "batch") or not weight.strip().isdigit():
            raise ValueError(f"{part!r} is not `invoke|stream|batch=<weight>`")
        mix[name.strip()] = int(weight)
    if not any(mix.values()):
        raise ValueError("the mix needs at least one endpoint with a positive weight")
    return mix


def format_mix(mix: dict[str, int]) -> str:
    return ",".join(f"{name}={weight}" for name, weight in mix.items())


def interleaved(mix: dict[str, int]) -> list[str]:
    """The mix as one cycle that spreads each endpoint out: 4/4/1 -> invoke, stream, batch, invoke, stream, ..."""
    left = dict(mix)
    order: list[str] = []
    while any(left.values()):
        for name in mix:
            if left[name]:
                order.append(name)
                left[name] -= 1
    return order
