"""Shared by the recording page tests: real WebM files made with ffmpeg, stored through
the real encrypted store, and Recording rows for a lesson."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from pathlib import Path

from django.utils import timezone

from safeclass.lessons.models import Lesson
from safeclass.recordings import paths
from safeclass.recordings.models import FileKind, Recording, RecordingFile, RecordingStatus

# Small segments, so a few seconds of test video spans several of them.
SEGMENT_SIZE = 8 * 1024


def make_webm(path: Path, *, seconds: int = 2, size: str = "320x240") -> Path:
    """A small real WebM (VP8 test picture, Opus tone)."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc=size={size}:rate=10:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
         "-c:v", "libvpx", "-b:v", "300k", "-c:a", "libopus", "-shortest", str(path)],
        check=True)
    return path


def make_opus(path: Path, *, seconds: int = 2) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency=330:duration={seconds}", "-c:a", "libopus", str(path)],
                   check=True)
    return path


def make_recording(lesson: Lesson, *, status: str = RecordingStatus.READY,
                   ended_at: datetime | None = None, **fields: object) -> Recording:
    ended = ended_at or timezone.now() - timedelta(days=1)
    return Recording.objects.create(
        lesson=lesson, school=lesson.school, status=status,
        started_at=ended - timedelta(minutes=30), lesson_ended_at=ended, **fields)


def store_file(recording: Recording, source: Path, *, label: str = "Whole lesson",
               kind: str = FileKind.LESSON, media_type: str = "video/webm",
               store_name: str | None = None) -> RecordingFile:
    """Encrypt ``source`` into the recording's store folder (the real store) and add its
    row, as the processing job does."""
    from safeclass.recordings import keys, store

    folder = paths.make_private_dir(paths.store_dir(recording))
    name = store_name or f"{kind}{recording.files.count() + 1}"
    stored = store.write_file(folder, name, source, recipient=keys.recipient(),
                              segment_size=SEGMENT_SIZE)
    return RecordingFile.objects.create(
        recording=recording, kind=kind, store_name=stored.store_name, label=label,
        media_type=media_type, plain_size=stored.plain_size, sha256=stored.sha256,
        segment_size=stored.segment_size, segment_count=stored.segment_count,
        duration_seconds=2.0)
