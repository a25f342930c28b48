"""Runs a scenario: starts the app (or targets a URL), runs Locust headless as a subprocess, keeps CSV and HTML."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from loadtest.errors import AppStartError
from loadtest.scenarios import SCENARIOS, Scenario, format_mix

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
CSV_PREFIX = "locust"


@dataclass
class RunConfig:
    """One headless run."""

    scenario: Scenario
    users: int
    duration_s: int
    out_dir: Path
    url: str | None = None  # None: start the app on 127.0.0.1
    spawn_rate: float | None = None  # users started per second; default: all at once
    app_env: dict[str, str] = field(default_factory=dict)  # extra PEPTALK_* for the started app
    mix: dict[str, int] | None = None  # default: the scenario's
    repeat_share: float | None = None  # default: the scenario's
    api_key: str | None = None
    think_time_s: float = 0.0
    batch_size: int = 2
    warm_up: bool = True  # one request before the clock starts, so model loading is not measured
    hot_set: int = 20
    prefilled_hot_set: bool = False  # the caller sent the hot set before the run (see bench/throughput_ratio.py)
    stop_timeout_s: int = 10  # at the end, calls in flight get this long to finish and be counted

    def effective_mix(self) -> dict[str, int]:
        return self.mix or self.scenario.mix

    def effective_repeat_share(self) -> float:
        return self.scenario.repeat_share if self.repeat_share is None else self.repeat_share


@dataclass
class RunResult:
    """Where the results are and how Locust ended (exit code 1: some requests failed)."""

    out_dir: Path
    url: str
    locust_exit_code: int
    stats_csv: Path
    html_report: Path
    summary: dict[str, object]
    config: RunConfig
    warm_up_s: float | None = None  # how long the warm-up answer took; None: no warm-up, or it failed

    def requests_finished(self) -> int | None:
        """Requests that finished (failed ones included), from the stats CSV; None when there is none."""
        if not self.stats_csv.exists():
            return None
        with self.stats_csv.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("Name") == "Aggregated":
                    return int(row.get("Request Count") or 0)
        return 0

    def measured_nothing(self) -> str | None:
        """Why the run measured nothing (no stats, or no request finished in time); None when it measured."""
        finished = self.requests_finished()
        if finished is None:
            return f"Locust wrote no stats (exit {self.locust_exit_code}); see {self.out_dir / 'locust.log'}"
        if finished:
            return None
        config = self.config
        reason = (f"no request finished within the {config.duration_s} s run (and the {config.stop_timeout_s} s "
                  f"allowed after it for calls in flight): one answer takes longer than the run")
        if self.warm_up_s is None:
            return reason + "; run longer (--duration)"
        # Each user may wait for the others' answers on a model that decodes one request at a time.
        needed = math.ceil(self.warm_up_s * (config.users + 1) / 10) * 10
        return (f"{reason} (the warm-up answer took {self.warm_up_s:.1f} s); run for at least {needed} s "
                f"(--duration {needed}) so that each of the {config.users} users gets answers")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise AppStartError(f"the app exited with {process.returncode} before it was ready:\n{tail}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200:
                return
        time.sleep(0.2)
    raise AppStartError(f"the app at {url} was not ready within {timeout_s:.0f} s (log: {log})")


@contextlib.contextmanager
def started_app(env: dict[str, str], *, log: Path, ready_timeout_s: float = 120.0) -> Iterator[str]:
    """`uvicorn langserve_app:create_app --factory` on a free 127.0.0.1 port with `env`; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "uvicorn", "langserve_app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning", "--no-access-log"]
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                **env}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        process = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=full_env, cwd=ROOT)
        try:
            _wait_ready(url, process, log, ready_timeout_s)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def locust_command(config: RunConfig, url: str, summary: Path) -> list[str]:
    """The headless Locust command line for `config` against `url`."""
    users = config.users
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", url,
           "-u", str(users), "-r", str(config.spawn_rate or users), "-t", f"{config.duration_s}s",
           "--csv", str(config.out_dir / CSV_PREFIX), "--html", str(config.out_dir / "report.html"),
           "--only-summary", "--stop-timeout", str(config.stop_timeout_s),
           "--repeat-share", str(config.effective_repeat_share()), "--mix", format_mix(config.effective_mix()),
           "--batch-size", str(config.batch_size), "--think-time", str(config.think_time_s),
           "--hot-set", str(config.hot_set), "--summary", str(summary)]
    if config.prefilled_hot_set:
        cmd.append("--prefilled-hot-set")
    if config.api_key:
        cmd += ["--api-key", config.api_key]
    return cmd


def _warm_up(url: str, api_key: str | None) -> float | None:
    """Sends one request before the clock starts; how long its answer took (None: it failed)."""
    from peptalk.synthetic import load_contexts

    headers = {"X-API-Key": api_key} if api_key else {}
    payload = load_contexts()[0] | {"user_id": "warm-up"}
    started = time.monotonic()
    try:
        response = httpx.post(f"{url}/peptalk/invoke", json={"input": payload}, headers=headers, timeout=300)
    except httpx.HTTPError:
        return None
    return time.monotonic() - started if response.status_code == 200 else None


def app_env_for(config: RunConfig) -> dict[str, str]:
    """The settings the app is started with: the scenario's, a fresh data folder, then the caller's."""
    return {"PEPTALK_DATA_DIR": str(config.out_dir / "app-data"), **config.scenario.env(), **config.app_env}


def exit_on_sigterm() -> None:
    """Turns SIGTERM into `SystemExit`, so the started app and Locust are stopped by the `finally` blocks."""
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def masked(env: dict[str, str]) -> dict[str, str]:
    """`env` with secret-looking values hidden, for the run record."""
    secret = ("KEY", "SECRET", "SALT", "PASSWORD", "TOKEN")
    return {name: "***" if any(word in name.upper() for word in secret) else value for name, value in env.items()}


def run(config: RunConfig, *, on_tick: Callable[[float], None] | None = None) -> RunResult:
    """Runs Locust for `duration_s` (plus start-up), and returns where its CSV and HTML are."""
    config = dataclasses.replace(config, out_dir=config.out_dir.resolve())  # Locust runs in ROOT, not here
    config.out_dir.mkdir(parents=True, exist_ok=True)
    summary_path = config.out_dir / "summary.json"
    warm_up_s: float | None = None
    with contextlib.ExitStack() as stack:
        url = config.url or stack.enter_context(started_app(app_env_for(config), log=config.out_dir / "app.log"))
        if config.warm_up:
            warm_up_s = _warm_up(url, config.api_key)
        cmd = locust_command(config, url, summary_path)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        with (config.out_dir / "locust.log").open("wb") as sink:
            process = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
            started = time.monotonic()
            try:
                while process.poll() is None:
                    if on_tick:
                        on_tick(time.monotonic() - started)
                    if time.monotonic() - started > config.duration_s + config.stop_timeout_s + 120:
                        process.kill()
                    time.sleep(0.25)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    record = {"scenario": config.scenario.name, "users": config.users, "duration_s": config.duration_s, "url": url,
              "started_app": config.url is None, "repeat_share": config.effective_repeat_share(),
              "mix": config.effective_mix(), "app_env": masked(app_env_for(config)) if config.url is None else {},
              "locust_exit_code": process.returncode, "command": cmd, "summary": summary, "warm_up_s": warm_up_s}
    (config.out_dir / "run.json").write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    return RunResult(config.out_dir, url, process.returncode, config.out_dir / f"{CSV_PREFIX}_stats.csv",
                     config.out_dir / "report.html", summary, config, warm_up_s)


__all__ = ["SCENARIOS", "RunConfig", "RunResult", "locust_command", "run", "started_app"]
