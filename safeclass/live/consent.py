"""A parent's consent and the pupil's promise, given at the start of each lesson on each
device (consent-each-session). Another device must consent again."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from safeclass.audit.services import record
from safeclass.policy import RuleId

from .models import CONSENT_ITEMS, CONSENT_KEYS, Consent

if TYPE_CHECKING:
    from safeclass.invitations.models import Invitation

PARENT_NAME_MAX_LENGTH = 120
_DEVICE_HASH = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ConsentRefused(Exception):
    """Bad input: ``field`` names the form field (or "invitation" / "device")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _clean_name(parent_name: str) -> str:
    name = " ".join((parent_name or "").split())
    if not name:
        raise ConsentRefused("parent_name", _("Enter your name (parent or carer)."))
    if len(name) > PARENT_NAME_MAX_LENGTH:
        raise ConsentRefused("parent_name", _(
            "Your name must be {count} characters or fewer.").format(
            count=PARENT_NAME_MAX_LENGTH))
    if _CONTROL.search(name):
        raise ConsentRefused("parent_name", _("Your name has characters that are not allowed."))
    return name


def _check_items(items: list[str]) -> list[str]:
    unknown = [item for item in items if item not in CONSENT_KEYS]
    if unknown:
        raise ConsentRefused("items", _("Something was ticked that is not on this page."))
    labels = dict(CONSENT_ITEMS)
    for key in CONSENT_KEYS:
        if key not in items:
            raise ConsentRefused(f"consent_{key}", _(
                "Tick to agree ({rule}): “{item}”").format(item=labels[key],
                                                          rule=RuleId.CONSENT_EACH_SESSION))
    return list(CONSENT_KEYS)


def do_give_consent(invitation: Invitation, *, device_hash: str, parent_name: str,
                    items: list[str], pupil_promise: bool) -> Consent:
    """Record that this pupil's parent or carer consented, on this device, to this lesson.

    Every item of CONSENT_ITEMS and the pupil's own promise are required; bad input
    raises ConsentRefused naming the field, and nothing is written."""
    if invitation.revoked_at is not None:
        raise ConsentRefused("invitation", _("This link has been withdrawn. "
                                             "Please contact the school."))
    if not _DEVICE_HASH.fullmatch(device_hash or ""):
        raise ConsentRefused("device", _("This device could not be recognised. "
                                         "Please start again from the link."))
    if not pupil_promise:
        raise ConsentRefused("promise", _("The pupil must first tick “I will follow these "
                                          "rules”."))
    name = _clean_name(parent_name)
    ticked = _check_items(list(items))
    lesson = invitation.lesson
    with transaction.atomic():
        consent = Consent.objects.create(
            lesson=lesson, pupil_id=invitation.pupil_id, invitation=invitation,
            device_hash=device_hash, parent_name=name, items=ticked, pupil_promise=True)
        # The audit log is kept in English; only the start of the device hash goes in it.
        record("live.consent_given",
               actor_label=f"parent/carer ({name}) of {invitation.display_name}",
               school=lesson.school, obj=consent, data={
                   "lesson": lesson.pk, "pupil": invitation.pupil_id,
                   "public_id": invitation.public_id, "items": ticked,
                   "pupil_promise": True, "device": device_hash[:12]})
    return consent


def has_consent(invitation: Invitation, device_hash: str | None) -> bool:
    """Whether this pupil's parent consented to this lesson from this device."""
    if not device_hash:
        return False
    return Consent.objects.filter(lesson_id=invitation.lesson_id, pupil_id=invitation.pupil_id,
                                  device_hash=device_hash, pupil_promise=True).exists()
