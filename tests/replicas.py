"""A multi-replica deployment on this machine: N real uvicorn replicas of the app behind a real nginx (issue 19).

The replicas run with `deploy/replica.env` and nginx with `deploy/nginx/peptalk.conf.template`, the files
`deploy/compose.replicas.yaml` uses, so the tests exercise the production configuration. Only addresses differ.
`deployment(...)` is the reusable entry point: tests add their own settings (cache, rollout, limits) on top.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import ROOT, free_port, python, wait_until_up

DEPLOY = ROOT / "deploy"
TEMPLATE = DEPLOY / "nginx" / "peptalk.conf.template"
REPLICA_ENV = DEPLOY / "replica.env"
# What a deployment sets per environment (hosts, ports, credentials); every other replica setting comes from the file.
ADDRESS_KEYS = frozenset({"PEPTALK_HOST", "PEPTALK_PORT", "PEPTALK_DATABASE_URL", "PEPTALK_RATE_LIMIT_STORAGE_URL",
                          "PEPTALK_RATE_LIMIT_KEY_PREFIX", "PEPTALK_DATA_DIR"})
UPSTREAM_HEADER = "x-peptalk-upstream"


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=value` lines, comments and blank lines skipped (the subset of the compose env-file format we use)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def render_template(template: str, variables: dict[str, str]) -> str:
    """What the nginx image's envsubst does: replaces `${NAME}` for the given names only."""
    def replace(match: re.Match[str]) -> str:
        return variables.get(match[1], match[0])

    rendered = re.sub(r"\$\{([A-Z0-9_]+)\}", replace, template)
    missing = sorted(set(re.findall(r"\$\{(PEPTALK_[A-Z0-9_]+)\}", rendered)))
    if missing:
        raise ValueError(f"the nginx template needs {missing}")
    return rendered


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        pytest.fail("nginx is not installed. Install it with `bash scripts/services/nginx.sh`.", pytrace=False)
    return found


@dataclass
class Replica:
    """One app process: its port, log and process handle."""

    name: str
    port: int
    log: Path
    env: dict[str, str]
    uvicorn_args: tuple[str, ...] = ()  # e.g. ("--no-access-log",) for benchmarks
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [python(), "-m", "uvicorn", "langserve_app:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(self.port), "--timeout-graceful-shutdown", "60", *self.uvicorn_args]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT)

    def wait_up(self, timeout_s: float = 180.0) -> None:
        wait_until_up(f"{self.url}/readyz", self.process, timeout_s=timeout_s, log=self.log)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """`kill -9`: no drain, no last commit."""
        if self.running:
            assert self.process is not None
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self, timeout_s: float = 120.0) -> int | None:
        """SIGTERM, as an orchestrator stops a replica: uvicorn finishes requests and the lifespan drains."""
        if not self.running:
            return self.process.returncode if self.process else None
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def committed_pair_ids(self) -> set[str]:
        """Shadow pairs this replica acknowledged: it logs each batch's ids after the commit returned."""
        ids: set[str] = set()
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"shadow batch committed"' in line:
                ids.update(json.loads(line)["pair_ids"])
        return ids


@dataclass
class Nginx:
    """nginx on a free loopback port, configured from the deploy template with `replicas` as its upstream."""

    directory: Path
    replicas: list[Replica]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        servers = "\n    ".join(f"server {replica.address} max_fails=1 fail_timeout=10s;" for replica in self.replicas)
        site = render_template(TEMPLATE.read_text(), {"PEPTALK_UPSTREAM_SERVERS": servers,
                                                      "PEPTALK_LISTEN": f"127.0.0.1:{self.port}"})
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "peptalk.conf").write_text(site)
        temp = "\n".join(f"    {kind}_temp_path {self.directory / kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        main = (("user root;\n" if os.geteuid() == 0 else "")
                + f"worker_processes 1;\ndaemon off;\npid {self.directory / 'nginx.pid'};\n"
                f"error_log {self.directory / 'error.log'} warn;\nevents {{ worker_connections 512; }}\n"
                f"http {{\n    access_log {self.directory / 'access.log'};\n{temp}\n"
                f"    include {self.directory / 'peptalk.conf'};\n}}\n")
        config = self.directory / "nginx.conf"
        config.write_text(main)
        return config

    def start(self) -> None:
        config = self.write_config()
        binary = nginx_binary()
        checked = subprocess.run([binary, "-t", "-p", str(self.directory), "-c", str(config)],
                                 capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        log = (self.directory / "nginx.out").open("wb")
        self.process = subprocess.Popen([binary, "-p", str(self.directory), "-c", str(config)],
                                        stdout=log, stderr=subprocess.STDOUT)
        wait_until_up(f"{self.url}/healthz", self.process, timeout_s=30, log=self.directory / "error.log")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Deployment:
    """Replicas behind nginx; `url` is nginx."""

    nginx: Nginx
    replicas: list[Replica]

    @property
    def url(self) -> str:
        return self.nginx.url

    def replica_at(self, upstream: str) -> Replica:
        """The replica an `X-Peptalk-Upstream` value names (the last address when nginx tried several)."""
        address = upstream.split(",")[-1].strip()
        return next(replica for replica in self.replicas if replica.address == address)


def replica_env(*, database_url: str, redis_url: str, data_dir: Path, key_prefix: str,
                settings: dict[str, str]) -> dict[str, str]:
    """The environment of a test replica: this process's, without PEPTALK_*, then replica.env, then addresses."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("PEPTALK_")}
    env = {**clean, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.update(read_env_file(REPLICA_ENV))
    env.update({"PEPTALK_DATABASE_URL": database_url, "PEPTALK_RATE_LIMIT_STORAGE_URL": redis_url,
                "PEPTALK_RATE_LIMIT_KEY_PREFIX": key_prefix, "PEPTALK_DATA_DIR": str(data_dir),
                "PEPTALK_HOST": "127.0.0.1"})
    env.update(settings)
    return env


@contextlib.contextmanager
def deployment(directory: Path, *, database_url: str, redis_url: str, count: int = 3,
               settings: dict[str, str] | None = None) -> Iterator[Deployment]:
    """`count` replicas on one PostgreSQL database and one Redis, behind nginx; everything is stopped afterwards."""
    key_prefix = f"peptalk-test-{os.getpid()}-{time.monotonic_ns()}"
    replicas = [Replica(name=f"replica-{index}", port=free_port(), log=directory / f"replica-{index}.log",
                        env=replica_env(database_url=database_url, redis_url=redis_url, key_prefix=key_prefix,
                                        data_dir=directory / f"replica-{index}", settings=settings or {}))
                for index in range(count)]
    nginx = Nginx(directory / "nginx", replicas)
    try:
        for replica in replicas:  # all at once, as an orchestrator does: migrations must cope
            replica.start()
        for replica in replicas:
            replica.wait_up()
        nginx.start()
        yield Deployment(nginx, replicas)
    finally:
        nginx.stop()
        for replica in replicas:
            replica.stop(timeout_s=60)

