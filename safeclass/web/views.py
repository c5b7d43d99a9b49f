from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from safeclass.lessons.models import BOOKED_STATUSES, Lesson, LessonStatus


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    upcoming = (Lesson.objects
                .filter(Q(host=user) | Q(second_staff=user), school_id=user.school_id,  # type: ignore[union-attr]
                        starts_at__gte=timezone.now(), status__in=BOOKED_STATUSES)
                .select_related("group", "host").order_by("starts_at")[:10])
    pending_count = 0
    if user.has_role("approver"):  # type: ignore[union-attr]
        pending_count = (Lesson.objects
                         .filter(school_id=user.school_id,  # type: ignore[union-attr]
                                 status=LessonStatus.PENDING_APPROVAL)
                         .exclude(requested_by=user).count())  # type: ignore[misc]
    return render(request, "web/home.html", {"upcoming": upcoming, "pending_count": pending_count})


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
