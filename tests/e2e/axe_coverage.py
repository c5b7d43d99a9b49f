"""Which of the project's URL patterns the accessibility browser tests check with axe-core.

Every named URL pattern of the project is either in ``COVERED`` (the browser test in
``test_accessibility.py`` opens a page of it and runs axe there; the test asserts it
really did) or in ``EXCLUDED`` with the reason it serves no HTML page of its own.
``test_every_url_pattern_has_an_axe_check`` fails when a new pattern is in neither.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

#: Pattern name -> why no axe check runs on it. Keep each reason true.
EXCLUDED: dict[str, str] = {
    # Not HTML.
    "web:healthz": "health check for the load balancer: JSON, not a page",
    "live:janus_events": "Janus event handler: POST only, JSON in, 204 out",
    "accounts:calendar_feed": "the calendar feed: text/calendar (.ics), not a page",
    "recordings:media": "the player's video stream (byte ranges), not a page",
    "recordings:download": "POST: a WebM file download, not a page",
    "recordings:lesson_progress": "JSON the lesson page polls for the recording's progress",
    "accounts:keep_alive": "POST only, 204 and no page: the session timeout warning's "
                           "\"Stay signed in\" (the warning itself is checked in "
                           "test_session_timeout.py)",
    # POST-only actions that only redirect to a page checked elsewhere.
    "lessons:approve": "POST action; redirects to lessons:detail (checked)",
    "recordings:release_hold": "POST action; redirects to recordings:detail (checked)",
    "accounts:token_revoke": "POST action; redirects to accounts:security (checked)",
    "accounts:staff_resend": "POST action; redirects to accounts:staff_edit (checked)",
    "schools:roster_import_confirm": "POST action from the import preview; redirects to "
                                     "schools:roster (checked)",
    # allauth routes SafeClass never links to or uses (no sign-up, no email verification,
    # no login codes; password reset ends on pages with the same base template).
    "account_email": "allauth email management; SafeClass overrides it with "
                     "accounts:email_managed at the same address (checked)",
    "account_request_reauthentication_code": "allauth login codes: not enabled",
    "account_confirm_reauthentication_code": "allauth login codes: not enabled",
    "account_confirm_login_code": "allauth login codes: not enabled",
    "account_email_verification_sent": "email verification is off (ACCOUNT_EMAIL_VERIFICATION"
                                       " = 'none')",
    "account_confirm_email": "email verification is off",
    "account_set_password": "staff always have a password (set on activation)",
    "account_reset_password_from_key": "needs a real emailed key; allauth's stock form",
    "account_reset_password_from_key_done": "reached only after a reset from a key",
    "mfa_download_recovery_codes": "a text file download, not a page",
}

#: Patterns whose URL starts with one of these are not pages at all.
EXCLUDED_PREFIXES: dict[str, str] = {
    "api/v1/": "the JSON API (django-ninja): JSON, not pages",
    "^static/": "static files (CSS, JavaScript, images)",
}

#: Pattern names the browser test opens and checks with axe.
COVERED: frozenset[str] = frozenset({
    # signing in and the home page
    "account_login", "account_logout", "account_signup", "account_inactive",
    "account_reset_password", "account_reset_password_done", "account_change_password",
    "mfa_index", "mfa_activate_totp",
    # two-step sign-in, for someone who has it set up: the code (and a wrong one), asking
    # again, turning it off, the recovery codes and making new ones
    "mfa_authenticate", "mfa_reauthenticate", "mfa_deactivate_totp",
    "mfa_view_recovery_codes", "mfa_generate_recovery_codes",
    "account_reauthenticate", "web:home",
    # the staff member's own account, and staff management
    "accounts:security", "accounts:token_create", "accounts:calendar_new",
    "accounts:activate", "accounts:activate_set_password", "accounts:email_managed",
    "accounts:staff_list", "accounts:staff_new", "accounts:staff_edit",
    # the school
    "schools:settings", "schools:policy", "schools:policy_edit", "schools:policy_history",
    "schools:roster", "schools:roster_import", "schools:group_new", "schools:group_edit",
    "schools:pupil_new", "schools:pupil_edit",
    # lessons
    "lessons:mine", "lessons:request", "lessons:approvals", "lessons:detail", "lessons:edit",
    "lessons:cancel", "lessons:decline", "lessons:reissue", "lessons:export",
    # oversight
    "oversight:register", "oversight:audit", "live:holds", "live:clear_hold",
    "live:incidents",
    # recordings
    "recordings:list", "recordings:detail", "recordings:hold",
    # the parent's link and the pupil's join pages
    "invitations:open", "invitations:status", "live:join_check", "live:join_rules",
    "live:join_consent", "live:pupil_room",
    # the staff side of the live lesson (without media)
    "live:checklist", "live:staff_room",
})


def url_patterns() -> list[tuple[str, str | None]]:
    """Every URL pattern of the project as (route, name with namespace)."""
    found: list[tuple[str, str | None]] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str,
             namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(n for n in (namespace, pattern.namespace) if n) or None
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            else:
                name = pattern.name
                if name is not None and namespace:
                    name = f"{namespace}:{name}"
                found.append((prefix + str(pattern.pattern), name))

    walk(get_resolver().url_patterns, "", None)
    return found


def pages_to_check() -> set[str | None]:
    """The names of the patterns that must have an axe check (all but the excluded)."""
    return {name for route, name in url_patterns()
            if name not in EXCLUDED
            and not any(route.startswith(prefix) for prefix in EXCLUDED_PREFIXES)}
