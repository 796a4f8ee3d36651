"""Classical starting points for the test-time alignment: affines read off the two masks alone.

The network's keypoint affines are one start; these are the others, so the alignment is never
worse than a classical mask registration (issue 11):

- the moment-matched affines: centroids and second moments of the two masks give the affine up to
  the signs of the principal axes; the sign flips that keep the orientation (no mirror images) are
  all candidates, plus the similarity without rotation, which is right for round regions where the
  principal axes mean nothing;
- the translation that best overlaps the two masks where the target side lies inside the image
  (cross-correlation of the masks, all shifts at once): when the new shape is partly dragged off
  the canvas, the target's moments are those of what is left of it and describe no move of the
  region, while the overlap still finds it;
- ECC on the blurred masks (Evangelidis & Psarakis 2008), started from the best moment candidate
  (and from the translation when it overlaps better).

Masks are (H, W) float coverages in [0, 1] of the square crop the alignment works in; ``valid``
is 1 where the crop lies inside the image. Affines are backward (target pixel -> source pixel),
2x3, in the crop's pixel coordinates. NumPy/OpenCV only.
"""
from __future__ import annotations

import cv2
import numpy as np

#: Row length of the point maps handed to cv2.remap.
MAP_ROW = 1024
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


def overlap_translation(source: np.ndarray, target: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray | None:
    """The backward translation (2x3) whose move of ``source`` best overlaps ``target`` (IoU of the
    coverages, counted where ``valid``), searched over every whole-pixel shift by FFT correlation;
    None when a mask is empty."""
    height, width = target.shape
    source = source.astype(np.float64)
    inside = np.ones_like(source) if valid is None else (valid >= 0.5).astype(np.float64)
    wanted = target.astype(np.float64) * inside
    target_area = float(wanted.sum())
    if source.sum() < MIN_AREA or target_area < MIN_AREA:
        return None
    shape = (2 * height, 2 * width)
    spectrum = np.fft.rfft2(source, shape)

    def correlation(mask: np.ndarray) -> np.ndarray:
        """c[d] = sum_p source(p + d) mask(p), for every shift d (index d mod the padded shape)."""
        return np.fft.irfft2(spectrum * np.conj(np.fft.rfft2(mask, shape)), shape)

    shared = correlation(wanted)
    carried = correlation(inside)  # how much of the moved source lands inside the image
    iou = shared / np.maximum(carried + target_area - shared, 1e-9)
    dy, dx = np.unravel_index(int(np.argmax(iou)), shape)
    dy = dy - shape[0] if dy >= height else dy
    dx = dx - shape[1] if dx >= width else dx
    return np.array([[1.0, 0.0, float(dx)], [0.0, 1.0, float(dy)]])


def _ecc_sigma(source: np.ndarray) -> float:
    """The blur (pixels) under which ECC compares two masks: about 3 % of the region's size."""
    return max(1.5, 0.03 * np.sqrt(max(float(source.sum()), 1.0)))


def ecc_affine(source: np.ndarray, target: np.ndarray, start: np.ndarray, iterations: int = 60) -> np.ndarray | None:
    """ECC registration of the blurred masks from the backward affine ``start``; None if it fails."""
    sigma = _ecc_sigma(source)
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


def outline_affine(source: np.ndarray, target: np.ndarray, start: np.ndarray, sigmas: tuple[float, ...] = (2.0, 1.0),
                   iterations: int = 12) -> tuple[np.ndarray, float, float]:
    """Lucas-Kanade (forward additive Gauss-Newton, Baker & Matthews 2004, Eq. 10) of a backward affine
    on the blurred masks, over their outline band only: (the refined 2x3 affine, its mean squared
    residual and the start's, both at the last sigma).

    Only pixels near the outline say anything about the affine, so the work follows the outline,
    not the area, and can run at full resolution, where a tenth of a pixel still shows. Pixels
    within three sigmas of the crop's edge are left out, on both sides of the map: there a mask may
    be cut by the image border, and a cut is not an outline.
    """
    height, width = target.shape
    current = start.astype(np.float64).copy()
    start_cost = final_cost = float("nan")
    for level, sigma in enumerate(sigmas):
        blurred_source = cv2.GaussianBlur(source.astype(np.float32), (0, 0), sigma)
        blurred_target = cv2.GaussianBlur(target.astype(np.float32), (0, 0), sigma)
        gradient_x = cv2.Sobel(blurred_source, cv2.CV_32F, 1, 0, ksize=1) * 0.5
        gradient_y = cv2.Sobel(blurred_source, cv2.CV_32F, 0, 1, ksize=1) * 0.5
        margin = 3.0 * sigma
        band = (blurred_target > 0.005) & (blurred_target < 0.995)
        band = cv2.dilate(band.view(np.uint8), np.ones((3, 3), np.uint8), iterations=max(1, round(sigma))) > 0
        band[:int(np.ceil(margin))], band[height - int(np.ceil(margin)):] = False, False
        band[:, :int(np.ceil(margin))], band[:, width - int(np.ceil(margin)):] = False, False
        ys, xs = np.nonzero(band)
        if xs.size < 12:
            return start, float("nan"), float("nan")
        xs, ys = xs.astype(np.float64), ys.astype(np.float64)
        wanted = blurred_target[ys.astype(int), xs.astype(int)].astype(np.float64)
        cx, cy = xs.mean(), ys.mean()  # centred coordinates keep the normal equations well conditioned
        dx, dy = xs - cx, ys - cy

        def residuals(affine: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            sx = (affine[0, 0] * xs + affine[0, 1] * ys + affine[0, 2]).astype(np.float32)
            sy = (affine[1, 0] * xs + affine[1, 1] * ys + affine[1, 2]).astype(np.float32)
            inside = (sx >= margin) & (sx <= width - 1 - margin) & (sy >= margin) & (sy <= height - 1 - margin)
            # cv2.remap takes maps under 32767 pixels a side: the points in rows of MAP_ROW.
            rows = -(-sx.size // MAP_ROW)
            map_x, map_y = (np.resize(coordinates, rows * MAP_ROW).reshape(rows, MAP_ROW) for coordinates in (sx, sy))
            sample = lambda plane: cv2.remap(plane, map_x, map_y, cv2.INTER_LINEAR,  # noqa: E731
                                             borderMode=cv2.BORDER_REPLICATE).reshape(-1)[:sx.size].astype(np.float64)
            return sample(blurred_source) - wanted, sample(gradient_x), sample(gradient_y), inside

        def cost(affine: np.ndarray) -> float:
            error, _, _, inside = residuals(affine)
            return float(np.mean(error[inside] ** 2)) if inside.any() else float("inf")

        for _ in range(iterations):
            error, gx, gy, inside = residuals(current)
            if not inside.any():
                break
            jacobian = np.stack([gx * dx, gx * dy, gx, gy * dx, gy * dy, gy], axis=1)[inside]
            normal = jacobian.T @ jacobian + 1e-9 * np.eye(6)
            update = np.linalg.solve(normal, -jacobian.T @ error[inside])
            # The update is in centred coordinates: x = dx + cx, so the offsets absorb the centre.
            current = current + np.array([[update[0], update[1], update[2] - update[0] * cx - update[1] * cy],
                                          [update[3], update[4], update[5] - update[3] * cx - update[4] * cy]])
            if np.abs(update[[2, 5]]).max() < 1e-3 and np.abs(update[[0, 1, 3, 4]]).max() < 1e-6:
                break
        if level == len(sigmas) - 1:
            start_cost, final_cost = cost(start), cost(current)
    if not np.isfinite(current).all() or np.linalg.det(current[:, :2]) <= 0:
        return start, start_cost, start_cost
    return current, final_cost, start_cost


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
    """The moment candidates, the overlap translation and ECC from the best moment candidate (and from
    the translation when it overlaps better), best first by mask IoU."""
    candidates = moment_affines(source, target)
    if not candidates:
        return []
    iou = lambda affine: mask_iou(source, target, affine, valid)  # noqa: E731
    best_moment = max(candidates, key=iou)
    starts = [best_moment]
    translation = overlap_translation(source, target, valid)
    if translation is not None:
        candidates.append(translation)
        if iou(translation) > iou(best_moment):  # dragged partly off the canvas: ECC from the overlap too
            starts.append(translation)
    for start in starts:
        refined = ecc_affine(source, target, start)
        if refined is not None:
            candidates.append(refined)
    return sorted(candidates, key=lambda affine: -iou(affine))


def pixel_to_grid_affine(backward: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A backward affine in an R x R crop's pixel coordinates as (linear, offset) in grid_sample
    coordinates (align_corners=False): u = (2 p + 1) / R - 1."""
    linear = backward[:, :2]
    offset = backward[:, 2]
    ones = np.ones(2)
    grid_offset = linear @ ones * (1.0 - 1.0 / size) + (2.0 * offset + 1.0) / size - ones
    return linear.copy(), grid_offset
