"""GET /policy: the school's policy in force, rule by rule."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from .auth import staff_user
from .errors_doc import READ_ERRORS
from .schemas import PolicyOut
from .serializers import policy_out

router = Router(tags=["policy"])


@router.get("/policy", response={200: PolicyOut, **READ_ERRORS},
            summary="The school's policy: every rule, its setting and whether it is enforced")
def get_policy(request: HttpRequest) -> dict[str, Any]:
    # Every member of staff may read the policy they work under.
    return policy_out(staff_user(request).school)
