"""`RolloutLayer`: applies the live rollout stage to routing, falls back to the primary, and mirrors for pairs.

A user the stage assigns to the candidate is served by the candidate (pinned, without the router's own
fallback); if it fails before its first token, the primary answers instead, so the user never sees the
candidate's failure. Every request is mirrored to the other model with the plan's `mirror_rate` (primary
users to the candidate, candidate users to the primary), and every candidate failure is logged as a pair,
so evidence keeps flowing at every stage, 100% included. Each answer's first chunk says which stage routed it
and on which arm (a `RolloutFact`, peptalk/rollout/facts.py).

Every candidate call (served or mirrored, whatever its outcome) is also counted in a `CallTally`, flushed to
`rollout_calls`: the failure rates read those counts, never the pairs, whose failures are over-represented
(a failure is always stored as a pair, a success only when mirrored).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import random
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from langchain_core.messages import AIMessageChunk

from peptalk.records import CallRecord, ShadowExportRow  # the shared record types (a leaf module)
from peptalk.rollout.assign import serves_candidate
from peptalk.rollout.base import CallTally, LiveState
from peptalk.rollout.evidence import is_timeout
from peptalk.rollout.live import LiveRollout
from peptalk.rollout.metrics import CANDIDATE_CALLS, MIRRORS, ROUTED
from peptalk.shadow import BatchWriter
from peptalk.shadow.recorder import StreamRecorder, prompt_text
from peptalk.shadow.settings import shadow_default
from peptalk.rollout.facts import RolloutArm, RolloutFact
from router.call import AnswerFacts, Call, CallOptions, ChatLayer, facts_of, with_facts
from router.router import Router

log = logging.getLogger("peptalk.rollout")


def with_rollout_fact(chunk: AIMessageChunk, state: LiveState, arm: RolloutArm) -> AIMessageChunk:
    """`chunk` (an answer's first) with the facts it carries plus which stage routed it and on which arm."""
    fact = RolloutFact(stage=state.stage, version=state.version, arm=arm)
    return with_facts(chunk, (facts_of(chunk) or AnswerFacts()).with_(fact))


class Tally:
    """The candidate's call outcomes since the last flush, per candidate model."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}  # model -> [calls, errors, timeouts, empty answers]

    def add(self, model: str, *, error: BaseException | str | None, text: str) -> None:
        counts = self.counts.setdefault(model, [0, 0, 0, 0])
        counts[0] += 1
        if error is not None:
            timeout = isinstance(error, TimeoutError) or is_timeout(f"{type(error).__name__}: {error}")
            counts[1] += 1
            counts[2] += timeout
            CANDIDATE_CALLS.labels("timeout" if timeout else "error").inc()
        elif not text.strip():
            counts[3] += 1
            CANDIDATE_CALLS.labels("empty").inc()
        else:
            CANDIDATE_CALLS.labels("ok").inc()

    def take(self) -> list[CallTally]:
        now = dt.datetime.now(dt.timezone.utc)
        taken = [CallTally(model, now, *counts) for model, counts in self.counts.items() if counts[0]]
        self.counts = {}
        return taken


class RolloutLayer:
    """Wraps the serving stack (`inner`); mirrors go straight to the `router`, never through the cache."""

    def __init__(self, inner: ChatLayer, router: Router, *, live: LiveRollout, writer: BatchWriter,
                 stored_user_id: Callable[[str | None], str],
                 mirror_timeout_s: float = shadow_default("shadow_timeout_s"),
                 max_in_flight: int = shadow_default("shadow_max_in_flight"),
                 max_pending: int = shadow_default("shadow_queue_size"), rng: random.Random | None = None,
                 tally_interval_s: float = shadow_default("shadow_flush_interval_s")) -> None:
        self.inner = inner
        self.router = router
        self.live = live
        self.writer = writer
        self.stored_user_id = stored_user_id
        self.mirror_timeout_s = mirror_timeout_s
        self.max_pending = max_pending
        self.rng = rng or random.Random()
        self.dropped = 0
        self._slots = asyncio.Semaphore(max_in_flight)
        self._jobs: set[asyncio.Task[None]] = set()
        self.tally = Tally()
        self.tally_interval_s = tally_interval_s
        self._flusher: asyncio.Task[None] | None = None

    def routes_elsewhere(self, call: Call) -> bool:
        """Whether the rollout would serve `call` by another model than the call names (the candidate)."""
        return self.arm(call, self.live.state) == "candidate"

    def arm(self, call: Call, state: LiveState | None) -> RolloutArm | None:
        """`candidate`, `primary`, or None when the rollout does not apply (no rollout, a pinned model)."""
        if state is None or call.model is not None:
            return None
        return "candidate" if serves_candidate(call.user_id, state.share, state.salt) else "primary"

    async def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        state = self.live.state
        arm = self.arm(call, state)
        if arm is None or state is None:
            async for chunk in self.inner.astream(call):
                yield chunk
            return
        ROUTED.labels(arm).inc()
        mirrored = self.rng.random() < state.mirror_rate
        if arm == "primary":
            async for chunk in self._served(call, state, mirror_to=state.candidate if mirrored else None):
                yield chunk
            return
        async for chunk in self._candidate(call, state, mirrored):
            yield chunk

    async def _served(self, call: Call, state: LiveState, *, mirror_to: str | None) -> AsyncIterator[AIMessageChunk]:
        """`inner`'s answer to `call`; when `mirror_to` is set, the same call goes to that model afterwards."""
        recorder = StreamRecorder(model=call.model) if mirror_to else None
        error: BaseException | None = None
        first = True
        try:
            async for chunk in self.inner.astream(call):
                if recorder is not None:
                    recorder.observe(chunk)
                chunk, first = (with_rollout_fact(chunk, state, "primary") if first else chunk), False
                yield chunk
        except BaseException as exc:
            error = exc
            raise
        finally:
            if recorder is not None and mirror_to is not None:
                self._mirror(call, recorder, error, mirror_to)

    async def _candidate(self, call: Call, state: LiveState, mirrored: bool) -> AsyncIterator[AIMessageChunk]:
        pinned = Call(messages=call.messages, request=call.request, model=state.candidate,
                      options=dataclasses.replace(call.options, fallback=False), request_id=call.request_id)
        recorder = StreamRecorder(model=state.candidate)
        started = False
        try:
            async for chunk in self.inner.astream(pinned):
                recorder.observe(chunk)
                chunk, started = (chunk if started else with_rollout_fact(chunk, state, "candidate")), True
                yield chunk
        except Exception as exc:
            self.tally.add(state.candidate, error=exc, text=recorder.text)
            if started:  # mid-stream: too late to answer from another model; log the pair, then fail as today
                self._mirror(call, recorder, exc, state.primary)
                raise
            ROUTED.labels("fallback").inc()
            log.warning("rollout fallback", extra={"request_id": call.request_id, "from_model": state.candidate,
                                                   "to_model": state.primary, "detail": f"{type(exc).__name__}: {exc}"})
            failed = recorder.finish(prompt=prompt_text(call.messages), error=exc)
            fallback = Call(messages=call.messages, request=call.request, model=state.primary,
                            options=call.options, request_id=call.request_id)
            answer = StreamRecorder(model=state.primary)
            first = True
            async for chunk in self.inner.astream(fallback):
                answer.observe(chunk)
                chunk, first = (with_rollout_fact(chunk, state, "fallback") if first else chunk), False
                yield chunk
            # The fallback answer is the pair's other side: no extra call needed.
            self._store(call, failed, answer.finish(prompt=prompt_text(call.messages)))
            return
        self.tally.add(state.candidate, error=None, text=recorder.text)
        if mirrored:
            self._mirror(call, recorder, None, state.primary)

    def _mirror(self, call: Call, recorder: StreamRecorder, error: BaseException | None, model: str) -> None:
        """Starts a background call of `model` that completes the pair; never waits, drops when too busy."""
        if len(self._jobs) >= self.max_pending:
            self.dropped += 1
            MIRRORS.labels(model, "dropped").inc()
            return
        try:
            served = recorder.finish(prompt=prompt_text(call.messages), error=error)
        except Exception:
            log.exception("rollout mirror could not record the served answer", extra={"request_id": call.request_id})
            return
        job = asyncio.create_task(self._complete(call, served, model), name="rollout-mirror")
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)

    async def _complete(self, call: Call, served: CallRecord, model: str) -> None:
        async with self._slots:
            recorder = StreamRecorder(model)
            error: BaseException | str | None = None
            outcome = "ok"
            mirror = Call(messages=call.messages, request=call.request, model=model,
                          options=CallOptions(fallback=False, deadline_s=self.mirror_timeout_s),
                          request_id=call.request_id)
            try:
                async with asyncio.timeout(self.mirror_timeout_s):
                    async for chunk in self.router.astream(mirror):
                        recorder.observe(chunk)
            except TimeoutError:
                error, outcome = f"TimeoutError: no complete answer within {self.mirror_timeout_s:g} s", "timeout"
            except Exception as exc:
                error, outcome = exc, "error"
            MIRRORS.labels(model, outcome).inc()
            state = self.live.state
            if state is not None and model == state.candidate:  # a mirror to the candidate is a candidate call too
                self.tally.add(model, error=error, text=recorder.text)
            self._store(call, served, recorder.finish(prompt=prompt_text(call.messages), error=error))

    def _store(self, call: Call, served: CallRecord, other: CallRecord) -> None:
        user = self.stored_user_id(call.user_id)
        request: dict[str, Any] = {**call.request, "user_id": user} if call.request else {}
        self.writer.add(ShadowExportRow(
            pair_id=uuid.uuid4().hex, request_id=call.request_id,
            created_at=served.started_at or dt.datetime.now(dt.timezone.utc), user_id=user, request=request,
            prompt=served_prompt(call), primary=served, candidates=[other]))

    async def flush_tally(self) -> None:
        """Writes the counted candidate calls; on a failure they are kept for the next flush."""
        taken = self.tally.take()
        try:
            for tally in taken:
                await asyncio.to_thread(self.live.store.add_tally, tally)
        except Exception:
            log.exception("rollout call tally not stored; retrying at the next flush")
            for tally in taken:
                counts = self.tally.counts.setdefault(tally.candidate, [0, 0, 0, 0])
                for index, value in enumerate((tally.calls, tally.errors, tally.timeouts, tally.empty_answers)):
                    counts[index] += value

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tally_interval_s)
            await self.flush_tally()

    async def start(self) -> None:
        await self.live.start()
        await asyncio.to_thread(self.writer.store.migrate)
        self.writer.start()
        self._flusher = asyncio.create_task(self._flush_forever(), name="rollout-tally")

    async def aclose(self) -> None:
        """Waits (briefly) for the mirrors in flight, commits their pairs, stops the refresher."""
        if self._jobs:
            await asyncio.wait(set(self._jobs), timeout=self.mirror_timeout_s)
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        await self.flush_tally()
        await self.writer.aclose()
        await self.live.aclose()


def served_prompt(call: Call) -> str:
    return prompt_text(call.messages)
