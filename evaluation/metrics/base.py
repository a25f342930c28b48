"""The similarity-metric interface: each response scored against the reference response."""

from __future__ import annotations

import abc
from typing import Literal

Scale = Literal["0-1", "0-10", "0-100"]
SCALE_RANGE: dict[str, tuple[float, float]] = {"0-1": (0.0, 1.0), "0-10": (0.0, 10.0), "0-100": (0.0, 100.0)}


class SimilarityMetric(abc.ABC):
    """A similarity of a candidate text to a reference text; higher is closer."""

    name: str
    scale: Scale = "0-1"

    @abc.abstractmethod
    def similarities(self, references: list[str], candidates: list[str]) -> list[float]:
        """One similarity per (reference, candidate) pair, in order."""

    def similarity(self, reference: str, candidate: str) -> float:
        return self.similarities([reference], [candidate])[0]


def check_pairs(references: list[str], candidates: list[str]) -> None:
    if len(references) != len(candidates):
        raise ValueError(f"{len(references)} references but {len(candidates)} candidates")
