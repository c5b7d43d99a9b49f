"""POST /api/v1/lessons/{id}/invitations: (re)issue pupils' links, shown only in this
response; the old links stop working."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail

from safeclass.accounts.models import hash_secret
from safeclass.invitations.models import Invitation
from safeclass.lessons.services import do_approve_lesson
from tests import factories


def post(client, user, lesson, body=None, *, raw_body=None):
    headers = {"Authorization": f"Bearer {factories.make_api_token(user)}"}
    data = raw_body if raw_body is not None else (body if body is not None else {})
    return client.post(f"/api/v1/lessons/{lesson.pk}/invitations", data=data,
                       content_type="application/json", headers=headers)


@pytest.fixture
def lesson(teacher, ta, group):
    return factories.make_requested_lesson(teacher, group, second_staff=ta)


@pytest.fixture
def approved(lesson, deputy):
    do_approve_lesson(lesson, actor=deputy)
    mail.outbox.clear()
    return lesson


def live_tokens(lesson):
    return dict(Invitation.objects.filter(lesson=lesson, revoked_at__isnull=True)
                .values_list("pupil_id", "token_hash"))


def test_it_reissues_every_pupils_link_and_shows_them_once(client, teacher, approved):
    before = live_tokens(approved)
    response = post(client, teacher, approved)
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    links = response.json()
    assert {link["pupil"] for link in links} == set(approved.pupils.values_list("pk", flat=True))
    for link in links:
        assert set(link) == {"pupil", "display_name", "join_url"}
        assert link["join_url"].startswith(settings.BASE_URL + "/")
        assert link["display_name"]
    after = live_tokens(approved)
    # Each pupil has a new link and the old one is withdrawn.
    assert set(after) == set(before)
    assert all(after[p] != before[p] for p in after)
    assert Invitation.objects.filter(lesson=approved, revoked_at__isnull=False).count() == 4
    # The database holds only each new token's hash.
    for link in links:
        token = link["join_url"].rstrip("/").rsplit("/", 1)[-1]
        assert hash_secret(token) == after[link["pupil"]]
        assert not Invitation.objects.filter(token_hash=token).exists()
    assert mail.outbox == []


def test_it_treats_an_empty_list_or_no_body_as_every_pupil(client, teacher, approved):
    assert len(post(client, teacher, approved, {"pupils": []}).json()) == 4
    assert len(post(client, teacher, approved, raw_body="").json()) == 4


def test_it_reissues_only_the_chosen_pupils(client, teacher, approved):
    first, second, *_ = approved.pupils.all()
    before = live_tokens(approved)
    links = post(client, teacher, approved, {"pupils": [first.pk, second.pk, first.pk]}).json()
    assert sorted(link["pupil"] for link in links) == sorted([first.pk, second.pk])
    after = live_tokens(approved)
    assert after[first.pk] != before[first.pk] and after[second.pk] != before[second.pk]
    unchanged = set(after) - {first.pk, second.pk}
    assert all(after[p] == before[p] for p in unchanged)


def test_it_emails_the_new_links_when_asked(client, teacher, approved,
                                           django_capture_on_commit_callbacks):
    first = approved.pupils.first()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, teacher, approved, {"pupils": [first.pk], "send_email": True})
    assert response.status_code == 200
    assert [m.to for m in mail.outbox] == [[first.parent_email]]


def test_it_refuses_pupils_not_invited_to_the_lesson(client, teacher, approved, school,
                                                     other_school):
    stranger = factories.make_pupil(factories.make_group(school, pupils=0))
    foreign = factories.make_pupil(factories.make_group(other_school, pupils=0))
    before = live_tokens(approved)
    for pupil_id in (stranger.pk, foreign.pk, 987654):
        response = post(client, teacher, approved, {"pupils": [pupil_id]})
        assert response.status_code == 422
        (err,) = response.json()["errors"]
        assert (err["rule"], err["field"]) == ("invited-pupils-only", "pupils")
    assert live_tokens(approved) == before


def test_it_refuses_bad_input_in_the_error_shape(client, teacher, approved):
    response = post(client, teacher, approved, {"pupils": "all"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "pupils"


def test_it_issues_no_links_before_approval(client, teacher, lesson):
    response = post(client, teacher, lesson)
    assert response.status_code == 409
    (err,) = response.json()["errors"]
    assert "approval-required" in err["message"]
    assert not Invitation.objects.filter(lesson=lesson).exists()


def test_it_issues_no_links_for_a_cancelled_lesson(client, teacher, approved):
    from safeclass.lessons.services import do_cancel_lesson

    do_cancel_lesson(approved, actor=teacher)
    assert post(client, teacher, approved).status_code == 409
    assert live_tokens(approved) == {}


@pytest.mark.parametrize("who", ["teacher", "ta", "head", "deputy", "slt", "admin"])
def test_it_lets_the_lessons_staff_and_senior_roles_issue_links(client, request, who,
                                                                approved):
    assert post(client, request.getfixturevalue(who), approved).status_code == 200


def test_it_refuses_a_teacher_from_another_lesson(client, teacher2, approved):
    # They cannot see the lesson at all, so it is "not found" rather than "forbidden".
    assert post(client, teacher2, approved).status_code == 404


def test_it_refuses_a_dsl_who_has_no_part_in_the_lesson(client, school, approved):
    dsl = factories.make_staff(school, roles=("dsl",))
    response = post(client, dsl, approved)
    assert response.status_code == 403
    assert response.json()["errors"][0]["rule"] is None


def test_it_answers_not_found_for_another_schools_lesson(client, outsider, approved):
    assert post(client, outsider, approved).status_code == 404
    assert live_tokens(approved) != {}
