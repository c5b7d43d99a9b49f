"""Recording the live lesson against a real Janus (second-adult-or-recording,
host-only-recording): recorded from the first admission with one adult, started when the
second adult leaves, the host's Start / Stop with two adults, refusals for everyone else,
the disk check before opening, Janus failing to start, files that do not grow, and the
lesson's end queueing the recording.

The fake publishers send SDP but no media, so Janus writes no (or empty) files: the
stall timeout is set high except where the stall itself is tested.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from safeclass.audit.models import AuditEvent
from safeclass.lessons.models import Lesson
from safeclass.lessons.services import do_approve_lesson
from safeclass.live import recording
from safeclass.live.models import (
    CHECKLIST_KEYS,
    Incident,
    IncidentKind,
    LiveRun,
    Presence,
    PresenceState,
    StaffChecklist,
)
from safeclass.media import errors as media_errors
from safeclass.media.adapter import ROOM_BITRATE, JanusMediaServer
from safeclass.media.node import media_server
from safeclass.recordings import paths
from safeclass.recordings.models import Recording, RecordingStatus, SpanReason
from tests import factories
from tests.integration import test_live_lesson as base
from tests.integration.janus_harness import janus_fixture
from tests.integration.test_live_lesson import (
    allowed_tokens,
    connect,
    db,
    publish,
    pupil_headers,
    pupil_path,
    run,
    staff_headers,
    staff_path,
    two_staff_and_pupil,
    until,
)

pytestmark = [pytest.mark.janus, pytest.mark.django_db(transaction=True)]

janus = janus_fixture(scope="module")
live_settings = base.live_settings  # fixtures shared with the live lesson's tests
lesson = base.lesson


@pytest.fixture
def rec_settings(live_settings):
    live_settings.RECORDING_STALL_SECONDS = 3600  # no media flows in these tests
    live_settings.RECORDING_BYTES_PER_PUBLISHER_MINUTE = 1000
    return live_settings


@pytest.fixture
def solo_lesson(rec_settings, teacher, group, head) -> Lesson:
    """One member of staff: booked as recorded (the request policy wants that)."""
    lesson = factories.make_requested_lesson(teacher, group, recorded=True)
    do_approve_lesson(lesson, actor=head)
    Lesson.objects.filter(pk=lesson.pk).update(starts_at=timezone.now() - timedelta(minutes=1))
    StaffChecklist.objects.create(lesson=lesson, staff=teacher, items=list(CHECKLIST_KEYS))
    lesson.refresh_from_db()
    return lesson


@pytest.fixture
def duo_lesson(rec_settings, lesson) -> Lesson:
    return lesson


def first_invitation(lesson: Lesson):
    return lesson.invitations.filter(revoked_at__isnull=True).order_by("pupil_id").first()


async def room_record(lesson: Lesson) -> tuple[bool, str]:
    media = media_server()
    assert isinstance(media, JanusMediaServer)
    info = await media.room_info(lesson.room_id)
    return bool(info["record"]), str(info.get("rec_dir"))


async def recording_state(comm, on: bool):
    return await until(comm, "state", lambda m: m["recording"]["on"] is on)


# ----------------------------------------------------------------------- one adult


def test_one_adult_records_from_the_first_admission_and_the_end_queues_it(solo_lesson,
                                                                          teacher, janus):
    lesson = solo_lesson
    invitation = first_invitation(lesson)

    async def scenario():
        host = await connect(staff_path(lesson), await db(lambda: staff_headers(teacher)))
        await until(host, "media")
        # Nothing is recorded while the host sets up alone.
        assert await room_record(lesson) == (False, media_server().idle_record_dir)
        assert media_server().idle_record_dir.endswith("none")
        pupil = await connect(pupil_path(invitation),
                              await db(lambda: pupil_headers(invitation)))
        presence = (await until(pupil, "state"))["me"]["presence"]
        await host.send_json_to({"intent": "admit", "presence": presence})
        granted = await until(pupil, "media")
        # Janus was recording before the pupil's token was allowed.
        rec = await db(lambda: Recording.objects.get(lesson=lesson))
        folder = paths.raw_dir(rec)
        assert await room_record(lesson) == (True, str(folder))
        assert folder.is_dir() and folder.stat().st_mode & 0o777 == 0o700
        started = await db(lambda: AuditEvent.objects.get(action="recording.started"))
        admitted = await db(lambda: AuditEvent.objects.get(action="live.admitted"))
        assert started.seq < admitted.seq
        mine = await recording_state(pupil, True)
        assert set(mine["recording"]) == {"on"}  # a pupil is told only that it records
        staff_view = await recording_state(host, True)
        assert staff_view["recording"]["required"] is True
        assert staff_view["recording"]["can_stop"] is False
        # Nobody can stop it while required.
        await host.send_json_to({"intent": "recording", "on": False})
        assert (await until(host, "error"))["rule"] == "second-adult-or-recording"
        await publish(janus, lesson, granted)
        await pupil.send_json_to({"intent": "published", "audio_mid": "0", "video_mid": "1"})
        await until(host, "state", lambda m: granted["publisher_id"] in m["feeds"])
        assert (await room_info_bitrate(lesson)) == ROOM_BITRATE
        await host.send_json_to({"intent": "end"})
        await until(host, "ended")
        await until(pupil, "ended")

    run(scenario)
    rec = Recording.objects.get(lesson=lesson)
    assert rec.status == RecordingStatus.QUEUED and rec.lesson_ended_at is not None
    (span,) = rec.spans.all()
    assert span.reason == SpanReason.REQUIRED and span.stopped_at is not None
    assert span.stop_reason == "lesson_ended"
    assert not LiveRun.objects.get(lesson=lesson).recording_on
    assert AuditEvent.objects.filter(action="recording.queued", object_id=str(rec.pk)).exists()


async def room_info_bitrate(lesson: Lesson) -> int:
    media = media_server()
    assert isinstance(media, JanusMediaServer)
    return int((await media.room_info(lesson.room_id))["bitrate"])


def test_a_pupil_and_the_second_adult_cannot_start_or_stop_recording(duo_lesson, teacher,
                                                                      ta):
    lesson = duo_lesson
    invitation = first_invitation(lesson)

    async def scenario():
        host, second, pupil, presence = await two_staff_and_pupil(lesson, teacher, ta,
                                                                   invitation)
        await host.send_json_to({"intent": "admit", "presence": presence})
        await until(pupil, "media")
        for on in (True, False):
            await pupil.send_json_to({"intent": "recording", "on": on})
            assert (await until(pupil, "error"))["rule"] == "host-only-recording"
            await second.send_json_to({"intent": "recording", "on": on})
            assert (await until(second, "error"))["rule"] == "host-only-recording"
        assert (await room_record(lesson))[0] is False
        for comm in (pupil, second, host):  # the pupil first, or recording would start
            await comm.disconnect()

    run(scenario)
    refused = AuditEvent.objects.filter(action="live.intent_refused",
                                        data__rule="host-only-recording")
    assert refused.count() == 4
    assert not Recording.objects.filter(lesson=lesson).exists()


def test_two_adults_the_host_starts_and_stops_and_the_second_leaving_restarts_it(
        duo_lesson, teacher, ta):
    lesson = duo_lesson
    invitation = first_invitation(lesson)

    async def scenario():
        host, second, pupil, presence = await two_staff_and_pupil(lesson, teacher, ta,
                                                                   invitation)
        await host.send_json_to({"intent": "admit", "presence": presence})
        await until(pupil, "media")
        state = await until(host, "state", lambda m: m["pupils"] and
                            m["pupils"][0]["state"] == "admitted")
        assert state["recording"]["can_start"] and not state["recording"]["required"]
        second_view = await until(second, "state")
        assert not second_view["recording"]["can_start"]

        await host.send_json_to({"intent": "recording", "on": True})
        on = await recording_state(host, True)
        assert on["recording"]["can_stop"]
        assert (await room_record(lesson))[0] is True
        await host.send_json_to({"intent": "recording", "on": False})
        await recording_state(host, False)
        assert (await room_record(lesson)) == (False, media_server().idle_record_dir)

        # The second adult leaves: recording starts in the leave itself.
        await second.disconnect()
        assert (await room_record(lesson))[0] is True
        await recording_state(pupil, True)
        # Back again: recording carries on until the host stops it.
        second = await connect(staff_path(lesson), await db(lambda: staff_headers(ta)))
        await until(second, "media")
        await until(host, "state", lambda m: m["lesson"]["staff_present"] == 2
                    and m["recording"]["can_stop"])
        assert (await room_record(lesson))[0] is True
        await host.send_json_to({"intent": "recording", "on": False})
        await recording_state(host, False)
        for comm in (pupil, second, host):
            await comm.disconnect()

    run(scenario)
    spans = list(Recording.objects.get(lesson=lesson).spans.order_by("started_at"))
    assert [s.reason for s in spans] == [SpanReason.HOST, SpanReason.REQUIRED]
    assert spans[0].started_by == teacher and spans[0].stopped_by == teacher
    assert spans[1].started_by is None and spans[1].stopped_by == teacher
    assert all(s.stopped_at is not None for s in spans)


# ----------------------------------------------------------------------- failures


def test_too_little_disk_alerts_staff_and_pupils_need_two_adults(rec_settings, solo_lesson,
                                                                 teacher, ta):
    rec_settings.RECORDING_BYTES_PER_PUBLISHER_MINUTE = 10 ** 15  # no disk is that big
    lesson = solo_lesson
    Lesson.objects.filter(pk=lesson.pk).update(second_staff=ta)
    StaffChecklist.objects.create(lesson=lesson, staff=ta, items=list(CHECKLIST_KEYS))
    invitation = first_invitation(lesson)

    async def scenario():
        host = await connect(staff_path(lesson), await db(lambda: staff_headers(teacher)))
        state = await until(host, "state", lambda m: any(
            a["kind"] == "recording_problem" for a in m["alerts"]))
        assert state["recording"]["problem"] == "disk_short"
        pupil = await connect(pupil_path(invitation),
                              await db(lambda: pupil_headers(invitation)))
        presence = (await until(pupil, "state"))["me"]["presence"]
        await host.send_json_to({"intent": "admit", "presence": presence})
        assert (await until(host, "error"))["rule"] == "second-adult-or-recording"
        assert (await room_record(lesson))[0] is False
        # A second adult: now pupils may come in (the booked recording cannot run, and
        # staff keep seeing why).
        second = await connect(staff_path(lesson), await db(lambda: staff_headers(ta)))
        await until(second, "media")
        await host.send_json_to({"intent": "admit", "presence": presence})
        await until(pupil, "media")
        # The second adult leaves: recording is required and cannot run: back to waiting.
        await second.disconnect()
        assert (await until(pupil, "media_revoked"))["reason"] == "recording_failed"
        await until(pupil, "state", lambda m: m["me"]["state"] == "waiting")
        for comm in (host, pupil):
            await comm.disconnect()

    run(scenario)
    assert AuditEvent.objects.filter(action="recording.disk_short").count() == 1
    assert Incident.objects.filter(lesson=lesson, kind=IncidentKind.RECORDING_FAILED).exists()
    assert AuditEvent.objects.filter(action="recording.failed").exists()


def test_janus_failing_to_start_refuses_one_adult_admission(solo_lesson, teacher,
                                                            monkeypatch):
    lesson = solo_lesson
    invitation = first_invitation(lesson)

    async def broken(self, room, secret, *, record_dir):
        raise media_errors.JanusError("recording is broken")

    monkeypatch.setattr(JanusMediaServer, "start_recording", broken)

    async def scenario():
        host = await connect(staff_path(lesson), await db(lambda: staff_headers(teacher)))
        await until(host, "media")
        pupil = await connect(pupil_path(invitation),
                              await db(lambda: pupil_headers(invitation)))
        presence = (await until(pupil, "state"))["me"]["presence"]
        await host.send_json_to({"intent": "admit", "presence": presence})
        refused = await until(host, "error")
        assert refused["rule"] == "second-adult-or-recording" and refused["message"]
        state = await until(host, "state", lambda m: m["recording"]["problem"])
        assert state["recording"]["problem"] == "start_failed"
        assert any(a["kind"] == "recording_problem" for a in state["alerts"])
        assert state["pupils"][0]["state"] == "waiting"
        for comm in (host, pupil):
            await comm.disconnect()

    run(scenario)
    assert Presence.objects.get(pupil=invitation.pupil, state=PresenceState.LEFT).admitted_at \
        is None
    failed = AuditEvent.objects.get(action="recording.failed")
    assert failed.data["why"] == "start_failed"
    assert Incident.objects.get(lesson=lesson).kind == IncidentKind.RECORDING_FAILED


def test_files_that_do_not_grow_send_pupils_back_until_a_second_adult_comes(
        rec_settings, solo_lesson, teacher, ta, janus, monkeypatch):
    rec_settings.RECORDING_STALL_SECONDS = 1
    monkeypatch.setattr(recording, "WATCH_INTERVAL", 0.2)
    lesson = solo_lesson
    Lesson.objects.filter(pk=lesson.pk).update(second_staff=ta)
    StaffChecklist.objects.create(lesson=lesson, staff=ta, items=list(CHECKLIST_KEYS))
    invitation = first_invitation(lesson)

    async def scenario():
        host = await connect(staff_path(lesson), await db(lambda: staff_headers(teacher)))
        await until(host, "media")
        pupil = await connect(pupil_path(invitation),
                              await db(lambda: pupil_headers(invitation)))
        presence = (await until(pupil, "state"))["me"]["presence"]
        await host.send_json_to({"intent": "admit", "presence": presence})
        granted = await until(pupil, "media")
        # It publishes (no media flows, so Janus writes nothing): a stall.
        await publish(janus, lesson, granted)
        await pupil.send_json_to({"intent": "published", "audio_mid": "0", "video_mid": "1"})
        assert (await until(pupil, "media_revoked"))["reason"] == "recording_failed"
        state = await until(host, "state", lambda m: m["recording"]["problem"] == "stalled")
        assert state["pupils"][0]["state"] == "waiting" and not state["recording"]["on"]
        assert granted["token"] not in await allowed_tokens(lesson)
        # A second adult joins: pupils may come in again.
        second = await connect(staff_path(lesson), await db(lambda: staff_headers(ta)))
        await until(second, "media")
        await host.send_json_to({"intent": "admit", "presence": presence})
        await until(pupil, "media")
        for comm in (host, second, pupil):
            await comm.disconnect()
        await asyncio.sleep(0)

    run(scenario)
    failed = AuditEvent.objects.get(action="recording.failed")
    assert failed.data["why"] == "stalled" and failed.data["pupils_back"] == 1
    incident = Incident.objects.get(lesson=lesson, kind=IncidentKind.RECORDING_FAILED)
    assert "waiting room" in incident.summary


# ----------------------------------------------------------------------- spans


def test_spans_open_once_close_and_a_second_end_queues_nothing_more(solo_lesson, teacher):
    from safeclass.recordings import spans

    lesson = solo_lesson
    assert spans.lesson_ended(lesson) is None  # never recorded
    rec = spans.begin_span(lesson, reason=SpanReason.HOST, actor=teacher)
    assert spans.begin_span(lesson, reason=SpanReason.REQUIRED, actor=None) == rec
    assert rec.spans.count() == 1 and rec.status == RecordingStatus.RECORDING
    spans.end_span(lesson, actor=teacher, reason="host")
    spans.end_span(lesson, actor=teacher, reason="host")  # nothing open: nothing to do
    spans.begin_span(lesson, reason=SpanReason.REQUIRED, actor=None)
    assert spans.lesson_ended(lesson) == rec
    assert spans.lesson_ended(lesson) == rec
    rec.refresh_from_db()
    assert rec.status == RecordingStatus.QUEUED
    assert [s.stop_reason for s in rec.spans.order_by("started_at")] == ["host",
                                                                         "lesson_ended"]
    assert AuditEvent.objects.filter(action="recording.started").count() == 2
    assert AuditEvent.objects.filter(action="recording.stopped").count() == 2
    assert AuditEvent.objects.filter(action="recording.queued").count() == 1
