"""Django's error pages are SafeClass's own: in the reader's language, with the site's
header and a way home (Django's default 404 and 403 pages are bare English)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_missing_page_says_so_plainly_with_a_way_home(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "<h1>Page not found</h1>" in body
    assert 'href="/"' in body and 'class="skip-link"' in body


def test_a_missing_page_is_in_welsh_for_a_welsh_school(client: Client, school, teacher) -> None:
    school.language = "cy"
    school.save(update_fields=["language"])
    client.force_login(teacher)
    body = client.get("/no-such-page/").content.decode()
    assert '<html lang="cy">' in body
    assert "Page not found" not in body


def test_a_refused_page_says_so_without_saying_what_it_holds(client: Client, teacher) -> None:
    client.force_login(teacher)  # a teacher is not the school's administrator
    response = client.get("/account/staff/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "<h1>You cannot see this page</h1>" in body
    assert "administrator" in body
