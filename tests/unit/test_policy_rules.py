"""The rule table: ids, order, the policy words each rule quotes, and honest enforcement."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from safeclass.policy import (
    BUILT_FEATURES,
    EXTRA_CHECKS,
    HOST_DOUBLE_BOOKED,
    PUPIL_DOUBLE_BOOKED,
    RULES,
    RULES_BY_ID,
    SECOND_STAFF_DOUBLE_BOOKED,
    START_IN_PAST,
    Feature,
    RuleId,
    SettingKind,
    enforcement,
    is_enforced,
)

# The design table's order; ids are public (API, UI), so this list is the contract.
DESIGN_TABLE_IDS = [
    "approval-required",
    "staff-host-only",
    "school-account",
    "no-personal-room",
    "max-duration",
    "lesson-hours",
    "group-only",
    "second-adult-or-recording",
    "host-only-screenshare",
    "host-only-recording",
    "mute-on-entry",
    "no-self-unmute",
    "camera-required",
    "no-attendee-chat",
    "no-annotation",
    "no-file-transfer",
    "no-rejoin-after-removal",
    "invited-pupils-only",
    "consent-each-session",
    "display-first-name",
    "removal-hold",
    "recording-retention",
    "lesson-log-required",
    "absence-follow-up",
    "concern-to-head",
]

FOUNDATION_RULES = {
    "approval-required",
    "staff-host-only",
    "school-account",
    "no-personal-room",
    "max-duration",
    "lesson-hours",
    "group-only",
    "second-adult-or-recording",
    "invited-pupils-only",
}

POLICY_TEXT = Path("/work/shared/policy/online-video-conferencing-policy.txt")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_it_lists_the_25_rules_in_design_table_order() -> None:
    assert [str(r.id) for r in RULES] == DESIGN_TABLE_IDS
    assert [str(r) for r in RuleId] == DESIGN_TABLE_IDS


def test_it_finds_every_rule_by_its_id() -> None:
    assert list(RULES_BY_ID) == DESIGN_TABLE_IDS
    for rule in RULES:
        assert RULES_BY_ID[str(rule.id)] is rule


def test_it_refuses_changes_to_the_lookup_table() -> None:
    with pytest.raises(TypeError):
        RULES_BY_ID["made-up"] = RULES[0]  # type: ignore[index]


def test_it_gives_each_rule_a_title_clause_and_plain_sentence() -> None:
    for rule in RULES:
        assert rule.title and rule.title[0].isupper()
        assert rule.clause.strip()
        assert rule.plain.endswith(".")
        assert len(rule.plain) < 120, rule.id


@pytest.mark.skipif(not POLICY_TEXT.exists(), reason="the policy document is not on this machine")
def test_it_quotes_each_clause_word_for_word_from_the_policy() -> None:
    policy = _squash(POLICY_TEXT.read_text(encoding="utf-8"))
    for rule in RULES:
        assert _squash(rule.clause) in policy, rule.id


def test_it_maps_only_request_time_rules_to_the_foundation() -> None:
    foundation = {str(r.id) for r in RULES if r.feature is Feature.FOUNDATION}
    assert foundation == FOUNDATION_RULES


def test_it_maps_the_remaining_rules_to_the_features_that_will_enforce_them() -> None:
    by_feature = {f: {str(r.id) for r in RULES if r.feature is f} for f in Feature}
    assert by_feature[Feature.RECORDING] == {"host-only-recording", "recording-retention"}
    assert by_feature[Feature.LESSON_LOG] == {"lesson-log-required", "absence-follow-up"}
    assert by_feature[Feature.CONCERNS] == {"concern-to-head"}
    assert len(by_feature[Feature.LIVE_LESSON]) == 11
    assert "display-first-name" in by_feature[Feature.LIVE_LESSON]


def test_it_gives_numbered_rules_their_units_and_school_rules_school_settings() -> None:
    kinds = {str(r.id): r.setting for r in RULES}
    assert kinds["max-duration"] is SettingKind.MINUTES
    assert kinds["group-only"] is SettingKind.COUNT
    assert kinds["recording-retention"] is SettingKind.DAYS
    assert kinds["school-account"] is SettingKind.SCHOOL
    assert kinds["lesson-hours"] is SettingKind.SCHOOL
    others = set(kinds) - {
        "max-duration",
        "group-only",
        "recording-retention",
        "school-account",
        "lesson-hours",
    }
    assert all(kinds[i] is SettingKind.SWITCH for i in others)


def test_it_claims_the_foundation_the_live_lesson_and_recording_are_built_today() -> None:
    done = (Feature.FOUNDATION, Feature.LIVE_LESSON, Feature.RECORDING)
    assert frozenset(done) == BUILT_FEATURES
    for rule in RULES:
        built = rule.feature in done
        expected = "enforced" if built else "not yet enforced"
        assert enforcement(rule) == expected
        assert is_enforced(rule) == built


def test_it_reports_a_rule_enforced_once_its_feature_is_built() -> None:
    rule = RULES_BY_ID["mute-on-entry"]
    built = frozenset({Feature.FOUNDATION, Feature.LIVE_LESSON})
    assert enforcement(rule, built) == "enforced"
    assert is_enforced(rule, built)
    assert enforcement(RULES_BY_ID["approval-required"], frozenset()) == "not yet enforced"


def test_it_keeps_extra_check_ids_apart_from_policy_rule_ids() -> None:
    extras = [START_IN_PAST, HOST_DOUBLE_BOOKED, SECOND_STAFF_DOUBLE_BOOKED, PUPIL_DOUBLE_BOOKED]
    assert extras == [
        "start-in-past",
        "host-double-booked",
        "second-staff-double-booked",
        "pupil-double-booked",
    ]
    assert not set(extras) & set(RULES_BY_ID)
    assert set(EXTRA_CHECKS) == set(extras)
    assert all(message.endswith(".") for message in EXTRA_CHECKS.values())
