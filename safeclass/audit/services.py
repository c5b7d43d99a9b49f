"""Writing and verifying audit events.

`record()` must run inside the caller's transaction (it asserts so): the event is then
written if and only if the change it describes is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from .chain import GENESIS_HASH, event_hash, hashed_fields
from .models import AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from safeclass.accounts.models import StaffUser
    from safeclass.schools.models import School


def _json_safe(data: Mapping[str, Any]) -> dict[str, Any]:
    # Round-trip through JSON so what we hash is exactly what the database gives back.
    return json.loads(json.dumps(dict(data), default=str, ensure_ascii=False))  # type: ignore[no-any-return]


def actor_label_for(user: StaffUser) -> str:
    return f"{user.full_name} <{user.email}>"


def record(action: str, *, actor: StaffUser | None = None, actor_label: str | None = None,
           school: School | None = None, obj: Model | None = None,
           data: Mapping[str, Any] | None = None) -> AuditEvent:
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record() must be called inside transaction.atomic()")
    label = actor_label or (actor_label_for(actor) if actor is not None else "system")
    if school is None and actor is not None:
        school = actor.school
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})
    seq = head.seq + 1
    at = timezone.now()
    payload = _json_safe(data or {})
    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(obj.pk) if obj is not None else ""
    fields = hashed_fields(seq=seq, at=at, actor_id=actor.pk if actor else None,
                           actor_label=label, school_id=school.pk if school else None,
                           action=action, object_type=object_type, object_id=object_id,
                           data=payload)
    digest = event_hash(head.hash, fields)
    event = AuditEvent.objects.create(
        seq=seq, at=at, actor=actor, actor_label=label, school=school, action=action,
        object_type=object_type, object_id=object_id, data=payload, prev_hash=head.hash,
        hash=digest)
    AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=digest)
    return event


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def _events_in_order() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)


def verify_chain() -> tuple[int, ChainBreak | None]:
    """Check every event. Returns (events checked, first break or None)."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    with transaction.atomic():
        for event in _events_in_order():
            if event.seq != expected_seq:
                return checked, ChainBreak(expected_seq, f"event #{expected_seq} is missing")
            if event.prev_hash != prev_hash:
                return checked, ChainBreak(event.seq, "its link to the event before was changed")
            fields = hashed_fields(
                seq=event.seq, at=event.at, actor_id=event.actor_id,
                actor_label=event.actor_label, school_id=event.school_id, action=event.action,
                object_type=event.object_type, object_id=event.object_id, data=event.data)
            if event_hash(prev_hash, fields) != event.hash:
                return checked, ChainBreak(event.seq, "its contents were changed")
            prev_hash = event.hash
            expected_seq += 1
            checked += 1
        head = AuditChainHead.objects.filter(pk=1).first()
        if head is not None and (head.seq != checked or head.hash != prev_hash):
            return checked, ChainBreak(checked + 1,
                                       f"the log ends at #{checked} but #{head.seq} was written")
    return checked, None
