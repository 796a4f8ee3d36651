"""Classical yardsticks for the evaluation (not product features).

- cut-and-paste: the region moved by the affine that matches the two masks' moments, pasted over
  the input;
- register (issue 7): that affine refined by maximising mask overlap (ECC on blurred masks), applied
  as a smooth backward warp that fades linearly to the identity a fixed distance outside the region.
"""
from __future__ import annotations

import cv2
import numpy as np

from engine.evaluation.geometry import affine_map, distance_to, identity_map, invert_affine, warp_image, warp_mask

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
    backward = affine_map(source.shape, invert_affine(moment_affine(source, target)))
    moved_mask = warp_mask(source, backward)
    moved = warp_image(image, backward)
    result = image.copy()
    result[moved_mask] = moved[moved_mask]
    return result, moved_mask


def refine_by_overlap(source: np.ndarray, target: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """ECC alignment of blurred masks, started from ``forward``; returns the refined forward affine."""
    sigma = max(2.0, 0.03 * np.sqrt(max(source.sum(), 1)))
    template = cv2.GaussianBlur(target.astype(np.float32), (0, 0), sigma)
    moving = cv2.GaussianBlur(source.astype(np.float32), (0, 0), sigma)
    warp_matrix = invert_affine(forward).astype(np.float32)  # ECC's warp maps template -> input coords
    try:
        _, warp_matrix = cv2.findTransformECC(template, moving, warp_matrix, cv2.MOTION_AFFINE,
                                              (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-6), None, 5)
    except cv2.error:
        return forward
    return cv2.invertAffineTransform(warp_matrix.astype(np.float64))


def register(image: np.ndarray, source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Registered affine as a feathered local warp; returns (result, warped mask)."""
    forward = refine_by_overlap(source, target, moment_affine(source, target))
    affine = affine_map(source.shape, invert_affine(forward))
    grid = identity_map(*source.shape)
    distance = distance_to(source | target)
    weight = np.clip(1.0 - distance / REGISTER_FADE_PIXELS, 0.0, 1.0)[..., None]
    backward = grid + weight * (affine - grid)
    return warp_image(image, backward), warp_mask(source, backward)
