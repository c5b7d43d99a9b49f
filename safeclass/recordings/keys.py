"""The key recordings are encrypted to.

One age x25519 identity (``AGE-SECRET-KEY-1…``) from ``settings.RECORDING_KEY``. The job
needs only its public half (:func:`recipient`) to store files; reading them back (playback,
download, :func:`safeclass.recordings.store.verify`) needs the identity.

In DEBUG with no key set, one is made once in ``settings.RECORDING_KEY_PATH`` (mode 0600,
written atomically: a crash never leaves a half-written key that would lock every later
recording away). Production must set the key: losing it loses every recording, so it is
never generated silently there.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import pyrage
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class RecordingKeyError(ImproperlyConfigured):
    """The recording key is missing or not an age identity."""


@lru_cache(maxsize=8)
def _parse(text: str) -> pyrage.x25519.Identity:
    try:
        return pyrage.x25519.Identity.from_str(text)
    except Exception as exc:  # pyrage raises its own IdentityError (or ValueError)
        # Never echo the value: it is the secret.
        raise RecordingKeyError("SAFECLASS_RECORDING_KEY is not an age identity "
                        "(it should start with AGE-SECRET-KEY-1).") from exc


def _make_key_file(path: Path) -> str:
    """Create ``path`` with a new identity, once: a concurrent creator wins or loses the
    link race as a whole, never leaving a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = str(pyrage.x25519.Identity.generate())
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".recording-key-")
    try:
        with os.fdopen(fd, "w") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(text + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            # link() fails if the file exists: another process made it first; use theirs.
            os.link(tmp, path)
        except FileExistsError:
            return path.read_text().strip()
        with contextlib.suppress(OSError):
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return text
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _key_text() -> str:
    text = (settings.RECORDING_KEY or "").strip()
    if text:
        return text
    if not settings.DEBUG:
        raise RecordingKeyError(
            "SAFECLASS_RECORDING_KEY (or SAFECLASS_RECORDING_KEY_FILE) must be set when "
            "SAFECLASS_DEBUG is off: recordings are encrypted to it.")
    path = Path(settings.RECORDING_KEY_PATH)
    if path.exists():
        return path.read_text().strip()
    return _make_key_file(path)


def identity() -> pyrage.x25519.Identity:
    """The identity that decrypts recordings."""
    return _parse(_key_text())


def recipient() -> pyrage.x25519.Recipient:
    """The public key recordings are encrypted to."""
    return identity().to_public()
