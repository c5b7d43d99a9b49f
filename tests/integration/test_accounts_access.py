"""Who may open each accounts page: the whole matrix in one place.

Staff management is for the school's admins only; every other role at the school gets
403, another school's admin gets 404 for our staff, anonymous visitors are sent to sign
in, and state-changing addresses refuse GET.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from safeclass.accounts.models import StaffUser

pytestmark = pytest.mark.django_db

NON_ADMIN_ROLES = ["teacher", "ta", "head", "deputy", "slt"]


@pytest.fixture
def waiting(school):
    from tests import factories

    return factories.make_staff(school, "waiting@school.example", ("teacher",), "Wai Ting",
                                active=False)


def _staff_pages(member: StaffUser) -> list[tuple[str, str]]:
    return [
        ("get", reverse("accounts:staff_list")),
        ("get", reverse("accounts:staff_new")),
        ("post", reverse("accounts:staff_new")),
        ("get", reverse("accounts:staff_edit", args=[member.pk])),
        ("post", reverse("accounts:staff_edit", args=[member.pk])),
        ("post", reverse("accounts:staff_resend", args=[member.pk])),
    ]


def test_it_lets_an_admin_open_every_staff_page(client, admin, waiting):
    client.force_login(admin)
    for method, url in _staff_pages(waiting):
        response = getattr(client, method)(url, {})
        assert response.status_code in (200, 302), (method, url, response.status_code)


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_it_refuses_staff_pages_to_every_other_role(client, request, role, waiting):
    client.force_login(request.getfixturevalue(role))
    for method, url in _staff_pages(waiting):
        response = getattr(client, method)(url, {"full_name": "X", "roles": ["admin"],
                                                 "action": "deactivate"})
        assert response.status_code == 403, (role, method, url)
    waiting.refresh_from_db()
    assert waiting.full_name == "Wai Ting"
    assert waiting.deactivated_at is None


def test_it_hides_our_staff_from_another_schools_admin(client, outsider, waiting):
    client.force_login(outsider)
    for method, url in _staff_pages(waiting)[3:]:
        response = getattr(client, method)(url, {"full_name": "X", "roles": ["admin"],
                                                 "action": "deactivate"})
        assert response.status_code == 404, (method, url)
    waiting.refresh_from_db()
    assert waiting.deactivated_at is None
    # Their own list does not include us.
    html = client.get(reverse("accounts:staff_list")).content.decode()
    assert "waiting@school.example" not in html


def test_it_answers_404_for_staff_that_do_not_exist(client, admin):
    client.force_login(admin)
    assert client.get(reverse("accounts:staff_edit", args=[999999])).status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in_everywhere(client, teacher, waiting):
    pages = [*_staff_pages(waiting),
             ("get", reverse("accounts:security")),
             ("post", reverse("accounts:token_create")),
             ("post", reverse("accounts:token_revoke", args=[1])),
             ("post", reverse("accounts:calendar_new")),
             ("get", reverse("account_email")),
             ("get", reverse("mfa_index"))]
    for method, url in pages:
        response = getattr(client, method)(url)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("account_login")), (method, url)


def test_it_refuses_get_on_every_post_only_address(client, admin, waiting):
    client.force_login(admin)
    for url in [reverse("accounts:staff_resend", args=[waiting.pk]),
                reverse("accounts:token_create"),
                reverse("accounts:token_revoke", args=[1]),
                reverse("accounts:calendar_new")]:
        assert client.get(url).status_code == 405, url


def test_it_leaves_activation_and_the_feed_open_without_sign_in(client, school):
    # They carry their own secret; unknown secrets get 404, never a sign-in page.
    assert client.get(reverse("accounts:activate", args=["unknown"])).status_code == 404
    assert client.get(reverse("accounts:activate_set_password")).status_code == 404
    assert client.get(reverse("accounts:calendar_feed", args=["unknown"])).status_code == 404
