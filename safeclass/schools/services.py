"""School, policy and roster actions. (Contract stubs: being built.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from safeclass.accounts.models import StaffUser
    from safeclass.policy import PolicySettings, SchoolFacts
    from safeclass.schools.models import PolicyVersion, School


def current_policy(school: School) -> PolicyVersion:
    """The version in force (the highest number); creates version 1 from the defaults."""
    raise NotImplementedError


def policy_settings(version: PolicyVersion) -> PolicySettings:
    raise NotImplementedError


def school_facts(school: School) -> SchoolFacts:
    """Email domains and timetable as the policy core's value object."""
    raise NotImplementedError


def do_edit_policy(school: School, new: PolicySettings, *, actor: StaffUser,
                   reason: str = "") -> PolicyVersion:
    raise NotImplementedError
