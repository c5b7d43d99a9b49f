"""SafeClass policy core: the school's video conferencing policy as plain Python.

No Django, no I/O and no clock reads: callers pass in every value, including the
current time, so each decision can be tested on its own.
"""

from .errors import PolicyError, Violation
from .lesson_request import (
    Conflicts,
    LessonRequest,
    Person,
    SchoolFacts,
    check_lesson_request,
    display_names,
    is_school_email,
)
from .rules import (
    BUILT_FEATURES,
    EXTRA_CHECKS,
    HOST_DOUBLE_BOOKED,
    PUPIL_DOUBLE_BOOKED,
    RULES,
    RULES_BY_ID,
    SECOND_STAFF_DOUBLE_BOOKED,
    START_IN_PAST,
    SWITCHABLE,
    Feature,
    Rule,
    RuleId,
    SettingKind,
    enforcement,
    is_enforced,
)
from .settings import (
    DEFAULT_POLICY,
    Change,
    PolicySettings,
    changes,
    from_dict,
    loosened,
    to_dict,
    validate,
)
from .timetable import (
    Timetable,
    Window,
    describe_windows,
    local_to_utc,
    within_lesson_hours,
)

__all__ = [
    "BUILT_FEATURES",
    "DEFAULT_POLICY",
    "EXTRA_CHECKS",
    "HOST_DOUBLE_BOOKED",
    "PUPIL_DOUBLE_BOOKED",
    "RULES",
    "RULES_BY_ID",
    "SECOND_STAFF_DOUBLE_BOOKED",
    "START_IN_PAST",
    "SWITCHABLE",
    "Change",
    "Conflicts",
    "Feature",
    "LessonRequest",
    "Person",
    "PolicyError",
    "PolicySettings",
    "Rule",
    "RuleId",
    "SchoolFacts",
    "SettingKind",
    "Timetable",
    "Violation",
    "Window",
    "changes",
    "check_lesson_request",
    "describe_windows",
    "display_names",
    "enforcement",
    "from_dict",
    "is_enforced",
    "is_school_email",
    "local_to_utc",
    "loosened",
    "to_dict",
    "validate",
    "within_lesson_hours",
]
