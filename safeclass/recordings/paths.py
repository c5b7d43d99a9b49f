"""Where a recording's files live. Three folders, none of them web-served:

* raw:   ``JANUS_RECORD_DIR/<folder>/``: Janus writes the ``.mjr`` files here while the
  lesson is recorded (plaintext: Janus cannot encrypt). Deleted once the job has stored
  them encrypted.
* work:  ``RECORDING_WORK_DIR/<folder>/``: the job's private plaintext scratch space,
  removed when the job ends, whether it succeeded or not.
* store: ``RECORDING_STORE_DIR/<folder>/``: the encrypted files (see store.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from safeclass.recordings.models import Recording


def raw_dir(recording: Recording) -> Path:
    return Path(settings.JANUS_RECORD_DIR).resolve() / recording.folder


def work_dir(recording: Recording) -> Path:
    return Path(settings.RECORDING_WORK_DIR).resolve() / recording.folder


def store_dir(recording: Recording) -> Path:
    return Path(settings.RECORDING_STORE_DIR).resolve() / recording.folder


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by this user only; idempotent."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path
