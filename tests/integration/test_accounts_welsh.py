"""allauth's pages in a Welsh school: SafeClass's own templates and words (allauth ships no
Welsh), so a page that says lang="cy" is in Welsh (WCAG 3.1.1), and it names things as the
rest of SafeClass does, "two-step sign-in" rather than "Two-Factor Authentication" (3.2.4).
"""

from __future__ import annotations

from html import unescape

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

# allauth's own English, which must not show on these pages any more.
ALLAUTH_ENGLISH = ["Two-Factor", "Authenticator App", "Confirm Access", "Change Password",
                   "Recovery Codes", "Please ", "Sign Out",
                   "Current Password", "New Password", "Incorrect"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate limits and used TOTP codes live in the cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def welsh_teacher(school, teacher):
    school.language = "cy"
    school.save(update_fields=["language"])
    return teacher


def _sign_in(client, email):
    # The browser asks for English: staff pages follow the school, not the browser.
    response = client.post(reverse("account_login"), {"login": email, "password": TEST_PASSWORD},
                           HTTP_ACCEPT_LANGUAGE="en-gb")
    assert response.status_code == 302
    return response


def _welsh(english: str) -> str:
    with translation.override("cy"):
        welsh = str(translation.gettext(english))
    assert welsh != english, f"no Welsh for {english!r}"
    return welsh


def _text(response) -> str:
    """The page's HTML with entities decoded (Django escapes the apostrophes of some
    Welsh words and not others)."""
    return unescape(response.content.decode())


def _page(client, url) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en-gb")
    assert response.status_code == 200, (url, response.status_code, response.get("Location"))
    html = _text(response)
    assert '<html lang="cy">' in html
    return html


def _no_allauth_english(html: str, url: str) -> None:
    found = [phrase for phrase in ALLAUTH_ENGLISH if phrase in html]
    assert found == [], f"{url}: allauth's English on a Welsh page: {found}"


def test_the_change_password_page_is_in_welsh(client, welsh_teacher):
    _sign_in(client, welsh_teacher.email)
    html = _page(client, reverse("account_change_password"))
    _no_allauth_english(html, "change password")
    assert "<h1>Newid eich cyfrinair</h1>" in html
    for label in ("Current password", "New password", "New password again"):
        assert f">{_welsh(label)}</label>" in html
    # Django's password rules, in Welsh from SafeClass's catalogue (forms.DJANGO_PASSWORD_WORDS).
    assert "Your password can’t" not in html and "Your password must" not in html
    assert _welsh("Your password can’t be entirely numeric.") in html


def test_the_change_password_errors_and_notice_are_in_welsh(client, welsh_teacher):
    _sign_in(client, welsh_teacher.email)
    url = reverse("account_change_password")
    response = client.post(url, {"oldpassword": "not it", "password1": "short1",
                                 "password2": "short2"})
    html = _text(response)
    _no_allauth_english(html, "change password, errors")
    assert "This password is too short" not in html  # Django's English
    assert _welsh("That is not your current password. Type the password you sign in with "
                  "now.") in html
    with translation.override("cy"):
        too_short = translation.ngettext(
            "This password is too short. It must contain at least %d character.",
            "This password is too short. It must contain at least %d characters.", 10) % 10
    assert too_short in html and "10" in too_short

    new = "a long new password for Wales 7"
    response = client.post(url, {"oldpassword": TEST_PASSWORD, "password1": new,
                                 "password2": new + "x"})
    assert _welsh("The two passwords are different. Type the same password in both boxes.") \
        in _text(response)
    response = client.post(url, {"oldpassword": TEST_PASSWORD, "password1": new,
                                 "password2": new}, follow=True)
    welsh_teacher.refresh_from_db()
    assert welsh_teacher.check_password(new)
    assert _welsh("Your password is changed.") in _text(response)
    assert "successfully" not in _text(response)


def test_the_two_step_sign_in_page_is_in_welsh_in_our_words(client, welsh_teacher):
    _sign_in(client, welsh_teacher.email)
    html = _page(client, reverse("mfa_index"))
    _no_allauth_english(html, "two-step sign-in")
    assert "<h1>Mewngofnodi dau gam</h1>" in html
    # The same words as "Your account" (accounts/security.html) uses.
    assert _welsh("Set up two-step sign-in") in html
    assert _welsh("Authenticator app") in html


def test_asking_for_the_password_again_is_in_welsh(client, welsh_teacher):
    _sign_in(client, welsh_teacher.email)
    html = _page(client, reverse("account_reauthenticate"))
    _no_allauth_english(html, "reauthenticate")
    assert f"<h1>{_welsh('Enter your password again')}</h1>" in html
    response = client.post(reverse("account_reauthenticate"), {"password": "not it"})
    html = _text(response)
    _no_allauth_english(html, "reauthenticate, wrong password")
    assert _welsh("That password is not right. Check it and try again.") in html


def test_setting_up_two_step_sign_in_is_in_welsh(client, welsh_teacher):
    _sign_in(client, welsh_teacher.email)
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    html = _page(client, reverse("mfa_activate_totp"))
    _no_allauth_english(html, "activate")
    assert f"<h1>{_welsh('Set up two-step sign-in')}</h1>" in html
    assert f">{_welsh('Code from your authenticator app')}</label>" in html
    assert 'placeholder="' not in html


def test_the_pages_for_someone_with_two_step_sign_in_are_in_welsh(client, welsh_teacher):
    TOTP.activate(welsh_teacher, generate_totp_secret())
    RecoveryCodes.activate(welsh_teacher)
    client.force_login(welsh_teacher)
    for url, heading in [(reverse("mfa_index"), "Two-step sign-in"),
                         (reverse("mfa_reauthenticate"),
                          "Enter a code from your authenticator app")]:
        html = _page(client, url)
        _no_allauth_english(html, url)
        assert f"<h1>{_welsh(heading)}</h1>" in html, url
    # Asking again offers the password instead, in Welsh.
    assert _welsh("Enter your password instead") in _page(client, reverse("mfa_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    for url, heading in [(reverse("mfa_view_recovery_codes"), "Your recovery codes"),
                         (reverse("mfa_deactivate_totp"), "Turn off two-step sign-in"),
                         (reverse("mfa_generate_recovery_codes"), "Make new recovery codes")]:
        html = _page(client, url)
        _no_allauth_english(html, url)
        assert f"<h1>{_welsh(heading)}</h1>" in html, url


def test_the_code_at_sign_in_follows_the_browser_and_signing_in_the_school(
        client, welsh_teacher):
    """Before the code the person is not signed in: the page is in the browser's language.
    Once signed in, the notice is in the school's, like the page that shows it."""
    TOTP.activate(welsh_teacher, generate_totp_secret())
    response = client.post(reverse("account_login"),
                           {"login": welsh_teacher.email, "password": TEST_PASSWORD},
                           HTTP_ACCEPT_LANGUAGE="cy")
    assert response["Location"] == reverse("mfa_authenticate")
    html = _text(client.get(reverse("mfa_authenticate"), HTTP_ACCEPT_LANGUAGE="cy"))
    assert '<html lang="cy">' in html
    _no_allauth_english(html, "authenticate")
    assert "<h1>Mewngofnodi dau gam</h1>" in html
    english = client.get(reverse("mfa_authenticate"),
                         HTTP_ACCEPT_LANGUAGE="en-gb").content.decode()
    assert "<h1>Two-step sign-in</h1>" in english


def test_the_signed_in_notice_is_in_the_schools_language(client, welsh_teacher):
    response = _sign_in(client, welsh_teacher.email)
    html = _text(client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en-gb"))
    with translation.override("cy"):
        signed_in = translation.gettext("You are signed in as %(name)s.") % {
            "name": welsh_teacher.full_name}
    assert signed_in in html
    assert "Successfully signed in" not in html
    # Signing out ends on the sign-in page, in the browser's language: so is its notice.
    response = client.post(reverse("account_logout"), HTTP_ACCEPT_LANGUAGE="en-gb",
                           follow=True)
    html = _text(response)
    assert '<html lang="en-gb">' in html and "You have signed out." in html


def test_the_password_reset_email_is_in_our_words(client, welsh_teacher, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": welsh_teacher.email},
                HTTP_ACCEPT_LANGUAGE="cy")
    (message,) = mailoutbox
    assert message.subject == _welsh("Reset your SafeClass password")  # no "[site]" prefix
    assert _welsh("Hello %(name)s,") % {"name": welsh_teacher.full_name} in message.body
    assert "/account/password/reset/key/" in message.body
    assert "Hello from" not in message.body and "Thank you for using" not in message.body
