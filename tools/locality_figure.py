#!/usr/bin/env python3
"""The README's locality figure: four held-out paintings, each with a region moved and turned.

    .venv/bin/python tools/locality_figure.py [--out docs/locality_examples.jpg]

Columns: the input with the region (green) and its new shape (red); the result at the default
reach; the result at a wide reach (64 px); the pixels the default edit changed (white), with the
band the reach allows outlined in yellow. Two edits are the collateral probe's
(``../shared/probe``); the other two move a colour region found without any model by a fixed
turn and shift. Needs ../shared beside the checkout.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.evaluation.regions import find_regions  # noqa: E402
from engine.imageio import load_image, load_mask, save_image  # noqa: E402
from engine.locality import edit_area, region_size  # noqa: E402
from engine.manipulator import Manipulator  # noqa: E402
from engine.masks import transform_mask  # noqa: E402

SHARED = ROOT.parent / "shared"
WIDE_REACH = 64.0
PANEL_SIDE = 360


def probe_edit(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    image = load_image(SHARED / "data" / "artworks" / f"{name}.jpg").pixels
    shape = image.shape[:2]
    return (image, load_mask(SHARED / "probe" / f"{name}_source.png", shape),
            load_mask(SHARED / "probe" / f"{name}_target.png", shape))


def turned_edit(name: str, angle: float, shift: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The painting's largest colour region, turned by ``angle`` degrees about its centre and moved
    by ``shift`` times its size."""
    image = load_image(SHARED / "data" / "artworks" / f"{name}.jpg").pixels
    source = find_regions(image, seed=0)[0]
    ys, xs = np.nonzero(source)
    size = region_size(source)
    forward = cv2.getRotationMatrix2D((float(xs.mean()), float(ys.mean())), angle, 1.0)
    forward[:, 2] += np.array(shift) * size
    return image, source, transform_mask(source, forward)


def rgb8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    if image.ndim == 2 or image.shape[2] == 1:
        image = np.repeat(image.reshape(image.shape[0], image.shape[1], 1), 3, axis=2)
    return np.ascontiguousarray(image[..., :3])


def outline(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int], width: int) -> np.ndarray:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(image, contours, -1, colour, width)
    return image


def fit(panel: np.ndarray) -> np.ndarray:
    """The panel scaled into a PANEL_SIDE square, centred on white, with a thin white frame."""
    scale = PANEL_SIDE / max(panel.shape[:2])
    size = (max(1, round(panel.shape[1] * scale)), max(1, round(panel.shape[0] * scale)))
    small = cv2.resize(panel, size, interpolation=cv2.INTER_AREA)
    square = np.full((PANEL_SIDE + 6, PANEL_SIDE + 6, 3), 255, np.uint8)
    top, left = 3 + (PANEL_SIDE - size[1]) // 2, 3 + (PANEL_SIDE - size[0]) // 2
    square[top:top + size[1], left:left + size[0]] = small
    return square


def row(manipulator: Manipulator, image: np.ndarray, source: np.ndarray, target: np.ndarray) -> list[np.ndarray]:
    narrow = manipulator.edit(image, source, target)
    wide = manipulator.edit(image, source, target, reach=WIDE_REACH)
    width = max(2, image.shape[0] // 250)
    marked = outline(outline(rgb8(image), source, (0, 200, 0), width), target, (230, 0, 0), width)
    changed = np.any(narrow.image.reshape(*image.shape[:2], -1) != image.reshape(*image.shape[:2], -1), axis=2)
    changes = np.repeat((changed * 255).astype(np.uint8)[..., None], 3, axis=2)
    outline(changes, edit_area(source, target, narrow.reach), (255, 210, 0), width)
    return [marked, rgb8(narrow.image), rgb8(wide.image), changes]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "locality_examples.jpg")
    args = parser.parse_args()
    manipulator = Manipulator(device="cpu")
    edits = [probe_edit("the_scream"), probe_edit("woman-with-hat-matisse"),
             turned_edit("shipwreck", 20.0, (0.35, -0.1)), turned_edit("frida_kahlo", -15.0, (-0.3, 0.2))]
    strips = []
    for image, source, target in edits:
        panels = row(manipulator, image, source, target)
        strips.append(np.hstack([fit(panel) for panel in panels]))
    width = strips[0].shape[1]
    header = np.full((30, width, 3), 255, np.uint8)
    labels = ["input: region (green), new shape (red)", "default reach", f"reach {WIDE_REACH:.0f} px",
              "changed pixels (band in yellow)"]
    for index, label in enumerate(labels):
        cv2.putText(header, label, (6 + index * width // 4, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    save_image(args.out, np.vstack([header, *strips]))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
