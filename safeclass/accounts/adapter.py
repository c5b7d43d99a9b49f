from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class SchoolAccountAdapter(DefaultAccountAdapter):
    """Nobody signs themselves up: accounts are made by the school and activated by email."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
