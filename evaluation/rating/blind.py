"""Blinding: per-(rater, unit) response order, opaque slot ids and task ids, all keyed by the app's secret.

The order is a shuffle seeded by HMAC(secret, rater, unit), so it is stable across page loads but tells a rater
nothing: over many raters each position holds each model equally often. Slot ids and task ids are HMACs too, so a
form or URL names a response or an item without any index that maps to a fixed model order.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass

from evaluation.rating.items import RatingUnit


@dataclass(frozen=True)
class Slot:
    """One response as one rater sees it: an opaque id, its label (1, 2, ... or A, B) and, server-side, its model."""

    slot_id: str
    label: str
    model: str
    text: str


class Blinder:
    """Keyed order, slot ids and task ids for one deployment's secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, *parts: str) -> str:
        message = "\x00".join(parts).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def task_id(self, rater: str, unit_id: str) -> str:
        """The opaque id of `unit_id` in `rater`'s URLs."""
        return self._mac("task", rater, unit_id)[:20]

    def order(self, rater: str, unit: RatingUnit) -> list[str]:
        """The unit's models in the order `rater` sees them."""
        models = sorted(unit.models)
        random.Random(int(self._mac("order", rater, unit.unit_id), 16)).shuffle(models)
        return models

    def slots(self, rater: str, unit: RatingUnit, *, pairwise: bool) -> list[Slot]:
        """The unit's responses for `rater`, in their blinded order."""
        labels = "AB" if pairwise else [str(index) for index in range(1, len(unit.models) + 1)]
        return [Slot(self._mac("slot", rater, unit.unit_id, model)[:16], label, model, unit.item.responses[model])
                for label, model in zip(labels, self.order(rater, unit), strict=True)]
