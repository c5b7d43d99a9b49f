"""School, policy and roster actions.

Each state change is one ``do_*`` function: atomic, taking the acting staff member as a
keyword-only argument, checking what it needs, writing the audit event in the same
transaction, and raising an exception that names the field or rule when input is bad.
Reading helpers (``current_policy``, ``school_facts``, ``plan_roster_import``) change
nothing except that ``current_policy`` creates a school's first policy version.
"""

from __future__ import annotations

import hashlib
import json
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from safeclass.accounts import access
from safeclass.audit.services import record
from safeclass.policy import (
    DEFAULT_POLICY,
    RULES,
    RULES_BY_ID,
    PolicySettings,
    Rule,
    RuleId,
    SchoolFacts,
    SettingKind,
    Timetable,
    Violation,
    changes,
    describe_windows,
    from_dict,
    is_enforced,
    to_dict,
    validate,
)

from .models import ClosureDay, Group, LessonWindow, PolicyVersion, Pupil, School, TermDates
from .models import timetable_for as _timetable_for
from .roster_csv import RosterError, RosterRow
from .schedule_text import ClosureSpec, TermSpec, WindowSpec, format_windows
from .validators import name_problem, normalise_email_domain

if TYPE_CHECKING:
    from safeclass.accounts.models import StaffUser
    from safeclass.policy import Change


# ---------------------------------------------------------------------------------------
# Errors


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class PolicyEditRejected(Exception):
    """The edit was not saved. ``violations`` lists every problem, each with its rule id
    and (where there is one) the form field it concerns."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(f"{v.rule}: {v.message}" for v in violations))
        self.violations = violations


class SchoolInputRejected(Exception):
    """School settings, a class or a pupil were not saved; ``errors`` names each field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class RosterImportRejected(Exception):
    """Nothing from the file was applied; ``errors`` lists every problem by line."""

    def __init__(self, errors: list[RosterError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def _require_same_school(actor: StaffUser, school: School) -> None:
    if actor.school_id != school.pk:
        raise PermissionDenied


# ---------------------------------------------------------------------------------------
# Policy


def current_policy(school: School) -> PolicyVersion:
    """The version in force (the highest number); creates version 1 from the defaults."""
    version = PolicyVersion.objects.filter(school=school).order_by("-number").first()
    if version is not None:
        return version
    try:
        with transaction.atomic():
            version = PolicyVersion.objects.create(
                school=school, number=1, settings=to_dict(DEFAULT_POLICY),
                reason=_("The policy document's defaults."))
            record("policy.created", school=school, obj=version,
                   data={"version": 1, "settings": version.settings})
    except IntegrityError:
        # Another request created version 1 at the same moment: use theirs.
        return PolicyVersion.objects.filter(school=school).order_by("-number").first()  # type: ignore[return-value]
    return version


def policy_settings(version: PolicyVersion) -> PolicySettings:
    return from_dict(version.settings)


def timetable_for(school: School) -> Timetable:
    return cast("Timetable", _timetable_for(school))


def school_facts(school: School) -> SchoolFacts:
    """Email domains and timetable as the policy core's value object."""
    return SchoolFacts(email_domains=school.email_domains, timetable=timetable_for(school))


def policy_form_field(change_field: str) -> str:
    """The policy form's field for a settings field: switches are named by rule id."""
    return change_field.removeprefix("switches.")


def _describe_value(value: object) -> str:
    if isinstance(value, bool):
        return _("on") if value else _("off")
    return str(value)


def _change_json(change: Change) -> dict[str, Any]:
    return {"rule": change.rule, "field": change.field, "before": change.before,
            "after": change.after, "loosens": change.loosens}


def do_edit_policy(school: School, new: PolicySettings, *, actor: StaffUser,
                   reason: str = "") -> PolicyVersion:
    """Save a new policy version. Tightening is a plain edit for an approver; any
    loosening needs the head's role and a written reason. No change saves nothing."""
    _require_same_school(actor, school)
    access.require_role(actor, access.EDIT_POLICY)
    reason = reason.strip()
    # Version 1 (the defaults) exists whether or not this edit is accepted.
    current_policy(school)
    with transaction.atomic():
        # Serialise edits per school so two approvers cannot both make version n+1.
        School.objects.select_for_update().filter(pk=school.pk).first()
        current = current_policy(school)
        old = policy_settings(current)
        problems = list(validate(new))
        if problems:
            raise PolicyEditRejected(problems)
        all_changes = changes(old, new)
        if not all_changes:
            return current
        loosening = [c for c in all_changes if c.loosens]
        if loosening and not (access.may_loosen_policy(actor) and reason):
            if not access.may_loosen_policy(actor):
                why = _("needs the headteacher and a reason: only the headteacher can loosen "
                        "a rule.")
            else:
                why = _("needs the headteacher and a reason: write why in the reason box.")
            raise PolicyEditRejected([
                Violation(c.rule, _("Loosening “{title}” ({before} → {after}) {why}").format(
                    title=_(RULES_BY_ID[c.rule].title), before=_describe_value(c.before),
                    after=_describe_value(c.after), why=why),
                    "reason" if access.may_loosen_policy(actor)
                    else policy_form_field(c.field))
                for c in loosening])
        version = PolicyVersion.objects.create(
            school=school, number=current.number + 1, settings=to_dict(new), created_by=actor,
            reason=reason, loosened_rules=[c.rule for c in loosening])
        record("policy.edited", actor=actor, school=school, obj=version, data={
            "version": version.number, "previous_version": current.number, "reason": reason,
            "changes": [_change_json(c) for c in all_changes],
            "loosened_rules": version.loosened_rules})
    return version


@dataclass(frozen=True)
class VersionSummary:
    version: PolicyVersion
    changes: list[Change]


def policy_history(school: School) -> list[VersionSummary]:
    """Every version, newest first, with what it changed from the one before."""
    current_policy(school)
    versions = list(PolicyVersion.objects.filter(school=school).select_related("created_by")
                    .order_by("number"))
    out: list[VersionSummary] = []
    previous = DEFAULT_POLICY
    for version in versions:
        settings = policy_settings(version)
        out.append(VersionSummary(version, changes(previous, settings)))
        previous = settings
    out.reverse()
    return out


@dataclass(frozen=True)
class Loosening:
    version: int
    by: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    on: bool
    setting: str
    enforced: bool
    # Less strict now than the policy document's default.
    looser_than_default: bool
    # Every version that loosened this rule, oldest first.
    loosenings: list[Loosening]


def _setting_text(rule: Rule, settings: PolicySettings, school: School) -> str:
    if rule.setting == SettingKind.MINUTES:
        return _("at most {n} minutes").format(n=settings.max_duration_minutes)
    if rule.setting == SettingKind.COUNT:
        return _("at least {n} pupils").format(n=settings.min_group_size)
    if rule.setting == SettingKind.DAYS:
        return _("at most {n} days").format(n=settings.retention_days)
    if not settings.is_on(str(rule.id)):
        return _("off")
    if rule.id == RuleId.SCHOOL_ACCOUNT:
        return _("on: staff email at {domains}").format(domains=", ".join(school.email_domains))
    if rule.id == RuleId.LESSON_HOURS:
        return _("on: {times}").format(times=describe_windows(timetable_for(school)))
    return _("on")


def policy_overview(school: School) -> tuple[PolicyVersion, list[RuleRow]]:
    """The version in force and, for every rule, its setting, whether SafeClass enforces
    it yet, and each time it was loosened."""
    version = current_policy(school)
    settings = policy_settings(version)
    looser = {c.rule for c in changes(DEFAULT_POLICY, settings) if c.loosens}
    history: dict[str, list[Loosening]] = {}
    for v in (PolicyVersion.objects.filter(school=school).exclude(loosened_rules=[])
              .select_related("created_by").order_by("number")):
        by = v.created_by.full_name if v.created_by else _("the system")
        for rule_id in v.loosened_rules:
            history.setdefault(rule_id, []).append(Loosening(v.number, by, v.created_at, v.reason))
    rows = [RuleRow(rule=rule, on=settings.is_on(str(rule.id)),
                    setting=_setting_text(rule, settings, school), enforced=is_enforced(rule),
                    looser_than_default=str(rule.id) in looser,
                    loosenings=history.get(str(rule.id), []))
            for rule in RULES]
    return version, rows


# ---------------------------------------------------------------------------------------
# School settings


@cache
def time_zone_names() -> tuple[str, ...]:
    # "localtime" and "Factory" are not places a school is in.
    places = (z for z in zoneinfo.available_timezones()
              if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix", "right")))
    return (*sorted(places), "UTC")


def _windows_of(school: School) -> list[WindowSpec]:
    return [WindowSpec(w.weekday, w.starts, w.ends) for w in school.lesson_windows.all()]


def _terms_of(school: School) -> list[TermSpec]:
    return [TermSpec(t.starts_on, t.ends_on, t.name) for t in school.terms.all()]


def _closures_of(school: School) -> list[ClosureSpec]:
    return [ClosureSpec(c.day, c.reason) for c in school.closures.all()]


def school_schedule(school: School) -> tuple[list[WindowSpec], list[TermSpec], list[ClosureSpec]]:
    return _windows_of(school), _terms_of(school), _closures_of(school)


def _check_school_settings(school: School, name: str, time_zone: str,
                           email_domains: Sequence[str], windows: Sequence[WindowSpec],
                           terms: Sequence[TermSpec], closures: Sequence[ClosureSpec],
                           language: str) -> tuple[list[FieldError], tuple[str, ...]]:
    errors: list[FieldError] = []
    problem = name_problem(name, 200)
    if problem:
        errors.append(FieldError("name", problem))
    if time_zone not in zoneinfo.available_timezones():
        errors.append(FieldError("time_zone", _("“{zone}” is not a time zone: choose one such "
                                                "as Europe/London.").format(zone=time_zone)))
    domains: list[str] = []
    for raw in email_domains:
        try:
            domain = normalise_email_domain(raw)
        except ValidationError as exc:
            errors.extend(FieldError("email_domains", m) for m in exc.messages)
            continue
        if domain not in domains:
            domains.append(domain)
    if not domains and not any(e.field == "email_domains" for e in errors):
        errors.append(FieldError("email_domains", _("Enter at least one staff email domain.")))
    if domains and len(",".join(domains)) > 500:
        errors.append(FieldError("email_domains", _("Too many domains: at most 500 characters "
                                                    "in all.")))
    if domains:
        # Dropping a domain that staff still sign in with would put every one of them in
        # breach of school-account at once; move the accounts first.
        stranded = sorted({u.email.rpartition("@")[2] for u in school.staff.all()
                           if u.email.rpartition("@")[2].lower() not in domains})
        if stranded:
            errors.append(FieldError("email_domains", _(
                "Staff accounts still use {domains}: keep these domains until those accounts "
                "have moved.").format(domains=", ".join(stranded))))
    if not windows:
        errors.append(FieldError("windows", _("Enter at least one weekly lesson time, such as "
                                              "Mon-Fri 09:00-12:00.")))
    for w in windows:
        if not 0 <= w.weekday <= 6 or not w.starts < w.ends:
            errors.append(FieldError("windows", _("Each lesson time must start before it ends "
                                                  "({window}).").format(
                window=format_windows([w]) if 0 <= w.weekday <= 6 else w)))
    for t in terms:
        if t.ends_on < t.starts_on:
            errors.append(FieldError("terms", _("A term ends before it starts ({start} to "
                                                "{end}).").format(start=t.starts_on,
                                                                  end=t.ends_on)))
    if len({c.day for c in closures}) != len(closures):
        errors.append(FieldError("closures", _("A closure day is listed twice.")))
    if language not in dict(School._meta.get_field("language").choices or []):
        errors.append(FieldError("language", _("Choose English or Cymraeg.")))
    return errors, tuple(domains)


def do_update_school_settings(school: School, *, actor: StaffUser, name: str, time_zone: str,
                              email_domains: Sequence[str], windows: Sequence[WindowSpec],
                              terms: Sequence[TermSpec], closures: Sequence[ClosureSpec],
                              language: str, pupils_see_classmates: bool) -> School:
    """Replace the school's settings and timetable together; audited with before/after."""
    _require_same_school(actor, school)
    access.require_role(actor, access.MANAGE_SCHOOL)
    name = name.strip()
    with transaction.atomic():
        school = School.objects.select_for_update().get(pk=school.pk)
        errors, domains = _check_school_settings(school, name, time_zone, email_domains,
                                                 windows, terms, closures, language)
        if errors:
            raise SchoolInputRejected(errors)
        new_windows = sorted(set(windows))
        new_terms = sorted(set(terms))
        new_closures = sorted(closures)
        old_windows, old_terms, old_closures = school_schedule(school)
        before: dict[str, object] = {
            "name": school.name, "time_zone": school.time_zone,
            "email_domains": ", ".join(school.email_domains), "language": school.language,
            "pupils_see_classmates": school.pupils_see_classmates,
            "windows": format_windows(old_windows),
            "terms": [[t.starts_on, t.ends_on, t.name] for t in sorted(old_terms)],
            "closures": [[c.day, c.reason] for c in sorted(old_closures)],
        }
        after: dict[str, object] = {
            "name": name, "time_zone": time_zone, "email_domains": ", ".join(domains),
            "language": language, "pupils_see_classmates": pupils_see_classmates,
            "windows": format_windows(new_windows),
            "terms": [[t.starts_on, t.ends_on, t.name] for t in new_terms],
            "closures": [[c.day, c.reason] for c in new_closures],
        }
        changed = {k: {"before": before[k], "after": after[k]}
                   for k in before if before[k] != after[k]}
        if not changed:
            return school
        school.name = name
        school.time_zone = time_zone
        school.staff_email_domains = ",".join(domains)
        school.language = language
        school.pupils_see_classmates = pupils_see_classmates
        school.save()
        if "windows" in changed:
            school.lesson_windows.all().delete()
            LessonWindow.objects.bulk_create(
                LessonWindow(school=school, weekday=w.weekday, starts=w.starts, ends=w.ends)
                for w in new_windows)
        if "terms" in changed:
            school.terms.all().delete()
            TermDates.objects.bulk_create(
                TermDates(school=school, name=t.name, starts_on=t.starts_on, ends_on=t.ends_on)
                for t in new_terms)
        if "closures" in changed:
            school.closures.all().delete()
            ClosureDay.objects.bulk_create(
                ClosureDay(school=school, day=c.day, reason=c.reason) for c in new_closures)
        record("school.settings_changed", actor=actor, school=school, obj=school,
               data={"changes": changed})
    return school


# ---------------------------------------------------------------------------------------
# Classes and pupils


def _find_group(school: School, name: str) -> Group | None:
    # Compared in Python: the database's case-insensitive match is ASCII-only on SQLite.
    return next((g for g in Group.objects.filter(school=school)
                 if g.name.casefold() == name.casefold()), None)


def do_create_group(school: School, name: str, *, actor: StaffUser | None) -> Group:
    """A new class. ``actor`` None only for set-up commands run on the server."""
    if actor is not None:
        _require_same_school(actor, school)
        access.require_role(actor, access.MANAGE_SCHOOL)
    name = name.strip()
    problem = name_problem(name, 100)
    if problem:
        raise SchoolInputRejected([FieldError("name", problem)])
    with transaction.atomic():
        if _find_group(school, name) is not None:
            raise SchoolInputRejected([FieldError("name", _(
                "There is already a class called “{name}”.").format(name=name))])
        group = Group.objects.create(school=school, name=name)
        record("group.created", actor=actor, actor_label=None if actor else "set-up",
               school=school, obj=group, data={"name": name})
    return group


def do_rename_group(group: Group, name: str, *, actor: StaffUser) -> Group:
    """Rename a class; audited with the names before and after. The same name saves
    nothing."""
    _require_same_school(actor, group.school)
    access.require_role(actor, access.MANAGE_SCHOOL)
    name = name.strip()
    problem = name_problem(name, 100)
    if problem:
        raise SchoolInputRejected([FieldError("name", problem)])
    with transaction.atomic():
        clash = _find_group(group.school, name)
        if clash is not None and clash.pk != group.pk:
            raise SchoolInputRejected([FieldError("name", _(
                "There is already a class called “{name}”.").format(name=name))])
        if group.name == name:
            return group
        before = group.name
        group.name = name
        group.save(update_fields=["name"])
        record("group.renamed", actor=actor, school=group.school, obj=group,
               data={"before": before, "after": name})
    return group


_PUPIL_FIELDS = ("first_name", "last_name", "parent_name", "parent_email", "reference")


def _check_pupil(values: dict[str, str]) -> list[FieldError]:
    errors: list[FieldError] = []
    for name, limit in (("first_name", 100), ("last_name", 100), ("parent_name", 200)):
        problem = name_problem(values[name], limit)
        if problem:
            errors.append(FieldError(name, problem))
    try:
        validate_email(values["parent_email"])
    except ValidationError:
        errors.append(FieldError("parent_email", _("Enter the parent or carer's email address, "
                                                   "such as name@example.com.")))
    if values["reference"]:
        problem = name_problem(values["reference"], 64)
        if problem:
            errors.append(FieldError("reference", problem))
    return errors


def do_create_or_update_pupil(school: School, *, actor: StaffUser | None, group: Group,
                              first_name: str, last_name: str, parent_name: str,
                              parent_email: str, reference: str = "",
                              pupil: Pupil | None = None) -> Pupil:
    """Create a pupil, or update ``pupil``; nothing is written (or audited) if nothing
    changes. ``actor`` None only for set-up commands run on the server."""
    if actor is not None:
        _require_same_school(actor, school)
        access.require_role(actor, access.MANAGE_SCHOOL)
    if group.school_id != school.pk or (pupil is not None and pupil.school_id != school.pk):
        raise PermissionDenied
    values = {"first_name": first_name.strip(), "last_name": last_name.strip(),
              "parent_name": parent_name.strip(), "parent_email": parent_email.strip(),
              "reference": reference.strip()}
    errors = _check_pupil(values)
    if errors:
        raise SchoolInputRejected(errors)
    label = None if actor else "set-up"
    with transaction.atomic():
        if values["reference"]:
            clash = Pupil.objects.filter(school=school, reference=values["reference"])
            if pupil is not None:
                clash = clash.exclude(pk=pupil.pk)
            if clash.exists():
                raise SchoolInputRejected([FieldError("reference", _(
                    "Another pupil already has the reference {reference}.").format(
                    reference=values["reference"]))])
        if pupil is None:
            pupil = Pupil.objects.create(school=school, group=group, **values)
            record("pupil.created", actor=actor, actor_label=label, school=school, obj=pupil,
                   data={"group": group.name, **values})
            return pupil
        changed: dict[str, dict[str, object]] = {}
        for name in _PUPIL_FIELDS:
            if getattr(pupil, name) != values[name]:
                changed[name] = {"before": getattr(pupil, name), "after": values[name]}
                setattr(pupil, name, values[name])
        if pupil.group_id != group.pk:
            changed["group"] = {"before": pupil.group.name, "after": group.name}
            pupil.group = group
        if changed:
            pupil.save()
            record("pupil.updated", actor=actor, actor_label=label, school=school, obj=pupil,
                   data={"changes": changed})
    return pupil


# ---------------------------------------------------------------------------------------
# Roster import


@dataclass(frozen=True)
class PlannedUpdate:
    row: RosterRow
    pupil_id: int
    # field -> (before, after); "group" by class name.
    changes: dict[str, tuple[str, str]]


@dataclass
class ImportPlan:
    creates: list[RosterRow] = field(default_factory=list)
    updates: list[PlannedUpdate] = field(default_factory=list)
    unchanged: list[RosterRow] = field(default_factory=list)
    new_groups: list[str] = field(default_factory=list)
    errors: list[RosterError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def digest(self) -> str:
        """A fingerprint of what applying the plan would do, so confirming applies exactly
        what the preview showed and nothing else."""
        decisions = {
            "create": [r.to_json() for r in self.creates],
            "update": [[u.row.to_json(), u.pupil_id, sorted(u.changes.items())]
                       for u in self.updates],
            "unchanged": [r.line for r in self.unchanged],
            "groups": self.new_groups,
        }
        return hashlib.sha256(json.dumps(decisions, sort_keys=True).encode()).hexdigest()


def plan_roster_import(school: School, rows: Sequence[RosterRow]) -> ImportPlan:
    """What importing these (already checked) rows would create, update or leave alone.

    A row matches an existing pupil by pupil_reference when it has one, otherwise by first
    name, last name and parent email, ignoring case; a match is updated, not duplicated.
    """
    plan = ImportPlan()
    pupils = list(Pupil.objects.filter(school=school).select_related("group"))
    by_reference = {p.reference.casefold(): p for p in pupils if p.reference}
    by_identity: dict[tuple[str, str, str], list[Pupil]] = {}
    for p in pupils:
        key = (p.first_name.casefold(), p.last_name.casefold(), p.parent_email.casefold())
        by_identity.setdefault(key, []).append(p)
    groups: dict[str, str] = {g.name.casefold(): g.name
                              for g in Group.objects.filter(school=school)}
    matched: dict[int, int] = {}  # pupil id -> line that matched it
    for row in rows:
        group_key = row.group_name.casefold()
        if group_key not in groups:
            groups[group_key] = row.group_name
            plan.new_groups.append(row.group_name)
        group_name = groups[group_key]
        pupil: Pupil | None = None
        if row.reference:
            pupil = by_reference.get(row.reference.casefold())
        if pupil is None:
            candidates = [p for p in by_identity.get(row.identity, [])
                          if not (row.reference and p.reference)]
            if len(candidates) > 1:
                plan.errors.append(RosterError(row.line, _(
                    "This matches {count} pupils already on the roster with the same name and "
                    "parent email. Add a pupil_reference column so SafeClass can tell them "
                    "apart.").format(count=len(candidates))))
                continue
            pupil = candidates[0] if candidates else None
        if pupil is None:
            plan.creates.append(row)
            continue
        if pupil.pk in matched:
            plan.errors.append(RosterError(row.line, _(
                "This is the same pupil as line {other} ({name}): each pupil once.").format(
                other=matched[pupil.pk], name=pupil.full_name)))
            continue
        matched[pupil.pk] = row.line
        wanted = {"first_name": row.first_name, "last_name": row.last_name,
                  "parent_name": row.parent_name, "parent_email": row.parent_email,
                  "group": group_name}
        if row.reference:
            wanted["reference"] = row.reference  # a blank cell never clears a reference
        current = {"first_name": pupil.first_name, "last_name": pupil.last_name,
                   "parent_name": pupil.parent_name, "parent_email": pupil.parent_email,
                   "group": pupil.group.name, "reference": pupil.reference}
        diff = {k: (current[k], v) for k, v in wanted.items() if current[k] != v}
        if diff:
            plan.updates.append(PlannedUpdate(row, pupil.pk, diff))
        else:
            plan.unchanged.append(row)
    return plan


def do_import_roster(school: School, rows: Sequence[RosterRow], *, actor: StaffUser,
                     expected_digest: str, file_name: str = "") -> ImportPlan:
    """Apply a previewed import in one transaction: all of it, or (on any problem) none."""
    _require_same_school(actor, school)
    access.require_role(actor, access.MANAGE_SCHOOL)
    with transaction.atomic():
        # One import at a time per school, and the roster cannot change under the plan.
        School.objects.select_for_update().filter(pk=school.pk).first()
        plan = plan_roster_import(school, rows)
        if plan.errors:
            raise RosterImportRejected(plan.errors)
        if plan.digest != expected_digest:
            raise RosterImportRejected([RosterError(None, _(
                "The roster changed after you previewed this file, so nothing was imported. "
                "Upload the file again to see what it will do now."))])
        groups = {g.name.casefold(): g for g in Group.objects.filter(school=school)}
        for name in plan.new_groups:
            groups[name.casefold()] = Group.objects.create(school=school, name=name)
        created = Pupil.objects.bulk_create(
            Pupil(school=school, group=groups[r.group_name.casefold()], first_name=r.first_name,
                  last_name=r.last_name, parent_name=r.parent_name, parent_email=r.parent_email,
                  reference=r.reference)
            for r in plan.creates)
        for update in plan.updates:
            pupil = Pupil.objects.get(pk=update.pupil_id, school=school)
            for name, (_before, after) in update.changes.items():
                if name == "group":
                    pupil.group = groups[after.casefold()]
                else:
                    setattr(pupil, name, after)
            pupil.save()
        record("roster.imported", actor=actor, school=school, data={
            "file_name": file_name, "rows": len(rows), "created": len(plan.creates),
            "updated": len(plan.updates), "unchanged": len(plan.unchanged),
            "classes_created": plan.new_groups,
            "created_pupils": [p.pk for p in created],
            "updated_pupils": {str(u.pupil_id): {k: list(v) for k, v in u.changes.items()}
                               for u in plan.updates},
        })
    return plan
