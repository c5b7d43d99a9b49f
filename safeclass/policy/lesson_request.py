"""The check made when a teacher asks for a lesson (and again when it is approved).

It returns every problem at once, each with its rule id, the form field it concerns and a
plain message saying how to put it right, so a teacher fixes a request in one go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .errors import PolicyError, Violation
from .rules import (
    HOST_DOUBLE_BOOKED,
    PUPIL_DOUBLE_BOOKED,
    SECOND_STAFF_DOUBLE_BOOKED,
    START_IN_PAST,
    RuleId,
)
from .settings import PolicySettings
from .timetable import (
    OUTSIDE_WINDOWS,
    Timetable,
    describe_local,
    describe_windows,
    outside_hours_reason,
)

HOST_ROLE = "teacher"
# Any of these makes a person a member of staff who can be the second adult. "admin" is
# left out on purpose: a system administrator is not necessarily safeguarding-trained staff.
STAFF_ROLES: frozenset[str] = frozenset({"staff", "teacher", "approver", "slt", "dsl"})


@dataclass(frozen=True)
class Person:
    email: str
    # From: approver, slt, dsl, teacher, staff, admin.
    roles: frozenset[str]
    active: bool = True


@dataclass(frozen=True)
class Conflicts:
    """Double bookings found by the caller in its own records (the core has no database)."""

    host: bool = False
    second_staff: bool = False
    # Display names of the pupils already in another lesson at that time.
    pupils: tuple[str, ...] = ()


@dataclass(frozen=True)
class LessonRequest:
    host: Person
    second_staff: Person | None
    pupil_count: int
    starts_at: datetime
    duration_minutes: int
    recorded: bool


@dataclass(frozen=True)
class SchoolFacts:
    email_domains: tuple[str, ...]
    timetable: Timetable


def _domain_of(email: str) -> str | None:
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        return None
    # Non-ASCII domains are refused before lower-casing: "\u212a".lower() is "k", so a
    # Kelvin sign could otherwise pass as a school domain while being a different one.
    if not domain.isascii():
        return None
    return domain.lower()


def is_school_email(email: str, domains: Sequence[str]) -> bool:
    """Exact domain match only: no subdomains, no look-alike prefixes or suffixes, so
    evil-oakfield.example and oakfield.example.evil.com are both refused."""
    domain = _domain_of(email)
    allowed = {d.strip().lstrip("@").lower() for d in domains}
    return domain is not None and domain in allowed


def _same_person(a: Person, b: Person) -> bool:
    return a.email.strip().lower() == b.email.strip().lower()


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _account_message(who: str, email: str, domains: Sequence[str]) -> str:
    if not domains:
        return (
            f"{who} {email} is not a school email account: the school has no email domains "
            f"set up yet ({RuleId.SCHOOL_ACCOUNT}). Ask the school's administrator to add them."
        )
    listed = _join([f"@{d.strip().lstrip('@')}" for d in domains])
    return (
        f"{who} {email} is not a school email account ({RuleId.SCHOOL_ACCOUNT}). "
        f"Use a school address ending {listed}."
    )


def check_lesson_request(
    req: LessonRequest,
    policy: PolicySettings,
    school: SchoolFacts,
    now: datetime,
    # Conflicts is frozen, so one shared default instance is safe.
    conflicts: Conflicts = Conflicts(),
) -> list[Violation]:
    """Every way the request breaks the school's policy, in the order of the policy
    table, followed by the non-policy checks (start in the past, double bookings).

    A rule the school has switched off is not checked. At most one violation is given per
    (rule, field): several reasons for the same problem are joined into one message.
    """
    for value, name in ((req.starts_at, "starts_at"), (now, "now")):
        if value.tzinfo is None or value.utcoffset() is None:
            raise PolicyError(
                name, f"{name} needs a time zone offset, or the time could mean several moments"
            )

    out: list[Violation] = []
    host, second = req.host, req.second_staff

    if policy.is_on(RuleId.STAFF_HOST_ONLY):
        reasons = []
        if not host.active:
            reasons.append("their account is not active")
        if HOST_ROLE not in host.roles:
            reasons.append("only teachers can host lessons")
        if reasons:
            out.append(
                Violation(
                    RuleId.STAFF_HOST_ONLY,
                    f"{host.email} cannot host this lesson: {_join(reasons)} "
                    f"({RuleId.STAFF_HOST_ONLY}). Choose an active teacher as the host.",
                    "host",
                )
            )

    if policy.is_on(RuleId.SCHOOL_ACCOUNT):
        if not is_school_email(host.email, school.email_domains):
            out.append(
                Violation(
                    RuleId.SCHOOL_ACCOUNT,
                    _account_message("The host's account", host.email, school.email_domains),
                    "host",
                )
            )
        if second is not None and not is_school_email(second.email, school.email_domains):
            out.append(
                Violation(
                    RuleId.SCHOOL_ACCOUNT,
                    _account_message(
                        "The second adult's account", second.email, school.email_domains
                    ),
                    "second_staff",
                )
            )

    # max-duration is tuned, not switched, so it is always checked.
    limit = policy.max_duration_minutes
    if req.duration_minutes < 1:
        out.append(
            Violation(
                RuleId.MAX_DURATION,
                f"A lesson must be at least 1 minute long ({RuleId.MAX_DURATION}). "
                f"Choose a length from 1 to {limit} minutes.",
                "duration_minutes",
            )
        )
    elif req.duration_minutes > limit:
        out.append(
            Violation(
                RuleId.MAX_DURATION,
                f"Lessons can be at most {limit} minutes long ({RuleId.MAX_DURATION}). "
                f"Choose {limit} minutes or less.",
                "duration_minutes",
            )
        )

    if policy.is_on(RuleId.LESSON_HOURS):
        tt = school.timetable
        # A zero or negative length is reported under max-duration; judge the start alone.
        minutes = max(req.duration_minutes, 1)
        reason = outside_hours_reason(tt, req.starts_at, minutes)
        if reason is not None:
            why = "" if reason == OUTSIDE_WINDOWS else f", but {reason}"
            out.append(
                Violation(
                    RuleId.LESSON_HOURS,
                    f"Lessons must be during the school's lesson times ({RuleId.LESSON_HOURS}): "
                    f"{describe_windows(tt)}. You asked for "
                    f"{describe_local(tt, req.starts_at, minutes)} ({tt.time_zone} time){why}. "
                    "Choose a time inside the lesson times.",
                    "starts_at",
                )
            )

    # group-only is tuned by the smallest group, never switched off.
    if req.pupil_count < policy.min_group_size:
        out.append(
            Violation(
                RuleId.GROUP_ONLY,
                f"Lessons are for groups, never one to one ({RuleId.GROUP_ONLY}): invite at "
                f"least {policy.min_group_size} pupils. This lesson has {req.pupil_count}.",
                "pupils",
            )
        )

    if policy.is_on(RuleId.SECOND_ADULT_OR_RECORDING):
        rule = RuleId.SECOND_ADULT_OR_RECORDING
        if second is None:
            if not req.recorded:
                # Both fixes are offered: a second adult, or booking it as recorded
                # (the live lesson then records throughout).
                out.append(
                    Violation(
                        rule,
                        "Another member of staff must be in the lesson, or it must be "
                        f"recorded ({rule}). Add a second member of staff, or tick "
                        "\"Record this lesson\".",
                        "second_staff",
                    )
                )
        else:
            # Checked even when the lesson is recorded: the form names this person as the
            # second adult, and a wrong name there would mislead everyone who reads it.
            reasons = []
            if _same_person(second, host):
                reasons.append("the second adult must be a different person from the host")
            if not second.active:
                reasons.append("their account is not active")
            if not second.roles & STAFF_ROLES:
                reasons.append("they are not a member of staff")
            if reasons:
                out.append(
                    Violation(
                        rule,
                        f"{second.email} cannot be the second adult: {_join(reasons)} "
                        f"({rule}). Choose another active member of staff.",
                        "second_staff",
                    )
                )

    # Not policy rules: a school cannot switch these off.
    if req.starts_at <= now:
        out.append(
            Violation(
                START_IN_PAST,
                f"That start time has already passed ({START_IN_PAST}). "
                "Choose a time in the future.",
                "starts_at",
            )
        )
    if conflicts.host:
        out.append(
            Violation(
                HOST_DOUBLE_BOOKED,
                f"{host.email} is already in another lesson at that time "
                f"({HOST_DOUBLE_BOOKED}). Choose another time.",
                "host",
            )
        )
    if conflicts.second_staff and second is not None:
        out.append(
            Violation(
                SECOND_STAFF_DOUBLE_BOOKED,
                f"{second.email} is already in another lesson at that time "
                f"({SECOND_STAFF_DOUBLE_BOOKED}). Choose another time or another member "
                "of staff.",
                "second_staff",
            )
        )
    if conflicts.pupils:
        names = list(conflicts.pupils)
        verb = "is" if len(names) == 1 else "are"
        out.append(
            Violation(
                PUPIL_DOUBLE_BOOKED,
                f"{_join(names)} {verb} already in another lesson at that time "
                f"({PUPIL_DOUBLE_BOOKED}). Choose another time, or leave "
                f"{'that pupil' if len(names) == 1 else 'those pupils'} out of this lesson.",
                "pupils",
            )
        )
    return out


def display_names(pupils: Sequence[tuple[str, str]]) -> list[str]:
    """What each pupil is called on screen, in the same order as given.

    The first name alone, unless another pupil shares it (ignoring case); then just
    enough of the last name to tell them apart: "Sam B.", or "Sam Br." and "Sam Be." if
    both surnames start with B. Pupils with the same first and last name stay the same:
    nothing else on the roster is fit to show other children.
    """
    firsts = [first.strip() for first, _ in pupils]
    lasts = [last.strip() for _, last in pupils]
    groups: dict[str, list[int]] = {}
    for i, first in enumerate(firsts):
        groups.setdefault(first.casefold(), []).append(i)
    names = list(firsts)
    for members in groups.values():
        if len(members) < 2:
            continue
        for i in members:
            last = lasts[i]
            if not last:
                continue
            others = [lasts[j] for j in members if j != i]
            # The shortest prefix no other pupil of that first name shares; if there is
            # none (a surname that is all or a start of another), show it in full.
            k = 1
            while k < len(last) and any(o[:k].casefold() == last[:k].casefold() for o in others):
                k += 1
            shown = last[:k]
            names[i] = f"{firsts[i]} {shown}." if k < len(last) else f"{firsts[i]} {last}"
    return names
