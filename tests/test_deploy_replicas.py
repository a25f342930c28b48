"""deploy/compose.replicas.yaml runs what tests/test_replicas.py tests: the same replica settings, the same nginx."""

from __future__ import annotations

import re

import pytest
import yaml

from peptalk.settings import Settings
from tests.replicas import ADDRESS_KEYS, REPLICA_ENV, TEMPLATE, read_env_file, render_template
from tests.test_deploy import DEPLOY

COMPOSE = DEPLOY / "compose.replicas.yaml"
SECRETS = frozenset({"PEPTALK_API_KEYS", "PEPTALK_ADMIN_API_KEYS", "PEPTALK_SHADOW_USER_ID_SALT"})
# What the GPU topology decides; the tests use the embedded model instead.
BACKEND_KEYS = frozenset({"PEPTALK_BACKENDS", "PEPTALK_DEFAULT_MODEL", "PEPTALK_OLLAMA_MODELS",
                          "PEPTALK_OLLAMA_BASE_URLS"})


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_replicas_load_the_shared_settings_and_set_only_addresses_secrets_and_backends(services: dict) -> None:
    app = services["app"]
    assert app["env_file"] == ["replica.env"] and (DEPLOY / app["env_file"][0]).resolve() == REPLICA_ENV.resolve()
    assert "${PEPTALK_REPLICAS" in str(app["deploy"]["replicas"])
    extra = set(app["environment"])
    assert not extra & set(read_env_file(REPLICA_ENV)), "compose overrides a shared setting"
    assert extra <= ADDRESS_KEYS | SECRETS | BACKEND_KEYS, sorted(extra - ADDRESS_KEYS - SECRETS - BACKEND_KEYS)
    assert app["environment"]["PEPTALK_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert read_env_file(REPLICA_ENV)["PEPTALK_RATE_LIMIT_STORAGE_URL"].startswith("redis://redis:")
    assert {"postgres", "redis"} <= set(app["depends_on"])


def test_the_shared_settings_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in read_env_file(REPLICA_ENV).items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)
    assert settings.rate_limit_storage_url.startswith("redis://")
    assert settings.shadow_drain_timeout_s > 0


def test_graceful_stop_outlasts_the_shadow_drain(services: dict) -> None:
    grace_s = int(re.fullmatch(r"(\d+)s", services["app"]["stop_grace_period"])[1])  # type: ignore[index]
    assert grace_s > float(read_env_file(REPLICA_ENV)["PEPTALK_SHADOW_DRAIN_TIMEOUT_S"])


def test_nginx_renders_the_same_template_the_tests_run(services: dict) -> None:
    nginx = services["nginx"]
    [mount] = nginx["volumes"]
    source, target = mount.split(":")[:2]
    assert (DEPLOY / source).resolve() == TEMPLATE.resolve() and target.startswith("/etc/nginx/templates/")
    rendered = render_template(TEMPLATE.read_text(), nginx["environment"])  # every variable is provided
    port = nginx["environment"]["PEPTALK_LISTEN"]
    assert f"listen {port};" in rendered and nginx["ports"] == [f"{port}:{port}"]
    upstream = re.search(r"server app:(\d+)", nginx["environment"]["PEPTALK_UPSTREAM_SERVERS"])
    assert upstream and upstream[1] == services["app"]["environment"]["PEPTALK_PORT"]
    assert "non_idempotent" not in re.sub(r"#.*", "", rendered)  # generations are never resent


def test_every_gpu_node_is_one_gpu_and_listed_for_the_router(services: dict) -> None:
    nodes = sorted(name for name in services if name.startswith("gpu-node-"))
    assert len(nodes) >= 2
    gpus = [services[name]["deploy"]["resources"]["reservations"]["devices"][0]["device_ids"] for name in nodes]
    assert len({tuple(ids) for ids in gpus}) == len(nodes)
    urls = services["app"]["environment"]["PEPTALK_OLLAMA_BASE_URLS"].split(",")
    assert urls == [f"http://{name}:11434" for name in nodes]
