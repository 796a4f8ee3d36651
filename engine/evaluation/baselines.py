"""Classical yardsticks for the evaluation (not product features).

- cut-and-paste: the region moved by the affine that matches the two masks' moments, pasted over
  the input;
- register (issue 7): that affine refined by maximising mask overlap (ECC on blurred masks), applied
  as a smooth backward warp that fades linearly to the identity a fixed distance outside the region.

And one reference that is not a method, because it reads the answer: the true result inside the
new shape, and around it the edit's true affine part with the true fade. What it misses is the
random non-affine motion of the surroundings, which the two masks do not show; so it tells how
much of a non-rigid edit's score any mask-driven method can hope to reach.
"""
from __future__ import annotations

import cv2
import numpy as np

from models.deformation import SyntheticEdit, fade_weight, identity_map, warp_mask, warp_with_map

#: The register baseline's warp fades to nothing over this many pixels outside the two masks.
REGISTER_FADE_PIXELS = 24.0


def _moments(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.nonzero(mask)
    points = np.stack([xs, ys], axis=1).astype(np.float64)
    centre = points.mean(axis=0)
    covariance = np.cov((points - centre).T) + 1e-3 * np.eye(2)
    return centre, covariance


def _matrix_sqrt(matrix: np.ndarray, inverse: bool = False) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    values = np.maximum(values, 1e-9) ** (-0.5 if inverse else 0.5)
    return vectors @ np.diag(values) @ vectors.T


def _backward_affine(forward: np.ndarray) -> np.ndarray:
    """2x3 inverse of a 2x3 forward affine."""
    return cv2.invertAffineTransform(forward.astype(np.float64))


def affine_backward_map(shape: tuple[int, int], backward: np.ndarray) -> np.ndarray:
    grid = identity_map(*shape).astype(np.float64)
    return (grid @ backward[:, :2].T + backward[:, 2]).astype(np.float32)


def moment_affine(source: np.ndarray, target: np.ndarray, angles: int = 36) -> np.ndarray:
    """Forward 2x3 affine source -> target from centroids and covariances; the rotation left open
    by second moments is the candidate whose moved mask best overlaps the target."""
    source_centre, source_cov = _moments(source)
    target_centre, target_cov = _moments(target)
    best, best_score = None, -1.0
    for angle in np.linspace(0.0, 2 * np.pi, angles, endpoint=False):
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        linear = _matrix_sqrt(target_cov) @ rotation @ _matrix_sqrt(source_cov, inverse=True)
        forward = np.hstack([linear, (target_centre - linear @ source_centre)[:, None]])
        moved = cv2.warpAffine(source.astype(np.uint8), forward, source.shape[::-1], flags=cv2.INTER_NEAREST) > 0
        score = np.logical_and(moved, target).sum() / max(1, np.logical_or(moved, target).sum())
        if score > best_score:
            best, best_score = forward, score
    return best


def cut_and_paste(image: np.ndarray, source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The moved region pasted over the input; returns (result, moved mask)."""
    backward = affine_backward_map(source.shape, _backward_affine(moment_affine(source, target)))
    moved_mask = warp_mask(source, backward)
    moved = warp_with_map(image, backward)
    result = image.copy()
    result[moved_mask] = moved[moved_mask]
    return result, moved_mask


def refine_by_overlap(source: np.ndarray, target: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """ECC alignment of blurred masks, started from ``forward``; returns the refined forward affine."""
    sigma = max(2.0, 0.03 * np.sqrt(max(source.sum(), 1)))
    template = cv2.GaussianBlur(target.astype(np.float32), (0, 0), sigma)
    moving = cv2.GaussianBlur(source.astype(np.float32), (0, 0), sigma)
    warp_matrix = _backward_affine(forward).astype(np.float32)  # ECC's warp maps template -> input coords
    try:
        _, warp_matrix = cv2.findTransformECC(template, moving, warp_matrix, cv2.MOTION_AFFINE,
                                              (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-6), None, 5)
    except cv2.error:
        return forward
    return cv2.invertAffineTransform(warp_matrix.astype(np.float64))


def register(image: np.ndarray, source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Registered affine as a feathered local warp; returns (result, warped mask)."""
    forward = refine_by_overlap(source, target, moment_affine(source, target))
    affine = affine_backward_map(source.shape, _backward_affine(forward))
    grid = identity_map(*source.shape)
    outside = (~(source | target)).astype(np.uint8)
    distance = cv2.distanceTransform(outside, cv2.DIST_L2, 5)
    weight = np.clip(1.0 - distance / REGISTER_FADE_PIXELS, 0.0, 1.0)[..., None]
    backward = grid + weight * (affine - grid)
    return warp_with_map(image, backward), warp_mask(source, backward)


def true_affine_reference(image: np.ndarray, edit: SyntheticEdit, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The truth inside the target mask, the edit's own faded affine part outside it (reads the answer)."""
    if edit.affine_backward is None:
        raise ValueError("the edit does not record its affine part")
    grid = identity_map(*edit.source_mask.shape)
    weight = fade_weight(edit.source_mask, edit.target_mask)[..., None]
    backward = grid + weight * (affine_backward_map(edit.source_mask.shape, edit.affine_backward) - grid)
    result = warp_with_map(image, backward)
    result[edit.target_mask] = truth[edit.target_mask]
    return result, edit.target_mask.copy()
