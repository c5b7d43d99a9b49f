"""Who may watch a lesson's recording: its host, and SLT and the DSL of its school;
nobody else (another teacher, the second adult, an admin or approver alone, another
school, a pupil's join link). Everyone else gets the same 404 as for a recording that does
not exist; signing in is always needed; only the DSL places or releases a hold."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from safeclass.accounts import access
from safeclass.audit.models import AuditEvent
from safeclass.lessons.services import do_approve_lesson
from safeclass.recordings.models import Recording
from tests import factories
from tests.integration.recordings_helpers import make_recording, store_file

pytestmark = pytest.mark.django_db
# The fixtures recording_dirs, sample_webm and sample_opus.
pytest_plugins = ["tests.plugins.recordings"]

ALLOWED = ("teacher", "slt", "dsl", "head")          # host, SLT, DSL, head (approver + DSL)
REFUSED = ("teacher2", "ta", "admin", "approver", "outsider")


@pytest.fixture
def approver(school):
    return factories.make_staff(school, "approver@school.example", ("approver",), "Alf Approver")


@pytest.fixture
def recording(lesson, recording_dirs, sample_webm):
    made = make_recording(lesson)
    store_file(made, sample_webm)
    return made


def urls(recording):
    public_id = recording.public_id
    file_id = recording.files.get().pk
    return {
        "detail": reverse("recordings:detail", args=[public_id]),
        "media": reverse("recordings:media", args=[public_id, file_id]),
        "download": reverse("recordings:download", args=[public_id, file_id]),
        "hold": reverse("recordings:hold", args=[public_id]),
        "release": reverse("recordings:release_hold", args=[public_id]),
    }


def hold_data(school):
    review = timezone.localdate(timezone.now(), school.zone) + timedelta(days=30)
    return {"reason": "Evidence for a referral", "review_date": review.isoformat()}


LIST = reverse("recordings:list")


# Those who may watch ---------------------------------------------------------------------

@pytest.mark.parametrize("who", ALLOWED)
def test_the_host_slt_and_dsl_may_watch_and_download(client, request, who, recording):
    user = request.getfixturevalue(who)
    client.force_login(user)
    url = urls(recording)
    body = client.get(LIST).content.decode()
    assert url["detail"] in body and "Fractions" in body
    page = client.get(url["detail"])
    assert page.status_code == 200
    assert url["media"] in page.content.decode()
    media = client.get(url["media"], HTTP_RANGE="bytes=0-99")
    assert media.status_code == 206
    assert len(b"".join(media.streaming_content)) == 100
    download = client.post(url["download"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:4] == b"\x1a\x45\xdf\xa3"  # EBML: WebM
    assert AuditEvent.objects.filter(action="recording.viewed", actor=user).exists()
    assert AuditEvent.objects.filter(action="recording.downloaded", actor=user).count() == 1


# Those who may not: the same 404 as for nothing at all -----------------------------------

@pytest.mark.parametrize("who", REFUSED)
def test_everyone_else_gets_404_for_every_recording_url(client, request, who, recording,
                                                       school):
    user = request.getfixturevalue(who)
    client.force_login(user)
    url = urls(recording)
    assert client.get(url["detail"]).status_code == 404
    assert client.get(url["media"]).status_code == 404
    assert client.get(url["media"], HTTP_RANGE="bytes=0-9").status_code == 404
    assert client.post(url["download"]).status_code == 404
    assert client.get(url["hold"]).status_code == 404
    assert client.post(url["hold"], hold_data(school)).status_code == 404
    assert client.post(url["release"]).status_code == 404
    assert not AuditEvent.objects.filter(action__startswith="recording.", actor=user).exists()
    assert not Recording.objects.get(pk=recording.pk).on_hold


def test_a_guessed_id_gives_the_same_404(client, slt, recording):
    client.force_login(slt)
    guessed = uuid.uuid4()
    file_id = recording.files.get().pk
    for url in (reverse("recordings:detail", args=[guessed]),
                reverse("recordings:media", args=[guessed, file_id]),
                reverse("recordings:hold", args=[guessed])):
        assert client.get(url).status_code == 404
    assert client.post(reverse("recordings:download", args=[guessed, file_id])).status_code == 404
    # Another recording's file under this recording's id: 404 too.
    other = make_recording(factories.make_requested_lesson(
        recording.lesson.host, recording.lesson.group, second_staff=recording.lesson.second_staff,
        starts_at=factories.future_start(days=5)))
    assert client.get(reverse("recordings:media", args=[other.public_id, file_id])
                      ).status_code == 404
    assert client.get("/recordings/not-a-uuid/").status_code == 404


@pytest.mark.parametrize("who", ["teacher2", "outsider"])
def test_the_list_never_shows_recordings_that_are_not_theirs(client, request, who, recording):
    client.force_login(request.getfixturevalue(who))
    response = client.get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Fractions" not in body and str(recording.public_id) not in body
    assert "There are no recordings yet." in body


@pytest.mark.parametrize("who", ["ta", "admin", "approver"])
def test_the_list_is_refused_to_roles_that_watch_nothing(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(LIST).status_code == 403


def test_a_teacher_lists_only_the_lessons_they_hosted(client, teacher, teacher2, group,
                                                      recording):
    theirs = make_recording(factories.make_requested_lesson(
        teacher2, factories.make_group(group.school, pupils=2), title="Spelling",
        recorded=True))
    client.force_login(teacher)
    body = client.get(LIST).content.decode()
    assert "Fractions" in body and "Spelling" not in body
    assert reverse("recordings:detail", args=[theirs.public_id]) not in body


# Signing in is always needed -------------------------------------------------------------

def assert_sign_in(response):
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_anonymous_visitors_are_sent_to_sign_in(client, recording):
    url = urls(recording)
    progress = reverse("recordings:lesson_progress", args=[recording.lesson_id])
    for path in (LIST, url["detail"], url["media"], url["hold"], progress):
        assert_sign_in(client.get(path))
    for path in (url["download"], url["hold"], url["release"]):
        assert_sign_in(client.post(path))


def test_a_pupils_join_link_opens_no_recording(recording, deputy):
    cache.clear()  # the wrong-link rate limit of other tests
    links = do_approve_lesson(recording.lesson, actor=deputy)
    pupil = Client()
    token = links[0].join_url.rstrip("/").rsplit("/", 1)[-1]
    assert pupil.get(reverse("invitations:open", args=[token])).status_code == 302
    assert pupil.session.get(access.JOIN_SESSION_KEY)
    url = urls(recording)
    for path in (LIST, url["detail"], url["media"], url["hold"]):
        assert_sign_in(pupil.get(path))
    assert_sign_in(pupil.post(url["download"]))
    assert not AuditEvent.objects.filter(action__in=["recording.viewed",
                                                     "recording.downloaded"]).exists()


# Holds: the DSL only ---------------------------------------------------------------------

@pytest.mark.parametrize("who", ["dsl", "head"])
def test_the_dsl_places_and_releases_a_hold(client, request, who, recording, school):
    user = request.getfixturevalue(who)
    client.force_login(user)
    url = urls(recording)
    assert client.get(url["hold"]).status_code == 200
    response = client.post(url["hold"], hold_data(school))
    assert response.status_code == 302 and response["Location"] == url["detail"]
    held = Recording.objects.get(pk=recording.pk)
    assert held.on_hold and held.held_by == user and held.hold_reason == "Evidence for a referral"
    assert client.post(url["release"]).status_code == 302
    assert not Recording.objects.get(pk=recording.pk).on_hold
    assert AuditEvent.objects.filter(action="recording.held", actor=user).count() == 1
    assert AuditEvent.objects.filter(action="recording.hold_released", actor=user).count() == 1


@pytest.mark.parametrize("who", ["teacher", "slt", "deputy"])
def test_those_who_watch_but_are_not_the_dsl_cannot_hold(client, request, who, recording,
                                                         school, dsl):
    url = urls(recording)
    client.force_login(dsl)
    client.post(url["hold"], hold_data(school))
    client.force_login(request.getfixturevalue(who))
    assert client.get(url["detail"]).status_code == 200
    assert url["hold"] not in client.get(url["detail"]).content.decode()
    assert client.get(url["hold"]).status_code == 403
    assert client.post(url["hold"], hold_data(school)).status_code == 403
    assert client.post(url["release"]).status_code == 403
    assert Recording.objects.get(pk=recording.pk).on_hold


def test_state_changing_views_refuse_get(client, dsl, recording):
    client.force_login(dsl)
    url = urls(recording)
    assert client.get(url["release"]).status_code == 405
    assert client.get(url["download"]).status_code == 405
    assert client.post(url["detail"]).status_code == 405
    assert client.post(url["media"]).status_code == 405
    assert client.post(LIST).status_code == 405
    assert not AuditEvent.objects.filter(action="recording.downloaded").exists()


# The navigation --------------------------------------------------------------------------

def test_the_navigation_links_to_recordings_for_those_who_may_see_them(client, request,
                                                                       recording):
    for who, shown in [("slt", True), ("dsl", True), ("teacher", True), ("teacher2", True),
                       ("admin", False), ("approver", False), ("ta", False)]:
        client.force_login(request.getfixturevalue(who))
        body = client.get(reverse("web:home")).content.decode()
        assert (f'href="{LIST}"' in body) is shown, who
