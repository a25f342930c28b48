"""The `slam` cost preset reproduces Fig. 16/17's arithmetic: a g4dn node at 80% against GPT-4 at $0.09/1K."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from evaluation.cost import load_price_table
from evaluation.cost_presets import (
    G4DN_2XLARGE, G4DN_XLARGE, READINGS, SLAM, api_yearly_per_user, per_1k_tokens, reduction, users_for_budget,
    with_node,
)
from evaluation.errors import CostInputError
from peptalk.cli import app


def test_the_preset_is_the_papers_baseline() -> None:
    assert SLAM.node is G4DN_XLARGE and G4DN_XLARGE.gpu.startswith("1x NVIDIA T4")
    assert SLAM.utilisation == Decimal("0.8")
    assert SLAM.api_per_1k_tokens == Decimal("0.09")
    gpt4 = load_price_table().price("gpt-4")
    assert SLAM.api_per_1k_tokens == gpt4.input_per_1k + gpt4.output_per_1k  # Fig. 16's $0.09 = $0.03 + $0.06
    assert SLAM.queries_per_user_per_day == 5
    assert G4DN_XLARGE.as_of and G4DN_XLARGE.usd_per_hour == Decimal("0.526")
    assert with_node(SLAM, "g4dn.2xlarge").node is G4DN_2XLARGE


def test_fig16_arithmetic_exactly() -> None:
    # 0.526 $/h over 10 tok/s x 3600 s x 0.8 = 28,800 tokens an hour: $0.0182638... per 1K tokens.
    assert per_1k_tokens(SLAM, 10) == Decimal("0.526") * 1000 / Decimal(28800)
    assert reduction(SLAM, 10) == Decimal("0.09") / (Decimal("0.526") * 1000 / Decimal(28800))
    assert round(reduction(SLAM, 10), 2) == Decimal("4.93")
    # Twice the throughput, twice the saving; the bigger node costs more per token.
    assert reduction(SLAM, 20) == pytest.approx(2 * reduction(SLAM, 10))
    assert per_1k_tokens(with_node(SLAM, "g4dn.2xlarge"), 10) > per_1k_tokens(SLAM, 10)


def test_fig17_budget_arithmetic() -> None:
    # One user: 5 queries x 1K tokens x $0.09/1K x 360 days = $162 a year on GPT-4.
    assert api_yearly_per_user(SLAM, 1000) == Decimal("162")
    assert users_for_budget(SLAM, 32_400, tokens_per_query=1000) == 200
    # On the node, each user costs the API price divided by the reduction factor; rounded down, never rounded up.
    node_users = users_for_budget(SLAM, 32_400, tokens_per_query=1000, throughput_tok_s=10)
    assert node_users == int(Decimal(32_400) / (Decimal(162) / reduction(SLAM, 10)))
    with pytest.raises(CostInputError):
        users_for_budget(SLAM, 100, tokens_per_query=0)
    with pytest.raises(CostInputError):
        with_node(SLAM, "g5.xlarge")


def test_every_inconsistency_has_a_stated_reading() -> None:
    topics = {reading.topic for reading in READINGS}
    assert {"number of variants", "cost reduction range", "users for the budget"} <= topics
    text = " ".join(reading.paper_says + reading.reading for reading in READINGS)
    for claim in ("29", "28", "5x-29x", "5x-23x", "71,000", "73-74k"):
        assert claim in text


def test_cost_slam_command_prints_the_baseline_and_the_readings() -> None:
    result = CliRunner().invoke(app, ["cost", "slam", "--throughput", "10", "--throughput", "20",
                                      "--yearly-budget", "32400", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["instance"] == "g4dn.xlarge" and payload["utilisation"] == 0.8
    assert payload["api_per_1k_tokens"] == 0.09 and payload["price_as_of"] == "2023-12"
    assert payload["users_api"] == 200
    assert [round(row["reduction_factor"], 2) for row in payload["models"]] == [4.93, 9.86]
    assert len(payload["readings"]) == len(READINGS)
    text = CliRunner().invoke(app, ["cost", "slam", "--throughput", "10"]).output
    assert "g4dn.xlarge" in text and "80%" in text and "$0.09 per 1K tokens" in text


def test_cost_slam_refuses_bad_input_with_exit_2() -> None:
    assert CliRunner().invoke(app, ["cost", "slam", "--throughput", "0"]).exit_code == 2
    assert CliRunner().invoke(app, ["cost", "slam", "--instance", "p4d.24xlarge"]).exit_code == 2


def test_budget_defaults_to_five_queries_per_user() -> None:
    result = CliRunner().invoke(app, ["cost", "budget", "--yearly-budget", "32400", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["queries_per_user"] == 5.0
