"""Post-processing end to end: real .mjr files (tests/integration/mjr_fixtures.py) through
the real janus-pp-rec and ffmpeg into the encrypted store."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from safeclass.audit.models import AuditEvent
from safeclass.live.models import Presence, PresenceRole, PresenceState
from safeclass.recordings import keys, mjr, paths, pipeline, store
from safeclass.recordings.models import FileKind, Recording, RecordingFile, RecordingStatus
from safeclass.recordings.tasks import enqueue_processing
from tests import factories
from tests.integration import mjr_fixtures

pytest_plugins = ["tests.plugins.recordings"]

T0 = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
ROOM = "a" * 32


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, list[Path]]:
    """Made once: the teacher's camera and microphone (4 s from T0), her screen share
    (video only, 2 s from T0+1.5 s), a pupil's camera and microphone (4 s from T0+0.5 s)."""
    folder = tmp_path_factory.mktemp("mjr")
    made = {}
    for who, start, seconds, audio in (("teacher", T0, 4, True),
                                       ("screen", T0 + timedelta(seconds=1.5), 2, False),
                                       ("pupil", T0 + timedelta(seconds=0.5), 4, True)):
        sub = folder / who
        sub.mkdir()
        made[who] = mjr_fixtures.write_publisher(sub, room=ROOM, publisher=f"pub{who}",
                                                 start=start, seconds=seconds, audio=audio,
                                                 freq=300 if who == "pupil" else 440)
    return made


@pytest.fixture
def lesson(teacher, group):
    return factories.make_requested_lesson(teacher, group, title="Fractions", recorded=True)


@pytest.fixture
def presences(lesson, teacher, group):
    staff = Presence.objects.create(lesson=lesson, role=PresenceRole.STAFF, staff=teacher,
                                    display_name="Amy Lewis", state=PresenceState.LEFT)
    pupil = Presence.objects.create(lesson=lesson, role=PresenceRole.PUPIL,
                                    pupil=group.pupils.first(), display_name="Priya",
                                    state=PresenceState.LEFT)
    return staff, pupil


@pytest.fixture
def recording(lesson, recording_dirs):
    return Recording.objects.create(lesson=lesson, school=lesson.school,
                                    status=RecordingStatus.QUEUED, started_at=T0,
                                    lesson_ended_at=T0 + timedelta(minutes=1))


def put_raw(recording: Recording, media, presences, *who: str) -> Path:
    """Copy the chosen publishers' files into the recording's raw folder, renamed to the
    presences' real publisher ids."""
    staff, pupil = presences
    ids = {"teacher": staff.publisher_id, "screen": "scr" + staff.publisher_id[3:],
           "pupil": pupil.publisher_id}
    Presence.objects.filter(pk=staff.pk).update(screen_publisher_id=ids["screen"])
    raw = paths.make_private_dir(paths.raw_dir(recording))
    for name in who:
        for src in media[name]:
            shutil.copy(src, raw / src.name.replace(f"pub{name}", ids[name]))
    return raw


def probe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                          "format=duration:stream=codec_type,codec_name", "-of", "json",
                          str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def decrypt(recording: Recording, file: RecordingFile, to: Path) -> Path:
    folder = paths.store_dir(recording)
    to.write_bytes(b"".join(store.open_range(folder, file.store_name, 0, file.plain_size,
                                             identity=keys.identity())))
    return to


def actions(recording: Recording) -> list[str]:
    return list(AuditEvent.objects.filter(object_id=str(recording.pk),
                                          action__startswith="recording.")
                .order_by("seq").values_list("action", flat=True))


def test_lesson_becomes_one_file_and_streams(recording, media, presences, tmp_path):
    raw = put_raw(recording, media, presences, "teacher", "screen", "pupil")
    infos = [mjr.read_info(p) for p in raw.glob("*.mjr")]
    timeline = (max(i.end for i in infos) - min(i.start for i in infos)).total_seconds()

    done = pipeline.process_recording(recording.pk)

    assert done.status == RecordingStatus.READY, done.error
    assert (done.progress_percent, done.attempts, done.error) == (100, 1, "")
    lesson_files = done.files.filter(kind=FileKind.LESSON)
    assert lesson_files.count() == 1
    whole = lesson_files.get()
    assert whole.media_type == "video/webm"
    plain = decrypt(done, whole, tmp_path / "lesson.webm")
    info = probe(plain)
    assert abs(float(info["format"]["duration"]) - timeline) <= 0.5
    assert abs(done.duration_seconds - timeline) <= 0.5
    kinds = {(s["codec_type"], s["codec_name"]) for s in info["streams"]}
    assert kinds == {("video", "vp8"), ("audio", "opus")}
    # Every stream is kept, labelled with who it was.
    labels = sorted(done.files.filter(kind=FileKind.STREAM).values_list("label", "track"))
    assert labels == [("Amy Lewis (camera)", "video"), ("Amy Lewis (microphone)", "audio"),
                      ("Amy Lewis (screen)", "screen"), ("Priya (camera)", "video"),
                      ("Priya (microphone)", "audio")]
    staff, _pupil = presences
    assert done.files.filter(presence=staff).count() == 3
    for f in done.files.all():
        assert store.verify(paths.store_dir(done), f.store_name, keys.identity()).sha256 == \
            f.sha256
    screen = done.files.get(track="screen")
    assert screen.stream_started_at == T0 + timedelta(seconds=1.5)
    # Plaintext gone, raw files gone, store holds only encrypted files.
    assert not paths.work_dir(done).exists()
    assert not paths.raw_dir(done).exists()
    assert sorted(store.list_files(paths.store_dir(done))) == sorted(
        done.files.values_list("store_name", flat=True))
    assert actions(done)[-1] == "recording.processed"


def test_lesson_layout_and_offsets(recording, media, presences, tmp_path):
    # Two tiles (teacher camera, screen) side by side; the pupil's camera is not in it.
    put_raw(recording, media, presences, "teacher", "screen", "pupil")
    done = pipeline.process_recording(recording.pk)
    plain = decrypt(done, done.files.get(kind=FileKind.LESSON), tmp_path / "l.webm")
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height", "-of", "csv=p=0", str(plain)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1280,360"

    def screen_tile_brightness(at: float) -> float:
        # The right-hand tile (the screen, shared from T0+1.5 s to T0+3.5 s), as grey.
        pixels = subprocess.run(
            ["ffmpeg", "-v", "error", "-ss", str(at), "-i", str(plain), "-frames:v", "1",
             "-vf", "crop=640:360:640:0,format=gray", "-f", "rawvideo", "-"],
            capture_output=True, check=True).stdout
        return sum(pixels) / max(1, len(pixels))

    assert screen_tile_brightness(0.5) < 5          # black before the share starts
    assert screen_tile_brightness(2.5) > 30         # the shared picture
    assert screen_tile_brightness(4.2) < 5          # black again after it stopped


def test_second_run_does_nothing(recording, media, presences):
    put_raw(recording, media, presences, "teacher")
    Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.PROCESSING)
    again = pipeline.process_recording(recording.pk)  # another worker has it
    assert again.status == RecordingStatus.PROCESSING
    assert again.attempts == 0
    assert paths.raw_dir(recording).exists()
    Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.QUEUED)
    first = pipeline.process_recording(recording.pk)
    assert first.status == RecordingStatus.READY
    files = set(first.files.values_list("store_name", flat=True))
    second = pipeline.process_recording(recording.pk)
    assert (second.status, second.attempts) == (RecordingStatus.READY, 1)
    assert set(second.files.values_list("store_name", flat=True)) == files


def test_truncated_and_corrupt_mjr_are_left_out(recording, media, presences):
    raw = put_raw(recording, media, presences, "teacher", "pupil")
    pupil_video = next(raw.glob(f"*{presences[1].publisher_id}*video*.mjr"))
    pupil_video.write_bytes(pupil_video.read_bytes()[:-7])       # cut short
    pupil_audio = next(raw.glob(f"*{presences[1].publisher_id}*audio*.mjr"))
    data = bytearray(pupil_audio.read_bytes())
    data[600:604] = b"XXXX"                                       # damaged frame header
    pupil_audio.write_bytes(bytes(data))
    unfinished = raw / "videoroom-x-user-y-1-video-0.mjr.tmp"     # abandoned by Janus
    unfinished.write_bytes(b"MJR00002")
    old = unfinished.stat().st_mtime - 3600
    os.utime(unfinished, (old, old))

    done = pipeline.process_recording(recording.pk)

    assert done.status == RecordingStatus.READY
    assert sorted(done.files.values_list("label", flat=True)) == [
        "Amy Lewis (camera)", "Amy Lewis (microphone)", "Whole lesson"]
    assert "2 raw files were damaged or cut short" in done.error
    assert "never finished" in done.error
    event = AuditEvent.objects.filter(action="recording.processed",
                                      object_id=str(recording.pk)).get()
    assert len(event.data["skipped"]) == 2


def test_only_corrupt_files_fail(recording, media, presences):
    raw = paths.make_private_dir(paths.raw_dir(recording))
    (raw / "videoroom-r-user-p-1-video-0.mjr").write_bytes(b"not a recording at all")
    done = pipeline.process_recording(recording.pk)
    assert done.status == RecordingStatus.FAILED
    assert "damaged" in done.error
    assert raw.exists() and not paths.work_dir(done).exists()
    assert actions(done)[-1] == "recording.processing_failed"


def test_nothing_recorded_is_empty(recording):
    done = pipeline.process_recording(recording.pk)
    assert done.status == RecordingStatus.EMPTY
    assert not done.files.exists()


def test_ffmpeg_failure_fails_cleanly_and_retries(recording, media, presences, tmp_path,
                                                  monkeypatch, django_capture_on_commit_callbacks):
    put_raw(recording, media, presences, "teacher", "screen")
    # The real ffmpeg, given an option it refuses: a real ffmpeg failure.
    broken = tmp_path / "ffmpeg"
    broken.write_text('#!/bin/sh\nexec ffmpeg -no-such-option "$@"\n')
    broken.chmod(0o755)
    monkeypatch.setattr(pipeline, "FFMPEG", str(broken))
    with django_capture_on_commit_callbacks(execute=True):
        done = pipeline.process_recording(recording.pk)
    assert done.status == RecordingStatus.FAILED
    assert done.error == "The video tool (ffmpeg) could not put the lesson together."
    assert not done.files.exists()
    assert store.list_files(paths.store_dir(done)) == []
    assert not paths.work_dir(done).exists()
    assert len(list(paths.raw_dir(done).glob("*.mjr"))) == 3   # kept for the retry
    from django_tasks_db.models import DBTaskResult
    retry = DBTaskResult.objects.get(args_kwargs__args=[recording.pk])
    assert retry.run_after > done.lesson_ended_at
    # The retry (ffmpeg fixed) succeeds; after MAX_ATTEMPTS failures nothing more runs.
    monkeypatch.setattr(pipeline, "FFMPEG", "ffmpeg")
    assert pipeline.process_recording(recording.pk).status == RecordingStatus.READY
    Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.FAILED,
                                                     attempts=pipeline.MAX_ATTEMPTS)
    assert pipeline.process_recording(recording.pk).attempts == pipeline.MAX_ATTEMPTS


def test_disk_full_during_processing(recording, media, presences, tmp_path):
    if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() != "0":
        # Like the Janus tests, this needs root (CI runs as root): a skip would hide it.
        pytest.fail("needs root to mount a tiny filesystem")
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(tiny)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs here: {mounted.stderr!r}")
    try:
        put_raw(recording, media, presences, "teacher")
        from django.conf import settings
        settings.RECORDING_WORK_DIR = tiny
        done = pipeline.process_recording(recording.pk)
        assert done.status == RecordingStatus.FAILED
        assert done.error == "The disk filled up while the recording was being prepared."
        assert not paths.work_dir(done).exists()
        assert list(tiny.iterdir()) == []
        assert not done.files.exists()
    finally:
        subprocess.run(["umount", str(tiny)], check=False)


def test_enqueue_is_idempotent(recording):
    from django_tasks_db.models import DBTaskResult

    enqueue_processing(recording.pk)
    enqueue_processing(recording.pk)
    assert DBTaskResult.objects.filter(args_kwargs__args=[recording.pk]).count() == 1
    Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.READY)
    DBTaskResult.objects.filter(args_kwargs__args=[recording.pk]).delete()
    enqueue_processing(recording.pk)
    assert not DBTaskResult.objects.filter(args_kwargs__args=[recording.pk]).exists()


# The worker closes "old" database connections between jobs (close_old_connections), which
# a test inside one transaction cannot survive on PostgreSQL: this one commits for real.
@pytest.mark.django_db(transaction=True)
def test_queued_job_runs_in_the_db_worker(recording, media, presences):
    # The job goes through the real database queue and the django-tasks-db Worker loop.
    from django_tasks_db.management.commands.db_worker import Worker

    put_raw(recording, media, presences, "teacher")
    enqueue_processing(recording.pk)
    Worker(queue_names=["default"], interval=0, batch=True, backend_name="default",
           startup_delay=False, max_tasks=None, worker_id="test",
           excluded_queue_names=[]).run()
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.READY


def test_restart_requeues_interrupted_processing(recording):
    from django_tasks_db.models import DBTaskResult

    from safeclass.recordings import worker

    Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.PROCESSING,
                                                     progress_percent=40)
    assert recording.pk in worker.requeue_interrupted()
    recording.refresh_from_db()
    assert (recording.status, recording.progress_percent) == (RecordingStatus.QUEUED, 0)
    assert DBTaskResult.objects.filter(args_kwargs__args=[recording.pk],
                                       status="READY").count() == 1


def test_operator_command(recording, media, presences):
    from django.core.management import CommandError, call_command

    put_raw(recording, media, presences, "teacher")
    Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.FAILED,
                                                     attempts=pipeline.MAX_ATTEMPTS)
    call_command("process_recording", str(recording.lesson_id))
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.READY
    with pytest.raises(CommandError):
        call_command("process_recording", str(recording.lesson_id))


# The worker closes "old" database connections between jobs (close_old_connections), which
# a test inside one transaction cannot survive on PostgreSQL: this one commits for real.
@pytest.mark.django_db(transaction=True)
def test_failed_job_in_the_worker_queues_its_retry(recording, media, presences, tmp_path,
                                                   monkeypatch,
                                                   django_capture_on_commit_callbacks):
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    put_raw(recording, media, presences, "teacher")
    broken = tmp_path / "ffmpeg"
    broken.write_text('#!/bin/sh\nexec ffmpeg -no-such-option "$@"\n')
    broken.chmod(0o755)
    monkeypatch.setattr(pipeline, "FFMPEG", str(broken))
    enqueue_processing(recording.pk)
    with django_capture_on_commit_callbacks(execute=True):
        Worker(queue_names=["default"], interval=0, batch=True, backend_name="default",
               startup_delay=False, max_tasks=1, worker_id="test",
               excluded_queue_names=[]).run()
    recording.refresh_from_db()
    assert (recording.status, recording.attempts) == (RecordingStatus.FAILED, 1)
    assert DBTaskResult.objects.filter(args_kwargs__args=[recording.pk],
                                       status="READY").count() == 1


def test_missing_key_fails_plainly(recording, media, presences, settings):
    put_raw(recording, media, presences, "teacher")
    settings.RECORDING_KEY = ""
    settings.DEBUG = False
    done = pipeline.process_recording(recording.pk)
    assert done.status == RecordingStatus.FAILED
    assert done.error == "Recordings cannot be stored: the recording key is not set up."
    assert not paths.work_dir(done).exists()
    assert paths.raw_dir(done).exists()


def test_waits_while_janus_is_still_writing(recording, media, presences,
                                            django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    raw = put_raw(recording, media, presences, "teacher")
    (raw / "videoroom-x-user-y-1-audio-0.mjr.tmp").write_bytes(b"MJR00002")  # just now
    with django_capture_on_commit_callbacks(execute=True):
        done = pipeline.process_recording(recording.pk)
    assert (done.status, done.attempts) == (RecordingStatus.QUEUED, 0)
    assert not paths.work_dir(done).exists() and raw.exists()
    assert DBTaskResult.objects.filter(args_kwargs__args=[recording.pk],
                                       status="READY").count() == 1


def test_a_teacher_who_reconnected_keeps_one_tile(recording, media, presences, teacher,
                                                  tmp_path):
    # The same teacher on two presences (a reconnect gives a new publisher id), each with
    # a camera file: the lesson picture has one tile for her, not one per file.
    staff, _pupil = presences
    again = Presence.objects.create(lesson=staff.lesson, role=PresenceRole.STAFF,
                                    staff=teacher, display_name="Amy Lewis",
                                    state=PresenceState.LEFT)
    raw = paths.make_private_dir(paths.raw_dir(recording))
    for src in media["teacher"]:
        shutil.copy(src, raw / src.name.replace("pubteacher", staff.publisher_id))
    for src in media["pupil"]:
        shutil.copy(src, raw / src.name.replace("pubpupil", again.publisher_id))

    done = pipeline.process_recording(recording.pk)

    assert done.status == RecordingStatus.READY, done.error
    plain = decrypt(done, done.files.get(kind=FileKind.LESSON), tmp_path / "lesson.webm")
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height", "-of", "csv=p=0", str(plain)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "640,360"
