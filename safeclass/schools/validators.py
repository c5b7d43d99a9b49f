"""Validators shared by every area that accepts names or email domains.

Names are stored exactly as people give them (O'Brien, Zoë, Nguyễn, even ``<b>``) and
escaped wherever they are shown. What we refuse are characters nobody types on purpose
in a name and that can deceive a reader: control characters, and invisible formatting
characters such as the bidirectional overrides that make "Sam\u202eevil" display
reversed. Other areas import these; the schools area owns this file.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator
from django.utils.translation import gettext as _

# Longest name we accept unless a field says otherwise (matches the pupil name columns).
MAX_NAME_LENGTH = 100

# Named so the error can say exactly what was found. Every one of these is also in
# Unicode category Cf (or Cc), which is what the check itself relies on.
_DIRECTION_CHARACTERS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]  # LRE, RLE, PDF, LRO, RLO
    + [chr(c) for c in range(0x2066, 0x206A)]  # LRI, RLI, FSI, PDI
    + ["\u200e", "\u200f", "\u061c"]  # LRM, RLM, Arabic letter mark
)
_ZERO_WIDTH_CHARACTERS = frozenset(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u180e"])
# Categories refused in names: control, format (invisible), surrogate, private use, and
# the line/paragraph separators that break a name over several lines.
_REFUSED_CATEGORIES = frozenset(["Cc", "Cf", "Cs", "Co", "Zl", "Zp"])


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def name_problem(value: str, max_length: int = MAX_NAME_LENGTH) -> str | None:
    """The first problem with a name, in plain words, or None if it is acceptable."""
    if not value or not value.strip():
        return _("Enter a name: it cannot be empty or only spaces.")
    for char in value:
        if char in _DIRECTION_CHARACTERS:
            return _(
                "The name contains a hidden character that changes the direction of text "
                "({codepoint}). Type the name again without copying and pasting it."
            ).format(codepoint=_codepoint(char))
        if char in _ZERO_WIDTH_CHARACTERS:
            return _(
                "The name contains an invisible zero-width character ({codepoint}). Type the "
                "name again without copying and pasting it."
            ).format(codepoint=_codepoint(char))
        category = unicodedata.category(char)
        if category in _REFUSED_CATEGORIES:
            if category == "Cc" or category in ("Zl", "Zp"):
                return _(
                    "The name contains a control character such as a tab or line break "
                    "({codepoint}). Put the whole name on one line."
                ).format(codepoint=_codepoint(char))
            return _(
                "The name contains an invisible or unusable character ({codepoint}). Type the "
                "name again without copying and pasting it."
            ).format(codepoint=_codepoint(char))
    if len(value) > max_length:
        return _(
            "The name is too long: at most {limit} characters, and this one has {length}."
        ).format(limit=max_length, length=len(value))
    return None


def validate_person_name(value: str, max_length: int = MAX_NAME_LENGTH) -> None:
    """Raise ValidationError if a person's name is empty, over-long, or contains control,
    bidirectional or zero-width characters."""
    problem = name_problem(value, max_length)
    if problem is not None:
        raise ValidationError(problem, code="invalid_name")


def normalise_email_domain(value: str) -> str:
    """A staff email domain as stored: trimmed, lower case, no leading "@" or trailing dot.

    Raises ValidationError naming the problem if it is not a domain name.
    """
    domain = value.strip().lower()
    if domain.startswith("@"):
        domain = domain[1:]
    domain = domain.rstrip(".")
    if not domain:
        raise ValidationError(_("Enter an email domain, such as school.example."),
                              code="empty_domain")
    if "@" in domain or any(c.isspace() for c in domain):
        raise ValidationError(
            _("“{domain}” is not an email domain: give only the part after the @, such as "
              "school.example.").format(domain=domain), code="invalid_domain")
    if "." not in domain:
        raise ValidationError(
            _("“{domain}” is not a full email domain: it needs a dot, as in "
              "school.example.").format(domain=domain), code="invalid_domain")
    if not domain.isascii():
        # The policy core compares domains in ASCII only (a look-alike letter must not pass
        # as the school's domain), so international domains are given in their xn-- form.
        raise ValidationError(
            _("“{domain}” has letters outside A–Z: write an international domain in its "
              "xn-- form.").format(domain=domain), code="invalid_domain")
    try:
        DomainNameValidator(accept_idna=False)(domain)
    except ValidationError:
        raise ValidationError(
            _("“{domain}” is not a valid email domain.").format(domain=domain),
            code="invalid_domain") from None
    return domain


def parse_email_domains(text: str) -> tuple[str, ...]:
    """Comma- or space-separated domains → normalised, without repeats, in the given order.

    Raises ValidationError listing every bad domain, or if none is given.
    """
    pieces = [p for p in text.replace(",", " ").split() if p.strip()]
    if not pieces:
        raise ValidationError(_("Enter at least one staff email domain, such as school.example."),
                              code="empty_domain")
    domains: list[str] = []
    problems: list[str] = []
    for piece in pieces:
        try:
            domain = normalise_email_domain(piece)
        except ValidationError as exc:
            problems.extend(exc.messages)
            continue
        if domain not in domains:
            domains.append(domain)
    if problems:
        raise ValidationError(problems, code="invalid_domain")
    return tuple(domains)
