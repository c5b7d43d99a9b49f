"""School pages: policy, settings, roster, roster import, and adding or changing one
class or one pupil. Thin: parse, call one service, render or redirect. The school is
always the signed-in staff member's own."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from safeclass.accounts import access
from safeclass.accounts.access import roles_required

from . import services
from .forms import (
    GroupForm,
    PolicyEditForm,
    PupilForm,
    RosterUploadForm,
    SchoolSettingsForm,
    error_list,
)
from .models import Group, Pupil
from .roster_csv import RosterRow, parse_roster

# The roster import waiting for confirmation lives in the uploader's session, never in
# the confirming form: what is applied is what this server parsed and previewed.
_IMPORT_SESSION_KEY = "schools.roster_import"


def _add_service_errors(form: forms.Form, exc: services.SchoolInputRejected) -> None:
    """The service's errors on the form's fields (or the whole form), for the summary."""
    for error in exc.errors:
        form.add_error(error.field if error.field in form.fields else None, error.message)


def _roster_at(group: Group) -> str:
    """The roster page, scrolled to the class."""
    return f"{reverse('schools:roster')}#class-{group.pk}"


@require_GET
@login_required
def policy(request: HttpRequest) -> HttpResponse:
    school = request.user.school  # type: ignore[union-attr]
    version, rows = services.policy_overview(school)
    return render(request, "schools/policy.html", {
        "version": version, "rows": rows,
        "may_edit": request.user.has_role(*access.EDIT_POLICY),  # type: ignore[union-attr]
    })


@require_http_methods(["GET", "POST"])
@roles_required(*access.EDIT_POLICY)
def policy_edit(request: HttpRequest) -> HttpResponse:
    user = request.user
    school = user.school  # type: ignore[union-attr]
    version = services.current_policy(school)
    initial = PolicyEditForm.initial_from(services.policy_settings(version))
    form = PolicyEditForm(request.POST or None, initial=initial)
    rules: dict[str, str] = {}
    if request.method == "POST" and form.is_valid():
        try:
            new_version = services.do_edit_policy(
                school, form.to_settings(), actor=user,  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"])
        except services.PolicyEditRejected as exc:
            for violation in exc.violations:
                name = services.policy_form_field(violation.field or "")
                name = name if name in form.fields else "reason"
                form.add_error(name, violation.message)
                rules.setdefault(name, violation.rule)
        else:
            if new_version.pk == version.pk:
                messages.info(request, _("Nothing changed, so no new version was saved."))
            else:
                messages.success(request, _("Policy version {number} is now in force.").format(
                    number=new_version.number))
            return redirect("schools:policy")
    for name in form.errors:
        rules.setdefault(name, PolicyEditForm.rule_of_field(name))
    return render(request, "schools/policy_edit.html", {
        "form": form, "version": version, "errors": error_list(form, rules),
        "may_loosen": access.may_loosen_policy(user),  # type: ignore[arg-type]
    })


@require_GET
@login_required
def policy_history(request: HttpRequest) -> HttpResponse:
    school = request.user.school  # type: ignore[union-attr]
    return render(request, "schools/policy_history.html", {
        "history": services.policy_history(school)})


@require_http_methods(["GET", "POST"])
@roles_required(*access.MANAGE_SCHOOL)
def settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    school = user.school  # type: ignore[union-attr]
    initial = SchoolSettingsForm.initial_from(school, *services.school_schedule(school))
    form = SchoolSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.do_update_school_settings(
                school, actor=user,  # type: ignore[arg-type]
                name=data["name"], time_zone=data["time_zone"],
                email_domains=data["email_domains"], windows=data["windows"],
                terms=data["terms"], closures=data["closures"], language=data["language"],
                pupils_see_classmates=data["pupils_see_classmates"])
        except services.SchoolInputRejected as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("The school's settings are saved."))
            return redirect("schools:settings")
    return render(request, "schools/settings.html", {"form": form, "errors": error_list(form)})


@require_GET
@roles_required(*access.SEE_ROSTER)
def roster(request: HttpRequest) -> HttpResponse:
    user = request.user
    groups = (Group.objects.filter(school_id=user.school_id)  # type: ignore[union-attr]
              .prefetch_related(Prefetch("pupils", queryset=Pupil.objects.order_by(
                  "last_name", "first_name"))))
    show_contact = user.has_role(*access.SEE_PARENT_CONTACT)  # type: ignore[union-attr]
    may_manage = user.has_role(*access.MANAGE_SCHOOL)  # type: ignore[union-attr]
    return render(request, "schools/roster.html", {
        "groups": groups, "show_contact": show_contact, "may_manage": may_manage,
        "columns": 2 + 3 * show_contact + may_manage,
    })


@require_http_methods(["GET", "POST"])
@roles_required(*access.MANAGE_SCHOOL)
def group_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    school = user.school  # type: ignore[union-attr]
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.do_create_group(school, form.cleaned_data["name"],
                                             actor=user)  # type: ignore[arg-type]
        except services.SchoolInputRejected as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("Class “{name}” added.").format(name=group.name))
            return redirect(_roster_at(group))
    return render(request, "schools/group_form.html", {"form": form,
                                                       "errors": error_list(form)})


@require_http_methods(["GET", "POST"])
@roles_required(*access.MANAGE_SCHOOL)
def group_edit(request: HttpRequest, group_id: int) -> HttpResponse:
    user = request.user
    group = access.access_group_for_user(user, group_id)  # type: ignore[arg-type]
    form = GroupForm(request.POST or None, initial={"name": group.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.do_rename_group(group, form.cleaned_data["name"],
                                     actor=user)  # type: ignore[arg-type]
        except services.SchoolInputRejected as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("The class is now called “{name}”.").format(
                name=group.name))
            return redirect(_roster_at(group))
    return render(request, "schools/group_form.html", {"form": form, "group": group,
                                                       "errors": error_list(form)})


@require_http_methods(["GET", "POST"])
@roles_required(*access.MANAGE_SCHOOL)
def pupil_new(request: HttpRequest) -> HttpResponse:
    initial: dict[str, object] = {}
    if "group" in request.GET:
        # "Add a pupil" beside a class: that class chosen already.
        initial["group"] = access.access_group_for_user(
            request.user, request.GET["group"]).pk  # type: ignore[arg-type]
    return _pupil_page(request, None, initial)


@require_http_methods(["GET", "POST"])
@roles_required(*access.MANAGE_SCHOOL)
def pupil_edit(request: HttpRequest, pupil_id: int) -> HttpResponse:
    pupil = access.access_pupil_for_user(request.user, pupil_id)  # type: ignore[arg-type]
    return _pupil_page(request, pupil, PupilForm.initial_from(pupil))


def _pupil_page(request: HttpRequest, pupil: Pupil | None,
                initial: dict[str, object]) -> HttpResponse:
    user = request.user
    school = user.school  # type: ignore[union-attr]
    form = PupilForm(request.POST or None, initial=initial, school=school)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.do_create_or_update_pupil(
                school, actor=user, group=data["group"],  # type: ignore[arg-type]
                first_name=data["first_name"], last_name=data["last_name"],
                parent_name=data["parent_name"], parent_email=data["parent_email"],
                reference=data["reference"], pupil=pupil)
        except services.SchoolInputRejected as exc:
            _add_service_errors(form, exc)
        else:
            if pupil is None:
                messages.success(request, _("{name} added to {group}.").format(
                    name=saved.full_name, group=saved.group.name))
            else:
                messages.success(request, _("{name}'s details are saved.").format(
                    name=saved.full_name))
            return redirect(_roster_at(saved.group))
    return render(request, "schools/pupil_form.html", {
        "form": form, "errors": error_list(form), "pupil": pupil,
        "has_groups": Group.objects.filter(school=school).exists()})


@require_http_methods(["GET", "POST"])
@roles_required(*access.MANAGE_SCHOOL)
def roster_import(request: HttpRequest) -> HttpResponse:
    school = request.user.school  # type: ignore[union-attr]
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        parsed = parse_roster(upload.read())
        plan = services.plan_roster_import(school, parsed.rows) if parsed.ok else None
        errors = parsed.errors or (plan.errors if plan else [])
        context: dict[str, Any] = {"plan": plan, "file_errors": errors,
                                   "file_name": upload.name, "import_id": ""}
        request.session.pop(_IMPORT_SESSION_KEY, None)
        if plan is not None and not errors:
            import_id = secrets.token_urlsafe(16)
            request.session[_IMPORT_SESSION_KEY] = {
                "id": import_id, "school_id": school.pk, "file_name": upload.name,
                "digest": plan.digest, "rows": [r.to_json() for r in parsed.rows]}
            context["import_id"] = import_id
        return render(request, "schools/roster_preview.html", context)
    return render(request, "schools/roster_import.html", {"form": form,
                                                          "errors": error_list(form)})


@require_POST
@roles_required(*access.MANAGE_SCHOOL)
def roster_import_confirm(request: HttpRequest) -> HttpResponse:
    school = request.user.school  # type: ignore[union-attr]
    pending = request.session.get(_IMPORT_SESSION_KEY)
    if (not pending or not secrets.compare_digest(str(pending.get("id", "")),
                                                  request.POST.get("import_id", ""))
            or pending.get("school_id") != school.pk):
        messages.error(request, _("That preview has expired or was already imported. Upload "
                                  "the file again."))
        return redirect("schools:roster_import")
    request.session.pop(_IMPORT_SESSION_KEY)
    rows = [RosterRow.from_json(r) for r in pending["rows"]]
    try:
        plan = services.do_import_roster(school, rows, actor=request.user,  # type: ignore[arg-type]
                                         expected_digest=pending["digest"],
                                         file_name=pending["file_name"])
    except services.RosterImportRejected as exc:
        return render(request, "schools/roster_preview.html", {
            "plan": None, "file_errors": exc.errors, "file_name": pending["file_name"],
            "import_id": ""}, status=409)
    messages.success(request, _(
        "Roster imported: {created} pupils added, {updated} updated, {unchanged} unchanged, "
        "{groups} new classes.").format(created=len(plan.creates), updated=len(plan.updates),
                                         unchanged=len(plan.unchanged),
                                         groups=len(plan.new_groups)))
    return redirect("schools:roster")
