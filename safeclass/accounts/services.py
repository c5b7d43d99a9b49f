"""Staff account actions: invite, activate, change roles, deactivate; API tokens and
calendar links.

Each state change is one `do_*` function: atomic, the acting user keyword-only, and the
audit event written in the same transaction. Every secret (activation link, API token,
calendar link) is made with `secrets`, handed back or emailed once, and stored only as
its SHA-256 hash.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from safeclass.audit.services import record
from safeclass.policy import RuleId, is_school_email
from safeclass.schools.models import School
from safeclass.schools.validators import name_problem, validate_person_name

from .models import (
    ActivationToken,
    ApiToken,
    CalendarFeed,
    Role,
    StaffRole,
    StaffUser,
    hash_secret,
    new_secret,
)

# An activation link works for a week: long enough for a half-term holiday, short enough
# that a forgotten email in a shared mailbox soon stops being a way in.
ACTIVATION_DAYS = 7
API_TOKEN_PREFIX = "sc_"
# Characters of the raw token shown in lists so people can tell their tokens apart.
API_TOKEN_DISPLAY_CHARS = 8
# Writing last_used_at on every API call would turn reads into writes; once a minute is
# plenty to answer "is this token still in use?".
LAST_USED_RESOLUTION = timedelta(minutes=1)
FULL_NAME_MAX_LENGTH = 200
API_TOKEN_NAME_MAX_LENGTH = 100


class AccountError(Exception):
    """A request this service refuses, naming the form field (and rule, if any)."""

    def __init__(self, field: str | None, message: str, rule: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.rule = rule


# --- checks shared by forms and services -------------------------------------------------

def school_account_message(school: School) -> str:
    domains = school.email_domains
    if not domains:
        return _("Staff accounts must use a school email address, and this school has no "
                 "email domains set up yet ({rule}).").format(rule=RuleId.SCHOOL_ACCOUNT)
    endings = " " + _("or") + " "
    listed = endings.join(f"@{d}" for d in domains)
    return _("Staff accounts must use a school email address ending {domains} "
             "({rule})").format(domains=listed, rule=RuleId.SCHOOL_ACCOUNT)


def clean_staff_email(school: School, email: str) -> str:
    """The address as stored (trimmed, lower case), or AccountError naming the rule."""
    value = email.strip()
    try:
        validate_email(value)
    except ValidationError:
        raise AccountError("email", _("Enter a valid email address, like name@school.example."),
                           ) from None
    # Exact domain match, ASCII only: no subdomains, no look-alike letters.
    if not is_school_email(value, school.email_domains):
        raise AccountError("email", school_account_message(school), RuleId.SCHOOL_ACCOUNT)
    return value.lower()


def clean_full_name(name: str) -> str:
    try:
        validate_person_name(name, max_length=FULL_NAME_MAX_LENGTH)
    except ValidationError as exc:
        raise AccountError("full_name", exc.messages[0]) from None
    return name.strip()


def clean_roles(roles: Iterable[str]) -> list[str]:
    chosen = sorted(set(roles))
    unknown = [r for r in chosen if r not in Role.values]
    if unknown:
        raise AccountError("roles", _("Unknown role: {roles}.").format(roles=", ".join(unknown)))
    if not chosen:
        raise AccountError("roles", _("Choose at least one role."))
    return chosen


def _role_list(user: StaffUser) -> list[str]:
    return sorted(user.role_grants.values_list("role", flat=True))


# --- staff accounts ----------------------------------------------------------------------

def _issue_activation(user: StaffUser, *, invited_by: StaffUser | None) -> str:
    """Make a fresh activation link, retire the old ones, and email it to the mailbox."""
    now = timezone.now()
    ActivationToken.objects.filter(user=user, used_at__isnull=True,
                                   expires_at__gt=now).update(expires_at=now)
    raw = new_secret()
    expires_at = now + timedelta(days=ACTIVATION_DAYS)
    ActivationToken.objects.create(user=user, token_hash=hash_secret(raw), expires_at=expires_at)
    link = settings.BASE_URL + reverse("accounts:activate", args=[raw])
    context = {"user": user, "school": user.school, "link": link, "expires_at": expires_at,
               "invited_by": invited_by, "days": ACTIVATION_DAYS}
    subject = render_to_string("accounts/email/activation_subject.txt", context).strip()
    body = render_to_string("accounts/email/activation_message.txt", context)
    # Sent inside the transaction: if the mail server refuses, no account is left behind
    # without a link, and the admin sees the error.
    send_mail(subject, body, None, [user.email])
    return raw


@transaction.atomic
def do_invite_staff(school: School, *, full_name: str, email: str, roles: Iterable[str],
                    actor: StaffUser) -> StaffUser:
    """Create an inactive account and email an activation link to its school mailbox."""
    name = clean_full_name(full_name)
    address = clean_staff_email(school, email)
    chosen = clean_roles(roles)
    if StaffUser.objects.filter(email__iexact=address).exists():
        raise AccountError("email", _("There is already a SafeClass account for {email}.")
                           .format(email=address))
    try:
        with transaction.atomic():
            user = StaffUser.objects.create_user(email=address, password=None, full_name=name,
                                                 school=school, is_active=False)
    except IntegrityError:
        raise AccountError("email", _("There is already a SafeClass account for {email}.")
                           .format(email=address)) from None
    StaffRole.objects.bulk_create([StaffRole(user=user, role=r) for r in chosen])
    record("staff.invited", actor=actor, school=school, obj=user,
           data={"email": address, "full_name": name, "roles": chosen})
    _issue_activation(user, invited_by=actor)
    return user


@transaction.atomic
def do_resend_activation(user: StaffUser, *, actor: StaffUser) -> None:
    """A new activation link; the old ones stop working. Also re-opens a deactivated
    account: it becomes active only when its owner follows the link."""
    user = StaffUser.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        raise AccountError(None, _("{name} has already activated their account.")
                           .format(name=user.full_name))
    _issue_activation(user, invited_by=actor)
    record("staff.activation_sent", actor=actor, school=user.school, obj=user,
           data={"email": user.email})


def valid_activation_token(token_hash: str) -> ActivationToken | None:
    """The unused, unexpired activation token with this hash, or None."""
    return (ActivationToken.objects.select_related("user", "user__school")
            .filter(token_hash=token_hash, used_at__isnull=True,
                    expires_at__gt=timezone.now()).first())


@transaction.atomic
def do_activate_account(token: ActivationToken, password: str) -> StaffUser:
    """Set the password chosen by the mailbox's owner and switch the account on.

    The token is locked and checked again here, so two tabs cannot both use it.
    """
    locked = (ActivationToken.objects.select_for_update()
              .filter(pk=token.pk, used_at__isnull=True, expires_at__gt=timezone.now()).first())
    if locked is None:
        raise AccountError(None, activation_failed_message())
    user = StaffUser.objects.select_for_update().get(pk=locked.user_id)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise AccountError("password1", " ".join(exc.messages)) from None
    was_deactivated = user.deactivated_at is not None
    user.set_password(password)
    user.is_active = True
    user.deactivated_at = None
    user.save(update_fields=["password", "is_active", "deactivated_at"])
    now = timezone.now()
    locked.used_at = now
    locked.save(update_fields=["used_at"])
    # Any other link still in the mailbox is now pointless: retire it.
    ActivationToken.objects.filter(user=user, used_at__isnull=True).exclude(
        pk=locked.pk).update(expires_at=now)
    record("staff.activated", actor=user, school=user.school, obj=user,
           data={"reactivated": was_deactivated})
    return user


def activation_failed_message() -> str:
    return _("This activation link does not work any more. Ask your school's SafeClass admin "
             "for a new one.")


@transaction.atomic
def do_change_roles(user: StaffUser, roles: Iterable[str], *, actor: StaffUser) -> StaffUser:
    chosen = clean_roles(roles)
    before = _role_list(user)
    if user.pk == actor.pk and Role.ADMIN in before and Role.ADMIN not in chosen:
        # Keeps at least one admin: nobody can lock the whole school out of this page.
        raise AccountError("roles", _("You cannot remove your own admin role. Ask another "
                                      "admin to do it."))
    if before == chosen:
        return user
    StaffRole.objects.filter(user=user).exclude(role__in=chosen).delete()
    StaffRole.objects.bulk_create([StaffRole(user=user, role=r) for r in chosen
                                   if r not in before])
    user.forget_roles()
    record("staff.roles_changed", actor=actor, school=user.school, obj=user,
           data={"before": before, "after": chosen})
    return user


@transaction.atomic
def do_rename_staff(user: StaffUser, full_name: str, *, actor: StaffUser) -> StaffUser:
    name = clean_full_name(full_name)
    if name == user.full_name:
        return user
    before = user.full_name
    user.full_name = name
    user.save(update_fields=["full_name"])
    record("staff.renamed", actor=actor, school=user.school, obj=user,
           data={"before": before, "after": name})
    return user


@transaction.atomic
def do_edit_staff(user: StaffUser, *, full_name: str, roles: Iterable[str],
                  actor: StaffUser) -> StaffUser:
    """Name and roles together: both are saved or neither is."""
    do_rename_staff(user, full_name, actor=actor)
    return do_change_roles(user, roles, actor=actor)


@transaction.atomic
def do_deactivate_staff(user: StaffUser, *, actor: StaffUser) -> StaffUser:
    """Switch an account off: no sign-in, no API tokens, no calendar link, no pending
    activation links. Existing sessions end too (Django refuses inactive users)."""
    if user.pk == actor.pk:
        raise AccountError(None, _("You cannot deactivate your own account. Ask another "
                                   "admin to do it."))
    user = StaffUser.objects.select_for_update().get(pk=user.pk)
    if user.deactivated_at is not None:
        return user
    now = timezone.now()
    was_active = user.is_active
    user.is_active = False
    user.deactivated_at = now
    user.set_unusable_password()
    user.save(update_fields=["is_active", "deactivated_at", "password"])
    ActivationToken.objects.filter(user=user, used_at__isnull=True).update(expires_at=now)
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    CalendarFeed.objects.filter(user=user).delete()
    record("staff.deactivated", actor=actor, school=user.school, obj=user,
           data={"was_active": was_active, "api_tokens_revoked": revoked})
    return user


# --- API tokens --------------------------------------------------------------------------

def clean_token_name(name: str) -> str:
    value = name.strip()
    if not value:
        raise AccountError("name", _("Give the token a name, such as “Timetable sync”."))
    if len(value) > API_TOKEN_NAME_MAX_LENGTH:
        raise AccountError("name", _("The name is too long: at most {limit} characters.")
                           .format(limit=API_TOKEN_NAME_MAX_LENGTH))
    # Same characters refused as in people's names: the name is shown in lists.
    problem = name_problem(value, max_length=API_TOKEN_NAME_MAX_LENGTH)
    if problem is not None:
        raise AccountError("name", problem)
    return value


@transaction.atomic
def do_create_api_token(user: StaffUser, name: str, *, actor: StaffUser,
                        via: str = "web") -> tuple[ApiToken, str]:
    """A new personal API token. The raw value is returned once and never stored."""
    if not user.is_active:
        raise AccountError(None, _("Only an active account can have API tokens."))
    clean_name = clean_token_name(name)
    raw = API_TOKEN_PREFIX + new_secret()
    token = ApiToken.objects.create(user=user, name=clean_name, token_hash=hash_secret(raw),
                                    prefix=raw[:API_TOKEN_DISPLAY_CHARS])
    record("api_token.created", actor=actor, school=user.school, obj=token,
           data={"name": clean_name, "prefix": token.prefix, "owner": user.email, "via": via})
    return token, raw


@transaction.atomic
def do_revoke_api_token(token: ApiToken, *, actor: StaffUser) -> ApiToken:
    token = ApiToken.objects.select_for_update().select_related("user", "user__school").get(
        pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record("api_token.revoked", actor=actor, school=token.user.school, obj=token,
           data={"name": token.name, "prefix": token.prefix, "owner": token.user.email})
    return token


def authenticate_api_token(raw: str) -> StaffUser | None:
    """The active staff member a bearer token belongs to, or None.

    Looked up by hash, so timing says nothing about the secret. Revoked tokens and
    inactive accounts are refused.
    """
    if not raw or not raw.startswith(API_TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (ApiToken.objects.select_related("user", "user__school")
             .filter(token_hash=hash_secret(raw), revoked_at__isnull=True,
                     user__is_active=True).first())
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # A plain UPDATE, not an audited action: use is not a change of state.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- calendar link -----------------------------------------------------------------------

@transaction.atomic
def do_create_calendar_link(user: StaffUser, *, actor: StaffUser) -> str:
    """A new secret calendar address; the previous one stops working. Returns the raw
    token (the URL is built from it) once."""
    if not user.is_active:
        raise AccountError(None, _("Only an active account can have a calendar link."))
    raw = new_secret()
    replaced = CalendarFeed.objects.filter(user=user).exists()
    CalendarFeed.objects.update_or_create(
        user=user, defaults={"token_hash": hash_secret(raw), "created_at": timezone.now()})
    record("calendar.link_created", actor=actor, school=user.school, obj=user,
           data={"replaced_previous": replaced})
    return raw


def calendar_user_for(raw: str) -> StaffUser | None:
    """The active staff member whose calendar this secret opens, or None."""
    if not raw or len(raw) > 200:
        return None
    feed = (CalendarFeed.objects.select_related("user", "user__school")
            .filter(token_hash=hash_secret(raw), user__is_active=True).first())
    return feed.user if feed else None


def calendar_url(raw: str) -> str:
    return settings.BASE_URL + reverse("accounts:calendar_feed", args=[raw])
