"""``simnet eval-fill``: how well the area a moved object leaves is filled, against PatchMatch and Telea."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.commands import add_command
from engine.commands.eval import _finite, evaluation_folder, find_images
from engine.commands.options import check_outputs
from engine.errors import SimNetError

if TYPE_CHECKING:
    from engine.segmentation.base import Segmenter

DEFAULT_BSDS = Path("..") / "shared" / "data" / "bsds500"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "eval_fill",
        description="Objects shaped like BSDS500 regions, filled from another painting, are pasted on held-out "
                    "paintings and moved with the SIM-Net edit; what lay underneath is known. Table 1: exact "
                    "masks; table 2: outlined objects selected with one click.")
    parser.add_argument("--artworks", default=None, help="folder of paintings (default ../shared/data/artworks)")
    parser.add_argument("--bsds", default=None, help="BSDS500 folder: region shapes from its training "
                                                     "segmentations (default ../shared/data/bsds500)")
    parser.add_argument("--bsds-val", action="store_true",
                        help="host the objects on the BSDS500 validation photographs instead (for tuning)")
    parser.add_argument("--cases", type=int, default=18, help="objects in table 1 (table 2: half as many)")
    parser.add_argument("--limit", type=int, default=0, metavar="N", help="use only the first N images (0: all)")
    parser.add_argument("--quick", action="store_true", help="2 cases in each table, no PatchMatch (a smoke run)")
    parser.add_argument("--no-patchmatch", action="store_true", help="leave out the PatchMatch row")
    parser.add_argument("--no-outlined", action="store_true", help="leave out table 2")
    parser.add_argument("--outlined-only", action="store_true",
                        help="leave out table 1: only the outlined objects (to compare segmenters)")
    parser.add_argument("--segmenter-checkpoint", default=None, metavar="PATH",
                        help="the built-in segmenter's weights for table 2's clicks (default: shipped)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="OUT", help="write the numbers, per case too, as JSON")
    parser.add_argument("--figure", metavar="OUT", help="write table 2's cases as a figure (an image): the click "
                        "and its answer, our edit, the edit of the object's own mask, the truth")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--checkpoint", default=None, metavar="PATH", help="SIM-Net checkpoint (default: shipped)")
    parser.set_defaults(func=run)


def load_images(folder: Path, limit: int) -> list[tuple[str, "object"]]:
    from engine.evaluation.dataset import list_paintings
    from engine.imageio import load_image

    images = []
    for path in list_paintings(folder)[:limit or None]:
        pixels = load_image(path).pixels
        if pixels.dtype.name != "uint8" or pixels.ndim != 3 or pixels.shape[2] < 3:
            continue  # the compared fills take 8-bit colour
        images.append((path.stem, pixels[..., :3].copy()))
    if not images:
        raise SimNetError(f"no 8-bit colour images in {folder}")
    return images


def outlined_segmenter(args: argparse.Namespace) -> "Segmenter":
    """The segmenter clicking table 2's objects: the checkpoint named, which must load (a fallback would score
    another segmenter), or the default one, saying so when that falls back."""
    from engine.segmentation import load_segmenter
    from engine.segmentation.learned import LearnedSegmenter

    if args.segmenter_checkpoint:
        return LearnedSegmenter(args.segmenter_checkpoint)
    segmenter = load_segmenter(device=args.device)
    if segmenter.notice:
        print(f"simnet eval-fill: notice: {segmenter.notice}", file=sys.stderr)
    return segmenter


def run(args: argparse.Namespace) -> int:
    check_outputs(args.json, images=(args.figure,))
    from engine.atomic import atomic_write_bytes
    from engine.evaluation.fill_cases import build_cases, region_shapes
    from engine.evaluation.fill_methods import fill_methods
    from engine.evaluation.fill_report import (FILL_COLUMNS, LEGEND, OUTLINE_COLUMNS, markdown_table,
                                               outlined_figure, text_table)
    from engine.evaluation.fill_runner import RecordingManipulator, score_fills, score_outlined
    from engine.imageio import save_image

    folder = evaluation_folder(args)
    bsds = find_images(args.bsds, DEFAULT_BSDS, "BSDS500 segmentations")
    count = 2 if args.quick else args.cases
    if count < 1:
        raise SimNetError("--cases must be 1 or more")
    if args.limit < 0:
        raise SimNetError("--limit must be 0 (every image) or more")
    if args.outlined_only and args.no_outlined:
        raise SimNetError("--outlined-only and --no-outlined leave nothing to measure")
    if args.figure and args.no_outlined:
        raise SimNetError("--figure shows table 2's outlined objects, which --no-outlined leaves out")
    segmenter = None if args.no_outlined else outlined_segmenter(args)  # a bad checkpoint is refused before any work
    images = load_images(folder, args.limit)
    try:
        shapes = region_shapes(bsds, args.seed)
    except FileNotFoundError as error:
        raise SimNetError(str(error)) from None
    progress = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    fills = fill_methods(include_patchmatch=not (args.quick or args.no_patchmatch))
    manipulator = RecordingManipulator(args.checkpoint, device=args.device)
    cases = [] if args.outlined_only else build_cases(images, shapes, count, args.seed, outlined=False)
    if not args.outlined_only and not cases:
        raise SimNetError("no object fits these images")
    tables, counts, per_case = {}, {}, {}
    if cases:
        exact = score_fills(cases, manipulator, fills, progress=progress)
        tables["exact masks"] = exact.summary()
        counts["exact masks"] = len(cases)
        per_case["exact masks"] = exact.per_case
    if segmenter is not None:
        outlined_cases = build_cases(images, shapes, count if args.quick else max(1, count // 2), args.seed,
                                     outlined=True)
        if not outlined_cases:
            raise SimNetError("no outlined object fits these images")
        pictures: list = []  # (case, the click's answer, the results by row name) for the figure
        outlined = score_outlined(outlined_cases, manipulator, segmenter, fills, progress=progress,
                                  shown=(lambda *shown: pictures.append(shown)) if args.figure else None)
        if args.figure:
            save_image(args.figure, outlined_figure(pictures))
            print(f"wrote {args.figure}: {len(pictures)} outlined objects", file=sys.stderr)
        tables["outlined, one click"] = outlined.summary()
        counts["outlined, one click"] = len(outlined_cases)
        per_case["outlined, one click"] = outlined.per_case
    for title, summary in tables.items():
        columns = FILL_COLUMNS if title == "exact masks" else OUTLINE_COLUMNS
        table = markdown_table if args.markdown else text_table
        print(f"\n{title}:\n" + table(summary, columns, counts[title]))
    print("\n" + LEGEND)
    if segmenter is not None and args.segmenter_checkpoint:
        print(f"Outlined objects clicked with the segmenter checkpoint {args.segmenter_checkpoint}, not the default.")
    if "PatchMatch" not in fills and not (args.quick or args.no_patchmatch):
        print("PatchMatch left out: install the optional evaluation dependency with `pip install pypatchmatch`.")
    if args.json:
        payload = {"seed": args.seed, "images": str(folder), "counts": counts, "tables": tables,
                   "per_case": per_case, "cases": [case.name for case in cases],
                   "segmenter_checkpoint": args.segmenter_checkpoint}
        atomic_write_bytes(args.json, json.dumps(_finite(payload), indent=2).encode())
    return 0
