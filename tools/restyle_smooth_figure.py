#!/usr/bin/env python3
"""The README's *A smooth region* figure: a smooth synthetic sky restyled from a patch of the Starry Night's sky.

    .venv/bin/python tools/restyle_smooth_figure.py [--out docs/restyle_smooth_sky.jpg]

The sky (1100 x 520 px, dark blue at the top to pale at the horizon, each row one colour, a grain of 1.5 grey
levels) is a region with no texture of its own, five times the exemplar's area; the exemplar is the Starry Night's
sky at (250, 30)-(700, 300), a star near its left edge. Rows: the exemplar region; the restyle with every
exemplar cell treated alike (the star copied wherever the sky's lightest cells want the exemplar's lightest,
``MARK_CONTRAST`` infinite); the restyle as shipped (the star, a mark, copied once). Needs ../shared beside the
checkout (or pass --artworks).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import restyle as restyle_module  # noqa: E402
from engine.imageio import load_image, save_image, to_rgb8  # noqa: E402

ARTWORKS = ROOT.parent / "shared" / "data" / "artworks"
EXEMPLAR_BOX = (250, 30, 700, 300)  # x0, y0, x1, y1 in the Starry Night
SKY_SIZE = (520, 1100)  # height, width
WIDTH = 900  # the figure's width


def smooth_sky() -> np.ndarray:
    rng = np.random.default_rng(0)
    height, width = SKY_SIZE
    fall = np.linspace(0, 1, height)[:, None, None]
    sky = (np.array([40, 80, 170.]) * (1 - fall) + np.array([235, 225, 200.]) * fall) * np.ones((1, width, 1))
    return np.clip(sky + rng.normal(0, 1.5, sky.shape), 0, 255).astype(np.uint8)


def caption(text: str) -> Image.Image:
    strip = Image.new("RGB", (WIDTH, 24), "white")
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 13)
    except OSError:
        font = ImageFont.load_default()
    ImageDraw.Draw(strip).text((4, 4), text, fill=(0, 0, 0), font=font)
    return strip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artworks", default=str(ARTWORKS))
    parser.add_argument("--out", default=str(ROOT / "docs" / "restyle_smooth_sky.jpg"))
    args = parser.parse_args()
    painting = to_rgb8(load_image(Path(args.artworks) / "starry_night.jpg").pixels)
    x0, y0, x1, y1 = EXEMPLAR_BOX
    exemplar_region = np.zeros(painting.shape[:2], bool)
    exemplar_region[y0:y1, x0:x1] = True
    sky = smooth_sky()
    region = np.ones(sky.shape[:2], bool)
    shipped = restyle_module.MARK_CONTRAST
    restyle_module.MARK_CONTRAST = float("inf")
    alike = restyle_module.restyle(sky, region, painting, exemplar_region)
    restyle_module.MARK_CONTRAST = shipped
    marked = restyle_module.restyle(sky, region, painting, exemplar_region)
    rows = [(f"exemplar region (Starry Night sky, {x1 - x0} x {y1 - y0} px) for a smooth synthetic sky of "
             f"{SKY_SIZE[1]} x {SKY_SIZE[0]} px", painting[y0:y1, x0:x1]),
            ("every exemplar cell alike (forty-eighth session): the star copied wherever the lightest rows want it",
             alike),
            ("now: the star is a mark (its colour stands out from the cells around it), copied once", marked)]
    parts = []
    for text, picture in rows:
        scale = WIDTH / SKY_SIZE[1]
        size = (round(picture.shape[1] * scale), round(picture.shape[0] * scale))
        panel = Image.new("RGB", (WIDTH, size[1]), "white")
        panel.paste(Image.fromarray(picture).resize(size, Image.LANCZOS), (0, 0))
        parts += [caption(text), panel]
    figure = Image.new("RGB", (WIDTH, sum(part.height for part in parts)), "white")
    top = 0
    for part in parts:
        figure.paste(part, (0, top))
        top += part.height
    save_image(args.out, np.asarray(figure), quality=85)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
