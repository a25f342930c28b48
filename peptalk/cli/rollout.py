"""`peptalk rollout start|status|approve|pause|resume|rollback|history|judge|run`: the gated traffic shift."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from peptalk.rollout.controller import Controller
    from peptalk.rollout.store import RolloutStore

app = typer.Typer(name="rollout", no_args_is_help=True,
                  help="Move users from the primary to a candidate stage by stage, gated on judged evidence.")
DB_HELP = "SQLAlchemy URL of peptalk's database (default: PEPTALK_DATABASE_URL, or the SQLite file in PEPTALK_DATA_DIR)."
REASON_HELP = "Why, stored with the transition."


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _store(database_url: str | None) -> RolloutStore:
    from peptalk.rollout.store import RolloutStore
    from peptalk.settings import get_settings

    url = database_url or get_settings().resolved_database_url()
    try:
        store = RolloutStore.from_url(url)
        store.migrate()
    except Exception as exc:  # a wrong URL or an unreachable server: say so, no traceback
        raise _fail(f"cannot open the database at {url}: {type(exc).__name__}: {exc}", 1) from exc
    return store


@contextmanager
def _controller(database_url: str | None) -> Iterator[Controller]:
    from peptalk.observability.prices import load_prices
    from peptalk.rollout.controller import Controller
    from peptalk.rollout.errors import RolloutStateError, RolloutStoreError
    from peptalk.settings import get_settings

    store = _store(database_url)
    try:
        yield Controller(store, prices=load_prices(get_settings().price_table))
    except RolloutStateError as exc:
        raise _fail(str(exc)) from exc
    except RolloutStoreError as exc:
        raise _fail(str(exc), 1) from exc
    finally:
        store.close()


def _known_models() -> list[str] | None:
    """The models the configured router serves; None when the configuration cannot say."""
    from peptalk.settings import get_settings
    from router.registry import build_router

    try:
        return build_router(get_settings()).known_models()
    except Exception:  # noqa: BLE001 - an unbuildable router is reported by `peptalk serve`, not here
        return None


@app.command()
def start(plan_path: Path = typer.Argument(..., metavar="PLAN", help="The rollout plan (YAML)."),
          replace: bool = typer.Option(False, help="Supersede a rollout already in progress."),
          reason: str = typer.Option("started by an operator", help=REASON_HELP),
          database_url: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """Check the plan and start the rollout at its first stage (usually shadow, 0% of users)."""
    from peptalk.rollout.errors import PlanError
    from peptalk.rollout.plan import load_plan, plan_warnings

    try:
        plan = load_plan(plan_path)
    except PlanError as exc:
        raise _fail(f"{exc} [key: {exc.key}]") from exc
    for warning in plan_warnings(plan):
        typer.echo(f"warning: {warning}", err=True)
    known = _known_models()
    if known is not None:
        for key, model in (("candidate", plan.candidate), ("primary", plan.primary), ("judge.model", plan.judge.model)):
            if model not in known:
                raise _fail(f"{key}: {model} is not a configured model ({', '.join(known)}) [key: {key}]")
    store = _store(database_url)
    try:
        current = store.current()
        if current is not None and not replace:
            raise _fail(f"a rollout of {current.plan.candidate} is in progress (stage {current.stage.name}, "
                        f"{current.status}); pass --replace to supersede it")
        rollout = store.create(plan, actor="operator", reason=reason)
    finally:
        store.close()
    typer.echo(f"rollout {rollout.id} of {plan.candidate} started at stage {rollout.stage.name} "
               f"({rollout.share:.0%} of users); stages: " + " -> ".join(f"{s.name} {s.share:.0%}" for s in plan.stages))


def _print_report(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(f"rollout {data['rollout_id']}: {data['candidate']} vs {data['primary']} — stage {data['stage']} "
                  f"({data['share']:.0%}), {data['status']}, in stage for {data['stage_age_s']:.0f} s")
    evidence = Table("evidence (this stage)", "value")
    from peptalk.rollout.controller import EVIDENCE_SHOWN

    for key in EVIDENCE_SHOWN:
        value = data["evidence"].get(key)
        evidence.add_row(key, "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value))
    console.print(evidence)
    gates = Table("gate", "value", "bound", "result")
    for gate in data["gates"]:
        result = {True: "pass", False: "fail", None: "not enough data"}[gate["passed"]]
        value = "-" if gate["value"] is None else f"{gate['value']:.4g}"
        gates.add_row(gate["name"], value, f"{gate['bound']:g}", result)
    console.print(gates)
    for breach in data["breaches"]:
        console.print(f"BREACH ({breach['severity']}) {breach['gate']}: {breach['detail']}")
    if data.get("stalled"):
        console.print(f"EVIDENCE STALLED: no verdict for {data['evidence_age_s']:.0f} s "
                      f"(stall_after_s {data['stall_after_s']:g})")
    step = data["next"]
    console.print(f"next: {step['action'] or 'wait'} {step['reason']}".rstrip())
    for note in data["notes"]:
        console.print(f"  {note}")


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
           database_url: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """The current stage, the evidence over it, each gate, and what the controller will do next."""
    with _controller(database_url) as controller:
        rollout = controller.store.current()
        if rollout is None:
            if as_json:
                typer.echo(json.dumps({"rollout": None}))
                return
            raise _fail("no rollout in progress: start one with `peptalk rollout start PLAN`", 1)
        data = controller.evaluate(rollout).to_dict()
    if as_json:
        typer.echo(json.dumps({"rollout": data}, indent=2))
    else:
        _print_report(data)


def _said(rollout: Any, verb: str) -> None:
    typer.echo(f"rollout {rollout.id} {verb}: stage {rollout.stage.name} ({rollout.share:.0%} of users), {rollout.status}")


@app.command()
def approve(reason: str = typer.Option("approved", help=REASON_HELP),
            database_url: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """Advance a stage whose gates passed and whose plan asks for approval."""
    with _controller(database_url) as controller:
        _said(controller.approve(reason=reason), "approved")


@app.command()
def pause(reason: str = typer.Option("paused", help=REASON_HELP),
          database_url: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """Stop advancing (rollbacks still happen); the stage keeps serving."""
    with _controller(database_url) as controller:
        _said(controller.pause(reason=reason), "paused")


@app.command()
def resume(reason: str = typer.Option("resumed", help=REASON_HELP),
           database_url: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """Let a paused or rolled-back rollout advance again; the stage's clock and evidence start afresh."""
    with _controller(database_url) as controller:
        _said(controller.resume(reason=reason), "resumed")


@app.command()
def rollback(to: str | None = typer.Option(None, "--to", help="Stage to return to (default: the first, 0%)."),
             reason: str = typer.Option("rolled back by an operator", help=REASON_HELP),
             database_url: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """Return to an earlier stage now, and hold there until `resume`."""
    from peptalk.rollout.errors import PlanError

    with _controller(database_url) as controller:
        try:
            rollout = controller.rollback(to_stage=to, reason=reason)
        except PlanError as exc:
            raise _fail(f"--to: {exc}") from exc
        _said(rollout, "rolled back")


@app.command()
def history(as_json: bool = typer.Option(False, "--json", help="Print the transitions as JSON, evidence included."),
            every: bool = typer.Option(False, "--all", help="Every rollout's transitions, not only the current one's."),
            database_url: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """Every transition: when, from which stage to which, by whom and why (with its evidence in --json)."""
    from dataclasses import asdict

    store = _store(database_url)
    try:
        current = store.current()
        transitions = store.history(None if every or current is None else current.id)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps([asdict(t) | {"at": t.at.isoformat()} for t in transitions], indent=2))
        return
    for t in transitions:
        typer.echo(f"{t.at.isoformat(timespec='seconds')}  #{t.rollout_id} {t.kind:<13} {t.from_stage or '-'} -> "
                   f"{t.to_stage} [{t.status}] by {t.actor}: {t.reason}")


@app.command()
def run(once: bool = typer.Option(False, help="Evaluate once and exit."),
        database_url: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """The controller outside the app: evaluate the gates every plan's evaluation interval, advance or roll back."""
    with _controller(database_url) as controller:
        if once:
            transition = controller.tick()
            typer.echo("no change" if transition is None else
                       f"{transition.kind}: {transition.from_stage} -> {transition.to_stage} ({transition.reason})")
            return
        asyncio.run(controller.run_forever())


@app.command()
def judge(once: bool = typer.Option(False, help="One pass over the pending pairs, then exit."),
          interval_s: float = typer.Option(10.0, min=0.01, help="Seconds between passes."),
          limit: int = typer.Option(50, min=1, help="Most pairs judged per pass."),
          database_url: str | None = typer.Option(None, help=DB_HELP)) -> None:
    """Judge the rollout's pairs in both orders with the plan's judge model, within its budget."""
    from evaluation.rollout.worker import judge_passes

    store = _store(database_url)
    try:
        outcome = asyncio.run(judge_passes(store, once=once, interval_s=interval_s, limit=limit))
    except Exception as exc:
        from router.errors import ConfigError

        if isinstance(exc, ConfigError):
            raise _fail(f"judge model: {exc}") from exc
        raise
    finally:
        store.close()
    if outcome is not None:
        typer.echo(f"judged {outcome.judged} pairs ({outcome.unparsed} unreadable, {outcome.failed} failed)"
                   + (f"; stopped: {outcome.stopped_by}" if outcome.stopped_by else ""))
