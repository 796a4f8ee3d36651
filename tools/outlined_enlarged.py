"""``simnet eval-fill``'s outlined objects enlarged: the table's cases (on BSDS500 val photographs by default, for
tuning) with every image and mask enlarged ``--scale`` times, so the 3-5 px painted outline becomes as thick as it
is on a high-resolution scan (a 4 px outline at 1000 px is 12 px at 3000). One click with the default segmenter,
the answer moved by the enlarged move, our fill only; prints the outlined table's row and the object's own mask's.

With ``--thin`` only the host paintings are enlarged: the objects are as large, their outlines still 3-5 px (a
painting scanned large with a fine outline), to check that what helps thick outlines does not harm thin ones.

With ``--set MODULE.NAME=VALUE`` (as ``tools/tune_fill.py`` takes it) a module constant is changed first: a click
step's setting tried on val at the held-out paintings' sizes (``--thin --scale 2``; ``--scale 1`` is val as it is).

usage: python tools/outlined_enlarged.py [--scale 3] [--seed 0] [--cases 27] [--artworks] [--thin] [--json OUT]
       [--set MODULE.NAME=VALUE ...]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.commands.eval_fill import load_images  # noqa: E402
from engine.evaluation.fill_cases import FillCase, build_cases, region_shapes  # noqa: E402
from engine.evaluation.fill_methods import fill_methods  # noqa: E402
from engine.evaluation.fill_runner import RecordingManipulator, score_outlined  # noqa: E402
from engine.segmentation import load_segmenter  # noqa: E402
from tools.tune_fill import apply_settings  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def enlarged(case: FillCase, scale: int) -> FillCase:
    """``case`` with its images enlarged bicubically and its masks by nearest pixel, its move ``scale`` times."""
    height, width = case.image.shape[:2]
    size = (width * scale, height * scale)

    def image(values: np.ndarray) -> np.ndarray:
        return cv2.resize(values, size, interpolation=cv2.INTER_CUBIC)

    def mask(values: np.ndarray) -> np.ndarray:
        return cv2.resize(values.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0

    return dataclasses.replace(case, image=image(case.image), truth=image(case.truth),
                               underneath=image(case.underneath), source=mask(case.source),
                               target=mask(case.target), vacated=mask(case.vacated),
                               covered_after=mask(case.covered_after), outline=mask(case.outline),
                               shift=(case.shift[0] * scale, case.shift[1] * scale))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", type=int, default=27, help="outlined objects (eval-fill --cases 54 gives 27)")
    parser.add_argument("--artworks", action="store_true", help="host them on the held-out paintings instead")
    parser.add_argument("--json", help="write the per-case numbers here")
    parser.add_argument("--thin", action="store_true",
                        help="enlarge the host paintings only: objects as large, outlines still 3-5 px")
    parser.add_argument("--set", action="append", default=[], metavar="MODULE.NAME=VALUE",
                        help="change a module constant first (repeatable)")
    args = parser.parse_args()
    apply_settings(args.set)
    if args.set:
        print(f"settings {' '.join(args.set)}")
    folder = SHARED / "artworks" if args.artworks else SHARED / "bsds500" / "images" / "val"
    images = load_images(folder, 0)
    if args.thin:
        images = [(name, cv2.resize(image, None, fx=args.scale, fy=args.scale, interpolation=cv2.INTER_CUBIC))
                  for name, image in images]
    cases = build_cases(images, region_shapes(SHARED / "bsds500", args.seed), args.cases, args.seed, outlined=True)
    if not args.thin:
        cases = [enlarged(case, args.scale) for case in cases]
    fills = dict(list(fill_methods(include_patchmatch=False).items())[:1])
    scores = score_outlined(cases, RecordingManipulator(None, device="cpu"), load_segmenter(), fills)
    for row, values in scores.summary().items():
        print(f"{row}: " + ", ".join(f"{name} {value:.4f}" for name, value in values.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(scores.per_case))
    return 0


if __name__ == "__main__":
    sys.exit(main())
