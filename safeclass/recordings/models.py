"""Lesson recordings: when they ran, what they produced, who may keep them how long.

A lesson has at most one :class:`Recording`. It is made the first time Janus starts
recording the lesson; each stretch of recording is a :class:`RecordingSpan` (recording
stops and starts as the second adult comes and goes, or as the host chooses). After the
lesson, a background job (``safeclass.recordings.pipeline``) turns Janus' raw ``.mjr``
files into one playable lesson file plus one file per stream, each a
:class:`RecordingFile` stored encrypted (``safeclass.recordings.store``).

Only the action functions in ``safeclass.recordings`` change these rows (atomic, audited).
"""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


def new_folder_name() -> str:
    # The name of the lesson's raw folder (under JANUS_RECORD_DIR) and of its folder in
    # the store: random, so no path says which lesson or school it is.
    return secrets.token_hex(16)


class RecordingStatus(models.TextChoices):
    RECORDING = "recording", _("Recording")            # the lesson is still running
    QUEUED = "queued", _("Waiting to be prepared")     # lesson ended, job queued
    PROCESSING = "processing", _("Being prepared")
    READY = "ready", _("Ready to watch")
    EMPTY = "empty", _("Nothing was recorded")         # no media reached Janus' files
    FAILED = "failed", _("Could not be prepared")      # raw files kept for another try
    PURGED = "purged", _("Deleted")                    # retention ended: files gone


class Recording(models.Model):
    """One lesson's recording, from the first start to its deletion."""

    # Used in every URL: unguessable, and says nothing about the lesson.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    lesson = models.OneToOneField("lessons.Lesson", on_delete=models.PROTECT,
                                  related_name="recording")
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT,
                               related_name="recordings")
    folder = models.CharField(max_length=32, default=new_folder_name, unique=True,
                              editable=False)
    status = models.CharField(max_length=12, choices=RecordingStatus.choices,
                              default=RecordingStatus.RECORDING)
    started_at = models.DateTimeField()                       # first span's start
    lesson_ended_at = models.DateTimeField(null=True, blank=True)
    # Post-processing: progress in plain words for the lesson page.
    progress_percent = models.PositiveSmallIntegerField(default=0)
    progress_step = models.CharField(max_length=120, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)  # of the lesson file
    # Retention (recording-retention): deleted when the school's retention has passed
    # since the lesson ended, unless on hold.
    purged_at = models.DateTimeField(null=True, blank=True)
    # A DSL hold keeps a recording past retention (child-protection records).
    hold_reason = models.TextField(blank=True)
    hold_review_date = models.DateField(null=True, blank=True)
    held_by = models.ForeignKey("accounts.StaffUser", on_delete=models.PROTECT,
                                null=True, blank=True, related_name="+")
    held_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"recording of lesson {self.lesson_id}"

    @property
    def on_hold(self) -> bool:
        return self.held_at is not None


class SpanReason(models.TextChoices):
    REQUIRED = "required", _("Fewer than two staff were present")   # second-adult-or-recording
    REQUESTED = "requested", _("The lesson was booked as recorded")
    HOST = "host", _("The host started it")


class RecordingSpan(models.Model):
    """One stretch of time the lesson was being recorded."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="spans")
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=12, choices=SpanReason.choices)
    started_by = models.ForeignKey("accounts.StaffUser", on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    stopped_by = models.ForeignKey("accounts.StaffUser", on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    stop_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"span {self.started_at:%H:%M:%S}–{self.stopped_at or '…'} of {self.recording}"


class FileKind(models.TextChoices):
    LESSON = "lesson", _("Whole lesson")
    STREAM = "stream", _("One person's stream")


class RecordingFile(models.Model):
    """One encrypted file in the store: the lesson file, or one converted stream."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(max_length=8, choices=FileKind.choices)
    # Folder name inside the recording's store folder (see store.py): random.
    store_name = models.CharField(max_length=64)
    # What a person sees: "Whole lesson", "Amy Lewis (camera)", "Priya (screen)".
    label = models.CharField(max_length=200)
    media_type = models.CharField(max_length=40)          # video/webm, audio/ogg, ...
    presence = models.ForeignKey("live.Presence", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")
    track = models.CharField(max_length=12, blank=True)   # audio, video, screen
    stream_started_at = models.DateTimeField(null=True, blank=True)
    plain_size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)              # of the plaintext
    segment_size = models.PositiveIntegerField()
    segment_count = models.PositiveIntegerField()
    duration_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "label"]
        constraints = [models.UniqueConstraint(fields=["recording", "store_name"],
                                               name="recording_file_store_name_unique")]

    def __str__(self) -> str:
        return f"{self.label} of {self.recording}"
