"""The shipped alert rules parse, and read only metrics peptalk exports (a renamed metric would silence a page)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prometheus_client import Counter, Gauge

from peptalk.rollout import metrics

RULES = Path(__file__).parents[3] / "deploy" / "prometheus" / "rollout-alerts.yml"


def test_the_alert_rules_read_exported_metrics_and_page_on_stalled_evidence_at_100_percent() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    exported = set()
    for value in vars(metrics).values():
        if isinstance(value, Counter):
            exported.add(value._name + "_total")
        elif isinstance(value, Gauge):
            exported.add(value._name)
    for rule in rules:
        text = rule["expr"] + str(rule.get("annotations", {}))
        used = set(re.findall(r"peptalk_[a-z_]+", text))
        assert used and used <= exported, (rule["alert"], used - exported)
    paging = [rule for rule in rules if rule["labels"]["severity"] == "page"]
    assert [rule["alert"] for rule in paging] == ["RolloutEvidenceStalledAtFullShare"]
    assert "peptalk_rollout_evidence_stalled" in paging[0]["expr"] and ">= 1" in paging[0]["expr"]
