"""The outlined objects of ``simnet eval-fill`` moved with their own masks, once per fill: what each fill leaves.

The second table of ``simnet eval-fill`` gives the click's answer to every fill and the object's own mask
(outline included) to ours alone. This gives the object's own mask to every fill (ours, PatchMatch, Telea,
the fill before issue 20), so that what a fill leaves of the outline is told apart from what a click leaves
out, and adds two anchors that no fill produces:

- *the ground's dark share*: the share of a ring 2-12 px beyond the object, in the painting underneath,
  darker than the count's grey 55 (how dark the ground the fill continues is);
- *the ground moved in*: the count for a fill that puts there the painting underneath as it lies one object
  size away (eight directions, those that stay within the painting, averaged): a fill that knows the ground's
  texture exactly but not what lay under this very object.

    python tools/outlined_exact_fills.py --seed 0 [--cases 54] [--json OUT]

Held-out paintings by default (``--bsds-val`` for the tuning photos). Needs ``pip install pypatchmatch`` for
the PatchMatch row. About 5 minutes for 27 objects on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.commands.eval_fill import load_images  # noqa: E402
from engine.evaluation.fill_cases import FillCase, build_cases, region_shapes  # noqa: E402
from engine.evaluation.fill_methods import fill_methods  # noqa: E402
from engine.evaluation.fill_metrics import DARK, LIGHT, _away_from_new_place, _grey, remnant_scores  # noqa: E402
from engine.evaluation.fill_runner import RecordingManipulator, _shift, edit_with_fills  # noqa: E402

GROUND_RING = (2, 12)
GROUND_MOVED_IN = "the ground moved in (anchor)"
GROUND_DARK = "the ground's dark share (anchor)"


def ground_moved_in(case: FillCase) -> float:
    """The outline left that a fill copying the ground from one object size away would be counted."""
    band = case.outline & _away_from_new_place(case) & (_grey(case.underneath) > LIGHT)
    if not band.any():
        return float("nan")
    grey = _grey(case.underneath)
    height, width = grey.shape
    ys, xs = np.nonzero(case.with_outline)
    size = max(ys.max() - ys.min(), xs.max() - xs.min()) + 1
    by, bx = np.nonzero(band)
    shares = []
    for step in range(8):
        dy, dx = round(size * np.sin(step * np.pi / 4)), round(size * np.cos(step * np.pi / 4))
        ty, tx = by + dy, bx + dx
        inside = (ty >= 0) & (ty < height) & (tx >= 0) & (tx < width)
        if inside.mean() >= 0.8:
            shares.append(float((grey[ty[inside], tx[inside]] < DARK).mean()))
    return float(np.mean(shares)) if shares else float("nan")


def ground_dark(case: FillCase) -> float:
    """The share of a ring GROUND_RING px beyond the object, in the painting underneath, darker than DARK."""
    beyond = cv2.distanceTransform((~case.with_outline).view(np.uint8), cv2.DIST_L2, 5)
    ring = (beyond > GROUND_RING[0]) & (beyond <= GROUND_RING[1])
    return float((_grey(case.underneath)[ring] < DARK).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artworks", default=str(ROOT.parent / "shared" / "data" / "artworks"))
    parser.add_argument("--bsds", default=str(ROOT.parent / "shared" / "data" / "bsds500"))
    parser.add_argument("--bsds-val", action="store_true", help="host the objects on the BSDS500 val photos")
    parser.add_argument("--cases", type=int, default=54, help="as eval-fill's --cases (outlined objects: half)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    folder = Path(args.bsds) / "images" / "val" if args.bsds_val else Path(args.artworks)
    images = load_images(folder, 0)
    cases = build_cases(images, region_shapes(Path(args.bsds), args.seed), max(1, args.cases // 2), args.seed,
                        outlined=True)
    fills = fill_methods(include_patchmatch=True)
    manipulator = RecordingManipulator(None, device="cpu")
    rows = []
    for number, case in enumerate(cases):
        whole = case.with_outline
        outcomes = edit_with_fills(manipulator, case.image, whole, _shift(whole, *case.shift), fills)
        row = {name: remnant_scores(outcome.result, case, whole)["outline left"] for name, outcome in outcomes.items()}
        row[GROUND_DARK], row[GROUND_MOVED_IN] = ground_dark(case), ground_moved_in(case)
        rows.append({"case": case.name, **row})
        print(f"{number + 1}/{len(cases)} {case.name}: " + ", ".join(f"{name} {100 * value:.1f} %"
                                                                 for name, value in row.items()), file=sys.stderr)
    print(f"\n{len(rows)} outlined objects, seed {args.seed}, each moved with its own mask: outline left")
    print("| fill | mean | worst | objects over 15 % |\n| --- | --- | --- | --- |")
    for name in [key for key in rows[0] if key != "case"]:
        values = np.array([row[name] for row in rows], float)
        print(f"| {name} | {100 * np.nanmean(values):.2f} % | {100 * np.nanmax(values):.1f} % | "
              f"{int(np.sum(values > 0.15))} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
