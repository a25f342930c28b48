"""Diurnal probes: the same request to each model on a schedule (warm-up calls, then measured ones) into the DB."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from langchain_core.messages import BaseMessage

from evaluation.probe_store import Phase, ProbeCall, ProbeStore, RunStatus
from evaluation.settings import eval_default
from peptalk.prompt import get_template
from peptalk.schema import PepTalkRequest
from router.call import Call, ChatLayer
from router.settings import default_of

log = logging.getLogger("peptalk.probe")
MAX_ERROR_CHARS = 500


@dataclass(frozen=True, kw_only=True)
class ProbeSchedule:
    """When to probe: a slot every `interval_s`, each slot `warmup` then `measured` calls per model."""

    interval_s: float = eval_default("probe_interval_s")
    warmup: int = eval_default("probe_warmup")
    measured: int = eval_default("probe_requests")
    duration_s: float | None = eval_default("probe_duration_s")  # None: until stopped
    max_slots: int | None = None
    call_timeout_s: float = default_of("request_timeout_s")

    def __post_init__(self) -> None:
        if self.interval_s <= 0:
            raise ValueError(f"interval must be positive, got {self.interval_s}")
        if self.warmup < 0 or self.measured < 1:
            raise ValueError("warm-up calls must be zero or more and measured calls at least one")
        if self.duration_s is not None and self.duration_s <= 0:
            raise ValueError(f"duration must be positive, got {self.duration_s}")
        if self.max_slots is not None and self.max_slots < 1:
            raise ValueError(f"slots must be at least one, got {self.max_slots}")
        if self.call_timeout_s <= 0:
            raise ValueError(f"call timeout must be positive, got {self.call_timeout_s}")


@dataclass
class ProbeOutcome:
    """What a run did: its id, how it ended, and call counts."""

    run_id: int
    status: RunStatus
    slots: int = 0
    calls: int = 0
    errors: int = 0
    errors_by_model: dict[str, int] = field(default_factory=dict)


def probe_messages(request: PepTalkRequest, template: str | None = None) -> list[BaseMessage]:
    """The production prompt for `request`, as the chain would send it."""
    spec = get_template(template)
    return spec.chat_prompt().format_messages(**spec.variables(request))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Prober:
    """Runs the schedule against a chat layer (normally the `Router`) and writes every call to the store."""

    def __init__(self, layer: ChatLayer, store: ProbeStore, *, models: list[str], request: PepTalkRequest,
                 schedule: ProbeSchedule, on_call: Callable[[ProbeCall], None] | None = None) -> None:
        if not models:
            raise ValueError("no models to probe")
        self.layer = layer
        self.store = store
        self.models = models
        self.request = request
        self.schedule = schedule
        self.on_call = on_call
        self._messages = probe_messages(request)

    async def _timed_call(self, model: str) -> dict[str, object]:
        started = time.perf_counter()
        ttft: float | None = None
        chars = 0
        input_tokens: int | None = None
        output_tokens: int | None = None
        call = Call(messages=self._messages, request=self.request.model_dump(mode="json"), model=model)
        async for chunk in self.layer.astream(call):
            text = chunk.content if isinstance(chunk.content, str) else ""
            if text and ttft is None:
                ttft = time.perf_counter() - started
            chars += len(text)
            if chunk.usage_metadata:
                input_tokens = (input_tokens or 0) + chunk.usage_metadata.get("input_tokens", 0)
                output_tokens = (output_tokens or 0) + chunk.usage_metadata.get("output_tokens", 0)
        return {"latency_s": time.perf_counter() - started, "ttft_s": ttft, "input_tokens": input_tokens,
                "output_tokens": output_tokens, "response_chars": chars}

    async def _one(self, run_id: int, slot: int, phase: Phase, seq: int, model: str, outcome: ProbeOutcome) -> None:
        started_at = _now()
        try:
            facts = await asyncio.wait_for(self._timed_call(model), timeout=self.schedule.call_timeout_s)
            record = ProbeCall(run_id, slot, phase, seq, model, started_at, **facts)  # type: ignore[arg-type]
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a backend being down is data here, not a crash
            detail = str(exc) or (f"no answer within {self.schedule.call_timeout_s:g} s"
                                  if isinstance(exc, TimeoutError) else repr(exc))
            reason = f"{type(exc).__name__}: {detail}"[:MAX_ERROR_CHARS]
            record = ProbeCall(run_id, slot, phase, seq, model, started_at, error=reason)
            outcome.errors += 1
            outcome.errors_by_model[model] = outcome.errors_by_model.get(model, 0) + 1
            log.warning("probe call failed", extra={"model": model, "slot": slot, "error": reason})
        outcome.calls += 1
        await asyncio.to_thread(self.store.add, record)
        if self.on_call is not None:
            self.on_call(record)

    async def run_slot(self, run_id: int, slot: int, outcome: ProbeOutcome) -> None:
        """Every model in turn: warm-up calls first, then the measured ones."""
        for model in self.models:
            for seq in range(self.schedule.warmup):
                await self._one(run_id, slot, "warmup", seq, model, outcome)
            for seq in range(self.schedule.measured):
                await self._one(run_id, slot, "measured", seq, model, outcome)

    def _next_slot(self, began: float, after: int | None) -> int:
        """The next slot after `after`: the next boundary, or, when a slot overran, the latest boundary already
        passed (it starts late); boundaries before that one are skipped."""
        if after is None:
            return 0
        latest = math.floor((time.monotonic() - began) / self.schedule.interval_s)
        if latest - (after + 1) > 0:
            log.warning("probe slots skipped: the previous slot overran", extra={"skipped": latest - after - 1})
        return max(after + 1, latest)

    async def run(self, stop: asyncio.Event | None = None) -> ProbeOutcome:
        """Runs slots at `began + k * interval` until the duration or slot count is reached, or `stop` is set
        (which cuts the current slot off). Slot numbers are boundary indices, so a skipped slot leaves a gap."""
        stop = stop or asyncio.Event()
        schedule = self.schedule
        run_id = await asyncio.to_thread(
            self.store.start_run, models=self.models, interval_s=schedule.interval_s, warmup=schedule.warmup,
            measured=schedule.measured, request=self.request.model_dump(mode="json"), started_at=_now())
        outcome = ProbeOutcome(run_id=run_id, status="running")
        began = time.monotonic()
        status: RunStatus = "finished"
        slot: int | None = None
        try:
            while schedule.max_slots is None or outcome.slots < schedule.max_slots:
                slot = self._next_slot(began, slot)
                offset = slot * schedule.interval_s
                if schedule.duration_s is not None and (
                        offset >= schedule.duration_s or time.monotonic() - began >= schedule.duration_s):
                    break
                if await _wait(stop, began + offset - time.monotonic()):
                    status = "stopped"
                    break
                slot_task = asyncio.create_task(self.run_slot(run_id, slot, outcome))
                stop_task = asyncio.create_task(stop.wait())
                done, _ = await asyncio.wait({slot_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
                stop_task.cancel()
                outcome.slots += 1
                if slot_task not in done:
                    slot_task.cancel()
                    await asyncio.gather(slot_task, return_exceptions=True)
                    status = "stopped"
                    break
                slot_task.result()
        except BaseException:
            status = "failed"
            raise
        finally:
            outcome.status = status
            await asyncio.shield(asyncio.to_thread(self.store.finish_run, run_id, status, _now()))
        return outcome


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleeps `seconds` unless `stop` is set first; True when stopped."""
    if stop.is_set():
        return True
    if seconds <= 0:
        return False
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True
