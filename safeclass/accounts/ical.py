"""A staff member's lessons as an iCalendar feed.

The feed is read by calendar apps on phones and shared computers, through a secret URL
that can leak, so it carries as little as is useful: the lesson's title, time, class
name and a link to the lesson page (which needs sign-in). Never a pupil's name. Only
lessons from 30 days ago to 365 days ahead are in it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from safeclass.lessons.models import Lesson, LessonStatus

from .models import StaffUser

# Only lessons that will (or do) happen: never one still waiting for approval, declined
# or cancelled.
FEED_STATUSES = (LessonStatus.APPROVED, LessonStatus.LIVE)
# Lessons starting from a month ago to a year ahead: enough for a calendar app, and the
# feed stays small however long the school has used SafeClass.
FEED_DAYS_BACK = 30
FEED_DAYS_AHEAD = 365


def feed_lessons(user: StaffUser, now: datetime | None = None) -> list[Lesson]:
    now = now or timezone.now()
    return list(
        Lesson.objects.filter(Q(host=user) | Q(second_staff=user), school_id=user.school_id,
                              status__in=FEED_STATUSES,
                              starts_at__gte=now - timedelta(days=FEED_DAYS_BACK),
                              starts_at__lte=now + timedelta(days=FEED_DAYS_AHEAD))
        .select_related("group")
        .annotate(pupil_count=Count("pupils"))
        .order_by("starts_at", "pk"))


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _description(lesson: Lesson, pupil_count: int, link: str) -> str:
    if lesson.group is not None:
        who = _("Class: {name}").format(name=lesson.group.name)
    else:
        who = _("Chosen pupils: {count}").format(count=pupil_count)
    return "\n".join([who, _("Open the lesson in SafeClass: {link}").format(link=link)])


def calendar_for(user: StaffUser) -> bytes:
    domain = urlsplit(settings.BASE_URL).hostname or "safeclass.invalid"
    cal = Calendar()
    cal.add("prodid", "-//SafeClass//Lesson calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("SafeClass lessons"))
    now = _utc(timezone.now())
    for lesson in feed_lessons(user, now):
        link = settings.BASE_URL + reverse("lessons:detail", args=[lesson.pk])
        event = Event()
        # Stable across edits so calendar apps update the event instead of duplicating it.
        event.add("uid", f"lesson-{lesson.pk}@{domain}")
        event.add("dtstamp", now)
        event.add("last-modified", _utc(lesson.updated_at))
        event.add("dtstart", _utc(lesson.starts_at))
        event.add("dtend", _utc(lesson.ends_at))
        event.add("summary", lesson.title)
        event.add("description", _description(lesson, getattr(lesson, "pupil_count", 0), link))
        event.add("url", link)
        event.add("status", "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()  # type: ignore[no-any-return]
