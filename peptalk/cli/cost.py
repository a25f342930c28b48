"""`peptalk cost ...`: what a request, a month and a year cost on an API model or a self-hosted node."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer

cost_app = typer.Typer(help="The cost model: API prices, self-hosted nodes, budgets and break-even.",
                       no_args_is_help=True)

PRICES = typer.Option(None, "--prices", help="Price table YAML (default: the shipped December 2023 table).")
INPUT_TOKENS = typer.Option(1000, "--input-tokens", help="Input (prompt) tokens per request.")
OUTPUT_TOKENS = typer.Option(1000, "--output-tokens", help="Output (generated) tokens per request.")
RATE = typer.Option(1000.0, "--requests-per-day", help="Requests per day.")
AS_JSON = typer.Option(False, "--json", help="Print one JSON object instead of text.")
INSTANCE = typer.Option(..., "--instance-usd-per-hour", help="Price of the node per hour, in USD.")
THROUGHPUT = typer.Option(None, "--throughput", help="Generated tokens per second on the node.")
CALLS = typer.Option(None, "--calls", help="calls.jsonl to measure the throughput from (with --served-model).")
SERVED_MODEL = typer.Option(None, "--served-model", help="The backend:model in --calls whose throughput to use.")
UTILISATION = typer.Option(0.8, "--utilisation", help="Share of the time the node is busy, in (0, 1].")
PREFILL = typer.Option(None, "--prefill-throughput", help="Prompt tokens per second (default: count output only).")


@contextmanager
def _bad_input() -> Iterator[None]:
    """Turns the cost model's typed errors into a clear message and exit code 2."""
    from evaluation.errors import CostInputError, PriceTableError, RecordFileError, UnknownPriceError

    try:
        yield
    except (CostInputError, PriceTableError, UnknownPriceError, RecordFileError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _emit(as_json: bool, payload: dict[str, Any], lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps({key: float(value) if isinstance(value, Decimal) else value
                               for key, value in payload.items()}, indent=2))
    else:
        typer.echo("\n".join(lines))


def _node(instance: float, throughput: float | None, calls: Path | None, served_model: str | None,
          utilisation: float, prefill: float | None) -> Any:
    from evaluation.call_sources import load_calls
    from evaluation.cost import SelfHosted
    from evaluation.errors import CostInputError
    from evaluation.latency import throughput_tok_s

    if throughput is None:
        if calls is None or served_model is None:
            raise CostInputError("give --throughput, or --calls with --served-model to measure it")
        records = [record for record in load_calls(calls) if record.model == served_model]
        throughput = throughput_tok_s(records)
        if throughput is None:
            raise CostInputError(f"{calls} has no timed calls of {served_model!r} to measure a throughput from")
    return SelfHosted.of(instance_usd_per_hour=instance, throughput_tok_s=throughput, utilisation=utilisation,
                         prefill_tok_s=prefill)


def _run(body: Callable[[], None]) -> None:
    with _bad_input():
        body()


@cost_app.command("api")
def api(model: str = typer.Option("gpt-4", "--model", help="API model in the price table."),
        input_tokens: int = INPUT_TOKENS, output_tokens: int = OUTPUT_TOKENS, requests_per_day: float = RATE,
        prices: Path | None = PRICES, as_json: bool = AS_JSON) -> None:
    """Per-request, monthly (30 days) and yearly (12 months) cost on an API model."""
    from evaluation.cost import TokenMix, api_cost, count, load_price_table, money

    def body() -> None:
        table = load_price_table(prices)
        price = table.price(model)
        estimate = api_cost(price, TokenMix(input_tokens, output_tokens), requests_per_day)
        _emit(as_json, {"model": price.model, "as_of": table.as_of, "input_tokens": input_tokens,
                        "output_tokens": output_tokens, "per_request": estimate.per_request,
                        "requests_per_day": estimate.requests_per_day, "monthly": estimate.monthly,
                        "yearly": estimate.yearly},
              [f"{price.model} (prices as of {table.as_of}): {input_tokens} input + {output_tokens} output tokens",
               f"per request: {money(estimate.per_request)}",
               f"per month (30 days at {count(estimate.requests_per_day)} requests/day): {money(estimate.monthly)}",
               f"per year (12 months): {money(estimate.yearly)}"])

    _run(body)


@cost_app.command("selfhosted")
def selfhosted(instance_usd_per_hour: float = INSTANCE, throughput: float | None = THROUGHPUT,
               calls: Path | None = CALLS, served_model: str | None = SERVED_MODEL,
               utilisation: float = UTILISATION, prefill_throughput: float | None = PREFILL,
               input_tokens: int = INPUT_TOKENS, output_tokens: int = OUTPUT_TOKENS,
               requests_per_day: float = RATE,
               compare: str = typer.Option("gpt-4", "--compare", help="API model to compare against."),
               prices: Path | None = PRICES, as_json: bool = AS_JSON) -> None:
    """Cost per 1K generated tokens, per request, per month and per year on a node, and the saving."""
    from evaluation.cost import (
        TokenMix, count, dedicated_cost, load_price_table, money, reduction_factor, selfhosted_cost,
    )

    def body() -> None:
        node = _node(instance_usd_per_hour, throughput, calls, served_model, utilisation, prefill_throughput)
        mix = TokenMix(input_tokens, output_tokens)
        price = load_price_table(prices).price(compare)
        usage = selfhosted_cost(node, mix, requests_per_day)
        fleet = dedicated_cost(node, mix, requests_per_day)
        factor = reduction_factor(price, node, mix)
        _emit(as_json, {"throughput_tok_s": node.throughput_tok_s, "utilisation": node.utilisation,
                        "per_1k_tokens": node.per_1k_tokens, "per_request": usage.per_request,
                        "monthly": usage.monthly, "yearly": usage.yearly, "dedicated_monthly": fleet.monthly,
                        "dedicated_yearly": fleet.yearly, "compare": price.model, "reduction_factor": factor},
              [f"node at {money(node.instance_usd_per_hour, 3)}/h, {node.throughput_tok_s} tok/s, "
               f"{node.utilisation:.0%} utilised",
               f"per 1K generated tokens: {money(node.per_1k_tokens, 4)}",
               f"per request ({input_tokens} in + {output_tokens} out): {money(usage.per_request, 4)}",
               f"per month at {count(usage.requests_per_day)} requests/day: {money(usage.monthly)} of node time "
               f"({money(fleet.monthly)} for always-on nodes)",
               f"per year: {money(usage.yearly)} ({money(fleet.yearly)} for always-on nodes)",
               f"{factor:.1f}x cheaper per request than {price.model}"])

    _run(body)


@cost_app.command("budget")
def budget(yearly_budget: float = typer.Option(..., "--yearly-budget", help="Budget per year, in USD."),
           queries_per_user: float = typer.Option(5.0, "--queries-per-user",
                                                  help="Queries per user per day (5, the paper's example)."),
           model: str | None = typer.Option(None, "--model", help="API model (or give the node options)."),
           instance_usd_per_hour: float | None = typer.Option(None, "--instance-usd-per-hour"),
           throughput: float | None = THROUGHPUT, calls: Path | None = CALLS,
           served_model: str | None = SERVED_MODEL, utilisation: float = UTILISATION,
           prefill_throughput: float | None = PREFILL,
           input_tokens: int = INPUT_TOKENS, output_tokens: int = OUTPUT_TOKENS,
           prices: Path | None = PRICES, as_json: bool = AS_JSON) -> None:
    """How many daily active users a yearly budget supports at q queries per user per day."""
    from evaluation.cost import (
        TokenMix, api_cost, dau_for_budget, dau_for_budget_dedicated, load_price_table, money,
    )
    from evaluation.errors import CostInputError

    def body() -> None:
        mix = TokenMix(input_tokens, output_tokens)
        if instance_usd_per_hour is None:
            price = load_price_table(prices).price(model or "gpt-4")
            users = dau_for_budget(yearly_budget, api_cost(price, mix).per_request, queries_per_user)
            where = price.model
        elif model is not None:
            raise CostInputError("give either --model (API) or --instance-usd-per-hour (self-hosted), not both")
        else:
            node = _node(instance_usd_per_hour, throughput, calls, served_model, utilisation, prefill_throughput)
            users = dau_for_budget_dedicated(yearly_budget, node, mix, queries_per_user)
            where = f"always-on nodes at {money(node.instance_usd_per_hour, 3)}/h"
        _emit(as_json, {"where": where, "yearly_budget": yearly_budget, "queries_per_user": queries_per_user,
                        "daily_active_users": users},
              [f"{money(Decimal(str(yearly_budget)))} a year on {where} supports {users:,} daily active users "
               f"at {queries_per_user:g} queries/user/day"])

    _run(body)


@cost_app.command("breakeven")
def breakeven(model: str = typer.Option("gpt-4", "--model", help="API model to compare against."),
              instance_usd_per_hour: float = INSTANCE, throughput: float | None = THROUGHPUT,
              calls: Path | None = CALLS, served_model: str | None = SERVED_MODEL,
              utilisation: float = UTILISATION, prefill_throughput: float | None = PREFILL,
              input_tokens: int = INPUT_TOKENS, output_tokens: int = OUTPUT_TOKENS,
              prices: Path | None = PRICES, as_json: bool = AS_JSON) -> None:
    """The requests per day below which the API is cheaper than one always-on node."""
    from evaluation.cost import TokenMix, break_even, load_price_table, money

    def body() -> None:
        node = _node(instance_usd_per_hour, throughput, calls, served_model, utilisation, prefill_throughput)
        price = load_price_table(prices).price(model)
        result = break_even(price, node, TokenMix(input_tokens, output_tokens))
        if result.requests_per_day is None:
            verdict = f"{price.model} stays cheaper at every rate one node can serve"
        else:
            verdict = (f"below {result.requests_per_day:,.0f} requests/day {price.model} is cheaper; "
                       f"above it, the node is")
        _emit(as_json, {"model": price.model, **result.as_dict()},
              [verdict, f"one node serves up to {result.node_capacity_per_day:,.0f} requests/day and costs "
                        f"{money(result.node_monthly)} a month; {price.model} costs "
                        f"{money(result.api_per_request, 4)} a request"])

    _run(body)


@cost_app.command("slam")
def slam_command(
    throughput: list[float] = typer.Option([], "--throughput",
                                           help="Generated tokens/s of a model on the node (repeat per model)."),
    instance: str = typer.Option("g4dn.xlarge", "--instance", help="g4dn.xlarge (Fig. 16/17) or g4dn.2xlarge "
                                                                   "(Section V-B)."),
    yearly_budget: float | None = typer.Option(None, "--yearly-budget", help="Budget per year, in USD (Fig. 17)."),
    tokens_per_query: int = typer.Option(1000, "--tokens-per-query", help="Tokens a query costs on the API."),
    as_json: bool = AS_JSON,
) -> None:
    """The study's cost baseline (Fig. 16/17): a g4dn node at 80% against GPT-4 at $0.09 per 1K tokens."""
    from evaluation.cost import money
    from evaluation.cost_presets import READINGS, SLAM, per_1k_tokens, reduction, users_for_budget, with_node

    def body() -> None:
        preset = with_node(SLAM, instance)
        node = preset.node
        models: list[dict[str, Any]] = [{"throughput_tok_s": rate, "per_1k_tokens": per_1k_tokens(preset, rate),
                                          "reduction_factor": reduction(preset, rate)} for rate in throughput]
        payload: dict[str, Any] = {
            "preset": preset.name, "instance": node.instance, "gpu": node.gpu, "usd_per_hour": node.usd_per_hour,
            "price_as_of": node.as_of, "region": node.region, "price_source": node.source,
            "utilisation": preset.utilisation, "api_model": preset.api_model,
            "api_per_1k_tokens": preset.api_per_1k_tokens,
            "queries_per_user_per_day": preset.queries_per_user_per_day,
            "models": [{key: float(value) for key, value in row.items()} for row in models],
            "readings": [reading.__dict__ for reading in READINGS]}
        lines = [f"slam preset: {node.instance} ({node.gpu}) at {money(node.usd_per_hour, 3)}/h on demand "
                 f"({node.region}, as of {node.as_of}), {preset.utilisation:.0%} utilised; "
                 f"{preset.api_model} at {money(preset.api_per_1k_tokens)} per 1K tokens (Fig. 16)"]
        lines += [f"{row['throughput_tok_s']:g} tok/s: {money(row['per_1k_tokens'], 4)} per 1K tokens, "
                  f"{row['reduction_factor']:.1f}x cheaper than {preset.api_model}" for row in models]
        if yearly_budget is not None:
            api_users = users_for_budget(preset, yearly_budget, tokens_per_query=tokens_per_query)
            payload["yearly_budget"] = yearly_budget
            payload["users_api"] = api_users
            lines.append(f"{money(Decimal(str(yearly_budget)))} a year at {preset.queries_per_user_per_day} "
                         f"queries/user/day of {tokens_per_query} tokens: {api_users:,} users on {preset.api_model}")
            for row in payload["models"]:
                users = users_for_budget(preset, yearly_budget, tokens_per_query=tokens_per_query,
                                         throughput_tok_s=row["throughput_tok_s"])
                row["users"] = users
                lines.append(f"  {users:,} users on the node at {row['throughput_tok_s']:g} tok/s")
        lines += ["readings of the paper's inconsistencies:"]
        lines += [f"  {reading.topic}: {reading.paper_says} -> {reading.reading}" for reading in READINGS]
        _emit(as_json, payload, lines)

    _run(body)


@cost_app.command("prices")
def prices_command(prices: Path | None = PRICES) -> None:
    """The API price table in use, with its date."""
    from evaluation.cost import load_price_table

    def body() -> None:
        table = load_price_table(prices)
        typer.echo(f"prices as of {table.as_of} ({table.currency}) {table.source}".rstrip())
        for price in table.prices.values():
            typer.echo(f"{price.model}: ${price.input_per_1k}/1K input, ${price.output_per_1k}/1K output")

    _run(body)
