"""Protection of the public edge: API keys, rate limits per key and per user, and request-size limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from peptalk.lazy import lazy_exports
from peptalk.security.settings import SecuritySettings

if TYPE_CHECKING:
    from peptalk.security.api_keys import API_KEY_HEADER, EXEMPT_PATHS, ApiKeyMiddleware, key_id
    from peptalk.security.buckets import Refusal, TokenBuckets, admit
    from peptalk.security.rate_limit import RateLimitMiddleware, requested_users
    from peptalk.security.setup import install_api_keys

_EXPORTS = {
    "API_KEY_HEADER": "peptalk.security.api_keys",
    "EXEMPT_PATHS": "peptalk.security.api_keys",
    "ApiKeyMiddleware": "peptalk.security.api_keys",
    "key_id": "peptalk.security.api_keys",
    "Refusal": "peptalk.security.buckets",
    "TokenBuckets": "peptalk.security.buckets",
    "admit": "peptalk.security.buckets",
    "RateLimitMiddleware": "peptalk.security.rate_limit",
    "requested_users": "peptalk.security.rate_limit",
    "install_api_keys": "peptalk.security.setup",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = ["SecuritySettings", *_EXPORTS]  # the eager names, then the lazy ones
