"""Retention (recording-retention): a recording is deleted, with every derived file, when
the school's current retention has passed since its lesson ended; each deletion audited.
A DSL hold keeps it past retention until released. The clock is moved with time_machine."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from safeclass.audit.models import AuditEvent
from safeclass.lessons.services import ActionNotAllowed
from safeclass.recordings import paths, services
from safeclass.recordings.models import Recording, RecordingFile, RecordingStatus
from safeclass.schools.services import current_policy, do_edit_policy, policy_settings
from tests import factories
from tests.integration.recordings_helpers import make_recording, store_file

pytestmark = pytest.mark.django_db
# The fixtures recording_dirs, sample_webm and sample_opus.
pytest_plugins = ["tests.plugins.recordings"]


@pytest.fixture
def recording(lesson, recording_dirs, sample_webm):
    made = make_recording(lesson, ended_at=timezone.now() - timedelta(days=1))
    store_file(made, sample_webm)
    # Leftovers a crash could leave: Janus' raw files and a work folder.
    paths.make_private_dir(paths.raw_dir(made))
    (paths.raw_dir(made) / "videoroom-1-user-2-3-audio-0.mjr").write_bytes(b"MJR00002")
    paths.make_private_dir(paths.work_dir(made))
    (paths.work_dir(made) / "scratch.webm").write_bytes(b"plaintext")
    return made


def folders(recording):
    return [paths.store_dir(recording), paths.raw_dir(recording), paths.work_dir(recording)]


def after_retention(recording, days=365, extra=timedelta(hours=1)):
    return recording.lesson_ended_at + timedelta(days=days) + extra


def purge_events(recording):
    return AuditEvent.objects.filter(action="recording.purged", object_id=str(recording.pk))


def test_nothing_is_deleted_before_retention_ends(recording):
    with time_machine.travel(after_retention(recording, extra=-timedelta(hours=1)), tick=False):
        assert recording not in services.purge_expired()
    assert Recording.objects.get(pk=recording.pk).status == RecordingStatus.READY
    assert all(folder.exists() for folder in folders(recording))


def test_it_deletes_every_file_when_retention_ends_and_audits_it(recording):
    with time_machine.travel(after_retention(recording), tick=False):
        purged = services.purge_expired()
    assert recording.pk in {r.pk for r in purged}
    kept = Recording.objects.get(pk=recording.pk)  # the row stays: the record it existed
    assert kept.status == RecordingStatus.PURGED and kept.purged_at is not None
    assert not any(folder.exists() for folder in folders(recording))
    assert not RecordingFile.objects.filter(recording=recording).exists()
    event = purge_events(recording).get()
    assert event.actor is None and event.actor_label == "SafeClass (retention)"
    assert event.data["lesson"] == recording.lesson_id and event.data["files"] == 1
    assert event.data["rule"] == "recording-retention"
    # A second run finds nothing more to do.
    with time_machine.travel(after_retention(recording, extra=timedelta(hours=2)), tick=False):
        assert recording.pk not in {r.pk for r in services.purge_expired()}
    assert purge_events(recording).count() == 1


def test_a_dry_run_deletes_nothing(recording):
    with time_machine.travel(after_retention(recording), tick=False):
        would = services.purge_expired(dry_run=True)
    assert recording.pk in {r.pk for r in would}
    assert Recording.objects.get(pk=recording.pk).status == RecordingStatus.READY
    assert all(folder.exists() for folder in folders(recording))
    assert RecordingFile.objects.filter(recording=recording).count() == 1
    assert not purge_events(recording).exists()


def test_a_hold_survives_retention_until_released(recording, dsl, school):
    review = timezone.localdate(timezone.now(), school.zone) + timedelta(days=30)
    services.place_hold(recording, actor=dsl, reason="Child-protection referral",
                        review_date=review)
    with time_machine.travel(after_retention(recording, days=400), tick=False):
        plan = services.retention_plan()
        assert recording.pk in {r.pk for r in plan.held}
        assert recording.pk not in {r.pk for r in services.purge_expired()}
        assert Recording.objects.get(pk=recording.pk).status == RecordingStatus.READY
        assert paths.store_dir(recording).exists()
        with pytest.raises(ActionNotAllowed):
            services.purge_recording(recording)
        # Released: the next run deletes it.
        services.release_hold(Recording.objects.get(pk=recording.pk), actor=dsl)
        assert recording.pk in {r.pk for r in services.purge_expired()}
    assert Recording.objects.get(pk=recording.pk).status == RecordingStatus.PURGED
    assert not paths.store_dir(recording).exists()
    assert purge_events(recording).count() == 1
    assert AuditEvent.objects.filter(action="recording.hold_released",
                                     object_id=str(recording.pk)).count() == 1


def test_the_schools_current_retention_applies(recording, deputy, school):
    shorter = dataclasses.replace(policy_settings(current_policy(school)), retention_days=30)
    do_edit_policy(school, shorter, actor=deputy, reason="Keep recordings a month")
    with time_machine.travel(after_retention(recording, days=30), tick=False):
        assert recording.pk in {r.pk for r in services.purge_expired()}


def test_another_schools_retention_is_its_own(recording, outsider, other_school):
    # The other school keeps recordings only 30 days; ours keeps 365.
    shorter = dataclasses.replace(policy_settings(current_policy(other_school)),
                                  retention_days=30)
    do_edit_policy(other_school, shorter, actor=outsider, reason="A month")
    theirs = make_recording(factories.make_requested_lesson(
        outsider, factories.make_group(other_school, pupils=2), recorded=True),
        ended_at=recording.lesson_ended_at)
    with time_machine.travel(after_retention(recording, days=31), tick=False):
        purged = {r.pk for r in services.purge_expired()}
    assert theirs.pk in purged and recording.pk not in purged


def test_a_recording_being_prepared_is_left_for_the_next_run(recording):
    Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.PROCESSING)
    with time_machine.travel(after_retention(recording), tick=False):
        plan = services.retention_plan()
        assert recording.pk in {r.pk for r in plan.busy}
        assert recording.pk not in {r.pk for r in services.purge_expired()}
    assert paths.store_dir(recording).exists()


def test_the_command_says_what_it_deletes_and_what_it_keeps(recording, dsl, school, lesson,
                                                             sample_webm, teacher, group):
    other_lesson = factories.make_requested_lesson(
        teacher, factories.make_group(school, pupils=2), title="Spelling", recorded=True,
        starts_at=factories.future_start(days=6))
    held = make_recording(other_lesson, ended_at=recording.lesson_ended_at)
    store_file(held, sample_webm)
    services.place_hold(held, actor=dsl, reason="Referral",
                        review_date=timezone.localdate(timezone.now(), school.zone)
                        + timedelta(days=9))
    with time_machine.travel(after_retention(recording), tick=False):
        out = StringIO()
        call_command("purge_expired_recordings", "--dry-run", stdout=out)
        text = out.getvalue()
        assert f"Would delete: {recording.public_id}" in text and "“Fractions”" in text
        assert f"{held.public_id}" in text and "Kept (on hold, review by" in text
        assert "dry run: nothing was deleted" in text
        assert Recording.objects.get(pk=recording.pk).status == RecordingStatus.READY

        out = StringIO()
        call_command("purge_expired_recordings", stdout=out)
        text = out.getvalue()
        assert f"Deleted: {recording.public_id}" in text
        assert "Kept (on hold, review by" in text and str(held.public_id) in text
    assert Recording.objects.get(pk=recording.pk).status == RecordingStatus.PURGED
    assert Recording.objects.get(pk=held.pk).status == RecordingStatus.READY
    assert paths.store_dir(held).exists()


def test_a_deleted_recording_keeps_its_page_but_nothing_plays(client, slt, recording, dsl,
                                                              school):
    file_id = recording.files.get().pk
    with time_machine.travel(after_retention(recording), tick=False):
        services.purge_expired()
        client.force_login(slt)
        page = client.get(reverse("recordings:detail", args=[recording.public_id]))
        body = page.content.decode()
        assert page.status_code == 200 and "<video" not in body
        assert "Deleted on" in body and "have been deleted" in body
        assert client.get(reverse("recordings:media", args=[recording.public_id, file_id])
                          ).status_code == 404
        with pytest.raises(ActionNotAllowed):
            services.place_hold(recording, actor=dsl, reason="Too late",
                                review_date=timezone.localdate(timezone.now(), school.zone)
                                + timedelta(days=3))
