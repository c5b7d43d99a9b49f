"""Personal join links: one per pupil per approved lesson."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _


def new_public_id() -> str:
    # Names an invitation in URLs after the secret token has been swapped for a cookie.
    # Not a secret on its own: the session must also hold it.
    return secrets.token_hex(8)


class RevokeReason(models.TextChoices):
    REISSUED = "reissued", _("re-issued")
    EXPORTED = "exported", _("re-issued for export")
    LESSON_EDITED = "lesson_edited", _("lesson edited and waiting for approval again")
    LESSON_CANCELLED = "lesson_cancelled", _("lesson cancelled")
    PUPIL_REMOVED_FROM_LESSON = "pupil_removed", _("pupil no longer invited")


class Invitation(models.Model):
    lesson = models.ForeignKey("lessons.Lesson", on_delete=models.CASCADE,
                               related_name="invitations")
    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT,
                              related_name="invitations")
    display_name = models.CharField(max_length=120)
    token_hash = models.CharField(max_length=64, unique=True)
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id)
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey("accounts.StaffUser", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=20, choices=RevokeReason.choices, blank=True)
    first_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["lesson", "display_name"]
        constraints = [
            models.UniqueConstraint(fields=["lesson", "pupil"],
                                    condition=models.Q(revoked_at__isnull=True),
                                    name="one_live_invitation_per_pupil_per_lesson"),
        ]

    def __str__(self) -> str:
        return f"invitation of {self.display_name} to lesson {self.lesson_id}"
