"""Staff accounts, their roles, and the secrets that stand for them.

Every secret here (activation links, API tokens, calendar feed URLs) is 128+ bits from
`secrets`, shown once, and stored only as a SHA-256 hash: a leaked database does not
leak working links.
"""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_secret() -> str:
    """A URL-safe secret of 256 bits."""
    return secrets.token_urlsafe(32)


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Role(models.TextChoices):
    APPROVER = "approver", _("Approver")
    SLT = "slt", _("Senior leader")
    DSL = "dsl", _("Safeguarding lead")
    TEACHER = "teacher", _("Teacher")
    STAFF = "staff", _("Staff")
    ADMIN = "admin", _("Admin")


class StaffUserManager(BaseUserManager["StaffUser"]):
    def create_user(self, email: str, password: str | None = None, **extra: object) -> StaffUser:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None,
                         **extra: object) -> StaffUser:
        raise NotImplementedError("SafeClass has no superusers: give a staff member roles.")


class StaffUser(AbstractBaseUser, PermissionsMixin):
    """A member of a school's staff. Pupils and parents never have accounts."""

    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="staff")
    # Inactive until the person follows the activation link sent to the school mailbox.
    is_active = models.BooleanField(default=False)
    # Set when an admin switches the account off, so "waiting for activation" and
    # "deactivated" can be told apart; cleared when the person activates again.
    deactivated_at = models.DateTimeField(null=True, blank=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = StaffUserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.email

    # Django admin is not used; this keeps `is_staff` checks in third-party code false.
    @property
    def is_staff(self) -> bool:
        return False

    @property
    def roles(self) -> frozenset[str]:
        cached = getattr(self, "_roles_cache", None)
        if cached is None:
            cached = frozenset(self.role_grants.values_list("role", flat=True))
            self._roles_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def forget_roles(self) -> None:
        self.__dict__.pop("_roles_cache", None)

    @property
    def account_status(self) -> str:
        """"active", "waiting" (for activation from the mailbox) or "deactivated"."""
        if self.is_active:
            return "active"
        return "deactivated" if self.deactivated_at else "waiting"

    @property
    def account_status_label(self) -> str:
        labels = {"active": _("Active"), "waiting": _("Waiting for activation"),
                  "deactivated": _("Deactivated")}
        return str(labels[self.account_status])


class StaffRole(models.Model):
    user = models.ForeignKey(StaffUser, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="one_grant_a_role")]

    def __str__(self) -> str:
        return f"{self.user} {self.role}"


class ActivationToken(models.Model):
    """A one-time link, emailed to the school mailbox, that lets its owner set a password."""

    user = models.ForeignKey(StaffUser, on_delete=models.CASCADE, related_name="activation_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"activation for {self.user}"


class ApiToken(models.Model):
    user = models.ForeignKey(StaffUser, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters, so people can tell their tokens apart without the secret.
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class CalendarFeed(models.Model):
    """The secret address of a staff member's calendar of their approved lessons."""

    user = models.OneToOneField(StaffUser, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"calendar of {self.user}"
