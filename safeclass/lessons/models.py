"""Lessons: requested by a teacher, checked by the policy, approved by an approver."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _


def new_room_id() -> str:
    # 128 random bits as a string id: unguessable, and safe in JavaScript (no 64-bit ints).
    return secrets.token_hex(16)


class LessonStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")
    LIVE = "live", _("Live")
    ENDED = "ended", _("Ended")


class Lesson(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="lessons")
    title = models.CharField(_("title"), max_length=200)
    host = models.ForeignKey("accounts.StaffUser", on_delete=models.PROTECT,
                             related_name="hosted_lessons")
    second_staff = models.ForeignKey("accounts.StaffUser", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="supported_lessons")
    group = models.ForeignKey("schools.Group", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="lessons")
    pupils = models.ManyToManyField("schools.Pupil", related_name="lessons")
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveIntegerField(_("duration in minutes"))
    recorded = models.BooleanField(_("recorded"), default=False)
    status = models.CharField(max_length=20, choices=LessonStatus.choices,
                              default=LessonStatus.PENDING_APPROVAL)
    # Each lesson its own room; there are no reusable personal rooms (no-personal-room).
    room_id = models.CharField(max_length=32, unique=True, default=new_room_id, editable=False)
    policy_version = models.ForeignKey("schools.PolicyVersion", on_delete=models.PROTECT,
                                       related_name="lessons")
    requested_by = models.ForeignKey("accounts.StaffUser", on_delete=models.PROTECT,
                                     related_name="+")
    decided_by = models.ForeignKey("accounts.StaffUser", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["school", "starts_at"]),
                   models.Index(fields=["status", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d %H:%M}Z)"

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    def opens_at(self, minutes_before: int) -> datetime:
        return self.starts_at - timedelta(minutes=minutes_before)

    @property
    def is_active_booking(self) -> bool:
        return self.status in BOOKED_STATUSES


# Lessons that occupy their host, second adult and pupils for double-booking checks.
BOOKED_STATUSES = (LessonStatus.PENDING_APPROVAL, LessonStatus.APPROVED, LessonStatus.LIVE)
