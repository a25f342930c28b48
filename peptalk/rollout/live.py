"""The rollout state every app process applies: read from the database in the background, looked up for free."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from sqlalchemy import select

from peptalk.rollout.base import LiveState, live_state_of
from peptalk.rollout.metrics import REFRESH_ERRORS, STAGE_INDEX, STAGE_SHARE, STATE_AGE, STATE_STALE, STATE_VERSION
from peptalk.rollout.store import RolloutStore, rollouts

log = logging.getLogger("peptalk.rollout")


class LiveRollout:
    """Holds the current `LiveState` (or None); `state` is a plain attribute, refreshed every `refresh_interval_s`.

    A refresh reads only the newest rollout's id and version unless they changed. When the database cannot
    be read, the last known state stays in force for `max_age_s` seconds after the last good read; after that
    the process serves the primary (the safe arm: `state` is None) and says so (`stale`, `/readyz`, the
    `peptalk_rollout_state_stale` gauge) until a read succeeds again.
    """

    def __init__(self, store: RolloutStore, *, refresh_interval_s: float, max_age_s: float = 30.0,
                 clock: Any = time.monotonic) -> None:
        self.store = store
        self.refresh_interval_s = refresh_interval_s
        self.max_age_s = max_age_s
        self.state: LiveState | None = None
        self.stale = False
        self.clock = clock
        self.last_read: float | None = None  # clock() at the last good read
        self._seen: tuple[int, int] | None = None  # (rollout id, version) last loaded
        self._task: asyncio.Task[None] | None = None

    def refresh(self) -> bool:
        """Re-reads the state now; True when it changed."""
        query = (select(rollouts.c.id, rollouts.c.version).where(rollouts.c.status != "superseded")
                 .order_by(rollouts.c.id.desc()).limit(1))
        with self.store.engine.connect() as connection:
            row = connection.execute(query).first()
        self.last_read = self.clock()
        STATE_AGE.set(0.0)
        if self.stale:
            self.stale = False
            STATE_STALE.set(0)
            self._seen = (-1, -1)  # forces the state to be applied again
            log.warning("rollout state readable again; applying it")
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

    def check_age(self) -> bool:
        """Falls back to the primary when the last good read is older than `max_age_s`; True when stale."""
        age = None if self.last_read is None else self.clock() - self.last_read
        if age is not None:
            STATE_AGE.set(age)
        if not self.stale and self.last_read is not None and age is not None and age > self.max_age_s:
            self.stale, self.state = True, None
            STATE_STALE.set(1)
            log.error("rollout state unreadable for %.0f s (max %.0f s): serving the primary", age, self.max_age_s)
        return self.stale

    def describe(self) -> dict[str, Any]:
        """This process's view of the rollout, for `/readyz`."""
        age = None if self.last_read is None else round(self.clock() - self.last_read, 3)
        state = self.state
        return {"state": "stale" if self.stale else "applied" if state else "none", "read_age_s": age,
                "max_age_s": self.max_age_s, "serving": "primary only" if self.stale or state is None else
                f"stage {state.stage} ({state.share:.0%} candidate)",
                "stage": None if state is None else state.stage, "version": None if state is None else state.version}

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_interval_s)
            try:
                await asyncio.wait_for(asyncio.to_thread(self.refresh), timeout=self.max_age_s)
            except Exception:
                REFRESH_ERRORS.inc()
                log.exception("rollout state refresh failed; keeping the last known state for up to %.0f s",
                              self.max_age_s)
            self.check_age()

    async def start(self) -> None:
        """Migrates the tables, loads the state once, then keeps it fresh in the background."""
        await asyncio.to_thread(self.store.migrate)
        try:
            await asyncio.to_thread(self.refresh)
        except Exception:
            REFRESH_ERRORS.inc()
            self.stale = True  # never read: the primary serves, and /readyz and the gauge say why
            STATE_STALE.set(1)
            log.exception("rollout state could not be read at start; serving the primary until it can")
        self._task = asyncio.create_task(self._refresh_forever(), name="rollout-refresh")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
