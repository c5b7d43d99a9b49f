"""A school's policy settings: defaults, storage, limits, and what counts as loosening."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeclass.policy import (
    DEFAULT_POLICY,
    RULES,
    SWITCHABLE,
    Change,
    PolicyError,
    PolicySettings,
    SettingKind,
    changes,
    from_dict,
    loosened,
    to_dict,
    validate,
)

SWITCH_IDS = [str(r) for r in SWITCHABLE]

policies = st.builds(
    PolicySettings,
    switches=st.fixed_dictionaries({i: st.booleans() for i in SWITCH_IDS}),
    max_duration_minutes=st.integers(-10, 400),
    min_group_size=st.integers(-1, 80),
    retention_days=st.integers(-1, 4000),
)


def test_it_defaults_to_the_policy_document() -> None:
    assert DEFAULT_POLICY.max_duration_minutes == 30
    assert DEFAULT_POLICY.min_group_size == 2
    assert DEFAULT_POLICY.retention_days == 365
    assert all(DEFAULT_POLICY.switches.values())
    assert validate(DEFAULT_POLICY) == []


def test_it_has_a_switch_for_every_on_off_rule_and_every_school_rule() -> None:
    expected = {str(r.id) for r in RULES if r.setting in (SettingKind.SWITCH, SettingKind.SCHOOL)}
    assert set(DEFAULT_POLICY.switches) == expected
    assert "lesson-hours" in expected and "school-account" in expected
    assert "max-duration" not in expected and "group-only" not in expected


def test_it_fills_missing_switches_with_on() -> None:
    p = PolicySettings(switches={"no-attendee-chat": False})
    assert p.is_on("mute-on-entry")
    assert not p.is_on("no-attendee-chat")
    assert set(p.switches) == set(SWITCH_IDS)


def test_it_treats_numbered_rules_as_always_on() -> None:
    assert DEFAULT_POLICY.is_on("max-duration")
    assert DEFAULT_POLICY.is_on("group-only")
    assert DEFAULT_POLICY.is_on("recording-retention")


def test_it_refuses_to_say_whether_an_unknown_rule_is_on() -> None:
    with pytest.raises(PolicyError):
        DEFAULT_POLICY.is_on("made-up")


def test_it_cannot_be_changed_through_the_dict_it_was_built_from() -> None:
    given_switches = {"no-annotation": True}
    p = PolicySettings(switches=given_switches)
    given_switches["no-annotation"] = False
    assert p.is_on("no-annotation")
    with pytest.raises(TypeError):
        p.switches["no-annotation"] = False  # type: ignore[index]


def test_it_is_hashable_and_compares_by_value() -> None:
    a = PolicySettings(switches={"no-annotation": False})
    b = PolicySettings(switches={"no-annotation": False})
    assert a == b and hash(a) == hash(b)
    assert a != DEFAULT_POLICY


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"switches": {"made-up": True}}, "switches.made-up"),
        ({"switches": {"max-duration": False}}, "switches.max-duration"),
        ({"switches": {"no-annotation": 1}}, "switches.no-annotation"),
        ({"max_duration_minutes": True}, "max_duration_minutes"),
        ({"min_group_size": 2.0}, "min_group_size"),
        ({"retention_days": "365"}, "retention_days"),
    ],
)
def test_it_refuses_the_wrong_shape_when_built(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(PolicyError) as caught:
        PolicySettings(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_it_stores_as_json_and_reads_back_the_same() -> None:
    p = PolicySettings(switches={"lesson-hours": False}, max_duration_minutes=20)
    stored = json.dumps(to_dict(p))
    assert from_dict(json.loads(stored)) == p


def test_it_takes_defaults_for_missing_keys() -> None:
    assert from_dict({}) == DEFAULT_POLICY
    assert from_dict({"retention_days": 30}).retention_days == 30
    assert from_dict({"switches": {"no-annotation": False}}).max_duration_minutes == 30


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"switches": ["no-annotation"]}, "switches"),
        ({"switches": {"no-annotation": "off"}}, "switches.no-annotation"),
        ({"switches": {"made-up": False}}, "switches.made-up"),
        ({"switches": {1: False}}, "switches"),
        ({"max_duration_minutes": "30"}, "max_duration_minutes"),
        ({"min_group_size": False}, "min_group_size"),
        ({"retention_days": 365.0}, "retention_days"),
        ({"retention_days": None}, "retention_days"),
    ],
)
def test_it_refuses_unknown_keys_and_wrong_types(data: Mapping[str, object], field: str) -> None:
    with pytest.raises(PolicyError) as caught:
        from_dict(data)
    assert caught.value.field == field
    assert caught.value.message


@given(policies)
def test_it_round_trips_any_settings_exactly(p: PolicySettings) -> None:
    assert from_dict(json.loads(json.dumps(to_dict(p)))) == p


@pytest.mark.parametrize(
    ("kwargs", "rule", "field"),
    [
        ({"max_duration_minutes": 4}, "max-duration", "max_duration_minutes"),
        ({"max_duration_minutes": 241}, "max-duration", "max_duration_minutes"),
        ({"min_group_size": 1}, "group-only", "min_group_size"),
        ({"min_group_size": 61}, "group-only", "min_group_size"),
        ({"retention_days": 0}, "recording-retention", "retention_days"),
        ({"retention_days": 3651}, "recording-retention", "retention_days"),
    ],
)
def test_it_refuses_values_outside_the_limits(
    kwargs: dict[str, int], rule: str, field: str
) -> None:
    [v] = validate(PolicySettings(**kwargs))  # type: ignore[arg-type]
    assert (v.rule, v.field) == (rule, field)
    assert field in v.message


def test_it_says_a_group_of_one_would_be_one_to_one() -> None:
    [v] = validate(PolicySettings(min_group_size=1))
    assert "never one to one" in v.message


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_duration_minutes": 5},
        {"max_duration_minutes": 240},
        {"min_group_size": 60},
        {"retention_days": 1},
        {"retention_days": 3650},
    ],
)
def test_it_accepts_values_at_the_limits(kwargs: dict[str, int]) -> None:
    assert validate(PolicySettings(**kwargs)) == []  # type: ignore[arg-type]


def test_it_reports_every_bad_value_at_once() -> None:
    p = PolicySettings(max_duration_minutes=0, min_group_size=0, retention_days=0)
    assert [v.field for v in validate(p)] == [
        "max_duration_minutes",
        "min_group_size",
        "retention_days",
    ]


def test_it_counts_switching_a_rule_off_as_loosening() -> None:
    off = PolicySettings(switches={"no-attendee-chat": False})
    assert loosened(DEFAULT_POLICY, off) == [
        Change("no-attendee-chat", "switches.no-attendee-chat", True, False, loosens=True)
    ]
    assert loosened(off, DEFAULT_POLICY) == []
    assert changes(off, DEFAULT_POLICY) == [
        Change("no-attendee-chat", "switches.no-attendee-chat", False, True, loosens=False)
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_duration_minutes": 45}, "max_duration_minutes"),
        ({"min_group_size": 1}, "min_group_size"),
        ({"retention_days": 730}, "retention_days"),
    ],
)
def test_it_counts_longer_lessons_smaller_groups_and_longer_keeping_as_loosening(
    kwargs: dict[str, int], field: str
) -> None:
    new = PolicySettings(**kwargs)  # type: ignore[arg-type]
    [change] = loosened(DEFAULT_POLICY, new)
    assert change.field == field
    assert change.before == getattr(DEFAULT_POLICY, field)
    assert change.after == kwargs[field]
    assert loosened(new, DEFAULT_POLICY) == []


def test_it_counts_tightening_as_a_plain_edit() -> None:
    tighter = PolicySettings(max_duration_minutes=20, min_group_size=3, retention_days=90)
    assert loosened(DEFAULT_POLICY, tighter) == []
    assert [c.field for c in changes(DEFAULT_POLICY, tighter)] == [
        "max_duration_minutes",
        "min_group_size",
        "retention_days",
    ]


def test_it_lists_nothing_when_nothing_changed() -> None:
    assert changes(DEFAULT_POLICY, PolicySettings()) == []


def test_it_lists_changes_in_policy_table_order() -> None:
    new = PolicySettings(
        switches={"concern-to-head": False, "approval-required": False},
        max_duration_minutes=60,
    )
    assert [c.rule for c in changes(DEFAULT_POLICY, new)] == [
        "approval-required",
        "max-duration",
        "concern-to-head",
    ]


@given(policies, policies)
def test_it_treats_loosening_and_tightening_as_mirror_images(
    a: PolicySettings, b: PolicySettings
) -> None:
    forward = {(c.rule, c.field): c for c in changes(a, b)}
    backward = {(c.rule, c.field): c for c in changes(b, a)}
    assert forward.keys() == backward.keys()
    for key, c in forward.items():
        back = backward[key]
        assert (c.before, c.after) == (back.after, back.before)
        # Every change loosens exactly one way round.
        assert c.loosens != back.loosens
    assert {(c.rule, c.field) for c in loosened(a, b)} == {
        k for k, c in backward.items() if not c.loosens
    }
