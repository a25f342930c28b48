"""Process and port helpers shared by the fixtures: real servers on 127.0.0.1, always cleaned up."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen[bytes] | None, *, timeout_s: float, log: Path | None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            output = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered:\n{output}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s")


@contextlib.contextmanager
def running(cmd: list[str], ready_url: str, *, log: Path, env: dict[str, str] | None = None,
            timeout_s: float = 90.0) -> Iterator[subprocess.Popen[bytes]]:
    """Starts `cmd`, waits for `ready_url`, and stops the process (and its log file) afterwards."""
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    with log.open("wb") as sink:
        process = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=full_env, cwd=ROOT)
        try:
            wait_until_up(ready_url, process, timeout_s=timeout_s, log=log)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def python() -> str:
    return sys.executable


@contextlib.contextmanager
def serving(app: object, *, timeout_s: float = 30.0) -> Iterator[str]:
    """Runs an ASGI app under uvicorn on a thread on 127.0.0.1; yields its base URL (no trailing slash)."""
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn on port {port} did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout_s)


# The upper bound of a wall-clock assertion, and the deadline of a wait: far above what a loaded 2-core CI machine
# needs, far below what the failure it guards against takes (a `hang` of 3600 s, a 120 s Retry-After, a 60 s
# timeout). No test asserts a wall-clock time under 30 s (tests/test_no_flaky_waits.py); tight timings are
# measured in bench/, not asserted here.
GENEROUS_S = 30.0
T = TypeVar("T")


def wait_for(check: Callable[[], T], *, timeout_s: float = GENEROUS_S, interval_s: float = 0.05,
             what: str = "the condition") -> T:
    """Polls `check` until it returns something truthy, and returns that; fails the test after `timeout_s`.

    The one way tests wait for background work (a writer's flush, a sync, a refresh): never a fixed sleep
    followed by an assertion, which passes or fails with the machine's speed.
    """
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout_s} s")
        time.sleep(interval_s)
    return result


async def wait_for_async(check: Callable[[], T | Awaitable[T]], *, timeout_s: float = GENEROUS_S,
                         interval_s: float = 0.02, what: str = "the condition") -> T:
    """`wait_for` inside an event loop: polls with `asyncio.sleep`, so the background tasks it waits for can run;
    `check` may be a coroutine function."""
    import asyncio
    import inspect

    async def checked() -> T:
        result = check()
        return await result if inspect.isawaitable(result) else result  # type: ignore[return-value]

    deadline = time.monotonic() + timeout_s
    while not (result := await checked()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout_s} s")
        await asyncio.sleep(interval_s)
    return result
