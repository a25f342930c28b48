"""`peptalk loadtest run|gate|scenarios`: headless Locust runs and the SLO gate the rollout checks."""

from __future__ import annotations

from pathlib import Path

import typer

loadtest_app = typer.Typer(name="loadtest", help="Load-test the service with Locust and gate a rollout on SLOs.",
                           no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _env_pairs(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise _fail(f"--env takes NAME=VALUE, got {pair!r}")
        env[name.strip()] = value
    return env


@loadtest_app.command("scenarios")
def scenarios() -> None:
    """List the named scenarios and the settings each starts the app with."""
    from loadtest.scenarios import SCENARIOS, format_mix

    for scenario in SCENARIOS.values():
        typer.echo(f"{scenario.name}: {scenario.description}")
        typer.echo(f"    repeat share {scenario.repeat_share}, mix {format_mix(scenario.mix)}")
        typer.echo("    app env: " + " ".join(f"{name}={value}" for name, value in scenario.env().items()))


@loadtest_app.command("run")
def run(
    scenario: str = typer.Option(..., help="cache-hit-heavy, all-miss or shadow-on (see `peptalk loadtest scenarios`)."),
    users: int = typer.Option(4, min=1, max=10_000, help="Concurrent simulated users."),
    duration: int = typer.Option(60, min=1, max=86_400, help="Seconds of load."),
    url: str | None = typer.Option(None, help="Target a running service instead of starting one on 127.0.0.1."),
    out: Path = typer.Option(Path("var/loadtest"), help="Folder for CSV, HTML, logs and run.json."),
    spawn_rate: float | None = typer.Option(None, min=0.1, help="Users started per second (default: all at once)."),
    mix: str | None = typer.Option(None, help="Endpoint weights, e.g. invoke=4,stream=4,batch=1."),
    repeat_share: float | None = typer.Option(None, min=0.0, max=1.0, help="Share of exact repeats (cache hits)."),
    env: list[str] = typer.Option([], "--env", help="Extra NAME=VALUE for the started app (repeatable)."),
    api_key: str | None = typer.Option(None, envvar="PEPTALK_LOADTEST_API_KEY", help="Sent as X-API-Key."),
    think_time: float = typer.Option(0.0, min=0.0, help="Seconds each user waits between requests."),
    batch_size: int = typer.Option(2, min=1, max=100, help="Inputs per batch call."),
) -> None:
    """Run a scenario headless and write Locust's CSV and HTML report to --out."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from loadtest.errors import LoadTestError
    from loadtest.runner import RunConfig, exit_on_sigterm
    from loadtest.runner import run as run_locust
    from loadtest.scenarios import SCENARIOS, parse_mix

    if scenario not in SCENARIOS:
        raise _fail(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    if url is not None and not url.startswith(("http://", "https://")):
        raise _fail(f"--url must start with http:// or https://, got {url!r}")
    try:
        weights = parse_mix(mix) if mix else None
    except ValueError as exc:
        raise _fail(f"--mix: {exc}") from exc
    exit_on_sigterm()
    config = RunConfig(scenario=SCENARIOS[scenario], users=users, duration_s=duration, out_dir=out, url=url,
                       spawn_rate=spawn_rate, app_env=_env_pairs(env), mix=weights, repeat_share=repeat_share,
                       api_key=api_key, think_time_s=think_time, batch_size=batch_size)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task(f"{scenario}: {users} users", total=duration)
        try:
            result = run_locust(config, on_tick=lambda elapsed: bar.update(task, completed=min(elapsed, duration)))
        except LoadTestError as exc:
            raise _fail(str(exc)) from exc
    problem = result.measured_nothing()
    if problem is not None:
        raise _fail(problem)
    typer.echo(f"results: {result.stats_csv} and {result.html_report} (Locust exit {result.locust_exit_code})")
    if result.summary:
        typer.echo("seen: " + ", ".join(f"{name} {count}" for name, count in result.summary.items()))


@loadtest_app.command("gate")
def gate(
    results: Path = typer.Option(..., help="A results folder written by `peptalk loadtest run` (or Locust --csv)."),
    slo: Path = typer.Option(Path("loadtest/slo.yaml"), help="YAML thresholds: p95_ms, max_error_rate, min_rps."),
) -> None:
    """Exit 0 when every SLO holds, 1 when one is missed, 2 when the inputs cannot be read."""
    from rich.console import Console
    from rich.table import Table

    from loadtest.errors import LoadTestError
    from loadtest.gate import evaluate, load_slo, read_stats, stats_csv

    try:
        thresholds = load_slo(slo)
        checks = evaluate(read_stats(stats_csv(results)), thresholds)
    except LoadTestError as exc:
        raise _fail(str(exc)) from exc
    table = Table(title=f"SLO gate: {results}")
    for column in ("scope", "metric", "observed", "threshold", "result"):
        table.add_column(column)
    for check in checks:
        bound = "<=" if check.metric != "rps" else ">="
        table.add_row(check.scope, check.metric, f"{check.observed:.4g}", f"{bound} {check.threshold:.4g}",
                      "[green]pass[/]" if check.passed else "[red]FAIL[/]")
    Console().print(table)
    failed = [check for check in checks if not check.passed]
    if failed:
        typer.echo(f"SLO missed: {len(failed)} of {len(checks)} checks failed", err=True)
        raise typer.Exit(1)
    typer.echo(f"SLO met: {len(checks)} checks passed")
