"""The audit log: append-only and hash-chained.

Each event stores the hash of the event before it, and its own hash over its contents
and that link. Changing or removing any row breaks the chain from that point, which
`python manage.py verify_audit` reports. The single `AuditChainHead` row remembers the
last sequence number and hash, so removing the newest rows is caught too; locking it
serialises writers so the chain never forks.
"""

from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.ForeignKey("accounts.StaffUser", null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    # Who acted, in words that survive the account: "Ann Head <head@...>", "pupil Sam B.",
    # "system", "janus".
    actor_label = models.CharField(max_length=300)
    school = models.ForeignKey("schools.School", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["school", "at"]), models.Index(fields=["action"]),
                   models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise RuntimeError("Audit events are append-only: they cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Audit events are append-only: they cannot be deleted.")


class AuditChainHead(models.Model):
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"
