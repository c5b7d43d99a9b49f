"""Recording pages, under /recordings/."""

from django.urls import path

from . import views

app_name = "recordings"

urlpatterns = [
    path("", views.recording_list, name="list"),
    path("<uuid:public_id>/", views.detail, name="detail"),
    path("<uuid:public_id>/hold/", views.hold, name="hold"),
    path("<uuid:public_id>/hold/release/", views.release_hold, name="release_hold"),
    path("<uuid:public_id>/files/<int:file_id>/media/", views.media, name="media"),
    path("<uuid:public_id>/files/<int:file_id>/download/", views.download, name="download"),
    # The lesson page polls this for the recording's status and progress.
    path("lessons/<int:lesson_id>/progress/", views.lesson_progress, name="lesson_progress"),
]
