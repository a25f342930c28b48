"""`peptalk probe`: the same request to each model on a schedule, recorded in the database."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from pathlib import Path
from typing import Any

import typer

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(text: str, name: str) -> float:
    """`90`, `90s`, `15m`, `1h`, `1.5d` -> seconds; anything else is a `typer.BadParameter` (exit 2)."""
    match = DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise typer.BadParameter(f"{text!r} is not a positive duration such as 30s, 15m, 1h or 3600",
                                 param_hint=name)
    return float(match.group(1)) * UNITS[match.group(2)]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _request(path: Path | None) -> Any:
    from pydantic import ValidationError

    from peptalk.schema import PepTalkRequest
    from peptalk.synthetic import load_contexts

    try:
        payload = json.loads(path.read_text(encoding="utf-8")) if path else load_contexts()[0]
        return PepTalkRequest.model_validate(payload)
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise _fail(f"cannot use request {path or 'data/contexts.jsonl[0]'}: {exc}") from exc


def probe(
    model: list[str] | None = typer.Option(None, "--model", "-m",
                                           help="backend:model to probe; repeat it (default PEPTALK_PROBE_MODELS, "
                                                "else every configured model)."),
    interval: str | None = typer.Option(None, help="Time between slots: 3600, 90s, 15m, 1h (default "
                                                   "PEPTALK_PROBE_INTERVAL_S, one hour)."),
    warmup: int | None = typer.Option(None, min=0, help="Warm-up calls per model per slot (default 10)."),
    requests: int | None = typer.Option(None, min=1, help="Measured calls per model per slot (default 10)."),
    duration: str | None = typer.Option(None, help="Stop after this long, e.g. 24h (default: until stopped)."),
    slots: int | None = typer.Option(None, min=1, help="Stop after this many slots."),
    request_file: Path | None = typer.Option(None, "--request", help="JSON PepTalkRequest to send (default: the "
                                                                     "first synthetic context)."),
    database_url: str | None = typer.Option(None, help="SQLAlchemy URL (default PEPTALK_DATABASE_URL)."),
) -> None:
    """Sends the same pep-talk request to each model every interval (warm-up, then measured calls) and records
    every call in the database. Stops at --duration/--slots, or cleanly on Ctrl-C / SIGTERM."""
    from pydantic import ValidationError

    from evaluation.probe import ProbeSchedule
    from evaluation.settings import get_eval_settings

    try:
        settings = get_eval_settings()
    except ValidationError as exc:
        raise _fail(f"invalid configuration: {exc}") from exc
    try:
        schedule = ProbeSchedule(
            interval_s=parse_duration(interval, "--interval") if interval else settings.probe_interval_s,
            warmup=settings.probe_warmup if warmup is None else warmup,
            measured=settings.probe_requests if requests is None else requests,
            duration_s=parse_duration(duration, "--duration") if duration else settings.probe_duration_s,
            max_slots=slots,
            call_timeout_s=settings.request_timeout_s,
        )
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    request = _request(request_file)
    outcome = asyncio.run(_probe(settings, model or settings.probe_models, schedule, request,
                                 database_url or settings.resolved_database_url()))
    typer.echo(f"probe run {outcome.run_id} {outcome.status}: {outcome.slots} slot(s), {outcome.calls} call(s), "
               f"{outcome.errors} error(s)" + (f" {outcome.errors_by_model}" if outcome.errors else ""))


async def _probe(settings: Any, models: list[str], schedule: Any, request: Any, database_url: str) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from evaluation.probe import Prober
    from evaluation.probe_store import ProbeStore
    from peptalk.db import make_engine, upgrade
    from evaluation.routing import open_router
    from router.errors import ConfigError, UnknownModelError

    engine = make_engine(database_url)
    await asyncio.to_thread(upgrade, engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        # The router config's nodes, retries and breakers apply; a probed model never falls back to another.
        async with open_router(settings, models=models, role="--models or PEPTALK_PROBE_MODELS") as router:
            chosen = [str(router.resolve(name)) for name in models] or router.known_models()
            per_slot = len(chosen) * (schedule.warmup + schedule.measured)
            with Progress(TextColumn("probe slot {task.fields[slot]}"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[errors]} error(s)"), TimeElapsedColumn()) as progress:
                task = progress.add_task("probe", total=per_slot, slot=0, errors=0)
                counts = {"errors": 0}

                def on_call(call: Any) -> None:
                    counts["errors"] += call.error is not None
                    done = progress.tasks[0].completed
                    if done >= per_slot:
                        progress.reset(task, total=per_slot)
                    progress.update(task, advance=1, slot=call.slot, errors=counts["errors"])

                prober = Prober(router, ProbeStore(engine), models=chosen, request=request, schedule=schedule,
                                on_call=on_call)
                return await prober.run(stop)
    except (ConfigError, UnknownModelError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        engine.dispose()
