"""Request and response shapes of /api/v1 (they make the OpenAPI document too)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import AwareDatetime, ConfigDict, StrictBool, StrictInt, field_validator


class StrictSchema(Schema):
    # Unknown fields are refused rather than ignored: a misspelt "second_staf" silently
    # dropped would produce a lesson the client did not ask for.
    model_config = ConfigDict(extra="forbid")


# Errors ----------------------------------------------------------------------------------

class ErrorOut(Schema):
    rule: str | None = Field(description="Policy rule id (or check id) that was broken, or null")
    message: str = Field(description="What is wrong and how to put it right, in plain words")
    field: str | None = Field(None, description="The request field at fault, or null")


class ErrorsOut(Schema):
    errors: list[ErrorOut]


# Shared references -----------------------------------------------------------------------

class PersonOut(Schema):
    email: str
    name: str


class GroupRef(Schema):
    id: int
    name: str


class PupilRef(Schema):
    id: int
    display_name: str


# Policy ----------------------------------------------------------------------------------

class LoosenedOut(Schema):
    by: str = Field(description="Who loosened it")
    at: datetime
    reason: str = Field(description="The reason they wrote")
    version: int = Field(description="The policy version that loosened it")


class RuleOut(Schema):
    id: str
    title: str
    clause: str = Field(description="The policy document's words, quoted exactly")
    plain: str
    setting_kind: Literal["switch", "minutes", "count", "days", "school"]
    setting: bool | int = Field(description="On (true) / off (false), or the number it uses")
    setting_text: str = Field(description="The setting in words, with the school's own values "
                                          "(email domains, lesson times) where it uses them")
    enforced: Literal["enforced", "not yet enforced"]
    loosened: bool = Field(description="Whether the school runs this rule less strictly than "
                                       "the policy document's default")
    loosening: LoosenedOut | None = Field(
        None, description="The latest loosening of this rule, while it is loosened")


class CheckOut(Schema):
    id: str
    plain: str


class PolicyOut(Schema):
    version: int
    version_created_at: datetime
    rules: list[RuleOut]
    other_checks: list[CheckOut] = Field(
        description="Checks made on every lesson request that are not policy rules and "
                    "cannot be switched off")


# Roster ----------------------------------------------------------------------------------

class GroupOut(Schema):
    id: int
    name: str
    pupil_count: int


class PupilOut(Schema):
    id: int
    first_name: str
    last_name: str
    display_name: str = Field(description="What the pupil is called in lessons")
    group: GroupRef
    parent_name: str | None = Field(None, description="Only for senior leaders and admins")
    parent_email: str | None = Field(None, description="Only for senior leaders and admins")


# Lessons ---------------------------------------------------------------------------------

Status = Literal["pending_approval", "approved", "declined", "cancelled", "live", "ended"]


class LessonOut(Schema):
    id: int
    title: str
    status: Status
    status_label: str
    starts_at: datetime = Field(description="UTC, ISO 8601 with Z")
    ends_at: datetime
    duration_minutes: int
    host: PersonOut
    second_staff: PersonOut | None
    group: GroupRef | None
    pupils: list[PupilRef]
    recorded: bool
    policy_version: int = Field(description="The policy version the request was checked under")
    requested_by: PersonOut
    decided_by: PersonOut | None
    decided_at: datetime | None
    decline_reason: str
    created_at: datetime


class LessonIn(StrictSchema):
    # Checked by the lessons service (length, control and text-direction characters).
    title: str
    group: StrictInt | None = Field(None, description="A class id: every pupil in it is invited")
    pupils: list[StrictInt] | None = Field(None, description="Pupil ids (instead of group)")
    starts_at: AwareDatetime = Field(description="ISO 8601 with a UTC offset")
    # Bounded only against absurd input: the school's limit is the policy's max-duration,
    # which reports 0 or 10000 as a rule violation.
    duration_minutes: StrictInt = Field(ge=-100_000, le=100_000)
    second_staff: str | None = Field(None, description="Email of the second member of staff")
    recorded: StrictBool

    @field_validator("starts_at", mode="before")
    @classmethod
    def starts_at_is_text(cls, value: object) -> object:
        # ISO 8601 text only: pydantic would otherwise read a bare number as a Unix time.
        if not isinstance(value, str):
            raise ValueError("starts_at must be an ISO 8601 date and time with a UTC offset, "
                             "for example 2030-03-04T10:00:00+00:00 or 2030-03-04T10:00:00Z.")
        return value


class DeclineIn(StrictSchema):
    # Checked by the lessons service: not empty, not too long.
    reason: str = Field(description="Why, in words the teacher will read")



class InvitationsIn(StrictSchema):
    pupils: list[StrictInt] | None = Field(
        None, description="Pupil ids invited to the lesson; empty or missing: all of them")
    send_email: StrictBool = Field(
        False, description="Also email each new link to the pupil's parent or carer")


class IssuedLinkOut(Schema):
    pupil: int
    display_name: str
    join_url: str
