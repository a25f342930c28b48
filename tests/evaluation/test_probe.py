"""Diurnal probes: a compressed schedule, a backend killed mid-run, clean stops, and the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from langchain_core.messages import AIMessageChunk
from typer.testing import CliRunner

from evaluation.probe import Prober, ProbeSchedule
from evaluation.probe_store import ProbeCall, ProbeStore
from peptalk.cli import app
from peptalk.db import make_engine, sqlite_url, upgrade
from peptalk.schema import PepTalkRequest
from peptalk.settings import Settings
from peptalk.synthetic import load_contexts
from router.call import Call, AnswerFacts, facts_chunk
from tests.conftest import ARTIFACTS, OLLAMA_TAG
from tests.helpers import ROOT, free_port, python, running

REQUEST = PepTalkRequest.model_validate(load_contexts()[0])


def _store(tmp_path: Path) -> ProbeStore:
    engine = make_engine(sqlite_url(tmp_path / "probes.db"))
    upgrade(engine)
    return ProbeStore(engine)


class FakeLayer:
    """Answers instantly with three tokens; `down` models raise like a refused connection."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.down: set[str] = set()
        self.delay_s = delay_s
        self.calls: list[Call] = []

    async def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        self.calls.append(call)
        if call.model in self.down:
            raise ConnectionRefusedError(f"{call.model} is down")
        yield facts_chunk(AnswerFacts(model=call.model))
        await asyncio.sleep(self.delay_s)
        yield AIMessageChunk(content="Keep going!")
        yield AIMessageChunk(content="", usage_metadata={"input_tokens": 30, "output_tokens": 3, "total_tokens": 33})


async def test_compressed_schedule_runs_three_slots_and_records_outages(tmp_path: Path) -> None:
    layer = FakeLayer()
    store = _store(tmp_path)

    done = []

    def outage(call: ProbeCall) -> None:  # model b goes down for slot 1 only (10 calls a slot)
        done.append(call)
        layer.down = {"fake:b"} if 10 <= len(done) < 20 else set()

    schedule = ProbeSchedule(interval_s=1.0, warmup=2, measured=3, duration_s=2.5)  # slots at 0, 1 and 2 s
    outcome = await Prober(layer, store, models=["fake:a", "fake:b"], request=REQUEST, schedule=schedule,
                           on_call=outage).run()
    assert (outcome.status, outcome.slots, outcome.calls) == ("finished", 3, 3 * 2 * 5)
    assert outcome.errors == 5 and outcome.errors_by_model == {"fake:b": 5}
    measured = store.calls(run_id=outcome.run_id)
    assert len(measured) == 3 * 2 * 3
    failed = [(call.slot, call.model) for call in measured if call.error]
    assert set(failed) == {(1, "fake:b")} and "ConnectionRefusedError" in measured[9].error
    ok = [call for call in measured if not call.error]
    assert len(ok) == 3 * 2 * 3 - 3
    assert all(call.output_tokens == 3 and call.input_tokens == 30 and call.ttft_s is not None for call in ok)
    assert len(store.calls(run_id=outcome.run_id, phase="warmup")) == 3 * 2 * 2
    starts = sorted({min(c.started_at for c in measured if c.slot == slot) for slot in range(3)})
    assert (starts[2] - starts[0]).total_seconds() >= 1.9  # the slots kept their schedule
    run = store.run(outcome.run_id)
    assert run["status"] == "finished" and run["finished_at"] is not None
    assert {record.source for record in store.call_records()} == {"probe"}
    assert layer.calls and all(call.request == REQUEST.model_dump(mode="json") and call.model for call in layer.calls)


async def test_stop_cuts_a_slot_off_and_marks_the_run(tmp_path: Path) -> None:
    layer = FakeLayer(delay_s=0.2)
    store = _store(tmp_path)
    stop = asyncio.Event()
    schedule = ProbeSchedule(interval_s=3600, warmup=0, measured=50)

    async def stop_soon() -> None:
        await asyncio.sleep(0.5)
        stop.set()

    stopper = asyncio.create_task(stop_soon())
    outcome = await Prober(layer, store, models=["fake:a"], request=REQUEST, schedule=schedule).run(stop)
    await stopper
    assert outcome.status == "stopped" and 1 <= outcome.calls < 50  # cut off mid-slot, not after its 50 calls
    assert store.run(outcome.run_id)["status"] == "stopped"


async def test_overrun_slots_start_late_and_skip_missed_boundaries(tmp_path: Path) -> None:
    schedule = ProbeSchedule(interval_s=0.1, warmup=0, measured=1, max_slots=2)
    outcome = await Prober(FakeLayer(delay_s=0.35), _store(tmp_path), models=["fake:a"], request=REQUEST,
                           schedule=schedule).run()
    slots = [call.slot for call in _store(tmp_path).calls(run_id=outcome.run_id)]
    assert outcome.slots == 2 and slots[0] == 0 and slots[1] >= 3  # boundaries 1 and 2 were missed


def test_schedule_rejects_nonsense() -> None:
    for bad in ({"interval_s": 0}, {"measured": 0}, {"warmup": -1}, {"duration_s": -5}, {"max_slots": 0}):
        with pytest.raises(ValueError):
            ProbeSchedule(**bad)


def _double_cmd(gguf_path: Path, port: int) -> list[str]:
    return [python(), "-m", "tests.doubles.ollama_server", "--port", str(port), "--model-path", str(gguf_path),
            "--tag", OLLAMA_TAG]


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_real_backends_with_ollama_killed_mid_run(
        tmp_path: Path, gguf_path: Path, make_settings: Callable[..., Settings]) -> None:
    """Embedded SLM and the Ollama double through the real Router; the double is killed after slot 0."""
    from router.registry import build_backends
    from router.router import Router

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Generous timeouts: a cold prompt takes tens of seconds when the 2 shared cores are busy.
    settings = make_settings(backends=["embedded", "ollama"], ollama_base_url=url, ollama_models=[OLLAMA_TAG],
                             max_tokens=6, request_timeout_s=240)
    router = Router(build_backends(settings), default_model=settings.default_model)
    store = _store(tmp_path)
    models = ["ollama:starling-lm:7b", "embedded:smollm2-135m"]
    per_slot = len(models) * 2
    with running(_double_cmd(gguf_path, port), f"{url}/api/version", log=ARTIFACTS / "probe-double.log") as double:
        done: list[ProbeCall] = []

        def kill_after_slot_0(call: ProbeCall) -> None:
            done.append(call)
            if len(done) == per_slot:
                double.kill()
                double.wait()

        await router.start()
        try:
            prober = Prober(router, store, models=models, request=REQUEST, on_call=kill_after_slot_0,
                            schedule=ProbeSchedule(interval_s=0.5, warmup=1, measured=1, max_slots=3,
                                                   call_timeout_s=240))
            outcome = await prober.run()
        finally:
            await router.aclose()
    assert outcome.status == "finished" and outcome.slots == 3, outcome
    by_slot: dict[int, dict[str, list[ProbeCall]]] = {}
    for call in store.calls(run_id=outcome.run_id, phase=None):
        by_slot.setdefault(call.slot, {}).setdefault(call.model, []).append(call)
    slots = [by_slot[slot] for slot in sorted(by_slot)]
    assert len(slots) == 3
    first_ollama = slots[0]["ollama:starling-lm:7b"]
    assert len(first_ollama) == 2 and all(call.error is None and call.output_tokens for call in first_ollama), first_ollama
    for later in slots[1:]:  # recorded as errors, not raised
        assert len(later["ollama:starling-lm:7b"]) == 2
        assert all(call.error and call.latency_s is None for call in later["ollama:starling-lm:7b"])
    embedded = [call for slot in slots for call in slot["embedded:smollm2-135m"]]
    assert len(embedded) == 6 and all(call.error is None and call.latency_s > 0 for call in embedded), embedded
    assert outcome.errors_by_model == {"ollama:starling-lm:7b": 4}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_cli_probe_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "probe.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PEPTALK_MAX_TOKENS": "6", "PEPTALK_LOG_LEVEL": "WARNING",
           "PEPTALK_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "peptalk.cli", "probe", "--interval", "1h", "--warmup", "0",
                                "--requests", "1000", "--database-url", sqlite_url(db)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if db.exists():
                with contextlib.suppress(Exception):
                    if ProbeStore(make_engine(sqlite_url(db))).calls():
                        break
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.5)
        else:
            pytest.fail("the probe recorded no call within 300 s")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "stopped" in output
    store = ProbeStore(make_engine(sqlite_url(db)))
    run = store.run(store.latest_run_id())
    assert run["status"] == "stopped" and run["finished_at"] is not None
    calls = store.calls()
    assert calls and all(call.error is None for call in calls)


runner = CliRunner()


@pytest.mark.parametrize("args", [["probe", "--interval", "soon"], ["probe", "--duration", "-1h"],
                                  ["probe", "--model", "ollama:nope"], ["probe", "--requests", "0"],
                                  ["probe", "--request", "missing.json"]])
def test_cli_bad_input_exits_2(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


async def test_a_call_past_its_timeout_is_recorded_with_the_reason(tmp_path: Path) -> None:
    store = _store(tmp_path)
    schedule = ProbeSchedule(interval_s=60, warmup=0, measured=1, max_slots=1, call_timeout_s=0.05)
    outcome = await Prober(FakeLayer(delay_s=1.0), store, models=["fake:slow"], request=REQUEST,
                           schedule=schedule).run()
    [call] = store.calls(run_id=outcome.run_id)
    assert outcome.status == "finished" and call.latency_s is None
    assert call.error == "TimeoutError: no answer within 0.05 s"
