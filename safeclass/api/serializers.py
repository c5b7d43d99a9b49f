"""Model → JSON-ready dicts for the API's response schemas.

Deliberately absent: the lesson's room id (it will name the Janus room and must stay on
the server), invitation token hashes, and parents' contact details for roles that do not
need them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from safeclass.accounts.models import StaffUser
from safeclass.invitations.services import lesson_display_names
from safeclass.lessons.models import Lesson
from safeclass.policy import (
    EXTRA_CHECKS,
    PolicySettings,
    Rule,
    SettingKind,
    display_names,
    enforcement,
)
from safeclass.schools.models import Pupil, School
from safeclass.schools.services import policy_overview, policy_settings


def utc(at: datetime | None) -> datetime | None:
    # Aware datetimes straight from a request keep the client's offset: always answer in UTC.
    return at.astimezone(UTC) if at is not None else None


def person(user: StaffUser | None) -> dict[str, str] | None:
    if user is None:
        return None
    return {"email": user.email, "name": user.full_name}


def pupil_display_names(pupils: Iterable[Pupil]) -> dict[int, str]:
    pupils = list(pupils)
    names = display_names([(p.first_name, p.last_name) for p in pupils])
    return {p.pk: name for p, name in zip(pupils, names, strict=True)}


def lesson_out(lesson: Lesson) -> dict[str, Any]:
    pupils = sorted(lesson.pupils.all(), key=lambda p: p.pk)
    # The names pupils have in this lesson, as on their invitations and in the room.
    names = lesson_display_names(lesson)
    return {
        "id": lesson.pk,
        "title": lesson.title,
        "status": lesson.status,
        "status_label": str(lesson.get_status_display()),
        "starts_at": utc(lesson.starts_at),
        "ends_at": utc(lesson.ends_at),
        "duration_minutes": lesson.duration_minutes,
        "host": person(lesson.host),
        "second_staff": person(lesson.second_staff),
        "group": {"id": lesson.group.pk, "name": lesson.group.name} if lesson.group else None,
        "pupils": [{"id": p.pk, "display_name": names[p.pk]} for p in pupils],
        "recorded": lesson.recorded,
        "policy_version": lesson.policy_version.number,
        "requested_by": person(lesson.requested_by),
        "decided_by": person(lesson.decided_by),
        "decided_at": utc(lesson.decided_at),
        "decline_reason": lesson.decline_reason,
        "created_at": utc(lesson.created_at),
    }


def pupil_out(pupil: Pupil, display_name: str, *, with_contact: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": pupil.pk,
        "first_name": pupil.first_name,
        "last_name": pupil.last_name,
        "display_name": display_name,
        "group": {"id": pupil.group.pk, "name": pupil.group.name},
    }
    if with_contact:
        out["parent_name"] = pupil.parent_name
        out["parent_email"] = pupil.parent_email
    return out


def pupils_out(pupils: Iterable[Pupil], *, with_contact: bool) -> list[dict[str, Any]]:
    # Display names are worked out within each class: that is who shares a lesson.
    pupils = list(pupils)
    by_group: dict[int, list[Pupil]] = defaultdict(list)
    for p in pupils:
        by_group[p.group_id].append(p)
    names: dict[int, str] = {}
    for members in by_group.values():
        names.update(pupil_display_names(members))
    return [pupil_out(p, names[p.pk], with_contact=with_contact) for p in pupils]


def _setting(rule: Rule, settings: PolicySettings) -> bool | int:
    if rule.setting == SettingKind.MINUTES:
        return settings.max_duration_minutes
    if rule.setting == SettingKind.COUNT:
        return settings.min_group_size
    if rule.setting == SettingKind.DAYS:
        return settings.retention_days
    return settings.is_on(str(rule.id))


def policy_out(school: School) -> dict[str, Any]:
    """The policy in force, from the same overview the policy page shows."""
    version, rows = policy_overview(school)
    settings = policy_settings(version)
    rules = []
    for row in rows:
        latest = row.loosenings[-1] if row.loosenings else None
        rules.append({
            "id": str(row.rule.id),
            "title": row.rule.title,
            "clause": row.rule.clause,
            "plain": row.rule.plain,
            "setting_kind": str(row.rule.setting),
            "setting": _setting(row.rule, settings),
            "setting_text": row.setting,
            "enforced": enforcement(row.rule),
            "loosened": row.looser_than_default,
            "loosening": ({"by": latest.by, "at": utc(latest.at), "reason": latest.reason,
                           "version": latest.version}
                          if row.looser_than_default and latest is not None else None),
        })
    return {
        "version": version.number,
        "version_created_at": utc(version.created_at),
        "rules": rules,
        "other_checks": [{"id": k, "plain": v} for k, v in EXTRA_CHECKS.items()],
    }
