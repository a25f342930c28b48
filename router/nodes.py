"""Nodes (one base URL serving one model) and the pool that balances a model's requests over them."""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable, Collection, Hashable
from typing import Any

from langchain_core.language_models import BaseChatModel

from router import metrics
from router.base import ModelRef, NodeState
from router.breaker import CircuitBreaker, Verdict
from router.config import BreakerConfig

_STATE_VALUE: dict[NodeState, int] = {"up": 0, "cooling_down": 1, "down": 2, "unknown": 0}
LATENCY_WINDOW = 50  # recent successful calls kept per node for /readyz and /models


class Node:
    """One endpoint (an Ollama or OpenAI-compatible base URL, or the in-process model) serving one model."""

    def __init__(self, ref: ModelRef, url: str, make_chat_model: Callable[[], BaseChatModel],
                 breaker: BreakerConfig, *, client_key: Callable[[], Hashable] = lambda: None) -> None:
        self.ref = ref
        self.url = url
        self._make_chat_model = make_chat_model
        self._client_key = client_key
        self._chat_model: BaseChatModel | None = None
        self._built_for: Hashable = None
        self._labels = (str(ref), url)
        self.breaker = CircuitBreaker(failures=breaker.failures, cooldown_s=breaker.cooldown_s,
                                      max_cooldown_s=breaker.max_cooldown_s, on_change=self._state_changed)
        self.outstanding = 0
        self.served = 0
        self.failed = 0
        self.latencies_s: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.first_token_s: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.last_error: str | None = None
        metrics.BREAKER_STATE.labels(*self._labels).set(0)
        metrics.NODE_OUTSTANDING.labels(*self._labels).set(0)

    def chat_model(self) -> BaseChatModel:
        """The node's LangChain chat model, built on first use (the embedded one needs the runtime started) and
        again when what it was built from changed (an OpenAI-protocol node that named its engine late)."""
        key = self._client_key()
        if self._chat_model is None or key != self._built_for:
            self._chat_model = self._make_chat_model()
            self._built_for = key
        return self._chat_model

    def forget_chat_model(self) -> None:
        """Drops the built chat model: after its backend stopped, it would call a closed client or runtime."""
        self._chat_model = None

    @property
    def state(self) -> NodeState:
        return self.breaker.state

    def available(self) -> bool:
        return self.breaker.available()

    def begin(self) -> None:
        """A request goes to this node."""
        self.breaker.acquire()
        self.outstanding += 1
        metrics.NODE_OUTSTANDING.labels(*self._labels).set(self.outstanding)

    def end(self, verdict: Verdict, *, latency_s: float | None = None, first_token_s: float | None = None,
            error: str | None = None) -> None:
        """The request ended; a `failure` counts toward the breaker, a `success` closes it."""
        self.outstanding -= 1
        metrics.NODE_OUTSTANDING.labels(*self._labels).set(self.outstanding)
        if verdict == "success":
            self.served += 1
            if latency_s is not None:
                self.latencies_s.append(latency_s)
            if first_token_s is not None:
                self.first_token_s.append(first_token_s)
        elif verdict == "failure":
            self.failed += 1
            self.last_error = error
        self.breaker.record(verdict)

    def _state_changed(self, state: NodeState) -> None:
        metrics.BREAKER_STATE.labels(*self._labels).set(_STATE_VALUE[state])

    def snapshot(self) -> dict[str, Any]:
        """What `/readyz` and `/models` show about the node."""

        def ms(values: deque[float], pick: Callable[[list[float]], float]) -> float | None:
            return round(pick(list(values)) * 1000, 1) if values else None

        return {
            "node": self.url,
            "state": self.state,
            "outstanding": self.outstanding,
            "served": self.served,
            "failed": self.failed,
            "latency_ms": {"last": ms(self.latencies_s, lambda v: v[-1]), "p50": ms(self.latencies_s, statistics.median)},
            "first_token_ms": {"last": ms(self.first_token_s, lambda v: v[-1]),
                               "p50": ms(self.first_token_s, statistics.median)},
            "retry_in_s": round(self.breaker.seconds_until_probe(), 2) or None,
            "last_error": self.last_error,
        }


class NodePool:
    """The nodes of one model; picks the available node with the fewest outstanding requests."""

    def __init__(self, ref: ModelRef, nodes: list[Node]) -> None:
        self.ref = ref
        self.nodes = nodes
        self._turn = 0  # rotates ties, so idle nodes share sequential traffic

    def pick(self, tried: Collection[Node] = ()) -> Node | None:
        """The least-loaded available node, preferring ones this request has not tried; None if all cool down."""
        available = [node for node in self.nodes if node.available()]
        if not available:
            return None
        best_key = min((node.outstanding, node in tried) for node in available)
        best = [node for node in available if (node.outstanding, node in tried) == best_key]
        self._turn += 1
        return best[self._turn % len(best)]

    def any_available(self) -> bool:
        """True when a request could go somewhere now; side-effect-free (half-open transitions aside)."""
        return any(node.available() for node in self.nodes)

    def seconds_until_available(self) -> float:
        return min(node.breaker.seconds_until_probe() for node in self.nodes)
