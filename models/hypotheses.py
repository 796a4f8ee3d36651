"""Classical starting points for the test-time alignment: affines read off the two masks alone.

The network's keypoint affines are one start; these are the others, so the alignment is never
worse than a classical mask registration (issue 11):

- the moment-matched affines: centroids and second moments of the two masks give the affine up to
  the signs of the principal axes; the sign flips that keep the orientation (no mirror images) are
  all candidates, plus the similarity without rotation, which is right for round regions where the
  principal axes mean nothing;
- ECC on the blurred masks (Evangelidis & Psarakis 2008), started from the best moment candidate.

Masks are (H, W) float coverages in [0, 1] of the square crop the alignment works in; ``valid``
is 1 where the crop lies inside the image. Affines are backward (target pixel -> source pixel),
2x3, in the crop's pixel coordinates. NumPy/OpenCV only.
"""
from __future__ import annotations

import cv2
import numpy as np

#: Candidates whose moment statistics are this degenerate (a line, a dot) are skipped.
MIN_AREA = 4.0


def _moments(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Centroid (2,) and covariance (2, 2) of a coverage mask, or None when it is too small."""
    total = float(mask.sum())
    if total < MIN_AREA:
        return None
    ys, xs = np.mgrid[0:mask.shape[0], 0:mask.shape[1]]
    centre = np.array([(xs * mask).sum(), (ys * mask).sum()]) / total
    dx, dy = xs - centre[0], ys - centre[1]
    covariance = np.array([[(dx * dx * mask).sum(), (dx * dy * mask).sum()],
                           [(dx * dy * mask).sum(), (dy * dy * mask).sum()]]) / total
    return centre, covariance + 1e-3 * np.eye(2)


def _backward(forward_linear: np.ndarray, source_centre: np.ndarray, target_centre: np.ndarray) -> np.ndarray:
    """The backward 2x3 affine of a forward linear map that carries one centroid onto the other."""
    linear = np.linalg.inv(forward_linear)
    return np.hstack([linear, (source_centre - linear @ target_centre)[:, None]])


def moment_affines(source: np.ndarray, target: np.ndarray) -> list[np.ndarray]:
    """Backward affines matching the masks' centroids and second moments, orientation-preserving."""
    source_stats, target_stats = _moments(source), _moments(target)
    if source_stats is None or target_stats is None:
        return []
    (source_centre, source_cov), (target_centre, target_cov) = source_stats, target_stats
    source_values, source_axes = np.linalg.eigh(source_cov)
    target_values, target_axes = np.linalg.eigh(target_cov)
    whiten = np.diag(source_values ** -0.5) @ source_axes.T
    colour = target_axes @ np.diag(target_values ** 0.5)
    candidates = []
    for flips in ((1, 1), (-1, -1), (1, -1), (-1, 1)):
        forward = colour @ np.diag(flips) @ whiten
        if np.linalg.det(forward) > 0:
            candidates.append(_backward(forward, source_centre, target_centre))
    # A similarity without rotation: the principal axes of a roundish region are noise.
    scale = (np.linalg.det(target_cov) / np.linalg.det(source_cov)) ** 0.25
    candidates.append(_backward(scale * np.eye(2), source_centre, target_centre))
    return candidates


def ecc_affine(source: np.ndarray, target: np.ndarray, start: np.ndarray, iterations: int = 60) -> np.ndarray | None:
    """ECC registration of the blurred masks from the backward affine ``start``; None if it fails."""
    sigma = max(1.5, 0.03 * np.sqrt(max(float(source.sum()), 1.0)))
    template = cv2.GaussianBlur(target.astype(np.float32), (0, 0), sigma)
    moving = cv2.GaussianBlur(source.astype(np.float32), (0, 0), sigma)
    warp = start.astype(np.float32).copy()  # ECC's warp maps template (target) to input (source) pixels
    try:
        _, warp = cv2.findTransformECC(template, moving, warp, cv2.MOTION_AFFINE,
                                       (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-5), None, 5)
    except cv2.error:
        return None
    warp = warp.astype(np.float64)
    if not np.isfinite(warp).all() or np.linalg.det(warp[:, :2]) <= 0:
        return None
    return warp


def mask_iou(source: np.ndarray, target: np.ndarray, backward: np.ndarray, valid: np.ndarray | None = None) -> float:
    """IoU of the source carried by ``backward`` with the target, where the target side is valid."""
    size = target.shape[::-1]
    moved = cv2.warpAffine(source.astype(np.float32), backward.astype(np.float32), size,
                           flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT) >= 0.5
    wanted = target >= 0.5
    if valid is not None:
        inside = valid >= 0.5
        moved, wanted = moved & inside, wanted & inside
    union = np.count_nonzero(moved | wanted)
    return 1.0 if union == 0 else np.count_nonzero(moved & wanted) / union


def classical_starts(source: np.ndarray, target: np.ndarray, valid: np.ndarray | None = None) -> list[np.ndarray]:
    """The moment candidates and ECC from the best of them, best first by mask IoU."""
    candidates = moment_affines(source, target)
    if not candidates:
        return []
    scored = sorted(candidates, key=lambda affine: -mask_iou(source, target, affine, valid))
    refined = ecc_affine(source, target, scored[0])
    if refined is not None:
        scored.insert(0, refined)
    return sorted(scored, key=lambda affine: -mask_iou(source, target, affine, valid))


def pixel_to_grid_affine(backward: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A backward affine in an R x R crop's pixel coordinates as (linear, offset) in grid_sample
    coordinates (align_corners=False): u = (2 p + 1) / R - 1."""
    linear = backward[:, :2]
    offset = backward[:, 2]
    ones = np.ones(2)
    grid_offset = linear @ ones * (1.0 - 1.0 / size) + (2.0 * offset + 1.0) / size - ones
    return linear.copy(), grid_offset
