"""Welsh: the catalogue is complete (no untranslated or fuzzy entries, placeholders kept),
a Welsh school's pages are in Welsh, and a parent can switch the join pages to English and
back. The Welsh text awaits review by a Welsh speaker (docs/translation.md)."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from safeclass.lessons.services import do_approve_lesson
from tests import factories

PO_FILE = Path(settings.BASE_DIR) / "safeclass" / "locale" / "cy" / "LC_MESSAGES" / "django.po"
START = datetime(2030, 6, 4, 10, 0, tzinfo=UTC)
BEFORE = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
# %(name)s, %(counter)d, %s, and str.format's {name}.
PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[sdif]|%[sdif]|\{[A-Za-z_]\w*\}")


def read_po(text: str) -> list[dict]:
    """The entries of a .po file: flags, msgid, msgid_plural and msgstr by index."""
    entries: list[dict] = []
    entry: dict | None = None
    key: tuple[str, int] | None = None
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if entry is not None and "msgid" in entry:
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry if entry is not None else {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert key is not None, line
            value = ast.literal_eval(line)
            if key[0] == "msgstr":
                entry["msgstr"][key[1]] += value
            else:
                entry[key[0]] += value
        else:
            match = re.fullmatch(r'(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])? (".*")', line)
            assert match, line
            name, index, value = match.groups()
            key = (name, int(index or 0))
            if name == "msgstr":
                entry["msgstr"][key[1]] = ast.literal_eval(value)
            else:
                entry[name] = ast.literal_eval(value)
    return entries


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    return [e for e in read_po(PO_FILE.read_text(encoding="utf-8")) if e["msgid"]]


def test_the_welsh_catalogue_exists_and_uses_the_welsh_plural_forms():
    header = read_po(PO_FILE.read_text(encoding="utf-8"))[0]
    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    assert "Language: cy\n" in header["msgstr"][0]
    assert "nplurals=4;" in header["msgstr"][0]


def test_every_entry_is_translated_and_none_is_fuzzy(entries):
    assert len(entries) > 100
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert fuzzy == []
    untranslated = []
    for e in entries:
        forms = 4 if "msgid_plural" in e else 1
        if any(not e["msgstr"].get(i, "").strip() for i in range(forms)):
            untranslated.append(e["msgid"])
    assert untranslated == []


def test_placeholders_are_the_same_in_english_and_welsh(entries):
    wrong = []
    for e in entries:
        singular = sorted(PLACEHOLDER.findall(e["msgid"]))
        if "msgid_plural" not in e:
            if sorted(PLACEHOLDER.findall(e["msgstr"][0])) != singular:
                wrong.append(e["msgid"])
            continue
        plural = set(PLACEHOLDER.findall(e["msgid_plural"]))
        # Form 0 is for n == 1 only: like the English singular, it may leave out the count.
        if not set(PLACEHOLDER.findall(e["msgstr"][0])) <= plural:
            wrong.append(e["msgid"])
        for i in (1, 2, 3):
            if set(PLACEHOLDER.findall(e["msgstr"][i])) != plural:
                wrong.append(e["msgid_plural"])
    assert wrong == []


# Pages ------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def welsh_link(school, teacher, ta, deputy, group, django_capture_on_commit_callbacks):
    school.language = "cy"
    school.save(update_fields=["language"])
    with time_machine.travel(BEFORE, tick=False):
        lesson = factories.make_requested_lesson(teacher, group, second_staff=ta, starts_at=START)
        with django_capture_on_commit_callbacks(execute=True):
            links = do_approve_lesson(lesson, actor=deputy)
    return links[0].join_url.rstrip("/").rsplit("/", 1)[-1]


def open_link(client, token):
    with time_machine.travel(BEFORE, tick=False):
        first = client.get(reverse("invitations:open", args=[token]))
        assert first.status_code == 302
        return first["Location"], client.get(first["Location"])


@pytest.mark.django_db
def test_a_welsh_schools_join_page_is_in_welsh_and_the_parent_can_switch(client, welsh_link):
    status_url, page = open_link(client, welsh_link)
    html = page.content.decode()
    assert '<html lang="cy">' in html
    assert "Mae'r wers hon yn agor am" in html  # "This lesson opens at"
    assert "This lesson opens at" not in html
    # The switch: two links (the join pages send no referrer, so a POST form would fail
    # CSRF's origin check in browsers).
    assert 'href="?language=en-gb" lang="en-gb"' in html
    assert 'href="?language=cy" lang="cy" hreflang="cy" aria-current="true"' in html

    with time_machine.travel(BEFORE, tick=False):
        switched = client.get(f"{status_url}?language=en-gb")
        assert switched.status_code == 302 and switched["Location"] == status_url
        assert switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en-gb"
        assert switched["Referrer-Policy"] == "no-referrer"
        english = client.get(status_url).content.decode()
    assert '<html lang="en-gb">' in english
    assert "This lesson opens at" in english
    assert 'href="?language=en-gb" lang="en-gb" hreflang="en-gb" aria-current="true"' in english

    with time_machine.travel(BEFORE, tick=False):
        client.get(f"{status_url}?language=cy")
        welsh = client.get(status_url).content.decode()
    assert "Mae'r wers hon yn agor am" in welsh


@pytest.mark.django_db
def test_an_unknown_language_changes_nothing(client, welsh_link):
    status_url, _ = open_link(client, welsh_link)
    with time_machine.travel(BEFORE, tick=False):
        response = client.get(f"{status_url}?language=fr")
        assert response.status_code == 302 and response["Location"] == status_url
        assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
        assert "Mae'r wers hon yn agor am" in client.get(status_url).content.decode()


@pytest.mark.django_db
def test_an_english_schools_join_page_stays_english(client, school, teacher, ta, deputy, group,
                                                     django_capture_on_commit_callbacks):
    with time_machine.travel(BEFORE, tick=False):
        lesson = factories.make_requested_lesson(teacher, group, second_staff=ta, starts_at=START)
        with django_capture_on_commit_callbacks(execute=True):
            links = do_approve_lesson(lesson, actor=deputy)
    token = links[0].join_url.rstrip("/").rsplit("/", 1)[-1]
    _, page = open_link(client, token)
    html = page.content.decode()
    assert '<html lang="en-gb">' in html
    assert "This lesson opens at" in html
    assert 'href="?language=cy"' in html  # the switch is on every join page


@pytest.mark.django_db
def test_staff_pages_follow_their_schools_language_not_the_browser(client, school, teacher):
    client.force_login(teacher)
    english = client.get(reverse("web:home"), HTTP_ACCEPT_LANGUAGE="cy").content.decode()
    assert "Sign out" in english and "Allgofnodi" not in english
    school.language = "cy"
    school.save(update_fields=["language"])
    welsh = client.get(reverse("web:home")).content.decode()
    assert '<html lang="cy">' in welsh
    assert "Allgofnodi" in welsh
    # Staff pages carry no language switch, and ignore it: the school chose.
    assert "?language=" not in welsh
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en-gb"
    assert "Allgofnodi" in client.get(reverse("web:home")).content.decode()
