"""The post-processing worker inside the app process (the embedded default).

``start_in_app()`` (called from ``safeclass/asgi.py`` when ``RECORDING_WORKER_IN_APP``)
starts two daemon threads:

* the django-tasks-db worker loop (the same ``Worker`` that ``manage.py db_worker``
  runs), which picks queued jobs from the database table and runs them one at a time;
* housekeeping: about hourly, ``services.purge_expired()`` deletes recordings past
  retention.

Before the loop starts, recordings a crash left in ``processing`` go back to the queue
(with only one in-app worker, nothing else can be working on them), and queued ones that
lost their job get one. With separate workers (``RECORDING_WORKER_IN_APP`` false, several
``manage.py db_worker`` processes) this function is not called, and an operator re-queues
with ``manage.py process_recording <lesson>``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from django.db import close_old_connections, transaction

log = logging.getLogger(__name__)

PURGE_EVERY = 3600
POLL_INTERVAL = 1.0
_lock = threading.Lock()
_started = False


def requeue_interrupted() -> list[int]:
    """Put recordings a crash left in ``processing`` back to ``queued`` (and their stale
    task rows to failed), and make sure every queued recording has a job. Returns the
    ids queued."""
    from django.utils import timezone
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from safeclass.recordings.models import Recording, RecordingStatus
    from safeclass.recordings.tasks import enqueue_processing, process_recording_task

    with transaction.atomic():
        # This process has not run anything yet: a job marked running was cut off.
        DBTaskResult.objects.filter(
            task_path=process_recording_task.module_path,
            status=TaskResultStatus.RUNNING).update(status=TaskResultStatus.FAILED,
                                                    finished_at=timezone.now())
        stuck = list(Recording.objects.filter(status=RecordingStatus.PROCESSING)
                     .values_list("pk", flat=True))
        Recording.objects.filter(pk__in=stuck).update(
            status=RecordingStatus.QUEUED, progress_percent=0, progress_step="")
    if stuck:
        log.warning("re-queued recordings interrupted by a restart: %s", stuck)
    queued = list(Recording.objects.filter(status=RecordingStatus.QUEUED)
                  .values_list("pk", flat=True))
    for pk in queued:
        enqueue_processing(pk)
    return queued


def _run_worker() -> None:
    from django_tasks_db.management.commands.db_worker import Worker

    worker_id = f"app-{socket.gethostname()}-{os.getpid()}"[:64]
    while True:
        try:
            requeue_interrupted()
            # No configure_signals(): only the main thread may set signal handlers, and
            # this daemon thread simply dies with the app.
            Worker(queue_names=["default"], interval=POLL_INTERVAL, batch=False,
                   backend_name="default", startup_delay=False, max_tasks=None,
                   worker_id=worker_id, excluded_queue_names=[]).run()
        except Exception:
            log.exception("recording worker stopped; restarting in a minute")
            time.sleep(60)
        finally:
            close_old_connections()


def purge_now() -> None:
    try:
        from safeclass.recordings.services import purge_expired
    except ImportError:  # retention not installed (yet)
        return
    try:
        purge_expired()
    except Exception:
        log.exception("purging expired recordings failed; trying again later")
    finally:
        close_old_connections()


def _run_housekeeping() -> None:
    while True:
        purge_now()
        time.sleep(PURGE_EVERY)


def start_in_app() -> bool:
    """Start the in-app worker once per process; False if already started."""
    global _started
    with _lock:
        if _started:
            return False
        _started = True
    threading.Thread(target=_run_worker, name="recording-worker", daemon=True).start()
    threading.Thread(target=_run_housekeeping, name="recording-housekeeping",
                     daemon=True).start()
    log.info("recording worker started in the app process")
    return True
