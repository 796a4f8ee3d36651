"""The polish of a one-affine motion at full resolution, and the judge of an exact move.

The alignment (``models.refinement.align_motion``) works at 128 x 128 over a square that may be several
times the region; one of its pixels can be several image pixels, and thin or multi-part regions then look
non-rigid there. :func:`polish_affine` brings the motion's affine part to a fraction of an image pixel on the
masks (ECC on a tight crop, then Lucas-Kanade on their outlines) and keeps the simplest motion that explains
them; :func:`exact_move_judge` tells the alignment when a one-affine motion is already exact.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np
import torch

from engine.locality import box_within_reach, edit_box
from engine.render import sample_motion
from models.hypotheses import ecc_affine, mask_iou, outline_affine

#: The full-resolution polish of a one-affine motion works on the masks reduced to this many pixels a side.
POLISH_SIDE = 512
#: A motion is one affine when an affine fits it this closely (pixels) over the new shape.
AFFINE_FIT = 0.25
#: A polished affine replaces a non-rigid motion whose mask IoU is at most this much better
#: (the alignment's own tolerance, models.refinement.SINGLE_TOLERANCE).
SIMPLER_TOLERANCE = 0.005
#: The polish's last step works on the outlines at up to this many pixels a side (full resolution below).
OUTLINE_SIDE = 1024


def polish_affine(source: np.ndarray, target: np.ndarray, motion: np.ndarray, square: tuple[int, int, int],
                  masks_box: tuple[int, int, int, int] | None = None, crop: PolishCrop | None = None) -> np.ndarray:
    """The motion's affine part refined by ECC on the masks and then by Lucas-Kanade on their outlines
    (``models.hypotheses.outline_affine``) at up to ``OUTLINE_SIDE`` pixels a side, when that one
    affine explains the masks as well as the motion does.

    The alignment runs at 128 x 128 over a square that may be several times the region; one of its
    pixels can be several image pixels, and thin or multi-part regions then look non-rigid there.
    ECC on the blurred masks of a tight crop (``POLISH_SIDE``) brings the affine within a fraction of
    a pixel, the outline fit to a few hundredths. When the motion is that affine, the refinement
    replaces it if it fits the outlines better (a smooth measure: the IoU of binary masks cannot tell
    a third of a pixel apart). When the motion is not one affine, the refined affine replaces it if
    its mask IoU is at least the motion's (within ``SIMPLER_TOLERANCE``): the simplest motion that
    explains the masks, as in the alignment itself. Otherwise the motion is returned unchanged.
    ``masks_box`` is the bounding box of both masks when the caller has it, ``crop`` their
    :class:`PolishCrop` when the caller made it already.
    """
    fitted = _motion_affine(target, motion, square)
    if fitted is None:
        return motion
    affine, points, sources, (grid_x, grid_y) = fitted
    crop = PolishCrop.of(source, target, masks_box) if crop is None else crop
    small_source, small_target, scale, shift, box = crop.source, crop.target, crop.scale, crop.shift, crop.box
    bx0, by0, bx1, by1 = box
    polished = crop.ecc(_affine_to_crop(affine, scale, shift))
    affine_polished = affine if polished is None else _affine_to_image(polished, scale, shift)
    # Then to a fraction of an image pixel on the outlines (up to OUTLINE_SIDE pixels a side).
    fine = min(1.0, OUTLINE_SIDE / max(bx1 - bx0, by1 - by0))
    fine_size = (max(1, round((bx1 - bx0) * fine)), max(1, round((by1 - by0) * fine)))
    fine_shift = np.array([bx0, by0], np.float64) + 0.5 / fine - 0.5

    def fine_crop(mask: np.ndarray) -> np.ndarray:
        window = mask[by0:by1, bx0:bx1].astype(np.float32)
        return window if fine == 1.0 else cv2.resize(window, fine_size, interpolation=cv2.INTER_AREA)

    fine_source, fine_target = fine_crop(source), fine_crop(target)
    refined, refined_cost, _ = outline_affine(fine_source, fine_target,
                                              _affine_to_crop(affine_polished, fine, fine_shift))
    _, _, motion_cost = outline_affine(fine_source, fine_target, _affine_to_crop(affine, fine, fine_shift),
                                       sigmas=(1.0,), iterations=0)
    refined = _affine_to_image(refined, fine, fine_shift)
    linear, offset = refined[:, :2], refined[:, 2]
    if np.abs(points @ affine.T - sources).max() <= AFFINE_FIT:
        # The motion is this affine: the refinement of the same model is kept when it fits the
        # outlines better (a smooth measure, unlike the IoU of binary masks).
        if not refined_cost < motion_cost:
            return motion
    else:
        if mask_iou(small_source, small_target, _affine_to_crop(refined, scale, shift)) <= (
                _motion_iou(small_source, small_target, motion, square, scale, shift) - SIMPLER_TOLERANCE):
            return motion
    moved_x = linear[0, 0] * grid_x + linear[0, 1] * grid_y + offset[0]
    moved_y = linear[1, 0] * grid_x + linear[1, 1] * grid_y + offset[1]
    return np.stack([moved_x - grid_x, moved_y - grid_y], axis=-1).astype(np.float32)


def _motion_affine(target: np.ndarray, motion: np.ndarray, square: tuple[int, int, int]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]] | None:
    """The affine (2x3, backward, image pixels) that fits a grid motion (pixels) over the new shape, the
    grid points it was fitted on (n, 3) and where the motion sends them (n, 2), and the grid's image
    coordinates; None when fewer than six grid points fall on the new shape."""
    x0, y0, side = square
    size = motion.shape[0]
    centres = (np.arange(size, dtype=np.float64) + 0.5) * (side / size) - 0.5
    grid_x, grid_y = np.meshgrid(centres + x0, centres + y0)
    rows = np.clip(np.rint(grid_y).astype(int), 0, target.shape[0] - 1)
    cols = np.clip(np.rint(grid_x).astype(int), 0, target.shape[1] - 1)
    near = target[rows, cols] & (grid_x >= 0) & (grid_y >= 0) & (grid_x < target.shape[1]) & (grid_y < target.shape[0])
    if np.count_nonzero(near) < 6:
        return None
    points = np.stack([grid_x[near], grid_y[near], np.ones(np.count_nonzero(near))], axis=1)
    sources = points[:, :2] + motion[near].astype(np.float64)
    affine = np.linalg.lstsq(points, sources, rcond=None)[0].T
    return affine, points, sources, (grid_x, grid_y)


@dataclass
class PolishCrop:
    """The two masks over their box (grown by 8 px), reduced to at most POLISH_SIDE pixels a side:
    crop pixel c is image pixel c / scale + shift (pixel centres)."""

    source: np.ndarray
    target: np.ndarray
    scale: float
    shift: np.ndarray
    box: tuple[int, int, int, int]
    _polished: dict[bytes, np.ndarray | None] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, source: np.ndarray, target: np.ndarray,
           masks_box: tuple[int, int, int, int] | None = None) -> "PolishCrop":
        box = edit_box(source, target, 8.0) if masks_box is None else box_within_reach(masks_box, 8.0, source.shape)
        bx0, by0, bx1, by1 = box
        scale = min(1.0, POLISH_SIDE / max(bx1 - bx0, by1 - by0))
        crop_size = (max(1, round((bx1 - bx0) * scale)), max(1, round((by1 - by0) * scale)))

        def reduce(mask: np.ndarray) -> np.ndarray:
            return cv2.resize(mask[by0:by1, bx0:bx1].astype(np.float32), crop_size, interpolation=cv2.INTER_AREA)

        shift = np.array([bx0, by0], np.float64) + 0.5 / scale - 0.5
        return cls(reduce(source), reduce(target), scale, shift, box)

    def ecc(self, start: np.ndarray) -> np.ndarray | None:
        """ECC on the two masks from a backward affine in crop pixels (``models.hypotheses.ecc_affine``),
        remembered: the exactness judge and the polish start from the same affine when the motion is
        the one the judge accepted."""
        key = start.tobytes()
        if key not in self._polished:
            self._polished[key] = ecc_affine(self.source, self.target, start)
        return self._polished[key]


#: A one-affine motion whose mask IoU on the polish crop is at least this is exact enough to keep as
#: it is, without trying the K affines or the residual (models.refinement.align_motion's ``exact``).
EXACT_MOVE_IOU = 0.985


def exact_move_judge(target: np.ndarray, square: tuple[int, int, int], crop: PolishCrop
                     ) -> Callable[[torch.Tensor], bool]:
    """For the alignment: whether a one-affine motion (B, R, R, 2) in grid units, on ``square``, carries
    the full-resolution mask onto the new shape once ECC has brought it to the crop's precision, as the
    polish will (a region's thin parts and a border cut blur on the alignment's coarse grid, so an
    exact move may score low there, and one grid cell there is several image pixels)."""
    side = square[2]

    def exact(motion: torch.Tensor) -> bool:
        fitted = _motion_affine(target, (motion[0] * (side / 2.0)).detach().cpu().numpy(), square)
        if fitted is None:
            return False
        start = _affine_to_crop(fitted[0], crop.scale, crop.shift)
        polished = crop.ecc(start)
        return mask_iou(crop.source, crop.target, start if polished is None else polished) >= EXACT_MOVE_IOU

    return exact


def _affine_to_crop(affine: np.ndarray, scale: float, shift: np.ndarray) -> np.ndarray:
    """A backward affine in image pixels as one in a crop's pixels, where crop pixel c is image pixel
    c / scale + shift: the linear part stays, the offset changes."""
    linear = affine[:, :2]
    return np.hstack([linear, (scale * (linear @ shift + affine[:, 2] - shift))[:, None]])


def _affine_to_image(affine: np.ndarray, scale: float, shift: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_affine_to_crop`."""
    linear = affine[:, :2]
    return np.hstack([linear, (affine[:, 2] / scale - linear @ shift + shift)[:, None]])


def _motion_iou(small_source: np.ndarray, small_target: np.ndarray, motion: np.ndarray,
                square: tuple[int, int, int], scale: float, shift: np.ndarray) -> float:
    """Mask IoU of a grid motion on the polish crop (crop pixel c is image pixel c / scale + shift)."""
    height, width = small_target.shape
    image_x = np.arange(width, dtype=np.float32) / scale + shift[0]
    image_y = np.arange(height, dtype=np.float32) / scale + shift[1]
    dx, dy = sample_motion(motion, square, image_x, image_y)
    crop_x = (image_x[None, :] + dx - shift[0]) * scale
    crop_y = (image_y[:, None] + dy - shift[1]) * scale
    moved = cv2.remap(small_source, crop_x.astype(np.float32), crop_y.astype(np.float32), cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_CONSTANT) >= 0.5
    wanted = small_target >= 0.5
    union = np.count_nonzero(moved | wanted)
    return 1.0 if union == 0 else np.count_nonzero(moved & wanted) / union
