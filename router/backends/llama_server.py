"""llama.cpp's own `llama-server`, run by peptalk as a child process on a local port, restarted if it dies.

The embedded model's batched engine (`PEPTALK_EMBEDDED_ENGINE=server`): llama-server decodes the requests of
all its slots (`-np`) together in each step (continuous batching, `-cb`), so concurrent users share the memory
traffic of one decode step instead of queueing for a single worker thread. scripts/bootstrap.sh builds it from
the llama.cpp that llama-cpp-python vendors, with the same CPU flags. See docs/router.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from router.errors import ConfigError

log = logging.getLogger("peptalk.router")

READY_TIMEOUT_S = 120.0  # loading a 100 MB model takes about a second; a busy machine may take far longer
STOP_GRACE_S = 5.0
RESTART_BACKOFF_S = (0.5, 10.0)  # first wait before a restart, and the longest (doubling in between)


def default_binary() -> Path:
    """`llama-server` beside this Python (scripts/bootstrap.sh puts it in the virtualenv), else on PATH."""
    beside = Path(sys.prefix) / "bin" / "llama-server"
    if beside.is_file():
        return beside
    found = shutil.which("llama-server")
    return Path(found) if found else beside


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel sends it SIGTERM when peptalk dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass(frozen=True)
class ServerOptions:
    """What llama-server is started with."""

    binary: Path
    model_path: Path
    alias: str
    n_ctx: int  # per slot; llama-server is given n_ctx * parallel in all
    parallel: int
    threads: int
    port: int = 0  # 0: a free port, chosen once and kept across restarts
    host: str = "127.0.0.1"

    def command(self, port: int) -> list[str]:
        return [str(self.binary), "--model", str(self.model_path), "--alias", self.alias,
                "--host", self.host, "--port", str(port),
                "--ctx-size", str(self.n_ctx * self.parallel), "--parallel", str(self.parallel), "--cont-batching",
                "--threads", str(self.threads), "--threads-batch", str(self.threads),
                "--no-webui", "--jinja"]


class ManagedLlamaServer:
    """Starts llama-server, waits until it answers, watches it, restarts it when it exits, stops it."""

    def __init__(self, options: ServerOptions) -> None:
        self.options = options
        self.port = options.port
        self.restarts = 0
        self.last_exit: int | None = None
        self.log_path: Path | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._stopping = False
        self._ready = False

    @property
    def base_url(self) -> str:
        return f"http://{self.options.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        """Starts the child and waits until it serves; `ConfigError` with its log's tail when it cannot."""
        binary = self.options.binary
        if not binary.is_file():
            raise ConfigError(f"llama-server not found at {binary}: run scripts/bootstrap.sh (it builds it), set "
                              "PEPTALK_LLAMA_SERVER_BIN, or use PEPTALK_EMBEDDED_ENGINE=inprocess")
        if not self.options.model_path.is_file():
            raise ConfigError(f"embedded model file not found: {self.options.model_path}")
        self._stopping = False
        if not self.port:
            self.port = free_port(self.options.host)
        await self._spawn()
        self._watchdog = asyncio.create_task(self._watch(), name="llama-server-watchdog")

    async def _spawn(self) -> None:
        if self.log_path is None:
            self.log_path = Path(tempfile.gettempdir()) / f"peptalk-llama-server-{self.port}.log"
        with self.log_path.open("ab") as sink:
            self._process = await asyncio.create_subprocess_exec(
                *self.options.command(self.port), stdin=asyncio.subprocess.DEVNULL, stdout=sink,
                stderr=asyncio.subprocess.STDOUT, preexec_fn=_die_with_parent)
        started = time.monotonic()
        await self._wait_ready()
        log.info("llama-server ready", extra={"node": self.base_url, "pid": self.pid,
                                              "seconds": round(time.monotonic() - started, 2)})

    async def _wait_ready(self) -> None:
        self._ready = False
        deadline = time.monotonic() + READY_TIMEOUT_S
        process = self._process
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if process is None or process.returncode is not None:
                    raise ConfigError(f"llama-server exited with {process.returncode if process else None} while "
                                      f"starting; {self._log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.base_url}/health")).status_code == 200:
                        self._ready = True
                        return
                await asyncio.sleep(0.1)
        await self._terminate()
        raise ConfigError(f"llama-server did not answer /health within {READY_TIMEOUT_S:.0f} s; {self._log_tail()}")

    def _log_tail(self, lines: int = 5) -> str:
        if self.log_path is None or not self.log_path.is_file():
            return "no log"
        tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"log {self.log_path}: " + " | ".join(tail)

    async def _watch(self) -> None:
        """Restarts the child whenever it exits on its own, with a doubling backoff while it keeps failing."""
        backoff = RESTART_BACKOFF_S[0]
        while not self._stopping:
            process = self._process
            if process is None:
                return
            code = await process.wait()
            if self._stopping:
                return
            self._ready = False
            self.last_exit = code
            self.restarts += 1
            log.warning("llama-server exited; restarting", extra={"node": self.base_url, "exit_code": code,
                                                                   "restarts": self.restarts})
            await asyncio.sleep(backoff)
            try:
                await self._spawn()
                backoff = RESTART_BACKOFF_S[0]
            except ConfigError as exc:
                log.error("llama-server restart failed", extra={"node": self.base_url, "detail": str(exc)})
                backoff = min(backoff * 2, RESTART_BACKOFF_S[1])

    async def check(self) -> tuple[bool, str]:
        """Whether it answers /health now, and a line for /readyz: pid, port, slots, restarts."""
        restarts = f"restarts {self.restarts}" + (f" (last exit code {self.last_exit})" if self.restarts else "")
        process = self._process
        if process is None or process.returncode is not None or not self._ready:
            state = "stopped" if self._stopping else "restarting" if self.restarts else "starting"
            return False, f"llama-server {state} on {self.base_url}; {restarts}"
        try:
            async with httpx.AsyncClient(timeout=3.0) as client:
                response = await client.get(f"{self.base_url}/health")
        except httpx.HTTPError as exc:
            return False, f"llama-server pid {process.pid} on {self.base_url}: {type(exc).__name__}; {restarts}"
        up = response.status_code == 200
        return up, (f"llama-server pid {process.pid} on {self.base_url}, {self.options.parallel} slots"
                    f"{'' if up else f', /health {response.status_code}'}; {restarts}")

    async def _terminate(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE_S)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def stop(self) -> None:
        """Stops watching, then stops the child (SIGTERM, then SIGKILL after a grace period)."""
        self._stopping = True
        self._ready = False
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        await self._terminate()
        self._process = None
