"""GET /api/v1/policy: every rule with its id, setting, enforcement and any loosening."""

from __future__ import annotations

import dataclasses

import pytest

from safeclass.policy import DEFAULT_POLICY, RULES
from safeclass.schools.services import current_policy, do_edit_policy, policy_settings
from tests import factories

URL = "/api/v1/policy"


def get_policy(client, user):
    raw = factories.make_api_token(user)
    response = client.get(URL, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("who", ["teacher", "ta", "head", "deputy", "slt", "admin"])
def test_it_lists_every_rule_to_every_member_of_staff(client, request, who):
    body = get_policy(client, request.getfixturevalue(who))
    assert body["version"] == 1
    assert [r["id"] for r in body["rules"]] == [str(r.id) for r in RULES]
    for rule in body["rules"]:
        assert set(rule) == {"id", "title", "clause", "plain", "setting_kind", "setting",
                             "setting_text", "enforced", "loosened", "loosening"}
        assert rule["enforced"] in {"enforced", "not yet enforced"}
        assert rule["loosened"] is False and rule["loosening"] is None


def test_it_gives_the_defaults_of_the_policy_document(client, teacher):
    rules = {r["id"]: r for r in get_policy(client, teacher)["rules"]}
    assert rules["max-duration"]["setting"] == 30
    assert rules["max-duration"]["setting_kind"] == "minutes"
    assert rules["group-only"]["setting"] == 2
    assert rules["recording-retention"]["setting"] == 365
    assert rules["approval-required"]["setting"] is True
    assert "school.example" in rules["school-account"]["setting_text"]


def test_it_says_honestly_which_rules_are_not_enforced_yet(client, teacher):
    rules = {r["id"]: r for r in get_policy(client, teacher)["rules"]}
    assert rules["approval-required"]["enforced"] == "enforced"
    assert rules["max-duration"]["enforced"] == "enforced"
    # Lesson logs and concerns are not built yet; the live lesson and recording are.
    for rule_id in ("lesson-log-required", "absence-follow-up", "concern-to-head"):
        assert rules[rule_id]["enforced"] == "not yet enforced"
    for rule_id in ("mute-on-entry", "host-only-recording", "recording-retention",
                    "second-adult-or-recording"):
        assert rules[rule_id]["enforced"] == "enforced"


def test_it_lists_the_checks_that_are_not_rules(client, teacher):
    checks = {c["id"] for c in get_policy(client, teacher)["other_checks"]}
    assert checks == {"start-in-past", "host-double-booked", "second-staff-double-booked",
                      "pupil-double-booked"}


def test_it_shows_a_loosened_rule_with_who_when_and_why(client, head, teacher):
    school = head.school
    looser = dataclasses.replace(DEFAULT_POLICY, max_duration_minutes=45,
                                 switches={"lesson-hours": False})
    do_edit_policy(school, looser, actor=head, reason="Year 6 revision <b>sessions</b>")
    body = get_policy(client, teacher)
    assert body["version"] == 2
    rules = {r["id"]: r for r in body["rules"]}
    duration = rules["max-duration"]
    assert duration["setting"] == 45
    assert duration["loosened"] is True
    assert duration["loosening"]["by"] == "Hana Head"
    assert duration["loosening"]["reason"] == "Year 6 revision <b>sessions</b>"
    assert duration["loosening"]["version"] == 2
    assert duration["loosening"]["at"].endswith("Z")
    assert rules["lesson-hours"]["setting"] is False
    assert rules["lesson-hours"]["loosened"] is True
    assert rules["approval-required"]["loosened"] is False


def test_it_does_not_mark_a_tightened_rule_as_loosened(client, deputy, teacher):
    school = deputy.school
    stricter = dataclasses.replace(policy_settings(current_policy(school)),
                                   max_duration_minutes=20, min_group_size=3)
    do_edit_policy(school, stricter, actor=deputy)
    rules = {r["id"]: r for r in get_policy(client, teacher)["rules"]}
    assert rules["max-duration"]["setting"] == 20 and rules["max-duration"]["loosened"] is False
    assert rules["group-only"]["setting"] == 3 and rules["group-only"]["loosened"] is False


def test_it_shows_each_school_its_own_policy(client, head, outsider):
    looser = dataclasses.replace(DEFAULT_POLICY, max_duration_minutes=45)
    do_edit_policy(head.school, looser, actor=head, reason="Longer revision sessions")
    theirs = {r["id"]: r for r in get_policy(client, outsider)["rules"]}
    assert theirs["max-duration"]["setting"] == 30
    assert theirs["max-duration"]["loosened"] is False
    assert "other.example" in theirs["school-account"]["setting_text"]
