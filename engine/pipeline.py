"""File-level edits shared by ``simnet edit`` and ``simnet batch``: read, edit, write atomically."""
from __future__ import annotations

import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from engine.atomic import check_writable, same_file
from engine.deferred_image import DeferredImage
from engine.errors import ImageWriteError, MaskError, SimNetError
from engine.imageio import (Artwork, check_mask_size, decode_image, load_image, load_mask, max_pixels_from_environment,
                            output_format, read_image_file, save_image)
from engine.mask_warp import pin_warp
from engine.png import StripsAhead, compress_strips_ahead
from engine.shape_motion import Pins, ShapeMotion

if TYPE_CHECKING:  # the restyle's file steps use this module without loading SIM-Net (torch)
    from engine.manipulator import EditResult, Manipulator
    from engine.removal import Removal


def check_output(image_path: Path, output_path: Path, overwrite_original: bool,
                 other_inputs: dict[str, str | Path | None] | None = None) -> None:
    """Raise :class:`ImageWriteError` before any work when ``output_path`` is the artwork itself and that was not
    asked for, when it is one of ``other_inputs`` (by what each is: "the region mask", "the exemplar": an exemplar
    or a mask was written over without a word; an exemplar that is the artwork itself goes as the artwork), or when
    it cannot be written (its folder missing or read-only: found after the edit before)."""
    if same_file(image_path, output_path) and not overwrite_original:
        raise ImageWriteError(f"{output_path} is the original artwork; choose another output "
                              "(or pass --overwrite-original)")
    for what, path in (other_inputs or {}).items():
        if path is not None and same_file(Path(path), Path(output_path)) and not same_file(Path(path), image_path):
            raise ImageWriteError(f"{output_path} is {what}, an input of this edit; choose another output")
    check_writable(output_path)


def resolved_path(path: Path) -> Path:
    """``path`` made absolute with links resolved, as far as the file system allows."""
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


@dataclass
class EditInputs:
    """An artwork and its two masks, read and checked, ready for an edit.

    The artwork may still be decoding in another thread (:func:`read_inputs` with a ``decoder``):
    :attr:`artwork` then waits for it, and :meth:`image` gives the edit a promise of the pixels.
    """

    pending_artwork: Artwork | Future[Artwork]
    source: np.ndarray
    target: np.ndarray
    output_path: Path
    #: The mask files, named when a deferred artwork turns out not to be the masks' size.
    mask_paths: tuple[Path, Path] | None = None
    #: How the new shape came from the region when pins bent it (:func:`bent_by_pins`): the edit follows them.
    shape_motion: ShapeMotion | None = None

    @property
    def artwork(self) -> Artwork:
        """The decoded artwork (waits for it; raises the read's error, or a mask's size error)."""
        if not isinstance(self.pending_artwork, Future):
            return self.pending_artwork
        artwork = self.pending_artwork.result()
        shape = artwork.pixels.shape[:2]
        if self.mask_paths is not None:  # the checks read_inputs makes at once when it decodes first
            check_mask_size(self.source, shape, self.mask_paths[0])
            check_mask_size(self.target, shape, self.mask_paths[1])
        return artwork

    def image(self) -> np.ndarray | DeferredImage:
        """What ``Manipulator.edit`` takes: the pixels, or their promise while they are decoding."""
        if not isinstance(self.pending_artwork, Future):
            return self.pending_artwork.pixels
        return DeferredImage(self.source.shape[:2], lambda: self.artwork.pixels)


def read_inputs(image_path: str | Path, source_mask_path: str | Path, target_mask_path: str | Path,
                output_path: str | Path, *, overwrite_original: bool = False,
                decoder: Executor | None = None) -> EditInputs:
    """Read and check everything an edit needs before any model is loaded, so bad input fails fast.

    Writing over the input artwork itself is refused unless ``overwrite_original`` is set.

    With a ``decoder`` (an executor; one thread is enough) the artwork is decoded there while the
    masks are read here, and the inputs come back before its pixels are done: an edit finds the
    motion from the masks alone and needs the pixels only to compose, so on a second core the
    decode costs no time (a 4096x2160 PNG: 0.3 s). The errors are the same ones, in the same
    order: the artwork's first, then the masks' (their size checked against the decoded artwork).
    Only damaged pixel data is found after the masks are read: it is raised here when a mask
    fails too, else when the pixels are asked for (:attr:`EditInputs.artwork`).
    """
    image_path, output_path = Path(image_path), Path(output_path)
    check_output(image_path, output_path, overwrite_original,
                 {"the source mask": source_mask_path, "the target mask": target_mask_path})
    if decoder is None:
        artwork = load_image(image_path)
        return EditInputs(artwork, *_masks(source_mask_path, target_mask_path, artwork.pixels.shape[:2]), output_path)
    limit = max_pixels_from_environment()
    decoding = decoder.submit(decode_image, read_image_file(image_path, limit), image_path, limit)
    try:
        source, target = _masks(source_mask_path, target_mask_path)
    except SimNetError:
        decoding.result()  # an unreadable artwork is reported before its masks, as without a decoder
        raise
    inputs = EditInputs(decoding, source, target, output_path, (Path(source_mask_path), Path(target_mask_path)))
    if source.shape != target.shape:  # one of them is not the artwork's size: the artwork says which
        inputs.artwork  # noqa: B018 - raises the first mask's size error
    return inputs


def _masks(source_path: str | Path, target_path: str | Path, shape: tuple[int, int] | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """The two masks, read once when they are one file (``simnet edit --pin`` names the region for both)."""
    source = load_mask(source_path, shape)
    target = source.copy() if same_file(Path(source_path), Path(target_path)) else load_mask(target_path, shape)
    return source, target


def bent_by_pins(inputs: EditInputs, pins_from: Sequence[tuple[float, float]], pins_to: Sequence[tuple[float, float]]
                 ) -> EditInputs:
    """``inputs`` with the new shape made from the region by moving pins from ``pins_from`` to ``pins_to``
    (``engine.mask_warp.pin_warp``, the editor's Warp tool) and the :class:`ShapeMotion` the edit follows.
    Pins that are not finite numbers, that start off the painting, or two pins at one place dragged to two
    places, are refused."""
    starts, ends = np.asarray(pins_from, np.float64).reshape(-1, 2), np.asarray(pins_to, np.float64).reshape(-1, 2)
    if not (np.isfinite(starts).all() and np.isfinite(ends).all()):
        raise MaskError("a pin's places must be finite numbers (x, y in pixels)")
    height, width = inputs.source.shape
    for x, y in starts:
        if not (0 <= x < width and 0 <= y < height):
            raise MaskError(f"a pin at ({x:g}, {y:g}) is outside the {width}x{height} painting: a pin starts on it")
    for first in range(len(starts)):
        for second in range(first + 1, len(starts)):
            if np.hypot(*(starts[first] - starts[second])) < 1.0 and np.hypot(*(ends[first] - ends[second])) >= 1.0:
                x, y = starts[first]
                raise MaskError(f"two pins at ({x:g}, {y:g}) are dragged to two different places; give each place one pin")
    target = pin_warp(inputs.source, pins_from, pins_to)
    if not target.any():
        raise MaskError("the pins take the whole region off the painting")
    pins = Pins(tuple(map(tuple, pins_from)), tuple(map(tuple, pins_to)))
    return replace(inputs, target=target, shape_motion=ShapeMotion((pins,)))


def edit_inputs(manipulator: Manipulator, inputs: EditInputs, *, reach: float | None = None,
                resampling: str = "bilinear") -> EditResult:
    """Edit and write the result (colour profile and metadata carried over); ``reach`` and ``resampling``
    as ``Manipulator.edit`` takes them.

    The output is written to a temporary file and renamed, so a failure leaves no partial file
    and any previous file at the output path intact.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="edit-ahead") as compressor:
        ahead = UnchangedStrips(inputs, compressor)
        result = manipulator.edit(inputs.image(), inputs.source, inputs.target, reach=reach, on_box=ahead.start,
                                  shape_motion=inputs.shape_motion, resampling=resampling)
        started = time.perf_counter()
        write_result(inputs, result, ahead.result())
    result.timings["write"] = time.perf_counter() - started
    return result


def write_result(inputs: EditInputs, result: EditResult, ahead: StripsAhead | None = None) -> None:
    """Write an edit's result to the inputs' output path, atomically, with the artwork's colour
    profile and metadata; ``ahead``: PNG strips of the artwork compressed while it was edited
    (:func:`compress_unchanged`)."""
    save_image(inputs.output_path, result.image, icc_profile=inputs.artwork.icc_profile, exif=inputs.artwork.exif,
               ahead=ahead)


def compress_unchanged(inputs: EditInputs, box: tuple[int, int, int, int]) -> StripsAhead | None:
    """The output's PNG strips that an edit within ``box`` leaves unchanged, compressed from the
    artwork now (in the calling thread, e.g. while the edit runs); None when the output is not a
    PNG or the artwork cannot be read (the edit reports that)."""
    if output_format(inputs.output_path) != "PNG":
        return None
    try:
        pixels = inputs.artwork.pixels
    except SimNetError:
        return None
    return compress_strips_ahead(pixels, (box[1], box[3]))


class UnchangedStrips:
    """:func:`compress_unchanged` on ``executor``, started by the edit as soon as it tells its box
    (pass :meth:`start` as ``Manipulator.edit``'s ``on_box``)."""

    def __init__(self, inputs: EditInputs, executor: Executor) -> None:
        self._inputs, self._executor = inputs, executor
        self._compressing: Future[StripsAhead | None] | None = None

    def start(self, box: tuple[int, int, int, int]) -> None:
        self._compressing = self._executor.submit(compress_unchanged, self._inputs, box)

    def result(self) -> StripsAhead | None:
        """The strips (waits for them); None when the edit never told its box."""
        return None if self._compressing is None else self._compressing.result()


def edit_file(manipulator: Manipulator, image_path: str | Path, source_mask_path: str | Path,
              target_mask_path: str | Path, output_path: str | Path, *,
              overwrite_original: bool = False, reach: float | None = None, resampling: str = "bilinear"
              ) -> EditResult:
    """Read, edit and write one artwork file (see :func:`read_inputs` and :func:`edit_inputs`).

    The result's timings add "read" and "write" to the edit's own stages."""
    started = time.perf_counter()
    with ThreadPoolExecutor(1, thread_name_prefix="edit-decode") as decoder:
        inputs = read_inputs(image_path, source_mask_path, target_mask_path, output_path,
                             overwrite_original=overwrite_original, decoder=decoder)
        read = time.perf_counter() - started
        result = edit_inputs(manipulator, inputs, reach=reach, resampling=resampling)
    result.timings["read"] = read + result.timings.pop("pixels wait", 0.0)
    return result


def remove_file(image_path: str | Path, region_path: str | Path, output_path: str | Path, *,
                reach: float | None = None, overwrite_original: bool = False) -> "Removal":
    """Read one artwork and its region mask, remove the region (``engine.removal``), write the result
    atomically with the artwork's colour profile and metadata. Timings: "read", "total" (the fill), "write"."""
    from engine.removal import remove_region

    started = time.perf_counter()
    image_path, output_path = Path(image_path), Path(output_path)
    check_output(image_path, output_path, overwrite_original, {"the region mask": region_path})
    artwork = load_image(image_path)
    region = load_mask(region_path, artwork.pixels.shape[:2])
    read = time.perf_counter() - started
    removal = remove_region(artwork.pixels, region, reach=reach)
    started = time.perf_counter()
    save_image(output_path, removal.image, icc_profile=artwork.icc_profile, exif=artwork.exif)
    removal.timings.update(read=read, write=time.perf_counter() - started)
    return removal
