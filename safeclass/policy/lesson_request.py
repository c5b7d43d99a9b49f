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
from .words import _, join_and, ngettext

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


def _account_message(*, host: bool, email: str, domains: Sequence[str]) -> str:
    # Whole sentences for the host and the second adult: a translation may need to say
    # "the host's account" differently from "the second adult's account".
    rule = RuleId.SCHOOL_ACCOUNT
    if not domains:
        if host:
            template = _(
                "The host's account {email} is not a school email account: the school has no "
                "email domains set up yet ({rule}). Ask the school's administrator to add them."
            )
        else:
            template = _(
                "The second adult's account {email} is not a school email account: the school "
                "has no email domains set up yet ({rule}). Ask the school's administrator to "
                "add them."
            )
        return template.format(email=email, rule=rule)
    listed = join_and([f"@{d.strip().lstrip('@')}" for d in domains])
    if host:
        template = _(
            "The host's account {email} is not a school email account ({rule}). "
            "Use a school address ending {domains}."
        )
    else:
        template = _(
            "The second adult's account {email} is not a school email account ({rule}). "
            "Use a school address ending {domains}."
        )
    return template.format(email=email, rule=rule, domains=listed)


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
                name,
                _("{name} needs a time zone offset, or the time could mean several moments").format(
                    name=name
                ),
            )

    out: list[Violation] = []
    host, second = req.host, req.second_staff

    if policy.is_on(RuleId.STAFF_HOST_ONLY):
        reasons = []
        if not host.active:
            reasons.append(_("their account is not active"))
        if HOST_ROLE not in host.roles:
            reasons.append(_("only teachers can host lessons"))
        if reasons:
            out.append(
                Violation(
                    RuleId.STAFF_HOST_ONLY,
                    _(
                        "{email} cannot host this lesson: {reasons} ({rule}). "
                        "Choose an active teacher as the host."
                    ).format(
                        email=host.email, reasons=join_and(reasons), rule=RuleId.STAFF_HOST_ONLY
                    ),
                    "host",
                )
            )

    if policy.is_on(RuleId.SCHOOL_ACCOUNT):
        if not is_school_email(host.email, school.email_domains):
            out.append(
                Violation(
                    RuleId.SCHOOL_ACCOUNT,
                    _account_message(host=True, email=host.email, domains=school.email_domains),
                    "host",
                )
            )
        if second is not None and not is_school_email(second.email, school.email_domains):
            out.append(
                Violation(
                    RuleId.SCHOOL_ACCOUNT,
                    _account_message(
                        host=False, email=second.email, domains=school.email_domains
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
                _(
                    "A lesson must be at least 1 minute long ({rule}). "
                    "Choose a length from 1 to {limit} minutes."
                ).format(rule=RuleId.MAX_DURATION, limit=limit),
                "duration_minutes",
            )
        )
    elif req.duration_minutes > limit:
        out.append(
            Violation(
                RuleId.MAX_DURATION,
                _(
                    "Lessons can be at most {limit} minutes long ({rule}). "
                    "Choose {limit} minutes or less."
                ).format(rule=RuleId.MAX_DURATION, limit=limit),
                "duration_minutes",
            )
        )

    if policy.is_on(RuleId.LESSON_HOURS):
        tt = school.timetable
        # A zero or negative length is reported under max-duration; judge the start alone.
        minutes = max(req.duration_minutes, 1)
        reason = outside_hours_reason(tt, req.starts_at, minutes)
        if reason is not None:
            # The usual reason goes without saying: the message lists the lesson times.
            if reason == _(OUTSIDE_WINDOWS):
                template = _(
                    "Lessons must be during the school's lesson times ({rule}): {times}. "
                    "You asked for {asked} ({zone} time). Choose a time inside the lesson times."
                )
            else:
                template = _(
                    "Lessons must be during the school's lesson times ({rule}): {times}. "
                    "You asked for {asked} ({zone} time), but {reason}. Choose a time inside "
                    "the lesson times."
                )
            out.append(
                Violation(
                    RuleId.LESSON_HOURS,
                    template.format(
                        rule=RuleId.LESSON_HOURS,
                        times=describe_windows(tt),
                        asked=describe_local(tt, req.starts_at, minutes),
                        zone=tt.time_zone,
                        reason=reason,
                    ),
                    "starts_at",
                )
            )

    # group-only is tuned by the smallest group, never switched off.
    if req.pupil_count < policy.min_group_size:
        out.append(
            Violation(
                RuleId.GROUP_ONLY,
                ngettext(
                    "Lessons are for groups, never one to one ({rule}): invite at least {min} "
                    "pupil. This lesson has {count}.",
                    "Lessons are for groups, never one to one ({rule}): invite at least {min} "
                    "pupils. This lesson has {count}.",
                    policy.min_group_size,
                ).format(
                    rule=RuleId.GROUP_ONLY, min=policy.min_group_size, count=req.pupil_count
                ),
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
                        _(
                            "Another member of staff must be in the lesson, or it must be "
                            "recorded ({rule}). Add a second member of staff, or tick "
                            '"Record this lesson".'
                        ).format(rule=rule),
                        "second_staff",
                    )
                )
        else:
            # Checked even when the lesson is recorded: the form names this person as the
            # second adult, and a wrong name there would mislead everyone who reads it.
            reasons = []
            if _same_person(second, host):
                reasons.append(_("the second adult must be a different person from the host"))
            if not second.active:
                reasons.append(_("their account is not active"))
            if not second.roles & STAFF_ROLES:
                reasons.append(_("they are not a member of staff"))
            if reasons:
                out.append(
                    Violation(
                        rule,
                        _(
                            "{email} cannot be the second adult: {reasons} ({rule}). "
                            "Choose another active member of staff."
                        ).format(email=second.email, reasons=join_and(reasons), rule=rule),
                        "second_staff",
                    )
                )

    # Not policy rules: a school cannot switch these off.
    if req.starts_at <= now:
        out.append(
            Violation(
                START_IN_PAST,
                _(
                    "That start time has already passed ({rule}). Choose a time in the future."
                ).format(rule=START_IN_PAST),
                "starts_at",
            )
        )
    if conflicts.host:
        out.append(
            Violation(
                HOST_DOUBLE_BOOKED,
                _(
                    "{email} is already in another lesson at that time ({rule}). "
                    "Choose another time."
                ).format(email=host.email, rule=HOST_DOUBLE_BOOKED),
                "host",
            )
        )
    if conflicts.second_staff and second is not None:
        out.append(
            Violation(
                SECOND_STAFF_DOUBLE_BOOKED,
                _(
                    "{email} is already in another lesson at that time ({rule}). "
                    "Choose another time or another member of staff."
                ).format(email=second.email, rule=SECOND_STAFF_DOUBLE_BOOKED),
                "second_staff",
            )
        )
    if conflicts.pupils:
        names = list(conflicts.pupils)
        out.append(
            Violation(
                PUPIL_DOUBLE_BOOKED,
                ngettext(
                    "{names} is already in another lesson at that time ({rule}). "
                    "Choose another time, or leave that pupil out of this lesson.",
                    "{names} are already in another lesson at that time ({rule}). "
                    "Choose another time, or leave those pupils out of this lesson.",
                    len(names),
                ).format(names=join_and(names), rule=PUPIL_DOUBLE_BOOKED),
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
    firsts = [first.strip() for first, _last in pupils]
    lasts = [last.strip() for _first, last in pupils]
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
