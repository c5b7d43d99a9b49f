"""Put a live lesson on the demo school that opens now, and print its pupils' links.

`make run` calls this so a newcomer can try the live lesson at any hour: the teacher
(Amy Lewis) hosts, the teaching assistant (Priya Shah) is the second adult, and two
pupils of Year 4 Oak are invited. A real lesson is requested by a teacher and approved by
the head within the school's lesson hours; this demo one is approved by the head at once
and may fall outside those hours, and the audit log says so ("demo": true).

With ``--one-adult`` it adds the other demo instead: Amy Lewis hosts ALONE (the lesson is
booked as recorded, as the lesson policy wants without a second adult) and two other
pupils of Year 4 Oak are invited, so a newcomer sees a lesson recorded from the first
admission (second-adult-or-recording). `make run` adds both.

Demo school only (it refuses any other school). Idempotent per run: an earlier demo lesson
of the same kind that has not started is cancelled first, so the printed links are the
only working ones.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from safeclass.accounts.models import StaffUser
from safeclass.audit.services import record
from safeclass.invitations.services import do_issue_invitations
from safeclass.lessons.models import Lesson, LessonStatus
from safeclass.schools.models import Group, School
from safeclass.schools.services import current_policy, policy_settings

from .seed_demo import DOMAIN, SCHOOL_NAME

TITLE = "Demo live lesson"
SOLO_TITLE = "Demo recorded lesson (one adult)"


class Command(BaseCommand):
    help = "Add a demo live lesson that opens now, with two staff and two pupils."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--minutes", type=int, default=30,
                            help="length of the lesson (at most the policy's maximum)")
        parser.add_argument("--pupils", type=int, default=2)
        parser.add_argument("--one-adult", action="store_true",
                            help="the host alone, so the lesson is recorded from the "
                                 "first admission (other pupils than the two-adult demo)")

    def handle(self, *args: Any, **options: Any) -> None:
        school = School.objects.filter(name=SCHOOL_NAME).first()
        if school is None:
            raise CommandError("Run `manage.py seed_demo` first: there is no demo school.")
        solo = bool(options["one_adult"])
        lesson, links = self._create(school, int(options["minutes"]), int(options["pupils"]),
                                     solo=solo)
        local = timezone.localtime(lesson.starts_at, school.zone)
        self.stdout.write("")
        self.stdout.write(f"{lesson.title}: starts {local:%H:%M} "
                          f"({lesson.duration_minutes} minutes).")
        if solo:
            self.stdout.write(f"  Host: teacher@{DOMAIN}, alone: the lesson is recorded from "
                              "the first pupil admitted. Sign in and open it from "
                              "'My lessons'; afterwards the deputy (deputy@"
                              f"{DOMAIN}) can watch the recording.")
        else:
            self.stdout.write(f"  Host: teacher@{DOMAIN}; second adult: ta@{DOMAIN}. "
                              "Each signs in and opens the lesson from 'My lessons'.")
        self.stdout.write("  Pupils' links (open each in its own browser or private window):")
        for link in links:
            self.stdout.write(f"    {link.display_name:<10} {link.join_url}")

    @transaction.atomic
    def _create(self, school: School, minutes: int, pupils: int, *,
                solo: bool = False) -> tuple[Lesson, list[Any]]:
        head = StaffUser.objects.get(email=f"head@{DOMAIN}")
        host = StaffUser.objects.get(email=f"teacher@{DOMAIN}")
        second = None if solo else StaffUser.objects.get(email=f"ta@{DOMAIN}")
        group = Group.objects.get(school=school, name="Year 4 Oak")
        version = current_policy(school)
        now = timezone.now()
        title = SOLO_TITLE if solo else TITLE
        # Earlier demo lessons that are not over would double-book the staff: cancel them.
        for old in Lesson.objects.filter(school=school, title=title,
                                         status__in=(LessonStatus.APPROVED,
                                                     LessonStatus.PENDING_APPROVAL)):
            old.status, old.cancelled_at = LessonStatus.CANCELLED, now
            old.save(update_fields=["status", "cancelled_at", "updated_at"])
            record("lesson.cancelled", actor=head, school=school, obj=old,
                   data={"demo": True, "reason": "a new demo lesson replaces it"})
        limit = policy_settings(version).max_duration_minutes
        lesson = Lesson.objects.create(
            school=school, title=title, host=host, second_staff=second, group=group,
            starts_at=now + timedelta(minutes=1), duration_minutes=max(1, min(minutes, limit)),
            recorded=solo, status=LessonStatus.APPROVED, policy_version=version,
            requested_by=host, decided_by=head, decided_at=now)
        count = max(2, pupils)
        # The one-adult demo invites the next pupils, so no pupil is in both demos.
        start = count if solo else 0
        chosen = list(group.pupils.order_by("first_name")[start:start + count])
        lesson.pupils.set(chosen)
        record("lesson.approved", actor=head, school=school, obj=lesson, data={
            "demo": True, "pupils": [p.pk for p in chosen],
            "note": "demo lesson from manage.py demo_lesson: approved at once, any hour"})
        links = do_issue_invitations(lesson, None, actor=head, reason="issued",
                                     send_email=False)
        return lesson, links
