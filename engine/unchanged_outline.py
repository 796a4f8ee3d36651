"""Keep the stretch of outline the user left in place still when a region is grown or shrunk a lot.

The alignment (``models.refinement.align_motion``) finds the motion that carries the region's mask onto its
new shape. When a brush stroke grows a region a lot, the simplest such motion can be one affine stretch of the
whole region, and it slides the content along the part of the outline the user did not touch (a hair grown
down over an ear moved its edge over the forehead by tens of pixels). Where that happens, the motion is made
again from the outline (``models.outline_motion``): still on the unchanged stretch, the aligned motion's own
reads on the changed one, harmonic in between; inside the new shape, wherever that blend would read off the
region, the aligned motion is kept. Where the unchanged stretch meets the changed one the reads turn sharply and
the map can fold: it is smoothed there, and taken back towards the aligned motion as far as it still folds. Edits
that keep their unchanged outline still (nearly all: moves, turns, scales, small strokes) are returned as they
came.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from engine.mask_tools import inner_edge
from engine.render import grid_positions
from models.crops import mask_to_working
from models.influence import mask_bbox
from models.outline_motion import harmonic_motion, new_outline
from models.refinement import MIN_JACOBIAN, fold_free, jacobian_determinant

#: The new shape's outline pixels that are the region's own outline pixels (the very same pixels, as a brush
#: leaves what it does not touch) are unchanged; the motion is looked at only when they are at least
#: UNCHANGED_SHARE_MIN of the new outline. (Taking those within 1.5 px also took in small moves, whose outline
#: runs within a pixel or two of the old one: a held-out brush edit with a mild turn lost 6.6 dB.)
UNCHANGED_SHARE_MIN = 0.3
#: ...and made again only when the aligned motion moves them by more than this many pixels (median): half a
#: pixel, any visible slide. On 15 large growths on BSDS500 val (`simnet eval --bsds-val`'s growth group),
#: before the fold repair below: 3 -> 0.5 px 22.92 -> 23.20 dB in the new shape (11 edits remade, none worse;
#: none of the other 42 edits changed); without the remake 22.34; with the fold repair (as shipped) 22.73.
SLIDE_MIN_PX = 0.5
#: ...and when the remade motion carries the mask nearly as well (IoU on the grid, at most this much lower).
IOU_SLACK = 0.05
#: Where the remade map's Jacobian determinant is under UNFOLD_BELOW near the new shape (a little above what
#: models.refinement.fold_free accepts), it is smoothed there (Gaussian, sigma in grid pixels), up to
#: UNFOLD_PASSES times; what still folds is taken back towards the aligned motion by fold_free.
UNFOLD_BELOW, UNFOLD_SIGMA, UNFOLD_PASSES = MIN_JACOBIAN + 0.05, 1.0, 30


def grid_iou(source: np.ndarray, target: np.ndarray, motion: np.ndarray) -> float:
    """IoU of the boolean ``source`` read through the backward ``motion`` (grid pixels, (dx, dy)) with ``target``."""
    ys, xs = np.mgrid[0:source.shape[0], 0:source.shape[1]].astype(np.float32)
    warped = cv2.remap(source.astype(np.float32), xs + motion[..., 0], ys + motion[..., 1], cv2.INTER_LINEAR) > 0.5
    return float((warped & target).sum() / max(1, (warped | target).sum()))


def _as_tensor(motion: np.ndarray) -> torch.Tensor:
    """(1, R, R, 2) in models.refinement's units (half the grid) from grid pixels."""
    return torch.from_numpy(np.ascontiguousarray(motion, np.float32) / (motion.shape[0] / 2.0))[None]


def _determinant(motion: np.ndarray) -> np.ndarray:
    """The map's Jacobian determinant (R, R) as ``models.refinement.fold_free`` judges it (forward differences;
    the last row and column repeat), ``motion`` in grid pixels."""
    return np.pad(jacobian_determinant(_as_tensor(motion))[0].numpy(), ((0, 1), (0, 1)), mode="edge")


def _unfolded(motion: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``motion`` smoothed where its map folds or nearly folds near the new shape, and only there: where the
    unchanged stretch meets the changed one (a concave corner of the new shape), the reads turn sharply."""
    near = cv2.dilate(target.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    for _ in range(UNFOLD_PASSES):
        folded = (_determinant(motion) < UNFOLD_BELOW) & near
        if not folded.any():
            break
        weight = np.clip(2.0 * cv2.GaussianBlur(cv2.dilate(folded.astype(np.float32), np.ones((3, 3), np.uint8)),
                                                (0, 0), UNFOLD_SIGMA), 0.0, 1.0)[..., None]
        motion = motion * (1.0 - weight) + cv2.GaussianBlur(motion, (0, 0), UNFOLD_SIGMA) * weight
    return motion.astype(np.float32)


def _fold_free(aligned: np.ndarray, remade: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``remade`` taken back towards ``aligned`` (grid pixels) as far as needed for its map not to fold near the
    new shape (``models.refinement.fold_free``)."""
    mask = torch.from_numpy(target.astype(np.float32))[None, None]
    kept = fold_free(_as_tensor(aligned), _as_tensor(remade), mask)[0].numpy()
    return (kept * (aligned.shape[0] / 2.0)).astype(np.float32)


def _unchanged(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, tuple[int, int]] | None:
    """The new shape's outline pixels that are the region's outline pixels, over the masks' box, and the box's corner;
    None when they are under UNCHANGED_SHARE_MIN of the new outline."""
    found = mask_bbox(source | target)
    if found is None:
        return None
    x0, y0 = max(0, found[0] - 2), max(0, found[1] - 2)
    x1, y1 = found[2] + 2, found[3] + 2
    source_outline, target_outline = inner_edge(source[y0:y1, x0:x1]), inner_edge(target[y0:y1, x0:x1])
    if not source_outline.any() or not target_outline.any():
        return None
    still = target_outline & source_outline
    if still.sum() < UNCHANGED_SHARE_MIN * target_outline.sum():
        return None
    return still, (x0, y0)


def keep_unchanged_outline(source: np.ndarray, target: np.ndarray, source_grid: np.ndarray, target_grid: np.ndarray,
                           motion: np.ndarray, square: tuple[int, int, int]) -> np.ndarray:
    """``motion`` (R, R, 2, full-resolution pixels on the R x R grid over ``square``), or, when it slides the
    unchanged stretch of the outline, the motion made again from the outline (the module's docstring).
    ``source`` and ``target`` are the full-resolution masks, ``source_grid`` and ``target_grid`` their
    coverages (R, R) on the grid."""
    unchanged = _unchanged(source, target)
    if unchanged is None:
        return motion
    still, (bx, by) = unchanged
    ys, xs = np.nonzero(still)
    grid_x, grid_y = grid_positions((xs + bx).astype(np.float32), (ys + by).astype(np.float32), square,
                                    motion.shape[0])
    dx, dy = (cv2.remap(np.ascontiguousarray(motion[..., axis]), grid_x[None, :], grid_y[None, :], cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)[0] for axis in (0, 1))
    if float(np.median(np.hypot(dx, dy))) <= SLIDE_MIN_PX:
        return motion
    grid_source, grid_target = source_grid > 0.5, target_grid > 0.5
    found = new_outline(grid_source, grid_target)
    if found is None:
        return motion
    rows, cols = found
    x0, y0, side = square
    size = grid_source.shape[0]
    # The unchanged stretch (over the masks' box, whose corner is bx, by) on the grid: the square's origin moved
    # into the box's coordinates instead of a canvas-sized copy.
    near_still = cv2.dilate(still.view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    still_grid = mask_to_working(near_still, x0 - bx, y0 - by, side, size)[..., 0] > 0
    per_cell = side / size
    aligned = motion / per_cell
    values = np.where(still_grid[rows, cols][:, None], 0.0, aligned[rows, cols])
    remade = harmonic_motion(grid_source.shape, rows, cols, values)
    # Inside the new shape, where the blend would read off the region, the aligned motion (faded in).
    gy, gx = np.mgrid[0:size, 0:size].astype(np.float32)
    lands = cv2.remap(grid_source.astype(np.float32), gx + remade[..., 0], gy + remade[..., 1], cv2.INTER_LINEAR)
    off = ((lands < 0.5) & grid_target).astype(np.float32)
    off = np.clip(cv2.GaussianBlur(cv2.dilate(off, np.ones((3, 3), np.uint8)), (0, 0), 1.5) * 2.0, 0.0, 1.0)
    remade = remade * (1.0 - off[..., None]) + aligned * off[..., None]
    remade = _fold_free(aligned, _unfolded(remade, grid_target), grid_target)
    if grid_iou(grid_source, grid_target, remade) < grid_iou(grid_source, grid_target, aligned) - IOU_SLACK:
        return motion
    return (remade * per_cell).astype(np.float32)
