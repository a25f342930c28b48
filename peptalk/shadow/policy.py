"""The shadow policy: which requests are mirrored, to which candidates, and how much work may queue up."""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import random
from dataclasses import dataclass, field

from peptalk.shadow.errors import ShadowConfigError
from peptalk.shadow.settings import ShadowSettings, shadow_default
from router.errors import UnknownModelError
from router.router import Router


@dataclass(frozen=True)
class ShadowPolicy:
    """What `PEPTALK_SHADOW_*` says, checked: candidates, sampling, allow-list, limits and user-id hashing."""

    candidates: tuple[str, ...]
    sample_rate: float = shadow_default("shadow_sample_rate")
    allow_users: tuple[str, ...] = ()  # user ids or fnmatch patterns (`acme:*` for a tenant); empty: everyone
    max_in_flight: int = shadow_default("shadow_max_in_flight")
    queue_size: int = shadow_default("shadow_queue_size")
    timeout_s: float = shadow_default("shadow_timeout_s")
    hash_user_ids: bool = shadow_default("shadow_hash_user_ids")
    user_id_salt: bytes = b""
    batch_size: int = shadow_default("shadow_batch_size")
    flush_interval_s: float = shadow_default("shadow_flush_interval_s")
    retention_days: int = shadow_default("shadow_retention_days")
    prune_interval_s: float = shadow_default("shadow_prune_interval_s")
    drain_timeout_s: float = shadow_default("shadow_drain_timeout_s")
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: ShadowSettings) -> ShadowPolicy:
        salt = settings.shadow_user_id_salt.get_secret_value().encode() if settings.shadow_user_id_salt else b""
        return cls(
            candidates=tuple(dict.fromkeys(settings.shadow_candidates)),
            sample_rate=settings.shadow_sample_rate,
            allow_users=tuple(settings.shadow_allow_users),
            max_in_flight=settings.shadow_max_in_flight,
            queue_size=settings.shadow_queue_size,
            timeout_s=settings.shadow_timeout_s,
            hash_user_ids=settings.shadow_hash_user_ids,
            user_id_salt=salt,
            batch_size=settings.shadow_batch_size,
            flush_interval_s=settings.shadow_flush_interval_s,
            retention_days=settings.shadow_retention_days,
            prune_interval_s=settings.shadow_prune_interval_s,
            drain_timeout_s=settings.shadow_drain_timeout_s,
        )

    @property
    def enabled(self) -> bool:
        return bool(self.candidates) and self.sample_rate > 0

    def check(self, router: Router) -> None:
        """Raises `ShadowConfigError` when a candidate is not a model the router serves."""
        for candidate in self.candidates:
            try:
                router.resolve(candidate)
            except UnknownModelError as exc:
                raise ShadowConfigError(f"shadow candidate: {exc}") from exc

    def candidates_besides(self, answered: str) -> tuple[str, ...]:
        """The candidates to mirror an answer of `answered` to: every one but `answered` itself."""
        return tuple(candidate for candidate in self.candidates if candidate != answered)

    def allows(self, user_id: str | None) -> bool:
        """Whether the allow-list lets this user's requests be shadowed."""
        if not self.allow_users:
            return True
        if user_id is None:
            return False
        return any(fnmatch.fnmatchcase(user_id, pattern) for pattern in self.allow_users)

    def selects(self, user_id: str | None) -> bool:
        """Whether a request of this user is mirrored: shadowing on, allowed, and sampled in."""
        if not self.enabled or not self.allows(user_id):
            return False
        return self.sample_rate >= 1.0 or self.rng.random() < self.sample_rate

    def stored_user_id(self, user_id: str | None) -> str:
        """The user id as the log keeps it: an HMAC-SHA256 hex digest when hashing is on."""
        if user_id is None:
            return ""
        if not self.hash_user_ids:
            return user_id
        return hmac.new(self.user_id_salt, user_id.encode(), hashlib.sha256).hexdigest()
