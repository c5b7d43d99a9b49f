"""Staff management by the school's admin: add (school-account rule), edit roles and name,
deactivate, resend activation. Every view for every kind of visitor."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from safeclass.accounts import services
from safeclass.accounts.models import (
    ActivationToken,
    ApiToken,
    CalendarFeed,
    StaffUser,
    hash_secret,
)
from safeclass.audit.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


def _invite(client, **overrides):
    data = {"full_name": "Nia Newteacher", "email": "nia@school.example", "roles": ["teacher"]}
    data.update(overrides)
    return client.post(reverse("accounts:staff_new"), data)


# --- the staff list -----------------------------------------------------------------------

def test_it_lists_the_schools_staff_with_roles_and_status(client, admin, teacher, head,
                                                          outsider):
    factories.make_staff(admin.school, "waiting@school.example", ("staff",), "Wendy Waiting",
                         active=False)
    client.force_login(admin)
    response = client.get(reverse("accounts:staff_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tess Teacher" in html and "teacher@school.example" in html
    assert "Approver, Safeguarding lead" in html
    assert "Waiting for activation" in html and "Active" in html
    assert "Otto Outsider" not in html


def test_it_escapes_names_in_the_staff_list(client, admin):
    factories.make_staff(admin.school, "b@school.example", ("staff",), "<b>Bold</b> O'Brien")
    client.force_login(admin)
    html = client.get(reverse("accounts:staff_list")).content.decode()
    assert "<b>Bold</b>" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt; O&#x27;Brien" in html


def test_it_refuses_the_staff_list_to_a_teacher(client, teacher):
    client.force_login(teacher)
    assert client.get(reverse("accounts:staff_list")).status_code == 403


def test_it_sends_anonymous_visitors_to_sign_in(client, school):
    response = client.get(reverse("accounts:staff_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- adding a staff member ----------------------------------------------------------------

def test_it_shows_the_new_staff_form(client, admin):
    client.force_login(admin)
    response = client.get(reverse("accounts:staff_new"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label class="label" for="id_full_name">' in html
    assert "<legend>Roles</legend>" in html
    assert "@school.example" in html


def test_it_creates_an_inactive_account_and_emails_an_activation_link(client, admin):
    client.force_login(admin)
    response = _invite(client, roles=["teacher", "staff"], email="Nia@School.Example")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:staff_list")
    user = StaffUser.objects.get(email="nia@school.example")
    assert not user.is_active
    assert not user.has_usable_password()
    assert user.school == admin.school
    assert user.roles == {"teacher", "staff"}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nia@school.example"]
    link = re.search(r"http://\S+/account/activate/(\S+)/", message.body)
    assert link is not None
    raw = link.group(1)
    token = ActivationToken.objects.get(user=user)
    # Only the hash is stored, and it is the hash of what was emailed.
    assert token.token_hash == hash_secret(raw)
    assert raw not in token.token_hash
    lifetime = token.expires_at - token.created_at
    assert timedelta(days=7) - timedelta(seconds=5) < lifetime <= timedelta(days=7)
    event = AuditEvent.objects.get(action="staff.invited")
    assert event.actor == admin
    assert event.object_id == str(user.pk)
    assert event.data["roles"] == ["staff", "teacher"]


@pytest.mark.parametrize("email", [
    "nia@evil-school.example",
    "nia@school.example.evil.com",
    "nia@sub.school.example",
    "nia@xschool.example",
    "nia@school.examplE.",
    "nia@ſchool.example",
])
def test_it_refuses_emails_outside_the_schools_domain(client, admin, email):
    client.force_login(admin)
    response = _invite(client, email=email)
    assert response.status_code == 200
    html = response.content.decode()
    assert ("Staff accounts must use a school email address ending @school.example "
            "(school-account)") in html or "Enter a valid email address" in html
    assert not StaffUser.objects.filter(full_name="Nia Newteacher").exists()
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(action="staff.invited").exists()


def test_it_names_the_rule_in_the_exact_words(school, admin):
    with pytest.raises(services.AccountError) as exc:
        services.do_invite_staff(school, full_name="Eve", email="eve@evil-school.example",
                                 roles=["teacher"], actor=admin)
    assert exc.value.rule == "school-account"
    assert exc.value.field == "email"
    assert exc.value.message == ("Staff accounts must use a school email address ending "
                                 "@school.example (school-account)")


def test_it_uses_the_demo_schools_domain_in_the_message(db):
    oak = factories.make_school(name="Oakfield", domain="oakfield.example")
    oak_admin = factories.make_staff(oak, "admin@oakfield.example", ("admin",))
    with pytest.raises(services.AccountError) as exc:
        services.do_invite_staff(oak, full_name="Eve", email="eve@oakfield.example.evil.com",
                                 roles=["teacher"], actor=oak_admin)
    assert str(exc.value) == ("Staff accounts must use a school email address ending "
                              "@oakfield.example (school-account)")


def test_it_accepts_any_of_several_school_domains(db):
    two = factories.make_school(name="Two", domain="one.example,two.example")
    two_admin = factories.make_staff(two, "admin@one.example", ("admin",))
    user = services.do_invite_staff(two, full_name="Ann", email="ann@two.example",
                                    roles=["teacher"], actor=two_admin)
    assert user.email == "ann@two.example"


@pytest.mark.parametrize("name", ["Sam\u202eevil", "Sam\u2066x", "Sam\u200fx", "Sam\nSmith",
                                  "Sam\x00", "   "])
def test_it_refuses_names_with_control_or_direction_characters(client, admin, name):
    client.force_login(admin)
    response = _invite(client, full_name=name)
    assert response.status_code == 200
    assert 'href="#id_full_name"' in response.content.decode()
    assert not StaffUser.objects.filter(email="nia@school.example").exists()


@pytest.mark.parametrize("name", ["Siobhán O'Brien", "Zoë Nguyễn", "<b>Bold</b>"])
def test_it_stores_unusual_names_as_given(client, admin, name):
    client.force_login(admin)
    assert _invite(client, full_name=name).status_code == 302
    assert StaffUser.objects.get(email="nia@school.example").full_name == name


def test_it_requires_at_least_one_role(client, admin):
    client.force_login(admin)
    response = _invite(client, roles=[])
    assert "Choose at least one role." in response.content.decode()
    assert 'href="#id_roles_0"' in response.content.decode()
    assert not StaffUser.objects.filter(email="nia@school.example").exists()


def test_it_refuses_a_duplicate_email(client, admin, teacher):
    client.force_login(admin)
    response = _invite(client, email="TEACHER@school.example")
    assert "There is already a SafeClass account for teacher@school.example." in \
        response.content.decode()
    assert StaffUser.objects.filter(email__iexact="teacher@school.example").count() == 1


def test_it_lists_every_problem_at_once(client, admin):
    client.force_login(admin)
    response = _invite(client, full_name="", email="x@evil.example", roles=[])
    html = response.content.decode()
    assert "There are 3 problems" in html


def test_it_refuses_adding_staff_to_a_teacher(client, teacher):
    client.force_login(teacher)
    assert client.get(reverse("accounts:staff_new")).status_code == 403
    assert _invite(client).status_code == 403
    assert not StaffUser.objects.filter(email="nia@school.example").exists()


def test_it_refuses_adding_staff_to_anonymous_visitors(client, school):
    response = _invite(client)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not StaffUser.objects.filter(email="nia@school.example").exists()


def test_it_adds_nothing_if_the_email_cannot_be_sent(admin, settings):
    settings.EMAIL_BACKEND = "tests.integration.test_accounts_staff.BrokenBackend"
    with pytest.raises(OSError):
        services.do_invite_staff(admin.school, full_name="Nia", email="nia@school.example",
                                 roles=["teacher"], actor=admin)
    assert not StaffUser.objects.filter(email="nia@school.example").exists()
    assert not AuditEvent.objects.filter(action="staff.invited").exists()


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("mail server refused")


# --- editing ------------------------------------------------------------------------------

def test_it_changes_roles_and_audits_before_and_after(client, admin, teacher):
    client.force_login(admin)
    response = client.post(reverse("accounts:staff_edit", args=[teacher.pk]),
                           {"full_name": "Tess Teacher", "roles": ["teacher", "approver"]})
    assert response.status_code == 302
    teacher.forget_roles()
    assert teacher.roles == {"teacher", "approver"}
    event = AuditEvent.objects.get(action="staff.roles_changed")
    assert event.data == {"before": ["teacher"], "after": ["approver", "teacher"]}
    assert event.actor == admin
    assert not AuditEvent.objects.filter(action="staff.renamed").exists()


def test_it_renames_and_audits(client, admin, teacher):
    client.force_login(admin)
    client.post(reverse("accounts:staff_edit", args=[teacher.pk]),
                {"full_name": "Tess O'Teacher", "roles": ["teacher"]})
    teacher.refresh_from_db()
    assert teacher.full_name == "Tess O'Teacher"
    event = AuditEvent.objects.get(action="staff.renamed")
    assert event.data == {"before": "Tess Teacher", "after": "Tess O'Teacher"}
    assert not AuditEvent.objects.filter(action="staff.roles_changed").exists()


def test_it_saves_nothing_when_part_of_an_edit_is_bad(client, admin, teacher):
    client.force_login(admin)
    response = client.post(reverse("accounts:staff_edit", args=[teacher.pk]),
                           {"full_name": "Bad\u202ename", "roles": ["approver"]})
    assert response.status_code == 200
    teacher.refresh_from_db()
    teacher.forget_roles()
    assert teacher.full_name == "Tess Teacher"
    assert teacher.roles == {"teacher"}


def test_it_stops_an_admin_removing_their_own_admin_role(client, admin):
    client.force_login(admin)
    response = client.post(reverse("accounts:staff_edit", args=[admin.pk]),
                           {"full_name": "Ada Admin", "roles": ["teacher"]})
    assert response.status_code == 200
    assert "You cannot remove your own admin role" in response.content.decode()
    admin.forget_roles()
    assert admin.roles == {"admin"}
    assert not AuditEvent.objects.filter(action="staff.roles_changed").exists()


def test_it_lets_an_admin_add_roles_to_themselves(client, admin):
    client.force_login(admin)
    client.post(reverse("accounts:staff_edit", args=[admin.pk]),
                {"full_name": "Ada Admin", "roles": ["admin", "teacher"]})
    admin.forget_roles()
    assert admin.roles == {"admin", "teacher"}


def test_it_shows_the_edit_form(client, admin, teacher):
    client.force_login(admin)
    response = client.get(reverse("accounts:staff_edit", args=[teacher.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Tess Teacher"' in html
    assert 'value="teacher"' in html and "checked" in html
    assert "Deactivate Tess Teacher" in html


def test_it_hides_other_schools_staff(client, admin, outsider):
    client.force_login(admin)
    assert client.get(reverse("accounts:staff_edit", args=[outsider.pk])).status_code == 404
    response = client.post(reverse("accounts:staff_edit", args=[outsider.pk]),
                           {"full_name": "Hacked", "roles": ["teacher"]})
    assert response.status_code == 404
    assert client.post(reverse("accounts:staff_resend", args=[outsider.pk])).status_code == 404
    outsider.refresh_from_db()
    assert outsider.full_name == "Otto Outsider"


def test_it_refuses_editing_staff_to_a_teacher(client, teacher, teacher2):
    client.force_login(teacher)
    assert client.get(reverse("accounts:staff_edit", args=[teacher2.pk])).status_code == 403
    response = client.post(reverse("accounts:staff_edit", args=[teacher2.pk]),
                           {"full_name": "X", "roles": ["admin"]})
    assert response.status_code == 403
    teacher2.forget_roles()
    assert teacher2.roles == {"teacher"}


def test_it_refuses_editing_to_anonymous_visitors(client, teacher):
    response = client.get(reverse("accounts:staff_edit", args=[teacher.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- deactivating -------------------------------------------------------------------------

def test_it_deactivates_an_account_and_everything_it_holds(client, admin, teacher):
    _token, raw = services.do_create_api_token(teacher, "sync", actor=teacher)
    services.do_create_calendar_link(teacher, actor=teacher)
    teacher_client = type(client)()
    teacher_client.force_login(teacher)
    client.force_login(admin)
    response = client.post(reverse("accounts:staff_edit", args=[teacher.pk]),
                           {"action": "deactivate"})
    assert response.status_code == 302
    teacher.refresh_from_db()
    assert not teacher.is_active
    assert teacher.deactivated_at is not None
    assert teacher.account_status == "deactivated"
    assert not teacher.has_usable_password()
    assert services.authenticate_api_token(raw) is None
    assert ApiToken.objects.get(user=teacher).revoked_at is not None
    assert not CalendarFeed.objects.filter(user=teacher).exists()
    # Their open session ends.
    assert teacher_client.get(reverse("accounts:security")).status_code == 302
    event = AuditEvent.objects.get(action="staff.deactivated")
    assert event.actor == admin and event.data["api_tokens_revoked"] == 1
    assert "Deactivated" in client.get(reverse("accounts:staff_list")).content.decode()


def test_it_stops_an_admin_deactivating_themselves(client, admin):
    client.force_login(admin)
    response = client.post(reverse("accounts:staff_edit", args=[admin.pk]),
                           {"action": "deactivate"})
    assert response.status_code == 200
    assert "You cannot deactivate your own account" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


def test_it_refuses_deactivation_to_a_teacher(client, teacher, teacher2):
    client.force_login(teacher)
    response = client.post(reverse("accounts:staff_edit", args=[teacher2.pk]),
                           {"action": "deactivate"})
    assert response.status_code == 403
    teacher2.refresh_from_db()
    assert teacher2.is_active


# --- resending the activation link --------------------------------------------------------

def test_it_resends_a_link_and_the_old_one_stops_working(client, admin):
    client.force_login(admin)
    _invite(client)
    first = re.search(r"/account/activate/(\S+)/", mail.outbox[0].body).group(1)
    user = StaffUser.objects.get(email="nia@school.example")
    response = client.post(reverse("accounts:staff_resend", args=[user.pk]))
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == ["nia@school.example"]
    second = re.search(r"/account/activate/(\S+)/", mail.outbox[1].body).group(1)
    assert first != second
    anonymous = type(client)()
    assert anonymous.get(reverse("accounts:activate", args=[first])).status_code == 404
    assert anonymous.get(reverse("accounts:activate", args=[second])).status_code == 302
    assert AuditEvent.objects.filter(action="staff.activation_sent").count() == 1


def test_it_does_not_resend_to_an_active_account(client, admin, teacher):
    client.force_login(admin)
    response = client.post(reverse("accounts:staff_resend", args=[teacher.pk]), follow=True)
    assert "already activated" in response.content.decode()
    assert mail.outbox == []


def test_it_refuses_get_on_resend(client, admin, teacher):
    client.force_login(admin)
    assert client.get(reverse("accounts:staff_resend", args=[teacher.pk])).status_code == 405


def test_it_refuses_resend_to_a_teacher_and_to_anonymous(client, teacher, teacher2):
    waiting = factories.make_staff(teacher.school, "w@school.example", active=False)
    response = client.post(reverse("accounts:staff_resend", args=[waiting.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    client.force_login(teacher)
    assert client.post(reverse("accounts:staff_resend", args=[waiting.pk])).status_code == 403
    assert mail.outbox == []
