"""Adding or renaming one class, and adding or changing one pupil, from the roster page:
the school's admin only, other schools' pupils and classes answer 404, every change
audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from safeclass.audit.models import AuditEvent
from safeclass.schools.models import Group, Pupil
from tests import factories

pytestmark = pytest.mark.django_db

GOOD_PUPIL = {"first_name": "Zoë", "last_name": "O'Brien", "parent_name": "Siobhan O'Brien",
              "parent_email": "siobhan@parents.example", "reference": "A001"}


def _pupil_data(group: Group, **changes: str) -> dict[str, object]:
    return {**GOOD_PUPIL, "group": group.pk, **changes}


def _summary_links(response) -> list[str]:
    return [e["field"] for e in response.context["errors"]]


# -- the roster page links ----------------------------------------------------------------


def test_the_roster_links_to_adding_and_changing_for_the_admin(client, admin, group):
    client.force_login(admin)
    html = client.get(reverse("schools:roster")).content.decode()
    assert f'href="{reverse("schools:group_new")}"' in html
    assert f'href="{reverse("schools:pupil_new")}"' in html
    assert f'href="{reverse("schools:pupil_new")}?group={group.pk}"' in html
    assert f'href="{reverse("schools:group_edit", args=[group.pk])}"' in html
    assert f'id="class-{group.pk}"' in html
    for pupil in group.pupils.all():
        assert f'href="{reverse("schools:pupil_edit", args=[pupil.pk])}"' in html
        assert f'<span class="visually-hidden"> {pupil.full_name}</span>' in html


def test_the_roster_has_no_change_links_for_other_roles(client, teacher, slt, group):
    for user in (teacher, slt):
        client.force_login(user)
        html = client.get(reverse("schools:roster")).content.decode()
        assert reverse("schools:group_new") not in html
        assert reverse("schools:pupil_new") not in html
        assert "/school/roster/pupils/" not in html


@pytest.mark.parametrize("role", ["teacher", "approver", "slt", "dsl", "staff"])
def test_only_the_admin_may_open_or_post_the_forms(client, school, group, role):
    user = factories.make_staff(school, f"{role}-x@school.example", (role,))
    client.force_login(user)
    pupil = group.pupils.first()
    for url in (reverse("schools:group_new"), reverse("schools:pupil_new"),
                reverse("schools:group_edit", args=[group.pk]),
                reverse("schools:pupil_edit", args=[pupil.pk])):
        assert client.get(url).status_code == 403
    assert client.post(reverse("schools:group_new"), {"name": "Year 6"}).status_code == 403
    assert client.post(reverse("schools:group_edit", args=[group.pk]),
                       {"name": "Year 6"}).status_code == 403
    response = client.post(reverse("schools:pupil_edit", args=[pupil.pk]),
                           _pupil_data(group, first_name="Changed"))
    assert response.status_code == 403
    assert not Group.objects.filter(name="Year 6").exists()
    assert not Pupil.objects.filter(first_name="Changed").exists()


def test_it_sends_anonymous_visitors_to_sign_in(client, group):
    response = client.get(reverse("schools:pupil_new"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# -- a class -------------------------------------------------------------------------------


def test_it_shows_a_labelled_class_form(client, admin):
    client.force_login(admin)
    response = client.get(reverse("schools:group_new"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label class="label" for="id_name">Class name</label>' in html
    assert reverse("schools:roster") in html
    assert "<script>" not in html and "style=" not in html


def test_it_adds_a_class_and_audits_it(client, school, admin):
    client.force_login(admin)
    response = client.post(reverse("schools:group_new"), {"name": "  Year 5 Ash  "})
    group = Group.objects.get(school=school)
    assert group.name == "Year 5 Ash"
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('schools:roster')}#class-{group.pk}"
    event = AuditEvent.objects.get(action="group.created")
    assert event.actor == admin and event.school == school
    assert event.data == {"name": "Year 5 Ash"}
    page = client.get(response["Location"]).content.decode()
    assert "Class “Year 5 Ash” added." in page


@pytest.mark.parametrize(("name", "words"), [
    ("", "Enter the class's name."),
    ("year 4 OAK", "There is already a class called “year 4 OAK”."),
    ("Year\u202e4", "changes the direction of text"),
    ("x" * 101, "at most 100 characters"),
])
def test_it_refuses_a_bad_class_name_with_an_error_summary(client, school, admin, group,
                                                          name, words):
    client.force_login(admin)
    response = client.post(reverse("schools:group_new"), {"name": name})
    assert response.status_code == 200
    html = response.content.decode()
    assert words in html.replace("&#x27;", "'")
    assert _summary_links(response) == ["name"]
    assert 'href="#id_name"' in html
    assert "<title>Error:" in html
    assert Group.objects.filter(school=school).count() == 1
    assert not AuditEvent.objects.filter(action="group.created").exists()


def test_it_renames_a_class_and_audits_it(client, school, admin, group):
    client.force_login(admin)
    url = reverse("schools:group_edit", args=[group.pk])
    page = client.get(url).content.decode()
    assert 'value="Year 4 Oak"' in page and "Rename Year 4 Oak" in page
    response = client.post(url, {"name": "Year 4 Birch"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('schools:roster')}#class-{group.pk}"
    group.refresh_from_db()
    assert group.name == "Year 4 Birch"
    event = AuditEvent.objects.get(action="group.renamed")
    assert event.actor == admin
    assert event.data == {"before": "Year 4 Oak", "after": "Year 4 Birch"}


def test_renaming_a_class_to_its_own_name_writes_nothing(client, admin, group):
    client.force_login(admin)
    response = client.post(reverse("schools:group_edit", args=[group.pk]),
                           {"name": "Year 4 Oak"})
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="group.renamed").exists()


def test_it_refuses_to_rename_a_class_to_another_classes_name(client, school, admin, group):
    factories.make_group(school, "Year 5 Ash")
    client.force_login(admin)
    response = client.post(reverse("schools:group_edit", args=[group.pk]),
                           {"name": "year 5 ash"})
    assert response.status_code == 200
    assert _summary_links(response) == ["name"]
    assert "There is already a class called “year 5 ash”." in response.content.decode()
    group.refresh_from_db()
    assert group.name == "Year 4 Oak"


# -- a pupil -------------------------------------------------------------------------------


def test_it_shows_a_labelled_pupil_form_with_the_class_chosen(client, admin, group):
    factories.make_group(admin.school, "Year 6 Elm")
    client.force_login(admin)
    response = client.get(reverse("schools:pupil_new") + f"?group={group.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("first_name", "last_name", "group", "parent_name", "parent_email",
                 "reference"):
        assert f'for="id_{name}"' in html
    assert f'<option value="{group.pk}" selected>Year 4 Oak</option>' in html
    assert 'type="email"' in html


def test_it_asks_for_a_class_first_when_there_is_none(client, admin):
    client.force_login(admin)
    html = client.get(reverse("schools:pupil_new")).content.decode()
    assert "there are no classes yet" in html
    assert f'href="{reverse("schools:group_new")}"' in html
    assert 'name="first_name"' not in html


def test_it_adds_a_pupil_and_audits_it(client, school, admin, group):
    client.force_login(admin)
    response = client.post(reverse("schools:pupil_new"), _pupil_data(group))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('schools:roster')}#class-{group.pk}"
    pupil = Pupil.objects.get(school=school, reference="A001")
    assert (pupil.first_name, pupil.last_name, pupil.group) == ("Zoë", "O'Brien", group)
    event = AuditEvent.objects.get(action="pupil.created")
    assert event.actor == admin
    assert event.data["group"] == "Year 4 Oak"
    assert event.data["parent_email"] == "siobhan@parents.example"
    page = client.get(response["Location"]).content.decode()
    assert "Zoë O&#x27;Brien added to Year 4 Oak." in page


def test_it_changes_a_pupil_and_audits_only_what_changed(client, school, admin, group):
    other = factories.make_group(school, "Year 5 Ash")
    pupil = group.pupils.first()
    client.force_login(admin)
    url = reverse("schools:pupil_edit", args=[pupil.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert f'value="{pupil.first_name}"' in page.content.decode()
    response = client.post(url, {"first_name": pupil.first_name, "last_name": "Smith",
                                 "group": other.pk, "parent_name": pupil.parent_name,
                                 "parent_email": pupil.parent_email, "reference": ""})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('schools:roster')}#class-{other.pk}"
    pupil.refresh_from_db()
    assert (pupil.last_name, pupil.group) == ("Smith", other)
    event = AuditEvent.objects.get(action="pupil.updated")
    assert event.actor == admin
    assert set(event.data["changes"]) == {"last_name", "group"}
    assert event.data["changes"]["group"] == {"before": "Year 4 Oak", "after": "Year 5 Ash"}


def test_saving_an_unchanged_pupil_writes_no_audit_event(client, admin, group):
    pupil = group.pupils.first()
    client.force_login(admin)
    response = client.post(reverse("schools:pupil_edit", args=[pupil.pk]), {
        "first_name": pupil.first_name, "last_name": pupil.last_name, "group": group.pk,
        "parent_name": pupil.parent_name, "parent_email": pupil.parent_email,
        "reference": ""})
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="pupil.updated").exists()


def test_it_lists_every_pupil_problem_linked_to_its_field(client, school, admin, group):
    client.force_login(admin)
    response = client.post(reverse("schools:pupil_new"), {
        "first_name": "", "last_name": "O'Brien", "group": "", "parent_name": "Pat",
        "parent_email": "not-an-email", "reference": ""})
    assert response.status_code == 200
    assert _summary_links(response) == ["first_name", "group", "parent_email"]
    html = response.content.decode()
    assert "Enter the pupil&#x27;s first name." in html
    assert "Choose the pupil&#x27;s class." in html
    assert "such as name@example.com." in html
    assert 'href="#id_first_name"' in html and 'href="#id_group"' in html
    assert not Pupil.objects.filter(last_name="O'Brien").exists()


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"parent_email": "not-an-email"}, "parent_email", "such as name@example.com"),
    ({"first_name": "Sam\u202e"}, "first_name", "changes the direction of text"),
    ({"parent_name": "Pat\tJones"}, "parent_name", "control character"),
    ({"reference": "R1"}, "reference", "Another pupil already has the reference R1."),
])
def test_it_shows_the_services_reasons_on_the_right_field(client, school, admin, group,
                                                          changes, field, words):
    taken = group.pupils.first()
    taken.reference = "R1"
    taken.save()
    client.force_login(admin)
    response = client.post(reverse("schools:pupil_new"), _pupil_data(group, **changes))
    assert response.status_code == 200
    [error] = response.context["errors"]
    assert error["field"] == field
    assert words in error["message"]
    assert Pupil.objects.filter(school=school).count() == 4
    assert not AuditEvent.objects.filter(action="pupil.created").exists()


def test_it_refuses_another_schools_class_as_a_choice(client, school, admin, other_school):
    factories.make_group(school, "Year 4 Oak")
    theirs = factories.make_group(other_school, "Their class")
    client.force_login(admin)
    response = client.post(reverse("schools:pupil_new"), _pupil_data(theirs))
    assert response.status_code == 200
    assert _summary_links(response) == ["group"]
    assert not Pupil.objects.filter(reference="A001").exists()
    assert "Their class" not in client.get(reverse("schools:pupil_new")).content.decode()


def test_another_schools_pupil_or_class_is_not_found(client, admin, other_school):
    theirs = factories.make_group(other_school, "Their class", pupils=1)
    pupil = theirs.pupils.get()
    client.force_login(admin)
    edit = reverse("schools:pupil_edit", args=[pupil.pk])
    assert client.get(edit).status_code == 404
    assert client.post(edit, _pupil_data(theirs, first_name="Hacked")).status_code == 404
    assert client.get(reverse("schools:pupil_new") + f"?group={theirs.pk}").status_code == 404
    assert client.get(reverse("schools:pupil_new") + "?group=nonsense").status_code == 404
    assert client.get(reverse("schools:pupil_edit", args=[999999])).status_code == 404
    rename = reverse("schools:group_edit", args=[theirs.pk])
    assert client.get(rename).status_code == 404
    assert client.post(rename, {"name": "Hacked"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Their class"
    pupil.refresh_from_db()
    assert pupil.first_name != "Hacked"


def test_names_are_escaped_on_the_forms(client, admin, school):
    group = factories.make_group(school, "<b>Bold</b> class")
    pupil = factories.make_pupil(group, first_name="<i>Zo</i>")
    client.force_login(admin)
    html = client.get(reverse("schools:pupil_edit", args=[pupil.pk])).content.decode()
    assert "<i>Zo</i>" not in html and "<b>Bold</b>" not in html
    assert "&lt;i&gt;Zo&lt;/i&gt;" in html
