"""The document an artist works on: the original artwork, the chain of applied edits, undo/redo.

Each applied edit keeps only the area it changed (the bounding box of differing pixels), before
and after, zlib-compressed in memory. Memory therefore grows with the edited areas, not with the
canvas: 200 edits of a 4K painting that each change a 600x600 area cost about 200 x 2 x 1 MB raw,
a few hundred MB compressed at worst and far less for painted texture. Undoing every step gives
back the original bit for bit, because patches are stored losslessly.

Sessions save to a single project file (a zip with a versioned JSON manifest, the original and every
step), written atomically; reopening it restores exactly the same images and position, and the selection
being worked on (the region, its new shape not applied yet, and the Transform and Warp moves that made it).
"""
from __future__ import annotations

import copy
import json
import zipfile
import zlib
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from engine.atomic import atomic_write
from engine.errors import ImageReadError, SessionError
from engine.imageio import Artwork
from engine.masks import bounding_box
from engine.shape_motion import PinPoints, ShapeMotion, pins_from_json, pins_to_json

FORMAT_NAME = "simnet-session"
#: 2: a step keeps only the pixels it changed (its box's changed-pixel mask, and their values before and after);
#: version 1's steps (the whole box before and after) are still read.
FORMAT_VERSION = 2
THUMBNAIL_SIDE = 96
#: The patches of the latest steps are also kept as they are, up to this many bytes, so that undoing and redoing
#: them does not decompress them (an 8K sky's patch, 80 MB, took 0.7 s on the editor's thread).
UNPACKED_BYTES = 512 * 2 ** 20


def _pack(array: np.ndarray) -> bytes:
    return zlib.compress(np.ascontiguousarray(array).tobytes(), 1)


def _unpack(data: bytes, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    return np.frombuffer(zlib.decompress(data), dtype=np.dtype(dtype)).reshape(shape).copy()


def changed_pixels(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(h, w) where two (h, w) or (h, w, C) images differ in any channel (compared channel by channel: a
    reduction over the short channel axis is ~40x slower on a 4K image, and making a step must not take long)."""
    if before.ndim == 2:
        return before != after
    differs = before[..., 0] != after[..., 0]
    for channel in range(1, before.shape[2]):
        differs |= before[..., channel] != after[..., channel]
    return differs


def thumbnail(image: np.ndarray, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """Small 8-bit RGB preview for the history panel."""
    height, width = image.shape[:2]
    scale = side / max(height, width)
    small = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    if small.ndim == 2:
        small = small[..., None]
    if small.dtype == np.uint16:
        small = (small // 257).astype(np.uint8)
    if small.shape[2] == 4:  # over a checkerboard, as the canvas draws a transparent painting
        return over_checkerboard(small)
    return np.repeat(small, 3, axis=2) if small.shape[2] == 1 else np.ascontiguousarray(small[..., :3])


#: The greys of the checkerboard under a transparent painting (here and on the editor's canvas).
CHECKER_LIGHT, CHECKER_DARK = 204, 153


def over_checkerboard(rgba: np.ndarray, square: int = 4) -> np.ndarray:
    """(H, W, 4) uint8 -> (H, W, 3) uint8: the colours over a light and dark grey checkerboard by their alpha."""
    ys, xs = np.mgrid[0:rgba.shape[0], 0:rgba.shape[1]]
    board = np.where(((ys // square + xs // square) % 2 == 0)[..., None], float(CHECKER_LIGHT), float(CHECKER_DARK))
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    return np.rint(rgba[..., :3] * alpha + board * (1.0 - alpha)).astype(np.uint8)


@dataclass
class Step:
    """One applied edit: the pixels it changed before and after, and the masks that made it. ``changed`` is which
    pixels of ``box`` changed (bit-packed and compressed), and ``before`` and ``after`` hold their values, (N, C) in
    raster order; a step read from a version-1 file has no ``changed`` and holds the whole box before and after.
    (Within an edit's box, around a moved object, often half the pixels are unchanged, and zlib's fast level does
    not compress painted pixels at all: keeping the whole box twice took 16 MB a 4K edit.)"""

    label: str
    box: tuple[int, int, int, int]
    before: bytes
    after: bytes
    source_mask: bytes
    target_mask: bytes
    thumbnail: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)
    changed: bytes | None = None

    @property
    def nbytes(self) -> int:
        return (len(self.before) + len(self.after) + len(self.source_mask) + len(self.target_mask)
                + len(self.changed or b"") + self.thumbnail.nbytes)

    def changed_pixels(self) -> np.ndarray | None:
        """Which pixels of the box the step changed ((h, w) bool), or None: all of them (a version-1 step)."""
        if self.changed is None:
            return None
        x0, y0, x1, y1 = self.box
        return _unpack_mask(self.changed, (y1 - y0, x1 - x0))


def make_step(current: np.ndarray, result: np.ndarray, source_mask: np.ndarray, target_mask: np.ndarray,
              label: str = "Reshape", timings: dict[str, float] | None = None,
              within: tuple[int, int, int, int] | None = None) -> Step | None:
    """The history step that turns ``current`` into ``result``: its changed area before and after,
    compressed, with its masks and a thumbnail; None when nothing changed. ``within`` (x0, y0, x1,
    y1) is a box outside which the two images are known to be equal (an edit's ``box``): only that
    box is compared.

    Pure and thread-safe, so the editor makes it on its worker thread (tens of milliseconds on a
    large canvas) and the GUI thread only appends it with :meth:`EditSession.push_step`. The four
    parts are compressed in parallel (zlib lets go of the interpreter lock): a third of a second
    instead of a second and a half for an 8K edit on two cores.
    """
    if result.shape != current.shape or result.dtype != current.dtype:
        raise SessionError("the edit result does not match the image's size or type")
    if np.shape(source_mask) != current.shape[:2] or np.shape(target_mask) != current.shape[:2]:
        raise SessionError("the edit's masks do not match the image's size")
    wx0, wy0, wx1, wy1 = (0, 0, current.shape[1], current.shape[0]) if within is None else within
    differs = changed_pixels(current[wy0:wy1, wx0:wx1], result[wy0:wy1, wx0:wx1])
    inner = bounding_box(differs) if differs.size else None
    if inner is None:
        return None
    ix0, iy0, ix1, iy1 = inner
    box = (ix0 + wx0, iy0 + wy0, ix1 + wx0, iy1 + wy0)
    x0, y0, x1, y1 = box
    was, now, changed = current[y0:y1, x0:x1], result[y0:y1, x0:x1], differs[iy0:iy1, ix0:ix1]
    parts = (was[changed], now[changed], np.packbits(changed), np.packbits(source_mask), np.packbits(target_mask))
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        before, after, changed_bits, source, target = pool.map(_pack, parts)
    return Step(label=label, box=box, before=before, after=after, source_mask=source, target_mask=target,
                thumbnail=thumbnail(result), timings=dict(timings or {}), changed=changed_bits)


@dataclass(frozen=True)
class WorkingSelection:
    """The region and new shape being worked on when a session is saved: not an edit yet, but work a user
    expects back. ``motion``: the Transform and Warp moves that made the new shape (None: a brush or a mask
    tool did); ``from_edit``: the selection is an applied edit's new shape (clicks start a new one); ``pins``:
    the Warp tool's pins on the new shape, (x, y) image pixels."""

    region: np.ndarray
    target: np.ndarray
    motion: ShapeMotion | None = None
    from_edit: bool = False
    pins: PinPoints = ()


class EditSession:
    """Original artwork, current image and the history between them."""

    def __init__(self, artwork: Artwork) -> None:
        self.artwork = artwork
        #: The selection saved with the session (set by the editor's document when it saves).
        self.selection: WorkingSelection | None = None
        self.original = artwork.pixels
        self.current = artwork.pixels.copy()
        self.steps: list[Step] = []
        self.position = 0  # steps[:position] are applied
        self.dirty = False
        self.original_thumbnail = thumbnail(self.original)
        #: (id of a step, "before" or "after") -> (the step, its whole box as it is), the most recent last: an undo
        #: or redo of a large step then writes one block (writing an 8K sky's 20 M changed pixels one by one took
        #: half a second on the editor's thread).
        self._unpacked: OrderedDict[tuple[int, str], tuple[Step, np.ndarray]] = OrderedDict()

    def __copy__(self) -> "EditSession":
        """A shallow copy (the steps and images shared) with no patches kept of its own."""
        copied = EditSession.__new__(EditSession)
        copied.__dict__.update(self.__dict__)
        copied._unpacked = OrderedDict()
        return copied

    @property
    def shape(self) -> tuple[int, int]:
        return self.original.shape[0], self.original.shape[1]

    def _patch_shape(self, box: tuple[int, int, int, int]) -> tuple[int, ...]:
        x0, y0, x1, y1 = box
        return (y1 - y0, x1 - x0, self.original.shape[2])

    def _values_shape(self, step: Step, changed: np.ndarray | None) -> tuple[int, ...]:
        """The shape of ``step``'s stored values: its whole box, or one row of channels per changed pixel."""
        if changed is None:
            return self._patch_shape(step.box)
        return (int(np.count_nonzero(changed)), self.original.shape[2])

    def apply_edit(self, result: np.ndarray, source_mask: np.ndarray, target_mask: np.ndarray,
                   label: str = "Reshape", timings: dict[str, float] | None = None) -> Step | None:
        """Make ``result`` the current image, as a new step (redo history beyond it is dropped)."""
        step = make_step(self.current, result, source_mask, target_mask, label, timings)
        if step is not None:
            self.push_step(step, result.copy())
        return step

    def push_step(self, step: Step, result: np.ndarray) -> None:
        """Append a step made by :func:`make_step` from the current image; ``result`` becomes the
        current image as it is (not copied: the caller hands it over)."""
        if result.shape != self.current.shape or result.dtype != self.current.dtype:
            raise SessionError("the edit result does not match the image's size or type")
        for dropped in self.steps[self.position:]:
            for which in ("before", "after"):
                self._unpacked.pop((id(dropped), which), None)
        del self.steps[self.position:]
        self.steps.append(step)
        self.position = len(self.steps)
        x0, y0, x1, y1 = step.box
        self._keep_unpacked(step, "before", self.current[y0:y1, x0:x1].copy())
        self._keep_unpacked(step, "after", result[y0:y1, x0:x1].copy())
        self.current = result
        self.dirty = True

    def _keep_unpacked(self, step: Step, which: str, patch: np.ndarray) -> None:
        """Keep ``patch`` (not shared with the image) as ``step``'s ``which``; the oldest go beyond UNPACKED_BYTES."""
        self._unpacked[(id(step), which)] = (step, patch)
        while len(self._unpacked) > 1 and sum(kept.nbytes for _, kept in self._unpacked.values()) > UNPACKED_BYTES:
            self._unpacked.popitem(last=False)

    def _put(self, step: Step, which: str) -> None:
        x0, y0, x1, y1 = step.box
        box = self.current[y0:y1, x0:x1]
        kept = self._unpacked.get((id(step), which))
        if kept is not None and kept[0] is step:
            self._unpacked.move_to_end((id(step), which))
            box[...] = kept[1]
            return
        changed = step.changed_pixels()
        values = _unpack(getattr(step, which), self._values_shape(step, changed), self.original.dtype.str)
        if changed is None:
            box[...] = values
        else:  # the box's other pixels are the same before and after
            box[changed] = values
        self._keep_unpacked(step, which, box.copy())

    @property
    def can_undo(self) -> bool:
        return self.position > 0

    @property
    def can_redo(self) -> bool:
        return self.position < len(self.steps)

    def undo(self) -> bool:
        if not self.can_undo:
            return False
        self.position -= 1
        self._put(self.steps[self.position], "before")
        self.dirty = True
        return True

    def redo(self) -> bool:
        if not self.can_redo:
            return False
        self._put(self.steps[self.position], "after")
        self.position += 1
        self.dirty = True
        return True

    def go_to(self, position: int) -> None:
        """Undo or redo until ``position`` steps are applied (0 = the original)."""
        if not 0 <= position <= len(self.steps):
            raise SessionError(f"there is no step {position}")
        while self.position > position:
            self.undo()
        while self.position < position:
            self.redo()

    def step_masks(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The source and target masks of step ``index``."""
        step = self.steps[index]
        return _unpack_mask(step.source_mask, self.shape), _unpack_mask(step.target_mask, self.shape)

    @property
    def history_bytes(self) -> int:
        """Memory held by the history (the bound on long sessions)."""
        return sum(step.nbytes for step in self.steps)


# -- project files --------------------------------------------------------------------------------
def _png(array: np.ndarray) -> bytes:
    from engine.imageio import encode_image

    return encode_image(array, "PNG")


def _manifest(session: EditSession) -> dict:
    selection = session.selection
    return {
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION,
        "image": {"shape": list(session.original.shape), "dtype": session.original.dtype.str,
                  "source": str(session.artwork.path) if session.artwork.path else None,
                  "source_format": session.artwork.source_format},
        "position": session.position,
        "steps": [{"label": s.label, "box": list(s.box), "timings": s.timings} for s in session.steps],
        **({} if selection is None else {"selection": {
            "from_edit": selection.from_edit,
            "motion": None if selection.motion is None else selection.motion.to_json(),
            "pins": pins_to_json(selection.pins)}}),
    }


def _pack_mask(mask: np.ndarray) -> bytes:
    return _pack(np.packbits(mask))


def _unpack_mask(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    bits = np.frombuffer(zlib.decompress(data), np.uint8)
    if bits.size != -(-shape[0] * shape[1] // 8):
        raise ValueError("a saved mask has the wrong size")
    return np.unpackbits(bits)[:shape[0] * shape[1]].reshape(shape).astype(bool)


def save_session(path: str | Path, session: EditSession) -> None:
    """Write the whole session to one project file, atomically (a crash leaves the old file intact).

    The archive is streamed into the temporary file, so saving needs no second copy of the history."""
    original = _png(session.original)
    with atomic_write(path, error=SessionError) as handle:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("manifest.json", json.dumps(_manifest(session), indent=1))
            archive.writestr("original.png", original)
            if session.artwork.icc_profile:
                archive.writestr("icc_profile.bin", session.artwork.icc_profile)
            if session.artwork.exif:
                archive.writestr("exif.bin", session.artwork.exif)
            for index, step in enumerate(session.steps):
                for part in ("before", "after", "source_mask", "target_mask", "changed"):
                    if getattr(step, part) is not None:
                        archive.writestr(f"steps/{index:04d}_{part}.z", getattr(step, part))
            if session.selection is not None:
                archive.writestr("selection/region.z", _pack_mask(session.selection.region))
                archive.writestr("selection/target.z", _pack_mask(session.selection.target))
    session.dirty = False


def _check_manifest(path: Path, manifest: object) -> dict:
    """The manifest as a dict, or SessionError when it is not ours or is too new."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise SessionError(f"{path} is not a SIM-Net Studio session")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise SessionError(f"{path} was saved by a newer SIM-Net Studio (format {version}); update to open it")
    return manifest


def read_manifest(path: str | Path) -> dict:
    """Only the manifest of a project file (cheap: no pixels are decoded)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return _check_manifest(path, json.loads(archive.read("manifest.json")))
    except SessionError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise SessionError(f"{path} is damaged or not a session file ({str(error)[:100]})") from None


def _check_box(box: list, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (int(value) for value in box)
    if not (0 <= x0 < x1 <= shape[1] and 0 <= y0 < y1 <= shape[0]):
        raise ValueError(f"step box {box} lies outside the image")
    return x0, y0, x1, y1


def _check_step(step: Step, session: EditSession) -> None:
    """Every stored part must decompress to its expected size, so a damaged file fails here, not at undo."""
    patch = int(np.prod(session._values_shape(step, step.changed_pixels()))) * session.original.dtype.itemsize
    masks = -(-session.shape[0] * session.shape[1] // 8)
    for part, expected in (("before", patch), ("after", patch), ("source_mask", masks), ("target_mask", masks)):
        if len(zlib.decompress(getattr(step, part))) != expected:
            raise ValueError(f"step {step.label!r}: its {part} has the wrong size")


def _read_original(path: Path, archive: zipfile.ZipFile, image: dict) -> np.ndarray:
    """The stored original, checked against the manifest (the pixel limit applies as for any image)."""
    from engine.imageio import decode_image

    try:
        pixels = decode_image(archive.read("original.png"), f"{path}:original.png").pixels
    except ImageReadError as error:
        raise SessionError(str(error)) from None
    if pixels.shape != tuple(image["shape"]) or pixels.dtype.str != image["dtype"]:
        raise SessionError(f"{path}: the stored original does not match its description")
    return pixels


def _read_selection(archive: zipfile.ZipFile, entry: dict, shape: tuple[int, int]) -> WorkingSelection:
    region, target = (_unpack_mask(archive.read(f"selection/{name}.z"), shape) for name in ("region", "target"))
    motion = entry.get("motion")
    return WorkingSelection(region, target, None if motion is None else ShapeMotion.from_json(motion),
                            bool(entry.get("from_edit", False)), pins_from_json(entry.get("pins", [])))


def load_session(path: str | Path) -> EditSession:
    """Reopen a project file exactly as it was saved."""
    path = Path(path)
    if not path.is_file():
        raise SessionError(f"{path}: no such session file")
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = _check_manifest(path, json.loads(archive.read("manifest.json")))
            names = set(archive.namelist())
            image = manifest["image"]
            pixels = _read_original(path, archive, image)
            source = image.get("source")
            artwork = Artwork(pixels=pixels, icc_profile=archive.read("icc_profile.bin") if "icc_profile.bin" in names else None,
                              exif=archive.read("exif.bin") if "exif.bin" in names else None,
                              source_format=image.get("source_format", ""), path=Path(source) if source else None)
            session = EditSession(artwork)
            for index, entry in enumerate(manifest["steps"]):
                parts = {part: archive.read(f"steps/{index:04d}_{part}.z") for part in ("before", "after", "source_mask", "target_mask")}
                changed = f"steps/{index:04d}_changed.z"  # none in version 1: the whole box
                parts["changed"] = archive.read(changed) if changed in names else None
                session.steps.append(Step(label=str(entry["label"]), box=_check_box(entry["box"], session.shape),
                                          thumbnail=session.original_thumbnail, timings=dict(entry.get("timings", {})), **parts))
                _check_step(session.steps[-1], session)
            while session.redo():
                session.steps[session.position - 1].thumbnail = thumbnail(session.current)
            session.go_to(int(manifest["position"]))
            if "selection" in manifest:
                session.selection = _read_selection(archive, manifest["selection"], session.shape)
    except SessionError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError, zlib.error, OSError) as error:
        raise SessionError(f"{path} is damaged or not a session file ({str(error)[:100]})") from None
    session.dirty = False
    return session


def snapshot(session: EditSession) -> EditSession:
    """A copy safe to save on another thread while the editor goes on (steps are shared, immutable)."""
    copied = copy.copy(session)
    copied.current = session.current.copy()
    copied.steps = list(session.steps)
    return copied
