"""The API price table (per 1K input and output tokens, with its date): a leaf that serving and evaluation share.

Serving prices `peptalk_estimated_cost_usd_total` from it; the cost model (`evaluation.cost`) computes with it.
Amounts are exact `Decimal`s, read from strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

import yaml

from peptalk.errors import PriceTableError, UnknownPriceError

SHIPPED = "prices/api.yaml"  # inside the peptalk package: OpenAI's prices of December 2023


@dataclass(frozen=True)
class ApiPrice:
    """What an API model costs per 1K input and per 1K output tokens."""

    model: str
    input_per_1k: Decimal
    output_per_1k: Decimal


@dataclass(frozen=True)
class PriceTable:
    """API prices with the date they were read off the vendor's page."""

    as_of: str
    currency: str
    prices: dict[str, ApiPrice]
    source: str = ""

    def price(self, model: str) -> ApiPrice:
        """The price of `model`; a `backend:model` name is looked up by its model part too (`openai:gpt-4`)."""
        for candidate in (model, model.partition(":")[2]):
            if candidate in self.prices:
                return self.prices[candidate]
        raise UnknownPriceError(model, sorted(self.prices))

    def has(self, model: str) -> bool:
        return model in self.prices or model.partition(":")[2] in self.prices


def _amount(value: object, name: str) -> Decimal:
    """`value` as an exact, finite Decimal of zero or more (floats via their shortest repr)."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (ArithmeticError, InvalidOperation) as exc:
        raise PriceTableError(f"{name} must be a number, got {value!r}") from exc
    if not number.is_finite() or number < 0:
        raise PriceTableError(f"{name} must be a finite amount, zero or more, got {value!r}")
    return number


def load_price_table(path: Path | None = None) -> PriceTable:
    """The price table in `path`, or the shipped one (`peptalk/prices/api.yaml`, December 2023)."""
    try:
        if path is None:
            text = resources.files("peptalk").joinpath(SHIPPED).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise PriceTableError(f"cannot read price table {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict) or "as_of" not in data:
        raise PriceTableError(f"price table {path or 'api.yaml'} needs `as_of` and a `models` mapping")
    prices = {}
    for model, entry in data["models"].items():
        try:
            prices[str(model)] = ApiPrice(str(model), _amount(entry["input_per_1k"], f"{model}.input_per_1k"),
                                          _amount(entry["output_per_1k"], f"{model}.output_per_1k"))
        except (KeyError, TypeError, PriceTableError) as exc:
            raise PriceTableError(f"price table entry {model!r} is malformed: {exc}") from exc
    return PriceTable(str(data["as_of"]), str(data.get("currency", "USD")), prices, str(data.get("source", "")))
