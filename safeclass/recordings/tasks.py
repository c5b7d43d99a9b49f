"""The post-processing job on the database task queue (django-tasks, database backend).

The queue is a table, so a queued job survives a restart of the app; it runs in the app
process (``worker.start_in_app``) or in separate ``python manage.py db_worker`` processes.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus

from safeclass.recordings.models import Recording, RecordingStatus

QUEUE = "default"


@task()
def process_recording_task(recording_id: int) -> str:
    """Run the pipeline; returns the recording's status for the task result."""
    from safeclass.recordings.pipeline import process_recording

    return str(process_recording(recording_id).status)


def _pending(recording_id: int) -> bool:
    # Only jobs not started yet: a running one is the job now failing and asking for its
    # own retry (its row stays RUNNING until it returns).
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=process_recording_task.module_path, status=TaskResultStatus.READY,
        args_kwargs__args=[recording_id]).exists()


def enqueue_processing(recording_id: int, *, delay: timedelta | None = None) -> None:
    """Queue the job for one recording. Idempotent: nothing is added while the recording
    is not waiting (queued, or failed with attempts left; a running job has set it
    ``processing``) or a job for it is already queued (and if two were queued anyway,
    the pipeline's compare-and-set claim makes the second a no-op)."""
    from safeclass.recordings.pipeline import MAX_ATTEMPTS

    waiting = Recording.objects.filter(
        Q(status=RecordingStatus.QUEUED)
        | Q(status=RecordingStatus.FAILED, attempts__lt=MAX_ATTEMPTS),
        pk=recording_id).exists()
    if not waiting or _pending(recording_id):
        return
    job = process_recording_task
    if delay:
        job = job.using(run_after=timezone.now() + delay)
    job.enqueue(recording_id)
