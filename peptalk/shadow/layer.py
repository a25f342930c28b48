"""`ShadowLayer`: the serving layer above the cache (below rollout and metrics); it passes the primary answer
through and mirrors the call to the candidate models in the background, logging each primary/candidate pair."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from langchain_core.messages import AIMessageChunk

from peptalk.metrics import SHADOW_CALLS, SHADOW_DROPPED, SHADOW_QUEUE_DEPTH
from peptalk.records import CallRecord, ShadowExportRow
from peptalk.shadow.base import ShadowStore
from peptalk.shadow.policy import ShadowPolicy
from peptalk.shadow.recorder import StreamRecorder, prompt_text
from peptalk.shadow.writer import BatchWriter
from router.call import Call, CallOptions, ChatLayer
from router.router import Router

log = logging.getLogger("peptalk.shadow")


@dataclass
class ShadowJob:
    """A finished primary call waiting for its candidates."""

    pair_id: str
    call: Call
    prompt: str
    primary: CallRecord
    candidates: tuple[str, ...]  # the policy's candidates but the model that answered


class ShadowLayer:
    """Serves `inner` untouched; after each sampled answer, queues a job that calls every candidate but the
    model that answered (a request pinned to a candidate is never mirrored to it).

    Candidates are called on the bare `router` (never through the cache), at most `max_in_flight` at a
    time. Enqueuing never waits: a full queue drops the job and counts it.
    """

    def __init__(self, inner: ChatLayer, router: Router, *, policy: ShadowPolicy, store: ShadowStore) -> None:
        policy.check(router)
        self.inner = inner
        self.router = router
        self.policy = policy
        self.store = store
        self.writer = BatchWriter(store, batch_size=policy.batch_size, flush_interval_s=policy.flush_interval_s)
        self.dropped: collections.Counter[str] = collections.Counter()
        self._queue: asyncio.Queue[ShadowJob] = asyncio.Queue(maxsize=policy.queue_size)
        self._semaphore = asyncio.Semaphore(policy.max_in_flight)
        self._tasks: list[asyncio.Task[None]] = []
        self._accepting = False
        self._running = 0  # jobs a worker is on
        self._forgotten: dict[str, dt.datetime] = {}  # stored user id -> when it was erased (issue 19)

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    async def start(self) -> None:
        """Migrates the log's tables, then starts the writer, the workers and the retention schedule."""
        await asyncio.to_thread(self.store.migrate)
        self.writer.start()
        self._tasks = [asyncio.create_task(self._work(), name=f"shadow-worker-{index}")
                       for index in range(self.policy.max_in_flight)]
        if self.policy.retention_days:
            self._tasks.append(asyncio.create_task(self._prune_forever(), name="shadow-retention"))
        self._accepting = True

    async def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        if not self.policy.selects(call.user_id):
            async for chunk in self.inner.astream(call):
                yield chunk
            return
        # The first chunk names the model that served; a call that fails before any chunk keeps the pinned one.
        recorder: StreamRecorder | None = StreamRecorder(model=call.model)
        error: BaseException | None = None
        try:
            async for chunk in self.inner.astream(call):
                if recorder is not None:
                    try:
                        recorder.observe(chunk)
                    except Exception:  # a recording bug must never reach the primary answer
                        log.exception("shadow recording failed", extra={"request_id": call.request_id})
                        recorder = None
                yield chunk
        except BaseException as exc:  # the primary's own failure (or a client gone) is logged, then re-raised
            error = exc
            raise
        finally:
            if recorder is not None:
                self._submit(call, recorder, error)

    def _drop(self, reason: str) -> None:
        self.dropped[reason] += 1
        SHADOW_DROPPED.labels(reason=reason).inc()

    def _submit(self, call: Call, recorder: StreamRecorder, error: BaseException | None) -> None:
        """Queues the shadow job without waiting; drops it (counted) when the queue is full or closed."""
        if not self._accepting:
            self._drop("stopped")
            return
        try:
            if recorder.model is None:  # failed before the router named the model: log the one it would try first
                recorder.model = call.model or str(self.router.plan(call)[0])
            candidates = self.policy.candidates_besides(recorder.model)
            if not candidates:  # the request was answered by (or pinned to) the only candidate: nothing to compare
                self._drop("candidate_answered")
                return
            prompt = prompt_text(call.messages)
            job = ShadowJob(pair_id=uuid.uuid4().hex, call=call, prompt=prompt,
                            primary=recorder.finish(prompt=prompt, error=error), candidates=candidates)
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            self._drop("queue_full")
        except Exception:
            log.exception("shadow job could not be queued", extra={"request_id": call.request_id})
            self._drop("error")
        SHADOW_QUEUE_DEPTH.set(self._queue.qsize())

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            SHADOW_QUEUE_DEPTH.set(self._queue.qsize())
            self._running += 1
            try:
                row = await self._run(job)
                erased_at = self._forgotten.get(row.user_id)
                if erased_at is not None and row.created_at <= erased_at:
                    self._drop("forgotten")  # the user was erased while this pair was in flight
                else:
                    self.writer.add(row)
            except Exception:
                log.exception("shadow job failed", extra={"request_id": job.call.request_id})
                self._drop("error")
            finally:
                self._running -= 1
                self._queue.task_done()

    async def _run(self, job: ShadowJob) -> ShadowExportRow:
        candidates = await asyncio.gather(*(self._call_candidate(job, model) for model in job.candidates))
        request = job.call.request or {}
        return ShadowExportRow(
            pair_id=job.pair_id,
            request_id=job.call.request_id,
            created_at=job.primary.started_at or dt.datetime.now(dt.timezone.utc),
            user_id=self.policy.stored_user_id(job.call.user_id),
            request={**request, "user_id": self.policy.stored_user_id(job.call.user_id)} if request else {},
            prompt=job.prompt,
            primary=job.primary,
            candidates=list(candidates),
            template_version=job.call.template_version,
        )

    async def _call_candidate(self, job: ShadowJob, model: str) -> CallRecord:
        """One candidate's answer to the job's messages, straight from the router; failures are recorded."""
        async with self._semaphore:
            recorder = StreamRecorder(model)
            error: BaseException | str | None = None
            outcome = "ok"
            # Pinned, without fallback: the answer must come from this candidate or be logged as its failure.
            call = Call(messages=job.call.messages, request=job.call.request, model=model,
                        options=CallOptions(fallback=False, deadline_s=self.policy.timeout_s),
                        request_id=job.call.request_id)
            try:
                async with asyncio.timeout(self.policy.timeout_s):
                    async for chunk in self.router.astream(call):
                        recorder.observe(chunk)
            except TimeoutError:
                error, outcome = f"TimeoutError: no complete answer within {self.policy.timeout_s:g} s", "timeout"
            except Exception as exc:
                error, outcome = exc, "error"
            SHADOW_CALLS.labels(model=model, outcome=outcome).inc()
            return recorder.finish(prompt=job.prompt, error=error)

    async def forget_pending(self, stored_user_ids: set[str]) -> int:
        """Erasure: drops these users' pairs not committed yet (waiting in the writer, or still in flight).

        Pairs of requests that started before now are dropped when they finish; later requests are logged again.
        """
        now = dt.datetime.now(dt.timezone.utc)
        horizon = now - dt.timedelta(seconds=2 * self.policy.timeout_s + self.policy.drain_timeout_s)
        self._forgotten = {user: at for user, at in self._forgotten.items() if at > horizon}
        self._forgotten.update(dict.fromkeys(stored_user_ids, now))
        return await self.writer.discard(stored_user_ids)

    async def _prune_forever(self) -> None:
        while True:
            cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=self.policy.retention_days)
            try:
                removed = await asyncio.to_thread(self.store.prune, cutoff)
                if removed:
                    log.info("shadow pairs pruned", extra={"removed": removed, "older_than": cutoff.isoformat()})
            except Exception:
                log.exception("shadow retention run failed")
            await asyncio.sleep(self.policy.prune_interval_s)

    async def aclose(self) -> None:
        """Graceful shutdown: stop taking jobs, finish the queued ones (within the drain timeout), commit."""
        self._accepting = False
        try:
            async with asyncio.timeout(self.policy.drain_timeout_s):
                await self._queue.join()
        except TimeoutError:
            log.warning("shadow drain timed out", extra={"jobs_queued": self._queue.qsize(),
                                                          "jobs_running": self._running})
        interrupted = self._running
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for _ in range(interrupted):  # cancelled mid-job
            self._drop("shutdown")
        while not self._queue.empty():
            self._queue.get_nowait()
            self._queue.task_done()
            self._drop("shutdown")
        SHADOW_QUEUE_DEPTH.set(0)
        await self.writer.aclose()
