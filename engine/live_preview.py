"""The edit while the hand moves: the painting redrawn at screen resolution on every mouse move.

What does not depend on the new shape is prepared once, in the background, as soon as a region is
selected (:func:`prepare_live`):

- the **plate**: the painting with the region's whole footprint filled (``engine.fill``), at the
  resolution the painting is shown at; the full-resolution fill is kept too
  (:class:`FootprintFill`), for the Apply that follows;
- the **layer**: the region's own pixels with its coverage as alpha, at the same resolution.

Each frame (:func:`live_frame`) then only carries the layer by the transform being dragged (one
``cv2.warpAffine`` of a screen-sized patch) and lays it over the plate: milliseconds, whatever the
painting's size. The refined edit (alignment and transition) replaces the live frame after the
release. A plate belongs to one image and one region (:class:`PlateKey`); a stale one is never used.

The footprint is what ``engine.compose`` clears when the region moves: the region with its rim
(``engine.matte.vacated_footprint``: the matte's support and margin, for the default reach), so
the full-resolution fill is exactly the fill that the edit's transport would compute: Apply pastes
it instead of filling again, with identical pixels. The layer carries the matte as its alpha, so
the region's painted outline moves with it in the live frames too.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from engine.fill import fill_window
from engine.locality import place_over, region_size
from engine.matte import Footprint, rim_width, vacated_footprint
from engine.mask_warp import dense_map
from engine.masks import affine_about, mask_centroid, transform_linear
from models.hypotheses import classical_starts, mask_iou
from models.influence import mask_bbox

#: Test-time alignment steps of the refined preview after a release (Apply uses the engine's default).
PREVIEW_ALIGN_STEPS = 12
#: The live frame is never made larger than this many pixels a side (frame rate on 2 CPU cores).
LIVE_MAX_SIDE = 2560
#: The layer is kept this many times finer than the screen (up to the painting's own pixels).
LAYER_OVERSAMPLE = 2.0
#: The masks are reduced to this many pixels a side to read the region's current placement.
PLACEMENT_SIDE = 256
#: Placements whose mask IoU is this close to the best one count as equally good.
PLACEMENT_TIE = 0.01

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class PlateKey:
    """What a plate was made from: the document's image version and the region's hash."""

    image_version: int
    region_hash: str


def footprint(image: np.ndarray, region: np.ndarray) -> Footprint | None:
    """What moving ``region`` vacates (``engine.matte.vacated_footprint``); None for an empty region."""
    height, width = region.shape
    return vacated_footprint(image, region, (0, 0, width, height), rim_width(region, image.shape))


@dataclass
class FootprintFill:
    """The full-resolution fill of a region's footprint, usable as ``engine.compose``'s fill.

    Called as ``fill(image, hole, box)`` (the signature of ``engine.fill.fill_window``), it returns
    the stored fill when ``hole`` is exactly this footprint, and fills from scratch otherwise."""

    box: Box
    hole: np.ndarray
    filled: np.ndarray  # image[box] with the hole filled
    reused: int = 0

    def _placed_if_matching(self, hole: np.ndarray, box: Box) -> np.ndarray | None:
        """This footprint placed over ``box`` when ``hole`` (a mask over ``box``) is exactly it (the
        boxes may differ), else None."""
        ex0, ey0, ex1, ey1 = box
        if hole.shape != (ey1 - ey0, ex1 - ex0):
            return None
        placed = place_over(self.hole, self.box, box)
        whole = np.count_nonzero(placed) == np.count_nonzero(self.hole)  # none of it lies outside the box
        return placed if whole and np.array_equal(placed, hole) else None

    def __call__(self, image: np.ndarray, hole: np.ndarray, box: Box, *,
                 forbidden: np.ndarray | None = None) -> np.ndarray:
        placed = self._placed_if_matching(hole, box)
        if placed is None:
            return fill_window(image, hole, box, forbidden=forbidden)
        ex0, ey0, ex1, ey1 = box
        result = image[ey0:ey1, ex0:ex1].copy()
        result[placed] = place_over(self.filled, self.box, box)[placed]
        self.reused += 1
        return result


def fill_footprint(image: np.ndarray, region: np.ndarray) -> FootprintFill | None:
    """The painting with the region's footprint filled, at full resolution (``engine.fill``)."""
    found = footprint(image, region)
    if found is None:
        return None
    return FootprintFill(found.box, found.vacated, fill_window(image, found.vacated, found.box))


def _display(image: np.ndarray) -> np.ndarray:
    """8-bit RGB (uint16 shifted down, grey repeated, alpha dropped), contiguous."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    if image.ndim == 2:
        image = image[..., None]
    image = np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[..., :3]
    return np.ascontiguousarray(image)


def _to_screen(crop: np.ndarray, box: Box, scale: float, screen: tuple[int, int]) -> tuple[np.ndarray, Box]:
    """An image-space crop (over ``box``) resampled to the screen grid: the array and its screen box."""
    x0, y0, x1, y1 = box
    sx0, sy0 = int(np.floor(x0 * scale)), int(np.floor(y0 * scale))
    sx1 = min(screen[1], max(sx0 + 1, int(np.ceil(x1 * scale))))
    sy1 = min(screen[0], max(sy0 + 1, int(np.ceil(y1 * scale))))
    # The crop's pixels land on [sx0, sx1) x [sy0, sy1): exact up to half a screen pixel.
    return cv2.resize(crop, (sx1 - sx0, sy1 - sy0), interpolation=cv2.INTER_AREA), (sx0, sy0, sx1, sy1)


@dataclass
class LivePlate:
    """Everything a live frame needs, at screen resolution (``scale`` screen pixels per image pixel)."""

    key: PlateKey
    scale: float
    side: int  # the plate's longer side: ``Manipulator.edit(max_side=side)`` works on the plate's grid
    shape: tuple[int, int]  # the image's (H, W)
    plate: np.ndarray  # (h, w, 3) uint8: the painting with the footprint filled
    layer: np.ndarray  # (lh, lw, 4) uint8: the region's colours premultiplied by its coverage, and the coverage
    layer_scale: float  # the layer's pixels per image pixel (finer than the screen's)
    layer_box: Box  # where the layer lies on its own grid
    footprint_box: Box  # the filled area on the screen grid
    fill: FootprintFill | None  # the full-resolution fill, for Apply
    timings: dict[str, float] = field(default_factory=dict)


def live_scale(shape: tuple[int, int], max_side: int) -> float:
    """Screen pixels per image pixel for a painting shown at most ``max_side`` pixels a side."""
    return min(1.0, min(max_side, LIVE_MAX_SIDE) / max(shape))


def prepare_live(image: np.ndarray, region: np.ndarray, key: PlateKey, max_side: int, *,
                 cancel: Callable[[], bool] | None = None, quick: Callable[[LivePlate], None] | None = None,
                 fill: FootprintFill | None = None) -> LivePlate | None:
    """The plate and layer for live frames of ``region`` (None for an empty region or when cancelled).

    ``max_side`` is the painting's longer side as shown on screen (capped at :data:`LIVE_MAX_SIDE`).
    The footprint is filled at full resolution (kept for Apply) and shown reduced. With ``quick``,
    a first plate whose footprint is filled on the screen grid (a fraction of a second, even at 8K;
    its ``fill`` is None) is handed to ``quick`` before the full-resolution fill is made. ``fill``
    is a full-resolution fill made earlier for this image and region (reused when its footprint is
    this region's, e.g. when the zoom changed)."""
    started = time.perf_counter()
    found = footprint(image, region)
    if found is None:
        return None
    height, width = region.shape
    scale = live_scale((height, width), max_side)
    screen = (max(1, round(height * scale)), max(1, round(width * scale)))
    reduced = cv2.resize(image, (screen[1], screen[0]), interpolation=cv2.INTER_AREA) if scale < 1.0 else image
    plate = _display(reduced)
    if np.shares_memory(plate, image):  # the plate is drawn on: never on the painting itself
        plate = plate.copy()
    timings = {"reduce": time.perf_counter() - started}
    if cancel is not None and cancel():
        return None
    box, hole = found.box, found.vacated
    bx0, by0, bx1, by1 = box
    # The layer: the region's colours premultiplied by its coverage, finer than the screen (a region
    # scaled up while dragging stays sharp).
    layer_scale = min(1.0, scale * LAYER_OVERSAMPLE)
    layer_grid = (max(1, round(height * layer_scale)), max(1, round(width * layer_scale)))
    coverage, layer_box = _to_screen(found.matte, box, layer_scale, layer_grid)
    colours, _ = _to_screen(_display(image[by0:by1, bx0:bx1]), box, layer_scale, layer_grid)
    alpha = np.clip(coverage, 0.0, 1.0)[..., None]
    layer = np.concatenate([np.rint(colours * alpha), np.rint(alpha * 255.0)], axis=2).astype(np.uint8)
    share, footprint_box = _to_screen(hole.astype(np.float32), box, scale, screen)
    share = np.clip(share, 0.0, 1.0)[..., None]
    lx0, ly0, lx1, ly1 = footprint_box

    def made(shown_plate: np.ndarray, with_fill: FootprintFill | None) -> LivePlate:
        timings["total"] = time.perf_counter() - started
        return LivePlate(key, scale, max(screen), (height, width), shown_plate, layer, layer_scale, layer_box,
                         footprint_box, with_fill, dict(timings))

    reusable = fill is not None and fill.box == box and np.array_equal(fill.hole, hole)
    if quick is not None and not reusable:
        first = plate.copy()
        first[ly0:ly1, lx0:lx1] = fill_window(first, share[..., 0] > 0, footprint_box)
        timings["quick"] = time.perf_counter() - started
        quick(made(first, None))
        if cancel is not None and cancel():
            return None
    stamp = time.perf_counter()
    if not reusable:
        fill = FootprintFill(box, hole, fill_window(image, hole, box))
    timings["fill"] = time.perf_counter() - stamp
    if cancel is not None and cancel():
        return None
    # The fill, reduced, laid over the plate where the footprint is (its coverage as the share).
    shown, _ = _to_screen(_display(fill.filled), box, scale, screen)
    under = plate[ly0:ly1, lx0:lx1].astype(np.float32)
    plate[ly0:ly1, lx0:lx1] = np.rint(share * shown.astype(np.float32) + (1.0 - share) * under).astype(np.uint8)
    return made(plate, fill)


@dataclass
class LiveFrame:
    """A live frame: ``patch`` is the screen-resolution painting over ``box`` (screen pixels);
    elsewhere the painting is unchanged. ``scale`` maps image pixels to screen pixels."""

    patch: np.ndarray
    box: Box
    scale: float


def live_frame(live: LivePlate, affine: np.ndarray) -> LiveFrame:
    """The region carried by the forward 2x3 ``affine`` (image pixels) over the filled plate."""
    scale, fine = live.scale, live.layer_scale
    lx0, ly0, lx1, ly1 = live.layer_box
    # Layer pixel (i, j) -> image point ((lx0 + i + 0.5) / fine - 0.5, ...) -> affine -> screen.
    to_image = np.array([[1.0 / fine, 0.0, (lx0 + 0.5) / fine - 0.5], [0.0, 1.0 / fine, (ly0 + 0.5) / fine - 0.5],
                         [0.0, 0.0, 1.0]])
    to_screen = np.array([[scale, 0.0, 0.5 * scale - 0.5], [0.0, scale, 0.5 * scale - 0.5], [0.0, 0.0, 1.0]])
    forward = to_screen @ np.vstack([np.asarray(affine, np.float64), [0.0, 0.0, 1.0]]) @ to_image
    corners = np.array([[0, 0, 1], [lx1 - lx0, 0, 1], [0, ly1 - ly0, 1], [lx1 - lx0, ly1 - ly0, 1]], np.float64)
    moved = corners @ forward[:2].T
    mx0, my0 = np.floor(moved.min(axis=0)).astype(int) - 1
    mx1, my1 = np.ceil(moved.max(axis=0)).astype(int) + 2
    patch, (ux0, uy0, ux1, uy1), (wx0, wy0, wx1, wy1) = _frame_window(live, (mx0, my0, mx1, my1))
    if wx1 > wx0 and wy1 > wy0:
        into = forward.copy()
        into[0, 2] -= wx0
        into[1, 2] -= wy0
        warped = cv2.warpAffine(live.layer, into[:2], (wx1 - wx0, wy1 - wy0), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        _lay_over(patch[wy0 - uy0:wy1 - uy0, wx0 - ux0:wx1 - ux0], warped)
    return LiveFrame(patch, (ux0, uy0, ux1, uy1), scale)


def _frame_window(live: LivePlate, lands: Box) -> tuple[np.ndarray, Box, Box]:
    """A frame's patch of the plate (a copy), over the footprint and where the layer ``lands`` (screen pixels),
    the patch's box and the part of it the layer covers."""
    height, width = live.plate.shape[:2]
    mx0, my0, mx1, my1 = lands
    fx0, fy0, fx1, fy1 = live.footprint_box
    ux0, uy0 = max(0, min(mx0, fx0)), max(0, min(my0, fy0))
    ux1, uy1 = min(width, max(mx1, fx1)), min(height, max(my1, fy1))
    window = (max(ux0, mx0), max(uy0, my0), min(ux1, mx1), min(uy1, my1))
    return live.plate[uy0:uy1, ux0:ux1].copy(), (ux0, uy0, ux1, uy1), window


def _lay_over(under: np.ndarray, layer: np.ndarray) -> None:
    """Premultiplied "over" in place: ``layer`` (RGBA) + ``under`` * (1 - alpha), in integers."""
    alpha = layer[..., 3:4].astype(np.uint16)
    blended = layer[..., :3].astype(np.uint16) + (under.astype(np.uint16) * (255 - alpha) + 127) // 255
    under[...] = np.minimum(blended, 255).astype(np.uint8)


#: A bent frame's map is computed every BENT_STEP screen pixels and interpolated between.
BENT_STEP = 4


def bent_frame(live: LivePlate, reads: Callable[[np.ndarray], np.ndarray], landed: Box) -> LiveFrame:
    """The region carried by a backward map over the filled plate: ``reads`` takes (m, 2) image points (x, y)
    of the new shape to where they were in the region (``engine.shape_motion.ShapeMotion.reads``);
    ``landed`` (x0, y0, x1, y1, image pixels) holds where the region lands. The Warp tool's live frame."""
    scale, fine = live.scale, live.layer_scale
    lx0, ly0, _, _ = live.layer_box
    lands = (int(np.floor(landed[0] * scale)) - 1, int(np.floor(landed[1] * scale)) - 1,
             int(np.ceil(landed[2] * scale)) + 2, int(np.ceil(landed[3] * scale)) + 2)
    patch, (ux0, uy0, ux1, uy1), (wx0, wy0, wx1, wy1) = _frame_window(live, lands)
    if wx1 > wx0 and wy1 > wy0:
        # Screen pixel -> image point -> where it was -> the layer's grid, on a coarse grid interpolated between.
        corner = np.array([lx0, ly0], np.float64)
        map_x, map_y = dense_map((wx0, wy0, wx1, wy1), BENT_STEP,
                                 lambda screen: (reads((screen + 0.5) / scale - 0.5) + 0.5) * fine - 0.5 - corner)
        warped = cv2.remap(live.layer, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        _lay_over(patch[wy0 - uy0:wy1 - uy0, wx0 - ux0:wx1 - ux0], warped)
    return LiveFrame(patch, (ux0, uy0, ux1, uy1), scale)


def shape_affine(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The forward 2x3 affine (image pixels) that best carries ``source`` onto ``target``, read off
    the masks (the classical starts of ``models.hypotheses``, best by mask IoU, the least turn among
    equals) on their joint box reduced to :data:`PLACEMENT_SIDE`. The identity when the masks are
    equal or either is empty."""
    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    source_box, target_box = mask_bbox(source), mask_bbox(target)
    if source_box is None or target_box is None or np.array_equal(source, target):
        return identity
    x0, y0 = min(source_box[0], target_box[0]), min(source_box[1], target_box[1])
    x1, y1 = max(source_box[2], target_box[2]), max(source_box[3], target_box[3])
    step = max(1.0, max(x1 - x0, y1 - y0) / PLACEMENT_SIDE)
    size = (max(1, round((x1 - x0) / step)), max(1, round((y1 - y0) / step)))
    reduce = lambda mask: cv2.resize(mask[y0:y1, x0:x1].astype(np.float32), size,  # noqa: E731
                                     interpolation=cv2.INTER_AREA)
    small_source, small_target = reduce(source), reduce(target)
    starts = classical_starts(small_source, small_target)
    if not starts:
        return identity
    # A symmetric region fits as well turned half-way round: of the starts that fit as well as the
    # best, the one that turns least.
    scores = [mask_iou(small_source, small_target, start) for start in starts]
    fitting = [start for start, score in zip(starts, scores) if score >= max(scores) - PLACEMENT_TIE]
    best = min(fitting, key=lambda start: abs(np.arctan2(start[1, 0], start[0, 0])))
    backward = np.vstack([best, [0.0, 0.0, 1.0]])
    # Crop pixel c is image pixel (c + 0.5) * step - 0.5 + origin.
    to_crop = np.array([[1.0 / step, 0.0, (0.5 - x0) / step - 0.5], [0.0, 1.0 / step, (0.5 - y0) / step - 0.5],
                        [0.0, 0.0, 1.0]])
    forward = np.linalg.inv(to_crop) @ np.linalg.inv(backward) @ to_crop
    return forward[:2]


def then(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The forward affine ``second`` after ``first`` (both 2x3)."""
    return (np.vstack([second, [0, 0, 1]]) @ np.vstack([first, [0, 0, 1]]))[:2]


def drag_affine(centre: tuple[float, float], dx: float, dy: float, scale: float, angle_degrees: float, *,
                scale_y: float | None = None, frame_degrees: float = 0.0) -> np.ndarray:
    """The forward 2x3 affine of a Transform drag: scale (by ``scale`` across and ``scale_y``, by default the same,
    down; along a frame turned by ``frame_degrees``) and turn about ``centre``, then move by (dx, dy) (the
    convention of ``engine.masks.region_affine``)."""
    linear = transform_linear(scale, scale if scale_y is None else scale_y, angle_degrees, frame_degrees)
    return affine_about(centre, linear, dx, dy)


@dataclass
class PlateFill:
    """``engine.compose``'s fill for a preview made at the plate's own resolution: the hole's pixels
    are taken from the plate (already filled in the background) instead of being filled again.
    Any other image (another size or pixel kind) is filled from scratch."""

    live: LivePlate

    def __call__(self, image: np.ndarray, hole: np.ndarray, box: Box, *,
                 forbidden: np.ndarray | None = None) -> np.ndarray:
        plate = self.live.plate
        if image.shape[:2] != plate.shape[:2] or image.dtype != np.uint8 or image.shape[2] != 3:
            return fill_window(image, hole, box, forbidden=forbidden)
        x0, y0, x1, y1 = box
        result = image[y0:y1, x0:x1].copy()
        result[hole] = plate[y0:y1, x0:x1][hole]
        return result


def fits(source: np.ndarray, target: np.ndarray, affine: np.ndarray) -> bool:
    """Whether ``affine`` carries the source's centroid onto the target's (within 2 % of the
    region's size, at least 2 pixels): a cheap check that a remembered placement still holds."""
    source_centre, target_centre = mask_centroid(source), mask_centroid(target)
    if source_centre is None or target_centre is None:
        return False
    moved = np.asarray(affine, np.float64) @ np.array([*source_centre, 1.0])
    return float(np.hypot(*(moved - np.array(target_centre)))) <= max(2.0, 0.02 * region_size(target))
