"""Protection of the public edge: API keys, rate limits per key and per user, and request-size limits."""

from peptalk.security.api_keys import API_KEY_HEADER, EXEMPT_PATHS, ApiKeyMiddleware, key_id
from peptalk.security.buckets import Refusal, TokenBuckets, admit
from peptalk.security.rate_limit import RateLimitMiddleware, requested_users
from peptalk.security.setup import install_protection

__all__ = [
    "API_KEY_HEADER",
    "EXEMPT_PATHS",
    "ApiKeyMiddleware",
    "RateLimitMiddleware",
    "Refusal",
    "TokenBuckets",
    "admit",
    "key_id",
    "install_protection",
    "requested_users",
]
