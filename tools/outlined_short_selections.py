"""Outlined objects moved with a selection brushed short of their outline: what stays behind.

``simnet eval-fill``'s outlined objects, each selected by its inside (the object less its outline stroke, as a
careful brush or a Segment Anything answer gives it) shrunk by a disc of 0, 2, 4 and 6 px, and moved by the
object's move with the default reach. Prints, per shortfall, the share of the outline left behind (mean and
worst), carried, the ground carried as a halo and the vacated PSNR, as the eval's outlined table defines them
(docs/fill-notes.md, *A selection brushed short of its outline*).

    python tools/outlined_short_selections.py --bsds-val --seed 0      # tuning: 40 objects on BSDS500 val
    python tools/outlined_short_selections.py --seed 0                 # held out: 27 objects on the paintings
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
from engine.evaluation.fill_cases import build_cases, region_shapes  # noqa: E402
from engine.evaluation.fill_methods import ours  # noqa: E402
from engine.evaluation.fill_metrics import remnant_scores  # noqa: E402
from engine.evaluation.fill_runner import RecordingManipulator, _shift, edit_with_fills  # noqa: E402

COLUMNS = ("outline left", "outline carried", "ground carried", "PSNR")


def shrunk(mask: np.ndarray, pixels: int) -> np.ndarray:
    if pixels <= 0:
        return mask
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    return cv2.erode(mask.astype(np.uint8), disc) > 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artworks", default=str(ROOT.parent / "shared" / "data" / "artworks"))
    parser.add_argument("--bsds", default=str(ROOT.parent / "shared" / "data" / "bsds500"))
    parser.add_argument("--bsds-val", action="store_true", help="host the objects on the BSDS500 val photos")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--short", default="0,2,4,6", help="how far inside the outline each selection stops (px)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    folder = Path(args.bsds) / "images" / "val" if args.bsds_val else Path(args.artworks)
    count = 40 if args.bsds_val else 27
    cases = build_cases(load_images(folder, 0), region_shapes(Path(args.bsds), args.seed), 2 * count, args.seed,
                        outlined=True)[:count]
    shortfalls = [int(value) for value in args.short.split(",")]
    manipulator = RecordingManipulator(device="cpu")
    rows = []
    for number, case in enumerate(cases):
        inside = case.with_outline & ~case.outline
        row = {}
        for pixels in shortfalls:
            selection = shrunk(inside, pixels)
            if not selection.any():
                continue
            outcome = edit_with_fills(manipulator, case.image, selection, _shift(selection, *case.shift),
                                      {"ours": ours})["ours"]
            scores = remnant_scores(outcome.result, case, selection)
            row[pixels] = {column: scores[column] for column in COLUMNS}
        rows.append(row)
        print(f"{number + 1}/{len(cases)} {case.name}: " + ", ".join(
            f"{pixels} px short {100 * values['outline left']:.1f} % left" for pixels, values in row.items()),
            file=sys.stderr)
    print(f"\n{len(cases)} outlined objects, seed {args.seed}, {'BSDS500 val' if args.bsds_val else 'held out'}")
    print("| selection | outline left | worst | carried | ground carried | vacated PSNR |\n| --- | --- | --- | --- | --- | --- |")
    for pixels in shortfalls:
        values = [row[pixels] for row in rows if pixels in row]
        mean = {column: float(np.mean([value[column] for value in values])) for column in COLUMNS}
        worst = max(value["outline left"] for value in values)
        print(f"| inside, {pixels} px short | {100 * mean['outline left']:.2f} % | {100 * worst:.0f} % | "
              f"{100 * mean['outline carried']:.1f} % | {100 * mean['ground carried']:.2f} % | {mean['PSNR']:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps([{str(k): v for k, v in row.items()} for row in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
