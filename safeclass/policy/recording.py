"""When a live lesson is recorded (second-adult-or-recording, host-only-recording).

Pure decisions, no Django: the live services count who is present and ask here.

* Pupils in the room with fewer than two staff present: recording is **required**, and
  nobody can stop it (the policy: "another member of staff is always in the meeting or
  the meeting is recorded").
* A lesson booked as recorded records from the first admission to the end, and the host
  cannot stop it either: its approval may have relied on the recording instead of a
  second adult (a lesson requested as recorded needs no second adult), so switching it
  off would undo the condition it was approved on. It starts with the first pupil, not
  when staff open the room: staff setting up alone are not recorded, and the recording
  is the lesson.
* Otherwise (two staff present, or no pupils in the room) the current host may start and
  stop it.
* Nobody present at all: nothing to record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Reason = Literal["required", "requested", "host"]


@dataclass(frozen=True)
class Decision:
    required: bool          # fewer than two staff with pupils in the room
    should_record: bool     # what Janus should be doing now
    host_may_toggle: bool   # the host's Start/Stop recording button works
    reason: Reason | None   # why it records (None: it should not)


def recording_decision(*, staff_present: int, pupils_admitted: int, booked_recorded: bool,
                       host_wants: bool) -> Decision:
    """What recording should be doing, given who is in the room now.

    ``host_wants``: the host chose to record, or recording that started (required, or a
    booked lesson's first admission) carries on: the caller sets it then, so recording
    never stops by surprise when a second adult arrives or the pupils leave."""
    required = pupils_admitted > 0 and staff_present < 2
    anyone = staff_present > 0 or pupils_admitted > 0
    host_may_toggle = not required and not booked_recorded
    reason: Reason | None
    if not anyone:
        reason = None
    elif required:
        reason = "required"
    elif booked_recorded and (pupils_admitted > 0 or host_wants):
        reason = "requested"
    elif host_wants:
        reason = "host"
    else:
        reason = None
    return Decision(required=required, should_record=reason is not None,
                    host_may_toggle=host_may_toggle, reason=reason)


def may_admit_pupils(*, staff_present: int, recording_works: bool) -> bool:
    """Pupils may come in while two staff are present, or while the lesson is actually
    being recorded (not merely asked to be)."""
    return staff_present >= 2 or (staff_present >= 1 and recording_works)


def disk_needed(*, bytes_per_publisher_minute: int, publishers: int, minutes: float) -> int:
    """Bytes a recording of ``minutes`` with ``publishers`` streams may need."""
    return int(bytes_per_publisher_minute * max(publishers, 1) * max(minutes, 0.0))


@dataclass
class StallWatch:
    """Are the raw files growing? Janus can answer "ok" to enable_recording and write
    nothing, so the size of the folder is the only proof. Growth is expected only while
    someone publishes; ``stalled`` says whether it has not grown for ``limit`` seconds of
    publishing."""

    limit: float
    size: int = -1
    since: float = 0.0

    def observe(self, *, size: int, publishing: bool, now: float) -> bool:
        if self.size < 0 or size > self.size or not publishing:
            self.size, self.since = max(size, self.size), now
            return False
        return now - self.since >= self.limit
