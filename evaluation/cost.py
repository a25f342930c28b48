"""The cost model: API prices against a self-hosted node, per request, per month, per year, and break-even.

Money is `Decimal` throughout so the study's arithmetic comes out exact: a month is 30 days and a year is
12 months (360 days), as in the study ($0.09 a request -> $2,700 a month -> $32,400 a year at 1,000/day).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from evaluation.errors import CostInputError
# The price table is a leaf shared with serving; it is re-exported here for the cost model's callers.
from peptalk.price_table import ApiPrice, PriceTable, load_price_table

DAYS_PER_MONTH = 30
MONTHS_PER_YEAR = 12
DAYS_PER_YEAR = DAYS_PER_MONTH * MONTHS_PER_YEAR
SECONDS_PER_DAY = 86_400
THOUSAND = Decimal(1000)
DEFAULT_UTILISATION = 0.8  # the study's assumption: a node is busy 80% of the time


def _decimal(value: float | int | str | Decimal, name: str, *, positive: bool = False) -> Decimal:
    """`value` as an exact Decimal (floats via their shortest repr), refusing negatives (and zero if `positive`)."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except ArithmeticError as exc:
        raise CostInputError(f"{name} must be a number, got {value!r}") from exc
    if not number.is_finite():
        raise CostInputError(f"{name} must be finite, got {value!r}")
    if number < 0 or (positive and number == 0):
        raise CostInputError(f"{name} must be {'positive' if positive else 'zero or more'}, got {value}")
    return number


@dataclass(frozen=True)
class TokenMix:
    """The tokens of one request."""

    input_tokens: int
    output_tokens: int

    def __post_init__(self) -> None:
        for name in ("input_tokens", "output_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise CostInputError(f"{name} must be a whole number, zero or more, got {value!r}")


@dataclass(frozen=True)
class CostEstimate:
    """Per request, per month and per year at a request rate (months of 30 days, years of 12 months)."""

    per_request: Decimal
    requests_per_day: Decimal
    daily: Decimal
    monthly: Decimal
    yearly: Decimal

    @classmethod
    def at_rate(cls, per_request: Decimal, requests_per_day: float | int | Decimal) -> CostEstimate:
        rate = _decimal(requests_per_day, "requests per day")
        daily = per_request * rate
        monthly = daily * DAYS_PER_MONTH
        return cls(per_request, rate, daily, monthly, monthly * MONTHS_PER_YEAR)


def api_cost(price: ApiPrice, mix: TokenMix, requests_per_day: float | int = 0) -> CostEstimate:
    """What `mix` costs on an API model, per request and at `requests_per_day`."""
    per_request = (mix.input_tokens * price.input_per_1k + mix.output_tokens * price.output_per_1k) / THOUSAND
    return CostEstimate.at_rate(per_request, requests_per_day)


@dataclass(frozen=True)
class SelfHosted:
    """A dedicated node: its hourly price, measured decode throughput, and how busy it is kept."""

    instance_usd_per_hour: Decimal
    throughput_tok_s: Decimal  # generated tokens per second, from probes or the generator
    utilisation: Decimal = Decimal(str(DEFAULT_UTILISATION))
    prefill_tok_s: Decimal | None = None  # prompt tokens per second; None counts generated tokens only

    @classmethod
    def of(cls, *, instance_usd_per_hour: float | str | Decimal, throughput_tok_s: float | str | Decimal,
           utilisation: float | str | Decimal = DEFAULT_UTILISATION,
           prefill_tok_s: float | str | Decimal | None = None) -> SelfHosted:
        """Validated constructor from plain numbers."""
        busy = _decimal(utilisation, "utilisation", positive=True)
        if busy > 1:
            raise CostInputError(f"utilisation must be in (0, 1], got {utilisation}")
        return cls(_decimal(instance_usd_per_hour, "instance $/hour"),
                   _decimal(throughput_tok_s, "throughput (tokens/s)", positive=True), busy,
                   None if prefill_tok_s is None else _decimal(prefill_tok_s, "prefill throughput", positive=True))

    @property
    def per_1k_tokens(self) -> Decimal:
        """Cost of 1K generated tokens: the hourly price over the tokens a node really makes in an hour."""
        return self.instance_usd_per_hour * THOUSAND / (self.throughput_tok_s * 3600 * self.utilisation)

    def busy_seconds(self, mix: TokenMix) -> Decimal:
        """Node time one request takes."""
        seconds = mix.output_tokens / self.throughput_tok_s
        if self.prefill_tok_s is not None:
            seconds += mix.input_tokens / self.prefill_tok_s
        return seconds

    def per_request(self, mix: TokenMix) -> Decimal:
        return self.busy_seconds(mix) * self.instance_usd_per_hour / (3600 * self.utilisation)

    def daily_capacity(self, mix: TokenMix) -> Decimal:
        """Requests one node serves in a day at the set utilisation."""
        seconds = self.busy_seconds(mix)
        if seconds == 0:
            raise CostInputError("a request with no tokens takes no node time; capacity is unbounded")
        return SECONDS_PER_DAY * self.utilisation / seconds

    @property
    def node_daily(self) -> Decimal:
        return self.instance_usd_per_hour * 24


def selfhosted_cost(node: SelfHosted, mix: TokenMix, requests_per_day: float | int = 0) -> CostEstimate:
    """Usage-based cost of `mix` on `node` (what the node's time for these requests costs)."""
    return CostEstimate.at_rate(node.per_request(mix), requests_per_day)


def nodes_needed(node: SelfHosted, mix: TokenMix, requests_per_day: float | int | Decimal) -> int:
    """Whole nodes that serve `requests_per_day` at the set utilisation (at least one)."""
    rate = _decimal(requests_per_day, "requests per day")
    return max(1, math.ceil(rate / node.daily_capacity(mix)))


def dedicated_cost(node: SelfHosted, mix: TokenMix, requests_per_day: float | int | Decimal) -> CostEstimate:
    """Cost of the always-on nodes that serve `requests_per_day` (what you really pay for a dedicated fleet)."""
    rate = _decimal(requests_per_day, "requests per day")
    daily = nodes_needed(node, mix, rate) * node.node_daily
    per_request = daily / rate if rate else daily
    monthly = daily * DAYS_PER_MONTH
    return CostEstimate(per_request, rate, daily, monthly, monthly * MONTHS_PER_YEAR)


def reduction_factor(api: ApiPrice, node: SelfHosted, mix: TokenMix) -> Decimal:
    """How many times cheaper a request is on the node than on the API (usage-based)."""
    own = node.per_request(mix)
    if own == 0:
        raise CostInputError("the self-hosted request costs nothing; the reduction factor is unbounded")
    return api_cost(api, mix).per_request / own


def dau_for_budget(yearly_budget: float | int | Decimal, per_request: Decimal, queries_per_user_per_day: float) -> int:
    """Daily active users a yearly budget pays for at `queries_per_user_per_day` (the study's inverse)."""
    budget = _decimal(yearly_budget, "yearly budget")
    queries = _decimal(queries_per_user_per_day, "queries per user per day", positive=True)
    if per_request == 0:
        raise CostInputError("a request that costs nothing makes every budget unlimited")
    return int(budget / (per_request * queries * DAYS_PER_YEAR))


def dau_for_budget_dedicated(yearly_budget: float | int | Decimal, node: SelfHosted, mix: TokenMix,
                             queries_per_user_per_day: float) -> int:
    """Daily active users the nodes a yearly budget rents can serve."""
    budget = _decimal(yearly_budget, "yearly budget")
    queries = _decimal(queries_per_user_per_day, "queries per user per day", positive=True)
    nodes = int(budget / (node.node_daily * DAYS_PER_YEAR)) if node.node_daily else 0
    return int(nodes * node.daily_capacity(mix) / queries)


@dataclass(frozen=True)
class BreakEven:
    """Below `requests_per_day` the API is cheaper than one dedicated node (None: the API is always cheaper)."""

    requests_per_day: Decimal | None
    node_capacity_per_day: Decimal
    node_monthly: Decimal
    api_per_request: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {key: None if value is None else float(value) for key, value in self.__dict__.items()}


def break_even(api: ApiPrice, node: SelfHosted, mix: TokenMix) -> BreakEven:
    """The request rate at which one always-on node costs what the API does.

    The API cost grows linearly; the fleet's cost steps up one node per `capacity`. If a full node is still
    cheaper than the API for the same requests, the crossing is below one node's capacity; otherwise the API
    stays cheaper at any rate.
    """
    per_request = api_cost(api, mix).per_request
    capacity = node.daily_capacity(mix)
    if per_request == 0:
        crossing = None
    else:
        crossing = node.node_daily / per_request
        if crossing > capacity:
            crossing = None
    return BreakEven(crossing, capacity, node.node_daily * DAYS_PER_MONTH, per_request)


def money(value: Decimal | None, places: int = 2) -> str:
    """`$1,234.56`; sub-cent amounts keep 4 significant decimals."""
    if value is None:
        return "n/a"
    if value != 0 and abs(value) < Decimal("0.01"):
        return f"${value:.6f}".rstrip("0")
    return f"${value:,.{places}f}"


def count(value: Decimal | float | int) -> str:
    """`1,000` or `1,234.5`: a rate without trailing zeros."""
    return f"{Decimal(str(value)).normalize():,f}"
