"""Draw docs/restyle_features.jpg: Matisse's face (one click) restyled from the Starry Night's sky (one click),
with the region's features kept from its lightness edges only and from its lightness and colour edges.

    python tools/restyle_features_figure.py [--artworks ../shared/data/artworks] [--out docs/restyle_features.jpg]

Columns: the face, the exemplar region's box, features from lightness edges only (the twenty-first session's
restyle), features from lightness and colour edges (this release). Both regions come from the default segmenter's
first answer to one click, as a user gets them in the editor.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import restyle as restyle_module  # noqa: E402
from engine.imageio import load_image, save_image, to_rgb8  # noqa: E402
from engine.segmentation import load_segmenter  # noqa: E402
from models.influence import mask_bbox  # noqa: E402

ARTWORKS = ROOT.parent / "shared" / "data" / "artworks"
FACE_CLICK = (300, 380)  # Woman with a Hat: her cheek
SKY_CLICK = (500, 200)  # Starry Night: the sky by the great swirl
PANEL_HEIGHT = 330
MARGIN = 20


def _click(segmenter, image: np.ndarray, point: tuple[int, int]) -> np.ndarray:
    segmenter.set_image(image)
    return segmenter.predict([point], [1], None).best


def _panel(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    crop = image[max(0, y0):y1, max(0, x0):x1]
    width = round(crop.shape[1] * PANEL_HEIGHT / crop.shape[0])
    return cv2.resize(crop, (width, PANEL_HEIGHT), interpolation=cv2.INTER_CUBIC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artworks", default=str(ARTWORKS))
    parser.add_argument("--out", default=str(ROOT / "docs" / "restyle_features.jpg"))
    args = parser.parse_args()
    folder = Path(args.artworks)
    matisse = to_rgb8(load_image(folder / "woman-with-hat-matisse.jpg").pixels)
    van_gogh = to_rgb8(load_image(folder / "starry_night.jpg").pixels)
    segmenter = load_segmenter(None, "cpu", None)
    face = _click(segmenter, matisse, FACE_CLICK)
    sky = _click(segmenter, van_gogh, SKY_CLICK)
    x0, y0, x1, y1 = mask_bbox(face)
    face_box = (x0 - MARGIN, y0 - MARGIN, x1 + MARGIN, y1 + MARGIN)
    kept_colour_edge = restyle_module.COLOUR_EDGE
    try:
        restyle_module.COLOUR_EDGE = float("inf")  # no colour edge counts: lightness edges only
        lightness_only = restyle_module.restyle(matisse, face, van_gogh, sky)
    finally:
        restyle_module.COLOUR_EDGE = kept_colour_edge
    both = restyle_module.restyle(matisse, face, van_gogh, sky)
    panels = [_panel(matisse, face_box), _panel(van_gogh, mask_bbox(sky)), _panel(lightness_only, face_box),
              _panel(both, face_box)]
    gap = np.full((PANEL_HEIGHT, 6, 3), 255, np.uint8)
    figure = np.hstack([part for panel in panels for part in (panel, gap)][:-1])
    save_image(args.out, figure)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
