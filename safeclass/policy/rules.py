"""The school's online video conferencing policy as a table of rules.

Every rule has a stable id: it appears in UI errors, in API error bodies and in
``GET /api/v1/policy``, so ids must never be renamed once published. Each rule names the
feature that enforces it, so SafeClass can say honestly which rules it enforces today.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from .words import gettext_noop


class Feature(StrEnum):
    """Parts of SafeClass that enforce rules; a rule is enforced once its feature is built."""

    FOUNDATION = "foundation"
    LIVE_LESSON = "live-lesson"
    RECORDING = "recording"
    LESSON_LOG = "lesson-log"
    CONCERNS = "concerns"


# Grows as features land. Never add a feature here before its code really enforces its
# rules: schools rely on this to know what they still have to do by hand.
BUILT_FEATURES: frozenset[Feature] = frozenset(
    {Feature.FOUNDATION, Feature.LIVE_LESSON, Feature.RECORDING})


class SettingKind(StrEnum):
    """How a school sets a rule: on/off, a number, or from its own school settings."""

    SWITCH = "switch"
    MINUTES = "minutes"
    COUNT = "count"
    DAYS = "days"
    # The value comes from the school's own set-up (email domains, timetable); the rule
    # itself can still be switched off.
    SCHOOL = "school"


class RuleId(StrEnum):
    APPROVAL_REQUIRED = "approval-required"
    STAFF_HOST_ONLY = "staff-host-only"
    SCHOOL_ACCOUNT = "school-account"
    NO_PERSONAL_ROOM = "no-personal-room"
    MAX_DURATION = "max-duration"
    LESSON_HOURS = "lesson-hours"
    GROUP_ONLY = "group-only"
    SECOND_ADULT_OR_RECORDING = "second-adult-or-recording"
    HOST_ONLY_SCREENSHARE = "host-only-screenshare"
    HOST_ONLY_RECORDING = "host-only-recording"
    MUTE_ON_ENTRY = "mute-on-entry"
    NO_SELF_UNMUTE = "no-self-unmute"
    CAMERA_REQUIRED = "camera-required"
    NO_ATTENDEE_CHAT = "no-attendee-chat"
    NO_ANNOTATION = "no-annotation"
    NO_FILE_TRANSFER = "no-file-transfer"
    NO_REJOIN_AFTER_REMOVAL = "no-rejoin-after-removal"
    INVITED_PUPILS_ONLY = "invited-pupils-only"
    CONSENT_EACH_SESSION = "consent-each-session"
    DISPLAY_FIRST_NAME = "display-first-name"
    REMOVAL_HOLD = "removal-hold"
    RECORDING_RETENTION = "recording-retention"
    LESSON_LOG_REQUIRED = "lesson-log-required"
    ABSENCE_FOLLOW_UP = "absence-follow-up"
    CONCERN_TO_HEAD = "concern-to-head"


@dataclass(frozen=True)
class Rule:
    id: RuleId
    # title and plain are English, marked for the catalogue with gettext_noop: translate
    # them where they are shown (``{% translate rule.title %}``, ``gettext(rule.plain)``).
    # The API gives them in English.
    title: str
    # Quoted word for word from the policy document (typos included), so a head can find
    # the sentence a rule comes from. Never translated: it is the school's own English
    # document, and a translation would no longer be a quote of it.
    clause: str
    plain: str
    feature: Feature
    setting: SettingKind


_F = Feature
_S = SettingKind
_R = RuleId

RULES: tuple[Rule, ...] = (
    Rule(
        _R.APPROVAL_REQUIRED,
        gettext_noop("Head approves every lesson"),
        "All live video contact between school staff and students will be arranged in "
        "advance and with the agreement of the Head Teacher or their nominated staff member.",
        gettext_noop(
            "Every live lesson is booked in advance and approved by the head or their nominee."
        ),
        _F.FOUNDATION,
        _S.SWITCH,
    ),
    Rule(
        _R.STAFF_HOST_ONLY,
        gettext_noop("Only teachers host"),
        "Only staff members are able to initiate a meeting and act as a host.",
        gettext_noop("Only a member of teaching staff can set up and run a lesson."),
        _F.FOUNDATION,
        _S.SWITCH,
    ),
    Rule(
        _R.SCHOOL_ACCOUNT,
        gettext_noop("Hosts use school accounts"),
        "User accounts used to host these sessions are linked to school email accounts "
        "and not personal ones.",
        gettext_noop("Staff in a lesson use their school email account, never a personal one."),
        _F.FOUNDATION,
        _S.SCHOOL,
    ),
    Rule(
        _R.NO_PERSONAL_ROOM,
        gettext_noop("Each lesson has its own room"),
        "Personal Meeting ID (PMI) disabled by default.",
        gettext_noop(
            "Each lesson gets its own room and links; staff have no permanent personal room."
        ),
        _F.FOUNDATION,
        _S.SWITCH,
    ),
    Rule(
        _R.MAX_DURATION,
        gettext_noop("Lessons are short"),
        "Live online sessions for groups or classes should be kept to a reasonable length "
        "of time (no longer than 30 minutes)",
        gettext_noop(
            "A lesson lasts no longer than the school's limit (30 minutes unless it sets less)."
        ),
        _F.FOUNDATION,
        _S.MINUTES,
    ),
    Rule(
        _R.LESSON_HOURS,
        gettext_noop("Lessons happen in school hours"),
        "should take place during normal lesson times.",
        gettext_noop("Lessons only take place during the school's normal lesson times."),
        _F.FOUNDATION,
        _S.SCHOOL,
    ),
    Rule(
        _R.GROUP_ONLY,
        gettext_noop("Groups only, never one to one"),
        "Ensure that video conferencing sessions are only carried out with groups of "
        "pupils and one to one sessions are not used.",
        gettext_noop(
            "A lesson is always for a group of pupils, never one child alone with an adult."
        ),
        _F.FOUNDATION,
        _S.COUNT,
    ),
    Rule(
        _R.SECOND_ADULT_OR_RECORDING,
        gettext_noop("A second adult, or a recording"),
        "Ensure another member of staff is always in the meeting or the meeting is recorded.",
        gettext_noop(
            "A second member of staff is in every lesson, or else the lesson is recorded."
        ),
        _F.FOUNDATION,
        _S.SWITCH,
    ),
    Rule(
        _R.HOST_ONLY_SCREENSHARE,
        gettext_noop("Only the teacher shares a screen"),
        "Only the host (staff member) will have the ability to share a screen.",
        gettext_noop("Only the teacher can show their screen; pupils cannot."),
        _F.LIVE_LESSON,
        _S.SWITCH,
    ),
    Rule(
        _R.HOST_ONLY_RECORDING,
        gettext_noop("Only staff record"),
        "Only the host (staff member) as the ability to record a session.",
        gettext_noop("Only school staff can record a lesson; nobody else may."),
        _F.RECORDING,
        _S.SWITCH,
    ),
    Rule(
        _R.MUTE_ON_ENTRY,
        gettext_noop("Pupils join muted"),
        "Attendees are set as mute on entry",
        gettext_noop("Pupils' microphones are muted when they join."),
        _F.LIVE_LESSON,
        _S.SWITCH,
    ),
    Rule(
        _R.NO_SELF_UNMUTE,
        gettext_noop("Pupils cannot unmute themselves"),
        "teachers should toggle off ability to unmute themselves at the beginning of the meeting.",
        gettext_noop("Only the teacher can unmute a pupil."),
        _F.LIVE_LESSON,
        _S.SWITCH,
    ),
    Rule(
        _R.CAMERA_REQUIRED,
        gettext_noop("Pupils' cameras on"),
        "Student attendees are required to have their camera on for the meeting",
        gettext_noop("Pupils keep their camera on so staff can see who is there."),
        _F.LIVE_LESSON,
        _S.SWITCH,
    ),
    Rule(
        _R.NO_ATTENDEE_CHAT,
        gettext_noop("No chat for pupils"),
        "The chat function is disabled for attendees.",
        gettext_noop("Pupils cannot send chat messages in a lesson."),
        _F.LIVE_LESSON,
        _S.SWITCH,
    ),
    Rule(
        _R.NO_ANNOTATION,
        gettext_noop("No drawing on screens"),
        "The annotation function is disabled for attendees.",
        gettext_noop("Pupils cannot draw or write on the shared screen."),
        _F.LIVE_LESSON,
        _S.SWITCH,
    ),
    Rule(
        _R.NO_FILE_TRANSFER,
        gettext_noop("No file sending"),
        "The in-meeting file transfer function is disabled.",
        gettext_noop("Nobody can send files to anyone during a lesson."),
        _F.LIVE_LESSON,
        _S.SWITCH,
    ),
    Rule(
        _R.NO_REJOIN_AFTER_REMOVAL,
        gettext_noop("Removed means removed"),
        "If a participant is removed from a meeting the ability to re-join is disabled.",
        gettext_noop("A pupil removed from a lesson cannot come back into it."),
        _F.LIVE_LESSON,
        _S.SWITCH,
    ),
    Rule(
        _R.INVITED_PUPILS_ONLY,
        gettext_noop("Only our own invited pupils"),
        "Share the invitation link with Grimsdyke pupils only it will not be shared externally.",
        gettext_noop("Lesson links go only to the school's own pupils invited to that lesson."),
        _F.FOUNDATION,
        _S.SWITCH,
    ),
    Rule(
        _R.CONSENT_EACH_SESSION,
        gettext_noop("Consent at the start of every lesson"),
        "At the start of a session parents and children will be asked to confirm they are "
        "aware of expectations and to give consent to participation at the start of each "
        "session.",
        gettext_noop(
            "At the start of each lesson, a parent and the child confirm the rules and give "
            "consent."
        ),
        _F.LIVE_LESSON,
        _S.SWITCH,
    ),
    Rule(
        _R.DISPLAY_FIRST_NAME,
        gettext_noop("First names shown"),
        "Ensure that the students first name is displayed at the beginning of the session "
        "and throughout.",
        gettext_noop("Each pupil is shown by their first name throughout the lesson."),
        _F.LIVE_LESSON,
        _S.SWITCH,
    ),
    Rule(
        _R.REMOVAL_HOLD,
        gettext_noop("Talk to parents after a removal"),
        "Staff to ask SLT to follow up with parents before that pupil joins any future sessions.",
        gettext_noop(
            "If a pupil is removed, a senior leader speaks to the parents before the pupil's "
            "next lesson."
        ),
        _F.LIVE_LESSON,
        _S.SWITCH,
    ),
    Rule(
        _R.RECORDING_RETENTION,
        gettext_noop("Recordings kept up to 12 months"),
        "Live video sessions may be recorded and saved for up to 12 months to provide a "
        "record that can be consulted if any issues were to arise.",
        gettext_noop("Recordings are kept securely for at most 12 months, then deleted."),
        _F.RECORDING,
        _S.DAYS,
    ),
    Rule(
        _R.LESSON_LOG_REQUIRED,
        gettext_noop("Teacher logs every lesson"),
        "Keep a brief log of the meeting: What? When? Where? Anything that went wrong? Any "
        "inappropriate use of the system by pupils? Which other staff member was present? "
        "Any relevant information will be shared with SLT.",
        gettext_noop(
            "The teacher writes a short note about each lesson, which senior leaders can read."
        ),
        _F.LESSON_LOG,
        _S.SWITCH,
    ),
    Rule(
        _R.ABSENCE_FOLLOW_UP,
        gettext_noop("Missed lessons followed up"),
        "Consider pupils that are unable to access and join the meetings keep a record of "
        "pupils not joining – follow up with parents sensitively.",
        gettext_noop(
            "Pupils who miss a lesson are noted so the school can check in with their family."
        ),
        _F.LESSON_LOG,
        _S.SWITCH,
    ),
    Rule(
        _R.CONCERN_TO_HEAD,
        gettext_noop("Concerns go to the head"),
        "concerns will be recorded and passed directly to the Headteacher.",
        gettext_noop(
            "Any worry about a child is written down and goes straight to the headteacher."
        ),
        _F.CONCERNS,
        _S.SWITCH,
    ),
)

RULES_BY_ID: Mapping[str, Rule] = MappingProxyType({str(r.id): r for r in RULES})

# Rules a school may switch off: plain on/off rules, plus the rules whose value comes from
# school settings. Rules with a number (minutes, pupils, days) are tuned, never switched
# off, so a school cannot turn off the length limit or the group rule altogether.
SWITCHABLE: tuple[RuleId, ...] = tuple(
    r.id for r in RULES if r.setting in (SettingKind.SWITCH, SettingKind.SCHOOL)
)

# Values for the API and code, not words for people: pages say "enforced" in their own
# (translated) words.
ENFORCED = "enforced"
NOT_YET_ENFORCED = "not yet enforced"


def is_enforced(rule: Rule, built: frozenset[Feature] = BUILT_FEATURES) -> bool:
    return rule.feature in built


def enforcement(rule: Rule, built: frozenset[Feature] = BUILT_FEATURES) -> str:
    return ENFORCED if is_enforced(rule, built) else NOT_YET_ENFORCED


# Checks the lesson request makes that are not policy rules (a school cannot switch them
# off) but still need stable ids so forms and the API report them like rule violations.
START_IN_PAST = "start-in-past"
HOST_DOUBLE_BOOKED = "host-double-booked"
SECOND_STAFF_DOUBLE_BOOKED = "second-staff-double-booked"
PUPIL_DOUBLE_BOOKED = "pupil-double-booked"

# English, marked for the catalogue: translate where shown (the API gives them in English).
EXTRA_CHECKS: Mapping[str, str] = MappingProxyType(
    {
        START_IN_PAST: gettext_noop("A lesson must start in the future."),
        HOST_DOUBLE_BOOKED: gettext_noop("The host cannot be in two lessons at the same time."),
        SECOND_STAFF_DOUBLE_BOOKED: gettext_noop(
            "The second adult cannot be in two lessons at the same time."
        ),
        PUPIL_DOUBLE_BOOKED: gettext_noop("A pupil cannot be in two lessons at the same time."),
    }
)
