"""The rollout state every app process applies: read from the database in the background, looked up for free."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select

from peptalk.rollout.base import LiveState, live_state_of
from peptalk.rollout.metrics import REFRESH_ERRORS, STAGE_INDEX, STAGE_SHARE, STATE_VERSION
from peptalk.rollout.store import RolloutStore, rollouts

log = logging.getLogger("peptalk.rollout")


class LiveRollout:
    """Holds the current `LiveState` (or None); `state` is a plain attribute, refreshed every `refresh_interval_s`.

    A refresh reads only the newest rollout's id and version unless they changed. When the database cannot
    be read, the last known state stays in force (and the failure is counted).
    """

    def __init__(self, store: RolloutStore, *, refresh_interval_s: float) -> None:
        self.store = store
        self.refresh_interval_s = refresh_interval_s
        self.state: LiveState | None = None
        self._seen: tuple[int, int] | None = None  # (rollout id, version) last loaded
        self._task: asyncio.Task[None] | None = None

    def refresh(self) -> bool:
        """Re-reads the state now; True when it changed."""
        query = (select(rollouts.c.id, rollouts.c.version).where(rollouts.c.status != "superseded")
                 .order_by(rollouts.c.id.desc()).limit(1))
        with self.store.engine.connect() as connection:
            row = connection.execute(query).first()
        seen = None if row is None else (int(row.id), int(row.version))
        if seen == self._seen:
            return False
        rollout = self.store.current() if seen is not None else None
        previous = self.state
        self.state = None if rollout is None else live_state_of(rollout)
        self._seen = None if rollout is None else (rollout.id, rollout.version)
        if previous is not None and (self.state is None or previous.candidate != self.state.candidate):
            STAGE_SHARE.labels(previous.candidate).set(0)
        if self.state is not None and rollout is not None:
            STAGE_SHARE.labels(self.state.candidate).set(self.state.share)
            STAGE_INDEX.labels(self.state.candidate).set(rollout.stage_index)
            STATE_VERSION.set(self.state.version)
        log.info("rollout state applied", extra={"stage": self.state.stage if self.state else None,
                                                 "share": self.state.share if self.state else 0.0,
                                                 "version": self.state.version if self.state else None})
        return True

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_interval_s)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:
                REFRESH_ERRORS.inc()
                log.exception("rollout state refresh failed; keeping the last known state")

    async def start(self) -> None:
        """Migrates the tables, loads the state once, then keeps it fresh in the background."""
        await asyncio.to_thread(self.store.migrate)
        try:
            await asyncio.to_thread(self.refresh)
        except Exception:
            REFRESH_ERRORS.inc()
            log.exception("rollout state could not be read at start; serving without a rollout until it can")
        self._task = asyncio.create_task(self._refresh_forever(), name="rollout-refresh")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
