from django.urls import path

from . import views

app_name = "schools"

urlpatterns = [
    path("settings/", views.settings, name="settings"),
    path("policy/", views.policy, name="policy"),
    path("policy/edit/", views.policy_edit, name="policy_edit"),
    path("policy/history/", views.policy_history, name="policy_history"),
    path("roster/", views.roster, name="roster"),
    path("roster/import/", views.roster_import, name="roster_import"),
    path("roster/import/confirm/", views.roster_import_confirm, name="roster_import_confirm"),
    path("roster/classes/new/", views.group_new, name="group_new"),
    path("roster/classes/<int:group_id>/", views.group_edit, name="group_edit"),
    path("roster/pupils/new/", views.pupil_new, name="pupil_new"),
    path("roster/pupils/<int:pupil_id>/", views.pupil_edit, name="pupil_edit"),
]
