"""The exact part of a cache key: everything besides the lists that changes the answer.

Scope, model and the request's dates, and also how the answer was generated: the prompt template's version
and the generation settings. An answer written under another template or token limit is never served.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

ANY_MODEL = "*"


@dataclass(frozen=True)
class Generation:
    """How answers are generated: the prompt template's version and the sampling settings."""

    template: str  # a hash of the template text (`template_version`)
    temperature: float
    max_tokens: int

    def text(self) -> str:
        return f"template={self.template}\x1ftemperature={self.temperature:g}\x1fmax_tokens={self.max_tokens}"


def template_version(template_text: str) -> str:
    """A short, stable version of a prompt template: the start of its SHA-256."""
    return hashlib.sha256(template_text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CacheKey:
    """The part of a request that must match exactly for a hit."""

    scope: str  # "user:<user_id>" or "shared"
    model: str  # the `backend:model`, or ANY_MODEL when the model is not part of the key
    today: str
    last_login: str
    generation: Generation

    def digest(self) -> str:
        parts = (self.scope, self.model, self.today, self.last_login, self.generation.text())
        return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()


__all__ = ["ANY_MODEL", "CacheKey", "Generation", "template_version"]
