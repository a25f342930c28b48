"""The pep-talk request and response, validated against the configured limits."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from peptalk.settings import serving_default

LIST_FIELDS = ("completed_tasks", "focused_tasks", "rituals", "goals")


@dataclass(frozen=True)
class RequestLimits:
    """How much text one request may carry."""

    max_items_per_list: int = serving_default("max_items_per_list")
    max_item_chars: int = serving_default("max_item_chars")
    max_total_chars: int = serving_default("max_total_chars")


def clean_text(text: str) -> str:
    """Drops control characters (newlines included) and collapses whitespace: task text is user data."""
    kept = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    return re.sub(r"\s+", " ", kept).strip()


class PepTalkRequest(BaseModel):
    """What the app knows about a user's day: the input of the pep-talk chain."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    limits: ClassVar[RequestLimits] = RequestLimits()

    user_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@:+\-]+$")
    today: dt.date
    last_login: dt.date = Field(description="The previous login; not after `today`.")
    completed_tasks: list[str] = Field(default_factory=list, description="Tasks finished on the last login.")
    focused_tasks: list[str] = Field(default_factory=list, description="Tasks the user focuses on today.")
    rituals: list[str] = Field(default_factory=list, description="Recurring habits.")
    goals: list[str] = Field(default_factory=list, description="This week's goals.")

    @field_validator("last_login")
    @classmethod
    def _not_after_today(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        today = info.data.get("today")
        if today is not None and value > today:
            raise ValueError(f"last_login ({value}) is after today ({today})")
        return value

    @field_validator(*LIST_FIELDS)
    @classmethod
    def _within_limits(cls, items: list[str], info: ValidationInfo) -> list[str]:
        limits = cls.limits
        if len(items) > limits.max_items_per_list:
            raise ValueError(f"has {len(items)} items; at most {limits.max_items_per_list} are allowed")
        cleaned = [clean_text(item) for item in items]
        for index, item in enumerate(cleaned):
            if not item:
                raise ValueError(f"item {index} is empty")
            if len(item) > limits.max_item_chars:
                raise ValueError(f"item {index} has {len(item)} characters; at most {limits.max_item_chars} are allowed")
        earlier = sum(len(item) for name in LIST_FIELDS if name != info.field_name for item in info.data.get(name, []))
        total = earlier + sum(len(item) for item in cleaned)
        if total > limits.max_total_chars:
            raise ValueError(
                f"brings the total text of all lists to {total} characters; at most {limits.max_total_chars} are allowed"
            )
        return cleaned

    def content_text(self) -> str:
        """The request's content in a canonical order, without the prompt's boilerplate (for caching)."""
        # str() rather than isoformat(): also works on `model_construct`ed requests whose dates are ISO strings.
        parts = [f"last login {self.last_login}", f"today {self.today}"]
        for name in LIST_FIELDS:
            parts.append(f"{name}: " + "; ".join(getattr(self, name)))
        return "\n".join(parts)

    def content_sections(self) -> list[str]:
        """One text per list, named, in `LIST_FIELDS` order: what the semantic cache embeds and compares list by list.

        One embedding of the whole `content_text` cannot tell a task moved from focused to completed, or one
        task swapped out of two, from a paraphrase (MiniLM cosine 0.99 and 0.95); per list they score 0.8 and 0.67.
        """
        return [f"{name.replace('_', ' ')}: " + ("; ".join(getattr(self, name)) or "none") for name in LIST_FIELDS]


def request_model_for(limits: RequestLimits) -> type[PepTalkRequest]:
    """A `PepTalkRequest` subclass that enforces the given limits (the schema LangServe validates)."""
    if limits == PepTalkRequest.limits:
        return PepTalkRequest
    return type("PepTalkRequest", (PepTalkRequest,), {"limits": limits, "__module__": __name__})


class PepTalkResponse(BaseModel):
    """The chain's output; a streamed chunk carries the same keys, `text` holding only the new text."""

    text: str = Field(description="The pep talk (or, in a streamed chunk, the next piece of it).")
    model: str | None = Field(default=None, description="The `backend:model` that served it.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Cache, fallback and usage details.")
