"""Outlined composites for the promptable segmenter: photos holding a shape drawn with a dark outline.

Many paintings draw their shapes with a dark outline stroke, and a click inside such a shape should
select all of it, its outline included (issue 20: "the rim belongs to the object"), also where its
inside is made of several colour fields. BSDS500's human regions rarely look like that, so here a
region's shape (from one training photo's segmentation) is filled with another training photo, ringed
with a dark stroke and pasted on a third: the whole ringed shape is the object a click inside it
answers, and the donor's region under the click (cut to the shape) the smaller part. Photos only,
training split only; the pastes vary in size, stroke width, darkness and colour, and softness.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import cv2
import numpy as np
import scipy.ndimage

from models.segmenter.clicks import first_click
from models.training.bsds import object_like_shapes
from models.training.segmenter_data import CachedPhoto

#: The object covers this share of the photo (its shape scaled to a share drawn in this range).
AREA_SHARE = (0.02, 0.15)
#: The outline stroke's width in pixels (drawn in this range, inclusive).
STROKE_WIDTH = (2, 7)
#: The stroke's grey level (its colour is tinted around it) and the softness of the paste (Gaussian sigma).
STROKE_GREY, SOFTNESS = (8.0, 70.0), (0.5, 1.2)
#: A laced ground holds this many open dark curves and closed dark loops (inclusive ranges) of the outline's
#: colour, so that dark lines alone do not make an object: the answer is the loop around the click.
LACE_CURVES, LACE_LOOPS = (2, 6), (1, 4)


@dataclass
class OutlinedComposite:
    """A composite photo: its encoder features (as CachedPhoto), the ringed shape and the donor's parts in it."""

    photo: CachedPhoto
    whole: np.ndarray  # (H, W) bool: the shape with its outline
    parts: np.ndarray  # (H, W) int32: the donor's regions inside the shape (0 outside it and on the stroke)


def object_shapes(photos: Sequence[CachedPhoto], rng: np.random.Generator, per_photo: int = 2) -> list[np.ndarray]:
    """Object-like human regions (connected, hole-free, 1-25 % of the photo, away from its border, not a
    sliver), cropped to their box, from the first annotator of each photo."""
    shapes = []
    for photo in photos:
        shapes += object_like_shapes(photo.segmentations[0], rng, per_photo)
    return shapes


def lace_with_strokes(image: np.ndarray, colour: np.ndarray, stroke: int, rng: np.random.Generator) -> np.ndarray:
    """``image`` (RGB uint8) with open curves and closed loops drawn in ``colour``, about ``stroke`` px wide,
    anywhere on it (as paintings drawn with dark lines hold them beside and across their outlined shapes)."""
    laced = image.copy()
    height, width = image.shape[:2]
    for _ in range(int(rng.integers(LACE_CURVES[0], LACE_CURVES[1] + 1))):
        start = rng.uniform((0, 0), (width, height))
        steps = rng.normal(0.0, 0.12 * max(height, width), (int(rng.integers(3, 8)), 2)).cumsum(axis=0)
        points = np.vstack([start, start + steps]).round().astype(np.int32)
        thickness = max(1, stroke + int(rng.integers(-1, 2)))
        cv2.polylines(laced, [points], False, colour.tolist(), thickness, cv2.LINE_AA)
    for _ in range(int(rng.integers(LACE_LOOPS[0], LACE_LOOPS[1] + 1))):
        centre = rng.uniform((0, 0), (width, height))
        axes = rng.uniform(0.04, 0.25, 2) * min(height, width)
        thickness = max(1, stroke + int(rng.integers(-1, 2)))
        cv2.ellipse(laced, (centre.round().astype(int).tolist(), axes.tolist(), float(rng.uniform(0, 180))),
                    colour.tolist(), thickness, cv2.LINE_AA)
    return laced


def paste_outlined(host: np.ndarray, donor: np.ndarray, donor_labels: np.ndarray, shape: np.ndarray,
                   rng: np.random.Generator, laced: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``shape`` filled with ``donor`` (resized to the host), ringed by a dark stroke, pasted at a random place
    on ``host`` (RGB uint8; with ``laced``, first drawn over with dark lines of the stroke's colour, see
    :func:`lace_with_strokes`). Returns the image, the ringed shape (bool) and the donor's regions inside it."""
    height, width = host.shape[:2]
    donor = cv2.resize(donor, (width, height), interpolation=cv2.INTER_AREA)
    donor_labels = cv2.resize(donor_labels.astype(np.int32), (width, height), interpolation=cv2.INTER_NEAREST)
    stroke = int(rng.integers(STROKE_WIDTH[0], STROKE_WIDTH[1] + 1))
    scale = np.sqrt(rng.uniform(*AREA_SHARE) * height * width / shape.sum())
    size = (max(8, round(shape.shape[1] * scale)), max(8, round(shape.shape[0] * scale)))
    small = cv2.resize(shape.astype(np.uint8), size, interpolation=cv2.INTER_LINEAR) > 0
    small = small[:height - 2 * stroke - 2, :width - 2 * stroke - 2]
    pad = stroke + 1
    y0 = int(rng.integers(pad, max(pad + 1, height - small.shape[0] - pad)))
    x0 = int(rng.integers(pad, max(pad + 1, width - small.shape[1] - pad)))
    inside = np.zeros((height, width), bool)
    inside[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * stroke + 1, 2 * stroke + 1))
    ring = (cv2.dilate(inside.view(np.uint8), disc) > 0) & ~inside
    grey = rng.uniform(*STROKE_GREY)
    colour = np.clip(grey + rng.normal(0.0, 0.35 * grey + 4.0, 3), 0, 255)
    layer = donor.astype(np.float32)
    layer[ring] = np.clip(colour + rng.normal(0.0, 5.0, (int(ring.sum()), 1)), 0, 255)
    alpha = cv2.GaussianBlur((inside | ring).astype(np.float32), (0, 0), rng.uniform(*SOFTNESS))[..., None]
    if laced:
        host = lace_with_strokes(host, colour, stroke, rng)
    image = np.clip(np.rint(alpha * layer + (1.0 - alpha) * host), 0, 255).astype(np.uint8)
    whole = alpha[..., 0] >= 0.5
    parts = np.where(inside, donor_labels + 1, 0).astype(np.int32)
    return image, whole, parts


def make_composites(photos: Sequence[CachedPhoto], shapes: Sequence[np.ndarray], count: int,
                    encode: Callable[[np.ndarray], dict], rng: np.random.Generator,
                    laced_share: float = 0.0) -> list[OutlinedComposite]:
    """``count`` composites, each on a random photo of ``photos`` with a random shape filled from another photo of
    the same size, a ``laced_share`` of them on a ground laced with dark lines; ``encode`` gives a padded image's
    features (as CachedPhoto holds them)."""
    from models.training.segmenter_data import pad_to_multiple

    composites = []
    by_size: dict[tuple[int, int], list[CachedPhoto]] = {}
    for photo in photos:
        by_size.setdefault(photo.image.shape[:2], []).append(photo)
    sizes = [size for size, group in by_size.items() if len(group) >= 2]
    if not shapes or not sizes:
        raise ValueError("no outlined composites can be made: " + ("no region may serve as a shape" if not shapes
                                                                 else "no two training photos share a size"))
    while len(composites) < count:
        group = by_size[sizes[int(rng.integers(len(sizes)))]]
        host, donor = (group[int(index)] for index in rng.choice(len(group), 2, replace=False))
        shape = shapes[int(rng.integers(len(shapes)))]
        laced = laced_share > 0 and rng.random() < laced_share  # no draw without lacing: older runs stay the same
        image, whole, parts = paste_outlined(host.image, donor.image, donor.segmentations[0], shape, rng, laced)
        features = encode(pad_to_multiple(image))
        photo = CachedPhoto(f"{host.name}+{donor.name}", image, [], features, host.padded_size)
        composites.append(OutlinedComposite(photo, whole, parts))
    return composites


def composite_click(composite: OutlinedComposite, rng: np.random.Generator) -> tuple[tuple[float, float], np.ndarray]:
    """A click inside the shape (away from its stroke: a random deep point of a random donor part) and the
    donor's part under it (the smaller region a click there may mean)."""
    inner = composite.parts > 0
    labels = np.unique(composite.parts[inner])
    sizes = np.array([np.count_nonzero(composite.parts == label) for label in labels])
    usable = labels[sizes >= 0.05 * inner.sum()]
    label = usable[int(rng.integers(len(usable)))] if len(usable) else labels[int(np.argmax(sizes))]
    part = composite.parts == label
    core = scipy.ndimage.label(part)[0]
    biggest = np.bincount(core.ravel())[1:].argmax() + 1
    part = core == biggest
    x, y = first_click(part, rng, spread=0.6)
    return (x, y), part
