from django.conf import settings
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("safeclass.web.urls")),
    path("", include("safeclass.live.urls")),
    path("account/", include("safeclass.accounts.urls")),
    path("account/", include("allauth.urls")),
    path("school/", include("safeclass.schools.urls")),
    path("lessons/", include("safeclass.lessons.urls")),
    path("join/", include("safeclass.invitations.urls")),
    path("oversight/", include("safeclass.oversight.urls")),
    path("recordings/", include("safeclass.recordings.urls")),
    path("api/v1/", include("safeclass.api.urls")),
]

if settings.DEBUG:
    urlpatterns += staticfiles_urlpatterns()
