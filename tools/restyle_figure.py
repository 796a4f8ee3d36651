#!/usr/bin/env python3
"""The README's restyle figure: regions of held-out paintings restyled from another painting's region.

    .venv/bin/python tools/restyle_figure.py [--out docs/restyle_examples.jpg]

Row 1: the sky of Van Gogh's *Starry Night* restyled from the stormy sky of Turner's *Shipwreck*
(both regions are rectangles fixed here, over the two skies, before any result was seen: the
Van Gogh sky right of the cypress and above the hills; the Turner sky's upper band). The other
rows are the first pairs of ``simnet eval-restyle`` (regions found without any model). Columns:
the region (green outline), the exemplar region, Reinhard colour transfer, histogram matching,
ours at strength 0.5 and 1 (bi-level attention). Each panel is the region's bounding box; the
last panel is also shown at full resolution, uncropped, below the rows for the Van Gogh sky.
Needs ../shared beside the checkout (or pass --artworks).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.evaluation.restyle_anchors import histogram_matching, reinhard  # noqa: E402
from engine.evaluation.restyle_eval import RestylePair, build_pairs  # noqa: E402
from engine.imageio import load_image, save_image, to_rgb8  # noqa: E402
from engine.restyle import prepare_restyle  # noqa: E402
from models.influence import mask_bbox  # noqa: E402

ARTWORKS = ROOT.parent / "shared" / "data" / "artworks"
#: (x0, y0, x1, y1) as shares of the painting's width and height.
VAN_GOGH_SKY = (0.30, 0.0, 1.0, 0.38)
TURNER_SKY = (0.26, 0.0, 0.99, 0.22)
PANEL_HEIGHT = 200


def _rectangle(shape: tuple[int, ...], shares: tuple[float, float, float, float]) -> np.ndarray:
    height, width = shape[:2]
    mask = np.zeros((height, width), bool)
    x0, y0, x1, y1 = shares
    mask[round(y0 * height):round(y1 * height), round(x0 * width):round(x1 * width)] = True
    return mask


def _panel(image: np.ndarray, mask: np.ndarray, outline: bool = False) -> np.ndarray:
    x0, y0, x1, y1 = mask_bbox(mask)
    crop = to_rgb8(image)[y0:y1, x0:x1].copy()
    if outline:
        contours, _ = cv2.findContours(mask[y0:y1, x0:x1].astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(crop, contours, -1, (0, 220, 0), max(1, crop.shape[0] // 120))
    scale = PANEL_HEIGHT / crop.shape[0]
    width = min(int(PANEL_HEIGHT * 2.2), max(1, round(crop.shape[1] * scale)))
    return cv2.resize(crop, (width, PANEL_HEIGHT), interpolation=cv2.INTER_AREA)


def row(pair: RestylePair) -> list[np.ndarray]:
    restyled = prepare_restyle(pair.image, pair.region, pair.exemplar, pair.exemplar_region)
    args = (pair.image, pair.region, pair.exemplar, pair.exemplar_region)
    outputs = [reinhard(*args), histogram_matching(*args), restyled.at_strength(0.5), restyled.at_strength(1.0)]
    return ([_panel(pair.image, pair.region, outline=True), _panel(pair.exemplar, pair.exemplar_region)]
            + [_panel(output, pair.region) for output in outputs])


LABELS = ("region", "exemplar region", "Reinhard", "histogram matching", "ours, strength 0.5", "ours, strength 1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artworks", default=str(ARTWORKS))
    parser.add_argument("--out", default=str(ROOT / "docs" / "restyle_examples.jpg"))
    parser.add_argument("--pairs", type=int, default=3, help="eval pairs shown below the Van Gogh row")
    args = parser.parse_args()
    folder = Path(args.artworks)
    van_gogh = to_rgb8(load_image(folder / "starry_night.jpg").pixels)
    turner = to_rgb8(load_image(folder / "shipwreck.jpg").pixels)
    pairs = [RestylePair("Starry Night sky <- Shipwreck sky", van_gogh, _rectangle(van_gogh.shape, VAN_GOGH_SKY),
                         turner, _rectangle(turner.shape, TURNER_SKY))]
    pairs += build_pairs(folder, 1, 0)[:args.pairs]
    rows = [row(pair) for pair in pairs]
    widths = [max(r[c].shape[1] for r in rows) for c in range(len(LABELS))]
    lines = []
    header = np.full((26, sum(widths) + 4 * len(widths), 3), 255, np.uint8)
    x = 0
    for label, width in zip(LABELS, widths):
        cv2.putText(header, label, (x + 4, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        x += width + 4
    lines.append(header)
    for panels in rows:
        padded = [np.pad(p, ((2, 2), (2, 2 + w - p.shape[1]), (0, 0)), constant_values=255)
                  for p, w in zip(panels, widths)]
        lines.append(np.hstack(padded))
    figure = np.vstack(lines)
    save_image(args.out, figure)
    first = pairs[0]
    restyled = prepare_restyle(first.image, first.region, first.exemplar, first.exemplar_region).at_strength(1.0)
    detail = Path(args.out).with_name(Path(args.out).stem + "_van_gogh_full.jpg")
    save_image(detail, restyled)
    print(f"wrote {args.out} and {detail}")


if __name__ == "__main__":
    main()
