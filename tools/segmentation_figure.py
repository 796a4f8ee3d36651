#!/usr/bin/env python3
"""The README's segmentation figure: single clicks on paintings, answered by the built-in segmenter.

    .venv/bin/python tools/segmentation_figure.py [--out docs/segmentation_examples.jpg]

Rows: four held-out paintings of ``../shared/data/artworks`` (never trained on; picked for their
variety before any result was seen: an abstract Kandinsky, Munch's *Scream*, a seascape, a
fauvist portrait) and the shipped sample, *Starry Night*. The clicks are fixed in advance, not
picked from results: the four rule-of-thirds points of each painting (1/3 and 2/3 of its width
and height), one click each, every click shown. Each panel shows the click (white dot), the
candidate the editor shows first (green fill and outline, the same rule as ``simnet segment``),
and the other nested candidates as outlines (orange: smaller, magenta: larger). The caption gives
each candidate's share of the painting and predicted-IoU score, the one shown first marked ``>``.

The last row is the sample's big star: when a click's first answer also takes sky, the same click
with a second, negative one (red) placed by rule where that answer is
deepest inside the part more than ``STAR_RADIUS`` px from the click (as ``simnet eval-segment``
places its next click deepest inside the error). Reproduce it with ``simnet segment --point``
and ``--negative``. Needs ../shared beside the checkout.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.candidates import CandidateSet  # noqa: E402
from engine.imageio import load_image, to_rgb8  # noqa: E402
from engine.segmentation.learned import LearnedSegmenter  # noqa: E402

ARTWORKS = ROOT.parent / "shared" / "data" / "artworks"
SAMPLE = ROOT / "resources" / "samples" / "starry_night.jpg"
PAINTINGS = [("Kandinsky", ARTWORKS / "kandinsky.jpg"), ("Munch, The Scream", ARTWORKS / "the_scream.jpg"),
             ("The Shipwreck", ARTWORKS / "shipwreck.jpg"),
             ("Matisse, Woman with a Hat", ARTWORKS / "woman-with-hat-matisse.jpg"),
             ("Starry Night (the shipped sample)", SAMPLE)]
THIRDS = [(1 / 3, 1 / 3), (2 / 3, 1 / 3), (1 / 3, 2 / 3), (2 / 3, 2 / 3)]
STAR_CLICK = (350, 350)  # the big star of the sample, as in tools/screenshots.py
STAR_RADIUS = 80  # px: the star's size; what the answer takes farther from the click is not the star
PANEL_WIDTH, PANEL_HEIGHT = 260, 300  # the largest a painting is drawn in one panel
CHOSEN, SMALLER, LARGER, NEGATIVE = (0, 200, 70), (255, 140, 0), (230, 0, 230), (230, 0, 0)
TEXT, GREY = (0, 0, 0), (90, 90, 90)
MAX_BYTES = 400_000


def font(size: int, bold: bool = False) -> ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(name, size)
    except OSError:
        return ImageFont.load_default(size)


def scaled(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) >= 0.5


def outline(picture: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int], width: int) -> None:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(picture, contours, -1, colour, width, cv2.LINE_AA)


def dot(picture: np.ndarray, at: tuple[float, float], colour: tuple[int, int, int]) -> None:
    centre = (round(at[0]), round(at[1]))
    cv2.circle(picture, centre, 7, (0, 0, 0), -1, cv2.LINE_AA)
    cv2.circle(picture, centre, 5, colour, -1, cv2.LINE_AA)


def panel(image: np.ndarray, candidates: CandidateSet, clicks: list[tuple[tuple[float, float], int]]) -> np.ndarray:
    """The painting fitted into PANEL_WIDTH x PANEL_HEIGHT: the candidate shown first filled, the
    others outlined, the clicks."""
    height, width = image.shape[:2]
    scale = min(PANEL_WIDTH / width, PANEL_HEIGHT / height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    picture = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    chosen = candidates.default
    masks = [scaled(candidates.mask(index), size) for index in range(len(candidates))]
    if chosen is not None:
        tinted = picture.astype(np.float32)
        tinted[masks[chosen]] = 0.55 * tinted[masks[chosen]] + 0.45 * np.array(CHOSEN, np.float32)
        picture = tinted.astype(np.uint8)
    for index, mask in enumerate(masks):
        if index != chosen:
            outline(picture, mask, SMALLER if chosen is not None and index < chosen else LARGER, 2)
    if chosen is not None:
        outline(picture, masks[chosen], CHOSEN, 3)
    for (x, y), label in clicks:
        dot(picture, ((x + 0.5) * scale - 0.5, (y + 0.5) * scale - 0.5), (255, 255, 255) if label else NEGATIVE)
    return picture


def caption_lines(candidates: CandidateSet) -> list[tuple[str, tuple[int, int, int]]]:
    """One line per candidate, smallest first: its share and score, the one shown first marked."""
    lines = []
    chosen = candidates.default
    for index, (fraction, score) in enumerate(zip(candidates.fractions, candidates.scores)):
        colour = CHOSEN if index == chosen else SMALLER if chosen is not None and index < chosen else LARGER
        mark = ">" if index == chosen else " "
        lines.append((f"{mark} {index + 1}/{len(candidates)}: {100 * fraction:.1f} %, score {score:.2f}",
                      tuple(int(0.75 * c) for c in colour)))
    return lines


def tile(picture: np.ndarray, lines: list[tuple[str, tuple[int, int, int]]], line_count: int) -> Image.Image:
    """The panel centred in a PANEL_WIDTH column with its caption below."""
    height = picture.shape[0]
    out = Image.new("RGB", (PANEL_WIDTH + 8, height + 8 + 19 * line_count + 4), "white")
    out.paste(Image.fromarray(picture), (4 + (PANEL_WIDTH - picture.shape[1]) // 2, 4))
    draw = ImageDraw.Draw(out)
    text = font(15)
    for row, (line, colour) in enumerate(lines):
        draw.text((8, height + 8 + 19 * row), line, fill=colour, font=text)
    return out


def predict(segmenter: LearnedSegmenter, points: list[tuple[float, float]], labels: list[int]) -> CandidateSet:
    return CandidateSet.from_prediction(segmenter.predict(points, labels))


def painting_row(segmenter: LearnedSegmenter, title: str, path: Path) -> list[Image.Image]:
    image = to_rgb8(load_image(path).pixels)
    segmenter.set_image(image)
    height, width = image.shape[:2]
    clicks = [(fx * width, fy * height) for fx, fy in THIRDS]
    answers = [predict(segmenter, [click], [1]) for click in clicks]
    lines = max(len(candidates) for candidates in answers)
    tiles = []
    for click, candidates in zip(clicks, answers):
        tiles.append(tile(panel(image, candidates, [(click, 1)]), caption_lines(candidates), lines))
        described = "; ".join(candidates.describe(index) for index in range(len(candidates)))
        print(f"{title} click ({click[0]:.0f}, {click[1]:.0f}): {described}; shown first {candidates.default}")
    return tiles


def negative_click(answer: np.ndarray, click: tuple[float, float]) -> tuple[float, float] | None:
    """Deepest inside the part of ``answer`` more than STAR_RADIUS px from ``click``; None when the
    answer has no such part (it is the star alone: nothing to correct)."""
    ys, xs = np.mgrid[:answer.shape[0], :answer.shape[1]]
    far = answer & ((xs - click[0]) ** 2 + (ys - click[1]) ** 2 > STAR_RADIUS ** 2)
    if not far.any():
        return None
    depth = cv2.distanceTransform(np.pad(far, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    return float(x), float(y)


LEGEND = [("White dot: a click. Green: the candidate shown", TEXT),
          ("first (>). Outlines: the other candidates,", TEXT),
          ("orange smaller, magenta larger. Captions: share", TEXT),
          ("of the painting, score (predicted IoU).", TEXT)]


def star_alone_row(image: np.ndarray, first: CandidateSet, width_total: int) -> Image.Image:
    """The click on the big star when its first answer is the star alone: no negative click is
    needed; the larger candidates are one Tab away in the editor."""
    picture = tile(panel(image, first, [(STAR_CLICK, 1)]), [("a click on the star", TEXT)] + caption_lines(first),
                   1 + len(first))
    legend = [("A click on the big star: the first answer is the", TEXT),
              ("star alone, so no negative click is needed; the", TEXT),
              ("outlined larger candidates take sky (Tab steps", TEXT),
              (f"to them in the editor). simnet segment --point {STAR_CLICK[0]},{STAR_CLICK[1]}", TEXT),
              ("", TEXT), *LEGEND]
    line_height = 20
    row = Image.new("RGB", (width_total, max(picture.height, 10 + line_height * len(legend))), "white")
    row.paste(picture, (0, 0))
    draw = ImageDraw.Draw(row)
    left, text = picture.width + 14, font(15)
    for index, (line, colour) in enumerate(legend):
        draw.text((left, 6 + line_height * index), line, fill=tuple(int(0.8 * c) for c in colour), font=text)
    return row


def refinement_row(segmenter: LearnedSegmenter, width_total: int) -> Image.Image:
    image = to_rgb8(load_image(SAMPLE).pixels)
    segmenter.set_image(image)
    first = predict(segmenter, [STAR_CLICK], [1])
    negative = negative_click(first.mask(first.default), STAR_CLICK)
    if negative is None:
        return star_alone_row(image, first, width_total)
    refined = predict(segmenter, [STAR_CLICK, negative], [1, 0])
    print(f"refinement: click {STAR_CLICK} -> {first.describe(first.default)}; negative click "
          f"({negative[0]:.0f}, {negative[1]:.0f}) -> {refined.describe(refined.default)}")
    tiles = [tile(panel(image, first, [(STAR_CLICK, 1)]), [("a click on the star", TEXT)] + caption_lines(first),
                  1 + max(len(first), len(refined))),
             tile(panel(image, refined, [(STAR_CLICK, 1), (negative, 0)]),
                  [("+ a negative click (red dot)", TEXT)] + caption_lines(refined),
                  1 + max(len(first), len(refined)))]
    legend = [("Left: the first answer to a click on the big star", TEXT),
              ("also takes sky; a negative click there (placed by", TEXT),
              ("a fixed rule) leaves the star: simnet segment", TEXT),
              (f"--point {STAR_CLICK[0]},{STAR_CLICK[1]} --negative {negative[0]:.0f},{negative[1]:.0f}", TEXT),
              ("", TEXT), *LEGEND]
    line_height = 20
    row = Image.new("RGB", (width_total, max(tiles[0].height, 10 + line_height * len(legend))), "white")
    for index, picture in enumerate(tiles):
        row.paste(picture, (index * picture.width, 0))
    draw = ImageDraw.Draw(row)
    left, text = 2 * tiles[0].width + 14, font(15)
    for index, (line, colour) in enumerate(legend):
        draw.text((left, 6 + line_height * index), line, fill=tuple(int(0.8 * c) for c in colour), font=text)
    return row


def header(title: str, width: int) -> Image.Image:
    strip = Image.new("RGB", (width, 26), "white")
    ImageDraw.Draw(strip).text((6, 4), title, fill=TEXT, font=font(16, bold=True))
    return strip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "segmentation_examples.jpg")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    segmenter = LearnedSegmenter()
    strips = []
    for title, path in PAINTINGS:
        tiles = painting_row(segmenter, title, path)
        row = Image.new("RGB", (sum(t.width for t in tiles), tiles[0].height), "white")
        for index, picture in enumerate(tiles):
            row.paste(picture, (index * picture.width, 0))
        strips += [header(f"{title}: one click at each rule-of-thirds point", row.width), row]
    width = strips[1].width
    strips += [header("Starry Night: a click on the big star (a negative click where its answer takes sky)", width),
               refinement_row(segmenter, width)]
    figure = Image.new("RGB", (width, sum(strip.height for strip in strips)), "white")
    top = 0
    for strip in strips:
        figure.paste(strip, (0, top))
        top += strip.height
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for quality in (88, 84, 80, 76, 72, 68):
        temporary = args.out.with_suffix(".tmp.jpg")
        figure.save(temporary, quality=quality, optimize=True)
        os.replace(temporary, args.out)
        if args.out.stat().st_size <= MAX_BYTES:
            break
    print(f"wrote {args.out} ({figure.width}x{figure.height}, {args.out.stat().st_size // 1024} KB, quality {quality})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
