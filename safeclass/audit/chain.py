"""Hashing for the audit chain: pure functions, shared by writer and verifier."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime

GENESIS_HASH = "0" * 64


def canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(prev_hash: str, fields: Mapping[str, object]) -> str:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def hashed_fields(*, seq: int, at: datetime, actor_id: int | None, actor_label: str,
                  school_id: int | None, action: str, object_type: str, object_id: str,
                  data: Mapping[str, object]) -> dict[str, object]:
    return {
        "seq": seq, "at": canonical_time(at), "actor_id": actor_id, "actor_label": actor_label,
        "school_id": school_id, "action": action, "object_type": object_type,
        "object_id": object_id, "data": data,
    }
