"""Held-out edits with a known true result, built apart from the product's motion and fade code.

Two constructions:

- **warp edits** (``affine``, ``nonrigid``, ``brush``): a displacement ``u`` (the edit) is blended
  into the identity with the evaluation's own transition profile, a raised cosine of the distance
  to both masks that is 1 on them and exactly 0 from ``band`` pixels on, where ``band`` stays
  below :data:`FAR_FRACTION` of the image diagonal. The true result samples the painting at the
  backward map ``z + w(z) u(z)``. When that map folds (Jacobian determinant below
  :data:`MIN_JACOBIAN`) or reads outside the painting, wider bands are tried, then the edit is
  scaled down (:attr:`TrueEdit.kept`); so the map is invertible, and the new shape is exactly the
  region carried by the edit.
- **moved layer** (``layer``, Content-Aware-Move-like): a region cut from another painting is
  composited (soft edge) onto the painting at one place for the input; the truth carries that
  layer by an affine to another place. The truth's vacated area is the real painting underneath.

In both, pixels farther than :data:`FAR_FRACTION` x diagonal from both masks are bit-identical in
input and truth. Layouts: one region (``single``), a region cut by the image border (``border``)
and two separate regions edited together (``multi``).

A third, **stretch** (``stretch``), is a large brush growth with a known result: the part of the
region on one side of a line across it is pinned (its outline and inside stay exactly where they
are) and the rest is stretched away from that line by 1.5-2.5x and painted over the painting, as an
artist pulls one end of a shape out with Puppet Warp pins on the other end, or brushes the region
longer and expects its end to come along. The new shape is the stretched region (with any of the
old region it does not cover: a brush only adds); the truth is the stretched painting inside it
and the input, bit for bit, everywhere else. Such growths are too large for a fold-free
transition band within :data:`FAR_FRACTION`, so the truth has none: only the new shape is scored.
It shares nothing with the product's motion code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from engine.evaluation.geometry import (affine_map, bounding_box, centroid, diagonal, distance_to, identity_map,
                                        invert_affine, jacobian_determinant, touches_border, warp_image, warp_mask)

EditKind = Literal["affine", "nonrigid", "brush", "stretch", "layer"]
Layout = Literal["single", "border", "multi"]
WARP_KINDS: tuple[EditKind, ...] = ("affine", "nonrigid", "brush")
LAYOUTS: tuple[Layout, ...] = ("single", "border", "multi")

#: Beyond this fraction of the image diagonal from both masks, an edit changes nothing.
FAR_FRACTION = 0.11
#: The truth's maps keep their Jacobian determinant at least this large (no folds, no near-folds).
MIN_JACOBIAN = 0.05
#: A folding or out-of-image edit is scaled by this factor and tried again, this many times.
SHRINK, SHRINK_TRIES = 0.75, 6
#: Transition bands tried for each strength, from the one that suits the motion to the widest.
BAND_TRIES = 3
#: How much of the edit's affine is kept for each kind (the rest of a non-rigid edit is local).
AFFINE_STRENGTH = {"affine": 1.0, "nonrigid": 0.5, "brush": 0.25, "stretch": 0.0, "layer": 1.0}
#: A stretch pins this share of the region's extent along its direction and stretches the rest by this factor.
STRETCH_PINNED = (0.35, 0.6)
STRETCH_FACTOR = (1.5, 2.5)
#: A stretch whose new shape (within the image) is under this many times the region's size is not used.
STRETCH_MIN_GROWTH = 1.15


@dataclass(frozen=True)
class TrueEdit:
    """One edit: what a method gets (``image``, the two masks) and what it should produce (``truth``)."""

    kind: EditKind
    layout: Layout
    image: np.ndarray
    truth: np.ndarray
    source_mask: np.ndarray
    target_mask: np.ndarray
    #: The pixels where truth and input may differ; every other pixel is bit-identical.
    changed: np.ndarray
    #: The edit's affine part, 2x3 backward (target pixel -> source pixel).
    affine_backward: np.ndarray
    #: Warp edits: the true backward map (the truth is the input sampled at it); None for layers.
    backward_map: np.ndarray | None = None
    #: The share of the drawn motion kept after scaling it down to avoid folds or reads off the image.
    kept: float = 1.0

    @property
    def vacated_mask(self) -> np.ndarray:
        return self.source_mask & ~self.target_mask


def transition_weight(distance: np.ndarray, band: float) -> np.ndarray:
    """Raised cosine: 1 at distance 0, exactly 0 from ``band`` on."""
    ramp = np.clip(distance / max(band, 1e-6), 0.0, 1.0)
    return (0.5 + 0.5 * np.cos(np.pi * ramp)).astype(np.float32)


def random_affine(rng: np.random.Generator, centre: np.ndarray, size: float, strength: float) -> np.ndarray:
    """A forward 2x3 affine about ``centre``: turn up to 35 deg, anisotropic scale, shear and a move,
    all scaled by ``strength``."""
    angle = np.deg2rad(rng.uniform(-35.0, 35.0) * strength)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shear = np.array([[1.0, rng.uniform(-0.2, 0.2) * strength], [0.0, 1.0]])
    scale = np.diag(np.exp(rng.uniform(-0.3, 0.3, size=2) * strength))
    linear = turn @ shear @ scale
    move = rng.uniform(-0.4, 0.4, size=2) * size * strength
    return np.hstack([linear, (centre + move - linear @ centre)[:, None]])


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], wavelength: float, waves: int = 6) -> np.ndarray:
    """A smooth random 2-vector field: a sum of plane waves about ``wavelength`` long, peak 1."""
    height, width = shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    field = np.zeros((height, width, 2), np.float32)
    for _ in range(waves):
        direction = rng.normal(size=2)
        direction /= np.linalg.norm(direction) + 1e-9
        frequency = 2 * np.pi / (wavelength * rng.uniform(0.7, 1.4))
        phase = np.cos(frequency * (direction[0] * xs + direction[1] * ys) + rng.uniform(0, 2 * np.pi))
        field += phase[..., None] * rng.normal(size=2).astype(np.float32)
    return field / max(float(np.abs(field).max()), 1e-6)


def wendland(distance: np.ndarray, radius: float) -> np.ndarray:
    """Wendland's C2 bump (1 - r)^4 (4 r + 1): 1 at the centre, exactly 0 from ``radius`` on."""
    r = np.clip(distance / radius, 0.0, 1.0)
    return ((1 - r) ** 4 * (4 * r + 1)).astype(np.float32)


def brush_field(rng: np.random.Generator, mask: np.ndarray, size: float) -> np.ndarray:
    """Backward displacement that grows (or erodes) the region along one stretch of its boundary."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    points = np.concatenate([c[:, 0, :] for c in contours]).astype(np.float64)
    ax, ay = points[rng.integers(len(points))]
    signed = cv2.GaussianBlur(distance_to(mask) - distance_to(~mask), (0, 0), max(1.0, 0.06 * size))
    gy, gx = np.gradient(signed)
    normal = np.array([gx[int(ay), int(ax)], gy[int(ay), int(ax)]])
    normal /= np.linalg.norm(normal) + 1e-9  # outwards
    amount = rng.uniform(0.1, 0.25) * size * (1.0 if rng.random() < 0.6 else -1.0)
    ys, xs = np.mgrid[0:mask.shape[0], 0:mask.shape[1]]
    bump = wendland(np.hypot(xs - ax, ys - ay), rng.uniform(0.35, 0.6) * size)
    # Growth: a pixel just outside the old boundary takes its colour from further inside.
    return (-amount * bump[..., None] * normal[None, None, :]).astype(np.float32)


@dataclass(frozen=True)
class Stretch:
    """Pin the painting on one side of the line ``direction . z = pinned_to`` and stretch the other
    side away from it by ``factor`` (image coordinates, x then y)."""

    direction: np.ndarray
    pinned_to: float
    factor: float
    #: How far the region's far end moves (pixels).
    reach: float

    def field(self, grid: np.ndarray) -> np.ndarray:
        """The backward displacement at ``grid`` (..., 2): 0 on the pinned side; beyond it a pixel
        at distance t from the line reads the painting at distance t / factor."""
        beyond = np.maximum(grid @ self.direction.astype(np.float32) - np.float32(self.pinned_to), 0.0)
        return (-(1.0 - 1.0 / self.factor) * beyond[..., None] * self.direction.astype(np.float32)).astype(np.float32)


def random_stretch(rng: np.random.Generator, region: np.ndarray) -> Stretch:
    """A stretch of ``region`` in a random direction, pinning 35-60 % of its extent."""
    angle = rng.uniform(0.0, 2.0 * np.pi)
    direction = np.array([np.cos(angle), np.sin(angle)])
    ys, xs = np.nonzero(region)
    along = xs * direction[0] + ys * direction[1]
    low, high = float(along.min()), float(along.max())
    pinned_to = low + rng.uniform(*STRETCH_PINNED) * (high - low)
    factor = rng.uniform(*STRETCH_FACTOR)
    return Stretch(direction, pinned_to, factor, (factor - 1.0) * (high - pinned_to))


def stretch_edit(image: np.ndarray, region: np.ndarray, rng: np.random.Generator, layout: Layout) -> TrueEdit | None:
    """A seeded stretch of ``region`` (the module's docstring); None when even a stretch of the region's
    far half grows it by under :data:`STRETCH_MIN_GROWTH` within the image (it runs off the image)."""
    shape = region.shape
    stretch = random_stretch(rng, region)
    x0, y0, x1, y1 = bounding_box(region)
    margin = stretch.reach + 2.0
    x0, y0 = int(max(0, np.floor(x0 - margin))), int(max(0, np.floor(y0 - margin)))
    x1, y1 = int(min(shape[1], np.ceil(x1 + margin) + 1)), int(min(shape[0], np.ceil(y1 + margin) + 1))
    local = region[y0:y1, x0:x1]
    grid = identity_map(y1 - y0, x1 - x0) + np.array([x0, y0], np.float32)
    backward = grid + stretch.field(grid)
    stretched = warp_mask(region, backward)
    if stretched.sum() + (local & ~stretched).sum() < STRETCH_MIN_GROWTH * local.sum():
        return None
    truth = image.copy()
    np.copyto(truth[y0:y1, x0:x1], warp_image(image, backward), where=stretched[..., None])
    full_map = identity_map(*shape)
    full_map[y0:y1, x0:x1] = np.where(stretched[..., None], backward, grid)
    changed = np.zeros(shape, bool)
    changed[y0:y1, x0:x1] = stretched
    target = region.copy()
    target[y0:y1, x0:x1] |= stretched
    identity_affine = np.hstack([np.eye(2), np.zeros((2, 1))])
    return TrueEdit("stretch", layout, image, truth, region, target, changed, identity_affine, full_map)


def _inside_image(points: np.ndarray, shape: tuple[int, int], tolerance: float = 0.5) -> np.ndarray:
    height, width = shape
    return ((points[..., 0] >= -tolerance) & (points[..., 0] <= width - 1 + tolerance)
            & (points[..., 1] >= -tolerance) & (points[..., 1] <= height - 1 + tolerance))


def _window(region: np.ndarray, forward: np.ndarray, slack: float, margin: float) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) that holds all a warp edit can change: the region, where ``forward`` carries
    it (give or take ``slack`` pixels of non-affine motion), grown by ``margin``."""
    x0, y0, x1, y1 = bounding_box(region)
    corners = np.array([[x0 - slack, y0 - slack], [x1 + slack, y0 - slack], [x0 - slack, y1 + slack],
                        [x1 + slack, y1 + slack]])
    moved = corners @ forward[:, :2].T + forward[:, 2]
    low = np.minimum([x0, y0], moved.min(axis=0)) - margin
    high = np.maximum([x1, y1], moved.max(axis=0)) + margin
    height, width = region.shape
    return (int(max(0, np.floor(low[0]))), int(max(0, np.floor(low[1]))),
            int(min(width, np.ceil(high[0]) + 1)), int(min(height, np.ceil(high[1]) + 1)))


def warp_edit(image: np.ndarray, region: np.ndarray, rng: np.random.Generator, kind: EditKind,
              layout: Layout) -> TrueEdit | None:
    """A seeded warp edit of ``region``; None when no fold-free, in-image version of it exists.

    All work happens in a window that holds everything the edit can change; outside it the map is
    the identity."""
    if kind not in WARP_KINDS:
        raise ValueError(f"not a warp kind: {kind}")
    shape = region.shape
    size = float(np.sqrt(region.sum()))
    far = FAR_FRACTION * diagonal(shape)
    forward = random_affine(rng, centroid(region), size, AFFINE_STRENGTH[kind])
    wobble = rng.uniform(0.08, 0.15) * size if kind == "nonrigid" else 0.0
    x0, y0, x1, y1 = _window(region, forward, 1.5 * wobble + (0.25 * size if kind == "brush" else 0.0), far)
    local = region[y0:y1, x0:x1]
    grid = identity_map(y1 - y0, x1 - x0) + np.array([x0, y0], np.float32)
    affine = invert_affine(forward)
    displacement = (grid @ affine[:, :2].T.astype(np.float32) + affine[:, 2].astype(np.float32)) - grid
    if kind == "nonrigid":
        displacement += wobble * smooth_field(rng, local.shape, 0.6 * size)
    elif kind == "brush":
        displacement += brush_field(rng, local, size)
    identity_affine = np.hstack([np.eye(2), np.zeros((2, 1))])
    for tries in range(SHRINK_TRIES):
        full_target = warp_mask(region, grid + displacement)
        if full_target.sum() < 0.4 * local.sum():
            return None
        masks = local | full_target
        motion = float(np.linalg.norm(displacement[masks], axis=1).max())
        if motion < 0.04 * size:
            return None
        distance = distance_to(masks)
        # The band that suits the motion first; if that folds or reads off the image, wider ones up
        # to the widest allowed (a wider band folds less but reaches the image border sooner).
        narrow = min(far - 2.0, max(0.3 * size, 2.5 * motion))
        for band in dict.fromkeys(np.linspace(narrow, far - 2.0, BAND_TRIES).tolist()):
            weight = transition_weight(distance, band)
            backward = grid + weight[..., None] * displacement
            if jacobian_determinant(backward).min() >= MIN_JACOBIAN and _inside_image(backward, shape).all():
                break
        else:
            displacement *= SHRINK
            affine = (1 - SHRINK) * identity_affine + SHRINK * affine
            continue
        break
    else:
        return None
    full_map = identity_map(*shape)
    full_map[y0:y1, x0:x1] = backward
    changed = np.zeros(shape, bool)
    changed[y0:y1, x0:x1] = weight > 0
    truth = image.copy()
    np.copyto(truth[y0:y1, x0:x1], warp_image(image, backward), where=changed[y0:y1, x0:x1, None])
    target = np.zeros(shape, bool)
    target[y0:y1, x0:x1] = warp_mask(region, backward)
    return TrueEdit(kind, layout, image, truth, region, target, changed, affine, full_map, SHRINK**tries)


def _composite(host: np.ndarray, layer: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``layer`` over ``host`` with coverage ``alpha``; pixels with alpha 0 are the host's own bits."""
    a = alpha[..., None]
    mixed = host.astype(np.float32) * (1 - a) + layer.astype(np.float32) * a
    peak = 65535 if host.dtype == np.uint16 else 255
    out = host.copy()
    np.copyto(out, np.clip(np.rint(mixed), 0, peak).astype(host.dtype), where=a > 0)
    return out


def layer_edit(host: np.ndarray, donor: np.ndarray, donor_region: np.ndarray, rng: np.random.Generator,
               layout: Layout) -> TrueEdit | None:
    """A region of ``donor`` pasted onto ``host`` (the input) and moved by an affine (the truth).

    The layer covers 3-10 % of the host; for ``border`` it is placed across the image border. None
    when the draw is unusable (the moved layer mostly leaves the image, or the layout does not hold).
    """
    if donor.dtype != host.dtype or donor.shape[2:] != host.shape[2:]:
        raise ValueError("the donor painting must have the host's pixel type and channels")
    height, width = host.shape[:2]
    scale = np.sqrt(rng.uniform(0.03, 0.10) * height * width / donor_region.sum())
    donor_centre = centroid(donor_region)
    radius = scale * np.sqrt(donor_region.sum() / np.pi)
    if layout == "border":
        along = rng.uniform(0.2, 0.8)
        inset = rng.uniform(0.1, 0.6) * radius
        place = [np.array([inset, along * height]), np.array([width - 1 - inset, along * height]),
                 np.array([along * width, inset]), np.array([along * width, height - 1 - inset])][rng.integers(4)]
    else:
        place = np.array([rng.uniform(0.25, 0.75) * width, rng.uniform(0.25, 0.75) * height])
    # Donor -> input placement (a scale about the donor's centre, then a move); then input -> truth.
    placement = np.hstack([scale * np.eye(2), (place - scale * donor_centre)[:, None]])
    move = random_affine(rng, place, float(np.sqrt(np.pi) * radius), AFFINE_STRENGTH["layer"])
    softness = 0.8 / scale  # a soft edge of about one host pixel
    donor_alpha = np.clip(cv2.GaussianBlur(donor_region.astype(np.float32), (0, 0), softness), 0, 1)
    donor_alpha[donor_alpha < 1 / 255] = 0

    to_donor = affine_map((height, width), invert_affine(placement))
    layer_in = warp_image(donor, to_donor)
    # Only what the input shows is the layer: a part placed beyond the image border is cut off, as
    # a user's selection at the border would be, so the truth never reveals what no method could know.
    alpha_in = warp_image(donor_alpha, to_donor, border=cv2.BORDER_CONSTANT)
    backward = invert_affine(move)
    # The moved layer is the input's layer carried by the move: what moves is what the input shows.
    to_input = affine_map((height, width), backward)
    layer_out = warp_image(layer_in, to_input)
    alpha_out = warp_image(alpha_in, to_input, border=cv2.BORDER_CONSTANT)
    alpha_out[alpha_out < 1 / 255] = 0
    source, target = alpha_in > 0.5, alpha_out > 0.5
    if not source.any() or target.sum() < 0.4 * source.sum() or (layout == "border") != touches_border(source):
        return None
    image = _composite(host, layer_in, alpha_in)
    truth = _composite(host, layer_out, alpha_out)
    return TrueEdit("layer", layout, image, truth, source, target, (alpha_in > 0) | (alpha_out > 0), backward)
