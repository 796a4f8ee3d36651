"""The full-resolution SIM-Net edit: ``Manipulator.edit(image, source_mask, target_mask, reach=...)``.

The network works at a small fixed resolution on the square crop around the edit
(``models.influence.influence_box``). Its keypoint affines and attention (Eqs. 1-4, 8), aligned
at test time from several starts (the network's and the classical ones, ``models.hypotheses``),
give the region's motion (``models.refinement.align_motion``). ``engine.compose`` then builds the
result at full resolution within ``reach`` pixels of the region and its new shape
(``engine.locality``); every pixel beyond is bit-identical to the input, however many edits are
chained.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

import cv2
import numpy as np
import torch

from engine.checkpoint import load_model
from engine.errors import EditError, MaskError
from engine.masks import check_image, check_mask, mask_centroid
from engine.pixel_views import copy_pixels
from engine.compiler_import import skip_compiler_import
from engine.compose import BEND_MIN_JACOBIAN, Composition, Underlay, bend_jacobian, compose, transport_underlay
from engine.deferred_image import DeferredImage
from engine.devices import resolve_device, single_threaded_torch
from engine.edit_defaults import DEFAULT_ALIGN_SIZE, DEFAULT_ALIGN_STEPS
from engine.locality import box_within_reach, resolve_reach
from engine.matte import rim_shortfall, rim_width
from engine.render import check_resampling
from engine.shape_motion import ShapeMotion
from engine.unchanged_outline import grid_iou, keep_unchanged_outline
from engine.affine_polish import PolishCrop, exact_move_judge, polish_affine
from models.crops import canvas_in_working, mask_to_working
from models.influence import influence_box, influence_envelope, mask_bbox
from models.hypotheses import classical_starts, pixel_to_grid_affine
from models.refinement import align_motion
from models.simnet import Correspondence

log = logging.getLogger(__name__)
T = TypeVar("T")


class EditCancelled(Exception):
    """The caller's ``cancel()`` returned True; nothing was changed."""


@dataclass
class EditResult:
    """The outcome of one edit, at the resolution of the input image."""

    image: np.ndarray
    warped_mask: np.ndarray
    #: (x0, y0, x1, y1), end-exclusive: the only area where ``image`` may differ from the input.
    box: tuple[int, int, int, int]
    #: The region's backward motion (R, R, 2) in full-resolution pixels on the R x R grid over
    #: ``square`` (x0, y0, side): the new shape's pixel z shows the input at z + motion(z).
    displacement: np.ndarray | None = None
    square: tuple[int, int, int] | None = None
    #: The K+1 attention maps at working resolution (Eq. 4); map 0 keeps the original.
    attention: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)
    #: Notes for the user, e.g. a fallback from CUDA to the CPU.
    messages: list[str] = field(default_factory=list)
    #: The transition's width in pixels, and how the edit was composed ("bend" or "transport").
    reach: float = 0.0
    mode: str = ""

    @property
    def changed(self) -> bool:
        return self.box[2] > self.box[0] and self.box[3] > self.box[1]


class Manipulator:
    """Loads the SIM-Net generator once and makes edits with it; safe to call from one worker thread."""

    def __init__(self, checkpoint: str | Path | None = None, device: str = "auto", *,
                 align_steps: int = DEFAULT_ALIGN_STEPS, align_size: int = DEFAULT_ALIGN_SIZE) -> None:
        skip_compiler_import()  # the first L-BFGS would otherwise import torch's compiler stack (seconds)
        self.device = resolve_device(device)
        self.checkpoint = checkpoint
        self.model = load_model(checkpoint, device=str(self.device))
        self.model.eval()
        self.working_size = int(self.model.config.working_size)
        #: Test-time alignment of the K local affines (models/refinement.py); 0 steps: the raw network.
        self.align_steps = align_steps
        self.align_size = max(align_size, self.working_size)
        #: The underlay an edit made beside its motion, for :meth:`_compose` (per thread; see :meth:`edit`).
        self._underlays = threading.local()

    def warm_up(self, cancel: Callable[[], bool] | None = None) -> None:
        """Run one tiny edit so that torch's one-time set-up (kernel selection, lazy imports) happens now.

        The first edit otherwise pays it, holding the interpreter lock for a few hundred milliseconds
        at a time, which a GUI thread running beside it would feel as a freeze. ``cancel`` stops it
        between stages (e.g. when the editor closes right away).
        """
        ys, xs = np.mgrid[0:48, 0:48]
        image = ((xs * 5 + ys * 3) % 256).astype(np.uint8)[..., None].repeat(3, axis=2)
        source = (xs - 20) ** 2 + (ys - 24) ** 2 < 64
        try:
            self.edit(image, source, (xs - 26) ** 2 + (ys - 22) ** 2 < 81, cancel=cancel)
        except EditCancelled:
            pass

    def to(self, device: str) -> "Manipulator":
        """Move the model (e.g. to the CPU after CUDA ran out of memory)."""
        self.device = resolve_device(device)
        self.model.to(self.device)
        return self

    # -- the network -------------------------------------------------------------------------
    def _batch(self, array: np.ndarray) -> torch.Tensor:
        """An (S, S, C) working-resolution array as a (1, C, S, S) tensor on the model's device."""
        return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))[None].to(self.device)

    def _run_network(self, source: np.ndarray, target: np.ndarray, envelope: np.ndarray) -> Correspondence:
        """The network's keypoints, Jacobians and attention (Eqs. 1-4) for working-resolution masks."""
        inputs = (self._batch(source), self._batch(target), self._batch(envelope[..., None]))
        with torch.inference_mode():
            if self.device.type == "cuda":
                with torch.autocast("cuda", dtype=torch.float16):
                    return self.model.correspond(*inputs)
            with self._small_tensors():
                return self.model.correspond(*inputs)

    def _small_tensors(self) -> AbstractContextManager[None]:
        """The context for the edit's torch operators, all on small grids (64 to 256 pixels a side). On the
        CPU they run on one thread: two OpenMP threads save little there, and when the other core is busy
        (the transport's fill beside the motion, the batch's reader and writer, the GUI, another program)
        they wait for each other at every operator. That made the network 20 times slower (0.05 -> 1.2 s),
        and a finiteness check of 45,000 values took 35 ms instead of 0.1. The values are the same."""
        return single_threaded_torch() if self.device.type == "cpu" else nullcontext()

    def _with_cpu_fallback(self, stage: Callable[[], T], messages: list[str]) -> T:
        """Run one GPU stage of an edit; if CUDA runs out of memory, move to the CPU and run it again."""
        try:
            return stage()
        except torch.cuda.OutOfMemoryError:
            if self.device.type != "cuda":
                raise
            torch.cuda.empty_cache()
            messages.append("The GPU ran out of memory; SIM-Net switched to the CPU for this and later edits "
                            "(choose the device again in Settings to retry the GPU).")
            log.warning("CUDA out of memory: falling back to the CPU")
            self.to("cpu")
            return stage()

    # -- the edit ----------------------------------------------------------------------------
    def edit(self, image: np.ndarray | DeferredImage, source_mask: np.ndarray, target_mask: np.ndarray, *,
             reach: float | None = None, max_side: int | None = None, cancel: Callable[[], bool] | None = None,
             align_steps: int | None = None, use_network: bool = True,
             fill: Callable[[np.ndarray, np.ndarray, tuple[int, int, int, int]], np.ndarray] | None = None,
             on_box: Callable[[tuple[int, int, int, int]], None] | None = None,
             shape_motion: ShapeMotion | None = None, resampling: str = "bilinear") -> EditResult:
        """Reshape the region ``source_mask`` of ``image`` into ``target_mask``.

        ``reach`` is the width in pixels of the transition around the region and its new shape
        (None: ``engine.locality.default_reach``); nothing farther away changes. ``max_side`` makes
        a quick preview: the inputs are first reduced so their longer side is at most
        ``max_side`` (the reach with them), and the result has that reduced size. ``cancel`` is
        polled between stages; when it returns True, :class:`EditCancelled` is raised and nothing
        changes. ``align_steps`` overrides the test-time alignment steps for this edit (fewer for
        previews). ``use_network=False`` aligns from the classical starts alone (an ablation).
        ``fill`` stands in for the transport's fill (``engine.compose``, same signature as
        ``engine.fill.fill_window``, applied to the image the edit works on, reduced or not): the
        editor passes the fill it prepared when the region was selected (``engine.live_preview``).

        ``image`` may be a :class:`engine.deferred_image.DeferredImage`, pixels still being decoded:
        they are waited for only when the result is composed (the wait is timed as "pixels wait",
        outside every stage and the total). ``on_box`` is told the edit's box (x0, y0, x1, y1) once
        the motion is found, before the result is composed: nothing outside it changes (``simnet
        batch`` compresses the output's unchanged rows meanwhile). ``shape_motion``: how the editor's
        Transform and Warp moves made the new shape from the region (``engine.shape_motion``); an edit bent by
        pins follows them (:func:`follow_pins`). ``resampling`` is how the artwork is read along the motion,
        "bilinear" or "bicubic" (sharper: ``engine.render.RESAMPLING``).
        """
        started = time.perf_counter()
        deferred, waited = isinstance(image, DeferredImage), 0.0
        arriving = threading.Lock()

        def arrived() -> np.ndarray:
            """The image's pixels, once they are there (a deferred image is waited for once; any thread)."""
            nonlocal image
            with arriving:
                if isinstance(image, DeferredImage):
                    expected, pixels = image.shape, check_image(image.pixels())
                    if pixels.shape[:2] != tuple(expected):
                        raise EditError(f"the image is {pixels.shape[1]}x{pixels.shape[0]}, "
                                        f"not {expected[1]}x{expected[0]} as its masks")
                    image = pixels
                return image

        def pixels() -> np.ndarray:
            """:func:`arrived` in the edit's own thread, the time it waited counted apart."""
            nonlocal waited
            waiting = time.perf_counter()
            try:
                return arrived()
            finally:
                waited += time.perf_counter() - waiting

        if not deferred:
            image = check_image(image)
        height, width = image.shape[:2]
        source = check_mask(source_mask, (height, width), "source mask")
        target = check_mask(target_mask, (height, width), "target mask")
        source_bbox, target_bbox = mask_bbox(source), mask_bbox(target)
        if source_bbox is None:
            raise MaskError("the source mask is empty: select a region first")
        if target_bbox is None:
            raise MaskError("the target mask is empty: the region would vanish")
        if reach is not None and (not np.isfinite(reach) or reach < 0):
            raise EditError(f"the reach must be 0 pixels or more, not {reach}")
        try:
            check_resampling(resampling)
        except ValueError as error:
            raise EditError(str(error)) from None
        reduced = 1.0  # the working image's size over the input's
        if max_side is not None and max(height, width) > max_side:
            scale = reduced = max_side / max(height, width)
            reach = None if reach is None else reach * scale
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = check_image(cv2.resize(pixels(), size, interpolation=cv2.INTER_AREA))
            source = cv2.resize(source.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
            target = cv2.resize(target.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
            height, width = image.shape[:2]
            source_bbox, target_bbox = mask_bbox(source), mask_bbox(target)
            if source_bbox is None or target_bbox is None:
                raise MaskError("the region is too small to preview at this size")
        # The masks' geometry is read on their bounding box, which holds every pixel of both: the
        # canvas around it costs nothing.
        ux0, uy0, ux1, uy1 = _union_box(source_bbox, target_bbox)
        source_crop, target_crop = source[uy0:uy1, ux0:ux1], target[uy0:uy1, ux0:ux1]
        automatic = reach is None
        reach = resolve_reach(source_crop, target_crop, reach, max(height, width))
        if np.array_equal(source_crop, target_crop):
            unchanged = pixels().copy()
            return EditResult(image=unchanged, warped_mask=source.copy(), box=(0, 0, 0, 0),
                              timings=_with_wait({"total": time.perf_counter() - started - waited}, deferred, waited),
                              reach=reach)

        def check_cancel() -> None:
            if cancel is not None and cancel():
                raise EditCancelled()

        # A selection short of its object's edge: a carried region's default reach takes the edge in too (its rim
        # moves with it, engine.shortfall), at most the rim's band more; a bend keeps the default (its transition is
        # the surroundings' own). The shortfall needs the pixels, the motion does not: the square the motion is
        # found on holds the widest box, and the shortfall is found once the pixels are there.
        bend_reach, masks_box = reach, (ux0, uy0, ux1, uy1)
        widest = reach + (rim_width(source_crop, (height, width)) if automatic else 0.0)
        box = bend_box = box_within_reach(masks_box, bend_reach, (height, width))
        x0, y0, side = influence_box(source_crop, target_crop)
        x0, y0, side = _covering_square((x0 + ux0, y0 + uy0, side),
                                        box_within_reach(masks_box, widest, (height, width)))

        def widened(image_now: np.ndarray) -> tuple[float | None, float, tuple[int, int, int, int]]:
            """The shortfall (None for a reach the user set), the transport's reach and its box."""
            if not automatic:
                return None, bend_reach, bend_box
            found = rim_shortfall(image_now, source_crop, masks_box)
            return found, bend_reach + found, box_within_reach(masks_box, bend_reach + found, (height, width))

        # A far move is composed as a transport, whose underlay (the footprint, its fill) does not
        # depend on the motion: it is made in a second thread while the network and the alignment
        # (one thread) find the motion. Not for an edit that may be cancelled: it would wait for it.
        underlay = widening = None
        if cancel is None and _surely_transport(source, target, (x0, y0, side), box, bend_reach, masks_box):
            widening = Future()

            def make_underlay() -> Underlay:
                try:
                    found = widened(arrived())
                except BaseException as error:
                    widening.set_exception(error)
                    raise
                widening.set_result(found)
                shortfall_found, transport_reach, transport_box = found
                return transport_underlay(arrived, source, target, transport_reach, transport_box, fill,
                                          shortfall_found)

            underlayer = ThreadPoolExecutor(1, thread_name_prefix="edit-underlay")
            underlay = underlayer.submit(make_underlay)
            underlayer.shutdown(wait=False)  # its thread ends with this one job
        try:
            size = self.working_size
            source_work = mask_to_working(source, x0, y0, side, size)
            target_work = mask_to_working(target, x0, y0, side, size)
            # The alignment's finer grid, and the edit's area of influence on it, computed once: the
            # network gets it reduced to its working grid.
            align_size = min(self.align_size, max(size, side))
            source_fine = mask_to_working(source, x0, y0, side, align_size)
            target_fine = mask_to_working(target, x0, y0, side, align_size)
            envelope = influence_envelope(source_fine[..., 0], target_fine[..., 0])
            envelope_work = envelope if align_size == size else cv2.resize(envelope, (size, size),
                                                                           interpolation=cv2.INTER_AREA)
            prepared = time.perf_counter()
            check_cancel()

            messages: list[str] = []
            correspondence = self._with_cpu_fallback(
                lambda: self._run_network(source_work, target_work, envelope_work), messages)
            with self._small_tensors():
                finite = correspondence.is_finite()
            if not finite:
                raise EditError("the network produced invalid values (NaN/Inf); the edit was refused and nothing changed")
            networked = time.perf_counter()
            check_cancel()
            steps = self.align_steps if align_steps is None else align_steps
            polish_crop = PolishCrop.of(source, target, (ux0, uy0, ux1, uy1)) if steps > 0 else None
            exact = None if polish_crop is None else exact_move_judge(target, (x0, y0, side), polish_crop)
            with torch.autograd.profiler.record_function(ALIGN_RECORD):  # named for `simnet bench`'s launch count
                motion = self._with_cpu_fallback(
                    lambda: self._align(correspondence, source_fine, target_fine, envelope, (x0, y0, side), source.shape,
                                        steps, use_network, exact), messages)
            with self._small_tensors():
                if not torch.isfinite(motion).all():
                    raise EditError("the alignment produced invalid values (NaN/Inf); the edit was refused and "
                                    "nothing changed")
                motion = (motion * (side / 2.0)).cpu().numpy()  # pixels at full resolution
            if polish_crop is not None:
                motion = polish_affine(source, target, motion, (x0, y0, side), crop=polish_crop)
            if shape_motion is not None and shape_motion.bent_by_pins:
                # The Warp tool's pins say where their paint goes (engine.shape_motion).
                motion = follow_pins(motion, shape_motion, source_fine[..., 0], target_fine[..., 0], (x0, y0, side),
                                     reduced)
            else:
                # What the user left of the outline stays where it is (a large growth stretched as one affine
                # would slide it along, engine.unchanged_outline).
                motion = keep_unchanged_outline(source, target, source_fine[..., 0], target_fine[..., 0], motion,
                                                (x0, y0, side))
            attention = correspondence.attention[0].float().cpu().numpy()
            refined = time.perf_counter()
            check_cancel()
            image = pixels()
            shortfall, reach, box = widened(image) if widening is None else widening.result()
            if on_box is not None and max_side is None:  # told now, when the motion no longer needs the core
                on_box(box)
            self._underlays.current = None if underlay is None else underlay.result
            try:
                composition = self._with_cpu_fallback(
                    lambda: self._compose(image, source, target, motion, (x0, y0, side), reach, box,
                                          fill, resampling, bend_reach, shortfall), messages)
            finally:
                self._underlays.current = None
            bx0, by0, bx1, by1 = composition.box
            result = image.copy()
            copy_pixels(result[by0:by1, bx0:bx1], composition.patch, composition.changed)
            warped = source.copy()
            np.copyto(warped[by0:by1, bx0:bx1], composition.warped_mask, where=composition.changed)
            rendered = time.perf_counter()
            return EditResult(
                image=result, warped_mask=warped, box=composition.box, displacement=motion, square=(x0, y0, side),
                attention=attention,
                timings=_with_wait({"prepare": prepared - started, "network": networked - prepared,
                                    "align": refined - networked, "render": rendered - refined - waited,
                                    "total": rendered - started - waited}, deferred, waited),
                messages=messages, reach=bend_reach if composition.mode == "bend" else reach, mode=composition.mode)
        finally:
            if underlay is not None:
                wait([underlay])  # not used (a bend after all, or an error): still never left running

    def _compose(self, image: np.ndarray, source: np.ndarray, target: np.ndarray, motion: np.ndarray,
                 square: tuple[int, int, int], reach: float, box: tuple[int, int, int, int],
                 fill: Callable | None = None, resampling: str = "bilinear",
                 bend_reach: float | None = None, shortfall: float | None = None) -> Composition:
        """The full-resolution result within the reach, on the model's device (``engine.compose``), with
        the transport's underlay made beside the motion when this edit made one (:meth:`edit`)."""
        underlay: Callable[[], Underlay] | None = getattr(self._underlays, "current", None)
        return compose(image, source, target, motion, square, reach, self.device, box, fill=fill, underlay=underlay,
                       resampling=resampling, bend_reach=bend_reach, shortfall=shortfall)

    def _align(self, correspondence: Correspondence, source_work: np.ndarray, target_work: np.ndarray,
               envelope: np.ndarray, square: tuple[int, int, int], canvas: tuple[int, ...], steps: int,
               use_network: bool = True, exact: Callable[[torch.Tensor], bool] | None = None) -> torch.Tensor:
        """The region's backward motion (R, R, 2), grid units, after test-time alignment on the
        masks at R x R, started from the network's affines and the classical ones."""
        x0, y0, side = square
        size = source_work.shape[0]
        inside = canvas_in_working(canvas, x0, y0, side, size)
        starts = classical_starts(source_work[..., 0], target_work[..., 0], inside[..., 0])
        affines = [pixel_to_grid_affine(start, size) for start in starts]
        tensors = None
        if affines:
            tensors = (torch.tensor(np.stack([linear for linear, _ in affines]), dtype=torch.float32)[None],
                       torch.tensor(np.stack([offset for _, offset in affines]), dtype=torch.float32)[None])
        with self._small_tensors():
            motion = align_motion(correspondence.to(self.device), self._batch(source_work), self._batch(target_work),
                                  self._batch(envelope[..., None]), steps=steps, starts=tensors,
                                  valid=self._batch(inside), use_network=use_network, exact=exact)
        return motion[0]


#: The pins' motion replaces the aligned one unless it carries the region's mask onto the new shape worse than
#: that by more than this (grid IoU): it always should, the new shape being the region bent by the pins.
PINS_IOU_SLACK = 0.05


def follow_pins(motion: np.ndarray, shape_motion: ShapeMotion, source_grid: np.ndarray, target_grid: np.ndarray,
                square: tuple[int, int, int], scale: float = 1.0) -> np.ndarray:
    """The backward motion (R, R, 2 pixels on the grid over ``square``) that ``shape_motion``'s moves make, in
    place of ``motion`` (the one found from the masks), for a new shape bent by Warp pins: the masks alone
    leave a bend ambiguous, the pins do not. ``source_grid``, ``target_grid``: the masks' coverages (R, R) on
    the grid; ``scale``: the working image's size over the one the moves were made on. ``motion`` is kept
    when the pins' motion misses the masks (it should not)."""
    size = motion.shape[0]
    pinned = shape_motion.grid_motion(square, size, scale)
    per_cell = square[2] / size
    source, target = source_grid > 0.5, target_grid > 0.5
    if grid_iou(source, target, pinned / per_cell) < grid_iou(source, target, motion / per_cell) - PINS_IOU_SLACK:
        return motion
    return pinned


#: The profiler's name for the alignment stage of an edit.
ALIGN_RECORD = "simnet.align"
#: The underlay of a transport is made while the motion is found when the masks' own shift would
#: give the bend a Jacobian determinant this far below the least it may have (the motion found may
#: differ from that shift: turned, scaled; a misjudged bend only costs the wait for the underlay).
SURE_TRANSPORT_MARGIN = 0.5


def _surely_transport(source: np.ndarray, target: np.ndarray, square: tuple[int, int, int],
                      box: tuple[int, int, int, int], reach: float, masks_box: tuple[int, int, int, int]) -> bool:
    """Whether ``engine.compose`` will transport the region rather than bend its surroundings, judged
    before the motion is known: the bend's check (``engine.compose.bend_jacobian``) on the shift
    between the masks' centres, as if that were the motion."""
    ux0, uy0, ux1, uy1 = masks_box
    centres = [np.array(mask_centroid(mask[uy0:uy1, ux0:ux1]), np.float32) for mask in (source, target)]
    shift = np.broadcast_to(centres[0] - centres[1], (2, 2, 2))  # backward: the new shape reads the old place
    return bend_jacobian(source, target, shift, square, box, reach) < BEND_MIN_JACOBIAN - SURE_TRANSPORT_MARGIN


def _with_wait(timings: dict[str, float], deferred: bool, waited: float) -> dict[str, float]:
    """An edit's stage timings, with the wait for a deferred image's pixels when it had one."""
    return dict(timings, **{"pixels wait": waited}) if deferred else timings


def _union_box(first: tuple[int, int, int, int], second: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The bounding box (x0, y0, x1, y1) of two boxes."""
    return min(first[0], second[0]), min(first[1], second[1]), max(first[2], second[2]), max(first[3], second[3])


def _covering_square(square: tuple[int, int, int], box: tuple[int, int, int, int] | None) -> tuple[int, int, int]:
    """``square`` (x0, y0, side), grown about its centre just enough to hold ``box`` (x0, y0, x1, y1)."""
    x0, y0, side = square
    if box is None:
        return square
    bx0, by0, bx1, by1 = box
    cx, cy = x0 + side / 2.0, y0 + side / 2.0
    need = 2.0 * max(cx - bx0, bx1 - cx, cy - by0, by1 - cy)
    if need <= side:
        return square
    side = int(np.ceil(need))
    return int(np.floor(cx - side / 2.0)), int(np.floor(cy - side / 2.0)), side
