"""The shadow policy from settings: candidates, sampling, allow-list and user-id hashing."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from peptalk.settings import Settings
from peptalk.shadow import ShadowConfigError, ShadowPolicy
from tests.peptalk.shadow.helpers import fake_router


def test_settings_become_a_policy() -> None:
    settings = Settings(_env_file=None, shadow_candidates="fake:slow, fake:raise,fake:slow", shadow_sample_rate=0.25,
                        shadow_allow_users="ada,acme:*", shadow_max_in_flight=3, shadow_queue_size=7,
                        shadow_user_id_salt="pepper", shadow_retention_days=0)
    policy = ShadowPolicy.from_settings(settings)
    assert policy.candidates == ("fake:slow", "fake:raise")
    assert (policy.sample_rate, policy.max_in_flight, policy.queue_size, policy.retention_days) == (0.25, 3, 7, 0)
    assert policy.allow_users == ("ada", "acme:*") and policy.user_id_salt == b"pepper"
    policy.check(fake_router())
    assert not ShadowPolicy.from_settings(Settings(_env_file=None)).enabled


@pytest.mark.parametrize(("name", "value"), [("shadow_sample_rate", 1.5), ("shadow_queue_size", 0),
                                             ("shadow_max_in_flight", 0), ("shadow_retention_days", -1)])
def test_bad_settings_are_rejected_naming_the_field(name: str, value: object) -> None:
    with pytest.raises(ValidationError, match=name):
        Settings(_env_file=None, **{name: value})


def test_unknown_candidate_names_the_known_models() -> None:
    with pytest.raises(ShadowConfigError, match="fake:fast"):
        ShadowPolicy(candidates=("fake:nope",)).check(fake_router())


def test_allow_list_matches_users_and_tenant_patterns() -> None:
    policy = ShadowPolicy(candidates=("fake:fast",), allow_users=("ada", "acme:*"))
    assert policy.allows("ada") and policy.allows("acme:bob")
    assert not policy.allows("adam") and not policy.allows("other:acme") and not policy.allows(None)
    assert ShadowPolicy(candidates=("fake:fast",)).allows(None)


def test_sampling_follows_the_rate() -> None:
    policy = ShadowPolicy(candidates=("fake:fast",), sample_rate=0.3, rng=random.Random(7))
    share = sum(policy.selects("ada") for _ in range(4000)) / 4000
    assert share == pytest.approx(0.3, abs=0.03)
    assert not ShadowPolicy(candidates=("fake:fast",), sample_rate=0.0).selects("ada")
    assert not ShadowPolicy(candidates=()).selects("ada")


def test_user_ids_are_hashed_with_the_salt() -> None:
    salted = ShadowPolicy(candidates=("fake:fast",), user_id_salt=b"pepper")
    other = ShadowPolicy(candidates=("fake:fast",), user_id_salt=b"salt")
    assert salted.stored_user_id("ada") == salted.stored_user_id("ada") != other.stored_user_id("ada")
    assert len(salted.stored_user_id("ada")) == 64 and "ada" not in salted.stored_user_id("ada")
    assert ShadowPolicy(candidates=("fake:fast",), hash_user_ids=False).stored_user_id("ada") == "ada"
