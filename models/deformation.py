"""Synthetic region edits with a known true result.

Training (on BSDS500 photographs) and evaluation (on held-out paintings) both need edits whose
true result is known. We make one by deforming a region with a smooth backward map that is the
wanted deformation on and near the region and fades to the identity a distance outside it:

    target_image(z) = source_image(backward_map(z)),  target_mask(z) = source_mask(backward_map(z)).

The fade distances scale with the region's size, so an edit looks the same at any resolution and
the model, which works in a square crop around the edit, sees scale-free inputs.

Conventions: masks are boolean (H, W) arrays; maps are float32 (H, W, 2) arrays of (x, y) pixel
coordinates, pixel centres at integers. Everything here is NumPy/OpenCV: no files, no torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from models.influence import fade_weight, region_size

EditKind = Literal["affine", "nonrigid", "brush"]
EDIT_KINDS: tuple[EditKind, ...] = ("affine", "nonrigid", "brush")


@dataclass(frozen=True)
class SyntheticEdit:
    """A region edit with its true result: ``backward_map`` gives, for each target pixel, its source."""

    backward_map: np.ndarray
    source_mask: np.ndarray
    target_mask: np.ndarray
    kind: EditKind
    #: The edit's affine part as a 2x3 backward matrix (target -> source pixel coordinates), before
    #: the fade; the non-rigid and brush kinds add a displacement no affine explains.
    affine_backward: np.ndarray | None = None


def identity_map(height: int, width: int) -> np.ndarray:
    """The backward map that moves nothing."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return np.stack([xs, ys], axis=-1)


def warp_with_map(image: np.ndarray, backward_map: np.ndarray, *, nearest: bool = False) -> np.ndarray:
    """Sample ``image`` at ``backward_map`` (bilinear, border replicated); keeps dtype and channels."""
    interpolation = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    work = image.astype(np.float32) if image.dtype == bool else image
    out = cv2.remap(work, backward_map[..., 0], backward_map[..., 1], interpolation,
                    borderMode=cv2.BORDER_REPLICATE)
    if image.dtype == bool:
        return out > 0.5
    if out.ndim == 2 and image.ndim == 3:
        out = out[..., None]
    return out


def warp_mask(mask: np.ndarray, backward_map: np.ndarray) -> np.ndarray:
    """Warp a boolean mask; bilinear then thresholded at one half, so the boundary is sub-pixel exact."""
    return warp_with_map(mask.astype(np.float32), backward_map) > 0.5


def _centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()], dtype=np.float64)


def _random_affine(rng: np.random.Generator, size: float, strength: float) -> tuple[np.ndarray, np.ndarray]:
    """A random linear part and translation (pixels) for a region of the given size."""
    angle = np.deg2rad(rng.uniform(-35.0, 35.0) * strength)
    scale = np.exp(rng.uniform(-0.3, 0.3, size=2) * strength)
    shear = rng.uniform(-0.15, 0.15) * strength
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    linear = rotation @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag(scale)
    translation = rng.uniform(-0.35, 0.35, size=2) * size * strength
    return linear, translation


def _smooth_noise(rng: np.random.Generator, height: int, width: int, wavelength: float) -> np.ndarray:
    """A smooth random 2-vector field with unit peak amplitude and features about ``wavelength`` wide."""
    grid_h = max(2, int(np.ceil(height / wavelength)) + 2)
    grid_w = max(2, int(np.ceil(width / wavelength)) + 2)
    coarse = rng.standard_normal((grid_h, grid_w, 2)).astype(np.float32)
    field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    peak = float(np.abs(field).max())
    return field / peak if peak > 0 else field


def _brush_field(rng: np.random.Generator, mask: np.ndarray, size: float) -> np.ndarray:
    """Displacement that grows (or erodes) the region around one random stretch of its boundary."""
    height, width = mask.shape
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    points = np.concatenate([c[:, 0, :] for c in contours]).astype(np.float64)
    anchor = points[rng.integers(len(points))]
    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    outside = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)
    signed = cv2.GaussianBlur(outside - inside, (0, 0), max(1.0, 0.05 * size))
    grad_y, grad_x = np.gradient(signed)
    ax, ay = int(round(anchor[0])), int(round(anchor[1]))
    normal = np.array([grad_x[ay, ax], grad_y[ay, ax]])
    normal = normal / (np.linalg.norm(normal) + 1e-8)  # points outwards
    reach = rng.uniform(0.2, 0.4) * size
    amount = rng.uniform(0.12, 0.3) * size * (1.0 if rng.random() < 0.6 else -1.0)
    xs, ys = np.meshgrid(np.arange(width), np.arange(height))
    bump = np.exp(-((xs - anchor[0]) ** 2 + (ys - anchor[1]) ** 2) / (2.0 * reach**2))
    # Backward map: a pixel just outside the old boundary takes its colour from further inside (growth).
    return (-amount * bump[..., None] * normal[None, None, :]).astype(np.float32)


def make_synthetic_edit(source_mask: np.ndarray, rng: np.random.Generator, kind: EditKind,
                        strength: float = 1.0) -> SyntheticEdit:
    """Deform the region ``source_mask`` by a seeded random edit of the given kind.

    - ``affine``: rotation, anisotropic scale, shear and a move of the region as a whole;
    - ``nonrigid``: a milder affine plus a smooth random displacement that no affine explains;
    - ``brush``: a small affine plus growth or erosion of one stretch of the boundary.
    """
    if source_mask.dtype != bool:
        raise TypeError("source_mask must be boolean")
    if not source_mask.any():
        raise ValueError("source_mask is empty")
    height, width = source_mask.shape
    size = region_size(source_mask)
    centre = _centroid(source_mask)
    affine_strength = {"affine": 1.0, "nonrigid": 0.5, "brush": 0.25}[kind] * strength
    linear, translation = _random_affine(rng, size, affine_strength)
    inverse = np.linalg.inv(linear)
    grid = identity_map(height, width).astype(np.float64)
    # Backward affine: target z came from centre + inverse (z - centre - translation).
    affine_matrix = np.hstack([inverse, (centre - inverse @ (centre + translation))[:, None]])
    affine_backward = grid @ affine_matrix[:, :2].T + affine_matrix[:, 2]
    displacement = (affine_backward - grid).astype(np.float32)
    if kind == "nonrigid":
        amplitude = rng.uniform(0.08, 0.16) * size * strength
        displacement += amplitude * _smooth_noise(rng, height, width, wavelength=0.45 * size)
    elif kind == "brush":
        displacement += _brush_field(rng, source_mask, size) * strength
    # The region's new shape under the full deformation; the deformation then fades around the two
    # masks, which is the area of influence a model can know from its inputs. The weight is 1 on
    # and near both masks, so fading leaves the new shape as it is.
    grid = grid.astype(np.float32)
    target_mask = warp_mask(source_mask, grid + displacement)
    weight = fade_weight(source_mask, target_mask)
    backward_map = (grid + weight[..., None] * displacement).astype(np.float32)
    target_mask = warp_mask(source_mask, backward_map)
    return SyntheticEdit(backward_map=backward_map, source_mask=source_mask,
                         target_mask=target_mask, kind=kind, affine_backward=affine_matrix)
