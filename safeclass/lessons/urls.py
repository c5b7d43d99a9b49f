from django.urls import path

from . import views

app_name = "lessons"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("request/", views.request_lesson, name="request"),
    path("approvals/", views.approvals, name="approvals"),
    path("<int:lesson_id>/", views.detail, name="detail"),
    path("<int:lesson_id>/edit/", views.edit, name="edit"),
    path("<int:lesson_id>/cancel/", views.cancel, name="cancel"),
    path("<int:lesson_id>/approve/", views.approve, name="approve"),
    path("<int:lesson_id>/decline/", views.decline, name="decline"),
    path("<int:lesson_id>/invitations/reissue/", views.reissue, name="reissue"),
    path("<int:lesson_id>/invitations/export/", views.export, name="export"),
]
