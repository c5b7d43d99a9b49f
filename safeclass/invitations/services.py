"""Personal join links. (Contract stubs: being built.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from safeclass.accounts.models import StaffUser
    from safeclass.lessons.models import Lesson
    from safeclass.schools.models import Pupil


@dataclass(frozen=True)
class IssuedLink:
    pupil_id: int
    display_name: str
    parent_email: str
    join_url: str  # the only moment the raw token exists


def do_issue_invitations(lesson: Lesson, pupils: list[Pupil] | None, *, actor: StaffUser | None,
                         reason: str = "issued", send_email: bool = True) -> list[IssuedLink]:
    """(Re)issue links for these pupils (None: every invited pupil); old links stop working."""
    raise NotImplementedError
