"""The cache's vocabulary between layers: the per-call mode it reads, and the facts it adds to an answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, get_args

from router.call import CallOptions
from router.extensions import register_fact

__all__ = ["CACHE_MODES", "CacheFacts", "CacheKind", "CacheMode", "CacheRequest", "cache_mode"]

CacheMode = Literal["use", "bypass", "refresh"]  # per request: `config={"configurable": {"cache": ...}}`
CACHE_MODES: tuple[CacheMode, ...] = get_args(CacheMode)  # the one list of them
CacheKind = Literal["exact", "semantic", "miss", "bypass", "refresh"]  # how the cache layer served an answer


@dataclass(frozen=True)
class CacheRequest:
    """The call option the cache layer reads (a `CallOptions` extension): this call's cache mode."""

    mode: CacheMode = "use"


def cache_mode(options: CallOptions) -> CacheMode:
    """The cache mode `options` ask for; `use` when they do not say."""
    request = options.get(CacheRequest)
    return request.mode if request is not None else "use"


@register_fact
@dataclass(frozen=True)
class CacheFacts:
    """How the cache layer served an answer (an `AnswerFacts` extension), set on every answer through it."""

    WIRE_KEYS: ClassVar[tuple[str, ...]] = ("cache_hit", "similarity", "cache", "cache_evidence", "cache_miss_reason",
                                            "shared_flight")  # the order clients see

    hit: bool
    kind: CacheKind
    similarity: float | None = None  # a hit's similarity (1.0 for exact)
    evidence: dict[str, Any] | None = None  # a semantic hit's evidence
    miss_reason: str | None = None  # why the nearest entry was not a hit
    shared_flight: bool | None = None  # a hit that waited for an identical request's answer

    def wire(self) -> dict[str, Any]:
        values = (self.hit, self.similarity, self.kind, self.evidence, self.miss_reason, self.shared_flight)
        return {key: value for key, value in zip(self.WIRE_KEYS, values, strict=True) if value is not None}

    @classmethod
    def from_wire(cls, facts: Mapping[str, Any]) -> CacheFacts | None:
        """The cache's facts in a wire form; None without both `cache_hit` and `cache`."""
        if not isinstance(facts.get("cache_hit"), bool) or facts.get("cache") not in get_args(CacheKind):
            return None
        return cls(hit=facts["cache_hit"], kind=facts["cache"], similarity=facts.get("similarity"),
                   evidence=facts.get("cache_evidence"), miss_reason=facts.get("cache_miss_reason"),
                   shared_flight=facts.get("shared_flight"))
