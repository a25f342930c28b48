"""The deploy/ files stay consistent with the code: they parse, and the router config builds a router."""

from __future__ import annotations

import yaml

from peptalk.settings import Settings
from router import build_router
from tests.helpers import ROOT

DEPLOY = ROOT / "deploy"


def test_compose_reserves_the_gpu_for_ollama_and_wires_the_app() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"app", "ollama", "postgres", "models"} <= set(services)
    [device] = services["ollama"]["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    env = services["app"]["environment"]
    assert env["PEPTALK_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["PEPTALK_ROUTER_CONFIG"] == "/etc/peptalk/router.yaml"
    assert "peptalk models pull" in services["models"]["command"]
    node = yaml.safe_load((DEPLOY / "compose.gpu-node.yaml").read_text())["services"]
    assert node["ollama"]["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"


def test_deploy_router_config_builds_the_router_the_compose_file_describes() -> None:
    env = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["app"]["environment"]
    settings = Settings(_env_file=None, backends=env["PEPTALK_BACKENDS"], default_model=env["PEPTALK_DEFAULT_MODEL"],
                        ollama_models=env["PEPTALK_OLLAMA_MODELS"], router_config=DEPLOY / "router.yaml")
    router = build_router(settings)
    assert router.config.policy == "sticky"
    assert [str(ref) for ref in router.policy.chain] == ["ollama:starling-lm:7b", "openai:gpt-4",
                                                          "embedded:smollm2-135m"]
    assert [node.url for node in router.pools[router.resolve("ollama:starling-lm:7b")].nodes] == ["http://ollama:11434"]
