"""The probe store's contract, on a real SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from evaluation.probe_store import ProbeCall, ProbeStore
from peptalk.db import current_revisions, make_engine, sqlite_url, upgrade

STARTED = dt.datetime(2026, 11, 22, 9, 0, 0, 123456, tzinfo=dt.timezone.utc)
REQUEST = {"user_id": "ada", "today": "2026-11-22", "completed_tasks": ["Run 10 km"]}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ProbeStore]:
    url = sqlite_url(tmp_path / "probes.db") if request.param == "sqlite" else request.getfixturevalue("postgres_database")
    engine = make_engine(url)
    upgrade(engine)
    yield ProbeStore(engine)
    engine.dispose()


def _call(run_id: int, slot: int, seq: int, *, phase: str = "measured", error: str | None = None) -> ProbeCall:
    return ProbeCall(run_id=run_id, slot=slot, phase=phase, seq=seq, model="ollama:starling-lm:7b",  # type: ignore[arg-type]
                     started_at=STARTED + dt.timedelta(seconds=slot * 60 + seq),
                     latency_s=None if error else 0.25 + seq, ttft_s=None if error else 0.05,
                     input_tokens=None if error else 30, output_tokens=None if error else 12,
                     response_chars=None if error else 64, error=error)


def test_runs_and_calls_round_trip(store: ProbeStore) -> None:
    assert "probes_0001" in current_revisions(store.engine)
    assert store.latest_run_id() is None
    run_id = store.start_run(models=["ollama:starling-lm:7b", "embedded:smollm2-135m"], interval_s=3600.0,
                             warmup=1, measured=2, request=REQUEST, started_at=STARTED)
    other = store.start_run(models=["embedded:smollm2-135m"], interval_s=60.0, warmup=0, measured=1,
                            request=REQUEST, started_at=STARTED)
    assert store.latest_run_id() == other > run_id
    written = [_call(run_id, 1, 0), _call(run_id, 0, 0, phase="warmup"), _call(run_id, 0, 1),
               _call(run_id, 0, 2, error="ConnectionRefusedError: down"), _call(other, 0, 0)]
    for call in written:
        store.add(call)

    measured = store.calls(run_id=run_id)
    assert [(call.slot, call.seq) for call in measured] == [(0, 1), (0, 2), (1, 0)]  # slot order, warm-up left out
    assert measured[0] == written[2]  # every field, the aware UTC time included
    assert measured[1].error == "ConnectionRefusedError: down" and measured[1].latency_s is None
    assert len(store.calls(run_id=run_id, phase=None)) == 4 and len(store.calls()) == 4
    assert [call.phase for call in store.calls(run_id=run_id, phase="warmup")] == ["warmup"]

    run = store.run(run_id)
    assert run is not None and run["status"] == "running" and run["finished_at"] is None
    assert run["models"] == ["ollama:starling-lm:7b", "embedded:smollm2-135m"] and run["request"] == REQUEST
    store.finish_run(run_id, "stopped", STARTED + dt.timedelta(hours=1))
    run = store.run(run_id)
    assert run is not None and run["status"] == "stopped" and run["finished_at"] is not None
    assert store.run(other)["status"] == "running" and store.run(9999) is None  # type: ignore[index]

    records = store.call_records(run_id=run_id)
    assert [record.source for record in records] == ["probe"] * 3
    assert records[0].prompt_id == f"probe-run-{run_id}" and records[0].output_tokens == 12
