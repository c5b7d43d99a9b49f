"""Fixtures for the recording tests: folders and a key of the test's own, and small real
media files made once per session (see tests/integration/recordings_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pyrage
import pytest

from tests import factories
from tests.integration.recordings_helpers import make_opus, make_webm


@pytest.fixture
def dsl(school):
    return factories.make_staff(school, "dsl@school.example", ("dsl",), "Dee Safeguarding")


@pytest.fixture
def lesson(teacher, ta, group):
    """A lesson with two adults (a test file may define its own ``lesson``)."""
    return factories.make_requested_lesson(teacher, group, second_staff=ta, title="Fractions")


@pytest.fixture
def recording_dirs(settings, tmp_path):
    """Store, work and raw folders in the test's own temporary folder, and a fresh key."""
    settings.RECORDING_STORE_DIR = tmp_path / "store"
    settings.RECORDING_WORK_DIR = tmp_path / "work"
    settings.JANUS_RECORD_DIR = tmp_path / "raw"
    settings.RECORDING_KEY = str(pyrage.x25519.Identity.generate())
    settings.RECORDING_KEY_PATH = tmp_path / "recording.key"
    for folder in ("store", "work", "raw"):
        (tmp_path / folder).mkdir(mode=0o700)
    return tmp_path


@pytest.fixture(scope="session")
def sample_webm(tmp_path_factory) -> Path:
    return make_webm(tmp_path_factory.mktemp("media") / "lesson.webm")


@pytest.fixture(scope="session")
def sample_opus(tmp_path_factory) -> Path:
    return make_opus(tmp_path_factory.mktemp("media") / "voice.ogg")
