"""No wrong motions: affine edits of a region in two parts spread over the picture, and of a region
cut by the image border, land on the true affine inside the new shape (issue 20, item 5).

The truth is made by the evaluation's own edit builder (engine.evaluation.truth.warp_edit), apart
from the product's code; the classical registration (engine.evaluation.baselines.register) is the
yardstick, scored in the same test."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.evaluation.baselines import register
from engine.evaluation.metrics import psnr
from engine.evaluation.truth import warp_edit
from engine.manipulator import Manipulator

HEIGHT, WIDTH = 700, 960


def texture(seed: int, height: int, width: int) -> np.ndarray:
    """Crossing colour waves of many scales, grain and broad blotches: a sub-pixel slip shows."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.zeros((height, width, 3), np.float32)
    for _ in range(12):
        frequency, angle, phase = rng.uniform(0.05, 0.6), rng.uniform(0, np.pi), rng.uniform(0, 6)
        wave = np.sin(frequency * (np.cos(angle) * xs + np.sin(angle) * ys) + phase)
        image += rng.uniform(10, 30, 3) * wave[..., None]
    image += rng.normal(0, 8, (height, width, 3))
    blotches = cv2.GaussianBlur(rng.normal(0, 1, (height, width, 3)).astype(np.float32), (0, 0), 20)
    image += 60 * blotches / blotches.std()
    return np.clip(image + 128, 0, 255).astype(np.uint8)


def blob(shape: tuple[int, int], cx: float, cy: float, radius: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    radii = radius * (1 + 0.2 * np.sin(3 * angles + rng.uniform(0, 6)) + 0.1 * np.sin(5 * angles + rng.uniform(0, 6)))
    points = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], 1).astype(np.int32)
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [points], 1)
    return mask > 0


def affine_edit(layout: str, seed: int, scale: int = 1):
    """A seeded affine edit on a HEIGHT x WIDTH texture, every length times ``scale``."""
    rng = np.random.default_rng(seed)
    height, width = HEIGHT * scale, WIDTH * scale
    image = texture(seed, height, width)
    at = lambda low, high: scale * rng.uniform(low, high)  # noqa: E731
    if layout == "multi":  # two parts far apart, one on each side of the picture
        region = (blob((height, width), at(150, 300), at(150, 550), at(50, 90), seed)
                  | blob((height, width), at(600, 800), at(150, 550), at(40, 80), seed + 100))
    else:  # a quarter of the region lies beyond one image border
        side, radius = rng.integers(4), at(70, 110)
        cx, cy = [(0.75 * radius, at(200, 500)), (width - 0.75 * radius, at(200, 500)),
                  (at(250, 700), 0.75 * radius), (at(250, 700), height - 0.75 * radius)][side]
        region = blob((height, width), cx, cy, radius, seed)
    return warp_edit(image, region, rng, "affine", layout)


@pytest.fixture(scope="module")
def manipulator() -> Manipulator:
    return Manipulator(device="cpu")


@pytest.mark.parametrize("layout,seed,scale", [("multi", 6, 1), ("multi", 3, 1), ("multi", 2, 2), ("border", 8, 1),
                                               ("border", 13, 1)])
def test_affine_edit_lands_on_the_true_affine(manipulator: Manipulator, layout: str, seed: int, scale: int) -> None:
    """At twice the size (scale 2) the alignment's pixel is twice as many image pixels."""
    edit = affine_edit(layout, seed, scale)
    assert edit is not None and (layout != "border" or edit.source_mask[[0, -1]].any()
                                 or edit.source_mask[:, [0, -1]].any())
    result = manipulator.edit(edit.image, edit.source_mask, edit.target_mask)
    ours = psnr(result.image, edit.truth, edit.target_mask)
    registered = psnr(register(edit.image, edit.source_mask, edit.target_mask)[0], edit.truth, edit.target_mask)
    assert ours >= registered - 6.0, f"{ours:.1f} dB against registration's {registered:.1f} dB"
    assert ours >= 45.0, f"{ours:.1f} dB inside the new shape: the motion is off the true affine"
