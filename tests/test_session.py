"""EditSession history and project files: exact undo/redo, exact save/reopen, and a clear
SessionError (never a crash) for every damaged, foreign or too-new project file."""
from __future__ import annotations

import errno
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from engine import atomic
from engine import session as session_module
from engine.errors import SessionError
from engine.imageio import Artwork
from engine.masks import bounding_box
from engine.session import (FORMAT_VERSION, EditSession, changed_pixels, load_session, read_manifest,
                            save_session, snapshot)


def artwork(height: int = 60, width: int = 80, channels: int = 3, dtype=np.uint8, seed: int = 0) -> Artwork:
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    pixels = rng.integers(0, top, (height, width, channels), endpoint=True).astype(dtype)
    return Artwork(pixels=pixels, icc_profile=b"profile", exif=None, source_format="PNG", path=Path("art.png"))


def edit(session: EditSession, seed: int, size: int = 12) -> np.ndarray:
    """Apply a local change (a random patch) and return the new image."""
    rng = np.random.default_rng(seed)
    height, width = session.shape
    y, x = int(rng.integers(0, height - size)), int(rng.integers(0, width - size))
    result = session.current.copy()
    top = np.iinfo(result.dtype).max
    result[y:y + size, x:x + size] = rng.integers(0, top, (size, size, result.shape[2]), endpoint=True)
    mask = np.zeros(session.shape, bool)
    mask[y:y + size, x:x + size] = True
    session.apply_edit(result, mask, mask, label=f"edit {seed}", timings={"total": 0.1 * seed})
    return result


@pytest.fixture()
def session() -> EditSession:
    return EditSession(artwork())


# -- history ---------------------------------------------------------------------------------------
def changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int] | None:
    return bounding_box(changed_pixels(before, after))


def test_changed_box_of_every_layout() -> None:
    before = np.zeros((10, 12, 3), np.uint8)
    after = before.copy()
    assert changed_box(before, after) is None
    after[2, 3, 1] = 1
    after[6, 9, 2] = 1
    assert changed_box(before, after) == (3, 2, 10, 7)
    assert changed_box(before[..., 0], after[..., 1]) == (3, 2, 4, 3)


def test_undo_redo_and_go_to_are_exact(session: EditSession) -> None:
    original = session.current.copy()
    states = [original] + [edit(session, seed) for seed in range(1, 6)]
    for position in (2, 0, 5, 3, 1, 4):
        session.go_to(position)
        np.testing.assert_array_equal(session.current, states[position])
    session.go_to(2)
    newer = edit(session, 99)
    assert len(session.steps) == 3 and not session.can_redo  # redo history beyond position 2 is dropped
    session.go_to(0)
    np.testing.assert_array_equal(session.current, original)
    session.go_to(3)
    np.testing.assert_array_equal(session.current, newer)
    with pytest.raises(SessionError, match="there is no step 7"):
        session.go_to(7)


@pytest.mark.parametrize("kept_bytes", [0, 600, 10 ** 9])
def test_patches_kept_unpacked_give_the_same_history(session: EditSession, monkeypatch, kept_bytes: int) -> None:
    """The latest steps' patches are kept as they are up to a byte budget (undo and redo of a large step need no
    decompression); whatever the budget, every position is exact, dropped redo steps let go of theirs, and a kept
    patch is never the image's own memory."""
    monkeypatch.setattr(session_module, "UNPACKED_BYTES", kept_bytes)
    states = [session.current.copy()] + [edit(session, seed) for seed in range(1, 6)]
    for position in (4, 0, 5, 2, 3, 1, 5, 0):
        session.go_to(position)
        np.testing.assert_array_equal(session.current, states[position])
        kept = session._unpacked.values()
        assert len(kept) <= 1 or sum(patch.nbytes for _, patch in kept) <= kept_bytes
        assert not any(np.shares_memory(patch, session.current) for _, patch in kept)
    session.go_to(2)
    edit(session, 99)
    assert {id(step) for step, _ in session._unpacked.values()} <= {id(step) for step in session.steps}
    session.go_to(0)
    np.testing.assert_array_equal(session.current, states[0])


def test_only_the_changed_area_is_kept() -> None:
    session = EditSession(artwork(300, 400))
    edit(session, 1, size=10)
    step = session.steps[0]
    x0, y0, x1, y1 = step.box
    assert x1 - x0 <= 10 and y1 - y0 <= 10
    assert len(step.before) < 400 and len(step.after) < 400  # 10x10x3 bytes, zlib-wrapped
    assert session.history_bytes == step.nbytes < session.current.nbytes / 4


def test_a_step_keeps_only_the_pixels_it_changed() -> None:
    """An edit's box spans both its places (a moved object: its old place filled, its new one painted) and the
    unchanged painting between them; the step keeps only the changed pixels' values (it kept the whole box twice,
    which zlib's fast level does not shrink for painted pixels)."""
    session = EditSession(artwork(300, 400))
    original = session.current.copy()
    result = original.copy()
    rng = np.random.default_rng(4)
    result[20:40, 30:50] = rng.integers(0, 256, (20, 20, 3))
    result[250:270, 350:370] = rng.integers(0, 256, (20, 20, 3))
    mask = np.zeros(session.shape, bool)
    step = session.apply_edit(result, mask, mask)
    x0, y0, x1, y1 = step.box
    assert (x0, y0, x1, y1) == (30, 20, 370, 270)
    assert len(step.before) + len(step.after) < 2 * 2 * 20 * 20 * 3 + 200  # not 2 x 340 x 250 x 3
    assert int(step.changed_pixels().sum()) == 800
    for position, state in ((0, original), (1, result), (0, original)):
        session.go_to(position)
        np.testing.assert_array_equal(session.current, state)


def test_a_version_1_session_still_opens(tmp_path: Path, session: EditSession) -> None:
    """Version 1 kept each step's whole box before and after; such a file opens, every position exact, and
    saved again it opens as well."""
    states = [session.current.copy()] + [edit(session, seed) for seed in range(1, 4)]
    path = tmp_path / "old.simnet"
    save_session(path, session)
    boxes = [step.box for step in session.steps]

    def as_version_1(name: str, data: bytes) -> bytes | None:
        if name == "manifest.json":
            return manifest_edit(format_version=1)(name, data)
        if name.endswith("_changed.z"):
            return None
        for index, (x0, y0, x1, y1) in enumerate(boxes):
            for which, state in (("before", states[index]), ("after", states[index + 1])):
                if name == f"steps/{index:04d}_{which}.z":
                    return zlib.compress(state[y0:y1, x0:x1].tobytes())
        return data

    rewrite(path, as_version_1)
    reopened = load_session(path)
    assert all(step.changed is None for step in reopened.steps)
    for position in (3, 0, 2, 1, 3):
        reopened.go_to(position)
        np.testing.assert_array_equal(reopened.current, states[position])
    save_session(tmp_path / "again.simnet", reopened)
    again = load_session(tmp_path / "again.simnet")
    for position in (0, 3, 1):
        again.go_to(position)
        np.testing.assert_array_equal(again.current, states[position])


def test_an_unchanged_result_adds_no_step(session: EditSession) -> None:
    mask = np.zeros(session.shape, bool)
    assert session.apply_edit(session.current.copy(), mask, mask) is None
    assert not session.steps and not session.dirty


def test_a_result_or_masks_of_another_shape_are_refused(session: EditSession) -> None:
    mask = np.zeros(session.shape, bool)
    with pytest.raises(SessionError, match="size or type"):
        session.apply_edit(session.current[:, :-1].copy(), mask, mask)
    with pytest.raises(SessionError, match="size or type"):
        session.apply_edit(session.current.astype(np.uint16), mask, mask)
    with pytest.raises(SessionError, match="masks do not match"):
        session.apply_edit(session.current + 1, np.zeros((5, 5), bool), mask)
    assert not session.steps


def test_step_masks_are_kept(session: EditSession) -> None:
    edit(session, 3)
    source, target = session.step_masks(0)
    assert source.shape == session.shape and source.sum() == 144 and np.array_equal(source, target)


def test_snapshot_is_independent_of_later_edits(session: EditSession, tmp_path: Path) -> None:
    edited = edit(session, 1)
    copy = snapshot(session)
    edit(session, 2)
    save_session(tmp_path / "snap.simnet", copy)
    np.testing.assert_array_equal(load_session(tmp_path / "snap.simnet").current, edited)


# -- project files ---------------------------------------------------------------------------------
@pytest.mark.parametrize("channels,dtype", [(1, np.uint8), (3, np.uint8), (4, np.uint8), (1, np.uint16),
                                            (3, np.uint16), (4, np.uint16)])
def test_save_and_reopen_exactly(tmp_path: Path, channels: int, dtype) -> None:
    session = EditSession(artwork(channels=channels, dtype=dtype))
    states = [session.current.copy()] + [edit(session, seed) for seed in range(1, 4)]
    session.go_to(2)
    path = tmp_path / "work.simnet"
    save_session(path, session)
    assert not session.dirty
    reopened = load_session(path)
    assert reopened.position == 2 and len(reopened.steps) == 3 and not reopened.dirty
    assert [step.label for step in reopened.steps] == ["edit 1", "edit 2", "edit 3"]
    assert reopened.artwork.icc_profile == b"profile" and reopened.artwork.path == Path("art.png")
    for position, expected in enumerate(states):
        reopened.go_to(position)
        np.testing.assert_array_equal(reopened.current, expected)
        assert reopened.current.dtype == dtype


def test_read_manifest_is_cheap_and_checked(tmp_path: Path, session: EditSession) -> None:
    edit(session, 1)
    save_session(tmp_path / "work.simnet", session)
    manifest = read_manifest(tmp_path / "work.simnet")
    assert manifest["image"]["source"] == "art.png" and len(manifest["steps"]) == 1
    (tmp_path / "text.simnet").write_text("hello")
    with pytest.raises(SessionError, match="damaged or not a session file"):
        read_manifest(tmp_path / "text.simnet")


def rewrite(path: Path, change) -> None:
    """Copy the project file at ``path`` with ``change(name, data) -> data | None`` applied to each entry."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            changed = change(name, data)
            if changed is not None:
                archive.writestr(name, changed)


def manifest_edit(**fields):
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        for key, value in fields.items():
            manifest[key] = value
        return json.dumps(manifest).encode()
    return change


@pytest.mark.parametrize("case,message", [
    ("missing", "no such session file"),
    ("empty", "damaged or not a session file"),
    ("truncated", "damaged or not a session file"),
    ("an_image", "damaged or not a session file"),
    ("no_manifest", "damaged or not a session file"),
    ("manifest_not_json", "damaged or not a session file"),
    ("manifest_a_list", "is not a SIM-Net Studio session"),
    ("foreign", "is not a SIM-Net Studio session"),
    ("newer", f"saved by a newer SIM-Net Studio (format {FORMAT_VERSION + 1}); update to open it"),
    ("missing_step", "damaged or not a session file"),
    ("corrupt_step", "damaged or not a session file"),
    ("short_step", "its before has the wrong size"),
    ("short_changed", "a saved mask has the wrong size"),
    ("box_outside", "lies outside the image"),
    ("bad_position", "there is no step 9"),
    ("bad_original", "original.png is damaged or truncated"),
    ("wrong_original", "the stored original does not match its description"),
])
def test_bad_session_files_are_explained(tmp_path: Path, session: EditSession, case: str, message: str) -> None:
    path = tmp_path / "work.simnet"
    edit(session, 1)
    edit(session, 2)
    save_session(path, session)
    data = path.read_bytes()
    if case == "missing":
        path = tmp_path / "nope.simnet"
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif case == "an_image":
        with zipfile.ZipFile(path) as archive:
            path.write_bytes(archive.read("original.png"))
    elif case == "no_manifest":
        rewrite(path, lambda name, entry: None if name == "manifest.json" else entry)
    elif case == "manifest_not_json":
        rewrite(path, lambda name, entry: b"{oops" if name == "manifest.json" else entry)
    elif case == "manifest_a_list":
        rewrite(path, lambda name, entry: b"[1, 2]" if name == "manifest.json" else entry)
    elif case == "foreign":
        rewrite(path, manifest_edit(format="something-else"))
    elif case == "newer":
        rewrite(path, manifest_edit(format_version=FORMAT_VERSION + 1))
    elif case == "missing_step":
        rewrite(path, lambda name, entry: None if name == "steps/0001_after.z" else entry)
    elif case == "corrupt_step":
        rewrite(path, lambda name, entry: entry[:5] if name == "steps/0000_before.z" else entry)
    elif case == "short_step":
        with zipfile.ZipFile(path) as archive:
            shorter = zlib.compress(zlib.decompress(archive.read("steps/0000_before.z"))[:-3])
        rewrite(path, lambda name, entry: shorter if name == "steps/0000_before.z" else entry)
    elif case == "short_changed":
        with zipfile.ZipFile(path) as archive:
            shorter = zlib.compress(zlib.decompress(archive.read("steps/0001_changed.z"))[:-2])
        rewrite(path, lambda name, entry: shorter if name == "steps/0001_changed.z" else entry)
    elif case == "box_outside":
        manifest = read_manifest(path)
        manifest["steps"][0]["box"] = [70, 50, 90, 70]
        rewrite(path, manifest_edit(steps=manifest["steps"]))
    elif case == "bad_position":
        rewrite(path, manifest_edit(position=9))
    elif case == "bad_original":
        rewrite(path, lambda name, entry: entry[:100] if name == "original.png" else entry)
    elif case == "wrong_original":
        manifest = read_manifest(path)
        rewrite(path, manifest_edit(image=dict(manifest["image"], shape=[61, 80, 3])))
    with pytest.raises(SessionError) as caught:
        load_session(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_the_pixel_limit_applies_to_a_session_original(tmp_path: Path, session: EditSession, monkeypatch) -> None:
    save_session(tmp_path / "work.simnet", session)
    monkeypatch.setenv("SIMNET_MAX_PIXELS", "1000")
    with pytest.raises(SessionError, match="above the limit.*SIMNET_MAX_PIXELS"):
        load_session(tmp_path / "work.simnet")


def test_disk_full_during_save_keeps_the_previous_project(tmp_path: Path, session: EditSession, monkeypatch) -> None:
    path = tmp_path / "work.simnet"
    edit(session, 1)
    save_session(path, session)
    before = path.read_bytes()
    edit(session, 2)
    assert session.dirty

    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(SessionError, match="the disk is full; any previous file is unchanged"):
        save_session(path, session)
    assert session.dirty  # still unsaved: the editor keeps asking
    assert path.read_bytes() == before and not list(tmp_path.glob(".*.tmp"))
    assert len(load_session(path).steps) == 1


def test_saving_into_a_missing_folder(tmp_path: Path, session: EditSession) -> None:
    with pytest.raises(SessionError, match="the folder .* does not exist"):
        save_session(tmp_path / "gone" / "work.simnet", session)
