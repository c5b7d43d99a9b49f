"""Our new-password forms skip allauth's PasswordVerificationMixin.clean on purpose (it
adds its own English message). _NewPasswordTwice.clean calls Form.clean directly, which
also skips any other clean() between the two in the class order: this test fails if a
new allauth version adds one there, so a check of theirs is never silently dropped."""

from __future__ import annotations

import pytest
from allauth.account import forms as account_forms
from django import forms

from safeclass.accounts.forms import (
    SchoolChangePasswordForm,
    SchoolResetPasswordKeyForm,
    SchoolSetPasswordForm,
    _NewPasswordTwice,
)

ALLOWED_TO_SKIP = {account_forms.PasswordVerificationMixin}


@pytest.mark.parametrize("form_class", [SchoolChangePasswordForm, SchoolSetPasswordForm,
                                        SchoolResetPasswordKeyForm])
def test_only_allauths_password_match_check_is_skipped(form_class: type) -> None:
    mro = form_class.__mro__
    between = mro[mro.index(_NewPasswordTwice) + 1:mro.index(forms.Form)]
    skipped = {cls for cls in between if "clean" in vars(cls)}
    assert skipped <= ALLOWED_TO_SKIP, (
        f"{form_class.__name__}: _NewPasswordTwice.clean would skip {skipped - ALLOWED_TO_SKIP}")
