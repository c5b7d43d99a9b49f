"""GET /groups and GET /pupils: the school's classes and pupils."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpRequest
from ninja import P, QueryEx, Router

from safeclass.accounts.access import (
    SEE_PARENT_CONTACT,
    SEE_ROSTER,
    access_group_for_user,
    require_role,
)
from safeclass.schools.models import Group, Pupil

from .auth import staff_user
from .errors_doc import OBJECT_ERRORS, READ_ERRORS
from .schemas import GroupOut, PupilOut
from .serializers import pupils_out

router = Router(tags=["roster"])


@router.get("/groups", response={200: list[GroupOut], **READ_ERRORS},
            summary="The school's classes")
def list_groups(request: HttpRequest) -> list[dict[str, Any]]:
    user = staff_user(request)
    require_role(user, SEE_ROSTER)
    groups = (Group.objects.filter(school_id=user.school_id)
              .annotate(pupil_count=Count("pupils")).order_by("name"))
    return [{"id": g.pk, "name": g.name, "pupil_count": g.pupil_count} for g in groups]


@router.get("/pupils", response={200: list[PupilOut], **OBJECT_ERRORS}, exclude_none=True,
            summary="The school's pupils, optionally of one class")
def list_pupils(request: HttpRequest,
                group: QueryEx[int | None, P(description="Only pupils of this class (id)")] = None,
                ) -> list[dict[str, Any]]:
    user = staff_user(request)
    require_role(user, SEE_ROSTER)
    pupils = Pupil.objects.filter(school_id=user.school_id).select_related("group")
    if group is not None:
        # Another school's class is "not found", like one that does not exist.
        pupils = pupils.filter(group=access_group_for_user(user, group))
    pupils = pupils.order_by("group__name", "last_name", "first_name", "pk")
    return pupils_out(pupils, with_contact=user.has_role(*SEE_PARENT_CONTACT))
