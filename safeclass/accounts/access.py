"""Every access check in one place.

Views and API handlers fetch objects only through these helpers. "Does not exist" and
"belongs to another school" give the same 404, so nobody can probe for other schools'
objects; a role that may not act gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

if TYPE_CHECKING:
    from safeclass.accounts.models import ApiToken, StaffUser
    from safeclass.invitations.models import Invitation
    from safeclass.lessons.models import Lesson
    from safeclass.live.models import RemovalHold
    from safeclass.recordings.models import Recording, RecordingFile
    from safeclass.schools.models import Group, Pupil

View = TypeVar("View", bound=Callable[..., HttpResponse])

# Who may do what. One line per permission so each is visibly tested.
REQUEST_LESSON = ("teacher",)
DECIDE_LESSON = ("approver",)
SEE_ALL_LESSONS = ("slt", "admin", "approver", "dsl")
READ_AUDIT = ("slt", "dsl")
EDIT_POLICY = ("approver",)
LOOSEN_POLICY = ("approver",)  # and also the head: see may_loosen_policy
MANAGE_SCHOOL = ("admin",)
MANAGE_INVITATIONS = ("teacher", "approver", "slt", "admin")
MANAGE_STAFF = ("admin",)
# Pupils' names and classes: staff who plan or oversee lessons. A "staff" member alone (a
# second adult) sees the pupils of their own lessons only.
SEE_ROSTER = ("teacher", "approver", "slt", "dsl", "admin")
# Parents' names and email addresses: only those who run the school's records and its
# follow-up with families.
SEE_PARENT_CONTACT = ("slt", "admin")
# Removal holds: SLT see and clear them (removal-hold); the DSL sees them too.
SEE_HOLDS = ("slt", "dsl")
CLEAR_HOLDS = ("slt",)
# Incidents from live lessons: the head (approver) and the DSL, and SLT.
SEE_INCIDENTS = ("approver", "dsl", "slt")
# Lesson recordings: the lesson's host, and SLT and the DSL of its school, watch and
# download; nobody else (not other teachers, admins, approvers, pupils or parents). Only
# the DSL keeps a recording past retention with a hold (child-protection records).
WATCH_ALL_RECORDINGS = ("slt", "dsl")
HOLD_RECORDINGS = ("dsl",)


def require_role(user: StaffUser, roles: tuple[str, ...]) -> None:
    if not user.is_authenticated or not user.has_role(*roles):
        raise PermissionDenied


def roles_required(*roles: str) -> Callable[[View], View]:
    """Decorator for page views: sign-in first, then one of the roles."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            require_role(request.user, roles)  # type: ignore[arg-type]
            return view(request, *args, **kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorator


def may_loosen_policy(user: StaffUser) -> bool:
    # Loosening needs the head's role: an approver who is also the DSL (the head in the
    # design's table) — a nominated approver alone cannot loosen.
    return user.has_role("approver") and user.has_role("dsl")


def may_see_lesson(user: StaffUser, lesson: Lesson) -> bool:
    if lesson.school_id != user.school_id:
        return False
    if user.has_role(*SEE_ALL_LESSONS):
        return True
    return user.pk in (lesson.host_id, lesson.second_staff_id, lesson.requested_by_id)


def may_edit_lesson(user: StaffUser, lesson: Lesson) -> bool:
    return lesson.school_id == user.school_id and (
        user.pk in (lesson.host_id, lesson.requested_by_id) or user.has_role("approver"))


def may_manage_invitations(user: StaffUser, lesson: Lesson) -> bool:
    if lesson.school_id != user.school_id:
        return False
    if user.pk in (lesson.host_id, lesson.second_staff_id):
        return True
    return user.has_role("approver", "slt", "admin")


def access_lesson_for_user(user: StaffUser, lesson_id: int | str) -> Lesson:
    from safeclass.lessons.models import Lesson

    try:
        lesson = Lesson.objects.select_related(
            "school", "host", "second_staff", "group", "policy_version").get(pk=int(lesson_id))
    except (Lesson.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not may_see_lesson(user, lesson):
        raise Http404
    return lesson


def access_group_for_user(user: StaffUser, group_id: int | str) -> Group:
    from safeclass.schools.models import Group

    try:
        return Group.objects.get(pk=int(group_id), school_id=user.school_id)
    except (Group.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_pupil_for_user(user: StaffUser, pupil_id: int | str) -> Pupil:
    from safeclass.schools.models import Pupil

    try:
        return Pupil.objects.select_related("group").get(pk=int(pupil_id),
                                                         school_id=user.school_id)
    except (Pupil.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_staff_for_user(user: StaffUser, staff_id: int | str) -> StaffUser:
    """A staff member of the user's own school (the caller checks the role)."""
    from safeclass.accounts.models import StaffUser

    try:
        return StaffUser.objects.get(pk=int(staff_id), school_id=user.school_id)
    except (StaffUser.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_api_token_for_user(user: StaffUser, token_id: int | str) -> ApiToken:
    """One of the user's own API tokens: nobody else's, whatever their role."""
    from safeclass.accounts.models import ApiToken

    try:
        return ApiToken.objects.get(pk=int(token_id), user_id=user.pk)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# ---------------------------------------------------------------------- the live lesson


def may_staff_lesson(user: StaffUser, lesson: Lesson) -> bool:
    """Who may be in the lesson room as staff: its host and its second adult, no one else
    (senior leaders see the lesson's records, not its pupils' faces)."""
    return (user.is_authenticated and lesson.school_id == user.school_id
            and user.pk in (lesson.host_id, lesson.second_staff_id))


def access_room_for_staff(user: StaffUser, lesson_id: int | str) -> Lesson:
    """The lesson whose room a staff member opens: 404 unless they may see it at all,
    403 unless they are its host or second adult."""
    lesson = access_lesson_for_user(user, lesson_id)
    if not may_staff_lesson(user, lesson):
        raise PermissionDenied
    return lesson


JOIN_SESSION_KEY = "join.invitations"  # the same key invitations.views stores links under


def access_invitation_for_session(session: Any, public_id: str) -> Invitation | None:
    """The invitation a parent's browser holds (its join link swapped for this session),
    or None. Pages answer None with the one "link does not work" page; the WebSocket
    closes. Whether the link still works *now* is link_state's business."""
    from safeclass.invitations.models import Invitation

    if not isinstance(public_id, str) or public_id not in session.get(JOIN_SESSION_KEY, []):
        return None
    return (Invitation.objects.select_related("lesson", "lesson__school", "pupil")
            .filter(public_id=public_id).first())


def access_hold_for_user(user: StaffUser, hold_id: int | str) -> RemovalHold:
    """A removal hold of the user's own school (the caller checks the role): the same 404
    for another school's hold as for none."""
    from safeclass.live.models import RemovalHold

    try:
        return (RemovalHold.objects
                .select_related("school", "pupil", "pupil__group", "lesson", "placed_by")
                .get(pk=int(hold_id), school_id=user.school_id))
    except (RemovalHold.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --------------------------------------------------------------------------- recordings


def may_watch_recording(user: StaffUser, recording: Recording) -> bool:
    """The host of the recorded lesson, or SLT / the DSL of its school."""
    if not user.is_authenticated or recording.school_id != user.school_id:
        return False
    return user.has_role(*WATCH_ALL_RECORDINGS) or user.pk == recording.lesson.host_id


def may_hold_recording(user: StaffUser, recording: Recording) -> bool:
    return may_watch_recording(user, recording) and user.has_role(*HOLD_RECORDINGS)


def may_list_recordings(user: StaffUser) -> bool:
    """Who has a recordings page: SLT and the DSL (the school's), teachers (the lessons
    they hosted), and anyone else who hosted a recorded lesson."""
    from safeclass.recordings.models import Recording

    if not user.is_authenticated:
        return False
    if user.has_role(*WATCH_ALL_RECORDINGS, "teacher"):
        return True
    return Recording.objects.filter(school_id=user.school_id, lesson__host_id=user.pk).exists()


def access_recording_for_user(user: StaffUser, public_id: Any) -> Recording:
    """A recording the user may watch: the same 404 for one that does not exist, one of
    another school and one of a lesson they did not host (unless SLT or DSL)."""
    import uuid

    from safeclass.recordings.models import Recording

    try:
        key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
        recording = (Recording.objects
                     .select_related("school", "lesson", "lesson__host", "held_by")
                     .get(public_id=key, school_id=user.school_id))
    except (Recording.DoesNotExist, ValueError, TypeError, AttributeError):
        raise Http404 from None
    if not may_watch_recording(user, recording):
        raise Http404
    return recording


def access_recording_file_for_user(user: StaffUser, public_id: Any,
                                   file_id: int | str) -> RecordingFile:
    """One stored file of a recording the user may watch (404 as above, and for a file
    of another recording)."""
    from safeclass.recordings.models import RecordingFile

    recording = access_recording_for_user(user, public_id)
    try:
        found = RecordingFile.objects.get(pk=int(file_id), recording_id=recording.pk)
    except (RecordingFile.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    found.recording = recording
    return found
