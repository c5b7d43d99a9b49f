"""Incidents from live lessons, for the head, the DSL and SLT (/oversight/incidents/)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import connection

from safeclass.audit.services import record

from .models import Incident, IncidentKind

if TYPE_CHECKING:
    from safeclass.accounts.models import StaffUser
    from safeclass.lessons.models import Lesson
    from safeclass.schools.models import School


def record_incident(*, lesson: Lesson | None, kind: str, summary: str,
                    actor: StaffUser | None, school: School | None = None) -> Incident:
    """Store an incident and audit it (`live.incident`).

    Runs inside the caller's transaction. ``actor`` is None when SafeClass itself noticed
    (a Janus event, all staff dropping out); ``school`` is needed only without a lesson."""
    if not connection.in_atomic_block:
        raise RuntimeError("record_incident() must be called inside transaction.atomic()")
    if kind not in IncidentKind.values:
        raise ValueError(f"unknown incident kind {kind!r}")
    if lesson is not None:
        school = lesson.school
    if school is None:
        raise ValueError("an incident without a lesson needs its school")
    incident = Incident.objects.create(school=school, lesson=lesson, kind=kind,
                                       summary=summary, created_by=actor)
    record("live.incident", actor=actor, school=school, obj=incident, data={
        "lesson": lesson.pk if lesson is not None else None, "kind": kind,
        "summary": summary})
    return incident
