"""``python manage.py process_recording <lesson id> [--queue]``: for operators.

Prepares one lesson's recording now, in this process (or, with ``--queue``, hands it to
the workers). A recording that failed MAX_ATTEMPTS times is tried again; one being
prepared by a worker is left alone.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safeclass.recordings import pipeline
from safeclass.recordings.models import Recording, RecordingStatus


class Command(BaseCommand):
    help = "Prepare (post-process) the recording of one lesson."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("lesson_id", type=int)
        parser.add_argument("--queue", action="store_true",
                            help="Queue the job for the workers instead of running it here.")

    def handle(self, *args: Any, lesson_id: int, queue: bool, **options: Any) -> None:
        rec = Recording.objects.filter(lesson_id=lesson_id).first()
        if rec is None:
            raise CommandError(f"Lesson {lesson_id} has no recording.")
        if rec.status not in (RecordingStatus.QUEUED, RecordingStatus.FAILED):
            raise CommandError(f"The recording of lesson {lesson_id} is {rec.status}: only a "
                               "queued or failed recording can be prepared.")
        if queue:
            from safeclass.recordings.tasks import enqueue_processing

            enqueue_processing(rec.pk)
            self.stdout.write(f"Queued the recording of lesson {lesson_id}.")
            return
        done = pipeline.process_recording(rec.pk, force=True)
        if done.status == RecordingStatus.FAILED:
            raise CommandError(f"Failed: {done.error}")
        self.stdout.write(f"The recording of lesson {lesson_id} is {done.status}."
                          + (f" {done.error}" if done.error else ""))
