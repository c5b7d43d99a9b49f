"""The DSL's hold on a recording: why it is kept, and when the hold will be reviewed."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from safeclass.web.forms import PlainRequiredMessages

from .services import HOLD_REASON_MAX_LENGTH


class HoldForm(PlainRequiredMessages, forms.Form):
    # Only parses what was typed; services.place_hold checks the rest (the review date in
    # the future) and names the field at fault.
    reason = forms.CharField(
        label=gettext_lazy("Why must the recording be kept?"),
        max_length=HOLD_REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("For example: “Evidence for a child-protection referral”. "
                               "Everyone who may watch the recording sees this."),
        error_messages={"required": gettext_lazy("Enter why the recording must be kept.")})
    review_date = forms.DateField(
        label=gettext_lazy("Review the hold by"),
        help_text=gettext_lazy("The recording is kept past the school's retention until you "
                               "release the hold. Choose a date in the future."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": gettext_lazy("Enter the date by which the hold will be "
                                                 "reviewed."),
                        "invalid": gettext_lazy("Enter the review date as a real date, for "
                                                "example 2030-03-04.")})
