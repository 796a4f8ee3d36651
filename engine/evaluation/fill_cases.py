"""Cases for ``simnet eval-fill``: an object pasted on a painting and moved, so what lies under it is known.

The object's shape is a human-drawn region of a BSDS500 *training* photograph (only its outline is
used), its content is cut from another painting, and it is pasted with a soft (anti-aliased) edge,
optionally ringed by a dark painted outline 3-5 px wide. The truth is the same paste at the new place:
where the object was and is no longer, the truth is the host painting itself, bit for bit. None of
this uses the product's code (no fill, compose or manipulator), so the yardstick shares nothing
with what it measures.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
import scipy.io

from models.training.bsds import object_like_shapes

#: The object covers this share of the host.
AREA_SHARE = (0.03, 0.08)
#: The move is this many times the object's larger side.
MOVE_SIDES = (1.15, 1.5)
#: Outline width range (px) of outlined objects, and its colour (RGB, dark).
OUTLINE_WIDTH = (3, 5)
OUTLINE_COLOUR = (28, 22, 32)
#: Shapes taken from each BSDS500 segmentation file, and files read.
SHAPES_PER_FILE, SHAPE_FILES = 2, 60


@dataclass
class FillCase:
    """One pasted-and-moved object. ``image`` is the input, ``truth`` the object at its new place,
    ``underneath`` the painting without the object."""

    name: str
    image: np.ndarray
    truth: np.ndarray
    underneath: np.ndarray
    #: The object's own pixels (without outline) at its old and new place: the exact selection.
    source: np.ndarray
    target: np.ndarray
    #: Where the object (with its soft edge and outline) was and no longer is: truth == underneath there.
    vacated: np.ndarray
    #: Everything the object covers (soft edge and outline included) at its new place.
    covered_after: np.ndarray
    #: The outline ring at the old place (empty when the object has none), and the move (dx, dy).
    outline: np.ndarray
    shift: tuple[int, int]

    @property
    def with_outline(self) -> np.ndarray:
        """The object as a painter sees it: its inside and its outline."""
        return self.source | self.outline

    @property
    def click(self) -> tuple[float, float]:
        """The object's innermost pixel (x, y): where a user clicks it."""
        inside = cv2.distanceTransform(self.source.astype(np.uint8), cv2.DIST_L2, 5)
        y, x = np.unravel_index(int(np.argmax(inside)), inside.shape)
        return float(x), float(y)


def _training_segmentations(bsds_root: str | Path) -> Path:
    """The folder of BSDS500's training segmentations (MAT files)."""
    return Path(bsds_root) / "groundTruth" / "train"


def _shape_files(bsds_root: str | Path, rng: np.random.Generator) -> list[Path]:
    """The training segmentations the shapes of a seed's cases come from (drawn with ``rng``)."""
    folder = _training_segmentations(bsds_root)
    files = sorted(folder.glob("*.mat"))
    if not files:
        raise FileNotFoundError(f"no BSDS500 segmentations in {folder}")
    return list(rng.permutation(np.array(files, dtype=object))[:SHAPE_FILES])


def shape_source_names(bsds_root: str | Path, seeds: Sequence[int]) -> frozenset[str]:
    """The names of the training photos whose segmentations give the cases' shapes for ``seeds`` (so that a model
    trained on such shapes can leave these out)."""
    return frozenset(path.stem for seed in seeds for path in _shape_files(bsds_root, np.random.default_rng(seed)))


def region_shapes(bsds_root: str | Path, seed: int) -> list[np.ndarray]:
    """Object-like region outlines from BSDS500 training segmentations: connected, hole-free, not
    touching the photo's border, 1-25 % of the photo, cropped to their bounding box."""
    rng = np.random.default_rng(seed)
    shapes = []
    for path in _shape_files(bsds_root, rng):
        labels = np.asarray(scipy.io.loadmat(str(path))["groundTruth"][0][0]["Segmentation"][0, 0])
        shapes += object_like_shapes(labels, rng, SHAPES_PER_FILE)
    if not shapes:
        raise FileNotFoundError(f"no usable region shapes in {_training_segmentations(bsds_root)}")
    return shapes


def _composite(host: np.ndarray, layer: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    mixed = alpha[..., None] * layer.astype(np.float32) + (1 - alpha[..., None]) * host.astype(np.float32)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def _shifted(array: np.ndarray, dx: int, dy: int) -> np.ndarray:
    out = np.zeros_like(array)
    height, width = array.shape[:2]
    out[max(0, dy):height + min(0, dy), max(0, dx):width + min(0, dx)] = \
        array[max(0, -dy):height - max(0, dy), max(0, -dx):width - max(0, dx)]
    return out


def make_case(name: str, host: np.ndarray, donor: np.ndarray, shape: np.ndarray, rng: np.random.Generator,
              outlined: bool) -> FillCase | None:
    """Paste ``shape`` filled with ``donor`` on ``host`` (RGB uint8) and move it; None if it does not fit."""
    height, width = host.shape[:2]
    donor = cv2.resize(donor, (width, height), interpolation=cv2.INTER_AREA)
    scale = np.sqrt(rng.uniform(*AREA_SHARE) * height * width / shape.sum())
    size = (max(8, round(shape.shape[1] * scale)), max(8, round(shape.shape[0] * scale)))
    small = cv2.resize(shape.astype(np.uint8), size, interpolation=cv2.INTER_LINEAR) > 0
    ring_width = int(rng.integers(OUTLINE_WIDTH[0], OUTLINE_WIDTH[1] + 1)) if outlined else 0
    pad = ring_width + 3
    object_h, object_w = small.shape[0] + 2 * pad, small.shape[1] + 2 * pad
    for _ in range(40):
        angle = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(*MOVE_SIDES) * max(small.shape)
        dx, dy = int(round(length * np.cos(angle))), int(round(length * np.sin(angle)))
        x_low, x_high = max(0, -dx), min(width, width - dx) - object_w
        y_low, y_high = max(0, -dy), min(height, height - dy) - object_h
        if x_high > x_low and y_high > y_low:
            break
    else:
        return None
    x0, y0 = int(rng.integers(x_low, x_high)) + pad, int(rng.integers(y_low, y_high)) + pad
    inside = np.zeros((height, width), bool)
    inside[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    layer = donor.copy()
    outline = np.zeros_like(inside)
    if outlined:
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring_width + 1, 2 * ring_width + 1))
        outline = (cv2.dilate(inside.astype(np.uint8), disc) > 0) & ~inside
        shade = rng.normal(0.0, 6.0, size=(height, width, 1))
        layer[outline] = np.clip(np.array(OUTLINE_COLOUR) + shade[outline], 0, 255).astype(np.uint8)
    alpha = np.clip(cv2.GaussianBlur((inside | outline).astype(np.float32), (0, 0), 0.8), 0, 1)
    alpha[alpha < 1 / 255] = 0
    moved_alpha = _shifted(alpha, dx, dy)
    image = _composite(host, layer, alpha)
    truth = _composite(host, _shifted(layer, dx, dy), moved_alpha)
    covered_after = moved_alpha > 0
    return FillCase(name, image, truth, host, inside, _shifted(inside, dx, dy), (alpha > 0) & ~covered_after,
                    covered_after, outline, (dx, dy))


def build_cases(images: list[tuple[str, np.ndarray]], shapes: list[np.ndarray], count: int, seed: int,
                outlined: bool) -> list[FillCase]:
    """``count`` cases spread round-robin over ``images`` (name, RGB uint8); each object's content
    is cut from the next image in the list (another painting)."""
    rng = np.random.default_rng(seed + (1000 if outlined else 0))
    cases: list[FillCase] = []
    attempt = 0
    while len(cases) < count and attempt < 20 * count:
        host_name, host = images[attempt % len(images)]
        _, donor = images[(attempt + 1) % len(images)]
        shape = shapes[int(rng.integers(len(shapes)))]
        attempt += 1
        case = make_case(f"{host_name}#{len(cases)}", host, donor, shape, rng, outlined)
        if case is not None:
            cases.append(case)
    return cases
