"""The senior leader's record of the follow-up that clears a removal hold."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from safeclass.web.forms import PlainRequiredMessages

from .holds import FOLLOW_UP_WITH_MAX_LENGTH, OUTCOME_MAX_LENGTH


class ClearHoldForm(PlainRequiredMessages, forms.Form):
    # Only parses what was typed; the hold service checks the rest (the date not in the
    # future nor before the removal) and names the field at fault.
    follow_up_with = forms.CharField(
        label=gettext_lazy("Who did you speak to?"), max_length=FOLLOW_UP_WITH_MAX_LENGTH,
        help_text=gettext_lazy("For example: “Mrs Jones, Amir's mother”."),
        error_messages={"required": gettext_lazy("Enter who you spoke to, for example the "
                                                 "pupil's parent or carer.")})
    follow_up_on = forms.DateField(
        label=gettext_lazy("When did you speak to them?"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": gettext_lazy("Enter the date you spoke to them."),
                        "invalid": gettext_lazy("Enter the date you spoke to them as a real "
                                                "date, for example 2030-03-04.")})
    outcome = forms.CharField(
        label=gettext_lazy("What was the outcome?"), max_length=OUTCOME_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("What you agreed with the family. Clearing the hold lets the "
                               "pupil join later lessons again."),
        error_messages={"required": gettext_lazy("Enter the outcome of the conversation.")})
