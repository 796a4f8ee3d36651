#!/usr/bin/env python3
"""The README's locality figure: four held-out paintings, each with a region moved and turned.

    .venv/bin/python tools/locality_figure.py [--out docs/locality_examples.jpg]

Columns: the input with the region (green) and its new shape (red); the result at the default
reach; the result at a wide reach (200 px); the pixels the default edit changed (white), with the
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

from engine.compose import bend_jacobian, smoothstep_falloff  # noqa: E402
from engine.evaluation.regions import find_regions  # noqa: E402
from engine.imageio import load_image, load_mask, save_image, to_rgb8  # noqa: E402
from engine.locality import distance_outside, edit_area, edit_box, region_size  # noqa: E402
from engine.manipulator import Manipulator  # noqa: E402
from engine.masks import transform_mask  # noqa: E402
from engine.render import render_cv2  # noqa: E402
from models.influence import fade_width  # noqa: E402

SHARED = ROOT.parent / "shared"
WIDE_REACH = 200.0
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
    marked = outline(outline(to_rgb8(image), source, (0, 200, 0), width), target, (230, 0, 0), width)
    changed = np.any(narrow.image.reshape(*image.shape[:2], -1) != image.reshape(*image.shape[:2], -1), axis=2)
    changes = np.repeat((changed * 255).astype(np.uint8)[..., None], 3, axis=2)
    outline(changes, edit_area(source, target, narrow.reach), (255, 210, 0), width)
    return [marked, to_rgb8(narrow.image), to_rgb8(wide.image), changes]


def bent(image: np.ndarray, source: np.ndarray, target: np.ndarray, motion: np.ndarray, square, width: float
         ) -> tuple[np.ndarray, float]:
    """The painting bent by the edit's motion over a fade of ``width`` pixels around both masks, and
    the smallest Jacobian determinant of that map (negative: it folds)."""
    box = edit_box(source, target, width)
    bx0, by0, bx1, by1 = box
    window = (slice(by0, by1), slice(bx0, bx1))
    weight = smoothstep_falloff(distance_outside((source | target)[window]), width)
    patch, _, moved, _ = render_cv2(image[window], source[window], motion, square, box, torch_cpu(), weight)
    result = image.copy()
    np.copyto(result[window], patch, where=moved[..., None])
    return result, bend_jacobian(source, target, motion, square, box, width)


def torch_cpu():
    import torch

    return torch.device("cpu")


def design(manipulator: Manipulator, out: Path) -> None:
    """Why the product transports instead of bending: one edit three ways, cropped to the edit."""
    image, source, target = probe_edit("the_scream")
    result = manipulator.edit(image, source, target)
    old_width = fade_width(source, target)
    wide, wide_jacobian = bent(image, source, target, result.displacement, result.square, old_width)
    narrow, narrow_jacobian = bent(image, source, target, result.displacement, result.square, result.reach)
    x0, y0, x1, y1 = edit_box(source, target, 0.6 * region_size(source | target))
    crop = lambda picture: to_rgb8(picture)[y0:y1, x0:x1]  # noqa: E731
    width = max(2, image.shape[0] // 300)
    marked = outline(outline(to_rgb8(image), source, (0, 200, 0), width), target, (230, 0, 0), width)
    panels = [crop(marked), crop(wide), crop(narrow), crop(result.image)]
    labels = ["input: region (green), new shape (red)",
              f"bend over the old fade ({old_width:.0f} px): min det J {wide_jacobian:.2f}",
              f"bend within the reach ({result.reach:.0f} px): min det J {narrow_jacobian:.2f}",
              "transport + fill (now)"]
    tiles = []
    for panel, label in zip(panels, labels):
        tile = fit(panel)
        header = np.full((26, tile.shape[1], 3), 255, np.uint8)
        cv2.putText(header, label, (4, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(np.vstack([header, tile]))
    save_image(out, np.hstack(tiles))
    print(f"wrote {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "locality_examples.jpg")
    parser.add_argument("--design", type=Path, default=ROOT / "docs" / "locality_design.jpg",
                        help="also write the bend-versus-transport picture of docs/ARCHITECTURE.md here")
    args = parser.parse_args()
    manipulator = Manipulator(device="cpu")
    design(manipulator, args.design)
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
