"""Rate limiting of the generation endpoints per API key (or client address) and per `user_id`."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from peptalk.security.asgi import CLIENT_KEY, Receive, Send, send_json
from peptalk.security.buckets import Refusal
from peptalk.security.limiter import Charge, RateLimiter
from peptalk.security.parsed import ParsedRequest, parsed_request

_USER_ID = re.compile(r"^[A-Za-z0-9_.@:+\-]{1,128}$")  # the schema's rule; others get a 422 from the app anyway


def requested_users(parsed: ParsedRequest) -> tuple[int, Counter[str]]:
    """How many inputs a LangServe request asks for, and how many of them per `user_id`."""
    inputs = parsed.inputs
    if inputs is None:
        return 1, Counter()
    users = Counter(item["user_id"] for item in inputs
                    if isinstance(item, dict) and isinstance(item.get("user_id"), str) and _USER_ID.match(item["user_id"]))
    return max(1, len(inputs)), users


def client_identity(scope: dict[str, Any]) -> str:
    """The API key's id when one was checked, else the client's address."""
    if CLIENT_KEY in scope:
        return str(scope[CLIENT_KEY])
    client = scope.get("client")
    return f"ip:{client[0]}" if client else "ip:unknown"


def refusal_body(refusal: Refusal, retry_after: int) -> dict[str, Any]:
    who = "this API key" if refusal.scope == "key" else f"user {refusal.identity!r}"
    if math.isinf(refusal.retry_after_s):
        detail = f"the request asks for more than {who}'s limit of {refusal.per_minute} per minute; split the batch"
    else:
        detail = f"rate limit of {refusal.per_minute} requests per minute exceeded for {who}; retry after {retry_after} s"
    return {"detail": detail, "limit": refusal.scope, "per_minute": refusal.per_minute, "retry_after_s": retry_after}


class RateLimitMiddleware:
    """ASGI middleware: a 429 with `Retry-After` when a key's or a user's bucket is empty.

    A batch costs one token per input, for its key and for each input's user. Where the tokens are counted
    (in this process, or in Redis for every replica) is the `limiter`'s business.
    """

    def __init__(self, app: Any, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        parsed = parsed_request(scope)  # None: not a generating request (`ParseRequestMiddleware` is outside)
        if parsed is None:
            await self.app(scope, receive, send)
            return
        inputs, users = requested_users(parsed)
        charges = [Charge("key", client_identity(scope), inputs)]
        charges += [Charge("user", user, count) for user, count in users.items()]
        refusal = await self.limiter.admit(charges)
        if refusal is not None:
            retry_after = 60 if math.isinf(refusal.retry_after_s) else max(1, math.ceil(refusal.retry_after_s))
            await send_json(send, 429, refusal_body(refusal, retry_after), headers={"Retry-After": str(retry_after)})
            return
        await self.app(scope, receive, send)
