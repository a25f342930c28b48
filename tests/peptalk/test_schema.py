"""PepTalkRequest: required fields, date order, limits and control-character stripping."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from peptalk.schema import PepTalkRequest, RequestLimits, clean_text, request_model_for

BASE = {"user_id": "u-1", "today": "2026-11-22", "last_login": "2026-11-21"}


def error_fields(exc: ValidationError) -> set[str]:
    return {str(error["loc"][0]) for error in exc.errors()}


def test_minimal_request_has_empty_lists() -> None:
    request = PepTalkRequest.model_validate(BASE)
    assert request.today == dt.date(2026, 11, 22)
    assert request.completed_tasks == request.focused_tasks == request.rituals == request.goals == []


@pytest.mark.parametrize("missing", ["user_id", "today", "last_login"])
def test_missing_field_is_named(missing: str) -> None:
    payload = {key: value for key, value in BASE.items() if key != missing}
    with pytest.raises(ValidationError) as info:
        PepTalkRequest.model_validate(payload)
    assert error_fields(info.value) == {missing}


def test_last_login_after_today_is_rejected_on_last_login() -> None:
    with pytest.raises(ValidationError) as info:
        PepTalkRequest.model_validate(BASE | {"last_login": "2026-11-23"})
    assert error_fields(info.value) == {"last_login"}
    assert "after today" in str(info.value)


def test_same_day_login_is_allowed() -> None:
    assert PepTalkRequest.model_validate(BASE | {"last_login": "2026-11-22"}).last_login == dt.date(2026, 11, 22)


def test_limits_name_the_offending_field() -> None:
    model = request_model_for(RequestLimits(max_items_per_list=2, max_item_chars=10, max_total_chars=25))
    with pytest.raises(ValidationError) as info:
        model.model_validate(BASE | {"focused_tasks": ["a", "b", "c"]})
    assert error_fields(info.value) == {"focused_tasks"}
    assert "at most 2" in str(info.value)
    with pytest.raises(ValidationError) as info:
        model.model_validate(BASE | {"rituals": ["x" * 11]})
    assert error_fields(info.value) == {"rituals"}
    with pytest.raises(ValidationError) as info:
        model.model_validate(BASE | {"completed_tasks": ["x" * 10, "y" * 10], "goals": ["z" * 10]})
    assert error_fields(info.value) == {"goals"}
    assert "total" in str(info.value)


def test_default_limits_are_the_settings_defaults() -> None:
    from peptalk.settings import Settings

    settings = Settings(_env_file=None)
    assert PepTalkRequest.limits == RequestLimits(
        settings.max_items_per_list, settings.max_item_chars, settings.max_total_chars
    )


def test_control_characters_are_stripped_from_items() -> None:
    request = PepTalkRequest.model_validate(BASE | {"focused_tasks": ["ship\nthe\x00 release\u2028now\t!"]})
    assert request.focused_tasks == ["ship the release now !"]
    assert clean_text("  a\r\n\x1b[31mb  ") == "a [31mb"


def test_blank_item_and_unknown_field_are_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        PepTalkRequest.model_validate(BASE | {"goals": ["\n\t "]})
    assert error_fields(info.value) == {"goals"}
    with pytest.raises(ValidationError) as info:
        PepTalkRequest.model_validate(BASE | {"mood": "great"})
    assert error_fields(info.value) == {"mood"}


def test_user_id_must_be_a_plain_identifier() -> None:
    with pytest.raises(ValidationError):
        PepTalkRequest.model_validate(BASE | {"user_id": "bad id\n"})
