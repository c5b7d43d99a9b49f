"""GET /api/v1/groups and /api/v1/pupils: the school's own classes and pupils only; parents'
contact details only for senior leaders and admins."""

from __future__ import annotations

import pytest

from tests import factories


def get(client, user, path, **params):
    raw = factories.make_api_token(user)
    return client.get(path, params, headers={"Authorization": f"Bearer {raw}"})


def test_it_lists_the_schools_classes_with_pupil_counts(client, teacher, group, school):
    factories.make_group(school, "Year 5 Ash", pupils=2)
    response = get(client, teacher, "/api/v1/groups")
    assert response.status_code == 200
    assert [(g["name"], g["pupil_count"]) for g in response.json()] == [
        ("Year 4 Oak", 4), ("Year 5 Ash", 2)]


def test_it_never_lists_another_schools_classes_or_pupils(client, outsider, group):
    assert get(client, outsider, "/api/v1/groups").json() == []
    assert get(client, outsider, "/api/v1/pupils").json() == []


def test_it_answers_not_found_for_another_schools_class(client, outsider, group):
    response = get(client, outsider, "/api/v1/pupils", group=group.pk)
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == "Not found."
    assert get(client, outsider, "/api/v1/pupils", group=999999).json() == response.json()


def test_it_lists_pupils_with_their_display_names(client, teacher, school):
    group = factories.make_group(school, "Year 3 Elm")
    factories.make_pupil(group, "Sam", "Brown")
    factories.make_pupil(group, "Sam", "Jones")
    factories.make_pupil(group, "Zoë", "O'Brien")
    factories.make_pupil(group, "<b>Nguyễn</b>", "Văn")
    pupils = get(client, teacher, "/api/v1/pupils").json()
    names = {(p["first_name"], p["last_name"]): p["display_name"] for p in pupils}
    assert names == {("Sam", "Brown"): "Sam B.", ("Sam", "Jones"): "Sam J.",
                     ("Zoë", "O'Brien"): "Zoë", ("<b>Nguyễn</b>", "Văn"): "<b>Nguyễn</b>"}
    assert all(p["group"] == {"id": group.pk, "name": "Year 3 Elm"} for p in pupils)


def test_it_filters_pupils_by_class(client, teacher, group, school):
    other = factories.make_group(school, "Year 5 Ash", pupils=2)
    pupils = get(client, teacher, "/api/v1/pupils", group=other.pk).json()
    assert len(pupils) == 2
    assert {p["group"]["id"] for p in pupils} == {other.pk}
    assert len(get(client, teacher, "/api/v1/pupils").json()) == 6


@pytest.mark.parametrize("who", ["slt", "admin", "deputy"])
def test_it_gives_parents_contact_details_to_senior_leaders_and_admins(client, request, who,
                                                                       group):
    (pupil, *_) = get(client, request.getfixturevalue(who), "/api/v1/pupils").json()
    assert pupil["parent_email"].endswith("@parents.example")
    assert pupil["parent_name"].startswith("Parent ")


@pytest.mark.parametrize("who", ["teacher", "head"])
def test_it_keeps_parents_contact_details_from_other_roles(client, request, who, group):
    pupils = get(client, request.getfixturevalue(who), "/api/v1/pupils").json()
    assert len(pupils) == 4
    for pupil in pupils:
        assert "parent_email" not in pupil and "parent_name" not in pupil


@pytest.mark.parametrize("path", ["/api/v1/groups", "/api/v1/pupils"])
def test_it_refuses_the_roster_to_a_staff_member_with_no_planning_role(client, ta, group, path):
    response = get(client, ta, path)
    assert response.status_code == 403
    (err,) = response.json()["errors"]
    assert err["message"] and err["rule"] is None
