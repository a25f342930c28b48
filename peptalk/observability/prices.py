"""Per-token prices for the `peptalk_estimated_cost_usd_total` metric, read from the cost model's price table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from peptalk.errors import PriceTableError
from peptalk.price_table import PriceTable, load_price_table
from router.errors import ConfigError

# Only API backends are billed per token; self-hosted ones (embedded, ollama) cost their hardware, which the
# cost model (`peptalk cost`) accounts for, so their per-call estimate is 0.
API_BACKENDS = frozenset({"openai"})


@dataclass(frozen=True)
class TokenPrice:
    """US dollars per 1,000 tokens in and out."""

    input_per_1k: float
    output_per_1k: float


SELF_HOSTED = TokenPrice(0.0, 0.0)


@dataclass
class Prices:
    """Looks up a `backend:model`'s per-token price in the cost model's table (`peptalk/prices/api.yaml`)."""

    table: PriceTable | None = None
    _cache: dict[str, TokenPrice] = field(default_factory=dict)

    def price_of(self, model: str) -> TokenPrice:
        price = self._cache.get(model)
        if price is None:
            backend = model.partition(":")[0]
            if self.table is not None and backend in API_BACKENDS and self.table.has(model):
                listed = self.table.price(model)
                price = TokenPrice(float(listed.input_per_1k), float(listed.output_per_1k))
            else:
                price = SELF_HOSTED
            self._cache[model] = price
        return price

    def cost_usd(self, model: str, input_tokens: int, output_tokens: int) -> float:
        """What one call would cost at the model's per-token price."""
        price = self.price_of(model)
        return (input_tokens * price.input_per_1k + output_tokens * price.output_per_1k) / 1000


def load_prices(path: Path | None = None) -> Prices:
    """The prices in `path` (`PEPTALK_PRICE_TABLE`), or the shipped December 2023 table; `ConfigError` if bad."""
    try:
        return Prices(load_price_table(path))
    except PriceTableError as exc:
        raise ConfigError(f"PEPTALK_PRICE_TABLE: {exc}") from exc
