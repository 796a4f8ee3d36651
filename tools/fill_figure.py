"""Make docs/fill_examples.jpg: input | ours | PatchMatch | Telea | truth, for a few moved objects.

The cases are ``simnet eval-fill``'s (objects shaped like BSDS500 regions, cut from another painting,
pasted on held-out paintings and moved with the SIM-Net edit), cropped around the object's old place.

usage: python tools/fill_figure.py [--artworks DIR] [--bsds DIR] [--cases 4] [--seed 0] [-o docs/fill_examples.jpg]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.commands.eval_fill import load_images  # noqa: E402
from engine.evaluation.fill_cases import build_cases, region_shapes  # noqa: E402
from engine.evaluation.fill_methods import fill_methods  # noqa: E402
from engine.evaluation.fill_report import figure  # noqa: E402
from engine.evaluation.fill_runner import RecordingManipulator, edit_with_fills  # noqa: E402
from engine.imageio import save_image  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artworks", default=str(Path("/work/shared/data/artworks")))
    parser.add_argument("--bsds", default=str(Path("/work/shared/data/bsds500")))
    parser.add_argument("--cases", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first", type=int, default=0, help="skip this many cases")
    parser.add_argument("--all-methods", action="store_true", help="also show the fill before (shift-map)")
    parser.add_argument("-o", "--output", default="docs/fill_examples.jpg")
    args = parser.parse_args()
    images = load_images(Path(args.artworks), 0)
    cases = build_cases(images, region_shapes(args.bsds, args.seed), args.first + args.cases, args.seed,
                        outlined=False)[args.first:]
    fills = fill_methods()
    shown = tuple(name for name in ("ours", "PatchMatch", "Telea") if name in fills)
    if args.all_methods:
        shown += ("before (shift-map)",)
    manipulator = RecordingManipulator(device="cpu")
    outputs = []
    for case in cases:
        outcomes = edit_with_fills(manipulator, case.image, case.source, case.target,
                                   {name: fills[name] for name in shown})
        outputs.append({name: outcome.result for name, outcome in outcomes.items()})
    save_image(args.output, figure(cases, outputs, shown))
    print(f"wrote {args.output}: {len(cases)} cases, columns input | {' | '.join(shown)} | truth")
    return 0


if __name__ == "__main__":
    sys.exit(main())
