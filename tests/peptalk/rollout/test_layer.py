"""`RolloutLayer` with a scripted inner layer and a real SQLite log: arms, stickiness, fallback, mirrored pairs."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

from langchain_core.messages import AIMessageChunk, HumanMessage

from peptalk.rollout.assign import serves_candidate
from peptalk.rollout.facts import RolloutFact
from peptalk.rollout.layer import RolloutLayer
from peptalk.rollout.live import LiveRollout
from peptalk.rollout.store import RolloutStore
from peptalk.shadow import BatchWriter, SqlShadowStore
from router.call import AnswerFacts, Call, facts_chunk, facts_of
from router.errors import AllBackendsFailed
from tests.helpers import wait_for_async
from tests.peptalk.rollout.helpers import CANDIDATE, PRIMARY, make_plan


class Scripted:
    """Answers as the pinned model (the primary when unpinned); `down` models fail before their first token."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.calls: list[str | None] = []

    async def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        model = call.model or PRIMARY
        self.calls.append(call.model)
        if model in self.down:
            raise AllBackendsFailed([f"{model}: connection refused"])
        yield facts_chunk(AnswerFacts(model=model))
        yield AIMessageChunk(content=f"answer from {model}")


def call_for(user: str | None, model: str | None = None) -> Call:
    return Call(messages=[HumanMessage("tasks")], request={"user_id": user} if user else {}, model=model)


async def drain(layer: RolloutLayer, call: Call) -> str:
    return "".join([chunk.text async for chunk in layer.astream(call)])


async def rollout_fact(layer: RolloutLayer, call: Call) -> dict[str, object] | None:
    """What the answer's first chunk says about the rollout, as clients see it; no later chunk says anything of it."""
    chunks = [chunk async for chunk in layer.astream(call)]
    assert all((facts_of(chunk) or AnswerFacts()).get(RolloutFact) is None for chunk in chunks[1:])
    facts = facts_of(chunks[0])
    assert facts is not None and facts.model is not None  # the facts from below are kept
    sent = facts.as_dict().get("rollout")
    assert (sent is None) == (facts.get(RolloutFact) is None)
    return sent


async def test_arms_fallback_and_pairs(tmp_path: Path) -> None:
    store = RolloutStore.from_url(f"sqlite:///{tmp_path / 'peptalk.db'}")
    store.migrate()
    rollout = store.create(make_plan(mirror_rate=1.0), actor="operator", reason="t")
    rollout = store.transition(rollout, kind="advance", to_stage=3, status="active", actor="operator", reason="50%")
    inner = Scripted()
    shadow = SqlShadowStore(store.engine)
    layer = RolloutLayer(inner, inner, live=LiveRollout(store, refresh_interval_s=60),  # type: ignore[arg-type]
                         writer=BatchWriter(shadow, batch_size=100, flush_interval_s=0.05), stored_user_id=str)
    await layer.start()
    try:
        salt = rollout.plan.assignment_salt
        users = [f"user-{index}" for index in range(40)]
        for user in users:
            expected = CANDIDATE if serves_candidate(user, 0.5, salt) else PRIMARY
            assert await drain(layer, call_for(user)) == f"answer from {expected}"
        assert await drain(layer, call_for(None)) == f"answer from {PRIMARY}"  # no user: the primary
        assert await drain(layer, call_for("user-1", model="embedded:x")) == "answer from embedded:x"  # pinned: as is
        victim = next(user for user in users if serves_candidate(user, 0.5, salt))
        other = next(user for user in users if not serves_candidate(user, 0.5, salt))
        stage = {"stage": "50", "version": rollout.version}
        assert await rollout_fact(layer, call_for(victim)) == stage | {"arm": "candidate"}  # each answer says its arm
        assert await rollout_fact(layer, call_for(other)) == stage | {"arm": "primary"}
        assert await rollout_fact(layer, call_for(None)) == stage | {"arm": "primary"}  # no user: the primary's arm
        assert await rollout_fact(layer, call_for(other, model="embedded:x")) is None  # the rollout did not route it
        inner.down.add(CANDIDATE)
        assert await drain(layer, call_for(victim)) == f"answer from {PRIMARY}"  # the user never sees the failure
        assert await rollout_fact(layer, call_for(victim)) == stage | {"arm": "fallback"}
        # 40 users' and the anonymous request's mirrors, the fact checks' 3 mirrors and 2 failure pairs (not the
        # pinned calls), written as the mirrors in the background answer

        async def all_pairs_written() -> bool:
            await layer.writer.flush()
            return shadow.count() >= 46

        await wait_for_async(all_pairs_written, what="46 pairs written")
        rows = list(shadow.read())
        assert len(rows) == 46
        failed = [row for row in rows if row.primary.error]
        assert len(failed) == 2 and failed[0].primary.model == CANDIDATE
        assert failed[0].candidates[0].model == PRIMARY and failed[0].candidates[0].response  # the fallback answer
        directions = {(row.primary.model, row.candidates[0].model) for row in rows}
        assert directions == {(CANDIDATE, PRIMARY), (PRIMARY, CANDIDATE)}  # shadow both ways
        assert layer.routes_elsewhere(call_for(victim)) and not layer.routes_elsewhere(call_for(other))
        assert not layer.routes_elsewhere(call_for(victim, model="embedded:x"))
    finally:
        await layer.aclose()
    # Every candidate call is counted, served or mirrored, whatever its outcome: here each is also in a pair.
    tallies = store.tallies(CANDIDATE, since=rollout.created_at, until=rollout.created_at + dt.timedelta(days=1))
    candidate_calls = sum(row.primary.model == CANDIDATE or row.candidates[0].model == CANDIDATE for row in rows)
    assert sum(t.calls for t in tallies) == candidate_calls == 46
    candidate_errors = sum(bool(call.error) for row in rows for call in (row.primary, *row.candidates)
                           if call.model == CANDIDATE)  # mirrors still running when the candidate went down fail
    assert sum(t.errors for t in tallies) == candidate_errors >= 2 and sum(t.empty_answers for t in tallies) == 0
    store.close()


async def test_a_process_that_cannot_read_the_stage_serves_the_primary_and_says_so(tmp_path: Path) -> None:
    store = RolloutStore.from_url(f"sqlite:///{tmp_path / 'peptalk.db'}")
    store.migrate()
    rollout = store.create(make_plan(), actor="operator", reason="t")
    store.transition(rollout, kind="advance", to_stage=4, status="active", actor="operator", reason="100%")
    now = [1000.0]
    live = LiveRollout(store, refresh_interval_s=60, max_age_s=30, clock=lambda: now[0])
    live.refresh()
    assert live.state is not None and live.state.share == 1.0 and live.describe()["state"] == "applied"
    now[0] += 29
    assert not live.check_age() and live.state is not None  # within max_age_s: the last stage stays in force
    now[0] += 2
    assert live.check_age() and live.state is None  # past it: the primary serves everyone
    described = live.describe()
    assert described["state"] == "stale" and described["serving"] == "primary only" and described["read_age_s"] == 31
    from peptalk.metrics import REGISTRY  # peptalk's own registry (the global one holds it only once an app ran)

    assert REGISTRY.get_sample_value("peptalk_rollout_state_stale") == 1.0
    inner = Scripted()
    writer = BatchWriter(SqlShadowStore(store.engine), batch_size=100, flush_interval_s=0.05)
    layer = RolloutLayer(inner, inner, live=live, writer=writer,  # type: ignore[arg-type]
                         stored_user_id=str)
    assert await drain(layer, call_for("anyone")) == f"answer from {PRIMARY}"
    live.refresh()  # readable again: the stage is applied again
    assert not live.stale and live.state is not None and live.state.share == 1.0
    assert REGISTRY.get_sample_value("peptalk_rollout_state_stale") == 0.0
    assert await drain(layer, call_for("anyone")) == f"answer from {CANDIDATE}"
    store.close()
