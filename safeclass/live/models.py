"""The live lesson: who is in the room, what they agreed to, and what happened.

The server holds the lesson state (design: "live lesson state lives on the server"). Pages
only render what :mod:`safeclass.live.consumers` pushes and send intents back; every
change goes through one action function in :mod:`safeclass.live.services`.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


def new_room_secret() -> str:
    # The Janus room secret: our server's alone, never sent to a browser (invariant 2).
    return secrets.token_hex(24)


def new_publisher_id() -> str:
    # The Janus participant id the server chooses for each presence (string_ids), 128 bits.
    return secrets.token_hex(16)


class LiveRun(models.Model):
    """One lesson's time in the room: opened by the host, ended once."""

    lesson = models.OneToOneField("lessons.Lesson", on_delete=models.CASCADE,
                                  primary_key=True, related_name="live_run")
    # The Janus room is lesson.room_id; its secret stays here, server side only.
    room_secret = models.CharField(max_length=64, default=new_room_secret, editable=False)
    room_created_at = models.DateTimeField(null=True, blank=True)
    # The staff member holding the host role now (starts as lesson.host; can be handed over).
    current_host = models.ForeignKey("accounts.StaffUser", on_delete=models.PROTECT,
                                     related_name="+")
    opened_at = models.DateTimeField(null=True, blank=True)   # host passed the checklist
    started_at = models.DateTimeField(null=True, blank=True)  # status became live
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=40, blank=True)
    # "Pause all pupils", or every staff member dropped out: pupil media stopped at Janus.
    pupils_paused = models.BooleanField(default=False)
    staff_absent_since = models.DateTimeField(null=True, blank=True)
    rules_shown_at = models.DateTimeField(null=True, blank=True)
    warned_5_at = models.DateTimeField(null=True, blank=True)
    warned_1_at = models.DateTimeField(null=True, blank=True)
    # Recording (second-adult-or-recording): whether Janus records the room now, whether
    # the host asked for it (with two staff present), and the last problem staff must see
    # ("" none, else a RecordingProblem) — pupils come in with one adult only while
    # recording works.
    recording_on = models.BooleanField(default=False)
    host_wants_recording = models.BooleanField(default=False)
    recording_problem = models.CharField(max_length=20, blank=True)
    recording_problem_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"live run of lesson {self.lesson_id}"


class RecordingProblem(models.TextChoices):
    DISK_SHORT = "disk_short", _("There is not enough disk space to record the lesson.")
    START_FAILED = "start_failed", _("The video server could not start recording.")
    STALLED = "stalled", _("The recording stopped growing.")
    DISK_FULL = "disk_full", _("The recording disk is full.")


class PresenceRole(models.TextChoices):
    STAFF = "staff", _("Staff")
    PUPIL = "pupil", _("Pupil")


class PresenceState(models.TextChoices):
    WAITING = "waiting", _("Waiting")        # pupil in the waiting room
    ADMITTED = "admitted", _("In the lesson")
    LEFT = "left", _("Left")                 # closed the page or lost the connection
    REPLACED = "replaced", _("Replaced")     # a reconnect or an admitted second device took over
    REMOVED = "removed", _("Removed")        # removed by staff (no-rejoin-after-removal)
    ENDED = "ended", _("Lesson ended")


ACTIVE_STATES = (PresenceState.WAITING, PresenceState.ADMITTED)


class Presence(models.Model):
    """One person on one device in one lesson, from join to leave.

    The join and leave times are the attendance record the lesson log uses. A reconnect
    from the same device replaces the old row (state ``replaced``) rather than adding a
    second live one, so a pupil is never in the lesson twice.
    """

    lesson = models.ForeignKey("lessons.Lesson", on_delete=models.CASCADE,
                               related_name="presences")
    role = models.CharField(max_length=10, choices=PresenceRole.choices)
    staff = models.ForeignKey("accounts.StaffUser", on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+")
    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    invitation = models.ForeignKey("invitations.Invitation", on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="presences")
    # The name everyone sees: roster first name for pupils (display-first-name), staff's
    # display name for staff. Never taken from the browser.
    display_name = models.CharField(max_length=120)
    # sha256 of the device cookie: tells a reconnect from a second device.
    device_hash = models.CharField(max_length=64, blank=True)
    second_device = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=PresenceState.choices,
                             default=PresenceState.WAITING)
    connected = models.BooleanField(default=True)
    channel_name = models.CharField(max_length=200, blank=True)
    # Janus: the participant token (kept raw because revoking it at Janus needs it; it is
    # this presence's alone and dies with it) and the publisher id the server chose.
    janus_token = models.CharField(max_length=64, blank=True)
    publisher_id = models.CharField(max_length=32, default=new_publisher_id, editable=False)
    screen_publisher_id = models.CharField(max_length=32, blank=True)
    # Janus reported the screen publisher live: only then is the screen feed named.
    screen_published = models.BooleanField(default=False)
    # Janus' own session and handle ids of the publisher, learnt from its events: media
    # events (camera stopped) name only these.
    janus_session_id = models.BigIntegerField(null=True, blank=True)
    janus_handle_id = models.BigIntegerField(null=True, blank=True)
    audio_mid = models.CharField(max_length=16, blank=True)
    video_mid = models.CharField(max_length=16, blank=True)
    published = models.BooleanField(default=False)
    # True once Janus confirmed the audio is muted (moderate), for pupils from entry.
    audio_muted = models.BooleanField(default=True)
    may_speak = models.BooleanField(default=False)
    video_stopped = models.BooleanField(default=False)
    camera_ok = models.BooleanField(default=True)
    hand_raised = models.BooleanField(default=False)
    parent_seen = models.BooleanField(default=False)
    warnings = models.PositiveIntegerField(default=0)
    joined_at = models.DateTimeField(auto_now_add=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["lesson", "role", "display_name", "joined_at"]
        indexes = [models.Index(fields=["lesson", "state"]),
                   models.Index(fields=["publisher_id"])]

    def __str__(self) -> str:
        return f"{self.role} {self.display_name} in lesson {self.lesson_id} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


# What the parent or carer agrees to before their child joins (consent-each-session). The
# keys are stored with each consent; the wording is shown on the consent page.
CONSENT_ITEMS: tuple[tuple[str, _StrPromise], ...] = (
    ("aware", _("I know this video lesson is happening now.")),
    ("household", _("Everyone at home knows a video lesson is happening.")),
    ("recording", _("I agree that the school may record the lesson.")),
    ("supervise", _("I will stay nearby and keep an eye on the lesson.")),
    ("acceptable_use", _("I have read the school's rules for using technology.")),
    ("no_recording", _("We will not record, photograph or share the lesson.")),
)
CONSENT_KEYS = tuple(key for key, _label in CONSENT_ITEMS)


class Consent(models.Model):
    """A parent's consent and the pupil's promise, for one pupil in one lesson."""

    lesson = models.ForeignKey("lessons.Lesson", on_delete=models.CASCADE,
                               related_name="consents")
    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, related_name="+")
    invitation = models.ForeignKey("invitations.Invitation", on_delete=models.PROTECT,
                                   related_name="consents")
    device_hash = models.CharField(max_length=64)
    parent_name = models.CharField(_("parent or carer's name"), max_length=120)
    items = models.JSONField(default=list)  # the CONSENT_KEYS ticked (all are required)
    pupil_promise = models.BooleanField(default=False)
    given_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["lesson", "pupil", "-given_at"]

    def __str__(self) -> str:
        return f"consent for pupil {self.pupil_id} in lesson {self.lesson_id}"


# The "before you start" checklist the host (and second adult) confirm before opening.
CHECKLIST_ITEMS: tuple[tuple[str, _StrPromise], ...] = (
    ("safe_place", _("I am in a safe place with nothing inappropriate in view.")),
    ("not_overlooked", _("My screen cannot be seen by anyone who should not see it.")),
    ("materials", _("My materials suit the age group and I have checked them.")),
    ("no_social_media", _("No social media or personal messages are open.")),
    ("send_support", _("I have thought about support for pupils with SEND.")),
)
CHECKLIST_KEYS = tuple(key for key, _label in CHECKLIST_ITEMS)


class StaffChecklist(models.Model):
    lesson = models.ForeignKey("lessons.Lesson", on_delete=models.CASCADE,
                               related_name="staff_checklists")
    staff = models.ForeignKey("accounts.StaffUser", on_delete=models.PROTECT, related_name="+")
    items = models.JSONField(default=list)
    confirmed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["lesson", "confirmed_at"]

    def __str__(self) -> str:
        return f"checklist of {self.staff_id} for lesson {self.lesson_id}"


class RemovalHold(models.Model):
    """A removed pupil may not join any later lesson until SLT have spoken to the parents
    (removal-hold). Cleared only by recording that follow-up."""

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT,
                               related_name="removal_holds")
    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT,
                              related_name="removal_holds")
    lesson = models.ForeignKey("lessons.Lesson", on_delete=models.PROTECT,
                               related_name="removal_holds")
    placed_by = models.ForeignKey("accounts.StaffUser", on_delete=models.PROTECT,
                                  related_name="+")
    placed_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)
    cleared_by = models.ForeignKey("accounts.StaffUser", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    cleared_at = models.DateTimeField(null=True, blank=True)
    follow_up_with = models.CharField(_("who was spoken to"), max_length=200, blank=True)
    follow_up_on = models.DateField(_("when"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)

    class Meta:
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["pupil", "cleared_at"])]

    def __str__(self) -> str:
        return f"removal hold on pupil {self.pupil_id}"

    @property
    def is_active(self) -> bool:
        return self.cleared_at is None


class IncidentKind(models.TextChoices):
    OUTSIDER_REMOVED = "outsider_removed", _("Someone who should not be there was removed")
    PUPIL_REMOVED = "pupil_removed", _("A pupil was removed")
    CAMERA_STOPPED = "camera_stopped", _("A pupil's camera stopped")
    MEDIA_REFUSED = "media_refused", _("The media server refused something it should")
    STAFF_DROPPED = "staff_dropped", _("All staff dropped out")
    RECORDING_FAILED = "recording_failed", _("Recording failed while it was needed")


class Incident(models.Model):
    """Something the head and DSL must see (list at /oversight/incidents/)."""

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT,
                               related_name="incidents")
    lesson = models.ForeignKey("lessons.Lesson", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="incidents")
    kind = models.CharField(max_length=30, choices=IncidentKind.choices)
    summary = models.TextField()
    created_by = models.ForeignKey("accounts.StaffUser", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"incident {self.kind} at {self.created_at:%Y-%m-%d %H:%M}"


class Notice(models.Model):
    """A one-way message from staff to everyone in the lesson (pupils cannot post)."""

    lesson = models.ForeignKey("lessons.Lesson", on_delete=models.CASCADE,
                               related_name="notices")
    author = models.ForeignKey("accounts.StaffUser", on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=500)
    posted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["lesson", "posted_at"]

    def __str__(self) -> str:
        return f"notice in lesson {self.lesson_id}"
