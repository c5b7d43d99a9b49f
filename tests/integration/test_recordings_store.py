"""The encrypted store (segmented age) and the recording key, on real files."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pyrage
import pytest

from safeclass.recordings import keys, store

SEG = 1000


@pytest.fixture
def identity():
    return pyrage.x25519.Identity.generate()


@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / "store"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def plain(tmp_path) -> bytes:
    # 3.5 segments of bytes that differ by position, so a shifted range would show.
    data = os.urandom(3 * SEG + SEG // 2)
    (tmp_path / "source.bin").write_bytes(data)
    return data


def _write(folder: Path, tmp_path: Path, identity, name: str = "f1"):
    return store.write_file(folder, name, tmp_path / "source.bin",
                            recipient=identity.to_public(), segment_size=SEG)


def _read(folder, name, start, end, identity) -> bytes:
    return b"".join(store.open_range(folder, name, start, end, identity=identity))


def test_round_trip_and_index(folder, tmp_path, plain, identity):
    stored = _write(folder, tmp_path, identity)
    assert stored.plain_size == len(plain)
    assert stored.segment_count == 4
    assert stored.segment_size == SEG
    assert stored.sha256 == hashlib.sha256(plain).hexdigest()
    assert _read(folder, "f1", 0, len(plain) - 1, identity) == plain
    assert store.plain_size(folder, "f1") == len(plain)
    assert store.verify(folder, "f1", identity) == stored
    assert store.list_files(folder) == ["f1"]
    # Private, and no plaintext on disk.
    assert stat.S_IMODE((folder / "f1").stat().st_mode) == 0o700
    for part in (folder / "f1").iterdir():
        assert stat.S_IMODE(part.stat().st_mode) == 0o600
        assert plain[:64] not in part.read_bytes()


@pytest.mark.parametrize(("start", "end"), [
    (0, 0), (SEG - 1, SEG - 1), (SEG - 1, SEG), (SEG, 2 * SEG - 1), (SEG, SEG),
    (SEG - 5, 3 * SEG + 5), (3 * SEG, 3 * SEG + SEG // 2 - 1), (17, 2 * SEG + 3)])
def test_ranges_at_segment_boundaries(folder, tmp_path, plain, identity, start, end):
    _write(folder, tmp_path, identity)
    assert _read(folder, "f1", start, end, identity) == plain[start:end + 1]


def test_range_decrypts_only_the_segments_it_touches(folder, tmp_path, plain, identity):
    _write(folder, tmp_path, identity)
    # Damage segments 0 and 3: a range inside segments 1-2 still reads.
    for n in (0, 3):
        (folder / "f1" / f"{n:08d}.age").write_bytes(b"x")
    assert _read(folder, "f1", SEG, 3 * SEG - 1, identity) == plain[SEG:3 * SEG]


def test_range_past_the_end(folder, tmp_path, plain, identity):
    _write(folder, tmp_path, identity)
    # The end is clamped; a start past the end is refused at once.
    assert _read(folder, "f1", len(plain) - 3, len(plain) + 1000, identity) == plain[-3:]
    with pytest.raises(ValueError):
        store.open_range(folder, "f1", len(plain), len(plain) + 5, identity=identity)
    with pytest.raises(ValueError):
        store.open_range(folder, "f1", -1, 5, identity=identity)


def test_tampered_segment(folder, tmp_path, plain, identity):
    _write(folder, tmp_path, identity)
    seg = folder / "f1" / "00000001.age"
    data = bytearray(seg.read_bytes())
    data[len(data) // 2] ^= 0x01
    seg.write_bytes(bytes(data))
    assert _read(folder, "f1", 0, SEG - 1, identity) == plain[:SEG]
    with pytest.raises(store.CorruptFile, match="segment 1"):
        _read(folder, "f1", 0, 2 * SEG, identity)
    with pytest.raises(store.CorruptFile):
        store.verify(folder, "f1", identity)


def test_truncated_or_missing_segment_and_bad_index(folder, tmp_path, plain, identity):
    _write(folder, tmp_path, identity)
    seg = folder / "f1" / "00000002.age"
    seg.write_bytes(seg.read_bytes()[:-10])
    with pytest.raises(store.CorruptFile, match="truncated"):
        _read(folder, "f1", 2 * SEG, 2 * SEG, identity)
    seg.unlink()
    with pytest.raises(store.CorruptFile, match="missing"):
        _read(folder, "f1", 2 * SEG, 2 * SEG, identity)
    (folder / "f1" / "index.json").write_text("{not json")
    with pytest.raises(store.CorruptFile):
        store.open_range(folder, "f1", 0, 1, identity=identity)


def test_swapped_segments_are_caught(folder, tmp_path, plain, identity):
    _write(folder, tmp_path, identity)
    a, b = folder / "f1" / "00000000.age", folder / "f1" / "00000001.age"
    da, db = a.read_bytes(), b.read_bytes()
    a.write_bytes(db)
    b.write_bytes(da)
    with pytest.raises(store.CorruptFile):
        _read(folder, "f1", 0, 10, identity)


def test_wrong_key(folder, tmp_path, plain, identity):
    _write(folder, tmp_path, identity)
    other = pyrage.x25519.Identity.generate()
    with pytest.raises(store.WrongKey):
        _read(folder, "f1", 0, 10, other)


def test_missing_file_and_bad_names(folder, identity):
    with pytest.raises(store.MissingFile):
        store.open_range(folder, "nothing", 0, 1, identity=identity)
    for bad in ("../x", ".hidden", "a/b", "", "x" * 65):
        with pytest.raises(ValueError):
            store.plain_size(folder, bad)


def test_empty_file(folder, tmp_path, identity):
    (tmp_path / "empty").write_bytes(b"")
    stored = store.write_file(folder, "e", tmp_path / "empty", recipient=identity.to_public())
    assert (stored.plain_size, stored.segment_count) == (0, 0)
    assert store.verify(folder, "e", identity).plain_size == 0
    with pytest.raises(ValueError):
        store.open_range(folder, "e", 0, 0, identity=identity)


def test_name_taken_is_refused(folder, tmp_path, plain, identity):
    _write(folder, tmp_path, identity)
    with pytest.raises(FileExistsError):
        _write(folder, tmp_path, identity)
    assert _read(folder, "f1", 0, len(plain) - 1, identity) == plain


def test_crash_mid_write_leaves_nothing_visible(folder, tmp_path, plain, identity,
                                                monkeypatch):
    calls = {"n": 0}
    real = pyrage.encrypt

    def failing(data, recipients):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(data, recipients)

    monkeypatch.setattr(pyrage, "encrypt", failing)
    with pytest.raises(OSError):
        _write(folder, tmp_path, identity)
    assert list(folder.iterdir()) == []
    with pytest.raises(store.MissingFile):
        store.plain_size(folder, "f1")


def test_killed_mid_write_is_hidden_and_cleaned(folder, tmp_path, plain, identity):
    # What a killed process leaves: a hidden temporary folder with some segments.
    partial = folder / ".tmp-f1-abcdef"
    partial.mkdir()
    (partial / "00000000.age").write_bytes(b"half")
    assert store.list_files(folder) == []
    with pytest.raises(store.MissingFile):
        store.plain_size(folder, "f1")
    store.remove_partial(folder)
    assert list(folder.iterdir()) == []


def test_delete_file_and_folder(folder, tmp_path, plain, identity):
    _write(folder, tmp_path, identity)
    _write(folder, tmp_path, identity, "f2")
    store.delete_file(folder, "f1")
    assert store.list_files(folder) == ["f2"]
    store.delete_recording_folder(folder)
    assert not folder.exists()
    store.delete_recording_folder(folder)  # missing is fine


# ----------------------------------------------------------------------------- keys


def test_key_from_settings(settings):
    made = pyrage.x25519.Identity.generate()
    settings.RECORDING_KEY = str(made)
    assert str(keys.identity()) == str(made)
    assert str(keys.recipient()) == str(made.to_public())


def test_bad_key_is_refused_without_echoing_it(settings):
    settings.RECORDING_KEY = "AGE-SECRET-KEY-1NOTAKEY"
    with pytest.raises(keys.RecordingKeyError) as caught:
        keys.identity()
    assert "NOTAKEY" not in str(caught.value)


def test_debug_makes_a_key_once(settings, tmp_path):
    settings.RECORDING_KEY = ""
    settings.DEBUG = True
    settings.RECORDING_KEY_PATH = tmp_path / "var" / "recording.key"
    first = keys.identity()
    path = settings.RECORDING_KEY_PATH
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(keys.identity()) == str(first)
    assert path.read_text().strip() == str(first)
    assert [p.name for p in path.parent.iterdir()] == ["recording.key"]


def test_production_needs_a_key(settings, tmp_path):
    settings.RECORDING_KEY = ""
    settings.DEBUG = False
    settings.RECORDING_KEY_PATH = tmp_path / "recording.key"
    with pytest.raises(keys.RecordingKeyError):
        keys.identity()
    assert not settings.RECORDING_KEY_PATH.exists()
