"""Errors and violations shared by every part of the policy core.

A ``Violation`` is an expected outcome (the request breaks a rule) and is returned, so a
form can show every problem at once. A ``PolicyError`` is raised only for input the
checks cannot even judge (a naive datetime, a malformed settings document).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    """One broken rule: the rule id (shown to users and returned by the API), a plain
    message saying what is wrong and how to fix it, and the form field it concerns."""

    rule: str
    message: str
    field: str | None = None

    def __post_init__(self) -> None:
        # Callers pass RuleId members; store the plain string so a violation compares,
        # prints and serialises the same as one built from an id read off the API.
        object.__setattr__(self, "rule", str(self.rule))


class PolicyError(Exception):
    """Input the policy core cannot judge at all; ``field`` names the offending field so
    the caller can attach the message to the right place in a form or API response."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
