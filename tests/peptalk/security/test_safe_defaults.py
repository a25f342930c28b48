"""Safe defaults: a public address without API keys refuses to start unless dev mode is set explicitly."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from langserve_app import create_app
from peptalk.security.setup import is_loopback
from peptalk.settings import Settings
from router.errors import ConfigError
from tests.helpers import ROOT, free_port, python

FIXES = ("PEPTALK_API_KEYS", "127.0.0.1", "PEPTALK_DEV_MODE=true")


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True),
                                                ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("::", False),
                                                ("10.1.2.3", False), ("peptalk.example.com", False)])
def test_which_hosts_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3"])
def test_a_public_address_without_keys_refuses_to_start(make_settings: Callable[..., Settings], host: str) -> None:
    with pytest.raises(ConfigError) as raised:
        create_app(make_settings(host=host))
    message = str(raised.value)
    assert host in message and all(fix in message for fix in FIXES)


@pytest.mark.parametrize("overrides", [{"host": "0.0.0.0", "dev_mode": True},
                                       {"host": "0.0.0.0", "api_keys": ["a-key"]},
                                       {"host": "127.0.0.1"}])
def test_keys_explicit_dev_mode_or_loopback_start(make_settings: Callable[..., Settings],
                                                  overrides: dict[str, object]) -> None:
    assert create_app(make_settings(**overrides)) is not None


def run_cli(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("PEPTALK_")}
    full_env = {**clean, "PYTHONPATH": str(ROOT), "PEPTALK_DATA_DIR": str(tmp_path), "PEPTALK_CACHE_ENABLED": "false",
                "PEPTALK_PORT": str(free_port()), **env}
    # Bounded: if the check failed to fire the server would start, and the timeout fails the test.
    return subprocess.run([python(), "-m", "peptalk.cli", "serve", *args], env=full_env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("args", "env"), [(["--host", "0.0.0.0"], {}), ([], {"PEPTALK_HOST": "0.0.0.0"})])
def test_the_cli_exits_2_and_says_how_to_fix_it(args: list[str], env: dict[str, str], tmp_path: Path) -> None:
    result = run_cli(args, env, tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "refusing to serve on 0.0.0.0 without API keys" in result.stderr
    assert all(fix in result.stderr for fix in FIXES)
    assert "Traceback" not in result.stderr
