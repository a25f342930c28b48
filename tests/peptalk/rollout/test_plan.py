"""The rollout plan: a good plan loads with inherited gates; every bad one is refused naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from peptalk.rollout import PlanError, load_plan, parse_plan
from tests.peptalk.rollout.helpers import plan_data


def test_a_good_plan_loads_and_stages_inherit_the_default_gates(tmp_path: Path) -> None:
    data = plan_data()
    data["stages"][2]["gates"] = {"error_rate_max": 0.01}
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data))
    plan = load_plan(path)
    assert [stage.share for stage in plan.stages] == [0.0, 0.05, 0.25, 0.5, 1.0]
    assert plan.stages[2].gates.error_rate_max == 0.01
    assert plan.stages[2].gates.delta == 0.05 and plan.stages[2].gates.margin == 0.45  # inherited from the plan
    assert plan.stages[1].gates.error_rate_max == 0.05
    assert plan.assignment_salt == f"rollout:{plan.candidate}"


@pytest.mark.parametrize(("change", "key"), [
    (lambda d: d["stages"][1].update(share=1.5), "stages.1.share"),
    (lambda d: d["stages"][0].update(min_judged_pairs=-1), "stages.0.min_judged_pairs"),
    (lambda d: d["stages"][3].update(share=0.1), "stages"),  # shares must rise
    (lambda d: d["gates"].update(win_or_tie=0.5), "gates.win_or_tie"),  # misspelt gate
    (lambda d: d["gates"].update(win_or_tie_lower_bound=0.45), "gates.win_or_tie_lower_bound"),  # issue 24: gone
    (lambda d: d["gates"].update(delta=0.5), "gates.delta"),  # the margin 0.5 - delta must stay above 0
    (lambda d: d["gates"].update(alpha=0), "gates.alpha"),
    (lambda d: d["gates"].update(failure_limit=0), "gates.failure_limit"),
    (lambda d: d.update(candidat="x:y"), "candidat"),
    (lambda d: d.update(primary=d["candidate"]), "primary"),
    (lambda d: d.update(candidate="no-backend"), "candidate"),
    (lambda d: d["judge"].update(max_usd_per_day=-1), "judge.max_usd_per_day"),
    (lambda d: d.update(stages=d["stages"][:1]), "stages"),
])
def test_a_bad_plan_names_the_key(change, key: str) -> None:  # noqa: ANN001
    data = plan_data()
    change(data)
    with pytest.raises(PlanError) as caught:
        parse_plan(data)
    assert caught.value.key == key
    assert key.split(".")[0] in str(caught.value)


def test_unreadable_or_non_mapping_files_are_plan_errors(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read"):
        load_plan(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(PlanError, match="mapping"):
        load_plan(tmp_path / "list.yaml")
    (tmp_path / "bad.yaml").write_text("stages: [\n")
    with pytest.raises(PlanError, match="not YAML"):
        load_plan(tmp_path / "bad.yaml")


def test_a_judge_that_is_the_primary_or_the_candidate_is_warned_about() -> None:
    from peptalk.rollout.plan import plan_warnings

    data = plan_data()
    assert plan_warnings(parse_plan(data)) == []
    data["judge"]["model"] = data["primary"]
    assert "self-preference" in plan_warnings(parse_plan(data))[0]
    data["judge"]["model"] = data["candidate"]
    assert "candidate" in plan_warnings(parse_plan(data))[0]
