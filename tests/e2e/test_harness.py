"""The browser-test harness checks itself: a passing accessibility check must mean axe
really ran, and the app server must be the isolated one the harness started."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.e2e.conftest import axe_violations, format_violations


def test_it_reports_violations_axe_finds(page: Page) -> None:
    page.goto("/account/login/")
    # Break the page on purpose: an unlabelled field and an image without a text alternative.
    page.evaluate("""() => {
        const main = document.getElementById('main');
        main.insertAdjacentHTML('beforeend', '<input id="broken-field" type="text">');
        main.insertAdjacentHTML('beforeend', '<img id="broken-image" src="/static/none.png">');
    }""")

    violations = axe_violations(page)

    ids = {v["id"] for v in violations}
    assert {"label", "image-alt"} <= ids
    report = format_violations(violations, page.url)
    assert "label (critical)" in report and "#broken-field" in report


def test_it_runs_the_app_on_its_own_database_and_mailbox(app_server) -> None:
    assert app_server.base_url.startswith("http://127.0.0.1:")
    assert str(app_server.workdir) in app_server.env["SAFECLASS_DATABASE_URL"]
    assert "Oakfield Primary (demo)" in app_server.seed_output
    counts = app_server.django(
        "from safeclass.schools.models import School, Pupil\n"
        "result = [School.objects.filter(name='Oakfield Primary (demo)').count(),"
        " Pupil.objects.filter(school__name='Oakfield Primary (demo)').count()]")
    # (The demo school only: other tests sharing this server add schools and pupils.)
    assert counts == [1, 24]
    school = app_server.all_week_school()
    assert school["teacher"] == "teacher@allweek.example"
    assert app_server.all_week_school() == school  # made once per session
