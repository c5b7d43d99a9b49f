"""The encrypted store: each recording file as independently encrypted age segments.

No Django here: callers pass folders and keys (see ``keys.py`` and ``paths.store_dir``).

Layout of one stored file ``<folder>/<store_name>/``::

    index.json      plaintext: format, plain_size, segment_size, segment_count, the sha256
                    of the whole plaintext, and per segment the size and sha256 of its
                    ciphertext (never any media)
    00000000.age    segment 0: bytes [0, segment_size) of the file, age-encrypted (x25519)
    00000001.age    segment 1: bytes [segment_size, 2*segment_size), ...

Each segment is a whole age file, so playback decrypts only the segments a byte range
touches (seeking in a long lesson costs one or two MiB of decryption, not the lesson).
The per-segment ciphertext digests in the index catch a truncated, damaged or swapped
segment before it is decrypted; age's own authentication catches the rest; the plaintext
sha256 lets :func:`verify` check a whole file end to end.

A file is written into a hidden temporary folder (``.tmp-<name>-<random>``) in the same
folder, every file fsynced, then renamed to its name in one step: a reader sees either
no file or a complete one, never a half-written one. A crash leaves only the hidden
temporary folder, which :func:`list_files` ignores and :func:`remove_partial` deletes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyrage

FORMAT = "safeclass-store-1"
INDEX = "index.json"
DEFAULT_SEGMENT_SIZE = 1 << 20
_TMP_PREFIX = ".tmp-"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class StoreError(Exception):
    """Something is wrong with a stored file."""


class MissingFile(StoreError):
    """No complete stored file of that name."""


class CorruptFile(StoreError):
    """A stored file is damaged: a segment or its index is missing, truncated or altered."""


class WrongKey(StoreError):
    """The stored file was encrypted to a different key than the one given."""


@dataclass(frozen=True)
class StoredFile:
    store_name: str
    plain_size: int
    sha256: str
    segment_size: int
    segment_count: int


def _segment_name(n: int) -> str:
    return f"{n:08d}.age"


def _check_name(store_name: str) -> None:
    # Names become folder names: no separators, no dots, nothing hidden.
    if not _NAME_RE.match(store_name):
        raise ValueError(f"bad store name {store_name!r}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def write_file(folder: Path, store_name: str, source: Path, *,
               recipient: pyrage.x25519.Recipient,
               segment_size: int = DEFAULT_SEGMENT_SIZE) -> StoredFile:
    """Encrypt ``source`` into ``folder/store_name`` atomically and return its index.

    Raises ``FileExistsError`` if the name is taken, ``OSError`` (e.g. ENOSPC) if the disk
    fails; in every failure the temporary folder is removed and nothing is visible.
    """
    _check_name(store_name)
    if segment_size < 1:
        raise ValueError("segment_size must be positive")
    folder = Path(folder)
    final = folder / store_name
    if final.exists():
        raise FileExistsError(f"{final} exists")
    tmp = folder / f"{_TMP_PREFIX}{store_name}-{secrets.token_hex(6)}"
    tmp.mkdir(mode=0o700)
    try:
        whole = hashlib.sha256()
        segments: list[dict[str, object]] = []
        plain_size = 0
        with open(source, "rb") as src:
            while True:
                chunk = src.read(segment_size)
                if not chunk:
                    break
                whole.update(chunk)
                plain_size += len(chunk)
                sealed = pyrage.encrypt(chunk, [recipient])
                _write_private(tmp / _segment_name(len(segments)), sealed)
                segments.append({"size": len(sealed),
                                 "sha256": hashlib.sha256(sealed).hexdigest()})
        stored = StoredFile(store_name=store_name, plain_size=plain_size,
                            sha256=whole.hexdigest(), segment_size=segment_size,
                            segment_count=len(segments))
        index = {"format": FORMAT, "plain_size": plain_size, "segment_size": segment_size,
                 "segment_count": len(segments), "sha256": stored.sha256,
                 "segments": segments}
        _write_private(tmp / INDEX, json.dumps(index, separators=(",", ":")).encode())
        _fsync_dir(tmp)
        # rename() will not replace a non-empty folder, so a name taken meanwhile fails
        # rather than being overwritten.
        os.rename(tmp, final)
        _fsync_dir(folder)
        return stored
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _read_index(folder: Path, store_name: str) -> dict[str, Any]:
    _check_name(store_name)
    path = Path(folder) / store_name / INDEX
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise MissingFile(f"no stored file {store_name!r}") from exc
    try:
        index = json.loads(raw)
        size = index["plain_size"]
        seg = index["segment_size"]
        count = index["segment_count"]
        segments = index["segments"]
        ok = (index.get("format") == FORMAT and isinstance(size, int) and size >= 0
              and isinstance(seg, int) and seg > 0 and isinstance(count, int)
              and count == -(-size // seg) and isinstance(segments, list)
              and len(segments) == count
              and isinstance(index["sha256"], str) and len(index["sha256"]) == 64)
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptFile(f"the index of stored file {store_name!r} is unreadable") from exc
    if not ok:
        raise CorruptFile(f"the index of stored file {store_name!r} is inconsistent")
    return dict(index)


def read_index(folder: Path, store_name: str) -> StoredFile:
    index = _read_index(folder, store_name)
    return StoredFile(store_name=store_name, plain_size=index["plain_size"],
                      sha256=index["sha256"], segment_size=index["segment_size"],
                      segment_count=index["segment_count"])


def plain_size(folder: Path, store_name: str) -> int:
    """The size of the decrypted file, from its index (no key needed)."""
    return int(_read_index(folder, store_name)["plain_size"])


def _decrypt_segment(base: Path, index: dict[str, Any], n: int,
                     identity: pyrage.x25519.Identity) -> bytes:
    meta = index["segments"][n]
    try:
        sealed = (base / _segment_name(n)).read_bytes()
    except FileNotFoundError as exc:
        raise CorruptFile(f"segment {n} of stored file {base.name!r} is missing") from exc
    if len(sealed) != meta.get("size") or hashlib.sha256(sealed).hexdigest() != meta.get(
            "sha256"):
        raise CorruptFile(f"segment {n} of stored file {base.name!r} is truncated or altered")
    try:
        plain: bytes = pyrage.decrypt(sealed, [identity])
    except pyrage.DecryptError as exc:
        if "no matching keys" in str(exc).lower():
            raise WrongKey(f"stored file {base.name!r} was encrypted to another key") from exc
        raise CorruptFile(f"segment {n} of stored file {base.name!r} does not decrypt") from exc
    seg = index["segment_size"]
    expected = min(seg, index["plain_size"] - n * seg)
    if len(plain) != expected:
        raise CorruptFile(f"segment {n} of stored file {base.name!r} has the wrong length")
    return plain


def open_range(folder: Path, store_name: str, start: int, end: int, *,
               identity: pyrage.x25519.Identity) -> Iterator[bytes]:
    """The plaintext bytes ``start``..``end`` (inclusive; ``end`` clamped to the size).

    Checks the index and the range at once (``MissingFile``/``CorruptFile``, or
    ``ValueError`` when ``start`` is past the end or the range is empty); then yields one
    chunk per segment touched, decrypting lazily. A damaged segment raises
    ``CorruptFile`` (a wrong key ``WrongKey``) when it is reached, before any of its bytes
    are yielded.
    """
    index = _read_index(folder, store_name)
    size = index["plain_size"]
    if start < 0 or start >= size:
        raise ValueError(f"range start {start} is not inside the file (size {size})")
    end = min(end, size - 1)
    if end < start:
        raise ValueError(f"empty range {start}-{end}")
    base = Path(folder) / store_name
    return _iter_range(base, index, start, end, identity)


def _iter_range(base: Path, index: dict[str, Any], start: int, end: int,
                identity: pyrage.x25519.Identity) -> Iterator[bytes]:
    seg = index["segment_size"]
    for n in range(start // seg, end // seg + 1):
        plain = _decrypt_segment(base, index, n, identity)
        offset = n * seg
        lo = max(start - offset, 0)
        hi = min(end - offset + 1, len(plain))
        yield plain[lo:hi]


def verify(folder: Path, store_name: str, identity: pyrage.x25519.Identity) -> StoredFile:
    """Decrypt the whole file and check it against its checksum; ``CorruptFile`` if not."""
    index = _read_index(folder, store_name)
    base = Path(folder) / store_name
    whole = hashlib.sha256()
    for n in range(index["segment_count"]):
        whole.update(_decrypt_segment(base, index, n, identity))
    if whole.hexdigest() != index["sha256"]:
        raise CorruptFile(f"stored file {store_name!r} does not match its checksum")
    return read_index(folder, store_name)


def list_files(folder: Path) -> list[str]:
    """The complete stored files in ``folder`` (temporary folders left by a crash are not
    files)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and (p / INDEX).is_file())


def delete_file(folder: Path, store_name: str) -> None:
    """Remove one stored file (missing is fine). Renamed away first, so a reader never
    sees a file with some segments gone."""
    _check_name(store_name)
    path = Path(folder) / store_name
    if not path.exists():
        return
    doomed = Path(folder) / f"{_TMP_PREFIX}del-{store_name}-{secrets.token_hex(6)}"
    os.rename(path, doomed)
    shutil.rmtree(doomed)


def remove_partial(folder: Path) -> None:
    """Delete the temporary folders an interrupted write or delete left behind."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for p in folder.iterdir():
        if p.name.startswith(_TMP_PREFIX):
            shutil.rmtree(p, ignore_errors=True)


def delete_recording_folder(folder: Path) -> None:
    """Delete a recording's whole store folder (missing is fine)."""
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(folder)
