"""Delete every recording past its school's retention (``recording-retention``).

The app's own worker runs the same purge about hourly; this command is for cron at
scale, and for seeing what would go (``--dry-run`` deletes nothing). Recordings a DSL has
put on hold are kept, and listed as kept.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from safeclass.recordings import services
from safeclass.recordings.models import Recording


def _describe(recording: Recording) -> str:
    ended = services.retention_start(recording)
    return (f"{recording.public_id} – lesson {recording.lesson_id} “{recording.lesson.title}”"
            f" ({recording.school.name}), ended {ended:%Y-%m-%d %H:%M} UTC")


class Command(BaseCommand):
    help = "Delete recordings whose retention has ended (held recordings are kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true",
                            help="List what would be deleted; delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = bool(options["dry_run"])
        now = timezone.now()
        plan = services.retention_plan(now)
        for recording in plan.held:
            review = recording.hold_review_date
            self.stdout.write(f"Kept (on hold, review by {review:%Y-%m-%d}): "
                              f"{_describe(recording)}" if review else
                              f"Kept (on hold): {_describe(recording)}")
        for recording in plan.busy:
            self.stdout.write(f"Kept for now (being prepared): {_describe(recording)}")
        done = services.purge_expired(now, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        for recording in done:
            self.stdout.write(f"{verb}: {_describe(recording)}")
        failed = {r.pk for r in plan.due} - {r.pk for r in done}
        summary = (f"{verb} {len(done)} recording(s); kept {len(plan.held)} on hold"
                   + (f"; {len(failed)} could not be deleted (see the log)" if failed else "")
                   + (" (dry run: nothing was deleted)." if dry_run else "."))
        self.stdout.write(summary)
