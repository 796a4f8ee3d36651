#!/usr/bin/env python3
"""The README's figure of the restyle's transition: the sky of Munch's *Scream* restyled from the sky of the
*Starry Night*, each sky one click of the shipped segmenter (points fixed here). Panels, cropped where the sky
meets the hills: the painting, the restyle blended with the plain fade over the reach (as before the
twenty-fifth session), the restyle as shipped (the fade only over what continues the region).

    .venv/bin/python tools/restyle_transition_figure.py [--artworks DIR] [--out docs/restyle_transition.jpg]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.imageio import load_image, save_image, to_rgb8  # noqa: E402
from engine.locality import distance_outside, smoothstep_falloff  # noqa: E402
from engine.restyle import prepare_restyle  # noqa: E402
from engine.segmentation import load_segmenter  # noqa: E402

SKY_CLICK, EXEMPLAR_CLICK = (600, 200), (500, 150)
CROP = (250, 380, 850, 620)  # x0, y0, x1, y1 of the Scream


def one_click(segmenter, image: np.ndarray, point: tuple[int, int]) -> np.ndarray:
    segmenter.set_image(image)
    return segmenter.predict([point], [1]).best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artworks", default=str(ROOT.parent / "shared" / "data" / "artworks"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "restyle_transition.jpg"))
    args = parser.parse_args()
    painting = load_image(Path(args.artworks) / "the_scream.jpg").pixels
    exemplar = load_image(Path(args.artworks) / "starry_night.jpg").pixels
    segmenter = load_segmenter()
    region = one_click(segmenter, painting, SKY_CLICK)
    exemplar_region = one_click(segmenter, exemplar, EXEMPLAR_CLICK)
    restyled = prepare_restyle(painting, region, exemplar, exemplar_region)
    now = restyled.at_strength(1.0)
    x0, y0, x1, y1 = restyled.box
    restyled.weight = smoothstep_falloff(distance_outside(region[y0:y1, x0:x1]), restyled.reach)
    before = restyled.at_strength(1.0)
    cx0, cy0, cx1, cy1 = CROP
    panels = [to_rgb8(picture)[cy0:cy1, cx0:cx1] for picture in (painting, before, now)]
    gap = np.full((cy1 - cy0, 8, 3), 255, np.uint8)
    figure = np.concatenate([panels[0], gap, panels[1], gap, panels[2]], axis=1)
    save_image(args.out, figure, quality=90)
    print(f"wrote {args.out} (reach {restyled.reach:.0f} px)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
