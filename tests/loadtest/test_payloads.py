"""Payload sampling and scenario parsing: repeat shares, unique fresh payloads, interleaved mixes."""

from __future__ import annotations

import pytest

from loadtest.payloads import PayloadSampler
from loadtest.scenarios import SCENARIOS, interleaved, parse_mix
from peptalk.schema import PepTalkRequest
from peptalk.synthetic import load_contexts


@pytest.mark.parametrize("share", [0.0, 0.5, 0.9])
def test_the_repeat_share_is_kept_and_fresh_payloads_are_unique(share: float) -> None:
    sampler = PayloadSampler(load_contexts(), repeat_share=share, seed=1)
    drawn = [sampler.next() for _ in range(2000)]
    repeats = sum(1 for _, repeated in drawn if repeated)
    assert abs(repeats / len(drawn) - share) < 0.04
    fresh_ids = [payload["user_id"] for payload, repeated in drawn if not repeated]
    assert len(fresh_ids) == len(set(fresh_ids))
    PepTalkRequest.model_validate(drawn[-1][0])  # still a valid request


def test_repeats_are_exact_copies_of_earlier_payloads() -> None:
    sampler = PayloadSampler(load_contexts(), repeat_share=0.9, seed=2, hot_set=5)
    seen: list[dict] = []
    for _ in range(200):
        payload, repeated = sampler.next()
        if repeated:
            assert payload in seen
        seen.append(payload)
    assert len({payload["user_id"] for payload in seen}) <= sampler.fresh_count


def test_mix_parsing_and_interleaving() -> None:
    assert parse_mix("invoke=4, stream=4,batch=1") == {"invoke": 4, "stream": 4, "batch": 1}
    assert interleaved({"invoke": 2, "stream": 2, "batch": 1}) == ["invoke", "stream", "batch", "invoke", "stream"]
    for bad in ("invoke", "poll=1", "invoke=-1", "invoke=0"):
        with pytest.raises(ValueError):
            parse_mix(bad)


def test_scenarios_configure_the_app_through_peptalk_settings() -> None:
    assert set(SCENARIOS) == {"cache-hit-heavy", "all-miss", "shadow-on"}
    assert SCENARIOS["all-miss"].repeat_share == 0.0
    assert "PEPTALK_SHADOW_CANDIDATES" in SCENARIOS["shadow-on"].env()
    assert all(name.startswith("PEPTALK_") for scenario in SCENARIOS.values() for name in scenario.env())
