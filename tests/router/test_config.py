"""Router configuration: environment variables, the YAML file over them, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from peptalk.settings import Settings
from router import ConfigError, build_router, load_router_config
from tests.router.routing_kit import OLLAMA, OPENAI

ENV = {
    "PEPTALK_BACKENDS": "ollama,openai",
    "PEPTALK_DEFAULT_MODEL": OLLAMA,
    "PEPTALK_OLLAMA_BASE_URLS": "http://gpu-1:11434, http://gpu-2:11434",
    "PEPTALK_OPENAI_BASE_URLS": "http://vllm-1:8000/v1,http://vllm-2:8000/v1",
    "PEPTALK_ROUTING_POLICY": "weighted",
    "PEPTALK_WEIGHTS": f"{OLLAMA}=0.9,{OPENAI}=0.1",
    "PEPTALK_FALLBACK_CHAIN": f"{OLLAMA},{OPENAI}",
    "PEPTALK_RETRY_ATTEMPTS": "2",
    "PEPTALK_BREAKER_COOLDOWN_S": "7.5",
}


def test_environment_configures_policy_nodes_retries_and_breakers(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    router = build_router(Settings(_env_file=None))
    assert router.describe()["policy"] == "weighted"
    assert router.describe()["weights"] == {OLLAMA: 0.9, OPENAI: 0.1}
    assert [node.url for node in router.pools[router.resolve(OLLAMA)].nodes] == ["http://gpu-1:11434",
                                                                                 "http://gpu-2:11434"]
    assert [node.url for node in router.pools[router.resolve(OPENAI)].nodes] == ["http://vllm-1:8000/v1",
                                                                                 "http://vllm-2:8000/v1"]
    assert router.config.retry.attempts == 2 and router.config.breaker.cooldown_s == 7.5


def test_yaml_file_overrides_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "router.yaml"
    config.write_text(f"""
policy: sticky
weights: {{"{OLLAMA}": 3, "{OPENAI}": 1}}
retry: {{attempts: 4}}
backends:
  ollama: {{timeout_s: 20, first_token_timeout_s: 4}}
models:
  "{OLLAMA}": {{nodes: ["http://gpu-7:11434"]}}
""")
    monkeypatch.setenv("PEPTALK_ROUTER_CONFIG", str(config))
    router = build_router(Settings(_env_file=None))
    assert router.config.policy == "sticky" and router.policy.weights[router.resolve(OLLAMA)] == 3
    assert router.config.retry.attempts == 4 and router.config.retry.backoff_s == 0.1
    assert router.config.breaker.cooldown_s == 7.5  # not in the file: the environment's value
    assert [node.url for node in router.pools[router.resolve(OLLAMA)].nodes] == ["http://gpu-7:11434"]
    timeouts = router.config.timeouts_for("ollama")
    assert (timeouts.total_s, timeouts.first_token_s) == (20, 4)
    assert router.config.timeouts_for("openai").first_token_s == 60.0


def test_in_process_backends_wait_for_the_first_token_as_long_as_the_whole_call() -> None:
    from router import RouterConfig

    config = RouterConfig(timeout_s=100, first_token_timeout_s=5,
                          backends={"ollama": {"first_token_timeout_s": 2}, "other": {"first_token_timeout_s": 3}})
    assert config.timeouts_for("embedded", in_process=True).first_token_s == 100
    assert config.timeouts_for("other", in_process=True).first_token_s == 3  # an explicit entry wins
    assert config.timeouts_for("ollama").first_token_s == 2
    assert config.timeouts_for("openai").first_token_s == 5


@pytest.mark.parametrize(("content", "message"), [
    ("policy: roundrobin\n", "policy"),
    ("retry: {attempts: 0}\n", "retry.attempts"),
    ("brekaer: {failures: 2}\n", "brekaer"),
    ("- just a list\n", "must be a mapping"),
    ("policy: [unclosed\n", "not valid YAML"),
])
def test_bad_yaml_is_a_config_error_naming_the_key(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "router.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        load_router_config(Settings(_env_file=None, router_config=path))
    assert str(path) in str(info.value)


def test_missing_yaml_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.yaml"):
        load_router_config(Settings(_env_file=None, router_config=tmp_path / "nope.yaml"))


def test_bad_weights_in_the_environment_name_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPTALK_WEIGHTS", "ollama:starling-lm:7b")
    with pytest.raises(ValidationError, match="weights"):
        Settings(_env_file=None)
    monkeypatch.setenv("PEPTALK_WEIGHTS", "ollama:starling-lm:7b=lots")
    with pytest.raises(ValidationError, match="weights"):
        Settings(_env_file=None)
