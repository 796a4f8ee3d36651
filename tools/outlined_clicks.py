"""One click on each outlined object of ``simnet eval-fill``'s second table, without the move: per object, the
click's IoU with the object (outline included) and the share of its outline farther than 4 px from the answer.

A quick stand-in for the table's "outline left" when tuning a click step (seconds instead of minutes: no edit,
no fill). The objects are the table's: ``--bsds-val`` hosts them on the BSDS500 validation photographs (for
tuning), otherwise on the held-out paintings.

usage: python tools/outlined_clicks.py [--bsds-val] [--cases 40] [--seed 0] [--artworks DIR] [--bsds DIR]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.commands.eval_fill import load_images  # noqa: E402
from engine.evaluation.fill_cases import build_cases, region_shapes  # noqa: E402
from engine.segmentation import load_segmenter  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: Outline pixels farther than this from the answer (pixels) count as missed.
MISSED_BEYOND = 4


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bsds-val", action="store_true", help="host the objects on the BSDS500 val photographs")
    parser.add_argument("--artworks", default=str(SHARED / "artworks"))
    parser.add_argument("--bsds", default=str(SHARED / "bsds500"))
    parser.add_argument("--cases", type=int, default=40, help="as eval-fill's --cases: half as many objects")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    folder = Path(args.bsds) / "images" / "val" if args.bsds_val else Path(args.artworks)
    cases = build_cases(load_images(folder, 0), region_shapes(args.bsds, args.seed), max(1, args.cases // 2),
                        args.seed, outlined=True)
    segmenter = load_segmenter()
    ious, missed = [], []
    for number, case in enumerate(cases):
        segmenter.set_image(case.image)
        answer = segmenter.predict([case.click], [1]).best
        whole = case.with_outline
        ious.append(float((answer & whole).sum() / max(1, (answer | whole).sum())))
        far = cv2.distanceTransform((~answer).view(np.uint8), cv2.DIST_L2, 5) > MISSED_BEYOND
        missed.append(float((case.outline & far).sum() / max(1, case.outline.sum())))
        print(f"{number:2d} {case.name:28s} IoU {ious[-1]:.3f}  outline missed {100 * missed[-1]:5.1f} %", flush=True)
    print(f"{len(cases)} objects: mean IoU {np.mean(ious):.3f}, outline missed {100 * np.mean(missed):.1f} % "
          f"(worst {100 * max(missed):.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
