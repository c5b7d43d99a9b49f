from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("security/", views.security, name="security"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("calendar/new/", views.calendar_new, name="calendar_new"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("activate/<str:token>/", views.activate, name="activate"),
    path("activate/", views.activate_set_password, name="activate_set_password"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_new, name="staff_new"),
    path("staff/<int:user_id>/", views.staff_edit, name="staff_edit"),
    path("staff/<int:user_id>/resend/", views.staff_resend, name="staff_resend"),
    # Shadows allauth's account_email page (same address, listed first in safeclass/urls.py):
    # staff cannot add or switch email addresses themselves (school-account).
    path("email/", views.email_managed, name="email_managed"),
    # POST only: the session timeout warning's "Stay signed in" (session.js).
    path("session/keep-alive/", views.keep_alive, name="keep_alive"),
]
