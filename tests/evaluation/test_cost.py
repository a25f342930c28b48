"""The cost model reproduces the study's arithmetic exactly, and refuses bad input."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from evaluation.cost import (
    SelfHosted, TokenMix, api_cost, break_even, dau_for_budget, dedicated_cost, load_price_table, nodes_needed,
    reduction_factor, selfhosted_cost,
)
from evaluation.errors import CostInputError, PriceTableError, UnknownPriceError

STUDY_MIX = TokenMix(1000, 1000)


def test_shipped_price_table_is_gpt4_december_2023() -> None:
    table = load_price_table()
    assert table.as_of == "2023-12"
    gpt4 = table.price("gpt-4")
    assert (gpt4.input_per_1k, gpt4.output_per_1k) == (Decimal("0.03"), Decimal("0.06"))
    assert table.price("openai:gpt-4") == gpt4  # a backend:model name finds its model


def test_study_figures_exactly() -> None:
    estimate = api_cost(load_price_table().price("gpt-4"), STUDY_MIX, 1000)
    assert estimate.per_request == Decimal("0.09")
    assert estimate.monthly == Decimal("2700")
    assert estimate.yearly == Decimal("32400")


def test_budget_inverts_the_yearly_cost() -> None:
    per_request = api_cost(load_price_table().price("gpt-4"), STUDY_MIX).per_request
    assert dau_for_budget(32400, per_request, 1) == 1000
    assert dau_for_budget(32400, per_request, 2) == 500
    assert dau_for_budget(32399, per_request, 1) == 999  # a dollar short buys one user fewer


def test_selfhosted_arithmetic_by_hand() -> None:
    # $3.60/h at 100 tok/s fully used: 360,000 tokens an hour, so 1K tokens cost exactly $0.01.
    node = SelfHosted.of(instance_usd_per_hour=3.6, throughput_tok_s=100, utilisation=1)
    assert node.per_1k_tokens == Decimal("0.01")
    assert node.per_request(TokenMix(500, 1000)) == Decimal("0.01")  # output tokens only by default
    assert selfhosted_cost(node, TokenMix(0, 1000), 1000).monthly == Decimal("300")
    # At 80% utilisation every token costs 1/0.8 as much.
    busy = SelfHosted.of(instance_usd_per_hour=3.6, throughput_tok_s=100)
    assert busy.per_1k_tokens == Decimal("0.0125")
    # gpt-4 at $0.09 a request against $0.01: nine times cheaper.
    assert reduction_factor(load_price_table().price("gpt-4"), node, STUDY_MIX) == Decimal(9)
    # Prompt tokens count when a prefill throughput is given: 1000 tokens at 1000 tok/s add one second.
    prefill = SelfHosted.of(instance_usd_per_hour=3.6, throughput_tok_s=100, utilisation=1, prefill_tok_s=1000)
    assert prefill.per_request(STUDY_MIX) == Decimal("0.011")


def test_dedicated_nodes_and_break_even() -> None:
    node = SelfHosted.of(instance_usd_per_hour=1, throughput_tok_s=100, utilisation=1)
    mix = TokenMix(0, 100)  # one second of node time per request: 86,400 requests a day per node
    assert node.daily_capacity(mix) == 86400
    assert nodes_needed(node, mix, 86400) == 1
    assert nodes_needed(node, mix, 86401) == 2
    assert dedicated_cost(node, mix, 100).monthly == Decimal(24 * 30)
    gpt4 = load_price_table().price("gpt-4")  # 100 output tokens: $0.006 a request
    result = break_even(gpt4, node, mix)
    assert result.requests_per_day == Decimal(24) / Decimal("0.006") == 4000
    # A node so slow that a full day of it costs more than the API for the same requests: never breaks even.
    slow = SelfHosted.of(instance_usd_per_hour=100, throughput_tok_s=1, utilisation=1)
    assert break_even(gpt4, slow, mix).requests_per_day is None


@pytest.mark.parametrize("build", [
    lambda: TokenMix(-1, 10),
    lambda: SelfHosted.of(instance_usd_per_hour=-1, throughput_tok_s=10),
    lambda: SelfHosted.of(instance_usd_per_hour=1, throughput_tok_s=0),
    lambda: SelfHosted.of(instance_usd_per_hour=1, throughput_tok_s=10, utilisation=1.2),
    lambda: api_cost(load_price_table().price("gpt-4"), STUDY_MIX, -3),
    lambda: dau_for_budget(100, Decimal("0.09"), 0),
])
def test_bad_numbers_are_refused(build) -> None:
    with pytest.raises(CostInputError):
        build()


def test_unknown_model_and_bad_table(tmp_path: Path) -> None:
    with pytest.raises(UnknownPriceError, match="gpt-4"):
        load_price_table().price("claude-9")
    bad = tmp_path / "prices.yaml"
    bad.write_text("models: {gpt-4: {input_per_1k: cheap}}\nas_of: '2024-01'\n")
    with pytest.raises(PriceTableError):
        load_price_table(bad)
    with pytest.raises(PriceTableError):
        load_price_table(tmp_path / "missing.yaml")
