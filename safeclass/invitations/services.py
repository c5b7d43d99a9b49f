"""Personal join links: one per pupil per approved lesson.

A link's token is 256 random bits. Only its SHA-256 hash is stored, so the moment a link
is issued (emailed to the parent, shown once to staff, or exported) is the only moment
it exists in the clear: a leaked database holds no working links. That is also why
exporting links re-issues them: the old ones cannot be read back.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _

from safeclass.accounts import access
from safeclass.accounts.models import hash_secret
from safeclass.audit.services import record
from safeclass.lessons.models import Lesson, LessonStatus
from safeclass.policy import RuleId, Violation, display_names

from .models import Invitation, RevokeReason

if TYPE_CHECKING:
    from safeclass.accounts.models import StaffUser
    from safeclass.schools.models import Pupil, School

logger = logging.getLogger(__name__)

# Longer than any token we issue (43 characters); anything longer is not worth hashing.
_MAX_TOKEN_LENGTH = 100
_REVOKE_REASONS = {"exported": RevokeReason.EXPORTED}
# Lessons whose links may work (in their window). Pending again after an edit, declined
# or cancelled: every link is withdrawn.
_LINKS_WORK = (LessonStatus.APPROVED, LessonStatus.LIVE)


@dataclass(frozen=True)
class IssuedLink:
    pupil_id: int
    display_name: str
    parent_email: str
    join_url: str  # the only moment the raw token exists


@dataclass(frozen=True)
class ExportRow:
    pupil_name: str
    class_name: str
    parent_name: str
    parent_email: str
    display_name: str
    join_url: str


def join_url(token: str) -> str:
    # From BASE_URL, never the request's Host header: a forged Host must not end up in a
    # parent's email.
    return f"{settings.BASE_URL}{reverse('invitations:open', args=[token])}"


def lesson_display_names(lesson: Lesson) -> dict[int, str]:
    """Each invited pupil's on-screen name: the first name, with a surname initial only
    where two pupils of the lesson share a first name (display-first-name)."""
    pupils = sorted(lesson.pupils.all(), key=lambda p: p.pk)
    names = display_names([(p.first_name, p.last_name) for p in pupils])
    return {p.pk: name for p, name in zip(pupils, names, strict=True)}


def revoke_invitations(lesson: Lesson, reason: str, pupils: list[Pupil] | None = None) -> int:
    """Withdraw the live links of these pupils (None: all of the lesson's). The caller
    writes the audit event, inside its own transaction."""
    live = Invitation.objects.filter(lesson=lesson, revoked_at__isnull=True)
    if pupils is not None:
        live = live.filter(pupil__in=[p.pk for p in pupils])
    return live.update(revoked_at=timezone.now(), revoked_reason=reason)


def _invited_pupils(lesson: Lesson, pupils: list[Pupil] | None) -> list[Pupil]:
    from safeclass.lessons.services import LessonRejected

    invited = {p.pk: p for p in lesson.pupils.select_related("group").order_by("pk")}
    if pupils is None:
        return list(invited.values())
    chosen = list(dict.fromkeys(p.pk for p in pupils))
    strangers = [pk for pk in chosen if pk not in invited]
    if strangers:
        raise LessonRejected([Violation(RuleId.INVITED_PUPILS_ONLY, _(
            "Links go only to pupils invited to this lesson ({rule}).").format(
            rule=RuleId.INVITED_PUPILS_ONLY), "pupils")])
    return [invited[pk] for pk in chosen]


def _refusals(lesson: Lesson, chosen: list[Pupil]) -> dict[int, Violation]:
    """The pupils who may have no link now, each with the rule that says so: removed from
    this very lesson (no-rejoin-after-removal, for good), or on a removal hold that SLT
    have not cleared yet (removal-hold)."""
    from safeclass.live.models import Presence, PresenceState, RemovalHold

    ids = [p.pk for p in chosen]
    removed = set(Presence.objects.filter(
        lesson=lesson, pupil_id__in=ids, state=PresenceState.REMOVED).values_list(
        "pupil_id", flat=True))
    removed |= set(RemovalHold.objects.filter(lesson=lesson, pupil_id__in=ids).values_list(
        "pupil_id", flat=True))
    held = set(RemovalHold.objects.filter(pupil_id__in=ids, cleared_at__isnull=True)
               .values_list("pupil_id", flat=True))
    out: dict[int, Violation] = {}
    for pupil in chosen:
        if pupil.pk in removed:
            out[pupil.pk] = Violation(RuleId.NO_REJOIN_AFTER_REMOVAL, _(
                "{name} was removed from this lesson, so they cannot have a new link for it "
                "({rule}).").format(name=pupil.full_name,
                                    rule=RuleId.NO_REJOIN_AFTER_REMOVAL), "pupils")
        elif pupil.pk in held:
            out[pupil.pk] = Violation(RuleId.REMOVAL_HOLD, _(
                "{name} is on a removal hold: a senior leader must record their talk with "
                "the parents before {name} can have a new link ({rule}).").format(
                name=pupil.full_name, rule=RuleId.REMOVAL_HOLD), "pupils")
    return out


def _issue(lesson: Lesson, pupils: list[Pupil] | None, *, actor: StaffUser | None,
           reason: str) -> list[tuple[Pupil, IssuedLink]]:
    from safeclass.lessons.services import ActionNotAllowed, LessonRejected

    if actor is not None and not access.may_manage_invitations(actor, lesson):
        raise ActionNotAllowed(_("You cannot issue links for this lesson."))
    # Lock the lesson so links are never issued while it is being edited or cancelled.
    status = Lesson.objects.select_for_update().values_list("status", flat=True).get(
        pk=lesson.pk)
    if status != LessonStatus.APPROVED:
        raise ActionNotAllowed(_("Links exist only for approved lessons ({rule}).").format(
            rule=RuleId.APPROVAL_REQUIRED), conflict=True)
    chosen = _invited_pupils(lesson, pupils)
    refused = _refusals(lesson, chosen)
    if refused and pupils is not None:
        # Links asked for by name: say why, and issue none (nothing half-done).
        raise LessonRejected(list(refused.values()))
    for pupil in chosen:
        # A whole lesson's links (approval, export): the others still get theirs, and
        # the skipped pupil is on the record.
        if pupil.pk in refused:
            record("invitation.refused_hold", actor=actor, school=lesson.school, obj=lesson,
                   data={"lesson": lesson.pk, "pupil": pupil.pk,
                         "rule": refused[pupil.pk].rule, "reason": reason})
    chosen = [p for p in chosen if p.pk not in refused]
    revoke_invitations(lesson, _REVOKE_REASONS.get(reason, RevokeReason.REISSUED), chosen)
    names = lesson_display_names(lesson)
    out: list[tuple[Pupil, IssuedLink]] = []
    for pupil in chosen:
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            lesson=lesson, pupil=pupil, display_name=names[pupil.pk],
            token_hash=hash_secret(token), issued_by=actor)
        # Never the token, nor its hash: the audit log is read by more people than links.
        record("invitation.issued", actor=actor, school=lesson.school, obj=invitation, data={
            "lesson": lesson.pk, "pupil": pupil.pk, "display_name": invitation.display_name,
            "public_id": invitation.public_id, "reason": reason})
        out.append((pupil, IssuedLink(pupil_id=pupil.pk, display_name=invitation.display_name,
                                      parent_email=pupil.parent_email,
                                      join_url=join_url(token))))
    return out


@transaction.atomic
def do_issue_invitations(lesson: Lesson, pupils: list[Pupil] | None, *, actor: StaffUser | None,
                         reason: str = "issued", send_email: bool = True) -> list[IssuedLink]:
    """(Re)issue links for these pupils (None: every invited pupil); old links stop working.

    Emails go out only once the transaction has committed, so a rolled-back approval
    never sends a link that does not exist."""
    issued = _issue(lesson, pupils, actor=actor, reason=reason)
    if send_email and issued:
        messages = [invitation_email(lesson, pupil, link) for pupil, link in issued]
        transaction.on_commit(lambda: _send(messages), robust=True)
    return [link for _pupil, link in issued]


@transaction.atomic
def export_links(lesson: Lesson, *, actor: StaffUser) -> list[ExportRow]:
    """Re-issue every pupil's link (the emailed ones stop working) and return them as rows
    for the school's parent messaging system. Nothing is emailed."""
    issued = _issue(lesson, None, actor=actor, reason="exported")
    record("invitation.exported", actor=actor, school=lesson.school, obj=lesson,
           data={"pupils": [pupil.pk for pupil, _link in issued]})
    return [ExportRow(pupil_name=pupil.full_name, class_name=pupil.group.name,
                      parent_name=pupil.parent_name, parent_email=pupil.parent_email,
                      display_name=link.display_name, join_url=link.join_url)
            for pupil, link in issued]


# ---------------------------------------------------------------------------------------
# Email


def local_when(at: datetime, school: School) -> str:
    """"10:20 on Tuesday 3 March" in the school's time zone and language."""
    local = timezone.localtime(at, school.zone)
    return _("{time} on {day}").format(time=dateformat.format(local, "H:i"),
                                       day=dateformat.format(local, "l j F"))


def invitation_email(lesson: Lesson, pupil: Pupil, link: IssuedLink) -> EmailMultiAlternatives:
    school = lesson.school
    minutes = settings.LESSON_OPENS_MINUTES_BEFORE
    with translation.override(school.language):
        context = {
            "school": school, "lesson": lesson, "pupil": pupil, "link": link,
            "starts": local_when(lesson.starts_at, school),
            "ends": dateformat.format(timezone.localtime(lesson.ends_at, school.zone), "H:i"),
            "opens": local_when(lesson.opens_at(minutes), school), "minutes": minutes,
        }
        subject = render_to_string("invitations/email/invitation_subject.txt", context)
        text = render_to_string("invitations/email/invitation.txt", context)
        html = render_to_string("invitations/email/invitation.html", context)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text,
                                     to=[pupil.parent_email])
    message.attach_alternative(html, "text/html")
    return message


def _send(messages: list[EmailMultiAlternatives]) -> None:
    sent = get_connection().send_messages(messages)
    logger.info("sent %s of %s invitation emails", sent, len(messages))


# ---------------------------------------------------------------------------------------
# Opening a link


def resolve_token(raw: str) -> Invitation | None:
    """The invitation a raw token belongs to (revoked or not), or None."""
    if not raw or len(raw) > _MAX_TOKEN_LENGTH:
        return None
    return (Invitation.objects.select_related("lesson", "lesson__school", "pupil")
            .filter(token_hash=hash_secret(raw)).first())


State = Literal["not_yet_open", "open", "ended", "withdrawn"]


@dataclass(frozen=True)
class LinkState:
    state: State
    opens_at: datetime
    ends_at: datetime


def opens_at(lesson: Lesson) -> datetime:
    return lesson.starts_at - timedelta(minutes=settings.LESSON_OPENS_MINUTES_BEFORE)


def link_state(invitation: Invitation, now: datetime) -> LinkState:
    """Whether the link works at ``now``. Checked afresh on every request."""
    lesson = invitation.lesson
    opening, ending = opens_at(lesson), lesson.ends_at

    def state(name: State) -> LinkState:
        return LinkState(name, opening, ending)

    if invitation.revoked_at is not None or lesson.status not in (*_LINKS_WORK,
                                                                  LessonStatus.ENDED):
        return state("withdrawn")
    if lesson.status == LessonStatus.ENDED or now >= ending:
        return state("ended")
    if now < opening:
        return state("not_yet_open")
    return state("open")


@transaction.atomic
def do_open_invitation(invitation: Invitation, *, now: datetime) -> LinkState:
    """A parent's browser swapped the token for a session cookie. Recorded each time,
    with what the link said at that moment."""
    current = link_state(invitation, now)
    if invitation.first_opened_at is None and current.state != "withdrawn":
        Invitation.objects.filter(pk=invitation.pk, first_opened_at__isnull=True).update(
            first_opened_at=now)
        invitation.first_opened_at = now
    # The audit log is kept in one language, whatever the school's.
    record("invitation.opened", actor_label=f"parent link ({invitation.display_name})",
           school=invitation.lesson.school, obj=invitation, data={
        "lesson": invitation.lesson_id, "pupil": invitation.pupil_id,
        "public_id": invitation.public_id, "state": current.state})
    return current
